//! collabd as a service: health and metrics over real HTTP against a real
//! Dovecot, `check-config`, the systemd unit's verification and hardening,
//! log formats and environment overrides.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use support::daemon::{Daemon, grant, wait_for};
use support::dovecot::{self, Dovecot, Options};
use support::http::get;
use support::smtp::{self, Smtp};

fn collabd(args: &[&str]) -> (Option<i32>, String, String) {
    collabd_with(args, |c| c)
}

/// collabd with its environment adjusted by `env`: (exit code, stdout, stderr).
fn collabd_with(
    args: &[&str],
    env: impl FnOnce(&mut Command) -> &mut Command,
) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_collabd"));
    cmd.env("COLLABD__TRUST__REQUIRE", "none");
    cmd.args(args).env_remove("COLLABD_CONFIG");
    let out = env(&mut cmd).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `dir/c.toml`: a database in `dir`, then `body`.
fn config_in(dir: &std::path::Path, body: &str) -> std::path::PathBuf {
    let cfg = dir.join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "[database]\npath = \"{}\"\n{body}",
            dir.join("c.db").display()
        ),
    )
    .unwrap();
    cfg
}

#[test]
fn healthz_and_metrics_follow_the_watcher_and_healthz_fails_when_dovecot_stops() {
    let mut dc = Dovecot::start(Options::default());
    let port = dovecot::free_port();
    let mut d = Daemon::tls(
        &dc,
        &format!("command_timeout_seconds = 5\n[http]\nlisten = \"127.0.0.1:{port}\""),
    );
    // In process: health and metrics read the watcher's memory, and the
    // test stops the daemon through its shutdown, as main does on SIGTERM.
    d.start_in_process().wait_idle();
    dc.append("INBOX", &[grant("metrics-shop", "5151", 1)]);
    wait_for(Duration::from_secs(10), "the grant", || d.requests() == 1);
    wait_for(Duration::from_secs(10), "the log filer", || {
        support::daemon::sql(&d.db, "select state from access_requests") == "logged"
    });

    let (status, body) = get(port, "/healthz");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("\"status\":\"ok\"") && body.contains("INBOX"),
        "{body}"
    );

    let (status, metrics) = get(port, "/metrics");
    assert_eq!(status, 200);
    let user = dovecot::USER;
    for want in [
        "# TYPE collabd_messages gauge".to_owned(),
        "collabd_messages{kind=\"leadsie_grant\"} 1".to_owned(),
        "collabd_requests{state=\"logged\"} 1".to_owned(),
        "collabd_filer_attempts_total 1".to_owned(),
        "collabd_filer_failures_total 0".to_owned(),
        format!("collabd_imap_reconnects_total{{account=\"default\",mailbox=\"{user}/INBOX\"}} 0"),
        format!("collabd_imap_connected{{account=\"default\",mailbox=\"{user}/INBOX\"}} 1"),
        format!(
            "collabd_imap_seconds_since_contact{{account=\"default\",mailbox=\"{user}/INBOX\"}} "
        ),
    ] {
        assert!(metrics.contains(&want), "no `{want}` in\n{metrics}");
    }
    assert!(!metrics.contains("5151"), "a code in the metrics");

    dc.stop();
    wait_for(
        Duration::from_secs(30),
        "/healthz to report the outage",
        || get(port, "/healthz").0 == 503,
    );
    let (_, body) = get(port, "/healthz");
    assert!(
        body.contains("\"status\":\"unhealthy\"") && body.contains("backoff"),
        "{body}"
    );
    let (_, metrics) = get(port, "/metrics");
    assert!(
        metrics.contains(&format!(
            "collabd_imap_connected{{account=\"default\",mailbox=\"{user}/INBOX\"}} 0"
        )),
        "{metrics}"
    );
    assert_eq!(get(port, "/nothing").0, 404);

    dc.restart();
    wait_for(Duration::from_secs(60), "/healthz to recover", || {
        get(port, "/healthz").0 == 200
    });
    d.shut_down()
        .expect("run returns Ok once its shutdown fires");
    assert!(
        try_get(port, "/healthz").is_none(),
        "/healthz still answers after shutdown"
    );
}

