//! The SQLite database: the pool, embedded migrations, and every SQL
//! statement collabd runs, each in a function named for what it does.
//! Knows nothing of email parsing; callers pass typed values.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection as _, Row, SqlitePool};

use crate::model::{CollaboratorCode, MessageKind, RequestId, RequestState, StoreDomain};

/// A database error, named with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error(
        "database {path}: migrations failed: {source} (is this a collabd database from a newer version?)"
    )]
    Migrate {
        path: String,
        source: sqlx::migrate::MigrateError,
    },
    #[error(
        "the database disk is full: free space where the database lives, then retry; nothing was lost ({0})"
    )]
    DiskFull(sqlx::Error),
    #[error("the database is busy (locked by another process for too long): {0}")]
    Busy(sqlx::Error),
    #[error("database error: {0}")]
    Sql(sqlx::Error),
    #[error("no request with id {0}")]
    NoSuchRequest(RequestId),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        // SQLite result codes: 13 SQLITE_FULL, 5 SQLITE_BUSY, 6 SQLITE_LOCKED.
        let code = e
            .as_database_error()
            .and_then(|d| d.code())
            .and_then(|c| c.parse::<i32>().ok())
            .map(|c| c & 0xff);
        match code {
            Some(13) => Error::DiskFull(e),
            Some(5) | Some(6) => Error::Busy(e),
            _ => Error::Sql(e),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// UTC ISO-8601 text, as every timestamp column holds.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The database handle: a pool over one SQLite file in WAL mode.
#[derive(Debug, Clone)]
pub struct Db {
    pub pool: SqlitePool,
}

impl Db {
    /// Opens (creating if missing) and migrates the database at `path`.
    pub async fn open(path: &Path) -> Result<Db> {
        let shown = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            return Err(Error::Open {
                path: shown,
                source: sqlx::Error::Configuration(
                    format!(
                        "directory {} does not exist; create it or set [database] path",
                        dir.display()
                    )
                    .into(),
                ),
            });
        }
        create_private(path).map_err(|e| Error::Open {
            path: shown.clone(),
            source: sqlx::Error::Io(e),
        })?;
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|source| Error::Open {
                path: shown.clone(),
                source,
            })?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(6)
            // A local file needs no liveness ping before each use; the ping is
            // a round trip to sqlx's worker thread on every transaction.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|source| Error::Open {
                path: shown.clone(),
                source,
            })?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|source| Error::Migrate {
                path: shown,
                source,
            })?;
        Ok(Db { pool })
    }
}

