//! How the worker hands a request on: the [`Filer`] trait, the request as a
//! filer sees it, and [`from_settings`], which builds the filer `[worker]`
//! chose. Every backend receives the request id as an idempotency key, so a
//! retry after a crash cannot become a second request downstream. Knows
//! nothing of the queue's SQL.
//!
//! - [`log`] — records what would be filed (a dry run).
//! - [`command`] — the operator's program, the request as JSON on stdin.
//! - [`webhook`] — a signed POST to the operator's endpoint.
//! - [`notify`] — tells people to file it, by Slack and/or email.
//! - [`browser`] — files it in the dashboard itself (opt-in).

use std::fmt;
use std::future::Future;
use std::time::Duration;

use anyhow::Context;

use crate::config::{FilerSettings, WorkerSettings};
use crate::model::{CollaboratorCode, PARTNER_DASHBOARD_URL, RequestId, RequestState, StoreDomain};
use crate::queue::Failure;
use crate::store::Request;

pub mod browser;
pub mod command;
pub mod log;
pub mod notify;
pub mod webhook;

pub use browser::BrowserFiler;
pub use command::CommandFiler;
pub use log::LogFiler;
pub use notify::{EmailChannel, NotifyFiler, SmtpTransport, smtp_transport};
pub use webhook::{WebhookFiler, signature};

/// What a filer is given: one request, as a person filing it would need it.
#[derive(Clone)]
pub struct FilingRequest {
    /// Also the idempotency key: the same request filed twice has the same id.
    pub id: RequestId,
    /// Which attempt this is (1-based).
    pub attempt: i64,
    pub store_domain: StoreDomain,
    pub collaborator_code: CollaboratorCode,
    pub client_name: Option<String>,
    pub client_email: Option<String>,
    pub leadsie_request_name: Option<String>,
    pub leadsie_request_url: Option<String>,
}

impl From<&Request> for FilingRequest {
    fn from(r: &Request) -> Self {
        FilingRequest {
            id: r.id,
            attempt: r.attempts,
            store_domain: r.store_domain.clone(),
            collaborator_code: r.collaborator_code.clone(),
            client_name: r.client_name.clone(),
            client_email: r.client_email.clone(),
            leadsie_request_name: r.leadsie_request_name.clone(),
            leadsie_request_url: r.leadsie_request_url.clone(),
        }
    }
}

/// `{:?}` never shows the whole code, so a debug log cannot leak it.
impl fmt::Debug for FilingRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilingRequest")
            .field("id", &self.id)
            .field("attempt", &self.attempt)
            .field("store_domain", &self.store_domain.as_str())
            .field("collaborator_code", &self.collaborator_code.masked())
            .field("client_name", &self.client_name)
            .finish_non_exhaustive()
    }
}

/// A successful hand-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filed {
    /// `requested` when the request reached Shopify, `notified` when a
    /// person was told to file it, `logged` when it was only logged (a dry
    /// run: nobody was told).
    pub state: RequestState,
    /// What happened, for the request's timeline (no full code).
    pub detail: String,
}

impl FilingRequest {
    /// The documented JSON body the `command` (and later `webhook`) filer
    /// sends. It carries the full code: the receiver must file it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "idempotency_key": self.id.idempotency_key(),
            "attempt": self.attempt,
            "store": self.store_domain,
            "collaborator_code": self.collaborator_code,
            "client": { "name": self.client_name, "email": self.client_email },
            "leadsie": { "request_name": self.leadsie_request_name, "request_url": self.leadsie_request_url },
            "links": { "partner_dashboard": PARTNER_DASHBOARD_URL },
        })
    }
}

/// A backend that files requests.
pub trait Filer: Send + Sync {
    /// The name shown in events and logs.
    fn name(&self) -> &'static str;

    /// Files one request. Errors say whether a retry can help; their message
    /// goes on the timeline and must not contain the full code.
    fn file(&self, request: &FilingRequest) -> impl Future<Output = Result<Filed, Failure>> + Send;

    /// Whether the worker must claim one request at a time for this filer
    /// (whatever `[worker] concurrency` says), because it files one at a
    /// time anyway.
    fn one_at_a_time(&self) -> bool {
        false
    }
}

/// The filer `[worker] filer` chose, built and ready: what `collabd run`
/// files with and what `check-config` tries.
// One per process, built once: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum ConfiguredFiler {
    Log(LogFiler),
    Command(CommandFiler),
    Webhook(WebhookFiler),
    Notify(NotifyFiler),
    Browser(BrowserFiler),
}

