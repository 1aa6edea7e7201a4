//! A real Dovecot 2.3 for tests, following docs/design.md: foreground with
//! `dovecot -F -c DIR/dovecot.conf`, its own base_dir/state_dir/log and a
//! unique instance_name, a 0755 temp dir, mail owned by uid 65534, readiness
//! judged by the `* OK` greeting.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const USER: &str = "ops@agency.example";
pub const PASSWORD: &str = "correct horse battery staple";
/// A second mailbox on the same server, for several accounts in one daemon.
pub const SECOND_USER: &str = "leads@clients.example";
pub const SECOND_PASSWORD: &str = "second mailbox, second secret";

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Advertise no IDLE, so clients must poll.
    pub no_idle: bool,
    /// An OAuth2 introspection URL: XOAUTH2 logins are checked there.
    pub oauth2_introspection: Option<String>,
}

pub struct Dovecot {
    pub dir: tempfile::TempDir,
    pub imap_port: u16,
    pub imaps_port: u16,
    pub ca_file: PathBuf,
    conf: PathBuf,
    child: Option<Child>,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a server certificate for 127.0.0.1/localhost signed by it.
pub fn make_certs(dir: &Path) {
    let d = |f: &str| dir.join(f);
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=collabd test CA",
        ])
        .arg("-keyout")
        .arg(d("ca.key"))
        .arg("-out")
        .arg(d("ca.pem"))
        .arg("-addext")
        .arg("basicConstraints=critical,CA:TRUE")
        .arg("-addext")
        .arg("keyUsage=critical,keyCertSign,cRLSign"));
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(d("server.key"))
        .arg("-out")
        .arg(d("server.csr")));
    std::fs::write(
        d("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
        .arg("-in")
        .arg(d("server.csr"))
        .arg("-CA")
        .arg(d("ca.pem"))
        .arg("-CAkey")
        .arg(d("ca.key"))
        .arg("-out")
        .arg(d("server.pem"))
        .arg("-extfile")
        .arg(d("ext.cnf")));
}

