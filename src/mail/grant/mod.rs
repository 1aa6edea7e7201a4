//! Extracts Shopify grants (store + collaborator code) and client details
//! from the text of a Leadsie email. Keys on meaning — a store label or a
//! permanent store domain, a code beside a "collaborator" label, the platform
//! section a line sits in — never on one template.
//!
//! - `walk`: [`extract`], the entry point: the lines walked through the
//!   scanner's rules, then the finishing rules.
//! - `scanner`: the rules, one method each, and what they found so far.
//! - `extraction`: what an email yields ([`Grant`], [`Extraction`]) and
//!   [`MAX_STORES`].
//! - `lines`: the body as lines in both cases, and the platform section
//!   each sits in.
//! - `labels`: store labels, hedges, placeholders, reading a label's value
//!   and the store domains a line names.
//! - `tables`: tables of stores, one row per store and its code.
//! - `pairing`: pairs the stores and codes found, in the email's order.
//! - `client`: the client's name, email and request, from lines or subject.

mod client;
mod extraction;
mod labels;
mod lines;
mod pairing;
mod scanner;
mod tables;
mod walk;

pub use client::strip_reply_prefixes;
pub use extraction::{Extraction, Grant, MAX_STORES};
pub use labels::find_store_domains;
pub(crate) use lines::outside_other_platforms;
pub use walk::extract;
