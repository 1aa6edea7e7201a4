//! Stored messages: where each came from, inserting one once by digest,
//! and dropping raw bytes past their retention.

use super::db::{Exec, Pool};
use crate::on;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Row};

use super::db::Result;
use crate::config::DEFAULT_ACCOUNT;
use crate::model::MessageKind;
use crate::timestamp::Timestamp;

/// Where a message came from.
#[derive(Debug, Clone)]
pub enum Source {
    File(String),
    Stdin,
    /// A Leadsie webhook delivery: where it came from (`POST from <peer>`,
    /// or the file `collabd ingest --webhook` read).
    Webhook(String),
    /// A folder of an IMAP account: the account's configured name (stored
    /// as `source_ref`), the folder (`mailbox`, login and folder) and where
    /// in it.
    Imap {
        account: String,
        mailbox: String,
        uidvalidity: u32,
        uid: u32,
    },
}

impl Source {
    /// `source, source_ref, mailbox, uidvalidity, uid` as stored (UIDs as
    /// the 64-bit integers every engine has).
    pub(super) fn columns(
        &self,
    ) -> (
        &'static str,
        Option<&str>,
        Option<&str>,
        Option<i64>,
        Option<i64>,
    ) {
        match self {
            Source::File(p) => ("file", Some(p.as_str()), None, None, None),
            Source::Stdin => ("stdin", None, None, None, None),
            Source::Webhook(via) => ("webhook", Some(via.as_str()), None, None, None),
            Source::Imap {
                account,
                mailbox,
                uidvalidity,
                uid,
            } => (
                "imap",
                Some(account.as_str()),
                Some(mailbox.as_str()),
                Some(i64::from(*uidvalidity)),
                Some(i64::from(*uid)),
            ),
        }
    }
}

/// Reads the `source, source_ref, mailbox, uidvalidity, uid` columns back.
macro_rules! source_from_row {
    ($row:ty) => {
        impl<'r> FromRow<'r, $row> for Source {
            fn from_row(row: &'r $row) -> sqlx::Result<Self> {
                let source: &str = row.try_get("source")?;
                let source_ref: Option<String> = row.try_get("source_ref")?;
                let mailbox: Option<String> = row.try_get("mailbox")?;
                let uid = |column: &str| -> sqlx::Result<Option<u32>> {
                    let v: Option<i64> = row.try_get(column)?;
                    v.map(|v| {
                        u32::try_from(v).map_err(|_| sqlx::Error::ColumnDecode {
                            index: column.to_owned(),
                            source: format!("{v} is not an IMAP UID (0 to 4294967295)").into(),
                        })
                    })
                    .transpose()
                };
                let uidvalidity = uid("uidvalidity")?;
                let uid = uid("uid")?;
                Ok(match (source, mailbox, uidvalidity, uid) {
                    ("imap", Some(mailbox), Some(uidvalidity), Some(uid)) => Source::Imap {
                        // Stored before accounts were named: the single account's.
                        account: source_ref.unwrap_or_else(|| DEFAULT_ACCOUNT.to_owned()),
                        mailbox,
                        uidvalidity,
                        uid,
                    },
                    ("file", ..) => Source::File(source_ref.unwrap_or_default()),
                    ("webhook", ..) => Source::Webhook(source_ref.unwrap_or_default()),
                    _ => Source::Stdin,
                })
            }
        }
    };
}

source_from_row!(SqliteRow);
source_from_row!(PgRow);

/// A message about to be stored.
#[derive(Debug)]
pub struct NewMessage<'a> {
    pub sha256: &'a str,
    pub source: &'a Source,
    pub message_id: Option<&'a str>,
    pub from_addr: Option<&'a str>,
    pub original_from: Option<&'a str>,
    pub subject: Option<&'a str>,
    /// The Date header, in UTC.
    pub date: Option<&'a Timestamp>,
    pub kind: MessageKind,
    pub reason: Option<&'a str>,
    pub raw: Option<&'a [u8]>,
    pub raw_size: usize,
    pub received_at: &'a Timestamp,
}

