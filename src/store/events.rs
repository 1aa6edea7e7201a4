//! A request's timeline (`request_events`): appending events, reading them
//! back, and the cursor of events already announced to operators.

use super::db::{Exec, Pool};
use crate::on;
use serde::Serialize;

use super::db::Result;
use crate::model::{Actor, EventKind, RequestId, RequestState, StoreDomain};
use crate::timestamp::Timestamp;

/// One line of a request's timeline.
#[derive(Debug)]
pub struct Event<'a> {
    pub request_id: Option<RequestId>,
    pub message_id: Option<i64>,
    pub actor: &'a Actor,
    pub event: EventKind,
    pub from_state: Option<RequestState>,
    pub to_state: Option<RequestState>,
    pub detail: Option<&'a str>,
}

pub async fn add_event(conn: &mut impl Exec, e: &Event<'_>, now: &Timestamp) -> Result<()> {
    on!(&mut *conn, |c| {
        sqlx::query(
        "insert into request_events (request_id, message_id, at, actor, event, from_state, to_state, detail)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.request_id)
    .bind(e.message_id)
    .bind(now)
    .bind(e.actor)
    .bind(e.event)
    .bind(e.from_state)
    .bind(e.to_state)
    .bind(e.detail)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// An event operators are told about, with its request.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Announcement {
    pub event_id: i64,
    pub request_id: RequestId,
    pub store_domain: StoreDomain,
    pub client_name: Option<String>,
    pub event: EventKind,
    pub to_state: Option<RequestState>,
    pub detail: Option<String>,
}

/// Outcome, awaiting-review and reminder events after the announcement
/// cursor, oldest first.
pub async fn pending_announcements(conn: &mut impl Exec, limit: i64) -> Result<Vec<Announcement>> {
    use RequestState::{AwaitingReview, Declined, Expired, Failed, Granted, Revoked};
    Ok(on!(&mut *conn, |c| {
        sqlx::query_as(
        "select e.id as event_id, e.request_id, r.store_domain, r.client_name, e.event, e.to_state, e.detail
         from request_events e join access_requests r on r.id = e.request_id
         where e.id > (select last_event_id from announcement_cursor where id = 1)
           and (e.to_state in ($2, $3, $4, $5, $6, $8) or e.event = $7)
         order by e.id limit $1",
    )
    .bind(limit)
    .bind(Granted)
    .bind(Declined)
    .bind(Revoked)
    .bind(Failed)
    .bind(Expired)
    .bind(EventKind::Reminder)
    .bind(AwaitingReview)
    .fetch_all(&mut *c)
    .await
    })?)
}

/// Moves the announcement cursor forward (never back).
pub async fn advance_announcements(
    conn: &mut impl Exec,
    event_id: i64,
    now: &Timestamp,
) -> Result<()> {
    // The larger of the two, written so every engine reads it alike.
    on!(&mut *conn, |c| sqlx::query(
        "update announcement_cursor
         set last_event_id = case when last_event_id > $1 then last_event_id else $1 end,
             updated_at = $2
         where id = 1",
    )
    .bind(event_id)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A row of a request's timeline, for `show`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EventRow {
    pub at: Timestamp,
    pub actor: Actor,
    pub event: EventKind,
    pub from_state: Option<RequestState>,
    pub to_state: Option<RequestState>,
    pub detail: Option<String>,
    pub message_id: Option<i64>,
    /// How that message came in (`imap`, `file`, `stdin`, `webhook`).
    pub message_source: Option<String>,
}

pub async fn events_for(pool: &Pool, id: RequestId) -> Result<Vec<EventRow>> {
    Ok(on!(&mut pool.acquire().await?, |c| sqlx::query_as(
        "select e.at, e.actor, e.event, e.from_state, e.to_state, e.detail, e.message_id,
                m.source as message_source
         from request_events e left join messages m on m.id = e.message_id
         where e.request_id = $1 order by e.id",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await)?)
}

/// Shopify replies that matched no request, newest first.
pub async fn unmatched_outcomes(
    pool: &Pool,
    limit: i64,
) -> Result<Vec<(Timestamp, Option<i64>, Option<String>)>> {
    request_less_events(pool, EventKind::UnmatchedOutcome, limit).await
}

/// Events of one kind that concern no request (`unmatched_outcome`,
/// `skipped_oversize`), newest first, as (at, message id, detail).
pub async fn request_less_events(
    pool: &Pool,
    event: EventKind,
    limit: i64,
) -> Result<Vec<(Timestamp, Option<i64>, Option<String>)>> {
    Ok(on!(&mut pool.acquire().await?, |c| sqlx::query_as(
        "select at, message_id, detail from request_events where request_id is null and event = $1
         order by id desc limit $2",
    )
    .bind(event)
    .bind(limit)
    .fetch_all(&mut *c)
    .await)?)
}
