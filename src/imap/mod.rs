//! The IMAP watcher: one task per watched folder keeps a session open, fetches
//! every message above the folder's checkpoint, stores it, and waits for more
//! with IDLE (or polling). Any error ends the session; the task reconnects
//! with backoff and records its health in `mailbox_state`. It never exits
//! until shutdown.
//!
//! Per sync: learn UIDNEXT, the bound every UID the server then sends is
//! checked against, and compare UIDVALIDITY with the checkpoint (a change
//! means a rescan, harmless because messages are stored once by digest) —
//! from a SELECT, or from STATUS when the server announced new mail in the
//! folder the session keeps selected; fetch the few header fields that
//! decide candidacy for every UID above the checkpoint; download full bodies
//! (`BODY.PEEK[]`, so nothing is marked read) only for candidates, in
//! batches; store each message and advance the checkpoint in one
//! transaction; then apply the after-processing action.
//!
//! # Layout
//!
//! - `watcher` — [`Watcher`]: the per-folder loop, backoff, waiting for news.
//! - `bound` — where a sync starts: SELECT or STATUS, UIDVALIDITY and UIDNEXT.
//! - `fetch` — one sync: headers, candidates, bodies, store, checkpoint.
//! - `actions` — the after-processing action and its crash-proof ledger.
//! - `status` — [`FolderStatus`]: a folder task's state and deadline.
//! - [`conn`], [`oauth`], [`answers`] — the session, XOAUTH2 tokens, and
//!   checks on what the server answers.
//! - [`mutf7`] — folder names in modified UTF-7, as IMAP wants them.

mod actions;
pub mod answers;
mod bound;
pub mod conn;
mod fetch;
pub mod mutf7;
pub mod oauth;
mod status;
mod watcher;

pub use fetch::uid_set;
pub use status::FolderStatus;
pub use watcher::Watcher;
