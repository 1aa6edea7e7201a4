//! The IMAP watcher inside `collabd run`, against a real Dovecot on loopback:
//! IDLE delivery, reconnects, UIDVALIDITY changes, a SIGKILL mid-backfill,
//! wrong passwords, TLS trust, after-processing, polling and XOAUTH2.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::daemon::{Daemon, count, grant, newsletter, sql, wait_for};
use support::dovecot::{self, Dovecot, Options};

#[test]
fn a_grant_appended_during_idle_is_stored_by_idle_not_by_polling_and_sigterm_stops_cleanly() {
    let dc = Dovecot::start(Options::default());
    // Polling every 30 minutes and IDLE renewed every 9: within the
    // generous deadline below only IDLE's announcement can bring the grant.
    // How fast it comes is a figure for `cargo bench --bench imap`, not a
    // test.
    let mut d = Daemon::tls(&dc, "poll_seconds = 1800\nidle_renew_seconds = 540");
    d.start().wait_idle();
    let appended = Instant::now();
    dc.append("INBOX", &[grant("idle-shop", "4821", 1)]);
    wait_for(Duration::from_secs(60), "the grant to be stored", || {
        d.requests() == 1
    });
    eprintln!("APPEND to request row: {:?}", appended.elapsed());
    assert_eq!(
        sql(
            &d.db,
            "select store_domain || ' ' || state from access_requests"
        ),
        "idle-shop.myshopify.com queued"
    );
    assert_eq!(
        sql(
            &d.db,
            "select source || ' ' || mailbox || ' ' || uid from messages"
        ),
        format!("imap {}/INBOX 1", dovecot::USER)
    );
    // BODY.PEEK: the message is still unread.
    assert_eq!(dc.uids("INBOX", "UNSEEN"), vec![1]);
    let (took, code) = d.sigterm();
    assert_eq!(code, Some(0), "{}", d.log());
    assert!(took < Duration::from_secs(10), "stopping took {took:?}");
    assert_eq!(d.state(), "stopped 0");
    let log = d.log();
    assert!(
        !support::daemon::has_code(&log, "4821"),
        "the code reached the log:\n{log}"
    );
    assert!(
        !log.contains(dovecot::PASSWORD),
        "the password reached the log"
    );
}

#[test]
fn after_a_kick_and_a_server_restart_it_reconnects_and_misses_nothing() {
    let mut dc = Dovecot::start(Options::default());
    let mut d = Daemon::tls(&dc, "command_timeout_seconds = 5");
    d.start().wait_idle();

    // Dropped connection: mail that arrives meanwhile is fetched on reconnect.
    dc.kick();
    dc.append("INBOX", &[grant("kicked-shop", "1111", 1)]);
    wait_for(
        Duration::from_secs(15),
        "the grant sent around the kick",
        || d.requests() == 1,
    );

    // Server gone, then back on the same port.
    dc.stop();
    // First the lost connection, then failed reconnects, each named.
    wait_for(Duration::from_secs(30), "the watcher to notice", || {
        d.state().starts_with("backoff")
            && sql(&d.db, "select last_error from mailbox_state")
                .contains(&format!("127.0.0.1:{}", dc.imaps_port))
    });
    assert!(d.log().contains("connection lost"), "{}", d.log());
    dc.restart();
    dc.append("INBOX", &[grant("while-down-shop", "2222", 2)]);
    wait_for(
        Duration::from_secs(30),
        "the grant sent while it was cut off",
        || d.requests() == 2,
    );
    d.wait_idle();
    let reconnects = count(&d.db, "select reconnects from mailbox_state");
    assert!(reconnects >= 2, "{reconnects} reconnects\n{}", d.log());
    assert!(d.alive());
    assert_eq!(count(&d.db, "select count(*) from messages"), 2);
}

