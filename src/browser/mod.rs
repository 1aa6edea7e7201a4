//! The browser collabd owns for the browser filer: one chromedriver and the
//! Chromium it starts, in their own process group, driven over WebDriver
//! (fantoccini) with the persistent profile that holds the operator's
//! dashboard login. This file owns starting, checking and killing them;
//! the rest is in its children:
//!
//! - [`form`] — filing: the form filled, the answer read as an outcome.
//! - [`page`] — reading what a page says, keeping evidence with the code
//!   masked.
//! - [`sync`] — reading the Collaborations list, and what it says of each
//!   store.
//! - [`session`] — the filer's browser and dashboard session: one tab at a
//!   time within a budget, the hourly limit, submissions never pressed
//!   twice, the login's health and the list's schedule. It keeps its
//!   records through the `store::browser::BrowserLedger` it is handed and
//!   opens no database.
//! - [`login`] — `collabd browser login`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::wd::TimeoutConfiguration;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::config::BrowserSettings;

pub mod form;
pub mod login;
pub mod page;
pub mod session;
pub mod sync;

/// Why the browser could not be started or used.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error(
        "cannot start {program}: {source} (install Debian's chromium and chromium-driver, or set worker.browser.chromedriver / chromium)"
    )]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Start(String),
    #[error(
        "the browser profile {0} is in use by another Chromium (process {1}); is `collabd browser login` still open? Close it and try again"
    )]
    ProfileInUse(PathBuf, u32),
    /// Another live collabd process owns the profile's browser.
    #[error(
        "the browser profile {0} is in use by another collabd process (the daemon's browser, or `collabd browser login`); try again when it is done (the daemon closes an idle browser after worker.browser.idle_close_minutes, unless that is 0)"
    )]
    ProfileBusy(PathBuf),
    #[error("the browser stopped answering: {0}; it will be restarted")]
    WebDriver(#[from] fantoccini::error::CmdError),
    /// The attempt's claim ran out before the button was pressed (another
    /// attempt may own the request): nothing was sent.
    #[error(
        "this attempt's claim on the request ran out before “send” was pressed; nothing was sent (a newer attempt owns the request)"
    )]
    ClaimLost,
    #[error("cannot keep evidence in {path}: {source}")]
    Evidence {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// How the browser is started: headless for the filer, with a window or
/// with remote debugging for `collabd browser login`.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    pub visible: bool,
    /// Chromium's DevTools on this loopback port (a login on a server).
    /// DevTools has no authentication: any local user who finds the port
    /// owns the browser and its session cookies, so it is opened only for
    /// the operator's sign-in, and lives only as long as that. Without it
    /// Chromium speaks to chromedriver over pipes and listens on no port.
    pub debugging_port: Option<u16>,
}

/// A running chromedriver + Chromium with a WebDriver session. Dropping it
/// kills the whole process group, so no Chromium outlives its owner.
pub struct Browser {
    pub client: fantoccini::Client,
    driver: tokio::process::Child,
    /// chromedriver's process group; Chromium and its helpers inherit it.
    pgid: Option<i32>,
    /// `state_dir/browser.lock`, locked while this browser lives: the
    /// kernel lets go of it when its process dies, however it dies.
    _owner: std::fs::File,
    profile: PathBuf,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser").field("pgid", &self.pgid).finish()
    }
}

