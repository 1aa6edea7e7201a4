//! `POST /leadsie/{token}` on the `[http]` listener: one Leadsie webhook
//! delivery in, committed, then answered.
//!
//! Leadsie does not sign its webhooks, so the secret path is the
//! authentication: it is compared in constant time, and a wrong one gets
//! the same 404 as any unknown path. The answer comes only after the
//! commit, so a 200 means the delivery is in the database; a duplicate
//! delivery (the same bytes) is a no-op 200. A body that is not a payload
//! is stored as `rejected` before its 400.
//!
//! Two allowances per sender (the client [`crate::net::client`] names: the
//! connection's address, or behind a proxy in `http.trusted_proxies` the
//! address it forwards; an IPv6 /64 is one sender), so that nobody without
//! the token can hold up Leadsie's deliveries (behind a proxy not listed
//! there, every request comes from the proxy's address): deliveries with
//! the right token, up to `[leadsie] rate_limit_per_minute` a minute; and
//! attempts with a wrong one, [`MISSES_PER_MINUTE`] a minute, so the token
//! cannot be found by trying. Past either, 429.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Bytes};
use hyper::{Method, Request, Response, StatusCode};
use sha2::{Digest, Sha256};

use super::MAX_BODY_BYTES;
use crate::config::LeadsieSettings;
use crate::ingest::Ingestor;
use crate::store::Source;

/// The path prefix the webhook lives under.
pub const PREFIX: &str = "/leadsie/";

/// Wrong-token attempts one sender may make a minute (and in a burst).
pub const MISSES_PER_MINUTE: u32 = 30;

/// How often refusals are logged: a flood must not fill the journal.
const REFUSALS_LOGGED_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Addresses the rate limiter remembers at once; past it, those that have
/// waited long enough to be back at a full allowance are forgotten.
const MAX_TRACKED_ADDRESSES: usize = 4096;

/// What [`Webhook::claim`] found.
pub enum Claim {
    Mine,
    Refused(Response<Full<Bytes>>),
    NotMine,
}

/// The webhook, ready to serve: where deliveries are stored, the token to
/// match, and each address's allowance.
pub struct Webhook {
    ingestor: Ingestor,
    token_digest: [u8; 32],
    /// Deliveries with the right token.
    deliveries: RateLimiter,
    /// Attempts with a wrong token.
    misses: RateLimiter,
    /// For each allowance, requests refused with 429 since its last log
    /// line, and when that was.
    refused_misses: Mutex<(u64, Option<Instant>)>,
    refused_deliveries: Mutex<(u64, Option<Instant>)>,
}

impl Webhook {
    pub fn new(settings: &LeadsieSettings, ingestor: Ingestor) -> Webhook {
        Webhook {
            ingestor,
            token_digest: Sha256::digest(settings.token.expose()).into(),
            deliveries: RateLimiter::new(settings.rate_per_minute),
            misses: RateLimiter::new(MISSES_PER_MINUTE),
            refused_misses: Mutex::new((0, None)),
            refused_deliveries: Mutex::new((0, None)),
        }
    }

    /// 429, logged at most once a minute with the count since.
    fn too_many(
        peer: IpAddr,
        what: &str,
        refused: &Mutex<(u64, Option<Instant>)>,
    ) -> Response<Full<Bytes>> {
        let mut refused = refused
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        refused.0 += 1;
        if refused
            .1
            .is_none_or(|t| t.elapsed() >= REFUSALS_LOGGED_EVERY)
        {
            tracing::warn!(
                %peer,
                "Leadsie webhook: {what}; answered 429 to {} request(s) in the last minute",
                refused.0
            );
            *refused = (0, Some(Instant::now()));
        }
        let mut r = text(
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests from this address; try again in a minute\n",
        );
        r.headers_mut()
            .insert("Retry-After", hyper::header::HeaderValue::from_static("60"));
        r
    }

    /// Whether a request for `path` from `peer` is the webhook's: its path
    /// with the right token ([`Claim::Mine`]), or under its prefix with a
    /// wrong one from a sender who has tried too often
    /// ([`Claim::Refused`]). A wrong token within the allowance, like any
    /// other path, is [`Claim::NotMine`]: the listener answers it as it
    /// answers every path it does not know.
    pub fn claim(&self, path: &str, peer: IpAddr) -> Claim {
        let Some(given) = path.strip_prefix(PREFIX) else {
            return Claim::NotMine;
        };
        if self.token_matches(given) {
            return Claim::Mine;
        }
        if !self.misses.allow(peer, Instant::now()) {
            return Claim::Refused(Self::too_many(
                peer,
                "wrong tokens tried too often",
                &self.refused_misses,
            ));
        }
        Claim::NotMine
    }

