//! `collabd run`: opens the database, builds the configured filer, and runs
//! the worker until SIGTERM or SIGINT, finishing the filings in hand. (The
//! IMAP watcher and systemd notifications join here in their own issues.)

use std::sync::Arc;

use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;

use crate::config::{FilerSettings, NotifyChannels, Settings};
use crate::filer::{CommandFiler, EmailChannel, Filer, LogFiler, NotifyFiler, WebhookFiler};
use crate::queue::RetryPolicy;
use crate::store::Db;
use crate::worker::Worker;

pub async fn run(settings: &Settings) -> Result<()> {
    let db = Db::open(&settings.database_path).await?;
    let w = &settings.worker;
    // Where operators hear of outcomes: the notify channels, with any filer.
    let announcer = w.notify.as_ref().map(notify_filer).transpose()?;
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    match &w.filer {
        FilerSettings::Log => serve(db, LogFiler, settings, announcer, shutdown).await,
        FilerSettings::Command {
            program,
            args,
            timeout,
        } => {
            let filer = CommandFiler {
                program: program.clone(),
                args: args.clone(),
                timeout: *timeout,
            };
            serve(db, filer, settings, announcer, shutdown).await
        }
        FilerSettings::Webhook {
            url,
            secret,
            timeout,
        } => {
            let filer = WebhookFiler::new(url.clone(), secret.clone(), *timeout)
                .context("cannot set up the webhook filer's HTTP client")?;
            serve(db, filer, settings, announcer, shutdown).await
        }
        FilerSettings::Notify => {
            let filer = announcer
                .clone()
                .context("filer = \"notify\" needs [worker.notify]")?;
            serve(db, filer, settings, announcer, shutdown).await
        }
    }
    Ok(())
}

fn notify_filer(n: &NotifyChannels) -> Result<NotifyFiler> {
    let email = match &n.smtp_url {
        None => None,
        Some(url) => Some(EmailChannel {
            transport: lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
                .map_err(|e| {
                    anyhow::anyhow!(
                        "config setting worker.notify.smtp_url: {e} (write smtp://host:587?tls=required or smtps://user:password@host)"
                    )
                })?
                .build(),
            from: n
                .email_from
                .as_deref()
                .unwrap_or_default()
                .parse()
                .context("config setting worker.notify.email_from is not an address")?,
            to: n
                .email_to
                .iter()
                .map(|a| a.parse().with_context(|| format!("config setting worker.notify.email_to: `{a}` is not an address")))
                .collect::<Result<_>>()?,
        }),
    };
    NotifyFiler::new(
        n.slack.clone(),
        email,
        n.dev_org_id.clone(),
        std::time::Duration::from_secs(15),
    )
    .context("cannot set up the notify filer's HTTP client")
}

async fn serve<F: Filer + 'static>(
    db: Db,
    filer: F,
    settings: &Settings,
    announcer: Option<NotifyFiler>,
    shutdown: CancellationToken,
) {
    let w = &settings.worker;
    let mut worker = Worker::new(db, filer);
    worker.concurrency = w.concurrency;
    worker.lease = w.lease;
    worker.poll_interval = w.poll;
    worker.policy = RetryPolicy {
        max_attempts: w.max_attempts,
        ..RetryPolicy::default()
    };
    worker.remind_after = chrono::Duration::days(w.remind_after_days.into());
    worker.expire_after = chrono::Duration::days(w.expire_after_days.into());
    worker.pacer = w.rate_per_minute.map(crate::queue::Pacer::per_minute);
    worker.announcer = announcer;
    tracing::info!(
        filer = worker.filer.name(),
        database = %settings.database_path.display(),
        "collabd running; the IMAP watcher is not part of this version: feed mail with `collabd ingest -`"
    );
    Arc::new(worker).run(shutdown).await;
    tracing::info!("collabd stopped");
}

async fn stop_on_signal(shutdown: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for SIGTERM/SIGINT; stop collabd with SIGKILL");
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: finishing the filings in hand"),
        _ = int.recv() => tracing::info!("SIGINT: finishing the filings in hand"),
    }
    shutdown.cancel();
}
