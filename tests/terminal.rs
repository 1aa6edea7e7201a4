//! collabd at a terminal and away from one, through a real pseudo-terminal:
//! `http-user` asks for the password without echoing it and leaves the
//! terminal as it found it; the log is coloured only on a terminal, never
//! into a pipe or a file, and never under `NO_COLOR`.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A pseudo-terminal: the test types into and reads from `master`; a
/// child gets `slave` as its terminal.
struct Pty {
    master: File,
    slave: OwnedFd,
    /// Everything the terminal showed so far.
    shown: Vec<u8>,
}

impl Pty {
    fn open() -> Pty {
        let (mut master, mut slave) = (-1, -1);
        // SAFETY: openpty writes two descriptors it opened; the name,
        // settings and size are left to it.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors are fresh and owned by nothing else.
        unsafe {
            Pty {
                master: File::from_raw_fd(master),
                slave: OwnedFd::from_raw_fd(slave),
                shown: Vec::new(),
            }
        }
    }

    fn stdio(&self) -> Stdio {
        Stdio::from(self.slave.try_clone().unwrap())
    }

    /// Reads what the terminal shows until `wanted` appears (or, for
    /// `None`, until it has been quiet a moment); panics after 20 s.
    fn read_until(&mut self, wanted: Option<&str>) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(w) = wanted
                && String::from_utf8_lossy(&self.shown).contains(w)
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no {wanted:?} on the terminal: {:?}",
                String::from_utf8_lossy(&self.shown)
            );
            let mut poll = libc::pollfd {
                fd: self.master.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            let ready = unsafe { libc::poll(&mut poll, 1, 300) };
            if ready <= 0 {
                if wanted.is_none() {
                    break;
                }
                continue;
            }
            let mut buf = [0u8; 4096];
            match self.master.read(&mut buf) {
                Ok(n) if n > 0 => self.shown.extend_from_slice(&buf[..n]),
                // EIO: nothing holds the other side open.
                _ if wanted.is_none() => break,
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        String::from_utf8_lossy(&self.shown).into_owned()
    }

    fn type_line(&mut self, line: &str) {
        self.master
            .write_all(format!("{line}\n").as_bytes())
            .unwrap();
    }

    fn echoes(&self) -> bool {
        // SAFETY: termios is plain data, filled by tcgetattr.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: a terminal descriptor this test owns.
        assert_eq!(
            unsafe { libc::tcgetattr(self.slave.as_raw_fd(), &mut t) },
            0
        );
        t.c_lflag & libc::ECHO != 0
    }
}

