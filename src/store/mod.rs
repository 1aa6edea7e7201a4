//! The database — one SQLite file, or one PostgreSQL database shared by
//! several nodes: the pool, embedded migrations, and every SQL statement
//! collabd runs, each in a function named for what it does, written once
//! for both engines.
//! Knows nothing of email parsing; callers pass typed values.
//!
//! # Layout
//!
//! This file is only the index: each child holds its own part, and the
//! children refer to one another by name (`super::db::Result`), never
//! through this file.
//!
//! - [`db`] — [`Db`] (the pool and migrations), [`Immediate`] (a write
//!   transaction), [`Error`] and [`Result`].
//! - `columns` — how the model's types are written to and read from text and
//!   integer columns, so rows leave the store typed.
//! - [`messages`] — stored messages and where each came from.
//! - [`deferred`] — messages waiting to be judged again after a DNS failure.
//! - [`requests`] — access requests and every state change.
//! - [`events`] — a request's timeline and the announcement cursor.
//! - [`copy`] — `migrate-db`: a SQLite database copied into PostgreSQL
//!   (not re-exported: callers write `store::copy::…`).
//! - [`locks`] — node locks: who of several nodes watches a folder, who
//!   files through the browser.
//! - [`mailbox`] — IMAP checkpoints, pending after-processing, watcher health.
//! - [`browser`] — the browser filer's session health, submissions and syncs.
//! - [`reports`] — the status view, counts and figures for status and metrics.
//! - [`sessions`] — the status page's sessions and failed sign-ins.
//! - [`web`] — the status page's read-only queries (not re-exported: callers
//!   write `store::web::list_requests`).
//!
//! Every other item is re-exported here: callers write
//! `store::claim_next_request`.
//!
//! Statements number their parameters `$1`, `$2`, …: SQLite reads that
//! form as PostgreSQL does (sqlx binds `$N` by its number), so the same
//! text serves both engines, run through [`on!`]. Where the engines differ
//! (a claim's `for update skip locked`, a pattern match), the statement
//! says so beside the difference.

pub mod browser;
mod columns;
pub mod copy;
pub mod db;
pub mod deferred;
pub mod events;
pub mod locks;
pub mod mailbox;
pub mod messages;
pub mod reports;
pub mod requests;
pub mod sessions;
pub mod web;

pub use browser::*;
pub use db::*;
pub use deferred::*;
pub use events::*;
pub use locks::*;
pub use mailbox::*;
pub use messages::*;
pub use reports::*;
pub use requests::*;
pub use sessions::*;
