//! Watched IMAP mailboxes (`mailbox_state`, `after_processing_pending`):
//! checkpoints, after-processing actions still to do, and the watcher's
//! health.

use super::db::{Exec, Pool};
use crate::on;
use serde::Serialize;

use super::db::{Immediate, Result};
use crate::model::WatcherState;
use crate::timestamp::Timestamp;

/// A watched mailbox's checkpoint: its UIDVALIDITY (none before the first
/// sync) and the highest UID fully processed.
pub async fn mailbox_checkpoint(
    conn: &mut impl Exec,
    mailbox: &str,
) -> Result<Option<(Option<u32>, u32)>> {
    let row: Option<(Option<i64>, i64)> = on!(&mut *conn, |c| sqlx::query_as(
        "select uidvalidity, last_uid from mailbox_state where mailbox = $1"
    )
    .bind(mailbox)
    .fetch_optional(&mut *c)
    .await)?;
    Ok(row.map(|(uidvalidity, last_uid)| (uidvalidity.map(|v| v as u32), last_uid as u32)))
}

/// Sets the checkpoint; call it in the transaction that stored the messages
/// it covers, so a crash can never skip a message or advance past one.
pub async fn set_checkpoint(
    conn: &mut impl Exec,
    mailbox: &str,
    uidvalidity: u32,
    last_uid: u32,
    now: &Timestamp,
) -> Result<()> {
    on!(&mut *conn, |c| {
        sqlx::query(
        "insert into mailbox_state (mailbox, uidvalidity, last_uid, connected, last_contact_at, state, updated_at)
         values ($1, $2, $3, true, $4, $5, $4)
         on conflict (mailbox) do update set uidvalidity = $2, connected = true,
             -- Forward only within one UIDVALIDITY: a node finishing the
             -- message in hand after another took the folder over cannot
             -- move the new holder's checkpoint back.
             last_uid = case when mailbox_state.uidvalidity = $2 and mailbox_state.last_uid > $3
                             then mailbox_state.last_uid else $3 end,
             last_contact_at = $4, updated_at = $4",
    )
    .bind(mailbox)
    .bind(i64::from(uidvalidity))
    .bind(i64::from(last_uid))
    .bind(now)
    .bind(WatcherState::Syncing)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Records that `uid` awaits its after-processing action; call it in the
/// transaction that stores the message, so no crash can forget the action.
pub async fn add_pending_action(
    conn: &mut impl Exec,
    mailbox: &str,
    uidvalidity: u32,
    uid: u32,
    now: &Timestamp,
) -> Result<()> {
    on!(&mut *conn, |c| sqlx::query(
        "insert into after_processing_pending (mailbox, uidvalidity, uid, created_at, updated_at)
         values ($1, $2, $3, $4, $4)
         on conflict do nothing",
    )
    .bind(mailbox)
    .bind(i64::from(uidvalidity))
    .bind(i64::from(uid))
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The actions of `mailbox` still to be done, as (UIDVALIDITY, UID), oldest
/// first. A read: the watcher asks on every sync.
pub async fn pending_actions(conn: &mut impl Exec, mailbox: &str) -> Result<Vec<(u32, u32)>> {
    let rows: Vec<(i64, i64)> = on!(&mut *conn, |c| sqlx::query_as(
        "select uidvalidity, uid from after_processing_pending
         where mailbox = $1 order by uidvalidity, uid",
    )
    .bind(mailbox)
    .fetch_all(&mut *c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(v, u)| (v as u32, u as u32))
        .collect())
}

/// Forgets pending actions under another UIDVALIDITY: those UIDs name
/// nothing now, and the rescan records the messages again. Returns how many.
pub async fn drop_stale_actions(
    conn: &mut impl Exec,
    mailbox: &str,
    uidvalidity: u32,
) -> Result<u64> {
    let r = on!(&mut *conn, |c| sqlx::query(
        "delete from after_processing_pending where mailbox = $1 and uidvalidity != $2",
    )
    .bind(mailbox)
    .bind(i64::from(uidvalidity))
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(r)
}

/// Settles the actions on `uids`: deleted when done, else counted as one
/// more failed attempt with its error.
pub async fn settle_actions(
    conn: &mut impl Exec,
    mailbox: &str,
    uidvalidity: u32,
    uids: &[u32],
    error: Option<&str>,
    now: &Timestamp,
) -> Result<()> {
    let mut tx = Immediate::begin(conn).await?;
    let sql = match error {
        None => {
            "delete from after_processing_pending
             where mailbox = $1 and uidvalidity = $2 and uid = $3"
        }
        Some(_) => {
            "update after_processing_pending
             set attempts = attempts + 1, last_error = $4, updated_at = $5
             where mailbox = $1 and uidvalidity = $2 and uid = $3"
        }
    };
    for uid in uids {
        on!(&mut tx, |c| sqlx::query(sql)
            .bind(mailbox)
            .bind(i64::from(uidvalidity))
            .bind(i64::from(*uid))
            .bind(error)
            .bind(now)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    tx.commit().await?;
    Ok(())
}

/// What the watcher of one mailbox is doing, for `mailbox_state`.
#[derive(Debug, Clone, Copy)]
pub struct WatcherHealth<'a> {
    pub state: WatcherState,
    pub connected: bool,
    /// The server answered just now.
    pub contact: bool,
    /// Set when the watcher failed; kept until the next failure.
    pub error: Option<&'a str>,
    pub next_retry_at: Option<&'a Timestamp>,
    /// Count one more reconnect.
    pub reconnect: bool,
}

impl WatcherHealth<'static> {
    /// A state change with no error to report; a connected watcher has just
    /// heard from the server.
    pub fn without_error(state: WatcherState, connected: bool) -> WatcherHealth<'static> {
        WatcherHealth {
            state,
            connected,
            contact: connected,
            error: None,
            next_retry_at: None,
            reconnect: false,
        }
    }
}

pub async fn set_watcher_health(
    pool: &Pool,
    mailbox: &str,
    account: &str,
    h: &WatcherHealth<'_>,
    now: &Timestamp,
) -> Result<()> {
    on!(&mut pool.acquire().await?, |c| {
        sqlx::query(
        "insert into mailbox_state (mailbox, connected, last_contact_at, last_error, last_error_at, state,
             reconnects, next_retry_at, updated_at, account, node)
         values ($1, $2, case when $3 then $8 end, $4, case when $4 is not null then $8 end, $5,
             case when $6 then 1 else 0 end, $7, $8, $9, $10)
         on conflict (mailbox) do update set
             account = $9,
             node = $10,
             connected = $2,
             last_contact_at = case when $3 then $8 else mailbox_state.last_contact_at end,
             last_error = coalesce($4, mailbox_state.last_error),
             last_error_at = case when $4 is not null then $8 else mailbox_state.last_error_at end,
             state = $5,
             reconnects = mailbox_state.reconnects + case when $6 then 1 else 0 end,
             next_retry_at = $7,
             updated_at = $8",
    )
    .bind(mailbox)
    .bind(h.connected)
    .bind(h.contact)
    .bind(h.error)
    .bind(h.state)
    .bind(h.reconnect)
    .bind(h.next_retry_at)
    .bind(now)
    .bind(account)
    .bind(crate::net::this_process())
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// One row of `mailbox_state`, for `collabd status`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MailboxRow {
    pub mailbox: String,
    /// The IMAP account it belongs to, as configured.
    pub account: String,
    /// The collabd process that watches it (or last did): host and pid.
    pub node: Option<String>,
    pub state: WatcherState,
    pub connected: bool,
    pub uidvalidity: Option<i64>,
    pub last_uid: i64,
    pub last_contact_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    pub reconnects: i64,
    pub next_retry_at: Option<Timestamp>,
    /// Stored messages whose after-processing action is not done yet.
    pub actions_pending: i64,
    /// The newest error among them.
    pub action_error: Option<String>,
}

pub async fn mailbox_rows(pool: &Pool) -> Result<Vec<MailboxRow>> {
    Ok(on!(&mut pool.acquire().await?, |c| {
        sqlx::query_as(
        "select mailbox, account, node, state, connected, uidvalidity, last_uid, last_contact_at, last_error, last_error_at,
             reconnects, next_retry_at,
             (select count(*) from after_processing_pending p
              where p.mailbox = m.mailbox) as actions_pending,
             (select last_error from after_processing_pending p
              where p.mailbox = m.mailbox and last_error is not null
              order by updated_at desc limit 1) as action_error
         from mailbox_state m order by account, mailbox",
    )
    .fetch_all(&mut *c)
    .await
    })?)
}
