//! What a Debian admin does to a running collabd: `systemctl reload`
//! (SIGHUP) after editing the file, `collabd rejudge` after fixing a trust
//! setting, the daemon's own purge of old raw mail, and the default
//! configuration file. Real processes, a real Dovecot and SQLite files.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::daemon::{Daemon, collabd_cli, count, grant, sql, wait_for};
use support::dovecot::{Dovecot, Options};

/// A grant for `store` forwarded by a colleague at agency.example, typed
/// as Gmail types a forward.
fn forward(store: &str, code: &str, n: usize) -> Vec<u8> {
    format!(
        "From: Ann <ann@agency.example>\r\nTo: ops@agency.example\r\nSubject: Fwd: {store} has granted you access\r\n\
         Date: Mon, 02 Nov 2026 10:05:00 +0000\r\nMessage-ID: <fwd-{n}@agency.example>\r\n\r\n\
         ---------- Forwarded message ---------\r\nFrom: Leadsie <notifications@leadsie.com>\r\n\
         Date: Mon, 2 Nov 2026 at 10:00\r\nSubject: {store} has granted you access\r\nTo: <ann@agency.example>\r\n\r\n\
         Shopify\r\nStore URL: https://{store}.myshopify.com\r\nCollaborator code: {code}\r\n"
    )
    .into_bytes()
}

fn sighup(d: &Daemon) {
    let pid = d.pid().expect("running as a child") as i32;
    // SAFETY: a signal to the child this test started and still holds.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
}

fn set_forwarders(cfg: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(cfg).unwrap();
    assert!(text.contains(from), "{text}");
    std::fs::write(cfg, text.replace(from, to)).unwrap();
}

/// Appends `forward` and then a grant from Leadsie itself, and waits for
/// the grant's request: the watcher reads a folder in order, so by then it
/// has judged the forward.
fn deliver(dc: &Dovecot, d: &Daemon, forward: Vec<u8>, n: usize) {
    let marker = format!("marker-{n}");
    dc.append("INBOX", &[forward, grant(&marker, "0000", n)]);
    wait_for(Duration::from_secs(60), "the marker grant", || {
        count(
            &d.db,
            &format!(
                "select count(*) from access_requests where store_domain = '{marker}.myshopify.com'"
            ),
        ) == 1
    });
}

fn forwarded_requests(d: &Daemon) -> String {
    sql(
        &d.db,
        "select group_concat(store_domain, ' ') from (select store_domain from access_requests where store_domain not like 'marker-%' order by id)",
    )
}

#[test]
fn sighup_applies_a_new_forwarder_and_a_broken_file_keeps_the_old_settings() {
    let dc = Dovecot::start(Options::default());
    let mut d = Daemon::tls(&dc, "poll_seconds = 1800");
    let listed = "forwarders = [\"agency.example\"]";
    let unlisted = "forwarders = [\"elsewhere.example\"]";
    set_forwarders(&d.cfg, listed, unlisted);
    d.start().wait_idle();

    // Under the old settings a colleague's forward is not believed.
    deliver(&dc, &d, forward("before-shop", "1111", 1), 1);
    assert_eq!(forwarded_requests(&d), "", "{}", d.log());

    // The admin lists the colleague's domain and reloads.
    set_forwarders(&d.cfg, unlisted, listed);
    sighup(&d);
    wait_for(Duration::from_secs(30), "the reload", || {
        d.log().contains("reload: [trust]")
    });
    assert!(d.alive(), "SIGHUP ended the daemon:\n{}", d.log());
    deliver(&dc, &d, forward("after-shop", "2222", 2), 2);
    assert_eq!(forwarded_requests(&d), "after-shop.myshopify.com");

    // A broken file: the error is logged, the daemon and the settings in
    // force stay.
    let good = std::fs::read_to_string(&d.cfg).unwrap();
    std::fs::write(&d.cfg, format!("{good}\n[trust\nforwarders = 3\n")).unwrap();
    sighup(&d);
    wait_for(Duration::from_secs(30), "the failed reload", || {
        d.log().contains("the settings in force are kept")
    });
    assert!(d.alive(), "a broken file ended the daemon:\n{}", d.log());
    deliver(&dc, &d, forward("third-shop", "3333", 3), 3);
    assert_eq!(
        forwarded_requests(&d),
        "after-shop.myshopify.com third-shop.myshopify.com"
    );

    // A change that needs a restart is named, and changes nothing.
    std::fs::write(
        &d.cfg,
        good.replace("poll_seconds = 1800", "poll_seconds = 1700"),
    )
    .unwrap();
    sighup(&d);
    wait_for(Duration::from_secs(30), "the restart notice", || {
        d.log().contains("[imap] changed")
    });
    let (_, code) = d.sigterm();
    assert_eq!(code, Some(0), "{}", d.log());
    let log = d.log();
    for code in ["1111", "2222", "3333"] {
        assert!(
            !support::daemon::has_code(&log, code),
            "a code reached the log:\n{log}"
        );
    }
}

