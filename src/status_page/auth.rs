//! Who is signed in to the status page: sessions held in memory, CSRF
//! tokens and the sign-in rate limit. The users and their passwords are
//! [`crate::users`]. Knows nothing of pages or SQL.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::secret::random_token;
use crate::users::Users;

/// A signed-in operator.
#[derive(Debug, Clone)]
pub struct Session {
    pub name: String,
    /// Sent with every form; an action without it is refused.
    pub csrf: String,
    expires: Instant,
}

/// How long a sign-in lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// Sessions by id, in memory: a restart signs everyone out.
#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

impl Sessions {
    /// Signs `name` in; returns the session id for the cookie.
    pub fn start(&self, name: &str) -> (String, Session) {
        let id = random_token();
        let session = Session {
            name: name.to_owned(),
            csrf: random_token(),
            expires: Instant::now() + SESSION_LIFETIME,
        };
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        map.retain(|_, s| s.expires > now);
        map.insert(id.clone(), session.clone());
        (id, session)
    }

    pub fn get(&self, id: &str) -> Option<Session> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(id).filter(|s| s.expires > Instant::now()).cloned()
    }

    pub fn end(&self, id: &str) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(id);
    }

    /// Ends the sessions of anyone not in both `old` and `new` with the
    /// same password hash: removed, or given a new password.
    pub fn keep_unchanged(&self, old: &Users, new: &Users) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| {
            let was = old.hash_of(&s.name);
            was.is_some() && was == new.hash_of(&s.name)
        });
    }
}

/// Failed sign-ins allowed per client and name in [`LOGIN_WINDOW`]. Per
/// name as well as per client: behind a reverse proxy not listed in
/// `http.trusted_proxies` every sign-in comes from the proxy's address, and
/// one person's typos, or a stranger's guesses at one name, must not lock
/// everyone else out.
pub const LOGIN_FAILURES_PER_ADDRESS: usize = 5;

/// Failed sign-ins one source (an IPv4 address, an IPv6 /64) may make in
/// the window across all names: a tenth of [`LOGIN_FAILURES_TOTAL`], so
/// that one source alone never brings everyone to the slowdown (issue 23:
/// 101 names × 5 from one address once locked the operator out), while
/// ten people's typos behind one address still fit.
pub const LOGIN_FAILURES_PER_SOURCE: usize = LOGIN_FAILURES_TOTAL / 10;

/// Failures from everyone together in the window past which sign-in slows
/// down: a guesser spread over many addresses.
pub const LOGIN_FAILURES_TOTAL: usize = 500;

pub const LOGIN_WINDOW: Duration = Duration::from_secs(5 * 60);

/// Past [`LOGIN_FAILURES_TOTAL`], each sign-in waits this much per failure
/// over it before its password is checked: the more guessing, the slower,
/// and the right password still gets in.
pub const LOGIN_SLOWDOWN_STEP: Duration = Duration::from_millis(20);

/// The longest that wait: long enough to cut a spread-out guesser to a
/// trickle (each connection tries once every few seconds), short enough
/// that an operator signing in meanwhile only notices.
pub const LOGIN_SLOWDOWN_MAX: Duration = Duration::from_secs(4);

/// Failures remembered at most. The slowdown refuses nobody, so without
/// this a long spread-out guess would grow the list; ten times the total
/// keeps the slowdown at its most for as long as it goes on.
const LOGIN_FAILURES_KEPT: usize = 10 * LOGIN_FAILURES_TOTAL;

/// What [`LoginLimiter::check`] says about one sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Check the password.
    Open,
    /// Wait this long, then check it: everyone together has failed often.
    Slow(Duration),
    /// Refused without checking; try again after this long.
    Shut(Duration),
}

/// Counts failed sign-ins by source (an IPv6 /64 is one) and name; a
/// source that has failed too often is refused without a password check,
/// and when everyone together has, sign-in slows down for all.
#[derive(Default)]
pub struct LoginLimiter(Mutex<Vec<(IpAddr, String, Instant)>>);

