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
use crate::operator::{self, Action, Mark, operator_name};
use crate::render;
use crate::store::{self, Db, Source};
use crate::timestamp::Timestamp;

/// `--version`: the release and the commit it was built from (see build.rs).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("COLLABD_BUILD_COMMIT"),
    ")"
);

/// collabd: turns Leadsie's Shopify access emails into tracked collaborator requests.
#[derive(Debug, Parser)]
#[command(name = "collabd", version = VERSION, about, long_about = None)]
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
    /// Judge stored messages again under the settings of now (after adding
    /// a forwarder, say) and apply what they say, as the daemon would: a
    /// rejected grant becomes a request. Changes go on the timeline; a
    /// second run changes nothing.
    #[command(group = clap::ArgGroup::new("which").required(true).multiple(true).args(["since", "ids"]))]
    Rejudge {
        /// Every message received since then (RFC 3339, or a date such as
        /// 2026-11-02, midnight UTC).
        #[arg(long, value_name = "TIME", value_parser = parse_since)]
        since: Option<chrono::DateTime<chrono::Utc>>,
        /// Name recorded as the actor (default: $SUDO_USER or $USER).
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
        /// Message ids (`collabd show` and the status page name them).
        #[arg(value_name = "ID")]
        ids: Vec<i64>,
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
        state: Mark,
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
    /// asking for the password at the terminal (not echoed, twice), or
    /// reading it (or a long random token) from piped stdin. Put the
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

fn parse_mark(s: &str) -> Result<Mark, String> {
    s.parse()
}

fn parse_state(s: &str) -> Result<RequestState, String> {
    s.parse()
}

fn parse_id(s: &str) -> Result<RequestId, String> {
    s.parse()
}

/// A time as `parse_time` reads it, or a date (midnight UTC).
fn parse_since(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(day) = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    parse_time(s).map_err(|_| {
        format!("`{s}` is not a date such as 2026-11-02 or a time such as 2026-11-02T09:00:00Z")
    })
}

fn parse_time(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.to_utc())
        .map_err(|e| format!("`{s}` is not a time such as 2026-11-02T09:00:00Z ({e})"))
}

impl Cli {
    /// The command line (exits with a usage error if it is wrong), noting
    /// whether `--db` came from the environment, with the configuration
    /// file decided (see [`Cli::use_default_config`]).
    pub fn parse_args() -> Cli {
        use clap::parser::ValueSource;
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cli::command().get_matches();
        let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        cli.db_from_env = matches.value_source("db") == Some(ValueSource::EnvVariable);
        cli.use_default_config(Path::new(crate::config::DEFAULT_CONFIG_PATH));
        cli
    }

    /// Without `--config` or COLLABD_CONFIG, every command but the demo
    /// and `http-user` reads `default` (/etc/collabd/collabd.toml) when it
    /// exists, so `collabd status` on a packaged host reads the database
    /// and settings the service uses. The demo needs nothing external.
    pub fn use_default_config(&mut self, default: &Path) {
        if self.config.is_some() || matches!(self.command, Command::Demo | Command::HttpUser { .. })
        {
            return;
        }
        self.config = crate::config::default_config(default);
    }
}

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
        settings.database_path = db.to_owned();
    }
    Ok(settings)
}

/// The exit status for a configuration error (sysexits' EX_CONFIG): the
/// unit's `RestartPreventExitStatus=78` keeps systemd from restarting a
/// daemon that cannot start until the file is fixed.
pub const EX_CONFIG: u8 = 78;

/// The exit status for an error `run` returned: [`EX_CONFIG`] for a
/// configuration error, else 1.
pub fn exit_status(e: &anyhow::Error) -> ExitCode {
    if crate::config::is_config_error(e) {
        ExitCode::from(EX_CONFIG)
    } else {
        ExitCode::from(1)
    }
}

