//! A certificate as a self-hosted server has one: `openssl req -x509`,
//! self-signed and marked CA:TRUE, for 127.0.0.1 and localhost.

use std::path::Path;
use std::process::{Command, Stdio};

fn openssl(args: &[&str], dir: &Path) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes `server.pem` and `server.key` into `dir`; returns the pin as
/// collabd prints it (the certificate's SHA-256, lowercase hex), computed
/// by openssl.
pub fn make(dir: &Path) -> String {
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-keyout",
            "server.key",
            "-out",
            "server.pem",
        ],
        dir,
    );
    let fingerprint = openssl(
        &[
            "x509",
            "-noout",
            "-fingerprint",
            "-sha256",
            "-in",
            "server.pem",
        ],
        dir,
    );
    let hex = fingerprint
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .replace(':', "")
        .to_ascii_lowercase();
    assert_eq!(hex.len(), 64, "{fingerprint}");
    format!("sha256:{hex}")
}

/// The base64 SHA-256 of the certificate's SubjectPublicKeyInfo, the
/// HPKP recipe.
pub fn key_pin(cert: &Path) -> String {
    let script = format!(
        "openssl x509 -in '{}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64",
        cert.display()
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success());
    format!("sha256:{}", String::from_utf8_lossy(&out.stdout).trim())
}
