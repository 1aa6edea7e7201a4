//! How the worker hands a request on: the [`Filer`] trait and its backends.
//! Every backend receives the request id as an idempotency key, so a retry
//! after a crash cannot become a second request downstream. Knows nothing of
//! the queue's SQL.

use std::fmt;
use std::future::Future;

use crate::model::{RequestId, RequestState, mask_code};
use crate::queue::Failure;
use crate::store::Request;

/// The Partner Dashboard form for a managed-store (collaborator) request;
/// `current` stands for the logged-in organisation.
pub const PARTNER_DASHBOARD_URL: &str =
    "https://partners.shopify.com/current/stores/new?store_type=managed_store";

/// What a filer is given: one request, as a person filing it would need it.
#[derive(Clone)]
pub struct FilingRequest {
    /// Also the idempotency key: the same request filed twice has the same id.
    pub id: RequestId,
    /// Which attempt this is (1-based).
    pub attempt: i64,
    pub store_domain: String,
    pub collaborator_code: String,
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
            .field("store_domain", &self.store_domain)
            .field("collaborator_code", &mask_code(&self.collaborator_code))
            .field("client_name", &self.client_name)
            .finish_non_exhaustive()
    }
}

/// A successful hand-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filed {
    /// `requested` when the request reached Shopify, `notified` when a
    /// person was told to file it.
    pub state: RequestState,
    /// What happened, for the request's timeline (no full code).
    pub detail: String,
}

/// A backend that files requests.
pub trait Filer: Send + Sync {
    /// The name shown in events and logs.
    fn name(&self) -> &'static str;

    /// Files one request. Errors say whether a retry can help; their message
    /// goes on the timeline and must not contain the full code.
    fn file(&self, request: &FilingRequest) -> impl Future<Output = Result<Filed, Failure>> + Send;
}

/// Records what would be filed and files nothing: for the demo and dry runs.
/// The request becomes `notified` — the log is the notification.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogFiler;

impl Filer for LogFiler {
    fn name(&self) -> &'static str {
        "log"
    }

    async fn file(&self, r: &FilingRequest) -> Result<Filed, Failure> {
        let code = mask_code(&r.collaborator_code);
        tracing::info!(
            request = %r.id,
            store = %r.store_domain,
            client = r.client_name.as_deref().unwrap_or("-"),
            code = %code,
            "log filer: would request collaborator access"
        );
        Ok(Filed {
            state: RequestState::Notified,
            detail: format!(
                "log filer (dry run): request access to {} with code {code} at {PARTNER_DASHBOARD_URL}, then `collabd mark {} requested`",
                r.store_domain, r.id
            ),
        })
    }
}
