//! The worker lane: the worker and, for the browser filer, its
//! Collaborations-list sync, started and stopped together — what a reload
//! of `[worker]` replaces.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::filer::{ConfiguredFiler, Filer, NotifyFiler};
use crate::store::Db;
use crate::worker::Worker;

/// How long shutdown may take before collabd stops waiting for the watcher.
pub const STOP_GRACE: Duration = Duration::from_secs(8);

/// The worker and, for the browser filer, its Collaborations-list sync:
/// what a reload of `[worker]` replaces.
pub struct WorkerLane {
    stop: CancellationToken,
    worker: tokio::task::JoinHandle<()>,
    syncing: Option<tokio::task::JoinHandle<()>>,
    browser: Option<crate::filer::BrowserFiler>,
    pub filer: &'static str,
}

impl WorkerLane {
    /// Starts filing with `filer` until `shutdown` fires or the lane is
    /// stopped.
    pub fn start(
        db: Db,
        filer: ConfiguredFiler,
        announcer: Option<NotifyFiler>,
        settings: &crate::config::WorkerSettings,
        shutdown: &CancellationToken,
    ) -> WorkerLane {
        let stop = shutdown.child_token();
        // The browser filer also reads the dashboard's Collaborations list.
        let browser = match &filer {
            ConfiguredFiler::Browser(b) => Some(b.clone()),
            _ => None,
        };
        let on_this_node = crate::store::OnThisNode::unknown();
        let syncing = browser.as_ref().map(|b| {
            let (session, db, on, stop) = (
                b.session().clone(),
                db.clone(),
                on_this_node.clone(),
                stop.clone(),
            );
            tokio::spawn(async move { session.run_sync_while(db, &on, stop).await })
        });
        let mut worker = Worker::new(db, filer, settings);
        worker.announcer = announcer;
        worker.files_here = on_this_node;
        let name = worker.filer.name();
        tracing::info!(filer = name, "worker running");
        let worker = tokio::spawn(Arc::new(worker).run(stop.clone()));
        WorkerLane {
            stop,
            worker,
            syncing,
            browser,
            filer: name,
        }
    }

    /// Stops the lane once the filings in hand are done (nothing more is
    /// claimed), and closes its browser.
    pub async fn stop(&mut self) {
        self.stop.cancel();
        if let Err(e) = (&mut self.worker).await {
            tracing::error!("the worker ended abnormally: {e}");
        }
        if let Some(task) = self.syncing.take() {
            let _ = tokio::time::timeout(STOP_GRACE, task).await;
        }
        if let Some(b) = self.browser.take() {
            b.session().shutdown().await;
        }
    }
}
