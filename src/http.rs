//! `[http] listen`: `/healthz` (200, or 503 when the watcher is unhealthy or
//! the queue is stuck) and `/metrics` in Prometheus text format, both
//! read-only (figures come from the database, the watcher's state from
//! memory); every other address goes to the status page ([`crate::web`]),
//! when it is served. Plain HTTP, or HTTPS with `http.tls_cert_file`.
//!
//! Whatever clients do, the listener never costs the daemon more than
//! [`MAX_CONNECTIONS`] sockets: a client that is slow to send its headers is
//! cut off after `http.header_timeout_seconds`, any connection after
//! [`CONNECTION_LIFETIME`], and connections past the cap are closed at once.
//! Without those limits, a thousand trickling clients once kept `/healthz`
//! down and took the file descriptors the database needed.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::config::HttpSettings;
use crate::imap::Watcher;
use crate::store::{self, Db, Figures};

/// A queued request due this long ago, or a claim expired this long ago,
/// means the worker is not keeping up: the queue is stuck.
pub const STUCK_AFTER_S: i64 = 15 * 60;

/// Connections served at once. Monitoring needs a handful; the cap keeps
/// file descriptors for the database and IMAP whatever arrives. Above it a
/// new connection is closed at once rather than queued.
pub const MAX_CONNECTIONS: usize = 64;

/// The longest any one connection may last, keep-alive included, so a
/// client that reads its answer slowly (or never) still frees its slot.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(30);

/// How often connections refused at the cap are reported.
const REFUSALS_LOGGED_EVERY: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct Health {
    pub db: Db,
    pub watcher: Option<Arc<Watcher>>,
    /// The status page; `None` when it is not served
    /// ([`crate::config::PageAccess::NotServed`]).
    pub page: Option<Arc<crate::web::Web>>,
    /// Leadsie's webhook, when `[leadsie] webhook = true`.
    pub leadsie: Option<Arc<crate::leadsie::endpoint::Webhook>>,
    /// The filer is the browser: `/healthz` fails while its dashboard
    /// session needs a login.
    pub browser_filer: bool,
}

/// Binds now (so a bad address is reported at start) and serves until
/// shutdown.
pub async fn serve(
    settings: &HttpSettings,
    health: Health,
    shutdown: CancellationToken,
) -> Result<()> {
    let addr = settings.listen;
    let tls = match &settings.tls {
        Some((cert, key)) => Some(tls_acceptor(cert, key)?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on http.listen = {addr}"))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    if settings.remote {
        tracing::warn!(
            "health and metrics on {scheme}://{addr}/healthz and /metrics, reachable from other hosts; they have no authentication"
        );
    } else {
        tracing::info!("health and metrics on {scheme}://{addr}/healthz and /metrics");
    }
    if health.page.is_some() {
        tracing::info!(
            "status page on {scheme}://{addr}/ ({})",
            match settings.page {
                crate::config::PageAccess::SignIn => "every page needs sign-in",
                _ => "readable without sign-in on loopback; actions need sign-in",
            }
        );
    }
    let header_timeout = settings.header_timeout;
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::spawn(async move {
        // Connections turned away are counted and logged at most once a
        // minute, so a flood cannot fill the log either.
        let mut refused: u64 = 0;
        let mut warned_at: Option<tokio::time::Instant> = None;
        loop {
            let (stream, peer) = tokio::select! {
                a = listener.accept() => match a {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!("http: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
                _ = shutdown.cancelled() => return,
            };
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                drop(stream);
                refused += 1;
                if warned_at.is_none_or(|t| t.elapsed() >= REFUSALS_LOGGED_EVERY) {
                    tracing::warn!(
                        "http: {MAX_CONNECTIONS} connections already open; closed {refused} new connection(s) at once (a client slower than http.header_timeout_seconds = {} is cut off, any connection after {} s)",
                        header_timeout.as_secs(),
                        CONNECTION_LIFETIME.as_secs()
                    );
                    refused = 0;
                    warned_at = Some(tokio::time::Instant::now());
                }
                continue;
            };
            let health = health.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                    let health = health.clone();
                    req.extensions_mut().insert(crate::web::Peer(peer));
                    async move { Ok::<_, std::convert::Infallible>(route(&health, req).await) }
                });
                let serve = async {
                    match tls {
                        // A handshake is held to the header timeout, as
                        // the headers are: a silent client frees its slot.
                        Some(acceptor) => {
                            if let Ok(Ok(stream)) =
                                tokio::time::timeout(header_timeout, acceptor.accept(stream)).await
                            {
                                serve_connection(stream, header_timeout, service).await;
                            }
                        }
                        None => serve_connection(stream, header_timeout, service).await,
                    }
                };
                // Either way the connection is over; the client's loss.
                let _ = tokio::time::timeout(CONNECTION_LIFETIME, serve).await;
                drop(slot);
            });
        }
    });
    Ok(())
}

