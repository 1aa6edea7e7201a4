//! [`Settings`]: the whole configuration, validated, and where it is
//! read from.

use std::path::{Path, PathBuf};

use super::error::{ConfigError, describe_toml_error, invalid};
use super::http::HttpSettings;
use super::imap::ImapSettings;
use super::leadsie::LeadsieSettings;
use super::raw::RawConfig;
use super::worker::WorkerSettings;
use super::{env, exposed, http, imap, leadsie, trust, worker};
use crate::mail::{Classifier, OutcomeRules, TrustPolicy};

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The SQLite file, when `[database] url` names no server (the
    /// browser's state lives beside it either way).
    pub database_path: PathBuf,
    /// The PostgreSQL server, when `[database] url` names one.
    pub database_server: Option<super::database::DatabaseServer>,
    pub max_raw_bytes: u64,
    pub raw_retention_days: u32,
    pub trust: TrustPolicy,
    /// DNS servers for DKIM key look-ups; empty for the system's.
    pub nameservers: Vec<std::net::SocketAddr>,
    /// `[shopify]` patterns, compiled once when the settings loaded,
    /// with the built-in phrases.
    pub outcome_rules: OutcomeRules,
    pub worker: WorkerSettings,
    /// The watched IMAP accounts, in the order written: none without an
    /// `[imap]` table, one for `[imap]`, one per `[[imap]]` table.
    pub imap: Vec<ImapSettings>,
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
        let overrides = env::overrides();
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
        let outcome_rules = trust::outcome_rules(raw.shopify)?;
        let mut insecure = Vec::new();
        let database_server = match raw.database.url.filter(|u| !u.trim().is_empty()) {
            Some(_) if raw.database.path.is_some() => {
                return Err(invalid(
                    "database.url",
                    "set [database] path (a SQLite file) or url (a PostgreSQL server), not both",
                ));
            }
            Some(url) => Some(super::database::server(
                url.trim().to_owned(),
                raw.database.password_file.as_deref(),
            )?),
            None => None,
        };
        let database_path = raw.database.path.unwrap_or_else(default_database_path);
        let worker = worker::worker_settings(raw.worker, &database_path, &mut insecure)?;
        let imap = match raw.imap {
            None => Vec::new(),
            Some(accounts) => imap::accounts(accounts, &mut insecure)?,
        };
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
            database_server,
            max_raw_bytes: raw.database.max_raw_bytes.unwrap_or(DEFAULT_MAX_RAW_BYTES),
            raw_retention_days: raw
                .database
                .raw_retention_days
                .unwrap_or(DEFAULT_RAW_RETENTION_DAYS),
            trust,
            nameservers,
            outcome_rules,
        })
    }

    /// Where the database is: the server `[database] url` names, else the
    /// SQLite file.
    pub fn database_place(&self) -> super::database::DatabasePlace {
        match &self.database_server {
            Some(server) => super::database::DatabasePlace::Server(server.clone()),
            None => super::database::DatabasePlace::File(self.database_path.clone()),
        }
    }

    /// The database as logs and messages name it (never with a password).
    pub fn database_shown(&self) -> String {
        match &self.database_server {
            Some(server) => server.url.clone(),
            None => self.database_path.display().to_string(),
        }
    }

    /// The classifier these settings describe.
    pub fn classifier(&self) -> Classifier {
        Classifier::new(self.trust.clone(), self.outcome_rules.clone())
    }
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
