//! The `collabd` binary as operators run it: output, exit codes (0 ok, 1
//! runtime error naming the file or setting, 2 usage), and secrets masked.

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
    let mut child = Command::new(env!("CARGO_BIN_EXE_collabd"))
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
        fixture("demo/04-shopify-acme-granted.eml")
            .to_str()
            .unwrap(),
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
    assert!(
        table.contains("acme-co.myshopify.com") && table.contains("granted"),
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
    assert!(shown.contains("queued → granted"), "{shown}");

    let out = collabd(&["show", "--db", db, "99"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no request with id 99"));
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
    let out = collabd(&[
        "parse",
        "--config",
        cfg.to_str().unwrap(),
        fixture("leadsie/plain-text.eml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("collabd.toml") && err.contains("line 3") && err.contains("forwarderz"),
        "{err}"
    );
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
    let out = collabd(&["parse", f.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["kind"], "leadsie_grant",
        "any forwarder is allowed by default"
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

#[test]
fn demo_shows_requests_in_several_states() {
    let out = collabd(&["demo"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    for state in ["notified", "granted", "declined", "revoked", "superseded"] {
        assert!(s.contains(state), "demo output lacks {state}:\n{s}");
    }
    assert!(s.contains("rejected"), "{s}");
    for code in ["0105", "2201", "3302", "1111", "2222", "6666"] {
        assert!(
            !s.contains(code),
            "demo output shows a full code {code}:\n{s}"
        );
    }
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
        text(&out.stderr).contains("retry applies only to failed, queued"),
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