#[test]
fn check_config_tries_each_connection_and_names_what_fails() {
    let dc = Dovecot::start(Options::default());
    let good = Daemon::tls(&dc, "");
    let (code, out, _) = collabd(&["check-config", "--config", good.cfg.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    for want in [
        "ok   config:",
        "ok   database:",
        "ok   imap login:",
        "ok   imap server: has IDLE",
        "ok   imap folder INBOX: 0 messages",
        "ok   filer: log",
    ] {
        assert!(out.contains(want), "no `{want}` in\n{out}");
    }

    // A typo'd key: named, with its line.
    let typo = Daemon::tls(&dc, "foldres = [\"INBOX\"]");
    // Without environment overrides, so the error can name the file's line.
    let (code, out, _) = collabd_with(
        &["check-config", "--config", typo.cfg.to_str().unwrap()],
        |c| c.env_remove("COLLABD__TRUST__REQUIRE"),
    );
    assert_eq!(code, Some(78), "{out}");
    let line = std::fs::read_to_string(&typo.cfg)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("foldres"))
        .unwrap()
        + 1;
    assert!(
        out.contains("FAIL config:")
            && out.contains("foldres")
            && out.contains(&format!("line {line}")),
        "{out}"
    );

    // A wrong password: the login check fails and says why, without the password.
    let wrong = Daemon::tls(&dc, "");
    std::fs::write(wrong.dir.path().join("imap-password"), "hunter2-wrong\n").unwrap();
    let (code, out, err) = collabd(&["check-config", "--config", wrong.cfg.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("FAIL imap login: login refused for ops@agency.example"),
        "{out}"
    );
    // The server's words, and no promise of a retry that check-config never makes.
    assert!(out.contains("[AUTHENTICATIONFAILED]"), "{out}");
    assert!(!out.contains("Some(") && !out.contains("backoff"), "{out}");
    assert!(
        !out.contains("hunter2") && !err.contains("hunter2"),
        "{out}{err}"
    );

    // A folder that does not exist, and an unreachable webhook.
    let port = dovecot::free_port();
    let bad = Daemon::tls(
        &dc,
        &format!(
            "folders = [\"INBOX\", \"Nope\"]\n[worker]\nfiler = \"webhook\"\n[worker.webhook]\nurl = \"http://127.0.0.1:{port}/hook?token=abc\"\nsecret = \"s\"\n"
        ),
    );
    // The helper already wrote a [worker] table; keep the last one only.
    let cfg = std::fs::read_to_string(&bad.cfg).unwrap().replacen(
        "[worker]\nfiler = \"log\"\npoll_seconds = 1\n",
        "",
        1,
    );
    std::fs::write(&bad.cfg, cfg).unwrap();
    let (code, out, _) = collabd(&["check-config", "--config", bad.cfg.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("FAIL imap folder Nope:"), "{out}");
    assert!(out.contains("ok   imap folder INBOX"), "{out}");
    assert!(
        out.contains("FAIL filer webhook: http://127.0.0.1/hook"),
        "{out}"
    );
    assert!(!out.contains("token=abc"), "{out}");
}

/// The unit file verifies and its hardening keeps an exposure of 2.0 or
/// lower (deploy/check-unit, which CI also runs through this test).
#[test]
fn the_systemd_unit_verifies_and_stays_hardened() {
    let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/check-unit"))
        .arg(env!("CARGO_BIN_EXE_collabd"))
        .output()
        .expect("deploy/check-unit runs (systemd-analyze is installed)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    let exposure: f64 = text
        .split("Overall exposure level for collabd.service: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no exposure figure in {text}"));
    assert!(exposure <= 2.0, "exposure {exposure}");
}

#[test]
fn json_logs_and_environment_overrides() {
    // No [imap] in the file: the environment supplies it, pointing at a port
    // where nothing listens, so the watcher logs its failure.
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_in(dir.path(), "");
    let port = dovecot::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_collabd"))
        .env("COLLABD__TRUST__REQUIRE", "none")
        .args([
            "--log-format",
            "json",
            "run",
            "--config",
            cfg.to_str().unwrap(),
        ])
        .env("COLLABD__IMAP__HOST", "127.0.0.1")
        .env("COLLABD__IMAP__PORT", port.to_string())
        .env("COLLABD__IMAP__SECURITY", "plain")
        .env("COLLABD__IMAP__USER", "ops")
        .env("COLLABD__WORKER__FILER", "log")
        .env("COLLABD_IMAP_PASSWORD", "pw-from-env")
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().any(|v| v["level"] == "WARN"
            && v["fields"]["message"]
                .as_str()
                .unwrap_or("")
                .contains(&format!("127.0.0.1:{port}"))),
        "{err}"
    );
    assert!(!err.contains("pw-from-env"));

    // An override naming an unknown setting is refused, naming it.
    let (code, _, err) = {
        let out = Command::new(env!("CARGO_BIN_EXE_collabd"))
            .env("COLLABD__TRUST__REQUIRE", "none")
            .args(["status", "--config", cfg.to_str().unwrap()])
            .env("COLLABD__IMAP__HOSTNAME", "x")
            .output()
            .unwrap();
        (
            out.status.code(),
            (),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(78));
    assert!(
        err.contains("hostname") && err.contains("COLLABD__IMAP__HOSTNAME"),
        "{err}"
    );
}

/// The shipped example configuration is valid as it stands (with the
/// password from the environment, as the credential would give it).
#[test]
fn the_example_configuration_is_valid() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/collabd.toml");
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_collabd"))
        .args([
            "status",
            "--config",
            cfg,
            "--db",
            dir.path().join("x.db").to_str().unwrap(),
        ])
        .env("COLLABD_IMAP_PASSWORD", "pw")
        .env_remove("CREDENTIALS_DIRECTORY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // The database does not exist: that, and only that, is reported.
    assert!(err.contains("x.db does not exist"), "{err}");
}

/// `collabd args` on the packaged configuration, read as shipped.
/// Laid over it in the environment, as an operator could, only what it
/// cannot know: the mailbox (the test's Dovecot, its CA and account, the
/// password where the credential would give it), the DNS server that has
/// leadsie.com's key, and a filer: the file names none on purpose (`run`
/// refuses to start until the operator picks one); `log` is the dry run.
/// Its `[database] path`, the package's /var/lib/collabd, is replaced by
/// `--db` in `args`. `[trust]` is the file's.
fn shipped(args: &[&str], dc: &Dovecot, dns: std::net::SocketAddr) -> Command {
    let quoted = |v: &str| format!("\"{v}\"");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_collabd"));
    cmd.arg("--config")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/collabd.toml"))
        .args(args)
        .env("COLLABD__IMAP__HOST", quoted("127.0.0.1"))
        .env("COLLABD__IMAP__PORT", dc.imaps_port.to_string())
        .env(
            "COLLABD__IMAP__CA_FILE",
            quoted(dc.ca_file.to_str().unwrap()),
        )
        .env("COLLABD__IMAP__USER", quoted(dovecot::USER))
        .env("COLLABD_IMAP_PASSWORD", dovecot::PASSWORD)
        .env("COLLABD__TRUST__NAMESERVERS", format!("[\"{dns}\"]"))
        .env("COLLABD__WORKER__FILER", quoted("log"))
        .env_remove("COLLABD__TRUST__REQUIRE")
        .env_remove("COLLABD_CONFIG")
        .env_remove("COLLABD_DB")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env_remove("NOTIFY_SOCKET")
        .stdin(std::process::Stdio::null());
    cmd
}

/// A `collabd run` child, killed when dropped (also when the test fails).
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The packaged configuration as shipped leaves `[trust] require` at its
/// default, DKIM: `check-config` says a grant is vouched for by a DKIM
/// signature, and `collabd run` on the file queues a Leadsie grant whose
/// signature checks out, while the same kind of grant unsigned is refused
/// and kept with the reason.
#[test]
fn the_shipped_configuration_requires_leadsie_s_signature() {
    use support::{dkim, dns::Dns};
    // leadsie.com's key, published on a DNS server of the test's own.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dns = runtime.block_on(Dns::start());
    let key = dkim::key();
    dns.txt(
        "s1._domainkey.leadsie.com",
        &format!("v=DKIM1; k=ed25519; p={}", key.public),
    );
    let dc = Dovecot::start(Options::default());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("collabd.db");
    let db_arg = ["--db", db.to_str().unwrap()];

    let out = shipped(&[&db_arg[..], &["check-config"]].concat(), &dc, dns.addr)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("direct mail from leadsie.com, shopify.com: open, vouched for by a DKIM signature collabd verifies itself"),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let log = dir.path().join("collabd.log");
    let _run = Running(
        shipped(&[&db_arg[..], &["run"]].concat(), &dc, dns.addr)
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let lf = |b: Vec<u8>| String::from_utf8(b).unwrap().replace("\r\n", "\n");
    let signed = dkim::sign(
        key,
        "s1",
        "leadsie.com",
        &lf(grant("signed-shop", "2468", 1)),
    );
    dc.append(
        "INBOX",
        &[signed.into_bytes(), grant("unsigned-shop", "1357", 2)],
    );
    let q = |sql: &str| support::daemon::sql(&db, sql);
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    wait_for(
        Duration::from_secs(60),
        "both grants read, and what was queued filed",
        || {
            q("select count(*) from messages") == "2"
                && q("select count(*) from access_requests where state = 'logged'") != "0"
                && q("select count(*) from access_requests where state in ('queued', 'filing')")
                    == "0"
        },
    );
    assert_eq!(
        q("select store_domain from access_requests"),
        "signed-shop.myshopify.com",
        "{}",
        read()
    );
    let refused =
        q("select kind || ': ' || reason from messages where subject like 'unsigned-shop%'");
    assert!(
        refused.starts_with("rejected: ")
            && refused.contains("no valid DKIM signature aligned with leadsie.com"),
        "{refused}\n{}",
        read()
    );
}

/// A Slack webhook's path is its secret: check-config names the host only.
#[test]
fn check_config_never_prints_a_slack_webhook_path() {
    let dir = tempfile::tempdir().unwrap();
    let port = dovecot::free_port();
    let cfg = config_in(
        dir.path(),
        &format!(
            "[worker.notify]\nslack_webhooks = [\"http://127.0.0.1:{port}/services/T0/B0/s3cr3tpath\"]\n"
        ),
    );
    let (code, out, err) = collabd(&["check-config", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("FAIL notify slack: http://127.0.0.1"), "{out}");
    assert!(
        !out.contains("s3cr3tpath") && !err.contains("s3cr3tpath"),
        "{out}{err}"
    );
}

/// A `[worker]` table with a `[worker.notify]` email channel to the real
/// SMTP server: the user in `smtp_url` (the password comes from a credential
/// or the environment), and the test CA in `smtp_ca_file` unless `ca` is
/// false.
fn smtp_config(server: &Smtp, ca: bool) -> String {
    format!(
        "[worker]\nfiler = \"notify\"\npoll_seconds = 1\n[worker.notify]\n\
         smtp_url = \"smtp://relay%40agency.example@127.0.0.1:{}?tls=required\"\n\
         email_from = \"collabd <collabd@agency.example>\"\nemail_to = [\"ops@agency.example\"]\n{}",
        server.port,
        if ca {
            format!("smtp_ca_file = \"{}\"\n", server.ca_file.display())
        } else {
            String::new()
        }
    )
}

/// check-config on `body` (see [`config_in`]), with the SMTP password in
/// `dir/smtp-password`, a credential directory as systemd makes it.
fn check_smtp(dir: &std::path::Path, body: &str, password: &str) -> (Option<i32>, String, String) {
    let cfg = config_in(dir, body);
    std::fs::write(dir.join("smtp-password"), format!("{password}\n")).unwrap();
    collabd_with(&["check-config", "--config", cfg.to_str().unwrap()], |c| {
        c.env_remove("COLLABD_SMTP_PASSWORD")
            .env("CREDENTIALS_DIRECTORY", dir)
    })
}

/// check-config logs in to a real SMTP server (aiosmtpd: STARTTLS and AUTH
/// required) with the password from the systemd credential, and names what
/// fails without printing the password.
#[test]
fn check_config_logs_in_to_smtp_with_the_credential_and_names_what_fails() {
    let server = Smtp::start();
    let dir = tempfile::tempdir().unwrap();

    let (code, out, err) = check_smtp(dir.path(), &smtp_config(&server, true), smtp::PASSWORD);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains(&format!(
            "ok   notify smtp: smtp://127.0.0.1:{} answers",
            server.port
        )),
        "{out}"
    );

    let (code, out, err) = check_smtp(dir.path(), &smtp_config(&server, true), "not-the-smtp-pass");
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("FAIL notify smtp:") && out.contains("535") && out.contains("smtp-password"),
        "{out}"
    );
    assert!(
        !out.contains("not-the-smtp-pass") && !err.contains("not-the-smtp-pass"),
        "{out}{err}"
    );

    // Without the private CA, the certificate is refused, and the fix named.
    let (code, out, _) = check_smtp(dir.path(), &smtp_config(&server, false), smtp::PASSWORD);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("FAIL notify smtp:") && out.contains("smtp_ca_file"),
        "{out}"
    );
    assert!(!out.contains(smtp::PASSWORD), "{out}");
}

/// The daemon tells operators by email, through the real SMTP server with
/// STARTTLS and AUTH, to file a request for a grant that arrived over IMAP.
#[test]
fn the_notify_filer_emails_operators_through_a_real_smtp_server() {
    let dc = Dovecot::start(Options::default());
    let server = Smtp::start();
    let mut d = Daemon::tls(&dc, "");
    // Replace the helper's [worker] table with the email channel.
    let cfg = std::fs::read_to_string(&d.cfg).unwrap().replacen(
        "[worker]\nfiler = \"log\"\npoll_seconds = 1\n",
        "",
        1,
    );
    let notify = smtp_config(&server, true);
    std::fs::write(&d.cfg, format!("{cfg}{notify}")).unwrap();
    d.start_with(&[("COLLABD_SMTP_PASSWORD", smtp::PASSWORD)])
        .wait_idle();
    dc.append("INBOX", &[grant("mailed-shop", "6161", 1)]);
    wait_for(
        Duration::from_secs(15),
        "the email to the operators",
        || server.spool().contains("mailed-shop.myshopify.com"),
    );
    let mail = server.spool();
    assert!(mail.contains("RCPT TO ops@agency.example"), "{mail}");
    // The server has the email before the worker has heard the relay's
    // last answer and committed: wait for the state, do not race it.
    wait_for(
        Duration::from_secs(15),
        "the request to be notified",
        || support::daemon::sql(&d.db, "select state from access_requests") == "notified",
    );
    assert!(!d.log().contains(smtp::PASSWORD), "{}", d.log());
}

/// One native journal record: the fields of a datagram in journald's
/// protocol (`KEY=value` lines, or `KEY`, a little-endian u64 length and
/// the bytes, for values with newlines).
fn journal_fields(mut d: &[u8]) -> std::collections::HashMap<String, String> {
    let mut fields = std::collections::HashMap::new();
    while !d.is_empty() {
        let end = d.iter().position(|b| *b == b'\n').unwrap_or(d.len());
        let line = &d[..end];
        if let Some(eq) = line.iter().position(|b| *b == b'=') {
            fields.insert(
                String::from_utf8_lossy(&line[..eq]).into_owned(),
                String::from_utf8_lossy(&line[eq + 1..]).into_owned(),
            );
            d = &d[(end + 1).min(d.len())..];
        } else {
            let key = String::from_utf8_lossy(line).into_owned();
            let rest = &d[end + 1..];
            let len = u64::from_le_bytes(rest[..8].try_into().unwrap()) as usize;
            let value = String::from_utf8_lossy(&rest[8..8 + len]).into_owned();
            fields.insert(key, value);
            d = &rest[(8 + len + 1).min(rest.len())..];
        }
    }
    fields
}

/// Under systemd (JOURNAL_STREAM set) collabd writes native journal records
/// with its own fields. journald's socket has a fixed path, so the daemon
/// runs in its own mount namespace (unshare, as root) where a directory of
/// this test is mounted over /run/systemd/journal; its records reach a
/// socket the test reads.
#[test]
fn under_systemd_logs_are_native_journal_records_without_secrets() {
    use std::os::unix::net::UnixDatagram;
    let dc = Dovecot::start(Options::default());
    let mut d = Daemon::tls(&dc, "");
    let journal = tempfile::tempdir().unwrap();
    let socket = UnixDatagram::bind(journal.path().join("socket")).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    // The mount point must exist; the mount itself stays in the namespace.
    std::fs::create_dir_all("/run/systemd/journal").unwrap();
    let dir = journal.path().to_str().unwrap();
    d.start_wrapped(
        &[
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            "mount --bind \"$0\" /run/systemd/journal && exec \"$@\"",
            dir,
        ],
        &[("JOURNAL_STREAM", "8:12345")],
    )
    .wait_idle();
    // Read as journald would, while the daemon runs: the socket's queue
    // is short (net.unix.max_dgram_qlen, often 10), and a reader that
    // waited for the end would leave the daemon blocked on a full queue.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let drain = {
        let (socket, stop) = (socket.try_clone().unwrap(), stop.clone());
        std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                match socket.recv(&mut buf) {
                    Ok(n) => got.push(buf[..n].to_vec()),
                    Err(_) if stop.load(std::sync::atomic::Ordering::Relaxed) => return got,
                    Err(_) => {}
                }
            }
        })
    };
    dc.append("INBOX", &[grant("journal-shop", "4821", 1)]);
    wait_for(Duration::from_secs(15), "the grant", || d.requests() == 1);
    wait_for(Duration::from_secs(15), "the worker to file it", || {
        support::daemon::sql(&d.db, "select state from access_requests") == "logged"
    });
    d.sigterm();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let datagrams = drain.join().unwrap();

    let mut records = Vec::new();
    for raw in &datagrams {
        let n = raw.len();
        assert!(
            !raw.windows(4).any(|w| w == b"4821"),
            "a full code reached the journal: {}",
            String::from_utf8_lossy(raw)
        );
        assert!(
            !String::from_utf8_lossy(raw).contains(dovecot::PASSWORD),
            "the password reached the journal"
        );
        // tracing-journald sends an empty datagram to test the socket.
        if n > 0 {
            records.push(journal_fields(raw));
        }
    }
    let stored = records
        .iter()
        .find(|r| r.get("MESSAGE").is_some_and(|m| m == "stored a message"))
        .unwrap_or_else(|| panic!("no \"stored a message\" record in {records:#?}"));
    assert_eq!(stored["PRIORITY"], "6", "{stored:?}");
    assert_eq!(stored["SYSLOG_IDENTIFIER"], "collabd", "{stored:?}");
    assert_eq!(
        stored["F_MAILBOX"], "ops@agency.example/INBOX",
        "{stored:?}"
    );
    assert_eq!(stored["F_KIND"], "leadsie_grant", "{stored:?}");
    assert_eq!(stored["F_UID"], "1", "{stored:?}");
    let filed = records
        .iter()
        .find(|r| {
            r.get("F_STORE")
                .is_some_and(|s| s == "journal-shop.myshopify.com")
        })
        .unwrap_or_else(|| panic!("no record of the filing in {records:#?}"));
    assert_eq!(filed["F_CODE"], "**21", "{filed:?}");
    assert!(
        records
            .iter()
            .any(|r| r.get("MESSAGE").is_some_and(|m| m == "collabd stopped")),
        "{records:#?}"
    );
    // Nothing went to stderr: the journal had it all.
    assert_eq!(d.log(), "", "stderr under systemd");
}

