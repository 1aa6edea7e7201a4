//! Accepting, admitting and serving connections: the caps, the `Host`
//! check, and the routing of each request to its handler.

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use anyhow::{Context, Result};
use http_body_util::Full;
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::{Method, Request, Response, StatusCode};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::health::answer;
use super::state::ListenerState;
use crate::config::HttpSettings;
use crate::net::{Hosts, Network};

/// Connections served at once. Monitoring needs a handful; the cap keeps
/// file descriptors for the database and IMAP whatever arrives.
pub const MAX_CONNECTIONS: usize = 64;

/// Connections one source (an IPv4 address, an IPv6 /64) may hold at
/// once: a browser opens up to six to one site, monitoring one or two, so
/// eight serves any honest client while one host takes an eighth of the
/// slots at most. Behind a reverse proxy every connection comes from the
/// proxy, which then shares these eight; proxies reuse their connections,
/// and a ninth replaces the proxy's oldest idle one rather than being
/// refused.
pub const CONNECTIONS_PER_SOURCE: usize = 8;

/// The last slots, which only a source holding no connection may take: one
/// source's share, so that while seven hosts hold theirs an eighth (the
/// load balancer, an operator) still gets in without dropping anyone.
pub const SLOTS_FOR_NEW_SOURCES: usize = CONNECTIONS_PER_SOURCE;

/// The longest any one connection may last, keep-alive included, so a
/// client that reads its answer slowly (or never) still frees its slot.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(30);

/// How often connections refused or dropped at the caps are reported.
const REFUSALS_LOGGED_EVERY: Duration = Duration::from_secs(60);

/// Binds now (so a bad address is reported at start) and serves until
/// shutdown.
pub async fn serve(
    settings: &HttpSettings,
    state: ListenerState,
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
    if state.page.is_some() {
        tracing::info!(
            "status page on {scheme}://{addr}/ ({})",
            match settings.page {
                crate::config::PageAccess::SignIn => "every page needs sign-in",
                _ => "readable without sign-in on loopback; actions need sign-in",
            }
        );
    }
    let header_timeout = settings.header_timeout;
    let front = Arc::new(Front {
        hosts: settings.hosts.clone(),
        trusted_proxies: settings.trusted_proxies.clone(),
        misdirected_logged: Mutex::new(None),
    });
    let table = Arc::new(Mutex::new(Connections::default()));
    tokio::spawn(async move {
        // Connections turned away or dropped are counted and logged at
        // most once a minute, so a flood cannot fill the log either.
        let (mut refused, mut dropped): (u64, u64) = (0, 0);
        let mut warned_at: Option<Instant> = None;
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
            let admitted = lock(&table).admit(crate::net::source(peer.ip()), Instant::now());
            match &admitted {
                Some(a) if a.dropped => dropped += 1,
                Some(_) => {}
                None => refused += 1,
            }
            if (refused > 0 || dropped > 0)
                && warned_at.is_none_or(|t| t.elapsed() >= REFUSALS_LOGGED_EVERY)
            {
                tracing::warn!(
                    "http: connections past the caps ({MAX_CONNECTIONS} in all, {CONNECTIONS_PER_SOURCE} per address): dropped {dropped} idle connection(s) to make room, closed {refused} new one(s) at once (a client slower than http.header_timeout_seconds = {} is cut off, any connection after {} s)",
                    header_timeout.as_secs(),
                    CONNECTION_LIFETIME.as_secs()
                );
                (refused, dropped) = (0, 0);
                warned_at = Some(Instant::now());
            }
            let Some(admitted) = admitted else {
                drop(stream);
                continue;
            };
            let slot = Slot {
                table: table.clone(),
                id: admitted.id,
            };
            let (state, front, tls) = (state.clone(), front.clone(), tls.clone());
            tokio::spawn(async move {
                let turn = admitted.turn.clone();
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let (state, front, turn) = (state.clone(), front.clone(), turn.clone());
                    let mut req = req.map(|body| Watched::new(body, turn.clone()));
                    req.extensions_mut().insert(turn.answering.clone());
                    req.extensions_mut().insert(crate::status_page::Peer(peer));
                    async move {
                        let response = route(&state, &front, req).await;
                        turn.answered();
                        Ok::<_, std::convert::Infallible>(response)
                    }
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
                // Over at its lifetime, or when a newcomer needed its slot;
                // either way the client's loss.
                tokio::select! {
                    _ = tokio::time::timeout(CONNECTION_LIFETIME, serve) => {}
                    _ = admitted.cancel.cancelled() => {}
                }
                drop(slot);
            });
            // The new connection's task runs before the next accept: a
            // probe's request, already sent, is read and so marked the
            // server's to answer before a flood behind it in the backlog
            // can count it among the idle.
            tokio::task::yield_now().await;
        }
    });
    Ok(())
}

/// What the listener checks before any handler: the names it answers to,
/// and whose word it takes about the client.
struct Front {
    hosts: Hosts,
    trusted_proxies: Vec<Network>,
    /// When a 421 was last logged: once a minute at most, so that an
    /// operator whose proxy's name is missing from http.hostnames learns
    /// it, and a scanner cannot fill the log.
    misdirected_logged: Mutex<Option<Instant>>,
}

