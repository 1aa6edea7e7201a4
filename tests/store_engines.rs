//! The store's API on both engines: every scenario here runs once on a
//! SQLite file and once on a real PostgreSQL 15 (its own cluster), through
//! the same calls the daemon makes, and must come out the same. A
//! statement one engine reads differently (a type, a function, an
//! operator) fails here, named by its scenario and engine.

mod support;

use std::sync::Arc;

use collabd::model::{
    Actor, CollaboratorCode, EventKind, MessageKind, RequestId, RequestState, SessionState,
    StoreDomain, WatcherState,
};
use collabd::store::web::{ListFilter, SortBy};
use collabd::store::{
    self, BrowserLedger, Db, Event, Immediate, NewMessage, NewRequest, Source, StoredSession,
    WatcherHealth,
};
use collabd::timestamp::Timestamp;
use support::postgres::Postgres;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn store(handle: &str) -> StoreDomain {
    StoreDomain::from_handle(handle).unwrap()
}

fn code(c: &str) -> CollaboratorCode {
    CollaboratorCode::parse(c).unwrap()
}

/// A message from an IMAP folder, and its new id.
async fn message(db: &Db, sha: &str, uid: u32, raw: &[u8]) -> Option<i64> {
    let mut conn = db.pool.acquire().await.unwrap();
    let source = Source::Imap {
        account: "clients".into(),
        mailbox: "leads@example.com/INBOX".into(),
        uidvalidity: 7,
        uid,
    };
    store::insert_message(
        &mut conn,
        &NewMessage {
            sha256: sha,
            source: &source,
            message_id: Some("<m@example.com>"),
            from_addr: Some("grants@leadsie.com"),
            original_from: None,
            subject: Some("Access granted"),
            date: Some(&t("2026-11-01T10:00:00Z")),
            kind: MessageKind::LeadsieGrant,
            reason: None,
            raw: Some(raw),
            raw_size: raw.len(),
            received_at: &t("2026-11-01T10:00:05Z"),
        },
    )
    .await
    .unwrap()
}