/// Turning logging all the way up never writes a secret: async-imap logs
/// its LOGIN command and whole messages at trace, lettre and hyper their
/// exchanges, and collabd caps them at info whatever RUST_LOG says. The
/// IMAP password and the full code of a grant that went through the
/// watcher and the worker appear nowhere in the output.
#[test]
fn at_trace_level_the_log_shows_neither_the_imap_password_nor_a_code() {
    let dc = Dovecot::start(Options::default());
    let mut d = Daemon::tls(&dc, "");
    d.start_with(&[(
        "RUST_LOG",
        "trace,async_imap::imap_stream=trace,lettre=trace,hyper=trace",
    )])
    .wait_idle();
    dc.append("INBOX", &[grant("traced-shop", "7319", 1)]);
    wait_for(Duration::from_secs(15), "the grant", || d.requests() == 1);
    wait_for(Duration::from_secs(15), "the worker to file it", || {
        support::daemon::sql(&d.db, "select state from access_requests") == "logged"
    });
    d.sigterm();
    let log = d.log();
    assert!(
        log.contains("DEBUG") && log.contains("traced-shop"),
        "debug logging was on: {log}"
    );
    assert!(
        !log.contains(dovecot::PASSWORD),
        "the IMAP password reached the log"
    );
    assert!(
        !support::daemon::has_code(&log, "7319"),
        "the full code reached the log"
    );
}

