//! What the reports say, from values handed in: one line per ingested
//! file, a watched folder's health, times and cells cut to fit. Reads no
//! database: `cli::report` gathers the rows and prints them with these.
//! Every cell that can come from mail goes through [`super::line`].

use crate::config::MAX_POLL_SECONDS;
use crate::ingest::IngestReport;
use crate::model::{RequestId, WatcherState};
use crate::store;
use crate::timestamp::Timestamp;

/// One line saying what ingesting a file did.
pub fn describe(file: &str, r: &IngestReport) -> String {
    if let Some(id) = r.deferred {
        return match (&r.reason, r.new) {
            (Some(reason), true) => format!("{file}: deferred #{id}; ({reason})"),
            (None, true) => format!("{file}: deferred #{id}; it will be judged again"),
            (_, false) => format!(
                "{file}: already waiting as deferred #{id} (its DKIM signature could not be checked yet); nothing changed"
            ),
        };
    }
    if !r.new {
        return format!(
            "{file}: already ingested as message #{0}; nothing changed (to judge it again under new settings: `collabd rejudge {0}`)",
            r.message
        );
    }
    format!("{file}: {}", what_it_did(r))
}

/// What storing a message did: its id and kind, the requests it made or
/// moved, and why.
pub fn what_it_did(r: &IngestReport) -> String {
    let mut parts = vec![format!("message #{} {}", r.message, r.kind)];
    let ids = |v: &[RequestId]| {
        v.iter()
            .map(|i| format!("#{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !r.created.is_empty() {
        parts.push(format!("created request {}", ids(&r.created)));
    }
    if !r.superseded.is_empty() {
        parts.push(format!("superseded {}", ids(&r.superseded)));
    }
    if !r.seen_again.is_empty() {
        parts.push(format!(
            "the same store and code as request {} (no new request)",
            ids(&r.seen_again)
        ));
    }
    if let Some(id) = r.outcome_applied {
        parts.push(format!("moved request #{id}"));
    }
    if let Some(reason) = &r.reason {
        parts.push(format!("({reason})"));
    }
    parts.join("; ")
}

/// How a watched folder is doing, as `status` and the status page say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderHealth {
    Ok,
    /// Connected, but no contact for longer than [`stale_after`]: is
    /// collabd still running?
    Stale,
    /// Waiting to reconnect after an error.
    Failing,
    Stopped,
    Connecting,
}

impl FolderHealth {
    pub fn label(self) -> &'static str {
        match self {
            FolderHealth::Ok => "ok",
            FolderHealth::Stale => "STALE",
            FolderHealth::Failing => "FAILING",
            FolderHealth::Stopped => "stopped",
            FolderHealth::Connecting => "connecting",
        }
    }
}

/// Judges one `mailbox_state` row at `now`.
pub fn folder_health(m: &store::MailboxRow, now: chrono::DateTime<chrono::Utc>) -> FolderHealth {
    let stale = m
        .last_contact_at
        .is_some_and(|t| now - t.datetime() > stale_after());
    match (m.state, m.connected) {
        (s, true) if s.is_connected() && stale => FolderHealth::Stale,
        (s, true) if s.is_connected() => FolderHealth::Ok,
        (WatcherState::Stopped, _) => FolderHealth::Stopped,
        (WatcherState::Backoff, _) => FolderHealth::Failing,
        _ => FolderHealth::Connecting,
    }
}

/// How long without contact before a watcher counts as stale: IDLE is
/// renewed within 9 minutes and polls come at most [`MAX_POLL_SECONDS`]
/// apart, so a live watcher touches last contact at least that often; a
/// minute more is grace.
fn stale_after() -> chrono::Duration {
    chrono::Duration::seconds(MAX_POLL_SECONDS as i64) + chrono::Duration::minutes(1)
}

/// `2026-11-26T08:44:52Z` → `2026-11-26 08:44`.
pub fn short_time(t: &Timestamp) -> String {
    t.to_minute()
}

/// `s` cut to `max` characters, the last of them `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MessageKind;

    fn deferred(id: i64, new: bool) -> IngestReport {
        IngestReport {
            message: 0,
            deferred: Some(id),
            kind: MessageKind::Deferred,
            new,
            reason: Some("leadsie_grant; DNS failed".into()),
            created: Vec::new(),
            superseded: Vec::new(),
            seen_again: Vec::new(),
            outcome_applied: None,
        }
    }

    /// A deferred message is named by the row it waits in, never as a
    /// message #0 it is not.
    #[test]
    fn a_deferred_message_is_named_by_its_own_id() {
        assert_eq!(
            describe("a.eml", &deferred(3, true)),
            "a.eml: deferred #3; (leadsie_grant; DNS failed)"
        );
        assert_eq!(
            describe("a.eml", &deferred(3, false)),
            "a.eml: already waiting as deferred #3 (its DKIM signature could not be checked yet); nothing changed"
        );
    }
}
