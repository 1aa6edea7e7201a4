//! A real SMTP server for tests: aiosmtpd from Debian's python3-aiosmtpd
//! (`smtp_server.py` beside this file) on a loopback port it picks, with
//! STARTTLS and AUTH required, and a certificate from the same openssl CA
//! as the Dovecot harness. Accepted messages land in a spool file.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use super::dovecot::make_certs;

pub const USER: &str = "relay@agency.example";
pub const PASSWORD: &str = "smtp-s3cret-pass";

pub struct Smtp {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub ca_file: PathBuf,
    spool: PathBuf,
    child: Child,
}

impl Smtp {
    pub fn start() -> Smtp {
        Smtp::start_with_certs(make_certs)
    }

    /// With the certificate `make` writes as `server.pem` and `server.key`
    /// in the directory it is given.
    pub fn start_with_certs(make: impl FnOnce(&std::path::Path)) -> Smtp {
        let dir = tempfile::tempdir().unwrap();
        make(dir.path());
        let spool = dir.path().join("spool");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_server.py");
        // Debian's python3, which python3-aiosmtpd installs into (a python3
        // earlier on PATH, from pyenv say, would not see it).
        let mut child = Command::new("/usr/bin/python3")
            .arg(script)
            .arg(dir.path().join("server.pem"))
            .arg(dir.path().join("server.key"))
            .args([USER, PASSWORD])
            .arg(&spool)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.path().join("server.log")).unwrap())
            .spawn()
            .expect("/usr/bin/python3 (the SMTP test server needs Debian's python3-aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // It says the port it bound: no port is chosen here and freed
        // first, for another test's server to take in between.
        let port = line
            .trim()
            .strip_prefix("ready ")
            .and_then(|port| port.parse::<u16>().ok())
            .unwrap_or_else(|| {
                let log = dir.path().join("server.log");
                let log = std::fs::read_to_string(log).unwrap_or_default();
                panic!(
                    "the SMTP test server did not start \
                     (is python3-aiosmtpd installed?): {line:?} {log}"
                )
            });
        Smtp {
            ca_file: dir.path().join("ca.pem"),
            dir,
            port,
            spool,
            child,
        }
    }

    /// Everything the server accepted so far.
    pub fn spool(&self) -> String {
        std::fs::read_to_string(&self.spool).unwrap_or_default()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
