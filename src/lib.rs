//! collabd turns Leadsie's Shopify access emails into tracked collaborator
//! requests.
//!
//! # Layout
//!
//! - [`model`] — domain values with rules: store domains, codes, states.
//! - [`timestamp`] — a UTC moment to the second, in the one text form the
//!   database holds and reports show.
//! - [`mail`] — pure email logic: forwards, trust, classification, extraction.
//! - [`config`] — the TOML file, environment overrides, validation; one
//!   file per section (`config::worker`, `config::imap`, …).
//! - [`secret`] — values that never print, and where they are loaded from.
//! - [`fs_error`] — a failed file operation in words, and who collabd runs as.
//! - [`store`] — the SQLite pool, migrations and every SQL statement.
//! - [`ingest`] — one message from bytes to committed rows, idempotently.
//! - [`operator`] — an operator's mark, cancel and retry, recorded.
//! - [`queue`] — retry or give up, decided in one place.
//! - [`filer`] — how a request is handed on: the trait, one file per
//!   backend, and `filer::from_settings`, which builds the configured one.
//! - [`relay`] — the notify filer's SMTP relay, CA-trusted or pinned.
//! - [`tls`] — which server certificates are trusted, and refusals explained.
//! - [`tty`] — a password typed at the terminal, without echo.
//! - [`browser`] — the Chromium collabd owns for the browser filer: its
//!   processes, the form, outcomes read from pages, the Collaborations list.
//! - [`worker`] — claims due requests, files them, records the result.
//! - [`daemon`] — `collabd run`: watcher, worker and `Supervisor` until the
//!   shutdown it is given fires.
//! - [`rejudge`] — `collabd rejudge`: stored mail judged again under the
//!   settings of now, adding belief, never taking a request back.
//! - [`reload`] — SIGHUP: the configuration read again, what can change
//!   applied, what cannot named.
//! - [`check`] — `collabd check-config`: each configured connection tried.
//! - [`cli`] — the subcommands, and the one place settings are loaded.
//! - [`render`] — what people read: text from mail made safe
//!   (`render::clean`), and the status, show and ingest reports
//!   (`render::report`).
//! - [`demo`] — the whole pipeline on fixtures shipped inside the binary.
//! - [`assets`] — the manual pages and shell completions the package
//!   installs, made from [`cli`] and `deploy/collabd.toml`.
//! - [`net`] — who a request on the `[http]` listener is from (trusted
//!   proxies, an IPv6 /64 as one source) and which `Host` names it answers.
//! - [`web`] — the status page on the `[http]` listener: pages, sign-in,
//!   sessions, CSRF and the operator's actions.

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