async fn request(db: &Db, handle: &str, c: &str, message: i64, now: &str) -> RequestId {
    let mut conn = db.pool.acquire().await.unwrap();
    let mut tx = Immediate::begin(&mut conn).await.unwrap();
    let id = store::create_request(
        &mut tx,
        &NewRequest {
            store: &store(handle),
            code: &code(c),
            client_name: Some("Acme Outfitters"),
            client_email: Some("owner@acme.example"),
            request_name: None,
            request_url: None,
            state: RequestState::Queued,
            source_message_id: message,
        },
        &t(now),
        "from a Leadsie email",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

fn claimed_event(id: RequestId) -> Event<'static> {
    Event {
        request_id: Some(id),
        message_id: None,
        actor: &Actor::Worker,
        event: EventKind::Claimed,
        from_state: Some(RequestState::Queued),
        to_state: Some(RequestState::Filing),
        detail: None,
    }
}

/// Messages: stored once by digest, read back whole (bytes, source, UIDs),
/// judged again, counted, their bytes purged after retention.
async fn messages(db: &Db) {
    let raw = b"From: grants@leadsie.com\r\n\r\nstore acme, code 0105\xff\x00".to_vec();
    let id = message(db, "aa", 4_000_000_000, &raw).await.unwrap();
    assert_eq!(message(db, "aa", 5, &raw).await, None, "stored twice");
    let mut conn = db.pool.acquire().await.unwrap();
    assert_eq!(
        store::message_id_by_sha(&mut conn, "aa").await.unwrap(),
        Some(id)
    );
    let m = store::stored_message(&mut conn, id).await.unwrap().unwrap();
    assert_eq!(m.raw.as_deref(), Some(&raw[..]));
    assert_eq!(m.kind, MessageKind::LeadsieGrant);
    assert_eq!(m.source, "imap");
    let shown = collabd::store::web::message(&db.pool, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shown.id, id);
    assert!(
        store::set_verdict(
            &mut conn,
            id,
            MessageKind::LeadsieGrant,
            MessageKind::Ignored,
            Some("x")
        )
        .await
        .unwrap()
    );
    assert!(
        !store::set_verdict(
            &mut conn,
            id,
            MessageKind::LeadsieGrant,
            MessageKind::Rejected,
            None
        )
        .await
        .unwrap(),
        "a verdict changed from one it no longer has"
    );
    let (ids, others) = store::message_ids_since(&mut conn, &t("2026-11-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!((ids, others), (vec![id], 0));
    let counts = store::message_counts(&db.pool).await.unwrap();
    assert_eq!(counts, vec![(MessageKind::Ignored, 1)]);
    let purged = store::purge_raw_older_than(&db.pool, 3, &t("2026-11-10T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(purged, 1);
    let m = store::stored_message(&mut conn, id).await.unwrap().unwrap();
    assert_eq!(m.raw, None);
    assert!(store::keep_missing_raw(&mut conn, id, &raw).await.unwrap());
    assert_eq!(
        collabd::store::web::message_raw(&db.pool, id)
            .await
            .unwrap()
            .as_deref(),
        Some(&raw[..])
    );
}

/// Requests: created with their event, found by store, code and client,
/// moved only from the state they are in, shown in status and timelines.
async fn requests(db: &Db) {
    let m = message(db, "r1", 1, b"grant").await.unwrap();
    let id = request(db, "acme", "0105", m, "2026-11-01T10:00:05Z").await;
    let mut conn = db.pool.acquire().await.unwrap();
    let found = store::find_request(&mut conn, &store("acme"), &code("0105"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, id);
    assert_eq!(found.state, RequestState::Queued);
    assert_eq!(found.grant_date, Some(t("2026-11-01T10:00:05Z")));
    assert_eq!(
        store::requests_for_client_name(&mut conn, "ACME outfitters")
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store::requests_from_message(&mut conn, m)
            .await
            .unwrap()
            .len(),
        1
    );
    store::fill_client_details(&mut conn, id, Some("Other"), Some("x@y.example"))
        .await
        .unwrap();
    let r = store::get_request(&mut conn, id).await.unwrap();
    assert_eq!(r.client_name.as_deref(), Some("Acme Outfitters"), "kept");
    let cancel = Event {
        request_id: Some(id),
        message_id: None,
        actor: &Actor::Operator("ana".into()),
        event: EventKind::Operator,
        from_state: Some(RequestState::Queued),
        to_state: Some(RequestState::Cancelled),
        detail: Some("not ours"),
    };
    let now = t("2026-11-01T11:00:00Z");
    let mut tx = Immediate::begin(&mut conn).await.unwrap();
    assert!(
        store::transition(
            &mut tx,
            id,
            RequestState::Queued,
            RequestState::Cancelled,
            &cancel,
            &now
        )
        .await
        .unwrap()
    );
    assert!(
        !store::transition(
            &mut tx,
            id,
            RequestState::Queued,
            RequestState::Cancelled,
            &cancel,
            &now
        )
        .await
        .unwrap(),
        "moved from a state it had left"
    );
    tx.commit().await.unwrap();
    let events = store::events_for(&db.pool, id).await.unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.event).collect();
    assert_eq!(kinds, vec![EventKind::Created, EventKind::Operator]);
    assert_eq!(events[1].actor, Actor::Operator("ana".into()));
    assert_eq!(events[0].message_source.as_deref(), Some("imap"));
    let rows = store::status_rows(&db.pool, Some(RequestState::Cancelled))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(store::get_request(&mut conn, RequestId(999)).await.is_err());
    let timeline = collabd::store::web::timeline(&db.pool, id.0).await.unwrap();
    assert_eq!(timeline.len(), 2);
}

/// The queue: concurrent claimers on connections of their own each get a
/// different request, every request exactly once; a finished attempt
/// cannot be finished again by a stale one; a retry makes it due later.
async fn claims(db: &Db) {
    let m = message(db, "q", 1, b"grant").await.unwrap();
    let total = 40;
    for i in 0..total {
        request(db, &format!("shop{i}"), "0105", m, "2026-11-01T10:00:00Z").await;
    }
    let now = t("2026-11-01T10:00:01Z");
    let lease = t("2026-11-01T10:10:00Z");
    let claimed = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut workers = Vec::new();
    for _ in 0..5 {
        let (db, claimed) = (db.clone(), claimed.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let mut conn = db.pool.acquire().await.unwrap();
                let mut tx = Immediate::begin(&mut conn).await.unwrap();
                let Some(r) = store::claim_next_request(&mut tx, &now, &lease)
                    .await
                    .unwrap()
                else {
                    break;
                };
                store::add_event(&mut tx, &claimed_event(r.id), &now)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                claimed.lock().unwrap().push((r.id, r.attempts));
                tokio::task::yield_now().await;
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let mut claimed = claimed.lock().unwrap().clone();
    claimed.sort();
    let before = claimed.len();
    claimed.dedup_by_key(|c| c.0);
    assert_eq!(before, claimed.len(), "a request was handed out twice");
    assert_eq!(claimed.len(), total);
    assert!(claimed.iter().all(|(_, attempts)| *attempts == 1));

    let (first, _) = claimed[0];
    let mut conn = db.pool.acquire().await.unwrap();
    let filed = Event {
        event: EventKind::Filed,
        from_state: Some(RequestState::Filing),
        to_state: Some(RequestState::Requested),
        ..claimed_event(first)
    };
    let mut tx = Immediate::begin(&mut conn).await.unwrap();
    assert!(
        !store::finish_attempt(
            &mut tx,
            first,
            2,
            RequestState::Requested,
            None,
            &filed,
            &now
        )
        .await
        .unwrap(),
        "an attempt that never held the request finished it"
    );
    assert!(
        store::finish_attempt(
            &mut tx,
            first,
            1,
            RequestState::Requested,
            None,
            &filed,
            &now
        )
        .await
        .unwrap()
    );
    tx.commit().await.unwrap();
    let (second, _) = claimed[1];
    let retry = Event {
        event: EventKind::Retry,
        from_state: Some(RequestState::Filing),
        to_state: Some(RequestState::Queued),
        ..claimed_event(second)
    };
    let later = t("2026-11-01T12:00:00Z");
    let mut tx = Immediate::begin(&mut conn).await.unwrap();
    assert!(
        store::retry_attempt_at(&mut tx, second, 1, None, &later, "HTTP 503", &retry, &now)
            .await
            .unwrap()
    );
    // Not due yet: nothing to claim (the rest are held under their lease).
    assert!(
        store::claim_next_request(&mut tx, &now, &lease)
            .await
            .unwrap()
            .is_none()
    );
    // Due: claimed again, as its second attempt.
    let again = store::claim_next_request(&mut tx, &later, &t("2026-11-01T12:10:00Z"))
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    // A lease that ran out is claimed before anything else: by then every
    // other claim's lease had run out too, and one of those comes first.
    assert!(again.attempts == 2 || again.id != second, "{again:?}");
    assert_eq!(
        store::waiting_since(&mut conn, &now, true)
            .await
            .unwrap()
            .len(),
        1
    );
    let f = store::figures(&db.pool, &t("2026-11-02T00:00:00Z"), 900)
        .await
        .unwrap();
    assert!(
        f.overdue >= 1,
        "leases long run out count as overdue: {f:?}"
    );
    assert_eq!((f.filer_attempts, f.filer_failures), (40, 1));
}

/// IMAP bookkeeping: checkpoints, pending after-processing, watcher health.
async fn mailboxes(db: &Db) {
    let mut conn = db.pool.acquire().await.unwrap();
    let mb = "leads@example.com/INBOX";
    assert_eq!(
        store::mailbox_checkpoint(&mut conn, mb).await.unwrap(),
        None
    );
    let now = t("2026-11-01T10:00:00Z");
    store::set_checkpoint(&mut conn, mb, 7, 12, &now)
        .await
        .unwrap();
    store::set_checkpoint(&mut conn, mb, 7, 4_000_000_000, &now)
        .await
        .unwrap();
    // Forward only within one UIDVALIDITY (a node that lost the folder
    // cannot move the new holder's checkpoint back) ...
    store::set_checkpoint(&mut conn, mb, 7, 12, &now)
        .await
        .unwrap();
    assert_eq!(
        store::mailbox_checkpoint(&mut conn, mb).await.unwrap(),
        Some((Some(7), 4_000_000_000))
    );
    // ... and from the start again under a new one.
    store::set_checkpoint(&mut conn, mb, 8, 0, &now)
        .await
        .unwrap();
    store::set_checkpoint(&mut conn, mb, 8, 12, &now)
        .await
        .unwrap();
    assert_eq!(
        store::mailbox_checkpoint(&mut conn, mb).await.unwrap(),
        Some((Some(8), 12))
    );
    for uid in [3, 4, 5] {
        store::add_pending_action(&mut conn, mb, 7, uid, &now)
            .await
            .unwrap();
    }
    store::add_pending_action(&mut conn, mb, 7, 3, &now)
        .await
        .unwrap();
    store::settle_actions(&mut conn, mb, 7, &[3], None, &now)
        .await
        .unwrap();
    store::settle_actions(&mut conn, mb, 7, &[4], Some("NO"), &now)
        .await
        .unwrap();
    assert_eq!(
        store::pending_actions(&mut conn, mb).await.unwrap(),
        vec![(7, 4), (7, 5)]
    );
    assert_eq!(
        store::drop_stale_actions(&mut conn, mb, 8).await.unwrap(),
        2
    );
    let health = WatcherHealth::without_error(WatcherState::Idle, true);
    store::set_watcher_health(&db.pool, mb, "clients", &health, &now)
        .await
        .unwrap();
    let rows = store::mailbox_rows(&db.pool).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].connected);
    assert_eq!(rows[0].account, "clients");
}

/// The status page's sessions and sign-in limits, shared by every node.
async fn sessions(db: &Db) {
    let now = t("2026-11-01T10:00:00Z");
    let s = StoredSession {
        name: "ana".into(),
        csrf: "c".repeat(64),
        password_tag: "tag".into(),
        expires_at: t("2026-11-01T18:00:00Z"),
    };
    store::start_session(&db.pool, "digest", &s, &now)
        .await
        .unwrap();
    let live = store::live_session(&db.pool, "digest", &now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(live.name, "ana");
    // An action's result, kept for the next page of the session, once.
    assert_eq!(store::take_flash(&db.pool, "digest").await.unwrap(), None);
    store::set_flash(&db.pool, "digest", false, "cannot cancel: already granted")
        .await
        .unwrap();
    store::set_flash(&db.pool, "digest", true, "cancel by ana: now cancelled")
        .await
        .unwrap();
    assert_eq!(
        store::take_flash(&db.pool, "digest").await.unwrap(),
        Some((true, "cancel by ana: now cancelled".to_owned()))
    );
    assert_eq!(store::take_flash(&db.pool, "digest").await.unwrap(), None);
    assert!(
        store::live_session(&db.pool, "digest", &t("2026-11-02T00:00:00Z"))
            .await
            .unwrap()
            .is_none(),
        "an expired session is live"
    );
    store::end_session(&db.pool, "digest").await.unwrap();
    assert!(
        store::live_session(&db.pool, "digest", &now)
            .await
            .unwrap()
            .is_none()
    );
    for minute in 0..5 {
        let at = t(&format!("2026-11-01T10:0{minute}:00Z"));
        store::record_sign_in_failure(&db.pool, "10.0.0.1", "n", &at, 3)
            .await
            .unwrap();
    }
    let tally = store::sign_in_failures(&db.pool, "10.0.0.1", "n", &t("2026-11-01T09:00:00Z"))
        .await
        .unwrap();
    assert_eq!(
        (tally.name, tally.source, tally.total),
        (3, 3, 3),
        "kept the last `keep`"
    );
    store::forget_stale_sign_ins(&db.pool, &now, &t("2026-11-01T10:03:00Z"))
        .await
        .unwrap();
    let tally = store::sign_in_failures(&db.pool, "10.0.0.1", "n", &t("2026-11-01T09:00:00Z"))
        .await
        .unwrap();
    assert_eq!(tally.total, 1);
    assert_eq!(tally.name_oldest, Some(t("2026-11-01T10:04:00Z")));
}

/// The status page's queries: search (any case, with LIKE's own characters
/// taken literally), the signed-out guard on digits, every sort, counts.
async fn web(db: &Db) {
    let m = message(db, "w", 1, b"grant").await.unwrap();
    for (handle, c) in [
        ("acme", "0105"),
        ("shop-1234", "0106"),
        ("under_score", "0107"),
    ] {
        request(db, handle, c, m, "2026-11-01T10:00:00Z").await;
    }
    let filter = |search: &str, signed_out: bool, sort: SortBy| ListFilter {
        state: None,
        search: Some(search.to_owned()),
        sort,
        descending: true,
        offset: 0,
        limit: 10,
        signed_out,
    };
    let (rows, total) =
        collabd::store::web::list_requests(&db.pool, &filter("SHOP-", false, SortBy::Id))
            .await
            .unwrap();
    assert_eq!((rows.len(), total), (1, 1));
    let (_, total) = collabd::store::web::list_requests(&db.pool, &filter("_", false, SortBy::Id))
        .await
        .unwrap();
    assert_eq!(total, 1, "`_` matched as a wildcard");
    let (_, total) = collabd::store::web::list_requests(&db.pool, &filter("12", false, SortBy::Id))
        .await
        .unwrap();
    assert_eq!(total, 1);
    let (_, total) = collabd::store::web::list_requests(&db.pool, &filter("12", true, SortBy::Id))
        .await
        .unwrap();
    assert_eq!(total, 0, "a signed-out search confirmed four digits");
    for sort in SortBy::ALL {
        let (rows, total) = collabd::store::web::list_requests(&db.pool, &filter("", false, sort))
            .await
            .unwrap();
        assert_eq!((rows.len(), total), (3, 3), "{sort:?}");
    }
    let counts = collabd::store::web::counts_by_state(&db.pool)
        .await
        .unwrap();
    assert_eq!(counts, vec![(RequestState::Queued, 3)]);
    assert_eq!(
        collabd::store::web::all_codes(&db.pool)
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        collabd::store::web::queue_depth(&db.pool).await.unwrap(),
        (3, 0)
    );
    let before = collabd::store::web::change_marker(&db.pool).await.unwrap();
    request(db, "later", "0108", m, "2026-11-01T10:00:00Z").await;
    assert_ne!(
        collabd::store::web::change_marker(&db.pool).await.unwrap(),
        before
    );
}

/// Messages held back by a DNS failure: stored, postponed, read in part.
async fn deferred(db: &Db) {
    let mut conn = db.pool.acquire().await.unwrap();
    let raw = vec![b'x'; 40_000];
    let source = Source::Webhook("POST from 127.0.0.1".into());
    let now = t("2026-11-01T10:00:00Z");
    let (id, new) = store::defer_message(&mut conn, "d", &source, &raw, &now, &now, "SERVFAIL")
        .await
        .unwrap();
    assert!(new);
    let (again, new) = store::defer_message(&mut conn, "d", &source, &raw, &now, &now, "SERVFAIL")
        .await
        .unwrap();
    assert_eq!((again, new), (id, false));
    assert_eq!(
        store::due_deferred(&mut conn, &now, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    store::postpone_deferred(&mut conn, id, &t("2026-11-01T11:00:00Z"), "timeout")
        .await
        .unwrap();
    assert!(
        store::due_deferred(&mut conn, &now, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let waiting = store::waiting_messages(&db.pool, 5).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].head.len(), 16 * 1024, "read its head only");
    assert_eq!(store::deferred_count(&db.pool).await.unwrap(), 1);
    let mut tx = Immediate::begin(&mut conn).await.unwrap();
    store::forget_deferred(&mut tx, id).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store::deferred_count(&db.pool).await.unwrap(), 0);
}

/// Announcements move forward only; the browser ledger's session and
/// submissions.
async fn ledger(db: &Db) {
    let m = message(db, "b", 1, b"grant").await.unwrap();
    let id = request(db, "acme", "0105", m, "2026-11-01T10:00:00Z").await;
    let now = t("2026-11-01T10:00:01Z");
    let mut conn = db.pool.acquire().await.unwrap();
    let mut tx = Immediate::begin(&mut conn).await.unwrap();
    let r = store::claim_next_request(&mut tx, &now, &t("2026-11-01T10:05:00Z"))
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(r.id, id);
    let row = db
        .hold_and_begin_submission(id, 1, &t("2026-11-01T10:30:00Z"), &now)
        .await
        .unwrap()
        .expect("the claim holds");
    assert!(
        db.hold_and_begin_submission(id, 2, &t("2026-11-01T10:30:00Z"), &now)
            .await
            .unwrap()
            .is_none(),
        "a lost claim sent"
    );
    assert_eq!(db.unfinished_submissions(id).await.unwrap().len(), 1);
    db.finish_submission(row, "sent", &now).await.unwrap();
    assert!(db.unfinished_submissions(id).await.unwrap().is_empty());
    let (n, oldest) = db
        .submissions_since(&t("2026-11-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!((n, oldest), (1, Some(now)));
    assert!(
        db.set_browser_session(SessionState::LoginNeeded, "signed out", &now)
            .await
            .unwrap()
    );
    assert!(db.mark_login_told(&now).await.unwrap());
    assert!(!db.mark_login_told(&now).await.unwrap(), "told twice");
    assert_eq!(
        db.browser_session().await.unwrap().state,
        SessionState::LoginNeeded
    );

    let announced = store::pending_announcements(&mut conn, 10).await.unwrap();
    store::advance_announcements(&mut conn, 5, &now)
        .await
        .unwrap();
    store::advance_announcements(&mut conn, 2, &now)
        .await
        .unwrap();
    let after = store::pending_announcements(&mut conn, 10).await.unwrap();
    assert!(
        after.iter().all(|a| a.event_id > 5),
        "{announced:?} {after:?}"
    );
}

type Scenario = for<'a> fn(&'a Db) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

fn scenarios() -> Vec<(&'static str, Scenario)> {
    vec![
        ("messages", |db| Box::pin(messages(db))),
        ("requests", |db| Box::pin(requests(db))),
        ("claims", |db| Box::pin(claims(db))),
        ("mailboxes", |db| Box::pin(mailboxes(db))),
        ("sessions", |db| Box::pin(sessions(db))),
        ("web", |db| Box::pin(web(db))),
        ("deferred", |db| Box::pin(deferred(db))),
        ("ledger", |db| Box::pin(ledger(db))),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_scenario_on_sqlite() {
    for (name, run) in scenarios() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join(format!("{name}.db")))
            .await
            .unwrap();
        eprintln!("sqlite: {name}");
        run(&db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_scenario_on_postgres() {
    let pg = Postgres::start();
    for (name, run) in scenarios() {
        let url = pg.create_db(name);
        let db = Db::connect(&url, None).await.unwrap();
        eprintln!("postgres: {name}");
        run(&db).await;
        db.pool.close().await;
    }
}

/// `collabd migrate-db`: a SQLite database with mail, requests, events,
/// checkpoints, a browser submission and a session is copied whole into an
/// empty PostgreSQL database (ids kept, counts checked), which then carries
/// on from there; a second copy into the same database is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_db_copies_sqlite_into_an_empty_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("collabd.db");
    let db = Db::open(&file).await.unwrap();
    ledger(&db).await;
    mailboxes(&db).await;
    sessions(&db).await;
    let s = StoredSession {
        name: "kept".into(),
        csrf: "c".repeat(64),
        password_tag: "tag".into(),
        expires_at: t("2099-01-01T00:00:00Z"),
    };
    store::start_session(&db.pool, "kept-digest", &s, &t("2026-11-01T10:00:00Z"))
        .await
        .unwrap();
    let m = message(&db, "second", 2, b"\x00\xffraw").await.unwrap();
    let later = request(&db, "second-shop", "0202", m, "2026-11-02T10:00:00Z").await;
    db.pool.close().await;

    let pg = Postgres::start();
    let url = pg.create_db("target");
    let migrate = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_collabd"))
            .args(["migrate-db", "--db", file.to_str().unwrap(), "--to", &url])
            .env_remove("COLLABD_DATABASE_PASSWORD")
            .env_remove("CREDENTIALS_DIRECTORY")
            .output()
            .unwrap()
    };
    let out = migrate();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("every table's count matches"), "{said}");
    assert!(
        !said.contains("0105") && !said.contains("0202"),
        "a code printed: {said}"
    );

    let copy = Db::connect(&url, None).await.unwrap();
    for (table, _) in [
        ("messages", 0),
        ("access_requests", 0),
        ("request_events", 0),
    ] {
        let q = format!("select count(*) from {table}");
        assert_eq!(
            pg.psql("target", &q),
            support::daemon::sql(&file, &q),
            "{table}"
        );
    }
    let mut conn = copy.pool.acquire().await.unwrap();
    let r = store::get_request(&mut conn, later).await.unwrap();
    assert_eq!(r.store_domain.as_str(), "second-shop.myshopify.com");
    assert_eq!(r.collaborator_code.expose(), "0202");
    let raw = collabd::store::web::message_raw(&copy.pool, m)
        .await
        .unwrap();
    assert_eq!(raw.as_deref(), Some(&b"\x00\xffraw"[..]));
    assert!(
        store::live_session(&copy.pool, "kept-digest", &t("2026-12-01T00:00:00Z"))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        copy.browser_session().await.unwrap().state,
        SessionState::LoginNeeded
    );
    assert_eq!(
        store::mailbox_checkpoint(&mut conn, "leads@example.com/INBOX")
            .await
            .unwrap(),
        Some((Some(8), 12)),
        "the checkpoint copied"
    );
    // New rows carry on past the copied ids.
    let next = request(&copy, "after-move", "0303", m, "2026-11-03T10:00:00Z").await;
    assert!(next.0 > later.0, "{next:?} after {later:?}");
    let next_message = message(&copy, "after-move", 3, b"x").await.unwrap();
    assert!(next_message > m);

    let again = migrate();
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("not empty") && err.contains("messages"),
        "{err}"
    );
}

/// A filer bound to one machine (as the browser filer is to its profile):
/// of two nodes on one PostgreSQL database, only the one holding the
/// filer's lock files; the other leaves the requests queued for it. When
/// that node stops, the other takes the lock and files what is left, and
/// `lock_holder` names the holder all along.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_filer_bound_to_one_machine_files_on_one_node_only() {
    use collabd::filer::{Filed, Filer, FilingRequest};
    use collabd::queue::Failure;
    use collabd::worker::{FILER_LOCK, Worker};

    struct Machine {
        node: usize,
        filed: Arc<std::sync::Mutex<Vec<(RequestId, usize)>>>,
    }
    impl Filer for Machine {
        fn name(&self) -> &'static str {
            "machine"
        }
        fn on_one_node(&self) -> bool {
            true
        }
        async fn file(&self, r: &FilingRequest, _: &impl BrowserLedger) -> Result<Filed, Failure> {
            self.filed.lock().unwrap().push((r.id, self.node));
            Ok(Filed {
                state: RequestState::Requested,
                detail: format!("filed on node {}", self.node),
            })
        }
    }

    let pg = Postgres::start();
    let url = pg.create_db("bound");
    let nodes = [
        Db::connect(&url, None).await.unwrap(),
        Db::connect(&url, None).await.unwrap(),
    ];
    let m = message(&nodes[0], "bound", 1, b"grant").await.unwrap();
    let filed: Arc<std::sync::Mutex<Vec<(RequestId, usize)>>> = Arc::default();
    let settings = collabd::config::WorkerSettings {
        poll: std::time::Duration::from_millis(100),
        ..Default::default()
    };
    let stops = [
        tokio_util::sync::CancellationToken::new(),
        tokio_util::sync::CancellationToken::new(),
    ];
    let mut running = Vec::new();
    for (node, db) in nodes.iter().enumerate() {
        let worker = Worker::new(
            db.clone(),
            Machine {
                node,
                filed: filed.clone(),
            },
            &settings,
        );
        let files_here = worker.files_here.clone();
        running.push(tokio::spawn(Arc::new(worker).run(stops[node].clone())));
        // The first node holds the lock before the second starts.
        while node == 0 && !files_here.get() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    let holder = nodes[1].lock_holder(FILER_LOCK).await.unwrap().unwrap();
    assert!(
        holder.contains(&format!("(pid {})", std::process::id())),
        "{holder}"
    );
    for i in 0..20 {
        request(
            &nodes[i % 2],
            &format!("bound-{i}"),
            "0105",
            m,
            "2026-11-01T10:00:00Z",
        )
        .await;
    }
    let wait_filed = |n: usize| {
        let filed = filed.clone();
        async move {
            for _ in 0..300 {
                if filed.lock().unwrap().len() >= n {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            panic!("{n} filings did not happen: {:?}", filed.lock().unwrap());
        }
    };
    wait_filed(20).await;
    assert!(
        filed.lock().unwrap().iter().all(|(_, node)| *node == 0),
        "a node without the lock filed: {:?}",
        filed.lock().unwrap()
    );
    // The holder stops (its lock goes with it); the other takes over.
    stops[0].cancel();
    running.remove(0).await.unwrap();
    for i in 20..25 {
        request(
            &nodes[1],
            &format!("bound-{i}"),
            "0105",
            m,
            "2026-11-01T10:00:00Z",
        )
        .await;
    }
    wait_filed(25).await;
    let filed = filed.lock().unwrap().clone();
    assert!(filed[20..].iter().all(|(_, node)| *node == 1), "{filed:?}");
    let mut ids: Vec<_> = filed.iter().map(|(id, _)| *id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 25, "a request filed twice: {filed:?}");
    stops[1].cancel();
    running.remove(0).await.unwrap();
}

/// A server that cannot be reached, or refuses the login, is named in words
/// (at once, not after a pool's timeout), and a password in the URL given
/// never shows.
#[tokio::test]
async fn an_unreachable_or_refusing_server_is_named_without_its_password() {
    let closed = support::dovecot::free_port();
    let err = Db::connect(&format!("postgres://u:hunter2@127.0.0.1:{closed}/x"), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("connection refused"), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{closed}/x")), "{err}");
    assert!(!err.contains("hunter2"), "the password shown: {err}");

    let pg = Postgres::start();
    let err = Db::connect(&pg.url("no_such_db"), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("does not exist") && err.contains("createdb"),
        "{err}"
    );
}
