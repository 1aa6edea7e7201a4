//! `[imap]`: the watched mailbox — server, TLS, login (password or
//! XOAUTH2), folders and what happens to a message once stored — validated.

use std::path::PathBuf;
use std::time::Duration;

use super::checks::{check_https, is_loopback};
use super::error::{ConfigError, invalid};
use super::raw::{RawImap, RawImaps};
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
    /// Where these settings are written: `imap.oauth2`, `imap[NAME].oauth2`.
    pub key: String,
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

/// One validated IMAP account: `[imap]`, or one of the `[[imap]]` tables.
#[derive(Debug, Clone)]
pub struct ImapSettings {
    /// The account's name (`default` for a single `[imap]` table): on each
    /// of its messages (`source_ref`), in `status`, on the status page and
    /// in metrics labels.
    pub name: String,
    /// Where its settings are written, for messages: `imap` for a single
    /// table, `imap[NAME]` for an `[[imap]]` account (`imap[NAME].folders`).
    pub key: String,
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

/// The name a single `[imap]` table's account goes by.
pub const DEFAULT_ACCOUNT: &str = "default";

/// Where one account is written: how its settings are named in messages,
/// and the names its secrets are looked up under.
pub(super) struct Place {
    /// `imap` for a single table, `imap[NAME]` for an `[[imap]]` account.
    key: String,
    /// `-NAME` for an `[[imap]]` account's credential names (and `_NAME`
    /// upper-cased for its environment variables); empty for `[imap]`.
    suffix: Option<String>,
}

impl Place {
    pub(super) fn single() -> Place {
        Place {
            key: "imap".to_owned(),
            suffix: None,
        }
    }

    pub(super) fn account(name: &str) -> Place {
        Place {
            key: format!("imap[{name}]"),
            suffix: Some(name.to_owned()),
        }
    }

    /// The `i`th of the `[[imap]]` tables, before it has a valid name.
    fn numbered(i: usize) -> Place {
        Place {
            key: format!("imap[{i}]"),
            suffix: None,
        }
    }

    /// Where the `i`th account of `raw` is written, as the file has it
    /// (before its name is checked).
    pub(super) fn of(raw: &RawImaps, i: usize) -> Place {
        match raw {
            RawImaps::One(_) => Place::single(),
            RawImaps::Many(many) => match many[i].name.as_deref() {
                Some(name) => Place::account(name.trim()),
                None => Place::numbered(i),
            },
        }
    }

    /// `key` within this account, e.g. `imap[acme].host`.
    pub(super) fn at(&self, key: &str) -> String {
        format!("{}.{key}", self.key)
    }

    /// The environment variable for a secret: `COLLABD_IMAP_PASSWORD`, or
    /// `COLLABD_IMAP_PASSWORD_ACME` for the account `acme`.
    fn env(&self, base: &str) -> String {
        match &self.suffix {
            None => base.to_owned(),
            Some(n) => format!("{base}_{}", super::env::env_form(n)),
        }
    }

    /// The systemd credential for a secret: `imap-password`, or
    /// `imap-password-acme` for the account `acme`.
    fn credential(&self, base: &str) -> String {
        match &self.suffix {
            None => base.to_owned(),
            Some(n) => format!("{base}-{n}"),
        }
    }
}

/// Checks an account's name: 1 to 32 of `a-z`, `0-9` and `-`, starting
/// with a letter or digit, so that it reads the same in a credential's
/// name, an environment variable and a metrics label.
pub(super) fn account_name(key: &str, name: &str) -> Result<String, ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(name.to_owned())
    } else {
        Err(invalid(
            key,
            &format!(
                "`{}` is not an account name: use 1 to 32 of a-z, 0-9 and -, starting with a letter or digit (it names the account's credentials, e.g. imap-password-NAME)",
                crate::render::line(name)
            ),
        ))
    }
}