/// Where one connection stands, set by its service and read when a slot
/// is needed.
#[derive(Default)]
struct Turn {
    /// The server is answering a request (its body, if any, all read):
    /// the client is not holding the slot, the server is. Shared with the
    /// handler ([`crate::net::Answering`]), which gives the slot back to
    /// the pool of droppable ones while it only waits (a slowed sign-in).
    answering: crate::net::Answering,
    /// A request has been answered on it.
    answered: AtomicBool,
}

impl Turn {
    fn answering(&self) {
        self.answering.set(true);
    }

    fn answered(&self) {
        self.answered.store(true, Ordering::Relaxed);
        self.answering.set(false);
    }
}

/// One open connection in [`Connections`].
struct Open {
    source: IpAddr,
    opened: Instant,
    turn: Arc<Turn>,
    /// Closes the connection from outside, when a newcomer takes its slot.
    cancel: CancellationToken,
}

/// The open connections, by id.
#[derive(Default)]
struct Connections {
    next: u64,
    open: HashMap<u64, Open>,
}

/// A connection let in by [`Connections::admit`].
struct Admitted {
    id: u64,
    turn: Arc<Turn>,
    cancel: CancellationToken,
    /// Another connection was dropped to make room.
    dropped: bool,
}

impl Connections {
    /// Lets a connection from `source` in, dropping an idle one if the
    /// caps say so; `None` when every connection that would have to go is
    /// being answered (the newcomer is then closed at once).
    fn admit(&mut self, source: IpAddr, now: Instant) -> Option<Admitted> {
        let mine = self.open.values().filter(|c| c.source == source).count();
        let total = self.open.len();
        let victim = if mine >= CONNECTIONS_PER_SOURCE
            || (mine > 0 && total >= MAX_CONNECTIONS - SLOTS_FOR_NEW_SOURCES)
        {
            // At its share, or only the slots kept for others are left:
            // the source makes room among its own.
            Some(self.idlest(|c| c.source == source)?)
        } else if total >= MAX_CONNECTIONS {
            Some(self.idlest(|_| true)?)
        } else {
            None
        };
        if let Some(old) = victim.and_then(|v| self.open.remove(&v)) {
            old.cancel.cancel();
        }
        self.next += 1;
        let (turn, cancel) = (Arc::new(Turn::default()), CancellationToken::new());
        self.open.insert(
            self.next,
            Open {
                source,
                opened: now,
                turn: turn.clone(),
                cancel: cancel.clone(),
            },
        );
        Some(Admitted {
            id: self.next,
            turn,
            cancel,
            dropped: victim.is_some(),
        })
    }

    /// Among the connections `among` picks and that are waiting on their
    /// client, the one to drop: the oldest never answered (a silent
    /// socket, a body that never finishes), else the oldest between
    /// requests.
    fn idlest(&self, among: impl Fn(&Open) -> bool) -> Option<u64> {
        self.open
            .iter()
            .filter(|(_, c)| among(c) && !c.turn.answering.get())
            .min_by_key(|(_, c)| (c.turn.answered.load(Ordering::Relaxed), c.opened))
            .map(|(id, _)| *id)
    }
}

fn lock(table: &Mutex<Connections>) -> std::sync::MutexGuard<'_, Connections> {
    table
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A connection's place in [`Connections`], given back when its task ends
/// however it ends.
struct Slot {
    table: Arc<Mutex<Connections>>,
    id: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.table).open.remove(&self.id);
    }
}

/// A request body that marks its connection the server's to answer once
/// it has all arrived: until then the client holds the slot (a sign-in
/// whose body never finishes is as idle as a silent socket).
pub struct Watched {
    inner: Incoming,
    turn: Arc<Turn>,
}

impl Watched {
    fn new(inner: Incoming, turn: Arc<Turn>) -> Watched {
        if inner.is_end_stream() {
            turn.answering();
        }
        Watched { inner, turn }
    }
}