impl LoginLimiter {
    /// Whether `ip` may try `name` now.
    pub fn check(&self, ip: IpAddr, name: &str) -> Gate {
        let mut v = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        v.retain(|(_, _, t)| now.duration_since(*t) < LOGIN_WINDOW);
        let source = crate::net::source(ip);
        let name = cut(name);
        let wait = |ts: &mut dyn Iterator<Item = Instant>| {
            Gate::Shut(ts.min().map_or(LOGIN_WINDOW, |t| {
                LOGIN_WINDOW.saturating_sub(now.duration_since(t))
            }))
        };
        let mine = || v.iter().filter(|(a, _, _)| *a == source);
        if mine().filter(|(_, n, _)| *n == name).count() >= LOGIN_FAILURES_PER_ADDRESS {
            return wait(&mut mine().filter(|(_, n, _)| *n == name).map(|(_, _, t)| *t));
        }
        if mine().count() >= LOGIN_FAILURES_PER_SOURCE {
            return wait(&mut mine().map(|(_, _, t)| *t));
        }
        if v.len() >= LOGIN_FAILURES_TOTAL {
            let over = u32::try_from(v.len() + 1 - LOGIN_FAILURES_TOTAL).unwrap_or(u32::MAX);
            return Gate::Slow(
                LOGIN_SLOWDOWN_STEP
                    .saturating_mul(over)
                    .min(LOGIN_SLOWDOWN_MAX),
            );
        }
        Gate::Open
    }

    pub fn failed(&self, ip: IpAddr, name: &str) {
        let mut v = self.0.lock().unwrap_or_else(|p| p.into_inner());
        v.push((crate::net::source(ip), cut(name), Instant::now()));
        if v.len() > LOGIN_FAILURES_KEPT {
            let extra = v.len() - LOGIN_FAILURES_KEPT;
            v.drain(..extra);
        }
    }
}

/// A name as counted: lower case and cut, so a flood of long ones cannot
/// grow the list's memory.
fn cut(name: &str) -> String {
    name.trim().to_lowercase().chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_is_limited_per_address_and_name() {
        let l = LoginLimiter::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..LOGIN_FAILURES_PER_ADDRESS {
            assert_eq!(l.check(ip, "alice"), Gate::Open);
            l.failed(ip, "Alice");
        }
        assert!(matches!(l.check(ip, "alice"), Gate::Shut(_)));
        assert_eq!(l.check(ip, "bob"), Gate::Open);
        assert_eq!(l.check("192.0.2.2".parse().unwrap(), "alice"), Gate::Open);
    }

    /// Issue 23: many names × 5 from one source stop counting at a tenth
    /// of the total, so the source is refused and everyone else is not.
    #[test]
    fn one_source_cannot_use_up_everyones_allowance() {
        let l = LoginLimiter::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let mut shut = 0;
        for n in 0..=100 {
            for _ in 0..LOGIN_FAILURES_PER_ADDRESS {
                match l.check(ip, &format!("guess{n}")) {
                    Gate::Open => l.failed(ip, &format!("guess{n}")),
                    Gate::Shut(_) => shut += 1,
                    Gate::Slow(_) => panic!("one source reached the slowdown"),
                }
            }
        }
        assert_eq!(shut, 505 - LOGIN_FAILURES_PER_SOURCE);
        assert!(matches!(l.check(ip, "alice"), Gate::Shut(_)));
        assert_eq!(
            l.check("198.51.100.1".parse().unwrap(), "alice"),
            Gate::Open
        );
        // One IPv6 /64 is one source.
        let v6 = |s: &str| s.parse::<IpAddr>().unwrap();
        for n in 0..LOGIN_FAILURES_PER_SOURCE {
            l.failed(v6(&format!("2001:db8:1:2::{n:x}")), &format!("n{n}"));
        }
        assert!(matches!(
            l.check(v6("2001:db8:1:2:ffff::1"), "other"),
            Gate::Shut(_)
        ));
        assert_eq!(l.check(v6("2001:db8:1:3::1"), "other"), Gate::Open);
    }

    /// Past the total from everyone, sign-in waits longer the more there
    /// is, up to the bound, and is never refused for it.
    #[test]
    fn everyones_failures_slow_sign_in_down_but_do_not_shut_it() {
        let l = LoginLimiter::default();
        let sources = LOGIN_FAILURES_TOTAL / LOGIN_FAILURES_PER_SOURCE;
        for s in 0..sources {
            let ip = IpAddr::from([198, 51, 100, s as u8]);
            for n in 0..LOGIN_FAILURES_PER_SOURCE {
                l.failed(ip, &format!("n{n}"));
            }
        }
        let operator: IpAddr = "203.0.113.5".parse().unwrap();
        assert_eq!(l.check(operator, "alice"), Gate::Slow(LOGIN_SLOWDOWN_STEP));
        for n in 0..100 {
            l.failed(IpAddr::from([192, 0, 2, 1 + n % 100]), "x");
        }
        assert_eq!(
            l.check(operator, "alice"),
            Gate::Slow(LOGIN_SLOWDOWN_STEP * 101)
        );
        for n in 0..1000 {
            l.failed(
                IpAddr::from([203, 0, 113, (n % 200) as u8]),
                &format!("y{n}"),
            );
        }
        assert_eq!(l.check(operator, "alice"), Gate::Slow(LOGIN_SLOWDOWN_MAX));
    }
}