/// Every account: a single `[imap]` table (its name optional, its secrets
/// under the plain names), or `[[imap]]` tables, each named, no two with
/// the same name or the same login on the same server.
pub(super) fn accounts(
    raw: RawImaps,
    insecure: &mut Vec<String>,
) -> Result<Vec<ImapSettings>, ConfigError> {
    let many = match raw {
        RawImaps::One(mut m) => {
            let name = match m.name.take() {
                Some(n) => account_name("imap.name", n.trim())?,
                None => DEFAULT_ACCOUNT.to_owned(),
            };
            return Ok(vec![imap_settings(*m, name, &Place::single(), insecure)?]);
        }
        RawImaps::Many(many) => many,
    };
    if many.is_empty() {
        return Err(invalid("imap", "[[imap]] lists no account"));
    }
    let mut accounts: Vec<ImapSettings> = Vec::with_capacity(many.len());
    for (i, mut m) in many.into_iter().enumerate() {
        let key = Place::numbered(i).at("name");
        let Some(name) = m.name.take() else {
            return Err(invalid(
                &key,
                "each [[imap]] account needs a name (it names the account's messages and its credentials, e.g. imap-password-NAME)",
            ));
        };
        let name = account_name(&key, name.trim())?;
        if accounts.iter().any(|a| a.name == name) {
            return Err(invalid(
                &key,
                &format!("two [[imap]] accounts are named `{name}`"),
            ));
        }
        let place = Place::account(&name);
        let account = imap_settings(m, name, &place, insecure)?;
        if let Some(same) = accounts
            .iter()
            .find(|a| a.mailbox_owner() == account.mailbox_owner())
        {
            return Err(invalid(
                &place.at("user"),
                &format!(
                    "the accounts `{}` and `{}` both log in as `{}`: collabd keeps each folder's checkpoint by login and folder, so one login is watched by one account; list all its folders there",
                    same.name,
                    account.name,
                    account.mailbox_owner()
                ),
            ));
        }
        accounts.push(account);
    }
    Ok(accounts)
}

impl ImapSettings {
    /// The account as a message names it: `[imap]`, or the `[[imap]]`
    /// account `clients`.
    pub fn described(&self) -> String {
        if self.key == "imap" {
            "[imap]".to_owned()
        } else {
            format!("the [[imap]] account `{}`", self.name)
        }
    }

    /// The login and server, as the watcher names the account's folders in
    /// `mailbox_state` (`ops@agency.com/INBOX`): the login alone when it is
    /// an address, else `user@host`.
    pub fn mailbox_owner(&self) -> String {
        if self.user.contains('@') {
            self.user.clone()
        } else {
            format!("{}@{}", self.user, self.host)
        }
    }
}