#[test]
fn a_recreated_folder_with_a_new_uidvalidity_makes_no_duplicates() {
    let dc = Dovecot::start(Options::default());
    dc.create_folder("Leads");
    dc.append(
        "Leads",
        &[grant("one-shop", "1001", 1), grant("two-shop", "1002", 2)],
    );
    let mut d = Daemon::tls(&dc, "folders = [\"Leads\"]");
    d.start();
    wait_for(Duration::from_secs(20), "both grants", || d.requests() == 2);
    let before = sql(&d.db, "select uidvalidity from mailbox_state");

    dc.delete_folder("Leads");
    dc.create_folder("Leads");
    dc.append(
        "Leads",
        &[
            grant("one-shop", "1001", 1),
            grant("two-shop", "1002", 2),
            grant("three-shop", "1003", 3),
        ],
    );
    wait_for(
        Duration::from_secs(40),
        "the new grant after the rescan",
        || d.requests() == 3,
    );
    wait_for(
        Duration::from_secs(10),
        "the checkpoint to take the new UIDVALIDITY",
        || {
            sql(
                &d.db,
                "select uidvalidity || ' ' || last_uid from mailbox_state",
            ) != format!("{before} 2")
                && count(&d.db, "select last_uid from mailbox_state") == 3
        },
    );
    assert_ne!(sql(&d.db, "select uidvalidity from mailbox_state"), before);
    assert_eq!(count(&d.db, "select count(*) from messages"), 3);
    assert_eq!(
        sql(
            &d.db,
            "select group_concat(store_domain, ',') from (select store_domain from access_requests order by 1)"
        ),
        "one-shop.myshopify.com,three-shop.myshopify.com,two-shop.myshopify.com"
    );
    assert!(d.log().contains("UIDVALIDITY changed"), "{}", d.log());
}

#[test]
fn sigkill_in_the_middle_of_a_backfill_then_restart_yields_exactly_one_request_each() {
    let dc = Dovecot::start(Options::default());
    let total = 600;
    let mut batch = Vec::new();
    for i in 0..total {
        batch.push(grant(&format!("shop-{i}"), &format!("{:04}", 1000 + i), i));
        if i % 3 == 0 {
            batch.push(newsletter(i, 2000));
        }
    }
    dc.append("INBOX", &batch);
    let mut d = Daemon::tls(&dc, "");
    d.start();
    wait_for(Duration::from_secs(30), "the backfill to begin", || {
        count(&d.db, "select count(*) from messages") > 0
    });
    d.sigkill();
    let at_kill = count(&d.db, "select count(*) from messages");
    assert!(
        at_kill < total as i64,
        "the backfill was already over ({at_kill})"
    );
    d.start();
    wait_for(Duration::from_secs(60), "every grant", || {
        d.requests() == total as i64
    });
    d.wait_idle();
    assert_eq!(
        count(
            &d.db,
            "select count(distinct store_domain) from access_requests"
        ),
        total as i64
    );
    assert_eq!(
        count(
            &d.db,
            "select count(*) from messages where kind = 'leadsie_grant'"
        ),
        total as i64
    );
    // The newsletters were judged from their headers and never downloaded.
    assert_eq!(
        count(
            &d.db,
            "select count(*) from messages where kind != 'leadsie_grant'"
        ),
        0
    );
    let last_uid = count(&d.db, "select last_uid from mailbox_state");
    assert_eq!(last_uid, batch.len() as i64);
    eprintln!("killed after {at_kill} of {total} messages");
}

