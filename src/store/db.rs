//! The database handle and its errors: [`Db`] (the pool over one SQLite
//! file or one PostgreSQL database, opened and migrated), [`Conn`] (a
//! connection from it), [`Immediate`] (a transaction holding the write
//! lock), [`Exec`] (anything a statement runs on), [`Error`] (named with
//! what to do about it) and the store's [`Result`].
//!
//! Every statement is written once and run on whichever engine the
//! connection is: [`on!`](crate::store::on) expands the same builder in one
//! arm per engine, each type-checked for its own engine.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Postgres, Sqlite, SqlitePool, Transaction};

use crate::config::DatabasePlace;
use crate::config::database::{hide_url_passwords, without_password};
use crate::model::RequestId;

/// A database error, named with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database cannot be opened; `reason` says why in words, once.
    #[error("database {path}: {reason}")]
    Open { path: String, reason: String },
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
    /// The database server is down, restarting or unreachable; what was
    /// being written was not, and is tried again.
    #[error(
        "the database server cannot be reached ({0}); collabd keeps what it has and tries again: check that the database server is running and reachable"
    )]
    Unreachable(sqlx::Error),
    #[error("no request with id {0}")]
    NoSuchRequest(RequestId),
    /// A column holds a value this version cannot read: a state, event or
    /// actor it does not know, or a time, store or code not in the one form
    /// collabd writes.
    #[error(
        "the database column {column} holds a value this collabd cannot read ({source}); was the database written by a newer version, or edited by hand?"
    )]
    Decode {
        column: String,
        source: sqlx::error::BoxDynError,
    },
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        let e = match e {
            sqlx::Error::ColumnDecode { index, source } => {
                return Error::Decode {
                    column: index,
                    source,
                };
            }
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => return Error::Unreachable(e),
            e => e,
        };
        let Some(d) = e.as_database_error() else {
            return Error::Sql(e);
        };
        if let Some(pg) = d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
            // SQLSTATE: 53100 disk_full, 53xxx insufficient resources;
            // 55P03 lock_not_available, 40P01 deadlock, 57P01–57P03 the
            // server shutting down or not yet accepting connections.
            return match pg.code() {
                "53100" => Error::DiskFull(e),
                "55P03" | "40P01" => Error::Busy(e),
                "57P01" | "57P02" | "57P03" => Error::Unreachable(e),
                _ => Error::Sql(e),
            };
        }
        // SQLite result codes: 13 SQLITE_FULL, 5 SQLITE_BUSY, 6 SQLITE_LOCKED.
        match d
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .map(|c| c & 0xff)
        {
            Some(13) => Error::DiskFull(e),
            Some(5) | Some(6) => Error::Busy(e),
            _ => Error::Sql(e),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The database handle: a pool over one SQLite file in WAL mode, or over
/// one PostgreSQL database shared by several nodes.
#[derive(Debug, Clone)]
pub struct Db {
    pub pool: Pool,
}

/// A pool of connections to one engine.
#[derive(Debug, Clone)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Pool {
    /// A connection from the pool, waiting for one to be free.
    pub async fn acquire(&self) -> Result<Conn> {
        Ok(match self {
            Pool::Sqlite(p) => Conn::Sqlite(p.acquire().await?),
            Pool::Postgres(p) => Conn::Postgres(p.acquire().await?),
        })
    }

    pub async fn close(&self) {
        match self {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }

    /// The SQLite pool, when the database is a SQLite file (tests read
    /// and write it directly).
    pub fn sqlite(&self) -> Option<&SqlitePool> {
        match self {
            Pool::Sqlite(p) => Some(p),
            Pool::Postgres(_) => None,
        }
    }

    /// The PostgreSQL pool, when the database is one.
    pub fn postgres(&self) -> Option<&PgPool> {
        match self {
            Pool::Postgres(p) => Some(p),
            Pool::Sqlite(_) => None,
        }
    }
}

/// A connection taken from a [`Pool`], returned to it when dropped.
#[derive(Debug)]
pub enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

/// One connection of either engine, borrowed for a statement.
#[derive(Debug)]
pub enum Link<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl Link<'_> {
    pub fn is_postgres(&self) -> bool {
        matches!(self, Link::Postgres(_))
    }
}

