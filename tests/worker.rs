//! The queue and worker against a real SQLite file, with time passed in.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use collabd::config::WorkerSettings;
use collabd::filer::{Filed, Filer, FilingRequest, LogFiler};
use collabd::model::{RequestId, RequestState};
use collabd::queue::{Failure, RetryPolicy};
use collabd::store::{self, BrowserLedger, Db, Event, Immediate};
use collabd::timestamp::Timestamp;
use collabd::worker::Worker;
use sqlx::Row;

fn t(seconds: i64) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 10, 0, 0).unwrap() + chrono::Duration::seconds(seconds)
}

async fn db_with_requests(n: usize) -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("q.db")).await.unwrap();
    for i in 0..n {
        sqlx::query(
            "insert into access_requests (store_domain, collaborator_code, state, next_attempt_at, received_at, created_at, updated_at)
             values (?, ?, 'queued', ?, ?, ?, ?)",
        )
        .bind(format!("store-{i}.myshopify.com"))
        .bind(format!("{:04}", i % 10_000))
        .bind(Timestamp::from(t(0)))
        .bind(Timestamp::from(t(0)))
        .bind(Timestamp::from(t(0)))
        .bind(Timestamp::from(t(0)))
        .execute(db.pool.sqlite().unwrap())
        .await
        .unwrap();
    }
    (dir, db)
}

async fn states(db: &Db) -> Vec<(String, i64, Option<String>)> {
    sqlx::query("select state, attempts, next_attempt_at from access_requests order by id")
        .fetch_all(db.pool.sqlite().unwrap())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

/// A filer that answers from a script and remembers what it was given.
#[derive(Default)]
struct Scripted {
    answers: Mutex<VecDeque<Result<Filed, Failure>>>,
    seen: Mutex<Vec<(RequestId, i64)>>,
}

impl Scripted {
    fn new(answers: Vec<Result<Filed, Failure>>) -> Scripted {
        Scripted {
            answers: Mutex::new(answers.into()),
            seen: Mutex::default(),
        }
    }
}

/// The worker owns its filer; the test keeps a handle to read what it saw.
struct Shared(Arc<Scripted>);

impl Filer for Shared {
    fn name(&self) -> &'static str {
        "scripted"
    }
    async fn file(&self, r: &FilingRequest, _: &impl BrowserLedger) -> Result<Filed, Failure> {
        self.0.seen.lock().unwrap().push((r.id, r.attempt));
        self.0
            .answers
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Err(Failure::Transient("no answer scripted".into())))
    }
}

fn requested() -> Result<Filed, Failure> {
    Ok(Filed {
        state: RequestState::Requested,
        detail: "sent".into(),
    })
}

/// A filer for one of several workers: records which worker was handed
/// which request. No filing ends until every worker has one in hand, so
/// that none can drain the queue before the others start claiming: the
/// claims of all the workers overlap.
struct Recording {
    worker: usize,
    handed: Arc<Mutex<Vec<(RequestId, usize)>>>,
    gate: Arc<Gate>,
}

/// Opens once `workers` distinct workers have each filed something.
struct Gate {
    workers: usize,
    seen: Mutex<std::collections::BTreeSet<usize>>,
    open: tokio::sync::watch::Sender<bool>,
}

impl Filer for Recording {
    fn name(&self) -> &'static str {
        "recording"
    }
    async fn file(&self, r: &FilingRequest, _: &impl BrowserLedger) -> Result<Filed, Failure> {
        self.handed.lock().unwrap().push((r.id, self.worker));
        let all_in = {
            let mut seen = self.gate.seen.lock().unwrap();
            seen.insert(self.worker);
            seen.len() == self.gate.workers
        };
        if all_in {
            self.gate.open.send_replace(true);
        }
        let mut open = self.gate.open.subscribe();
        open.wait_for(|o| *o).await.unwrap();
        requested()
    }
}

