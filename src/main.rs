//! The `collabd` binary: parse the command line, set up logging, turn
//! SIGTERM and SIGINT into the daemon's shutdown, run.

use std::process::ExitCode;

use collabd::cli::{Command, LogFormat};
use collabd::reload::SetLogLevel as SetLevel;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

fn main() -> ExitCode {
    let cli = collabd::cli::Cli::parse_args();
    // `parse` and `ingest` judge files on lanes of their own: one thread
    // drives the rest, and starting a worker thread per core would cost
    // more than it brings. Every other command gets one per core.
    let over_files = matches!(cli.command, Command::Parse { .. } | Command::Ingest { .. });
    let mut runtime = if over_files {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match runtime.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("collabd: cannot start its async runtime: {e}");
            return ExitCode::from(71); // EX_OSERR
        }
    };
    let code = runtime.block_on(run(cli));
    if over_files {
        // A lane given up on (a message over its time budget) may still
        // be running: its output is dropped anyway, and it writes nothing,
        // so the command ends without waiting for it.
        runtime.shutdown_background();
    }
    code
}

async fn run(cli: collabd::cli::Cli) -> ExitCode {
    let set_log_level = init_logging(&cli);
    let logs_to_journal = to_journal(&cli);
    let shutdown = CancellationToken::new();
    let mut reload = None;
    if let Command::Run = cli.command {
        stop_on_signal(shutdown.clone());
        let (config, db) = (cli.config.clone(), cli.db.clone());
        reload = Some(collabd::reload::Reload {
            signals: reload_on_hangup(),
            load: Box::new(move || {
                collabd::cli::load_settings_from(config.as_deref(), db.as_deref())
            }),
            set_log_level,
        });
    } else {
        end_on_closed_pipe();
    }
    match collabd::cli::run(cli, shutdown, reload).await {
        Ok(code) => code,
        Err(e) => {
            let line = collabd::render::error(&e);
            if logs_to_journal {
                // A native record with its priority, as every other line
                // under systemd, which `systemctl status` shows.
                tracing::error!("{line}");
            } else {
                eprintln!("collabd: {line}");
            }
            collabd::cli::exit_status(&e)
        }
    }
}

/// SIGTERM (systemd's stop) and SIGINT (Ctrl-C) cancel `shutdown`: the
/// daemon finishes the message and filings in hand, then exits 0. The
/// handlers are installed before the daemon starts, so an early signal is
/// not lost to the default action.
fn stop_on_signal(shutdown: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for SIGTERM/SIGINT; stop collabd with SIGKILL");
        return;
    };
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: finishing the message and filings in hand"),
            _ = int.recv() => tracing::info!("SIGINT: finishing the message and filings in hand"),
        }
        shutdown.cancel();
    });
}

/// Whether logs go to the journal: asked for, or under systemd (its
/// `JOURNAL_STREAM`) with the format left to collabd.
fn to_journal(cli: &collabd::cli::Cli) -> bool {
    let under_journald = std::env::var_os("JOURNAL_STREAM").is_some_and(|v| !v.is_empty());
    cli.log_format == LogFormat::Journald || (cli.log_format == LogFormat::Auto && under_journald)
}

/// SIGHUP (`systemctl reload collabd`) asks the daemon to read its
/// configuration again: one item on the channel per signal. Installed
/// before the daemon starts, so an early SIGHUP is not the default action
/// (which would end the process).
fn reload_on_hangup() -> tokio::sync::mpsc::UnboundedReceiver<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let (send, receive) = tokio::sync::mpsc::unbounded_channel();
    match signal(SignalKind::hangup()) {
        Ok(mut hup) => {
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    tracing::info!("SIGHUP: reading the configuration again");
                    if send.send(()).is_err() {
                        return;
                    }
                }
            });
        }
        Err(e) => tracing::error!("cannot listen for SIGHUP ({e}); reload by restarting"),
    }
    receive
}

/// One-shot commands end quietly when their reader goes away, as Unix
/// tools do (`collabd ingest *.eml | head`): SIGPIPE back to its default
/// action. Rust ignores it, which turns a write to a closed pipe into a
/// panic in `println!`. `run` keeps ignoring it. Sockets are unaffected:
/// they are written with MSG_NOSIGNAL.
fn end_on_closed_pipe() {
    unsafe extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }
    const SIGPIPE: i32 = 13;
    const SIG_DFL: usize = 0;
    // SAFETY: restores a signal's default action before any other thread
    // writes to a pipe; no handler runs.
    unsafe {
        signal(SIGPIPE, SIG_DFL);
    }
}