#[test]
fn a_wrong_password_is_reported_and_retried_with_backoff_without_crashing() {
    let dc = Dovecot::start(Options::default());
    let mut d = Daemon::tls(&dc, "");
    std::fs::write(d.dir.path().join("imap-password"), "not the password\n").unwrap();
    d.start();
    wait_for(Duration::from_secs(20), "two failed logins", || {
        count(&d.db, "select reconnects from mailbox_state") >= 2
    });
    assert!(d.alive(), "collabd exited: {}", d.log());
    let err = sql(&d.db, "select last_error from mailbox_state");
    assert!(
        err.contains("login refused for ops@agency.example"),
        "{err}"
    );
    assert!(err.contains("password"), "{err}");
    // As Dovecot said it, not as a Rust debug value.
    assert!(
        err.contains("\"[AUTHENTICATIONFAILED] Authentication failed.\""),
        "{err}"
    );
    assert!(!err.contains("info:") && !err.contains("Some("), "{err}");
    assert!(d.state().starts_with("backoff 0"));
    let status = d.status();
    assert!(status.contains("FAILING"), "{status}");
    assert!(status.contains("login refused"), "{status}");
    assert!(status.contains("next attempt at"), "{status}");
    let log = d.log();
    assert!(log.contains("login refused"), "{log}");
    assert!(
        !log.contains("not the password"),
        "the password reached the log"
    );
    // Backoff: the second try waits at least half a second after the first.
    let tries: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("login refused"))
        .collect();
    assert!(tries.len() >= 2 && tries.len() < 6, "{log}");
}

#[test]
fn tls_to_a_private_ca_needs_ca_file() {
    let dc = Dovecot::start(Options::default());
    // Without ca_file the public roots do not include the test CA: refused.
    let mut refused = Daemon::new(&format!("port = {}", dc.imaps_port));
    refused.start();
    wait_for(
        Duration::from_secs(20),
        "the certificate to be refused",
        || sql(&refused.db, "select last_error from mailbox_state").contains("certificate"),
    );
    let err = sql(&refused.db, "select last_error from mailbox_state");
    assert!(err.contains("imap.ca_file"), "{err}");
    assert!(refused.alive());

    // With it: implicit TLS and STARTTLS both work.
    let mut tls = Daemon::tls(&dc, "");
    tls.start().wait_idle();
    let mut starttls = Daemon::new(&format!(
        "port = {}\nsecurity = \"starttls\"\nca_file = \"{}\"",
        dc.imap_port,
        dc.ca_file.display()
    ));
    starttls.start().wait_idle();
    dc.append("INBOX", &[grant("tls-shop", "3030", 1)]);
    wait_for(Duration::from_secs(10), "the grant over TLS", || {
        tls.requests() == 1
    });
    wait_for(Duration::from_secs(10), "the grant over STARTTLS", || {
        starttls.requests() == 1
    });
}

#[test]
fn plaintext_is_refused_for_a_remote_host() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        "[imap]\nhost = \"imap.example.com\"\nsecurity = \"plain\"\nuser = \"u\"\npassword = \"p\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_collabd"))
        .env("COLLABD__TRUST__REQUIRE", "none")
        .args(["run", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "EX_CONFIG");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("imap.security") && err.contains("loopback"),
        "{err}"
    );
}

