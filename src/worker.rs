//! The worker: claims due requests, hands each to the [`Filer`], and records
//! the result — filed, retried later, or failed — in the same transaction
//! that ends the attempt. Never dies on a filer's or the database's error:
//! it records it, logs it and carries on.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::WorkerSettings;
use crate::filer::{Filer, FilingRequest, NotifyFiler};
use crate::model::{Actor, EventKind, RequestState};
use crate::queue::{self, Decision, Failure, RetryPolicy};
use crate::store::{self, Db, Event, Immediate, Request};
use crate::timestamp::Timestamp;

/// Files queued requests through one filer.
#[derive(Debug)]
pub struct Worker<F> {
    pub db: Db,
    pub filer: F,
    pub policy: RetryPolicy,
    /// How long a claim lasts. A worker that dies mid-filing loses its claim
    /// after this, and the request is filed again (same idempotency key).
    pub lease: Duration,
    /// Requests filed at once.
    pub concurrency: usize,
    /// How often to look for due requests when there are none.
    pub poll_interval: Duration,
    /// A request the merchant has not answered gets one reminder after this.
    pub remind_after: chrono::Duration,
    /// ... and becomes `expired` after this (Shopify drops a pending request
    /// after seven days).
    pub expire_after: chrono::Duration,
    /// At most this many filings a minute, when set.
    pub pacer: Option<queue::Pacer>,
    /// Where operators hear of outcomes and reminders, when configured.
    pub announcer: Option<NotifyFiler>,
    /// Set while this node files (with several nodes and a filer bound to
    /// one machine, while it holds that filer's lock).
    pub files_here: crate::store::OnThisNode,
}

/// What one sweep did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Sweep {
    pub reminded: Vec<crate::model::RequestId>,
    pub expired: Vec<crate::model::RequestId>,
}

