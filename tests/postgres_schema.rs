//! The PostgreSQL schema (migrations/postgres/) has the same tables and
//! columns as the SQLite one after all its migrations, against a real
//! PostgreSQL 15 and a real SQLite file.

mod support;

use support::postgres::Postgres;

#[tokio::test]
async fn both_schemas_have_the_same_tables_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    collabd::store::Db::open(&path).await.unwrap();
    let sqlite = support::daemon::sql(
        &path,
        "select group_concat(t.name || '.' || c.name, ' ') from \
         (select name from sqlite_master where type in ('table', 'view') and name not like 'sqlite_%' and name != '_sqlx_migrations' order by name) t, \
         pragma_table_info(t.name) c",
    );
    let mut sqlite: Vec<&str> = sqlite.split(' ').collect();
    sqlite.sort_unstable();

    let pg = Postgres::start();
    pg.create_db("schema");
    let mut files: Vec<_> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
    files.sort();
    for f in files {
        pg.psql("schema", &std::fs::read_to_string(f).unwrap());
    }
    let pg_columns = pg.psql(
        "schema",
        "select string_agg(table_name || '.' || column_name, ' ') from information_schema.columns where table_schema = 'public'",
    );
    let mut pg_columns: Vec<&str> = pg_columns.split(' ').collect();
    pg_columns.sort_unstable();
    assert_eq!(pg_columns, sqlite);
}
