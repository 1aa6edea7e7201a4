//! Read-only summaries for `collabd status`, `/metrics` and `/healthz`:
//! the status view, message counts, and figures.

use serde::Serialize;
use sqlx::{Row, SqlitePool};

use super::{MailboxRow, Result, mailbox_rows};
use crate::model::RequestState;

/// A row of the `request_status` view.
#[derive(Debug, Clone, Serialize)]
pub struct StatusRow {
    pub id: i64,
    pub store_domain: String,
    pub client_name: Option<String>,
    pub state: String,
    pub code_hint: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub received_at: String,
    pub filed_at: Option<String>,
    pub resolved_at: Option<String>,
    pub updated_at: String,
    pub age_days: Option<i64>,
    pub last_event: Option<String>,
}

pub async fn status_rows(pool: &SqlitePool, state: Option<RequestState>) -> Result<Vec<StatusRow>> {
    let rows = sqlx::query(
        "select id, store_domain, client_name, state, code_hint, attempts, last_error, received_at, filed_at,
                resolved_at, updated_at, age_days, last_event
         from request_status where ? is null or state = ? order by id",
    )
    .bind(state.map(RequestState::as_str))
    .bind(state.map(RequestState::as_str))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| StatusRow {
            id: r.get("id"),
            store_domain: r.get("store_domain"),
            client_name: r.get("client_name"),
            state: r.get("state"),
            code_hint: r.get("code_hint"),
            attempts: r.get("attempts"),
            last_error: r.get("last_error"),
            received_at: r.get("received_at"),
            filed_at: r.get("filed_at"),
            resolved_at: r.get("resolved_at"),
            updated_at: r.get("updated_at"),
            age_days: r.get("age_days"),
            last_event: r.get("last_event"),
        })
        .collect())
}

/// How many stored messages of each kind, for the status footer.
pub async fn message_counts(pool: &SqlitePool) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query("select kind, count(*) as n from messages group by kind order by kind")
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(|r| (r.get("kind"), r.get("n"))).collect())
}

/// Messages that need a person: rejected, unparseable, or a grant that left
/// part of the email unread (it carries a reason), newest first.
pub async fn messages_needing_attention(
    pool: &SqlitePool,
    limit: i64,
) -> Result<Vec<(i64, String, Option<String>, Option<String>, Option<String>)>> {
    let rows = sqlx::query(
        "select id, kind, coalesce(original_from, from_addr) as sender, subject, reason from messages
         where kind in ('rejected', 'unparseable') or (kind = 'leadsie_grant' and reason is not null)
         order by id desc limit ?",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                r.get("id"),
                r.get("kind"),
                r.get("sender"),
                r.get("subject"),
                r.get("reason"),
            )
        })
        .collect())
}

/// Figures for `/metrics` and `/healthz`, read in one go.
#[derive(Debug, Default, Clone)]
pub struct Figures {
    pub messages_by_kind: Vec<(String, i64)>,
    pub requests_by_state: Vec<(String, i64)>,
    pub filer_attempts: i64,
    pub filer_failures: i64,
    /// Queued requests due for more than `overdue` seconds, and claims whose
    /// lease ran out that long ago: the queue is stuck if this is not zero.
    pub overdue: i64,
    pub mailboxes: Vec<MailboxRow>,
}

pub async fn figures(pool: &SqlitePool, now: &str, overdue_after_s: i64) -> Result<Figures> {
    let requests = sqlx::query(
        "select state, count(*) as n from access_requests group by state order by state",
    )
    .fetch_all(pool)
    .await?;
    let counts = sqlx::query(
        "select (select count(*) from request_events where event = 'claimed'),
                (select count(*) from request_events where event in ('retry', 'failed'))",
    )
    .fetch_one(pool)
    .await?;
    let overdue: i64 = sqlx::query_scalar(
        "select count(*) from access_requests
         where (state = 'queued' and julianday(?1) - julianday(coalesce(next_attempt_at, created_at)) > ?2 / 86400.0)
            or (state = 'filing' and julianday(?1) - julianday(lease_until) > ?2 / 86400.0)",
    )
    .bind(now)
    .bind(overdue_after_s as f64)
    .fetch_one(pool)
    .await?;
    Ok(Figures {
        messages_by_kind: message_counts(pool).await?,
        requests_by_state: requests
            .iter()
            .map(|r| (r.get("state"), r.get("n")))
            .collect(),
        filer_attempts: counts.get(0),
        filer_failures: counts.get(1),
        overdue,
        mailboxes: mailbox_rows(pool).await?,
    })
}
