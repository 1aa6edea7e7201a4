//! One message from bytes to committed rows: classify it, store it, and apply
//! what it says (new requests, superseded codes, Shopify outcomes) in a
//! single transaction, so a failure stores nothing half-way and a message
//! seen twice changes nothing.
//!
//! - [`judge`] — a message's verdict: classified on one lane per core
//!   within its own budget, then its DKIM signature checked.
//! - [`files`] — files (`collabd parse`, `collabd ingest`) read and judged
//!   on the same lanes, each read once, header-first when it may be.
//! - [`ingestor`] — the [`Ingestor`] and its [`Rules`]: a judged message
//!   stored, idempotent on its digest, mail and webhook alike.
//! - [`apply`] — what a stored message says, applied: requests created or
//!   seen again, older codes superseded, Shopify's outcomes recorded.
//! - [`deferred`] — messages whose DNS failed, judged again with backoff.
//! - [`report`] — the [`IngestReport`] of what ingesting one message did.

pub mod apply;
pub mod deferred;
pub mod files;
pub mod ingestor;
pub mod judge;
pub mod report;

pub(crate) use apply::apply;
pub use ingestor::{Ingestor, Rules, digest, sha256_hex};
pub use judge::{
    CLASSIFY_BUDGET, Judged, deferred_backoff, judge, judge_all, judge_all_with, lanes,
};
pub use report::IngestReport;
