//! What every filer shares: the [`Filer`] trait, the request as a filer
//! sees it ([`FilingRequest`]), a successful hand-off ([`Filed`]), and how
//! a filer's output is kept on the timeline ([`captured`]).

use std::fmt;
use std::future::Future;

use crate::model::{CollaboratorCode, PARTNER_DASHBOARD_URL, RequestId, RequestState, StoreDomain};
use crate::queue::Failure;
use crate::store::Request;
use crate::store::browser::BrowserLedger;

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
    /// goes on the timeline and must not contain the full code. `ledger` is
    /// where the worker keeps a filer's own records, handed over for this
    /// filing: the browser filer's submissions and dashboard session (the
    /// other filers keep none).
    fn file(
        &self,
        request: &FilingRequest,
        ledger: &impl BrowserLedger,
    ) -> impl Future<Output = Result<Filed, Failure>> + Send;

    /// Whether the worker must claim one request at a time for this filer
    /// (whatever `[worker] concurrency` says), because it files one at a
    /// time anyway.
    fn one_at_a_time(&self) -> bool {
        false
    }

    /// Whether, of several nodes sharing one PostgreSQL database, only the
    /// one holding this filer's lock may file through it, because what it
    /// files with belongs to one machine (the browser's signed-in profile).
    fn on_one_node(&self) -> bool {
        false
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