#[test]
fn moved_after_processing_and_ordinary_mail_left_alone() {
    let dc = Dovecot::start(Options::default());
    // MOVE is advertised; the fallback is covered by the no-MOVE server below.
    let mut d = Daemon::tls(&dc, "after_processing = \"move\"\nmove_to = \"Processed\"");
    d.start().wait_idle();
    dc.append(
        "INBOX",
        &[grant("moved-shop", "5050", 1), newsletter(1, 100)],
    );
    wait_for(Duration::from_secs(10), "the grant", || d.requests() == 1);
    wait_for(Duration::from_secs(10), "the grant to be moved", || {
        dc.uids("Processed", "ALL").len() == 1
    });
    assert_eq!(dc.uids("INBOX", "ALL"), vec![2], "the newsletter stays");
    // Moving out of INBOX does not make it seen.
    assert_eq!(dc.uids("Processed", "SEEN"), Vec::<u32>::new());
    let pending = "select count(*) from after_processing_pending";
    assert_eq!(
        count(&d.db, pending),
        0,
        "a done move leaves nothing pending"
    );

    // The target vanishes behind collabd's back: the next move fails, the
    // grant is stored anyway, and the failure is kept, shown and retried.
    dc.delete_folder("Processed");
    dc.append("INBOX", &[grant("stuck-shop", "5151", 3)]);
    wait_for(Duration::from_secs(10), "the second grant", || {
        d.requests() == 2
    });
    wait_for(Duration::from_secs(10), "the failed move recorded", || {
        count(
            &d.db,
            "select count(*) from after_processing_pending where attempts > 0 and last_error is not null",
        ) == 1
    });
    assert_eq!(dc.uids("INBOX", "ALL"), vec![2, 3], "the grant stays put");
    let status = d.status();
    assert!(
        status.contains("1 stored message still to be marked or moved"),
        "{status}"
    );
    assert!(
        d.log().contains("after-processing of UIDs 3 failed"),
        "{}",
        d.log()
    );

    // Once the folder is back, the next sync moves the left-over grant too.
    dc.create_folder("Processed");
    dc.append("INBOX", &[grant("later-shop", "5252", 4)]);
    wait_for(Duration::from_secs(10), "both grants moved", || {
        dc.uids("Processed", "ALL").len() == 2
    });
    assert_eq!(
        dc.uids("INBOX", "ALL"),
        vec![2],
        "only the newsletter stays"
    );
    wait_for(Duration::from_secs(5), "nothing pending", || {
        count(&d.db, pending) == 0
    });
    assert_eq!(d.requests(), 3);
}

#[test]
fn without_move_it_copies_deletes_and_expunges() {
    let dc = Dovecot::start(Options {
        no_idle: true,
        ..Options::default()
    });
    let mut d = Daemon::tls(
        &dc,
        "after_processing = \"move\"\nmove_to = \"Done\"\npoll_seconds = 1",
    );
    d.start();
    wait_for(Duration::from_secs(20), "polling", || {
        d.state() == "polling 1"
    });
    dc.append("INBOX", &[grant("copied-shop", "6060", 1)]);
    wait_for(Duration::from_secs(10), "the grant", || d.requests() == 1);
    wait_for(Duration::from_secs(10), "the grant to be moved", || {
        dc.uids("Done", "ALL").len() == 1 && dc.uids("INBOX", "ALL").is_empty()
    });
}

#[test]
fn marked_seen_after_processing() {
    let dc = Dovecot::start(Options::default());
    let mut d = Daemon::tls(&dc, "after_processing = \"seen\"");
    d.start().wait_idle();
    dc.append(
        "INBOX",
        &[newsletter(1, 100), grant("seen-shop", "7070", 2)],
    );
    wait_for(Duration::from_secs(10), "the grant", || d.requests() == 1);
    wait_for(
        Duration::from_secs(10),
        "the grant to be marked seen",
        || dc.uids("INBOX", "SEEN") == vec![2],
    );
    assert_eq!(dc.uids("INBOX", "UNSEEN"), vec![1]);
}

#[test]
fn first_run_since_a_date_skips_older_mail_and_oversized_mail_is_reported() {
    let dc = Dovecot::start(Options::default());
    dc.append("INBOX", &[grant("old-shop", "8080", 1)]);
    // Mail is dated by arrival (today), so "since tomorrow" skips it.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%d");
    let mut d = Daemon::tls(
        &dc,
        &format!("since = \"{tomorrow}\"\nmax_message_bytes = 65536"),
    );
    d.start().wait_idle();
    assert_eq!(count(&d.db, "select last_uid from mailbox_state"), 1);
    let mut big = grant("big-shop", "9090", 2);
    big.extend(std::iter::repeat_n(b'x', 70_000));
    dc.append("INBOX", &[big, grant("new-shop", "9191", 3)]);
    wait_for(Duration::from_secs(10), "the new grant", || {
        d.requests() == 1
    });
    assert_eq!(
        sql(&d.db, "select store_domain from access_requests"),
        "new-shop.myshopify.com"
    );
    let skipped = sql(
        &d.db,
        "select detail from request_events where event = 'skipped_oversize'",
    );
    assert!(
        skipped.contains("UID 2") && skipped.contains("max_message_bytes"),
        "{skipped}"
    );
    assert!(d.status().contains("not downloaded"), "{}", d.status());
}

