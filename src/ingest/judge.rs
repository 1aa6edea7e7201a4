//! A message's verdict, or why it must wait: classified off the async
//! runtime on at most one lane per core, each message within its own
//! [`CLASSIFY_BUDGET`], then its DKIM signature checked when the trust
//! policy asks for one.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

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
    let work = {
        let classifier = classifier.clone();
        move |raw: &Vec<u8>| classifier.classify(raw)
    };
    let mut lanes = InOrder::new(
        copies,
        work,
        Classification::unreadable,
        CLASSIFY_BUDGET,
        lanes(),
        progress,
    );
    let mut classified = Vec::with_capacity(raws.len());
    while let Some(c) = lanes.next().await {
        classified.push(c);
    }
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

/// `work` over every item, on at most `lanes` threads side by side, the
/// outputs taken in input order as they become ready ([`InOrder::next`]).
///
/// Items are handed out one at a time to whichever lane is free, so one
/// long message holds up only its own lane, and the taker (printing,
/// storing, checking signatures) works while the lanes go on. Each item
/// gets `budget` from the moment its lane takes it: one that overruns
/// becomes `lost(why)`, its lane is abandoned (it finishes on its own, its
/// late output dropped) and a fresh one takes its place; one that panics
/// becomes `lost(why)` and its lane goes on. A taker that has caught up
/// is woken once per run of outputs ([`WAKE_RUN`]), not once per item, and
/// looks at the budgets when the first in hand would run out.
pub(super) struct InOrder<'p, I, O, F> {
    shared: Arc<Shared<I, O, F>>,
    /// One per lane started, abandoned ones included.
    threads: Vec<tokio::task::JoinHandle<()>>,
    /// How many outputs were taken.
    taken: usize,
    budget: Duration,
    progress: &'p (dyn Fn() + Sync),
    /// When the taker looks at the lanes' budgets next. Set anew only when
    /// it has passed or an earlier look is due: arming a timer anew on
    /// every wait cost more than most items take.
    look: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

struct Shared<I, O, F> {
    items: Arc<Vec<I>>,
    work: F,
    lost: fn(String) -> O,
    state: Mutex<State<O>>,
    /// Rung when the output the taker waits for is handed over.
    ready: tokio::sync::Notify,
    /// Rung for lanes held back (see [`AHEAD`]) when the taker takes.
    room: std::sync::Condvar,
}

struct State<O> {
    /// The next item to hand out.
    next: usize,
    /// Outputs handed over and not yet taken, by item.
    outputs: Vec<Option<O>>,
    /// How many outputs the taker took.
    taken: usize,
    /// Whether a lane waits for the taker to make room.
    held_back: bool,
    /// Per lane: the item in hand and when it was taken; whether the taker
    /// gave up on it.
    lanes: Vec<(Option<(usize, Instant)>, bool)>,
    /// What the taker waits for: the output of the item it needs (first)
    /// and an item `WAKE_RUN` past those handed out (second). It is woken
    /// by an output from the second on, so once per run of outputs rather
    /// than once per output, or by the first's once nothing is left to
    /// hand out.
    waiting: Option<(usize, usize)>,
}

