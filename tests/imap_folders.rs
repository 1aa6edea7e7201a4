//! Folder names in any language, against a real Dovecot: watched folders
//! and `move_to` named in German, Russian and Japanese (and nested under
//! the server's own delimiter) are sent in modified UTF-7 and shown to
//! people as they were written.

mod support;

use std::process::Command;
use std::time::Duration;

use collabd::imap::mutf7;
use support::daemon::{Daemon, grant, sql, wait_for};
use support::dovecot::{self, Dovecot, Options};

#[test]
fn folders_named_in_german_russian_and_japanese_are_watched_and_moved_to() {
    let dc = Dovecot::start(Options::default());
    // Nested under the server's own delimiter: `.` for the harness's
    // maildir layout.
    let nested = "Kunden.見込み客";
    dc.create_folder("Kunden");
    dc.create_folder("Zugänge");
    dc.create_folder(nested);
    let mut d = Daemon::tls(
        &dc,
        &format!(
            "folders = [\"Zugänge\", \"{nested}\"]\nafter_processing = \"move\"\nmove_to = \"Обработано\""
        ),
    );
    d.start();
    wait_for(Duration::from_secs(20), "both folders in IDLE", || {
        sql(
            &d.db,
            "select group_concat(state || connected, ',') from mailbox_state",
        ) == "idle1,idle1"
    });
    // The test's own APPEND speaks IMAP too: it names the folder encoded.
    dc.append(
        &mutf7::encode("Zugänge"),
        &[grant("umlaut-shop", "6161", 1)],
    );
    dc.append(&mutf7::encode(nested), &[grant("kanji-shop", "6262", 2)]);
    wait_for(Duration::from_secs(15), "a grant from each folder", || {
        d.requests() == 2
    });
    // collabd created the move_to folder and moved both grants into it.
    wait_for(Duration::from_secs(15), "both grants moved", || {
        dc.uids("Обработано", "ALL").len() == 2
    });
    assert!(dc.uids("Zugänge", "ALL").is_empty());
    assert!(dc.uids(nested, "ALL").is_empty());

    // People see the names as written: the database, status and the log.
    assert_eq!(
        sql(
            &d.db,
            "select group_concat(mailbox || ':' || last_uid, ',') from (select * from mailbox_state order by mailbox)"
        ),
        format!("{u}/{nested}:1,{u}/Zugänge:1", u = dovecot::USER)
    );
    let status = d.status();
    assert!(status.contains("Zugänge"), "{status}");
    let log = d.log();
    assert!(log.contains("Обработано"), "{log}");
    for encoded in [mutf7::encode("Zugänge"), mutf7::encode("Обработано")] {
        assert!(!log.contains(&*encoded), "{encoded} in the log:\n{log}");
        assert!(
            !status.contains(&*encoded),
            "{encoded} in status:\n{status}"
        );
    }
}

#[test]
fn check_config_examines_a_japanese_folder_and_lists_readable_names_for_a_missing_one() {
    let dc = Dovecot::start(Options::default());
    dc.create_folder("処理済み");
    dc.append(
        &mutf7::encode("処理済み"),
        &[grant("check-shop", "7171", 1)],
    );
    let d = Daemon::tls(
        &dc,
        "folders = [\"処理済み\", \"Entwürfe\"]\nafter_processing = \"move\"\nmove_to = \"Zugänge\"",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_collabd"))
        .args(["check-config", "--config", d.cfg.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("ok   imap folder 処理済み: 1 messages"),
        "{stdout}"
    );
    let missing = stdout
        .lines()
        .find(|l| l.starts_with("FAIL imap folder Entwürfe"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        missing.contains("the server has:") && missing.contains("処理済み"),
        "{missing}"
    );
    assert!(!missing.contains(&*mutf7::encode("処理済み")), "{missing}");
    assert!(
        stdout.contains("Zugänge does not exist yet; collabd creates it"),
        "{stdout}"
    );
}
