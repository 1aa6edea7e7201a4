//! Ingest against a real SQLite file: idempotency, superseding, outcomes,
//! rollback on failure, and the operator's view through the sqlite3 CLI.

use std::path::{Path, PathBuf};

use chrono::{Duration, TimeZone, Utc};
use collabd::ingest::Ingestor;
use collabd::mail::Classifier;
use collabd::store::{Db, Source};
use sqlx::Row;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name),
    )
    .unwrap()
}

struct Env {
    _dir: tempfile::TempDir,
    path: PathBuf,
    ingestor: Ingestor,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("collabd.db");
    let db = Db::open(&path).await.unwrap();
    Env {
        path,
        ingestor: Ingestor::new(
            db,
            collabd::ingest::Rules {
                // Hand-written mail (no signatures), forwarded by the agency's
                // own people, listed as an operator lists them.
                classifier: Classifier::new(
                    collabd::mail::TrustPolicy {
                        require: collabd::mail::Require::None,
                        forwarders: Some(vec!["agency.example".into(), "agency.com".into()]),
                        ..collabd::mail::TrustPolicy::default()
                    },
                    collabd::mail::OutcomeRules::new(&[]).unwrap(),
                ),
                max_raw_bytes: 1 << 20,
                verifier: std::sync::Arc::new(collabd::dkim::Verifier::new(&[]).unwrap()),
                review: collabd::config::Review::None,
            },
        ),
        _dir: dir,
    }
}

fn t(minute: i64) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 10, 0, 0).unwrap() + Duration::minutes(minute)
}

impl Env {
    async fn ingest(&self, name: &str, minute: i64) -> collabd::ingest::IngestReport {
        self.ingestor
            .ingest(&fixture(name), &Source::File(name.into()), t(minute))
            .await
            .unwrap()
    }

    /// Every queued request is filed (by hand, as an operator marks it):
    /// Shopify's mail answers only requests that were filed.
    async fn filed(&self) {
        let ids: Vec<i64> =
            sqlx::query_scalar("select id from access_requests where state = 'queued'")
                .fetch_all(self.ingestor.db.pool.sqlite().unwrap())
                .await
                .unwrap();
        let mut conn = self
            .ingestor
            .db
            .pool
            .sqlite()
            .unwrap()
            .acquire()
            .await
            .unwrap();
        for id in ids {
            collabd::operator::apply(
                &mut conn,
                collabd::model::RequestId(id),
                collabd::operator::Action::Mark(collabd::operator::Mark::Requested),
                &collabd::model::Actor::operator("test"),
                None,
                t(0),
            )
            .await
            .unwrap();
        }
    }

    async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.ingestor.db.pool.sqlite().unwrap())
            .await
            .unwrap()
    }

    async fn states(&self) -> Vec<(String, String, String)> {
        sqlx::query(
            "select store_domain, collaborator_code, state from access_requests order by id",
        )
        .fetch_all(self.ingestor.db.pool.sqlite().unwrap())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
    }
}

fn row(store: &str, code: &str, state: &str) -> (String, String, String) {
    (store.into(), code.into(), state.into())
}

#[tokio::test]
async fn the_same_message_twice_changes_nothing() {
    let e = env().await;
    let first = e.ingest("leadsie/two-stores.eml", 0).await;
    assert!(first.new);
    assert_eq!(first.created.len(), 2);
    let events = e.scalar("select count(*) from request_events").await;
    let second = e.ingest("leadsie/two-stores.eml", 1).await;
    assert!(!second.new);
    assert!(second.created.is_empty());
    assert_eq!(e.scalar("select count(*) from messages").await, 1);
    assert_eq!(e.scalar("select count(*) from access_requests").await, 2);
    assert_eq!(
        e.scalar("select count(*) from request_events").await,
        events
    );
}

