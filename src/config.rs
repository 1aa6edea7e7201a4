//! The TOML configuration file, environment overrides and validation into
//! typed settings. Owns every setting's name and default; knows nothing of
//! email parsing beyond building the classifier the settings describe.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::mail::{Classifier, OutcomeRules, Require, TrustPolicy};
use crate::model::OutcomeResult;
use crate::secret;

/// An error in the configuration: it names the file, the setting and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config setting {key}: {message}")]
    Invalid { key: String, message: String },
}

/// The file as written. Unknown keys are refused so a typo is never ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub database: RawDatabase,
    #[serde(default)]
    pub trust: RawTrust,
    #[serde(default)]
    pub shopify: RawShopify,
    #[serde(default)]
    pub worker: RawWorker,
    pub imap: Option<RawImap>,
    #[serde(default)]
    pub log: RawLog,
    pub http: Option<RawHttp>,
}

/// `[log]`: how much the daemon says. `RUST_LOG` overrides it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    /// error, warn, info, debug or trace, or a tracing filter such as
    /// "info,collabd::imap=debug".
    pub level: Option<String>,
}

/// `[http]`: the health and metrics endpoint.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    /// Address and port, e.g. "127.0.0.1:9464".
    pub listen: String,
    /// The endpoint has no authentication, so a non-loopback `listen` is
    /// refused unless this says the operator meant it.
    pub allow_remote: Option<bool>,
    /// A client must send a request's headers within this many seconds of
    /// connecting (or of its previous request), else it is disconnected.
    pub header_timeout_seconds: Option<u64>,
}

/// Validated `[http]` settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub listen: std::net::SocketAddr,
    /// True when `listen` is not a loopback address (allowed by
    /// `http.allow_remote`).
    pub remote: bool,
    /// Frees a connection slot held by a client that is slow, or silent,
    /// in sending its headers: a slowloris cannot keep `/healthz` down.
    pub header_timeout: Duration,
}

/// Monitoring sends its request at once; ten seconds is generous.
pub const DEFAULT_HTTP_HEADER_TIMEOUT_S: u64 = 10;

/// `[imap]`: the mailbox the Leadsie emails are forwarded to.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImap {
    pub host: String,
    pub port: Option<u16>,
    /// tls (implicit TLS, the default), starttls, or plain (loopback only).
    pub security: Option<String>,
    /// PEM file of the CA (or self-signed certificate) to trust instead of
    /// the public roots.
    pub ca_file: Option<PathBuf>,
    pub user: String,
    /// login (the default) or xoauth2.
    pub auth: Option<String>,
    /// The password inline; prefer password_file, $COLLABD_IMAP_PASSWORD or
    /// the systemd credential `imap-password`.
    pub password: Option<String>,
    pub password_file: Option<PathBuf>,
    pub oauth2: Option<RawOAuth2>,
    pub folders: Option<Vec<String>>,
    /// First run only: start with mail received on or after this date
    /// (YYYY-MM-DD) instead of all existing mail.
    pub since: Option<String>,
    /// none (the default), seen, or move.
    pub after_processing: Option<String>,
    /// The folder for after_processing = "move".
    pub move_to: Option<String>,
    /// Messages larger than this are not downloaded (an event says so).
    pub max_message_bytes: Option<u64>,
    pub idle_renew_seconds: Option<u64>,
    pub poll_seconds: Option<u64>,
    pub command_timeout_seconds: Option<u64>,
}