/// Several workers, each with a pool of its own on one database file (as
/// two `collabd run` on one database would be), claim through
/// `Worker::run_due` at once, each several filings at a time: every due
/// request is handed to exactly one filer, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_on_one_database_file_hand_each_request_to_one_filer_once() {
    const REQUESTS: usize = 240;
    const WORKERS: usize = 4;
    let (dir, db) = db_with_requests(REQUESTS).await;
    let handed = Arc::new(Mutex::new(Vec::new()));
    let gate = Arc::new(Gate {
        workers: WORKERS,
        seen: Mutex::default(),
        open: tokio::sync::watch::Sender::new(false),
    });
    // Each worker holds at most `concurrency` filings while the gate is
    // shut: far fewer than the requests, so each gets some.
    let settings = WorkerSettings {
        concurrency: 4,
        ..WorkerSettings::default()
    };
    let mut workers = Vec::new();
    for n in 0..WORKERS {
        let own = Db::open(&dir.path().join("q.db")).await.unwrap();
        let filer = Recording {
            worker: n,
            handed: Arc::clone(&handed),
            gate: Arc::clone(&gate),
        };
        workers.push(Arc::new(Worker::new(own, filer, &settings)));
    }
    let mut passes = tokio::task::JoinSet::new();
    for worker in workers {
        // The same instant for every claim: no lease can run out, so a
        // request handed out twice was claimed twice, never reclaimed.
        passes.spawn(async move { worker.run_due(t(1)).await });
    }
    // Not a measure of speed: a claim that never returns must fail the
    // test, not hang it.
    let attempts = tokio::time::timeout(Duration::from_secs(120), passes.join_all())
        .await
        .expect("the workers finished");
    let attempts: usize = attempts
        .into_iter()
        .map(|a| a.expect("a pass never fails"))
        .sum();

    // Which workers each request was handed to.
    let mut to_whom = std::collections::BTreeMap::<i64, Vec<usize>>::new();
    for (id, w) in handed.lock().unwrap().iter() {
        to_whom.entry(id.0).or_default().push(*w);
    }
    let twice: Vec<_> = to_whom.iter().filter(|(_, w)| w.len() > 1).collect();
    assert!(
        twice.is_empty(),
        "{} of {REQUESTS} requests were handed out more than once; the first (request, workers): {:?}",
        twice.len(),
        &twice[..twice.len().min(5)]
    );
    let missing: Vec<i64> = (1..=REQUESTS as i64)
        .filter(|id| !to_whom.contains_key(id))
        .collect();
    assert!(missing.is_empty(), "never handed out: {missing:?}");
    assert_eq!(to_whom.len(), REQUESTS, "nothing but the due requests");
    assert_eq!(attempts, REQUESTS, "one attempt per request");
    let workers: std::collections::BTreeSet<usize> = to_whom.values().flatten().copied().collect();
    assert_eq!(workers.len(), WORKERS, "every worker claimed");
    // The database agrees: one claim each, and each filed once.
    assert!(
        states(&db)
            .await
            .iter()
            .all(|s| s.0 == "requested" && s.1 == 1),
        "{:?}",
        states(&db).await
    );
    let claims: Vec<i64> = sqlx::query_scalar(
        "select count(e.id) from access_requests r
         left join request_events e on e.request_id = r.id and e.event = 'claimed'
         group by r.id order by r.id",
    )
    .fetch_all(db.pool.sqlite().unwrap())
    .await
    .unwrap();
    assert_eq!(claims, vec![1; REQUESTS], "one claimed event per request");
}

#[tokio::test]
async fn the_log_filer_logs_and_records_the_timeline() {
    let (_dir, db) = db_with_requests(3).await;
    let worker = Arc::new(Worker::new(
        db.clone(),
        LogFiler,
        &WorkerSettings::default(),
    ));
    assert_eq!(worker.run_due(t(1)).await.unwrap(), 3);
    assert!(
        states(&db)
            .await
            .iter()
            .all(|s| s.0 == "logged" && s.1 == 1)
    );
    assert_eq!(
        worker.run_due(t(2)).await.unwrap(),
        0,
        "nothing is filed twice"
    );
    let events: Vec<String> = sqlx::query_scalar(
        "select event || ':' || coalesce(from_state, '') || '>' || coalesce(to_state, '') from request_events where request_id = 1 order by id",
    )
    .fetch_all(db.pool.sqlite().unwrap())
    .await
    .unwrap();
    assert_eq!(events, vec!["claimed:>filing", "filed:filing>logged"]);
    let detail: String = sqlx::query_scalar(
        "select detail from request_events where event = 'filed' and request_id = 1",
    )
    .fetch_one(db.pool.sqlite().unwrap())
    .await
    .unwrap();
    assert!(
        detail.contains("store-0.myshopify.com")
            && detail.contains("**00")
            && !detail.contains("0000"),
        "{detail}"
    );
}

#[tokio::test]
async fn transient_failures_back_off_then_give_up() {
    let (_dir, db) = db_with_requests(1).await;
    let filer = Arc::new(Scripted::default());
    let mut worker = Worker::new(
        db.clone(),
        Shared(Arc::clone(&filer)),
        &WorkerSettings::default(),
    );
    worker.policy = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_secs(60),
        max_delay: Duration::from_secs(3600),
    };
    let worker = Arc::new(worker);

    assert_eq!(worker.run_due(t(0)).await.unwrap(), 1);
    let (state, attempts, next) = states(&db).await.remove(0);
    assert_eq!((state.as_str(), attempts), ("queued", 1));
    let next = chrono::DateTime::parse_from_rfc3339(&next.unwrap()).unwrap();
    let wait = (next.with_timezone(&Utc) - t(0)).num_seconds();
    assert!(
        (30..=60).contains(&wait),
        "first retry after 30–60 s, got {wait}"
    );

    assert_eq!(worker.run_due(t(20)).await.unwrap(), 0, "not due yet");
    assert_eq!(worker.run_due(t(60)).await.unwrap(), 1);
    assert_eq!(worker.run_due(t(600)).await.unwrap(), 1);
    let (state, attempts, _) = states(&db).await.remove(0);
    assert_eq!((state.as_str(), attempts), ("failed", 3));
    let last_error: String = sqlx::query_scalar("select last_error from access_requests")
        .fetch_one(db.pool.sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(last_error, "no answer scripted");
    assert_eq!(
        worker.run_due(t(100_000)).await.unwrap(),
        0,
        "failed requests stay failed"
    );
}