impl Body for Watched {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.turn.answering();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
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

/// One request: the `Host` check, then a match on method and path, each
/// arm a handler that takes the request whole (so it can read a body).
async fn route(h: &ListenerState, front: &Front, req: Request<Watched>) -> Response<Full<Bytes>> {
    // Every route, `/healthz` and the webhook included: behind a proxy
    // the public name is listed in http.hostnames, and a load balancer
    // probing by address uses the listener's own.
    let refused = req
        .uri()
        .authority()
        .map(|a| a.as_str())
        .into_iter()
        .chain(
            req.headers()
                .get_all(hyper::header::HOST)
                .iter()
                .map(|v| v.to_str().unwrap_or("\u{fffd}")),
        )
        .find(|host| !front.hosts.allows(host));
    if let Some(host) = refused {
        let mut logged = front
            .misdirected_logged
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if logged.is_none_or(|t| t.elapsed() >= REFUSALS_LOGGED_EVERY) {
            *logged = Some(Instant::now());
            // Debug-quoted: the name is the client's, and must not
            // forge log lines.
            tracing::warn!(
                "http: answered 421 to a request for Host {:?}, which is not a loopback name, the listener's address or in http.hostnames; if it is this service's public name, add it there (logged once a minute)",
                host.chars().take(100).collect::<String>()
            );
        }
        return plain(
            StatusCode::MISDIRECTED_REQUEST,
            "421 Misdirected Request: this listener answers only to loopback names, its own address and the names in http.hostnames; if this name is yours (a reverse proxy's public name), add it to hostnames under [http] in collabd.toml\n",
        );
    }
    let path = req.uri().path().to_owned();
    // The webhook's path, with its token: anything else under its prefix
    // (a wrong token) goes on as any unknown path would, so nothing tells
    // the two apart.
    if let Some(webhook) = &h.leadsie {
        let peer = req
            .extensions()
            .get::<crate::status_page::Peer>()
            .map_or(std::net::Ipv4Addr::UNSPECIFIED.into(), |p| p.0.ip());
        let client = crate::net::client(peer, req.headers(), &front.trusted_proxies);
        let via = (client != peer.to_canonical()).then_some(peer);
        match webhook.claim(&path, client) {
            crate::leadsie::endpoint::Claim::Mine => {
                return webhook.answer(req, client, via).await;
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// Issue 23: one source at its share makes room among its own idle
    /// connections, oldest first, and never drops one being answered or
    /// anyone else's.
    #[test]
    fn a_source_at_its_share_drops_its_own_oldest_idle_connection() {
        let mut t = Connections::default();
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let other = t.admit(ip("192.0.2.9"), at(0)).unwrap();
        let mine: Vec<Admitted> = (0..CONNECTIONS_PER_SOURCE as u64)
            .map(|n| t.admit(ip("192.0.2.1"), at(1 + n)).unwrap())
            .collect();
        assert!(mine.iter().all(|a| !a.dropped));
        // The oldest is being answered: the next oldest goes.
        mine[0].turn.answering();
        let new = t.admit(ip("192.0.2.1"), at(20)).unwrap();
        assert!(new.dropped);
        assert!(!mine[0].cancel.is_cancelled() && mine[1].cancel.is_cancelled());
        assert!(!other.cancel.is_cancelled());
        // Idle after an answer goes only after every never-answered one.
        mine[0].turn.answered();
        for a in &mine[2..] {
            a.turn.answering();
        }
        t.admit(ip("192.0.2.1"), at(21)).unwrap();
        assert!(new.cancel.is_cancelled() && !mine[0].cancel.is_cancelled());
        // Every one of its connections being answered: the newcomer waits.
        let all: Vec<u64> = t.open.keys().copied().collect();
        for id in all {
            t.open[&id].turn.answering();
        }
        assert!(t.admit(ip("192.0.2.1"), at(22)).is_none());
        // One IPv6 /64 is one source; another /64 is not.
        let v6: Vec<Admitted> = (0..CONNECTIONS_PER_SOURCE as u16)
            .map(|n| {
                t.admit(
                    crate::net::source(ip(&format!("2001:db8:1:2::{n}"))),
                    at(30 + u64::from(n)),
                )
                .unwrap()
            })
            .collect();
        let next = t
            .admit(crate::net::source(ip("2001:db8:1:2::ffff")), at(40))
            .unwrap();
        assert!(next.dropped && v6[0].cancel.is_cancelled());
        assert!(
            !t.admit(crate::net::source(ip("2001:db8:1:3::1")), at(40))
                .unwrap()
                .dropped
        );
    }

    /// The last slots are for sources holding none; when every slot is
    /// taken, a newcomer from a new source replaces the oldest idle
    /// connection of anyone.
    #[test]
    fn the_last_slots_are_kept_for_new_sources() {
        let mut t = Connections::default();
        let t0 = Instant::now();
        let shared = MAX_CONNECTIONS - SLOTS_FOR_NEW_SOURCES;
        for n in 0..shared {
            let source = IpAddr::from([198, 51, 100, (n / CONNECTIONS_PER_SOURCE) as u8]);
            assert!(!t.admit(source, t0).unwrap().dropped);
        }
        // A source holding some must make room among its own.
        let held = IpAddr::from([198, 51, 100, 0]);
        assert!(t.admit(held, t0 + Duration::from_secs(1)).unwrap().dropped);
        assert_eq!(t.open.len(), shared);
        // New sources fill the rest without dropping anyone.
        for n in 0..SLOTS_FOR_NEW_SOURCES {
            let source = IpAddr::from([203, 0, 113, n as u8]);
            assert!(!t.admit(source, t0).unwrap().dropped);
        }
        assert_eq!(t.open.len(), MAX_CONNECTIONS);
        // Full: a new source replaces the oldest idle one.
        let late = t
            .admit(ip("192.0.2.77"), t0 + Duration::from_secs(2))
            .unwrap();
        assert!(late.dropped);
        assert_eq!(t.open.len(), MAX_CONNECTIONS);
    }
}
