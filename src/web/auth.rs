//! Who is signed in to the status page: the users file (`name:$argon2id$…`
//! lines), password checks, sessions held in memory, CSRF tokens and the
//! sign-in rate limit. Knows nothing of pages or SQL.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use subtle::ConstantTimeEq;

/// An argon2id hash of nothing anyone knows, checked for an unknown name
/// so that it costs as much as a known one.
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$0yX0aQwPp1BXl6y3nJk1vL8f5mQv0YJtU8dN1o7c2aQ";

/// The status page's users, from the users file or the credential.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Users(Vec<(String, String)>);

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|(n, _)| n.as_str()).collect();
        write!(f, "Users({names:?})")
    }
}

impl Users {
    /// Reads `name:$argon2id$…` lines; blank lines and `#` comments are
    /// skipped. An error names the line, never its hash.
    pub fn parse(text: &str) -> Result<Users, String> {
        let mut users = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((name, hash)) = line.split_once(':') else {
                return Err(format!(
                    "line {}: not `name:$argon2id$…` (make one with `collabd http-user NAME`)",
                    n + 1
                ));
            };
            check_name(name).map_err(|e| format!("line {}: {e}", n + 1))?;
            match PasswordHash::new(hash) {
                Ok(h) if h.algorithm.as_str() == "argon2id" => {}
                _ => {
                    return Err(format!(
                        "line {}: the hash for {name} is not an argon2id hash (make one with `collabd http-user {name}`)",
                        n + 1
                    ));
                }
            }
            if users.iter().any(|(u, _)| u == name) {
                return Err(format!("line {}: {name} is listed twice", n + 1));
            }
            users.push((name.to_owned(), hash.to_owned()));
        }
        Ok(Users(users))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether `password` is `name`'s. Slow on purpose (argon2id): call it
    /// off the async runtime. An unknown name costs the same as a known
    /// one, so timing does not tell which names exist.
    pub fn verify(&self, name: &str, password: &str) -> bool {
        let hash = self
            .0
            .iter()
            .find(|(u, _)| u == name)
            .map_or(DECOY_HASH, |(_, h)| h.as_str());
        let known = self.0.iter().any(|(u, _)| u == name);
        let Ok(parsed) = PasswordHash::new(hash) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
            && known
    }
}

/// A user name: letters, digits and `._-@`, at most 64, as it is recorded
/// on the timeline (`operator:<name>`).
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err("a user name is 1 to 64 letters, digits, `.`, `_`, `-` or `@`".into())
    }
}

/// A users-file line for `name` with `password`: `name:$argon2id$…`.
pub fn users_file_line(name: &str, password: &str) -> Result<String, String> {
    check_name(name)?;
    if password.is_empty() {
        return Err("the password is empty".into());
    }
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| format!("cannot hash the password: {e}"))?;
    Ok(format!("{name}:{hash}"))
}

/// Random bytes as hex: session ids and CSRF tokens.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    // The OS's generator does not fail on Linux once booted; if it ever
    // did, no session could be made, which is safe.
    getrandom::getrandom(&mut b).expect("the OS random number generator works");
    hex::encode(b)
}

/// Equal, in time that does not depend on where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

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
        let hash = |users: &Users, name: &str| {
            users
                .0
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, h)| h.clone())
        };
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| {
            let was = hash(old, &s.name);
            was.is_some() && was == hash(new, &s.name)
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
    fn a_made_line_is_read_back_and_checks_its_password() {
        let line = users_file_line("alice", "correct horse").unwrap();
        assert!(line.starts_with("alice:$argon2id$"));
        let users = Users::parse(&format!("# operators\n\n{line}\n")).unwrap();
        assert!(users.verify("alice", "correct horse"));
        assert!(!users.verify("alice", "wrong"));
        assert!(!users.verify("bob", "correct horse"));
        assert!(!format!("{users:?}").contains("argon2"));
    }

    #[test]
    fn the_decoy_is_a_real_argon2id_hash() {
        let h = PasswordHash::new(DECOY_HASH).unwrap();
        assert_eq!(h.algorithm.as_str(), "argon2id");
    }

    #[test]
    fn bad_lines_are_named_without_their_hash() {
        let e = Users::parse("alice:plaintext-secret\n").unwrap_err();
        assert!(
            e.contains("line 1") && !e.contains("plaintext-secret"),
            "{e}"
        );
        assert!(
            Users::parse("no colon here")
                .unwrap_err()
                .contains("line 1")
        );
        assert!(users_file_line("has space", "x").is_err());
    }

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