/// The flags Chromium always gets: no first-run UI, nothing that reaches
/// out to Google on its own, a fixed window size for screenshots.
fn chromium_args(s: &BrowserSettings, launch: &Launch) -> Vec<String> {
    let mut args = vec![
        format!("--user-data-dir={}", s.profile_dir().display()),
        "--disable-gpu".into(),
        "--no-first-run".into(),
        "--no-default-browser-check".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-default-apps".into(),
        "--disable-dev-shm-usage".into(),
        "--password-store=basic".into(),
        "--window-size=1280,1024".into(),
        // Fewer processes, less memory: the browser only ever shows the
        // dashboard, one tab at a time (see `cargo bench --bench browser`).
        "--in-process-gpu".into(),
        "--renderer-process-limit=1".into(),
        "--disable-extensions".into(),
        "--disable-site-isolation-trials".into(),
        "--enable-features=NetworkServiceInProcess2,NetworkServiceInProcess".into(),
        // WebUIOmnibox*: Chromium 156 keeps the address bar's popup ready
        // in a renderer of its own (60-85 MB), even headless.
        "--disable-features=SpareRendererForSitePerProcess,Translate,OptimizationHints,MediaRouter,site-per-process,IsolateOrigins,WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup".into(),
    ];
    if s.headless && !launch.visible {
        args.push("--headless=new".into());
    }
    // Chromium refuses to run as root with its sandbox on; under systemd
    // deploy/collabd-browser.conf forbids what its sandbox needs and sets
    // COLLABD_BROWSER_NO_SANDBOX, the service's sandbox standing in for it.
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0
        || std::env::var_os("COLLABD_BROWSER_NO_SANDBOX").is_some_and(|v| v == "1")
    {
        args.push("--no-sandbox".into());
        // Without the sandbox the zygote is of no use, and it still calls
        // into the namespace sandbox (a CHECK that kills it under
        // RestrictNamespaces=yes): every process is started directly.
        args.push("--no-zygote".into());
    }
    // chromedriver otherwise opens DevTools on a loopback port, which every
    // local user can reach (and find in DevToolsActivePort, or by
    // scanning): over pipes, only chromedriver reaches Chromium. With a
    // debugging port as well (Chromium 156 takes both), chromedriver still
    // uses the pipes and the port is the operator's alone.
    args.push("--remote-debugging-pipe".into());
    if let Some(port) = launch.debugging_port {
        args.push("--remote-debugging-address=127.0.0.1".into());
        args.push(format!("--remote-debugging-port={port}"));
    }
    args.extend(s.args.iter().cloned());
    args
}

impl Browser {
    /// Starts chromedriver on a free loopback port, then Chromium through
    /// it, within `within`.
    pub async fn start(
        s: &BrowserSettings,
        launch: &Launch,
        within: Duration,
    ) -> Result<Browser, BrowserError> {
        match Browser::start_once(s, launch, within).await {
            // Chromium now and then exits while it starts (seen about once
            // in a hundred starts on a loaded machine): one more try before
            // the filing is given back to the queue.
            Err(BrowserError::Start(why)) if why.contains("session not created") => {
                tracing::warn!("Chromium exited while starting ({why}); starting it once more");
                Browser::start_once(s, launch, within).await
            }
            other => other,
        }
    }

