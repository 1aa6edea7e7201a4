//! The TOML configuration file, environment overrides and validation into
//! typed settings. Owns every setting's name and default; knows nothing of
//! email parsing beyond building the classifier the settings describe.
//!
//! - this file — [`Settings`], [`Settings::load`], and the checks the
//!   sections share.
//! - [`raw`] — the file as written (serde structs).
//! - [`env`](mod@env) — `COLLABD__SECTION__KEY` overrides.
//! - [`trust`] — `[trust]` and `[shopify]`.
//! - [`worker`] — `[worker]` and its filers.
//! - [`imap`] — `[imap]`.
//! - [`http`] — `[http]`.
//! - [`leadsie`] — `[leadsie]`, the webhook.

use std::path::{Path, PathBuf};

use crate::mail::{Classifier, OutcomeRules, TrustPolicy};
use crate::model::OutcomeResult;

pub mod browser;
pub mod env;
mod exposed;
pub mod http;
pub mod imap;
pub mod leadsie;
pub mod raw;
#[cfg(test)]
mod tests;
pub mod trust;
pub mod worker;

pub use browser::BrowserSettings;
pub use http::{DEFAULT_HTTP_HEADER_TIMEOUT_S, HttpSettings, PageAccess, USERS_CREDENTIAL};
pub use imap::{
    AfterProcessing, DEFAULT_MAX_MESSAGE_BYTES, ImapAuth, ImapSettings, MAX_POLL_SECONDS,
    OAuth2Settings, Security,
};
pub use leadsie::LeadsieSettings;
pub use raw::{
    RawCommand, RawConfig, RawDatabase, RawHttp, RawImap, RawLeadsie, RawLog, RawNotify, RawOAuth2,
    RawShopify, RawTrust, RawWebhook, RawWorker,
};
pub use worker::{FilerSettings, NotifyChannels, Review, SmtpSettings, WorkerSettings};

/// An error in the configuration: it names the file, the setting and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The reason is said in words, once; the I/O error is not a source,
    /// or a printed chain would repeat it.
    #[error("cannot read config file {path}: {}", crate::fs_error::reason(.error))]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config setting {key}: {message}")]
    Invalid { key: String, message: String },
}

/// A setting that loaded but could not be put to use when collabd started
/// (a filer that cannot be built, a CA file that cannot be read): a
/// configuration error all the same, which restarting will not mend.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ConfigProblem(#[from] pub anyhow::Error);

/// Whether `e` is a configuration error — a [`ConfigError`] or a
/// [`ConfigProblem`] anywhere in its chain — rather than trouble at run time.
pub fn is_config_error(e: &anyhow::Error) -> bool {
    e.chain()
        .any(|c| c.is::<ConfigError>() || c.is::<ConfigProblem>())
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_path: PathBuf,
    pub max_raw_bytes: u64,
    pub raw_retention_days: u32,
    pub trust: TrustPolicy,
    /// DNS servers for DKIM key look-ups; empty for the system's.
    pub nameservers: Vec<std::net::SocketAddr>,
    pub outcome_patterns: Vec<(OutcomeResult, String)>,
    pub worker: WorkerSettings,
    /// The IMAP watcher; `None` when the file has no `[imap]` table.
    pub imap: Option<ImapSettings>,
    /// Where and how `/healthz` and `/metrics` are served, if anywhere.
    pub http: Option<HttpSettings>,
    /// Leadsie's webhook on the `[http]` listener, when `[leadsie] webhook = true`.
    pub leadsie: Option<LeadsieSettings>,
    /// Connections without TLS that an `insecure = true` allowed, one line
    /// each naming the setting; `check-config` and `run` warn of them.
    pub insecure: Vec<String>,
    /// `[log] level`, which `RUST_LOG` overrides.
    pub log_level: Option<String>,
    /// Secret files (and a config file holding a secret) that other users
    /// on the host can read, one line each naming the file and its mode;
    /// `check-config` and `run` warn of them.
    pub exposed: Vec<String>,
}