/// Runs one command; the error (if any) is printed by `main`. `shutdown`
/// stops `collabd run` (`main` cancels it on SIGTERM or SIGINT) and
/// `reload` reloads it (`main` feeds it SIGHUP); the other commands finish
/// on their own.
pub async fn run(
    cli: Cli,
    shutdown: CancellationToken,
    reload: Option<crate::daemon::Reload>,
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
        Command::Run | Command::CheckConfig | Command::Browser { .. }
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
        Command::Parse { files } => parse(&settings, &files).await,
        Command::Ingest {
            webhook,
            received,
            files,
        } => ingest(&settings, &files, webhook, received).await,
        Command::Rejudge { since, by, ids } => rejudge(&settings, since, by.as_deref(), &ids).await,
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
    let filer = crate::filer::BrowserFiler::new(
        s.clone(),
        crate::filer::notify::announcer(&settings.worker).map_err(crate::config::ConfigProblem)?,
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
    let db = open_existing(&settings.database_path).await?;
    let ingestor = crate::ingest::Ingestor::from_settings(&settings, db)?;
    let mut conn = ingestor.db.pool.acquire().await?;
    let mut chosen = ids.to_vec();
    let mut without_bytes = 0;
    if let Some(since) = since {
        let (found, others) = store::message_ids_since(&mut conn, &Timestamp::from(since)).await?;
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

/// How many files `parse` reads and judges at once: their DKIM look-ups
/// wait on DNS side by side (when DNS does not answer, a batch waits about
/// as long as one message), and no more than this many are held.
const PARSE_BATCH: usize = 32;

async fn parse(settings: &Settings, files: &[PathBuf]) -> Result<ExitCode> {
    use crate::ingest::Judged;
    let classifier = settings.classifier();
    let verifier = crate::dkim::Verifier::new(&settings.nameservers)?;
    let mut failed = false;
    // A DNS failure is said once, with how many messages it left unjudged,
    // rather than once per message.
    let mut dns_failed: Option<String> = None;
    let mut unchecked = 0usize;
    for batch in files.chunks(PARSE_BATCH) {
        let mut read = Vec::with_capacity(batch.len());
        for file in batch {
            match std::fs::read(file) {
                Ok(raw) => read.push((file, raw)),
                Err(e) => {
                    failed = true;
                    eprintln!("collabd: cannot read {}: {e}", file.display());
                }
            }
        }
        let raws: Vec<&[u8]> = read.iter().map(|(_, raw)| raw.as_slice()).collect();
        let judged = crate::ingest::judge_all(&classifier, &verifier, &raws).await;
        for ((file, _), judged) in read.iter().zip(judged) {
            let line = match judged {
                Judged::Ready(c) => json!({
                    "file": file.display().to_string(),
                    "kind": c.kind,
                    "grants": c.grants,
                    "outcome": c.outcome,
                    "reason": c.reason,
                }),
                Judged::Deferred(c, why) => {
                    unchecked += 1;
                    let line = json!({
                        "file": file.display().to_string(),
                        "kind": MessageKind::Deferred,
                        "grants": [],
                        "outcome": null,
                        "reason": format!("would be {}, but its DKIM signature could not be checked: {why}", c.kind),
                    });
                    dns_failed.get_or_insert(why);
                    line
                }
            };
            let stdout = std::io::stdout();
            let _ = writeln!(stdout.lock(), "{}", render::json(&line));
        }
    }
    if let Some(why) = dns_failed {
        eprintln!(
            "collabd: DNS failed: {}; {unchecked} {} (kind \"deferred\"): check [trust] nameservers and the network",
            render::line(&why),
            if unchecked == 1 {
                "message could not have its DKIM signature checked"
            } else {
                "messages could not have their DKIM signatures checked"
            },
        );
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
    store::purge_raw_older_than(&db.pool, settings.raw_retention_days, &Timestamp::now()).await?;
    let ingestor = crate::ingest::Ingestor::from_settings(&settings, db)?;
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
        let max = crate::leadsie::MAX_BODY_BYTES;
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

#[cfg(test)]
mod tests {
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
