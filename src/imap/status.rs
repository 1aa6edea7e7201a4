//! What one folder's task is doing, shared with the daemon (systemd's
//! STATUS= and watchdog) and `/healthz`: its state, and the deadline by which
//! it must report progress. Written by the watcher, read by everyone else.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::model::WatcherState;

/// What one folder's task is doing, shared with the daemon for systemd's
/// STATUS= and watchdog.
#[derive(Debug)]
pub struct FolderStatus {
    /// The `mailbox_state` key: account and folder.
    pub name: String,
    pub folder: String,
    /// The account's configured name (`[[imap]] name`).
    pub account: String,
    state: Mutex<WatcherState>,
    /// Milliseconds (since process start) by which the task must report
    /// progress: each bounded wait moves it.
    deadline_ms: AtomicI64,
}

fn clock_ms() -> i64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as i64
}

impl FolderStatus {
    pub(super) fn new(name: String, folder: String, account: String) -> FolderStatus {
        FolderStatus {
            name,
            folder,
            account,
            state: Mutex::new(WatcherState::Starting),
            deadline_ms: AtomicI64::new(clock_ms() + 120_000),
        }
    }

    pub fn state(&self) -> WatcherState {
        *self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Connected to the server: syncing, in IDLE, or between polls.
    pub fn connected(&self) -> bool {
        self.state().is_connected()
    }

    pub(super) fn set_state(&self, s: WatcherState) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = s;
    }

    /// The next step will finish (or time out) within `d`.
    pub(super) fn expect_within(&self, d: Duration) {
        self.deadline_ms
            .store(clock_ms() + d.as_millis() as i64 + 5_000, Ordering::Relaxed);
    }

    /// As [`FolderStatus::expect_within`], but never brings the deadline
    /// closer: for a step that runs beside another with a longer one.
    pub(super) fn extend_within(&self, d: Duration) {
        self.deadline_ms
            .fetch_max(clock_ms() + d.as_millis() as i64 + 5_000, Ordering::Relaxed);
    }

    /// False when the task has gone past its own deadline: it is stuck, and
    /// the watchdog must stop vouching for the daemon.
    pub fn making_progress(&self) -> bool {
        clock_ms() <= self.deadline_ms.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_past_its_deadline_is_not_making_progress() {
        let s = FolderStatus::new("a/INBOX".into(), "INBOX".into(), "default".into());
        assert!(s.making_progress());
        s.deadline_ms.store(clock_ms() - 1, Ordering::Relaxed);
        assert!(!s.making_progress());
        s.expect_within(Duration::from_secs(10));
        assert!(s.making_progress());
    }
}
