//! A message's verdict, or why it must wait: classified off the async
//! runtime on at most one lane per core, each message within its own
//! [`CLASSIFY_BUDGET`], then its DKIM signature checked when the trust
//! policy asks for one.

use std::future::Future;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
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
    // The bytes are copied once, and shared by every lane's thread.
    let copies: Arc<Vec<Vec<u8>>> = Arc::new(raws.iter().map(|r| r.to_vec()).collect());
    let classified = across_lanes(&copies, progress, |copies, range, progress| {
        let classifier = classifier.clone();
        run_lane(
            move |raw: &Vec<u8>| classifier.classify(raw),
            Classification::unreadable,
            CLASSIFY_BUDGET,
            copies,
            range,
            progress,
        )
    })
    .await;
    let judged = futures_util::future::join_all(
        classified
            .into_iter()
            .map(|c| settle(classifier, verifier, c)),
    )
    .await;
    debug_assert_eq!(judged.len(), raws.len());
    judged
}

/// How many lanes a batch is spread over: one per core. Counted once per
/// process: asking costs a dozen system calls (the cgroup's CPU quota is
/// read from files).
pub fn lanes() -> usize {
    static LANES: OnceLock<usize> = OnceLock::new();
    *LANES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Splits `items` into one contiguous run per lane ([`lanes`]), runs
/// `lane` on each side by side, and returns their outputs in input order.
pub(super) async fn across_lanes<'p, I, O, L, F>(
    items: &Arc<Vec<I>>,
    progress: &'p (dyn Fn() + Sync),
    lane: L,
) -> Vec<O>
where
    L: Fn(Arc<Vec<I>>, Range<usize>, &'p (dyn Fn() + Sync)) -> F,
    F: Future<Output = Vec<O>>,
{
    let n = items.len();
    let lanes = lanes().clamp(1, n.max(1));
    let per_lane = n.div_ceil(lanes).max(1);
    let runs = (0..n).step_by(per_lane).map(|start| {
        lane(
            Arc::clone(items),
            start..(start + per_lane).min(n),
            progress,
        )
    });
    futures_util::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Runs `work` over `items[range]` one after another on one blocking
/// thread, in order, and returns exactly one output per item. Each item
/// gets `budget` from the moment the one before it finished: one that
/// overruns (or panics) becomes `lost(why)` and the rest go on on a fresh
/// thread; the abandoned thread finishes on its own, its late outputs
/// dropped.
///
/// The thread wakes nobody as it goes: outputs are handed over under a
/// lock, and this task looks at them when the thread ends or a budget would
/// run out (a wake-up per message was most of the cost of a batch of small
/// ones). `progress` is called once per output, when it is seen.
pub(super) async fn run_lane<I, O, F>(
    work: F,
    lost: fn(String) -> O,
    budget: Duration,
    items: Arc<Vec<I>>,
    range: Range<usize>,
    progress: &(dyn Fn() + Sync),
) -> Vec<O>
where
    I: Send + Sync + 'static,
    O: Send + 'static,
    F: Fn(&I) -> O + Clone + Send + 'static,
{
    let total = range.len();
    let mut out: Vec<O> = Vec::with_capacity(total);
    while out.len() < total {
        let start = range.start + out.len();
        let shared = Arc::new(Mutex::new(Handed {
            outputs: Vec::new(),
            last: tokio::time::Instant::now(),
            abandoned: false,
        }));
        let mut task = {
            let work = work.clone();
            let items = Arc::clone(&items);
            let shared = Arc::clone(&shared);
            let end = range.end;
            tokio::task::spawn_blocking(move || {
                for item in &items[start..end] {
                    let o = work(item);
                    let mut h = shared.lock().unwrap_or_else(PoisonError::into_inner);
                    if h.abandoned {
                        return;
                    }
                    h.outputs.push(o);
                    h.last = tokio::time::Instant::now();
                }
            })
        };
        let take = |out: &mut Vec<O>, abandon: bool| {
            let mut h = shared.lock().unwrap_or_else(PoisonError::into_inner);
            h.abandoned |= abandon;
            for o in h.outputs.drain(..) {
                out.push(o);
                progress();
            }
            h.last
        };
        let why = loop {
            let last = take(&mut out, false);
            tokio::select! {
                ended = &mut task => {
                    take(&mut out, true);
                    if out.len() == total {
                        break None;
                    }
                    let why = match ended {
                        Err(e) => e.to_string(),
                        Ok(()) => "it stopped early".to_owned(),
                    };
                    break Some(format!(
                        "could not be read: the classifier failed ({why}); please report this message"
                    ));
                }
                () = tokio::time::sleep_until(last + budget) => {
                    // Outputs handed over meanwhile are progress: look again.
                    let mut h = shared.lock().unwrap_or_else(PoisonError::into_inner);
                    if h.last + budget > tokio::time::Instant::now() {
                        continue;
                    }
                    h.abandoned = true;
                    drop(h);
                    take(&mut out, true);
                    break Some(format!(
                        "too complex to read: classification took over {} s and was abandoned",
                        budget.as_secs_f64()
                    ));
                }
            }
        };
        if let Some(why) = why {
            out.push(lost(why));
            progress();
        }
    }
    out
}

/// What a lane's thread has handed over and not yet been taken.
struct Handed<O> {
    outputs: Vec<O>,
    /// When the latest output was handed over (or the thread started).
    last: tokio::time::Instant,
    /// The lane gave up on this thread: it hands over nothing more.
    abandoned: bool,
}

/// Checks a classified message's DKIM signature, when it carries a check.
pub(super) async fn settle(
    classifier: &Classifier,
    verifier: &Verifier,
    c: Classification,
) -> Judged {
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
        let raws: Vec<&[u8]> = vec![b"first", b"hang", b"second", b"panic", b"third"];
        let items = Arc::new(raws.iter().map(|r| r.to_vec()).collect::<Vec<_>>());
        let seen = std::sync::atomic::AtomicUsize::new(0);
        let got = run_lane(
            move |raw: &Vec<u8>| classify(raw),
            Classification::unreadable,
            Duration::from_secs(1),
            items,
            0..5,
            &|| {
                seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            },
        )
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