/// GET over a fresh connection, or `None` when the listener closed it (at
/// its connection cap) or the answer could not be read.
fn try_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}

/// A slowloris client: sends a header line one byte a second and never ends
/// it. True once the server has closed the connection; false if it was
/// still open after `limit` seconds.
fn trickle(mut s: TcpStream, limit: u32) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let line = b"GET /healthz HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut buf = [0u8; 512];
    for i in 0..limit as usize {
        if s.write_all(&line[i % line.len()..][..1]).is_err() {
            return true;
        }
        match s.read(&mut buf) {
            // An answer (408) or the end: either way the server let go.
            Ok(_) => return true,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return true,
        }
    }
    false
}

/// Issue 9: 1,100 trickling connections once kept /healthz down and took
/// the file descriptors the database needed. With a connection cap and a
/// header timeout, 300 of them against a daemon limited to 256 open files
/// cost it nothing: a grant is still stored, every slow connection is cut
/// off, /healthz answers through a fresh connection, no accept ever fails.
#[test]
fn slowloris_clients_neither_keep_healthz_down_nor_starve_the_daemon() {
    let dc = Dovecot::start(Options::default());
    let port = dovecot::free_port();
    let mut d = Daemon::tls(
        &dc,
        &format!("[http]\nlisten = \"127.0.0.1:{port}\"\nheader_timeout_seconds = 2"),
    );
    d.start_wrapped(&["prlimit", "--nofile=256:256", "--"], &[])
        .wait_idle();
    wait_for(Duration::from_secs(10), "/healthz", || {
        try_get(port, "/healthz").is_some_and(|(s, _)| s == 200)
    });

    let attackers: Vec<_> = (0..300)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .map(|s| std::thread::spawn(move || trickle(s, 60)))
        .collect();
    dc.append("INBOX", &[grant("slowloris-shop", "7373", 1)]);
    wait_for(Duration::from_secs(30), "the grant under attack", || {
        d.requests() == 1
    });
    wait_for(
        Duration::from_secs(30),
        "/healthz through a fresh connection",
        || try_get(port, "/healthz").is_some_and(|(s, _)| s == 200),
    );
    let held = attackers
        .into_iter()
        .map(|a| a.join().unwrap())
        .filter(|closed| !closed)
        .count();
    assert_eq!(held, 0, "slow connections the server never closed");
    assert_eq!(try_get(port, "/healthz").map(|(s, _)| s), Some(200));
    assert!(d.alive(), "{}", d.log());
    let log = d.log();
    assert!(!log.contains("accept failed"), "{log}");
    assert!(!log.contains("unable to open database file"), "{log}");
}