/// The configuration file a packaged host has: read when neither
/// `--config` nor `COLLABD_CONFIG` names one.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/collabd/collabd.toml";

/// The configuration file to read when none is given: `default` unless
/// it does not exist (then none: defaults and the environment). A default
/// that exists but cannot be read (`/etc/collabd` is root's and the collabd
/// group's) is still returned, so that reading it reports why, rather than
/// falling back to defaults that would show an empty database and "the
/// webhook is off".
pub fn default_config(default: &Path) -> Option<PathBuf> {
    match std::fs::metadata(default) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        _ => Some(default.to_owned()),
    }
}

/// `[log] level` from the config file, read before logging starts; any
/// problem with the file is left for [`Settings::load`] to report.
pub fn peek_log_level(path: Option<&Path>) -> Option<String> {
    let text = std::fs::read_to_string(path?).ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    Some(table.get("log")?.get("level")?.as_str()?.to_owned())
}

pub const DEFAULT_MAX_RAW_BYTES: u64 = 2 * 1024 * 1024;
pub const DEFAULT_RAW_RETENTION_DAYS: u32 = 180;

impl Settings {
    /// Loads `path` if given (else defaults), then applies environment
    /// overrides: `COLLABD__SECTION__KEY=value` sets any setting (for
    /// containers; `COLLABD__IMAP__HOST=imap.gmail.com`,
    /// `COLLABD__WORKER__WEBHOOK__URL=…`, `COLLABD__IMAP__FOLDERS='["INBOX"]'`;
    /// the value is read as TOML, else as a string). `--db` (or
    /// `COLLABD_DB`) is the CLI's: see `cli::load_settings`.
    pub fn load(path: Option<&Path>) -> Result<Settings, ConfigError> {
        let text = match path {
            Some(p) => std::fs::read_to_string(p).map_err(|error| ConfigError::Read {
                path: p.to_owned(),
                error,
            })?,
            None => String::new(),
        };
        let shown = path.map_or_else(|| PathBuf::from("(no config file)"), Path::to_owned);
        let overrides: Vec<(String, String)> = std::env::vars()
            .filter(|(k, _)| k.starts_with("COLLABD__"))
            .collect();
        let raw = if overrides.is_empty() {
            // Straight from the text, so errors carry line numbers.
            toml::from_str::<RawConfig>(&text).map_err(|e| ConfigError::Parse {
                path: shown.clone(),
                message: describe_toml_error(&text, &e),
            })?
        } else {
            env::overlay(&text, &shown, &overrides)?
        };
        let config_exposed = path.and_then(|p| exposed::exposed_config(p, &raw));
        let mut settings = Settings::from_raw(raw)?;
        settings.exposed.extend(config_exposed);
        Ok(settings)
    }

    pub fn from_raw(raw: RawConfig) -> Result<Settings, ConfigError> {
        let exposed = exposed::exposed_files(&raw);
        let (trust, nameservers) = trust::trust_settings(raw.trust)?;
        let outcome_patterns = trust::outcome_patterns(raw.shopify)?;
        let mut insecure = Vec::new();
        let database_path = raw.database.path.unwrap_or_else(default_database_path);
        let worker = worker::worker_settings(raw.worker, &database_path, &mut insecure)?;
        let imap = raw
            .imap
            .map(|m| imap::imap_settings(m, &mut insecure))
            .transpose()?;
        if let Some(level) = &raw.log.level
            && tracing_subscriber::EnvFilter::try_new(level).is_err()
        {
            return Err(invalid(
                "log.level",
                &format!("`{level}` is not a level (error, warn, info, debug, trace) or filter"),
            ));
        }
        let http = raw
            .http
            .map(|h| http::http_settings(h, &mut insecure))
            .transpose()?;
        let leadsie = leadsie::leadsie_settings(raw.leadsie, http.is_some())?;
        Ok(Settings {
            log_level: raw.log.level,
            worker,
            imap,
            http,
            leadsie,
            insecure,
            exposed,
            database_path,
            max_raw_bytes: raw.database.max_raw_bytes.unwrap_or(DEFAULT_MAX_RAW_BYTES),
            raw_retention_days: raw
                .database
                .raw_retention_days
                .unwrap_or(DEFAULT_RAW_RETENTION_DAYS),
            trust,
            nameservers,
            outcome_patterns,
        })
    }

