//! The review step (`[worker] review`): a request that needs review waits
//! in `awaiting_review`, the worker never files it, operators hear of it
//! through `[worker.notify]`, and an operator's approval — `collabd
//! approve` or the status page's Approve button — queues it for filing.
//! Real SQLite files, the real `collabd` binary (`ingest`, `approve`,
//! `cancel`, `status`, `show`, `run`) and real loopback HTTP servers.

mod support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use collabd::filer::LogFiler;
use collabd::store::Db;
use collabd::worker::Worker;
use support::daemon::{collabd_cli, grant, sql};

/// A config file and database for one test, and the binary run on them.
struct Rig {
    dir: tempfile::TempDir,
    db: PathBuf,
    cfg: PathBuf,
}

impl Rig {
    /// `[worker] review = "{review}"` with the log filer; `extra` is
    /// appended to the file.
    fn new(review: &str, extra: &str) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("collabd.db");
        let cfg = dir.path().join("collabd.toml");
        std::fs::write(
            &cfg,
            format!(
                "[database]\npath = \"{}\"\n[worker]\nfiler = \"log\"\npoll_seconds = 1\nreview = \"{review}\"\n{extra}\n",
                db.display()
            ),
        )
        .unwrap();
        Rig { dir, db, cfg }
    }

    /// Runs `collabd ARGS --config CFG`; returns (exit code, stdout, stderr).
    fn collabd(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let mut all = args.to_vec();
        all.extend(["--config", self.cfg.to_str().unwrap()]);
        collabd_cli(&all, &[("COLLABD__TRUST__REQUIRE", "none")])
    }

    /// `collabd ingest` of `bytes` saved as `name` (`--webhook` when the
    /// name ends in `.json`); returns its one line of output.
    fn ingest(&self, name: &str, bytes: &[u8]) -> String {
        let f = self.dir.path().join(name);
        std::fs::write(&f, bytes).unwrap();
        let file = f.to_str().unwrap();
        let args: Vec<&str> = if name.ends_with(".json") {
            vec!["ingest", "--webhook", file]
        } else {
            vec!["ingest", file]
        };
        let (code, out, err) = self.collabd(&args);
        assert_eq!(code, Some(0), "{out}{err}");
        out
    }

    fn state(&self, id: i64) -> String {
        sql(
            &self.db,
            &format!("select state from access_requests where id = {id}"),
        )
    }

    /// A request's timeline as `actor|event|from>to`.
    fn timeline(&self, id: i64) -> Vec<String> {
        sql(
            &self.db,
            &format!(
                "select actor || '|' || event || '|' || coalesce(from_state, '') || '>' || coalesce(to_state, '')
                 from request_events where request_id = {id} order by id"
            ),
        )
        .lines()
        .map(str::to_owned)
        .collect()
    }

    /// The worker `collabd run` would make from this config, with the log
    /// filer, in this process: its passes take the time they are given.
    async fn worker(&self) -> Arc<Worker<LogFiler>> {
        let settings = collabd::config::Settings::load(Some(&self.cfg)).unwrap();
        let db = Db::open(&self.db).await.unwrap();
        Arc::new(Worker::new(db, LogFiler, &settings.worker))
    }
}

fn days(n: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() + chrono::Duration::days(n)
}

/// A Leadsie webhook delivery for one Shopify store.
fn webhook(store: &str, code: &str) -> Vec<u8> {
    serde_json::json!({
        "user": "ops@agency.example", "accessLevel": "Manage",
        "requestName": "Onboarding", "requestUrl": "https://app.leadsie.com/request/abc",
        "status": "SUCCESS", "clientName": "Delta Ltd", "apiVersion": 2,
        "connectionAssets": [{
            "id": format!("{store}.myshopify.com"), "name": store, "type": "Shopify Store",
            "platform": "Shopify", "connectionStatus": "Connected",
            "shopifyCollaboratorCode": code
        }]
    })
    .to_string()
    .into_bytes()
}

