//! Self-signed IMAP servers, against a real Dovecot whose certificate comes
//! from `openssl req -x509` (self-signed, CA:TRUE): refused through
//! `ca_file` with a message that says why and prints the pin to copy,
//! accepted by `tls_pin` (the certificate's or its key's digest), and a
//! pin that does not match refused naming both digests. Without a CA file
//! or pin, the system's trust store decides, for IMAP, SMTP and HTTPS alike.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use support::daemon::{Daemon, grant, sql, wait_for};
use support::dovecot::{Dovecot, Options};
use support::self_signed;

/// Replaces Dovecot's certificate with a self-signed CA:TRUE one, as a
/// self-hosted server has; returns its path and its pin.
fn self_signed(dc: &mut Dovecot) -> (PathBuf, String) {
    let pin = self_signed::make(dc.dir.path());
    dc.restart();
    (dc.dir.path().join("server.pem"), pin)
}

fn check_config(d: &Daemon) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_collabd"))
        .args(["check-config", "--config", d.cfg.to_str().unwrap()])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn last_error(d: &Daemon) -> String {
    let mut err = String::new();
    wait_for(Duration::from_secs(20), "the certificate refused", || {
        err = sql(&d.db, "select last_error from mailbox_state");
        err.contains("certificate")
    });
    err
}

#[test]
fn a_self_signed_ca_certificate_is_refused_through_ca_file_and_accepted_by_its_pin() {
    let mut dc = Dovecot::start(Options::default());
    let (cert, pin) = self_signed(&mut dc);

    // ca_file pointing at the certificate itself: rustls will not take a CA
    // certificate as the server's. The message says so and what to set.
    let mut refused = Daemon::new(&format!(
        "port = {}\nca_file = \"{}\"",
        dc.imaps_port,
        cert.display()
    ));
    let (code, out) = check_config(&refused);
    assert_eq!(code, Some(1), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("FAIL imap login"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("self-signed"), "{line}");
    assert!(
        line.contains(&format!("imap.tls_pin = \"{pin}\"")),
        "check-config prints the pin to copy: {line}"
    );
    refused.start();
    let err = last_error(&refused);
    assert!(err.contains("self-signed") && err.contains(&pin), "{err}");
    assert!(refused.alive());

    // Without ca_file (the public roots) it is refused too.
    let public = Daemon::new(&format!("port = {}", dc.imaps_port));
    let (code, out) = check_config(&public);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(&format!("imap.tls_pin = \"{pin}\"")), "{out}");

    // The printed pin: implicit TLS, and the daemon stores a grant.
    let mut pinned = Daemon::new(&format!("port = {}\ntls_pin = \"{pin}\"", dc.imaps_port));
    let (code, out) = check_config(&pinned);
    assert_eq!(code, Some(0), "{out}");
    pinned.start().wait_idle();
    dc.append("INBOX", &[grant("pinned-shop", "8181", 1)]);
    wait_for(
        Duration::from_secs(15),
        "the grant over a pinned TLS",
        || pinned.requests() == 1,
    );

    // The key's digest in base64 works as well, and over STARTTLS.
    let by_key = Daemon::new(&format!(
        "port = {}\nsecurity = \"starttls\"\ntls_pin = \"{}\"",
        dc.imap_port,
        self_signed::key_pin(&cert)
    ));
    let (code, out) = check_config(&by_key);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn a_pin_that_does_not_match_is_refused_naming_both_digests() {
    let mut dc = Dovecot::start(Options::default());
    let (_, presented) = self_signed(&mut dc);
    let expected = format!("sha256:{}", "ab".repeat(32));
    let mut d = Daemon::new(&format!(
        "port = {}\ntls_pin = \"{expected}\"",
        dc.imaps_port
    ));
    let (code, out) = check_config(&d);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(&expected) && out.contains(&presented), "{out}");
    d.start();
    let err = last_error(&d);
    assert!(
        err.contains("does not match imap.tls_pin")
            && err.contains(&expected)
            && err.contains(&presented),
        "{err}"
    );
    assert_eq!(d.requests(), 0);
}

