//! Who is signed in to the status page: sessions, CSRF tokens and the
//! sign-in rate limit, kept in the database (`store::sessions`) so that a
//! restart signs no one out and every node behind a load balancer knows
//! the same. The users and their passwords are [`crate::users`]. Knows
//! nothing of pages; the SQL is the store's.

use std::net::IpAddr;
use std::time::Duration;

use crate::secret::random_token;
use crate::store::{self, Db, FailureTally, StoredSession};
use crate::timestamp::Timestamp;
use crate::users::Users;

/// A signed-in operator.
#[derive(Debug, Clone)]
pub struct Session {
    pub name: String,
    /// Sent with every form; an action without it is refused.
    pub csrf: String,
}

/// How long a sign-in lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The sessions, in the database. The cookie's id is stored only as its
/// SHA-256; each session keeps a digest of the password hash its user
/// signed in with, so a removed user or a changed password (a reload, or
/// another node's users file) ends it at its next use.
pub struct Sessions {
    db: Db,
}

fn digest(text: &str) -> String {
    crate::ingest::sha256_hex(text.as_bytes())
}

/// Which password `name` has now: a digest of its hash, or `None` for a
/// user who is not there.
fn password_tag(users: &Users, name: &str) -> Option<String> {
    users.hash_of(name).map(digest)
}

impl Sessions {
    pub fn new(db: Db) -> Sessions {
        Sessions { db }
    }

    /// Signs `name` in, as `users` has them now; returns the session id
    /// for the cookie.
    pub async fn start(&self, name: &str, users: &Users) -> store::Result<(String, Session)> {
        let id = random_token();
        let now = Timestamp::now();
        let stored = StoredSession {
            name: name.to_owned(),
            csrf: random_token(),
            // Only a verified user signs in; one removed meanwhile gets a
            // tag no user has, so the session ends at once.
            password_tag: password_tag(users, name).unwrap_or_default(),
            expires_at: Timestamp::from(
                now.datetime() + chrono::Duration::from_std(SESSION_LIFETIME).unwrap_or_default(),
            ),
        };
        store::start_session(&self.db.pool, &digest(&id), &stored, &now).await?;
        Ok((
            id,
            Session {
                name: stored.name,
                csrf: stored.csrf,
            },
        ))
    }

    /// The live session `id` names, if its user still signs in with the
    /// same password; a session whose user or password changed is ended.
    pub async fn get(&self, id: &str, users: &Users) -> store::Result<Option<Session>> {
        let key = digest(id);
        let Some(s) = store::live_session(&self.db.pool, &key, &Timestamp::now()).await? else {
            return Ok(None);
        };
        if password_tag(users, &s.name).as_deref() != Some(s.password_tag.as_str()) {
            store::end_session(&self.db.pool, &key).await?;
            return Ok(None);
        }
        Ok(Some(Session {
            name: s.name,
            csrf: s.csrf,
        }))
    }

    pub async fn end(&self, id: &str) -> store::Result<()> {
        store::end_session(&self.db.pool, &digest(id)).await
    }

    /// Keeps what an action did for the session's next page, on whichever
    /// node serves it.
    pub async fn flash(&self, id: &str, ok: bool, text: &str) -> store::Result<()> {
        store::set_flash(&self.db.pool, &digest(id), ok, text).await
    }

