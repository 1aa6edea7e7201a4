//! Prints figures for the IMAP watcher against a real Dovecot on loopback TLS:
//!
//! 1. the floor: fetching every message's full body over one connection;
//! 2. `collabd run` backfilling the same 10,000-message mailbox (5% Leadsie
//!    and Shopify, the rest ordinary mail of 5–50 KB, some with attachments),
//!    with its peak RSS, and its RSS once idle;
//! 3. latency from APPEND to the database row under IDLE, and collabd's own
//!    share of it, two ways: from its IDLE wake-up (EXISTS) to the committed
//!    row, read off its debug log; and its APPEND-to-row time less what a
//!    minimal client needs from APPEND to the body (IDLE → headers → body)
//!    on the same mailbox, measured after it. Dovecot holds each change
//!    notification for 500 ms (NOTIFY_DELAY_MSECS in its mailbox-watch.c)
//!    before IDLE clients hear it. Then the first command that needs the new
//!    message's file (a SELECT, else the body FETCH) makes Dovecot read the
//!    10,000-entry `cur/` directory again (10–25 ms here, seen with
//!    `strace`): the minimal client pays that too.
//!
//! `cargo bench --bench imap` (needs dovecot-imapd, openssl and sqlite3, as
//! the tests do). `COLLABD_BENCH_MESSAGES=N` changes the mailbox size;
//! `COLLABD_BENCH_EXE=target/dist/collabd` measures the packaged profile's
//! binary (built by `cargo build --profile dist --bin collabd`). It
//! asserts only that every grant was stored.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_imap::extensions::idle::IdleResponse;
use async_imap::imap_proto::{MailboxDatum, Response};
use futures_util::TryStreamExt;
use support::corpus;
use support::daemon::sql;
use support::dovecot::{self, Dovecot, Options};

fn proc_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// CPU seconds (user, system) a process has used so far; Linux counts
/// them in ticks of 1/100 s.
fn cpu_seconds(pid: u32) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which ends at the last ')'.
    let f: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let secs = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
    (secs(11), secs(12))
}

fn settings(dc: &Dovecot) -> collabd::config::ImapSettings {
    collabd::config::ImapSettings {
        name: collabd::config::DEFAULT_ACCOUNT.to_owned(),
        key: "imap".into(),
        host: "127.0.0.1".into(),
        port: dc.imaps_port,
        security: collabd::config::Security::Tls,
        ca_file: Some(dc.ca_file.clone()),
        tls_pin: None,
        user: dovecot::USER.into(),
        auth: collabd::config::ImapAuth::Password(collabd::secret::Secret::new(dovecot::PASSWORD)),
        folders: vec!["INBOX".into()],
        since: None,
        after_processing: collabd::config::AfterProcessing::Nothing,
        max_message_bytes: 25 << 20,
        idle_renew: Duration::from_secs(540),
        poll: Duration::from_secs(60),
        command_timeout: Duration::from_secs(60),
    }
}

/// A plain client's session in INBOX over TLS, and when it began to
/// connect (its TLS configuration already built).
async fn inbox_session(
    s: &collabd::config::ImapSettings,
) -> (collabd::imap::conn::ImapSession, Instant) {
    let tls = collabd::imap::conn::tls_config(s.ca_file.as_deref(), None).unwrap();
    let start = Instant::now();
    let mut sess = collabd::imap::conn::open(
        s,
        &tls,
        collabd::imap::conn::Login::Password(dovecot::PASSWORD),
    )
    .await
    .unwrap();
    sess.select("INBOX").await.unwrap();
    (sess, start)
}

/// The floor: every full body over one TLS connection, as a naive client
/// would fetch them. Returns (seconds, bytes).
fn floor(dc: &Dovecot, rt: &tokio::runtime::Runtime) -> (f64, u64) {
    rt.block_on(async {
        let (mut sess, start) = inbox_session(&settings(dc)).await;
        let mut bytes = 0u64;
        {
            let mut stream = sess.uid_fetch("1:*", "BODY.PEEK[]").await.unwrap();
            while let Some(f) = stream.try_next().await.unwrap() {
                bytes += f.body().map_or(0, |b| b.len() as u64);
            }
        }
        let t = start.elapsed().as_secs_f64();
        let _ = sess.logout().await;
        (t, bytes)
    })
}

