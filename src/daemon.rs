//! `collabd run`: opens the database, then runs the IMAP watcher and the
//! worker side by side until its `shutdown` fires (`main` fires it on
//! SIGTERM or SIGINT; tests fire it themselves), finishing the message and
//! filings in hand. The [`Supervisor`] tells systemd READY=1 once the
//! database is ready (not waiting on IMAP), STATUS= with the watcher's
//! state, WATCHDOG=1 only while every watcher task keeps to its own
//! deadlines, and STOPPING=1.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tokio_util::sync::CancellationToken;

use crate::config::{ConfigProblem, Settings};
use crate::filer::{ConfiguredFiler, Filer};
use crate::imap::Watcher;
use crate::lane::{STOP_GRACE, WorkerLane};
use crate::reload::Reload;
use crate::sdnotify::Notifier;
use crate::store::Db;

/// Runs the daemon until `shutdown` is cancelled, then stops its tasks and
/// returns. Refuses to start (a [`ConfigProblem`] naming the setting) when
/// the configured filer, the notify channels or the IMAP watcher's TLS
/// cannot be built.
pub async fn run(settings: Settings, shutdown: CancellationToken) -> Result<()> {
    run_with(settings, shutdown, None).await
}

/// [`run`], reloading on each of `reload`'s signals.
pub async fn run_with(
    settings: Settings,
    shutdown: CancellationToken,
    reload: Option<Reload>,
) -> Result<()> {
    let notifier = Arc::new(Notifier::from_env());
    for what in &settings.insecure {
        tracing::warn!("{what}: secrets and codes cross the network unencrypted");
    }
    for what in &settings.exposed {
        tracing::warn!("{what}");
    }
    let w = &settings.worker;
    let filer = crate::filer::from_settings(w).map_err(ConfigProblem)?;
    // Where operators hear of outcomes: the notify channels, with any filer.
    let announcer = crate::filer::notify::announcer(w).map_err(ConfigProblem)?;
    if w.review != crate::config::Review::None && announcer.is_none() {
        tracing::warn!(
            review = w.review.as_str(),
            "worker.review is on but there is no [worker.notify]: nobody is told when a request awaits review (see `collabd status --state awaiting_review` or the status page)"
        );
    }
    let db = Db::open_configured(&settings).await?;
    let ingestor = crate::ingest::Ingestor::from_settings(&settings, db.clone())?;
    let watcher = match settings.imap.is_empty() {
        false => Some(Arc::new(
            Watcher::new(settings.imap.clone(), ingestor.clone()).map_err(ConfigProblem)?,
        )),
        true => {
            tracing::warn!(
                "no [imap] table in the configuration: no mailbox is watched; feed mail with `collabd ingest -`"
            );
            None
        }
    };
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
    let supervisor =
        tokio::spawn(Supervisor::new(notifier.clone(), watcher.clone()).run(shutdown.clone()));
    let mut page = None;
    if let Some(http) = &settings.http {
        page = (http.page != crate::config::PageAccess::NotServed).then(|| {
            Arc::new(crate::status_page::Web::new(
                http,
                db.clone(),
                watcher.clone(),
                filer.name().to_owned(),
                w.notify.as_ref().and_then(|n| n.dev_org_id.clone()),
                state_dir(&settings.database_path),
            ))
        });
        let health = crate::listener::ListenerState {
            db: db.clone(),
            watcher: watcher.clone(),
            leadsie: settings
                .leadsie
                .as_ref()
                .map(|l| Arc::new(crate::leadsie::endpoint::Webhook::new(l, ingestor.clone()))),
            page: page.clone(),
            browser_filer: matches!(filer, ConfiguredFiler::Browser(_)),
        };
        // Without the endpoint collabd still does its job: say so, go on.
        if let Err(e) = crate::listener::serve(http, health, shutdown.clone()).await {
            tracing::error!(
                "{}; /healthz and /metrics are not served",
                crate::render::error(&e)
            );
        }
    }
    tracing::info!(
        database = %settings.database_shown(),
        mailboxes = ?watcher.iter().flat_map(|w| w.folders.iter().map(|f| f.name.clone())).collect::<Vec<_>>(),
        "collabd running"
    );
    let purging = {
        let (db, days, shutdown) = (db.clone(), settings.raw_retention_days, shutdown.clone());
        tokio::spawn(purge_raw_daily(db, days, shutdown))
    };
    let mut lane = WorkerLane::start(db, filer, announcer, &settings.worker, &shutdown);
    if let Some(mut reload) = reload {
        let live = crate::reload::Live {
            ingestor: &ingestor,
            page: page.as_deref(),
            notifier: &notifier,
        };
        let mut settings = settings;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                signal = reload.signals.recv() => {
                    if signal.is_none() {
                        shutdown.cancelled().await;
                        break;
                    }
                    crate::reload::reload(&mut settings, &mut lane, &reload, &live, &shutdown).await;
                }
            }
        }
    } else {
        shutdown.cancelled().await;
    }
    lane.stop().await;
    purging.abort();
    if let Some(task) = watching
        && tokio::time::timeout(STOP_GRACE, task).await.is_err()
    {
        tracing::warn!(
            "the IMAP watcher did not stop within {} s; leaving it",
            STOP_GRACE.as_secs()
        );
    }
    // It has said STOPPING=1 and returned once `shutdown` fired.
    let _ = supervisor.await;
    rejudging.abort();
    tracing::info!("collabd stopped");
    Ok(())
}

/// The state directory: where the database lives (`StateDirectory=`
/// under systemd). The browser filer's screenshots are served from under it.
fn state_dir(database: &std::path::Path) -> std::path::PathBuf {
    match database.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d.to_owned(),
        None => std::path::PathBuf::from("."),
    }
}

/// Speaks for the daemon to systemd: how the watcher is doing (STATUS=),
/// that it is alive (WATCHDOG=1, only while every folder task keeps to its
/// own deadline) and, once shutdown fires, STOPPING=1.
pub struct Supervisor {
    /// Where the messages go; says nothing outside systemd.
    notifier: Arc<Notifier>,
    /// Whose folders are reported and must make progress for the watchdog
    /// to be fed; `None` when no mailbox is watched.
    watcher: Option<Arc<Watcher>>,
    /// How often to feed the watchdog (half systemd's interval), when
    /// systemd asked for one.
    watchdog: Option<Duration>,
}

impl Supervisor {
    pub fn new(notifier: Arc<Notifier>, watcher: Option<Arc<Watcher>>) -> Supervisor {
        Supervisor {
            notifier,
            watcher,
            watchdog: Notifier::watchdog_interval().map(|d| d / 2),
        }
    }

    /// Reports until `shutdown` fires, then says STOPPING=1.
    pub async fn run(self, shutdown: CancellationToken) {
        let Supervisor {
            notifier,
            watcher,
            watchdog,
        } = self;
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
        notifier.notify("STOPPING=1\nSTATUS=stopping");
    }
}

/// Deletes the raw bytes of messages older than `[database]
/// raw_retention_days` (0: kept for ever) at start and then daily; the
/// classification and timeline stay.
async fn purge_raw_daily(db: Db, days: u32, shutdown: CancellationToken) {
    if days == 0 {
        return;
    }
    loop {
        match crate::store::purge_raw_older_than(&db.pool, days, &chrono::Utc::now().into()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                messages = n,
                "deleted the raw bytes of messages older than {days} days ([database] raw_retention_days)"
            ),
            Err(e) => tracing::warn!("could not purge old raw mail: {e}; trying again tomorrow"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(24 * 60 * 60)) => {}
        }
    }
}