#[tokio::test]
async fn a_permanent_failure_fails_at_once() {
    let (_dir, db) = db_with_requests(1).await;
    let filer = Arc::new(Scripted::new(vec![Err(Failure::Permanent(
        "HTTP 422: code refused".into(),
    ))]));
    let worker = Arc::new(Worker::new(
        db.clone(),
        Shared(Arc::clone(&filer)),
        &WorkerSettings::default(),
    ));
    worker.run_due(t(0)).await.unwrap();
    assert_eq!(states(&db).await[0].0, "failed");
    let resolved: Option<String> = sqlx::query_scalar("select resolved_at from access_requests")
        .fetch_one(db.pool.sqlite().unwrap())
        .await
        .unwrap();
    assert!(resolved.is_some());
}

/// A worker that dies mid-filing leaves a claim that expires; the request is
/// filed again under the same id (the idempotency key), and the dead
/// attempt, should it ever finish, cannot overwrite the new one.
#[tokio::test]
async fn an_expired_claim_is_filed_again_and_the_stale_attempt_is_fenced() {
    let (_dir, db) = db_with_requests(1).await;
    // Attempt 1 claims and "dies".
    let mut conn = db.pool.sqlite().unwrap().acquire().await.unwrap();
    let mut tx = Immediate::begin(&mut conn).await.unwrap();
    let first =
        store::claim_next_request(&mut tx, &Timestamp::from(t(0)), &Timestamp::from(t(300)))
            .await
            .unwrap()
            .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(first.attempts, 1);

    let filer = Arc::new(Scripted::new(vec![requested()]));
    let worker = Arc::new(Worker::new(
        db.clone(),
        Shared(Arc::clone(&filer)),
        &WorkerSettings::default(),
    ));
    assert_eq!(
        worker.run_due(t(100)).await.unwrap(),
        0,
        "the claim still holds"
    );
    assert_eq!(
        worker.run_due(t(301)).await.unwrap(),
        1,
        "the claim expired"
    );
    assert_eq!(*filer.seen.lock().unwrap(), vec![(first.id, 2)]);
    assert_eq!(states(&db).await[0].0, "requested");

    let mut tx = Immediate::begin(&mut conn).await.unwrap();
    let stale = store::finish_attempt(
        &mut tx,
        first.id,
        1,
        RequestState::Failed,
        Some("late"),
        &Event {
            request_id: Some(first.id),
            message_id: None,
            actor: &collabd::model::Actor::Worker,
            event: collabd::model::EventKind::Failed,
            from_state: None,
            to_state: None,
            detail: None,
        },
        &Timestamp::from(t(302)),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(!stale);
    assert_eq!(states(&db).await[0].0, "requested");
}

mod command_filer {
    use super::*;
    use collabd::filer::CommandFiler;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &std::path::Path, name: &str, body: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    async fn run_with(body: &str, timeout: Duration) -> (tempfile::TempDir, Db, String) {
        run_with_code(body, timeout, "0000").await
    }

    async fn run_with_code(
        body: &str,
        timeout: Duration,
        code: &str,
    ) -> (tempfile::TempDir, Db, String) {
        let (dir, db) = db_with_requests(1).await;
        sqlx::query("update access_requests set collaborator_code = ?")
            .bind(code)
            .execute(db.pool.sqlite().unwrap())
            .await
            .unwrap();
        let program = script(
            dir.path(),
            "filer.sh",
            &body.replace("$DIR", dir.path().to_str().unwrap()),
        );
        let mut worker = Worker::new(
            db.clone(),
            CommandFiler {
                program,
                args: vec![],
                timeout,
                env: vec![],
            },
            &WorkerSettings::default(),
        );
        worker.policy = RetryPolicy {
            max_attempts: 5,
            ..RetryPolicy::default()
        };
        Arc::new(worker).run_due(t(0)).await.unwrap();
        let detail: String = sqlx::query_scalar(
            "select detail from request_events where request_id = 1 order by id desc limit 1",
        )
        .fetch_one(db.pool.sqlite().unwrap())
        .await
        .unwrap();
        (dir, db, detail)
    }

    #[tokio::test]
    async fn exit_0_files_and_the_program_gets_the_request_and_its_key() {
        let (dir, db, detail) = run_with(
            "cat > $DIR/stdin.json; echo \"$COLLABD_IDEMPOTENCY_KEY\" > $DIR/key; echo filed it",
            Duration::from_secs(10),
        )
        .await;
        assert_eq!(states(&db).await[0].0, "requested");
        assert!(
            detail.contains("command exited 0; stdout: filed it"),
            "{detail}"
        );
        let body: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("stdin.json")).unwrap())
                .unwrap();
        assert_eq!(body["store"], "store-0.myshopify.com");
        assert_eq!(body["collaborator_code"], "0000");
        assert_eq!(body["idempotency_key"], "collabd-request-1");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("key"))
                .unwrap()
                .trim(),
            "collabd-request-1"
        );
    }

    #[tokio::test]
    async fn exit_75_is_retried() {
        let (_dir, db, detail) = run_with("echo busy >&2; exit 75", Duration::from_secs(10)).await;
        assert_eq!(states(&db).await[0].0, "queued");
        assert!(
            detail.contains("EX_TEMPFAIL") && detail.contains("stderr: busy"),
            "{detail}"
        );
    }

    #[tokio::test]
    async fn other_exits_fail_for_good_and_the_code_is_masked_in_output() {
        let (_dir, db, detail) = run_with(
            "echo \"code 0000 refused\" >&2; exit 3",
            Duration::from_secs(10),
        )
        .await;
        assert_eq!(states(&db).await[0].0, "failed");
        assert!(
            detail.contains("exited 3") && detail.contains("code **00 refused"),
            "{detail}"
        );
        let last_error: String = sqlx::query_scalar("select last_error from access_requests")
            .fetch_one(db.pool.sqlite().unwrap())
            .await
            .unwrap();
        assert!(!last_error.contains("0000"), "{last_error}");
    }

    /// The output is cut at 2,000 characters; where the cut falls is the
    /// client's to choose (through the length of their name, echoed by
    /// the command). Wherever it falls in the code, none of the code's
    /// leading digits stay readable, on the timeline or in last_error.
    #[tokio::test]
    async fn a_cut_inside_the_code_leaves_none_of_it_readable() {
        // "; stdout: " comes before the command's words, a space before
        // the code.
        for inside in 1..=3 {
            let pad = 2000 - "; stdout: ".len() - 1 - inside;
            let (_dir, db, detail) = run_with_code(
                &format!("printf 'x%.0s' $(seq {pad}); echo ' 4821 refused'; exit 3"),
                Duration::from_secs(10),
                "4821",
            )
            .await;
            let last_error: String = sqlx::query_scalar("select last_error from access_requests")
                .fetch_one(db.pool.sqlite().unwrap())
                .await
                .unwrap();
            for text in [&detail, &last_error] {
                assert!(text.contains("xxxx"), "{text}");
                let tail: String = text.chars().rev().take(8).collect();
                assert!(!text.contains("48"), "cut {inside} into the code: …{tail}");
            }
        }
    }

    #[tokio::test]
    async fn a_command_that_hangs_is_killed_with_what_it_started_and_retried() {
        let (dir, db, detail) = run_with(
            "sleep 30 & echo $! > $DIR/child; wait",
            Duration::from_millis(500),
        )
        .await;
        assert_eq!(states(&db).await[0].0, "queued");
        assert!(detail.contains("did not finish within"), "{detail}");
        let child = std::fs::read_to_string(dir.path().join("child")).unwrap();
        // The grandchild `sleep` is gone (or a zombie about to be reaped).
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", child.trim())).unwrap_or_default();
        assert!(
            stat.is_empty() || stat.contains(") Z "),
            "sleep still running: {stat}"
        );
    }

    #[tokio::test]
    async fn a_missing_program_is_a_permanent_failure_naming_it() {
        let (_dir, db) = db_with_requests(1).await;
        let filer = CommandFiler {
            program: "/nonexistent/filer".into(),
            args: vec![],
            timeout: Duration::from_secs(1),
            env: vec![],
        };
        Arc::new(Worker::new(db.clone(), filer, &WorkerSettings::default()))
            .run_due(t(0))
            .await
            .unwrap();
        assert_eq!(states(&db).await[0].0, "failed");
        let last_error: String = sqlx::query_scalar("select last_error from access_requests")
            .fetch_one(db.pool.sqlite().unwrap())
            .await
            .unwrap();
        assert!(last_error.contains("/nonexistent/filer"), "{last_error}");
    }
}

