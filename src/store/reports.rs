//! Read-only summaries for `collabd status`, `/metrics` and `/healthz`:
//! the status view, message counts, and figures.

use super::db::Pool;
use crate::on;
use serde::Serialize;

use super::db::Result;
use super::mailbox::{MailboxRow, mailbox_rows};
use crate::model::{EventKind, MessageKind, RequestState};
use crate::timestamp::Timestamp;

/// A row of the `request_status` view.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StatusRow {
    pub id: i64,
    pub store_domain: String,
    pub client_name: Option<String>,
    pub state: RequestState,
    pub code_hint: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub received_at: Timestamp,
    pub filed_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    pub age_days: Option<i64>,
    pub last_event: Option<String>,
}

pub async fn status_rows(pool: &Pool, state: Option<RequestState>) -> Result<Vec<StatusRow>> {
    Ok(on!(&mut pool.acquire().await?, |c| {
        sqlx::query_as(
        "select id, store_domain, client_name, state, code_hint, attempts, last_error, received_at, filed_at,
                resolved_at, updated_at, age_days, last_event
         from request_status where $1 is null or state = $1 order by id",
    )
    .bind(state)
    .fetch_all(&mut *c)
    .await
    })?)
}

/// How many messages of each kind, for the status footer and `/metrics`:
/// those stored, and as `deferred` those waiting in `deferred_message` to
/// be judged (they are kept too, only not yet in `messages`).
pub async fn message_counts(pool: &Pool) -> Result<Vec<(MessageKind, i64)>> {
    Ok(on!(&mut pool.acquire().await?, |c| sqlx::query_as(
        "select kind, n from (
             select kind, count(*) as n from messages group by kind
             union all
             select $1 as kind, count(*) as n from deferred_message having count(*) > 0
         ) as counted order by kind",
    )
    .bind(MessageKind::Deferred)
    .fetch_all(&mut *c)
    .await)?)
}

/// Messages that need a person: rejected, unparseable, or a grant that left
/// part of the email unread (it carries a reason), newest first, as (id,
/// kind, sender, subject, reason).
pub async fn messages_needing_attention(
    pool: &Pool,
    limit: i64,
) -> Result<
    Vec<(
        i64,
        MessageKind,
        Option<String>,
        Option<String>,
        Option<String>,
    )>,
> {
    Ok(on!(&mut pool.acquire().await?, |c| {
        sqlx::query_as(
        "select id, kind, coalesce(original_from, from_addr) as sender, subject, reason from messages
         where kind in ($2, $3) or (kind = $4 and reason is not null)
         order by id desc limit $1",
    )
    .bind(limit)
    .bind(MessageKind::Rejected)
    .bind(MessageKind::Unparseable)
    .bind(MessageKind::LeadsieGrant)
    .fetch_all(&mut *c)
    .await
    })?)
}

/// Figures for `/metrics` and `/healthz`, read in one go.
#[derive(Debug, Default, Clone)]
pub struct Figures {
    pub messages_by_kind: Vec<(MessageKind, i64)>,
    pub requests_by_state: Vec<(RequestState, i64)>,
    pub filer_attempts: i64,
    pub filer_failures: i64,
    /// Queued requests due for more than `overdue` seconds, and claims whose
    /// lease ran out that long ago: the queue is stuck if this is not zero.
    pub overdue: i64,
    pub mailboxes: Vec<MailboxRow>,
}

pub async fn figures(pool: &Pool, now: &Timestamp, overdue_after_s: i64) -> Result<Figures> {
    let requests_by_state = on!(&mut pool.acquire().await?, |c| sqlx::query_as(
        "select state, count(*) as n from access_requests group by state order by state",
    )
    .fetch_all(&mut *c)
    .await)?;
    let (filer_attempts, filer_failures) = on!(&mut pool.acquire().await?, |c| sqlx::query_as(
        "select (select count(*) from request_events where event = $1),
                (select count(*) from request_events where event in ($2, $3))",
    )
    .bind(EventKind::Claimed)
    .bind(EventKind::Retry)
    .bind(EventKind::Failed)
    .fetch_one(&mut *c)
    .await)?;
    // Overdue: due, or leased, since before this moment. Timestamps are
    // text in the one form that sorts as time does, so a comparison says it
    // on every engine (no date functions).
    let since = Timestamp::from(now.datetime() - chrono::Duration::seconds(overdue_after_s));
    let overdue: i64 = on!(&mut pool.acquire().await?, |c| sqlx::query_scalar(
        "select count(*) from access_requests
         where (state = $2 and coalesce(next_attempt_at, created_at) < $1)
            or (state = $3 and lease_until < $1)",
    )
    .bind(since)
    .bind(RequestState::Queued)
    .bind(RequestState::Filing)
    .fetch_one(&mut *c)
    .await)?;
    Ok(Figures {
        messages_by_kind: message_counts(pool).await?,
        requests_by_state,
        filer_attempts,
        filer_failures,
        overdue,
        mailboxes: mailbox_rows(pool).await?,
    })
}