/// A scratch directory holding a database and a configuration file.
struct Scratch {
    dir: tempfile::TempDir,
    db: PathBuf,
    cfg: PathBuf,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let (db, cfg) = (
            dir.path().join("collabd.db"),
            dir.path().join("collabd.toml"),
        );
        Scratch { dir, db, cfg }
    }

    /// Writes the configuration: `[database] path` (and `database`, more
    /// of that table), then `rest`.
    fn config(&self, database: &str, rest: &str) {
        let path = self.db.display();
        std::fs::write(
            &self.cfg,
            format!("[database]\npath = \"{path}\"\n{database}{rest}"),
        )
        .unwrap();
    }

    /// Unsigned mail trusted by identity, forwards believed from
    /// `forwarders` (TOML strings, comma-separated), the log filer.
    fn forwarders(&self, forwarders: &str) {
        self.config(
            "",
            &format!("[trust]\nrequire = \"none\"\nforwarders = [{forwarders}]\n[worker]\nfiler = \"log\"\n"),
        );
    }

    /// A file in the scratch directory.
    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

#[test]
fn rejudge_turns_a_forward_rejected_under_old_settings_into_a_request_once() {
    let scratch = Scratch::new();
    let (db, cfg) = (&scratch.db, &scratch.cfg);
    let mail = scratch.file("fwd.eml", &forward("late-shop", "4444", 4));
    let write_cfg = |forwarders: &str| scratch.forwarders(forwarders);
    let cfg_s = cfg.to_str().unwrap();
    write_cfg("\"elsewhere.example\"");
    let (code, out, err) = collabd_cli(&["ingest", "--config", cfg_s, mail.to_str().unwrap()], &[]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(
        count(db, "select count(*) from access_requests"),
        0,
        "{out}"
    );
    let id = sql(db, "select id from messages");

    // Ingesting again changes nothing, and says what would.
    let (_, out, _) = collabd_cli(&["ingest", "--config", cfg_s, mail.to_str().unwrap()], &[]);
    assert!(out.contains(&format!("collabd rejudge {id}")), "{out}");

    write_cfg("\"agency.example\"");
    let (code, out, err) = collabd_cli(
        &[
            "rejudge",
            "--config",
            cfg_s,
            "--by",
            "alice",
            "--since",
            "2020-01-01",
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("leadsie_grant"), "{out}");
    assert!(out.contains("1 changed"), "{out}");
    assert_eq!(
        sql(
            db,
            "select store_domain || ' ' || state from access_requests"
        ),
        "late-shop.myshopify.com queued"
    );
    assert_eq!(
        sql(db, &format!("select kind from messages where id = {id}")),
        "leadsie_grant"
    );
    // On the request's timeline, by whom.
    assert_eq!(
        count(
            db,
            "select count(*) from request_events where event = 'rejudged' and actor = 'operator:alice' and request_id is not null"
        ),
        1
    );

    // A second run changes nothing.
    let (code, out, _) = collabd_cli(&["rejudge", "--config", cfg_s, &id], &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("still leadsie_grant") && out.contains("0 changed"),
        "{out}"
    );
    assert_eq!(count(db, "select count(*) from access_requests"), 1);
    assert_eq!(
        count(
            db,
            "select count(*) from request_events where event = 'rejudged'"
        ),
        2
    );

    // Nothing named: a usage error, not every message.
    let (code, _, err) = collabd_cli(&["rejudge", "--config", cfg_s], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--since"), "{err}");

    // Rejudge only adds belief: with the forwarder removed again, the grant
    // keeps its verdict and its request, and the operator is told.
    write_cfg("\"elsewhere.example\"");
    let (code, out, _) = collabd_cli(&["rejudge", "--config", cfg_s, &id], &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("stays leadsie_grant") && out.contains("collabd cancel"),
        "{out}"
    );
    assert_eq!(
        sql(db, "select state from access_requests"),
        "queued",
        "{out}"
    );
    assert_eq!(
        sql(db, &format!("select kind from messages where id = {id}")),
        "leadsie_grant"
    );

    // A Leadsie webhook delivery is not mail: --since passes it by, and
    // naming it changes nothing.
    let hook = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/13-leadsie-webhook.json");
    let (code, out, err) = collabd_cli(
        &[
            "ingest",
            "--webhook",
            "--config",
            cfg_s,
            hook.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let hook_id = sql(db, "select id from messages where source = 'webhook'");
    let before = sql(db, "select kind from messages where source = 'webhook'");
    let (code, out, _) = collabd_cli(&["rejudge", "--config", cfg_s, &hook_id], &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("webhook delivery"), "{out}");
    let (_, out, _) = collabd_cli(
        &["rejudge", "--config", cfg_s, "--since", "2020-01-01"],
        &[],
    );
    assert!(!out.contains(&format!("message #{hook_id}:")), "{out}");
    assert!(out.contains("1 other message(s)"), "{out}");
    assert_eq!(
        sql(db, "select kind from messages where source = 'webhook'"),
        before
    );
}

#[test]
fn mail_left_in_the_mailbox_is_judged_again_once_ingested_from_a_file() {
    let scratch = Scratch::new();
    let (db, cfg) = (&scratch.db, &scratch.cfg);
    let mail = scratch.file("fwd.eml", &forward("kept-shop", "5555", 5));
    let write_cfg = |forwarders: &str| scratch.forwarders(forwarders);
    let (cfg_s, mail_s) = (cfg.to_str().unwrap(), mail.to_str().unwrap());
    write_cfg("\"elsewhere.example\"");
    let (code, out, err) = collabd_cli(&["ingest", "--config", cfg_s, mail_s], &[]);
    assert_eq!(code, Some(0), "{out}{err}");
    let id = sql(db, "select id from messages");
    // As the watcher stores ordinary mail: its bytes stay in the mailbox.
    sql(db, "update messages set raw = null");

    write_cfg("\"agency.example\"");
    let (code, out, _) = collabd_cli(&["rejudge", "--config", cfg_s, &id], &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("collabd ingest"), "{out}");
    assert_eq!(count(db, "select count(*) from access_requests"), 0);

    // Saved from the mail client and handed over: the same message, whose
    // bytes are now kept, and judged again.
    let (code, out, _) = collabd_cli(&["ingest", "--config", cfg_s, mail_s], &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("already ingested"), "{out}");
    let (code, out, _) = collabd_cli(&["rejudge", "--config", cfg_s, &id], &[]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        sql(
            db,
            "select store_domain || ' ' || state from access_requests"
        ),
        "kept-shop.myshopify.com queued"
    );
}

#[test]
fn the_daemon_purges_raw_mail_past_its_retention() {
    let scratch = Scratch::new();
    let (db, cfg) = (&scratch.db, &scratch.cfg);
    scratch.config(
        "raw_retention_days = 30\n",
        "[trust]\nrequire = \"none\"\n[worker]\nfiler = \"log\"\n",
    );
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let old = fixtures.join("01-leadsie-acme.eml");
    let (code, out, err) = collabd_cli(
        &[
            "ingest",
            "--config",
            cfg.to_str().unwrap(),
            "--received",
            "2020-01-01T00:00:00Z",
            old.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(
        count(db, "select count(*) from messages where raw is not null"),
        1
    );

    let daemon = std::process::Command::new(env!("CARGO_BIN_EXE_collabd"))
        .args(["run", "--config", cfg.to_str().unwrap()])
        .env("RUST_LOG", "info")
        .env_remove("COLLABD_DB")
        .env_remove("NOTIFY_SOCKET")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(Duration::from_secs(30), "the purge", || {
        count(db, "select count(*) from messages where raw is null") == 1
    });
    // SAFETY: the child this test started.
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    let out = daemon.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("raw_retention_days"), "{log}");
    // The message itself stays, with its verdict and its request.
    assert_eq!(
        count(
            db,
            "select count(*) from messages where kind = 'leadsie_grant'"
        ),
        1
    );
    assert_eq!(count(db, "select count(*) from access_requests"), 1);
}

#[test]
fn commands_that_connect_nowhere_need_no_secret() {
    // The packaged host's situation: the file names an IMAP login whose
    // password only the service's credentials hold.
    let scratch = Scratch::new();
    let cfg = &scratch.cfg;
    scratch.config(
        "",
        "[imap]\nhost = \"imap.agency.com\"\nuser = \"ops@agency.com\"\n\
         [http]\nlisten = \"127.0.0.1:9464\"\n[leadsie]\nwebhook = true\n",
    );
    let cfg_s = cfg.to_str().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/01-leadsie-acme.eml");
    let (code, out, err) = collabd_cli(
        &["ingest", "--config", cfg_s, fixture.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = collabd_cli(&["status", "--config", cfg_s], &[]);
    assert_eq!(code, Some(0), "{out}{err}");
    // The daemon and check-config use it, and say it is missing.
    let (code, _, err) = collabd_cli(&["run", "--config", cfg_s], &[]);
    assert_eq!(code, Some(78), "{err}");
    assert!(err.contains("imap.password_file"), "{err}");
}