#[test]
fn xoauth2_logs_in_with_a_refreshed_token() {
    use std::sync::{Arc, Mutex};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let issued = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = issued.clone();
    let url = rt.block_on(support::http::serve(Arc::new(move |_m: &str, path: &str, body: &[u8]| {
        let body = String::from_utf8_lossy(body).into_owned();
        match path {
            "/token" if body.contains("refresh_token=good-refresh") && body.contains("client_id=collabd-test") => {
                let mut all = seen.lock().unwrap();
                let token = format!("access-{}", all.len() + 1);
                all.push(token.clone());
                (200, format!("{{\"access_token\":\"{token}\",\"expires_in\":3600,\"token_type\":\"Bearer\"}}"))
            }
            "/token" => (400, "{\"error\":\"invalid_grant\",\"error_description\":\"Token has been expired or revoked.\"}".into()),
            "/introspect" => {
                let ok = seen.lock().unwrap().iter().any(|t| body.contains(&format!("token={t}")));
                if ok {
                    (200, format!("{{\"active\":true,\"username\":\"{}\"}}", dovecot::USER))
                } else {
                    (200, "{\"active\":false}".into())
                }
            }
            _ => (404, "{}".into()),
        }
    })));
    let dc = Dovecot::start(Options {
        oauth2_introspection: Some(format!("{url}/introspect")),
        ..Options::default()
    });
    let oauth = |refresh: &str| {
        format!(
            "port = {}\nca_file = \"{}\"\nauth = \"xoauth2\"\n[imap.oauth2]\ntoken_url = \"{url}/token\"\nclient_id = \"collabd-test\"\n",
            dc.imaps_port,
            dc.ca_file.display()
        ) + &format!("# refresh {refresh}\n")
    };
    let mut d = Daemon::new(&oauth("good"));
    // No password for XOAUTH2: drop the password_file line.
    let cfg = std::fs::read_to_string(&d.cfg).unwrap();
    std::fs::write(
        &d.cfg,
        cfg.replace(
            &format!(
                "password_file = \"{}\"\n",
                d.dir.path().join("imap-password").display()
            ),
            "",
        ),
    )
    .unwrap();
    d.start_with(&[("COLLABD_OAUTH_REFRESH_TOKEN", "good-refresh")])
        .wait_idle();
    dc.append("INBOX", &[grant("oauth-shop", "4242", 1)]);
    wait_for(Duration::from_secs(10), "the grant over XOAUTH2", || {
        d.requests() == 1
    });
    assert_eq!(issued.lock().unwrap().len(), 1);
    assert!(
        !d.log().contains("access-1"),
        "the access token reached the log"
    );

    // A revoked refresh token: reported plainly, retried, no crash.
    let mut revoked = Daemon::new(&oauth("revoked"));
    let cfg = std::fs::read_to_string(&revoked.cfg).unwrap();
    std::fs::write(
        &revoked.cfg,
        cfg.replace(
            &format!(
                "password_file = \"{}\"\n",
                revoked.dir.path().join("imap-password").display()
            ),
            "",
        ),
    )
    .unwrap();
    revoked.start_with(&[("COLLABD_OAUTH_REFRESH_TOKEN", "revoked-refresh")]);
    wait_for(Duration::from_secs(20), "the refused refresh", || {
        sql(&revoked.db, "select last_error from mailbox_state").contains("invalid_grant")
    });
    assert!(revoked.alive());
    assert!(
        !revoked.log().contains("revoked-refresh"),
        "the refresh token reached the log"
    );
}