/// Creates a missing database file readable by its owner only (0600), or
/// by its group too (0640) under systemd (`INVOCATION_ID` set), whose unit
/// gives the operators' group read access. The database holds every
/// collaborator code and raw message; SQLite would create it with the
/// umask's 0644, and gives its -wal and -shm files the database's mode. An
/// existing file's mode is the operator's choice and left alone.
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mode = if std::env::var_os("INVOCATION_ID").is_some_and(|v| !v.is_empty()) {
        0o640
    } else {
        0o600
    };
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
    {
        // Exactly this mode, whatever the umask took away.
        Ok(file) => file.set_permissions(std::fs::Permissions::from_mode(mode)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Where a message came from.
#[derive(Debug, Clone)]
pub enum Source {
    File(String),
    Stdin,
    Imap {
        mailbox: String,
        uidvalidity: u32,
        uid: u32,
    },
}

impl Source {
    /// `source, source_ref, mailbox, uidvalidity, uid` as stored.
    fn columns(
        &self,
    ) -> (
        &'static str,
        Option<&str>,
        Option<&str>,
        Option<u32>,
        Option<u32>,
    ) {
        match self {
            Source::File(p) => ("file", Some(p.as_str()), None, None, None),
            Source::Stdin => ("stdin", None, None, None, None),
            Source::Imap {
                mailbox,
                uidvalidity,
                uid,
            } => (
                "imap",
                None,
                Some(mailbox.as_str()),
                Some(*uidvalidity),
                Some(*uid),
            ),
        }
    }

    fn from_columns(
        source: &str,
        source_ref: Option<String>,
        mailbox: Option<String>,
        uidvalidity: Option<u32>,
        uid: Option<u32>,
    ) -> Source {
        match (source, mailbox, uidvalidity, uid) {
            ("imap", Some(mailbox), Some(uidvalidity), Some(uid)) => Source::Imap {
                mailbox,
                uidvalidity,
                uid,
            },
            ("file", ..) => Source::File(source_ref.unwrap_or_default()),
            _ => Source::Stdin,
        }
    }
}

/// A message waiting to be judged again (DNS failed during its DKIM check).
#[derive(Debug)]
pub struct Deferred {
    pub id: i64,
    pub source: Source,
    pub raw: Vec<u8>,
    pub received_at: String,
    pub attempts: i64,
}

/// Keeps a message to judge later; a message already waiting counts one more
/// attempt. Returns whether it was new.
pub async fn defer_message(
    conn: &mut SqliteConnection,
    sha256: &str,
    source: &Source,
    raw: &[u8],
    received_at: &str,
    next_attempt_at: &str,
    error: &str,
) -> Result<bool> {
    let (source, source_ref, mailbox, uidvalidity, uid) = source.columns();
    let r = sqlx::query(
        "insert into deferred_message (sha256, source, source_ref, mailbox, uidvalidity, uid, raw,
             received_at, next_attempt_at, last_error)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         on conflict (sha256) do nothing",
    )
    .bind(sha256)
    .bind(source)
    .bind(source_ref)
    .bind(mailbox)
    .bind(uidvalidity)
    .bind(uid)
    .bind(raw)
    .bind(received_at)
    .bind(next_attempt_at)
    .bind(error)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Messages due to be judged again, oldest first.
pub async fn due_deferred(
    conn: &mut SqliteConnection,
    now: &str,
    limit: i64,
) -> Result<Vec<Deferred>> {
    let rows = sqlx::query(
        "select id, source, source_ref, mailbox, uidvalidity, uid, raw, received_at, attempts
         from deferred_message where next_attempt_at <= ? order by id limit ?",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Deferred {
            id: r.get("id"),
            source: Source::from_columns(
                r.get::<String, _>("source").as_str(),
                r.get("source_ref"),
                r.get("mailbox"),
                r.get("uidvalidity"),
                r.get("uid"),
            ),
            raw: r.get("raw"),
            received_at: r.get("received_at"),
            attempts: r.get("attempts"),
        })
        .collect())
}