/// Anything a statement runs on: a pooled [`Conn`], an [`Immediate`]
/// transaction, or a bare connection of either engine.
pub trait Exec: Send {
    fn link(&mut self) -> Link<'_>;
}

impl Exec for Conn {
    fn link(&mut self) -> Link<'_> {
        match self {
            Conn::Sqlite(c) => Link::Sqlite(c),
            Conn::Postgres(c) => Link::Postgres(c),
        }
    }
}

impl Exec for PoolConnection<Sqlite> {
    fn link(&mut self) -> Link<'_> {
        Link::Sqlite(self)
    }
}

impl Exec for PoolConnection<Postgres> {
    fn link(&mut self) -> Link<'_> {
        Link::Postgres(self)
    }
}

impl Exec for SqliteConnection {
    fn link(&mut self) -> Link<'_> {
        Link::Sqlite(self)
    }
}

impl Exec for PgConnection {
    fn link(&mut self) -> Link<'_> {
        Link::Postgres(self)
    }
}

impl<T: Exec + ?Sized> Exec for &mut T {
    fn link(&mut self) -> Link<'_> {
        (**self).link()
    }
}

/// Runs the same statement builder on whichever engine `$conn` (an
/// [`Exec`]) is: `on!(conn, |c| sqlx::query(..).execute(&mut *c).await)`.
/// Each arm is type-checked for its own engine, so every bound value and
/// decoded column must be readable and writable by both.
#[macro_export]
macro_rules! on {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $crate::store::db::Exec::link($conn) {
            $crate::store::db::Link::Sqlite($c) => $body,
            $crate::store::db::Link::Postgres($c) => $body,
        }
    };
}
pub use crate::on;

/// Connections in a SQLite pool: the worker's filings, the watcher, the
/// HTTP listener and the sweeps.
const MAX_CONNECTIONS: u32 = 6;
/// Connections in a PostgreSQL pool: as many, and a watcher's and the
/// browser filer's lock sessions are apart from it.
const MAX_PG_CONNECTIONS: u32 = 8;
/// How long a PostgreSQL connection may take to open (and a pooled one to
/// be handed out) before the attempt counts as failed.
const CONNECT_WITHIN: Duration = Duration::from_secs(10);
/// SQLite's page cache per connection, in KiB.
const CACHE_KIB: u32 = 512;
/// The advisory lock every write transaction on PostgreSQL takes first,
/// so writers queue one at a time across nodes, as SQLite's `BEGIN
/// IMMEDIATE` makes them on one host (`cd` `01` in ASCII, then "write").
pub const WRITE_LOCK: i64 = 0x6364_0001;

impl Db {
    /// Opens the database wherever it is.
    pub async fn open_at(place: &DatabasePlace) -> Result<Db> {
        match place {
            DatabasePlace::File(path) => Db::open(path).await,
            DatabasePlace::Server(s) => Db::connect(&s.url, s.password.as_ref()).await,
        }
    }

