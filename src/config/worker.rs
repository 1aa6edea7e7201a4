//! `[worker]`: which filer files requests and how (`[worker.command]`,
//! `[worker.webhook]`, `[worker.notify]`), retries, pacing, reminders,
//! expiry and review — validated, with each default written once.

use std::path::PathBuf;
use std::time::Duration;

use super::checks::{check_https, is_loopback};
use super::error::{ConfigError, invalid};
use super::raw::RawWorker;
use crate::secret::{self, Secret};

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
        secret: Secret,
        timeout: Duration,
    },
    /// Uses [`WorkerSettings::notify`]'s channels.
    Notify,
    /// Uses [`WorkerSettings::browser`].
    Browser,
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
    pub password: Option<Secret>,
    pub ca_file: Option<PathBuf>,
    pub tls_pin: Option<crate::tls::Pin>,
}

/// `[worker] review`: which new requests wait for an operator's approval
/// (`awaiting_review`) before the worker may file them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Review {
    /// Every request is queued at once (the default).
    #[default]
    None,
    /// Only a request for a store the agency never had a request for, in
    /// any state, waits.
    NewStores,
    /// Every request waits.
    All,
}

impl Review {
    pub const ALL: [Review; 3] = [Review::None, Review::NewStores, Review::All];

    /// The value as the file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Review::None => "none",
            Review::NewStores => "new-stores",
            Review::All => "all",
        }
    }

    pub fn parse(s: &str) -> Option<Review> {
        Review::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Validated `[worker]` settings.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// `None` when `[worker] filer` is not set and there is no
    /// `[worker.notify]` to default to: `collabd run` refuses to start
    /// (see `filer::from_settings`), the other commands need no filer.
    pub filer: Option<FilerSettings>,
    /// The notify filer's channels; also where outcomes are announced, with
    /// any filer.
    pub notify: Option<NotifyChannels>,
    /// `[worker.browser]`, when written: the browser filer's settings, also
    /// what `collabd browser login|sync` use.
    pub browser: Option<super::browser::BrowserSettings>,
    pub concurrency: usize,
    pub max_attempts: u32,
    pub lease: Duration,
    pub poll: Duration,
    pub rate_per_minute: Option<u32>,
    pub remind_after_days: u32,
    pub expire_after_days: u32,
    /// Which new requests wait for an operator's approval.
    pub review: Review,
}

/// Every `[worker]` default, written once: what the file leaves out comes
/// from here, and so do the worker's own defaults (`Worker::new`,
/// `RetryPolicy::default`), the demo's and the tests'.
impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            filer: None,
            notify: None,
            browser: None,
            concurrency: 4,
            max_attempts: 8,
            // A worker that dies mid-filing loses its claim after this.
            lease: Duration::from_secs(300),
            poll: Duration::from_secs(5),
            rate_per_minute: None,
            remind_after_days: 3,
            // Shopify drops a pending request after seven days.
            expire_after_days: 7,
            review: Review::None,
        }
    }
}

pub(super) fn worker_settings(
    w: RawWorker,
    database_path: &std::path::Path,
    insecure: &mut Vec<String>,
) -> Result<WorkerSettings, ConfigError> {
    let browser = w
        .browser
        .map(|b| super::browser::browser_settings(b, database_path))
        .transpose()?;
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
                        "smtp_password_file",
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
            let tls_pin = super::checks::tls_pin(
                "worker.notify.smtp_tls_pin",
                n.smtp_tls_pin.as_deref(),
                n.smtp_ca_file.is_some(),
                url.as_ref().is_some_and(|u| {
                    u.scheme() == "smtps" || u.query_pairs().any(|(k, _)| k == "tls")
                }),
            )?;
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
                    tls_pin,
                }),
                email_from: n.email_from,
                email_to: n.email_to,
            })
        }
    };
    // Without a choice, notify when there are channels; else none, which
    // `collabd run` refuses: the log filer tells nobody, so it is only
    // ever chosen by name.
    let name = w.filer.as_deref().or(notify.is_some().then_some("notify"));
    let filer = name.map(|name| -> Result<FilerSettings, ConfigError> { Ok(match name {
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
        "browser" => {
            if browser.is_none() {
                return Err(invalid(
                    "worker.browser",
                    "filer = \"browser\" needs a [worker.browser] table with `org_id` (and an operator signed in once with `collabd browser login`)",
                ));
            }
            FilerSettings::Browser
        }
        other => {
            return Err(invalid(
                "worker.filer",
                &format!("`{other}` is not one of: log, notify, webhook, command, browser"),
            ));
        }
    })}).transpose()?;
    let d = WorkerSettings::default();
    let concurrency = w.concurrency.unwrap_or(d.concurrency);
    if !(1..=64).contains(&concurrency) {
        return Err(invalid("worker.concurrency", "must be between 1 and 64"));
    }
    let max_attempts = w.max_attempts.unwrap_or(d.max_attempts);
    if max_attempts == 0 {
        return Err(invalid("worker.max_attempts", "must be at least 1"));
    }
    let (remind, expire) = (
        w.remind_after_days.unwrap_or(d.remind_after_days),
        w.expire_after_days.unwrap_or(d.expire_after_days),
    );
    if expire == 0 || remind == 0 || remind >= expire {
        return Err(invalid(
            "worker.remind_after_days",
            "reminders come after at least a day and before expire_after_days",
        ));
    }
    let review = match w.review.as_deref() {
        None => d.review,
        Some(name) => Review::parse(name).ok_or_else(|| {
            invalid(
                "worker.review",
                &format!(
                    "`{name}` is not one of: {} (\"new-stores\" asks for stores never requested before, \"all\" for every request)",
                    Review::ALL.map(Review::as_str).join(", ")
                ),
            )
        })?,
    };
    Ok(WorkerSettings {
        filer,
        notify,
        browser,
        concurrency,
        max_attempts,
        lease: secs(w.lease_seconds, d.lease.as_secs(), "worker.lease_seconds")?,
        poll: secs(w.poll_seconds, d.poll.as_secs(), "worker.poll_seconds")?,
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
        review,
    })
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
