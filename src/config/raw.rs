//! The file as written: the serde structs TOML is read into, one per table.
//! Every field is optional or defaulted here; defaults and rules are
//! applied when these become settings.

use std::path::PathBuf;

use serde::Deserialize;

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
    /// `[imap]` (one account) or `[[imap]]` (several, each named).
    pub imap: Option<RawImaps>,
    #[serde(default)]
    pub log: RawLog,
    pub http: Option<RawHttp>,
    #[serde(default)]
    pub leadsie: RawLeadsie,
}

/// `[leadsie]`: Leadsie's webhook beside the mailbox.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLeadsie {
    /// Serve `POST /leadsie/{token}` on the `[http]` listener.
    pub webhook: Option<bool>,
    /// The token inline; prefer token_file, $COLLABD_LEADSIE_WEBHOOK_TOKEN
    /// or the systemd credential `leadsie-webhook-token`.
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
    /// Deliveries one client address may make per minute (and in a burst).
    pub rate_limit_per_minute: Option<u32>,
}

/// `[log]`: how much the daemon says. `RUST_LOG` overrides it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    /// error, warn, info, debug or trace, or a tracing filter such as
    /// "info,collabd::imap=debug".
    pub level: Option<String>,
}

/// `[http]`: the health and metrics endpoint and the status page.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    /// Address and port, e.g. "127.0.0.1:9464".
    pub listen: String,
    /// /healthz and /metrics have no authentication, so a non-loopback
    /// `listen` without status-page users is refused unless this says the
    /// operator meant it (the status page is then not served).
    pub allow_remote: Option<bool>,
    /// A client must send a request's headers within this many seconds of
    /// connecting (or of its previous request), else it is disconnected.
    pub header_timeout_seconds: Option<u64>,
    /// The status page's users, one `name:$argon2id$…` line each (made by
    /// `collabd http-user NAME`); else the systemd credential `http-users`.
    pub users_file: Option<PathBuf>,
    /// Every page needs sign-in, even on a loopback listener (a listener
    /// other hosts can reach always needs it).
    pub require_sign_in: Option<bool>,
    /// Serve HTTPS directly with this PEM certificate chain and key,
    /// instead of behind a reverse proxy.
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    /// Names the listener answers to besides loopback names and its own
    /// address (the public name a reverse proxy passes on as `Host`);
    /// any other name is answered 421, which stops DNS rebinding.
    pub hostnames: Option<Vec<String>>,
    /// Reverse proxies (addresses or CIDR networks) whose
    /// `X-Forwarded-For` names the client.
    pub trusted_proxies: Option<Vec<String>>,
}

/// The IMAP accounts as written: one `[imap]` table, or `[[imap]]` tables.
#[derive(Debug)]
pub enum RawImaps {
    One(Box<RawImap>),
    Many(Vec<RawImap>),
}

impl RawImaps {
    /// Every account, in the order written.
    pub fn accounts(&self) -> &[RawImap] {
        match self {
            RawImaps::One(one) => std::slice::from_ref(&**one),
            RawImaps::Many(many) => many,
        }
    }
}

/// A table becomes one account, an array of tables several; each is read
/// with `RawImap`'s own rules, so its errors (an unknown key, a wrong type)
/// are the same either way.
impl<'de> Deserialize<'de> for RawImaps {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Accounts;
        impl<'de> serde::de::Visitor<'de> for Accounts {
            type Value = RawImaps;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an [imap] table, or [[imap]] tables (one per account)")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, a: A) -> Result<RawImaps, A::Error> {
                RawImap::deserialize(serde::de::value::MapAccessDeserializer::new(a))
                    .map(|one| RawImaps::One(Box::new(one)))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, a: A) -> Result<RawImaps, A::Error> {
                Vec::<RawImap>::deserialize(serde::de::value::SeqAccessDeserializer::new(a))
                    .map(RawImaps::Many)
            }
        }
        d.deserialize_any(Accounts)
    }
}

