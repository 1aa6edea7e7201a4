//! What one Leadsie email yields: its grants, and why there are none when
//! it looked like it should have one.

use serde::Serialize;

use crate::model::{CollaboratorCode, StoreDomain};

/// Stores one email may name before the rest is not read: a bound on the
/// work a hostile email can cause (the grants it may queue are fewer still).
pub const MAX_STORES: usize = 50;

/// One Shopify store a client shared, with its own collaborator code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub store: StoreDomain,
    pub code: CollaboratorCode,
    pub client: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_url: Option<String>,
}

impl Grant {
    /// A store and its code, before the client details are read.
    pub(super) fn of(store: StoreDomain, code: CollaboratorCode) -> Grant {
        Grant {
            store,
            code,
            client: None,
            client_email: None,
            request_name: None,
            request_url: None,
        }
    }
}

/// What one Leadsie email yielded.
#[derive(Debug, Default)]
pub struct Extraction {
    pub grants: Vec<Grant>,
    /// Why no grant came out, when the email looked like it should have one.
    pub problem: Option<String>,
    /// The email says a Shopify connection failed.
    pub failed_connection: bool,
    /// The email mentions Shopify at all.
    pub mentions_shopify: bool,
    /// Labelled store lines found, paired or not.
    pub stores_seen: usize,
    /// A store label whose value is no store (a name, a custom domain, a
    /// placeholder): then no store named elsewhere may stand in for it.
    pub unusable_store: bool,
    /// A collaborator code was read, paired or not.
    pub code_seen: bool,
}