pub(super) fn imap_settings(
    m: RawImap,
    name: String,
    place: &Place,
    insecure: &mut Vec<String>,
) -> Result<ImapSettings, ConfigError> {
    let at = |key: &str| place.at(key);
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
            &at("host"),
            &format!(
                "must be a host name or address, without scheme or port (set {})",
                at("port")
            ),
        ));
    }
    let security = match m.security.as_deref().unwrap_or("tls") {
        "tls" => Security::Tls,
        "starttls" => Security::StartTls,
        "plain" => Security::Plain,
        other => {
            return Err(invalid(
                &at("security"),
                &format!("`{other}` is not one of: tls, starttls, plain"),
            ));
        }
    };
    if security == Security::Plain && !is_loopback(&host) {
        return Err(invalid(
            &at("security"),
            "plain (unencrypted) IMAP is allowed only to a loopback host such as 127.0.0.1; use tls or starttls",
        ));
    }
    let port = m.port.unwrap_or(match security {
        Security::Tls => 993,
        _ => 143,
    });
    if port == 0 {
        return Err(invalid(&at("port"), "must be between 1 and 65535"));
    }
    if let Some(ca) = &m.ca_file
        && let Err(e) = std::fs::metadata(ca)
    {
        return Err(invalid(
            &at("ca_file"),
            &format!(
                "cannot read {}: {}",
                ca.display(),
                crate::fs_error::reason(&e)
            ),
        ));
    }
    let tls_pin = super::checks::tls_pin(
        &at("tls_pin"),
        m.tls_pin.as_deref(),
        m.ca_file.is_some(),
        security != Security::Plain,
    )?;
    if m.user.trim().is_empty() {
        return Err(invalid(&at("user"), "must name the mailbox's login"));
    }
    let auth = match m.auth.as_deref().unwrap_or("login") {
        "login" | "plain" => {
            if m.oauth2.is_some() {
                return Err(invalid(
                    &at("oauth2"),
                    "is used only with auth = \"xoauth2\"",
                ));
            }
            let secret = secret::inline_or_load(
                m.password,
                m.password_file.as_deref(),
                ("password", "password_file"),
                &place.env("COLLABD_IMAP_PASSWORD"),
                &place.credential("imap-password"),
            )
            .map_err(|e| invalid(&at("password_file"), &e))?;
            ImapAuth::Password(secret)
        }
        "xoauth2" => {
            let o = m.oauth2.ok_or_else(|| {
                invalid(
                    &at("oauth2"),
                    "auth = \"xoauth2\" needs an [imap.oauth2] table with token_url and client_id",
                )
            })?;
            let token_url: reqwest::Url = o
                .token_url
                .parse()
                .map_err(|e| invalid(&at("oauth2.token_url"), &format!("not a URL: {e}")))?;
            if !matches!(token_url.scheme(), "https" | "http") {
                return Err(invalid(&at("oauth2.token_url"), "must be an https URL"));
            }
            check_https(
                &at("oauth2.token_url"),
                &token_url,
                (&at("oauth2"), o.insecure),
                insecure,
            )?;
            let client_secret = match secret::load(
                o.client_secret_file.as_deref(),
                "client_secret_file",
                &place.env("COLLABD_OAUTH_CLIENT_SECRET"),
                &place.credential("oauth-client-secret"),
            ) {
                Ok(s) => Some(s),
                Err(_) if o.client_secret_file.is_none() => None,
                Err(e) => return Err(invalid(&at("oauth2.client_secret_file"), &e)),
            };
            let refresh_token = secret::load(
                o.refresh_token_file.as_deref(),
                "refresh_token_file",
                &place.env("COLLABD_OAUTH_REFRESH_TOKEN"),
                &place.credential("oauth-refresh-token"),
            )
            .map_err(|e| invalid(&at("oauth2.refresh_token_file"), &e))?;
            ImapAuth::XOAuth2(OAuth2Settings {
                key: at("oauth2"),
                token_url,
                client_id: o.client_id,
                client_secret,
                refresh_token,
                scope: o.scope,
            })
        }
        other => {
            return Err(invalid(
                &at("auth"),
                &format!("`{other}` is not one of: login, xoauth2"),
            ));
        }
    };
    let folders = m.folders.unwrap_or_else(|| vec!["INBOX".to_owned()]);
    if folders.is_empty() || folders.iter().any(|f| f.trim().is_empty()) {
        return Err(invalid(
            &at("folders"),
            "must list at least one folder, none empty",
        ));
    }
    let mut unique = folders.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != folders.len() {
        return Err(invalid(&at("folders"), "names a folder twice"));
    }
    let since = m
        .since
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
                invalid(
                    &at("since"),
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
                    &at("move_to"),
                    "must not be one of the watched folders",
                ));
            }
            AfterProcessing::MoveTo(to)
        }
        ("move", _) => {
            return Err(invalid(
                &at("move_to"),
                "after_processing = \"move\" needs move_to, the folder to move to",
            ));
        }
        ("none" | "seen", Some(_)) => {
            return Err(invalid(
                &at("move_to"),
                "is used only with after_processing = \"move\"",
            ));
        }
        (other, _) => {
            return Err(invalid(
                &at("after_processing"),
                &format!("`{other}` is not one of: none, seen, move"),
            ));
        }
    };
    let max_message_bytes = m.max_message_bytes.unwrap_or(DEFAULT_MAX_MESSAGE_BYTES);
    if max_message_bytes < 64 * 1024 {
        return Err(invalid(
            &at("max_message_bytes"),
            "must be at least 65536 (64 KiB)",
        ));
    }
    Ok(ImapSettings {
        name,
        key: place.key.clone(),
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
            &at("idle_renew_seconds"),
            MAX_IDLE_RENEW_SECONDS,
        )?,
        poll: secs(m.poll_seconds, 60, &at("poll_seconds"), MAX_POLL_SECONDS)?,
        command_timeout: secs(
            m.command_timeout_seconds,
            60,
            &at("command_timeout_seconds"),
            600,
        )?,
    })
}
