//! The TOML configuration file, environment overrides and validation into
//! typed settings. Owns every setting's name and default; knows nothing of
//! email parsing beyond building the classifier the settings describe.
//!
//! - [`settings`] — [`Settings`], [`Settings::load`], where the file is.
//! - [`error`] — [`ConfigError`] and [`ConfigProblem`].
//! - [`checks`] — the checks the sections share (https, pins, domains).
//! - [`database`] — `[database]`: a SQLite file or a PostgreSQL server.
//! - [`raw`] — the file as written (serde structs).
//! - [`env`](mod@env) — `COLLABD__SECTION__KEY` overrides.
//! - [`trust`] — `[trust]` and `[shopify]`.
//! - [`worker`] — `[worker]` and its filers.
//! - [`imap`] — `[imap]`.
//! - [`http`] — `[http]`.
//! - [`leadsie`] — `[leadsie]`, the webhook.
//! - [`browser`] — `[worker.browser]`, the browser filer's Chromium.
//! - [`exposed`] — secret files other users on the host can read.
//!
//! Config is a leaf: it reads the mail core's types, and nothing that
//! ingests, stores or serves reads back into it except through
//! [`Settings`].

pub mod browser;
pub mod checks;
pub mod database;
pub mod env;
pub mod error;
mod exposed;
pub mod http;
pub mod imap;
pub mod leadsie;
pub mod raw;
pub mod settings;
#[cfg(test)]
mod tests;
pub mod trust;
pub mod worker;

pub use browser::BrowserSettings;
pub use database::{DatabasePlace, DatabaseServer};
pub use error::{ConfigError, ConfigProblem, is_config_error};
pub use http::{DEFAULT_HTTP_HEADER_TIMEOUT_S, HttpSettings, PageAccess, USERS_CREDENTIAL};
pub use imap::{
    AfterProcessing, DEFAULT_ACCOUNT, DEFAULT_MAX_MESSAGE_BYTES, ImapAuth, ImapSettings,
    MAX_POLL_SECONDS, OAuth2Settings, Security,
};
pub use leadsie::LeadsieSettings;
pub use raw::{
    RawCommand, RawConfig, RawDatabase, RawHttp, RawImap, RawLeadsie, RawLog, RawNotify, RawOAuth2,
    RawShopify, RawTrust, RawWebhook, RawWorker,
};
pub use settings::{
    DEFAULT_CONFIG_PATH, DEFAULT_MAX_RAW_BYTES, DEFAULT_RAW_RETENTION_DAYS, Settings,
    default_config, peek_log_level,
};
pub use worker::{FilerSettings, NotifyChannels, Review, SmtpSettings, WorkerSettings};
