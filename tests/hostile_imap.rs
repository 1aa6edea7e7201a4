//! `collabd run` against an IMAP server that breaks the rules for UIDs: UID
//! 0, a SEARCH answer past UIDNEXT, a UIDNEXT that goes back, a FETCH answer
//! outside the UIDs asked for. The checkpoint must never move on such an
//! answer (once it wrapped to 4294967295 and nothing was read again); the
//! session ends with an error naming the folder and what was sent, the
//! watcher retries with backoff, and the daemon stays up.
//!
//! Mail announced during IDLE is bounded by STATUS on the folder the
//! session keeps selected: the same rules hold there, and a server whose
//! STATUS will not do (refused, lagging, another UIDVALIDITY) is read
//! through a SELECT instead.
//!
//! The server here is scripted, not Dovecot, because a real server cannot be
//! made to send these answers.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::daemon::{Daemon, count, grant, newsletter, sql, wait_for};

/// What the scripted server says on one connection.
#[derive(Clone)]
struct Script {
    uidvalidity: u32,
    uidnext: u32,
    /// The folder's messages: UID and the whole message.
    messages: Vec<(u32, Vec<u8>)>,
    /// What follows `* SEARCH` in the answer to UID SEARCH.
    search: &'static str,
    /// In answers to the header FETCH, the message with the first UID is
    /// named by the second.
    fetch_as: Option<(u32, u32)>,
    /// Close the connection once the client is in IDLE, so it reconnects.
    hang_up_in_idle: bool,
    /// The body FETCH answers for this UID without its body.
    withhold_body: Option<u32>,
    /// Messages that arrive while the client is in IDLE, one per IDLE,
    /// each announced with EXISTS; the folder's UIDNEXT follows them.
    arrives: Vec<(u32, Vec<u8>)>,
    /// The folder's UIDVALIDITY once the first message arrived (the folder
    /// was recreated meanwhile).
    recreated_as: Option<u32>,
    /// How STATUS is answered.
    status: Status,
}

/// How the scripted server answers STATUS.
#[derive(Clone, Copy)]
enum Status {
    /// With the folder's UIDNEXT and UIDVALIDITY.
    Answer,
    /// With BAD, as a server that does not serve it on the selected folder.
    Refuse,
    /// With this UIDNEXT whatever has arrived (a lagging or hostile server).
    UidNext(u32),
}

impl Script {
    fn new(uidvalidity: u32, uidnext: u32, messages: Vec<(u32, Vec<u8>)>) -> Script {
        Script {
            uidvalidity,
            uidnext,
            messages,
            search: "",
            fetch_as: None,
            hang_up_in_idle: false,
            withhold_body: None,
            arrives: Vec::new(),
            recreated_as: None,
            status: Status::Answer,
        }
    }
}

/// A plaintext IMAP server on a free loopback port that answers what the
/// watcher asks (CAPABILITY, LOGIN, SELECT, STATUS, UID SEARCH, UID FETCH,
/// IDLE, LOGOUT) as `script` says for the nth connection (from 1).
struct Scripted {
    port: u16,
    connections: Arc<AtomicUsize>,
    /// Every command asked, with the connection it came on.
    asked: Arc<Mutex<Vec<(usize, String)>>>,
}

impl Scripted {
    fn start(script: impl Fn(usize) -> Script + Send + Sync + 'static) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let asked = Arc::new(Mutex::new(Vec::new()));
        let (n, script, log) = (connections.clone(), Arc::new(script), asked.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let nth = n.fetch_add(1, Ordering::SeqCst) + 1;
                let s = script(nth);
                let log = log.clone();
                std::thread::spawn(move || {
                    // The client hanging up ends the conversation: no error.
                    let _ = converse(stream, &s, |command| {
                        log.lock().unwrap().push((nth, command.to_owned()));
                    });
                });
            }
        });
        Scripted {
            port,
            connections,
            asked,
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The commands asked on the `nth` connection, in order.
    fn asked_on(&self, nth: usize) -> Vec<String> {
        let asked = self.asked.lock().unwrap();
        asked
            .iter()
            .filter(|(n, _)| *n == nth)
            .map(|(_, c)| c.clone())
            .collect()
    }

    /// `collabd run` against this server: plaintext (allowed to loopback).
    fn daemon(&self, extra: &str) -> Daemon {
        Daemon::new(&format!(
            "port = {}\nsecurity = \"plain\"\ncommand_timeout_seconds = 5\n{extra}",
            self.port
        ))
    }
}