/// `[imap.oauth2]`: where the XOAUTH2 access token is refreshed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOAuth2 {
    pub token_url: String,
    pub client_id: String,
    /// Else $COLLABD_OAUTH_CLIENT_SECRET, else the credential
    /// `oauth-client-secret`; public clients may have none.
    pub client_secret_file: Option<PathBuf>,
    /// Else $COLLABD_OAUTH_REFRESH_TOKEN, else the credential
    /// `oauth-refresh-token`.
    pub refresh_token_file: Option<PathBuf>,
    pub scope: Option<String>,
    /// Allow an http:// token_url to a host that is not loopback.
    #[serde(default)]
    pub insecure: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorker {
    /// log, notify, webhook or command.
    pub filer: Option<String>,
    pub concurrency: Option<usize>,
    pub max_attempts: Option<u32>,
    pub lease_seconds: Option<u64>,
    pub poll_seconds: Option<u64>,
    /// At most this many filings a minute (default: no limit).
    pub rate_per_minute: Option<u32>,
    pub remind_after_days: Option<u32>,
    pub expire_after_days: Option<u32>,
    pub command: Option<RawCommand>,
    pub webhook: Option<RawWebhook>,
    pub notify: Option<RawNotify>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCommand {
    pub program: PathBuf,
    #[serde(default)]
    pub args: Vec<String>,
    pub timeout_seconds: Option<u64>,
    /// Names of collabd's environment variables the program also gets; it
    /// starts with a clean environment otherwise.
    #[serde(default)]
    pub env: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhook {
    pub url: String,
    /// File holding the HMAC secret; else $COLLABD_WEBHOOK_SECRET, else the
    /// systemd credential `webhook-secret`.
    pub secret_file: Option<PathBuf>,
    /// The secret itself; prefer secret_file or a credential, which keep it
    /// out of a file that is often shared.
    pub secret: Option<String>,
    pub timeout_seconds: Option<u64>,
    /// Allow an http:// url to a host that is not loopback.
    #[serde(default)]
    pub insecure: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotify {
    #[serde(default)]
    pub slack_webhooks: Vec<String>,
    pub dev_dashboard_org_id: Option<String>,
    pub smtp_url: Option<String>,
    /// The SMTP password when `smtp_url` names a user but no password; else
    /// $COLLABD_SMTP_PASSWORD, else the systemd credential `smtp-password`.
    pub smtp_password_file: Option<PathBuf>,
    /// A PEM file of the CA that signed the SMTP server's certificate, for a
    /// private relay; the public web roots otherwise.
    pub smtp_ca_file: Option<PathBuf>,
    pub email_from: Option<String>,
    #[serde(default)]
    pub email_to: Vec<String>,
    /// Allow http:// Slack webhooks and an SMTP relay without TLS to hosts
    /// that are not loopback.
    #[serde(default)]
    pub insecure: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    /// Path of the SQLite file.
    pub path: Option<PathBuf>,
    /// Largest raw message kept for audit, in bytes; larger ones keep headers only.
    pub max_raw_bytes: Option<u64>,
    /// Days raw message bytes are kept; 0 keeps them forever.
    pub raw_retention_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrust {
    pub leadsie_domains: Option<Vec<String>>,
    pub shopify_domains: Option<Vec<String>>,
    pub forwarders: Option<Vec<String>>,
    pub require: Option<String>,
    pub authserv_id: Option<String>,
    pub nameservers: Option<Vec<String>>,
    pub arc_sealers: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShopify {
    #[serde(default)]
    pub granted_patterns: Vec<String>,
    #[serde(default)]
    pub declined_patterns: Vec<String>,
    #[serde(default)]
    pub revoked_patterns: Vec<String>,
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
    /// Connections without TLS that an `insecure = true` allowed, one line
    /// each naming the setting; `check-config` and `run` warn of them.
    pub insecure: Vec<String>,
}

/// `[log] level` from the config file, read before logging starts; any
/// problem with the file is left for [`Settings::load`] to report.
pub fn peek_log_level(path: Option<&Path>) -> Option<String> {
    let text = std::fs::read_to_string(path?).ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    Some(table.get("log")?.get("level")?.as_str()?.to_owned())
}

/// How the watcher protects the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    Tls,
    StartTls,
    Plain,
}

/// How the watcher logs in.
#[derive(Debug, Clone)]
pub enum ImapAuth {
    Password(crate::secret::Secret),
    XOAuth2(OAuth2Settings),
}

#[derive(Debug, Clone)]
pub struct OAuth2Settings {
    pub token_url: reqwest::Url,
    pub client_id: String,
    pub client_secret: Option<crate::secret::Secret>,
    pub refresh_token: crate::secret::Secret,
    pub scope: Option<String>,
}

/// What the watcher does to a message once it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterProcessing {
    Nothing,
    MarkSeen,
    MoveTo(String),
}

/// Validated `[imap]` settings.
#[derive(Debug, Clone)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub ca_file: Option<PathBuf>,
    pub user: String,
    pub auth: ImapAuth,
    pub folders: Vec<String>,
    pub since: Option<chrono::NaiveDate>,
    pub after_processing: AfterProcessing,
    pub max_message_bytes: u64,
    pub idle_renew: Duration,
    pub poll: Duration,
    pub command_timeout: Duration,
}

/// Which filer the worker uses, and how.
#[derive(Debug, Clone)]
pub enum FilerSettings {
    Log,
    Command {
        program: PathBuf,
        args: Vec<String>,
        timeout: Duration,
        /// Variables passed through from collabd's environment.
        env: Vec<String>,
    },
    Webhook {
        url: reqwest::Url,
        secret: crate::secret::Secret,
        timeout: Duration,
    },
    /// Uses [`WorkerSettings::notify`]'s channels.
    Notify,
}

/// `[worker.notify]`: where people are told to file, and of outcomes.
#[derive(Debug, Clone)]
pub struct NotifyChannels {
    pub slack: Vec<reqwest::Url>,
    pub dev_org_id: Option<String>,
    pub smtp: Option<SmtpSettings>,
    pub email_from: Option<String>,
    pub email_to: Vec<String>,
}

/// The SMTP relay of `[worker.notify]`, validated once.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub url: reqwest::Url,
    /// Loaded when `url` names a user without a password.
    pub password: Option<crate::secret::Secret>,
    pub ca_file: Option<PathBuf>,
}

/// Validated `[worker]` settings.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub filer: FilerSettings,
    /// The notify filer's channels; also where outcomes are announced, with
    /// any filer.
    pub notify: Option<NotifyChannels>,
    pub concurrency: usize,
    pub max_attempts: u32,
    pub lease: Duration,
    pub poll: Duration,
    pub rate_per_minute: Option<u32>,
    pub remind_after_days: u32,
    pub expire_after_days: u32,
}

pub const DEFAULT_MAX_RAW_BYTES: u64 = 2 * 1024 * 1024;
pub const DEFAULT_RAW_RETENTION_DAYS: u32 = 180;

