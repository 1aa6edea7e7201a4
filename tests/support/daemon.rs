//! `collabd run` with its own database, config and log — as a child
//! process, or in this process through `collabd::daemon::run` with a
//! shutdown the test fires — and the helpers the daemon tests share.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::dovecot::{self, Dovecot};

/// Runs the collabd command line with `args` and `env` (no database or
/// config path inherited from the test's environment); returns the exit
/// code, stdout and stderr.
pub fn collabd_cli(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_collabd"))
        .args(args)
        .envs(env.iter().copied())
        .env_remove("COLLABD_CONFIG")
        .env_remove("COLLABD_DB")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A Leadsie grant for `store` with `code`, as Leadsie sends it.
pub fn grant(store: &str, code: &str, n: usize) -> Vec<u8> {
    format!(
        "From: Leadsie <notifications@leadsie.com>\r\nTo: ops@agency.example\r\nSubject: {store} has granted you access\r\n\
         Date: Mon, 02 Nov 2026 09:00:00 +0000\r\nMessage-ID: <grant-{n}-{store}@leadsie.com>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nClient: {store}\r\n\r\nShopify\r\nStore URL: https://{store}.myshopify.com\r\n\
         Collaborator code: {code}\r\n"
    )
    .into_bytes()
}

/// Ordinary mail from a sender that is neither trusted nor a forwarder.
pub fn newsletter(n: usize, pad: usize) -> Vec<u8> {
    format!(
        "From: News <news@shop-news.example>\r\nTo: ops@agency.example\r\nSubject: Weekly digest {n}\r\n\
         Date: Mon, 02 Nov 2026 09:00:00 +0000\r\nMessage-ID: <news-{n}@shop-news.example>\r\n\r\n{}\r\n",
        "lorem ipsum dolor sit amet ".repeat(pad / 27 + 1)
    )
    .into_bytes()
}

/// A status-page users file in `dir` with one user, the line as `collabd
/// http-user` prints it.
pub fn users_file(dir: &Path, name: &str, password: &str) -> PathBuf {
    let path = dir.join("http-users");
    let line = collabd::users::users_file_line(name, password).unwrap();
    std::fs::write(&path, format!("{line}\n")).unwrap();
    path
}

pub fn sql(db: &Path, q: &str) -> String {
    let out = Command::new("sqlite3")
        .arg("-cmd")
        .arg(".timeout 5000")
        .arg(db)
        .arg(q)
        .output()
        .expect("sqlite3 is installed");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub fn count(db: &Path, q: &str) -> i64 {
    sql(db, q).parse().unwrap_or(-1)
}

/// Whether `code` (a collaborator code) stands in `text` on its own, not
/// as four digits inside a longer number: a log's timestamps carry
/// microseconds, and "…57.480105Z" holds "0105" without naming any code.
pub fn has_code(text: &str, code: &str) -> bool {
    text.match_indices(code).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + code.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

pub fn wait_for(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `collabd run` against a Dovecot, with its own database and log.
pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub cfg: PathBuf,
    child: Option<Child>,
    in_process: Option<InProcess>,
}

/// `collabd::daemon::run` on a runtime of its own, and the shutdown that
/// stops it.
struct InProcess {
    runtime: tokio::runtime::Runtime,
    shutdown: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Daemon {
    /// `imap` is the `[imap]` table's body past host, user and password.
    pub fn new(imap: &str) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("collabd.db");
        let cfg = dir.path().join("collabd.toml");
        let pw = dir.path().join("imap-password");
        std::fs::write(&pw, format!("{}\n", dovecot::PASSWORD)).unwrap();
        // As the README installs it: only its owner reads it.
        std::fs::set_permissions(&pw, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        std::fs::write(
            &cfg,
            format!(
                "[database]\npath = \"{}\"\n[trust]\nforwarders = [\"agency.example\"]\n[worker]\nfiler = \"log\"\npoll_seconds = 1\n\
                 [imap]\nhost = \"127.0.0.1\"\nuser = \"{}\"\npassword_file = \"{}\"\n{imap}\n",
                db.display(),
                dovecot::USER,
                pw.display()
            ),
        )
        .unwrap();
        Daemon {
            dir,
            db,
            cfg,
            child: None,
            in_process: None,
        }
    }

    pub fn tls(d: &Dovecot, extra: &str) -> Daemon {
        Daemon::new(&format!(
            "port = {}\nca_file = \"{}\"\n{extra}",
            d.imaps_port,
            d.ca_file.display()
        ))
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("collabd.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub fn start(&mut self) -> &mut Self {
        self.start_with(&[])
    }

    pub fn start_with(&mut self, env: &[(&str, &str)]) -> &mut Self {
        self.start_wrapped(&[], env)
    }

    /// Starts `collabd run` as the last arguments of `wrapper` (a program
    /// and its arguments that exec it), or directly when `wrapper` is empty.
    pub fn start_wrapped(&mut self, wrapper: &[&str], env: &[(&str, &str)]) -> &mut Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let collabd = env!("CARGO_BIN_EXE_collabd");
        let mut cmd = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(collabd);
                c
            }
            None => Command::new(collabd),
        };
        let child = cmd
            .args(["run", "--config", self.cfg.to_str().unwrap()])
            .env_remove("COLLABD_DB")
            .env_remove("NOTIFY_SOCKET")
            .env("RUST_LOG", "info")
            // Test mail is unsigned: trust it by identity unless a test
            // says otherwise through `env`.
            .env("COLLABD__TRUST__REQUIRE", "none")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        self
    }

    /// The running daemon's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Runs the daemon in this process, as `collabd run --config` would
    /// (with unsigned test mail trusted by identity), minus what belongs to
    /// the process: signals, logging, sd_notify. [`Daemon::shut_down`]
    /// stops it.
    pub fn start_in_process(&mut self) -> &mut Self {
        let mut settings = collabd::config::Settings::load(Some(&self.cfg)).unwrap();
        settings.trust.require = collabd::mail::Require::None;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let shutdown = tokio_util::sync::CancellationToken::new();
        let task = runtime.spawn(collabd::daemon::run(settings, shutdown.clone()));
        self.in_process = Some(InProcess {
            runtime,
            shutdown,
            task,
        });
        self
    }

    /// Fires the in-process daemon's shutdown and returns what `run`
    /// returned; panics if it does not return within 30 s.
    pub fn shut_down(&mut self) -> anyhow::Result<()> {
        let p = self.in_process.take().expect("started in process");
        p.shutdown.cancel();
        p.runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(30), p.task).await })
            .expect("the daemon did not stop within 30 s of its shutdown")
            .expect("the daemon panicked")
    }

    pub fn state(&self) -> String {
        sql(
            &self.db,
            "select state || ' ' || connected from mailbox_state",
        )
    }

    pub fn wait_idle(&self) {
        wait_for(Duration::from_secs(20), "the watcher to reach IDLE", || {
            self.state() == "idle 1"
        });
    }

    pub fn requests(&self) -> i64 {
        count(&self.db, "select count(*) from access_requests")
    }

    pub fn sigkill(&mut self) {
        let mut c = self.child.take().unwrap();
        c.kill().unwrap();
        c.wait().unwrap();
    }

    /// SIGTERM; returns how long it took to exit and its exit code.
    pub fn sigterm(&mut self) -> (Duration, Option<i32>) {
        let mut c = self.child.take().unwrap();
        let start = Instant::now();
        Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .unwrap();
        loop {
            if let Some(s) = c.try_wait().unwrap() {
                return (start.elapsed(), s.code());
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "collabd ignored SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn alive(&mut self) -> bool {
        if let Some(p) = &self.in_process {
            return !p.task.is_finished();
        }
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    pub fn status(&self) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_collabd"))
            .args(["status", "--db", self.db.to_str().unwrap()])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(p) = self.in_process.take() {
            p.shutdown.cancel();
            p.runtime.shutdown_timeout(Duration::from_secs(10));
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
