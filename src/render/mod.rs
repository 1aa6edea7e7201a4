//! What collabd prints for people. Text that came from mail is made safe
//! for the people who read it: on a terminal (`status`, `show`,
//! `check-config`), in an email or a Slack message. Anyone who can send mail
//! to the watched mailbox chooses subjects, client names and addresses, so
//! control characters and escape sequences in them must never reach a
//! terminal, and line breaks must never forge a line of our own.
//!
//! - [`clean`] — the cleaning itself ([`line`](fn@line), [`text`], [`json`], [`slack`]).
//! - [`report`] — the reports the CLI and the demo print: what an ingest
//!   did, the status table, one request's timeline.
//!
//! Reads the database through `store`'s queries; changes nothing.

pub mod clean;
pub mod report;

pub use clean::{json, line, slack, text};