/// The level comes from `RUST_LOG`, else `[log] level` in the config file,
/// else info for the daemon and warn for one-shot commands (which speak only
/// on trouble). The format: journald fields under systemd (`JOURNAL_STREAM`
/// set), human-readable text otherwise, or JSON lines when asked. Returns
/// how a reload sets the level, unless `RUST_LOG` decides it.
fn init_logging(cli: &collabd::cli::Cli) -> Option<SetLevel> {
    let default_level = match cli.command {
        Command::Run => "info",
        _ => "warn",
    };
    let from_env = tracing_subscriber::EnvFilter::try_from_default_env().ok();
    let by_env = from_env.is_some();
    let filter = from_env.unwrap_or_else(|| {
        let level = collabd::config::peek_log_level(cli.config.as_deref())
            .unwrap_or_else(|| default_level.to_owned());
        tracing_subscriber::EnvFilter::try_new(&level)
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level))
    });
    let (filter, handle) = tracing_subscriber::reload::Layer::new(filter);
    let set_level: Option<SetLevel> = (!by_env).then(|| {
        Box::new(move |level: &str| {
            let filter =
                tracing_subscriber::EnvFilter::try_new(level).map_err(|e| e.to_string())?;
            handle.reload(filter).map_err(|e| e.to_string())
        }) as SetLevel
    });
    let under_journald = std::env::var_os("JOURNAL_STREAM").is_some_and(|v| !v.is_empty());
    let ansi = colour(under_journald);
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(protocol_cap());
    match cli.log_format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(false)
                    .with_ansi(false)
                    .with_writer(std::io::stderr),
            )
            .init(),
        LogFormat::Journald | LogFormat::Auto if to_journal(cli) => {
            match tracing_journald::layer() {
                Ok(journald) => registry
                    .with(
                        journald
                            .with_syslog_identifier("collabd".into())
                            .with_priority_mappings(journal_priorities()),
                    )
                    .init(),
                Err(e) => {
                    registry
                        .with(
                            tracing_subscriber::fmt::layer()
                                .with_ansi(ansi)
                                .with_writer(std::io::stderr),
                        )
                        .init();
                    tracing::warn!("cannot reach the journal ({e}); logging to stderr");
                }
            }
        }
        _ => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(ansi)
                    .with_writer(std::io::stderr),
            )
            .init(),
    }
    set_level
}

/// Colour in the text log only for a person at a terminal: never into a
/// file, a pipe or the journal, and never when `NO_COLOR` is set to
/// anything (https://no-color.org).
fn colour(under_journald: bool) -> bool {
    use std::io::IsTerminal;
    !under_journald
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stderr().is_terminal()
}

/// The protocol crates collabd uses log what goes over the wire at debug and
/// trace: async-imap its `LOGIN "user" "password"` and whole messages (with
/// their collaborator codes), lettre its AUTH exchange, hyper, reqwest and h2
/// headers and bodies (a webhook's signature, an OAuth2 refresh token). They
/// are held at info whatever `RUST_LOG` or `[log] level` asks, so turning
/// logging up to find a bug never writes a secret to the journal. A second
/// filter beside the level, not a directive in it: a more specific
/// `RUST_LOG=async_imap::imap_stream=trace` cannot get past it.
fn protocol_cap() -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::LevelFilter;
    // Each name is a prefix: `hyper` covers hyper_util and hyper_rustls,
    // `hickory` every hickory_* crate.
    const PROTOCOL_CRATES: &[&str] = &[
        "async_imap",
        "imap_proto",
        "lettre",
        "hyper",
        "reqwest",
        "h2",
        "rustls",
        "tokio_rustls",
        "sqlx",
        "mail_auth",
        "hickory",
    ];
    PROTOCOL_CRATES.iter().fold(
        tracing_subscriber::filter::Targets::new().with_default(LevelFilter::TRACE),
        |cap, name| cap.with_target(*name, LevelFilter::INFO),
    )
}

/// journald's usual meaning of each level: info is 6 (informational), not
/// tracing-journald's default 5 (notice), so `journalctl -p notice` shows
/// only what deserves a look.
fn journal_priorities() -> tracing_journald::PriorityMappings {
    use tracing_journald::Priority;
    tracing_journald::PriorityMappings {
        error: Priority::Error,
        warn: Priority::Warning,
        info: Priority::Informational,
        debug: Priority::Debug,
        trace: Priority::Debug,
    }
}
