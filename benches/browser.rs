//! Prints the browser filer's figures against the loopback replica of the
//! dashboard (tests/support/replica.rs) with Debian's headless Chromium:
//! the time of one filing end to end with a warm browser (claim, form,
//! validation, submit, answer, commit), the cold start, and the memory the
//! idle browser adds (RSS and PSS of chromedriver + Chromium, which share
//! pages, so PSS is the fair sum), and after the idle browser is closed.
//! With any other filer no browser runs.
//! `cargo bench --bench browser`. Asserts only that every request was filed.

#[path = "../tests/support/replica.rs"]
#[allow(dead_code)]
mod replica;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use collabd::config::{BrowserSettings, WorkerSettings};
use collabd::filer::BrowserFiler;
use collabd::store::Db;
use collabd::worker::Worker;

const WARM_FILINGS: usize = 10;

/// Memory of a process group, in KiB.
#[derive(Default)]
struct Memory {
    processes: usize,
    rss: u64,
    pss: u64,
    /// PSS of anonymous memory: what the browser allocated.
    pss_anon: u64,
    /// PSS of mapped files: Chromium's binary and data files, clean pages
    /// of the page cache that the kernel can drop and read again.
    pss_file: u64,
}

/// The memory of every process in group `pgid`.
fn group_memory(pgid: i32) -> Memory {
    let mut m = Memory::default();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return m;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if i32::try_from(pid).ok().and_then(collabd::browser::group_of) != Some(pgid) {
            continue;
        }
        m.processes += 1;
        let rollup =
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        let field = |name: &str| {
            rollup
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        m.rss += field("Rss:");
        m.pss += field("Pss:");
        m.pss_anon += field("Pss_Anon:");
        m.pss_file += field("Pss_File:");
        if std::env::var_os("BENCH_PS").is_some() {
            let cmd = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let kind = cmd
                .split('\0')
                .find(|a| a.starts_with("--type="))
                .unwrap_or(cmd.split('\0').next().unwrap_or_default());
            println!(
                "    {pid}: RSS {} kB, PSS {} kB, {kind}",
                field("Rss:"),
                field("Pss:")
            );
        }
    }
    m
}

async fn request(db: &Db, store: &str) {
    let now = collabd::timestamp::Timestamp::now();
    sqlx::query(
        "insert into access_requests (store_domain, collaborator_code, state, next_attempt_at, received_at, created_at, updated_at)
         values (?, '0105', 'queued', ?, ?, ?, ?)",
    )
    .bind(format!("{store}.myshopify.com"))
    .bind(now)
    .bind(now)
    .bind(now)
    .bind(now)
    .execute(db.pool.sqlite().unwrap())
    .await
    .unwrap();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("collabd.db")).await.unwrap();
    let replica = replica::start().await;
    let mut s = BrowserSettings::with(
        dir.path().join("browser"),
        &replica.form_url(),
        &replica.list_url(),
    );
    s.per_hour = None;
    s.idle_close = Some(Duration::from_secs(6));
    if let Ok(extra) = std::env::var("BENCH_CHROMIUM_ARGS") {
        s.args = extra.split_whitespace().map(str::to_owned).collect();
    }
    let filer = BrowserFiler::new(s, None);
    let cold = Instant::now();
    filer.session().open(&replica.login_url()).await.unwrap();
    let cold = cold.elapsed();
    let worker = Arc::new(Worker::new(
        db.clone(),
        filer.clone(),
        &WorkerSettings::default(),
    ));

    let mut times = Vec::new();
    for i in 0..WARM_FILINGS {
        request(&db, &format!("bench-{i}")).await;
        let t = Instant::now();
        worker.run_due(Utc::now()).await.unwrap();
        times.push(t.elapsed());
    }
    let filed: i64 =
        sqlx::query_scalar("select count(*) from access_requests where state = 'requested'")
            .fetch_one(db.pool.sqlite().unwrap())
            .await
            .unwrap();
    assert_eq!(filed as usize, WARM_FILINGS, "every request filed");
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("browser filer against the replica ({WARM_FILINGS} filings, warm browser):");
    println!(
        "  cold start (chromedriver + Chromium + first page): {:.0} ms",
        ms(cold)
    );
    println!(
        "  one filing end to end: median {:.0} ms, fastest {:.0} ms, slowest {:.0} ms",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1])
    );

    // Idle: the browser stays up between filings.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pgid = filer
        .session()
        .process_group()
        .await
        .expect("the browser runs");
    let m = group_memory(pgid);
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!(
        "  idle browser ({} processes): PSS {:.0} MB = {:.0} MB allocated + {:.0} MB of mapped files (Chromium's own binary and data); RSS {:.0} MB counting shared pages once per process",
        m.processes,
        mb(m.pss),
        mb(m.pss_anon),
        mb(m.pss_file),
        mb(m.rss)
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    filer.session().close_if_idle().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = group_memory(pgid);
    println!(
        "  after worker.browser.idle_close_minutes (6 s here): {} browser processes left, RSS {:.0} MB (unreaped zombies count as processes)",
        after.processes,
        mb(after.rss)
    );
    println!(
        "  with filer = log/notify/webhook/command no BrowserFiler is built: no browser process, 0 MB"
    );
}
