//! The `log` filer: records what would be filed and files nothing. For the
//! demo and dry runs, and only when `filer = "log"` is chosen.

use super::filing::{Filed, Filer, FilingRequest};
use crate::model::{PARTNER_DASHBOARD_URL, RequestState};
use crate::queue::Failure;
use crate::store::browser::BrowserLedger;

/// Records what would be filed and files nothing: for the demo and dry runs.
/// The request becomes `logged`, which says that nobody was told: an
/// operator who files it by hand marks it `requested`, or Shopify's reply
/// moves it.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogFiler;

impl Filer for LogFiler {
    fn name(&self) -> &'static str {
        "log"
    }

    async fn file(&self, r: &FilingRequest, _: &impl BrowserLedger) -> Result<Filed, Failure> {
        let code = r.collaborator_code.masked();
        // The store and the client's name are the client's words, and may
        // quote the code: masked in the log as the code is.
        let hide = crate::redact::Redactor::one(r.collaborator_code.expose());
        tracing::info!(
            request = %r.id,
            store = %hide.apply(r.store_domain.as_str()),
            client = %hide.apply(r.client_name.as_deref().unwrap_or("-")),
            code = %code,
            "log filer: would request collaborator access"
        );
        Ok(Filed {
            state: RequestState::Logged,
            detail: format!(
                "log filer (dry run, nobody was told): request access to {} with code {code} at {PARTNER_DASHBOARD_URL}, then `collabd mark {} requested`",
                r.store_domain, r.id
            ),
        })
    }
}