mod webhook_and_notify {
    use super::*;
    use collabd::filer::{WebhookFiler, signature};
    use collabd::secret::Secret;
    use http_body_util::{BodyExt, Full};
    use hyper::body::{Bytes, Incoming};
    use hyper::{Request, Response};

    #[derive(Debug, Clone)]
    struct Seen {
        key: String,
        signature: String,
        body: Vec<u8>,
    }

    struct Server {
        url: String,
        seen: Arc<Mutex<Vec<Seen>>>,
    }

    /// A real HTTP/1.1 server on a free loopback port; answers each request
    /// with the next (status, delay) from `script`, then 200.
    async fn serve(script: Vec<(u16, Duration)>) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let (seen2, script2) = (Arc::clone(&seen), Arc::clone(&script));
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (seen, script) = (Arc::clone(&seen2), Arc::clone(&script2));
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (seen, script) = (Arc::clone(&seen), Arc::clone(&script));
                        async move {
                            let header = |n: &str| {
                                req.headers()
                                    .get(n)
                                    .map(|v| v.to_str().unwrap().to_owned())
                                    .unwrap_or_default()
                            };
                            let (key, sig) =
                                (header("idempotency-key"), header("x-collabd-signature"));
                            let body = req.into_body().collect().await.unwrap().to_bytes().to_vec();
                            seen.lock().unwrap().push(Seen {
                                key,
                                signature: sig,
                                body,
                            });
                            let (status, delay) = script
                                .lock()
                                .unwrap()
                                .pop_front()
                                .unwrap_or((200, Duration::ZERO));
                            tokio::time::sleep(delay).await;
                            Ok::<_, std::convert::Infallible>(
                                Response::builder()
                                    .status(status)
                                    .body(Full::new(Bytes::from("thanks")))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Server {
            url: format!("http://{addr}/hooks/collabd"),
            seen,
        }
    }

    /// The text of a message posted to a Slack webhook.
    fn slack_text(post: &Seen) -> String {
        serde_json::from_slice::<serde_json::Value>(&post.body).unwrap()["text"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn worker(db: &Db, url: &str, timeout: Duration) -> Arc<Worker<WebhookFiler>> {
        let filer = WebhookFiler::new(url.parse().unwrap(), Secret::new("shh"), timeout).unwrap();
        Arc::new(Worker::new(db.clone(), filer, &WorkerSettings::default()))
    }

    async fn last_error(db: &Db) -> String {
        sqlx::query_scalar("select coalesce(last_error, '') from access_requests")
            .fetch_one(db.pool.sqlite().unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_2xx_files_with_a_valid_signature_and_idempotency_key() {
        let server = serve(vec![]).await;
        let (_dir, db) = db_with_requests(1).await;
        worker(&db, &server.url, Duration::from_secs(5))
            .run_due(t(0))
            .await
            .unwrap();
        assert_eq!(states(&db).await[0].0, "requested");
        let seen = server.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].key, "collabd-request-1");
        assert_eq!(
            seen[0].signature,
            signature(&Secret::new("shh"), &seen[0].body)
        );
        assert_ne!(
            seen[0].signature,
            signature(&Secret::new("other"), &seen[0].body)
        );
        let body: serde_json::Value = serde_json::from_slice(&seen[0].body).unwrap();
        assert_eq!(body["store"], "store-0.myshopify.com");
        assert_eq!(body["collaborator_code"], "0000");
    }

    #[tokio::test]
    async fn a_4xx_is_permanent() {
        let server = serve(vec![(422, Duration::ZERO)]).await;
        let (_dir, db) = db_with_requests(1).await;
        worker(&db, &server.url, Duration::from_secs(5))
            .run_due(t(0))
            .await
            .unwrap();
        assert_eq!(states(&db).await[0].0, "failed");
        assert!(last_error(&db).await.contains("422"));
    }

    #[tokio::test]
    async fn a_5xx_is_retried_with_the_same_idempotency_key() {
        let server = serve(vec![(503, Duration::ZERO)]).await;
        let (_dir, db) = db_with_requests(1).await;
        let w = worker(&db, &server.url, Duration::from_secs(5));
        w.run_due(t(0)).await.unwrap();
        assert_eq!(states(&db).await[0].0, "queued");
        assert!(last_error(&db).await.contains("503"));
        w.run_due(t(3600)).await.unwrap();
        assert_eq!(states(&db).await[0].0, "requested");
        let keys: Vec<String> = server
            .seen
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.key.clone())
            .collect();
        assert_eq!(keys, vec!["collabd-request-1", "collabd-request-1"]);
    }

    #[tokio::test]
    async fn a_timeout_is_retried() {
        let server = serve(vec![(200, Duration::from_secs(3))]).await;
        let (_dir, db) = db_with_requests(1).await;
        worker(&db, &server.url, Duration::from_millis(300))
            .run_due(t(0))
            .await
            .unwrap();
        assert_eq!(states(&db).await[0].0, "queued");
        assert!(
            last_error(&db).await.contains("timed out"),
            "{}",
            last_error(&db).await
        );
    }

    #[tokio::test]
    async fn a_token_in_the_url_never_reaches_the_timeline() {
        let server = serve(vec![(500, Duration::ZERO)]).await;
        let (_dir, db) = db_with_requests(1).await;
        worker(
            &db,
            &format!("{}?token=s3cret-token", server.url),
            Duration::from_secs(5),
        )
        .run_due(t(0))
        .await
        .unwrap();
        let everything: String = sqlx::query_scalar(
            "select group_concat(coalesce(detail, ''), ' ') from request_events",
        )
        .fetch_one(db.pool.sqlite().unwrap())
        .await
        .unwrap();
        assert!(
            everything.contains("/hooks/collabd") && !everything.contains("s3cret"),
            "{everything}"
        );
        assert!(!last_error(&db).await.contains("s3cret"));
        // Nobody listening: a connection error, retried, and still no token.
        let (_dir2, db2) = db_with_requests(1).await;
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        worker(
            &db2,
            &format!("http://{closed}/x?token=s3cret-token"),
            Duration::from_secs(5),
        )
        .run_due(t(0))
        .await
        .unwrap();
        assert_eq!(states(&db2).await[0].0, "queued");
        let e = last_error(&db2).await;
        assert!(
            e.contains("could not connect") && !e.contains("s3cret"),
            "{e}"
        );
    }

    /// A minimal SMTP server on a free loopback port: enough of RFC 5321 for
    /// a client to deliver one message; records each message's DATA.
    async fn smtp_server() -> (u16, Arc<Mutex<Vec<String>>>) {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let messages: Arc<Mutex<Vec<String>>> = Arc::default();
        let store = Arc::clone(&messages);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    write
                        .write_all(b"220 localhost ESMTP test\r\n")
                        .await
                        .unwrap();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" => b"250-localhost\r\n250 8BITMIME\r\n",
                            "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
                            "DATA" => {
                                write.write_all(b"354 go ahead\r\n").await.unwrap();
                                let mut data = String::new();
                                while let Ok(Some(l)) = lines.next_line().await {
                                    if l == "." {
                                        break;
                                    }
                                    data.push_str(&l);
                                    data.push('\n');
                                }
                                store.lock().unwrap().push(data);
                                b"250 OK queued\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => b"502 not implemented\r\n",
                        };
                        write.write_all(reply).await.unwrap();
                    }
                });
            }
        });
        (port, messages)
    }

    fn notify_worker(
        db: &Db,
        slack: Vec<String>,
        smtp_port: Option<u16>,
    ) -> Arc<Worker<collabd::filer::NotifyFiler>> {
        use collabd::filer::{EmailChannel, NotifyFiler};
        let email = smtp_port.map(|port| EmailChannel {
            transport: collabd::relay::Relay::Verified(
                lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(
                    "127.0.0.1",
                )
                .port(port)
                .build(),
            ),
            from: "collabd <collabd@agency.example>".parse().unwrap(),
            to: vec!["ops@agency.example".parse().unwrap()],
            relay_url: None,
        });
        let slack = slack.iter().map(|u| u.parse().unwrap()).collect();
        let filer =
            NotifyFiler::new(slack, email, Some("1234567".into()), Duration::from_secs(5)).unwrap();
        Arc::new(Worker::new(db.clone(), filer, &WorkerSettings::default()))
    }

    #[tokio::test]
    async fn notify_tells_slack_and_email_with_code_and_links() {
        let slack = serve(vec![]).await;
        let (port, mails) = smtp_server().await;
        let (_dir, db) = db_with_requests(1).await;
        notify_worker(&db, vec![slack.url.clone()], Some(port))
            .run_due(t(0))
            .await
            .unwrap();
        assert_eq!(states(&db).await[0].0, "notified");

        let posted = slack.seen.lock().unwrap().clone();
        assert_eq!(posted.len(), 1);
        let text = slack_text(&posted[0]);
        for want in [
            "store-0.myshopify.com",
            "Collaborator code: 0000",
            "partners.shopify.com",
            "dev.shopify.com/dashboard/1234567/stores/collaborations/new?store_url=store-0.myshopify.com",
            "collabd mark 1 requested",
        ] {
            assert!(text.contains(want), "Slack text lacks {want}: {text}");
        }
        let mails = mails.lock().unwrap().clone();
        assert_eq!(mails.len(), 1);
        assert!(
            mails[0].contains("Subject: Request access to store-0.myshopify.com"),
            "{}",
            mails[0]
        );
        assert!(mails[0].contains("Collaborator code: 0000"), "{}", mails[0]);
        // What a mail client reads: a Message-ID under the sender's domain,
        // text/plain that is not base64, lines within RFC 5322's 78, and
        // each link whole once the transfer encoding is undone.
        let raw = mails[0].as_bytes();
        let parsed = mail_parser::MessageParser::default().parse(raw).unwrap();
        let id = parsed.message_id().unwrap_or_default();
        assert!(
            id.starts_with("collabd.") && id.ends_with("@agency.example"),
            "{id}"
        );
        assert!(
            !mails[0].to_ascii_lowercase().contains("base64"),
            "{}",
            mails[0]
        );
        assert!(mails[0].lines().all(|l| l.len() <= 78), "{}", mails[0]);
        let body = parsed.body_text(0).unwrap_or_default();
        assert!(
            body.lines().any(|l| l
                == "https://dev.shopify.com/dashboard/1234567/stores/collaborations/new?store_url=store-0.myshopify.com"),
            "{body}"
        );

        let detail: String =
            sqlx::query_scalar("select detail from request_events where event = 'filed'")
                .fetch_one(db.pool.sqlite().unwrap())
                .await
                .unwrap();
        assert!(
            detail.contains("Slack webhook") && detail.contains("email to ops@agency.example"),
            "{detail}"
        );
        assert!(
            !detail.contains("0000"),
            "the timeline masks the code: {detail}"
        );
    }

    #[tokio::test]
    async fn notify_counts_as_delivered_if_any_channel_took_it() {
        let slack = serve(vec![(500, Duration::ZERO)]).await;
        let (port, mails) = smtp_server().await;
        let (_dir, db) = db_with_requests(1).await;
        notify_worker(&db, vec![slack.url.clone()], Some(port))
            .run_due(t(0))
            .await
            .unwrap();
        assert_eq!(states(&db).await[0].0, "notified");
        assert_eq!(mails.lock().unwrap().len(), 1);
        let detail: String =
            sqlx::query_scalar("select detail from request_events where event = 'filed'")
                .fetch_one(db.pool.sqlite().unwrap())
                .await
                .unwrap();
        assert!(
            detail.contains("failed: Slack webhook") && detail.contains("500"),
            "{detail}"
        );
    }

    #[tokio::test]
    async fn notify_retries_when_no_channel_took_it() {
        let slack = serve(vec![(500, Duration::ZERO)]).await;
        let (_dir, db) = db_with_requests(1).await;
        notify_worker(&db, vec![slack.url.clone()], None)
            .run_due(t(0))
            .await
            .unwrap();
        assert_eq!(states(&db).await[0].0, "queued");
        assert!(
            last_error(&db)
                .await
                .contains("no notification channel took the message")
        );
    }

    /// A real HTTP/1.1 server on a free loopback port that answers every
    /// request `307 Temporary Redirect` to `location`; returns its URL.
    async fn redirect_to(location: String) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let location = location.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |_req: Request<Incoming>| {
                        let location = location.clone();
                        async move {
                            Ok::<_, std::convert::Infallible>(
                                Response::builder()
                                    .status(307)
                                    .header("Location", location)
                                    .body(Full::new(Bytes::new()))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        format!("http://{addr}/hooks/collabd?token=s3cret-token")
    }

    /// A 307 would have reqwest re-send the signed body (and the code) to
    /// wherever it points. Neither the webhook nor a Slack webhook follows
    /// one: the other origin hears nothing, and the failure names the
    /// redirect without the URL's token.
    #[tokio::test]
    async fn a_redirect_to_another_origin_is_not_followed() {
        let elsewhere = serve(vec![]).await;
        let redirector = redirect_to(elsewhere.url.clone()).await;

        let (_dir, db) = db_with_requests(1).await;
        worker(&db, &redirector, Duration::from_secs(5))
            .run_due(t(0))
            .await
            .unwrap();
        assert_eq!(states(&db).await[0].0, "failed");
        let e = last_error(&db).await;
        assert!(
            e.contains("307") && e.contains("redirect") && e.contains("worker.webhook.url"),
            "{e}"
        );
        assert!(!e.contains("s3cret"), "{e}");

        let (_dir2, db2) = db_with_requests(1).await;
        notify_worker(&db2, vec![redirector.clone()], None)
            .run_due(t(0))
            .await
            .unwrap();
        assert_eq!(states(&db2).await[0].0, "queued");
        let e = last_error(&db2).await;
        assert!(e.contains("307") && e.contains("redirect"), "{e}");
        assert!(
            elsewhere.seen.lock().unwrap().is_empty(),
            "the other origin received a request"
        );
    }

    /// Client names come from mail. In Slack, `<…|…>` and `<!channel>` in one
    /// stay text; in an email, a CR/LF cannot start a header of its own, and
    /// no control character or escape sequence reaches either.
    #[tokio::test]
    async fn notify_escapes_slack_markup_and_strips_controls_from_email() {
        let slack = serve(vec![]).await;
        let (port, mails) = smtp_server().await;
        let (_dir, db) = db_with_requests(1).await;
        sqlx::query("update access_requests set client_name = ?")
            .bind("<https://evil.example|click> <!channel> \x1b[2J\x1b]0;pwned\x07\r\nBcc: victim@evil.example")
            .execute(db.pool.sqlite().unwrap())
            .await
            .unwrap();
        notify_worker(&db, vec![slack.url.clone()], Some(port))
            .run_due(t(0))
            .await
            .unwrap();
        assert_eq!(states(&db).await[0].0, "notified");

        let posted = slack.seen.lock().unwrap().clone();
        let text = slack_text(&posted[0]);
        assert!(
            text.contains("&lt;https://evil.example|click&gt; &lt;!channel&gt;"),
            "{text}"
        );
        assert!(
            !text.contains("<!channel>") && !text.contains("<https://"),
            "{text}"
        );
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(
            text.contains("Collaborator code: 0000"),
            "the message is intact: {text}"
        );

        let mails = mails.lock().unwrap().clone();
        assert_eq!(mails.len(), 1);
        let mail = &mails[0];
        let headers = mail.split("\n\n").next().unwrap();
        assert!(
            !headers
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
            "a header was injected: {mail}"
        );
        assert!(!mail.contains('\x1b') && !mail.contains('\x07'), "{mail:?}");
    }

    /// Outcomes reach operators once, in order; a message no channel took is
    /// sent again on a later pass (the cursor moves only after delivery).
    #[tokio::test]
    async fn operators_hear_of_outcomes_once_and_nothing_is_lost() {
        use collabd::filer::NotifyFiler;
        use collabd::ingest::Ingestor;
        use collabd::mail::Classifier;
        use collabd::store::Source;
        let slack = serve(vec![(500, Duration::ZERO)]).await;
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("a.db")).await.unwrap();
        let ingestor = Ingestor::new(
            db.clone(),
            collabd::ingest::Rules {
                classifier: Classifier::identity_only(),
                max_raw_bytes: 1 << 20,
                verifier: std::sync::Arc::new(collabd::dkim::Verifier::new(&[]).unwrap()),
                review: collabd::config::Review::None,
            },
        );
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
        for f in ["01-leadsie-acme.eml", "04-shopify-acme-granted.eml"] {
            if f.starts_with("04") {
                // Shopify's mail answers only a filed request: filed by hand.
                let mut conn = db.pool.sqlite().unwrap().acquire().await.unwrap();
                collabd::operator::apply(
                    &mut conn,
                    collabd::model::RequestId(1),
                    collabd::operator::Action::Mark(collabd::operator::Mark::Requested),
                    &collabd::model::Actor::operator("test"),
                    None,
                    t(0),
                )
                .await
                .unwrap();
            }
            ingestor
                .ingest(
                    &std::fs::read(fixtures.join(f)).unwrap(),
                    &Source::Stdin,
                    t(0),
                )
                .await
                .unwrap();
        }
        let mut worker = Worker::new(db.clone(), LogFiler, &WorkerSettings::default());
        worker.announcer = Some(
            NotifyFiler::new(
                vec![slack.url.parse().unwrap()],
                None,
                None,
                Duration::from_secs(5),
            )
            .unwrap(),
        );
        let worker = Arc::new(worker);

        assert_eq!(
            worker.announce(t(1)).await.unwrap(),
            0,
            "Slack refused: not announced yet"
        );
        assert_eq!(worker.announce(t(2)).await.unwrap(), 1);
        assert_eq!(worker.announce(t(3)).await.unwrap(), 0, "announced once");
        let posts = slack.seen.lock().unwrap().clone();
        assert_eq!(posts.len(), 2, "the refused post and the delivered one");
        let text = slack_text(&posts[1]);
        assert!(
            text.contains("acme-co.myshopify.com is granted (Acme Co)"),
            "{text}"
        );
        assert!(
            !text.contains("0105"),
            "outcome announcements carry no code: {text}"
        );
    }
}

