//! Prints throughput for the worker: 10,000 queued requests filed through
//! the webhook filer, 8 at once, against a real HTTP server on loopback,
//! with every state change committed. `cargo bench --bench worker`.
//! It prints figures and asserts only that every request was filed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use collabd::config::WorkerSettings;
use collabd::filer::WebhookFiler;
use collabd::secret::Secret;
use collabd::store::Db;
use collabd::worker::Worker;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

const REQUESTS: usize = 10_000;

async fn serve(hits: Arc<AtomicUsize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let hits = Arc::clone(&hits);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let hits = Arc::clone(&hits);
                    async move {
                        let _ = req.into_body().collect().await;
                        hits.fetch_add(1, Ordering::Relaxed);
                        Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(
                            "ok",
                        ))))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}/hook")
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("bench.db")).await.unwrap();
        let now = collabd::timestamp::Timestamp::now();
        let mut tx = db.pool.sqlite().unwrap().begin().await.unwrap();
        for i in 0..REQUESTS {
            sqlx::query(
                "insert into access_requests (store_domain, collaborator_code, state, next_attempt_at, received_at, created_at, updated_at)
                 values (?, ?, 'queued', ?, ?, ?, ?)",
            )
            .bind(format!("store-{i}.myshopify.com"))
            .bind(format!("{:04}", i % 10_000))
            .bind(now)
            .bind(now)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();

        let hits = Arc::new(AtomicUsize::new(0));
        let url = serve(Arc::clone(&hits)).await;
        let filer = WebhookFiler::new(url.parse().unwrap(), Secret::new("bench"), Duration::from_secs(10)).unwrap();
        let mut worker = Worker::new(db.clone(), filer, &WorkerSettings::default());
        worker.concurrency = 8;
        let worker = Arc::new(worker);
        let start = Instant::now();
        let attempts = worker.run_due(chrono::Utc::now()).await.expect("no database errors");
        let secs = start.elapsed().as_secs_f64();
        let requested: i64 = sqlx::query_scalar("select count(*) from access_requests where state = 'requested'")
            .fetch_one(db.pool.sqlite().unwrap())
            .await
            .unwrap();
        let events: i64 = sqlx::query_scalar("select count(*) from request_events").fetch_one(db.pool.sqlite().unwrap()).await.unwrap();
        println!(
            "webhook filer, concurrency 8: {:.0} requests/s end to end ({REQUESTS} requests in {secs:.2} s; {attempts} attempts, {} HTTP posts, {requested} requested, {events} events; target >= 500/s)",
            REQUESTS as f64 / secs,
            hits.load(Ordering::Relaxed)
        );
        assert_eq!(requested as usize, REQUESTS, "every request filed exactly once");
    });
}
