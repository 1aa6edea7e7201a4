//! The browser filer's records: the dashboard session's health, the
//! submissions it made (written before the button is pressed, so a crash
//! mid-submit is checked rather than repeated), and the last list sync.

use sqlx::SqlitePool;
use sqlx::sqlite::SqliteConnection;

use super::db::Result;
use crate::model::RequestId;

/// The dashboard session as last seen.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BrowserSession {
    /// `unknown`, `ok` or `login_needed`.
    pub state: String,
    pub detail: Option<String>,
    pub since: String,
    pub told_at: Option<String>,
}

impl BrowserSession {
    pub fn login_needed(&self) -> bool {
        self.state == "login_needed"
    }
}

pub async fn browser_session(pool: &SqlitePool) -> Result<BrowserSession> {
    Ok(
        sqlx::query_as("select state, detail, since, told_at from browser_session where id = 1")
            .fetch_one(pool)
            .await?,
    )
}

/// Records that the session works (`ok`) or has lapsed (`login_needed`).
/// Returns true when this changed the state, so the caller says so once.
pub async fn set_browser_session(
    pool: &SqlitePool,
    login_needed: bool,
    detail: &str,
    now: &str,
) -> Result<bool> {
    let state = if login_needed { "login_needed" } else { "ok" };
    let changed = sqlx::query(
        "update browser_session set state = ?1, detail = ?2, since = ?3, updated_at = ?3,
             told_at = case when ?1 = 'ok' then null else told_at end
         where id = 1 and state <> ?1",
    )
    .bind(state)
    .bind(detail)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected();
    if changed == 0 {
        sqlx::query("update browser_session set detail = ?, updated_at = ? where id = 1")
            .bind(detail)
            .bind(now)
            .execute(pool)
            .await?;
    }
    Ok(changed > 0)
}

/// Marks the lapse as told; true if it had not been told yet (so exactly
/// one caller tells operators).
pub async fn mark_login_told(pool: &SqlitePool, now: &str) -> Result<bool> {
    Ok(sqlx::query(
        "update browser_session set told_at = ? where id = 1 and state = 'login_needed' and told_at is null",
    )
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected()
        > 0)
}

/// Queued requests that wait for a login are made due now (after a login),
/// their attempts counted afresh: waiting must not bring a request nearer
/// to being given up.
pub async fn wake_login_waiters(pool: &SqlitePool, prefix: &str, now: &str) -> Result<u64> {
    Ok(sqlx::query(
        "update access_requests set next_attempt_at = ?1, updated_at = ?1, attempts = 0
         where state = 'queued' and substr(last_error, 1, length(?2)) = ?2",
    )
    .bind(now)
    .bind(prefix)
    .execute(pool)
    .await?
    .rows_affected())
}

/// A submission about to be made, if attempt `attempt` still holds the
/// request's claim: in one `BEGIN IMMEDIATE` transaction, checks that the
/// request is `filing` under that attempt, extends its lease to at least
/// `lease_until` (so it cannot be reclaimed while the answer is read), and
/// records the submission. Returns its row id, or `None` when the claim was
/// lost (its lease ran out and another attempt took it): nothing may be
/// sent then.
pub async fn hold_and_begin_submission(
    pool: &SqlitePool,
    id: RequestId,
    attempt: i64,
    lease_until: &str,
    now: &str,
) -> Result<Option<i64>> {
    use sqlx::Connection;
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let held = sqlx::query(
        "update access_requests set lease_until = max(coalesce(lease_until, ?1), ?1), updated_at = ?2
         where id = ?3 and state = ?4 and attempts = ?5",
    )
    .bind(lease_until)
    .bind(now)
    .bind(id)
    .bind(crate::model::RequestState::Filing)
    .bind(attempt)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if held == 0 {
        tx.rollback().await?;
        return Ok(None);
    }
    let row = sqlx::query_scalar(
        "insert into browser_submission (request_id, attempt, started_at) values (?, ?, ?) returning id",
    )
    .bind(id)
    .bind(attempt)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(row))
}

pub async fn finish_submission(pool: &SqlitePool, row: i64, result: &str, now: &str) -> Result<()> {
    sqlx::query("update browser_submission set finished_at = ?, result = ? where id = ?")
        .bind(now)
        .bind(result)
        .bind(row)
        .execute(pool)
        .await?;
    Ok(())
}

/// Submissions for `id` whose answer was never read: (row, attempt, started_at).
pub async fn unfinished_submissions(
    conn: &mut SqliteConnection,
    id: RequestId,
) -> Result<Vec<(i64, i64, String)>> {
    Ok(sqlx::query_as(
        "select id, attempt, started_at from browser_submission
         where request_id = ? and finished_at is null order by id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Submissions started at or after `since` (the hourly rate limit), and the
/// oldest of them.
pub async fn submissions_since(pool: &SqlitePool, since: &str) -> Result<(i64, Option<String>)> {
    Ok(sqlx::query_as(
        "select count(*), min(started_at) from browser_submission where started_at >= ?",
    )
    .bind(since)
    .fetch_one(pool)
    .await?)
}

pub async fn record_sync(
    pool: &SqlitePool,
    now: &str,
    rows: Option<i64>,
    error: Option<&str>,
) -> Result<()> {
    sqlx::query("update browser_sync set last_at = ?, rows_seen = ?, last_error = ? where id = 1")
        .bind(now)
        .bind(rows)
        .bind(error)
        .execute(pool)
        .await?;
    Ok(())
}

/// What a finished submission reads when the request reached Shopify: the
/// page said so, or a later check found it on the Collaborations list.
pub const SUBMISSION_REACHED: [&str; 3] = ["requested", "already", "checked: on the dashboard"];

/// The latest finished submission for `id` that reached Shopify, if any:
/// (attempt, result, finished_at). Such a request is never filed again.
pub async fn reached_submission(
    pool: &SqlitePool,
    id: RequestId,
) -> Result<Option<(i64, String, String)>> {
    Ok(sqlx::query_as(
        "select attempt, result, finished_at from browser_submission
         where request_id = ? and finished_at is not null and result in (?, ?, ?)
         order by id desc limit 1",
    )
    .bind(id)
    .bind(SUBMISSION_REACHED[0])
    .bind(SUBMISSION_REACHED[1])
    .bind(SUBMISSION_REACHED[2])
    .fetch_optional(pool)
    .await?)
}