/// Inserts a message unless one with the same digest exists; returns the new
/// row's id, or `None` for a message seen before.
pub async fn insert_message(conn: &mut impl Exec, m: &NewMessage<'_>) -> Result<Option<i64>> {
    let (source, source_ref, mailbox, uidvalidity, uid) = m.source.columns();
    let id = on!(&mut *conn, |c| {
        sqlx::query_scalar(
        "insert into messages (sha256, message_id, source, source_ref, mailbox, uidvalidity, uid, from_addr,
             original_from, subject, date, kind, reason, raw, raw_size, received_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         on conflict (sha256) do nothing
         returning id",
    )
    .bind(m.sha256)
    .bind(m.message_id)
    .bind(source)
    .bind(source_ref)
    .bind(mailbox)
    .bind(uidvalidity)
    .bind(uid)
    .bind(m.from_addr)
    .bind(m.original_from)
    .bind(m.subject)
    .bind(m.date)
    .bind(m.kind)
    .bind(m.reason)
    .bind(m.raw)
    .bind(m.raw_size as i64)
    .bind(m.received_at)
    .fetch_optional(&mut *c)
    .await
    })?;
    Ok(id)
}

/// The id of the message with this digest, if stored.
pub async fn message_id_by_sha(conn: &mut impl Exec, sha256: &str) -> Result<Option<i64>> {
    Ok(on!(&mut *conn, |c| sqlx::query_scalar(
        "select id from messages where sha256 = $1"
    )
    .bind(sha256)
    .fetch_optional(&mut *c)
    .await)?)
}

/// A stored message as `collabd rejudge` reads it back.
#[derive(Debug, sqlx::FromRow)]
pub struct StoredMessage {
    pub id: i64,
    /// `imap`, `file`, `stdin` or `webhook`.
    pub source: String,
    pub kind: MessageKind,
    pub reason: Option<String>,
    /// `None` once past `raw_retention_days`, or over `max_raw_bytes`.
    pub raw: Option<Vec<u8>>,
    pub received_at: Timestamp,
}

/// The message with this id, if stored.
pub async fn stored_message(conn: &mut impl Exec, id: i64) -> Result<Option<StoredMessage>> {
    Ok(on!(&mut *conn, |c| sqlx::query_as(
        "select id, source, kind, reason, raw, received_at from messages where id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await)?)
}

/// The mail received at or after `since` that can be judged again (its
/// bytes kept; not a webhook delivery), oldest first, and how many other
/// messages came in that time.
pub async fn message_ids_since(conn: &mut impl Exec, since: &Timestamp) -> Result<(Vec<i64>, i64)> {
    let ids: Vec<i64> = on!(&mut *conn, |c| {
        sqlx::query_scalar(
        "select id from messages where received_at >= $1 and raw is not null and source != 'webhook'
         order by received_at, id",
    )
    .bind(since)
    .fetch_all(&mut *c)
    .await
    })?;
    let all: i64 = on!(&mut *conn, |c| sqlx::query_scalar(
        "select count(*) from messages where received_at >= $1"
    )
    .bind(since)
    .fetch_one(&mut *c)
    .await)?;
    let others = all - ids.len() as i64;
    Ok((ids, others))
}

/// Keeps the bytes of a message stored without them (its bytes stayed in
/// the mailbox) when the same message is handed over again, so that it can
/// be judged again. Returns whether they were kept now.
pub async fn keep_missing_raw(conn: &mut impl Exec, id: i64, raw: &[u8]) -> Result<bool> {
    let done = on!(&mut *conn, |c| sqlx::query(
        "update messages set raw = $1 where id = $2 and raw is null"
    )
    .bind(raw)
    .bind(id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Records a message's new verdict (`collabd rejudge`) if its verdict is
/// still `was`; returns whether it was.
pub async fn set_verdict(
    conn: &mut impl Exec,
    id: i64,
    was: MessageKind,
    kind: MessageKind,
    reason: Option<&str>,
) -> Result<bool> {
    let done = on!(&mut *conn, |c| sqlx::query(
        "update messages set kind = $1, reason = $2 where id = $3 and kind = $4"
    )
    .bind(kind)
    .bind(reason)
    .bind(id)
    .bind(was)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Drops the raw bytes of messages received more than `days` days before
/// `now` (`[database] raw_retention_days`; 0 keeps them); headers, kind and
/// timeline stay. Returns how many messages lost theirs.
pub async fn purge_raw_older_than(pool: &Pool, days: u32, now: &Timestamp) -> Result<u64> {
    if days == 0 {
        return Ok(0);
    }
    let cutoff = Timestamp::from(now.datetime() - chrono::Duration::days(days.into()));
    Ok(on!(&mut pool.acquire().await?, |c| sqlx::query(
        "update messages set raw = null where raw is not null and received_at < $1"
    )
    .bind(cutoff)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?)
}
