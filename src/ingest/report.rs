//! What ingesting one message did, for the CLI's report and the logs.

use serde::Serialize;

use crate::model::{MessageKind, RequestId};

/// What ingesting one message did.
#[derive(Debug, Serialize)]
pub struct IngestReport {
    /// The stored message (`messages.id`); 0 when it waits in `deferred`.
    pub message: i64,
    /// The `deferred_message` row a message waits in when DNS failed
    /// during its DKIM check (its kind is then `deferred`).
    pub deferred: Option<i64>,
    pub kind: MessageKind,
    /// False when the same bytes were ingested before (nothing changed).
    pub new: bool,
    pub reason: Option<String>,
    pub created: Vec<RequestId>,
    pub superseded: Vec<RequestId>,
    pub seen_again: Vec<RequestId>,
    pub outcome_applied: Option<RequestId>,
}

impl IngestReport {
    /// A report of what storing did, before anything was applied.
    pub(crate) fn new(
        message: i64,
        kind: MessageKind,
        new: bool,
        reason: Option<String>,
    ) -> IngestReport {
        IngestReport {
            message,
            deferred: None,
            kind,
            new,
            reason,
            created: Vec::new(),
            superseded: Vec::new(),
            seen_again: Vec::new(),
            outcome_applied: None,
        }
    }

    pub(crate) fn duplicate(message: i64) -> IngestReport {
        IngestReport::new(
            message,
            MessageKind::Ignored,
            false,
            Some("already ingested (same bytes); nothing changed".into()),
        )
    }
}
