//! `[http]`: where `/healthz`, `/metrics` and the status page are served,
//! who may sign in to the page, and whether it speaks TLS itself; validated.

use std::path::PathBuf;
use std::time::Duration;

use super::error::{ConfigError, invalid};
use super::raw::RawHttp;
use crate::users::Users;

/// Validated `[http]` settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub listen: std::net::SocketAddr,
    /// True when `listen` is not a loopback address.
    pub remote: bool,
    /// Frees a connection slot held by a client that is slow, or silent,
    /// in sending its headers: a slowloris cannot keep `/healthz` down.
    pub header_timeout: Duration,
    /// Who the status page serves, and how.
    pub page: PageAccess,
    /// The status page's users (from `users_file` or the credential
    /// `http-users`); empty when nobody can sign in.
    pub users: Users,
    /// PEM certificate chain and key when collabd serves HTTPS itself.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// The `Host` names answered (loopback names, the listener's own
    /// address, `http.hostnames`); others get 421, so a page whose name an
    /// attacker points at this host (DNS rebinding) reads nothing.
    pub hosts: crate::net::Hosts,
    /// `http.trusted_proxies`: connections from these may name their
    /// client in `X-Forwarded-For`.
    pub trusted_proxies: Vec<crate::net::Network>,
}

/// Who may see the status page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAccess {
    /// A loopback listener: pages are readable without signing in (codes
    /// masked); actions and full codes need sign-in.
    OpenOnLoopback,
    /// Every page needs sign-in: a listener other hosts can reach, or
    /// `http.require_sign_in = true`.
    SignIn,
    /// A remote listener with `allow_remote` and no users: only /healthz
    /// and /metrics are served, as before the status page existed.
    NotServed,
}

/// Monitoring sends its request at once; ten seconds is generous.
pub const DEFAULT_HTTP_HEADER_TIMEOUT_S: u64 = 10;

/// The systemd credential that holds the status page's users.
pub const USERS_CREDENTIAL: &str = "http-users";

pub(super) fn http_settings(
    h: RawHttp,
    insecure: &mut Vec<String>,
) -> Result<HttpSettings, ConfigError> {
    let listen: std::net::SocketAddr = h.listen.trim().parse().map_err(|_| {
        invalid(
            "http.listen",
            &format!(
                "`{}` is not an address and port such as 127.0.0.1:9464",
                h.listen
            ),
        )
    })?;
    let users = load_users(h.users_file.as_deref())?;
    // `::ffff:127.0.0.1` is loopback too.
    let remote = !listen.ip().to_canonical().is_loopback();
    let require = h.require_sign_in == Some(true);
    if require && users.is_empty() {
        return Err(invalid(
            "http.require_sign_in",
            "no status-page users: make a line with `collabd http-user NAME` and put it in http.users_file or the systemd credential http-users",
        ));
    }
    let page = if remote && !users.is_empty() || require {
        PageAccess::SignIn
    } else if remote {
        if h.allow_remote != Some(true) {
            return Err(invalid(
                "http.listen",
                &format!(
                    "{listen} is not a loopback address, and no status-page users are configured, so /healthz and /metrics would have no authentication; use 127.0.0.1 or [::1], or give the page users (http.users_file or the systemd credential http-users, lines made by `collabd http-user NAME`) so that it asks everyone to sign in, or set http.allow_remote = true to serve only /healthz and /metrics and let a firewall decide who reaches the port"
                ),
            ));
        }
        PageAccess::NotServed
    } else {
        PageAccess::OpenOnLoopback
    };
    let header_timeout = match h
        .header_timeout_seconds
        .unwrap_or(DEFAULT_HTTP_HEADER_TIMEOUT_S)
    {
        0 => {
            return Err(invalid(
                "http.header_timeout_seconds",
                "must be at least 1 second",
            ));
        }
        n => Duration::from_secs(n),
    };
    let tls = match (h.tls_cert_file, h.tls_key_file) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => {
            return Err(invalid(
                "http.tls_cert_file",
                "set both http.tls_cert_file and http.tls_key_file, or neither",
            ));
        }
    };
    let hosts = crate::net::Hosts::new(listen, h.hostnames.as_deref().unwrap_or_default())
        .map_err(|e| invalid("http.hostnames", &e))?;
    let trusted_proxies = h
        .trusted_proxies
        .unwrap_or_default()
        .iter()
        .map(|p| crate::net::Network::parse(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            invalid(
                "http.trusted_proxies",
                &format!("{e}; list the reverse proxies' addresses or networks, such as [\"127.0.0.1\", \"10.0.0.0/8\"]"),
            )
        })?;
    if remote && page == PageAccess::SignIn && tls.is_none() {
        insecure.push(format!(
            "http.listen: {listen} asks for sign-in over plain HTTP (no http.tls_cert_file), so passwords and session cookies cross the network unencrypted; serve TLS with tls_cert_file and tls_key_file, or listen on loopback behind a TLS reverse proxy"
        ));
    }
    Ok(HttpSettings {
        listen,
        remote,
        header_timeout,
        page,
        users,
        tls,
        hosts,
        trusted_proxies,
    })
}

/// The users file, else the credential `http-users` when systemd passed
/// one; no users when neither exists.
fn load_users(file: Option<&std::path::Path>) -> Result<Users, ConfigError> {
    let (path, key) = match file {
        Some(p) => (p.to_owned(), "http.users_file"),
        None => match std::env::var_os("CREDENTIALS_DIRECTORY").filter(|d| !d.is_empty()) {
            Some(dir) => {
                let p = PathBuf::from(dir).join(USERS_CREDENTIAL);
                if !p.exists() {
                    return Ok(Users::default());
                }
                (
                    p,
                    "http.users_file (unset, so the systemd credential http-users)",
                )
            }
            None => return Ok(Users::default()),
        },
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        invalid(
            key,
            &format!(
                "cannot read {}: {}",
                path.display(),
                crate::fs_error::reason(&e)
            ),
        )
    })?;
    Users::parse(&text).map_err(|e| invalid(key, &format!("{}: {e}", path.display())))
}
