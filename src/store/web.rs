//! Read-only queries for the status page: one page of the requests table
//! (filtered, searched, sorted), counts by state, a request's messages,
//! messages that need a look, and the change marker the page polls. Every
//! statement here is a plain SELECT: the page never takes the write lock
//! the watcher and the worker wait on (the database is in WAL mode, so
//! readers and the writer do not block each other).

use super::db::Pool;
use crate::on;
use serde::Serialize;

use super::db::Result;
use crate::model::{EventKind, MessageKind, RequestState};
use crate::timestamp::Timestamp;

/// A column the requests table can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Id,
    Store,
    Client,
    State,
    Code,
    Tries,
    Received,
    LastEvent,
}

impl SortBy {
    pub const ALL: [SortBy; 8] = [
        SortBy::Id,
        SortBy::Store,
        SortBy::Client,
        SortBy::State,
        SortBy::Code,
        SortBy::Tries,
        SortBy::Received,
        SortBy::LastEvent,
    ];

    /// The name in the page's address (`?sort=store`).
    pub fn as_str(self) -> &'static str {
        match self {
            SortBy::Id => "id",
            SortBy::Store => "store",
            SortBy::Client => "client",
            SortBy::State => "state",
            SortBy::Code => "code",
            SortBy::Tries => "tries",
            SortBy::Received => "received",
            SortBy::LastEvent => "last",
        }
    }

    pub fn parse(s: &str) -> Option<SortBy> {
        SortBy::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// The SQL it sorts by; ties go by id, so pages never overlap. Only
    /// the code's last two digits (the part the page shows) order it.
    fn expr(self) -> &'static str {
        match self {
            SortBy::Id => "r.id",
            SortBy::Store => "r.store_domain",
            SortBy::Client => "lower(coalesce(r.client_name, ''))",
            SortBy::State => "r.state",
            SortBy::Code => "substr(r.collaborator_code, 3)",
            SortBy::Tries => "r.attempts",
            SortBy::Received => "r.received_at",
            // Event ids grow with time: the newest event has the highest.
            SortBy::LastEvent => {
                "(select max(e.id) from request_events e where e.request_id = r.id)"
            }
        }
    }
}

/// What the requests table shows.
#[derive(Debug, Clone)]
pub struct ListFilter {
    pub state: Option<RequestState>,
    /// Part of a store domain or client name, any case.
    pub search: Option<String>,
    pub sort: SortBy,
    pub descending: bool,
    pub offset: i64,
    pub limit: i64,
    /// A signed-out search: a search with digits does not match a store
    /// or client whose name holds four digits or more (it may quote a
    /// code, shown masked, and a match would confirm the hidden digits).
    pub signed_out: bool,
}

/// One row of the requests table.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ListRow {
    pub id: i64,
    pub store_domain: String,
    pub client_name: Option<String>,
    pub state: RequestState,
    #[serde(skip)]
    pub collaborator_code: String,
    pub attempts: i64,
    pub received_at: Timestamp,
    pub last_at: Option<Timestamp>,
    pub last_event: Option<EventKind>,
    pub last_detail: Option<String>,
}