/// Time is passed in: a filed request the merchant does not answer gets
/// one reminder after three days and expires after seven. A request the
/// log filer only logged was never filed: it is neither reminded of nor
/// expired.
#[tokio::test]
async fn unanswered_requests_get_one_reminder_then_expire() {
    let (_dir, db) = db_with_requests(2).await;
    let filer = Arc::new(Scripted::new(vec![requested(), requested()]));
    let worker = Arc::new(Worker::new(
        db.clone(),
        Shared(Arc::clone(&filer)),
        &WorkerSettings::default(),
    ));
    worker.run_due(t(0)).await.unwrap();
    // The second request was answered in time.
    sqlx::query("update access_requests set state = 'granted' where id = 2")
        .execute(db.pool.sqlite().unwrap())
        .await
        .unwrap();
    let day = 86_400;

    assert_eq!(worker.sweep(t(2 * day)).await.unwrap(), Default::default());
    let s = worker.sweep(t(3 * day)).await.unwrap();
    assert_eq!(s.reminded, vec![RequestId(1)]);
    assert!(s.expired.is_empty());
    assert_eq!(
        worker.sweep(t(4 * day)).await.unwrap(),
        Default::default(),
        "one reminder only"
    );
    let s = worker.sweep(t(7 * day)).await.unwrap();
    assert_eq!(s.expired, vec![RequestId(1)]);
    let (state, resolved): (String, Option<String>) =
        sqlx::query_as("select state, resolved_at from access_requests where id = 1")
            .fetch_one(db.pool.sqlite().unwrap())
            .await
            .unwrap();
    assert_eq!(state, "expired");
    assert_eq!(resolved.as_deref(), Some("2026-11-09T10:00:00Z"));
    assert_eq!(
        states(&db).await[1].0,
        "granted",
        "answered requests are left alone"
    );
    let reminder: String =
        sqlx::query_scalar("select detail from request_events where event = 'reminder'")
            .fetch_one(db.pool.sqlite().unwrap())
            .await
            .unwrap();
    assert!(
        reminder.contains("store-0.myshopify.com") && reminder.contains("3 days"),
        "{reminder}"
    );

    let (_dir, db) = db_with_requests(1).await;
    let worker = Arc::new(Worker::new(
        db.clone(),
        LogFiler,
        &WorkerSettings::default(),
    ));
    worker.run_due(t(0)).await.unwrap();
    for days in [3, 7, 30] {
        assert_eq!(
            worker.sweep(t(days * day)).await.unwrap(),
            Default::default(),
            "a logged request, day {days}"
        );
    }
    assert_eq!(states(&db).await[0].0, "logged");
}