fn converse(stream: TcpStream, s: &Script, mut asked: impl FnMut(&str)) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    out.write_all(b"* OK [CAPABILITY IMAP4rev1 IDLE] scripted server ready\r\n")?;
    let (mut messages, mut uidnext, mut uidvalidity) =
        (s.messages.clone(), s.uidnext, s.uidvalidity);
    let mut arrivals = s.arrives.iter();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut words = line.trim_end().splitn(3, ' ');
        let tag = words.next().unwrap_or("*");
        let command = words.next().unwrap_or("").to_ascii_uppercase();
        let rest = words.next().unwrap_or("");
        asked(&command);
        let mut reply: Vec<u8> = Vec::new();
        match command.as_str() {
            "CAPABILITY" => reply.extend(b"* CAPABILITY IMAP4rev1 IDLE\r\n"),
            "LOGIN" | "NOOP" => {}
            "SELECT" => reply.extend(
                format!(
                    "* FLAGS (\\Seen \\Deleted)\r\n* {} EXISTS\r\n* 0 RECENT\r\n\
                     * OK [UIDVALIDITY {uidvalidity}] UIDs valid\r\n* OK [UIDNEXT {uidnext}] Predicted next UID\r\n",
                    messages.len(),
                )
                .bytes(),
            ),
            "STATUS" => {
                let mailbox = rest.split(' ').next().unwrap_or("INBOX");
                let uidnext = match s.status {
                    Status::Refuse => {
                        out.write_all(format!("{tag} BAD not scripted\r\n").as_bytes())?;
                        continue;
                    }
                    Status::Answer => uidnext,
                    Status::UidNext(n) => n,
                };
                reply.extend(
                    format!("* STATUS {mailbox} (UIDNEXT {uidnext} UIDVALIDITY {uidvalidity})\r\n")
                        .bytes(),
                );
            }
            "UID" => {
                let (sub, args) = rest.split_once(' ').unwrap_or((rest, ""));
                match sub.to_ascii_uppercase().as_str() {
                    "SEARCH" => reply.extend(format!("* SEARCH {}\r\n", s.search).bytes()),
                    "FETCH" => {
                        let (set, items) = args.split_once(' ').unwrap_or((args, ""));
                        let headers = items.to_ascii_uppercase().contains("HEADER");
                        for (seq, (uid, msg)) in messages.iter().enumerate() {
                            if !in_set(set, *uid, &messages) {
                                continue;
                            }
                            reply.extend(fetch_answer(seq + 1, *uid, msg, headers, s));
                        }
                    }
                    _ => {
                        out.write_all(format!("{tag} BAD not scripted\r\n").as_bytes())?;
                        continue;
                    }
                }
            }
            "IDLE" => {
                out.write_all(b"+ idling\r\n")?;
                if s.hang_up_in_idle {
                    return Ok(());
                }
                if let Some(arrived) = arrivals.next() {
                    messages.push(arrived.clone());
                    uidnext = arrived.0 + 1;
                    uidvalidity = s.recreated_as.unwrap_or(uidvalidity);
                    out.write_all(format!("* {} EXISTS\r\n", messages.len()).as_bytes())?;
                }
                let mut done = String::new();
                lines.read_line(&mut done)?;
            }
            "LOGOUT" => {
                out.write_all(format!("* BYE scripted server\r\n{tag} OK bye\r\n").as_bytes())?;
                return Ok(());
            }
            _ => {
                out.write_all(format!("{tag} BAD not scripted\r\n").as_bytes())?;
                continue;
            }
        }
        reply.extend(format!("{tag} OK {command} done\r\n").bytes());
        out.write_all(&reply)?;
    }
}

/// Whether `uid` is in an IMAP UID set such as `1:3,5` or `4:*`; `*` is
/// the highest UID of `messages`, and `n:*` always names the last message.
fn in_set(set: &str, uid: u32, messages: &[(u32, Vec<u8>)]) -> bool {
    let max = messages.iter().map(|(u, _)| *u).max().unwrap_or(0);
    let n = |v: &str| {
        if v == "*" {
            max
        } else {
            v.parse().unwrap_or(0)
        }
    };
    set.split(',').any(|part| match part.split_once(':') {
        Some((a, b)) => {
            let (a, b) = (n(a), n(b));
            (a.min(b)..=a.max(b)).contains(&uid)
        }
        None => n(part) == uid,
    })
}

