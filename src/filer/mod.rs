//! How the worker hands a request on. Every backend receives the request
//! id as an idempotency key, so a retry after a crash cannot become a
//! second request downstream. Knows nothing of the queue's SQL.
//!
//! - [`filing`] — the [`Filer`] trait, the request as a filer sees it, and
//!   what a filer says for the timeline.
//! - [`configured`] — the filer `[worker]` chose, and [`from_settings`],
//!   which builds it.
//! - [`log`] — records what would be filed (a dry run).
//! - [`command`] — the operator's program, the request as JSON on stdin.
//! - [`webhook`] — a signed POST to the operator's endpoint.
//! - [`notify`] — tells people to file it, by Slack and/or email.
//! - [`browser`] — files it in the dashboard itself (opt-in).

pub mod browser;
pub mod command;
pub mod configured;
pub mod filing;
pub mod log;
pub mod notify;
pub mod webhook;

pub use browser::BrowserFiler;
pub use command::CommandFiler;
pub use configured::{ConfiguredFiler, from_settings};
pub use filing::{Filed, Filer, FilingRequest};
pub use log::LogFiler;
pub use notify::{EmailChannel, NotifyFiler, SmtpTransport, smtp_transport};
pub use webhook::{WebhookFiler, signature};
