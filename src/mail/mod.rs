//! Pure email logic: unwrap forwards, judge who sent a message, classify it
//! and extract Leadsie grants or Shopify outcomes. No SQL, no IMAP, no I/O:
//! bytes in, a [`Classification`] out.
//!
//! - [`classify`] — the [`Classifier`]: one message judged, start to end.
//! - [`classification`] — what it returns: [`Classification`], the header
//!   facts kept ([`MessageMeta`]), the DKIM work left for the caller.
//! - [`trust`] — who may send what: [`TrustPolicy`].
//! - [`domain`] — a domain within a trusted one; DMARC alignment.
//! - [`sender`] — [`Sender`]: an address and its display name.
//! - [`message`] — reading bytes safely: nesting limits, ambiguous header
//!   blocks, the lean parser.
//! - [`auth`] — what `Authentication-Results` and ARC headers say.
//! - [`address`] — one sender read the way RFC 5322 defines a mailbox.
//! - [`forward`] — the original inside forwards, and who handed it on.
//! - [`hops`] — the inline forwards in one body, found by their shape.
//! - [`shape`] — the shapes a forward takes, whatever its language.
//! - [`mime`] — a reading copy with binary parts left out.
//! - [`text`] — bodies as plain lines (HTML to text, quoting undone).
//! - [`link`] — where a link goes, through trackers' wrappers.
//! - [`grant`] — Leadsie's grants: store, code, client.
//! - [`code_label`] — the labels a person reads as "the collaborator code".
//! - [`separators`] — what stands between a label and its value.
//! - [`outcome`] — Shopify's replies by structure and meaning.
//! - [`veto`] — why trusted mail is still no grant and no answer.
//! - [`statement`] — a body's sentences, and whether a phrase in one is
//!   stated as a fact.
//! - [`lang`] — the words mail clients, Leadsie and Shopify write, per
//!   language, as data.

/// A module's phrase tables, each as a `fn()` that builds it ([`warm_up`]).
macro_rules! tables {
    ($($table:ident),* $(,)?) => {
        &[$(|| {
            std::sync::LazyLock::force(&$table);
        }),*]
    };
}

pub mod address;
pub mod auth;
pub mod classification;
pub mod classify;
pub mod code_label;
pub mod domain;
pub mod forward;
pub mod grant;
mod hops;
pub mod lang;
pub mod link;
pub mod message;
mod mime;
pub mod outcome;
pub mod sender;
pub mod separators;
mod shape;
pub mod statement;
pub mod text;
pub mod trust;
pub mod veto;

pub use auth::Require;
pub use classification::{Classification, DkimCheck, DkimVerdict, MAX_GRANTS, MessageMeta};
pub use classify::Classifier;
pub use domain::{aligned, domain_within};
pub use forward::Route;
pub use grant::Grant;
pub use message::{lean_parser, meta_of_headers};
pub use outcome::{Outcome, OutcomeRules};
pub use sender::Sender;
pub use trust::TrustPolicy;

/// Builds share `share` of `of` of the phrase tables the classifier may
/// need (every one with `(0, 1)`), now rather than when a message first
/// needs it: each of the lanes a command reads files on builds its share
/// before its first file, side by side, instead of one lane building a
/// table while the others wait for it.
pub fn warm_up(share: usize, of: usize) {
    let tables = [
        outcome::TABLES,
        code_label::TABLES,
        veto::TABLES,
        statement::TABLES,
    ]
    .concat();
    for build in tables.iter().skip(share).step_by(of.max(1)) {
        build();
    }
}
