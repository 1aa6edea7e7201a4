//! The status page's sessions and failed sign-ins (`web_sessions`,
//! `sign_in_failures`): kept in the database so that a restart signs no
//! one out and every node sees the same. The rules (how long a session
//! lasts, when sign-in is refused) are the status page's; this only keeps
//! the rows.

use super::db::Pool;
use super::db::{Immediate, Result};
use crate::on;
use crate::timestamp::Timestamp;

/// A session as stored: the cookie's id only as its digest.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredSession {
    pub name: String,
    pub csrf: String,
    /// Which password the user signed in with (a digest of its hash).
    pub password_tag: String,
    pub expires_at: Timestamp,
}

/// Stores a new session under `id_sha256`. (Expired ones are dropped by
/// [`forget_stale_sign_ins`], which every sign-in runs first.)
pub async fn start_session(
    pool: &Pool,
    id_sha256: &str,
    s: &StoredSession,
    now: &Timestamp,
) -> Result<()> {
    on!(&mut pool.acquire().await?, |c| sqlx::query(
        "insert into web_sessions (id_sha256, name, csrf, password_tag, expires_at, created_at)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id_sha256)
    .bind(&s.name)
    .bind(&s.csrf)
    .bind(&s.password_tag)
    .bind(s.expires_at)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The session stored under `id_sha256`, unless it expired by `now`.
pub async fn live_session(
    pool: &Pool,
    id_sha256: &str,
    now: &Timestamp,
) -> Result<Option<StoredSession>> {
    Ok(on!(&mut pool.acquire().await?, |c| sqlx::query_as(
        "select name, csrf, password_tag, expires_at from web_sessions
         where id_sha256 = $1 and expires_at > $2",
    )
    .bind(id_sha256)
    .bind(now)
    .fetch_optional(&mut *c)
    .await)?)
}

/// Ends the session stored under `id_sha256` (signed out, or its user's
/// password changed).
pub async fn end_session(pool: &Pool, id_sha256: &str) -> Result<()> {
    on!(&mut pool.acquire().await?, |c| sqlx::query(
        "delete from web_sessions where id_sha256 = $1"
    )
    .bind(id_sha256)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Keeps what an action did (`ok`, and its words) for the session's next
/// page, replacing any not yet shown.
pub async fn set_flash(pool: &Pool, id_sha256: &str, ok: bool, text: &str) -> Result<()> {
    on!(&mut pool.acquire().await?, |c| sqlx::query(
        "update web_sessions set flash_ok = $2, flash_text = $3 where id_sha256 = $1"
    )
    .bind(id_sha256)
    .bind(ok)
    .bind(text)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// What an action of the session did, once. Read without the write lock
/// (most pages have none to show); cleared only if it is still the one
/// read, so two pages at once show it once.
pub async fn take_flash(pool: &Pool, id_sha256: &str) -> Result<Option<(bool, String)>> {
    let mut conn = pool.acquire().await?;
    let flash: Option<(Option<bool>, Option<String>)> = on!(&mut conn, |c| sqlx::query_as(
        "select flash_ok, flash_text from web_sessions where id_sha256 = $1"
    )
    .bind(id_sha256)
    .fetch_optional(&mut *c)
    .await)?;
    let Some((Some(ok), Some(text))) = flash else {
        return Ok(None);
    };
    let cleared = on!(&mut conn, |c| sqlx::query(
        "update web_sessions set flash_ok = null, flash_text = null
         where id_sha256 = $1 and flash_text = $2"
    )
    .bind(id_sha256)
    .bind(&text)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok((cleared == 1).then_some((ok, text)))
}

/// Failed sign-ins since a moment, as the sign-in limit weighs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailureTally {
    /// From this source for this name, and the oldest of them.
    pub name: i64,
    pub name_oldest: Option<Timestamp>,
    /// From this source for any name, and the oldest of them.
    pub source: i64,
    pub source_oldest: Option<Timestamp>,
    /// From everyone.
    pub total: i64,
}

/// Counts the failures since `since` from `source`, for `name` and in all,
/// and from everyone.
pub async fn sign_in_failures(
    pool: &Pool,
    source: &str,
    name: &str,
    since: &Timestamp,
) -> Result<FailureTally> {
    let (name_n, name_oldest, source_n, source_oldest, total): (
        i64,
        Option<Timestamp>,
        i64,
        Option<Timestamp>,
        i64,
    ) = on!(&mut pool.acquire().await?, |c| sqlx::query_as(
        "select
             (select count(*) from sign_in_failures where source = $1 and name = $2 and at > $3),
             (select min(at) from sign_in_failures where source = $1 and name = $2 and at > $3),
             (select count(*) from sign_in_failures where source = $1 and at > $3),
             (select min(at) from sign_in_failures where source = $1 and at > $3),
             (select count(*) from sign_in_failures where at > $3)",
    )
    .bind(source)
    .bind(name)
    .bind(since)
    .fetch_one(&mut *c)
    .await)?;
    Ok(FailureTally {
        name: name_n,
        name_oldest,
        source: source_n,
        source_oldest,
        total,
    })
}

/// Forgets the failed sign-ins from before `since` and the sessions that
/// expired by `now`: nothing about a sign-in outlives its use.
pub async fn forget_stale_sign_ins(pool: &Pool, now: &Timestamp, since: &Timestamp) -> Result<()> {
    let mut conn = pool.acquire().await?;
    let mut tx = Immediate::begin(&mut conn).await?;
    on!(&mut tx, |c| sqlx::query(
        "delete from sign_in_failures where at <= $1"
    )
    .bind(since)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    on!(&mut tx, |c| sqlx::query(
        "delete from web_sessions where expires_at <= $1"
    )
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(())
}

/// Records a failed sign-in at `now`, keeping only the newest `keep`.
/// (Failures past the window are dropped by [`forget_stale_sign_ins`],
/// which the check before every sign-in runs.)
pub async fn record_sign_in_failure(
    pool: &Pool,
    source: &str,
    name: &str,
    now: &Timestamp,
    keep: i64,
) -> Result<()> {
    let mut conn = pool.acquire().await?;
    let mut tx = Immediate::begin(&mut conn).await?;
    on!(&mut tx, |c| sqlx::query(
        "insert into sign_in_failures (source, name, at) values ($1, $2, $3)"
    )
    .bind(source)
    .bind(name)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    on!(&mut tx, |c| sqlx::query(
        "delete from sign_in_failures where id <= (select max(id) from sign_in_failures) - $1",
    )
    .bind(keep)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(())
}
