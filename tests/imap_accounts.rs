//! Several mailboxes in one daemon (`[[imap]]`), against a real Dovecot
//! with two users: one watcher per (account, folder), each account logging
//! in with its own credential (`imap-password-NAME`), its name on every
//! message it reads, in `collabd status`, on the status page and in the
//! metrics; and one account's trouble is its own.

mod support;

use std::time::Duration;

use support::daemon::{Daemon, grant, sql, wait_for};
use support::dovecot::{self, Dovecot, Options};
use support::http::get;

#[test]
fn two_accounts_in_one_daemon_are_watched_apart_and_named_everywhere() {
    let dc = Dovecot::start(Options::default());
    dc.create_folder_of(dovecot::SECOND_USER, "Leadsie");
    // Mail already waiting in each mailbox before the daemon starts.
    dc.append("INBOX", &[grant("agency-own-shop", "4101", 1)]);
    dc.append_as(
        (dovecot::SECOND_USER, dovecot::SECOND_PASSWORD),
        "Leadsie",
        &[grant("client-side-shop", "4202", 2)],
    );

    let mut d = Daemon::tls(&dc, "");
    // Each account's password as the systemd credential named for it.
    let creds = d.dir.path().join("credentials");
    std::fs::create_dir(&creds).unwrap();
    std::fs::write(creds.join("imap-password-agency"), dovecot::PASSWORD).unwrap();
    std::fs::write(
        creds.join("imap-password-clients"),
        dovecot::SECOND_PASSWORD,
    )
    .unwrap();
    let port = dovecot::free_port();
    let account = |name: &str, user: &str, folders: &str| {
        format!(
            "[[imap]]\nname = \"{name}\"\nhost = \"127.0.0.1\"\nport = {}\nca_file = \"{}\"\nuser = \"{user}\"\nfolders = [{folders}]\n",
            dc.imaps_port,
            dc.ca_file.display()
        )
    };
    std::fs::write(
        &d.cfg,
        format!(
            "[database]\npath = \"{}\"\n[trust]\nforwarders = [\"agency.example\"]\n[worker]\nfiler = \"log\"\npoll_seconds = 1\n\
             [http]\nlisten = \"127.0.0.1:{port}\"\n{}{}",
            d.db.display(),
            account("agency", dovecot::USER, "\"INBOX\""),
            account("clients", dovecot::SECOND_USER, "\"INBOX\", \"Leadsie\""),
        ),
    )
    .unwrap();
    d.start_with(&[("CREDENTIALS_DIRECTORY", creds.to_str().unwrap())]);

    wait_for(Duration::from_secs(30), "three folders in IDLE", || {
        sql(
            &d.db,
            "select group_concat(state || connected, ',') from mailbox_state",
        ) == "idle1,idle1,idle1"
    });
    // New mail in each account while the daemon watches.
    dc.append("INBOX", &[grant("agency-new-shop", "4303", 3)]);
    dc.append_as(
        (dovecot::SECOND_USER, dovecot::SECOND_PASSWORD),
        "INBOX",
        &[grant("client-inbox-shop", "4404", 4)],
    );
    wait_for(Duration::from_secs(20), "a request per grant", || {
        d.requests() == 4
    });

    // Each message names the account and the folder it was read from.
    let (a, b) = (dovecot::USER, dovecot::SECOND_USER);
    assert_eq!(
        sql(
            &d.db,
            "select group_concat(source_ref || ' ' || mailbox || ' ' || uid, ', ') from \
             (select * from messages where source = 'imap' order by source_ref, mailbox, uid)"
        ),
        format!(
            "agency {a}/INBOX 1, agency {a}/INBOX 2, clients {b}/INBOX 1, clients {b}/Leadsie 1"
        )
    );
    // Each request comes from its own account's message.
    assert_eq!(
        sql(
            &d.db,
            "select group_concat(r.store_domain || '=' || m.source_ref, ', ') from \
             (select * from access_requests order by store_domain) r join messages m on m.id = r.source_message_id"
        ),
        "agency-new-shop.myshopify.com=agency, agency-own-shop.myshopify.com=agency, \
         client-inbox-shop.myshopify.com=clients, client-side-shop.myshopify.com=clients"
    );
    assert_eq!(
        sql(
            &d.db,
            "select group_concat(account || ' ' || mailbox, ', ') from \
             (select * from mailbox_state order by account, mailbox)"
        ),
        format!("agency {a}/INBOX, clients {b}/INBOX, clients {b}/Leadsie")
    );
    let status = d.status();
    for line in [
        format!("agency: {a}/INBOX  ok"),
        format!("clients: {b}/INBOX  ok"),
        format!("clients: {b}/Leadsie  ok"),
    ] {
        assert!(status.contains(&line), "no `{line}` in\n{status}");
    }
    // Which process watches each folder: this daemon, by host and pid.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let me = format!("{} (pid {})", host.trim(), d.pid().unwrap());
    assert_eq!(
        sql(
            &d.db,
            "select group_concat(distinct node) from mailbox_state"
        ),
        me
    );
    assert_eq!(
        status.matches(&format!("watched by {me}")).count(),
        3,
        "{status}"
    );
    let (_, metrics) = get(port, "/metrics");
    for want in [
        format!("collabd_imap_connected{{account=\"agency\",mailbox=\"{a}/INBOX\"}} 1"),
        format!("collabd_imap_connected{{account=\"clients\",mailbox=\"{b}/Leadsie\"}} 1"),
        format!("collabd_imap_reconnects_total{{account=\"clients\",mailbox=\"{b}/INBOX\"}} 0"),
    ] {
        assert!(metrics.contains(&want), "no `{want}` in\n{metrics}");
    }
    let (_, page) = get(port, "/");
    for want in [
        format!("data-mailbox=\"{b}/Leadsie\" data-account=\"clients\""),
        format!("data-mailbox=\"{a}/INBOX\" data-account=\"agency\""),
    ] {
        assert!(page.contains(&want), "no `{want}` on the status page");
    }
    assert!(
        page.contains(&format!("watched by {me}")),
        "no watcher named on the page"
    );

    // One account's trouble is its own: the second user's connections are
    // dropped; its folders reconnect and read on, the first account's
    // folder never notices.
    dc.doveadm(&["kick", b]);
    wait_for(
        Duration::from_secs(30),
        "the kicked account back in IDLE",
        || {
            sql(
                &d.db,
                "select group_concat(state || connected || ':' || (reconnects > 0), ',') from \
             (select * from mailbox_state where account = 'clients' order by mailbox)",
            ) == "idle1:1,idle1:1"
        },
    );
    assert_eq!(
        sql(
            &d.db,
            "select reconnects || state from mailbox_state where account = 'agency'"
        ),
        "0idle"
    );
    dc.append_as(
        (dovecot::SECOND_USER, dovecot::SECOND_PASSWORD),
        "Leadsie",
        &[grant("after-kick-shop", "4505", 5)],
    );
    wait_for(Duration::from_secs(20), "the grant after the kick", || {
        d.requests() == 5
    });
    let log = d.log();
    for code in ["4101", "4202", "4303", "4404", "4505"] {
        assert!(
            !support::daemon::has_code(&log, code),
            "a code in the log:\n{log}"
        );
    }
    let (_, code) = d.sigterm();
    assert_eq!(code, Some(0), "collabd run exits cleanly on SIGTERM");
}
