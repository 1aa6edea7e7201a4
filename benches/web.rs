//! Prints how long the status page takes to render server-side with
//! 50,000 requests (three events each) in a real SQLite file: `/` as an
//! operator first opens it, sorted by each column, filtered, searched, a
//! deep page, and one request's page. `cargo bench --bench web`.
//! The target is 100 ms for `/`; it prints figures and asserts only that
//! each page answered 200.

use std::time::{Duration, Instant};

use collabd::config::{HttpSettings, PageAccess};
use collabd::status_page::Web;
use collabd::store::Db;
use collabd::users::Users;
use http_body_util::Full;
use hyper::Request;
use hyper::body::Bytes;

const REQUESTS: i64 = 50_000;
const RUNS: usize = 30;

async fn seed(db: &Db) {
    let now = chrono::Utc::now();
    let mut tx = db.pool.sqlite().unwrap().begin().await.unwrap();
    sqlx::query(
        "insert into messages (sha256, source, kind, raw_size, received_at, from_addr, subject)
         values ('seed', 'file', 'leadsie_grant', 100, ?, 'notifications@leadsie.com', 'seed')",
    )
    .bind(collabd::timestamp::Timestamp::from(now))
    .execute(&mut *tx)
    .await
    .unwrap();
    // One statement per table: a recursive CTE makes the rows.
    sqlx::query(
        "with recursive n(i) as (select 1 union all select i + 1 from n where i < ?1)
         insert into access_requests (id, store_domain, collaborator_code, client_name, state, attempts,
             source_message_id, received_at, created_at, updated_at)
         select i, 'shop' || i || '.myshopify.com', printf('%04d', i % 10000), 'Client ' || (i % 997),
             case i % 7 when 0 then 'granted' when 1 then 'notified' when 2 then 'requested'
                 when 3 then 'failed' when 4 then 'declined' when 5 then 'logged' else 'queued' end,
             i % 4, 1,
             strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || ((i * 7919) % 500000) || ' minutes'),
             strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
         from n",
    )
    .bind(REQUESTS)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "insert into request_events (request_id, message_id, at, actor, event, to_state, detail)
         select id, 1, received_at, 'leadsie', 'created', 'queued', 'Leadsie grant received' from access_requests
         union all
         select id, null, received_at, 'worker', 'claimed', null, 'attempt 1' from access_requests
         union all
         select id, null, received_at, 'worker', 'filed', state, 'notify filer: sent to #access' from access_requests
         order by 3",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    sqlx::query("analyze")
        .execute(db.pool.sqlite().unwrap())
        .await
        .unwrap();
}

async fn time(web: &Web, path: &str) -> (Duration, Duration, Duration) {
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let req = Request::get(path).body(Full::new(Bytes::new())).unwrap();
        let start = Instant::now();
        let r = web.handle(req).await;
        times.push(start.elapsed());
        assert_eq!(r.status(), 200, "{path}");
    }
    times.sort();
    (times[0], times[RUNS / 2], times[RUNS * 95 / 100])
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("collabd.db")).await.unwrap();
        let start = Instant::now();
        seed(&db).await;
        println!(
            "seeded {REQUESTS} requests and {} events in {:.1} s",
            REQUESTS * 3,
            start.elapsed().as_secs_f64()
        );
        let settings = HttpSettings {
            listen: "127.0.0.1:0".parse().unwrap(),
            remote: false,
            header_timeout: Duration::from_secs(10),
            page: PageAccess::OpenOnLoopback,
            users: Users::default(),
            tls: None,
            hosts: collabd::net::Hosts::new("127.0.0.1:0".parse().unwrap(), &[]).unwrap(),
            trusted_proxies: Vec::new(),
        };
        let web = Web::new(
            &settings,
            db.clone(),
            None,
            "notify".into(),
            None,
            dir.path().to_owned(),
        );
        println!(
            "{:<44} {:>9} {:>9} {:>9}",
            "page (server-side, 30 runs)", "min", "median", "p95"
        );
        for path in [
            "/",
            "/?sort=id&dir=desc",
            "/?sort=store&dir=asc",
            "/?sort=client&dir=asc",
            "/?sort=state&dir=asc",
            "/?sort=code&dir=asc",
            "/?sort=tries&dir=desc",
            "/?sort=last&dir=desc",
            "/?state=failed",
            "/?q=shop4242",
            "/?q=client+12&sort=store&dir=asc",
            "/?page=900",
            "/requests/25000",
            "/live",
        ] {
            let (min, median, p95) = time(&web, path).await;
            println!(
                "{path:<44} {:>7.1}ms {:>7.1}ms {:>7.1}ms",
                min.as_secs_f64() * 1e3,
                median.as_secs_f64() * 1e3,
                p95.as_secs_f64() * 1e3
            );
        }
    });
}