/// What a minimal client needs from APPEND to the body under IDLE, on the
/// same mailbox and over the same TLS: one session kept in INBOX; IDLE until
/// EXISTS, DONE, the header fields collabd asks for, then the body. No
/// database, no judging. Returns milliseconds for each of `appends` grants,
/// numbered from `first`.
fn minimal_client(
    dc: &Dovecot,
    rt: &tokio::runtime::Runtime,
    first: usize,
    appends: usize,
) -> Vec<f64> {
    let (idling, ready) = std::sync::mpsc::channel::<()>();
    let (fetched, got) = std::sync::mpsc::channel::<Instant>();
    let s = settings(dc);
    let client = rt.spawn(async move {
        let (mut sess, _) = inbox_session(&s).await;
        let headers = format!(
            "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({})])",
            collabd::mail::Classifier::CANDIDATE_HEADERS
        );
        for _ in 0..appends {
            let mut idle = sess.idle();
            idle.init().await.unwrap();
            idling.send(()).unwrap();
            let exists = loop {
                let (news, _stop) = idle.wait_with_timeout(Duration::from_secs(30));
                match news.await.unwrap() {
                    IdleResponse::NewData(d) => {
                        if let Response::MailboxData(MailboxDatum::Exists(n)) = d.parsed() {
                            break *n;
                        }
                    }
                    other => panic!("the minimal client's IDLE ended: {other:?}"),
                }
            };
            sess = idle.done().await.unwrap();
            let mut uid = None;
            {
                let mut answers = sess.fetch(exists.to_string(), &headers).await.unwrap();
                while let Some(f) = answers.try_next().await.unwrap() {
                    uid = uid.or(f.uid);
                }
            }
            let uid = uid.expect("the new message's UID");
            {
                let mut answers = sess
                    .uid_fetch(uid.to_string(), "BODY.PEEK[]")
                    .await
                    .unwrap();
                while let Some(f) = answers.try_next().await.unwrap() {
                    assert!(f.body().is_some(), "no body for UID {uid}");
                }
            }
            fetched.send(Instant::now()).unwrap();
        }
        let _ = sess.logout().await;
    });
    let mut ms = Vec::new();
    for k in 0..appends {
        ready
            .recv_timeout(Duration::from_secs(30))
            .expect("the minimal client in IDLE");
        let appended = Instant::now();
        dc.append("INBOX", &[corpus::grant(first + k)]);
        let body = got
            .recv_timeout(Duration::from_secs(10))
            .expect("the minimal client to fetch the body");
        ms.push((body - appended).as_secs_f64() * 1e3);
        std::thread::sleep(Duration::from_millis(300));
    }
    rt.block_on(client).unwrap();
    ms
}

