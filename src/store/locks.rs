//! Node locks: on PostgreSQL, a session-level advisory lock held on a
//! connection of its own, which lives exactly as long as that connection.
//! A node that dies, or loses its connection, loses the lock with it, and
//! another node can take it. On SQLite there is one host and no one to
//! share with: the lock is always this process's.

use std::time::Duration;

use sqlx::postgres::PgConnection;
use sqlx::{Connection, Executor};

use super::db::{Db, Error, Pool, Result};

/// How often a held lock's connection is checked, and how long the check
/// may take before the lock counts as lost.
const CHECK_EVERY: Duration = Duration::from_secs(5);
const CHECK_WITHIN: Duration = Duration::from_secs(5);
/// How long taking a lock may take (connecting included) before the
/// attempt counts as failed.
pub const ATTEMPT_WITHIN: Duration = Duration::from_secs(10);

/// A lock this node holds. Dropped, it is released (its connection closed).
#[derive(Debug)]
pub struct NodeLock {
    /// `None` on SQLite.
    conn: Option<PgConnection>,
}

/// The lock's 64-bit key: the first 8 bytes of the SHA-256 of its name, so
/// every node derives the same key for the same folder.
pub fn lock_key(name: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(format!("collabd lock {name}").as_bytes());
    i64::from_be_bytes(d[..8].try_into().unwrap_or_default())
}

impl Db {
    /// Takes the lock `name` if no other node holds it: `Some` while this
    /// node holds it, `None` when another does. Never waits.
    pub async fn try_lock(&self, name: &str) -> Result<Option<NodeLock>> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(Some(NodeLock { conn: None }));
        };
        // Named for what it holds and who holds it, so that any node can
        // tell (pg_stat_activity) who has the lock while it is held.
        let options = (*pool.connect_options()).clone().application_name(&format!(
            "{}{}",
            holder_prefix(name),
            crate::net::this_process()
        ));
        // The pool's options carry the keepalives: the server drops the
        // session (and the lock) about 25 seconds after this node goes
        // silent, not after the kernel's two hours, so a node cut off by
        // the network gives its folders up.
        let attempt = async {
            let mut conn = PgConnection::connect_with(&options).await?;
            let held: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
                .bind(lock_key(name))
                .fetch_one(&mut conn)
                .await?;
            Ok::<_, sqlx::Error>((conn, held))
        };
        let (conn, held) = tokio::time::timeout(ATTEMPT_WITHIN, attempt)
            .await
            .map_err(|_| timed_out("the database did not answer within 10 seconds"))??;
        if !held {
            let _ = conn.close().await;
            return Ok(None);
        }
        Ok(Some(NodeLock { conn: Some(conn) }))
    }

    /// Who holds the lock `name` now (`host (pid N)`), when the database is
    /// shared; `None` when no node holds it, or on SQLite.
    pub async fn lock_holder(&self, name: &str) -> Result<Option<String>> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(None);
        };
        let prefix = holder_prefix(name);
        let names: Vec<String> = sqlx::query_scalar(
            "select application_name from pg_stat_activity
             where datname = current_database() and left(application_name, length($1)) = $1",
        )
        .bind(&prefix)
        .fetch_all(pool)
        .await?;
        Ok(names
            .into_iter()
            .filter_map(|n| n.strip_prefix(&prefix).map(str::to_owned))
            .next())
    }

    /// Whether other nodes may share this database (PostgreSQL).
    pub fn shared(&self) -> bool {
        matches!(self.pool, Pool::Postgres(_))
    }
}

/// Whether a lock's connection still answers, within [`CHECK_WITHIN`].
async fn check(conn: &mut PgConnection) -> Result<()> {
    tokio::time::timeout(CHECK_WITHIN, conn.execute("select 1"))
        .await
        .map_err(|_| timed_out("the lock's connection did not answer within 5 seconds"))??;
    Ok(())
}

/// A wait on the server that ran out, as the store's error.
fn timed_out(what: &'static str) -> Error {
    Error::Unreachable(sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        what,
    )))
}

/// What a lock connection's application name starts with: the lock's key
/// (not its name, which may hold a mailbox's login, and which PostgreSQL
/// would cut at 63 bytes), so that the holder fits after it.
fn holder_prefix(name: &str) -> String {
    format!("collabd lock {:016x}: ", lock_key(name))
}

impl NodeLock {
    /// Whether the lock is still held: its connection answers within five
    /// seconds. Always on SQLite.
    pub async fn alive(&mut self) -> bool {
        match self.conn.as_mut() {
            Some(conn) => check(conn).await.is_ok(),
            None => true,
        }
    }

    /// Resolves when the lock is lost: its connection failed, or did not
    /// answer a check within five seconds. Never resolves on SQLite.
    pub async fn lost(&mut self) -> Error {
        let Some(conn) = self.conn.as_mut() else {
            return std::future::pending().await;
        };
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            if let Err(e) = check(conn).await {
                return e;
            }
        }
    }

    /// Gives the lock up now, rather than when dropped.
    pub async fn release(mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = conn.close().await;
        }
    }
}

/// Whether this node does the work of a filer bound to one machine: set by
/// the worker as it takes or loses that filer's lock, read by whatever else
/// must then run on that node only (the browser's list sync).
#[derive(Debug, Clone)]
pub struct OnThisNode(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl OnThisNode {
    /// Not yet known: false until the worker's first pass says.
    pub fn unknown() -> OnThisNode {
        OnThisNode(std::sync::Arc::new(false.into()))
    }

    /// One node: always this one.
    pub fn always() -> OnThisNode {
        OnThisNode(std::sync::Arc::new(true.into()))
    }

    pub fn get(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set(&self, on: bool) {
        self.0.store(on, std::sync::atomic::Ordering::Relaxed);
    }
}
