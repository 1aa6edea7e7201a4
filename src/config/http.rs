//! `[http]`: where `/healthz` and `/metrics` are served, validated.

use std::time::Duration;

use super::raw::RawHttp;
use super::{ConfigError, invalid};

/// Validated `[http]` settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub listen: std::net::SocketAddr,
    /// True when `listen` is not a loopback address (allowed by
    /// `http.allow_remote`).
    pub remote: bool,
    /// Frees a connection slot held by a client that is slow, or silent,
    /// in sending its headers: a slowloris cannot keep `/healthz` down.
    pub header_timeout: Duration,
}

/// Monitoring sends its request at once; ten seconds is generous.
pub const DEFAULT_HTTP_HEADER_TIMEOUT_S: u64 = 10;

pub(super) fn http_settings(h: RawHttp) -> Result<HttpSettings, ConfigError> {
    let listen: std::net::SocketAddr = h.listen.trim().parse().map_err(|_| {
        invalid(
            "http.listen",
            &format!(
                "`{}` is not an address and port such as 127.0.0.1:9464",
                h.listen
            ),
        )
    })?;
    // `::ffff:127.0.0.1` is loopback too.
    let remote = !listen.ip().to_canonical().is_loopback();
    if remote && h.allow_remote != Some(true) {
        return Err(invalid(
            "http.listen",
            &format!(
                "{listen} is not a loopback address, and /healthz and /metrics have no authentication; use 127.0.0.1 or [::1], or set http.allow_remote = true and let a firewall decide who reaches the port"
            ),
        ));
    }
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
    Ok(HttpSettings {
        listen,
        remote,
        header_timeout,
    })
}
