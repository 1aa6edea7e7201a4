//! Access requests: reading them, creating them, and every state change,
//! each written once with its event.

use super::db::Exec;
use crate::on;
use serde::Serialize;

use super::db::{Error, Immediate, Result};
use super::events::{Event, add_event};
use crate::model::{
    Actor, CollaboratorCode, EventKind, RequestId, RequestState, StoreDomain, Wait,
};
use crate::timestamp::Timestamp;

/// A request row as the queue and the CLI see it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Request {
    pub id: RequestId,
    pub store_domain: StoreDomain,
    #[serde(skip)]
    pub collaborator_code: CollaboratorCode,
    pub client_name: Option<String>,
    pub client_email: Option<String>,
    pub leadsie_request_name: Option<String>,
    pub leadsie_request_url: Option<String>,
    pub state: RequestState,
    pub attempts: i64,
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub source_message_id: Option<i64>,
    pub received_at: Timestamp,
    pub filed_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    /// When the email that carried the grant was received, when one did.
    pub grant_date: Option<Timestamp>,
}

const REQUEST_COLUMNS: &str = "r.id, r.store_domain, r.collaborator_code, r.client_name, r.client_email,
    r.leadsie_request_name, r.leadsie_request_url, r.state, r.attempts, r.next_attempt_at, r.last_error,
    r.source_message_id, r.received_at, r.filed_at, r.resolved_at, r.updated_at, m.received_at as grant_date";

pub async fn get_request(conn: &mut impl Exec, id: RequestId) -> Result<Request> {
    let sql = format!(
        "select {REQUEST_COLUMNS} from access_requests r left join messages m on m.id = r.source_message_id where r.id = $1"
    );
    on!(&mut *conn, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?
    .ok_or(Error::NoSuchRequest(id))
}

pub async fn find_request(
    conn: &mut impl Exec,
    store: &StoreDomain,
    code: &CollaboratorCode,
) -> Result<Option<Request>> {
    let sql = format!(
        "select {REQUEST_COLUMNS} from access_requests r left join messages m on m.id = r.source_message_id
         where r.store_domain = $1 and r.collaborator_code = $2"
    );
    Ok(on!(&mut *conn, |c| sqlx::query_as(&sql)
        .bind(store.as_str())
        .bind(code.expose())
        .fetch_optional(&mut *c)
        .await)?)
}

/// The requests a message created.
pub async fn requests_from_message(conn: &mut impl Exec, message: i64) -> Result<Vec<Request>> {
    let sql = format!(
        "select {REQUEST_COLUMNS} from access_requests r left join messages m on m.id = r.source_message_id
         where r.source_message_id = $1 order by r.id"
    );
    Ok(on!(&mut *conn, |c| sqlx::query_as(&sql)
        .bind(message)
        .fetch_all(&mut *c)
        .await)?)
}

/// Every request for a store, newest first.
pub async fn requests_for_store(conn: &mut impl Exec, store: &str) -> Result<Vec<Request>> {
    let sql = format!(
        "select {REQUEST_COLUMNS} from access_requests r left join messages m on m.id = r.source_message_id
         where r.store_domain = $1 order by r.id desc"
    );
    Ok(on!(&mut *conn, |c| sqlx::query_as(&sql)
        .bind(store)
        .fetch_all(&mut *c)
        .await)?)
}

/// Requests whose client name is `name` (any case), newest first.
pub async fn requests_for_client_name(conn: &mut impl Exec, name: &str) -> Result<Vec<Request>> {
    let sql = format!(
        "select {REQUEST_COLUMNS} from access_requests r left join messages m on m.id = r.source_message_id
         where lower(r.client_name) = lower($1) order by r.id desc"
    );
    Ok(on!(&mut *conn, |c| sqlx::query_as(&sql)
        .bind(name.trim())
        .fetch_all(&mut *c)
        .await)?)
}

/// A request about to be created.
#[derive(Debug)]
pub struct NewRequest<'a> {
    pub store: &'a StoreDomain,
    pub code: &'a CollaboratorCode,
    pub client_name: Option<&'a str>,
    pub client_email: Option<&'a str>,
    pub request_name: Option<&'a str>,
    pub request_url: Option<&'a str>,
    pub state: RequestState,
    pub source_message_id: i64,
}

/// Creates a request and its `created` event.
pub async fn create_request(
    tx: &mut Immediate<'_>,
    r: &NewRequest<'_>,
    now: &Timestamp,
    detail: &str,
) -> Result<RequestId> {
    let resolved = (!r.state.is_open()).then_some(now);
    let id: i64 = on!(&mut *tx, |c| {
        sqlx::query_scalar(
        "insert into access_requests (store_domain, collaborator_code, client_name, client_email,
             leadsie_request_name, leadsie_request_url, state, next_attempt_at, source_message_id,
             received_at, resolved_at, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         returning id",
    )
    .bind(r.store.as_str())
    .bind(r.code.expose())
    .bind(r.client_name)
    .bind(r.client_email)
    .bind(r.request_name)
    .bind(r.request_url)
    .bind(r.state)
    .bind(now)
    .bind(r.source_message_id)
    .bind(now)
    .bind(resolved)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *c)
    .await
    })?;
    let id = RequestId(id);
    add_event(
        tx,
        &Event {
            request_id: Some(id),
            message_id: Some(r.source_message_id),
            actor: &Actor::Leadsie,
            event: EventKind::Created,
            from_state: None,
            to_state: Some(r.state),
            detail: Some(detail),
        },
        now,
    )
    .await?;
    Ok(id)
}