    /// The classifier these settings describe.
    pub fn classifier(&self) -> Classifier {
        let rules =
            OutcomeRules::new(&self.outcome_patterns).expect("patterns were validated when loaded");
        Classifier::new(self.trust.clone(), rules)
    }
}

/// A URL that carries a secret (a signed body, a Slack webhook's key, a
/// refresh token) goes over https, or plain http only to a loopback host —
/// unless its section (`section.0`) says `insecure = true`, which is then
/// noted in `insecure`.
fn check_https(
    key: &str,
    url: &reqwest::Url,
    section: (&str, bool),
    insecure: &mut Vec<String>,
) -> Result<(), ConfigError> {
    let host = url.host_str().unwrap_or_default();
    if url.scheme() != "http" || is_loopback(host) {
        return Ok(());
    }
    let (table, allowed) = section;
    if !allowed {
        return Err(invalid(
            key,
            &format!(
                "http://{host} is not encrypted: anyone on the way can read what collabd sends there (codes, signatures, tokens); use https://, or set insecure = true in [{table}] to allow it anyway"
            ),
        ));
    }
    insecure.push(format!(
        "{key}: plain http to {host}, allowed by insecure = true in [{table}]"
    ));
    Ok(())
}

fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `$STATE_DIRECTORY/collabd.db` under systemd, else `./collabd.db`.
fn default_database_path() -> PathBuf {
    match std::env::var_os("STATE_DIRECTORY").filter(|v| !v.is_empty()) {
        Some(dir) => {
            // systemd may pass several colon-separated directories.
            let first = dir
                .to_string_lossy()
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned();
            PathBuf::from(first).join("collabd.db")
        }
        None => PathBuf::from("collabd.db"),
    }
}

/// A `tls_pin` setting: a certificate digest, for a connection with TLS,
/// and not beside a CA file, which it would silently overrule.
fn tls_pin(
    key: &str,
    pin: Option<&str>,
    with_ca_file: bool,
    with_tls: bool,
) -> Result<Option<crate::tls::Pin>, ConfigError> {
    let Some(pin) = pin else {
        return Ok(None);
    };
    if with_ca_file {
        return Err(invalid(
            key,
            "is set beside a CA file; a pin trusts one certificate, a CA file the certificates its CA issued: keep one of them",
        ));
    }
    if !with_tls {
        return Err(invalid(key, "needs a connection with TLS"));
    }
    pin.parse().map(Some).map_err(|e: String| invalid(key, &e))
}

fn invalid(key: &str, message: &str) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        message: message.to_owned(),
    }
}

fn check_domain(key: &str, d: &str) -> Result<String, ConfigError> {
    let d = d
        .trim()
        .trim_start_matches('@')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let ok = d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(d)
    } else {
        Err(invalid(
            key,
            &format!("`{d}` is not a domain name (write it as `example.com`)"),
        ))
    }
}

/// toml's message plus the line it points at.
fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = without_value(e.message());
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

/// serde names the offending value in a type error ("invalid type: integer
/// `12345678`, expected a string"). When the setting is a password written
/// without quotes, that value is the secret: say only what kind it was.
fn without_value(message: &str) -> String {
    let Some(rest) = message.strip_prefix("invalid type: ") else {
        return message.to_owned();
    };
    let (found, expected) = rest.split_once(", expected").unwrap_or((rest, ""));
    let kind = found.find([' ', '`', '"']).map_or(found, |i| &found[..i]);
    let kind = if kind == "floating" {
        "floating point"
    } else {
        kind
    };
    if expected.is_empty() {
        format!("invalid type: {kind}")
    } else {
        format!("invalid type: {kind}, expected{expected}")
    }
}