    async fn start_once(
        s: &BrowserSettings,
        launch: &Launch,
        within: Duration,
    ) -> Result<Browser, BrowserError> {
        let profile = s.profile_dir();
        // The profile holds the dashboard's session cookies: the state
        // directory, the profile and Chromium's home are collabd's alone.
        private_dir(&s.state_dir)?;
        private_dir(&profile)?;
        // Scanning /proc and waiting for an orphan to die block: off the
        // runtime, which also runs IMAP, HTTP and the watchdog.
        let owner = {
            let (state_dir, profile) = (s.state_dir.clone(), profile.clone());
            tokio::task::spawn_blocking(move || own_profile(&state_dir, &profile))
                .await
                .map_err(|e| BrowserError::Start(format!("cannot check the profile: {e}")))??
        };
        clear_stale_lock(&profile)?;
        // Chromium writes beside its profile too ($HOME/.config, caches):
        // under systemd or `sudo -u collabd` HOME may be missing or not
        // collabd's, so it gets one in the state directory.
        let home = s.state_dir.join("home");
        private_dir(&home)?;
        let mut cmd = tokio::process::Command::new(&s.chromedriver);
        // chromedriver and Chromium get only what they need, never
        // collabd's environment (which may hold secrets such as
        // COLLABD_IMAP_PASSWORD).
        cmd.env_clear();
        let mut keep = vec!["PATH", "LANG", "LC_ALL", "TZ", "COLLABD_BROWSER_NO_SANDBOX"];
        if launch.visible {
            keep.extend([
                "DISPLAY",
                "WAYLAND_DISPLAY",
                "XAUTHORITY",
                "XDG_RUNTIME_DIR",
            ]);
        }
        for key in keep {
            if let Some(v) = std::env::var_os(key) {
                cmd.env(key, v);
            }
        }
        // chromedriver has no authentication either: anyone who reaches
        // its port can take over the session, or start a "browser" that is
        // any program they like, as collabd's user. It answers only under
        // this secret path, which is wiped from its command line below.
        let secret = crate::secret::random_token();
        cmd.arg("--port=0")
            .arg(format!("--url-base=/{secret}"))
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true);
        let mut driver = cmd.spawn().map_err(|source| BrowserError::Spawn {
            program: s.chromedriver.display().to_string(),
            source,
        })?;
        let driver_pid = driver.id();
        let pgid = driver_pid.and_then(|p| i32::try_from(p).ok());
        let mut browser_guard = Guard(pgid);
        let stdout = driver.stdout.take();
        let port = tokio::time::timeout(within, async {
            let mut lines = BufReader::new(stdout?).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.split("started successfully on port ").nth(1) {
                    return rest.trim_end_matches('.').trim().parse::<u16>().ok();
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .ok_or_else(|| {
            BrowserError::Start(format!(
                "{} did not say which port it listens on within {}s",
                s.chromedriver.display(),
                within.as_secs()
            ))
        })?;
        // chromedriver has parsed its arguments once it says its port.
        if let Some(pid) = driver_pid {
            hide_secret(pid, &secret);
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": s.chromium,
                "args": chromium_args(s, launch),
                "excludeSwitches": ["enable-automation"],
            }),
        );
        caps.insert("pageLoadStrategy".into(), "normal".into());
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = tokio::time::timeout(
            within,
            fantoccini::ClientBuilder::new(connector)
                .capabilities(caps)
                // The trailing slash matters: fantoccini joins "session",
                // "status" and the like onto this URL, and without it the
                // secret would be replaced rather than kept.
                .connect(&format!("http://127.0.0.1:{port}/{secret}/")),
        )
        .await
        .map_err(|_| {
            BrowserError::Start(format!(
                "Chromium ({}) did not start within {}s",
                s.chromium.display(),
                within.as_secs()
            ))
        })?
        .map_err(|e| {
            BrowserError::Start(format!(
                "Chromium ({}) did not start: {e}",
                s.chromium.display()
            ))
        })?;
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(Duration::from_secs(10)),
                Some(within),
                Some(Duration::ZERO),
            ))
            .await?;
        browser_guard.0 = None;
        Ok(Browser {
            client,
            driver,
            pgid,
            _owner: owner,
            profile,
        })
    }

    /// Whether the browser still answers, within a short wait.
    pub async fn alive(&self) -> bool {
        matches!(
            tokio::time::timeout(Duration::from_secs(3), self.client.current_url()).await,
            Ok(Ok(_))
        )
    }

    /// Ends the session politely (Chromium writes its profile), then kills
    /// whatever is left. The profile's lock is let go only once its
    /// processes are gone, so the next start does not find them dying.
    pub async fn stop(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.client.clone().close()).await;
        let running = on_profile(&self.profile);
        kill_group(self.pgid.take());
        let _ = self.driver.start_kill();
        let profile = self.profile.clone();
        let _ = tokio::task::spawn_blocking(move || {
            wait_gone(&profile, &running, Duration::from_secs(5))
        })
        .await;
    }

    /// The process group, for tests that kill the browser mid-filing.
    pub fn process_group(&self) -> Option<i32> {
        self.pgid
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_group(self.pgid.take());
    }
}

/// Kills the group if `start` fails part-way.
struct Guard(Option<i32>);

impl Drop for Guard {
    fn drop(&mut self) {
        kill_group(self.0.take());
    }
}

fn kill_group(pgid: Option<i32>) {
    if let Some(pgid) = pgid.filter(|p| *p > 1) {
        // SAFETY: kill has no memory preconditions; a negative pid names
        // the process group collabd created for this browser only.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

/// Takes `state_dir/browser.lock` for the browser about to start. Taken by
/// another live process: that process owns the profile, and this one
/// leaves it alone. Free: whoever held it is gone, so a Chromium still on
/// the profile was left behind by an owner that was killed (SIGKILL, the
/// OOM killer; outside systemd nothing kills its process group) and is
/// stopped here, so the profile's lock does not keep every later start out.
fn own_profile(state_dir: &Path, profile: &Path) -> Result<std::fs::File, BrowserError> {
    use std::os::fd::AsRawFd;
    let path = state_dir.join("browser.lock");
    // Read-only is enough for flock, so a lock file someone else created
    // (a `sudo collabd …` run as root) still serves the service's user;
    // only then is the holder's name not written into it.
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .or_else(|_| std::fs::File::open(&path))
        .map_err(|e| BrowserError::Start(format!("cannot open {}: {e}", path.display())))?;
    // SAFETY: flock on a descriptor this function owns; no memory involved.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(BrowserError::ProfileBusy(profile.to_owned()));
    }
    // Who holds it, for `collabd browser status`: written under the lock.
    {
        use std::io::Write as _;
        let mut f = &file;
        if file.set_len(0).is_ok() {
            let _ = f.write_all(crate::net::this_process().as_bytes());
        }
    }
    stop_orphans(profile);
    Ok(file)
}

/// The collabd process holding the browser profile now (`host (pid N)`,
/// as it wrote into `state_dir/browser.lock` when it took the lock), if
/// that process is alive on this host; `None` when nobody holds it. Reads
/// only: taking the lock to test it could make the daemon's own attempt
/// fail at that instant.
pub fn profile_holder(state_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(state_dir.join("browser.lock")).ok()?;
    let text = text.trim();
    let me = crate::net::this_process();
    let host = |s: &str| s.rsplit_once(" (pid ").map(|(h, _)| h.to_owned());
    if host(text)? != host(me)? {
        return None;
    }
    let pid: i32 = text
        .rsplit_once(" (pid ")?
        .1
        .strip_suffix(')')?
        .parse()
        .ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let argv0 = cmdline.split(|b| *b == 0).next()?;
    std::str::from_utf8(argv0)
        .ok()?
        .ends_with("collabd")
        .then(|| text.to_owned())
}

/// The live processes running Chromium on `profile` (a zombie has no
/// command line, so it is not one).
fn on_profile(profile: &Path) -> Vec<i32> {
    let needle = format!("--user-data-dir={}", profile.display());
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.split(|b| *b == 0).any(|a| a == needle.as_bytes()))
        })
        .collect()
}

