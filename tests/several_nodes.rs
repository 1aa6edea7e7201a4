//! Three `collabd run` nodes on one PostgreSQL database, watching one real
//! Dovecot folder that holds 2,000 messages from Leadsie (100 of them
//! grants, the rest other notices, each downloaded and judged) and filing
//! through a webhook on loopback. The node watching the folder is killed
//! with SIGKILL mid-backfill: another takes the folder over from the stored
//! checkpoint within 30 seconds, every grant becomes exactly one request,
//! and each request reaches the webhook under its idempotency key. Then
//! PostgreSQL is stopped under the nodes, mail arrives while it is down,
//! and it starts again: the nodes wait, reconnect and lose nothing.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::daemon::{Daemon, collabd_cli, grant, wait_for};
use support::dovecot::{self, Dovecot, Options};
use support::postgres::Postgres;

const MESSAGES: usize = 2_000;
const GRANTS: usize = 100;

/// One scalar from the database, as text ("" for none, or before the
/// first node made the tables).
fn query(pg: &Postgres, q: &str) -> String {
    pg.try_psql("collabd", q).unwrap_or_default()
}

fn count(pg: &Postgres, q: &str) -> i64 {
    query(pg, q).parse().unwrap_or(-1)
}

/// A notice from Leadsie that grants nothing: a candidate the watcher
/// downloads, judges and stores (as `ignored`), so the backfill has 2,000
/// messages to get through.
fn notice(n: usize) -> Vec<u8> {
    format!(
        "From: Leadsie <notifications@leadsie.com>\r\nTo: ops@agency.example\r\nSubject: Your weekly Leadsie summary {n}\r\n\
         Date: Mon, 02 Nov 2026 09:00:00 +0000\r\nMessage-ID: <summary-{n}@leadsie.com>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nThis week: {n} visits to your access links.\r\n{}\r\n",
        "Nothing else happened. ".repeat(100)
    )
    .into_bytes()
}

/// A node's configuration: the shared database, the one folder, the webhook.
fn node(dc: &Dovecot, url: &str, webhook: &str) -> Daemon {
    let d = Daemon::tls(dc, "");
    let pw = d.dir.path().join("imap-password");
    std::fs::write(
        &d.cfg,
        format!(
            "[database]\nurl = \"{url}\"\n[trust]\nforwarders = [\"agency.example\"]\n\
             [worker]\nfiler = \"webhook\"\npoll_seconds = 1\nlease_seconds = 20\n\
             [worker.webhook]\nurl = \"{webhook}/file\"\nsecret = \"shared-test-secret\"\n\
             [imap]\nhost = \"127.0.0.1\"\nport = {}\nca_file = \"{}\"\nuser = \"{}\"\npassword_file = \"{}\"\n",
            dc.imaps_port,
            dc.ca_file.display(),
            dovecot::USER,
            pw.display()
        ),
    )
    .unwrap();
    d
}

/// The node (index) whose process watches the folder now, per the database.
fn watcher(pg: &Postgres, nodes: &[Daemon]) -> Option<usize> {
    let node = query(
        pg,
        "select node from mailbox_state where state in ('syncing', 'idle', 'polling', 'connecting')",
    );
    nodes.iter().position(|d| {
        d.pid()
            .is_some_and(|p| node.ends_with(&format!("(pid {p})")))
    })
}

