//! A soak: `collabd run` against a real Dovecot for minutes on end, with one
//! Leadsie email a second, every connection kicked each minute and Dovecot
//! restarted every five. Prints the daemon's RSS as it goes, and at the end
//! how much it grew in the first and the second half: a leak keeps growing,
//! a cache levels off at its bound. RSS is shown in its two parts: anonymous
//! memory (the heap: where a leak would show) and file-backed pages, mostly
//! the executable's own code, paged in as code paths first run (bounded by
//! the binary's size, shared and reclaimable).
//!
//! `cargo bench --bench soak` (needs dovecot-imapd, openssl and sqlite3, as
//! the tests do). `COLLABD_SOAK_MINUTES=N` sets the length (default 10). It
//! asserts only that every email was stored once.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::daemon::{Daemon, count, grant, wait_for};
use support::dovecot::{Dovecot, Options};

/// A field of /proc/PID/status, in kB.
fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let minutes: u64 = std::env::var("COLLABD_SOAK_MINUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let mut dc = Dovecot::start(Options::default());
    let mut d = Daemon::tls(&dc, "");
    d.start();
    d.wait_idle();
    let pid = d.pid().expect("the daemon runs");
    let start = Instant::now();
    let end = Duration::from_secs(minutes * 60);
    let mut samples: Vec<(u64, u64)> = Vec::new();
    let mut sent = 0usize;
    let mut next_sample = Duration::ZERO;
    println!(
        "soak: {minutes} min, one grant a second, kick every minute, Dovecot restarted every 5 min"
    );
    while start.elapsed() < end {
        let t = start.elapsed();
        if t >= next_sample {
            let (anon, file) = (status_kb(pid, "RssAnon:"), status_kb(pid, "RssFile:"));
            println!(
                "  {:>5.1} min  RSS {:>5.1} MB = heap {:>5.2} MB + file {:>5.1} MB  stored {}",
                t.as_secs_f64() / 60.0,
                (anon + file) as f64 / 1024.0,
                anon as f64 / 1024.0,
                file as f64 / 1024.0,
                d.requests()
            );
            samples.push((t.as_secs(), anon));
            next_sample += Duration::from_secs(30);
        }
        let second = t.as_secs();
        dc.append(
            "INBOX",
            &[grant(
                &format!("soak-{sent}"),
                &format!("{:04}", sent % 10_000),
                sent,
            )],
        );
        sent += 1;
        if second > 0 && second.is_multiple_of(300) {
            dc.restart();
        } else if second > 0 && second.is_multiple_of(60) {
            dc.kick();
        }
        let next = Duration::from_secs(second + 1);
        if let Some(wait) = next.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    wait_for(Duration::from_secs(120), "every grant to be stored", || {
        d.requests() as usize >= sent
    });
    let stored = d.requests() as usize;
    let distinct = count(
        &d.db,
        "select count(distinct store_domain) from access_requests",
    ) as usize;
    assert_eq!((stored, distinct), (sent, sent), "every grant stored once");
    let after_first_minute = samples.iter().find(|s| s.0 >= 60).map_or(0, |s| s.1);
    let half = samples
        .iter()
        .find(|s| s.0 >= end.as_secs() / 2)
        .map_or(0, |s| s.1);
    let last = samples.last().map_or(0, |s| s.1);
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!(
        "stored {stored} of {sent}, no duplicate; heap (RssAnon) after 1 min {:.2} MB, at half time {:.2} MB, at the end {:.2} MB",
        mb(after_first_minute),
        mb(half),
        mb(last)
    );
    let db_mb = std::fs::metadata(&d.db).map_or(0, |m| m.len()) as f64 / 1e6;
    println!(
        "database at the end: {db_mb:.1} MB (each pooled connection caches at most 512 KiB of it)"
    );
    println!(
        "heap growth: first half {:+.2} MB, second half {:+.2} MB (a leak grows in both; a bounded cache levels off)",
        mb(half) - mb(after_first_minute),
        mb(last) - mb(half)
    );
}