    /// Connects to (and migrates) a PostgreSQL database. The password, when
    /// given apart, is never part of what is shown.
    pub async fn connect(url: &str, password: Option<&crate::secret::Secret>) -> Result<Db> {
        let shown = without_password(url);
        let refused = |reason: String| Error::Open {
            path: shown.clone(),
            reason,
        };
        let mut options = PgConnectOptions::from_str(url).map_err(|e| {
            refused(format!(
                "not a PostgreSQL URL ({}); write it as postgres://user@host:5432/database",
                hide_url_passwords(&e.to_string(), url)
            ))
        })?;
        if let Some(p) = password {
            options = options.password(&p.expose_str());
        }
        options = options
            .application_name("collabd")
            .statement_cache_capacity(64)
            // A node that vanishes (power, a cut network) sends nothing:
            // without these the server would keep its sessions, and a
            // transaction holding the write lock, until the kernel gives
            // up on the connection hours later, and every node would wait
            // behind it. With them the server drops a silent node's
            // sessions in about 25 seconds, unanswered data after 30, and
            // a transaction left idle (its node stuck or gone) after 60.
            .options([
                ("tcp_keepalives_idle", "10"),
                ("tcp_keepalives_interval", "5"),
                ("tcp_keepalives_count", "3"),
                ("tcp_user_timeout", "30000"),
                ("idle_in_transaction_session_timeout", "60000"),
            ]);
        // One connection first, for the server's own answer: a pool retries
        // a refused connection until its timeout, and then says only that.
        let first = tokio::time::timeout(CONNECT_WITHIN, PgConnection::connect_with(&options))
            .await
            .unwrap_or(Err(sqlx::Error::PoolTimedOut))
            .map_err(|e| refused(server_words(&e, url)))?;
        let _ = first.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_PG_CONNECTIONS)
            .acquire_timeout(CONNECT_WITHIN)
            .connect_with(options)
            .await
            .map_err(|e| refused(server_words(&e, url)))?;
        if let Err(source) = sqlx::migrate!("./migrations/postgres").run(&pool).await {
            return Err(Error::Migrate {
                path: shown,
                source,
            });
        }
        Ok(Db {
            pool: Pool::Postgres(pool),
        })
    }

    /// Opens the database in `settings`.
    pub async fn open_configured(settings: &crate::config::Settings) -> Result<Db> {
        Db::open_at(&settings.database_place()).await
    }

    /// Opens (creating if missing) and migrates the database at `path`.
    /// A failure to open says why in words: no directory, a directory in
    /// the file's place, or who may not read or write what.
    pub async fn open(path: &Path) -> Result<Db> {
        let shown = path.display().to_string();
        let refused = |reason: String| Error::Open {
            path: shown.clone(),
            reason,
        };
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !dir.is_dir() {
            return Err(refused(format!(
                "directory {} does not exist; create it or set [database] path",
                dir.display()
            )));
        }
        if path.is_dir() {
            return Err(refused(format!(
                "is a directory; set [database] path (or --db) to a file, such as {}",
                path.join("collabd.db").display()
            )));
        }
        create_private(path).map_err(|e| refused(cannot_create(dir, &e)))?;
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|e| refused(e.to_string()))?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // Each pooled connection keeps its own page cache, 2 MiB by
            // SQLite's default, which fills as the database grows (raw mail
            // is kept): up to 12 MiB of a daemon's memory over days. Every
            // query here is an index lookup; 512 KiB each bounds the pool
            // at 3 MiB.
            .pragma("cache_size", format!("-{CACHE_KIB}"))
            // sqlx keeps 100 prepared statements per connection by default;
            // collabd has about 60 distinct ones.
            .statement_cache_capacity(64);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            // A local file needs no liveness ping before each use; the ping is
            // a round trip to sqlx's worker thread on every transaction.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| refused(unopenable(path, dir).unwrap_or_else(|| sqlite_words(&e))))?;
        // SQLite opens a file it may not write read-only (which `status`
        // can use) and fails only at a write: a migration.
        if let Err(source) = sqlx::migrate!("./migrations").run(&pool).await {
            return Err(match unopenable(path, dir) {
                Some(reason) => refused(reason),
                None => Error::Migrate {
                    path: shown,
                    source,
                },
            });
        }
        Ok(Db {
            pool: Pool::Sqlite(pool),
        })
    }
}

/// What went wrong reaching a PostgreSQL server, in words, without the
/// URL's password.
fn server_words(e: &sqlx::Error, url: &str) -> String {
    let words = match e {
        sqlx::Error::Io(io) => format!(
            "cannot reach the server: {} (is PostgreSQL running, and is [database] url's host and port right?)",
            crate::fs_error::reason(io)
        ),
        sqlx::Error::PoolTimedOut => {
            "the server did not answer within 10 seconds (is [database] url's host right, and no firewall in the way?)".to_owned()
        }
        sqlx::Error::Tls(t) => format!("TLS with the server failed: {t}"),
        e => match e.as_database_error() {
            Some(d) => match d.code().as_deref() {
                Some("28P01") | Some("28000") => format!(
                    "{} (check the user in [database] url, and the password in [database] password_file or the credential database-password)",
                    d.message()
                ),
                Some("3D000") => format!("{} (create it with createdb, or fix [database] url)", d.message()),
                Some(code) => format!("{} (PostgreSQL error {code})", d.message()),
                None => d.message().to_owned(),
            },
            None => e.to_string(),
        },
    };
    hide_url_passwords(&words, url)
}

