//! `collabd run`: opens the database, then runs the IMAP watcher and the
//! worker side by side until SIGTERM or SIGINT, finishing the message and
//! filings in hand. Tells systemd READY=1 once the database is ready (not
//! waiting on IMAP), STATUS= with the watcher's state, WATCHDOG=1 only while
//! every watcher task keeps to its own deadlines, and STOPPING=1.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::filer::{ConfiguredFiler, Filer, NotifyFiler};
use crate::imap::Watcher;
use crate::sdnotify::Notifier;
use crate::store::Db;
use crate::worker::Worker;

/// How long shutdown may take before collabd stops waiting for the watcher.
const STOP_GRACE: Duration = Duration::from_secs(8);

pub async fn run(settings: &Settings) -> Result<()> {
    let notifier = Arc::new(Notifier::from_env());
    for what in &settings.insecure {
        tracing::warn!("{what}: secrets and codes cross the network unencrypted");
    }
    let db = Db::open(&settings.database_path).await?;
    let w = &settings.worker;
    // Where operators hear of outcomes: the notify channels, with any filer.
    let announcer = crate::filer::notify::announcer(w)?;
    let filer = crate::filer::from_settings(w)?;
    let ingestor = settings.ingestor(db.clone())?;
    let watcher = match &settings.imap {
        Some(imap) => Some(Arc::new(Watcher::new(imap.clone(), ingestor.clone())?)),
        None => {
            tracing::warn!(
                "no [imap] table in the configuration: no mailbox is watched; feed mail with `collabd ingest -`"
            );
            None
        }
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone(), notifier.clone()));
    notifier.notify("READY=1\nSTATUS=database ready; starting");
    // Messages whose DKIM check met a DNS failure are judged again here.
    let rejudging = {
        let (ingestor, shutdown) = (ingestor.clone(), shutdown.clone());
        tokio::spawn(async move {
            ingestor
                .rejudge_deferred(Duration::from_secs(60), shutdown)
                .await
        })
    };
    let watching = watcher
        .clone()
        .map(|w| tokio::spawn(w.run(shutdown.clone())));
    let supervisor = tokio::spawn(supervise(
        notifier.clone(),
        watcher.clone(),
        shutdown.clone(),
    ));
    if let Some(http) = &settings.http {
        let health = crate::http::Health {
            db: db.clone(),
            watcher: watcher.clone(),
        };
        // Without the endpoint collabd still does its job: say so, go on.
        if let Err(e) = crate::http::serve(http, health, shutdown.clone()).await {
            tracing::error!("{e:#}; /healthz and /metrics are not served");
        }
    }
    tracing::info!(
        database = %settings.database_path.display(),
        mailboxes = ?watcher.iter().flat_map(|w| w.folders.iter().map(|f| f.name.clone())).collect::<Vec<_>>(),
        "collabd running"
    );
    serve_worker(db, filer, settings, announcer, shutdown.clone()).await;
    if let Some(task) = watching
        && tokio::time::timeout(STOP_GRACE, task).await.is_err()
    {
        tracing::warn!(
            "the IMAP watcher did not stop within {} s; leaving it",
            STOP_GRACE.as_secs()
        );
    }
    supervisor.abort();
    rejudging.abort();
    tracing::info!("collabd stopped");
    Ok(())
}

/// Tells systemd how the watcher is doing, and feeds its watchdog while
/// every folder task is within its own deadline.
async fn supervise(
    notifier: Arc<Notifier>,
    watcher: Option<Arc<Watcher>>,
    shutdown: CancellationToken,
) {
    let watchdog = Notifier::watchdog_interval().map(|d| d / 2);
    let tick = watchdog
        .unwrap_or(Duration::from_secs(30))
        .min(Duration::from_secs(30));
    let mut last_status = String::new();
    let mut stuck_reported = false;
    let changed = watcher.as_ref().map(|w| w.changed.clone());
    loop {
        let status = match &watcher {
            None => {
                "worker running; no mailbox watched (no [imap] in the configuration)".to_owned()
            }
            Some(w) => {
                let parts: Vec<String> = w
                    .folders
                    .iter()
                    .map(|f| format!("{} {}", f.name, f.state()))
                    .collect();
                format!("watching {}", parts.join(", "))
            }
        };
        if status != last_status {
            notifier.notify(&format!("STATUS={status}"));
            last_status = status;
        }
        if watchdog.is_some() {
            let stuck: Vec<&str> = watcher
                .iter()
                .flat_map(|w| w.folders.iter())
                .filter(|f| !f.making_progress())
                .map(|f| f.name.as_str())
                .collect();
            if stuck.is_empty() {
                notifier.notify("WATCHDOG=1");
                stuck_reported = false;
            } else if !stuck_reported {
                tracing::error!(
                    "the IMAP watcher for {} is stuck past its deadline; no longer feeding systemd's watchdog, so systemd restarts collabd",
                    stuck.join(", ")
                );
                stuck_reported = true;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = async {
                match &changed {
                    Some(c) => c.notified().await,
                    None => std::future::pending().await,
                }
            } => {}
            _ = shutdown.cancelled() => break,
        }
    }
}

async fn serve_worker(
    db: Db,
    filer: ConfiguredFiler,
    settings: &Settings,
    announcer: Option<NotifyFiler>,
    shutdown: CancellationToken,
) {
    let mut worker = Worker::new(db, filer, &settings.worker);
    worker.announcer = announcer;
    tracing::info!(filer = worker.filer.name(), "worker running");
    Arc::new(worker).run(shutdown).await;
}

async fn stop_on_signal(shutdown: CancellationToken, notifier: Arc<Notifier>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for SIGTERM/SIGINT; stop collabd with SIGKILL");
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: finishing the message and filings in hand"),
        _ = int.recv() => tracing::info!("SIGINT: finishing the message and filings in hand"),
    }
    notifier.notify("STOPPING=1\nSTATUS=stopping");
    shutdown.cancel();
}