/// review = "all": an ingested grant waits; the worker's passes leave it
/// (and the sweep neither expires it nor forgets it: one reminder);
/// `collabd approve` queues it under the operator's name, and the next
/// pass files it. `status`, `status --state` and `show` say where it is.
#[tokio::test]
async fn review_all_holds_a_grant_until_collabd_approve_then_the_worker_files_it() {
    let rig = Rig::new("all", "");
    let out = rig.ingest("acme.eml", &grant("acme", "0105", 1));
    assert!(out.contains("created request #1"), "{out}");
    assert_eq!(rig.state(1), "awaiting_review");

    let (code, out, _) = rig.collabd(&["status", "--state", "awaiting_review"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("acme.myshopify.com") && out.contains("awaiting_review"),
        "{out}"
    );
    assert!(
        out.contains("1 request(s) awaiting review") && out.contains("collabd approve ID"),
        "{out}"
    );
    let (_, out, _) = rig.collabd(&["status", "--state", "queued"]);
    assert!(out.contains("(no requests in state queued)"), "{out}");
    let (_, out, _) = rig.collabd(&["show", "1"]);
    assert!(
        out.contains("acme.myshopify.com  awaiting_review") && out.contains("collabd approve 1"),
        "{out}"
    );

    let worker = rig.worker().await;
    assert_eq!(worker.run_due(days(0)).await.unwrap(), 0, "nothing filed");
    let swept = worker.sweep(days(30)).await.unwrap();
    assert!(swept.expired.is_empty(), "{swept:?}");
    assert_eq!(swept.reminded, vec![collabd::model::RequestId(1)]);
    assert_eq!(
        worker.sweep(days(31)).await.unwrap(),
        Default::default(),
        "one reminder only"
    );
    assert_eq!(
        worker.run_due(days(30)).await.unwrap(),
        0,
        "still not filed"
    );
    assert_eq!(rig.state(1), "awaiting_review");

    let (code, out, err) = rig.collabd(&["approve", "1", "--by", "ann", "--note", "checked"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("request #1 is now queued (by operator:ann)"),
        "{out}"
    );
    assert_eq!(rig.state(1), "queued");
    assert_eq!(worker.run_due(days(0)).await.unwrap(), 1);
    assert_eq!(rig.state(1), "logged");
    assert_eq!(
        rig.timeline(1),
        vec![
            "leadsie|created|>awaiting_review",
            "worker|reminder|>",
            "operator:ann|operator|awaiting_review>queued",
            "worker|claimed|>filing",
            "worker|filed|filing>logged",
        ]
    );
    assert_eq!(
        sql(
            &rig.db,
            "select detail from request_events where request_id = 1 and actor = 'operator:ann'"
        ),
        "approve: checked"
    );
}

/// review = "new-stores": only a store with no earlier request (in any
/// state) waits, by mail and by webhook alike. A newer code for a store
/// whose request still awaits review supersedes it and waits too.
#[test]
fn new_stores_asks_only_for_stores_never_requested_before() {
    let rig = Rig::new("new-stores", "");
    rig.ingest("acme-1.eml", &grant("acme", "1111", 1));
    assert_eq!(rig.state(1), "awaiting_review", "a new store");
    let (code, _, err) = rig.collabd(&["approve", "1", "--by", "ann"]);
    assert_eq!(code, Some(0), "{err}");
    // A second code for acme: seen before, so queued at once, and it
    // supersedes the first.
    let out = rig.ingest("acme-2.eml", &grant("acme", "2222", 2));
    assert!(
        out.contains("created request #2") && out.contains("superseded #1"),
        "{out}"
    );
    assert_eq!(rig.state(2), "queued");
    assert_eq!(rig.state(1), "superseded");

    // A store whose only request was cancelled has been seen all the same.
    rig.ingest("beta-1.eml", &grant("beta", "3333", 3));
    assert_eq!(rig.state(3), "awaiting_review");
    let (code, _, err) = rig.collabd(&["cancel", "3", "--by", "ann"]);
    assert_eq!(code, Some(0), "{err}");
    rig.ingest("beta-2.eml", &grant("beta", "4444", 4));
    assert_eq!(rig.state(4), "queued");

    // A newer code while the first still awaits review: it supersedes the
    // waiting request, and waits in its turn.
    rig.ingest("gamma-1.eml", &grant("gamma", "5555", 5));
    let out = rig.ingest("gamma-2.eml", &grant("gamma", "6666", 6));
    assert!(out.contains("superseded #5"), "{out}");
    assert_eq!(rig.state(5), "superseded");
    assert_eq!(rig.state(6), "awaiting_review");
    assert_eq!(
        rig.timeline(5),
        vec![
            "leadsie|created|>awaiting_review",
            "leadsie|superseded|awaiting_review>superseded"
        ]
    );
    assert!(
        sql(
            &rig.db,
            "select detail from request_events where request_id = 6 and event = 'created'"
        )
        .contains("still awaiting review"),
    );

    // The webhook decides the same way: a new store waits, a known one not.
    rig.ingest("delta.json", &webhook("delta", "7777"));
    rig.ingest("acme-3.json", &webhook("acme", "8888"));
    let states = sql(
        &rig.db,
        "select store_domain || ' ' || state from access_requests where id > 6 order by id",
    );
    assert_eq!(
        states,
        "delta.myshopify.com awaiting_review\nacme.myshopify.com queued"
    );
    assert_eq!(
        sql(
            &rig.db,
            "select m.source from access_requests r join messages m on m.id = r.source_message_id where r.id = 7"
        ),
        "webhook"
    );
}

/// Cancel works on a waiting request, which is then never filed; approve
/// is refused, with the request's state named and exit code 1, for a
/// request that is not awaiting review (and for one that does not exist).
#[tokio::test]
async fn an_awaiting_request_can_be_cancelled_and_only_awaiting_ones_can_be_approved() {
    let rig = Rig::new("all", "");
    rig.ingest("acme.eml", &grant("acme", "0105", 1));
    let (code, out, err) = rig.collabd(&["cancel", "1", "--by", "bo", "--note", "not our client"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(rig.state(1), "cancelled");
    assert_eq!(
        rig.timeline(1).last().unwrap(),
        "operator:bo|operator|awaiting_review>cancelled"
    );
    assert_eq!(rig.worker().await.run_due(days(0)).await.unwrap(), 0);

    let (code, out, err) = rig.collabd(&["approve", "1"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        err.contains("request #1 is cancelled; approve applies only to awaiting_review"),
        "{err}"
    );
    assert_eq!(rig.state(1), "cancelled");

    // Without review nothing waits, and approve says why it cannot apply.
    let plain = Rig::new("none", "");
    plain.ingest("acme.eml", &grant("acme", "0105", 1));
    assert_eq!(plain.state(1), "queued");
    let (code, _, err) = plain.collabd(&["approve", "1"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("request #1 is queued; approve applies only to awaiting_review"),
        "{err}"
    );
    let (code, _, err) = plain.collabd(&["approve", "99"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no request with id 99"), "{err}");
}

/// `collabd run` as a child process, stopped (and reaped) when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits (up to 20 s) until `check` says yes.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const PASSWORD: &str = "correct horse battery";

/// The daemon with review = "all", a Slack-compatible webhook on loopback
/// and the status page: each waiting request is announced (no code in
/// it); the worker's passes leave waiting requests alone; Approve on the
/// page — signed in, with the CSRF token — queues one, which the daemon
/// then files; Cancel works there too; a form without its token, or from
/// someone signed out, changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_approves_and_operators_hear_of_each_wait() {
    let posts: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&posts);
    let slack = support::http::serve(Arc::new(move |_method, _path, body: &[u8]| {
        let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        seen.lock()
            .unwrap()
            .push(v["text"].as_str().unwrap_or_default().to_owned());
        (200, "ok".to_owned())
    }))
    .await;
    let port = support::dovecot::free_port();
    let dir = tempfile::tempdir().unwrap();
    let users = support::daemon::users_file(dir.path(), "alice", PASSWORD);
    let rig = Rig::new(
        "all",
        &format!(
            "[worker.notify]\nslack_webhooks = [\"{slack}/hook\"]\n\
             [http]\nlisten = \"127.0.0.1:{port}\"\nusers_file = \"{}\"\n",
            users.display()
        ),
    );
    let log = std::fs::File::create(rig.dir.path().join("collabd.log")).unwrap();
    let _daemon = Running(
        Command::new(env!("CARGO_BIN_EXE_collabd"))
            .args(["run", "--config", rig.cfg.to_str().unwrap()])
            .env("COLLABD__TRUST__REQUIRE", "none")
            .env("RUST_LOG", "info")
            .env_remove("COLLABD_DB")
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    eventually("the daemon to listen", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    })
    .await;

    rig.ingest("acme.eml", &grant("acme", "0105", 1));
    let told = |store: &str| {
        posts
            .lock()
            .unwrap()
            .iter()
            .find(|t| t.contains(store))
            .cloned()
    };
    eventually("the announcement of request #1", || {
        told("acme.myshopify.com").is_some()
    })
    .await;
    let text = told("acme.myshopify.com").unwrap();
    for want in [
        "Review acme.myshopify.com",
        "awaiting review",
        "collabd approve 1",
        "collabd cancel 1",
    ] {
        assert!(text.contains(want), "lacks {want}: {text}");
    }
    assert!(
        !text.contains("0105"),
        "no code in the announcement: {text}"
    );
    // A second request, announced only by a later pass of the worker: by
    // then a pass has run its claims since request #1 was created.
    rig.ingest("beta.eml", &grant("beta", "0202", 2));
    eventually("the announcement of request #2", || {
        told("beta.myshopify.com").is_some()
    })
    .await;
    assert_eq!(
        sql(
            &rig.db,
            "select group_concat(state || ' ' || attempts, ', ') from access_requests"
        ),
        "awaiting_review 0, awaiting_review 0",
        "the worker left both alone"
    );

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = |cookie: Option<String>| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let mut r = http.get(format!("{base}/requests/1"));
            if let Some(c) = cookie {
                r = r.header("Cookie", c);
            }
            r.send().await.unwrap().text().await.unwrap()
        }
    };
    let signed_out = page(None).await;
    assert!(
        signed_out.contains("awaiting_review") && signed_out.contains("to approve, retry"),
        "{signed_out}"
    );
    assert!(!signed_out.contains("value=\"approve\""), "{signed_out}");

    let r = http
        .post(format!("{base}/login"))
        .form(&[
            ("name", "alice"),
            ("password", PASSWORD),
            ("next", "/requests/1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let signed_in = page(Some(cookie.clone())).await;
    assert!(
        signed_in.contains("value=\"approve\"") && signed_in.contains("value=\"cancel\""),
        "{signed_in}"
    );
    let csrf = signed_in
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let act = |id: i64, form: Vec<(&'static str, String)>, cookie: Option<String>| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let mut r = http
                .post(format!("{base}/requests/{id}/action"))
                .form(&form);
            if let Some(c) = cookie {
                r = r.header("Cookie", c);
            }
            let r = r.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let approve = || vec![("action", "approve".to_owned()), ("csrf", csrf.clone())];

    let (status, body) = act(1, vec![("action", "approve".into())], Some(cookie.clone())).await;
    assert_eq!(status, 403, "no CSRF token: {body}");
    let (status, body) = act(1, approve(), None).await;
    assert_eq!(status, 403, "signed out: {body}");
    assert_eq!(rig.state(1), "awaiting_review");

    let (status, _) = act(1, approve(), Some(cookie.clone())).await;
    assert_eq!(status, 303);
    let after = page(Some(cookie.clone())).await;
    assert!(after.contains("approve by alice: now queued"), "{after}");
    eventually("the daemon to file the approved request", || {
        rig.state(1) == "logged"
    })
    .await;
    assert_eq!(
        rig.timeline(1),
        vec![
            "leadsie|created|>awaiting_review",
            "operator:alice|operator|awaiting_review>queued",
            "worker|claimed|>filing",
            "worker|filed|filing>logged",
        ]
    );

    // Approving again is refused, and the page says why.
    let (status, _) = act(1, approve(), Some(cookie.clone())).await;
    assert_eq!(status, 303);
    let again = page(Some(cookie.clone())).await;
    assert!(
        again.contains("request #1 is logged; approve applies only to awaiting_review"),
        "{again}"
    );

    // Cancel, the existing path, works on a waiting request from the page.
    let (status, _) = act(
        2,
        vec![("action", "cancel".into()), ("csrf", csrf.clone())],
        Some(cookie.clone()),
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(rig.state(2), "cancelled");
    assert_eq!(
        rig.timeline(2).last().unwrap(),
        "operator:alice|operator|awaiting_review>cancelled"
    );
}