    /// The session's kept action result, once.
    pub async fn take_flash(&self, id: &str) -> store::Result<Option<(bool, String)>> {
        store::take_flash(&self.db.pool, &digest(id)).await
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

/// Counts failed sign-ins by source (an IPv6 /64 is one) and name, in the
/// database; a source that has failed too often is refused without a
/// password check, and when everyone together has, sign-in slows down for
/// all.
pub struct LoginLimiter {
    db: Db,
}

impl LoginLimiter {
    pub fn new(db: Db) -> LoginLimiter {
        LoginLimiter { db }
    }

    /// Whether `ip` may try `name` now. Forgets what is past the window
    /// first, so no failure (the name tried may be a password typed in the
    /// wrong field) stays longer than the window and the next attempt.
    pub async fn check(&self, ip: IpAddr, name: &str) -> store::Result<Gate> {
        let now = chrono::Utc::now();
        let since = window_start(now);
        store::forget_stale_sign_ins(&self.db.pool, &Timestamp::from(now), &since).await?;
        let source = crate::net::source(ip).to_string();
        let tally = store::sign_in_failures(&self.db.pool, &source, &counted(name), &since).await?;
        Ok(gate(&tally, now))
    }

    pub async fn failed(&self, ip: IpAddr, name: &str) -> store::Result<()> {
        let now = chrono::Utc::now();
        store::record_sign_in_failure(
            &self.db.pool,
            &crate::net::source(ip).to_string(),
            &counted(name),
            &Timestamp::from(now),
            LOGIN_FAILURES_KEPT as i64,
        )
        .await
    }
}

fn window_start(now: chrono::DateTime<chrono::Utc>) -> Timestamp {
    Timestamp::from(now - chrono::Duration::from_std(LOGIN_WINDOW).unwrap_or_default())
}

/// The limit's rule over the failures in the window.
fn gate(t: &FailureTally, now: chrono::DateTime<chrono::Utc>) -> Gate {
    let wait = |oldest: Option<Timestamp>| {
        Gate::Shut(oldest.map_or(LOGIN_WINDOW, |t| {
            LOGIN_WINDOW.saturating_sub((now - t.datetime()).to_std().unwrap_or_default())
        }))
    };
    if t.name >= LOGIN_FAILURES_PER_ADDRESS as i64 {
        return wait(t.name_oldest);
    }
    if t.source >= LOGIN_FAILURES_PER_SOURCE as i64 {
        return wait(t.source_oldest);
    }
    if t.total >= LOGIN_FAILURES_TOTAL as i64 {
        let over = u32::try_from(t.total + 1 - LOGIN_FAILURES_TOTAL as i64).unwrap_or(u32::MAX);
        return Gate::Slow(
            LOGIN_SLOWDOWN_STEP
                .saturating_mul(over)
                .min(LOGIN_SLOWDOWN_MAX),
        );
    }
    Gate::Open
}

/// A name as counted: lower-cased, cut to 64 characters, and stored only
/// as its SHA-256, since what someone typed as a name is sometimes their
/// password.
fn counted(name: &str) -> String {
    let name: String = name.trim().to_lowercase().chars().take(64).collect();
    digest(&format!("collabd sign-in name\0{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn limiter() -> (tempfile::TempDir, LoginLimiter) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("c.db")).await.unwrap();
        (dir, LoginLimiter::new(db))
    }

    /// A session outlives the process that began it (it is in the
    /// database, under its id's digest), ends when its user's password
    /// changes or the user signs out, and not before.
    #[tokio::test]
    async fn sessions_survive_a_restart_and_end_with_a_changed_password() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let line = |pw: &str| crate::users::users_file_line("alice", pw).unwrap();
        let users = Users::parse(&format!(
            "{}\n{}",
            line("first"),
            crate::users::users_file_line("bob", "b").unwrap()
        ))
        .unwrap();
        let (id, s) = Sessions::new(Db::open(&path).await.unwrap())
            .start("alice", &users)
            .await
            .unwrap();
        // Another process on the same database: as after a restart, or on
        // another node.
        let db = Db::open(&path).await.unwrap();
        let again = Sessions::new(db.clone());
        let found = again
            .get(&id, &users)
            .await
            .unwrap()
            .expect("the session is live");
        assert_eq!(
            (found.name.as_str(), found.csrf.as_str()),
            ("alice", s.csrf.as_str())
        );
        assert!(again.get("not-a-session", &users).await.unwrap().is_none());
        let stored: Vec<(String,)> = sqlx::query_as("select id_sha256 from web_sessions")
            .fetch_all(db.pool.sqlite().unwrap())
            .await
            .unwrap();
        assert_eq!(stored, [(digest(&id),)], "only the id's digest is stored");

        // Bob signs in and out; Alice's session is untouched.
        let (bob, _) = again.start("bob", &users).await.unwrap();
        again.end(&bob).await.unwrap();
        assert!(again.get(&bob, &users).await.unwrap().is_none());
        assert!(again.get(&id, &users).await.unwrap().is_some());
        // Alice's password changes (a reload, or another node's file).
        let changed = Users::parse(&line("second")).unwrap();
        assert!(again.get(&id, &changed).await.unwrap().is_none());
        assert!(
            again.get(&id, &users).await.unwrap().is_none(),
            "ended, not only hidden"
        );
    }

    #[tokio::test]
    async fn sign_in_is_limited_per_address_and_name() {
        let (_dir, l) = limiter().await;
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..LOGIN_FAILURES_PER_ADDRESS {
            assert_eq!(l.check(ip, "alice").await.unwrap(), Gate::Open);
            l.failed(ip, "Alice").await.unwrap();
        }
        assert!(matches!(l.check(ip, "alice").await.unwrap(), Gate::Shut(_)));
        assert_eq!(l.check(ip, "bob").await.unwrap(), Gate::Open);
        // The name tried is kept only as its digest.
        let names: Vec<(String,)> = sqlx::query_as("select distinct name from sign_in_failures")
            .fetch_all(l.db.pool.sqlite().unwrap())
            .await
            .unwrap();
        assert_eq!(names, [(counted("alice"),)]);
        assert!(!names[0].0.contains("alice"));
        // Past the window, the failures are forgotten at the next attempt.
        sqlx::query("update sign_in_failures set at = '2000-01-01T00:00:00Z'")
            .execute(l.db.pool.sqlite().unwrap())
            .await
            .unwrap();
        assert_eq!(l.check(ip, "alice").await.unwrap(), Gate::Open);
        let left: (i64,) = sqlx::query_as("select count(*) from sign_in_failures")
            .fetch_one(l.db.pool.sqlite().unwrap())
            .await
            .unwrap();
        assert_eq!(left.0, 0);
        assert_eq!(
            l.check("192.0.2.2".parse().unwrap(), "alice")
                .await
                .unwrap(),
            Gate::Open
        );
    }

    /// Issue 23: many names × 5 from one source stop counting at a tenth
    /// of the total, so the source is refused and everyone else is not.
    #[tokio::test]
    async fn one_source_cannot_use_up_everyones_allowance() {
        let (_dir, l) = limiter().await;
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let mut shut = 0;
        for n in 0..=100 {
            for _ in 0..LOGIN_FAILURES_PER_ADDRESS {
                match l.check(ip, &format!("guess{n}")).await.unwrap() {
                    Gate::Open => l.failed(ip, &format!("guess{n}")).await.unwrap(),
                    Gate::Shut(_) => shut += 1,
                    Gate::Slow(_) => panic!("one source reached the slowdown"),
                }
            }
        }
        assert_eq!(shut, 505 - LOGIN_FAILURES_PER_SOURCE);
        assert!(matches!(l.check(ip, "alice").await.unwrap(), Gate::Shut(_)));
        assert_eq!(
            l.check("198.51.100.1".parse().unwrap(), "alice")
                .await
                .unwrap(),
            Gate::Open
        );
        // One IPv6 /64 is one source.
        let v6 = |s: &str| s.parse::<IpAddr>().unwrap();
        for n in 0..LOGIN_FAILURES_PER_SOURCE {
            l.failed(v6(&format!("2001:db8:1:2::{n:x}")), &format!("n{n}"))
                .await
                .unwrap();
        }
        assert!(matches!(
            l.check(v6("2001:db8:1:2:ffff::1"), "other").await.unwrap(),
            Gate::Shut(_)
        ));
        assert_eq!(
            l.check(v6("2001:db8:1:3::1"), "other").await.unwrap(),
            Gate::Open
        );
    }

    /// Past the total from everyone, sign-in waits longer the more there
    /// is, up to the bound, and is never refused for it.
    #[tokio::test]
    async fn everyones_failures_slow_sign_in_down_but_do_not_shut_it() {
        let (_dir, l) = limiter().await;
        let sources = LOGIN_FAILURES_TOTAL / LOGIN_FAILURES_PER_SOURCE;
        for s in 0..sources {
            let ip = IpAddr::from([198, 51, 100, s as u8]);
            for n in 0..LOGIN_FAILURES_PER_SOURCE {
                l.failed(ip, &format!("n{n}")).await.unwrap();
            }
        }
        let operator: IpAddr = "203.0.113.5".parse().unwrap();
        assert_eq!(
            l.check(operator, "alice").await.unwrap(),
            Gate::Slow(LOGIN_SLOWDOWN_STEP)
        );
        for n in 0..100 {
            l.failed(IpAddr::from([192, 0, 2, 1 + n % 100]), "x")
                .await
                .unwrap();
        }
        assert_eq!(
            l.check(operator, "alice").await.unwrap(),
            Gate::Slow(LOGIN_SLOWDOWN_STEP * 101)
        );
        for n in 0..1000 {
            l.failed(
                IpAddr::from([203, 0, 113, (n % 200) as u8]),
                &format!("y{n}"),
            )
            .await
            .unwrap();
        }
        assert_eq!(
            l.check(operator, "alice").await.unwrap(),
            Gate::Slow(LOGIN_SLOWDOWN_MAX)
        );
    }
}
