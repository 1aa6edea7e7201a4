//! The subcommands and their output. Parses arguments into calls on the
//! library and prints results; holds no business rules of its own.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::config::{ConfigError, Settings};
use crate::model::{MessageKind, RequestId, RequestState};
use crate::operator::{self, Action, operator_name};
use crate::render;
use crate::store::{self, Db, Source};

/// collabd: turns Leadsie's Shopify access emails into tracked collaborator requests.
#[derive(Debug, Parser)]
#[command(name = "collabd", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file (TOML); see deploy/collabd.toml.
    #[arg(long, global = true, env = "COLLABD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// SQLite database file; overrides [database] path. `collabd demo`
    /// uses it only when given as --db, never from COLLABD_DB.
    #[arg(long, global = true, env = "COLLABD_DB", value_name = "FILE")]
    pub db: Option<PathBuf>,

    /// `--db` came from COLLABD_DB, not the command line.
    #[arg(skip)]
    pub db_from_env: bool,

    /// Log format: auto (journald fields under systemd, else text), text,
    /// json (one object per line, for log shippers) or journald.
    #[arg(
        long,
        global = true,
        value_name = "FORMAT",
        default_value = "auto",
        env = "COLLABD_LOG_FORMAT"
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Classify and extract emails; print one JSON object per file. No database.
    Parse {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Store emails and apply them, as the daemon would. `-` reads one email from stdin.
    Ingest {
        /// The files are saved Leadsie webhook payloads (JSON), read as
        /// `POST /leadsie/{token}` reads them: for replays and tests.
        #[arg(long)]
        webhook: bool,
        /// When these arrived (RFC 3339, e.g. 2026-11-02T09:00:00Z), for
        /// replaying an old one: a store's codes are ordered by arrival, so
        /// a replay stamped now would supersede a newer code. Default: now.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        received: Option<chrono::DateTime<chrono::Utc>>,
        #[arg(required = true, value_name = "FILE|-")]
        files: Vec<String>,
    },
    /// Where every store stands: the request_status table.
    Status {
        /// Only requests in this state.
        #[arg(long, value_parser = parse_state)]
        state: Option<RequestState>,
        /// One JSON object per request instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One request, its code and its timeline.
    Show {
        #[arg(value_parser = parse_id)]
        id: RequestId,
        #[arg(long)]
        json: bool,
    },
    /// Record that a request was filed by hand (requested) or approved (granted).
    Mark {
        #[arg(value_parser = parse_id)]
        id: RequestId,
        #[arg(value_parser = parse_mark)]
        state: RequestState,
        #[command(flatten)]
        who: Who,
    },
    /// Approve a request awaiting review ([worker] review): it is queued,
    /// and the worker files it.
    Approve {
        #[arg(value_parser = parse_id)]
        id: RequestId,
        #[command(flatten)]
        who: Who,
    },
    /// Cancel an open request (it will not be filed).
    Cancel {
        #[arg(value_parser = parse_id)]
        id: RequestId,
        #[command(flatten)]
        who: Who,
    },
    /// Queue a failed request again, or make a waiting one due now.
    Retry {
        #[arg(value_parser = parse_id)]
        id: RequestId,
        #[command(flatten)]
        who: Who,
    },
    /// The daemon: watches the [imap] mailbox, files queued requests with the
    /// configured filer, reminds and expires, until SIGTERM or SIGINT.
    Run,
    /// Check the configuration file, then try each configured connection
    /// (IMAP login and folders, OAuth2 token, SMTP, webhooks, database).
    CheckConfig,
    /// The whole pipeline on shipped fixtures, in a throwaway database.
    Demo,
    /// Print a status-page users-file line (`NAME:$argon2id$…`) for NAME,
    /// reading the password (or a long random token) from stdin. Put the
    /// line in `http.users_file` or the systemd credential `http-users`.
    HttpUser {
        #[arg(value_name = "NAME")]
        name: String,
    },
    /// Write the manual pages and shell completions into DIR, for the
    /// Debian package (`deploy/build-deb`).
    #[command(hide = true)]
    GenerateAssets {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// The browser filer's dashboard session and Collaborations list
    /// ([worker.browser]; stop the daemon first: they use its browser profile).
    Browser {
        #[command(subcommand)]
        action: BrowserAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum BrowserAction {
    /// Sign in to the dashboard once, in the profile the filer uses: a window
    /// when there is a display, else remote debugging on loopback for an SSH
    /// tunnel. Then checks the session works.
    Login {
        /// Use remote debugging even when there is a display.
        #[arg(long)]
        remote: bool,
        /// The loopback port for remote debugging.
        #[arg(long, default_value_t = 9222)]
        port: u16,
    },
    /// Read the Collaborations list now and record what changed.
    Sync,
    /// Whether the dashboard session works, from what the filer last saw.
    Status,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Auto,
    Text,
    Json,
    Journald,
}

/// Who acts and why, recorded on the request's timeline.
#[derive(Debug, clap::Args)]
pub struct Who {
    /// Name recorded as the actor (default: $SUDO_USER or $USER).
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    /// A note kept with the event.
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
}

/// The states an operator may mark a request as.
const MARKS: [RequestState; 2] = [RequestState::Requested, RequestState::Granted];

fn parse_mark(s: &str) -> Result<RequestState, String> {
    s.parse::<RequestState>()
        .ok()
        .filter(|state| MARKS.contains(state))
        .ok_or_else(|| {
            format!(
                "`{s}`: mark takes `{}` or `{}`",
                MARKS[0].as_str(),
                MARKS[1].as_str()
            )
        })
}

fn parse_state(s: &str) -> Result<RequestState, String> {
    s.parse()
}

fn parse_id(s: &str) -> Result<RequestId, String> {
    s.parse()
}

fn parse_time(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.to_utc())
        .map_err(|e| format!("`{s}` is not a time such as 2026-11-02T09:00:00Z ({e})"))
}

impl Cli {
    /// The command line (exits with a usage error if it is wrong), noting
    /// whether `--db` came from the environment.
    pub fn parse_args() -> Cli {
        use clap::parser::ValueSource;
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cli::command().get_matches();
        let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        cli.db_from_env = matches.value_source("db") == Some(ValueSource::EnvVariable);
        cli
    }
}

/// The settings every subcommand uses: the file (and its environment
/// overrides), with `--db` (or COLLABD_DB) in place of `[database] path`.
/// The one place the database path is decided.
pub fn load_settings(cli: &Cli) -> Result<Settings, ConfigError> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    if let Some(db) = &cli.db {
        settings.database_path = db.clone();
    }
    Ok(settings)
}

/// Runs one command; the error (if any) is printed by `main`. `shutdown`
/// stops `collabd run` (`main` cancels it on SIGTERM or SIGINT); the other
/// commands finish on their own.
pub async fn run(cli: Cli, shutdown: CancellationToken) -> Result<ExitCode> {
    if let Command::HttpUser { name } = &cli.command {
        return http_user(name);
    }
    if let Command::GenerateAssets { dir } = &cli.command {
        for file in crate::assets::write(dir)? {
            println!("{}", file.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let loaded = load_settings(&cli);
    if let Command::CheckConfig = cli.command {
        // It reports a bad file as one of its checks.
        return Ok(crate::check::run(cli.config.as_deref(), loaded).await);
    }
    let settings = loaded?;
    match cli.command {
        Command::Parse { files } => parse(&settings, &files).await,
        Command::Ingest {
            webhook,
            received,
            files,
        } => ingest(&settings, &files, webhook, received).await,
        Command::Status { state, json } => {
            let db = open_existing(&settings.database_path).await?;
            render::report::print_status(&db, state, json, &mut std::io::stdout().lock()).await?;
            if !json && let Some(what) = crate::filer::browser::health(&db).await? {
                println!("{what}: run `collabd browser login`");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { id, json } => {
            let db = open_existing(&settings.database_path).await?;
            render::report::print_request(&db, id, json, &mut std::io::stdout().lock()).await?;
            Ok(ExitCode::SUCCESS)
        }
        // A demo never writes into the database COLLABD_DB names: that is
        // most likely the real one.
        Command::Demo => {
            let keep = cli.db.as_deref().filter(|_| !cli.db_from_env);
            crate::demo::run(&settings, keep).await
        }
        Command::Run => crate::daemon::run(settings, shutdown)
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

/// `collabd http-user NAME`: the password is the first line of stdin
/// (typed, or piped from a password manager); the line goes to stdout.
fn http_user(name: &str) -> Result<ExitCode> {
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .map_err(|e| anyhow::anyhow!("cannot read the password from stdin: {e}"))?;
    let password = password.trim_end_matches(['\n', '\r']);
    let line = crate::web::auth::users_file_line(name, password)
        .map_err(|e| anyhow::anyhow!("http-user {name}: {e}"))?;
    writeln!(std::io::stdout().lock(), "{line}")?;
    Ok(ExitCode::SUCCESS)
}

async fn browser(settings: &Settings, action: BrowserAction) -> Result<ExitCode> {
    let Some(s) = settings.worker.browser.clone() else {
        anyhow::bail!(
            "config setting worker.browser: there is no [worker.browser] table; the browser filer needs one with org_id"
        );
    };
    let filer = crate::filer::BrowserFiler::new(
        s.clone(),
        crate::filer::notify::announcer(&settings.worker)?,
    );
    match action {
        BrowserAction::Login { remote, port } => {
            let mode = crate::browser::login::Mode::detect(port, remote);
            crate::browser::login::login(&s, &filer, mode, crate::filer::browser::LOGIN_WAIT)
                .await?;
        }
        BrowserAction::Sync => {
            let changes = filer.sync_once().await;
            filer.shutdown().await;
            let changes = changes?;
            for (id, from, to) in &changes {
                println!("request #{id}: {from} → {to}");
            }
            println!("{} change(s) from the Collaborations list", changes.len());
        }
        BrowserAction::Status => {
            let db = open_existing(&settings.database_path).await?;
            let session = crate::store::browser_session(&db.pool).await?;
            match session.state.as_str() {
                "login_needed" => println!(
                    "browser login needed since {} ({}); run `collabd browser login`",
                    session.since,
                    session.detail.unwrap_or_default()
                ),
                "ok" => println!("the dashboard session works (since {})", session.since),
                _ => println!("the browser filer has not used the dashboard yet"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn act(settings: &Settings, id: RequestId, action: Action, who: &Who) -> Result<ExitCode> {
    let db = open_existing(&settings.database_path).await?;
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

/// Status and show read an existing database; a typo'd path should not
/// silently create an empty one.
async fn open_existing(path: &Path) -> Result<Db> {
    if !path.exists() {
        anyhow::bail!(
            "database {} does not exist; pass --db FILE or set [database] path (`collabd ingest` creates it)",
            path.display()
        );
    }
    Ok(Db::open(path).await?)
}

async fn parse(settings: &Settings, files: &[PathBuf]) -> Result<ExitCode> {
    let classifier = settings.classifier();
    let verifier = crate::dkim::Verifier::new(&settings.nameservers)?;
    let mut failed = false;
    for file in files {
        match std::fs::read(file) {
            Ok(raw) => {
                let (c, deferred) = match crate::ingest::judge(&classifier, &verifier, &raw).await {
                    crate::ingest::Judged::Ready(c) => (c, None),
                    crate::ingest::Judged::Deferred(c, why) => (c, Some(why)),
                };
                let line = match deferred {
                    None => json!({
                        "file": file.display().to_string(),
                        "kind": c.kind,
                        "grants": c.grants,
                        "outcome": c.outcome,
                        "reason": c.reason,
                    }),
                    Some(why) => json!({
                        "file": file.display().to_string(),
                        "kind": MessageKind::Deferred,
                        "grants": [],
                        "outcome": null,
                        "reason": format!("would be {}, but its DKIM signature could not be checked: {why}", c.kind),
                    }),
                };
                let stdout = std::io::stdout();
                let _ = writeln!(stdout.lock(), "{}", render::json(&line));
            }
            Err(e) => {
                failed = true;
                eprintln!("collabd: cannot read {}: {e}", file.display());
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn ingest(
    settings: &Settings,
    files: &[String],
    webhook: bool,
    received: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<ExitCode> {
    let db = Db::open(&settings.database_path).await?;
    purge_raw(&db, settings).await?;
    let ingestor = settings.ingestor(db)?;
    let mut conn = ingestor.db.pool.acquire().await?;
    let mut failed = false;
    for file in files {
        let (raw, source) = if file == "-" {
            let mut buf = Vec::new();
            match std::io::stdin().lock().read_to_end(&mut buf) {
                Ok(_) if webhook => (buf, Source::Webhook("standard input".into())),
                Ok(_) => (buf, Source::Stdin),
                Err(e) => {
                    failed = true;
                    eprintln!("collabd: cannot read standard input: {e}");
                    continue;
                }
            }
        } else {
            match std::fs::read(file) {
                Ok(raw) if webhook => (raw, Source::Webhook(format!("file {file}"))),
                Ok(raw) => (raw, Source::File(file.clone())),
                Err(e) => {
                    failed = true;
                    eprintln!("collabd: cannot read {file}: {e}");
                    continue;
                }
            }
        };
        let max = crate::leadsie::endpoint::MAX_BODY_BYTES;
        if webhook && raw.len() > max {
            failed = true;
            eprintln!(
                "collabd: {file} is over {} MB, which the webhook refuses (413); a Leadsie payload is a few kilobytes; nothing was stored",
                max / (1024 * 1024)
            );
            continue;
        }
        let now = chrono::Utc::now();
        let received = received.unwrap_or(now);
        let stored = if webhook {
            ingestor.ingest_webhook(&raw, &source, received, now).await
        } else {
            ingestor
                .ingest_on(&mut conn, &raw, &source, received, now)
                .await
                .map(|r| (r, None))
        };
        match stored {
            Ok((report, refused)) => {
                println!("{}", render::line(&render::report::describe(file, &report)));
                if let Some(why) = refused {
                    failed = true;
                    eprintln!(
                        "collabd: {file} is not a Leadsie webhook payload ({why}); it is stored as rejected message #{}",
                        report.message
                    );
                }
            }
            Err(e) => {
                failed = true;
                eprintln!(
                    "collabd: {file} was not ingested (nothing of it was stored; database {}): {e}",
                    settings.database_path.display()
                );
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn purge_raw(db: &Db, settings: &Settings) -> Result<()> {
    if settings.raw_retention_days > 0 {
        let cutoff =
            chrono::Utc::now() - chrono::Duration::days(settings.raw_retention_days.into());
        store::purge_raw_before(&db.pool, &store::timestamp(cutoff)).await?;
    }
    Ok(())
}
