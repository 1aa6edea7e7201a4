//! The subcommands and their output. Parses arguments into calls on the
//! library and prints results; holds no business rules of its own.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use serde_json::json;

use crate::config::Settings;
use crate::ingest::IngestReport;
use crate::model::{MessageKind, RequestId, RequestState, mask_code};
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

    /// SQLite database file; overrides [database] path and COLLABD_DB.
    #[arg(long, global = true, value_name = "FILE")]
    pub db: Option<PathBuf>,

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

fn parse_mark(s: &str) -> Result<RequestState, String> {
    match s {
        "requested" => Ok(RequestState::Requested),
        "granted" => Ok(RequestState::Granted),
        _ => Err(format!("`{s}`: mark takes `requested` or `granted`")),
    }
}

fn parse_state(s: &str) -> Result<RequestState, String> {
    s.parse()
}

fn parse_id(s: &str) -> Result<RequestId, String> {
    s.parse()
}

/// Runs one command; the error (if any) is printed by `main`.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    if let Command::CheckConfig = cli.command {
        // It reports a bad file as one of its checks.
        return Ok(crate::check::run(cli.config.as_deref(), cli.db).await);
    }
    let mut settings = Settings::load(cli.config.as_deref())?;
    if let Some(db) = &cli.db {
        settings.database_path = db.clone();
    }
    match cli.command {
        Command::Parse { files } => parse(&settings, &files).await,
        Command::Ingest { files } => ingest(&settings, &files).await,
        Command::Status { state, json } => {
            let db = open_existing(&settings.database_path).await?;
            print_status(&db, state, json, &mut std::io::stdout().lock()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { id, json } => {
            let db = open_existing(&settings.database_path).await?;
            show(&db, id, json).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo => crate::demo::run(&settings, cli.db.as_deref()).await,
        Command::Run => crate::daemon::run(&settings)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::CheckConfig => unreachable!("handled before the settings are loaded"),
        Command::Mark { id, state, who } => act(&settings, id, Action::Mark(state), &who).await,
        Command::Cancel { id, who } => act(&settings, id, Action::Cancel, &who).await,
        Command::Retry { id, who } => act(&settings, id, Action::Retry, &who).await,
    }
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

async fn ingest(settings: &Settings, files: &[String]) -> Result<ExitCode> {
    let db = Db::open(&settings.database_path).await?;
    purge_raw(&db, settings).await?;
    let ingestor = settings.ingestor(db)?;
    let mut conn = ingestor.db.pool.acquire().await?;
    let mut failed = false;
    for file in files {
        let (raw, source) = if file == "-" {
            let mut buf = Vec::new();
            match std::io::stdin().lock().read_to_end(&mut buf) {
                Ok(_) => (buf, Source::Stdin),
                Err(e) => {
                    failed = true;
                    eprintln!("collabd: cannot read standard input: {e}");
                    continue;
                }
            }
        } else {
            match std::fs::read(file) {
                Ok(raw) => (raw, Source::File(file.clone())),
                Err(e) => {
                    failed = true;
                    eprintln!("collabd: cannot read {file}: {e}");
                    continue;
                }
            }
        };
        match ingestor
            .ingest_on(&mut conn, &raw, &source, chrono::Utc::now())
            .await
        {
            Ok(report) => println!("{}", render::line(&describe(file, &report))),
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

/// One line saying what ingesting a file did.
pub fn describe(file: &str, r: &IngestReport) -> String {
    if !r.new {
        return format!(
            "{file}: already ingested as message #{}; nothing changed",
            r.message
        );
    }
    let mut parts = vec![format!("{file}: message #{} {}", r.message, r.kind)];
    let ids = |v: &[RequestId]| {
        v.iter()
            .map(|i| format!("#{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !r.created.is_empty() {
        parts.push(format!("created request {}", ids(&r.created)));
    }
    if !r.superseded.is_empty() {
        parts.push(format!("superseded {}", ids(&r.superseded)));
    }
    if !r.seen_again.is_empty() {
        parts.push(format!("already queued as {}", ids(&r.seen_again)));
    }
    if let Some(id) = r.outcome_applied {
        parts.push(format!("moved request #{id}"));
    }
    if let Some(reason) = &r.reason {
        parts.push(format!("({reason})"));
    }
    parts.join("; ")
}

/// Prints the status table (or JSON lines), then what needs attention.
pub async fn print_status(
    db: &Db,
    state: Option<RequestState>,
    json: bool,
    out: &mut impl Write,
) -> Result<()> {
    let rows = store::status_rows(&db.pool, state).await?;
    if json {
        for r in &rows {
            writeln!(out, "{}", render::json(&serde_json::to_value(r)?))?;
        }
        return Ok(());
    }
    let header = [
        "ID",
        "STORE",
        "CLIENT",
        "STATE",
        "CODE",
        "TRIES",
        "RECEIVED",
        "UPDATED",
        "LAST EVENT",
    ];
    // Client names and events come from mail: each cell is cleaned.
    let table: Vec<[String; 9]> = rows
        .iter()
        .map(|r| {
            [
                r.id.to_string(),
                render::line(&r.store_domain).into_owned(),
                render::line(r.client_name.as_deref().unwrap_or("-")).into_owned(),
                r.state.to_string(),
                render::line(&r.code_hint).into_owned(),
                r.attempts.to_string(),
                short_time(&r.received_at),
                short_time(&r.updated_at),
                truncate(&render::line(r.last_event.as_deref().unwrap_or("")), 70),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &table {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    writeln!(out, "{}", line(&header.map(str::to_owned)))?;
    for row in &table {
        writeln!(out, "{}", line(row))?;
    }
    if rows.is_empty() {
        writeln!(
            out,
            "(no requests{})",
            state.map(|s| format!(" in state {s}")).unwrap_or_default()
        )?;
    }

    let counts = store::message_counts(&db.pool).await?;
    let total: i64 = counts.iter().map(|c| c.1).sum();
    let by_kind: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    writeln!(out, "\nmessages: {total} ({})", by_kind.join(", "))?;
    let (deferred, dns_error) = store::deferred_summary(&db.pool).await?;
    if deferred > 0 {
        writeln!(
            out,
            "waiting to be judged: {deferred} message(s) whose DKIM signature could not be checked because DNS failed (last: {}); `collabd run` judges them again — check [trust] nameservers and the network if this persists",
            dns_error.unwrap_or_default()
        )?;
    }
    let attention = store::messages_needing_attention(&db.pool, 10).await?;
    if !attention.is_empty() {
        writeln!(
            out,
            "needs a look (rejected, unparseable, or partly read; newest first):"
        )?;
        for (id, kind, sender, subject, reason) in attention {
            writeln!(
                out,
                "  message #{id} {kind} from {}: \"{}\" — {}",
                render::line(sender.as_deref().unwrap_or("?")),
                truncate(&render::line(subject.as_deref().unwrap_or("")), 60),
                render::line(reason.as_deref().unwrap_or_default())
            )?;
        }
    }
    let unmatched = store::unmatched_outcomes(&db.pool, 5).await?;
    if !unmatched.is_empty() {
        writeln!(out, "Shopify replies that matched no request:")?;
        for (at, message, detail) in unmatched {
            writeln!(
                out,
                "  {} message #{}: {}",
                short_time(&at),
                message.unwrap_or(0),
                render::line(detail.as_deref().unwrap_or_default())
            )?;
        }
    }
    print_watcher(db, out).await
}

/// The IMAP watcher's health, per watched mailbox, as `mailbox_state` has it.
async fn print_watcher(db: &Db, out: &mut impl Write) -> Result<()> {
    let mailboxes = store::mailbox_rows(&db.pool).await?;
    if mailboxes.is_empty() {
        writeln!(
            out,
            "\nIMAP watcher: no mailbox watched yet (configure [imap] and start `collabd run`)"
        )?;
        return Ok(());
    }
    writeln!(out, "\nIMAP watcher:")?;
    for m in &mailboxes {
        let contact = m
            .last_contact_at
            .as_deref()
            .map(short_time)
            .unwrap_or_else(|| "never".into());
        // IDLE is renewed within 9 minutes and polls come within 30, so a live watcher
        // touches last contact at least that often.
        let stale = m
            .last_contact_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .is_some_and(|t| chrono::Utc::now() - t.to_utc() > chrono::Duration::minutes(31));
        use crate::model::WatcherState;
        let health = match (m.state, m.connected) {
            (s, true) if s.is_connected() && stale => {
                "STALE (no contact for a long time: is collabd running?)"
            }
            (s, true) if s.is_connected() => "ok",
            (WatcherState::Stopped, _) => "stopped",
            (WatcherState::Backoff, _) => "FAILING",
            _ => "connecting",
        };
        writeln!(
            out,
            "  {}  {health}: {}{}, last contact {contact}, last UID {}, reconnects {}",
            render::line(&m.mailbox),
            m.state,
            if m.connected { ", connected" } else { "" },
            m.last_uid,
            m.reconnects
        )?;
        if let Some(err) = &m.last_error {
            writeln!(
                out,
                "    last error{}: {}",
                m.last_error_at
                    .as_deref()
                    .map(|t| format!(" at {}", short_time(t)))
                    .unwrap_or_default(),
                truncate(&render::line(err), 300)
            )?;
        }
        if let Some(next) = &m.next_retry_at {
            writeln!(out, "    next attempt at {}", short_time(next))?;
        }
        if m.actions_pending > 0 {
            writeln!(
                out,
                "    {} stored message{} still to be marked or moved (imap.after_processing), retried on each sync{}",
                m.actions_pending,
                if m.actions_pending == 1 { "" } else { "s" },
                m.action_error
                    .as_deref()
                    .map(|e| format!("; last error: {}", truncate(&render::line(e), 300)))
                    .unwrap_or_default()
            )?;
        }
    }
    let skipped =
        store::request_less_events(&db.pool, crate::model::EventKind::SkippedOversize, 5).await?;
    if !skipped.is_empty() {
        writeln!(out, "not downloaded (over imap.max_message_bytes):")?;
        for (at, _, detail) in skipped {
            writeln!(
                out,
                "  {} {}",
                short_time(&at),
                render::line(detail.as_deref().unwrap_or_default())
            )?;
        }
    }
    Ok(())
}

async fn show(db: &Db, id: RequestId, json: bool) -> Result<()> {
    let mut conn = db.pool.acquire().await?;
    let r = store::get_request(&mut conn, id).await?;
    let events = store::events_for(&db.pool, id).await?;
    if json {
        let mut v = serde_json::to_value(&r)?;
        v["collaborator_code"] = json!(r.collaborator_code);
        v["events"] = serde_json::to_value(&events)?;
        println!("{}", render::json(&v));
        return Ok(());
    }
    // Everything but ids, counts and times can come from mail.
    let line = |s: &str| render::line(s).into_owned();
    println!(
        "request #{}  {}  {}",
        r.id,
        line(&r.store_domain),
        line(r.state.as_str())
    );
    println!("  collaborator code  {}", line(&r.collaborator_code));
    println!(
        "  client             {}",
        line(r.client_name.as_deref().unwrap_or("-"))
    );
    if let Some(e) = &r.client_email {
        println!("  client email       {}", line(e));
    }
    if let Some(n) = &r.leadsie_request_name {
        println!("  leadsie request    {}", line(n));
    }
    if let Some(u) = &r.leadsie_request_url {
        println!("  leadsie link       {}", line(u));
    }
    println!("  attempts           {}", r.attempts);
    if let Some(e) = &r.last_error {
        println!("  last error         {}", line(e));
    }
    println!("  received           {}", r.received_at);
    println!(
        "  filed              {}",
        r.filed_at.as_deref().unwrap_or("-")
    );
    println!(
        "  resolved           {}",
        r.resolved_at.as_deref().unwrap_or("-")
    );
    println!(
        "  file it at         https://partners.shopify.com/current/stores/new?store_type=managed_store  (store {}, code {})",
        line(&r.store_domain),
        line(&mask_code(&r.collaborator_code))
    );
    println!("timeline:");
    for e in events {
        let moved = match (&e.from_state, &e.to_state) {
            (Some(f), Some(t)) => format!(" {f} → {t}"),
            (None, Some(t)) => format!(" → {t}"),
            _ => String::new(),
        };
        let msg = e
            .message_id
            .map(|m| format!(" (message #{m})"))
            .unwrap_or_default();
        println!(
            "  {}  {:<8} {}{}{}  {}",
            short_time(&e.at),
            line(&e.actor.to_string()),
            e.event,
            moved,
            msg,
            line(e.detail.as_deref().unwrap_or_default())
        );
    }
    Ok(())
}

/// `2026-11-26T08:44:52Z` → `2026-11-26 08:44`.
fn short_time(t: &str) -> String {
    t.get(..16)
        .map(|s| s.replace('T', " "))
        .unwrap_or_else(|| t.to_owned())
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}
