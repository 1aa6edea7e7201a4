//! Prints ingest and worker throughput on SQLite and on PostgreSQL, with
//! one node and with three: each node a database handle of its own (its own
//! pool, as a `collabd run` has), all in this process on this machine's two
//! cores, PostgreSQL a real cluster of its own on loopback.
//!
//! - ingest: 3,000 distinct Leadsie grants, each judged and stored as the
//!   daemon does (message, request and event in one write transaction),
//!   the nodes taking a third each at once;
//! - worker: 3,000 queued requests filed through the webhook filer to a
//!   real HTTP server on loopback, each node's worker 8 at a time.
//!
//! `cargo bench --bench nodes` (`COLLABD_BENCH_N=N` to change the count).
//! It prints figures and asserts only that every grant became one request
//! and every request was filed once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[path = "../tests/support/mod.rs"]
mod support;

use collabd::config::{Settings, WorkerSettings};
use collabd::filer::WebhookFiler;
use collabd::ingest::Ingestor;
use collabd::secret::Secret;
use collabd::store::{Db, Source};
use collabd::worker::Worker;
use support::postgres::Postgres;

fn grant(n: usize) -> Vec<u8> {
    support::daemon::grant(&format!("bench-{n:05}"), &format!("{:04}", n % 10_000), n)
}

/// `select count(*) from {rows}` (a table, and any `where`).
async fn count(db: &Db, rows: &str) -> i64 {
    let mut conn = db.pool.acquire().await.unwrap();
    let sql = format!("select count(*) from {rows}");
    collabd::store::on!(&mut conn, |c| sqlx::query_scalar(&sql)
        .fetch_one(&mut *c)
        .await
        .unwrap())
}

/// Ingests `n` grants split across `nodes`; messages a second.
async fn ingest(nodes: &[Db], n: usize) -> f64 {
    let mut settings = Settings::from_raw(Default::default()).unwrap();
    settings.trust.require = collabd::mail::Require::None;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (k, db) in nodes.iter().enumerate() {
        let ingestor = Ingestor::from_settings(&settings, db.clone()).unwrap();
        let share: Vec<usize> = (0..n).filter(|i| i % nodes.len() == k).collect();
        tasks.push(tokio::spawn(async move {
            for i in share {
                let source = Source::File(format!("bench-{i}.eml"));
                ingestor
                    .ingest(&grant(i), &source, chrono::Utc::now())
                    .await
                    .expect("no database errors");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(
        count(&nodes[0], "access_requests").await,
        n as i64,
        "one request per grant"
    );
    n as f64 / secs
}

/// Files every queued request through each node's worker at once;
/// requests a second.
async fn file(nodes: &[Db], url: &str, hits: &AtomicUsize, n: usize) -> f64 {
    let before = hits.load(Ordering::Relaxed);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for db in nodes {
        let filer = WebhookFiler::new(
            url.parse().unwrap(),
            Secret::new("bench"),
            Duration::from_secs(10),
        )
        .unwrap();
        let mut worker = Worker::new(db.clone(), filer, &WorkerSettings::default());
        worker.concurrency = 8;
        let worker = Arc::new(worker);
        tasks.push(tokio::spawn(async move {
            worker
                .run_due(chrono::Utc::now())
                .await
                .expect("no database errors")
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let requested = count(&nodes[0], "access_requests where state = 'requested'").await;
    assert_eq!(requested, n as i64, "every request filed");
    assert_eq!(hits.load(Ordering::Relaxed) - before, n, "each filed once");
    n as f64 / secs
}

async fn serve(hits: Arc<AtomicUsize>) -> String {
    support::http::serve(Arc::new(move |_, _, _| {
        hits.fetch_add(1, Ordering::Relaxed);
        (200, "{}".into())
    }))
    .await
        + "/hook"
}

fn main() {
    let n: usize = std::env::var("COLLABD_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
    let pg = Postgres::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let hits = Arc::new(AtomicUsize::new(0));
        let url = serve(hits.clone()).await;
        println!("{n} grants ingested, then {n} requests filed (webhook filer, 8 at once per node):");
        for engine in ["SQLite", "PostgreSQL"] {
            for nodes in [1usize, 3] {
                let dir = tempfile::tempdir().unwrap();
                let name = format!("bench_{nodes}");
                let url_db = match engine {
                    "PostgreSQL" => Some(pg.create_db(&format!("{name}_{}", engine.len()))),
                    _ => None,
                };
                let mut handles = Vec::new();
                for _ in 0..nodes {
                    handles.push(match &url_db {
                        Some(u) => Db::connect(u, None).await.unwrap(),
                        None => Db::open(&dir.path().join("bench.db")).await.unwrap(),
                    });
                }
                let ingested = ingest(&handles, n).await;
                let filed = file(&handles, &url, &hits, n).await;
                println!(
                    "  {engine:<10} {nodes} node(s): ingest {ingested:>6.0} messages/s, worker {filed:>6.0} requests/s"
                );
                for h in handles {
                    h.pool.close().await;
                }
            }
        }
    });
}
