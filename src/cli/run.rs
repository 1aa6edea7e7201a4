//! Runs one subcommand: settings loaded in one place, each command a call
//! on the library, its result printed.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use tokio_util::sync::CancellationToken;

use crate::config::{ConfigError, Settings};
use crate::model::{RequestId, SessionState};
use crate::operator::{self, Action, operator_name};
use crate::render;
use crate::store::{self, BrowserLedger, Db};

use super::args::{BrowserAction, Cli, Command, Who};
use super::mail::{ingest, parse};

/// The settings every subcommand uses: the file (and its environment
/// overrides), with `--db` (or COLLABD_DB) in place of `[database] path`.
/// The one place the database path is decided.
pub fn load_settings(cli: &Cli) -> Result<Settings, ConfigError> {
    load_settings_from(cli.config.as_deref(), cli.db.as_deref())
}

/// [`load_settings`] from the configuration file and `--db` alone: what
/// a reload reads again.
pub fn load_settings_from(
    config: Option<&Path>,
    db: Option<&Path>,
) -> Result<Settings, ConfigError> {
    let mut settings = Settings::load(config)?;
    if let Some(db) = db {
        // --db names a SQLite file, whatever [database] says.
        settings.database_path = db.to_owned();
        settings.database_server = None;
    }
    Ok(settings)
}