impl<F: Filer + 'static> Worker<F> {
    /// A worker filing through `filer` as `settings` say; no announcer
    /// until one is set.
    pub fn new(db: Db, filer: F, settings: &WorkerSettings) -> Worker<F> {
        let concurrency = if filer.one_at_a_time() {
            1
        } else {
            settings.concurrency
        };
        Worker {
            db,
            filer,
            policy: RetryPolicy::new(settings.max_attempts),
            lease: settings.lease,
            // The browser filer files one at a time: more claims would only
            // queue for the browser while their leases ran down.
            concurrency,
            poll_interval: settings.poll,
            remind_after: chrono::Duration::days(settings.remind_after_days.into()),
            expire_after: chrono::Duration::days(settings.expire_after_days.into()),
            pacer: settings.rate_per_minute.map(queue::Pacer::per_minute),
            announcer: None,
            files_here: crate::store::OnThisNode::unknown(),
        }
    }

    /// Files every request due at `now`, up to `concurrency` at once, until
    /// none is due; returns how many attempts it made. Time is an argument
    /// so tests control it.
    pub async fn run_due(self: &Arc<Self>, now: DateTime<Utc>) -> store::Result<usize> {
        self.run_due_at(Clock::Fixed(now), &CancellationToken::new())
            .await
    }

    /// The pass itself. With the live clock each claim and each completion
    /// reads the time when it happens, so a long pass cannot hand out leases
    /// that are already spent.
    /// Once `stop` fires, nothing more is claimed: the pass ends with the
    /// filings in hand.
    async fn run_due_at(
        self: &Arc<Self>,
        clock: Clock,
        stop: &CancellationToken,
    ) -> store::Result<usize> {
        let mut attempts = 0;
        let mut in_flight = JoinSet::new();
        let mut exhausted = false;
        loop {
            exhausted |= stop.is_cancelled();
            while !exhausted && in_flight.len() < self.concurrency.max(1) {
                if let Some(pacer) = &self.pacer {
                    tokio::select! {
                        _ = pacer.wait() => {}
                        _ = stop.cancelled() => {
                            exhausted = true;
                            break;
                        }
                    }
                }
                match self.claim(clock.now()).await? {
                    Some(request) => {
                        attempts += 1;
                        let worker = Arc::clone(self);
                        in_flight.spawn(async move { worker.file_one(request, clock).await });
                    }
                    None => exhausted = true,
                }
            }
            match in_flight.join_next().await {
                Some(Ok(result)) => result?,
                Some(Err(panicked)) => {
                    tracing::error!(error = %panicked, "a filing task failed; its lease will expire and it will be retried")
                }
                None => return Ok(attempts),
            }
        }
    }

    /// Expires requests the merchant never answered and reminds about those
    /// waiting long (on the merchant, or for review), each once, in one
    /// transaction.
    pub async fn sweep(&self, now: DateTime<Utc>) -> store::Result<Sweep> {
        let now_s = Timestamp::from(now);
        let mut done = Sweep::default();
        let mut conn = self.db.pool.acquire().await?;
        let mut tx = Immediate::begin(&mut conn).await?;
        let days = |d: chrono::Duration| d.num_days();
        for (id, from, _, _) in
            store::waiting_since(&mut tx, &Timestamp::from(now - self.expire_after), false).await?
        {
            let detail = format!(
                "no answer from the merchant {} days after filing",
                days(self.expire_after)
            );
            let e = event(EventKind::Expired, &detail);
            if store::transition(&mut tx, id, from, RequestState::Expired, &e, &now_s).await? {
                tracing::warn!(request = %id, "expired: {detail}");
                done.expired.push(id);
            }
        }
        let remind_before = Timestamp::from(now - self.remind_after);
        let mut reminders: Vec<(crate::model::RequestId, String)> =
            store::waiting_since(&mut tx, &remind_before, true)
                .await?
                .into_iter()
                .map(|(id, from, store_domain, code)| (id, format!(
                    "still {from} {} days after filing; ask the client to approve the request for {} (Shopify admin → Settings → Users and permissions) before Shopify drops it",
                    days(self.remind_after),
                    crate::redact::hide_code(&store_domain, &code)
                )))
                .collect();
        // A request awaiting review never expires: nothing was filed, so
        // Shopify's clock has not started, and only an operator ends the
        // wait. Operators are reminded of it once.
        reminders.extend(
            store::awaiting_review_since(&mut tx, &remind_before)
                .await?
                .into_iter()
                .map(|(id, store_domain, code)| (id, format!(
                    "still awaiting review {} days after it arrived; approve it (`collabd approve {id}`, or on the status page) or cancel it, so that {} is filed or dropped",
                    days(self.remind_after),
                    crate::redact::hide_code(&store_domain, &code)
                ))),
        );
        for (id, detail) in reminders {
            let e = Event {
                request_id: Some(id),
                ..event(EventKind::Reminder, &detail)
            };
            store::add_event(&mut tx, &e, &now_s).await?;
            tracing::warn!(request = %id, "reminder: {detail}");
            done.reminded.push(id);
        }
        tx.commit().await?;
        Ok(done)
    }

    /// Tells operators about outcomes (granted, declined, revoked, failed,
    /// expired), requests awaiting review and reminders not yet announced,
    /// oldest first. Stops at the first message no channel took, to try it
    /// again on the next pass.
    pub async fn announce(&self, now: DateTime<Utc>) -> store::Result<usize> {
        let Some(notify) = &self.announcer else {
            return Ok(0);
        };
        let now_s = Timestamp::from(now);
        let mut conn = self.db.pool.acquire().await?;
        let mut sent = 0;
        for a in store::pending_announcements(&mut conn, 100).await? {
            // Both can carry text from mail: one line each, so neither can
            // forge a line of the message.
            let client = crate::render::line(a.client_name.as_deref().unwrap_or("a client"));
            let detail = crate::render::line(a.detail.as_deref().unwrap_or(""));
            let (subject, body) = match a.to_state.filter(|_| a.event != EventKind::Reminder) {
                Some(RequestState::AwaitingReview) => (
                    format!("Review {} ({client}) before it is filed", a.store_domain),
                    format!(
                        "Request #{id} for {} ({client}) is awaiting review: nothing is filed until an operator approves it.\n\
                         Approve: collabd approve {id} (or Approve on the status page)\n\
                         Cancel: collabd cancel {id}\n{detail}\n",
                        a.store_domain,
                        id = a.request_id
                    ),
                ),
                Some(state) => (
                    format!("{} is {state} ({client})", a.store_domain),
                    format!(
                        "Request #{} for {} ({client}) is now {state}.\n{detail}\n",
                        a.request_id, a.store_domain
                    ),
                ),
                None => (
                    format!("Still waiting on {} ({client})", a.store_domain),
                    format!("Request #{}: {detail}\n", a.request_id),
                ),
            };
            let (delivered, failed) = notify.send(&subject, &body).await;
            if delivered.is_empty() {
                tracing::warn!(request = %a.request_id, failed = %failed.join("; "), "could not tell operators; will try again");
                break;
            }
            store::advance_announcements(&mut conn, a.event_id, &now_s).await?;
            sent += 1;
        }
        Ok(sent)
    }

    /// Runs until `shutdown` fires, finishing the filings in hand. With
    /// several nodes on one PostgreSQL database, a filer that belongs to
    /// one machine (the browser) files only on the node holding its lock,
    /// and only the node holding the announcer's lock tells operators, so
    /// that nothing is told twice; every node sweeps (each change is made
    /// once, in its own transaction).
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut delay = self.poll_interval;
        let mut filing = Role::new(FILER_LOCK, self.filer.on_one_node());
        let mut announcing = Role::new(ANNOUNCER_LOCK, true);
        loop {
            let pass = async {
                let files_here = filing.held(&self.db).await;
                self.files_here.set(files_here);
                if files_here {
                    self.run_due_at(Clock::Live, &shutdown).await?;
                }
                let now = Utc::now();
                self.sweep(now).await?;
                if announcing.held(&self.db).await {
                    self.announce(now).await?;
                }
                Ok::<_, store::Error>(())
            }
            .await;
            match pass {
                Ok(()) => delay = self.poll_interval,
                Err(e) => {
                    // The database is unwell (disk full, locked): say so, wait
                    // longer, and try again; never stop filing for good.
                    delay = (delay * 2).min(Duration::from_secs(300));
                    tracing::error!(error = %e, retry_in = ?delay, "worker could not reach the database");
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }

    async fn claim(&self, now: DateTime<Utc>) -> store::Result<Option<Request>> {
        let lease_until =
            now + chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::minutes(5));
        let now_s = Timestamp::from(now);
        let mut conn = self.db.pool.acquire().await?;
        let mut tx = Immediate::begin(&mut conn).await?;
        let claimed =
            store::claim_next_request(&mut tx, &now_s, &Timestamp::from(lease_until)).await?;
        if let Some(r) = &claimed {
            let detail = format!(
                "attempt {} with the {} filer",
                r.attempts,
                self.filer.name()
            );
            store::add_event(
                &mut tx,
                &Event {
                    request_id: Some(r.id),
                    message_id: None,
                    actor: &Actor::Worker,
                    event: EventKind::Claimed,
                    from_state: None,
                    to_state: Some(RequestState::Filing),
                    detail: Some(&detail),
                },
                &now_s,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Records what filing `request` came to, in one write transaction;
    /// false when the attempt no longer held the request.
    async fn record(
        &self,
        request: &Request,
        result: &Result<crate::filer::Filed, Failure>,
        clock: Clock,
    ) -> store::Result<bool> {
        let now = clock.now();
        let now_s = Timestamp::from(now);
        let mut conn = self.db.pool.acquire().await?;
        let mut tx = Immediate::begin(&mut conn).await?;
        let held = match result {
            Ok(filed) => {
                store::finish_attempt(
                    &mut tx,
                    request.id,
                    request.attempts,
                    filed.state,
                    None,
                    &event(EventKind::Filed, &filed.detail),
                    &now_s,
                )
                .await?
            }
            Err(failure) => {
                let attempt = u32::try_from(request.attempts).unwrap_or(u32::MAX);
                match queue::decide(&self.policy, attempt, failure, now, queue::jitter()) {
                    Decision::RetryAt(at) => {
                        let at_s = Timestamp::from(at);
                        let detail = format!(
                            "attempt {attempt} failed: {}; retrying at {at_s}",
                            failure.message()
                        );
                        store::retry_attempt_at(
                            &mut tx,
                            request.id,
                            request.attempts,
                            failure.waiting_for(),
                            &at_s,
                            failure.message(),
                            &event(EventKind::Retry, &detail),
                            &now_s,
                        )
                        .await?
                    }
                    Decision::GiveUp => {
                        let why = match failure {
                            Failure::Permanent(_) => "a permanent error",
                            Failure::Transient(_) | Failure::Waiting(..) => {
                                "the last allowed attempt"
                            }
                        };
                        let detail =
                            format!("attempt {attempt} failed with {why}: {}", failure.message());
                        store::finish_attempt(
                            &mut tx,
                            request.id,
                            request.attempts,
                            RequestState::Failed,
                            Some(failure.message()),
                            &event(EventKind::Failed, &detail),
                            &now_s,
                        )
                        .await?
                    }
                }
            }
        };
        tx.commit().await?;
        Ok(held)
    }

    async fn file_one(&self, request: Request, clock: Clock) -> store::Result<()> {
        let filing = FilingRequest::from(&request);
        // Whatever a filer says comes from outside (a command's output, a
        // webhook's answer, a page's text) and may quote the code in any
        // form: it is masked once, here, before the timeline or the
        // journal sees it.
        let hide = crate::redact::Redactor::one(request.collaborator_code.expose());
        let result = match self.filer.file(&filing, &self.db).await {
            Ok(filed) => Ok(crate::filer::Filed {
                detail: hide.apply(&filed.detail).into_owned(),
                ..filed
            }),
            Err(failure) => Err(failure.map_message(|m| hide.apply(&m).into_owned())),
        };
        // What the filer did is recorded even if the database is away for
        // a moment (a PostgreSQL restart, a busy file): tried again, with
        // backoff, for half a lease, while the claim still holds. Not
        // recorded, the request is filed again when the lease runs out,
        // under the same idempotency key.
        let give_up = std::time::Instant::now() + self.lease / 2;
        let mut wait = Duration::from_secs(1);
        let held = loop {
            match self.record(&request, &result, clock).await {
                Ok(held) => break held,
                Err(e) if std::time::Instant::now() + wait < give_up => {
                    tracing::warn!(request = %request.id, "cannot record the filing's outcome yet: {e}; trying again in {} s", wait.as_secs());
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(30));
                }
                Err(e) => return Err(e),
            }
        };
        if !held {
            tracing::warn!(request = %request.id, attempt = request.attempts, "the claim expired before filing finished; a newer attempt owns the request");
            return Ok(());
        }
        // The journal tells what the timeline does (already masked), with
        // the store masked too: a store's name can quote the code.
        let store = hide.apply(request.store_domain.as_str());
        let store = store.as_ref();
        match &result {
            Ok(filed) => tracing::info!(
                request = %request.id,
                store,
                state = filed.state.as_str(),
                "filed: {}",
                filed.detail
            ),
            Err(failure) => tracing::warn!(
                request = %request.id,
                store,
                attempt = request.attempts,
                "filing attempt failed: {}",
                failure.message()
            ),
        }
        Ok(())
    }
}

/// Where a pass gets the time: fixed (tests, the demo) or the wall clock.
#[derive(Debug, Clone, Copy)]
enum Clock {
    Fixed(DateTime<Utc>),
    Live,
}

impl Clock {
    fn now(self) -> DateTime<Utc> {
        match self {
            Clock::Fixed(t) => t,
            Clock::Live => Utc::now(),
        }
    }
}

fn event(kind: EventKind, detail: &str) -> Event<'_> {
    Event {
        request_id: None,
        message_id: None,
        actor: &Actor::Worker,
        event: kind,
        from_state: None,
        to_state: None,
        detail: Some(detail),
    }
}

/// The lock of the node that files through a filer bound to one machine.
pub const FILER_LOCK: &str = "browser filer";
/// The lock of the node that tells operators of outcomes and reminders.
pub const ANNOUNCER_LOCK: &str = "announcer";

/// A part of the work one node of several does at a time: held while this
/// node holds its lock (always on SQLite, or when `exclusive` is false).
struct Role {
    name: &'static str,
    exclusive: bool,
    lock: Option<store::NodeLock>,
    /// Whether "another node does this" was said since the last change.
    told: bool,
}

impl Role {
    fn new(name: &'static str, exclusive: bool) -> Role {
        Role {
            name,
            exclusive,
            lock: None,
            told: false,
        }
    }

    /// Whether this node does this part now: it holds the lock and its
    /// connection still answers, or it just took it.
    async fn held(&mut self, db: &Db) -> bool {
        if !self.exclusive || !db.shared() {
            return true;
        }
        if let Some(lock) = &mut self.lock {
            if lock.alive().await {
                return true;
            }
            tracing::warn!(
                role = self.name,
                "lost this node's lock; another node may take the work over"
            );
            self.lock = None;
        }
        match db.try_lock(self.name).await {
            Ok(Some(lock)) => {
                tracing::info!(
                    role = self.name,
                    "this node now holds the lock and does this work"
                );
                self.lock = Some(lock);
                self.told = false;
                true
            }
            Ok(None) => {
                if !self.told {
                    tracing::info!(
                        role = self.name,
                        "another node holds the lock: this node leaves this work to it"
                    );
                    self.told = true;
                }
                false
            }
            Err(e) => {
                tracing::warn!(role = self.name, "cannot take the lock: {e}");
                false
            }
        }
    }
}