/// Waits for `child` at most 20 s.
fn finish(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("collabd did not finish");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `collabd http-user alice` with the terminal as stdin, stdout and stderr.
fn http_user_alice(pty: &Pty) -> Child {
    Command::new(env!("CARGO_BIN_EXE_collabd"))
        .args(["http-user", "alice"])
        .env_remove("COLLABD_CONFIG")
        .stdin(pty.stdio())
        .stdout(pty.stdio())
        .stderr(pty.stdio())
        .spawn()
        .unwrap()
}

#[test]
fn http_user_reads_the_password_at_a_terminal_without_echo() {
    let mut pty = Pty::open();
    assert!(pty.echoes(), "a new terminal echoes");
    let mut child = http_user_alice(&pty);
    pty.read_until(Some("Password for alice: "));
    pty.type_line("tty-s3cret horse");
    pty.read_until(Some("Again, to confirm: "));
    pty.type_line("tty-s3cret horse");
    let status = finish(&mut child);
    let shown = pty.read_until(None);
    assert!(status.success(), "{status:?}: {shown}");
    assert!(
        !shown.contains("s3cret"),
        "the terminal showed the password: {shown:?}"
    );
    let line = shown
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .find(|l| l.starts_with("alice:$argon2id$"))
        .unwrap_or_else(|| panic!("no users-file line: {shown:?}"));
    let users = collabd::users::Users::parse(line).unwrap();
    assert!(users.verify("alice", "tty-s3cret horse"));
    assert!(pty.echoes(), "the terminal echoes again afterwards");
}

#[test]
fn http_user_refuses_two_different_passwords_and_restores_echo() {
    let mut pty = Pty::open();
    let mut child = http_user_alice(&pty);
    pty.read_until(Some("Password for alice: "));
    pty.type_line("first-s3cret");
    pty.read_until(Some("Again, to confirm: "));
    pty.type_line("other-s3cret");
    let status = finish(&mut child);
    let shown = pty.read_until(None);
    assert_eq!(status.code(), Some(1), "{shown}");
    assert!(shown.contains("the two passwords differ"), "{shown:?}");
    assert!(
        !shown.contains("$argon2id$") && !shown.contains("s3cret"),
        "{shown:?}"
    );
    assert!(pty.echoes());
}

/// Ctrl-C at the prompt ends collabd as Ctrl-C does, with the terminal
/// echoing again.
#[test]
fn an_interrupted_prompt_leaves_the_terminal_echoing() {
    let mut pty = Pty::open();
    let mut child = http_user_alice(&pty);
    pty.read_until(Some("Password for alice: "));
    assert!(!pty.echoes(), "echo is off while the password is typed");
    // SAFETY: signals the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = finish(&mut child);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
    assert!(pty.echoes());
}

/// A config whose TLS client finds an empty trust store: collabd warns
/// (a log line at WARN) and goes on with the built-in roots.
fn warning_config(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let cfg = dir.join("collabd.toml");
    std::fs::write(
        &cfg,
        format!(
            "[database]\npath = \"{}\"\n[worker]\nfiler = \"webhook\"\n[worker.webhook]\nurl = \"https://127.0.0.1:1/hook\"\nsecret = \"s\"\n",
            dir.join("c.db").display()
        ),
    )
    .unwrap();
    let empty = dir.join("no-certificates.pem");
    std::fs::write(&empty, "").unwrap();
    (cfg, empty)
}

fn check_config(cfg: &std::path::Path, store: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_collabd"));
    cmd.args(["check-config", "--config", cfg.to_str().unwrap()])
        .env_remove("COLLABD_CONFIG")
        .env_remove("NO_COLOR")
        .env_remove("JOURNAL_STREAM")
        .env_remove("SSL_CERT_DIR")
        .env("SSL_CERT_FILE", store)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    cmd
}

#[test]
fn the_log_has_no_colour_in_a_pipe_or_under_no_color_and_colour_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, empty) = warning_config(dir.path());

    let out = check_config(&cfg, &empty)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let piped = String::from_utf8_lossy(&out.stderr);
    assert!(
        piped.contains("WARN") && piped.contains("SSL_CERT_FILE"),
        "{piped}"
    );
    assert!(!piped.contains('\x1b'), "colour into a pipe: {piped:?}");

    let log = dir.path().join("stderr.log");
    let status = check_config(&cfg, &empty)
        .stderr(File::create(&log).unwrap())
        .status()
        .unwrap();
    assert!(!status.success());
    let filed = std::fs::read_to_string(&log).unwrap();
    assert!(filed.contains("WARN"), "{filed}");
    assert!(!filed.contains('\x1b'), "colour into a file: {filed:?}");

    // On a terminal the level is coloured, unless NO_COLOR says otherwise.
    for (no_color, coloured) in [(None, true), (Some("1"), false)] {
        let mut pty = Pty::open();
        let mut cmd = check_config(&cfg, &empty);
        cmd.stderr(pty.stdio());
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let mut child = cmd.spawn().unwrap();
        drop(cmd);
        finish(&mut child);
        let shown = pty.read_until(None);
        assert!(shown.contains("WARN"), "{shown:?}");
        assert_eq!(
            shown.contains('\x1b'),
            coloured,
            "NO_COLOR={no_color:?}: {shown:?}"
        );
    }
}