#[tokio::test]
async fn a_reforwarded_grant_makes_no_second_request() {
    let e = env().await;
    e.ingest("demo/01-leadsie-acme.eml", 0).await;
    let again = e.ingest("demo/03-leadsie-acme-reforwarded.eml", 1).await;
    assert!(again.new, "different bytes, so a new message");
    assert_eq!(again.seen_again.len(), 1);
    assert_eq!(
        e.states().await,
        vec![row("acme-co.myshopify.com", "0105", "queued")]
    );
    assert_eq!(
        e.scalar("select count(*) from request_events where event = 'seen_again'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_newer_code_supersedes_the_open_request() {
    let e = env().await;
    e.ingest("demo/08-leadsie-delta-old-code.eml", 0).await;
    let newer = e.ingest("demo/09-leadsie-delta-new-code.eml", 1).await;
    assert_eq!(newer.superseded.len(), 1);
    assert_eq!(
        e.states().await,
        vec![
            row("delta-dry-goods.myshopify.com", "1111", "superseded"),
            row("delta-dry-goods.myshopify.com", "2222", "queued"),
        ]
    );
}

#[tokio::test]
async fn codes_are_ordered_by_receipt_never_by_the_date_header() {
    // 09 carries the newer Date, 08 the older; 08 is received last, so its
    // code is the newer one as far as anyone can know.
    let e = env().await;
    e.ingest("demo/09-leadsie-delta-new-code.eml", 0).await;
    let late = e.ingest("demo/08-leadsie-delta-old-code.eml", 1).await;
    assert_eq!(late.superseded.len(), 1);
    assert_eq!(
        e.states().await,
        vec![
            row("delta-dry-goods.myshopify.com", "2222", "superseded"),
            row("delta-dry-goods.myshopify.com", "1111", "queued"),
        ]
    );
}

#[tokio::test]
async fn a_message_dated_in_the_future_does_not_outrank_later_mail() {
    let e = env().await;
    let grant = |code: &str, date: &str| {
        format!(
            "From: Leadsie <notifications@leadsie.com>\nSubject: Acme has granted you access\nDate: {date}\n\nShopify\nStore URL: acme-co.myshopify.com\nCollaborator code: {code}\n"
        )
    };
    let future = grant("1234", "Fri, 01 Jan 2100 00:00:00 +0000");
    e.ingestor
        .ingest(future.as_bytes(), &Source::Stdin, t(0))
        .await
        .unwrap();
    let real = grant("5678", "Mon, 02 Nov 2026 10:05:00 +0000");
    let r = e
        .ingestor
        .ingest(real.as_bytes(), &Source::Stdin, t(5))
        .await
        .unwrap();
    assert_eq!(r.superseded.len(), 1, "the later message supersedes");
    assert_eq!(
        e.states().await,
        vec![
            row("acme-co.myshopify.com", "1234", "superseded"),
            row("acme-co.myshopify.com", "5678", "queued"),
        ]
    );
    let date: String = sqlx::query_scalar("select date from messages order by id limit 1")
        .fetch_one(e.ingestor.db.pool.sqlite().unwrap())
        .await
        .unwrap();
    assert!(
        date.as_str() <= "2026-11-02T10:00:00Z",
        "a future Date is clamped: {date}"
    );
}

#[tokio::test]
async fn shopify_outcomes_move_the_matching_request() {
    let e = env().await;
    e.ingest("demo/02-leadsie-two-stores.eml", 0).await;
    e.filed().await;
    e.ingest("demo/05-shopify-beta-granted.eml", 1).await;
    e.ingest("demo/07-shopify-gamma-declined.eml", 2).await;
    e.ingest("demo/06-shopify-beta-removed.eml", 3).await;
    assert_eq!(
        e.states().await,
        vec![
            row("beta-store.myshopify.com", "2201", "revoked"),
            row("gamma-store.myshopify.com", "3302", "declined")
        ]
    );
    let resolved: Option<String> = sqlx::query_scalar(
        "select resolved_at from access_requests where store_domain = 'gamma-store.myshopify.com'",
    )
    .fetch_one(e.ingestor.db.pool.sqlite().unwrap())
    .await
    .unwrap();
    assert_eq!(resolved.as_deref(), Some("2026-11-02T10:02:00Z"));
    let timeline: Vec<String> = sqlx::query_scalar(
        "select coalesce(from_state, '') || '>' || coalesce(to_state, '') from request_events e
         join access_requests r on r.id = e.request_id
         where r.store_domain = 'beta-store.myshopify.com' order by e.id",
    )
    .fetch_all(e.ingestor.db.pool.sqlite().unwrap())
    .await
    .unwrap();
    assert_eq!(
        timeline,
        vec![
            ">queued",
            "queued>requested",
            "requested>granted",
            "granted>revoked"
        ]
    );
}

#[tokio::test]
async fn an_outcome_naming_only_the_store_matches_by_client_or_handle() {
    let e = env().await;
    let grant = b"From: Leadsie <notifications@leadsie.com>\nSubject: Acme Boutique has granted you access\n\
Date: Mon, 02 Nov 2026 10:00:00 +0000\n\nShopify\nStore URL: acme-boutique.myshopify.com\nCollaborator code: 4444\n";
    e.ingestor
        .ingest(grant, &Source::Stdin, t(0))
        .await
        .unwrap();
    e.filed().await;
    let r = e.ingest("shopify/declined-by-name.eml", 1).await;
    assert!(r.outcome_applied.is_some());
    assert_eq!(
        e.states().await,
        vec![row("acme-boutique.myshopify.com", "4444", "declined")]
    );
}

#[tokio::test]
async fn an_unmatched_outcome_is_still_recorded() {
    let e = env().await;
    let r = e.ingest("shopify/granted-with-domain.eml", 0).await;
    assert!(r.outcome_applied.is_none());
    let detail: String =
        sqlx::query_scalar("select detail from request_events where request_id is null and event = 'unmatched_outcome'")
            .fetch_one(e.ingestor.db.pool.sqlite().unwrap())
            .await
            .unwrap();
    assert!(detail.contains("acme-co.myshopify.com"), "{detail}");
}

#[tokio::test]
async fn spoofs_and_unparseable_mail_are_kept_but_make_no_request() {
    let e = env().await;
    for (i, f) in [
        "trust/display-name-spoof.eml",
        "trust/lookalike-suffix-domain.eml",
        "malformed/binary-garbage.eml",
    ]
    .iter()
    .enumerate()
    {
        e.ingest(f, i as i64).await;
    }
    assert_eq!(e.scalar("select count(*) from access_requests").await, 0);
    assert_eq!(
        e.scalar("select count(*) from messages where kind = 'rejected'")
            .await,
        2
    );
    assert_eq!(
        e.scalar("select count(*) from messages where kind = 'unparseable' and raw is not null")
            .await,
        1
    );
}

#[tokio::test]
async fn oversized_messages_keep_headers_but_not_bytes() {
    let e = env().await;
    let mut rules = (*e.ingestor.rules()).clone();
    rules.max_raw_bytes = 100;
    e.ingestor.replace_rules(rules);
    e.ingest("leadsie/plain-text.eml", 0).await;
    assert_eq!(
        e.scalar("select count(*) from messages where raw is null and raw_size > 100")
            .await,
        1
    );
    assert_eq!(e.scalar("select count(*) from access_requests").await, 1);
}

#[tokio::test]
async fn states_and_codes_are_checked_by_the_database() {
    let e = env().await;
    e.ingest("leadsie/plain-text.eml", 0).await;
    let bad_state = sqlx::query("update access_requests set state = 'done'")
        .execute(e.ingestor.db.pool.sqlite().unwrap())
        .await;
    assert!(bad_state.unwrap_err().to_string().contains("CHECK"));
    let bad_code = sqlx::query("update access_requests set collaborator_code = '12a4'")
        .execute(e.ingestor.db.pool.sqlite().unwrap())
        .await;
    assert!(bad_code.unwrap_err().to_string().contains("CHECK"));
}

/// A failure half-way through applying a message (here a trigger refusing one
/// store) rolls the whole message back; what was stored before stays, and the
/// same message goes in once the cause is gone.
#[tokio::test]
async fn a_failure_mid_ingest_rolls_back_that_message_only() {
    let e = env().await;
    e.ingest("leadsie/plain-text.eml", 0).await;
    sqlx::query(
        "create trigger refuse before insert on access_requests when new.store_domain = 'orchard-eu.myshopify.com'
         begin select raise(abort, 'simulated failure'); end",
    )
    .execute(e.ingestor.db.pool.sqlite().unwrap())
    .await
    .unwrap();
    let raw = fixture("leadsie/two-stores.eml");
    let err = e
        .ingestor
        .ingest(&raw, &Source::File("two".into()), t(1))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("simulated failure"), "{err}");
    assert_eq!(e.scalar("select count(*) from messages").await, 1);
    assert_eq!(
        e.states().await,
        vec![row("acme-co.myshopify.com", "0105", "queued")]
    );

    sqlx::query("drop trigger refuse")
        .execute(e.ingestor.db.pool.sqlite().unwrap())
        .await
        .unwrap();
    let r = e
        .ingestor
        .ingest(&raw, &Source::File("two".into()), t(2))
        .await
        .unwrap();
    assert!(r.new);
    assert_eq!(e.scalar("select count(*) from access_requests").await, 3);
}

/// The `select` queries the README and docs/*.md give operators, each on a
/// line of its own as `sqlite3 collabd.db "…"` or, on an installed host,
/// `sudo -u collabd sqlite3 /var/lib/collabd/collabd.db "…"`.
fn documented_queries() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut queries = Vec::new();
    for file in files {
        let name = file.strip_prefix(root).unwrap().display().to_string();
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            let line = line.trim();
            let line = line.strip_prefix("sudo -u collabd ").unwrap_or(line);
            let Some(rest) = line.strip_prefix("sqlite3 ") else {
                continue;
            };
            let Some((db, query)) = rest.split_once(' ') else {
                continue;
            };
            let Some(query) = query.strip_prefix('"').and_then(|q| q.strip_suffix('"')) else {
                continue;
            };
            if db.ends_with("collabd.db") && query.starts_with("select ") {
                queries.push((name.clone(), query.to_owned()));
            }
        }
    }
    queries
}