#[test]
fn a_pin_is_validated_with_the_rest_of_the_config() {
    for (imap, says) in [
        ("tls_pin = \"sha256:00\"", "imap.tls_pin"),
        ("tls_pin = \"md5:00\"", "sha256:"),
        (
            "tls_pin = \"sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"\nca_file = \"/etc/hostname\"",
            "beside a CA file",
        ),
        (
            "security = \"plain\"\ntls_pin = \"sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"",
            "needs a connection with TLS",
        ),
    ] {
        let d = Daemon::new(imap);
        let out = Command::new(env!("CARGO_BIN_EXE_collabd"))
            .args(["check-config", "--config", d.cfg.to_str().unwrap()])
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(78), "{imap}: {text}");
        assert!(
            text.contains("imap.tls_pin") && text.contains(says),
            "{imap}: {text}"
        );
    }
}

/// An HTTPS server on loopback that answers every request 204, with the
/// certificate and key in `dir` (`server.pem`, `server.key`); for as long
/// as the test runs.
fn https_server(dir: &std::path::Path) -> u16 {
    use std::io::{Read, Write};
    use std::sync::Arc;
    use tokio_rustls::rustls;
    let pem = std::fs::read(dir.join("server.pem")).unwrap();
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = std::fs::read(dir.join("server.key")).unwrap();
    let key = rustls_pemfile::private_key(&mut key.as_slice())
        .unwrap()
        .unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            // A refused handshake ends the read with an error: next client.
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match tls.read(&mut buf) {
                    Ok(n) if n > 0 => request.extend_from_slice(&buf[..n]),
                    _ => break,
                }
            }
            let _ = tls.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    port
}

/// Issue 24: collabd trusted only roots compiled into it, so Debian's
/// ca-certificates updates and a company CA installed the Debian way were
/// ignored. IMAP, the SMTP relay and HTTPS webhooks now trust the system's
/// store — here a bundle of the test CAs named by SSL_CERT_FILE, set for
/// the child only — and without it the same servers are refused.
#[test]
fn imap_smtp_and_webhooks_trust_the_system_store() {
    use support::smtp::{self, Smtp};
    let dc = Dovecot::start(Options::default());
    let relay = Smtp::start();
    let https_port = https_server(relay.dir.path());
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("system-bundle.pem");
    let pem = [&dc.ca_file, &relay.ca_file].map(|f| std::fs::read_to_string(f).unwrap());
    std::fs::write(&bundle, pem.concat()).unwrap();
    let pw = dir.path().join("imap-password");
    std::fs::write(&pw, format!("{}\n", support::dovecot::PASSWORD)).unwrap();
    let cfg = dir.path().join("collabd.toml");
    std::fs::write(
        &cfg,
        format!(
            "[database]\npath = \"{db}\"\n[trust]\nforwarders = [\"agency.example\"]\n\
             [worker]\nfiler = \"webhook\"\n[worker.webhook]\nurl = \"https://127.0.0.1:{https_port}/hook\"\nsecret = \"s\"\n\
             [worker.notify]\nsmtp_url = \"smtp://relay%40agency.example@127.0.0.1:{smtp_port}?tls=required\"\n\
             email_from = \"collabd <collabd@agency.example>\"\nemail_to = [\"ops@agency.example\"]\n\
             [imap]\nhost = \"127.0.0.1\"\nport = {imaps}\nuser = \"{user}\"\npassword_file = \"{pw}\"\n",
            db = dir.path().join("c.db").display(),
            smtp_port = relay.port,
            imaps = dc.imaps_port,
            user = support::dovecot::USER,
            pw = pw.display(),
        ),
    )
    .unwrap();
    let check = |store: Option<&std::path::Path>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_collabd"));
        cmd.args(["check-config", "--config", cfg.to_str().unwrap()])
            .env_remove("COLLABD_CONFIG")
            .env_remove("SSL_CERT_DIR")
            .env_remove("SSL_CERT_FILE")
            .env("COLLABD_SMTP_PASSWORD", smtp::PASSWORD);
        if let Some(store) = store {
            cmd.env("SSL_CERT_FILE", store);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = check(Some(&bundle));
    for ok in ["ok   imap login", "ok   notify smtp", "ok   filer webhook"] {
        assert!(out.contains(ok), "no `{ok}` in\n{out}");
    }
    assert_eq!(code, Some(0), "{out}");

    // The host's own store knows nothing of the test CAs.
    let (code, out) = check(None);
    assert_eq!(code, Some(1), "{out}");
    for refused in ["FAIL imap login", "FAIL notify smtp", "FAIL filer webhook"] {
        let line = out
            .lines()
            .find(|l| l.starts_with(refused))
            .unwrap_or_else(|| panic!("no `{refused}` in\n{out}"));
        assert!(
            line.contains("not trusted") || line.contains("UnknownIssuer"),
            "{line}"
        );
    }
}