impl<I, O, F> Shared<I, O, F> {
    fn state(&self) -> std::sync::MutexGuard<'_, State<O>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How far past the items already handed out the taker, caught up,
/// sleeps (unless the item it needs comes first): waking it costs more
/// than most items take.
const WAKE_RUN: usize = 64;

/// How far the lanes may run ahead of the taker: a taker held back (a
/// reader that stopped reading) holds back the lanes, rather than every
/// output piling up.
const AHEAD: usize = 4 * 1024;

/// A nothing to call for progress.
pub(super) static NO_PROGRESS: fn() = || {};

impl<'p, I, O, F> InOrder<'p, I, O, F>
where
    I: Send + Sync + 'static,
    O: Send + 'static,
    F: Fn(&I) -> O + Send + Sync + 'static,
{
    /// Starts the lanes. `progress` is called once per output, when taken.
    pub(super) fn new(
        items: Arc<Vec<I>>,
        work: F,
        lost: fn(String) -> O,
        budget: Duration,
        lanes: usize,
        progress: &'p (dyn Fn() + Sync),
    ) -> Self {
        let n = items.len();
        let lanes = if n == 0 { 0 } else { lanes.clamp(1, n) };
        let shared = Arc::new(Shared {
            items,
            work,
            lost,
            state: Mutex::new(State {
                next: 0,
                outputs: (0..n).map(|_| None).collect(),
                taken: 0,
                held_back: false,
                lanes: Vec::with_capacity(lanes),
                waiting: None,
            }),
            ready: tokio::sync::Notify::new(),
            room: std::sync::Condvar::new(),
        });
        let mut this = InOrder {
            shared,
            threads: Vec::with_capacity(lanes),
            taken: 0,
            budget,
            progress,
            look: None,
        };
        for _ in 0..lanes {
            this.start_lane();
        }
        this
    }

    fn start_lane(&mut self) {
        let id = {
            let mut st = self.shared.state();
            st.lanes.push((None, false));
            st.lanes.len() - 1
        };
        let shared = Arc::clone(&self.shared);
        self.threads
            .push(tokio::task::spawn_blocking(move || lane(&shared, id)));
    }

    /// The next output in input order; `None` once every item's was taken.
    pub(super) async fn next(&mut self) -> Option<O> {
        let n = self.shared.items.len();
        if self.taken >= n {
            return None;
        }
        loop {
            let mut fresh = 0;
            let wake_at = {
                let mut st = self.shared.state();
                if let Some(o) = st.outputs[self.taken].take() {
                    st.waiting = None;
                    self.taken += 1;
                    st.taken = self.taken;
                    let held_back = std::mem::take(&mut st.held_back);
                    drop(st);
                    if held_back {
                        self.shared.room.notify_all();
                    }
                    (self.progress)();
                    return Some(o);
                }
                let now = Instant::now();
                // An item a lane takes from now on is due no sooner than
                // this, so the taker always has a time to look again.
                let mut wake_at = now + self.budget;
                for id in 0..st.lanes.len() {
                    let (Some((item, since)), false) = st.lanes[id] else {
                        continue;
                    };
                    let why = if now >= since + self.budget {
                        format!(
                            "too complex to read: classification took over {} s and was abandoned",
                            self.budget.as_secs_f64()
                        )
                    } else if self.threads[id].is_finished() {
                        // Only a panic outside the work itself ends a lane
                        // with an item in hand.
                        failed("the classifier", "its thread ended")
                    } else {
                        wake_at = wake_at.min(since + self.budget);
                        continue;
                    };
                    st.lanes[id].1 = true;
                    st.outputs[item] = Some((self.shared.lost)(why));
                    fresh += 1;
                }
                let run_ends = st.next.max(self.taken).saturating_add(WAKE_RUN).min(n - 1);
                st.waiting = Some((self.taken, run_ends));
                wake_at
            };
            if fresh > 0 {
                for _ in 0..fresh {
                    self.start_lane();
                }
                continue;
            }
            let look = match &mut self.look {
                Some(look) if !look.is_elapsed() && look.deadline() <= wake_at => look,
                look => look.insert(Box::pin(tokio::time::sleep_until(wake_at))),
            };
            tokio::select! {
                () = self.shared.ready.notified() => {}
                () = look.as_mut() => {}
            }
        }
    }
}

impl<I, O, F> Drop for InOrder<'_, I, O, F> {
    /// Nothing more is handed out: each lane stops after the item in hand.
    fn drop(&mut self) {
        let mut st = self.shared.state();
        st.next = st.outputs.len();
        for lane in &mut st.lanes {
            lane.1 = true;
        }
        drop(st);
        self.shared.room.notify_all();
    }
}

/// One lane's thread: takes the next item, works it, hands the output
/// over, until none is left or the taker gives up on it.
fn lane<I, O, F: Fn(&I) -> O>(shared: &Shared<I, O, F>, id: usize) {
    loop {
        let item = {
            let mut st = shared.state();
            loop {
                if st.lanes[id].1 || st.next >= st.outputs.len() {
                    st.lanes[id].0 = None;
                    return;
                }
                if st.next < st.taken + AHEAD {
                    break;
                }
                // The item the taker needs was handed out already, so it
                // comes back (or its lane is given up on) and room is made.
                st.held_back = true;
                st = shared.room.wait(st).unwrap_or_else(PoisonError::into_inner);
            }
            let item = st.next;
            st.next += 1;
            st.lanes[id].0 = Some((item, Instant::now()));
            item
        };
        let work = std::panic::AssertUnwindSafe(|| (shared.work)(&shared.items[item]));
        let output = std::panic::catch_unwind(work).unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_owned());
            (shared.lost)(failed("the classifier", &crate::render::line(&what)))
        });
        let wake = {
            let mut st = shared.state();
            if st.lanes[id].1 {
                return;
            }
            st.outputs[item] = Some(output);
            st.lanes[id].0 = None;
            // The first item counts alone only once nothing is left to
            // hand out: until then a later output will come past the run.
            let all_out = st.next >= st.outputs.len();
            st.waiting
                .is_some_and(|(first, run_ends)| item >= run_ends || (all_out && item == first))
        };
        if wake {
            shared.ready.notify_one();
        }
    }
}

