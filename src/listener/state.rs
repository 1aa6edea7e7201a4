//! [`ListenerState`]: everything the `[http]` listener serves from — the
//! database, the watcher's folders, the status page, the webhook.

use std::sync::Arc;

use crate::imap::Watcher;
use crate::store::Db;

/// The listener's whole state, shared by every connection.
#[derive(Clone)]
pub struct ListenerState {
    pub db: Db,
    pub watcher: Option<Arc<Watcher>>,
    /// The status page; `None` when it is not served
    /// ([`crate::config::PageAccess::NotServed`]).
    pub page: Option<Arc<crate::status_page::Web>>,
    /// Leadsie's webhook, when `[leadsie] webhook = true`.
    pub leadsie: Option<Arc<crate::leadsie::endpoint::Webhook>>,
    /// The filer is the browser: `/healthz` fails while its dashboard
    /// session needs a login.
    pub browser_filer: bool,
}