/// The queries the README and docs give operators, run with the real
/// sqlite3 CLI.
#[tokio::test]
async fn readme_queries_work_in_the_sqlite3_cli() {
    let e = env().await;
    for (i, f) in [
        "demo/01-leadsie-acme.eml",
        "demo/02-leadsie-two-stores.eml",
        "demo/04-shopify-acme-granted.eml",
        "demo/10-spoofed-leadsie.eml",
    ]
    .iter()
    .enumerate()
    {
        e.ingest(f, i as i64).await;
    }
    let queries = documented_queries();
    assert!(
        queries.iter().any(|(file, _)| file == "README.md"),
        "README.md should show sqlite3 queries: {queries:?}"
    );
    assert!(
        queries.len() >= 4,
        "README.md and docs/ should show sqlite3 queries, found {}",
        queries.len()
    );
    let mut outputs = Vec::new();
    for (file, q) in &queries {
        let out = std::process::Command::new("sqlite3")
            .arg(&e.path)
            .arg(q)
            .output()
            .expect("sqlite3 is installed");
        assert!(
            out.status.success(),
            "{file}: {q}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push(String::from_utf8(out.stdout).unwrap());
    }
    let all = outputs.join("\n");
    assert!(
        all.contains("acme-co.myshopify.com|") && all.contains("granted"),
        "{all}"
    );
    assert!(all.contains("gamma-store.myshopify.com"), "{all}");
    assert!(all.contains("rejected"), "{all}");
    assert!(
        !all.contains("0105"),
        "status queries must not show full codes: {all}"
    );
}

/// A full database (SQLite's SQLITE_FULL, forced here with max_page_count)
/// gives a message that says what to do; what was stored stays, and the same
/// message goes in once there is room.
#[tokio::test]
async fn a_full_disk_is_reported_plainly_and_loses_nothing() {
    let e = env().await;
    e.ingest("leadsie/plain-text.eml", 0).await;
    let mut conn = e
        .ingestor
        .db
        .pool
        .sqlite()
        .unwrap()
        .acquire()
        .await
        .unwrap();
    let pages: i64 = sqlx::query_scalar("pragma page_count")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    sqlx::query(&format!("pragma max_page_count = {pages}"))
        .execute(&mut *conn)
        .await
        .unwrap();
    // Large enough to need new pages: raw bytes are kept.
    let mut big = fixture("leadsie/two-stores.eml");
    big.extend(std::iter::repeat_n(b'x', 200_000));
    let err = e
        .ingestor
        .ingest_on(&mut conn, &big, &Source::File("big".into()), t(1), t(1))
        .await
        .unwrap_err();
    assert!(matches!(err, collabd::store::Error::DiskFull(_)), "{err:?}");
    assert!(
        err.to_string().contains("disk is full") && err.to_string().contains("free space"),
        "{err}"
    );
    assert_eq!(e.scalar("select count(*) from messages").await, 1);
    assert_eq!(e.scalar("select count(*) from access_requests").await, 1);

    sqlx::query("pragma max_page_count = 1073741823")
        .execute(&mut *conn)
        .await
        .unwrap();
    let r = e
        .ingestor
        .ingest_on(&mut conn, &big, &Source::File("big".into()), t(2), t(2))
        .await
        .unwrap();
    assert!(r.new);
    assert_eq!(e.scalar("select count(*) from access_requests").await, 3);
}

/// A failed (or dry-run logged) request is queued again by an operator's
/// retry and made due now; a queued one waiting out a backoff is made due
/// without a state change.
#[tokio::test]
async fn retry_requeues_failed_requests_and_makes_waiting_ones_due() {
    use collabd::model::{RequestId, RequestState};
    use collabd::operator::{self, Action};
    let e = env().await;
    e.ingest("leadsie/two-stores.eml", 0).await;
    sqlx::query(
        "update access_requests set state = 'failed', last_error = 'HTTP 400' where id = 1",
    )
    .execute(e.ingestor.db.pool.sqlite().unwrap())
    .await
    .unwrap();
    sqlx::query("update access_requests set next_attempt_at = '2030-01-01T00:00:00Z' where id = 2")
        .execute(e.ingestor.db.pool.sqlite().unwrap())
        .await
        .unwrap();
    let mut conn = e
        .ingestor
        .db
        .pool
        .sqlite()
        .unwrap()
        .acquire()
        .await
        .unwrap();
    async fn retry(conn: &mut sqlx::SqliteConnection, id: i64, minute: i64) -> RequestState {
        operator::apply(
            conn,
            RequestId(id),
            Action::Retry,
            &collabd::model::Actor::operator("test"),
            None,
            t(minute),
        )
        .await
        .unwrap()
    }
    let s = retry(&mut conn, 1, 5).await;
    assert_eq!(s.as_str(), "queued");
    let s = retry(&mut conn, 2, 6).await;
    assert_eq!(s.as_str(), "queued");
    let due: Vec<String> =
        sqlx::query_scalar("select next_attempt_at from access_requests order by id")
            .fetch_all(e.ingestor.db.pool.sqlite().unwrap())
            .await
            .unwrap();
    assert_eq!(due, vec!["2026-11-02T10:05:00Z", "2026-11-02T10:06:00Z"]);
    assert_eq!(
        e.scalar("select count(*) from request_events where actor = 'operator:test'")
            .await,
        2
    );
    // A dry run's logged request is filed for real once a filer is set.
    sqlx::query("update access_requests set state = 'logged' where id = 2")
        .execute(e.ingestor.db.pool.sqlite().unwrap())
        .await
        .unwrap();
    let s = retry(&mut conn, 2, 7).await;
    assert_eq!(s.as_str(), "queued");
}

/// The after-processing ledger: actions are kept per UIDVALIDITY, a failure
/// is counted with its error and shown per mailbox, success deletes the row,
/// and actions from an old UIDVALIDITY are dropped.
#[tokio::test]
async fn pending_after_processing_actions_are_kept_until_done() {
    use collabd::store;
    let e = env().await;
    let db = &e.ingestor.db;
    let mut conn = db.pool.sqlite().unwrap().acquire().await.unwrap();
    let now = collabd::timestamp::Timestamp::from(t(0));
    store::set_checkpoint(&mut conn, "a/INBOX", 7, 3, &now)
        .await
        .unwrap();
    for (v, uid) in [(6, 9), (7, 2), (7, 3)] {
        store::add_pending_action(&mut conn, "a/INBOX", v, uid, &now)
            .await
            .unwrap();
    }
    // Recorded twice (a rescan): still one row.
    store::add_pending_action(&mut conn, "a/INBOX", 7, 3, &now)
        .await
        .unwrap();
    assert_eq!(
        store::pending_actions(&mut conn, "a/INBOX").await.unwrap(),
        vec![(6, 9), (7, 2), (7, 3)]
    );
    assert_eq!(
        store::drop_stale_actions(&mut conn, "a/INBOX", 7)
            .await
            .unwrap(),
        1
    );
    store::settle_actions(
        &mut conn,
        "a/INBOX",
        7,
        &[2, 3],
        Some("NO [TRYCREATE]"),
        &now,
    )
    .await
    .unwrap();
    let rows = store::mailbox_rows(&db.pool).await.unwrap();
    assert_eq!(rows[0].actions_pending, 2);
    assert_eq!(rows[0].action_error.as_deref(), Some("NO [TRYCREATE]"));
    store::settle_actions(&mut conn, "a/INBOX", 7, &[2], None, &now)
        .await
        .unwrap();
    assert_eq!(
        store::pending_actions(&mut conn, "a/INBOX").await.unwrap(),
        vec![(7, 3)]
    );
    let attempts: i64 =
        sqlx::query_scalar("select attempts from after_processing_pending where uid = 3")
            .fetch_one(db.pool.sqlite().unwrap())
            .await
            .unwrap();
    assert_eq!(attempts, 1);
}

/// Rows leave the store typed: a watcher state or actor this version does
/// not know (a newer collabd wrote it) is a `store::Error` naming the
/// column, never a panic.
#[tokio::test]
async fn an_unknown_state_or_actor_in_the_database_is_an_error() {
    use collabd::model::{Actor, RequestId, WatcherState};
    use collabd::store;
    let e = env().await;
    let db = &e.ingestor.db;
    let mut conn = db.pool.sqlite().unwrap().acquire().await.unwrap();
    let now = collabd::timestamp::Timestamp::from(t(0));
    store::set_checkpoint(&mut conn, "a/INBOX", 7, 3, &now)
        .await
        .unwrap();
    let rows = store::mailbox_rows(&db.pool).await.unwrap();
    assert_eq!(rows[0].state, WatcherState::Syncing);
    sqlx::query("update mailbox_state set state = 'dozing'")
        .execute(db.pool.sqlite().unwrap())
        .await
        .unwrap();
    let err = store::mailbox_rows(&db.pool).await.unwrap_err();
    assert!(
        matches!(&err, store::Error::Decode { column, .. } if column.contains("state")),
        "{err:?}"
    );
    assert!(err.to_string().contains("dozing"), "{err}");

    e.ingest("demo/01-leadsie-acme.eml", 0).await;
    let events = store::events_for(&db.pool, RequestId(1)).await.unwrap();
    assert_eq!(events[0].actor, Actor::Leadsie);
    sqlx::query("update request_events set actor = 'robot'")
        .execute(db.pool.sqlite().unwrap())
        .await
        .unwrap();
    let err = store::events_for(&db.pool, RequestId(1)).await.unwrap_err();
    assert!(
        matches!(&err, store::Error::Decode { column, .. } if column.contains("actor")),
        "{err:?}"
    );
}

/// Ordinary mail read from a mailbox is recorded (kind, digest, size) but
/// its bytes stay in the mailbox; Leadsie's and Shopify's are kept for the
/// operator to read, and so is mail handed over by a file or a pipe, which
/// has no other copy.
#[tokio::test]
async fn ordinary_mail_is_recorded_without_its_bytes() {
    let e = env().await;
    let raw = b"From: News <news@retail-weekly.example>\r\nTo: ops@agency.example\r\nSubject: Weekly digest\r\nMessage-ID: <n1@retail-weekly.example>\r\n\r\nThis week in retail.\r\n";
    let imap = Source::Imap {
        account: "default".into(),
        mailbox: "ops/INBOX".into(),
        uidvalidity: 1,
        uid: 7,
    };
    let r = e.ingestor.ingest(raw, &imap, t(0)).await.unwrap();
    assert_eq!(r.kind.as_str(), "ignored");
    e.ingest("leadsie/two-stores.eml", 1).await;
    let piped = [&raw[..], b"P.S.\r\n"].concat();
    e.ingestor
        .ingest(&piped, &Source::Stdin, t(2))
        .await
        .unwrap();
    let kept: Vec<(String, Option<Vec<u8>>, i64)> =
        sqlx::query_as("select kind, raw, raw_size from messages order by id")
            .fetch_all(e.ingestor.db.pool.sqlite().unwrap())
            .await
            .unwrap();
    assert_eq!(kept[0], ("ignored".into(), None, raw.len() as i64));
    assert_eq!(kept[1].0, "leadsie_grant");
    assert_eq!(
        kept[1].1.as_deref(),
        Some(&fixture("leadsie/two-stores.eml")[..])
    );
    assert_eq!(kept[2].0, "ignored");
    assert_eq!(kept[2].1.as_deref(), Some(&piped[..]));
}

/// A database file migrated only up to `version`, as an older collabd
/// left it.
async fn database_at_version(path: &std::path::Path, version: i64) -> sqlx::SqlitePool {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let mut old = sqlx::migrate!("./migrations");
    old.migrations = old
        .migrations
        .iter()
        .filter(|m| m.version <= version)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    old.run(&pool).await.unwrap();
    pool
}

/// A database from before the `logged` state: the rebuild keeps every
/// request and event, and a dry run's request recorded as `notified` becomes
/// `logged`, while one a person was told of stays `notified`.
#[tokio::test]
async fn upgrading_relabels_dry_runs_and_keeps_everything_else() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let pool = database_at_version(&path, 5).await;
        for (id, detail) in [
            (
                1,
                "log filer (dry run): request access to a.myshopify.com with code 1234",
            ),
            (
                2,
                "notified email to ops@agency.example (store b.myshopify.com, code **34)",
            ),
        ] {
            sqlx::query(
                "insert into access_requests (id, store_domain, collaborator_code, state, received_at, created_at, updated_at, filed_at)
                 values (?, ?, '1234', 'notified', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')",
            )
            .bind(id)
            .bind(format!("s{id}.myshopify.com"))
            .execute(&pool)
            .await
            .unwrap();
            sqlx::query(
                "insert into request_events (request_id, at, actor, event, from_state, to_state, detail)
                 values (?, '2026-11-01T00:00:00Z', 'worker', 'filed', 'filing', 'notified', ?)",
            )
            .bind(id)
            .bind(detail)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;
    }
    let db = Db::open(&path).await.unwrap();
    let states: Vec<(i64, String)> =
        sqlx::query_as("select id, state from access_requests order by id")
            .fetch_all(db.pool.sqlite().unwrap())
            .await
            .unwrap();
    assert_eq!(states, vec![(1, "logged".into()), (2, "notified".into())]);
    let events: i64 = sqlx::query_scalar("select count(*) from request_events")
        .fetch_one(db.pool.sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(events, 2);
}

/// A database from before the webhook: rebuilding `messages` (and
/// `deferred_message`) to admit `source = 'webhook'` keeps every row, id and
/// reference, and the indexes come back.
#[tokio::test]
async fn upgrading_to_the_webhook_source_keeps_messages_requests_and_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let pool = database_at_version(&path, 6).await;
        for q in [
            "insert into messages (id, sha256, source, mailbox, uidvalidity, uid, kind, raw, raw_size, received_at)
             values (7, 'aa', 'imap', 'ops/INBOX', 1, 3, 'leadsie_grant', x'4142', 2, '2026-11-01T00:00:00Z')",
            "insert into messages (id, sha256, source, source_ref, kind, raw_size, received_at)
             values (9, 'bb', 'file', '/tmp/x.eml', 'ignored', 10, '2026-11-01T00:00:00Z')",
            "insert into access_requests (id, store_domain, collaborator_code, state, source_message_id, received_at, created_at, updated_at)
             values (4, 'a.myshopify.com', '0105', 'queued', 7, '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')",
            "insert into request_events (id, request_id, message_id, at, actor, event, detail)
             values (12, 4, 7, '2026-11-01T00:00:00Z', 'leadsie', 'created', 'Leadsie grant received')",
            "insert into deferred_message (sha256, source, raw, received_at, next_attempt_at, last_error)
             values ('cc', 'stdin', x'43', '2026-11-01T00:00:00Z', '2026-11-01T00:01:00Z', 'timeout')",
        ] {
            sqlx::query(q).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
    let db = Db::open(&path).await.unwrap();
    let messages: Vec<(i64, String, Option<Vec<u8>>)> =
        sqlx::query_as("select id, source, raw from messages order by id")
            .fetch_all(db.pool.sqlite().unwrap())
            .await
            .unwrap();
    assert_eq!(
        messages,
        vec![
            (7, "imap".into(), Some(b"AB".to_vec())),
            (9, "file".into(), None)
        ]
    );
    let joined: (i64, i64, String) = sqlx::query_as(
        "select r.id, e.id, m.mailbox from access_requests r
         join request_events e on e.request_id = r.id
         join messages m on m.id = r.source_message_id and m.id = e.message_id",
    )
    .fetch_one(db.pool.sqlite().unwrap())
    .await
    .unwrap();
    assert_eq!(joined, (4, 12, "ops/INBOX".into()));
    let broken: Vec<(String,)> = sqlx::query_as("select \"table\" from pragma_foreign_key_check")
        .fetch_all(db.pool.sqlite().unwrap())
        .await
        .unwrap();
    assert!(broken.is_empty(), "{broken:?}");
    let indexes: Vec<(String,)> = sqlx::query_as(
        "select name from sqlite_master where type = 'index' and tbl_name in ('messages', 'deferred_message') and name not like 'sqlite_%' order by name",
    )
    .fetch_all(db.pool.sqlite().unwrap())
    .await
    .unwrap();
    assert_eq!(
        indexes,
        vec![
            ("deferred_message_due".into(),),
            ("messages_kind".into(),),
            ("messages_mailbox_uid".into(),)
        ]
    );
    for table in ["messages", "deferred_message"] {
        let q = if table == "messages" {
            "insert into messages (sha256, source, source_ref, kind, raw_size, received_at) values ('dd', 'webhook', 'POST from 127.0.0.1', 'leadsie_grant', 2, '2026-11-02T00:00:00Z')"
        } else {
            "insert into deferred_message (sha256, source, raw, received_at, next_attempt_at, last_error) values ('ee', 'webhook', x'00', 'x', 'x', 'x')"
        };
        sqlx::query(q)
            .execute(db.pool.sqlite().unwrap())
            .await
            .unwrap();
    }
    assert_eq!(
        sqlx::query_scalar::<_, i64>("select count(*) from deferred_message")
            .fetch_one(db.pool.sqlite().unwrap())
            .await
            .unwrap(),
        2
    );
}

/// A database from before `awaiting_review`: the rebuild of
/// access_requests admits the new state and keeps every request, id, event
/// and reference, and the view and indexes come back exactly as they were.
#[tokio::test]
async fn upgrading_to_awaiting_review_keeps_requests_events_view_and_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let schema = "select type || ' ' || name || ': ' || sql from sqlite_master
                  where (tbl_name = 'access_requests' and type = 'index' and sql is not null)
                     or name = 'request_status'
                  order by name";
    let before: Vec<(String,)>;
    {
        let pool = database_at_version(&path, 9).await;
        for q in [
            "insert into messages (id, sha256, source, kind, raw_size, received_at)
             values (7, 'aa', 'file', 'leadsie_grant', 2, '2026-11-01T00:00:00Z')",
            "insert into access_requests (id, store_domain, collaborator_code, client_name, state, attempts, source_message_id, received_at, filed_at, created_at, updated_at)
             values (4, 'a.myshopify.com', '0105', 'Acme', 'requested', 2, 7, '2026-11-01T00:00:00Z', '2026-11-01T01:00:00Z', '2026-11-01T00:00:00Z', '2026-11-01T01:00:00Z')",
            "insert into access_requests (id, store_domain, collaborator_code, state, received_at, created_at, updated_at)
             values (9, 'b.myshopify.com', '0042', 'logged', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')",
            "insert into request_events (id, request_id, message_id, at, actor, event, to_state, detail)
             values (12, 4, 7, '2026-11-01T00:00:00Z', 'leadsie', 'created', 'queued', 'Leadsie grant received')",
            "insert into request_events (id, request_id, at, actor, event, from_state, to_state)
             values (13, 4, '2026-11-01T01:00:00Z', 'worker', 'filed', 'filing', 'requested')",
            "insert into browser_submission (request_id, attempt, started_at) values (4, 2, '2026-11-01T01:00:00Z')",
        ] {
            sqlx::query(q).execute(&pool).await.unwrap();
        }
        let refused = sqlx::query(
            "insert into access_requests (store_domain, collaborator_code, state, received_at, created_at, updated_at)
             values ('c.myshopify.com', '1111', 'awaiting_review', 'x', 'x', 'x')",
        )
        .execute(&pool)
        .await;
        assert!(refused.is_err(), "version 9 has no awaiting_review");
        before = sqlx::query_as(schema).fetch_all(&pool).await.unwrap();
        pool.close().await;
    }
    let db = Db::open(&path).await.unwrap();
    let after: Vec<(String,)> = sqlx::query_as(schema)
        .fetch_all(db.pool.sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(after, before, "the view and the indexes are as they were");
    assert_eq!(after.len(), 6, "{after:?}");
    let requests: Vec<(i64, String, String, i64, Option<String>)> = sqlx::query_as(
        "select id, store_domain, state, attempts, filed_at from access_requests order by id",
    )
    .fetch_all(db.pool.sqlite().unwrap())
    .await
    .unwrap();
    assert_eq!(
        requests,
        vec![
            (
                4,
                "a.myshopify.com".into(),
                "requested".into(),
                2,
                Some("2026-11-01T01:00:00Z".into())
            ),
            (9, "b.myshopify.com".into(), "logged".into(), 0, None),
        ]
    );
    let joined: Vec<(i64, i64, i64)> = sqlx::query_as(
        "select e.id, r.id, coalesce(e.message_id, 0) from request_events e
         join access_requests r on r.id = e.request_id order by e.id",
    )
    .fetch_all(db.pool.sqlite().unwrap())
    .await
    .unwrap();
    assert_eq!(joined, vec![(12, 4, 7), (13, 4, 0)]);
    let broken: Vec<(String,)> = sqlx::query_as("select \"table\" from pragma_foreign_key_check")
        .fetch_all(db.pool.sqlite().unwrap())
        .await
        .unwrap();
    assert!(broken.is_empty(), "{broken:?}");
    sqlx::query(
        "insert into access_requests (store_domain, collaborator_code, state, received_at, created_at, updated_at)
         values ('c.myshopify.com', '1111', 'awaiting_review', 'x', 'x', 'x')",
    )
    .execute(db.pool.sqlite().unwrap())
    .await
    .unwrap();
    let view: Vec<(String, String, Option<String>)> =
        sqlx::query_as("select store_domain, state, last_event from request_status order by id")
            .fetch_all(db.pool.sqlite().unwrap())
            .await
            .unwrap();
    assert_eq!(view.len(), 3);
    assert_eq!(view[0].2.as_deref(), Some("filed"));
    assert_eq!(view[2].1, "awaiting_review");
}
