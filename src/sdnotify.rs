//! The systemd notification protocol (`sd_notify`): one datagram per state
//! change to the socket named by `$NOTIFY_SOCKET`. Without the variable (not
//! under systemd, or `Type=simple`) every call does nothing.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// Where notifications go, if anywhere.
#[derive(Debug)]
pub struct Notifier {
    target: Option<(UnixDatagram, SocketAddr)>,
}

impl Notifier {
    /// Reads `$NOTIFY_SOCKET`: a path, or `@name` for the abstract namespace.
    pub fn from_env() -> Notifier {
        let target = std::env::var_os("NOTIFY_SOCKET")
            .filter(|v| !v.is_empty())
            .and_then(|v| {
                let v = v.to_string_lossy().into_owned();
                let addr = match v.strip_prefix('@') {
                    Some(name) => SocketAddr::from_abstract_name(name.as_bytes()),
                    None => SocketAddr::from_pathname(&v),
                };
                let sock = UnixDatagram::unbound();
                match (addr, sock) {
                    (Ok(a), Ok(s)) => Some((s, a)),
                    (Err(e), _) | (_, Err(e)) => {
                        tracing::warn!("NOTIFY_SOCKET={v} is not usable ({e}); systemd will not hear from collabd");
                        None
                    }
                }
            });
        Notifier { target }
    }

    pub fn enabled(&self) -> bool {
        self.target.is_some()
    }

    /// Sends one notification, such as `READY=1` or `STATUS=…`. Best effort:
    /// a lost notification is logged, never fatal.
    pub fn notify(&self, message: &str) {
        if let Some((sock, addr)) = &self.target
            && let Err(e) = sock.send_to_addr(message.as_bytes(), addr)
        {
            tracing::warn!("cannot notify systemd ({message}): {e}");
        }
    }

    /// How often systemd expects `WATCHDOG=1`, from `$WATCHDOG_USEC` (when
    /// `$WATCHDOG_PID`, if set, is this process).
    pub fn watchdog_interval() -> Option<Duration> {
        if let Some(pid) = std::env::var_os("WATCHDOG_PID")
            && pid.to_string_lossy().trim() != std::process::id().to_string()
        {
            return None;
        }
        let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.trim().parse().ok()?;
        (usec > 0).then(|| Duration::from_micros(usec))
    }
}
