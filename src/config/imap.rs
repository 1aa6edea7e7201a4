//! `[imap]`: the watched mailbox — server, TLS, login (password or
//! XOAUTH2), folders and what happens to a message once stored — validated.

use std::path::PathBuf;
use std::time::Duration;

use super::checks::{check_https, is_loopback};
use super::error::{ConfigError, invalid};
use super::raw::RawImap;
use crate::secret::{self, Secret};

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
    Password(Secret),
    XOAuth2(OAuth2Settings),
}

#[derive(Debug, Clone)]
pub struct OAuth2Settings {
    pub token_url: reqwest::Url,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub refresh_token: Secret,
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
    pub tls_pin: Option<crate::tls::Pin>,
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

/// The longest `imap.poll_seconds` allowed: a live watcher touches its
/// mailbox at least this often (IDLE is renewed sooner), which is how
/// `collabd status` tells a stale watcher.
pub const MAX_POLL_SECONDS: u64 = 1800;

/// Gmail drops clients idle for about 10 minutes: IDLE is renewed within 9.
pub const MAX_IDLE_RENEW_SECONDS: u64 = 540;

pub const DEFAULT_MAX_MESSAGE_BYTES: u64 = 25 * 1024 * 1024;

pub(super) fn imap_settings(
    m: RawImap,
    insecure: &mut Vec<String>,
) -> Result<ImapSettings, ConfigError> {
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
            &format!(
                "cannot read {}: {}",
                ca.display(),
                crate::fs_error::reason(&e)
            ),
        ));
    }
    let tls_pin = super::checks::tls_pin(
        "imap.tls_pin",
        m.tls_pin.as_deref(),
        m.ca_file.is_some(),
        security != Security::Plain,
    )?;
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
                "client_secret_file",
                "COLLABD_OAUTH_CLIENT_SECRET",
                "oauth-client-secret",
            ) {
                Ok(s) => Some(s),
                Err(_) if o.client_secret_file.is_none() => None,
                Err(e) => return Err(invalid("imap.oauth2.client_secret_file", &e)),
            };
            let refresh_token = secret::load(
                o.refresh_token_file.as_deref(),
                "refresh_token_file",
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
        tls_pin,
        user: m.user.trim().to_owned(),
        auth,
        folders,
        since,
        after_processing,
        max_message_bytes,
        idle_renew: secs(
            m.idle_renew_seconds,
            MAX_IDLE_RENEW_SECONDS,
            "imap.idle_renew_seconds",
            MAX_IDLE_RENEW_SECONDS,
        )?,
        poll: secs(m.poll_seconds, 60, "imap.poll_seconds", MAX_POLL_SECONDS)?,
        command_timeout: secs(
            m.command_timeout_seconds,
            60,
            "imap.command_timeout_seconds",
            600,
        )?,
    })
}
