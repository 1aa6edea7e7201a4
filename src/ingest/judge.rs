//! A message's verdict, or why it must wait: classified off the async
//! runtime on at most one lane per core, each message within its own
//! [`CLASSIFY_BUDGET`], then its DKIM signature checked when the trust
//! policy asks for one.

use std::sync::Arc;
use std::time::Duration;

use crate::dkim::Verifier;
use crate::mail::{Classification, Classifier};

/// The longest one message may take to classify. Extraction is linear and
/// capped, so only a pathological message gets near it; past it the message
/// is recorded as too complex and the mailbox moves on.
pub const CLASSIFY_BUDGET: Duration = Duration::from_secs(5);

/// A message's verdict, or why it must wait.
#[derive(Debug)]
pub enum Judged {
    Ready(Classification),
    /// DNS failed while checking its signature: keep it and judge it again.
    Deferred(Classification, String),
}

/// Classifies a message off the async runtime within [`CLASSIFY_BUDGET`],
/// then checks its DKIM signature when the trust policy asks for one. Never
/// fails: a message over budget is `unparseable`, one whose DNS did not
/// answer is [`Judged::Deferred`].
pub async fn judge(classifier: &Classifier, verifier: &Verifier, raw: &[u8]) -> Judged {
    let mut judged = judge_all(classifier, verifier, &[raw]).await;
    judged.pop().expect("one verdict per message")
}

/// [`judge`] for a batch, in order: classified on at most one thread per
/// core (a thread per message made a backfill mostly thread hand-offs),
/// each message still within its own [`CLASSIFY_BUDGET`], then the DKIM
/// checks side by side (their DNS waits overlap). Exactly one verdict per
/// message.
pub async fn judge_all(
    classifier: &Classifier,
    verifier: &Verifier,
    raws: &[&[u8]],
) -> Vec<Judged> {
    judge_all_with(classifier, verifier, raws, &|| {}).await
}

/// [`judge_all`], calling `progress` each time a message is classified, so
/// a watchdog sees a long batch move (a lane takes its messages one after
/// another, each with its own budget).
pub async fn judge_all_with(
    classifier: &Classifier,
    verifier: &Verifier,
    raws: &[&[u8]],
    progress: &(dyn Fn() + Sync),
) -> Vec<Judged> {
    let lanes = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, raws.len().max(1));
    let per_lane = raws.len().div_ceil(lanes).max(1);
    let classified = futures_util::future::join_all(raws.chunks(per_lane).map(|chunk| {
        let classifier = classifier.clone();
        classify_lane(
            move |raw| classifier.classify(raw),
            CLASSIFY_BUDGET,
            chunk,
            progress,
        )
    }))
    .await;
    let judged = futures_util::future::join_all(
        classified
            .into_iter()
            .flatten()
            .map(|c| settle(classifier, verifier, c)),
    )
    .await;
    debug_assert_eq!(judged.len(), raws.len());
    judged
}

/// Classifies `raws` with `classify` one after another on one blocking
/// thread, in order, and returns exactly one classification per message.
/// Each message gets `budget` from the moment the one before it finished:
/// one that overruns (or panics the classifier) is recorded as unreadable
/// and the rest go on on a fresh thread; the abandoned thread finishes on
/// its own. The bytes are copied once, and shared by every thread.
async fn classify_lane<F>(
    classify: F,
    budget: Duration,
    raws: &[&[u8]],
    progress: &(dyn Fn() + Sync),
) -> Vec<Classification>
where
    F: Fn(&[u8]) -> Classification + Clone + Send + 'static,
{
    let copies: Arc<Vec<Vec<u8>>> = Arc::new(raws.iter().map(|r| r.to_vec()).collect());
    let mut out = Vec::with_capacity(raws.len());
    while out.len() < raws.len() {
        let start = out.len();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let task = {
            let classify = classify.clone();
            let copies = Arc::clone(&copies);
            tokio::task::spawn_blocking(move || {
                for raw in &copies[start..] {
                    if tx.send(classify(raw)).is_err() {
                        return;
                    }
                }
            })
        };
        while out.len() < raws.len() {
            let verdict = match tokio::time::timeout(budget, rx.recv()).await {
                Ok(Some(c)) => {
                    out.push(c);
                    progress();
                    continue;
                }
                Ok(None) => {
                    let why = match task.await {
                        Err(e) => e.to_string(),
                        Ok(()) => "it stopped early".to_owned(),
                    };
                    format!(
                        "could not be read: the classifier failed ({why}); please report this message"
                    )
                }
                Err(_) => format!(
                    "too complex to read: classification took over {} s and was abandoned",
                    budget.as_secs_f64()
                ),
            };
            out.push(Classification::unreadable(verdict));
            progress();
            break;
        }
    }
    out
}

/// Checks a classified message's DKIM signature, when it carries a check.
async fn settle(classifier: &Classifier, verifier: &Verifier, c: Classification) -> Judged {
    let Some(check) = c.dkim.as_ref() else {
        return Judged::Ready(c);
    };
    let verdict = verifier.verify(check).await;
    match classifier.settle(c, verdict) {
        (c, None) => Judged::Ready(c),
        (c, Some(why)) => Judged::Deferred(c, why),
    }
}

/// How long a deferred message waits before its next judgement.
pub fn deferred_backoff(attempts: i64) -> chrono::Duration {
    let minutes = 1i64 << attempts.clamp(0, 6); // 1 min doubling to 64 min
    chrono::Duration::minutes(minutes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lane keeps order, and one message that hangs or panics the
    /// classifier costs only itself: the messages after it are still read.
    #[tokio::test]
    async fn a_lane_outlives_a_hanging_or_failing_message() {
        let classify = |raw: &[u8]| match raw {
            b"hang" => {
                std::thread::sleep(Duration::from_secs(4));
                Classification::unreadable("late".into())
            }
            b"panic" => panic!("classifier bug"),
            other => Classification::unreadable(String::from_utf8_lossy(other).into_owned()),
        };
        let raws: [&[u8]; 5] = [b"first", b"hang", b"second", b"panic", b"third"];
        let seen = std::sync::atomic::AtomicUsize::new(0);
        let got = classify_lane(classify, Duration::from_secs(1), &raws, &|| {
            seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })
        .await;
        assert_eq!(seen.into_inner(), 5, "progress once per message");
        let reasons: Vec<String> = got
            .iter()
            .map(|c| c.reason.clone().unwrap_or_default())
            .collect();
        assert_eq!(reasons.len(), 5, "{reasons:?}");
        assert!(reasons[0].contains("first"), "{reasons:?}");
        assert!(reasons[1].contains("too complex"), "{reasons:?}");
        assert!(reasons[2].contains("second"), "{reasons:?}");
        assert!(reasons[3].contains("classifier failed"), "{reasons:?}");
        assert!(reasons[4].contains("third"), "{reasons:?}");
    }
}