    /// Answers a request [`Webhook::claim`] said is the webhook's, from
    /// `client` (through the trusted proxy `via`, when there was one).
    pub async fn answer<B>(
        &self,
        req: Request<B>,
        client: IpAddr,
        via: Option<IpAddr>,
    ) -> Response<Full<Bytes>>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if !self.deliveries.allow(client, Instant::now()) {
            return Self::too_many(
                client,
                "more deliveries than [leadsie] rate_limit_per_minute from one sender",
                &self.refused_deliveries,
            );
        }
        if req.method() != Method::POST {
            let mut r = text(
                StatusCode::METHOD_NOT_ALLOWED,
                "POST a Leadsie webhook payload here\n",
            );
            r.headers_mut()
                .insert("Allow", hyper::header::HeaderValue::from_static("POST"));
            return r;
        }
        let declared = req
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return too_large();
        }
        let body = match Limited::new(req.into_body(), MAX_BODY_BYTES)
            .collect()
            .await
        {
            Ok(b) => b.to_bytes(),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return too_large();
            }
            Err(e) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    &format!("the body could not be read ({e}); send it again\n"),
                );
            }
        };
        let from = match via {
            Some(proxy) => format!("POST from {client} via {proxy}"),
            None => format!("POST from {client}"),
        };
        self.store(&body, &Source::Webhook(from)).await
    }

    /// Stores one body and says what happened, after the commit.
    async fn store(&self, body: &[u8], source: &Source) -> Response<Full<Bytes>> {
        let stored = self
            .ingestor
            .ingest_webhook(body, source, chrono::Utc::now(), chrono::Utc::now())
            .await;
        pause_after_commit().await;
        match stored {
            Ok((report, Some(refused))) => {
                tracing::warn!(
                    message_id = report.message,
                    "Leadsie webhook: not a payload, stored as rejected: {refused}"
                );
                text(StatusCode::BAD_REQUEST, &format!("{refused}\n"))
            }
            Ok((report, None)) => {
                if report.new {
                    tracing::info!(
                        message_id = report.message,
                        kind = report.kind.as_str(),
                        created = ?report.created.iter().map(|r| r.0).collect::<Vec<_>>(),
                        seen_again = ?report.seen_again.iter().map(|r| r.0).collect::<Vec<_>>(),
                        superseded = ?report.superseded.iter().map(|r| r.0).collect::<Vec<_>>(),
                        "Leadsie webhook delivery stored"
                    );
                    if let Some(reason) = &report.reason {
                        tracing::warn!(
                            message_id = report.message,
                            "needs a look: {}",
                            crate::redact::Redactor::every_code().apply(reason)
                        );
                    }
                } else {
                    tracing::info!(
                        message_id = report.message,
                        "Leadsie webhook delivery seen before; nothing changed"
                    );
                }
                let body = serde_json::json!({
                    "stored": true,
                    "message": report.message,
                    "new": report.new,
                    "kind": report.kind,
                    "created": report.created,
                    "seen_again": report.seen_again,
                    "superseded": report.superseded,
                    "reason": report.reason,
                });
                let mut r = text(StatusCode::OK, &format!("{body}\n"));
                r.headers_mut().insert(
                    hyper::header::CONTENT_TYPE,
                    hyper::header::HeaderValue::from_static("application/json"),
                );
                r
            }
            Err(e) => {
                tracing::error!(
                    "Leadsie webhook: could not store a delivery ({e}); answered 503 so that it is sent again"
                );
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the delivery could not be stored just now; nothing was recorded, send it again\n",
                )
            }
        }
    }

    /// Compares digests of equal length byte by byte without stopping at
    /// the first difference, so the time taken says nothing of the token.
    fn token_matches(&self, given: &str) -> bool {
        let given: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        given
            .iter()
            .zip(self.token_digest.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

/// For tests only: with `COLLABD_TEST_PAUSE_AFTER_COMMIT` set to a file
/// path, each delivery, once its transaction has ended, creates that file
/// and waits a minute before it is answered, so that a test can kill
/// collabd between the commit and the answer (tests/webhook.rs). Unset, as
/// everywhere but that test, it does nothing.
async fn pause_after_commit() {
    if let Some(marker) = std::env::var_os("COLLABD_TEST_PAUSE_AFTER_COMMIT") {
        let _ = std::fs::write(marker, "committed, not answered\n");
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    }
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("static headers are valid")
}

fn too_large() -> Response<Full<Bytes>> {
    text(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!(
            "the body is over {} MB; a Leadsie payload is a few kilobytes\n",
            MAX_BODY_BYTES / (1024 * 1024)
        ),
    )
}

/// A token bucket per client address: `per_minute` requests in a burst,
/// refilled at `per_minute` a minute.
struct RateLimiter {
    per_minute: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute: f64::from(per_minute),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn allow(&self, peer: IpAddr, now: Instant) -> bool {
        let peer = crate::net::source(peer);
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let refill = |(tokens, at): (f64, Instant)| {
            let earned = now.saturating_duration_since(at).as_secs_f64() * self.per_minute / 60.0;
            (tokens + earned).min(self.per_minute)
        };
        if buckets.len() >= MAX_TRACKED_ADDRESSES && !buckets.contains_key(&peer) {
            buckets.retain(|_, b| refill(*b) < self.per_minute);
            if buckets.len() >= MAX_TRACKED_ADDRESSES {
                // A flood from many addresses: forget them all rather than grow.
                buckets.clear();
            }
        }
        let tokens = buckets.get(&peer).map_or(self.per_minute, |b| refill(*b));
        let allowed = tokens >= 1.0;
        buckets.insert(peer, (if allowed { tokens - 1.0 } else { tokens }, now));
        allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_is_limited_per_address_and_refills() {
        let limiter = RateLimiter::new(3);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let t0 = Instant::now();
        assert!((0..3).all(|_| limiter.allow(a, t0)));
        assert!(!limiter.allow(a, t0));
        assert!(
            limiter.allow(b, t0),
            "another address has its own allowance"
        );
        // 3 a minute: one more after 20 seconds.
        assert!(limiter.allow(a, t0 + Duration::from_secs(21)));
        assert!(!limiter.allow(a, t0 + Duration::from_secs(21)));
        // One IPv6 /64 is one sender.
        let v6 = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!((0..3).all(|n| limiter.allow(v6(&format!("2001:db8:1:2::{n}")), t0)));
        assert!(!limiter.allow(v6("2001:db8:1:2:ffff::9"), t0));
        assert!(limiter.allow(v6("2001:db8:1:3::1"), t0));
    }
}
