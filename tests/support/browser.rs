//! Debian's headless Chromium, driven through chromedriver (fantoccini), for
//! the status page's tests: chromedriver on a free loopback port, and a
//! browser session with a fresh profile, a window size and a colour scheme.
//! No browser a test starts outlives it, also when it fails: chromedriver
//! leads a process group that its Chromiums join, killed whole on drop; and
//! a [`Reaper`] kills what a collabd process killed outright left running.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};

use super::dovecot::free_port;

/// A chromedriver process and the Chromiums it started; dropped (also
/// while a test panics, sessions still open), they are all killed.
pub struct Driver {
    child: Child,
    pub url: String,
    /// Profiles of the sessions started, removed with the driver.
    profiles: Vec<tempfile::TempDir>,
}

impl Driver {
    /// Starts `/usr/bin/chromedriver` on a free port and waits until it
    /// answers `/status`.
    pub fn start() -> Driver {
        let port = free_port();
        let child = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // A group of its own, which every Chromium it starts joins.
            .process_group(0)
            .spawn()
            .expect("chromedriver is installed (apt-get install chromium-driver)");
        let url = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        loop {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                use std::io::{Read, Write};
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = s.write_all(
                    b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                );
                let mut answer = String::new();
                let _ = s.read_to_string(&mut answer);
                if answer.contains("\"ready\"") {
                    break;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver did not answer on port {port} within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            url,
            profiles: Vec::new(),
        }
    }

    /// A new headless Chromium session, `width`×`height`, light or dark
    /// (`prefers-color-scheme`).
    pub async fn session(&mut self, width: u32, height: u32, dark: bool) -> Client {
        let profile = tempfile::tempdir().unwrap();
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--window-size={width},{height}"),
        ];
        if dark {
            args.push("--force-dark-mode".to_owned());
            args.push("--blink-settings=preferredColorScheme=0".to_owned());
        }
        self.profiles.push(profile);
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": "/usr/bin/chromium", "args": args }),
        );
        // chromedriver on loopback speaks plain HTTP: no TLS connector,
        // as collabd's own browser filer connects to it.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a Chromium session");
        client.set_window_size(width, height).await.unwrap();
        client
    }
}

impl Driver {
    /// A session on a Chromium that is already running with remote
    /// debugging on `127.0.0.1:port`, as an operator's Chrome reaches one
    /// through `chrome://inspect` and an SSH tunnel: its open tab.
    pub async fn attach(&self, port: u16) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "debuggerAddress": format!("127.0.0.1:{port}") }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("chromedriver attaches to the running Chromium")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Killing chromedriver alone would leave its Chromiums running,
        // their parent init. Until it is waited for, its id cannot name
        // another group.
        if let Ok(group) = i32::try_from(self.child.id()) {
            kill_group(group);
        }
        let _ = self.child.wait();
    }
}

/// Dropped, kills every browser running on its profile, with the process
/// group each is in: what a collabd killed outright (SIGKILL, as a test
/// that fails kills its children) leaves behind, since collabd puts its
/// browser in a group of its own that nothing else kills.
pub struct Reaper(pub PathBuf);

impl Drop for Reaper {
    fn drop(&mut self) {
        collabd::browser::stop_orphans(&self.0);
    }
}

/// SIGKILL to process group `group`, unless it is this test's own.
fn kill_group(group: i32) {
    // SAFETY: getpgrp and kill have no memory preconditions.
    unsafe {
        if group > 1 && group != libc::getpgrp() {
            libc::kill(-group, libc::SIGKILL);
        }
    }
}
