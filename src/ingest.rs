//! One message from bytes to committed rows: classify it, store it, and apply
//! what it says (new requests, superseded codes, Shopify outcomes) in a
//! single transaction, so a failure stores nothing half-way and a message
//! seen twice changes nothing.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Connection;
use sqlx::sqlite::SqliteConnection;

use std::sync::Arc;
use std::time::Duration;

use crate::config::Review;
use crate::dkim::Verifier;
use crate::mail::{Classification, Classifier, Grant, Outcome};
use crate::model::{Actor, EventKind, MessageKind, RequestId, RequestState, StoreDomain};
use crate::store::{self, Db, Event, NewMessage, NewRequest, Source};

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

/// Ingests messages under one set of [`Rules`] into one database. Clones
/// share the rules: [`Ingestor::replace_rules`] (the daemon's reload)
/// changes them for the watcher, the webhook and the deferred-message
/// lane at once, each message being judged under one set throughout.
#[derive(Clone)]
pub struct Ingestor {
    pub db: Db,
    rules: Arc<std::sync::RwLock<Arc<Rules>>>,
}

/// How messages are judged and stored: what a reload may change.
#[derive(Clone)]
pub struct Rules {
    pub classifier: Classifier,
    /// Raw messages larger than this keep headers and classification only.
    pub max_raw_bytes: u64,
    /// Checks DKIM signatures over DNS when `[trust] require = "dkim"`.
    pub verifier: Arc<Verifier>,
    /// Which new requests wait for an operator's approval (`[worker]
    /// review`); decided where requests are created, for mail and the
    /// webhook alike.
    pub review: Review,
}

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

pub fn sha256_hex(raw: &[u8]) -> String {
    hex::encode(Sha256::digest(raw))
}

/// The digest a message is known by (`messages.sha256`): the SHA-256 of
/// its bytes, and for a webhook delivery of `leadsie-webhook\0` and its
/// body, so the same bytes once ingested as an email (by mistake) never
/// make a later delivery a no-op, nor the other way round.
pub fn digest(raw: &[u8], source: &Source) -> String {
    match source {
        Source::Webhook(_) => {
            let mut h = Sha256::new();
            h.update(b"leadsie-webhook\0");
            h.update(raw);
            hex::encode(h.finalize())
        }
        _ => sha256_hex(raw),
    }
}

impl Ingestor {
    pub fn new(db: Db, rules: Rules) -> Ingestor {
        Ingestor {
            db,
            rules: Arc::new(std::sync::RwLock::new(Arc::new(rules))),
        }
    }