/// One FETCH answer: size and headers for the header pass, else the body.
fn fetch_answer(seq: usize, uid: u32, msg: &[u8], headers: bool, s: &Script) -> Vec<u8> {
    let mut a = Vec::new();
    if headers {
        let uid = match s.fetch_as {
            Some((real, sent)) if real == uid => sent,
            _ => uid,
        };
        let end = msg
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(msg.len(), |p| p + 4);
        a.extend(
            format!(
                "* {seq} FETCH (UID {uid} RFC822.SIZE {} BODY[HEADER] {{{end}}}\r\n",
                msg.len()
            )
            .bytes(),
        );
        a.extend(&msg[..end]);
    } else if s.withhold_body == Some(uid) {
        a.extend(format!("* {seq} FETCH (UID {uid} FLAGS (\\Seen)").bytes());
    } else {
        a.extend(format!("* {seq} FETCH (UID {uid} BODY[] {{{}}}\r\n", msg.len()).bytes());
        a.extend(msg);
    }
    a.extend(b")\r\n");
    a
}

fn last_uid(d: &Daemon) -> i64 {
    count(
        &d.db,
        "select coalesce(max(last_uid), 0) from mailbox_state",
    )
}

fn last_error(d: &Daemon) -> String {
    sql(&d.db, "select last_error from mailbox_state")
}

/// Waits for `cond`, sampling the checkpoint meanwhile: it must never wrap
/// to 4294967295 nor go back. Returns the samples.
fn watching_the_checkpoint(d: &Daemon, what: &str, mut cond: impl FnMut() -> bool) -> Vec<i64> {
    let mut seen = vec![last_uid(d)];
    let sample = |seen: &mut Vec<i64>| {
        seen.push(last_uid(d));
        assert!(
            !seen.contains(&i64::from(u32::MAX)),
            "the checkpoint wrapped: {seen:?}"
        );
        assert!(
            seen.windows(2).all(|w| w[0] <= w[1]),
            "the checkpoint went back: {seen:?}"
        );
    };
    wait_for(Duration::from_secs(40), what, || {
        sample(&mut seen);
        cond()
    });
    sample(&mut seen);
    seen
}

/// The error the watcher recorded is in `collabd status`, the daemon is up,
/// and the watcher kept retrying.
fn reported_and_retried(d: &mut Daemon, server: &Scripted, words: &[&str]) {
    let error = last_error(d);
    for w in words {
        assert!(error.contains(w), "no `{w}` in last_error: {error}");
    }
    let status = d.status();
    assert!(status.contains(words[0]), "{status}");
    let before = server.connections();
    wait_for(Duration::from_secs(40), "a reconnect after backoff", || {
        server.connections() > before
    });
    assert!(d.alive(), "collabd died:\n{}", d.log());
    assert!(
        count(&d.db, "select reconnects from mailbox_state") >= 1,
        "{}",
        d.log()
    );
}

/// A folder with ordinary mail at UID 1 and a grant at UID 2, UIDNEXT 3.
fn two_messages() -> Script {
    Script::new(
        7,
        3,
        vec![
            (1, newsletter(1, 100)),
            (2, grant("hostile-shop", "1234", 1)),
        ],
    )
}

/// `collabd run` (with `config` in `[imap]`) against a server answering
/// every connection with `script`, until it refuses the answer: the error
/// holds every one of `words`, and the checkpoint never left 0.
fn refused_from_the_start(script: Script, config: &str, words: &[&str]) {
    let server = Scripted::start(move |_| script.clone());
    let mut d = server.daemon(config);
    d.start();
    watching_the_checkpoint(&d, "the answer to be refused", || {
        last_error(&d).contains(words[0])
    });
    reported_and_retried(&mut d, &server, words);
    assert_eq!(last_uid(&d), 0);
    assert_eq!(d.requests(), 0);
}

#[test]
fn search_uid_0_leaves_the_checkpoint_where_it_was() {
    refused_from_the_start(
        Script {
            search: "0",
            ..two_messages()
        },
        "since = \"2026-01-01\"",
        &[
            "the server answered UID SEARCH in `INBOX` with UID 0, which is invalid (RFC 3501 §2.3.1.1); not moving the checkpoint",
        ],
    );
}