/// systemd's notify protocol, with a datagram socket standing in for systemd:
/// READY=1 comes once the database is ready even with IMAP unreachable,
/// STATUS= follows the watcher, WATCHDOG=1 comes while it makes progress,
/// and STOPPING=1 on SIGTERM.
#[test]
fn systemd_hears_ready_status_watchdog_and_stopping_in_order() {
    use std::os::unix::net::UnixDatagram;
    let collect =
        |sock: &UnixDatagram, until: &dyn Fn(&[String]) -> bool, got: &mut Vec<String>| {
            sock.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let start = Instant::now();
            let mut buf = [0u8; 4096];
            while !until(got) {
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "notifications so far: {got:?}"
                );
                if let Ok(n) = sock.recv(&mut buf) {
                    for line in String::from_utf8_lossy(&buf[..n]).lines() {
                        got.push(line.to_owned());
                    }
                }
            }
        };
    // IMAP unreachable: READY=1 anyway, and STATUS says what is wrong.
    let mut down = Daemon::new(&format!(
        "port = {}\nsecurity = \"plain\"",
        dovecot::free_port()
    ));
    let sock_path = down.dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    down.start_with(&[("NOTIFY_SOCKET", sock_path.to_str().unwrap())]);
    let mut got = Vec::new();
    collect(
        &sock,
        &|g| {
            g.iter()
                .any(|l| l.starts_with("STATUS=") && l.contains("backoff"))
        },
        &mut got,
    );
    assert_eq!(got[0], "READY=1", "{got:?}");
    drop(down);

    let dc = Dovecot::start(Options::default());
    let mut d = Daemon::tls(&dc, "");
    let sock_path = d.dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    d.start_with(&[
        ("NOTIFY_SOCKET", sock_path.to_str().unwrap()),
        ("WATCHDOG_USEC", "1000000"),
    ]);
    let mut got = Vec::new();
    collect(
        &sock,
        &|g| {
            g.iter()
                .any(|l| l.starts_with("STATUS=") && l.contains("INBOX idle"))
                && g.iter().filter(|l| *l == "WATCHDOG=1").count() >= 2
        },
        &mut got,
    );
    let (took, code) = d.sigterm();
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(10));
    collect(&sock, &|g| g.iter().any(|l| l == "STOPPING=1"), &mut got);
    let pos = |want: &dyn Fn(&str) -> bool| got.iter().position(|l| want(l)).unwrap();
    let ready = pos(&|l| l == "READY=1");
    let idle = pos(&|l| l.starts_with("STATUS=") && l.contains("idle"));
    let watchdog = pos(&|l| l == "WATCHDOG=1");
    let stopping = pos(&|l| l == "STOPPING=1");
    assert!(
        ready < idle && ready < watchdog && watchdog < stopping && idle < stopping,
        "{got:?}"
    );
}

#[test]
fn every_listed_folder_is_watched_with_its_own_checkpoint() {
    let dc = Dovecot::start(Options::default());
    dc.create_folder("Leads");
    let mut d = Daemon::tls(&dc, "folders = [\"INBOX\", \"Leads\"]");
    d.start();
    wait_for(Duration::from_secs(20), "both folders in IDLE", || {
        sql(
            &d.db,
            "select group_concat(state || connected, ',') from mailbox_state",
        ) == "idle1,idle1"
    });
    dc.append("INBOX", &[grant("inbox-shop", "1212", 1)]);
    dc.append("Leads", &[grant("leads-shop", "3434", 2)]);
    wait_for(Duration::from_secs(10), "a grant from each folder", || {
        d.requests() == 2
    });
    assert_eq!(
        sql(
            &d.db,
            "select group_concat(mailbox || ':' || last_uid, ',') from (select * from mailbox_state order by mailbox)"
        ),
        format!("{u}/INBOX:1,{u}/Leads:1", u = dovecot::USER)
    );
}