impl Settings {
    /// Loads `path` if given (else defaults), then applies environment
    /// overrides: `COLLABD__SECTION__KEY=value` sets any setting (for
    /// containers; `COLLABD__IMAP__HOST=imap.gmail.com`,
    /// `COLLABD__WORKER__WEBHOOK__URL=…`, `COLLABD__IMAP__FOLDERS='["INBOX"]'`;
    /// the value is read as TOML, else as a string), and `COLLABD_DB` the
    /// database path.
    pub fn load(path: Option<&Path>) -> Result<Settings, ConfigError> {
        let text = match path {
            Some(p) => std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                path: p.to_owned(),
                source,
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
            let mut table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Parse {
                path: shown.clone(),
                message: describe_toml_error(&text, &e),
            })?;
            let mut names = Vec::new();
            for (name, value) in &overrides {
                apply_override(&mut table, name, value)?;
                names.push(name.as_str());
            }
            RawConfig::deserialize(toml::Value::Table(table)).map_err(|e| ConfigError::Parse {
                path: shown.clone(),
                message: format!(
                    "{} (with the environment overrides {}){}",
                    without_value(e.message()),
                    names.join(", "),
                    if e.message().starts_with("invalid type: ") {
                        "; a value that reads as a number or boolean is taken as one: for text, quote it as TOML, e.g. COLLABD__IMAP__USER='\"1234\"'"
                    } else {
                        ""
                    }
                ),
            })?
        };
        let mut settings = Settings::from_raw(raw)?;
        if let Some(db) = std::env::var_os("COLLABD_DB").filter(|v| !v.is_empty()) {
            settings.database_path = PathBuf::from(db);
        }
        Ok(settings)
    }

    pub fn from_raw(raw: RawConfig) -> Result<Settings, ConfigError> {
        let domains = |key: &str,
                       v: Option<Vec<String>>,
                       default: &str|
         -> Result<Vec<String>, ConfigError> {
            let list = v.unwrap_or_else(|| vec![default.to_owned()]);
            if list.is_empty() {
                return Err(invalid(key, "must name at least one domain"));
            }
            list.into_iter().map(|d| check_domain(key, &d)).collect()
        };
        let trust = TrustPolicy {
            leadsie_domains: domains(
                "trust.leadsie_domains",
                raw.trust.leadsie_domains,
                "leadsie.com",
            )?,
            shopify_domains: domains(
                "trust.shopify_domains",
                raw.trust.shopify_domains,
                "shopify.com",
            )?,
            forwarders: match raw.trust.forwarders {
                None => None,
                Some(list) => Some(
                    list.into_iter()
                        .map(|f| {
                            let f = f.trim().to_ascii_lowercase();
                            match f.split_once('@') {
                                Some((local, domain)) if !local.is_empty() => {
                                    check_domain("trust.forwarders", domain).map(|_| f.clone())
                                }
                                Some(_) => Err(invalid(
                                    "trust.forwarders",
                                    &format!("`{f}` is not an address or a domain"),
                                )),
                                None => check_domain("trust.forwarders", &f),
                            }
                        })
                        .collect::<Result<_, _>>()?,
                ),
            },
            require: match raw.trust.require.as_deref() {
                None | Some("dkim") => Require::Dkim,
                Some("dmarc") => Require::Dmarc,
                Some("none") => Require::None,
                Some(other) => {
                    return Err(invalid(
                        "trust.require",
                        &format!("`{other}` is not one of \"dkim\", \"dmarc\", \"none\""),
                    ));
                }
            },
            authserv_id: match raw.trust.authserv_id {
                Some(id)
                    if id.trim().is_empty()
                        || id.contains(char::is_whitespace)
                        || id.contains(';') =>
                {
                    return Err(invalid(
                        "trust.authserv_id",
                        "must be the receiving server's authserv-id, one word such as `mx.google.com`",
                    ));
                }
                Some(id) => Some(id.trim().to_ascii_lowercase()),
                None => None,
            },
            arc_sealers: raw
                .trust
                .arc_sealers
                .unwrap_or_default()
                .into_iter()
                .map(|d| check_domain("trust.arc_sealers", &d))
                .collect::<Result<_, _>>()?,
        };
        if trust.require == Require::Dmarc && trust.authserv_id.is_none() {
            return Err(invalid(
                "trust.require",
                "\"dmarc\" needs [trust] authserv_id: only the receiving server's own Authentication-Results can vouch for a pass",
            ));
        }
        let nameservers = raw
            .trust
            .nameservers
            .unwrap_or_default()
            .into_iter()
            .map(|n| {
                n.parse::<std::net::SocketAddr>()
                    .or_else(|_| n.parse::<std::net::IpAddr>().map(|ip| (ip, 53).into()))
                    .map_err(|_| {
                        invalid(
                            "trust.nameservers",
                            &format!("`{n}` is not an IP address or IP:port"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut outcome_patterns = Vec::new();
        for (key, result, list) in [
            (
                "shopify.granted_patterns",
                OutcomeResult::Granted,
                raw.shopify.granted_patterns,
            ),
            (
                "shopify.declined_patterns",
                OutcomeResult::Declined,
                raw.shopify.declined_patterns,
            ),
            (
                "shopify.revoked_patterns",
                OutcomeResult::Revoked,
                raw.shopify.revoked_patterns,
            ),
        ] {
            for p in list {
                regex::Regex::new(&p).map_err(|e| {
                    invalid(
                        key,
                        &format!("`{p}` is not a valid regular expression: {e}"),
                    )
                })?;
                outcome_patterns.push((result, p));
            }
        }
        let mut insecure = Vec::new();
        let worker = worker_settings(raw.worker, &mut insecure)?;
        let imap = raw
            .imap
            .map(|m| imap_settings(m, &mut insecure))
            .transpose()?;
        if let Some(level) = &raw.log.level
            && tracing_subscriber::EnvFilter::try_new(level).is_err()
        {
            return Err(invalid(
                "log.level",
                &format!("`{level}` is not a level (error, warn, info, debug, trace) or filter"),
            ));
        }
        let http = raw.http.map(http_settings).transpose()?;
        Ok(Settings {
            worker,
            imap,
            http,
            insecure,
            database_path: raw.database.path.unwrap_or_else(default_database_path),
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

    /// The one way to build an [`Ingestor`] from settings: classifier, DKIM
    /// verifier and raw-size cap together.
    pub fn ingestor(&self, db: crate::store::Db) -> anyhow::Result<crate::ingest::Ingestor> {
        Ok(crate::ingest::Ingestor {
            db,
            classifier: self.classifier(),
            max_raw_bytes: self.max_raw_bytes,
            verifier: std::sync::Arc::new(crate::dkim::Verifier::new(&self.nameservers)?),
        })
    }
}

fn http_settings(h: RawHttp) -> Result<HttpSettings, ConfigError> {
    let listen: std::net::SocketAddr = h.listen.trim().parse().map_err(|_| {
        invalid(
            "http.listen",
            &format!(
                "`{}` is not an address and port such as 127.0.0.1:9464",
                h.listen
            ),
        )
    })?;
    // `::ffff:127.0.0.1` is loopback too.
    let remote = !listen.ip().to_canonical().is_loopback();
    if remote && h.allow_remote != Some(true) {
        return Err(invalid(
            "http.listen",
            &format!(
                "{listen} is not a loopback address, and /healthz and /metrics have no authentication; use 127.0.0.1 or [::1], or set http.allow_remote = true and let a firewall decide who reaches the port"
            ),
        ));
    }
    let header_timeout = match h
        .header_timeout_seconds
        .unwrap_or(DEFAULT_HTTP_HEADER_TIMEOUT_S)
    {
        0 => {
            return Err(invalid(
                "http.header_timeout_seconds",
                "must be at least 1 second",
            ));
        }
        n => Duration::from_secs(n),
    };
    Ok(HttpSettings {
        listen,
        remote,
        header_timeout,
    })
}

fn worker_settings(
    w: RawWorker,
    insecure: &mut Vec<String>,
) -> Result<WorkerSettings, ConfigError> {
    let secs = |v: Option<u64>, default: u64, key: &str| -> Result<Duration, ConfigError> {
        match v.unwrap_or(default) {
            0 => Err(invalid(key, "must be at least 1 second")),
            n => Ok(Duration::from_secs(n)),
        }
    };
    let notify = match w.notify {
        None => None,
        Some(n) => {
            let slack = n
                .slack_webhooks
                .iter()
                .map(|u| {
                    u.parse().map_err(|e| {
                        invalid(
                            "worker.notify.slack_webhooks",
                            &format!("an entry is not a URL: {e}"),
                        )
                    })
                })
                .collect::<Result<Vec<reqwest::Url>, _>>()?;
            for url in &slack {
                check_https(
                    "worker.notify.slack_webhooks",
                    url,
                    ("worker.notify", n.insecure),
                    insecure,
                )?;
            }
            if slack.is_empty() && n.smtp_url.is_none() {
                return Err(invalid(
                    "worker.notify",
                    "needs slack_webhooks, or smtp_url with email_from and email_to",
                ));
            }
            if n.smtp_url.is_some() && (n.email_from.is_none() || n.email_to.is_empty()) {
                return Err(invalid(
                    "worker.notify",
                    "smtp_url needs email_from and email_to",
                ));
            }
            let url = n
                .smtp_url
                .as_deref()
                .map(|u| {
                    u.parse::<reqwest::Url>().map_err(|e| {
                        invalid(
                            "worker.notify.smtp_url",
                            &format!(
                                "not a URL: {e} (write smtp://user@host:587?tls=required or smtps://user@host)"
                            ),
                        )
                    })
                })
                .transpose()?;
            // A user without a password in the URL: the password is a secret.
            let password = match &url {
                Some(u) if !u.username().is_empty() && u.password().is_none() => Some(
                    secret::load(
                        n.smtp_password_file.as_deref(),
                        "COLLABD_SMTP_PASSWORD",
                        "smtp-password",
                    )
                    .map_err(|e| invalid("worker.notify.smtp_password_file", &e))?,
                ),
                _ if n.smtp_password_file.is_some() => {
                    return Err(invalid(
                        "worker.notify.smtp_password_file",
                        "is set, but smtp_url names no user (write smtp://user@host…) or already holds a password",
                    ));
                }
                _ => None,
            };
            if n.smtp_ca_file.is_some()
                && !url.as_ref().is_some_and(|u| {
                    u.scheme() == "smtps" || u.query_pairs().any(|(k, _)| k == "tls")
                })
            {
                return Err(invalid(
                    "worker.notify.smtp_ca_file",
                    "needs a TLS smtp_url (smtps://… or ?tls=required)",
                ));
            }
            if let Some(u) = &url {
                check_smtp_tls(u, n.insecure, insecure)?;
            }
            Some(NotifyChannels {
                slack,
                dev_org_id: n.dev_dashboard_org_id,
                smtp: url.map(|url| SmtpSettings {
                    url,
                    password,
                    ca_file: n.smtp_ca_file,
                }),
                email_from: n.email_from,
                email_to: n.email_to,
            })
        }
    };
    let name = w
        .filer
        .as_deref()
        .unwrap_or(if notify.is_some() { "notify" } else { "log" });
    let filer = match name {
        "log" => FilerSettings::Log,
        "command" => {
            let c = w.command.ok_or_else(|| {
                invalid(
                    "worker.command",
                    "filer = \"command\" needs a [worker.command] table with `program`",
                )
            })?;
            if let Some(bad) = c.env.iter().find(|n| !is_env_name(n)) {
                return Err(invalid(
                    "worker.command.env",
                    &format!(
                        "`{bad}` is not an environment variable name (letters, digits and _, not starting with a digit)"
                    ),
                ));
            }
            FilerSettings::Command {
                program: c.program,
                args: c.args,
                timeout: secs(c.timeout_seconds, 60, "worker.command.timeout_seconds")?,
                env: c.env,
            }
        }
        "webhook" => {
            let h = w.webhook.ok_or_else(|| {
                invalid(
                    "worker.webhook",
                    "filer = \"webhook\" needs a [worker.webhook] table with `url`",
                )
            })?;
            let url: reqwest::Url = h
                .url
                .parse()
                .map_err(|e| invalid("worker.webhook.url", &format!("not a URL: {e}")))?;
            if !matches!(url.scheme(), "https" | "http") {
                return Err(invalid(
                    "worker.webhook.url",
                    "must be an http or https URL",
                ));
            }
            check_https(
                "worker.webhook.url",
                &url,
                ("worker.webhook", h.insecure),
                insecure,
            )?;
            let secret = secret::inline_or_load(
                h.secret,
                h.secret_file.as_deref(),
                ("secret", "secret_file"),
                "COLLABD_WEBHOOK_SECRET",
                "webhook-secret",
            )
            .map_err(|m| invalid("worker.webhook.secret_file", &m))?;
            FilerSettings::Webhook {
                url,
                secret,
                timeout: secs(h.timeout_seconds, 10, "worker.webhook.timeout_seconds")?,
            }
        }
        "notify" => {
            if notify.is_none() {
                return Err(invalid(
                    "worker.notify",
                    "filer = \"notify\" needs a [worker.notify] table with slack_webhooks, or smtp_url with email_from and email_to",
                ));
            }
            FilerSettings::Notify
        }
        other => {
            return Err(invalid(
                "worker.filer",
                &format!("`{other}` is not one of: log, notify, webhook, command"),
            ));
        }
    };
    let concurrency = w.concurrency.unwrap_or(4);
    if !(1..=64).contains(&concurrency) {
        return Err(invalid("worker.concurrency", "must be between 1 and 64"));
    }
    let max_attempts = w.max_attempts.unwrap_or(8);
    if max_attempts == 0 {
        return Err(invalid("worker.max_attempts", "must be at least 1"));
    }
    let (remind, expire) = (
        w.remind_after_days.unwrap_or(3),
        w.expire_after_days.unwrap_or(7),
    );
    if expire == 0 || remind == 0 || remind >= expire {
        return Err(invalid(
            "worker.remind_after_days",
            "reminders come after at least a day and before expire_after_days",
        ));
    }
    Ok(WorkerSettings {
        filer,
        notify,
        concurrency,
        max_attempts,
        lease: secs(w.lease_seconds, 300, "worker.lease_seconds")?,
        poll: secs(w.poll_seconds, 5, "worker.poll_seconds")?,
        rate_per_minute: match w.rate_per_minute {
            Some(0) => {
                return Err(invalid(
                    "worker.rate_per_minute",
                    "must be at least 1 (leave it out for no limit)",
                ));
            }
            other => other,
        },
        remind_after_days: remind,
        expire_after_days: expire,
    })
}

pub const DEFAULT_MAX_MESSAGE_BYTES: u64 = 25 * 1024 * 1024;

fn imap_settings(m: RawImap, insecure: &mut Vec<String>) -> Result<ImapSettings, ConfigError> {
    let secs =
        |v: Option<u64>, default: u64, key: &str, max: u64| -> Result<Duration, ConfigError> {
            match v.unwrap_or(default) {
                n if n == 0 || n > max => Err(invalid(
                    key,
                    &format!("must be between 1 and {max} seconds"),
                )),
                n => Ok(Duration::from_secs(n)),
            }
        };
    let host = m.host.trim().to_owned();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty()
        || host.contains(['/', ' '])
        || (host.contains(':') && bare.parse::<std::net::Ipv6Addr>().is_err())
    {
        return Err(invalid(
            "imap.host",
            "must be a host name or address, without scheme or port (set imap.port)",
        ));
    }
    let security = match m.security.as_deref().unwrap_or("tls") {
        "tls" => Security::Tls,
        "starttls" => Security::StartTls,
        "plain" => Security::Plain,
        other => {
            return Err(invalid(
                "imap.security",
                &format!("`{other}` is not one of: tls, starttls, plain"),
            ));
        }
    };
    if security == Security::Plain && !is_loopback(&host) {
        return Err(invalid(
            "imap.security",
            "plain (unencrypted) IMAP is allowed only to a loopback host such as 127.0.0.1; use tls or starttls",
        ));
    }
    let port = m.port.unwrap_or(match security {
        Security::Tls => 993,
        _ => 143,
    });
    if port == 0 {
        return Err(invalid("imap.port", "must be between 1 and 65535"));
    }
    if let Some(ca) = &m.ca_file
        && let Err(e) = std::fs::metadata(ca)
    {
        return Err(invalid(
            "imap.ca_file",
            &format!("cannot read {}: {e}", ca.display()),
        ));
    }
    if m.user.trim().is_empty() {
        return Err(invalid("imap.user", "must name the mailbox's login"));
    }
    let auth = match m.auth.as_deref().unwrap_or("login") {
        "login" | "plain" => {
            if m.oauth2.is_some() {
                return Err(invalid(
                    "imap.oauth2",
                    "is used only with auth = \"xoauth2\"",
                ));
            }
            let secret = secret::inline_or_load(
                m.password,
                m.password_file.as_deref(),
                ("password", "password_file"),
                "COLLABD_IMAP_PASSWORD",
                "imap-password",
            )
            .map_err(|e| invalid("imap.password_file", &e))?;
            ImapAuth::Password(secret)
        }
        "xoauth2" => {
            let o = m.oauth2.ok_or_else(|| {
                invalid(
                    "imap.oauth2",
                    "auth = \"xoauth2\" needs an [imap.oauth2] table with token_url and client_id",
                )
            })?;
            let token_url: reqwest::Url = o
                .token_url
                .parse()
                .map_err(|e| invalid("imap.oauth2.token_url", &format!("not a URL: {e}")))?;
            if !matches!(token_url.scheme(), "https" | "http") {
                return Err(invalid("imap.oauth2.token_url", "must be an https URL"));
            }
            check_https(
                "imap.oauth2.token_url",
                &token_url,
                ("imap.oauth2", o.insecure),
                insecure,
            )?;
            let client_secret = match secret::load(
                o.client_secret_file.as_deref(),
                "COLLABD_OAUTH_CLIENT_SECRET",
                "oauth-client-secret",
            ) {
                Ok(s) => Some(s),
                Err(_) if o.client_secret_file.is_none() => None,
                Err(e) => return Err(invalid("imap.oauth2.client_secret_file", &e)),
            };
            let refresh_token = secret::load(
                o.refresh_token_file.as_deref(),
                "COLLABD_OAUTH_REFRESH_TOKEN",
                "oauth-refresh-token",
            )
            .map_err(|e| invalid("imap.oauth2.refresh_token_file", &e))?;
            ImapAuth::XOAuth2(OAuth2Settings {
                token_url,
                client_id: o.client_id,
                client_secret,
                refresh_token,
                scope: o.scope,
            })
        }
        other => {
            return Err(invalid(
                "imap.auth",
                &format!("`{other}` is not one of: login, xoauth2"),
            ));
        }
    };
    let folders = m.folders.unwrap_or_else(|| vec!["INBOX".to_owned()]);
    if folders.is_empty() || folders.iter().any(|f| f.trim().is_empty()) {
        return Err(invalid(
            "imap.folders",
            "must list at least one folder, none empty",
        ));
    }
    let mut unique = folders.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != folders.len() {
        return Err(invalid("imap.folders", "names a folder twice"));
    }
    let since = m
        .since
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
                invalid(
                    "imap.since",
                    &format!("`{d}` is not a date written YYYY-MM-DD"),
                )
            })
        })
        .transpose()?;
    let after_processing = match (m.after_processing.as_deref().unwrap_or("none"), m.move_to) {
        ("none", None) => AfterProcessing::Nothing,
        ("seen", None) => AfterProcessing::MarkSeen,
        ("move", Some(to)) if !to.trim().is_empty() => {
            if folders.contains(&to) {
                return Err(invalid(
                    "imap.move_to",
                    "must not be one of the watched folders",
                ));
            }
            AfterProcessing::MoveTo(to)
        }
        ("move", _) => {
            return Err(invalid(
                "imap.move_to",
                "after_processing = \"move\" needs move_to, the folder to move to",
            ));
        }
        ("none" | "seen", Some(_)) => {
            return Err(invalid(
                "imap.move_to",
                "is used only with after_processing = \"move\"",
            ));
        }
        (other, _) => {
            return Err(invalid(
                "imap.after_processing",
                &format!("`{other}` is not one of: none, seen, move"),
            ));
        }
    };
    let max_message_bytes = m.max_message_bytes.unwrap_or(DEFAULT_MAX_MESSAGE_BYTES);
    if max_message_bytes < 64 * 1024 {
        return Err(invalid(
            "imap.max_message_bytes",
            "must be at least 65536 (64 KiB)",
        ));
    }
    Ok(ImapSettings {
        host,
        port,
        security,
        ca_file: m.ca_file,
        user: m.user.trim().to_owned(),
        auth,
        folders,
        since,
        after_processing,
        max_message_bytes,
        // Gmail drops clients idle for about 10 minutes: renew within 9.
        idle_renew: secs(m.idle_renew_seconds, 540, "imap.idle_renew_seconds", 540)?,
        poll: secs(m.poll_seconds, 60, "imap.poll_seconds", 1800)?,
        command_timeout: secs(
            m.command_timeout_seconds,
            60,
            "imap.command_timeout_seconds",
            600,
        )?,
    })
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

/// The SMTP relay is reached over TLS (`smtps://`, or STARTTLS with
/// `?tls=required`), or without only on a loopback host — unless
/// `[worker.notify] insecure = true`. Opportunistic STARTTLS is not enough:
/// whoever is on the path can strip it, and the password goes in clear.
fn check_smtp_tls(
    url: &reqwest::Url,
    allowed: bool,
    insecure: &mut Vec<String>,
) -> Result<(), ConfigError> {
    let host = url.host_str().unwrap_or_default();
    let tls_required = url.scheme() == "smtps"
        || url
            .query_pairs()
            .any(|(k, v)| k == "tls" && v == "required");
    if tls_required || is_loopback(host) {
        return Ok(());
    }
    if !allowed {
        return Err(invalid(
            "worker.notify.smtp_url",
            &format!(
                "{host} would be reached without required TLS: the SMTP password and every notification (with its collaborator code) could be read on the way; write smtps://user@{host} or add ?tls=required (STARTTLS), or set insecure = true in [worker.notify] to allow it anyway"
            ),
        ));
    }
    insecure.push(format!(
        "worker.notify.smtp_url: SMTP to {host} without required TLS, allowed by insecure = true in [worker.notify]"
    ));
    Ok(())
}

fn is_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
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
/// Sets `COLLABD__A__B=value` as `[a] b = value` in the parsed file.
fn apply_override(table: &mut toml::Table, name: &str, value: &str) -> Result<(), ConfigError> {
    let path: Vec<String> = name["COLLABD__".len()..]
        .split("__")
        .map(str::to_ascii_lowercase)
        .collect();
    if path.iter().any(String::is_empty) {
        return Err(invalid(
            name,
            "environment overrides are written COLLABD__SECTION__KEY (double underscores)",
        ));
    }
    let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_owned()));
    let (last, parents) = path.split_last().expect("split gives at least one part");
    let mut at = table;
    for part in parents {
        let entry = at
            .entry(part.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        at = entry
            .as_table_mut()
            .ok_or_else(|| invalid(name, &format!("`{part}` is a setting, not a section")))?;
    }
    at.insert(last.clone(), parsed);
    Ok(())
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistyped_value_is_not_echoed() {
        let err = parse("[imap]\nhost = \"h\"\nuser = \"u\"\npassword = 12345678\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 4") && err.contains("invalid type: integer, expected a string"),
            "{err}"
        );
        assert!(!err.contains("12345678"), "{err}");
        assert_eq!(
            without_value("invalid type: string \"hunter2\", expected u64"),
            "invalid type: string, expected u64"
        );
        assert_eq!(
            without_value("invalid type: floating point `1.5`, expected a string"),
            "invalid type: floating point, expected a string"
        );
        assert_eq!(
            without_value("invalid value: integer `70000`, expected u16"),
            "invalid value: integer `70000`, expected u16"
        );
    }

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: "test.toml".into(),
            message: describe_toml_error(text, &e),
        })?;
        Settings::from_raw(raw)
    }

    #[test]
    fn defaults() {
        let s = parse("").unwrap();
        assert_eq!(s.trust.leadsie_domains, vec!["leadsie.com"]);
        assert!(s.trust.forwarders.is_none());
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let err = parse("[trust]\nleadsie_domains = [\"leadsie.com\"]\nforwarder = []\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3") && err.contains("forwarder"), "{err}");
    }

    #[test]
    fn worker_settings_are_checked() {
        let s = parse("").unwrap();
        assert!(matches!(s.worker.filer, FilerSettings::Log));
        let err = parse("[worker]\nfiler = \"carrier-pigeon\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("worker.filer") && err.contains("carrier-pigeon"),
            "{err}"
        );
        let err = parse("[worker]\nfiler = \"command\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("worker.command"), "{err}");
        let err = parse("[worker]\nfiler = \"notify\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("slack_webhooks"), "{err}");
        let err = parse("[worker.notify]\nsmtp_url = \"smtp://localhost\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("email_from"), "{err}");
        let mail = "email_from = \"a@x.example\"\nemail_to = [\"b@x.example\"]\n";
        let err = parse(&format!(
            "[worker.notify]\nsmtp_url = \"smtp://relay.example\"\nsmtp_password_file = \"/p\"\n{mail}"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("smtp_password_file") && err.contains("names no user"),
            "{err}"
        );
        let err = parse(&format!(
            "[worker.notify]\nsmtp_url = \"smtp://relay.example:25\"\nsmtp_ca_file = \"/ca.pem\"\n{mail}"
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("smtp_ca_file") && err.contains("TLS"), "{err}");
        let err = parse("[worker]\nremind_after_days = 9\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("worker.remind_after_days"), "{err}");
        let err = parse("[worker]\nfiler = \"webhook\"\n[worker.webhook]\nurl = \"https://x.example/h\"\nsecret_file = \"/nonexistent/secret\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("worker.webhook.secret_file") && err.contains("/nonexistent/secret"),
            "{err}"
        );
    }

    #[test]
    fn a_webhook_secret_may_be_inline_but_not_twice() {
        let s = parse("[worker]\nfiler = \"webhook\"\n[worker.webhook]\nurl = \"https://x.example/h\"\nsecret = \"s3\"\n").unwrap();
        assert!(matches!(s.worker.filer, FilerSettings::Webhook { .. }));
        let err = parse("[worker]\nfiler = \"webhook\"\n[worker.webhook]\nurl = \"https://x.example/h\"\nsecret = \"s3\"\nsecret_file = \"/x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not both") && !err.contains("s3\""), "{err}");
    }

    #[test]
    fn a_webhook_secret_comes_from_its_file_and_never_prints() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("secret");
        std::fs::write(&f, "hunter2\n").unwrap();
        let s = parse(&format!(
            "[worker]\nfiler = \"webhook\"\n[worker.webhook]\nurl = \"https://x.example/h\"\nsecret_file = \"{}\"\n",
            f.display()
        ))
        .unwrap();
        let FilerSettings::Webhook { secret, .. } = &s.worker.filer else {
            panic!("webhook expected")
        };
        assert_eq!(secret.expose(), b"hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn bad_values_are_named() {
        let err = parse("[trust]\nshopify_domains = [\"not a domain\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("trust.shopify_domains"), "{err}");
        let err = parse("[shopify]\ngranted_patterns = [\"(unclosed\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("shopify.granted_patterns"), "{err}");
        let err = parse("[trust]\nforwarders = [\"@\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("trust.forwarders"), "{err}");
    }

    #[test]
    fn imap_settings_have_defaults_and_name_bad_values() {
        let s = parse("[imap]\nhost = \"imap.example.com\"\nuser = \"ops@agency.example\"\npassword = \"pw\"\n").unwrap();
        let m = s.imap.unwrap();
        assert_eq!((m.port, m.security), (993, Security::Tls));
        assert_eq!(m.folders, vec!["INBOX"]);
        assert_eq!(m.after_processing, AfterProcessing::Nothing);
        assert_eq!(m.idle_renew, Duration::from_secs(540));
        assert!(parse("").unwrap().imap.is_none());

        let base = "[imap]\nhost = \"imap.example.com\"\nuser = \"u\"\npassword = \"pw\"\n";
        for (extra, key, says) in [
            ("security = \"plain\"\n", "imap.security", "loopback"),
            ("security = \"ssl\"\n", "imap.security", "`ssl`"),
            (
                "after_processing = \"move\"\n",
                "imap.move_to",
                "needs move_to",
            ),
            (
                "after_processing = \"move\"\nmove_to = \"INBOX\"\n",
                "imap.move_to",
                "watched",
            ),
            (
                "after_processing = \"delete\"\n",
                "imap.after_processing",
                "`delete`",
            ),
            ("since = \"26/11/2026\"\n", "imap.since", "YYYY-MM-DD"),
            ("folders = []\n", "imap.folders", "at least one"),
            ("folders = [\"A\", \"A\"]\n", "imap.folders", "twice"),
            (
                "idle_renew_seconds = 3600\n",
                "imap.idle_renew_seconds",
                "between",
            ),
            (
                "max_message_bytes = 10\n",
                "imap.max_message_bytes",
                "at least",
            ),
            ("auth = \"xoauth2\"\n", "imap.oauth2", "[imap.oauth2]"),
            ("auth = \"cram-md5\"\n", "imap.auth", "`cram-md5`"),
            ("password_file = \"/x\"\n", "imap.password_file", "not both"),
        ] {
            let err = parse(&format!("{base}{extra}")).unwrap_err().to_string();
            assert!(err.contains(key) && err.contains(says), "{extra}: {err}");
            assert!(!err.contains("\"pw\""), "{err}");
        }
        let err = parse(
            "[imap]\nhost = \"imaps://imap.example.com:993\"\nuser = \"u\"\npassword = \"p\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("imap.host"), "{err}");
        let ok =
            parse("[imap]\nhost = \"::1\"\nsecurity = \"plain\"\nuser = \"u\"\npassword = \"p\"\n")
                .unwrap();
        assert_eq!(ok.imap.unwrap().port, 143);
    }

    /// Every setting that sends a secret over the network refuses plain
    /// http (or SMTP without required TLS) to a host that is not loopback,
    /// naming the setting and the fix; `insecure = true` in its section
    /// allows it and leaves a warning for check-config.
    #[test]
    fn unencrypted_remote_endpoints_are_refused_unless_insecure() {
        let mail = "email_from = \"a@x.example\"\nemail_to = [\"b@x.example\"]\n";
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("refresh-token");
        std::fs::write(&token, "r\n").unwrap();
        let imap = format!(
            "[imap]\nhost = \"imap.example.com\"\nuser = \"u\"\nauth = \"xoauth2\"\n\
             [imap.oauth2]\nclient_id = \"c\"\nrefresh_token_file = \"{}\"\n",
            token.display()
        );
        for (section, setting, key, fix) in [
            (
                "[worker]\nfiler = \"webhook\"\n[worker.webhook]\nsecret = \"s\"\n".to_owned(),
                "url = \"http://hooks.example.com/x\"\n",
                "worker.webhook.url",
                "[worker.webhook]",
            ),
            (
                "[worker.notify]\n".to_owned(),
                "slack_webhooks = [\"https://hooks.slack.com/a\", \"http://hooks.slack.com/services/T/B/k\"]\n",
                "worker.notify.slack_webhooks",
                "[worker.notify]",
            ),
            (
                format!("[worker.notify]\n{mail}"),
                "smtp_url = \"smtp://relay.example.com:587\"\n",
                "worker.notify.smtp_url",
                "?tls=required",
            ),
            (
                format!("[worker.notify]\n{mail}"),
                "smtp_url = \"smtp://relay.example.com:587?tls=opportunistic\"\n",
                "worker.notify.smtp_url",
                "[worker.notify]",
            ),
            (
                imap.clone(),
                "token_url = \"http://login.example.com/token\"\n",
                "imap.oauth2.token_url",
                "[imap.oauth2]",
            ),
        ] {
            let err = parse(&format!("{section}{setting}"))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(key) && err.contains(fix) && err.contains("insecure = true"),
                "{setting}: {err}"
            );
            let s = parse(&format!("{section}{setting}insecure = true\n")).unwrap();
            assert_eq!(s.insecure.len(), 1, "{:?}", s.insecure);
            assert!(s.insecure[0].starts_with(key), "{:?}", s.insecure);
        }
        // TLS, or a loopback host, needs no escape hatch.
        for ok in [
            "[worker]\nfiler = \"webhook\"\n[worker.webhook]\nsecret = \"s\"\nurl = \"http://127.0.0.1:8080/x\"\n".to_owned(),
            "[worker]\nfiler = \"webhook\"\n[worker.webhook]\nsecret = \"s\"\nurl = \"http://[::1]:8080/x\"\n".to_owned(),
            "[worker.notify]\nslack_webhooks = [\"http://localhost:9/x\"]\n".to_owned(),
            format!("[worker.notify]\n{mail}smtp_url = \"smtp://relay.example.com:587?tls=required\"\n"),
            format!("[worker.notify]\n{mail}smtp_url = \"smtps://relay.example.com\"\n"),
            format!("[worker.notify]\n{mail}smtp_url = \"smtp://localhost:25\"\n"),
            format!("{imap}token_url = \"https://login.example.com/token\"\n"),
        ] {
            let s = parse(&ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert!(s.insecure.is_empty(), "{ok}: {:?}", s.insecure);
        }
    }

    #[test]
    fn command_env_names_are_checked() {
        let base = "[worker]\nfiler = \"command\"\n[worker.command]\nprogram = \"/bin/true\"\n";
        let s = parse(&format!("{base}env = [\"HOME\", \"FILER_TOKEN_2\"]\n")).unwrap();
        let FilerSettings::Command { env, .. } = s.worker.filer else {
            panic!("command expected")
        };
        assert_eq!(env, vec!["HOME", "FILER_TOKEN_2"]);
        for bad in ["", "A=B", "2X", "PATH X"] {
            let err = parse(&format!("{base}env = [\"{bad}\"]\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains("worker.command.env"), "{bad}: {err}");
        }
    }

    #[test]
    fn imap_password_comes_from_a_file_and_never_prints() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "s3cret-imap\n").unwrap();
        let s = parse(&format!(
            "[imap]\nhost = \"imap.example.com\"\nuser = \"u\"\npassword_file = \"{}\"\n",
            f.display()
        ))
        .unwrap();
        let m = s.imap.unwrap();
        let ImapAuth::Password(p) = &m.auth else {
            panic!("password auth")
        };
        assert_eq!(p.expose(), b"s3cret-imap");
        assert!(!format!("{m:?}").contains("s3cret"));
        let err = parse("[imap]\nhost = \"imap.example.com\"\nuser = \"u\"\npassword_file = \"/nonexistent/pw\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/pw"), "{err}");
    }
}