    /// The rules in force now. A message is classified and its signature
    /// checked under one snapshot; a reload meanwhile counts from the next.
    pub fn rules(&self) -> Arc<Rules> {
        self.rules
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the rules for every clone of this ingestor.
    pub fn replace_rules(&self, rules: Rules) {
        *self
            .rules
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(rules);
    }

    /// Classifies a message off the async runtime within
    /// [`CLASSIFY_BUDGET`], then checks its DKIM signature when the trust
    /// policy asks for one. Never fails: a message over budget is
    /// `unparseable`, one whose DNS did not answer is [`Judged::Deferred`].
    pub async fn judge(&self, raw: &[u8]) -> Judged {
        let rules = self.rules();
        judge(&rules.classifier, &rules.verifier, raw).await
    }

    /// [`Ingestor::judge`] for a batch, in order, on at most one thread
    /// per core; `progress` is called as each message is classified.
    pub async fn judge_all(&self, raws: &[&[u8]], progress: &(dyn Fn() + Sync)) -> Vec<Judged> {
        let rules = self.rules();
        judge_all_with(&rules.classifier, &rules.verifier, raws, progress).await
    }

    /// Classifies and stores one message in its own transaction, on a
    /// connection from the pool.
    pub async fn ingest(
        &self,
        raw: &[u8],
        source: &Source,
        now: DateTime<Utc>,
    ) -> store::Result<IngestReport> {
        let mut conn = self.db.pool.acquire().await?;
        self.ingest_on(&mut conn, raw, source, now, now).await
    }

    /// Like [`Ingestor::ingest`], on a connection the caller holds for a run
    /// of messages: taking one from the pool per message costs more than the
    /// message's own statements. `received` is when the message reached
    /// the agency (`collabd ingest --received`; else now).
    pub async fn ingest_on(
        &self,
        conn: &mut SqliteConnection,
        raw: &[u8],
        source: &Source,
        received: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> store::Result<IngestReport> {
        // Judge before taking the write lock: it may wait on DNS.
        let judged = self.judge(raw).await;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        let report = self
            .store_in(&mut tx, raw, &judged, source, received, now)
            .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Stores one Leadsie webhook delivery in its own transaction, as a
    /// message with `source = 'webhook'`, idempotent on its digest like
    /// mail: its grants become requests exactly as an email's do (the same
    /// store and code from either way in is one request), and a body that
    /// is not a Leadsie payload is kept as `rejected`, so nothing is lost.
    /// Returns why the body was refused, if it was. No DKIM: the endpoint's
    /// secret path is the webhook's authentication. `received` orders its
    /// codes against others for the same store, as an email's does.
    pub async fn ingest_webhook(
        &self,
        body: &[u8],
        source: &Source,
        received: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> store::Result<(IngestReport, Option<crate::leadsie::NotAPayload>)> {
        // Off the async runtime: a megabyte of JSON is work.
        let read = {
            let body = body.to_vec();
            tokio::task::spawn_blocking(move || crate::leadsie::read_payload(&body)).await
        };
        let read = read.unwrap_or_else(|e| {
            Err(crate::leadsie::NotAPayload(format!(
                "the payload reader failed ({e}); please report this delivery"
            )))
        });
        let (c, refused) = match read {
            Ok(c) => (c, None),
            Err(why) => (
                Classification::new(
                    MessageKind::Rejected,
                    format!("Leadsie webhook: {why}"),
                    crate::mail::MessageMeta {
                        subject: Some("Leadsie webhook (not a payload)".into()),
                        ..Default::default()
                    },
                ),
                Some(why),
            ),
        };
        let mut conn = self.db.pool.acquire().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        let report = self
            .store_in(&mut tx, body, &Judged::Ready(c), source, received, now)
            .await?;
        tx.commit().await?;
        Ok((report, refused))
    }

    /// Stores an already classified message inside the caller's
    /// transaction, so that a caller (the IMAP watcher) can advance its
    /// checkpoint in the same commit; classify before taking the write lock.
    ///
    /// `received` is when the message reached the mailbox (IMAP
    /// INTERNALDATE) or collabd; it orders codes for one store, and is
    /// clamped to `now`. The Date header, which the sender writes, decides
    /// nothing.
    pub async fn store_in(
        &self,
        conn: &mut SqliteConnection,
        raw: &[u8],
        judged: &Judged,
        source: &Source,
        received: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> store::Result<IngestReport> {
        let sha = digest(raw, source);
        let now_s = store::timestamp(now);
        let received_s = store::timestamp(received.min(now));
        let c = match judged {
            Judged::Ready(c) => c,
            Judged::Deferred(c, why) => {
                if let Some(id) = store::message_id_by_sha(conn, &sha).await? {
                    return Ok(IngestReport::duplicate(id));
                }
                let next = store::timestamp(now + deferred_backoff(0));
                let (id, new) =
                    store::defer_message(conn, &sha, source, raw, &received_s, &next, why).await?;
                let reason = format!(
                    "{}; its DKIM signature could not be checked because DNS failed: {why}; it will be judged again",
                    c.kind
                );
                return Ok(IngestReport {
                    deferred: Some(id),
                    ..IngestReport::new(0, MessageKind::Deferred, new, Some(reason))
                });
            }
        };
        // A Date in the future is the sender's claim, not a fact: clamp it.
        let date = c
            .meta
            .date
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(|d| store::timestamp(d.min(now)));
        // Ordinary mail read from a mailbox keeps its bytes there: a
        // backfill would otherwise copy the whole mailbox into the
        // database. Mail handed over by a file or a pipe has no other copy.
        let elsewhere = c.unrelated && matches!(source, Source::Imap { .. });
        // A webhook body is always kept, for audit: the endpoint takes at
        // most a megabyte.
        let webhook = matches!(source, Source::Webhook(_))
            && raw.len() <= crate::leadsie::endpoint::MAX_BODY_BYTES;
        let rules = self.rules();
        let keep_raw = webhook || ((raw.len() as u64) <= rules.max_raw_bytes && !elsewhere);
        let new = NewMessage {
            sha256: &sha,
            source,
            message_id: c.meta.message_id.as_deref(),
            from_addr: c.meta.from.as_deref(),
            original_from: c.meta.original_from.as_deref(),
            subject: c.meta.subject.as_deref(),
            date: date.as_deref(),
            kind: c.kind,
            reason: c.reason.as_deref(),
            raw: keep_raw.then_some(raw),
            raw_size: raw.len(),
            received_at: &received_s,
        };
        // The unique digest makes a message seen before a no-op.
        let Some(message) = store::insert_message(conn, &new).await? else {
            let id = store::message_id_by_sha(conn, &sha).await?.unwrap_or(0);
            // Mail first seen in the mailbox was stored without its bytes;
            // handed over again (saved from the mail client), they are kept
            // now, so that `collabd rejudge` can judge it again.
            if keep_raw && !matches!(source, Source::Imap { .. }) {
                store::keep_missing_raw(conn, id, raw).await?;
            }
            return Ok(IngestReport::duplicate(id));
        };
        let mut report = IngestReport::new(message, c.kind, true, c.reason.clone());
        apply(
            conn,
            c,
            message,
            &received_s,
            &now_s,
            rules.review,
            &mut report,
        )
        .await?;
        Ok(report)
    }
}

impl Ingestor {
    /// Judges again the messages that wait because DNS failed, every
    /// `every`, until `shutdown`. Each leaves the waiting room in the
    /// transaction that stores it; another DNS failure postpones it with
    /// backoff. Nothing is accepted unverified and nothing is dropped.
    pub async fn rejudge_deferred(
        &self,
        every: Duration,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        loop {
            if let Err(e) = self.rejudge_due(chrono::Utc::now()).await {
                tracing::warn!("could not judge deferred messages again: {e}; trying later");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    /// One pass over the deferred messages due at `now`; returns how many
    /// were stored.
    pub async fn rejudge_due(&self, now: DateTime<Utc>) -> store::Result<usize> {
        let mut conn = self.db.pool.acquire().await?;
        let due = store::due_deferred(&mut conn, &store::timestamp(now), 100).await?;
        let mut stored = 0;
        for d in due {
            let judged = self.judge(&d.raw).await;
            let now = chrono::Utc::now();
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
            match &judged {
                Judged::Deferred(_, why) => {
                    let next = store::timestamp(now + deferred_backoff(d.attempts));
                    store::postpone_deferred(&mut tx, d.id, &next, why).await?;
                    tracing::warn!(
                        deferred = d.id,
                        attempts = d.attempts + 1,
                        "a message still cannot be judged: DNS failed ({why}); next try at {next}"
                    );
                }
                Judged::Ready(_) => {
                    let received = DateTime::parse_from_rfc3339(&d.received_at)
                        .map(|t| t.with_timezone(&Utc))
                        .unwrap_or(now);
                    let report = self
                        .store_in(&mut tx, &d.raw, &judged, &d.source, received, now)
                        .await?;
                    store::forget_deferred(&mut tx, d.id).await?;
                    stored += 1;
                    tracing::info!(
                        message_id = report.message,
                        kind = report.kind.as_str(),
                        "judged a deferred message"
                    );
                }
            }
            tx.commit().await?;
        }
        Ok(stored)
    }
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

    fn duplicate(message: i64) -> IngestReport {
        IngestReport::new(
            message,
            MessageKind::Ignored,
            false,
            Some("already ingested (same bytes); nothing changed".into()),
        )
    }
}

pub(crate) async fn apply(
    conn: &mut SqliteConnection,
    c: &Classification,
    message: i64,
    received: &str,
    now: &str,
    review: Review,
    report: &mut IngestReport,
) -> store::Result<()> {
    if c.kind == MessageKind::LeadsieGrant {
        for g in &c.grants {
            apply_grant(conn, g, message, Some(received), now, review, report).await?;
        }
    }
    if let Some(outcome) = &c.outcome {
        report.outcome_applied = apply_outcome(conn, outcome, message, now).await?;
    }
    Ok(())
}

/// Creates the request a grant asks for — the one place requests are made,
/// for mail and the webhook alike — or notes a grant seen before, and
/// supersedes the store's older open requests. Whether the new request
/// waits for review is decided here, from `review`.
async fn apply_grant(
    conn: &mut SqliteConnection,
    g: &Grant,
    message: i64,
    date: Option<&str>,
    now: &str,
    review: Review,
    report: &mut IngestReport,
) -> store::Result<()> {
    if let Some(existing) = store::find_request(conn, &g.store, &g.code).await? {
        // A re-sent or re-forwarded grant: same request, noted on its timeline.
        let adds_details = (existing.client_name.is_none() && g.client.is_some())
            || (existing.client_email.is_none() && g.client_email.is_some());
        if adds_details {
            store::fill_client_details(
                conn,
                existing.id,
                g.client.as_deref(),
                g.client_email.as_deref(),
            )
            .await?;
        }
        store::add_event(
            conn,
            &Event {
                request_id: Some(existing.id),
                message_id: Some(message),
                actor: &Actor::Leadsie,
                event: EventKind::SeenAgain,
                from_state: None,
                to_state: None,
                detail: Some("the same store and code arrived again; no new request"),
            },
            now,
        )
        .await?;
        report.seen_again.push(existing.id);
        return Ok(());
    }
    // Every earlier request for the store, in any state: one is enough to
    // make it a store the agency has seen.
    let earlier = store::requests_for_store(conn, g.store.as_str()).await?;
    let seen_before = !earlier.is_empty();
    let open: Vec<_> = earlier.into_iter().filter(|r| r.state.is_open()).collect();
    // A merchant who regenerates the code invalidates the old one: the newer
    // grant wins. Order by when each message was received (never by its
    // Date header, which the sender writes), so a late re-forward of an old
    // email cannot undo a newer code.
    let newer_open = open.iter().find(|r| match (date, r.grant_date.as_deref()) {
        (Some(ours), Some(theirs)) => theirs > ours,
        _ => false,
    });
    let new_request = |state| NewRequest {
        store: &g.store,
        code: &g.code,
        client_name: g.client.as_deref(),
        client_email: g.client_email.as_deref(),
        request_name: g.request_name.as_deref(),
        request_url: g.request_url.as_deref(),
        state,
        source_message_id: message,
    };
    if let Some(newer) = newer_open {
        let detail = format!(
            "an older code for this store; request #{} holds a newer one",
            newer.id
        );
        let id = store::create_request(conn, &new_request(RequestState::Superseded), now, &detail)
            .await?;
        report.created.push(id);
        return Ok(());
    }
    // With review on, a newer code for a store whose request still awaits
    // review waits too: a merchant's new code must not skip the review.
    let inherits = open.iter().any(|r| r.state == RequestState::AwaitingReview);
    let why = match (review, seen_before, inherits) {
        (Review::None, _, _) => None,
        (Review::All, _, _) => Some("review = \"all\""),
        (Review::NewStores, false, _) => {
            Some("review = \"new-stores\": no request for this store before")
        }
        (Review::NewStores, true, true) => {
            Some("a newer code for a store whose request was still awaiting review")
        }
        (Review::NewStores, true, false) => None,
    };
    let (state, detail) = match why {
        Some(why) => (
            RequestState::AwaitingReview,
            format!(
                "Leadsie grant received; awaiting review ({why}): approve with `collabd approve` or on the status page, or cancel"
            ),
        ),
        None => (RequestState::Queued, "Leadsie grant received".to_owned()),
    };
    let id = store::create_request(conn, &new_request(state), now, &detail).await?;
    report.created.push(id);
    for old in open {
        let detail = format!(
            "superseded by request #{id}: the merchant sent a newer code ({})",
            g.code.masked()
        );
        let from = old.state;
        let moved = store::transition(
            conn,
            old.id,
            from,
            RequestState::Superseded,
            &Event {
                request_id: Some(old.id),
                message_id: Some(message),
                actor: &Actor::Leadsie,
                event: EventKind::Superseded,
                from_state: None,
                to_state: None,
                detail: Some(&detail),
            },
            now,
        )
        .await?;
        if moved {
            report.superseded.push(old.id);
        }
    }
    Ok(())
}

/// Finds the request an outcome is about and moves it; records an event
/// either way. Returns the request moved.
async fn apply_outcome(
    conn: &mut SqliteConnection,
    o: &Outcome,
    message: i64,
    now: &str,
) -> store::Result<Option<RequestId>> {
    let to = o.result.state();
    let (candidates, named) = match (&o.store, &o.store_name) {
        (Some(domain), _) => (
            store::requests_for_store(conn, domain.as_str()).await?,
            domain.to_string(),
        ),
        (None, Some(name)) => {
            let mut by_name = store::requests_for_client_name(conn, name).await?;
            if let Some(slug) = slug_domain(name) {
                by_name.extend(store::requests_for_store(conn, slug.as_str()).await?);
            }
            by_name.sort_by_key(|r| std::cmp::Reverse(r.id));
            by_name.dedup_by_key(|r| r.id);
            (by_name, format!("\"{name}\""))
        }
        (None, None) => (Vec::new(), "an unnamed store".to_owned()),
    };
    let by_name = o.store.is_none();
    // Mail moves only requests that were filed: a reply about one still
    // queued cannot be an answer to us, so a person should look.
    let unfiled: Vec<_> = candidates
        .iter()
        .filter(|r| r.state.can_move_to(to) && !r.state.mail_may_move_to(to))
        .collect();
    let movable: Vec<_> = candidates
        .iter()
        .filter(|r| r.state.mail_may_move_to(to))
        .collect();
    let open = candidates.iter().filter(|r| r.state.is_open()).count();
    let stores: std::collections::BTreeSet<&str> =
        movable.iter().map(|r| r.store_domain.as_str()).collect();
    // A name is a weak key: it decides only when exactly one request fits.
    let ambiguous = stores.len() > 1 || (by_name && (movable.len() > 1 || open > 1));
    if ambiguous {
        let ids: Vec<String> = candidates.iter().map(|r| format!("#{}", r.id)).collect();
        let detail = format!(
            "Shopify says {} for {named}, which matches several requests ({}); mark the right one with `collabd mark`",
            o.result,
            ids.join(", ")
        );
        unmatched(conn, message, &detail, now).await?;
        return Ok(None);
    }
    if movable.is_empty()
        && let Some(r) = unfiled.first()
    {
        let detail = format!(
            "Shopify says {} for {named}, but request #{} is {} and was never filed, so mail cannot answer it; check the store and mark it by hand",
            o.result, r.id, r.state
        );
        store::add_event(
            conn,
            &Event {
                request_id: Some(r.id),
                message_id: Some(message),
                actor: &Actor::Shopify,
                event: EventKind::OutcomeUnfiled,
                from_state: None,
                to_state: None,
                detail: Some(&detail),
            },
            now,
        )
        .await?;
        unmatched(conn, message, &detail, now).await?;
        return Ok(None);
    }
    if let Some(target) = movable.first() {
        let from = target.state;
        let detail = format!("Shopify: {} ({named})", o.result);
        store::transition(
            conn,
            target.id,
            from,
            to,
            &Event {
                request_id: Some(target.id),
                message_id: Some(message),
                actor: &Actor::Shopify,
                event: EventKind::Outcome,
                from_state: None,
                to_state: None,
                detail: Some(&detail),
            },
            now,
        )
        .await?;
        return Ok(Some(target.id));
    }
    if let Some(latest) = candidates.first() {
        let detail = format!(
            "Shopify says {} for {named}; the request is already {}, so nothing changed",
            o.result, latest.state
        );
        store::add_event(
            conn,
            &Event {
                request_id: Some(latest.id),
                message_id: Some(message),
                actor: &Actor::Shopify,
                event: EventKind::OutcomeIgnored,
                from_state: None,
                to_state: None,
                detail: Some(&detail),
            },
            now,
        )
        .await?;
        return Ok(None);
    }
    let detail = format!(
        "Shopify says {} for {named}, but no request matches it",
        o.result
    );
    unmatched(conn, message, &detail, now).await?;
    Ok(None)
}

async fn unmatched(
    conn: &mut SqliteConnection,
    message: i64,
    detail: &str,
    now: &str,
) -> store::Result<()> {
    store::add_event(
        conn,
        &Event {
            request_id: None,
            message_id: Some(message),
            actor: &Actor::Shopify,
            event: EventKind::UnmatchedOutcome,
            from_state: None,
            to_state: None,
            detail: Some(detail),
        },
        now,
    )
    .await
}

/// "Acme Boutique" → `acme-boutique.myshopify.com`, Shopify's default handle.
fn slug_domain(name: &str) -> Option<StoreDomain> {
    let mut slug = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    StoreDomain::from_handle(slug.trim_end_matches('-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(
            slug_domain("Acme Boutique").unwrap().as_str(),
            "acme-boutique.myshopify.com"
        );
        assert_eq!(
            slug_domain("  Zeta & Co. ").unwrap().as_str(),
            "zeta-co.myshopify.com"
        );
        assert!(slug_domain("!!!").is_none());
    }

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