/// Fills client details a later email adds to a request that lacked them.
pub async fn fill_client_details(
    conn: &mut impl Exec,
    id: RequestId,
    name: Option<&str>,
    email: Option<&str>,
) -> Result<()> {
    on!(&mut *conn, |c| {
        sqlx::query(
        "update access_requests set client_name = coalesce(client_name, $1), client_email = coalesce(client_email, $2)
         where id = $3",
    )
    .bind(name)
    .bind(email)
    .bind(id.0)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Moves a request from `from` to `to` if it is still in `from` and the move
/// is allowed, and records the event. Returns false (and changes nothing)
/// when someone else moved it first or the move is not allowed.
pub async fn transition(
    tx: &mut Immediate<'_>,
    id: RequestId,
    from: RequestState,
    to: RequestState,
    e: &Event<'_>,
    now: &Timestamp,
) -> Result<bool> {
    if !from.can_move_to(to) {
        return Ok(false);
    }
    let resolved = (!to.is_open()).then_some(now);
    let changed = on!(&mut *tx, |c| {
        sqlx::query(
        "update access_requests set state = $1, updated_at = $2, resolved_at = coalesce($3, resolved_at),
             lease_until = case when $1 = $6 then lease_until else null end
         where id = $4 and state = $5",
    )
    .bind(to)
    .bind(now)
    .bind(resolved)
    .bind(id)
    .bind(from)
    .bind(RequestState::Filing)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    record_move(tx, changed, id, from, to, e, now).await
}

/// Claims the next request due for filing, in one statement: a queued
/// request whose time has come, or one whose worker's lease ran out (the
/// worker died mid-filing). The claim bumps `attempts`, which then fences
/// the completion: a worker whose lease expired cannot overwrite the newer
/// attempt. A claimed request waits for nothing: its `waiting_for` is
/// cleared. It runs inside an [`Immediate`] transaction, which commits the
/// claim with the `claimed` event the caller adds, and in which concurrent
/// claimers queue for the write lock rather than fail.
pub async fn claim_next_request(
    tx: &mut Immediate<'_>,
    now: &Timestamp,
    lease_until: &Timestamp,
) -> Result<Option<Request>> {
    // On PostgreSQL a row another node's claim holds is passed over, not
    // waited for (SQLite has one writer at a time, and no row locks).
    let skip = match tx.link().is_postgres() {
        true => " for update skip locked",
        false => "",
    };
    let sql = format!(
        "update access_requests
         set state = $3, attempts = attempts + 1, lease_until = $1, updated_at = $2, waiting_for = null
         where id = coalesce(
             -- A claim whose worker died: it has waited longest.
             (select id from access_requests where state = $3 and lease_until < $2
                 order by lease_until limit 1{skip}),
             -- The request due soonest; the (state, next_attempt_at) index
             -- serves it in order, so a claim costs the same with a long queue.
             (select id from access_requests where state = $4 and next_attempt_at <= $2
                 order by next_attempt_at, id limit 1{skip}),
             (select id from access_requests where state = $4 and next_attempt_at is null
                 order by id limit 1{skip}))
         returning id, store_domain, collaborator_code, client_name, client_email, leadsie_request_name,
             leadsie_request_url, state, attempts, next_attempt_at, last_error, source_message_id,
             received_at, filed_at, resolved_at, updated_at, null as grant_date"
    );
    Ok(on!(&mut *tx, |c| sqlx::query_as(&sql)
        .bind(lease_until)
        .bind(now)
        .bind(RequestState::Filing)
        .bind(RequestState::Queued)
        .fetch_optional(&mut *c)
        .await)?)
}

/// Ends a filing attempt: moves the request from `filing` to `to` (requested,
/// notified or failed) if attempt `attempt` still holds it, and records the
/// event. Returns false when the attempt no longer holds it.
pub async fn finish_attempt(
    tx: &mut Immediate<'_>,
    id: RequestId,
    attempt: i64,
    to: RequestState,
    error: Option<&str>,
    e: &Event<'_>,
    now: &Timestamp,
) -> Result<bool> {
    let filed = matches!(to, RequestState::Requested | RequestState::Notified).then_some(now);
    let resolved = (!to.is_open()).then_some(now);
    let changed = on!(&mut *tx, |c| sqlx::query(
        "update access_requests
         set state = $1, lease_until = null, updated_at = $2, filed_at = coalesce(filed_at, $3),
             resolved_at = coalesce($4, resolved_at), last_error = coalesce($5, last_error)
         where id = $6 and state = $7 and attempts = $8",
    )
    .bind(to)
    .bind(now)
    .bind(filed)
    .bind(resolved)
    .bind(error)
    .bind(id)
    .bind(RequestState::Filing)
    .bind(attempt)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    record_move(tx, changed, id, RequestState::Filing, to, e, now).await
}

/// Puts a request whose filing failed back in the queue until `at`, if
/// attempt `attempt` still holds it. An attempt that only waited
/// (`waiting_for` set: a lapsed login, an hourly limit) is given back: the
/// next claim has the same number again, and waits never use up
/// `max_attempts`. The fence stays sound: no other attempt can hold that
/// number while the request is queued. What it waits for is kept in
/// `waiting_for` (a new login wakes those that wait for one).
#[allow(clippy::too_many_arguments)]
pub async fn retry_attempt_at(
    tx: &mut Immediate<'_>,
    id: RequestId,
    attempt: i64,
    waiting_for: Option<Wait>,
    at: &Timestamp,
    error: &str,
    e: &Event<'_>,
    now: &Timestamp,
) -> Result<bool> {
    let changed = on!(&mut *tx, |c| sqlx::query(
        "update access_requests
         set state = $1, lease_until = null, next_attempt_at = $2, last_error = $3, updated_at = $4,
             attempts = attempts - $5, waiting_for = $6
         where id = $7 and state = $8 and attempts = $9",
    )
    .bind(RequestState::Queued)
    .bind(at)
    .bind(error)
    .bind(now)
    .bind(if waiting_for.is_some() { 1 } else { 0 })
    .bind(waiting_for)
    .bind(id)
    .bind(RequestState::Filing)
    .bind(attempt)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    record_move(
        tx,
        changed,
        id,
        RequestState::Filing,
        RequestState::Queued,
        e,
        now,
    )
    .await
}

/// Requests waiting on the merchant (`requested` or `notified`) filed at or
/// before `filed_before`; with `unreminded`, only those without a reminder
/// since they were filed (one about a wait for review does not count).
pub async fn waiting_since(
    conn: &mut impl Exec,
    filed_before: &Timestamp,
    unreminded: bool,
) -> Result<Vec<(RequestId, RequestState, String, String)>> {
    Ok(on!(&mut *conn, |c| sqlx::query_as(
        "select r.id, r.state, r.store_domain, r.collaborator_code from access_requests r
         where r.state in ($3, $4) and r.filed_at <= $1
           and (not $2 or not exists
                (select 1 from request_events e
                 where e.request_id = r.id and e.event = $5 and e.at >= r.filed_at))
         order by r.id",
    )
    .bind(filed_before)
    .bind(unreminded)
    .bind(RequestState::Requested)
    .bind(RequestState::Notified)
    .bind(EventKind::Reminder)
    .fetch_all(&mut *c)
    .await)?)
}

/// Requests awaiting review since `created_before` or earlier that have
/// had no reminder yet, as (id, store domain, code).
pub async fn awaiting_review_since(
    conn: &mut impl Exec,
    created_before: &Timestamp,
) -> Result<Vec<(RequestId, String, String)>> {
    Ok(on!(&mut *conn, |c| sqlx::query_as(
        "select r.id, r.store_domain, r.collaborator_code from access_requests r
         where r.state = $2 and r.created_at <= $1
           and not exists
               (select 1 from request_events e where e.request_id = r.id and e.event = $3)
         order by r.id",
    )
    .bind(created_before)
    .bind(RequestState::AwaitingReview)
    .bind(EventKind::Reminder)
    .fetch_all(&mut *c)
    .await)?)
}

/// Makes a queued request due now (an operator's retry).
pub async fn make_due(conn: &mut impl Exec, id: RequestId, now: &Timestamp) -> Result<()> {
    on!(&mut *conn, |c| sqlx::query(
        "update access_requests set next_attempt_at = $1, updated_at = $2 where id = $3"
    )
    .bind(now)
    .bind(now)
    .bind(id.0)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records when a request was filed with Shopify, if not recorded yet.
pub async fn set_filed_at(conn: &mut impl Exec, id: RequestId, now: &Timestamp) -> Result<()> {
    on!(&mut *conn, |c| sqlx::query(
        "update access_requests set filed_at = coalesce(filed_at, $1) where id = $2"
    )
    .bind(now)
    .bind(id.0)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The second half of every state change: when the conditional UPDATE moved
/// the request (`changed` is 1), append its event in the same transaction;
/// returns whether it moved.
async fn record_move(
    tx: &mut Immediate<'_>,
    changed: u64,
    id: RequestId,
    from: RequestState,
    to: RequestState,
    e: &Event<'_>,
    now: &Timestamp,
) -> Result<bool> {
    if changed == 1 {
        let moved = Event {
            request_id: Some(id),
            from_state: Some(from),
            to_state: Some(to),
            ..*e
        };
        add_event(tx, &moved, now).await?;
    }
    Ok(changed == 1)
}
