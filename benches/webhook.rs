//! Prints how many Leadsie webhook deliveries a second `collabd run` stores:
//! the release binary with its `[http]` listener on loopback, a real SQLite
//! file, the `log` filer working the queue at the same time, and 8 clients
//! posting distinct one-store payloads over keep-alive connections.
//! `cargo bench --bench webhook` (`COLLABD_BENCH_DELIVERIES=N` to change
//! the count). It prints figures and asserts only that every delivery was
//! answered 200 and stored as one request.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[path = "../tests/support/mod.rs"]
mod support;

use support::daemon::count;
use support::dovecot::free_port;

const TOKEN: &str = "bench-token-0123456789abcdef0123456789";
const CLIENTS: usize = 8;

fn payload(n: usize) -> String {
    serde_json::json!({
        "user": "ops@agency.example", "accessLevel": "Manage", "requestName": "Bench onboarding",
        "requestUrl": "https://app.leadsie.com/request/bench", "status": "SUCCESS",
        "clientName": format!("Client {n}"), "apiVersion": 2,
        "connectionAssets": [
            {"id": "act_1", "name": "Ads", "type": "Meta Ad Account", "platform": "Facebook", "connectionStatus": "Connected"},
            {"id": format!("bench-{n}.myshopify.com"), "name": format!("Bench {n}"), "type": "Shopify Store",
             "platform": "Shopify", "connectionStatus": "Connected",
             "shopifyCollaboratorCode": format!("{:04}", n % 10_000)}
        ]
    })
    .to_string()
}

fn main() {
    let deliveries: usize = std::env::var("COLLABD_BENCH_DELIVERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bench.db");
    let cfg = dir.path().join("collabd.toml");
    let token = dir.path().join("token");
    std::fs::write(&token, TOKEN).unwrap();
    let port = free_port();
    std::fs::write(
        &cfg,
        format!(
            "[database]\npath = \"{}\"\n[worker]\nfiler = \"log\"\npoll_seconds = 1\n\
             [http]\nlisten = \"127.0.0.1:{port}\"\n\
             [leadsie]\nwebhook = true\ntoken_file = \"{}\"\nrate_limit_per_minute = 10000000\n",
            db.display(),
            token.display()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_collabd"))
        .args(["run", "--config", cfg.to_str().unwrap()])
        .env_remove("COLLABD_DB")
        .env_remove("NOTIFY_SOCKET")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "collabd did not listen"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/leadsie/{TOKEN}");
    let bodies: Arc<Vec<String>> = Arc::new((0..deliveries).map(payload).collect());
    let (elapsed, latencies) = rt.block_on(async {
        let client = reqwest::Client::new();
        // One delivery at a time first: the latency Leadsie sees.
        let mut latencies = Vec::new();
        for n in 0..200 {
            let t = Instant::now();
            let r = client
                .post(&url)
                .body(payload(deliveries + n))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            latencies.push(t.elapsed());
        }
        latencies.sort();
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..CLIENTS {
            let (client, url, next, bodies) =
                (client.clone(), url.clone(), next.clone(), bodies.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= bodies.len() {
                        return;
                    }
                    let r = client
                        .post(&url)
                        .body(bodies[n].clone())
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        (started.elapsed(), latencies)
    });
    let stored = count(
        &db,
        "select count(*) from messages where source = 'webhook'",
    );
    let requests = count(&db, "select count(*) from access_requests");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(stored as usize, deliveries + 200);
    assert_eq!(requests as usize, deliveries + 200);
    let per_second = deliveries as f64 / elapsed.as_secs_f64();
    println!(
        "webhook: {deliveries} deliveries, {CLIENTS} clients at once, in {:.2} s = {per_second:.0} deliveries/s (goal: at least 1,000/s), each committed before its 200",
        elapsed.as_secs_f64()
    );
    println!(
        "webhook: one at a time, POST to 200: median {:.2} ms, p99 {:.2} ms (200 deliveries)",
        latencies[latencies.len() / 2].as_secs_f64() * 1e3,
        latencies[latencies.len() * 99 / 100].as_secs_f64() * 1e3
    );
}
