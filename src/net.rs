//! Who a request on the `[http]` listener comes from, and which names it
//! may be asked for. Small and pure, so that the listener, the status
//! page's sign-in limit and Leadsie's webhook all answer these questions
//! the same way:
//!
//! - [`source`]: what one address counts as for limits (an IPv6 address
//!   by its /64).
//! - [`client`]: the client's address, which is the connection's peer
//!   unless the peer is a reverse proxy listed in `http.trusted_proxies`;
//!   then `X-Forwarded-For` says who the proxy served.
//! - [`Hosts`]: the `Host` names the listener answers to (loopback names,
//!   its own address, `http.hostnames`), so that a web page whose name an
//!   attacker re-points at 127.0.0.1 (DNS rebinding) reads nothing.
//! - [`this_process`]: how this process names itself where it records
//!   what it does (host and pid).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use hyper::HeaderMap;

/// Whether the server, rather than the client, holds a connection now: set
/// by the listener while a request is being answered (a connection being
/// answered is never dropped for a newcomer), and put in each request's
/// extensions so a handler that only waits (a slowed sign-in, a turn at
/// the password check) can hand its slot back to the droppable ones for
/// that time: otherwise waiting sign-ins could hold every slot.
#[derive(Debug, Clone, Default)]
pub struct Answering(Arc<AtomicBool>);

impl Answering {
    pub fn set(&self, on: bool) {
        self.0.store(on, Ordering::Relaxed);
    }

    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Awaits `f` with the connection counted as the client's: a newcomer
    /// that needs room may close it meanwhile.
    pub async fn waiting<F: std::future::Future>(&self, f: F) -> F::Output {
        let was = self.get();
        self.set(false);
        let out = f.await;
        self.set(was);
        out
    }
}

/// An address, or a network in CIDR notation (`10.0.0.0/8`), as
/// `http.trusted_proxies` lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// `192.0.2.7`, `10.0.0.0/8`, `::1` or `2001:db8::/32`. A network
    /// with bits set past its prefix (`10.0.0.1/8`) is refused: it is
    /// usually a typing slip, and the operator should see which was meant.
    pub fn parse(text: &str) -> Result<Network, String> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .trim_matches(['[', ']'])
            .parse()
            .map_err(|_| format!("`{text}` is not an address or a network such as 10.0.0.0/8"))?;
        let addr = addr.to_canonical();
        let width = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) => match p.parse::<u8>() {
                Ok(p) if p <= width => p,
                _ => {
                    return Err(format!(
                        "`{text}`: the prefix must be a number from 0 to {width}"
                    ));
                }
            },
        };
        let network = Network { addr, prefix };
        if masked(addr, prefix) != bits(addr) {
            let base = match addr {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(masked(addr, prefix) as u32)),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(masked(addr, prefix))),
            };
            return Err(format!(
                "`{text}` has bits set past its /{prefix}: write {base}/{prefix}"
            ));
        }
        Ok(network)
    }

    /// Whether `ip` is this address or in this network (an IPv4 address
    /// written as IPv6, `::ffff:10.0.0.1`, counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_ipv4() == self.addr.is_ipv4()
            && masked(ip, self.prefix) == masked(self.addr, self.prefix)
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// An address's bits, IPv4 in the low 32.
fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// An address's bits with all but the first `prefix` cleared.
fn masked(ip: IpAddr, prefix: u8) -> u128 {
    let width: u32 = if ip.is_ipv4() { 32 } else { 128 };
    let keep = u32::from(prefix).min(width);
    if keep == 0 {
        return 0;
    }
    let all = if width == 32 {
        u128::from(u32::MAX)
    } else {
        u128::MAX
    };
    bits(ip) & (all << (width - keep)) & all
}