/// `collabd run` (here with a deadline, in case it did start) : exit code
/// and stderr.
fn run_briefly(cfg: &std::path::Path) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_collabd"))
        .args(["run", "--config", cfg.to_str().unwrap()])
        .env_remove("COLLABD_CONFIG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// /healthz and /metrics have no authentication: a listen address other
/// hosts can reach is refused at start unless `http.allow_remote` says the
/// operator meant it.
#[test]
fn a_non_loopback_http_listen_needs_allow_remote() {
    let dir = tempfile::tempdir().unwrap();
    let port = dovecot::free_port();
    let cfg = config_in(
        dir.path(),
        &format!("[http]\nlisten = \"0.0.0.0:{port}\"\n"),
    );
    let (code, err) = run_briefly(&cfg);
    assert_eq!(code, Some(78), "{err}");
    assert!(
        err.contains(&format!(
            "config setting http.listen: 0.0.0.0:{port} is not a loopback address"
        )) && err.contains("http.allow_remote = true"),
        "{err}"
    );
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());

    let check = |http: &str| {
        // A filer chosen, so that only [http] decides the outcome.
        let cfg = config_in(
            dir.path(),
            &format!("[worker]\nfiler = \"log\"\n[http]\n{http}\n"),
        );
        collabd(&["check-config", "--config", cfg.to_str().unwrap()])
    };
    let (code, out, _) = check(&format!("listen = \"0.0.0.0:{port}\"\nallow_remote = true"));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "ok   http: /healthz and /metrics will be served on http://0.0.0.0:{port} (reachable from other hosts: http.allow_remote = true)"
        )),
        "{out}"
    );

    // Loopback in any spelling needs nothing more.
    for listen in [
        format!("[::1]:{port}"),
        format!("[::ffff:127.0.0.1]:{port}"),
    ] {
        let (code, out, _) = check(&format!("listen = \"{listen}\""));
        assert_eq!(code, Some(0), "{listen}: {out}");
    }

    let (code, out, _) = check(&format!(
        "listen = \"127.0.0.1:{port}\"\nheader_timeout_seconds = 0"
    ));
    assert_eq!(code, Some(78), "{out}");
    assert!(
        out.contains("http.header_timeout_seconds: must be at least 1 second"),
        "{out}"
    );
}

