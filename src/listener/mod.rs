//! `[http] listen`: `/healthz` (200, or 503 when the watcher is unhealthy or
//! the queue is stuck) and `/metrics` in Prometheus text format, both
//! read-only (figures come from the database, the watcher's state from
//! memory); every other address goes to the status page ([`crate::status_page`]),
//! when it is served. Plain HTTP, or HTTPS with `http.tls_cert_file`.
//!
//! Whatever clients do, the listener never costs the daemon more than
//! [`MAX_CONNECTIONS`] sockets: a client that is slow to send its headers is
//! cut off after `http.header_timeout_seconds`, any connection after
//! [`CONNECTION_LIFETIME`]. Without those limits, a thousand trickling
//! clients once kept `/healthz` down and took the file descriptors the
//! database needed.
//!
//! Nor can one host keep the listener to itself (issue 23: 80 connections
//! each sending part of a sign-in and reconnecting when closed kept
//! `/healthz` from answering for a minute). A source (an IPv4 address, an
//! IPv6 /64) holds at most [`CONNECTIONS_PER_SOURCE`], the last
//! [`SLOTS_FOR_NEW_SOURCES`] are kept for sources holding none, and when a
//! new connection finds no room, the oldest connection that is waiting on
//! its client and has never had a request answered is dropped for it
//! (failing that, the oldest waiting between requests). A connection the
//! server is answering is never dropped: so a probe, which sends its
//! request at once and is then the server's to answer, gets through even
//! from the attacker's own address.
//!
//! Every request must name this listener in `Host` (loopback names, its own
//! address, `http.hostnames`), else 421: a web page whose name an attacker
//!
//! - [`serve`] — accepting and admitting connections, the `Host` check,
//!   routing.
//! - [`health`] — `/healthz` and `/metrics`.
//! - [`state`] — [`ListenerState`], what every connection serves from.

pub mod health;
pub mod serve;
pub mod state;

pub use health::STUCK_AFTER_S;
pub use serve::{
    CONNECTION_LIFETIME, CONNECTIONS_PER_SOURCE, MAX_CONNECTIONS, SLOTS_FOR_NEW_SOURCES, serve,
};
pub use state::ListenerState;
