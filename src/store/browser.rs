//! The browser filer's records: the dashboard session's health, the
//! submissions it made (written before the button is pressed, so a crash
//! mid-submit is checked rather than repeated), the last read of the
//! Collaborations list and the moves that list makes.
//!
//! [`BrowserLedger`] is all the browser filer reaches of the database, and
//! [`Db`] is one: the worker hands its own to the filer with each filing,
//! and the worker lane to the list's schedule. The filer opens no database
//! and writes no SQL.

use crate::on;
use std::future::Future;

use super::db::{Db, Immediate, Result};
use super::events::Event;
use super::requests::{requests_for_store, set_filed_at, transition};
use crate::model::{Actor, EventKind, RequestId, RequestState, SessionState, Wait};
use crate::timestamp::Timestamp;

/// The dashboard session as last seen.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BrowserSession {
    pub state: SessionState,
    pub detail: Option<String>,
    pub since: Timestamp,
    pub told_at: Option<Timestamp>,
}

/// One press of "send" (`browser_submission`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Submission {
    pub id: i64,
    pub attempt: i64,
    pub started_at: Timestamp,
    /// When the answer was read (or the press checked); `None` for a press
    /// whose answer nobody read.
    pub finished_at: Option<Timestamp>,
    /// The outcome read from the page, or how the press was checked.
    pub result: Option<String>,
}

/// What a finished submission reads when the request reached Shopify: the
/// page said so, or a later check found it on the Collaborations list.
pub const SUBMISSION_REACHED: [&str; 3] = ["requested", "already", "checked: on the dashboard"];

/// One store as the Collaborations list shows it, with one status: the
/// state its newest filed request should be in, and the list's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed<'a> {
    pub store: &'a str,
    pub state: RequestState,
    pub said: &'a str,
}

/// What applying a list changed: (request id, from, to).
pub type Changes = Vec<(RequestId, RequestState, RequestState)>;

/// The browser filer's view of the database.
pub trait BrowserLedger: Send + Sync {
    /// The dashboard session as last seen.
    fn browser_session(&self) -> impl Future<Output = Result<BrowserSession>> + Send;

