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
#[derive(Clone, Default)]
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
}

/// Failed sign-ins allowed per address and name in [`LOGIN_WINDOW`], and
/// from everyone together (a spread-out guesser). Per name as well as per
/// address: behind a reverse proxy every sign-in comes from the proxy's
/// address, and one person's typos, or a stranger's guesses at one name,
/// must not lock everyone else out.
pub const LOGIN_FAILURES_PER_ADDRESS: usize = 5;
pub const LOGIN_FAILURES_TOTAL: usize = 500;
pub const LOGIN_WINDOW: Duration = Duration::from_secs(5 * 60);

/// Counts failed sign-ins; once an address (or everyone) has failed too
/// often in the window, sign-in is refused without checking the password.
#[derive(Default)]
pub struct LoginLimiter(Mutex<Vec<(IpAddr, String, Instant)>>);

impl LoginLimiter {
    /// `Some(wait)` when `ip` must wait before trying `name` again.
    pub fn blocked(&self, ip: IpAddr, name: &str) -> Option<Duration> {
        let mut v = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        v.retain(|(_, _, t)| now.duration_since(*t) < LOGIN_WINDOW);
        let name = name.to_lowercase();
        let mine: Vec<Instant> = v
            .iter()
            .filter(|(a, n, _)| *a == ip && *n == name)
            .map(|(_, _, t)| *t)
            .collect();
        let oldest = |ts: &mut dyn Iterator<Item = Instant>| {
            ts.min()
                .map(|t| LOGIN_WINDOW.saturating_sub(now.duration_since(t)))
        };
        if mine.len() >= LOGIN_FAILURES_PER_ADDRESS {
            return oldest(&mut mine.into_iter());
        }
        if v.len() >= LOGIN_FAILURES_TOTAL {
            return oldest(&mut v.iter().map(|(_, _, t)| *t));
        }
        None
    }

    pub fn failed(&self, ip: IpAddr, name: &str) {
        let mut v = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // Names are cut, so a flood of long ones cannot grow the list's memory.
        let name: String = name.to_lowercase().chars().take(64).collect();
        v.push((ip, name, Instant::now()));
    }
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
            assert!(l.blocked(ip, "alice").is_none());
            l.failed(ip, "Alice");
        }
        assert!(l.blocked(ip, "alice").is_some());
        assert!(l.blocked(ip, "bob").is_none());
        assert!(l.blocked("192.0.2.2".parse().unwrap(), "alice").is_none());
    }
}
