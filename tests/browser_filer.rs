//! The browser filer against a local replica of the dashboard's form flow
//! (tests/support/replica.rs), driven by Debian's real headless Chromium
//! and chromedriver: each outcome the page can show, a hanging page, a
//! browser killed mid-filing, a crash mid-submit, a lapsed session and a
//! new login, a dry run, and the Collaborations list as a second witness.

mod support;

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use chrono::Utc;
use collabd::browser::session::Session;
use collabd::config::{BrowserSettings, WorkerSettings};
use collabd::filer::BrowserFiler;
use collabd::filer::browser::health;
use collabd::model::RequestId;
use collabd::store::{self, BrowserLedger, Db};
use collabd::worker::Worker;
use sqlx::Row;
use support::replica::{self, Replica};

/// One Chromium at a time: the machine has two cores, and a filing's
/// budget should not be spent waiting for another test's browser.
static ONE_AT_A_TIME: LazyLock<tokio::sync::Mutex<()>> =
    LazyLock::new(|| tokio::sync::Mutex::new(()));

struct Rig {
    dir: tempfile::TempDir,
    db: Db,
    replica: Replica,
    filer: BrowserFiler,
    worker: Arc<Worker<BrowserFiler>>,
    /// Whatever still runs on the profile when the test ends, passed or
    /// failed: a `collabd run` or `browser login` child killed with
    /// SIGKILL leaves its browser running.
    _reaper: support::browser::Reaper,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

async fn rig(tweak: impl FnOnce(&mut BrowserSettings)) -> Rig {
    rig_on(false, tweak).await
}

async fn rig_on(spa: bool, tweak: impl FnOnce(&mut BrowserSettings)) -> Rig {
    let turn = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("collabd.db")).await.unwrap();
    let replica = replica::start_variant(spa).await;
    let mut s = BrowserSettings::with(
        dir.path().join("browser"),
        &replica.form_url(),
        &replica.list_url(),
    );
    s.budget = Duration::from_secs(25);
    s.per_hour = None;
    tweak(&mut s);
    let reaper = support::browser::Reaper(s.profile_dir());
    let filer = BrowserFiler::new(s, None);
    // The operator's one sign-in, kept in the profile when the browser
    // closes (as after `collabd browser login`): every filing below starts
    // a browser that must find the session there.
    filer.session().open(&replica.login_url()).await.unwrap();
    filer.session().shutdown().await;
    let worker = Arc::new(Worker::new(
        db.clone(),
        filer.clone(),
        &WorkerSettings::default(),
    ));
    Rig {
        dir,
        db,
        replica,
        filer,
        worker,
        _reaper: reaper,
        _turn: turn,
    }
}

impl Rig {
    async fn request(&self, store: &str, code: &str) -> RequestId {
        let now = collabd::timestamp::Timestamp::now();
        let id: i64 = sqlx::query_scalar(
            "insert into access_requests (store_domain, collaborator_code, state, next_attempt_at, received_at, created_at, updated_at)
             values (?, ?, 'queued', ?, ?, ?, ?) returning id",
        )
        .bind(format!("{store}.myshopify.com"))
        .bind(code)
        .bind(now)
        .bind(now)
        .bind(now)
        .bind(now)
        .fetch_one(self.db.pool.sqlite().unwrap())
        .await
        .unwrap();
        RequestId(id)
    }

    /// Files whatever is due, as if `ahead` from now.
    async fn file_due(&self, ahead: chrono::Duration) {
        self.worker.run_due(Utc::now() + ahead).await.unwrap();
    }

    async fn file(&self) {
        self.file_due(chrono::Duration::zero()).await;
    }

    /// Starts filing a request for `store`, which the replica stalls, and
    /// waits until the browser hangs there: the request, the filing in
    /// flight and the browser's process group.
    async fn stall(
        &self,
        store: &str,
        code: &str,
    ) -> (
        RequestId,
        tokio::task::JoinHandle<collabd::store::Result<usize>>,
        i32,
    ) {
        let id = self.request(store, code).await;
        let worker = self.worker.clone();
        let filing = tokio::spawn(async move { worker.run_due(Utc::now()).await });
        self.replica.stalled.notified().await;
        let pgid = self
            .filer
            .session()
            .process_group()
            .await
            .expect("a browser runs");
        (id, filing, pgid)
    }

    async fn state(&self, id: RequestId) -> (String, Option<String>) {
        let row = sqlx::query("select state, last_error from access_requests where id = ?")
            .bind(id)
            .fetch_one(self.db.pool.sqlite().unwrap())
            .await
            .unwrap();
        (row.get(0), row.get(1))
    }

    /// What a queued request waits for (`access_requests.waiting_for`).
    async fn waiting_for(&self, id: RequestId) -> Option<String> {
        sqlx::query_scalar("select waiting_for from access_requests where id = ?")
            .bind(id)
            .fetch_one(self.db.pool.sqlite().unwrap())
            .await
            .unwrap()
    }

    async fn timeline(&self, id: RequestId) -> String {
        store::events_for(&self.db.pool, id)
            .await
            .unwrap()
            .iter()
            .map(|e| format!("{:?}\n", e))
            .collect()
    }

    async fn done(self) {
        self.filer.session().shutdown().await;
    }
}

/// The files an outcome kept, named in `text`.
fn evidence_in(text: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let grab = |ext: &str| {
        let end = text.find(&format!(".{ext}")).expect("evidence named") + ext.len() + 1;
        let start = text[..end].rfind(' ').unwrap() + 1;
        std::path::PathBuf::from(&text[start..end])
    };
    (grab("png"), grab("html"))
}