/// Without `[worker.notify]` or a filer, requests would reach nobody: the
/// log filer is never a silent default. `collabd run` refuses to start,
/// naming the setting and each way out, before it creates a database;
/// check-config fails on the same words.
#[test]
fn run_refuses_to_start_without_a_filer_that_reaches_someone() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_in(dir.path(), "");
    let (code, err) = run_briefly(&cfg);
    assert_eq!(code, Some(78), "{err}");
    for says in [
        "worker.filer",
        "requests would reach nobody",
        "[worker.notify]",
        "filer = \"webhook\" or \"command\"",
        "filer = \"log\" in [worker] for a dry run",
    ] {
        assert!(err.contains(says), "no `{says}` in {err}");
    }
    assert!(!dir.path().join("c.db").exists(), "a database was created");

    let (code, out, _) = collabd(&["check-config", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("FAIL filer: config setting worker.filer: no filer is configured"),
        "{out}"
    );

    // Chosen by name, the dry run starts (and is stopped by SIGTERM).
    let cfg = config_in(dir.path(), "[worker]\nfiler = \"log\"\n");
    let (code, err) = run_briefly_then_sigterm(&cfg);
    assert_eq!(code, Some(0), "{err}");
}

/// `collabd run` for a moment, then SIGTERM: exit code and stderr.
fn run_briefly_then_sigterm(cfg: &std::path::Path) -> (Option<i32>, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_collabd"))
        .args(["run", "--config", cfg.to_str().unwrap()])
        .env_remove("COLLABD_CONFIG")
        .env_remove("COLLABD_DB")
        .env_remove("NOTIFY_SOCKET")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let db = cfg.with_file_name("c.db");
    wait_for(Duration::from_secs(20), "the database", || db.exists());
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Issue 9: one email whose extraction was quadratic once stalled the
/// daemon for good (classification ran on the async runtime, so /healthz
/// and WATCHDOG=1 stopped, systemd restarted it, and it fetched the same
/// message again forever). Now poison messages are read within their budget
/// off the runtime, stored, and passed: the grant behind them arrives, and
/// the daemon keeps answering and keeps feeding the watchdog throughout.
#[test]
fn a_poison_message_neither_stalls_the_mailbox_nor_silences_the_daemon() {
    use std::os::unix::net::UnixDatagram;
    let dc = Dovecot::start(Options::default());
    let port = dovecot::free_port();
    let mut d = Daemon::tls(&dc, &format!("[http]\nlisten = \"127.0.0.1:{port}\""));
    let sock_path = d.dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    d.start_with(&[
        ("NOTIFY_SOCKET", sock_path.to_str().unwrap()),
        ("WATCHDOG_USEC", "1000000"),
    ])
    .wait_idle();

    let mut stores = String::new();
    while stores.len() < 4 << 20 {
        stores.push_str(&format!(
            "Store: s{}.myshopify.com collaborator code 1234 ",
            stores.len()
        ));
    }
    let poison = |from: &str, body: &str| {
        format!(
            "From: {from}\r\nSubject: Shopify collaborator access\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n\r\nShopify collaborator code\r\n{body}\r\n"
        )
        .into_bytes()
    };
    dc.append(
        "INBOX",
        &[
            poison("Leadsie <notifications@leadsie.com>", &stores),
            poison("Eve <eve@evil.example>", &stores.replace(' ', "\r\n")),
            poison(
                "Leadsie <notifications@leadsie.com>",
                &"\r\n".repeat(6 << 20),
            ),
            grant("after-poison", "8080", 1),
        ],
    );

    // Drain the notify socket while waiting for the grant, and ask /healthz
    // as an operator's monitoring would.
    let mut watchdog_pings = 0;
    let mut healthz_answers = 0;
    let mut buf = [0u8; 4096];
    wait_for(
        Duration::from_secs(60),
        "the grant behind the poison",
        || {
            while let Ok(n) = sock.recv(&mut buf) {
                watchdog_pings += String::from_utf8_lossy(&buf[..n])
                    .lines()
                    .filter(|l| *l == "WATCHDOG=1")
                    .count();
            }
            if try_get(port, "/healthz").is_some() {
                healthz_answers += 1;
            }
            d.requests() == 1
        },
    );
    assert!(
        watchdog_pings >= 1,
        "WATCHDOG=1 stopped while the poison was read"
    );
    assert!(healthz_answers >= 1, "/healthz stopped answering");
    assert_eq!(try_get(port, "/healthz").map(|(s, _)| s), Some(200));
    // Nothing was lost: every poison is stored with its verdict, and the
    // checkpoint is past them all.
    assert_eq!(
        support::daemon::sql(&d.db, "select count(*) from messages"),
        "4"
    );
    assert_eq!(
        support::daemon::sql(&d.db, "select store_domain from access_requests"),
        "after-poison.myshopify.com"
    );
    assert_eq!(
        support::daemon::sql(&d.db, "select last_uid from mailbox_state"),
        "4"
    );
    let (_, code) = d.sigterm();
    assert_eq!(code, Some(0));
}