/// Whom an address stands for in limits: an IPv4 address itself, an IPv6
/// address its /64 (one host usually holds a whole /64, and could
/// otherwise come from a new address each time).
pub fn source(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// The client a request is from: the connection's `peer`, unless the peer
/// is a trusted proxy; then the rightmost `X-Forwarded-For` address that
/// is not itself a trusted proxy. Each proxy appends the address it was
/// connected from, so everything left of that is whatever the client
/// chose to send and is not believed. An entry that is not an address
/// stops the walk at the last address vouched for; a chain of nothing
/// but trusted proxies ends at its leftmost.
pub fn client(peer: IpAddr, headers: &HeaderMap, trusted: &[Network]) -> IpAddr {
    let trusts = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    let mut client = peer.to_canonical();
    if !trusts(client) {
        return client;
    }
    // Entry by entry, as bytes: a client's junk on the left of a value
    // (a byte that is not text) must not cost the address its proxy
    // appended on the right.
    let hops: Vec<Option<IpAddr>> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b','))
        .map(|entry| std::str::from_utf8(entry).ok().and_then(hop))
        .collect();
    for hop in hops.into_iter().rev() {
        let Some(ip) = hop else { break };
        client = ip;
        if !trusts(ip) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, perhaps with a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`), as some proxies write it.
fn hop(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    let bare = match entry.strip_prefix('[') {
        Some(rest) => rest.split_once(']')?.0,
        None => entry.split_once(':')?.0,
    };
    bare.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// The `Host` names the listener answers to.
#[derive(Debug, Clone)]
pub struct Hosts {
    /// The listener's own address.
    own: IpAddr,
    /// The listener is on every address (0.0.0.0 or ::): any address
    /// written as an IP literal is one of the host's own.
    any_address: bool,
    /// `http.hostnames` that are names, lower case, without a final dot.
    names: Vec<String>,
    /// `http.hostnames` that are addresses (a public address that reaches
    /// the listener through NAT).
    addresses: Vec<IpAddr>,
}

impl Hosts {
    /// The listener at `listen`, with the operator's extra `names` (host
    /// names or addresses, without scheme, port or path).
    pub fn new(listen: SocketAddr, names: &[String]) -> Result<Hosts, String> {
        let mut hosts = Hosts {
            own: listen.ip().to_canonical(),
            any_address: listen.ip().is_unspecified(),
            names: Vec::new(),
            addresses: Vec::new(),
        };
        for n in names {
            let n = n.trim();
            if let Ok(ip) = n.trim_matches(['[', ']']).parse::<IpAddr>() {
                hosts.addresses.push(ip.to_canonical());
                continue;
            }
            let name = n.trim_end_matches('.').to_ascii_lowercase();
            let label_ok = |l: &str| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && l.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            };
            if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
                return Err(format!(
                    "`{n}` is not a host name such as collabd.example.com (no scheme, port or path; an internationalised name in its xn-- form)"
                ));
            }
            hosts.names.push(name);
        }
        Ok(hosts)
    }

    /// Whether a request whose `Host` (or absolute address) names `host`
    /// may be answered: a loopback name or address, the listener's own
    /// address, or one of `http.hostnames`; any port. An empty one (no
    /// name given, as HTTP/1.0 allows) is answered: a browser always
    /// sends the name it looked up, and that is what rebinding abuses.
    pub fn allows(&self, host: &str) -> bool {
        if host.is_empty() {
            return true;
        }
        let Some(name) = without_port(host) else {
            return false;
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if let Ok(ip) = name.parse::<IpAddr>() {
            let ip = ip.to_canonical();
            return ip.is_loopback()
                || self.any_address
                || ip == self.own
                || self.addresses.contains(&ip);
        }
        name == "localhost" || name.ends_with(".localhost") || self.names.contains(&name)
    }
}

/// The name or address in a `Host` value, without its port: `[::1]:80`
/// is `::1`. `None` when it is not a host and port at all.
fn without_port(host: &str) -> Option<&str> {
    let port_ok = |p: &str| p.is_empty() || p.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = host.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let ok = after.is_empty() || after.strip_prefix(':').is_some_and(port_ok);
        return ok.then_some(inside);
    }
    match host.split_once(':') {
        Some((name, port)) if port_ok(port) => Some(name),
        Some(_) => None,
        None => Some(host),
    }
}

/// This process as the operator would find it: the host's name and the
/// process id, `backup-host (pid 4121)`. Written beside what the process
/// does (the folder it watches), so `status` says who is doing it.
pub fn this_process() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_owned());
        format!("{host} (pid {})", std::process::id())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<Network> {
        list.iter().map(|n| Network::parse(n).unwrap()).collect()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn networks_are_parsed_and_matched() {
        let n = Network::parse("10.0.0.0/8").unwrap();
        assert!(n.contains(ip("10.200.3.4")));
        assert!(n.contains(ip("::ffff:10.1.2.3")));
        assert!(!n.contains(ip("11.0.0.1")));
        assert!(!n.contains(ip("::1")));
        let one = Network::parse("127.0.0.1").unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let v6 = Network::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")) && !v6.contains(ip("2001:db9::1")));
        assert!(Network::parse("::1").unwrap().contains(ip("::1")));
        assert!(
            Network::parse("0.0.0.0/0")
                .unwrap()
                .contains(ip("203.0.113.1"))
        );
        for bad in ["", "10.0.0.0/33", "10.0.0.0/x", "proxy.example", "::1/129"] {
            assert!(Network::parse(bad).is_err(), "{bad:?}");
        }
        let e = Network::parse("10.0.0.1/8").unwrap_err();
        assert!(e.contains("10.0.0.0/8"), "{e}");
    }

    #[test]
    fn an_ipv6_source_is_its_64() {
        assert_eq!(source(ip("2001:db8:1:2::7")), ip("2001:db8:1:2::"));
        assert_eq!(source(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let trusted = nets(&["127.0.0.1", "10.0.0.0/8"]);
        let h = xff(&["198.51.100.7"]);
        // An untrusted peer's header is ignored.
        assert_eq!(client(ip("192.0.2.1"), &h, &trusted), ip("192.0.2.1"));
        assert_eq!(client(ip("192.0.2.1"), &h, &[]), ip("192.0.2.1"));
        // A trusted one's is read.
        assert_eq!(client(ip("127.0.0.1"), &h, &trusted), ip("198.51.100.7"));
        // No header: the proxy itself.
        assert_eq!(
            client(ip("127.0.0.1"), &HeaderMap::new(), &trusted),
            ip("127.0.0.1")
        );
    }

    #[tokio::test]
    async fn a_handler_that_only_waits_gives_its_connection_back_meanwhile() {
        let answering = Answering::default();
        answering.set(true);
        let seen = answering.waiting(async { answering.get() }).await;
        assert!(!seen, "droppable while it waits");
        assert!(answering.get(), "the server's again once it answers");
    }

    #[test]
    fn the_client_is_the_rightmost_address_not_a_trusted_proxy() {
        let trusted = nets(&["127.0.0.1", "10.0.0.0/8"]);
        let peer = ip("127.0.0.1");
        // What the client sent itself (left) is not believed.
        let h = xff(&["203.0.113.66, 198.51.100.7"]);
        assert_eq!(client(peer, &h, &trusted), ip("198.51.100.7"));
        // Through two proxies, in one header or two.
        let h = xff(&["203.0.113.66, 198.51.100.7, 10.1.2.3"]);
        assert_eq!(client(peer, &h, &trusted), ip("198.51.100.7"));
        let h = xff(&["203.0.113.66, 198.51.100.7", "10.1.2.3"]);
        assert_eq!(client(peer, &h, &trusted), ip("198.51.100.7"));
        // Ports and brackets, as some proxies write them.
        let h = xff(&["[2001:db8::5]:4711"]);
        assert_eq!(client(peer, &h, &trusted), ip("2001:db8::5"));
        let h = xff(&["198.51.100.7:4711"]);
        assert_eq!(client(peer, &h, &trusted), ip("198.51.100.7"));
        // Garbage stops the walk at the last address vouched for.
        let h = xff(&["198.51.100.7, unknown, 10.9.9.9"]);
        assert_eq!(client(peer, &h, &trusted), ip("10.9.9.9"));
        let h = xff(&["garbage"]);
        assert_eq!(client(peer, &h, &trusted), peer);
        // Only trusted proxies: the leftmost.
        let h = xff(&["10.0.0.5, 10.0.0.6"]);
        assert_eq!(client(peer, &h, &trusted), ip("10.0.0.5"));
        // A byte that is not text in what the client wrote does not cost
        // the address the proxy appended (else every such sign-in would
        // count against the proxy, and lock everyone behind it out).
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            hyper::header::HeaderValue::from_bytes(b"\xff\xfe, 198.51.100.7").unwrap(),
        );
        assert_eq!(client(peer, &h, &trusted), ip("198.51.100.7"));
    }

    #[test]
    fn only_loopback_names_the_listeners_address_and_configured_names_are_answered() {
        let listen: SocketAddr = "192.0.2.10:9464".parse().unwrap();
        let hosts = Hosts::new(
            listen,
            &["Collabd.Example.com.".into(), "203.0.113.4".into()],
        )
        .unwrap();
        for ok in [
            "",
            "localhost",
            "localhost:9464",
            "LOCALHOST.",
            "app.localhost:1",
            "127.0.0.1",
            "127.9.9.9:80",
            "[::1]",
            "[::1]:9464",
            "192.0.2.10",
            "192.0.2.10:9464",
            "collabd.example.com",
            "collabd.example.com:443",
            "203.0.113.4:443",
        ] {
            assert!(hosts.allows(ok), "{ok:?}");
        }
        for bad in [
            "attacker-rebind.example",
            "attacker-rebind.example:9464",
            "localhost.attacker.example",
            "192.0.2.11",
            "10.0.0.1:9464",
            "[2001:db8::1]",
            "::1",
            "localhost:x",
            "collabd.example.com.evil.example",
        ] {
            assert!(!hosts.allows(bad), "{bad:?}");
        }
        // On every address, every address is the host's own.
        let any = Hosts::new("0.0.0.0:9464".parse().unwrap(), &[]).unwrap();
        assert!(any.allows("198.51.100.3:9464") && any.allows("[2001:db8::1]:9464"));
        assert!(!any.allows("attacker-rebind.example"));
        for bad in [
            "https://x.example",
            "x.example:443",
            "x.example/path",
            "-x.example",
            "a..b",
        ] {
            assert!(Hosts::new(listen, &[bad.into()]).is_err(), "{bad:?}");
        }
    }
}