#[test]
fn three_nodes_survive_a_killed_watcher_and_a_restarted_database() {
    let pg = Postgres::start();
    let url = pg.create_db("collabd");
    let dc = Dovecot::start(Options::default());

    // The mailbox: 1,900 notices with 100 grants among them.
    let mut mail = Vec::with_capacity(MESSAGES);
    for i in 0..MESSAGES {
        mail.push(match i % (MESSAGES / GRANTS) {
            // Codes above any UID or row id, so a log line naming one is a leak.
            7 => grant(&format!("shop-{i:04}"), &format!("{:04}", 5000 + i), i),
            _ => notice(i),
        });
    }
    dc.append("INBOX", &mail);

    // The webhook filer's endpoint: which idempotency keys arrived, how often.
    let received: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let webhook = {
        let received = received.clone();
        runtime.block_on(support::http::serve(Arc::new(move |_, _, body| {
            let v: serde_json::Value = serde_json::from_slice(body).unwrap();
            let key = v["idempotency_key"].as_str().unwrap().to_owned();
            *received.lock().unwrap().entry(key).or_default() += 1;
            (200, "{\"ok\":true}".into())
        })))
    };

    let mut nodes: Vec<Daemon> = (0..3).map(|_| node(&dc, &url, &webhook)).collect();
    for d in &mut nodes {
        d.start();
    }

    // Mid-backfill: some of the mail stored, not all of it.
    let started = Instant::now();
    let (victim, stored_at_kill) = loop {
        let stored = count(&pg, "select count(*) from messages");
        if stored > 0
            && let Some(i) = watcher(&pg, &nodes)
        {
            break (i, stored);
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no node began the backfill:\n{}",
            nodes[0].log()
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    nodes[victim].sigkill();
    let killed = Instant::now();
    // Until then, only that node watched the folder.
    for (i, d) in nodes.iter().enumerate().filter(|(i, _)| *i != victim) {
        let log = d.log();
        assert!(
            !log.contains("IMAP watcher connected"),
            "node {i} watched the folder too while node {victim} held it:\n{log}"
        );
    }
    let stored_after_kill = count(&pg, "select count(*) from messages");
    assert!(
        stored_after_kill < MESSAGES as i64,
        "the backfill ended ({stored_at_kill} stored when the watcher was seen) before the kill: \
         make the mailbox larger"
    );
    eprintln!("killed node {victim} with {stored_after_kill} of {MESSAGES} messages stored");

    // Another node takes the folder over, from the checkpoint.
    let mut taken_by = None;
    wait_for(
        Duration::from_secs(30),
        "another node watching the folder",
        || {
            taken_by = watcher(&pg, &nodes).filter(|i| *i != victim);
            taken_by.is_some()
        },
    );
    let takeover = killed.elapsed();
    eprintln!(
        "node {} took the folder over {:.1} s after the kill",
        taken_by.unwrap(),
        takeover.as_secs_f64()
    );
    assert!(takeover < Duration::from_secs(30));
    // The third node stands by while the second watches.
    let third = (0..3)
        .find(|i| *i != victim && Some(*i) != taken_by)
        .unwrap();
    wait_for(
        Duration::from_secs(15),
        "the third node standing by",
        || {
            nodes[third].log().contains("standing by")
                && !nodes[third].log().contains("IMAP watcher connected")
        },
    );

    let deadline = Instant::now() + Duration::from_secs(120);
    while count(&pg, "select count(*) from messages") != MESSAGES as i64 {
        assert!(
            Instant::now() < deadline,
            "{} of {MESSAGES} messages stored; mailbox_state: {}\nthe new watcher's log:\n{}",
            count(&pg, "select count(*) from messages"),
            query(&pg, "select mailbox_state::text from mailbox_state"),
            nodes[taken_by.unwrap()].log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    wait_for(Duration::from_secs(60), "every request filed", || {
        received.lock().unwrap().len() == GRANTS
            && count(
                &pg,
                "select count(*) from access_requests where state = 'requested'",
            ) == GRANTS as i64
    });
    // Exactly once: one message per UID, one request per grant.
    assert_eq!(
        count(&pg, "select count(distinct uid) from messages"),
        MESSAGES as i64
    );
    assert_eq!(
        count(&pg, "select count(*) from access_requests"),
        GRANTS as i64
    );
    assert_eq!(
        count(
            &pg,
            "select count(*) from messages where kind = 'leadsie_grant'"
        ),
        GRANTS as i64
    );
    // Each key once, but for a filing the killed node had in flight: the
    // lease ran out and another node filed it again under the same key,
    // as a second attempt (which is what the key is for).
    let twice: Vec<String> = received
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| k.clone())
        .collect();
    let reclaimed = count(
        &pg,
        "select count(*) from access_requests where attempts > 1",
    );
    assert!(
        twice.len() as i64 <= reclaimed && reclaimed <= 1,
        "keys received more than once: {twice:?}; requests filed more than once: {reclaimed}"
    );
    let status = collabd_cli(
        &[
            "status",
            "--config",
            nodes[taken_by.unwrap()].cfg.to_str().unwrap(),
        ],
        &[],
    );
    assert!(
        status.1.contains("watched by"),
        "status names no watcher:\n{}{}",
        status.1,
        status.2
    );
    assert!(
        status.1.contains("tells operators of outcomes: "),
        "{}",
        status.1
    );

    // PostgreSQL goes away under the two nodes left; mail keeps coming.
    pg.stop();
    dc.append(
        "INBOX",
        &[
            grant("while-down-one", "7101", 9001),
            grant("while-down-two", "7102", 9002),
        ],
    );
    std::thread::sleep(Duration::from_secs(5));
    pg.start_again();
    dc.append("INBOX", &[grant("after-restart", "7103", 9003)]);
    wait_for(
        Duration::from_secs(90),
        "the mail from the outage stored and filed",
        || {
            count(&pg, "select count(*) from access_requests") == GRANTS as i64 + 3
                && received.lock().unwrap().len() == GRANTS + 3
        },
    );
    assert_eq!(
        count(&pg, "select count(*) from messages"),
        MESSAGES as i64 + 3
    );
    for (i, d) in nodes.iter_mut().enumerate() {
        if i != victim {
            assert!(d.alive(), "node {i} died:\n{}", d.log());
        }
    }
    wait_for(
        Duration::from_secs(30),
        "a node watching after the restart",
        || watcher(&pg, &nodes).is_some(),
    );
    for (i, d) in nodes.iter().enumerate() {
        let log = d.log();
        for code in ["7101", "7102", "7103", "5007", "6987"] {
            assert!(
                !support::daemon::has_code(&log, code),
                "the code {code} in node {i}'s log:\n{log}"
            );
        }
        assert!(!log.contains("panicked"), "node {i}:\n{log}");
    }
    for (i, d) in nodes.iter_mut().enumerate() {
        if i != victim {
            let (_, code) = d.sigterm();
            assert_eq!(code, Some(0), "node {i} exits cleanly on SIGTERM");
        }
    }
}
