//! The request queue's rules: how long a claim lasts, and — in one place —
//! whether a failed filing is retried (when) or given up. The SQL that
//! claims and completes lives in `store`; the loop that drives it in `worker`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::Wait;

/// How a filer failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Worth trying again later (a timeout, a 5xx, EX_TEMPFAIL).
    Transient(String),
    /// Trying again will not help (a 4xx, a refused code, a bad config).
    Permanent(String),
    /// Nothing can be filed until something outside the request changes
    /// (the browser's dashboard session lapsed, say), which the [`Wait`]
    /// names: back to the queue after a fixed delay, never counted as an
    /// attempt and never given up for it.
    Waiting(Wait, String),
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Failure::Transient(m) | Failure::Permanent(m) | Failure::Waiting(_, m) => m,
        }
    }

    /// What the request waits for, when this is a wait.
    pub fn waiting_for(&self) -> Option<Wait> {
        match self {
            Failure::Waiting(w, _) => Some(*w),
            Failure::Transient(_) | Failure::Permanent(_) => None,
        }
    }

    /// The same failure with its message rewritten (masked, say).
    pub fn map_message(self, f: impl FnOnce(String) -> String) -> Failure {
        match self {
            Failure::Transient(m) => Failure::Transient(f(m)),
            Failure::Permanent(m) => Failure::Permanent(f(m)),
            Failure::Waiting(w, m) => Failure::Waiting(w, f(m)),
        }
    }
}

/// Retry settings: exponential backoff with jitter, capped, and a limit on
/// attempts after which the request is `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// Up to `max_attempts`, waiting 30 s after the first failure, doubling,
    /// at most an hour.
    pub fn new(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            base_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(3600),
        }
    }
}

impl Default for RetryPolicy {
    /// With `[worker] max_attempts`' default.
    fn default() -> Self {
        RetryPolicy::new(crate::config::WorkerSettings::default().max_attempts)
    }
}

/// What happens to a request whose filing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    RetryAt(DateTime<Utc>),
    GiveUp,
}

/// A random number in [0, 1) for jitter, from the standard library's
/// randomly keyed hasher (no RNG crate needed for this).
pub fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Decides retry or give up after attempt number `attempt` (1-based) failed.
/// `jitter` in [0, 1) spreads retries so that many requests failing together
/// do not retry together: the delay is base·2^(attempt-1), capped, then
/// scaled into [½, 1] of itself.
pub fn decide(
    policy: &RetryPolicy,
    attempt: u32,
    failure: &Failure,
    now: DateTime<Utc>,
    jitter: f64,
) -> Decision {
    let waiting = failure.waiting_for().is_some();
    if matches!(failure, Failure::Permanent(_)) || (attempt >= policy.max_attempts && !waiting) {
        return Decision::GiveUp;
    }
    // A wait does not count as an attempt (the worker gives it back), so
    // its delay cannot grow with the attempts: a fixed 4–8 minutes (a new
    // login makes waiting requests due at once anyway).
    let step = if waiting { 5 } else { attempt };
    let scaled = backoff(policy.base_delay, policy.max_delay, step, jitter);
    let delay = chrono::Duration::from_std(scaled).unwrap_or(chrono::Duration::hours(1));
    Decision::RetryAt(now + delay)
}

/// The wait before try number `attempt + 1` after `attempt` (1-based)
/// failures: base·2^(attempt-1), capped, then scaled by `jitter` in [0, 1)
/// into [½, 1] of itself. Filing retries and IMAP reconnects both use it.
pub fn backoff(base: Duration, cap: Duration, attempt: u32, jitter: f64) -> Duration {
    let exp = attempt.saturating_sub(1).min(30);
    let raw = base.saturating_mul(1u32 << exp).min(cap);
    raw.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 10, 0, 0).unwrap()
    }

    #[test]
    fn waiting_backs_off_and_is_never_given_up() {
        let p = RetryPolicy::new(3);
        let w = Failure::Waiting(Wait::BrowserLogin, "browser login needed".into());
        for attempt in [1, 3, 50] {
            assert!(matches!(
                decide(&p, attempt, &w, now(), 1.0),
                Decision::RetryAt(at) if at > now()
            ));
        }
    }

    #[test]
    fn backoff_doubles_is_capped_and_jittered() {
        let p = RetryPolicy::default();
        let t = Failure::Transient("timeout".into());
        let delay = |attempt, jitter| match decide(&p, attempt, &t, now(), jitter) {
            Decision::RetryAt(at) => (at - now()).num_seconds(),
            Decision::GiveUp => -1,
        };
        assert_eq!(delay(1, 1.0), 30);
        assert_eq!(delay(2, 1.0), 60);
        assert_eq!(delay(3, 1.0), 120);
        assert_eq!(delay(3, 0.0), 60);
        assert_eq!(delay(7, 1.0), 1920);
        assert_eq!(delay(8, 1.0), -1, "attempts exhausted");
        let p = RetryPolicy {
            max_attempts: 50,
            ..p
        };
        assert_eq!(
            match decide(&p, 20, &t, now(), 1.0) {
                Decision::RetryAt(at) => (at - now()).num_seconds(),
                Decision::GiveUp => -1,
            },
            3600,
            "capped at max_delay"
        );
    }

    #[test]
    fn permanent_failures_are_not_retried() {
        let d = decide(
            &RetryPolicy::default(),
            1,
            &Failure::Permanent("HTTP 400".into()),
            now(),
            0.5,
        );
        assert_eq!(d, Decision::GiveUp);
    }
}

/// Spaces filings out to at most `per_minute`, evenly: each caller waits for
/// its slot. Protects a filer's endpoint (and Shopify's patience) from bursts.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: tokio::sync::Mutex<Option<tokio::time::Instant>>,
}

impl Pacer {
    pub fn per_minute(n: u32) -> Pacer {
        Pacer {
            interval: Duration::from_secs(60) / n.max(1),
            next: tokio::sync::Mutex::new(None),
        }
    }

    /// Waits until this caller may file.
    pub async fn wait(&self) {
        let mut next = self.next.lock().await;
        let now = tokio::time::Instant::now();
        let slot = next.map_or(now, |n| n.max(now));
        *next = Some(slot + self.interval);
        drop(next);
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod pacer_tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn sixty_a_minute_means_one_a_second() {
        let pacer = Pacer::per_minute(60);
        let start = tokio::time::Instant::now();
        for _ in 0..3 {
            pacer.wait().await;
        }
        // Virtual time: the first goes at once, then one a second.
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_pacer_does_not_bank_slots() {
        let pacer = Pacer::per_minute(60);
        pacer.wait().await;
        tokio::time::sleep(Duration::from_secs(10)).await;
        let start = tokio::time::Instant::now();
        pacer.wait().await;
        pacer.wait().await;
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }
}
