//! `collabd migrate-db`: a SQLite database copied whole into an empty
//! PostgreSQL one — every table, ids kept, in one transaction — and the
//! rows of each table counted on both sides afterwards.

use futures_util::TryStreamExt;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{Connection, Row};

use super::db::{Db, Error, Pool, Result};

/// Every table, parents before the tables that refer to them.
pub const TABLES: &[&str] = &[
    "messages",
    "access_requests",
    "request_events",
    "mailbox_state",
    "announcement_cursor",
    "after_processing_pending",
    "deferred_message",
    "browser_session",
    "browser_submission",
    "browser_sync",
    "web_sessions",
    "sign_in_failures",
];

/// Tables whose rows are what collabd received and did: a target with any
/// of them is not empty.
const HISTORY: &[&str] = &[
    "messages",
    "access_requests",
    "request_events",
    "mailbox_state",
    "deferred_message",
    "browser_submission",
];

/// How many rows one table had, and how many the target has now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub table: &'static str,
    pub source: i64,
    pub target: i64,
}

/// Why a copy was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(
        "the target database is not empty: its table {table} holds {rows} row(s); migrate-db copies into an empty database only (create one with createdb, and point --to at it)"
    )]
    NotEmpty { table: &'static str, rows: i64 },
    #[error("copy from SQLite to PostgreSQL only: {0}")]
    Engines(&'static str),
    #[error("table {table}: {source}")]
    Table { table: &'static str, source: Error },
    #[error(
        "the counts differ after the copy ({0}); nothing was committed: the target is as it was"
    )]
    Counts(String),
    #[error(transparent)]
    Db(#[from] Error),
}

/// One value of a row, in the type the PostgreSQL column has.
enum Value {
    Int(Option<i64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

/// Copies every table of `from` (SQLite) into `to` (PostgreSQL, empty, its
/// schema made by [`Db::connect`]) in one transaction, keeps the ids and
/// moves each identity past the largest, then checks each table's count
/// on both sides before committing.
pub async fn copy_sqlite_to_postgres(
    from: &Db,
    to: &Db,
) -> std::result::Result<Vec<Copied>, CopyError> {
    let Pool::Sqlite(source) = &from.pool else {
        return Err(CopyError::Engines("the source is not a SQLite file"));
    };
    let Pool::Postgres(target) = &to.pool else {
        return Err(CopyError::Engines(
            "the target is not a PostgreSQL database",
        ));
    };
    let mut conn = target.acquire().await.map_err(Error::from)?;
    for &table in HISTORY {
        let rows: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(&mut *conn)
            .await
            .map_err(Error::from)?;
        if rows > 0 {
            return Err(CopyError::NotEmpty { table, rows });
        }
    }
    // One read of the source, holding its write lock throughout: every
    // table as of one moment, and no writer (a daemon left running) can
    // add a row the copy would miss.
    let mut read = source.acquire().await.map_err(Error::from)?;
    let mut snapshot = read
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(Error::from)?;
    let mut tx = conn.begin().await.map_err(Error::from)?;
    let mut copied = Vec::new();
    for &table in TABLES {
        let wrap = |source: Error| CopyError::Table { table, source };
        let rows = copy_table(&mut snapshot, &mut tx, table)
            .await
            .map_err(wrap)?;
        let target: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| wrap(e.into()))?;
        copied.push(Copied {
            table,
            source: rows,
            target,
        });
    }
    let differ: Vec<String> = copied
        .iter()
        .filter(|c| c.source != c.target)
        .map(|c| {
            format!(
                "{}: {} in SQLite, {} in PostgreSQL",
                c.table, c.source, c.target
            )
        })
        .collect();
    if !differ.is_empty() {
        tx.rollback().await.map_err(Error::from)?;
        return Err(CopyError::Counts(differ.join("; ")));
    }
    tx.commit().await.map_err(Error::from)?;
    Ok(copied)
}

/// Copies one table, a row at a time (raw mail is not all held in
/// memory); returns how many rows the source has.
async fn copy_table(
    source: &mut SqliteConnection,
    tx: &mut PgConnection,
    table: &str,
) -> Result<i64> {
    let columns: Vec<(String, String)> = sqlx::query_as(
        "select column_name::text, data_type::text from information_schema.columns
         where table_schema = current_schema() and table_name = $1 order by ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *tx)
    .await?;
    let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
    let list = names.join(", ");
    // A table the migrations seeded with its one row (the cursors, the
    // browser's session) takes the source's row instead.
    sqlx::query(&format!("delete from {table}"))
        .execute(&mut *tx)
        .await?;
    let marks: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    let insert = format!(
        "insert into {table} ({list}) overriding system value values ({})",
        marks.join(", ")
    );
    let select = format!("select {list} from {table}");
    let mut rows = sqlx::query(&select).fetch(&mut *source);
    let mut copied = 0i64;
    while let Some(row) = rows.try_next().await? {
        insert_row(tx, &insert, &columns, &row).await?;
        copied += 1;
    }
    drop(rows);
    if names.contains(&"id") {
        let identity: Option<String> =
            sqlx::query_scalar("select pg_get_serial_sequence($1, 'id')")
                .bind(table)
                .fetch_one(&mut *tx)
                .await?;
        if let Some(sequence) = identity {
            sqlx::query(&format!(
                "select setval($1, coalesce((select max(id) from {table}), 0) + 1, false)"
            ))
            .bind(sequence)
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(copied)
}

/// Inserts one source row with each value in its column's type.
async fn insert_row(
    tx: &mut PgConnection,
    insert: &str,
    columns: &[(String, String)],
    row: &SqliteRow,
) -> Result<()> {
    let mut q = sqlx::query(insert);
    for (i, (name, kind)) in columns.iter().enumerate() {
        let value = read(row, i, kind).map_err(|source| Error::Decode {
            column: name.clone(),
            source,
        })?;
        q = match value {
            Value::Int(v) => q.bind(v),
            Value::Bool(v) => q.bind(v),
            Value::Text(v) => q.bind(v),
            Value::Bytes(v) => q.bind(v),
        };
    }
    q.execute(&mut *tx).await?;
    Ok(())
}

/// Column `i` of a SQLite row as the PostgreSQL column's type wants it.
fn read(
    row: &SqliteRow,
    i: usize,
    kind: &str,
) -> std::result::Result<Value, sqlx::error::BoxDynError> {
    Ok(match kind {
        "bigint" | "integer" | "smallint" => Value::Int(row.try_get(i)?),
        "boolean" => Value::Bool(row.try_get(i)?),
        "bytea" => Value::Bytes(row.try_get(i)?),
        "text" | "character varying" => Value::Text(row.try_get(i)?),
        other => {
            return Err(format!("a column of type {other}, which migrate-db does not know").into());
        }
    })
}