/// Why a message could not be read when `what` failed on it (`why`): our
/// bug, not the sender's, so the operator is asked to report it.
pub(super) fn failed(what: &str, why: &str) -> String {
    format!("could not be read: {what} failed ({why}); please report this message")
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

    /// Outputs keep input order, and one message that hangs or panics the
    /// classifier costs only itself: the messages after it are still read,
    /// on one lane or several.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lanes_outlive_a_hanging_or_failing_message() {
        let classify = |raw: &[u8]| match raw {
            b"hang" => {
                std::thread::sleep(Duration::from_secs(4));
                Classification::unreadable("late".into())
            }
            b"panic" => panic!("classifier bug"),
            other => Classification::unreadable(String::from_utf8_lossy(other).into_owned()),
        };
        for lanes in [1, 2, 3] {
            let raws: Vec<&[u8]> = vec![b"first", b"hang", b"second", b"panic", b"third"];
            let items = Arc::new(raws.iter().map(|r| r.to_vec()).collect::<Vec<_>>());
            let seen = std::sync::atomic::AtomicUsize::new(0);
            let progress = || {
                seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            };
            let mut got = Vec::new();
            let mut order = InOrder::new(
                items,
                move |raw: &Vec<u8>| classify(raw),
                Classification::unreadable,
                Duration::from_secs(1),
                lanes,
                &progress,
            );
            while let Some(c) = order.next().await {
                got.push(c);
            }
            drop(order);
            assert_eq!(seen.into_inner(), 5, "progress once per message");
            let reasons: Vec<String> = got
                .iter()
                .map(|c| c.reason.clone().unwrap_or_default())
                .collect();
            assert_eq!(reasons.len(), 5, "{lanes} lanes: {reasons:?}");
            assert!(reasons[0].contains("first"), "{reasons:?}");
            assert!(
                reasons[1].contains("too complex"),
                "{lanes} lanes: {reasons:?}"
            );
            assert!(reasons[2].contains("second"), "{reasons:?}");
            assert!(
                reasons[3].contains("classifier failed (classifier bug)"),
                "{reasons:?}"
            );
            assert!(reasons[4].contains("third"), "{reasons:?}");
        }
    }

    /// Many items over few lanes come back in input order, each once; a
    /// taker that stops taking holds the lanes back at [`AHEAD`]; one that
    /// stops early leaves the lanes to stop on their own.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn outputs_come_in_input_order() {
        let items: Arc<Vec<u64>> = Arc::new((0..(AHEAD as u64 * 3)).collect());
        // Uneven work, so lanes overtake each other.
        let work = |&i: &u64| {
            let spin = (i * 7919) % 400;
            (0..spin).fold(i, |a, b| std::hint::black_box(a ^ b)) ^ (0..spin).fold(0, |a, b| a ^ b)
        };
        let mut order = InOrder::new(
            Arc::clone(&items),
            work,
            |_| u64::MAX,
            Duration::from_secs(30),
            3,
            &NO_PROGRESS,
        );
        let mut got = vec![order.next().await.unwrap()];
        tokio::time::sleep(Duration::from_millis(300)).await;
        let handed = order.shared.state().next;
        assert!(
            handed <= 1 + AHEAD,
            "{handed} handed out with one taken: the lanes ran on"
        );
        while let Some(o) = order.next().await {
            got.push(o);
        }
        assert_eq!(got, *items);
        let mut early = InOrder::new(
            items,
            work,
            |_| u64::MAX,
            Duration::from_secs(30),
            2,
            &NO_PROGRESS,
        );
        assert_eq!(early.next().await, Some(0));
        let shared = Arc::clone(&early.shared);
        drop(early);
        let handed = shared.state().next;
        assert_eq!(
            handed,
            AHEAD * 3,
            "nothing more is handed out once the taker stops"
        );
    }
}
