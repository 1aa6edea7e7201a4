//! A request's timeline (`request_events`): appending events, reading them
//! back, and the cursor of events already announced to operators.

use serde::Serialize;
use sqlx::sqlite::SqliteConnection;
use sqlx::{Row, SqlitePool};

use super::Result;
use crate::model::{RequestId, RequestState};

/// One line of a request's timeline.
#[derive(Debug)]
pub struct Event<'a> {
    pub request_id: Option<RequestId>,
    pub message_id: Option<i64>,
    pub actor: &'a str,
    pub event: &'a str,
    pub from_state: Option<RequestState>,
    pub to_state: Option<RequestState>,
    pub detail: Option<&'a str>,
}

pub async fn add_event(conn: &mut SqliteConnection, e: &Event<'_>, now: &str) -> Result<()> {
    sqlx::query(
        "insert into request_events (request_id, message_id, at, actor, event, from_state, to_state, detail)
         values (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(e.request_id.map(|r| r.0))
    .bind(e.message_id)
    .bind(now)
    .bind(e.actor)
    .bind(e.event)
    .bind(e.from_state.map(RequestState::as_str))
    .bind(e.to_state.map(RequestState::as_str))
    .bind(e.detail)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An event operators are told about, with its request.
#[derive(Debug, Clone)]
pub struct Announcement {
    pub event_id: i64,
    pub request_id: RequestId,
    pub store_domain: String,
    pub client_name: Option<String>,
    pub event: String,
    pub to_state: Option<String>,
    pub detail: Option<String>,
}

/// Outcome and reminder events after the announcement cursor, oldest first.
pub async fn pending_announcements(
    conn: &mut SqliteConnection,
    limit: i64,
) -> Result<Vec<Announcement>> {
    let rows = sqlx::query(
        "select e.id, e.request_id, r.store_domain, r.client_name, e.event, e.to_state, e.detail
         from request_events e join access_requests r on r.id = e.request_id
         where e.id > (select last_event_id from announcement_cursor where id = 1)
           and (e.to_state in ('granted', 'declined', 'revoked', 'failed', 'expired') or e.event = 'reminder')
         order by e.id limit ?",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Announcement {
            event_id: r.get(0),
            request_id: RequestId(r.get(1)),
            store_domain: r.get(2),
            client_name: r.get(3),
            event: r.get(4),
            to_state: r.get(5),
            detail: r.get(6),
        })
        .collect())
}

/// Moves the announcement cursor forward (never back).
pub async fn advance_announcements(
    conn: &mut SqliteConnection,
    event_id: i64,
    now: &str,
) -> Result<()> {
    sqlx::query("update announcement_cursor set last_event_id = max(last_event_id, ?), updated_at = ? where id = 1")
        .bind(event_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A row of a request's timeline, for `show`.
#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    pub at: String,
    pub actor: String,
    pub event: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub detail: Option<String>,
    pub message_id: Option<i64>,
}

pub async fn events_for(pool: &SqlitePool, id: RequestId) -> Result<Vec<EventRow>> {
    let rows = sqlx::query(
        "select at, actor, event, from_state, to_state, detail, message_id from request_events
         where request_id = ? order by id",
    )
    .bind(id.0)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| EventRow {
            at: r.get("at"),
            actor: r.get("actor"),
            event: r.get("event"),
            from_state: r.get("from_state"),
            to_state: r.get("to_state"),
            detail: r.get("detail"),
            message_id: r.get("message_id"),
        })
        .collect())
}

/// Shopify replies that matched no request, newest first.
pub async fn unmatched_outcomes(
    pool: &SqlitePool,
    limit: i64,
) -> Result<Vec<(String, Option<i64>, Option<String>)>> {
    request_less_events(pool, "unmatched_outcome", limit).await
}

/// Events of one kind that concern no request (`unmatched_outcome`,
/// `skipped_oversize`), newest first.
pub async fn request_less_events(
    pool: &SqlitePool,
    event: &str,
    limit: i64,
) -> Result<Vec<(String, Option<i64>, Option<String>)>> {
    let rows = sqlx::query(
        "select at, message_id, detail from request_events where request_id is null and event = ?
         order by id desc limit ?",
    )
    .bind(event)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get("at"), r.get("message_id"), r.get("detail")))
        .collect())
}