/// Waits up to `limit` until none of `pids` runs on `profile` any more.
fn wait_gone(profile: &Path, pids: &[i32], limit: Duration) {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline
        && on_profile(profile).iter().any(|pid| pids.contains(pid))
    {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Kills every Chromium process running on `profile` (there is no owner
/// left to do it), and waits up to 5 s for them to go.
pub fn stop_orphans(profile: &Path) {
    let orphans = on_profile(profile);
    if orphans.is_empty() {
        return;
    }
    tracing::warn!(
        pids = ?orphans,
        "stopping a browser left running on the profile by a collabd process that was killed"
    );
    // SAFETY: getpgrp has no preconditions and cannot fail.
    let own_group = unsafe { libc::getpgrp() };
    for pid in &orphans {
        // The group collabd made for its chromedriver holds the orphaned
        // chromedriver too; any other Chromium is stopped on its own.
        let target = match group_of(*pid) {
            Some(g)
                if g > 1
                    && g != own_group
                    && std::fs::read_to_string(format!("/proc/{g}/comm"))
                        .is_ok_and(|c| c.trim() == "chromedriver") =>
            {
                -g
            }
            _ => *pid,
        };
        // SAFETY: kill has no memory preconditions; the target runs
        // Chromium on collabd's own profile (or is the chromedriver that
        // started it), and no live collabd owns it.
        unsafe {
            libc::kill(target, libc::SIGKILL);
        }
    }
    wait_gone(profile, &orphans, Duration::from_secs(5));
}

/// Field `n` of a `/proc/PID/stat` line as proc(5) numbers them (3 is the
/// state, 5 the group, 48 and 49 the argument area): counted after the
/// parenthesised command name, which may itself hold spaces and `)`.
fn stat_field(stat: &str, n: usize) -> Option<&str> {
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(n.checked_sub(3)?)
}

/// A process's group, from `/proc/PID/stat`.
pub fn group_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_field(&stat, 5)?.parse().ok()
}

/// Chromium leaves `SingletonLock` (a link to `host-pid`) in the profile.
/// One left by a Chromium that is gone (killed with its owner, or a zombie
/// not yet reaped) is removed; a live one means someone uses the profile.
fn clear_stale_lock(profile: &Path) -> Result<(), BrowserError> {
    let lock = profile.join("SingletonLock");
    let Ok(target) = std::fs::read_link(&lock) else {
        return Ok(());
    };
    let pid = target
        .to_string_lossy()
        .rsplit('-')
        .next()
        .and_then(|p| p.parse::<u32>().ok());
    if let Some(pid) = pid {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat_field(&stat, 3);
        let is_chromium = std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| c.contains("chrom"));
        if matches!(state, Some(s) if s != "Z" && s != "X") && is_chromium {
            return Err(BrowserError::ProfileInUse(profile.to_owned(), pid));
        }
    }
    for name in ["SingletonLock", "SingletonSocket", "SingletonCookie"] {
        let _ = std::fs::remove_file(profile.join(name));
    }
    Ok(())
}

/// Creates `dir` (and its parents) as 0700, and narrows one an older
/// collabd left 0755: the profile's cookies, and DevToolsActivePort while
/// `browser login --remote` runs, are for collabd's user only. A directory
/// collabd may not chmod (owned by someone else) still works, with a
/// warning naming it, since refusing to file would not make it private.
fn private_dir(dir: &Path) -> Result<(), BrowserError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| BrowserError::Start(format!("cannot create {}: {e}", dir.display())))?;
    let mode = std::fs::metadata(dir)
        .map_err(|e| BrowserError::Start(format!("cannot read {}: {e}", dir.display())))?
        .permissions()
        .mode()
        & 0o7777;
    if mode & 0o077 != 0
        && let Err(e) = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    {
        tracing::warn!(
            "{} is mode {mode:04o} and cannot be made 0700 ({e}): other local users may read the browser's profile, including the dashboard's session cookies; make it 0700 and owned by collabd's user",
            dir.display()
        );
    }
    Ok(())
}