/// Runs one command; the error (if any) is printed by `main`. `shutdown`
/// stops `collabd run` (`main` cancels it on SIGTERM or SIGINT) and
/// `reload` reloads it (`main` feeds it SIGHUP); the other commands finish
/// on their own.
pub async fn run(
    cli: Cli,
    shutdown: CancellationToken,
    reload: Option<crate::reload::Reload>,
) -> Result<ExitCode> {
    if let Command::HttpUser { name } = &cli.command {
        return http_user(name);
    }
    if let Command::GenerateAssets { dir } = &cli.command {
        for file in crate::assets::write(dir)? {
            println!("{}", file.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    // Only these use a secret: the others read the database or judge mail,
    // and must work for the collabd user and for root without the
    // service's credentials.
    if !matches!(
        cli.command,
        Command::Run | Command::CheckConfig | Command::Browser { .. } | Command::MigrateDb { .. }
    ) {
        crate::secret::not_needed();
    }
    let loaded = load_settings(&cli);
    if let Command::CheckConfig = cli.command {
        // It reports a bad file as one of its checks.
        return Ok(crate::check::run(cli.config.as_deref(), loaded).await);
    }
    let settings = loaded?;
    match cli.command {
        Command::Parse { files } => parse(&settings, files).await,
        Command::Ingest {
            webhook,
            received,
            files,
        } => ingest(&settings, &files, webhook, received).await,
        Command::Rejudge { since, by, ids } => rejudge(&settings, since, by.as_deref(), &ids).await,
        Command::MigrateDb { to, password_file } => {
            migrate_db(&settings, &to, password_file.as_deref()).await
        }
        Command::Status { state, json } => {
            let db = open_existing(&settings).await?;
            crate::cli::report::print_status(&db, state, json, &mut std::io::stdout().lock())
                .await?;
            if !json && let Some(what) = crate::filer::browser::health(&db).await? {
                println!("{what}: run `collabd browser login`");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { id, json } => {
            let db = open_existing(&settings).await?;
            crate::cli::report::print_request(&db, id, json, &mut std::io::stdout().lock()).await?;
            Ok(ExitCode::SUCCESS)
        }
        // A demo never writes into the database COLLABD_DB names: that is
        // most likely the real one.
        Command::Demo => {
            let keep = cli.db.as_deref().filter(|_| !cli.db_from_env);
            crate::demo::run(&settings, keep).await
        }
        Command::Run => crate::daemon::run_with(settings, shutdown, reload)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::CheckConfig | Command::HttpUser { .. } | Command::GenerateAssets { .. } => {
            unreachable!("handled before the settings are used")
        }
        Command::Mark { id, state, who } => act(&settings, id, Action::Mark(state), &who).await,
        Command::Approve { id, who } => act(&settings, id, Action::Approve, &who).await,
        Command::Cancel { id, who } => act(&settings, id, Action::Cancel, &who).await,
        Command::Retry { id, who } => act(&settings, id, Action::Retry, &who).await,
        Command::Browser { action } => browser(&settings, action).await,
    }
}

/// `collabd http-user NAME`: the password is typed at the terminal without
/// echo, or is the first line of piped stdin (a password manager); the
/// line goes to stdout.
fn http_user(name: &str) -> Result<ExitCode> {
    let password = crate::tty::read_password(&format!("Password for {name}: "))
        .map_err(|e| anyhow::anyhow!("cannot read the password: {e}"))?;
    let line = crate::users::users_file_line(name, &password)
        .map_err(|e| anyhow::anyhow!("http-user {name}: {e}"))?;
    writeln!(std::io::stdout().lock(), "{line}")?;
    Ok(ExitCode::SUCCESS)
}

async fn browser(settings: &Settings, action: BrowserAction) -> Result<ExitCode> {
    let Some(s) = settings.worker.browser.clone() else {
        return Err(crate::config::ConfigProblem(anyhow::anyhow!(
            "config setting worker.browser: there is no [worker.browser] table; the browser filer needs one with org_id"
        ))
        .into());
    };
    let session = crate::browser::session::Session::new(
        s.clone(),
        crate::filer::notify::announcer(&settings.worker).map_err(crate::config::ConfigProblem)?,
    );
    match action {
        BrowserAction::Login { remote, port } => {
            // What the check after the sign-in sees is recorded, and makes
            // the requests that waited for it due; a database that cannot
            // be opened only loses that.
            let db = Db::open_configured(settings)
                .await
                .inspect_err(|e| {
                    eprintln!("collabd: the session's state will not be recorded: {e}")
                })
                .ok();
            let mode = crate::browser::login::Mode::detect(port, remote);
            let wait = crate::browser::login::LOGIN_WAIT;
            crate::browser::login::login(&s, &session, db.as_ref(), mode, wait).await?;
        }
        BrowserAction::Sync => {
            let db = Db::open_configured(settings).await?;
            let changes = session.sync_once(&db).await;
            session.shutdown().await;
            let changes = changes?;
            for (id, from, to) in &changes {
                println!("request #{id}: {from} → {to}");
            }
            println!("{} change(s) from the Collaborations list", changes.len());
        }
        BrowserAction::Status => {
            let db = open_existing(settings).await?;
            let session = db.browser_session().await?;
            match session.state {
                SessionState::LoginNeeded => println!(
                    "browser login needed since {} ({}); run `collabd browser login`",
                    session.since,
                    session.detail.unwrap_or_default()
                ),
                SessionState::SignedIn => {
                    println!("the dashboard session works (since {})", session.since)
                }
                SessionState::Unknown => {
                    println!("the browser filer has not used the dashboard yet")
                }
            }
            match crate::browser::profile_holder(&s.state_dir) {
                Some(holder) => println!(
                    "the browser profile is held by {}",
                    crate::render::line(&holder)
                ),
                None => println!("no collabd process holds the browser profile now"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn act(settings: &Settings, id: RequestId, action: Action, who: &Who) -> Result<ExitCode> {
    let db = open_existing(settings).await?;
    let mut conn = db.pool.acquire().await?;
    let actor = operator_name(who.by.as_deref());
    let state = operator::apply(
        &mut conn,
        id,
        action,
        &actor,
        who.note.as_deref(),
        chrono::Utc::now(),
    )
    .await?;
    println!("request #{id} is now {state} (by {actor})");
    Ok(ExitCode::SUCCESS)
}

/// `collabd migrate-db`: the SQLite database copied into an empty
/// PostgreSQL one, each table's count printed from both sides.
async fn migrate_db(
    settings: &Settings,
    to: &str,
    password_file: Option<&Path>,
) -> Result<ExitCode> {
    let path = &settings.database_path;
    if !path.exists() {
        anyhow::bail!(
            "the SQLite database {} does not exist; name the one to copy with --db FILE",
            path.display()
        );
    }
    let to = crate::config::database::server(to.trim().to_owned(), password_file).map_err(|e| {
        anyhow::anyhow!(
            "--to: {}",
            e.to_string().replacen("database.url", "the URL", 1)
        )
    })?;
    let from = Db::open(path).await?;
    let target = Db::connect(&to.url, to.password.as_ref()).await?;
    let copied = store::copy::copy_sqlite_to_postgres(&from, &target).await?;
    println!(
        "copied {} into {}:",
        path.display(),
        crate::config::database::without_password(&to.url)
    );
    let mut total = 0;
    for c in &copied {
        println!(
            "  {:<26} {:>9} rows, {:>9} in PostgreSQL",
            c.table, c.source, c.target
        );
        total += c.target;
    }
    println!(
        "every table's count matches ({total} rows in all). Next: set [database] url = \"{}\" (and remove path), then start collabd",
        crate::config::database::without_password(&to.url)
    );
    Ok(ExitCode::SUCCESS)
}

/// Status and show read an existing database; a typo'd path should not
/// silently create an empty one.
async fn open_existing(settings: &Settings) -> Result<Db> {
    if settings.database_server.is_some() {
        return Ok(Db::open_configured(settings).await?);
    }
    let path = &settings.database_path;
    if !path.exists() {
        anyhow::bail!(
            "database {} does not exist; pass --db FILE or set [database] path (`collabd ingest` creates it)",
            path.display()
        );
    }
    Ok(Db::open(path).await?)
}

/// `collabd rejudge`: the messages named, or received since `since`,
/// judged again; one line each, then a count. Exit 1 when a message named
/// by its id could not be judged again.
async fn rejudge(
    settings: &Settings,
    since: Option<chrono::DateTime<chrono::Utc>>,
    by: Option<&str>,
    ids: &[i64],
) -> Result<ExitCode> {
    use crate::rejudge::Rejudged;
    let db = open_existing(settings).await?;
    let ingestor = crate::ingest::Ingestor::from_settings(settings, db)?;
    let mut conn = ingestor.db.pool.acquire().await?;
    let mut chosen = ids.to_vec();
    let mut without_bytes = 0;
    if let Some(since) = since {
        let (found, others) = store::message_ids_since(&mut conn, &since.into()).await?;
        without_bytes = others;
        for id in found {
            if !chosen.contains(&id) {
                chosen.push(id);
            }
        }
    }
    let actor = operator_name(by);
    let (mut changed, mut same, mut not) = (0, 0, 0);
    for id in chosen {
        let line = match ingestor
            .rejudge_stored(&mut conn, id, &actor, chrono::Utc::now())
            .await?
        {
            Rejudged::Missing => {
                not += 1;
                format!("message #{id}: no such message")
            }
            Rejudged::Webhook => {
                same += 1;
                format!(
                    "message #{id}: a Leadsie webhook delivery, read by its payload; nothing to judge again"
                )
            }
            Rejudged::NoBytes => {
                not += 1;
                format!(
                    "message #{id}: its bytes are not kept (mail not from Leadsie or Shopify stays in the mailbox; or past [database] raw_retention_days, or over max_raw_bytes): save it from the mail client and `collabd ingest` the file, then judge it again"
                )
            }
            Rejudged::Deferred(why) => {
                not += 1;
                format!(
                    "message #{id}: not judged, its DKIM check needs DNS ({why}); try again later"
                )
            }
            Rejudged::Unchanged(kind) => {
                same += 1;
                format!("message #{id}: still {kind}")
            }
            Rejudged::Kept {
                kind,
                now,
                reason,
                open,
            } => {
                same += 1;
                let mut line = format!(
                    "message #{id}: stays {kind}; under the settings of now it would be {now}{}",
                    reason.map(|r| format!(" ({r})")).unwrap_or_default()
                );
                for (request, state) in open {
                    line.push_str(&format!(
                        "; request #{request} came from it and is {state}: `collabd cancel {request}` if it should not be filed"
                    ));
                }
                line
            }
            Rejudged::Changed { was, report } => {
                changed += 1;
                format!("{}; it was {was}", render::report::what_it_did(&report))
            }
        };
        println!("{}", render::line(&line));
    }
    let mut summary = format!("{changed} changed, {same} unchanged");
    if not > 0 {
        summary.push_str(&format!(", {not} could not be judged again"));
    }
    if without_bytes > 0 {
        summary.push_str(&format!(
            "; {without_bytes} other message(s) in that time have no bytes here (webhook deliveries, mail left in the mailbox, or past raw_retention_days) and were not judged again"
        ));
    }
    println!("{summary}");
    Ok(if not > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::Parser;

    use super::*;

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("collabd").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn without_config_commands_read_the_default_file_when_it_exists() {
        let dir = tempfile::tempdir().unwrap();
        let default = dir.path().join("collabd.toml");
        let mut status = cli(&["status"]);
        status.use_default_config(&default);
        assert_eq!(status.config, None, "no file: defaults");

        std::fs::write(&default, "[database]\npath = \"/x/collabd.db\"\n").unwrap();
        let mut status = cli(&["status"]);
        status.use_default_config(&default);
        assert_eq!(status.config.as_deref(), Some(default.as_path()));
        assert_eq!(
            load_settings(&status).unwrap().database_path,
            std::path::PathBuf::from("/x/collabd.db")
        );

        // --config wins; the demo needs nothing external.
        let mut given = cli(&["status", "--config", "/elsewhere.toml"]);
        given.use_default_config(&default);
        assert_eq!(given.config.as_deref(), Some(Path::new("/elsewhere.toml")));
        let mut demo = cli(&["demo"]);
        demo.use_default_config(&default);
        assert_eq!(demo.config, None);
    }

    #[test]
    fn a_default_file_that_cannot_be_read_is_an_error_not_defaults() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: it exists, and reading
        // it fails whoever runs the test (root reads past permissions).
        let default = dir.path().join("collabd.toml");
        std::fs::create_dir(&default).unwrap();
        let mut status = cli(&["status"]);
        status.use_default_config(&default);
        let e = load_settings(&status).unwrap_err().to_string();
        assert!(e.contains(&default.display().to_string()), "{e}");
    }
}
