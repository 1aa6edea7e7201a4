//! A self-signed SMTP relay, against a real SMTP server (aiosmtpd with
//! STARTTLS and AUTH required) whose certificate comes from `openssl req
//! -x509`: check-config says why it is refused and prints the pin, a
//! notification is delivered through `smtp_tls_pin`, and a pin that does
//! not match is refused, naming both digests, before the password is sent.

mod support;

use std::process::Command;
use std::time::Duration;

use collabd::config::SmtpSettings;
use support::self_signed;
use support::smtp::{self, Smtp};

fn url(server: &Smtp) -> String {
    format!(
        "smtp://relay%40agency.example@127.0.0.1:{}?tls=required",
        server.port
    )
}

/// check-config on a `[worker.notify]` table to the server, with the SMTP
/// password in the environment.
fn check_config(server: &Smtp, extra: &str) -> (Option<i32>, String) {
    check_config_with(server, extra, smtp::PASSWORD)
}

fn check_config_with(server: &Smtp, extra: &str, password: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("collabd.toml");
    std::fs::write(
        &cfg,
        format!(
            "[database]\npath = \"{}\"\n[trust]\nrequire = \"none\"\n[worker]\nfiler = \"notify\"\n[worker.notify]\n\
             smtp_url = \"{}\"\nemail_from = \"collabd <collabd@agency.example>\"\nemail_to = [\"ops@agency.example\"]\n{extra}\n",
            dir.path().join("c.db").display(),
            url(server)
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_collabd"))
        .args(["check-config", "--config", cfg.to_str().unwrap()])
        .env("COLLABD_SMTP_PASSWORD", password)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!text.contains(password), "{text}");
    (out.status.code(), text)
}

fn notify_line(out: &str) -> &str {
    out.lines()
        .find(|l| l.contains("notify smtp"))
        .unwrap_or_else(|| panic!("{out}"))
}

/// The SMTP servers of these tests start one at a time: two started at
/// once could be handed the same free port, and a client would then meet
/// the other test's certificate.
static ONE_SERVER_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_server_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_SERVER_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn a_self_signed_relay_is_refused_with_the_pin_to_copy_and_delivers_by_that_pin() {
    let _one = one_server_at_a_time();
    let mut pin = String::new();
    let server = Smtp::start_with_certs(|dir| pin = self_signed::make(dir));
    let cert = server.dir.path().join("server.pem");

    // The certificate itself as smtp_ca_file: refused, and why.
    let (code, out) = check_config(&server, &format!("smtp_ca_file = \"{}\"", cert.display()));
    assert_eq!(code, Some(1), "{out}");
    let line = notify_line(&out);
    assert!(line.starts_with("FAIL"), "{line}");
    assert!(line.contains("self-signed"), "{line}");
    assert!(
        line.contains(&format!("worker.notify.smtp_tls_pin = \"{pin}\"")),
        "{line}"
    );

    // The daemon's notifications, refused the same way, say as much in the
    // log: what was wrong and the pin to copy.
    let notify = collabd::filer::NotifyFiler::from_channels(&collabd::config::NotifyChannels {
        slack: Vec::new(),
        dev_org_id: None,
        smtp: Some(SmtpSettings {
            url: url(&server).parse().unwrap(),
            password: Some(collabd::secret::Secret::new(smtp::PASSWORD)),
            ca_file: Some(cert.clone()),
            tls_pin: None,
        }),
        email_from: Some("collabd <collabd@agency.example>".into()),
        email_to: vec!["ops@agency.example".into()],
    })
    .unwrap();
    let (delivered, failed) = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(notify.send("refused", "not sent"));
    assert!(delivered.is_empty(), "{delivered:?}");
    let failure = failed.join("; ");
    assert!(failure.contains("self-signed"), "{failure}");
    assert!(
        failure.contains(&format!("worker.notify.smtp_tls_pin = \"{pin}\"")),
        "{failure}"
    );

    // The printed pin, and the key's pin in base64: the relay answers.
    for p in [pin.clone(), self_signed::key_pin(&cert)] {
        let (code, out) = check_config(&server, &format!("smtp_tls_pin = \"{p}\""));
        assert_eq!(code, Some(0), "{p}: {out}");
        assert!(notify_line(&out).starts_with("ok   notify smtp"), "{out}");
    }

    // A notification goes through the pinned relay.
    let relay = collabd::filer::smtp_transport(
        &SmtpSettings {
            url: url(&server).parse().unwrap(),
            password: Some(collabd::secret::Secret::new(smtp::PASSWORD)),
            ca_file: None,
            tls_pin: Some(pin.parse().unwrap()),
        },
        Duration::from_secs(15),
    )
    .unwrap();
    let message = lettre::Message::builder()
        .from("collabd <collabd@agency.example>".parse().unwrap())
        .to("ops@agency.example".parse().unwrap())
        .subject("pinned")
        .body("through a pinned relay".to_owned())
        .unwrap();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(relay.send(message))
        .unwrap();
    assert!(
        server.spool().contains("through a pinned relay"),
        "{}",
        server.spool()
    );
}

#[test]
fn a_relay_pin_that_does_not_match_is_refused_before_the_password_is_sent() {
    let _one = one_server_at_a_time();
    let mut presented = String::new();
    let server = Smtp::start_with_certs(|dir| presented = self_signed::make(dir));
    let expected = format!("sha256:{}", "cd".repeat(32));
    // A wrong password too: were it sent first, the server's 535 would be
    // the error.
    let (code, out) = check_config_with(
        &server,
        &format!("smtp_tls_pin = \"{expected}\""),
        "not-the-smtp-pass",
    );
    assert_eq!(code, Some(1), "{out}");
    let line = notify_line(&out);
    assert!(!line.contains("535"), "{line}");
    assert!(
        line.contains("does not match worker.notify.smtp_tls_pin")
            && line.contains(&expected)
            && line.contains(&presented),
        "{line}"
    );
    assert!(server.spool().is_empty());
}

#[test]
fn a_relay_pin_is_validated_with_the_rest_of_the_config() {
    let _one = one_server_at_a_time();
    let server = Smtp::start();
    for (extra, says) in [
        ("smtp_tls_pin = \"sha256:0123\"", "not a SHA-256 digest"),
        (
            "smtp_tls_pin = \"sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"\nsmtp_ca_file = \"/etc/hostname\"",
            "beside a CA file",
        ),
    ] {
        let (code, out) = check_config(&server, extra);
        assert_eq!(code, Some(78), "{extra}: {out}");
        assert!(
            out.contains("worker.notify.smtp_tls_pin") && out.contains(says),
            "{extra}: {out}"
        );
    }
}
