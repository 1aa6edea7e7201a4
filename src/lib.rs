//! collabd turns Leadsie's Shopify access emails into tracked collaborator
//! requests.
//!
//! # Layout
//!
//! Every module, from the leaves inward (a module reads only those above
//! it or beside it; `tests/structure.rs` checks there is no cycle):
//!
//! - [`model`] — domain values with rules: store domains, codes, states.
//! - [`timestamp`] — a UTC moment to the second, in the one text form the
//!   database holds and reports show.
//! - [`redact`] — codes masked in anything a person or a log may read.
//! - [`secret`] — values that never print, where they are loaded from, and
//!   random tokens compared in constant time.
//! - [`fs_error`] — a failed file operation in words, and who collabd runs as.
//! - [`mail`] — pure email logic: forwards, trust, classification, extraction.
//! - [`users`] — the status page's users file and password checks.
//! - [`config`] — the TOML file, environment overrides, validation; one
//!   file per section (`config::worker`, `config::imap`, …).
//! - [`dkim`] — DKIM and ARC checked over DNS, failures in words.
//! - [`store`] — the SQLite pool, migrations and every SQL statement.
//! - [`ingest`] — one message from bytes to committed rows, idempotently.
//! - [`leadsie`] — Leadsie's webhook: the payload read, the endpoint.
//! - [`imap`] — the IMAP watcher: one task per folder, checkpoints, IDLE.
//! - [`operator`] — an operator's mark, cancel and retry, recorded.
//! - [`queue`] — retry or give up, decided in one place.
//! - [`outbound`] — the HTTP client for requests that carry a secret (it
//!   follows no redirect), and endpoints named without their tokens.
//! - [`tls`] — which server certificates are trusted, and refusals explained.
//! - [`relay`] — the notify filer's SMTP relay, CA-trusted or pinned.
//! - [`browser`] — the Chromium collabd owns for the browser filer: its
//!   processes, the form, outcomes read from pages, the Collaborations list.
//! - [`filer`] — how a request is handed on: the trait, one file per
//!   backend, and `filer::from_settings`, which builds the configured one.
//! - [`worker`] — claims due requests, files them, records the result.
//! - [`lane`] — the worker and the browser's list sync, started and
//!   stopped together (what a reload of `[worker]` replaces).
//! - [`net`] — who a request on the `[http]` listener is from (trusted
//!   proxies, an IPv6 /64 as one source) and which `Host` names it answers.
//! - [`status_page`] — the status page on the `[http]` listener: pages,
//!   sessions, CSRF and the operator's actions.
//! - [`listener`] — the `[http]` listener itself: connection caps, the
//!   `Host` check, routing, `/healthz` and `/metrics`.
//! - [`sdnotify`] — systemd's notify socket: READY, RELOADING, WATCHDOG.
//! - [`reload`] — SIGHUP: the configuration read again, what can change
//!   applied, what cannot named.
//! - [`daemon`] — `collabd run`: watcher, worker, listener and their
//!   supervision until the shutdown it is given fires.
//! - [`rejudge`] — `collabd rejudge`: stored mail judged again under the
//!   settings of now, adding belief, never taking a request back.
//! - [`render`] — what people read: text from mail made safe
//!   (`render::clean`), and the status, show and ingest reports
//!   (`render::report`).
//! - [`check`] — `collabd check-config`: each configured connection tried.
//! - [`demo`] — the whole pipeline on fixtures shipped inside the binary.
//! - [`tty`] — a password typed at the terminal, without echo.
//! - [`assets`] — the manual pages and shell completions the package
//!   installs, made from [`cli`] and `deploy/collabd.toml`.
//! - [`cli`] — the subcommands, and the one place settings are loaded.

pub mod assets;
pub mod browser;
pub mod check;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod dkim;
pub mod filer;
pub mod fs_error;
pub mod imap;
pub mod ingest;
pub mod lane;
pub mod leadsie;
pub mod listener;
pub mod mail;
pub mod model;
pub mod net;
pub mod operator;
pub mod outbound;
pub mod queue;
pub mod redact;
pub mod rejudge;
pub mod relay;
pub mod reload;
pub mod render;
pub mod sdnotify;
pub mod secret;
pub mod status_page;
pub mod store;
pub mod timestamp;
pub mod tls;
pub mod tty;
pub mod users;
pub mod worker;