/// A search as a LIKE pattern, its ASCII letters lower-cased as the query
/// lower-cases the columns (SQLite's `lower` and LIKE fold ASCII only;
/// PostgreSQL's LIKE folds nothing),
/// with `%`, `_` and the escape character `!` meaning themselves. `!`
/// rather than a backslash: the two engines read `'\\'` differently.
fn like_pattern(s: &str) -> String {
    let mut p = String::with_capacity(s.len() + 2);
    p.push('%');
    for c in s.to_ascii_lowercase().chars() {
        if matches!(c, '%' | '_' | '!') {
            p.push('!');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// One page of requests and how many match the filter in all.
pub async fn list_requests(pool: &Pool, f: &ListFilter) -> Result<(Vec<ListRow>, i64)> {
    let search = f
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(like_pattern);
    let postgres = pool.postgres().is_some();
    // "Holds four digits somewhere", in each engine's pattern language.
    let coded = match postgres {
        false => "glob '*[0-9]*[0-9]*[0-9]*[0-9]*'",
        true => "~ '[0-9].*[0-9].*[0-9].*[0-9]'",
    };
    let guarded = f.signed_out
        && search
            .as_deref()
            .is_some_and(|s| s.chars().any(char::is_numeric));
    let guard = if guarded {
        format!(" and not (r.store_domain {coded} or coalesce(r.client_name, '') {coded})")
    } else {
        String::new()
    };
    let filter = format!(
        "($1 is null or r.state = $1)
         and ($2 is null or lower(r.store_domain) like $2 escape '!' or lower(r.client_name) like $2 escape '!'){guard}"
    );
    let total: i64 = on!(&mut pool.acquire().await?, |c| sqlx::query_scalar(
        &format!("select count(*) from access_requests r where {filter}")
    )
    .bind(f.state)
    .bind(search.as_deref())
    .fetch_one(&mut *c)
    .await)?;
    let dir = if f.descending { "desc" } else { "asc" };
    // The page's ids first (an index serves most orders, and SQLite keeps
    // only the top rows while it sorts); then only they look up their
    // last event.
    // A search matches few rows, found by scanning them all: then walking
    // an index in order and testing each row would be slower than sorting
    // the few that match, so a unary `+` keeps SQLite off the index
    // (PostgreSQL's planner weighs that itself, and has no `+` for text).
    let plus = if search.is_some() && !postgres {
        "+"
    } else {
        ""
    };
    let ids: Vec<i64> = on!(&mut pool.acquire().await?, |c| sqlx::query_scalar(
        &format!(
            "select r.id from access_requests r where {filter}
         order by {plus}{} {dir}, {plus}r.id {dir} limit $3 offset $4",
            f.sort.expr()
        )
    )
    .bind(f.state)
    .bind(search.as_deref())
    .bind(f.limit)
    .bind(f.offset)
    .fetch_all(&mut *c)
    .await)?;
    if ids.is_empty() {
        return Ok((Vec::new(), total));
    }
    // The ids are integers this query just read: written into the
    // statement, they need no engine's array or JSON type.
    let list = ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let mut rows: Vec<ListRow> = on!(&mut pool.acquire().await?, |c| {
        sqlx::query_as(&format!(
        "select p.id, p.store_domain, p.client_name, p.state, p.collaborator_code, p.attempts, p.received_at,
                e.at as last_at, e.event as last_event, e.detail as last_detail
         from access_requests p
         left join request_events e
           on e.id = (select max(x.id) from request_events x where x.request_id = p.id)
         where p.id in ({list})"
    ))
    .fetch_all(&mut *c)
    .await
    })?;
    rows.sort_by_key(|r| ids.iter().position(|i| *i == r.id));
    Ok((rows, total))
}

/// How many requests are in each state.
pub async fn counts_by_state(pool: &Pool) -> Result<Vec<(RequestState, i64)>> {
    Ok(on!(&mut pool.acquire().await?, |c| sqlx::query_as(
        "select state, count(*) from access_requests group by state"
    )
    .fetch_all(&mut *c)
    .await)?)
}

/// A stored message as the page shows it (its raw bytes are fetched apart).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub message_id: Option<String>,
    pub source: String,
    pub source_ref: Option<String>,
    pub mailbox: Option<String>,
    pub from_addr: Option<String>,
    pub original_from: Option<String>,
    pub subject: Option<String>,
    pub date: Option<Timestamp>,
    pub kind: MessageKind,
    pub reason: Option<String>,
    pub raw_size: i64,
    /// Whether the raw bytes are still kept.
    pub has_raw: bool,
    pub received_at: Timestamp,
}

const MESSAGE_COLUMNS: &str =
    "id, message_id, source, source_ref, mailbox, from_addr, original_from, subject,
    date, kind, reason, raw_size, raw is not null as has_raw, received_at";

pub async fn message(pool: &Pool, id: i64) -> Result<Option<MessageRow>> {
    Ok(on!(&mut pool.acquire().await?, |c| sqlx::query_as(
        &format!("select {MESSAGE_COLUMNS} from messages where id = $1")
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await)?)
}

/// A message's raw bytes, while they are kept.
pub async fn message_raw(pool: &Pool, id: i64) -> Result<Option<Vec<u8>>> {
    Ok(on!(&mut pool.acquire().await?, |c| sqlx::query_scalar(
        "select raw from messages where id = $1"
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await)?
    .flatten())
}

/// Messages that need a person — rejected, unparseable, or a grant that
/// left part of the email unread — newest first, and how many there are.
pub async fn needs_a_look(pool: &Pool, limit: i64) -> Result<(Vec<MessageRow>, i64)> {
    let filter = "kind in ($1, $2) or (kind = $3 and reason is not null)";
    let rows = on!(&mut pool.acquire().await?, |c| sqlx::query_as(&format!(
        "select {MESSAGE_COLUMNS} from messages where {filter} order by id desc limit $4"
    ))
    .bind(MessageKind::Rejected)
    .bind(MessageKind::Unparseable)
    .bind(MessageKind::LeadsieGrant)
    .bind(limit)
    .fetch_all(&mut *c)
    .await)?;
    let total = on!(&mut pool.acquire().await?, |c| sqlx::query_scalar(
        &format!("select count(*) from messages where {filter}")
    )
    .bind(MessageKind::Rejected)
    .bind(MessageKind::Unparseable)
    .bind(MessageKind::LeadsieGrant)
    .fetch_one(&mut *c)
    .await)?;
    Ok((rows, total))
}

/// The requests a message created or moved, as (id, store).
pub async fn requests_of_message(pool: &Pool, message: i64) -> Result<Vec<(i64, String)>> {
    Ok(on!(&mut pool.acquire().await?, |c| sqlx::query_as(
        "select distinct r.id, r.store_domain from request_events e
         join access_requests r on r.id = e.request_id
         where e.message_id = $1
         union select r.id, r.store_domain from access_requests r where r.source_message_id = $1
         order by 1",
    )
    .bind(message)
    .fetch_all(&mut *c)
    .await)?)
}

/// A request's timeline with event ids, for the page (screenshot links
/// name the event).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TimelineRow {
    pub id: i64,
    pub at: Timestamp,
    pub actor: crate::model::Actor,
    pub event: EventKind,
    pub from_state: Option<RequestState>,
    pub to_state: Option<RequestState>,
    pub detail: Option<String>,
    pub message_id: Option<i64>,
}

pub async fn timeline(pool: &Pool, request: i64) -> Result<Vec<TimelineRow>> {
    Ok(on!(&mut pool.acquire().await?, |c| sqlx::query_as(
        "select id, at, actor, event, from_state, to_state, detail, message_id from request_events
         where request_id = $1 order by id",
    )
    .bind(request)
    .fetch_all(&mut *c)
    .await)?)
}

/// One event of a request, for its screenshot.
pub async fn event_detail(pool: &Pool, request: i64, event: i64) -> Result<Option<String>> {
    Ok(on!(&mut pool.acquire().await?, |c| sqlx::query_scalar(
        "select detail from request_events where id = $1 and request_id = $2"
    )
    .bind(event)
    .bind(request)
    .fetch_optional(&mut *c)
    .await)?
    .flatten())
}

/// Requests waiting for the worker: queued, and being filed now.
pub async fn queue_depth(pool: &Pool) -> Result<(i64, i64)> {
    Ok(on!(&mut pool.acquire().await?, |c| sqlx::query_as(
        "select (select count(*) from access_requests where state = $1),
                (select count(*) from access_requests where state = $2)",
    )
    .bind(RequestState::Queued)
    .bind(RequestState::Filing)
    .fetch_one(&mut *c)
    .await)?)
}

/// Changes whenever anything the page shows may have changed: a new
/// event, message or watcher report. Three index look-ups.
pub async fn change_marker(pool: &Pool) -> Result<String> {
    let (e, m, w): (Option<i64>, Option<i64>, Option<String>) =
        on!(&mut pool.acquire().await?, |c| sqlx::query_as(
            "select (select max(id) from request_events), (select max(id) from messages),
                (select max(updated_at) from mailbox_state)",
        )
        .fetch_one(&mut *c)
        .await)?;
    Ok(format!(
        "{}.{}.{}",
        e.unwrap_or(0),
        m.unwrap_or(0),
        w.unwrap_or_default()
    ))
}

/// Every request's code, for masking them in what a signed-out reader
/// sees: any of them can be quoted in a subject, a client's name or a
/// detail.
pub async fn all_codes(pool: &Pool) -> Result<Vec<String>> {
    Ok(on!(&mut pool.acquire().await?, |c| sqlx::query_scalar(
        "SELECT DISTINCT collaborator_code FROM access_requests"
    )
    .fetch_all(&mut *c)
    .await)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Db;

    async fn cursor(db: &Db) -> i64 {
        on!(&mut db.pool.acquire().await.unwrap(), |c| {
            sqlx::query_scalar("select last_event_id from announcement_cursor")
                .fetch_one(&mut *c)
                .await
        })
        .unwrap()
    }

    /// Statements written for every engine: the search pattern's own
    /// escaping and case, the overdue count by text comparison, and the
    /// announcement cursor that only moves forward.
    #[tokio::test]
    async fn portable_statements_mean_what_they_meant() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("c.db")).await.unwrap();
        let t = |m: i64| {
            Timestamp::from(
                chrono::DateTime::<chrono::Utc>::from_timestamp(1_800_000_000 + m * 60, 0).unwrap(),
            )
        };
        let now = t(100);
        for (id, store, client, state, due, lease) in [
            (
                1,
                "acme.myshopify.com",
                "ACME 50%_off!",
                "queued",
                Some(t(70)),
                None,
            ),
            (
                2,
                "acme-x.myshopify.com",
                "Acme plain",
                "queued",
                Some(t(95)),
                None,
            ),
            (
                3,
                "bistro.myshopify.com",
                "Bistro Lumière",
                "filing",
                None,
                Some(t(80)),
            ),
            (
                4,
                "cafe.myshopify.com",
                "Café",
                "filing",
                None,
                Some(t(120)),
            ),
            (5, "done.myshopify.com", "Done", "granted", Some(t(0)), None),
        ] {
            on!(&mut db.pool.acquire().await.unwrap(), |c| sqlx::query(
                "insert into access_requests (id, store_domain, collaborator_code, client_name, state,
                     next_attempt_at, lease_until, received_at, created_at, updated_at)
                 values ($1, $2, '0105', $3, $4, $5, $6, $7, $7, $7)",
            )
            .bind(id)
            .bind(store)
            .bind(client)
            .bind(state)
            .bind(due)
            .bind(lease)
            .bind(t(0))
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))
            .unwrap();
        }
        // Overdue by more than 15 minutes at t(100): queued since t(70),
        // and the lease that ran out at t(80); not t(95) nor a live lease.
        let f = crate::store::figures(&db.pool, &now, 15 * 60)
            .await
            .unwrap();
        assert_eq!(f.overdue, 2);

        let search = |s: &str| {
            let db = db.clone();
            let s = s.to_owned();
            async move {
                let f = ListFilter {
                    state: None,
                    search: Some(s),
                    sort: SortBy::Id,
                    descending: false,
                    offset: 0,
                    limit: 50,
                    signed_out: false,
                };
                let (rows, total) = list_requests(&db.pool, &f).await.unwrap();
                assert_eq!(rows.len() as i64, total);
                rows.into_iter().map(|r| r.id).collect::<Vec<_>>()
            }
        };
        assert_eq!(search("acme").await, [1, 2], "any ASCII case");
        assert_eq!(search("ACME-X").await, [2]);
        assert_eq!(search("50%_").await, [1], "% and _ are themselves");
        assert_eq!(search("%").await, [1]);
        assert_eq!(search("off!").await, [1], "the escape character is itself");
        assert_eq!(search("Lumière").await, [3]);
        assert_eq!(search("x_").await, Vec::<i64>::new());

        // The cursor only moves forward.
        let mut conn = db.pool.acquire().await.unwrap();
        crate::store::advance_announcements(&mut conn, 7, &now)
            .await
            .unwrap();
        assert_eq!(cursor(&db).await, 7);
        crate::store::advance_announcements(&mut conn, 3, &now)
            .await
            .unwrap();
        assert_eq!(cursor(&db).await, 7);
        crate::store::advance_announcements(&mut conn, 9, &now)
            .await
            .unwrap();
        assert_eq!(cursor(&db).await, 9);
    }
}