/// `collabd run` on `dc`; with `forwarders`, ordinary mail is ruled out by
/// its headers and never downloaded, without it every body is read.
fn start_collabd(dir: &Path, dc: &Dovecot, forwarders: bool) -> (Child, std::path::PathBuf) {
    let db = dir.join("collabd.db");
    let cfg = dir.join("collabd.toml");
    std::fs::write(
        &cfg,
        format!(
            "[database]\npath = \"{}\"\n[trust]\n{}[worker]\nfiler = \"log\"\n\
             [imap]\nhost = \"127.0.0.1\"\nport = {}\nca_file = \"{}\"\nuser = \"{}\"\npassword = \"{}\"\n",
            db.display(),
            if forwarders {
                "forwarders = [\"agency.example\"]\n"
            } else {
                ""
            },
            dc.imaps_port,
            dc.ca_file.display(),
            dovecot::USER,
            dovecot::PASSWORD
        ),
    )
    .unwrap();
    let child = Command::new(collabd_exe())
        // The generated mail is unsigned: trust it by identity alone.
        .env("COLLABD__TRUST__REQUIRE", "none")
        .args(["run", "--config", cfg.to_str().unwrap()])
        .env(
            "RUST_LOG",
            std::env::var("COLLABD_BENCH_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("collabd.log")).unwrap())
        .spawn()
        .unwrap();
    (child, db)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// The binary under test: this build's, or the one `COLLABD_BENCH_EXE`
/// names (`target/dist/collabd`, the packaged profile, for its idle RSS).
fn collabd_exe() -> std::path::PathBuf {
    std::env::var_os("COLLABD_BENCH_EXE")
        .map_or_else(|| env!("CARGO_BIN_EXE_collabd").into(), Into::into)
}

fn main() {
    let total: usize = std::env::var("COLLABD_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let t0 = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dc = Dovecot::start(Options::default());

    // The mailbox: 5% Leadsie/Shopify (grants, forwarded grants, outcomes).
    let mut rng = corpus::Rng::seeded();
    let mut grants = 0;
    // Believed only from a listed forwarder: the run without
    // `[trust] forwarders` refuses them, as it should.
    let mut forwarded = 0;
    let mut bytes = 0usize;
    let made = Instant::now();
    let mut batch = Vec::with_capacity(500);
    for i in 0..total {
        let (m, is_grant) = corpus::message(i, &mut rng);
        grants += usize::from(is_grant);
        forwarded += usize::from(is_grant && m == corpus::forwarded_grant(i));
        bytes += m.len();
        batch.push(m);
        if batch.len() == 500 {
            dc.append("INBOX", &batch);
            batch.clear();
        }
    }
    dc.append("INBOX", &batch);
    println!(
        "mailbox: {total} messages, {:.1} MB, {grants} grants, appended in {:.1} s",
        bytes as f64 / 1e6,
        made.elapsed().as_secs_f64()
    );

    // Warm Dovecot's indexes and the page cache once, then time the floor.
    floor(&dc, &rt);
    let floors: Vec<(f64, u64)> = (0..3).map(|_| floor(&dc, &rt)).collect();
    let best_floor = floors.iter().map(|f| f.0).fold(f64::MAX, f64::min);
    println!(
        "floor (every full body, one TLS connection): {} s for {:.1} MB",
        floors
            .iter()
            .map(|f| format!("{:.2}", f.0))
            .collect::<Vec<_>>()
            .join(" / "),
        floors[0].1 as f64 / 1e6
    );

    let mut runs = Vec::new();
    let mut kept = None;
    // Three runs with [trust] forwarders set, then one reading every body.
    for run in 0..4 {
        let dir = tempfile::tempdir().unwrap();
        let start = Instant::now();
        let (mut child, db) = start_collabd(dir.path(), &dc, run < 3);
        loop {
            if sql(&db, "select last_uid from mailbox_state")
                .parse::<usize>()
                .unwrap_or(0)
                >= total
            {
                break;
            }
            assert!(child.try_wait().unwrap().is_none(), "collabd exited");
            assert!(
                start.elapsed() < Duration::from_secs(300),
                "backfill took too long"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let took = start.elapsed().as_secs_f64();
        let peak = proc_kb(child.id(), "VmHWM:");
        let stored: usize = sql(&db, "select count(*) from access_requests")
            .parse()
            .unwrap();
        let expected = if run < 3 { grants } else { grants - forwarded };
        assert_eq!(stored, expected, "every grant believed is stored once");
        let downloaded: usize = sql(&db, "select count(*) from messages").parse().unwrap();
        if run == 3 {
            println!(
                "collabd backfill without [trust] forwarders (every body downloaded and read): {took:.2} s, {downloaded} messages stored; / floor: {:.2}",
                took / best_floor
            );
            let (user, system) = cpu_seconds(child.id());
            println!(
                "  of which collabd's own CPU: {user:.2} s user + {system:.2} s system (two cores, shared with Dovecot)"
            );
            child.kill().ok();
            child.wait().ok();
            continue;
        }
        runs.push((took, peak, downloaded));
        if run == 2 {
            kept = Some((child, db, dir));
        } else {
            child.kill().ok();
            child.wait().ok();
        }
    }
    let best = runs.iter().map(|r| r.0).fold(f64::MAX, f64::min);
    println!(
        "collabd backfill (process start to checkpoint at the last UID): {} s; {} messages downloaded of {total}",
        runs.iter()
            .map(|r| format!("{:.2}", r.0))
            .collect::<Vec<_>>()
            .join(" / "),
        runs[0].2
    );
    println!(
        "backfill / floor: {:.2} (best of each; goal ≤ 1.0)",
        best / best_floor
    );
    println!(
        "peak RSS during backfill: {} MB (goal ≤ 60)",
        runs.iter()
            .map(|r| format!("{:.1}", r.1 as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(" / ")
    );

    // Idle, then latency under IDLE.
    let (mut child, db, dir) = kept.take().unwrap();
    let pid = child.id();
    std::thread::sleep(Duration::from_secs(3));
    println!(
        "idle RSS: {:.1} MB (goal ≤ 20): {:.1} MB heap and stacks, {:.1} MB mapped from the binary and libraries",
        proc_kb(pid, "VmRSS:") as f64 / 1024.0,
        proc_kb(pid, "RssAnon:") as f64 / 1024.0,
        proc_kb(pid, "RssFile:") as f64 / 1024.0
    );
    child.kill().ok();
    child.wait().ok();

    const APPENDS: usize = 20;
    // collabd: APPEND until the row is committed; its log gives the time
    // from its own IDLE wake-up to the commit.
    let log = dir.path().join("latency.log");
    let mut child = Command::new(collabd_exe())
        // The generated mail is unsigned: trust it by identity alone.
        .env("COLLABD__TRUST__REQUIRE", "none")
        .args([
            "run",
            "--config",
            dir.path().join("collabd.toml").to_str().unwrap(),
        ])
        .env("RUST_LOG", "collabd::imap=debug")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let idle = Instant::now();
    // The row still says "idle" from the killed process until this one
    // connects, so wait for its log first.
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("IMAP watcher connected")
        || sql(&db, "select state from mailbox_state") != "idle"
    {
        assert!(
            idle.elapsed() < Duration::from_secs(30),
            "collabd did not reach IDLE"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pool = rt
        .block_on(collabd::store::Db::open(&db))
        .unwrap()
        .pool
        .sqlite()
        .unwrap()
        .clone();
    let count = || -> i64 {
        rt.block_on(async {
            sqlx::query_scalar("select count(*) from messages")
                .fetch_one(&pool)
                .await
                .unwrap()
        })
    };
    let mut whole = Vec::new();
    for k in 0..APPENDS {
        let before = count();
        let appended = Instant::now();
        dc.append("INBOX", &[corpus::grant(total + k)]);
        while count() == before {
            assert!(appended.elapsed() < Duration::from_secs(10), "no row");
            std::thread::sleep(Duration::from_micros(500));
        }
        whole.push(appended.elapsed().as_secs_f64() * 1e3);
        std::thread::sleep(Duration::from_millis(300));
    }
    child.kill().ok();
    child.wait().ok();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let at = |line: &str| {
        chrono::DateTime::parse_from_rfc3339(line.split_whitespace().next().unwrap_or("")).ok()
    };
    let mut woke = None;
    let mut own_ms = Vec::new();
    let (mut by_status, mut by_select) = (0, 0);
    let (mut asked, mut body_ms, mut head_ms) = (None, Vec::new(), Vec::new());
    for line in text.lines() {
        if line.contains("IDLE woke") {
            woke = at(line);
        } else if line.contains("bound by STATUS") {
            by_status += 1;
        } else if line.contains("bound by SELECT") {
            by_select += 1;
        } else if line.contains("headers fetched") && line.contains("n=1") {
            asked = at(line);
            if let (Some(w), Some(a)) = (woke, asked) {
                head_ms.push((a - w).num_microseconds().unwrap_or(0) as f64 / 1e3);
            }
        } else if line.contains("bodies fetched")
            && let (Some(a), Some(t)) = (asked.take(), at(line))
        {
            body_ms.push((t - a).num_microseconds().unwrap_or(0) as f64 / 1e3);
        } else if line.contains("stored a message")
            && let (Some(w), Some(t)) = (woke.take(), at(line))
        {
            own_ms.push((t - w).num_microseconds().unwrap_or(0) as f64 / 1e3);
        }
    }
    if std::env::var_os("COLLABD_BENCH_LOG").is_some() {
        eprintln!("{text}");
    }
    assert_eq!(own_ms.len(), APPENDS, "one wake-up per append:\n{text}");
    let mut minimal = minimal_client(&dc, &rt, total + APPENDS, APPENDS);
    let (w, o, m) = (
        median(&mut whole),
        median(&mut own_ms),
        median(&mut minimal),
    );
    println!(
        "APPEND to committed row with collabd in IDLE, {APPENDS} appends: median {w:.0} ms, max {:.0} ms (Dovecot batches change notifications for 500 ms before IDLE clients hear of them)",
        whole.iter().cloned().fold(0.0, f64::max)
    );
    println!(
        "a minimal client, APPEND to body (IDLE, then headers, then body) on the same mailbox: median {m:.0} ms, max {:.0} ms",
        minimal.iter().cloned().fold(0.0, f64::max)
    );
    println!(
        "collabd's own share, APPEND-to-row less the minimal client's APPEND-to-body: median {:.1} ms (goal ≤ 150)",
        w - m
    );
    println!(
        "collabd's own time from IDLE wake-up to stored row: median {o:.1} ms, max {:.1} ms (goal < 150); of which wake-up to headers (DONE, the bound, the header FETCH): median {:.1} ms, Dovecot answering the body FETCH: median {:.1} ms",
        own_ms.iter().cloned().fold(0.0, f64::max),
        median(&mut head_ms),
        median(&mut body_ms)
    );
    println!(
        "syncs in the latency run: {by_status} bounded by STATUS on the folder kept selected, {by_select} by SELECT (the first after connecting, and any fallback)"
    );
    println!("whole run: {:.0} s", t0.elapsed().as_secs_f64());
}