/// `[imap]`, or one `[[imap]]` account: a mailbox the Leadsie emails are
/// forwarded to.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImap {
    /// The account's name: on its messages, in `status`, on the status
    /// page and in metrics; in `[[imap]]` it also names the account's
    /// secrets (`imap-password-NAME`). Required there; `default` for a
    /// single `[imap]` table.
    pub name: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    /// tls (implicit TLS, the default), starttls, or plain (loopback only).
    pub security: Option<String>,
    /// PEM file of the CA (or self-signed certificate) to trust instead of
    /// the public roots.
    pub ca_file: Option<PathBuf>,
    /// Trust exactly this certificate (sha256:…, of the certificate or its
    /// key), as for a self-signed one; instead of ca_file.
    pub tls_pin: Option<String>,
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
    /// log, notify, webhook, command or browser.
    pub filer: Option<String>,
    pub concurrency: Option<usize>,
    pub max_attempts: Option<u32>,
    pub lease_seconds: Option<u64>,
    pub poll_seconds: Option<u64>,
    /// At most this many filings a minute (default: no limit).
    pub rate_per_minute: Option<u32>,
    pub remind_after_days: Option<u32>,
    pub expire_after_days: Option<u32>,
    /// none, new-stores or all: which new requests wait for an operator's
    /// approval before they are filed.
    pub review: Option<String>,
    pub command: Option<RawCommand>,
    pub webhook: Option<RawWebhook>,
    pub notify: Option<RawNotify>,
    pub browser: Option<RawBrowser>,
}

/// `[worker.browser]`: the opt-in browser filer (see docs/browser.md).
/// Every URL, selector and phrase has a default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBrowser {
    /// The organisation's id in the dashboard's URLs.
    pub org_id: Option<String>,
    /// dev (the default) or partners.
    pub dashboard: Option<String>,
    pub chromium: Option<PathBuf>,
    pub chromedriver: Option<PathBuf>,
    /// Where the profile and evidence live (default: browser/ beside the database).
    pub state_dir: Option<PathBuf>,
    pub form_url: Option<String>,
    pub list_url: Option<String>,
    pub form_selector: Option<String>,
    pub store_selector: Option<String>,
    pub code_selector: Option<String>,
    pub permissions_selector: Option<String>,
    pub message_selector: Option<String>,
    pub submit_selector: Option<String>,
    pub list_row_selector: Option<String>,
    pub list_status_selector: Option<String>,
    pub requested_patterns: Option<Vec<String>>,
    pub wrong_code_patterns: Option<Vec<String>>,
    pub store_not_found_patterns: Option<Vec<String>>,
    pub already_patterns: Option<Vec<String>>,
    pub challenge_patterns: Option<Vec<String>>,
    pub login_url_patterns: Option<Vec<String>>,
    pub login_text_patterns: Option<Vec<String>>,
    pub list_pending_patterns: Option<Vec<String>>,
    pub list_granted_patterns: Option<Vec<String>>,
    pub list_declined_patterns: Option<Vec<String>>,
    pub list_expired_patterns: Option<Vec<String>>,
    pub list_removed_patterns: Option<Vec<String>>,
    /// Permission boxes to tick, by value or label; empty ticks them all.
    #[serde(default)]
    pub permissions: Vec<String>,
    pub message: Option<String>,
    /// Fill the form and keep a screenshot, but never submit.
    #[serde(default)]
    pub dry_run: bool,
    pub budget_seconds: Option<u64>,
    /// Submissions an hour at most (default 6; 0 turns the limit off).
    pub per_hour: Option<u32>,
    /// Minutes between reads of the Collaborations list (default 60; 0 never).
    pub sync_minutes: Option<u64>,
    /// Minutes without work after which Chromium is closed (default 1; 0 never).
    pub idle_close_minutes: Option<u64>,
    pub headless: Option<bool>,
    #[serde(default)]
    pub args: Vec<String>,
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
    /// Trust exactly this relay certificate (sha256:…); instead of
    /// smtp_ca_file.
    pub smtp_tls_pin: Option<String>,
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
    /// A PostgreSQL server instead: `postgres://user@host:5432/database`.
    pub url: Option<String>,
    /// The PostgreSQL password; else $COLLABD_DATABASE_PASSWORD, else the
    /// systemd credential `database-password`.
    pub password_file: Option<PathBuf>,
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