/// Overwrites the secret in chromedriver's command line with 'x's, so
/// `/proc/PID/cmdline`, which every local user can read, no longer shows
/// it. chromedriver keeps its own copy of its arguments, so it still
/// answers on the secret path. It was readable for the few milliseconds
/// before this; `hidepid=invisible` on /proc closes that too. Failing
/// (ptrace restrictions, a kernel without /proc/PID/mem) does not stop the
/// filing: a warning names the risk, once per process.
fn hide_secret(pid: u32, secret: &str) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    if let Err(e) = overwrite_arg(pid, &format!("--url-base=/{secret}")) {
        WARNED.call_once(|| {
            tracing::warn!(
                "cannot hide chromedriver's secret path in its command line ({e}): other local users can read it in /proc/{pid}/cmdline while the browser runs and drive the browser through it; mount /proc with hidepid=invisible"
            );
        });
    }
}

/// Replaces `arg`'s value (after the first '=') in process `pid`'s
/// argument area with 'x' bytes of the same length.
fn overwrite_arg(pid: u32, arg: &str) -> std::io::Result<()> {
    use std::io::{Error, ErrorKind};
    use std::os::unix::fs::FileExt;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let field = |n: usize| -> std::io::Result<u64> {
        stat_field(&stat, n)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| Error::new(ErrorKind::InvalidData, "no argument area in its stat"))
    };
    let (start, end) = (field(48)?, field(49)?);
    let len = usize::try_from(end.saturating_sub(start))
        .ok()
        .filter(|l| *l > 0 && *l <= 1 << 20)
        .ok_or_else(|| Error::new(ErrorKind::InvalidData, "an odd argument area"))?;
    let mem = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(format!("/proc/{pid}/mem"))?;
    let mut area = vec![0u8; len];
    mem.read_exact_at(&mut area, start)?;
    let at = area
        .split(|b| *b == 0)
        .scan(0usize, |offset, a| {
            let here = *offset;
            *offset += a.len() + 1;
            Some((here, a))
        })
        .find(|(_, a)| *a == arg.as_bytes())
        .map(|(here, _)| here)
        .ok_or_else(|| Error::new(ErrorKind::NotFound, "the argument is not there"))?;
    let value = arg.find('=').map_or(0, |i| i + 1);
    let wipe = vec![b'x'; arg.len() - value];
    mem.write_all_at(&wipe, start + (at + value) as u64)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn browser_directories_are_made_private_new_or_left_0755_by_an_older_collabd() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old");
        std::fs::create_dir(&old).unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&old).unwrap();
        assert_eq!(mode(&old), 0o700);
        let new = dir.path().join("state").join("profile");
        private_dir(&new).unwrap();
        assert_eq!(mode(&new), 0o700);
        assert_eq!(mode(new.parent().unwrap()), 0o700);
    }

    #[test]
    fn a_secret_argument_is_wiped_from_a_child_command_line() {
        let arg = "--url-base=/0123456789abcdef";
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 10", "sh", "--other", arg])
            .spawn()
            .unwrap();
        // The kernel sets the argument area up before the child runs.
        let pid = child.id();
        std::thread::sleep(Duration::from_millis(100));
        let absent = overwrite_arg(pid, "--absent=1").map_err(|e| e.kind());
        let result = overwrite_arg(pid, arg);
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
        let _ = child.kill();
        let _ = child.wait();
        result.unwrap();
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        assert!(args.contains(&&b"--other"[..]), "{args:?}");
        assert!(
            args.contains(&&b"--url-base=xxxxxxxxxxxxxxxxx"[..]),
            "{:?}",
            String::from_utf8_lossy(&cmdline)
        );
        assert_eq!(absent, Err(std::io::ErrorKind::NotFound));
    }
}
