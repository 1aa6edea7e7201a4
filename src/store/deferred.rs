//! The waiting room for messages whose DKIM check met a DNS failure: kept,
//! judged again when due, and forgotten once stored.

use super::db::{Exec, Pool};
use super::db::{Immediate, Result};
use super::messages::Source;
use crate::on;
use crate::timestamp::Timestamp;

/// A message waiting to be judged again (DNS failed during its DKIM check).
#[derive(Debug, sqlx::FromRow)]
pub struct Deferred {
    pub id: i64,
    #[sqlx(flatten)]
    pub source: Source,
    pub raw: Vec<u8>,
    pub received_at: Timestamp,
    pub attempts: i64,
}

/// Keeps a message to judge later. Returns the row it waits in, and
/// whether it was new (the same bytes already waiting change nothing).
pub async fn defer_message(
    conn: &mut impl Exec,
    sha256: &str,
    source: &Source,
    raw: &[u8],
    received_at: &Timestamp,
    next_attempt_at: &Timestamp,
    error: &str,
) -> Result<(i64, bool)> {
    let (source, source_ref, mailbox, uidvalidity, uid) = source.columns();
    let inserted: Option<i64> = on!(&mut *conn, |c| {
        sqlx::query_scalar(
        "insert into deferred_message (sha256, source, source_ref, mailbox, uidvalidity, uid, raw,
             received_at, next_attempt_at, last_error)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         on conflict (sha256) do nothing
         returning id",
    )
    .bind(sha256)
    .bind(source)
    .bind(source_ref)
    .bind(mailbox)
    .bind(uidvalidity)
    .bind(uid)
    .bind(raw)
    .bind(received_at)
    .bind(next_attempt_at)
    .bind(error)
    .fetch_optional(&mut *c)
    .await
    })?;
    if let Some(id) = inserted {
        return Ok((id, true));
    }
    let id = on!(&mut *conn, |c| sqlx::query_scalar(
        "select id from deferred_message where sha256 = $1"
    )
    .bind(sha256)
    .fetch_one(&mut *c)
    .await)?;
    Ok((id, false))
}

/// Messages due to be judged again, oldest first.
pub async fn due_deferred(
    conn: &mut impl Exec,
    now: &Timestamp,
    limit: i64,
) -> Result<Vec<Deferred>> {
    Ok(on!(&mut *conn, |c| sqlx::query_as(
        "select id, source, source_ref, mailbox, uidvalidity, uid, raw, received_at, attempts
         from deferred_message where next_attempt_at <= $1 order by id limit $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *c)
    .await)?)
}

/// Another temporary failure: try again at `next_attempt_at`.
pub async fn postpone_deferred(
    conn: &mut impl Exec,
    id: i64,
    next_attempt_at: &Timestamp,
    error: &str,
) -> Result<()> {
    on!(&mut *conn, |c| {
        sqlx::query(
        "update deferred_message set attempts = attempts + 1, next_attempt_at = $1, last_error = $2 where id = $3",
    )
    .bind(next_attempt_at)
    .bind(error)
    .bind(id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Judged at last: the message leaves the waiting room, in the
/// transaction that stores it.
pub async fn forget_deferred(tx: &mut Immediate<'_>, id: i64) -> Result<()> {
    on!(&mut *tx, |c| sqlx::query(
        "delete from deferred_message where id = $1"
    )
    .bind(id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A waiting message as `collabd status` lists it.
#[derive(Debug, sqlx::FromRow)]
pub struct WaitingRow {
    pub id: i64,
    #[sqlx(flatten)]
    pub source: Source,
    /// The first bytes of the message: enough for its sender and subject.
    pub head: Vec<u8>,
    pub received_at: Timestamp,
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub last_error: String,
}

/// How much of a waiting message [`waiting_messages`] reads: its headers,
/// not its attachments.
const HEAD_BYTES: i64 = 16 * 1024;

/// The messages waiting to be judged, oldest first, at most `limit`.
pub async fn waiting_messages(pool: &Pool, limit: i64) -> Result<Vec<WaitingRow>> {
    Ok(on!(&mut pool.acquire().await?, |c| {
        sqlx::query_as(
        "select id, source, source_ref, mailbox, uidvalidity, uid, substr(raw, 1, cast($1 as integer)) as head,
                received_at, attempts, next_attempt_at, last_error
         from deferred_message order by id limit $2",
    )
    .bind(HEAD_BYTES)
    .bind(limit)
    .fetch_all(&mut *c)
    .await
    })?)
}

/// How many messages wait to be judged.
pub async fn deferred_count(pool: &Pool) -> Result<i64> {
    Ok(on!(&mut pool.acquire().await?, |c| sqlx::query_scalar(
        "select count(*) from deferred_message"
    )
    .fetch_one(&mut *c)
    .await)?)
}