/// Builds the filer `w.filer` names. Errors name the setting to fix: with
/// no filer chosen and no `[worker.notify]` to default to, requests would
/// reach nobody, so there is none to build.
pub fn from_settings(w: &WorkerSettings) -> anyhow::Result<ConfiguredFiler> {
    let Some(filer) = &w.filer else {
        anyhow::bail!(
            "config setting worker.filer: no filer is configured, so requests would reach nobody; \
             set [worker.notify] (slack_webhooks, or smtp_url with email_from and email_to) to tell people, \
             filer = \"webhook\" or \"command\" in [worker] to hand requests to a system, \
             or filer = \"log\" in [worker] for a dry run that only logs them (state `logged`)"
        );
    };
    Ok(match filer {
        FilerSettings::Log => ConfiguredFiler::Log(LogFiler),
        FilerSettings::Command {
            program,
            args,
            timeout,
            env,
        } => ConfiguredFiler::Command(CommandFiler {
            program: program.clone(),
            args: args.clone(),
            timeout: *timeout,
            env: env.clone(),
        }),
        FilerSettings::Webhook {
            url,
            secret,
            timeout,
        } => ConfiguredFiler::Webhook(
            WebhookFiler::new(url.clone(), secret.clone(), *timeout)
                .context("cannot set up the webhook filer's HTTP client")?,
        ),
        FilerSettings::Notify => ConfiguredFiler::Notify(
            notify::announcer(w)?.context("filer = \"notify\" needs [worker.notify]")?,
        ),
        FilerSettings::Browser => ConfiguredFiler::Browser(BrowserFiler::new(
            w.browser
                .clone()
                .context("filer = \"browser\" needs [worker.browser]")?,
            notify::announcer(w)?,
        )),
    })
}

impl Filer for ConfiguredFiler {
    fn name(&self) -> &'static str {
        match self {
            ConfiguredFiler::Log(f) => f.name(),
            ConfiguredFiler::Command(f) => f.name(),
            ConfiguredFiler::Webhook(f) => f.name(),
            ConfiguredFiler::Notify(f) => f.name(),
            ConfiguredFiler::Browser(f) => f.name(),
        }
    }

    fn one_at_a_time(&self) -> bool {
        matches!(self, ConfiguredFiler::Browser(_))
    }

    async fn file(&self, r: &FilingRequest) -> Result<Filed, Failure> {
        match self {
            ConfiguredFiler::Log(f) => f.file(r).await,
            ConfiguredFiler::Command(f) => f.file(r).await,
            ConfiguredFiler::Webhook(f) => f.file(r).await,
            ConfiguredFiler::Notify(f) => f.file(r).await,
            ConfiguredFiler::Browser(f) => f.file(r).await,
        }
    }
}

/// The most of a command's output kept on the timeline.
const OUTPUT_LIMIT: usize = 2000;

/// The command's output for the timeline: trimmed, the code masked in any
/// form it is quoted, then capped. Masked before the cut: a cut inside the
/// code (where it falls is the client's to choose, through the length of
/// their name) would otherwise leave its first digits readable.
pub(crate) fn captured(stdout: &[u8], stderr: &[u8], code: &str) -> String {
    let mut text = String::new();
    for (name, bytes) in [("stdout", stdout), ("stderr", stderr)] {
        let s = String::from_utf8_lossy(bytes);
        let s = s.trim();
        if !s.is_empty() {
            text.push_str(&format!("; {name}: {s}"));
        }
    }
    crate::redact::Redactor::one(code).apply_and_cut(&text, OUTPUT_LIMIT)
}

/// An endpoint as messages show it: scheme, host and path, without the
/// query or credentials, which often carry tokens.
pub fn shown_url(url: &reqwest::Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or("?"),
        url.path()
    )
}

/// The HTTP client for every request that carries a secret — a signed
/// webhook body, a Slack webhook (its path is its key, its body the code),
/// an OAuth2 refresh token. It follows no redirect: reqwest would re-send
/// the body and headers to whatever origin a `307` names, and send the old
/// URL (query tokens and all) as `Referer`. A redirect is reported instead,
/// so the operator fixes the URL. It trusts the system's store
/// ([`crate::tls::system_roots`]).
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .use_preconfigured_tls(crate::tls::https_config())
        .timeout(timeout)
        .user_agent(concat!("collabd/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .build()
}

/// Where a redirect answer points, as messages show it: its origin only,
/// since a redirect often keeps the path, and a Slack webhook's path is
/// its key.
pub fn redirect_target(from: &reqwest::Url, response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| from.join(l).ok())
        .map_or_else(
            || "nowhere (no Location)".to_owned(),
            |u| u.origin().ascii_serialization(),
        )
}
