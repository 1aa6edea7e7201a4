//! The waiting room for messages whose DKIM check met a DNS failure: kept,
//! judged again when due, and forgotten once stored.

use sqlx::SqlitePool;
use sqlx::sqlite::SqliteConnection;

use super::{Result, Source};

/// A message waiting to be judged again (DNS failed during its DKIM check).
#[derive(Debug, sqlx::FromRow)]
pub struct Deferred {
    pub id: i64,
    #[sqlx(flatten)]
    pub source: Source,
    pub raw: Vec<u8>,
    pub received_at: String,
    pub attempts: i64,
}

/// Keeps a message to judge later; a message already waiting counts one more
/// attempt. Returns whether it was new.
pub async fn defer_message(
    conn: &mut SqliteConnection,
    sha256: &str,
    source: &Source,
    raw: &[u8],
    received_at: &str,
    next_attempt_at: &str,
    error: &str,
) -> Result<bool> {
    let (source, source_ref, mailbox, uidvalidity, uid) = source.columns();
    let r = sqlx::query(
        "insert into deferred_message (sha256, source, source_ref, mailbox, uidvalidity, uid, raw,
             received_at, next_attempt_at, last_error)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         on conflict (sha256) do nothing",
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
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Messages due to be judged again, oldest first.
pub async fn due_deferred(
    conn: &mut SqliteConnection,
    now: &str,
    limit: i64,
) -> Result<Vec<Deferred>> {
    Ok(sqlx::query_as(
        "select id, source, source_ref, mailbox, uidvalidity, uid, raw, received_at, attempts
         from deferred_message where next_attempt_at <= ? order by id limit ?",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}

/// Another temporary failure: try again at `next_attempt_at`.
pub async fn postpone_deferred(
    conn: &mut SqliteConnection,
    id: i64,
    next_attempt_at: &str,
    error: &str,
) -> Result<()> {
    sqlx::query(
        "update deferred_message set attempts = attempts + 1, next_attempt_at = ?, last_error = ? where id = ?",
    )
    .bind(next_attempt_at)
    .bind(error)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Judged at last: the message leaves the waiting room (call in the
/// transaction that stores it).
pub async fn forget_deferred(conn: &mut SqliteConnection, id: i64) -> Result<()> {
    sqlx::query("delete from deferred_message where id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// How many messages wait to be judged, and the last DNS error.
pub async fn deferred_summary(pool: &SqlitePool) -> Result<(i64, Option<String>)> {
    Ok(sqlx::query_as(
        "select count(*), (select last_error from deferred_message order by id desc limit 1) from deferred_message",
    )
    .fetch_one(pool)
    .await?)
}
