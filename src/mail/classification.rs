//! What a message is and what it says ([`Classification`]), the header
//! facts kept with it, and the DKIM work left for the caller.

use serde::Serialize;

use super::auth;
use super::forward::Route;
use super::grant::Grant;
use super::outcome::Outcome;
use crate::model::MessageKind;

/// What a message is and what it says, ready for the database.
#[derive(Debug, Serialize)]
pub struct Classification {
    pub kind: MessageKind,
    pub grants: Vec<Grant>,
    pub outcome: Option<Outcome>,
    pub reason: Option<String>,
    #[serde(skip)]
    pub meta: MessageMeta,
    /// DKIM work left for the caller (DNS is I/O, this module is pure):
    /// until [`Classifier::settle`] has been given its verdict, a grant or
    /// outcome is not yet believed.
    #[serde(skip)]
    pub dkim: Option<DkimCheck>,
    /// Ordinary mail: neither from Leadsie or Shopify nor about them. Its
    /// raw bytes are not kept (the mailbox has them).
    #[serde(skip)]
    pub unrelated: bool,
}

/// What must verify before a message's grant or outcome counts: its
/// signature (`[trust] require = "dkim"`), and an ARC chain for each
/// reported failure only ARC can explain (whatever `require` says).
#[derive(Debug, Clone)]
pub struct DkimCheck {
    /// The domain a passing signature must align with.
    pub domain: String,
    /// The bytes to verify: the outer message, or the attached original.
    pub message: Vec<u8>,
    /// Whether an ARC chain may vouch: a server-side auto-forward, or
    /// direct mail (an auto-forward that dropped its Resent- or
    /// X-Forwarded- headers), that carries ARC sets.
    pub arc: bool,
    /// `[trust] arc_sealers`: the only sealers whose chains are believed.
    pub arc_sealers: Vec<String>,
    pub route: Route,
    /// `[trust] require = "dkim"`: a signature aligned with `domain` (or,
    /// where `arc` allows, a trusted chain whose first sealer saw one)
    /// must verify. False when the check is there only for `vouch_needed`.
    pub signature_needed: bool,
    /// Failures reported on the message that a trusted ARC chain must
    /// explain, each of them, or the message is rejected.
    pub vouch_needed: Vec<auth::Failure>,
}

/// What DKIM (and ARC) verification found, for [`Classifier::settle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DkimVerdict {
    Pass(String),
    /// No signature (or seal) vouches for the sender.
    Fail(String),
    /// A reported failure that no trusted ARC chain explains: the whole
    /// reason.
    Unvouched(String),
    /// DNS did not answer: judge the message again later.
    TempError(String),
}

/// Header facts kept in `messages`.
#[derive(Debug, Default, Clone)]
pub struct MessageMeta {
    pub message_id: Option<String>,
    /// The outer From address (who delivered it to us).
    pub from: Option<String>,
    /// The original sender, when the message was a forward.
    pub original_from: Option<String>,
    pub subject: Option<String>,
    /// The Date header, as seconds since the Unix epoch.
    pub date: Option<i64>,
}

/// Grants one message may carry; Leadsie writes one per store a client
/// shares. Past it, the rest are reported under "needs a look", so one email
/// cannot flood the queue and the operators' notifications.
pub const MAX_GRANTS: usize = 20;

impl Classification {
    /// A message that could not be read at all (over its time budget, or a
    /// failure in the classifier itself).
    pub fn unreadable(reason: String) -> Classification {
        Classification::new(MessageKind::Unparseable, reason, MessageMeta::default())
    }

    /// The same message, rejected: what it claimed is kept out of the queue.
    pub(super) fn reject(self, reason: String) -> Classification {
        Classification::new(MessageKind::Rejected, reason, self.meta)
    }

    pub(crate) fn new(kind: MessageKind, reason: impl Into<String>, meta: MessageMeta) -> Self {
        Classification {
            kind,
            grants: Vec::new(),
            outcome: None,
            reason: Some(reason.into()),
            meta,
            dkim: None,
            unrelated: false,
        }
    }

    pub(super) fn into_unrelated(mut self) -> Self {
        self.unrelated = true;
        self
    }

    /// Whether the message would move a request if believed.
    pub fn acts(&self) -> bool {
        matches!(
            self.kind,
            MessageKind::LeadsieGrant
                | MessageKind::ShopifyGranted
                | MessageKind::ShopifyDeclined
                | MessageKind::ShopifyRevoked
        )
    }
}