/// Another temporary failure: try again at `next_attempt_at`.
pub async fn postpone_deferred(
    conn: &mut SqliteConnection,
    id: i64,
    next_attempt_at: &str,
    error: &str,
) -> Result<()> {
    sqlx::query(
        "update deferred_message set attempts = attempts + 1, next_attempt_at = ?, last_error = ? where id = ?",
    )
    .bind(next_attempt_at)
    .bind(error)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Judged at last: the message leaves the waiting room (call in the
/// transaction that stores it).
pub async fn forget_deferred(conn: &mut SqliteConnection, id: i64) -> Result<()> {
    sqlx::query("delete from deferred_message where id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// How many messages wait to be judged, and the last DNS error.
pub async fn deferred_summary(pool: &SqlitePool) -> Result<(i64, Option<String>)> {
    let row = sqlx::query(
        "select count(*), (select last_error from deferred_message order by id desc limit 1) from deferred_message",
    )
    .fetch_one(pool)
    .await?;
    Ok((row.get(0), row.get(1)))
}

/// A message about to be stored.
#[derive(Debug)]
pub struct NewMessage<'a> {
    pub sha256: &'a str,
    pub source: &'a Source,
    pub message_id: Option<&'a str>,
    pub from_addr: Option<&'a str>,
    pub original_from: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub date: Option<&'a str>,
    pub kind: MessageKind,
    pub reason: Option<&'a str>,
    pub raw: Option<&'a [u8]>,
    pub raw_size: usize,
    pub received_at: &'a str,
}

/// Inserts a message unless one with the same digest exists; returns the new
/// row's id, or `None` for a message seen before.
pub async fn insert_message(
    conn: &mut SqliteConnection,
    m: &NewMessage<'_>,
) -> Result<Option<i64>> {
    let (source, source_ref, mailbox, uidvalidity, uid) = m.source.columns();
    let row = sqlx::query(
        "insert into messages (sha256, message_id, source, source_ref, mailbox, uidvalidity, uid, from_addr,
             original_from, subject, date, kind, reason, raw, raw_size, received_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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
    .bind(m.kind.as_str())
    .bind(m.reason)
    .bind(m.raw)
    .bind(m.raw_size as i64)
    .bind(m.received_at)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| r.get::<i64, _>(0)))
}

/// The id of the message with this digest, if stored.
pub async fn message_id_by_sha(conn: &mut SqliteConnection, sha256: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("select id from messages where sha256 = ?")
            .bind(sha256)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// A request row as the queue and the CLI see it.
#[derive(Debug, Clone, Serialize)]
pub struct Request {
    pub id: RequestId,
    pub store_domain: String,
    #[serde(skip)]
    pub collaborator_code: String,
    pub client_name: Option<String>,
    pub client_email: Option<String>,
    pub leadsie_request_name: Option<String>,
    pub leadsie_request_url: Option<String>,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub source_message_id: Option<i64>,
    pub received_at: String,
    pub filed_at: Option<String>,
    pub resolved_at: Option<String>,
    pub updated_at: String,
    /// The Date of the email that carried the grant, when it had one.
    pub grant_date: Option<String>,
}

const REQUEST_COLUMNS: &str = "r.id, r.store_domain, r.collaborator_code, r.client_name, r.client_email,
    r.leadsie_request_name, r.leadsie_request_url, r.state, r.attempts, r.next_attempt_at, r.last_error,
    r.source_message_id, r.received_at, r.filed_at, r.resolved_at, r.updated_at, m.received_at as grant_date";

fn request_from_row(row: &sqlx::sqlite::SqliteRow) -> Request {
    Request {
        id: RequestId(row.get("id")),
        store_domain: row.get("store_domain"),
        collaborator_code: row.get("collaborator_code"),
        client_name: row.get("client_name"),
        client_email: row.get("client_email"),
        leadsie_request_name: row.get("leadsie_request_name"),
        leadsie_request_url: row.get("leadsie_request_url"),
        state: row.get("state"),
        attempts: row.get("attempts"),
        next_attempt_at: row.get("next_attempt_at"),
        last_error: row.get("last_error"),
        source_message_id: row.get("source_message_id"),
        received_at: row.get("received_at"),
        filed_at: row.get("filed_at"),
        resolved_at: row.get("resolved_at"),
        updated_at: row.get("updated_at"),
        grant_date: row.get("grant_date"),
    }
}

impl Request {
    pub fn state(&self) -> Option<RequestState> {
        self.state.parse().ok()
    }
}

pub async fn get_request(conn: &mut SqliteConnection, id: RequestId) -> Result<Request> {
    let sql = format!(
        "select {REQUEST_COLUMNS} from access_requests r left join messages m on m.id = r.source_message_id where r.id = ?"
    );
    let row = sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref()
        .map(request_from_row)
        .ok_or(Error::NoSuchRequest(id))
}

pub async fn find_request(
    conn: &mut SqliteConnection,
    store: &StoreDomain,
    code: &CollaboratorCode,
) -> Result<Option<Request>> {
    let sql = format!(
        "select {REQUEST_COLUMNS} from access_requests r left join messages m on m.id = r.source_message_id
         where r.store_domain = ? and r.collaborator_code = ?"
    );
    let row = sqlx::query(&sql)
        .bind(store.as_str())
        .bind(code.expose())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(request_from_row))
}

/// Every request for a store, newest first.
pub async fn requests_for_store(conn: &mut SqliteConnection, store: &str) -> Result<Vec<Request>> {
    let sql = format!(
        "select {REQUEST_COLUMNS} from access_requests r left join messages m on m.id = r.source_message_id
         where r.store_domain = ? order by r.id desc"
    );
    let rows = sqlx::query(&sql).bind(store).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(request_from_row).collect())
}

/// Requests whose client name is `name` (any case), newest first.
pub async fn requests_for_client_name(
    conn: &mut SqliteConnection,
    name: &str,
) -> Result<Vec<Request>> {
    let sql = format!(
        "select {REQUEST_COLUMNS} from access_requests r left join messages m on m.id = r.source_message_id
         where lower(r.client_name) = lower(?) order by r.id desc"
    );
    let rows = sqlx::query(&sql)
        .bind(name.trim())
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(request_from_row).collect())
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
    conn: &mut SqliteConnection,
    r: &NewRequest<'_>,
    now: &str,
    detail: &str,
) -> Result<RequestId> {
    let resolved = (!r.state.is_open()).then_some(now);
    let id: i64 = sqlx::query_scalar(
        "insert into access_requests (store_domain, collaborator_code, client_name, client_email,
             leadsie_request_name, leadsie_request_url, state, next_attempt_at, source_message_id,
             received_at, resolved_at, created_at, updated_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         returning id",
    )
    .bind(r.store.as_str())
    .bind(r.code.expose())
    .bind(r.client_name)
    .bind(r.client_email)
    .bind(r.request_name)
    .bind(r.request_url)
    .bind(r.state.as_str())
    .bind(now)
    .bind(r.source_message_id)
    .bind(now)
    .bind(resolved)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let id = RequestId(id);
    add_event(
        conn,
        &Event {
            request_id: Some(id),
            message_id: Some(r.source_message_id),
            actor: "leadsie",
            event: "created",
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
    conn: &mut SqliteConnection,
    id: RequestId,
    name: Option<&str>,
    email: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "update access_requests set client_name = coalesce(client_name, ?), client_email = coalesce(client_email, ?)
         where id = ?",
    )
    .bind(name)
    .bind(email)
    .bind(id.0)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

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

/// Moves a request from `from` to `to` if it is still in `from` and the move
/// is allowed, and records the event. Returns false (and changes nothing)
/// when someone else moved it first or the move is not allowed.
pub async fn transition(
    conn: &mut SqliteConnection,
    id: RequestId,
    from: RequestState,
    to: RequestState,
    e: &Event<'_>,
    now: &str,
) -> Result<bool> {
    if !from.can_move_to(to) {
        return Ok(false);
    }
    let resolved = (!to.is_open()).then_some(now);
    let changed = sqlx::query(
        "update access_requests set state = ?, updated_at = ?, resolved_at = coalesce(?, resolved_at),
             lease_until = case when ? = 'filing' then lease_until else null end
         where id = ? and state = ?",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(resolved)
    .bind(to.as_str())
    .bind(id.0)
    .bind(from.as_str())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    record_move(conn, changed, id, from, to, e, now).await
}

/// Claims the next request due for filing, in one statement: a queued
/// request whose time has come, or one whose worker's lease ran out (the
/// worker died mid-filing). The claim bumps `attempts`, which then fences
/// the completion: a worker whose lease expired cannot overwrite the newer
/// attempt. Run it inside `BEGIN IMMEDIATE`.
pub async fn claim_next_request(
    conn: &mut SqliteConnection,
    now: &str,
    lease_until: &str,
) -> Result<Option<Request>> {
    let row = sqlx::query(
        "update access_requests
         set state = 'filing', attempts = attempts + 1, lease_until = ?1, updated_at = ?2
         where id = coalesce(
             -- A claim whose worker died: it has waited longest.
             (select id from access_requests where state = 'filing' and lease_until < ?2
                 order by lease_until limit 1),
             -- The request due soonest; the (state, next_attempt_at) index
             -- serves it in order, so a claim costs the same with a long queue.
             (select id from access_requests where state = 'queued' and next_attempt_at <= ?2
                 order by next_attempt_at, id limit 1),
             (select id from access_requests where state = 'queued' and next_attempt_at is null
                 order by id limit 1))
         returning id, store_domain, collaborator_code, client_name, client_email, leadsie_request_name,
             leadsie_request_url, state, attempts, next_attempt_at, last_error, source_message_id,
             received_at, filed_at, resolved_at, updated_at, null as grant_date",
    )
    .bind(lease_until)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(request_from_row))
}

/// Ends a filing attempt: moves the request from `filing` to `to` (requested,
/// notified or failed) if attempt `attempt` still holds it, and records the
/// event. Returns false when the attempt no longer holds it.
pub async fn finish_attempt(
    conn: &mut SqliteConnection,
    id: RequestId,
    attempt: i64,
    to: RequestState,
    error: Option<&str>,
    e: &Event<'_>,
    now: &str,
) -> Result<bool> {
    let filed = matches!(to, RequestState::Requested | RequestState::Notified).then_some(now);
    let resolved = (!to.is_open()).then_some(now);
    let changed = sqlx::query(
        "update access_requests
         set state = ?, lease_until = null, updated_at = ?, filed_at = coalesce(filed_at, ?),
             resolved_at = coalesce(?, resolved_at), last_error = coalesce(?, last_error)
         where id = ? and state = 'filing' and attempts = ?",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(filed)
    .bind(resolved)
    .bind(error)
    .bind(id.0)
    .bind(attempt)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    record_move(conn, changed, id, RequestState::Filing, to, e, now).await
}

/// Puts a request whose filing failed back in the queue until `at`, if
/// attempt `attempt` still holds it.
pub async fn retry_attempt_at(
    conn: &mut SqliteConnection,
    id: RequestId,
    attempt: i64,
    at: &str,
    error: &str,
    e: &Event<'_>,
    now: &str,
) -> Result<bool> {
    let changed = sqlx::query(
        "update access_requests
         set state = 'queued', lease_until = null, next_attempt_at = ?, last_error = ?, updated_at = ?
         where id = ? and state = 'filing' and attempts = ?",
    )
    .bind(at)
    .bind(error)
    .bind(now)
    .bind(id.0)
    .bind(attempt)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    record_move(
        conn,
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
/// before `filed_before`; with `unreminded`, only those without a reminder yet.
pub async fn waiting_since(
    conn: &mut SqliteConnection,
    filed_before: &str,
    unreminded: bool,
) -> Result<Vec<(RequestId, RequestState, String)>> {
    let rows = sqlx::query(
        "select r.id, r.state, r.store_domain from access_requests r
         where r.state in ('requested', 'notified') and r.filed_at <= ?
           and (? = 0 or not exists
                (select 1 from request_events e where e.request_id = r.id and e.event = 'reminder'))
         order by r.id",
    )
    .bind(filed_before)
    .bind(unreminded)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let state: String = r.get("state");
            Some((
                RequestId(r.get("id")),
                state.parse().ok()?,
                r.get("store_domain"),
            ))
        })
        .collect())
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

/// Makes a queued request due now (an operator's retry).
pub async fn make_due(conn: &mut SqliteConnection, id: RequestId, now: &str) -> Result<()> {
    sqlx::query("update access_requests set next_attempt_at = ?, updated_at = ? where id = ?")
        .bind(now)
        .bind(now)
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Records when a request was filed with Shopify, if not recorded yet.
pub async fn set_filed_at(conn: &mut SqliteConnection, id: RequestId, now: &str) -> Result<()> {
    sqlx::query("update access_requests set filed_at = coalesce(filed_at, ?) where id = ?")
        .bind(now)
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The second half of every state change: when the conditional UPDATE moved
/// the request (`changed` is 1), append its event; returns whether it moved.
async fn record_move(
    conn: &mut SqliteConnection,
    changed: u64,
    id: RequestId,
    from: RequestState,
    to: RequestState,
    e: &Event<'_>,
    now: &str,
) -> Result<bool> {
    if changed == 1 {
        let moved = Event {
            request_id: Some(id),
            from_state: Some(from),
            to_state: Some(to),
            ..*e
        };
        add_event(conn, &moved, now).await?;
    }
    Ok(changed == 1)
}

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

/// Drops raw bytes kept longer than the retention; headers and kind stay.
pub async fn purge_raw_before(pool: &SqlitePool, cutoff: &str) -> Result<u64> {
    Ok(
        sqlx::query("update messages set raw = null where raw is not null and received_at < ?")
            .bind(cutoff)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

/// A watched mailbox's checkpoint: its UIDVALIDITY (none before the first
/// sync) and the highest UID fully processed.
pub async fn mailbox_checkpoint(
    conn: &mut SqliteConnection,
    mailbox: &str,
) -> Result<Option<(Option<u32>, u32)>> {
    let row = sqlx::query("select uidvalidity, last_uid from mailbox_state where mailbox = ?")
        .bind(mailbox)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| {
        (
            r.get::<Option<i64>, _>(0).map(|v| v as u32),
            r.get::<i64, _>(1) as u32,
        )
    }))
}

/// Sets the checkpoint; call it in the transaction that stored the messages
/// it covers, so a crash can never skip a message or advance past one.
pub async fn set_checkpoint(
    conn: &mut SqliteConnection,
    mailbox: &str,
    uidvalidity: u32,
    last_uid: u32,
    now: &str,
) -> Result<()> {
    sqlx::query(
        "insert into mailbox_state (mailbox, uidvalidity, last_uid, connected, last_contact_at, state, updated_at)
         values (?1, ?2, ?3, 1, ?4, 'syncing', ?4)
         on conflict (mailbox) do update set uidvalidity = ?2, last_uid = ?3, connected = 1,
             last_contact_at = ?4, updated_at = ?4",
    )
    .bind(mailbox)
    .bind(uidvalidity)
    .bind(last_uid)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records that `uid` awaits its after-processing action; call it in the
/// transaction that stores the message, so no crash can forget the action.
pub async fn add_pending_action(
    conn: &mut SqliteConnection,
    mailbox: &str,
    uidvalidity: u32,
    uid: u32,
    now: &str,
) -> Result<()> {
    sqlx::query(
        "insert into after_processing_pending (mailbox, uidvalidity, uid, created_at, updated_at)
         values (?1, ?2, ?3, ?4, ?4)
         on conflict do nothing",
    )
    .bind(mailbox)
    .bind(i64::from(uidvalidity))
    .bind(i64::from(uid))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The actions of `mailbox` still to be done, as (UIDVALIDITY, UID), oldest
/// first. A read: the watcher asks on every sync.
pub async fn pending_actions(
    conn: &mut SqliteConnection,
    mailbox: &str,
) -> Result<Vec<(u32, u32)>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "select uidvalidity, uid from after_processing_pending
         where mailbox = ? order by uidvalidity, uid",
    )
    .bind(mailbox)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(v, u)| (v as u32, u as u32))
        .collect())
}

/// Forgets pending actions under another UIDVALIDITY: those UIDs name
/// nothing now, and the rescan records the messages again. Returns how many.
pub async fn drop_stale_actions(
    conn: &mut SqliteConnection,
    mailbox: &str,
    uidvalidity: u32,
) -> Result<u64> {
    let r =
        sqlx::query("delete from after_processing_pending where mailbox = ? and uidvalidity != ?")
            .bind(mailbox)
            .bind(i64::from(uidvalidity))
            .execute(&mut *conn)
            .await?;
    Ok(r.rows_affected())
}

/// Settles the actions on `uids`: deleted when done, else counted as one
/// more failed attempt with its error.
pub async fn settle_actions(
    conn: &mut SqliteConnection,
    mailbox: &str,
    uidvalidity: u32,
    uids: &[u32],
    error: Option<&str>,
    now: &str,
) -> Result<()> {
    let mut tx = conn.begin().await?;
    for uid in uids {
        let q = match error {
            None => sqlx::query(
                "delete from after_processing_pending
                 where mailbox = ?1 and uidvalidity = ?2 and uid = ?3",
            ),
            Some(_) => sqlx::query(
                "update after_processing_pending
                 set attempts = attempts + 1, last_error = ?4, updated_at = ?5
                 where mailbox = ?1 and uidvalidity = ?2 and uid = ?3",
            ),
        };
        q.bind(mailbox)
            .bind(i64::from(uidvalidity))
            .bind(i64::from(*uid))
            .bind(error)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// What the watcher of one mailbox is doing, for `mailbox_state`.
#[derive(Debug, Clone, Copy)]
pub struct WatcherHealth<'a> {
    /// connecting, syncing, idle, polling, backoff or stopped.
    pub state: &'static str,
    pub connected: bool,
    /// The server answered just now.
    pub contact: bool,
    /// Set when the watcher failed; kept until the next failure.
    pub error: Option<&'a str>,
    pub next_retry_at: Option<&'a str>,
    /// Count one more reconnect.
    pub reconnect: bool,
}

impl WatcherHealth<'static> {
    /// A state change with no error to report; a connected watcher has just
    /// heard from the server.
    pub fn without_error(state: &'static str, connected: bool) -> WatcherHealth<'static> {
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
    pool: &SqlitePool,
    mailbox: &str,
    h: &WatcherHealth<'_>,
    now: &str,
) -> Result<()> {
    sqlx::query(
        "insert into mailbox_state (mailbox, connected, last_contact_at, last_error, last_error_at, state,
             reconnects, next_retry_at, updated_at)
         values (?1, ?2, case when ?3 then ?8 end, ?4, case when ?4 is not null then ?8 end, ?5,
             case when ?6 then 1 else 0 end, ?7, ?8)
         on conflict (mailbox) do update set
             connected = ?2,
             last_contact_at = case when ?3 then ?8 else last_contact_at end,
             last_error = coalesce(?4, last_error),
             last_error_at = case when ?4 is not null then ?8 else last_error_at end,
             state = ?5,
             reconnects = reconnects + case when ?6 then 1 else 0 end,
             next_retry_at = ?7,
             updated_at = ?8",
    )
    .bind(mailbox)
    .bind(h.connected)
    .bind(h.contact)
    .bind(h.error)
    .bind(h.state)
    .bind(h.reconnect)
    .bind(h.next_retry_at)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// One row of `mailbox_state`, for `collabd status`.
#[derive(Debug, Clone, Serialize)]
pub struct MailboxRow {
    pub mailbox: String,
    pub state: String,
    pub connected: bool,
    pub uidvalidity: Option<i64>,
    pub last_uid: i64,
    pub last_contact_at: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    pub reconnects: i64,
    pub next_retry_at: Option<String>,
    /// Stored messages whose after-processing action is not done yet.
    pub actions_pending: i64,
    /// The newest error among them.
    pub action_error: Option<String>,
}

pub async fn mailbox_rows(pool: &SqlitePool) -> Result<Vec<MailboxRow>> {
    let rows = sqlx::query(
        "select mailbox, state, connected, uidvalidity, last_uid, last_contact_at, last_error, last_error_at,
             reconnects, next_retry_at,
             (select count(*) from after_processing_pending p
              where p.mailbox = m.mailbox) as actions_pending,
             (select last_error from after_processing_pending p
              where p.mailbox = m.mailbox and last_error is not null
              order by updated_at desc limit 1) as action_error
         from mailbox_state m order by mailbox",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| MailboxRow {
            mailbox: r.get("mailbox"),
            state: r.get("state"),
            connected: r.get::<i64, _>("connected") != 0,
            uidvalidity: r.get("uidvalidity"),
            last_uid: r.get("last_uid"),
            last_contact_at: r.get("last_contact_at"),
            last_error: r.get("last_error"),
            last_error_at: r.get("last_error_at"),
            reconnects: r.get("reconnects"),
            next_retry_at: r.get("next_retry_at"),
            actions_pending: r.get("actions_pending"),
            action_error: r.get("action_error"),
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