async fn serve_connection<I, S>(io: I, header_timeout: Duration, service: S)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<
            Request<Incoming>,
            Response = Response<Full<Bytes>>,
            Error = std::convert::Infallible,
        >,
    S::Future: Send + 'static,
{
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(hyper_util::rt::TokioIo::new(io), service)
        .await;
}

/// HTTPS with the operator's certificate chain and key (rustls, ring).
fn tls_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<tokio_rustls::TlsAcceptor> {
    use tokio_rustls::rustls;
    let read = |p: &std::path::Path, what: &str| {
        std::fs::read(p).with_context(|| format!("cannot read {what} {}", p.display()))
    };
    let certs = rustls_pemfile::certs(&mut read(cert, "http.tls_cert_file")?.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| {
            format!(
                "http.tls_cert_file {}: not PEM certificates",
                cert.display()
            )
        })?;
    if certs.is_empty() {
        anyhow::bail!(
            "http.tls_cert_file {}: no certificate in it (a PEM file with -----BEGIN CERTIFICATE-----)",
            cert.display()
        );
    }
    let key = rustls_pemfile::private_key(&mut read(key, "http.tls_key_file")?.as_slice())
        .ok()
        .flatten()
        .with_context(|| {
            format!(
                "http.tls_key_file {}: no PEM private key in it",
                key.display()
            )
        })?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("TLS protocol versions")?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .context("http.tls_cert_file and http.tls_key_file do not make a certificate and its key")?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// One request: a match on method and path, each arm a handler that takes
/// the request whole (so it can read a body).
async fn route(h: &Health, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    // The webhook's path, with its token: anything else under its prefix
    // (a wrong token) goes on as any unknown path would, so nothing tells
    // the two apart.
    if let Some(webhook) = &h.leadsie {
        let peer = req
            .extensions()
            .get::<crate::web::Peer>()
            .map_or(std::net::Ipv4Addr::UNSPECIFIED.into(), |p| p.0.ip());
        match webhook.claim(&path, peer) {
            crate::leadsie::endpoint::Claim::Mine => return webhook.answer(req, peer).await,
            crate::leadsie::endpoint::Claim::Refused(r) => return r,
            crate::leadsie::endpoint::Claim::NotMine => {}
        }
    }
    match (req.method().clone(), path.as_str()) {
        (Method::GET | Method::HEAD, "/healthz" | "/metrics") => answer(h, req).await,
        (_, "/healthz" | "/metrics") => plain(StatusCode::METHOD_NOT_ALLOWED, "GET only\n"),
        _ => match &h.page {
            Some(page) => page.handle(req).await,
            None => plain(StatusCode::NOT_FOUND, "try /healthz or /metrics\n"),
        },
    }
}

fn plain(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Type", "text/plain")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("static headers are valid")
}

async fn answer(h: &Health, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, kind: &str, body: String| {
        Response::builder()
            .status(status)
            .header("Content-Type", kind)
            .body(Full::new(Bytes::from(body)))
            .expect("static headers are valid")
    };
    let now = chrono::Utc::now();
    let figures = match store::figures(&h.db.pool, &store::timestamp(now), STUCK_AFTER_S).await {
        Ok(f) => f,
        Err(e) => {
            return reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                format!("database: {e}\n"),
            );
        }
    };
    match req.uri().path() {
        "/healthz" => {
            let browser = if h.browser_filer {
                crate::filer::browser::health(&h.db).await.ok().flatten()
            } else {
                None
            };
            let (healthy, body) = healthz(h, &figures, browser);
            let status = if healthy {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            reply(status, "application/json", body)
        }
        _ => reply(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            metrics(h, &figures, now),
        ),
    }
}

/// Healthy when every watched folder is connected (syncing, idle or
/// polling) and keeping to its deadlines, and nothing in the queue is stuck.
fn healthz(h: &Health, f: &Figures, browser: Option<&str>) -> (bool, String) {
    let mut problems = Vec::new();
    if let Some(b) = browser {
        problems.push(format!(
            "{b}: requests for the browser filer wait until an operator runs `collabd browser login`"
        ));
    }
    let mut folders = Vec::new();
    for s in h.watcher.iter().flat_map(|w| w.folders.iter()) {
        let state = s.state();
        let ok = s.connected() && s.making_progress();
        if !ok {
            let error = f
                .mailboxes
                .iter()
                .find(|m| m.mailbox == s.name)
                .and_then(|m| m.last_error.clone())
                .unwrap_or_default();
            problems.push(format!("{} is {state}: {error}", s.name));
        }
        folders.push(serde_json::json!({ "mailbox": s.name, "state": state, "ok": ok }));
    }
    if f.overdue > 0 {
        problems.push(format!(
            "{} requests overdue by more than {} minutes: is the worker's filer failing?",
            f.overdue,
            STUCK_AFTER_S / 60
        ));
    }
    let healthy = problems.is_empty();
    let body = serde_json::json!({
        "status": if healthy { "ok" } else { "unhealthy" },
        "mailboxes": folders,
        "overdue_requests": f.overdue,
        "problems": problems,
    });
    (healthy, format!("{body}\n"))
}

fn metrics(h: &Health, f: &Figures, now: chrono::DateTime<chrono::Utc>) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, String)>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let label = |k: &str, v: &str| format!("{{{k}=\"{}\"}}", escape(v));
    family(
        "collabd_messages",
        "gauge",
        "Messages stored, by kind.",
        f.messages_by_kind
            .iter()
            .map(|(k, n)| (label("kind", k.as_str()), n.to_string()))
            .collect(),
    );
    family(
        "collabd_requests",
        "gauge",
        "Access requests, by state.",
        f.requests_by_state
            .iter()
            .map(|(s, n)| (label("state", s.as_str()), n.to_string()))
            .collect(),
    );
    family(
        "collabd_filer_attempts_total",
        "counter",
        "Filing attempts made.",
        vec![(String::new(), f.filer_attempts.to_string())],
    );
    family(
        "collabd_filer_failures_total",
        "counter",
        "Filing attempts that failed (to be retried, or given up).",
        vec![(String::new(), f.filer_failures.to_string())],
    );
    family(
        "collabd_requests_overdue",
        "gauge",
        "Requests stuck in the queue for more than 15 minutes.",
        vec![(String::new(), f.overdue.to_string())],
    );
    family(
        "collabd_imap_reconnects_total",
        "counter",
        "Reconnects after an error, per watched mailbox.",
        f.mailboxes
            .iter()
            .map(|m| (label("mailbox", &m.mailbox), m.reconnects.to_string()))
            .collect(),
    );
    family(
        "collabd_imap_after_processing_pending",
        "gauge",
        "Stored messages whose mark-seen or move is not done yet, per mailbox.",
        f.mailboxes
            .iter()
            .map(|m| (label("mailbox", &m.mailbox), m.actions_pending.to_string()))
            .collect(),
    );
    let live = |name: &str| {
        h.watcher
            .iter()
            .flat_map(|w| w.folders.iter())
            .any(|s| s.name == name && s.connected())
    };
    family(
        "collabd_imap_connected",
        "gauge",
        "1 while the watcher is connected to the mailbox.",
        f.mailboxes
            .iter()
            .map(|m| {
                (
                    label("mailbox", &m.mailbox),
                    u8::from(live(&m.mailbox)).to_string(),
                )
            })
            .collect(),
    );
    family(
        "collabd_imap_seconds_since_contact",
        "gauge",
        "Seconds since the IMAP server last answered, per mailbox.",
        f.mailboxes
            .iter()
            .filter_map(|m| {
                let t = chrono::DateTime::parse_from_rfc3339(m.last_contact_at.as_deref()?).ok()?;
                Some((
                    label("mailbox", &m.mailbox),
                    (now - t.to_utc()).num_seconds().max(0).to_string(),
                ))
            })
            .collect(),
    );
    out
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