fn assert_png(path: &std::path::Path) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 1000,
        "{} is not a real PNG ({} bytes)",
        path.display(),
        bytes.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_filed_and_the_code_goes_into_the_code_field_only() {
    let rig = rig(|s| {
        s.permissions = vec!["orders".into(), "Themes".into()];
        s.message = Some("Hello from the agency".into());
    })
    .await;
    let id = rig.request("acme-1", "0105").await;
    rig.file().await;
    let (state, error) = rig.state(id).await;
    assert_eq!(state, "requested", "{error:?}\n{}", rig.timeline(id).await);
    assert_eq!(
        rig.replica.submissions(),
        vec![(
            "acme-1".to_owned(),
            "0105".to_owned(),
            vec!["orders".to_owned(), "themes".to_owned()]
        )]
    );
    let urls = rig.replica.seen.lock().unwrap().urls.clone();
    assert!(urls.iter().all(|u| !u.contains("0105")), "{urls:?}");
    let timeline = rig.timeline(id).await;
    assert!(timeline.contains("request sent"), "{timeline}");
    assert!(!timeline.contains("0105"), "{timeline}");
    assert_eq!(health(&rig.db).await.unwrap(), None);
    rig.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_code_fails_the_request_and_asks_for_a_new_code() {
    let rig = rig(|_| {}).await;
    let id = rig.request("acme-2", "0000").await;
    rig.file().await;
    let (state, error) = rig.state(id).await;
    assert_eq!(state, "failed");
    let error = error.unwrap();
    assert!(
        error.contains("ask the client for a new collaborator code"),
        "{error}"
    );
    assert!(error.contains("wrong or expired"), "{error}");
    assert!(rig.replica.submissions().is_empty());
    rig.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_store_fails_and_nothing_is_sent() {
    let rig = rig(|_| {}).await;
    let id = rig.request("missing-1", "1234").await;
    rig.file().await;
    let (state, error) = rig.state(id).await;
    assert_eq!(state, "failed");
    assert!(error.unwrap().contains("does not know the store"));
    assert!(rig.replica.submissions().is_empty());
    rig.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_request_is_recorded_as_requested_without_sending_another() {
    let rig = rig(|_| {}).await;
    let id = rig.request("pending-1", "1234").await;
    rig.file().await;
    let (state, error) = rig.state(id).await;
    assert_eq!(state, "requested", "{error:?}");
    assert!(rig.timeline(id).await.contains("already pending"));
    assert!(rig.replica.submissions().is_empty());
    rig.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenge_and_an_unknown_page_keep_evidence_and_are_not_retried() {
    let rig = rig(|_| {}).await;
    let challenge = rig.request("challenge-1", "4821").await;
    let weird = rig.request("weird-1", "4821").await;
    rig.file().await;
    for (id, says) in [(challenge, "challenge"), (weird, "does not recognise")] {
        let (state, error) = rig.state(id).await;
        assert_eq!(state, "failed", "{error:?}");
        let error = error.unwrap();
        assert!(error.contains(says), "{error}");
        let (png, html) = evidence_in(&error);
        assert!(png.starts_with(rig.dir.path()), "{}", png.display());
        assert!(!png.to_string_lossy().contains("4821"));
        assert_png(&png);
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(!page.contains("4821"), "the code is masked in kept pages");
        assert!(
            rig.timeline(id).await.contains(".png"),
            "`show` names the files"
        );
    }
    rig.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_that_cannot_be_kept_does_not_turn_an_unknown_page_into_a_retry() {
    let rig = rig(|_| {}).await;
    // Where the evidence goes is a file, not a directory: it cannot be kept.
    let evidence = rig.filer.session().settings().evidence_dir();
    std::fs::create_dir_all(evidence.parent().unwrap()).unwrap();
    std::fs::write(&evidence, "not a directory").unwrap();
    let id = rig.request("weird-2", "4822").await;
    rig.file().await;
    let (state, error) = rig.state(id).await;
    assert_eq!(state, "failed", "still unknown, not retried: {error:?}");
    assert!(error.unwrap().contains("does not recognise"));
    rig.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_fills_the_form_keeps_a_screenshot_and_sends_nothing() {
    let rig = rig(|s| s.dry_run = true).await;
    let id = rig.request("acme-3", "7777").await;
    rig.file().await;
    let (state, _) = rig.state(id).await;
    assert_eq!(state, "logged");
    let timeline = rig.timeline(id).await;
    let (png, _) = evidence_in(&timeline);
    assert_png(&png);
    assert!(rig.replica.submissions().is_empty());
    rig.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_page_ends_within_the_budget_and_the_browser_is_restarted() {
    let rig = rig(|s| s.budget = Duration::from_secs(8)).await;
    let hang = rig.request("hang-1", "1111").await;
    let before = rig.filer.session().process_group().await;
    rig.file().await;
    let (state, error) = rig.state(hang).await;
    assert_eq!(state, "queued", "a hang is retried later");
    assert!(error.unwrap().contains("budget_seconds"));
    assert_eq!(
        rig.filer.session().process_group().await,
        None,
        "the hung browser is gone"
    );
    let ok = rig.request("acme-4", "2222").await;
    rig.file().await;
    assert_eq!(rig.state(ok).await.0, "requested");
    assert_ne!(rig.filer.session().process_group().await, before);
    rig.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_killed_mid_filing_is_restarted() {
    let rig = rig(|_| {}).await;
    let (stalled, filing, pgid) = rig.stall("stall-1", "3333").await;
    // SAFETY: the group is the test's own browser.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
    filing.await.unwrap().unwrap();
    let (state, error) = rig.state(stalled).await;
    assert_eq!(state, "queued", "{error:?}");
    let ok = rig.request("acme-5", "4444").await;
    rig.file().await;
    let (state, error) = rig.state(ok).await;
    assert_eq!(state, "requested", "{error:?}");
    rig.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_submit_is_checked_on_the_dashboard_not_sent_again() {
    let rig = rig(|s| s.budget = Duration::from_secs(8)).await;
    let id = rig.request("crash-1", "5555").await;
    rig.file().await;
    assert_eq!(rig.state(id).await.0, "queued");
    assert_eq!(rig.replica.submissions().len(), 1);
    rig.file_due(chrono::Duration::hours(2)).await;
    let (state, error) = rig.state(id).await;
    assert_eq!(state, "requested", "{error:?}");
    assert_eq!(rig.replica.submissions().len(), 1, "never sent twice");
    assert!(rig.timeline(id).await.contains("nothing was sent again"));
    rig.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_check_that_cannot_confirm_sends_nothing_and_asks_a_person() {
    let rig = rig(|s| s.budget = Duration::from_secs(8)).await;
    let gone = rig.request("crash-2", "5656").await;
    let odd = rig.request("crash-3", "5757").await;
    rig.file().await;
    assert_eq!(rig.replica.submissions().len(), 2);
    // The list does not show one store (its row loads late) and shows the
    // other with a status the filer does not know.
    rig.replica.forget("crash-2");
    rig.replica.set_status("crash-3", "Under review");
    rig.file_due(chrono::Duration::hours(2)).await;
    for id in [gone, odd] {
        let (state, error) = rig.state(id).await;
        assert_eq!(state, "failed", "{error:?}");
        assert!(error.unwrap().contains("nothing was sent again"));
    }
    assert_eq!(
        rig.replica.submissions().len(),
        2,
        "never sent on an absence"
    );
    rig.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_and_an_error_at_once_is_unknown_and_checked_before_any_retry() {
    let rig = rig(|_| {}).await;
    let id = rig.request("both-1", "7373").await;
    rig.file().await;
    let (state, error) = rig.state(id).await;
    assert_eq!(state, "failed", "never read as a wrong code and retried");
    let error = error.unwrap();
    assert!(error.contains("says both"), "{error}");
    assert!(!error.contains("7373"), "{error}");
    let open: i64 = sqlx::query_scalar(
        "select count(*) from browser_submission where request_id = ? and finished_at is null",
    )
    .bind(id)
    .fetch_one(rig.db.pool.sqlite().unwrap())
    .await
    .unwrap();
    assert_eq!(open, 1, "left open, so a retry checks the list first");
    rig.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_whose_claim_ran_out_sends_nothing() {
    let rig = rig(|_| {}).await;
    assert_eq!(
        rig.worker.concurrency, 1,
        "the browser filer claims one at a time"
    );
    let id = rig.request("lease-1", "7171").await;
    // Attempt 1's lease ran out and attempt 2 claimed the request; attempt
    // 1 only now gets to the button.
    sqlx::query("update access_requests set state = 'filing', attempts = 2 where id = ?")
        .bind(id)
        .execute(rig.db.pool.sqlite().unwrap())
        .await
        .unwrap();
    let stale = collabd::filer::FilingRequest {
        id,
        attempt: 1,
        store_domain: collabd::model::StoreDomain::parse("lease-1.myshopify.com").unwrap(),
        collaborator_code: collabd::model::CollaboratorCode::parse("7171").unwrap(),
        client_name: None,
        client_email: None,
        leadsie_request_name: None,
        leadsie_request_url: None,
    };
    let err = collabd::filer::Filer::file(&rig.filer, &stale, &rig.db)
        .await
        .unwrap_err();
    assert!(err.message().contains("nothing was sent"), "{err:?}");
    assert!(
        rig.replica.submissions().is_empty(),
        "never sent by a lost claim"
    );
    let rows: i64 = sqlx::query_scalar("select count(*) from browser_submission")
        .fetch_one(rig.db.pool.sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(rows, 0);
    rig.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_that_reached_shopify_is_never_filed_again() {
    let rig = rig(|_| {}).await;
    let id = rig.request("reached-1", "7272").await;
    // An earlier attempt sent it and read the answer, but its result was
    // thrown away (its claim had run out).
    sqlx::query(
        "insert into browser_submission (request_id, attempt, started_at, finished_at, result)
         values (?, 1, '2026-11-27T10:00:00Z', '2026-11-27T10:00:05Z', 'requested')",
    )
    .bind(id)
    .execute(rig.db.pool.sqlite().unwrap())
    .await
    .unwrap();
    rig.file().await;
    let (state, error) = rig.state(id).await;
    assert_eq!(state, "requested", "{error:?}");
    assert!(rig.replica.submissions().is_empty(), "never sent twice");
    assert!(rig.timeline(id).await.contains("nothing was sent again"));
    rig.done().await;
}

/// A database from before `waiting_for` and `signed_in`: requests queued
/// behind a wait, told apart then by their error's first words, keep
/// waiting for the same thing, and the session's `ok` reads `signed_in`.
#[tokio::test]
async fn upgrading_types_the_waits_and_the_session_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        let mut old = sqlx::migrate!("./migrations");
        old.migrations = old
            .migrations
            .iter()
            .filter(|m| m.version <= 10)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        old.run(&pool).await.unwrap();
        for (id, state, error) in [
            (
                1,
                "queued",
                "browser login needed: redirected to a sign-in page (https://accounts.shopify.com/lookup); the request waits until an operator runs `collabd browser login`",
            ),
            (
                2,
                "queued",
                "browser filer: 6 requests sent in the last hour (worker.browser.per_hour = 6); waiting until the oldest (2026-11-01T00:00:00Z) is an hour old",
            ),
            (
                3,
                "queued",
                "browser filer: the browser profile /var/lib/collabd/browser/profile is in use by another collabd process (the daemon's browser, or `collabd browser login`); try again when it is done",
            ),
            (
                4,
                "queued",
                "browser filer: no answer within worker.browser.budget_seconds = 60 (a page or the browser hung); the browser was restarted",
            ),
            (5, "failed", "browser login needed: long ago"),
        ] {
            sqlx::query(
                "insert into access_requests (id, store_domain, collaborator_code, state, last_error, received_at, created_at, updated_at)
                 values (?, ?, '1234', ?, ?, 'x', 'x', 'x')",
            )
            .bind(id)
            .bind(format!("s{id}.myshopify.com"))
            .bind(state)
            .bind(error)
            .execute(&pool)
            .await
            .unwrap();
        }
        sqlx::query("update browser_session set state = 'ok', detail = 'ok', since = '2026-11-01T00:00:00Z'")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    let db = Db::open(&path).await.unwrap();
    let waits: Vec<(i64, Option<String>)> =
        sqlx::query_as("select id, waiting_for from access_requests order by id")
            .fetch_all(db.pool.sqlite().unwrap())
            .await
            .unwrap();
    assert_eq!(
        waits,
        vec![
            (1, Some("browser_login".into())),
            (2, Some("hourly_limit".into())),
            (3, Some("browser_busy".into())),
            (4, None),
            (5, None),
        ]
    );
    let session = db.browser_session().await.unwrap();
    assert_eq!(session.state, collabd::model::SessionState::SignedIn);
    assert_eq!(session.since.to_string(), "2026-11-01T00:00:00Z");
    assert_eq!(health(&db).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_session_makes_requests_wait_until_a_new_login() {
    let rig = rig(|_| {}).await;
    rig.replica.lapse();
    let id = rig.request("acme-6", "6666").await;
    rig.file().await;
    let (state, error) = rig.state(id).await;
    assert_eq!(state, "queued", "waits, never fails");
    assert!(error.unwrap().starts_with("browser login needed"));
    assert_eq!(rig.waiting_for(id).await.as_deref(), Some("browser_login"));
    assert_eq!(health(&rig.db).await.unwrap(), Some("browser login needed"));
    let told = rig.db.browser_session().await.unwrap().told_at;
    assert!(told.is_some());
    // Many attempts later it still waits, and operators were told once.
    for hours in [2, 4, 8, 16, 32, 64, 128, 256, 512] {
        rig.file_due(chrono::Duration::hours(hours)).await;
    }
    assert_eq!(rig.state(id).await.0, "queued");
    assert_eq!(rig.db.browser_session().await.unwrap().told_at, told);
    // The operator signs in again.
    rig.filer
        .session()
        .open(&rig.replica.login_url())
        .await
        .unwrap();
    // The check sees the session and makes the waiting request due, its
    // waits no longer counted against it.
    rig.filer
        .session()
        .check_session(Some(&rig.db))
        .await
        .unwrap();
    assert_eq!(health(&rig.db).await.unwrap(), None);
    let attempts: i64 = sqlx::query_scalar("select attempts from access_requests where id = ?")
        .bind(id)
        .fetch_one(rig.db.pool.sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(attempts, 0);
    assert_eq!(rig.waiting_for(id).await, None);
    rig.file().await;
    assert_eq!(rig.state(id).await.0, "requested");
    rig.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_collaborations_list_closes_requests_once() {
    let rig = rig(|_| {}).await;
    let a = rig.request("shop-a", "1001").await;
    let b = rig.request("shop-b", "1002").await;
    let c = rig.request("shop-c", "1003").await;
    rig.file().await;
    for id in [a, b, c] {
        assert_eq!(rig.state(id).await.0, "requested");
    }
    rig.replica.set_status("shop-a", "Active");
    rig.replica.set_status("shop-b", "Declined");
    rig.replica.set_status("shop-c", "Expired");
    let changes = rig.filer.session().sync_once(&rig.db).await.unwrap();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert_eq!(rig.state(a).await.0, "granted");
    assert_eq!(rig.state(b).await.0, "declined");
    assert_eq!(rig.state(c).await.0, "expired");
    // Saying it again changes nothing: one outcome, not two.
    assert!(
        rig.filer
            .session()
            .sync_once(&rig.db)
            .await
            .unwrap()
            .is_empty()
    );
    rig.replica.set_status("shop-a", "Access removed");
    rig.filer.session().sync_once(&rig.db).await.unwrap();
    assert_eq!(rig.state(a).await.0, "revoked");
    assert!(rig.timeline(a).await.contains("Collaborations list"));
    rig.done().await;
}

#[tokio::test]
async fn the_list_moves_only_filed_requests_and_skips_stores_it_contradicts() {
    use collabd::browser::sync::{ListRow, ListStatus, listed};
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("collabd.db")).await.unwrap();
    let now = collabd::timestamp::Timestamp::from(Utc::now());
    let mut ids = Vec::new();
    for (store, state) in [
        ("mixed", "requested"),
        ("fresh", "queued"),
        ("plain", "requested"),
    ] {
        let id: i64 = sqlx::query_scalar(
            "insert into access_requests (store_domain, collaborator_code, state, received_at, created_at, updated_at)
             values (?, '1234', ?, ?, ?, ?) returning id",
        )
        .bind(format!("{store}.myshopify.com"))
        .bind(state)
        .bind(now)
        .bind(now)
        .bind(now)
        .fetch_one(db.pool.sqlite().unwrap())
        .await
        .unwrap();
        ids.push(id);
    }
    let row = |store: &str, status| ListRow {
        store: format!("{store}.myshopify.com"),
        status: Some(status),
        said: Some("said".into()),
    };
    let rows = [
        // An old expired request beside the live one.
        row("mixed", ListStatus::Expired),
        row("mixed", ListStatus::Pending),
        // An earlier request's row; the newest is not filed yet.
        row("fresh", ListStatus::Declined),
        row("plain", ListStatus::Granted),
    ];
    let changes = db.apply_list(&listed(&rows), &now).await.unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    let state = |id: i64| {
        let pool = db.pool.sqlite().unwrap().clone();
        async move {
            sqlx::query_scalar::<_, String>("select state from access_requests where id = ?")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(state(ids[0]).await, "requested");
    assert_eq!(state(ids[1]).await, "queued");
    assert_eq!(state(ids[2]).await, "granted");
}

/// Runs the collabd binary with a config that points the browser filer at
/// the replica and the rig's profile.
async fn collabd(rig: &Rig, args: &[&str]) -> (bool, String) {
    let config = rig.dir.path().join("collabd.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\npath = \"{db}\"\n[worker]\nfiler = \"browser\"\n[worker.browser]\n\
             org_id = \"1\"\nstate_dir = \"{state}\"\nform_url = \"{form}\"\nlist_url = \"{list}\"\n",
            db = rig.dir.path().join("collabd.db").display(),
            state = rig.dir.path().join("browser").display(),
            form = rig.replica.form_url(),
            list = rig.replica.list_url(),
        ),
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_collabd"))
        .arg("--config")
        .arg(&config)
        .args(args)
        .env_remove("COLLABD_DB")
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_checks_the_session_syncs_and_says_when_a_login_is_needed() {
    let rig = rig(|_| {}).await;
    let id = rig.request("shop-d", "1004").await;
    rig.file().await;
    assert_eq!(rig.state(id).await.0, "requested");
    // The CLI uses the same profile: the filer's browser must be closed.
    rig.filer.session().shutdown().await;
    rig.replica.set_status("shop-d", "Active");
    let (ok, out) = collabd(&rig, &["browser", "sync"]).await;
    assert!(ok, "{out}");
    assert!(out.contains("requested → granted"), "{out}");
    assert_eq!(rig.state(id).await.0, "granted");
    let (_, out) = collabd(&rig, &["check-config"]).await;
    assert!(out.contains("the dashboard session is signed in"), "{out}");
    assert!(
        out.contains("WARN filer: browser: worker.browser.permissions is not set"),
        "{out}"
    );
    rig.replica.lapse();
    let (ok, out) = collabd(&rig, &["browser", "sync"]).await;
    assert!(!ok);
    assert!(out.contains("browser login needed"), "{out}");
    let (_, out) = collabd(&rig, &["browser", "status"]).await;
    assert!(out.contains("browser login needed"), "{out}");
    let (_, out) = collabd(&rig, &["status"]).await;
    assert!(out.contains("browser login needed"), "{out}");
    let (_, out) = collabd(&rig, &["check-config"]).await;
    assert!(out.contains("browser login needed"), "{out}");
    rig.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_markup_with_the_documented_selectors_files_the_same() {
    let rig = rig_on(true, |s| s.permissions = vec!["customers".into()]).await;
    let ok = rig.request("spa-ok", "0105").await;
    let wrong = rig.request("spa-wrong", "0000").await;
    let pending = rig.request("pending-spa", "1234").await;
    let missing = rig.request("missing-spa", "1234").await;
    rig.file().await;
    let (state, error) = rig.state(ok).await;
    assert_eq!(state, "requested", "{error:?}\n{}", rig.timeline(ok).await);
    assert_eq!(
        rig.replica.submissions(),
        vec![(
            "spa-ok".to_owned(),
            "0105".to_owned(),
            vec!["customers".to_owned()]
        )]
    );
    let (state, error) = rig.state(wrong).await;
    assert_eq!(state, "failed");
    assert!(error.unwrap().contains("wrong or expired"));
    assert_eq!(rig.state(pending).await.0, "requested");
    let (state, error) = rig.state(missing).await;
    assert_eq!(state, "failed");
    assert!(error.unwrap().contains("does not know the store"));
    rig.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_reads_the_list_and_closes_an_idle_browser() {
    let rig = rig(|s| {
        s.sync_every = Some(Duration::from_secs(1));
        s.idle_close = Some(Duration::from_secs(2));
    })
    .await;
    let id = rig.request("shop-e", "1005").await;
    rig.file().await;
    assert_eq!(rig.state(id).await.0, "requested");
    rig.replica.set_status("shop-e", "Active");
    let shutdown = tokio_util::sync::CancellationToken::new();
    let schedule = tokio::spawn(
        rig.filer
            .session()
            .clone()
            .run_sync(rig.db.clone(), shutdown.clone()),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while rig.state(id).await.0 != "granted" {
        assert!(
            std::time::Instant::now() < deadline,
            "the schedule never synced"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Syncs keep the browser busy every second here; once they stop it idles.
    shutdown.cancel();
    schedule.await.unwrap();
    assert_eq!(
        rig.filer.session().process_group().await,
        None,
        "stopped with the daemon"
    );
    let shutdown = tokio_util::sync::CancellationToken::new();
    let rig2 = rig_free(&rig, |s| s.idle_close = Some(Duration::from_secs(1)));
    rig2.open(&format!(
        "{}/dashboard/1/stores/collaborations",
        rig.replica.base
    ))
    .await
    .unwrap();
    assert!(rig2.process_group().await.is_some());
    let schedule = tokio::spawn(rig2.clone().run_sync(rig.db.clone(), shutdown.clone()));
    while rig2.process_group().await.is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the idle browser was never closed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    shutdown.cancel();
    schedule.await.unwrap();
    rig.done().await;
}

/// Another session on the rig's profile, with other settings.
fn rig_free(rig: &Rig, tweak: impl FnOnce(&mut BrowserSettings)) -> Session {
    let mut s = rig.filer.session().settings().clone();
    s.sync_every = None;
    tweak(&mut s);
    Session::new(s, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hourly_limit_holds_requests_back_without_failing_them() {
    let rig = rig(|s| s.per_hour = Some(1)).await;
    let first = rig.request("shop-f", "1006").await;
    let second = rig.request("shop-g", "1007").await;
    rig.file().await;
    assert_eq!(rig.state(first).await.0, "requested");
    let (state, error) = rig.state(second).await;
    assert_eq!(state, "queued");
    assert!(error.unwrap().contains("worker.browser.per_hour = 1"));
    assert_eq!(
        rig.waiting_for(second).await.as_deref(),
        Some("hourly_limit")
    );
    assert_eq!(rig.replica.submissions().len(), 1);
    let attempts: i64 = sqlx::query_scalar("select attempts from access_requests where id = ?")
        .bind(second)
        .fetch_one(rig.db.pool.sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(attempts, 0, "a wait is not an attempt");
    rig.done().await;
}

/// Polls `cond` every 200 ms for up to `secs` seconds without blocking the
/// runtime's workers (the replica answers on them); whether it came true.
async fn within(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while !cond() {
        if start.elapsed() > Duration::from_secs(secs) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    true
}

/// The Chromium processes running on `profile`.
fn browser_pids(profile: &std::path::Path) -> Vec<String> {
    let needle = format!("--user-data-dir={}", profile.display());
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(&needle))
                .unwrap_or(false)
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

fn browsers_on(profile: &std::path::Path) -> usize {
    browser_pids(profile).len()
}

/// The whole chain as an operator runs it: `collabd run` with
/// `filer = "browser"` reads a Leadsie email from a real Dovecot,
/// queues it, files it on the dashboard replica in its own Chromium (the
/// profile signed in beforehand), and leaves no browser behind on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collabd_run_files_an_emailed_grant_in_its_own_browser() {
    use support::daemon::{Daemon, grant, sql};
    use support::dovecot::{Dovecot, Options};
    let rig = rig(|_| {}).await;
    let dc = Dovecot::start(Options::default());
    let mut d = Daemon::tls(&dc, "");
    let config = std::fs::read_to_string(&d.cfg)
        .unwrap()
        .replace("filer = \"log\"", "filer = \"browser\"")
        .replace(
            "poll_seconds = 1\n",
            &format!(
                "poll_seconds = 1\n[worker.browser]\norg_id = \"1\"\nstate_dir = \"{state}\"\n\
                 form_url = \"{form}\"\nlist_url = \"{list}\"\npermissions = [\"products\"]\n",
                state = rig.dir.path().join("browser").display(),
                form = rig.replica.form_url(),
                list = rig.replica.list_url(),
            ),
        );
    assert!(config.contains("filer = \"browser\""), "{config}");
    std::fs::write(&d.cfg, config).unwrap();
    d.start();
    dc.append("INBOX", &[grant("run-shop", "4242", 1)]);
    let db = d.db.clone();
    let filed = within(60, || {
        sql(&db, "select state from access_requests") == "requested"
    })
    .await;
    assert!(
        filed,
        "not filed within 60 s: {}\n{}",
        sql(&db, "select state, last_error from access_requests"),
        d.log()
    );
    assert_eq!(
        rig.replica.submissions(),
        vec![(
            "run-shop".to_owned(),
            "4242".to_owned(),
            vec!["products".to_owned()]
        )]
    );
    let events = sql(&db, "select group_concat(event, ' ') from request_events");
    assert!(events.contains("filed"), "{events}");
    let log = d.log();
    assert!(
        !support::daemon::has_code(&log, "4242"),
        "the code reached the log:\n{log}"
    );
    let profile = rig.dir.path().join("browser").join("profile");
    assert!(browsers_on(&profile) > 0, "the daemon's browser runs");
    // While the daemon's browser is open, the CLI leaves the profile alone
    // and says why.
    let (ok, out) = collabd(&rig, &["browser", "sync"]).await;
    assert!(!ok, "{out}");
    assert!(out.contains("in use by another collabd process"), "{out}");
    // And `collabd browser status` names the process that holds it.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let holder = format!("{} (pid {})", host.trim(), d.pid().unwrap());
    let (_, out) = collabd(&rig, &["browser", "status"]).await;
    assert!(
        out.contains(&format!("the browser profile is held by {holder}")),
        "{out}"
    );
    // Killed outright (outside systemd nothing kills its process group),
    // the daemon leaves its Chromium behind; started again, it stops that
    // one and files the next grant in a browser of its own.
    d.sigkill();
    let left: Vec<String> = browser_pids(&profile);
    assert!(!left.is_empty(), "Chromium outlives a SIGKILLed collabd");
    d.start();
    dc.append("INBOX", &[grant("after-kill", "5353", 2)]);
    let filed = within(60, || {
        sql(
            &db,
            "select state from access_requests where store_domain = 'after-kill.myshopify.com'",
        ) == "requested"
    })
    .await;
    assert!(
        filed,
        "not filed after the restart: {}\n{}",
        sql(
            &db,
            "select store_domain, state, last_error from access_requests"
        ),
        d.log()
    );
    let now = browser_pids(&profile);
    assert!(
        left.iter().all(|p| !now.contains(p)),
        "the orphaned Chromium {left:?} still runs beside {now:?}"
    );
    assert!(
        d.log().contains("left running on the profile"),
        "{}",
        d.log()
    );
    let (_, code) = d.sigterm();
    assert_eq!(code, Some(0), "{}", d.log());
    assert!(
        within(10, || browsers_on(&profile) == 0).await,
        "Chromium left running after SIGTERM"
    );
    let (_, out) = collabd(&rig, &["browser", "status"]).await;
    assert!(
        out.contains("no collabd process holds the browser profile now"),
        "{out}"
    );
    rig.done().await;
}

/// A rig whose dashboard session has lapsed, as `collabd browser sync`
/// reports (which also writes the config the CLI reads).
async fn lapsed_rig() -> Rig {
    let rig = rig(|_| {}).await;
    rig.replica.lapse();
    let (ok, out) = collabd(&rig, &["browser", "sync"]).await;
    assert!(!ok && out.contains("browser login needed"), "{out}");
    rig
}

/// After a new login: the CLI no longer says a login is needed, and a
/// request is filed.
async fn files_again(rig: Rig, store: &str, code: &str) {
    let (_, out) = collabd(&rig, &["browser", "status"]).await;
    assert!(!out.contains("browser login needed"), "{out}");
    let id = rig.request(store, code).await;
    rig.file().await;
    assert_eq!(rig.state(id).await.0, "requested");
    rig.done().await;
}

/// A running `collabd browser login` for `rig`, its standard output read
/// up to the "Waiting up to" line (what it told the operator is `said`).
struct Login {
    child: tokio::process::Child,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    said: String,
    err: std::path::PathBuf,
}

impl Login {
    async fn start(rig: &Rig, args: &[&str], env: &[(&str, &str)]) -> Login {
        use tokio::io::AsyncBufReadExt;
        let err = rig.dir.path().join("login.err");
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_collabd"))
            .arg("--config")
            .arg(rig.dir.path().join("collabd.toml"))
            .args(["browser", "login"])
            .args(args)
            .env_remove("COLLABD_DB")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(&err).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut said = String::new();
        while let Ok(Ok(Some(line))) =
            tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await
        {
            said.push_str(&line);
            said.push('\n');
            if line.starts_with("Waiting up to") {
                break;
            }
        }
        Login {
            child,
            lines,
            said,
            err,
        }
    }

    /// Waits for the command to end once the operator has signed in, and
    /// checks it says so.
    async fn signed_in(mut self) {
        let status = tokio::time::timeout(Duration::from_secs(90), self.child.wait())
            .await
            .expect("the login command ends once the form shows")
            .unwrap();
        let mut rest = String::new();
        while let Ok(Some(line)) = self.lines.next_line().await {
            rest.push_str(&line);
            rest.push('\n');
        }
        let err = std::fs::read_to_string(&self.err).unwrap_or_default();
        assert!(status.success(), "{}{rest}{err}", self.said);
        assert!(rest.contains("Signed in"), "{rest}");
    }
}

/// `collabd browser login` on a server with no display: Chromium listens
/// for DevTools on loopback, the tunnel command is printed, an operator's
/// browser attached to that port signs in, and the command sees the form,
/// checks the session headless and says so; filings work again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_login_through_the_debugging_port_signs_the_profile_in_again() {
    let rig = lapsed_rig().await;
    let port = support::dovecot::free_port();
    let login = Login::start(&rig, &["--remote", "--port", &port.to_string()], &[]).await;
    let said = &login.said;
    assert!(
        said.contains(&format!("ssh -N -L {port}:127.0.0.1:{port} ")),
        "{said}"
    );
    // Nothing but loopback listens: no IPv6 socket on the port, and every
    // IPv4 one on 127.0.0.1.
    let hex = format!(":{port:04X} ");
    let v6 = std::fs::read_to_string("/proc/net/tcp6").unwrap_or_default();
    assert!(
        !v6.lines().any(|l| l
            .split_whitespace()
            .nth(1)
            .is_some_and(|a| a.ends_with(&hex[..5]))),
        "{v6}"
    );
    let listening = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let lines_with_port: Vec<&str> = listening.lines().filter(|l| l.contains(&hex)).collect();
    assert!(
        !lines_with_port.is_empty()
            && lines_with_port.iter().all(|l| l
                .split_whitespace()
                .nth(1)
                .is_some_and(|a| a.starts_with("0100007F:"))),
        "{lines_with_port:?}"
    );
    // The operator, through the tunnel: the tab shows Shopify's sign-in.
    let driver = support::browser::Driver::start();
    let operator = driver.attach(port).await;
    let shown = operator.current_url().await.unwrap();
    assert!(shown.path().starts_with("/login"), "{shown}");
    operator.goto(&rig.replica.login_url()).await.unwrap();
    login.signed_in().await;
    drop(operator);
    drop(driver);
    files_again(rig, "after-login", "2468").await;
}

/// Debian's Chromium showing `html`, written into a blank page.
async fn page_with(html: &str) -> (support::browser::Driver, fantoccini::Client) {
    let mut driver = support::browser::Driver::start();
    let client = driver.session(800, 600, false).await;
    client.goto("about:blank").await.unwrap();
    client
        .execute(
            "document.open(); document.write(arguments[0]); document.close(); return null;",
            vec![html.into()],
        )
        .await
        .unwrap();
    (driver, client)
}

/// Kept evidence never shows the code: the code field is drawn as discs,
/// and text or another field that repeats it (an echo, an error quoting
/// it) shows it masked, in the screenshot as in the kept HTML. Other
/// numbers stay as they are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_evidence_masks_the_code_wherever_the_page_repeats_it() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let (_driver, client) = page_with(
        "<!doctype html><title>Request store access</title>\
         <p>You are sending code 4821 to shop-x.</p>\
         <input name=\"collaborator_request_code\" value=\"4821\">\
         <input id=\"other\" value=\"ref 4821\"><p>Order 1234</p>\
         <div id=\"host\"></div><iframe srcdoc=\"<p>frame 4821</p>\"></iframe>",
    )
    .await;
    client
        .execute(
            "document.getElementById('host').attachShadow({mode: 'open'}).innerHTML = \
             '<span>shadow 4821</span>'; return null;",
            vec![],
        )
        .await
        .unwrap();
    let frame_text = "const d = document.querySelector('iframe').contentDocument; \
                      return d && d.body ? d.body.innerText : '';";
    let mut loaded = false;
    for _ in 0..50 {
        let t = client.execute(frame_text, vec![]).await.unwrap();
        if t.as_str().is_some_and(|t| t.contains("frame")) {
            loaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(loaded, "the frame loads");
    let dir = tempfile::tempdir().unwrap();
    let kept = collabd::browser::page::keep_evidence(
        &client,
        dir.path(),
        "input[name=\"collaborator_request_code\"]",
        RequestId(7),
        1,
        "unknown",
        "4821",
    )
    .await
    .unwrap();
    let shown = client
        .execute(
            "const f = document.querySelector('input[name=\"collaborator_request_code\"]'); \
             return [document.body.innerText, document.getElementById('other').value, \
             document.getElementById('host').shadowRoot.textContent, \
             document.querySelector('iframe').contentDocument.body.innerText, \
             getComputedStyle(f).webkitTextSecurity].join('|');",
            vec![],
        )
        .await
        .unwrap();
    let shown = shown.as_str().unwrap();
    assert!(!shown.contains("4821"), "{shown}");
    assert!(shown.contains("code **21 to shop-x"), "{shown}");
    assert!(shown.contains("ref **21"), "{shown}");
    assert!(shown.contains("Order 1234"), "{shown}");
    assert!(shown.contains("shadow **21"), "{shown}");
    assert!(shown.contains("frame **21"), "{shown}");
    assert!(shown.ends_with("|disc"), "{shown}");
    let html = std::fs::read_to_string(&kept.html).unwrap();
    assert!(!html.contains("4821"), "{html}");
    assert_png(&kept.screenshot);
    client.close().await.unwrap();
}

/// A code split so no plain search finds it — across elements, by
/// zero-width spaces, into CSS `::after` content (a string or an
/// attribute), or spaced in a field — is blanked in the page before the
/// screenshot and starred in the kept HTML; canvases are hidden. Text that
/// only has the digits apart, with words between, stays readable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_evidence_masks_a_code_split_across_elements_and_styles() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let (_driver, client) = page_with(
        "<!doctype html><title>Request store access</title>\
         <style>.after::after { content: \"21\"; } .attr::after { content: attr(data-x); }</style>\
         <p id=\"a\">You are sending code 48<b>21</b> to shop-x.</p>\
         <p id=\"b\">zero 4\u{200B}8\u{200B}2\u{200B}1 here</p>\
         <p id=\"c\" class=\"after\">pseudo 48</p>\
         <p id=\"d\">data <span class=\"attr\" data-x=\"21\">48</span></p>\
         <p id=\"e\">Order 1234 and 48 then 21 later</p>\
         <input id=\"f\" value=\"48 21\">\
         <canvas id=\"g\" width=\"50\" height=\"20\"></canvas>",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let kept = collabd::browser::page::keep_evidence(
        &client,
        dir.path(),
        "input[name=\"collaborator_request_code\"]",
        RequestId(8),
        1,
        "unknown",
        "4821",
    )
    .await
    .unwrap();
    let seen = client
        .execute(
            "const q = id => document.getElementById(id); \
             const after = id => getComputedStyle(q(id), '::after').content; \
             const color = id => getComputedStyle(q(id)).color; \
             return { a: q('a').textContent, b: q('b').textContent, \
                      c: q('c').textContent, c_after: after('c'), c_color: color('c'), \
                      d: q('d').textContent, d_after: getComputedStyle(q('d').firstElementChild, '::after').content, \
                      e: q('e').textContent, e_color: color('e'), f: q('f').value, \
                      g: getComputedStyle(q('g')).visibility };",
            vec![],
        )
        .await
        .unwrap();
    let get = |k: &str| seen[k].as_str().unwrap_or_default().to_owned();
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    for k in ["a", "b", "c", "d", "f"] {
        assert_eq!(digits(&get(k)), "", "{k}: {seen}");
    }
    assert_eq!(get("c_after"), "none", "{seen}");
    assert_eq!(get("d_after"), "none", "{seen}");
    assert_eq!(get("c_color"), "rgba(0, 0, 0, 0)", "{seen}");
    assert_eq!(get("e"), "Order 1234 and 48 then 21 later", "{seen}");
    assert_ne!(get("e_color"), "rgba(0, 0, 0, 0)", "{seen}");
    assert_eq!(get("g"), "hidden", "{seen}");
    let html = std::fs::read_to_string(&kept.html).unwrap();
    for split in ["48<b>21", "4\u{200B}8\u{200B}2\u{200B}1", "48 21", "4821"] {
        assert!(!html.contains(split), "{split:?} in {html}");
    }
    assert!(html.contains("Order 1234"), "{html}");
    assert_png(&kept.screenshot);
    client.close().await.unwrap();
}

/// The worker's usual concurrency (4) does not reach the browser: three
/// due requests are claimed and filed one after another, each claim only
/// once the filing before it has finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_due_requests_are_claimed_and_filed_one_at_a_time() {
    let rig = rig(|_| {}).await;
    assert!(WorkerSettings::default().concurrency > 1);
    let ids = [
        rig.request("seq-1", "1001").await,
        rig.request("seq-2", "1002").await,
        rig.request("seq-3", "1003").await,
    ];
    rig.file().await;
    for id in ids {
        assert_eq!(rig.state(id).await.0, "requested");
    }
    let order: Vec<(i64, String)> = sqlx::query_as(
        "select request_id, event from request_events
         where event in ('claimed', 'filed') order by id",
    )
    .fetch_all(rig.db.pool.sqlite().unwrap())
    .await
    .unwrap();
    assert_eq!(order.len(), 6, "{order:?}");
    for pair in order.chunks(2) {
        assert_eq!(pair[0].1, "claimed", "{order:?}");
        assert_eq!(pair[1].1, "filed", "{order:?}");
        assert_eq!(
            pair[0].0, pair[1].0,
            "a claim before the last filing ended: {order:?}"
        );
    }
    assert_eq!(rig.replica.submissions().len(), 3);
    rig.done().await;
}

/// An X server of its own (Xvfb) on a free display; dropped, it is killed.
struct Display {
    child: std::process::Child,
    name: String,
}

impl Display {
    /// Xvfb picks the display itself (`-displayfd 1`: the first free one,
    /// written to its standard output once it accepts connections), so no
    /// lock file left by another X server, or by one killed before it
    /// cleaned up, can make the choice fail. A loaded machine may take a
    /// while to start it (keymaps are compiled at start): it has a minute,
    /// and if it stops or says nothing the panic quotes its own words.
    fn start() -> Display {
        let said = tempfile::NamedTempFile::new().expect("a file for Xvfb's output");
        let errors = tempfile::NamedTempFile::new().expect("a file for Xvfb's errors");
        let mut child = std::process::Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x1024x24",
                "-nolisten",
                "tcp",
            ])
            .stdin(std::process::Stdio::null())
            .stdout(said.reopen().expect("Xvfb's output file"))
            .stderr(errors.reopen().expect("Xvfb's error file"))
            .spawn()
            .expect("Xvfb is installed (apt-get install xvfb)");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let mut status = None;
        while status.is_none() && std::time::Instant::now() < deadline {
            let number = std::fs::read_to_string(said.path()).unwrap_or_default();
            if let Some(number) = number.strip_suffix('\n') {
                return Display {
                    child,
                    name: format!(":{number}"),
                };
            }
            status = child.try_wait().expect("Xvfb's status");
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let status = child.wait();
        let stderr = std::fs::read_to_string(errors.path()).unwrap_or_default();
        panic!(
            "Xvfb gave no display number (waited up to a minute; {status:?}); it said: {stderr}"
        );
    }

    /// Runs xdotool on this display; its standard output.
    fn xdotool(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.name)
            .output()
            .expect("xdotool is installed (apt-get install xdotool)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `collabd browser login` where there is a display: a visible Chromium
/// window opens at the dashboard (Shopify's sign-in, the session having
/// lapsed); the operator signs in in that window — here xdotool types into
/// its address bar on an Xvfb display — and the command sees the form,
/// checks the session headless and says so; filings work again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_login_in_a_window_signs_the_profile_in_again() {
    let rig = lapsed_rig().await;
    let display = Display::start();
    let login = Login::start(&rig, &[], &[("DISPLAY", display.name.as_str())]).await;
    let said = &login.said;
    assert!(said.contains("A Chromium window is open"), "{said}");
    // The window, as the operator sees it: on the display, showing the
    // sign-in page.
    let mut window = String::new();
    for _ in 0..100 {
        window = display.xdotool(&["search", "--onlyvisible", "--name", "Log in"]);
        if !window.trim().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let window = window.lines().next().unwrap_or_default().trim().to_owned();
    assert!(!window.is_empty(), "no visible window titled \"Log in\"");
    display.xdotool(&["windowactivate", "--sync", &window]);
    display.xdotool(&["windowfocus", "--sync", &window]);
    display.xdotool(&["key", "--clearmodifiers", "ctrl+l"]);
    display.xdotool(&["type", "--delay", "20", &rig.replica.login_url()]);
    display.xdotool(&["key", "Return"]);
    login.signed_in().await;
    files_again(rig, "after-window", "1357").await;
}

/// What a second local user tries against the filer's browser, run as
/// `nobody`: every listening loopback socket is asked the DevTools and
/// WebDriver questions that would hand it the browser (and the session
/// cookies in it), the browser's directories are read, and chromedriver's
/// command line is read for its secret. One JSON object on stdout.
const INTRUDER: &str = r#"
import json, os, socket, sys

state, driver_pid = sys.argv[1], sys.argv[2]

def listeners():
    found = []
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            addr, port = f[1].split(":")
            if f[3] != "0A":
                continue
            loop4 = addr in ("0100007F", "00000000")
            loop6 = addr in ("00000000000000000000000001000000", "0" * 32)
            if loop4 or loop6:
                found.append((family, int(port, 16), int(f[9])))
    return found

def ask(family, port, method, path, body=b""):
    host = "127.0.0.1" if family == socket.AF_INET else "::1"
    try:
        s = socket.create_connection((host, port), timeout=2)
    except OSError as e:
        return {"error": str(e)}
    try:
        head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (method, path, port, len(body))
        s.sendall(head.encode() + body)
        data = b""
        while True:
            end = data.find(b"\r\n\r\n")
            if end >= 0:
                length = None
                for h in data[:end].split(b"\r\n")[1:]:
                    k, _, v = h.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v.strip())
                if length is not None and len(data) - end - 4 >= length:
                    break
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError as e:
        data += ("<%s>" % e).encode()
    finally:
        s.close()
    text = data.decode("utf-8", "replace")
    status = text.split(" ", 2)[1] if text.startswith("HTTP/") else ""
    body = text.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in text else ""
    devtools = status == "200" and "webSocketDebuggerUrl" in body
    try:
        webdriver = isinstance(json.loads(body), dict) and "value" in json.loads(body)
    except ValueError:
        webdriver = False
    return {"status": status, "devtools": devtools, "webdriver": webdriver, "body": body[:300]}

# A harmless program: enough to show that anyone could have run their own.
session = json.dumps({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"binary": "/bin/true"}}}}).encode()
probed = []
for family, port, inode in listeners():
    answers = {}
    for method, path, body in (("GET", "/json/version", b""), ("GET", "/json/list", b""),
                               ("GET", "/status", b""), ("GET", "/sessions", b""),
                               ("POST", "/session", session)):
        answers[method + " " + path] = ask(family, port, method, path, body)
    probed.append({"port": port, "inode": inode, "answers": answers})

def attempt(what):
    try:
        what()
        return "allowed"
    except PermissionError:
        return "refused"
    except OSError as e:
        return "error: %s" % e

files = {
    "list " + state: attempt(lambda: os.listdir(state)),
    "list profile": attempt(lambda: os.listdir(os.path.join(state, "profile"))),
    "list home": attempt(lambda: os.listdir(os.path.join(state, "home"))),
    "read DevToolsActivePort": attempt(lambda: open(os.path.join(state, "profile", "DevToolsActivePort")).read()),
    "read Cookies": attempt(lambda: open(os.path.join(state, "profile", "Default", "Cookies"), "rb").read()),
}
try:
    cmdline = open("/proc/%s/cmdline" % driver_pid, "rb").read().decode("utf-8", "replace").split("\0")
except OSError as e:
    cmdline = ["<%s>" % e]
print(json.dumps({"uid": os.getuid(), "probed": probed, "files": files, "cmdline": cmdline}))
"#;

/// The socket inodes the processes of `pgid` hold open (chromedriver's
/// group, which Chromium and its helpers inherit).
fn sockets_of_group(pgid: i32) -> std::collections::HashSet<u64> {
    let mut inodes = std::collections::HashSet::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let group = stat
            .rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().nth(2))
            .and_then(|g| g.parse::<i32>().ok());
        if group != Some(pgid) {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(link) = std::fs::read_link(fd.path()) {
                let link = link.to_string_lossy().into_owned();
                if let Some(inode) = link
                    .strip_prefix("socket:[")
                    .and_then(|l| l.strip_suffix(']'))
                    .and_then(|i| i.parse().ok())
                {
                    inodes.insert(inode);
                }
            }
        }
    }
    inodes
}

/// Another local user gets nowhere near the filer's browser while it
/// files: Chromium has no DevTools port (it speaks to chromedriver over
/// pipes), chromedriver answers nothing without its secret path, whose
/// bytes are gone from its command line, and the browser's directories
/// (the profile holds the dashboard's session cookies) are the service
/// user's alone. The directories around them are left traversable, so
/// only the browser directories' own modes keep `nobody` out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_other_local_user_reaches_the_filers_browser() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "skipped: trying the browser as another local user needs root (runuser -u nobody)"
        );
        return;
    }
    let rig = rig(|s| s.budget = Duration::from_secs(90)).await;
    std::fs::set_permissions(rig.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (stalled, filing, pgid) = rig.stall("stall-2", "3434").await;
    let state = rig.dir.path().join("browser");
    let out = tokio::process::Command::new("runuser")
        .args(["-u", "nobody", "--", "python3", "-c", INTRUDER])
        .arg(&state)
        .arg(pgid.to_string())
        .current_dir("/")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("runuser and python3 are installed");
    let ours = sockets_of_group(pgid);
    let still_filing = rig.filer.session().process_group().await == Some(pgid);
    // SAFETY: the group is the test's own browser.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
    filing.await.unwrap().unwrap();
    assert!(still_filing, "the browser went away while it was probed");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_ne!(seen["uid"], 0, "the probe ran as another user");
    // Every socket of the browser's process group that another user can
    // connect to says nothing that hands over the browser. Other programs'
    // sockets on a shared machine are not this test's business.
    let probed = seen["probed"].as_array().unwrap();
    let theirs: Vec<&serde_json::Value> = probed
        .iter()
        .filter(|p| p["inode"].as_u64().is_some_and(|i| ours.contains(&i)))
        .collect();
    assert!(
        !theirs.is_empty(),
        "chromedriver's own port was not among those probed: {ours:?}\n{text}"
    );
    // Every way in that is found is reported, not just the first.
    let mut found = Vec::new();
    for p in &theirs {
        for (asked, answer) in p["answers"].as_object().unwrap() {
            if answer["devtools"] != false || answer["webdriver"] != false {
                found.push(format!("port {} answered {asked}: {answer}", p["port"]));
            }
        }
    }
    for (what, result) in seen["files"].as_object().unwrap() {
        if result != "refused" {
            found.push(format!("{what}: {result}"));
        }
    }
    let cmdline: Vec<&str> = seen["cmdline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    match cmdline.iter().find_map(|a| a.strip_prefix("--url-base=")) {
        Some(base) if base.len() >= 64 && base.bytes().all(|b| b == b'x') => {}
        Some(base) => found.push(format!(
            "chromedriver's secret path is readable in its command line: {base}"
        )),
        None => found.push(format!("chromedriver has no secret path: {cmdline:?}")),
    }
    assert!(
        found.is_empty(),
        "another local user reaches the browser:\n{}",
        found.join("\n")
    );
    let (state_now, error) = rig.state(stalled).await;
    assert_eq!(state_now, "queued", "{error:?}");
    rig.done().await;
}