    /// Records that the session works (`signed_in`) or has lapsed
    /// (`login_needed`). Returns true when this changed the state, so the
    /// caller says so once. A lapse is told once: a new one starts untold.
    fn set_browser_session(
        &self,
        state: SessionState,
        detail: &str,
        now: &Timestamp,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Marks the lapse as told; true if it had not been told yet (so
    /// exactly one caller tells operators).
    fn mark_login_told(&self, now: &Timestamp) -> impl Future<Output = Result<bool>> + Send;

    /// Queued requests that wait for a login ([`Wait::BrowserLogin`]) are
    /// made due now (after a login), their attempts counted afresh: waiting
    /// must not bring a request nearer to being given up. Returns how many.
    fn wake_login_waiters(&self, now: &Timestamp) -> impl Future<Output = Result<u64>> + Send;

    /// A submission about to be made, if attempt `attempt` still holds the
    /// request's claim: in one `BEGIN IMMEDIATE` transaction, checks that
    /// the request is `filing` under that attempt, extends its lease to at
    /// least `lease_until` (so it cannot be reclaimed while the answer is
    /// read), and records the submission. Returns its row id, or `None`
    /// when the claim was lost (its lease ran out and another attempt took
    /// it): nothing may be sent then.
    fn hold_and_begin_submission(
        &self,
        id: RequestId,
        attempt: i64,
        lease_until: &Timestamp,
        now: &Timestamp,
    ) -> impl Future<Output = Result<Option<i64>>> + Send;

    /// Records what a submission's answer was, or how it was checked.
    fn finish_submission(
        &self,
        row: i64,
        result: &str,
        now: &Timestamp,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Submissions for `id` whose answer was never read, oldest first.
    fn unfinished_submissions(
        &self,
        id: RequestId,
    ) -> impl Future<Output = Result<Vec<Submission>>> + Send;

    /// The latest finished submission for `id` that reached Shopify, if
    /// any ([`SUBMISSION_REACHED`]). Such a request is never filed again.
    fn reached_submission(
        &self,
        id: RequestId,
    ) -> impl Future<Output = Result<Option<Submission>>> + Send;

    /// Submissions started at or after `since` (the hourly rate limit), and
    /// when the oldest of them started.
    fn submissions_since(
        &self,
        since: &Timestamp,
    ) -> impl Future<Output = Result<(i64, Option<Timestamp>)>> + Send;

    /// Records a read of the Collaborations list: the rows it had, or why
    /// it could not be read.
    fn record_sync(
        &self,
        now: &Timestamp,
        rows: Option<i64>,
        error: Option<&str>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Moves each listed store's newest request to the state the list
    /// shows, in one transaction, where that is a move the request's state
    /// allows and not where it already is. Only a request that was filed
    /// (requested, notified, granted) is moved: a row is about an earlier
    /// request when the newest is still queued, and one the worker holds
    /// (`filing`) is left to it. Each move is Shopify's `outcome` on the
    /// timeline, with the list's words (the code masked in them).
    fn apply_list(
        &self,
        listed: &[Listed<'_>],
        now: &Timestamp,
    ) -> impl Future<Output = Result<Changes>> + Send;
}

impl BrowserLedger for Db {
    async fn browser_session(&self) -> Result<BrowserSession> {
        Ok(on!(&mut self.pool.acquire().await?, |c| sqlx::query_as(
            "select state, detail, since, told_at from browser_session where id = 1",
        )
        .fetch_one(&mut *c)
        .await)?)
    }

    async fn set_browser_session(
        &self,
        state: SessionState,
        detail: &str,
        now: &Timestamp,
    ) -> Result<bool> {
        let changed = on!(&mut self.pool.acquire().await?, |c| sqlx::query(
            "update browser_session set state = $1, detail = $2, since = $3, updated_at = $3,
                 told_at = case when $1 = $4 then told_at else null end
             where id = 1 and state <> $1",
        )
        .bind(state)
        .bind(detail)
        .bind(now)
        .bind(SessionState::LoginNeeded)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        if changed == 0 {
            on!(&mut self.pool.acquire().await?, |c| sqlx::query(
                "update browser_session set detail = $1, updated_at = $2 where id = 1"
            )
            .bind(detail)
            .bind(now)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        }
        Ok(changed > 0)
    }

    async fn mark_login_told(&self, now: &Timestamp) -> Result<bool> {
        Ok(on!(&mut self.pool.acquire().await?, |c| {
            sqlx::query(
            "update browser_session set told_at = $1 where id = 1 and state = $2 and told_at is null",
        )
        .bind(now)
        .bind(SessionState::LoginNeeded)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
        })? > 0)
    }

    async fn wake_login_waiters(&self, now: &Timestamp) -> Result<u64> {
        Ok(on!(&mut self.pool.acquire().await?, |c| sqlx::query(
            "update access_requests
             set next_attempt_at = $1, updated_at = $1, attempts = 0, waiting_for = null
             where state = $2 and waiting_for = $3",
        )
        .bind(now)
        .bind(RequestState::Queued)
        .bind(Wait::BrowserLogin)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?)
    }

    async fn hold_and_begin_submission(
        &self,
        id: RequestId,
        attempt: i64,
        lease_until: &Timestamp,
        now: &Timestamp,
    ) -> Result<Option<i64>> {
        let mut conn = self.pool.acquire().await?;
        let mut tx = Immediate::begin(&mut conn).await?;
        let held = on!(&mut tx, |c| {
            sqlx::query(
            "update access_requests
             set lease_until = case when lease_until > $1 then lease_until else $1 end, updated_at = $2
             where id = $3 and state = $4 and attempts = $5",
        )
        .bind(lease_until)
        .bind(now)
        .bind(id)
        .bind(RequestState::Filing)
        .bind(attempt)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if held == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let row = on!(&mut tx, |c| {
            sqlx::query_scalar(
            "insert into browser_submission (request_id, attempt, started_at) values ($1, $2, $3) returning id",
        )
        .bind(id)
        .bind(attempt)
        .bind(now)
        .fetch_one(&mut *c)
        .await
        })?;
        tx.commit().await?;
        Ok(Some(row))
    }

    async fn finish_submission(&self, row: i64, result: &str, now: &Timestamp) -> Result<()> {
        on!(&mut self.pool.acquire().await?, |c| sqlx::query(
            "update browser_submission set finished_at = $1, result = $2 where id = $3"
        )
        .bind(now)
        .bind(result)
        .bind(row)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    async fn unfinished_submissions(&self, id: RequestId) -> Result<Vec<Submission>> {
        Ok(on!(&mut self.pool.acquire().await?, |c| sqlx::query_as(
            "select id, attempt, started_at, finished_at, result from browser_submission
             where request_id = $1 and finished_at is null order by id",
        )
        .bind(id)
        .fetch_all(&mut *c)
        .await)?)
    }

    async fn reached_submission(&self, id: RequestId) -> Result<Option<Submission>> {
        Ok(on!(&mut self.pool.acquire().await?, |c| sqlx::query_as(
            "select id, attempt, started_at, finished_at, result from browser_submission
             where request_id = $1 and finished_at is not null and result in ($2, $3, $4)
             order by id desc limit 1",
        )
        .bind(id)
        .bind(SUBMISSION_REACHED[0])
        .bind(SUBMISSION_REACHED[1])
        .bind(SUBMISSION_REACHED[2])
        .fetch_optional(&mut *c)
        .await)?)
    }

    async fn submissions_since(&self, since: &Timestamp) -> Result<(i64, Option<Timestamp>)> {
        Ok(on!(&mut self.pool.acquire().await?, |c| sqlx::query_as(
            "select count(*), min(started_at) from browser_submission where started_at >= $1",
        )
        .bind(since)
        .fetch_one(&mut *c)
        .await)?)
    }

    async fn record_sync(
        &self,
        now: &Timestamp,
        rows: Option<i64>,
        error: Option<&str>,
    ) -> Result<()> {
        on!(&mut self.pool.acquire().await?, |c| sqlx::query(
            "update browser_sync set last_at = $1, rows_seen = $2, last_error = $3 where id = 1",
        )
        .bind(now)
        .bind(rows)
        .bind(error)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    async fn apply_list(&self, listed: &[Listed<'_>], now: &Timestamp) -> Result<Changes> {
        let mut changes = Vec::new();
        let mut conn = self.pool.acquire().await?;
        let mut tx = Immediate::begin(&mut conn).await?;
        for seen in listed {
            let to = seen.state;
            let requests = requests_for_store(&mut tx, seen.store).await?;
            // The newest request that is not settled another way.
            let Some(r) = requests.iter().find(|r| {
                !matches!(
                    r.state,
                    RequestState::Cancelled | RequestState::Superseded | RequestState::Failed
                )
            }) else {
                continue;
            };
            let filed = matches!(
                r.state,
                RequestState::Requested | RequestState::Notified | RequestState::Granted
            );
            if !filed || r.state == to || !r.state.can_move_to(to) {
                continue;
            }
            // The list's words are the page's: masked before they are kept.
            let detail = crate::redact::hide_code(
                &format!(
                    "the dashboard's Collaborations list says “{}” for {}",
                    seen.said, seen.store
                ),
                r.collaborator_code.expose(),
            )
            .into_owned();
            let e = Event {
                request_id: Some(r.id),
                message_id: None,
                actor: &Actor::Shopify,
                event: EventKind::Outcome,
                from_state: None,
                to_state: None,
                detail: Some(&detail),
            };
            if transition(&mut tx, r.id, r.state, to, &e, now).await? {
                if to == RequestState::Requested {
                    set_filed_at(&mut tx, r.id, now).await?;
                }
                changes.push((r.id, r.state, to));
            }
        }
        tx.commit().await?;
        Ok(changes)
    }
}
