//! `collabd browser login`: an operator signs in to the dashboard once, in
//! the browser profile the filer uses — in a visible window when there is
//! a display, else through Chromium's remote debugging on loopback (reached
//! over an SSH tunnel, whose command is printed; DevTools has no
//! authentication, so its port is opened only here, on purpose, and closes
//! with the browser once the operator has signed in) — then the session is
//! checked with a fresh headless browser, and requests that waited for it
//! are made due.

use std::time::Duration;

use tokio::time::Instant;

use super::page::{self, url_matches};
use super::session::Session;
use super::{Browser, Launch, form};
use crate::config::BrowserSettings;
use crate::store::browser::BrowserLedger;

/// How long `collabd browser login` waits for the operator to sign in.
pub const LOGIN_WAIT: Duration = Duration::from_secs(15 * 60);

/// How the operator reaches the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A window on this machine's display.
    Window,
    /// DevTools on 127.0.0.1:port, for an SSH tunnel.
    Remote(u16),
}

impl Mode {
    /// A window when `$DISPLAY` or `$WAYLAND_DISPLAY` is set, else remote
    /// debugging on `port`.
    pub fn detect(port: u16, remote: bool) -> Mode {
        let display = ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()));
        if display && !remote {
            Mode::Window
        } else {
            Mode::Remote(port)
        }
    }
}

/// Opens the sign-in, waits up to `wait` for the operator to finish it,
/// closes the browser (which writes the session into the profile), then
/// checks the session with the filer's own headless browser, recording it
/// in `ledger` (which makes the requests that waited for it due).
pub async fn login(
    s: &BrowserSettings,
    session: &Session,
    ledger: Option<&impl BrowserLedger>,
    mode: Mode,
    wait: Duration,
) -> anyhow::Result<()> {
    let launch = match mode {
        Mode::Window => Launch {
            visible: true,
            debugging_port: None,
        },
        Mode::Remote(port) => Launch {
            visible: false,
            debugging_port: Some(port),
        },
    };
    let browser = Browser::start(s, &launch, Duration::from_secs(60)).await?;
    let start = form::form_url(s, "collabd-session-check.myshopify.com");
    browser.client.goto(&start).await?;
    match mode {
        Mode::Window => println!(
            "A Chromium window is open at the dashboard. Sign in there (including any two-step prompt); \
             collabd notices when the dashboard's form shows and closes the window."
        ),
        Mode::Remote(port) => {
            let host = hostname();
            println!(
                "No display here: Chromium listens for DevTools on 127.0.0.1:{port} only, \
                 until you have signed in (any local user could reach it meanwhile).\n\
                 On your own computer, open a tunnel:\n\n    ssh -N -L {port}:127.0.0.1:{port} {user}@{host}\n\n\
                 then in Chrome open chrome://inspect, add localhost:{port} under \"Configure…\", \
                 click \"inspect\" under the dashboard tab, and sign in there. \
                 collabd notices when the dashboard's form shows.",
                user = std::env::var("USER").unwrap_or_else(|_| "you".into()),
            );
        }
    }
    println!("Waiting up to {} minutes…", wait.as_secs() / 60);
    let deadline = Instant::now() + wait;
    let sels = [("store", s.selectors.store.as_str())];
    let mut signed_in = false;
    while Instant::now() < deadline {
        let snap = page::snapshot(&browser.client, &sels).await?;
        if snap.visible("store") && url_matches(&s.patterns.login_url, &snap.url).is_none() {
            signed_in = true;
            break;
        }
        // Back to the form once the operator has left the sign-in pages.
        if url_matches(&s.patterns.login_url, &snap.url).is_none()
            && !snap.url.starts_with(&start)
            && snap.loaded
            && page::find(&s.patterns.challenge, &snap.text).is_none()
        {
            let _ = browser.client.goto(&start).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    browser.stop().await;
    if !signed_in {
        anyhow::bail!(
            "no sign-in within {} minutes; run `collabd browser login` again",
            wait.as_secs() / 60
        );
    }
    session.check_session(ledger).await.map_err(|e| {
        anyhow::anyhow!("signed in, but the headless browser does not see the session: {e}")
    })?;
    session.shutdown().await;
    println!(
        "Signed in: the headless browser sees the dashboard; requests that waited for the login are due now."
    );
    Ok(())
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this-server".into())
}