impl Dovecot {
    pub fn start(opts: Options) -> Dovecot {
        let dir = tempfile::Builder::new()
            .prefix("collabd-dovecot")
            .tempdir()
            .unwrap();
        let root = dir.path();
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
        make_certs(root);
        for sub in ["run", "state", "home"] {
            std::fs::create_dir(root.join(sub)).unwrap();
        }
        std::os::unix::fs::chown(root.join("home"), Some(65534), Some(65534)).unwrap();
        std::fs::write(
            root.join("users"),
            format!(
                "{USER}:{{PLAIN}}{PASSWORD}::::::\n{SECOND_USER}:{{PLAIN}}{SECOND_PASSWORD}::::::\n"
            ),
        )
        .unwrap();
        let (imap_port, imaps_port) = (free_port(), free_port());
        let r = root.display();
        let mut conf = format!(
            r#"instance_name = collabd-test-{imap_port}
base_dir = {r}/run
state_dir = {r}/state
log_path = {r}/dovecot.log
info_log_path = {r}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{r}/server.pem
ssl_key = <{r}/server.key
disable_plaintext_auth = no
auth_verbose = yes
mail_location = maildir:~/Maildir
# Test mail need not survive a power cut; appending is much faster.
mail_fsync = never
mail_uid = 65534
mail_gid = 65534
first_valid_uid = 1000
first_valid_gid = 1000
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={r}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
protocol imap {{
  imap_idle_notify_interval = 2 mins
}}
"#
        );
        match &opts.oauth2_introspection {
            None => conf.push_str(&format!(
                "auth_mechanisms = plain login\npassdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {r}/users\n}}\n"
            )),
            Some(url) => {
                std::fs::write(
                    root.join("oauth2.conf"),
                    format!("introspection_mode = post\nintrospection_url = {url}\nusername_attribute = username\nactive_attribute = active\nactive_value = true\n"),
                )
                .unwrap();
                conf.push_str(&format!(
                    "auth_mechanisms = plain login xoauth2 oauthbearer\npassdb {{\n  driver = passwd-file\n  mechanisms = plain login\n  args = scheme=PLAIN username_format=%u {r}/users\n}}\npassdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {r}/oauth2.conf\n}}\n"
                ));
            }
        }
        if opts.no_idle {
            conf.push_str("protocol imap {\n  imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE SORT UIDPLUS MOVE NAMESPACE UNSELECT CHILDREN\n}\n");
        }
        let conf_path = root.join("dovecot.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let ca_file = root.join("ca.pem");
        let mut d = Dovecot {
            dir,
            imap_port,
            imaps_port,
            ca_file,
            conf: conf_path,
            child: None,
        };
        d.launch();
        d
    }

    fn launch(&mut self) {
        // /usr/sbin is not on every PATH.
        let bin = ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or("dovecot");
        let child = Command::new(bin)
            .arg("-F")
            .arg("-c")
            .arg(&self.conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dovecot runs (apt-get install dovecot-imapd)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(s) = TcpStream::connect(("127.0.0.1", self.imap_port)) {
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut line = String::new();
                if BufReader::new(&s).read_line(&mut line).is_ok() && line.starts_with("* OK") {
                    return;
                }
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("dovecot exited ({status}): {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "dovecot did not greet: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    /// SIGTERM, and wait for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            unsafe { libc_kill(child.id() as i32, 15) };
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().unwrap().is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            // Its listeners are gone once it has exited.
        }
    }

    /// Starts it again on the same ports, with the same mail.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    pub fn doveadm(&self, args: &[&str]) -> String {
        let out = Command::new("doveadm")
            .arg("-c")
            .arg(&self.conf)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "doveadm {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Drops every connection of the test user.
    pub fn kick(&self) {
        self.doveadm(&["kick", USER]);
    }

    /// UIDs in `folder` with the given flag search (`ALL`, `SEEN`, …).
    pub fn uids(&self, folder: &str, search: &str) -> Vec<u32> {
        self.uids_of(USER, folder, search)
    }

    /// As [`Dovecot::uids`], in `user`'s mailbox.
    pub fn uids_of(&self, user: &str, folder: &str, search: &str) -> Vec<u32> {
        let out = self.doveadm(&[
            "-f", "flow", "fetch", "-u", user, "uid", "mailbox", folder, search,
        ]);
        out.lines()
            .filter_map(|l| l.trim().strip_prefix("uid=")?.trim().parse().ok())
            .collect()
    }

    /// Appends messages over one plaintext IMAP session.
    pub fn append(&self, folder: &str, messages: &[Vec<u8>]) {
        self.append_as((USER, PASSWORD), folder, messages)
    }

    /// As [`Dovecot::append`], logged in as `login` (user, password).
    pub fn append_as(&self, login: (&str, &str), folder: &str, messages: &[Vec<u8>]) {
        let (user, password) = login;
        let mut s = TcpStream::connect(("127.0.0.1", self.imap_port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut line = String::new();
        let mut expect = |r: &mut BufReader<TcpStream>, tag: &str| loop {
            line.clear();
            r.read_line(&mut line).unwrap();
            assert!(!line.is_empty(), "dovecot closed the connection");
            if tag.is_empty() || line.starts_with(tag) {
                assert!(
                    tag.is_empty() || line.starts_with(&format!("{} OK", tag.trim_end())),
                    "{line}"
                );
                return;
            }
        };
        expect(&mut r, "");
        write!(s, "a LOGIN \"{user}\" \"{password}\"\r\n").unwrap();
        expect(&mut r, "a");
        // MULTIAPPEND with LITERAL+: one command, one transaction, per chunk.
        for (c, chunk) in messages.chunks(200).enumerate() {
            let mut out = Vec::new();
            write!(out, "p{c} APPEND \"{folder}\"").unwrap();
            for m in chunk {
                write!(out, " {{{}+}}\r\n", m.len()).unwrap();
                out.extend_from_slice(m);
            }
            out.extend_from_slice(b"\r\n");
            let writer = {
                let mut s = s.try_clone().unwrap();
                std::thread::spawn(move || s.write_all(&out).unwrap())
            };
            expect(&mut r, &format!("p{c} "));
            writer.join().unwrap();
        }
        write!(s, "z LOGOUT\r\n").unwrap();
    }

    pub fn create_folder(&self, folder: &str) {
        self.create_folder_of(USER, folder);
    }

    pub fn create_folder_of(&self, user: &str, folder: &str) {
        self.doveadm(&["mailbox", "create", "-u", user, folder]);
    }

    pub fn delete_folder(&self, folder: &str) {
        self.doveadm(&["mailbox", "delete", "-u", USER, folder]);
    }
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