#[test]
fn a_search_answer_at_or_past_uidnext_leaves_the_checkpoint_where_it_was() {
    refused_from_the_start(
        Script {
            search: "2 9",
            ..two_messages()
        },
        "since = \"2026-01-01\"",
        &[
            "UID SEARCH in `INBOX` with UID 9",
            "UIDNEXT 3",
            "not moving the checkpoint",
        ],
    );
}

#[test]
fn a_fetch_answer_with_uid_0_leaves_the_checkpoint_where_it_was() {
    refused_from_the_start(
        Script {
            fetch_as: Some((2, 0)),
            ..two_messages()
        },
        "",
        &[
            "the server answered UID FETCH 1:2 in `INBOX` with UID 0, which is invalid (RFC 3501 §2.3.1.1); not moving the checkpoint",
        ],
    );
}

#[test]
fn a_fetch_answer_past_the_uids_asked_for_does_not_carry_the_checkpoint_there() {
    refused_from_the_start(
        Script {
            fetch_as: Some((2, u32::MAX)),
            ..two_messages()
        },
        "",
        &["UID FETCH 1:2 in `INBOX` with UID 4294967295, outside the UIDs asked for"],
    );
}

#[test]
fn a_uidnext_below_the_checkpoint_on_reconnect_is_refused_and_the_checkpoint_stays() {
    let messages = vec![
        (1, newsletter(1, 100)),
        (2, grant("before-shop", "1234", 1)),
        (3, newsletter(3, 100)),
    ];
    let server = Scripted::start(move |nth| {
        if nth == 1 {
            Script {
                hang_up_in_idle: true,
                ..Script::new(7, 4, messages.clone())
            }
        } else {
            // Same UIDVALIDITY, but UIDNEXT back below what was read.
            Script::new(7, 2, messages[..1].to_vec())
        }
    });
    let mut d = server.daemon("");
    d.start();
    let seen = watching_the_checkpoint(&d, "the refused UIDNEXT", || {
        last_error(&d).contains("UIDNEXT")
    });
    assert!(
        seen.contains(&3),
        "the first session read to UID 3: {seen:?}"
    );
    assert_eq!(d.requests(), 1);
    reported_and_retried(
        &mut d,
        &server,
        &[
            "UIDNEXT of `INBOX` is 2",
            "UID 3 was already read under the same UIDVALIDITY 7",
            "not moving the checkpoint",
        ],
    );
    assert_eq!(last_uid(&d), 3);
}

#[test]
fn a_body_withheld_for_a_message_that_still_exists_is_not_skipped() {
    refused_from_the_start(
        Script {
            withhold_body: Some(2),
            search: "2",
            ..two_messages()
        },
        "",
        &[
            "without the body of UID 2, which UID SEARCH says still exists",
            "not moving the checkpoint",
        ],
    );
}

#[test]
fn a_message_expunged_before_its_body_was_fetched_is_skipped() {
    let server = Scripted::start(|_| Script {
        withhold_body: Some(2),
        ..two_messages()
    });
    let mut d = server.daemon("");
    d.start();
    watching_the_checkpoint(&d, "the checkpoint past the vanished message", || {
        last_uid(&d) == 2
    });
    assert_eq!(d.requests(), 0);
    assert!(
        sql(&d.db, "select coalesce(last_error, '') from mailbox_state").is_empty(),
        "{}",
        d.log()
    );
    assert!(d.alive(), "{}", d.log());
}

/// Two messages read at the start (UIDNEXT 3), then a grant at UID 3
/// announced during IDLE.
fn one_arrives() -> Script {
    Script {
        arrives: vec![(3, grant("idle-shop", "4321", 3))],
        ..two_messages()
    }
}

/// How many times the `nth` connection asked `command`.
fn times(server: &Scripted, nth: usize, command: &str) -> usize {
    server
        .asked_on(nth)
        .iter()
        .filter(|c| c.as_str() == command)
        .count()
}

#[test]
fn mail_announced_in_idle_is_bounded_by_status_without_a_second_select() {
    let server = Scripted::start(|_| one_arrives());
    let mut d = server.daemon("");
    d.start();
    watching_the_checkpoint(&d, "the announced grant", || {
        last_uid(&d) == 3 && d.requests() == 2
    });
    assert_eq!(times(&server, 1, "SELECT"), 1, "{:?}", server.asked_on(1));
    assert_eq!(times(&server, 1, "STATUS"), 1, "{:?}", server.asked_on(1));
    assert_eq!(server.connections(), 1);
    assert!(d.alive(), "{}", d.log());
}

