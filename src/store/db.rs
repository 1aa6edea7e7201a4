//! The database handle and its errors: [`Db`] (the pool over one SQLite
//! file, opened and migrated), [`Immediate`] (a transaction holding the
//! write lock), [`Error`] (named with what to do about it) and the store's
//! [`Result`].

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Sqlite, SqlitePool, Transaction};

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
            e => e,
        };
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

/// Connections in the pool: the worker's filings, the watcher, the HTTP
/// listener and the sweeps.
const MAX_CONNECTIONS: u32 = 6;
/// SQLite's page cache per connection, in KiB.
const CACHE_KIB: u32 = 512;

/// The database handle: a pool over one SQLite file in WAL mode.
#[derive(Debug, Clone)]
pub struct Db {
    pub pool: SqlitePool,
}

impl Db {
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
        Ok(Db { pool })
    }
}

/// A transaction begun with `BEGIN IMMEDIATE`: it takes SQLite's write
/// lock at once, so nothing it reads can change before it writes, and a
/// second writer waits its turn (the busy timeout) rather than failing
/// when its read would become a write. The store's functions that must
/// run inside one — a claim, every state change with its event — take it,
/// so they cannot be called outside one; it derefs to its connection for
/// everything else. Dropped without [`Immediate::commit`], it rolls back.
#[derive(Debug)]
pub struct Immediate<'c>(Transaction<'c, Sqlite>);

impl<'c> Immediate<'c> {
    /// Begins one on `conn`, waiting (up to the busy timeout) for the lock.
    pub async fn begin(conn: &'c mut SqliteConnection) -> Result<Immediate<'c>> {
        Ok(Immediate(conn.begin_with("BEGIN IMMEDIATE").await?))
    }

    pub async fn commit(self) -> Result<()> {
        Ok(self.0.commit().await?)
    }

    pub async fn rollback(self) -> Result<()> {
        Ok(self.0.rollback().await?)
    }
}

impl Deref for Immediate<'_> {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.0
    }
}

impl DerefMut for Immediate<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.0
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