/// A transaction that holds the write lock from its first statement: on
/// SQLite one begun with `BEGIN IMMEDIATE`, which takes the file's write
/// lock at once; on PostgreSQL one whose first statement takes the
/// [`WRITE_LOCK`] advisory lock, held until it ends, on every node alike.
/// Nothing it reads can change before it writes, and a second writer waits
/// its turn rather than failing when its read would become a write. The
/// store's functions that must run inside one — a claim, every state change
/// with its event — take it, so they cannot be called outside one; it is an
/// [`Exec`] for everything else. Dropped without [`Immediate::commit`], it
/// rolls back.
#[derive(Debug)]
pub enum Immediate<'c> {
    Sqlite(Transaction<'c, Sqlite>),
    Postgres(Transaction<'c, Postgres>),
}

impl<'c> Immediate<'c> {
    /// Begins one on `conn`, waiting (on SQLite up to the busy timeout) for
    /// the lock.
    pub async fn begin<E: Exec + ?Sized>(conn: &'c mut E) -> Result<Immediate<'c>> {
        Ok(match conn.link() {
            Link::Sqlite(c) => Immediate::Sqlite(c.begin_with("BEGIN IMMEDIATE").await?),
            Link::Postgres(c) => {
                // Each statement sees what committed before it, as the
                // store's statements expect, whatever the server's default.
                let mut tx = c.begin_with("BEGIN ISOLATION LEVEL READ COMMITTED").await?;
                sqlx::query("select pg_advisory_xact_lock($1)")
                    .bind(WRITE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                Immediate::Postgres(tx)
            }
        })
    }

    pub async fn commit(self) -> Result<()> {
        match self {
            Immediate::Sqlite(t) => Ok(t.commit().await?),
            Immediate::Postgres(t) => Ok(t.commit().await?),
        }
    }

    pub async fn rollback(self) -> Result<()> {
        match self {
            Immediate::Sqlite(t) => Ok(t.rollback().await?),
            Immediate::Postgres(t) => Ok(t.rollback().await?),
        }
    }
}

impl Exec for Immediate<'_> {
    fn link(&mut self) -> Link<'_> {
        match self {
            Immediate::Sqlite(t) => Link::Sqlite(t),
            Immediate::Postgres(t) => Link::Postgres(t),
        }
    }
}

/// Why the database file could not be created in `dir`.
fn cannot_create(dir: &Path, e: &std::io::Error) -> String {
    let reason = crate::fs_error::reason(e);
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        format!(
            "cannot create it: {reason} (the directory {} is not writable by {})",
            dir.display(),
            crate::fs_error::user()
        )
    } else {
        format!("cannot create it: {reason}")
    }
}

/// Why SQLite could not open or write the database, when the file system
/// can say: the file (or its `-wal` or `-shm` file) is not readable and
/// writable, or the directory where SQLite keeps those is not writable.
fn unopenable(path: &Path, dir: &Path) -> Option<String> {
    use crate::fs_error::{reason, user};
    if let Err(e) = open_rw(path) {
        return Some(match e.kind() {
            std::io::ErrorKind::PermissionDenied => not_yours(path, "it"),
            _ => reason(&e),
        });
    }
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = std::path::PathBuf::from(name);
        match open_rw(&file) {
            Ok(()) => {}
            // SQLite creates them when it needs them.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Some(not_yours(&file, &file.display().to_string()));
            }
            Err(e) => return Some(format!("{}: {}", file.display(), reason(&e))),
        }
    }
    if !crate::fs_error::can_create_in(dir) {
        return Some(format!(
            "permission denied: the directory {} is not writable by {} (SQLite keeps the database's -wal and -shm files beside it)",
            dir.display(),
            user()
        ));
    }
    None
}

fn open_rw(file: &Path) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(file)
        .map(drop)
}

/// `permission denied: user X cannot read and write {shown} (owned by Y, mode 0600)`.
fn not_yours(file: &Path, shown: &str) -> String {
    let whose = crate::fs_error::owner_and_mode(file)
        .map(|o| format!(" ({o})"))
        .unwrap_or_default();
    format!(
        "permission denied: {} cannot read and write {shown}{whose}",
        crate::fs_error::user()
    )
}

/// SQLite's own words for an error, with its code, said once.
fn sqlite_words(e: &sqlx::Error) -> String {
    match e.as_database_error() {
        Some(d) => match d.code() {
            Some(code) => format!("{} (SQLite error {code})", d.message()),
            None => d.message().to_owned(),
        },
        None => e.to_string(),
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
