//! The `collabd` binary as operators run it: output, exit codes (0 ok, 1
//! runtime error naming the file or setting, 2 usage, 78 configuration),
//! errors said once on one line, and secrets masked.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn collabd(args: &[&str]) -> Output {
    collabd_stdin(args, None)
}

fn collabd_stdin(args: &[&str], stdin: Option<&[u8]>) -> Output {
    collabd_env(args, stdin, &[])
}

/// `collabd args`, with `env` laid over the tests' own settings.
fn collabd_env(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, String)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_collabd"))
        .env("COLLABD__TRUST__REQUIRE", "none")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args(args)
        .env_remove("COLLABD_CONFIG")
        .env_remove("COLLABD_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[path = "support/dkim.rs"]
mod dkim;

/// A Leadsie grant for `store` signed by leadsie.com: checking it needs
/// leadsie.com's key from DNS.
fn signed_grant(store: &str, code: &str) -> String {
    let grant = format!(
        "From: Leadsie <notifications@leadsie.com>\nTo: ops@agency.com\nSubject: {store} has granted you access\nDate: Mon, 02 Nov 2026 10:00:00 +0000\nMessage-ID: <{store}@leadsie.com>\n\nShopify\nStore URL: {store}.myshopify.com\nCollaborator code: {code}\n"
    );
    dkim::sign(dkim::key(), "s1", "leadsie.com", &grant)
}

/// `[trust] require = "dkim"`, its keys looked up at `dns`.
fn dkim_via(dns: std::net::SocketAddr) -> [(&'static str, String); 2] {
    [
        ("COLLABD__TRUST__REQUIRE", "\"dkim\"".to_owned()),
        ("COLLABD__TRUST__NAMESERVERS", format!("[\"{dns}\"]")),
    ]
}

/// A DNS server that does not answer: a UDP socket nobody reads.
fn silent_dns() -> std::net::UdpSocket {
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap()
}

#[test]
fn parse_prints_one_json_object_per_file_and_reports_missing_ones() {
    let good = fixture("leadsie/two-stores.eml");
    let out = collabd(&[
        "parse",
        good.to_str().unwrap(),
        "/nonexistent/mail.eml",
        fixture("shopify/access-removed.eml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("/nonexistent/mail.eml"),
        "{}",
        text(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "the other files are still processed");
    assert_eq!(lines[0]["kind"], "leadsie_grant");
    assert_eq!(lines[0]["grants"][1]["store"], "orchard-eu.myshopify.com");
    assert_eq!(lines[0]["grants"][1]["code"], "2222");
    assert_eq!(lines[0]["grants"][1]["client"], "Orchard Group");
    assert!(lines[0]["outcome"].is_null());
    assert_eq!(lines[1]["kind"], "shopify_revoked");
    assert_eq!(lines[1]["outcome"]["result"], "revoked");
    assert_eq!(lines[1]["grants"], serde_json::json!([]));
    for l in &lines {
        for key in ["file", "kind", "grants", "outcome", "reason"] {
            assert!(l.get(key).is_some(), "missing {key} in {l}");
        }
    }
}

#[test]
fn ingest_status_and_show_work_together() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let db = db.to_str().unwrap();
    let out = collabd(&[
        "ingest",
        "--db",
        db,
        fixture("demo/01-leadsie-acme.eml").to_str().unwrap(),
        "/nonexistent/x.eml",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a missing file makes the run fail"
    );
    assert!(text(&out.stderr).contains("/nonexistent/x.eml"));
    assert!(
        text(&out.stdout).contains("created request #1"),
        "{}",
        text(&out.stdout)
    );
    // Mail answers only a request that was filed: an operator filed it.
    let out = collabd(&["mark", "--db", db, "1", "requested", "--by", "ann"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = collabd(&[
        "ingest",
        "--db",
        db,
        fixture("demo/04-shopify-acme-granted.eml")
            .to_str()
            .unwrap(),
    ]);
    assert!(
        text(&out.stdout).contains("moved request #1"),
        "{}",
        text(&out.stdout)
    );

    // stdin, as a mail server's pipe delivers it
    let raw = std::fs::read(fixture("demo/02-leadsie-two-stores.eml")).unwrap();
    let out = collabd_stdin(&["ingest", "--db", db, "-"], Some(&raw));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("created request #2, #3"),
        "{}",
        text(&out.stdout)
    );

    let out = collabd(&["status", "--db", db]);
    assert_eq!(out.status.code(), Some(0));
    let table = text(&out.stdout);
    // The acme row's STATE column, not the word anywhere (its last event
    // says "Shopify: granted" whatever its state).
    let column = table.lines().next().unwrap().find("STATE").unwrap();
    let acme = table
        .lines()
        .find(|l| l.contains("acme-co.myshopify.com"))
        .unwrap_or_else(|| panic!("no acme row: {table}"));
    assert_eq!(
        acme[column..].split_whitespace().next(),
        Some("granted"),
        "{table}"
    );
    assert!(
        table.contains("**05") && !table.contains("0105"),
        "codes are masked in status: {table}"
    );

    let out = collabd(&["status", "--db", db, "--state", "queued", "--json"]);
    let rows: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["state"] == "queued"));

    let out = collabd(&["show", "--db", db, "1"]);
    assert_eq!(out.status.code(), Some(0));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("0105"),
        "show gives the operator the full code: {shown}"
    );
    assert!(shown.contains("requested → granted"), "{shown}");

    let out = collabd(&["show", "--db", db, "99"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no request with id 99"));
}

/// Issue 24: `--version` tells two builds apart by their commit.
#[test]
fn version_names_the_commit() {
    let out = collabd(&["--version"]);
    let said = text(&out.stdout);
    let commit = said
        .strip_prefix(concat!("collabd ", env!("CARGO_PKG_VERSION"), " (commit "))
        .and_then(|rest| rest.strip_suffix(")\n"))
        .unwrap_or_else(|| panic!("{said}"));
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    match head {
        Ok(head) if head.status.success() => assert_eq!(commit, text(&head.stdout).trim()),
        // Built outside a checkout: whatever $COLLABD_COMMIT said, or unknown.
        _ => assert!(!commit.is_empty(), "{said}"),
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(
        collabd(&["status", "--state", "finished"]).status.code(),
        Some(2)
    );
    assert_eq!(collabd(&["show", "abc"]).status.code(), Some(2));
    assert_eq!(collabd(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(collabd(&["parse"]).status.code(), Some(2));
}

#[test]
fn a_bad_config_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("collabd.toml");
    std::fs::write(
        &cfg,
        "[trust]\nleadsie_domains = [\"leadsie.com\"]\nforwarderz = [\"agency.example\"]\n",
    )
    .unwrap();
    // No environment override here: the error names the file's own line.
    let out = Command::new(env!("CARGO_BIN_EXE_collabd"))
        .args([
            "parse",
            "--config",
            cfg.to_str().unwrap(),
            fixture("leadsie/plain-text.eml").to_str().unwrap(),
        ])
        .env_remove("COLLABD_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "EX_CONFIG");
    let err = text(&out.stderr);
    assert!(
        err.contains("collabd.toml") && err.contains("line 3") && err.contains("forwarderz"),
        "{err}"
    );
}

/// Issue 24: a config error made systemd restart collabd forever, and
/// the error said its cause twice (`No such file or directory (os error
/// 2): No such file or directory (os error 2)`). It exits 78 (EX_CONFIG,
/// which the unit's RestartPreventExitStatus= names) with one line: the
/// file and the reason in words.
#[test]
fn a_config_error_exits_78_with_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[imap]\nhost = \"imap.example.com\"\nuser = \"u\"\n").unwrap();
    let cases = [
        (missing.clone(), "cannot read config file", "no such file"),
        (
            dir.path().to_owned(),
            "cannot read config file",
            "is a directory",
        ),
        (bad.clone(), "imap.password_file", "set password_file"),
    ];
    for (cfg, what, why) in &cases {
        // `status` uses no secret, so a missing password is not its error.
        let commands: &[&str] = if *cfg == bad {
            &["run", "check-config"]
        } else {
            &["run", "status", "check-config"]
        };
        for command in commands {
            let out = collabd(&[command, "--config", cfg.to_str().unwrap()]);
            let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
            assert_eq!(out.status.code(), Some(78), "{command} {cfg:?}: {said}");
            let line = said
                .lines()
                .find(|l| l.contains(what))
                .unwrap_or_else(|| panic!("{command}: no `{what}` in {said}"));
            assert!(
                line.contains(cfg.to_str().unwrap()) || line.contains("imap."),
                "{line}"
            );
            assert!(line.contains(why), "{line}");
            assert_eq!(said.matches(why).count(), 1, "said twice: {said}");
            assert!(
                !said.contains("os error") && !said.contains("secret_file"),
                "{said}"
            );
        }
    }
    // `run` prints nothing else: the one line.
    let out = collabd(&["run", "--config", missing.to_str().unwrap()]);
    assert_eq!(
        text(&out.stderr),
        format!(
            "collabd: cannot read config file {}: no such file\n",
            missing.display()
        )
    );
}

/// Issue 24: a database path that is a directory, or a file collabd may
/// not read, printed sqlx's `code: 14 unable to open database file` three
/// times. Now: the path and why, once.
#[test]
fn a_database_that_cannot_be_opened_says_why_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().to_str().unwrap();
    for args in [vec!["status", "--db", db], vec!["ingest", "--db", db, "-"]] {
        let out = collabd(&args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("collabd: database {db}: is a directory;")),
            "{err}"
        );
        assert!(
            !err.contains("code: 14") && !err.contains("unable to open"),
            "{err}"
        );
    }
}

/// As another user (root reads any file, so the test runs the binary as
/// `nobody`): the database it may not read names the user, the owner and
/// the mode; one it may not create names the directory.
#[test]
fn a_database_another_user_owns_names_who_may_not_read_it() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "skipped: trying the database as another local user needs root (runuser -u nobody)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let db = dir.path().join("c.db");
    let db = db.to_str().unwrap();
    let out = collabd(&[
        "ingest",
        "--db",
        db,
        fixture("demo/01-leadsie-acme.eml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    std::fs::set_permissions(db, std::fs::Permissions::from_mode(0o600)).unwrap();
    let as_nobody = |args: &[&str]| {
        Command::new("runuser")
            .args(["-u", "nobody", "--", env!("CARGO_BIN_EXE_collabd")])
            .args(args)
            .env_remove("COLLABD_CONFIG")
            .env_remove("COLLABD_DB")
            .current_dir("/")
            .stdin(Stdio::null())
            .output()
            .expect("runuser is installed")
    };
    let out = as_nobody(&["status", "--db", db]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "collabd: database {db}: permission denied: user nobody cannot read and write it (owned by root, mode 0600)\n"
        )
    );
    let new = dir.path().join("new.db");
    let out = as_nobody(&["ingest", "--db", new.to_str().unwrap(), "-"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "collabd: database {}: cannot create it: permission denied (the directory {} is not writable by user nobody)\n",
            new.display(),
            dir.path().display()
        )
    );
}

/// A secret file every user can read is named, with its mode, by
/// `check-config`, as OpenSSH names an unprotected key; once it is
/// private, the warning goes.
#[test]
fn check_config_names_a_secret_file_others_can_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("http-users");
    let line = collabd::users::users_file_line("alice", "pw").unwrap();
    std::fs::write(&users, format!("{line}\n")).unwrap();
    std::fs::set_permissions(&users, std::fs::Permissions::from_mode(0o644)).unwrap();
    let cfg = dir.path().join("collabd.toml");
    std::fs::write(
        &cfg,
        format!(
            "[database]\npath = \"{}\"\n[http]\nlisten = \"127.0.0.1:1\"\nusers_file = \"{}\"\n",
            dir.path().join("c.db").display(),
            users.display()
        ),
    )
    .unwrap();
    let check = || {
        let out = collabd(&["check-config", "--config", cfg.to_str().unwrap()]);
        text(&out.stdout)
    };
    let said = check();
    let warning = said
        .lines()
        .find(|l| l.starts_with("WARN secrets:"))
        .unwrap_or_else(|| panic!("no warning: {said}"));
    assert!(
        warning.contains("http.users_file")
            && warning.contains(users.to_str().unwrap())
            && warning.contains("0644"),
        "{warning}"
    );
    assert!(!warning.contains("argon2"), "{warning}");
    std::fs::set_permissions(&users, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(!check().contains("WARN secrets"), "{}", check());
}

#[test]
fn trust_settings_change_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("collabd.toml");
    std::fs::write(&cfg, "[trust]\nforwarders = [\"boss@agency.example\"]\n").unwrap();
    let f = fixture("forwards/gmail-inline.eml");
    let out = collabd(&[
        "parse",
        "--config",
        cfg.to_str().unwrap(),
        f.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "rejected");
    assert!(v["reason"].as_str().unwrap().contains("ops@agency.example"));
    std::fs::write(&cfg, "[trust]\nforwarders = [\"agency.example\"]\n").unwrap();
    let listed = collabd(&[
        "parse",
        "--config",
        cfg.to_str().unwrap(),
        f.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(
        v["kind"], "leadsie_grant",
        "the forwarder's domain is listed"
    );
    // With no forwarder listed, no typed forward is believed.
    let out = collabd(&["parse", f.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "rejected");
    assert!(
        v["reason"].as_str().unwrap().contains("[trust] forwarders"),
        "{v}"
    );
}

#[test]
fn status_on_a_missing_database_says_so_instead_of_creating_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("typo.db");
    let out = collabd(&["status", "--db", db.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("typo.db"));
    assert!(!db.exists());
}

/// The demo's states are read from the database it leaves (`status
/// --json`), not from its output, whose file names and event words would
/// contain "granted" or "revoked" whatever happened.
#[test]
fn demo_shows_requests_in_several_states() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let db = db.to_str().unwrap();
    let out = collabd(&["demo", "--db", db]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    for code in ["0105", "2201", "3302", "1111", "2222", "6666", "5150"] {
        assert!(
            !s.contains(code),
            "demo output shows a full code {code}:\n{s}"
        );
    }
    // The worker's line is what the database says it did: the log filer
    // logs, it does not notify.
    assert!(
        s.contains("worker: request #1 (acme-co.myshopify.com) queued → logged"),
        "{s}"
    );

    let out = collabd(&["status", "--db", db, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let states: Vec<(String, String, String)> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|r| {
            let field = |k: &str| r[k].as_str().unwrap().to_owned();
            (field("store_domain"), field("code_hint"), field("state"))
        })
        .collect();
    let want = [
        ("acme-co.myshopify.com", "**05", "granted"),
        ("beta-store.myshopify.com", "**01", "revoked"),
        ("gamma-store.myshopify.com", "**02", "declined"),
        ("delta-dry-goods.myshopify.com", "**11", "superseded"),
        ("delta-dry-goods.myshopify.com", "**22", "logged"),
        ("epsilon-goods.myshopify.com", "**50", "logged"),
    ]
    .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()));
    assert_eq!(states, want);
    // The webhook's Acme store is the email's request, with both on its
    // timeline; its Epsilon store is a request of its own.
    assert_eq!(
        sql(
            Path::new(db),
            "select group_concat(source, ' ') from (select distinct m.source from request_events e join messages m on m.id = e.message_id join access_requests r on r.id = e.request_id where r.store_domain = 'acme-co.myshopify.com' order by m.source)"
        ),
        "file webhook"
    );
    assert_eq!(
        sql(
            Path::new(db),
            "select count(*) from messages where kind = 'rejected'"
        ),
        "1",
        "the spoofed grant"
    );
}

/// An operator who files by hand marks the request; Shopify's reply then
/// closes it. Every action lands on the timeline with who did it.
#[test]
fn operators_mark_cancel_and_retry_with_who_and_when() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let db = db.to_str().unwrap();
    let two = fixture("leadsie/two-stores.eml");
    assert_eq!(
        collabd(&["ingest", "--db", db, two.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );

    let out = collabd(&[
        "mark",
        "--db",
        db,
        "1",
        "requested",
        "--by",
        "dana",
        "--note",
        "filed in the Partner Dashboard",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("request #1 is now requested (by operator:dana)"));

    let out = collabd(&["cancel", "--db", db, "2", "--by", "dana"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // A cancelled request cannot be marked; the refusal names the state.
    let out = collabd(&["mark", "--db", db, "2", "granted"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("request #2 is cancelled"),
        "{}",
        text(&out.stderr)
    );

    // Only failed or waiting requests can be retried.
    let out = collabd(&["retry", "--db", db, "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("retry applies only to failed, logged, queued"),
        "{}",
        text(&out.stderr)
    );

    assert_eq!(
        collabd(&["mark", "--db", db, "1", "done"]).status.code(),
        Some(2)
    );
    assert_eq!(
        collabd(&["mark", "--db", db, "9", "granted"]).status.code(),
        Some(1)
    );

    let out = collabd(&["show", "--db", db, "1"]);
    let shown = text(&out.stdout);
    assert!(
        shown.contains("operator:dana") && shown.contains("queued → requested"),
        "{shown}"
    );
    assert!(shown.contains("filed in the Partner Dashboard"), "{shown}");
    assert!(
        !shown.contains("filed              -"),
        "marking requested records filed_at: {shown}"
    );

    let out = collabd(&["status", "--db", db, "--json"]);
    let states: Vec<String> = text(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["state"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(states, vec!["requested", "cancelled"]);
}

/// Waits for `cond`, polling; fails after `limit`. (A process-level test:
/// it waits for an outcome, it never asserts on how long that took.)
fn wait_for(limit: std::time::Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "gave up waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn sql(db: &Path, q: &str) -> String {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(q)
        .output()
        .expect("sqlite3 is installed");
    text(&out.stdout).trim().to_owned()
}

/// A database in `dir` holding one ingested grant, and `dir/collabd.toml`
/// filing it through the shell script `body` (`dir/file-request.sh`), with
/// `worker` added to `[worker]` and `command` to `[worker.command]`.
/// Returns (database, config).
fn command_filer_setup(dir: &Path, body: &str, worker: &str, command: &str) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let db = dir.join("c.db");
    let script = dir.join("file-request.sh");
    std::fs::write(&script, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = dir.join("collabd.toml");
    std::fs::write(
        &cfg,
        format!(
            "[database]\npath = \"{}\"\n[worker]\nfiler = \"command\"\npoll_seconds = 1\n{worker}\
             [worker.command]\nprogram = \"{}\"\n{command}",
            db.display(),
            script.display()
        ),
    )
    .unwrap();
    let out = collabd(&[
        "ingest",
        "--db",
        db.to_str().unwrap(),
        fixture("leadsie/plain-text.eml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    (db, cfg)
}

/// The worker is killed with SIGKILL while the command filer runs; after a
/// restart the claim expires and the request is filed again with the same
/// idempotency key: nothing lost, nothing stuck. SIGTERM then stops it cleanly.
#[test]
fn a_killed_worker_loses_nothing_and_refiles_with_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("calls");
    let (db, cfg) = command_filer_setup(
        dir.path(),
        &format!(
            "echo \"$COLLABD_IDEMPOTENCY_KEY $COLLABD_ATTEMPT\" >> {calls}\n\
             if [ \"$COLLABD_ATTEMPT\" = 1 ]; then echo $$ > {calls}.pid; exec sleep 60; fi\nexit 0\n",
            calls = calls.display()
        ),
        "lease_seconds = 2\n",
        "timeout_seconds = 120\n",
    );

    let start = || {
        Command::new(env!("CARGO_BIN_EXE_collabd"))
            .env("COLLABD__TRUST__REQUIRE", "none")
            .args(["run", "--config", cfg.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut first = start();
    wait_for(
        std::time::Duration::from_secs(20),
        "the first filing attempt",
        || std::fs::read_to_string(&calls).is_ok_and(|c| c.lines().count() == 1),
    );
    first.kill().unwrap(); // SIGKILL, mid-filing
    first.wait().unwrap();
    assert_eq!(sql(&db, "select state from access_requests"), "filing");

    let mut second = start();
    wait_for(
        std::time::Duration::from_secs(30),
        "the request to be filed again",
        || sql(&db, "select state from access_requests") == "requested",
    );
    let calls_made = std::fs::read_to_string(&calls).unwrap();
    assert_eq!(
        calls_made.lines().collect::<Vec<_>>(),
        vec!["collabd-request-1 1", "collabd-request-1 2"]
    );
    assert_eq!(sql(&db, "select attempts from access_requests"), "2");

    // SIGTERM: a clean stop, exit 0.
    Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status()
        .unwrap();
    let mut status = None;
    wait_for(
        std::time::Duration::from_secs(10),
        "collabd to stop on SIGTERM",
        || {
            status = second.try_wait().unwrap();
            status.is_some()
        },
    );
    assert!(status.unwrap().success());
    let mut log = String::new();
    std::io::Read::read_to_string(&mut second.stderr.take().unwrap(), &mut log).unwrap();
    assert!(
        log.contains("SIGTERM") && log.contains("collabd stopped"),
        "{log}"
    );
    // Past each line's timestamp, whose microseconds may read 0105.
    let said: Vec<&str> = log
        .lines()
        .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest))
        .collect();
    assert!(
        !said.iter().any(|l| l.contains("0105")),
        "the log never shows the code: {log}"
    );

    // The first attempt's command, orphaned by SIGKILL, is ours to clean up.
    if let Ok(pid) = std::fs::read_to_string(format!("{}.pid", calls.display())) {
        let _ = Command::new("kill").args(["-KILL", pid.trim()]).status();
    }
}

/// The command filer's program starts with a clean environment: collabd's
/// secrets (the IMAP password, the webhook secret, the OAuth2 refresh
/// token, the credentials directory) never reach it; PATH, LANG, the
/// request variables and what `[worker.command] env` names do.
#[test]
fn the_command_filer_gets_a_clean_environment() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("env.txt");
    let (_db, cfg) = command_filer_setup(
        dir.path(),
        &format!(
            "env > {dump}.tmp && mv {dump}.tmp {dump}\nexit 0\n",
            dump = dump.display()
        ),
        "",
        "env = [\"FILER_TOKEN\", \"NOT_SET_ANYWHERE\"]\n",
    );
    let secrets = [
        ("COLLABD_IMAP_PASSWORD", "imap-pass-value"),
        ("COLLABD_WEBHOOK_SECRET", "webhook-secret-value"),
        ("COLLABD_OAUTH_REFRESH_TOKEN", "refresh-token-value"),
        ("COLLABD_SMTP_PASSWORD", "smtp-pass-value"),
        ("CREDENTIALS_DIRECTORY", "/run/credentials/collabd.service"),
    ];
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_collabd"))
        .args(["run", "--config", cfg.to_str().unwrap()])
        .env_remove("COLLABD_DB")
        .envs(secrets)
        .env("FILER_TOKEN", "passed-through")
        .env("LANG", "C.UTF-8")
        .env_remove("NOT_SET_ANYWHERE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(
        std::time::Duration::from_secs(20),
        "the command filer to run",
        || dump.exists(),
    );
    let _ = daemon.kill();
    let _ = daemon.wait();
    let env = std::fs::read_to_string(&dump).unwrap();
    for (name, value) in secrets {
        assert!(
            !env.contains(name) && !env.contains(value),
            "{name} reached the command filer:\n{env}"
        );
    }
    for want in [
        "FILER_TOKEN=passed-through",
        "LANG=C.UTF-8",
        "COLLABD_REQUEST_ID=1",
        "COLLABD_IDEMPOTENCY_KEY=collabd-request-1",
        "COLLABD_ATTEMPT=1",
        "PATH=",
    ] {
        assert!(
            env.lines().any(|l| l.starts_with(want)),
            "no {want} in:\n{env}"
        );
    }
    assert!(!env.contains("NOT_SET_ANYWHERE"), "{env}");
    // Nothing else of the test's own environment came along.
    assert!(!env.contains("CARGO_"), "{env}");
}

/// A database collabd creates holds every code and raw message: it is
/// readable by its owner only, or by its group too under systemd; an
/// existing database keeps the mode the operator gave it.
#[test]
fn ingest_creates_a_new_database_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let email = fixture("leadsie/plain-text.eml");
    let ingest = |db: &Path, systemd: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_collabd"));
        cmd.args([
            "ingest",
            "--db",
            db.to_str().unwrap(),
            email.to_str().unwrap(),
        ])
        .env_remove("COLLABD_CONFIG")
        .env_remove("COLLABD_DB")
        .env_remove("INVOCATION_ID");
        if systemd {
            cmd.env("INVOCATION_ID", "0123456789abcdef0123456789abcdef");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    };

    let db = dir.path().join("new.db");
    ingest(&db, false);
    assert_eq!(mode(&db), 0o600);
    for side in ["new.db-wal", "new.db-shm"] {
        let p = dir.path().join(side);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{side}");
        }
    }

    let db = dir.path().join("service.db");
    ingest(&db, true);
    assert_eq!(mode(&db), 0o640, "under systemd the group may read");

    let db = dir.path().join("existing.db");
    ingest(&db, false);
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    ingest(&db, false);
    assert_eq!(
        mode(&db),
        0o644,
        "an existing database's mode is left alone"
    );
}

/// Anyone who can mail the watched mailbox chooses subjects and client
/// names: what `status`, `show` and `ingest` print of them carries no
/// control characters or terminal escape sequences, as text or JSON.
#[test]
fn mail_text_cannot_steer_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let db = db.to_str().unwrap();
    let attack = "\x1b[2J\x1b]0;pwned\x07\u{9b}31m\u{202e}";
    let grant = std::fs::read_to_string(fixture("leadsie/plain-text.eml"))
        .unwrap()
        .replace("Client: Acme Co", &format!("Client: Acme{attack} Co"));
    let spoof = format!(
        "From: Leadsie <notifications@leadsie-support.example>\r\nTo: ops@agency.example\r\n\
         Subject: Evil{attack} has granted you access\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <spoof-1@leadsie-support.example>\r\n\r\nClient: Evil\r\n\r\nShopify\r\n\
         Store URL: https://evil-co.myshopify.com\r\nCollaborator code: 4444\r\n"
    );
    let clean = |what: &str, out: &[u8]| {
        let s = text(out);
        assert!(
            !s.chars()
                .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c)),
            "{what} printed a control character: {s:?}"
        );
        s
    };
    for email in [grant.as_bytes(), spoof.as_bytes()] {
        let out = collabd_stdin(&["ingest", "--db", db, "-"], Some(email));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        clean("ingest", &out.stdout);
    }
    let status = clean("status", &collabd(&["status", "--db", db]).stdout);
    assert!(
        status.contains("Acme") && status.contains("needs a look") && status.contains("Evil"),
        "{status}"
    );
    let show = clean("show", &collabd(&["show", "--db", db, "1"]).stdout);
    assert!(show.contains("Acme"), "{show}");
    let json = clean(
        "status --json",
        &collabd(&["status", "--db", db, "--json"]).stdout,
    );
    let row: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert!(
        row["client_name"].as_str().unwrap().contains('\u{1b}'),
        "JSON keeps the value, escaped: {json}"
    );
    clean(
        "show --json",
        &collabd(&["show", "--db", db, "1", "--json"]).stdout,
    );
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("collabd.db");
    let ingest = collabd(&[
        "ingest",
        "--db",
        db.to_str().unwrap(),
        fixture("leadsie/two-stores.eml").to_str().unwrap(),
    ]);
    assert!(ingest.status.success(), "{}", text(&ingest.stderr));
    // `collabd status | head -0`, and a command that prints with println!,
    // file by file: each ends as SIGPIPE ends a Unix tool, saying nothing.
    let parse = fixture("leadsie/two-stores.eml");
    for args in [
        vec!["status", "--db", db.to_str().unwrap()],
        vec!["parse", parse.to_str().unwrap()],
    ] {
        let out = into_closed_pipe(&args);
        assert_eq!(
            text(&out.stderr),
            "",
            "{args:?} said something about the pipe"
        );
        use std::os::unix::process::ExitStatusExt;
        assert!(
            out.status.signal() == Some(13) || out.status.code() == Some(141),
            "{args:?}: {:?}",
            out.status
        );
    }
}

/// Runs collabd with stdout a pipe whose reading end is closed before a
/// byte is written.
fn into_closed_pipe(args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Command::new(env!("CARGO_BIN_EXE_collabd"))
        .env("COLLABD__TRUST__REQUIRE", "none")
        .args(args)
        .env_remove("COLLABD_CONFIG")
        .env_remove("COLLABD_DB")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

/// The finding: with DNS down, `parse` waited about 12 s per message and
/// said so in every message's reason only. A batch's look-ups wait side by
/// side, every message is still reported, and standard error says once
/// that DNS failed and how many messages it left unchecked.
#[test]
fn parse_says_once_that_dns_failed_and_reports_every_message() {
    let dns = silent_dns();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (store, code) in [("acme-co", "0105"), ("birch", "0206"), ("cedar", "0307")] {
        let f = dir.path().join(format!("{store}.eml"));
        std::fs::write(&f, signed_grant(store, code)).unwrap();
        files.push(f.to_str().unwrap().to_owned());
    }
    // Unsigned: rejected without asking DNS.
    files.push(
        fixture("leadsie/two-stores.eml")
            .to_str()
            .unwrap()
            .to_owned(),
    );
    let mut args = vec!["parse"];
    args.extend(files.iter().map(String::as_str));
    let started = std::time::Instant::now();
    let out = collabd_env(&args, None, &dkim_via(dns.local_addr().unwrap()));
    eprintln!("parse with DNS down took {:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l["file"].as_str().unwrap(), l["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            (files[0].as_str(), "deferred"),
            (files[1].as_str(), "deferred"),
            (files[2].as_str(), "deferred"),
            (files[3].as_str(), "rejected"),
        ],
        "every message, in order"
    );
    let stderr = text(&out.stderr);
    let said: Vec<&str> = stderr.lines().filter(|l| l.contains("DNS")).collect();
    assert_eq!(said.len(), 1, "said once: {stderr}");
    assert!(
        said[0].starts_with("collabd: DNS failed: leadsie.com's key could not be looked up ("),
        "{stderr}"
    );
    assert!(
        said[0].contains("; 3 messages could not have their DKIM signatures checked"),
        "{stderr}"
    );
    assert!(said[0].contains("[trust] nameservers"), "{stderr}");
}

/// The finding: a message deferred because DNS failed was "message #0" to
/// `ingest` and left `status` saying "messages: 0 ()". It has the id of the
/// row it waits in, is counted, and is listed with its sender and subject.
#[test]
fn a_deferred_message_has_its_own_id_in_ingest_and_status() {
    let dns = silent_dns();
    let dkim = dkim_via(dns.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let db = db.to_str().unwrap();
    let grant = dir.path().join("grant.eml");
    std::fs::write(&grant, signed_grant("acme-co", "0105")).unwrap();
    let grant = grant.to_str().unwrap();

    let out = collabd_env(&["ingest", "--db", db, grant], None, &dkim);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.starts_with(&format!("{grant}: deferred #1; (leadsie_grant; ")),
        "{said}"
    );
    assert!(!said.contains("message #0"), "{said}");

    let out = collabd(&["status", "--db", db]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let status = text(&out.stdout);
    assert!(status.contains("\nmessages: 1 (deferred 1)\n"), "{status}");
    assert!(!status.contains("messages: 0"), "{status}");
    assert!(
        status
            .contains("waiting to be judged: 1 message whose DKIM signature could not be checked"),
        "{status}"
    );
    assert!(
        status.contains(&format!(
            "  deferred #1 from notifications@leadsie.com: \"acme-co has granted you access\" — file {grant}, received "
        )),
        "{status}"
    );
    assert!(status.contains(", 1 attempt so far, next try "), "{status}");
}