#[test]
fn a_fetch_answer_past_the_uidnext_status_gave_does_not_carry_the_checkpoint_there() {
    let server = Scripted::start(|_| Script {
        fetch_as: Some((3, u32::MAX)),
        ..one_arrives()
    });
    let mut d = server.daemon("");
    d.start();
    watching_the_checkpoint(&d, "the answer to be refused", || {
        last_error(&d).contains("outside the UIDs asked for")
    });
    assert!(
        server.asked_on(1).contains(&"STATUS".to_owned()),
        "the bound came from STATUS: {:?}",
        server.asked_on(1)
    );
    reported_and_retried(
        &mut d,
        &server,
        &["UID FETCH 3:3 in `INBOX` with UID 4294967295, outside the UIDs asked for"],
    );
    assert_eq!(last_uid(&d), 2);
    assert_eq!(d.requests(), 1);
}

#[test]
fn status_uidnext_0_leaves_the_checkpoint_where_it_was() {
    let server = Scripted::start(|_| Script {
        status: Status::UidNext(0),
        ..one_arrives()
    });
    let mut d = server.daemon("");
    d.start();
    watching_the_checkpoint(&d, "the answer to be refused", || {
        last_error(&d).contains("UIDNEXT 0")
    });
    reported_and_retried(
        &mut d,
        &server,
        &[
            "the server answered STATUS of `INBOX` with UIDNEXT 0, which is invalid (RFC 3501 §2.3.1.1); not moving the checkpoint",
        ],
    );
    assert_eq!(last_uid(&d), 2);
}

#[test]
fn a_server_refusing_status_on_the_selected_folder_is_read_by_select() {
    let server = Scripted::start(|_| Script {
        status: Status::Refuse,
        arrives: vec![
            (3, grant("first-shop", "1111", 3)),
            (4, grant("second-shop", "2222", 4)),
        ],
        ..two_messages()
    });
    let mut d = server.daemon("");
    d.start();
    watching_the_checkpoint(&d, "both announced grants", || {
        last_uid(&d) == 4 && d.requests() == 3
    });
    // Refused once, then never asked again on that session.
    assert_eq!(times(&server, 1, "STATUS"), 1, "{:?}", server.asked_on(1));
    assert_eq!(times(&server, 1, "SELECT"), 3, "{:?}", server.asked_on(1));
    assert!(
        sql(&d.db, "select coalesce(last_error, '') from mailbox_state").is_empty(),
        "{}",
        d.log()
    );
}

#[test]
fn a_status_that_lags_behind_the_announced_mail_is_settled_by_select() {
    // STATUS still says UIDNEXT 3 after UID 3 arrived.
    let server = Scripted::start(|_| Script {
        status: Status::UidNext(3),
        ..one_arrives()
    });
    let mut d = server.daemon("");
    d.start();
    watching_the_checkpoint(&d, "the announced grant", || {
        last_uid(&d) == 3 && d.requests() == 2
    });
    assert_eq!(times(&server, 1, "SELECT"), 2, "{:?}", server.asked_on(1));
    assert_eq!(server.connections(), 1);
}

#[test]
fn a_uidvalidity_changed_under_the_selected_folder_is_noticed_through_status() {
    let server = Scripted::start(|_| Script {
        recreated_as: Some(8),
        ..one_arrives()
    });
    let mut d = server.daemon("");
    d.start();
    watching_the_checkpoint(&d, "the first two messages", || last_uid(&d) == 2);
    wait_for(
        Duration::from_secs(40),
        "the rescan under the new UIDVALIDITY",
        || {
            sql(
                &d.db,
                "select uidvalidity || ' ' || last_uid from mailbox_state",
            ) == "8 3"
        },
    );
    assert!(
        d.log().contains("UIDVALIDITY changed from 7 to 8"),
        "{}",
        d.log()
    );
    assert_eq!(times(&server, 1, "SELECT"), 2, "{:?}", server.asked_on(1));
    // The grant read before the rescan is recognised, not stored twice.
    assert_eq!(d.requests(), 2);
    assert_eq!(count(&d.db, "select count(*) from messages"), 2);
}
