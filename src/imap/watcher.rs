//! The watcher's loop: one task per folder connects, syncs, waits for news
//! (IDLE or polling), and on any error records its health and reconnects
//! with backoff. What a sync fetches is in `fetch`; what happens to a message
//! on the server afterwards, in `actions`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use async_imap::extensions::idle::IdleResponse;
use async_imap::types::UnsolicitedResponse;
use tokio_rustls::rustls::ClientConfig;
use tokio_util::sync::CancellationToken;

use super::conn::{self, ImapSession, Login, within};
use super::mutf7;
use super::oauth::TokenSource;
use super::status::FolderStatus;
use crate::config::{AfterProcessing, ImapAuth, ImapSettings};
use crate::ingest::Ingestor;
use crate::model::WatcherState;
use crate::store::{self, WatcherHealth};

/// Reconnect delays: from one second, doubling, to five minutes.
const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(300);
/// How often a node standing by tries to take a folder's lock (plus up to
/// a second of jitter): a folder whose node died is taken over within this
/// and the server's noticing (at once for a dead process, about 25 seconds
/// for a silent network).
const LOCK_RETRY: Duration = Duration::from_secs(5);

/// Watches every configured account's folders: one task per (account,
/// folder).
pub struct Watcher {
    accounts: Vec<Arc<Account>>,
    /// Every account's folders, in the order configured.
    pub folders: Vec<Arc<FolderStatus>>,
    /// Signalled on every state change, for the daemon's STATUS= line.
    pub changed: Arc<tokio::sync::Notify>,
}

/// One account: its server, login and folders.
pub(super) struct Account {
    pub(super) settings: ImapSettings,
    pub(super) ingestor: Ingestor,
    tls: Arc<ClientConfig>,
    tokens: Option<tokio::sync::Mutex<TokenSource>>,
    folders: Vec<Arc<FolderStatus>>,
    changed: Arc<tokio::sync::Notify>,
}

/// What every step of one folder's sync needs besides the session and the
/// database connection.
#[derive(Clone, Copy)]
pub(super) struct Pass<'a> {
    pub(super) status: &'a FolderStatus,
    pub(super) shutdown: &'a CancellationToken,
    pub(super) has_move: bool,
}

/// What a session knows of its folder between syncs: the folder stays
/// selected, so a sync after announced mail can learn its bound from STATUS
/// instead of a SELECT (see `bound`).
#[derive(Default)]
pub(super) struct Selection {
    /// The UIDVALIDITY the session's last SELECT reported; `None` before
    /// the first.
    pub(super) uidvalidity: Option<u32>,
    /// The server refused STATUS on the selected folder or left out UIDNEXT
    /// or UIDVALIDITY: every sync of this session SELECTs.
    pub(super) no_status: bool,
}

/// Why the wait for mail ended.
enum Wake {
    /// The server announced new mail (EXISTS or RECENT) in the selected
    /// folder: the next sync learns its bound from STATUS.
    Announced,
    /// Time to look again (poll, IDLE renewal, other news such as flags or
    /// an expunge): the next sync re-SELECTs, which also notices a changed
    /// UIDVALIDITY and bounds the UIDs the server may send.
    Look,
    Shutdown,
}

impl Watcher {
    /// The watcher of `accounts` (at least one), or the reason one of them
    /// cannot be watched (its TLS settings or OAuth2 client).
    pub fn new(accounts: Vec<ImapSettings>, ingestor: Ingestor) -> Result<Watcher> {
        let changed = Arc::new(tokio::sync::Notify::new());
        let accounts = accounts
            .into_iter()
            .map(|settings| Account::new(settings, ingestor.clone(), changed.clone()).map(Arc::new))
            .collect::<Result<Vec<_>>>()?;
        let folders = accounts
            .iter()
            .flat_map(|a| a.folders.iter().cloned())
            .collect();
        Ok(Watcher {
            accounts,
            folders,
            changed,
        })
    }

    /// Runs one task per (account, folder) until `shutdown`; each stops
    /// after the message in hand.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut tasks = tokio::task::JoinSet::new();
        for account in &self.accounts {
            for status in &account.folders {
                let (me, status, stop) = (account.clone(), status.clone(), shutdown.clone());
                tasks.spawn(async move { me.watch_folder(&status, &stop).await });
            }
        }
        while let Some(done) = tasks.join_next().await {
            if let Err(e) = done {
                tracing::error!("an IMAP folder task ended abnormally: {e}");
            }
        }
    }
}

impl Account {
    fn new(
        settings: ImapSettings,
        ingestor: Ingestor,
        changed: Arc<tokio::sync::Notify>,
    ) -> Result<Account> {
        let tls = conn::tls_config(settings.ca_file.as_deref(), settings.tls_pin.as_ref())
            .map_err(|e| e.context(format!("IMAP account `{}`", settings.name)))?;
        let tokens = match &settings.auth {
            ImapAuth::XOAuth2(o) => Some(tokio::sync::Mutex::new(TokenSource::new(o.clone())?)),
            ImapAuth::Password(_) => None,
        };
        let owner = settings.mailbox_owner();
        let folders = settings
            .folders
            .iter()
            .map(|f| {
                Arc::new(FolderStatus::new(
                    format!("{owner}/{f}"),
                    f.clone(),
                    settings.name.clone(),
                ))
            })
            .collect();
        Ok(Account {
            settings,
            ingestor,
            tls,
            tokens,
            folders,
            changed,
        })
    }

    async fn health(&self, status: &FolderStatus, h: WatcherHealth<'_>) {
        status.set_state(h.state);
        self.changed.notify_one();
        let now = crate::timestamp::Timestamp::now();
        if let Err(e) = store::set_watcher_health(
            &self.ingestor.db.pool,
            &status.name,
            &status.account,
            &h,
            &now,
        )
        .await
        {
            tracing::warn!(mailbox = %status.name, "cannot record the watcher's health: {e}");
        }
    }

    /// Watches one folder until `shutdown`. With several nodes on one
    /// PostgreSQL database, only while this node holds the folder's lock:
    /// until then it stands by, trying every few seconds; when the lock is
    /// lost (its connection failed) it stops after the message in hand and
    /// stands by again. Each holder starts from the stored checkpoint.
    async fn watch_folder(&self, status: &FolderStatus, shutdown: &CancellationToken) {
        let db = &self.ingestor.db;
        while let Some(mut lock) = self.take_lock(status, shutdown).await {
            if db.shared() {
                tracing::info!(mailbox = %status.name, account = %status.account, "this node now watches the folder");
            }
            let held = shutdown.child_token();
            let watching = self.watch_held(status, &held);
            tokio::pin!(watching);
            tokio::select! {
                () = &mut watching => {}
                e = lock.lost() => {
                    tracing::warn!(
                        mailbox = %status.name,
                        "lost this folder's lock ({e}); another node may take it over: stopping after the message in hand"
                    );
                    held.cancel();
                    // The message in hand may wait on the database too.
                    status.extend_within(Duration::from_secs(30));
                    watching.await;
                    status.set_state(WatcherState::Standby);
                    self.changed.notify_one();
                    continue;
                }
            }
            // Shut down: said while the lock is held, so that it cannot
            // overwrite what a node that takes the folder over records.
            self.health(
                status,
                WatcherHealth::without_error(WatcherState::Stopped, false),
            )
            .await;
            lock.release().await;
            break;
        }
        tracing::info!(mailbox = %status.name, "IMAP watcher stopped");
    }

    /// The folder's lock, once this node holds it; `None` at shutdown.
    async fn take_lock(
        &self,
        status: &FolderStatus,
        shutdown: &CancellationToken,
    ) -> Option<store::NodeLock> {
        let db = &self.ingestor.db;
        let name = format!("imap folder {}", status.name);
        let mut standing_by = false;
        loop {
            if shutdown.is_cancelled() {
                return None;
            }
            status.expect_within(store::ATTEMPT_WITHIN);
            match db.try_lock(&name).await {
                Ok(Some(lock)) => return Some(lock),
                Ok(None) => {
                    if !standing_by {
                        tracing::info!(
                            mailbox = %status.name,
                            "another node watches this folder; standing by to take it over"
                        );
                        standing_by = true;
                    }
                }
                Err(e) => tracing::warn!(
                    mailbox = %status.name,
                    "cannot take this folder's lock: {e}; trying again in {} seconds",
                    LOCK_RETRY.as_secs()
                ),
            }
            status.set_state(WatcherState::Standby);
            self.changed.notify_one();
            // The wait, its jitter, and the next attempt.
            status.expect_within(LOCK_RETRY + Duration::from_secs(1) + store::ATTEMPT_WITHIN);
            tokio::select! {
                _ = tokio::time::sleep(LOCK_RETRY + Duration::from_secs_f64(crate::queue::jitter())) => {}
                _ = shutdown.cancelled() => return None,
            }
        }
    }

    /// Watches the folder until `shutdown`, reconnecting with backoff.
    async fn watch_held(&self, status: &FolderStatus, shutdown: &CancellationToken) {
        let mut failures: u32 = 0;
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            let mut synced = false;
            match self.session(status, shutdown, &mut synced).await {
                Ok(()) => break,
                Err(e) => {
                    if synced {
                        failures = 0;
                    }
                    failures = failures.saturating_add(1);
                    let delay = crate::queue::backoff(
                        BACKOFF_MIN,
                        BACKOFF_MAX,
                        failures,
                        crate::queue::jitter(),
                    );
                    let message = crate::render::error(&e);
                    tracing::warn!(
                        mailbox = %status.name,
                        retry_in_s = delay.as_secs_f64().round(),
                        "IMAP watcher: {message}"
                    );
                    let retry_at = crate::timestamp::Timestamp::from(
                        chrono::Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default(),
                    );
                    self.health(
                        status,
                        WatcherHealth {
                            state: WatcherState::Backoff,
                            connected: false,
                            contact: false,
                            error: Some(&message),
                            next_retry_at: Some(&retry_at),
                            reconnect: true,
                        },
                    )
                    .await;
                    status.expect_within(delay);
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = shutdown.cancelled() => break,
                    }
                }
            }
        }
    }

    /// One session: connect, then sync and wait until an error or shutdown.
    async fn session(
        &self,
        status: &FolderStatus,
        shutdown: &CancellationToken,
        synced: &mut bool,
    ) -> Result<()> {
        let s = &self.settings;
        let limit = s.command_timeout;
        self.health(
            status,
            WatcherHealth::without_error(WatcherState::Connecting, false),
        )
        .await;
        // Connecting takes up to three bounded steps: TCP, TLS, login.
        status.expect_within(limit * 4 + Duration::from_secs(30));
        let mut sess = tokio::select! {
            r = self.connect() => r?,
            _ = shutdown.cancelled() => return Ok(()),
        };
        status.expect_within(limit);
        let caps = within(limit, "CAPABILITY", sess.capabilities()).await?;
        let has_idle = caps.has_str("IDLE");
        let has_move = caps.has_str("MOVE");
        if let AfterProcessing::MoveTo(to) = &s.after_processing {
            status.expect_within(limit);
            match within(limit, "CREATE", sess.create(mutf7::wire(to))).await {
                Ok(()) => tracing::info!("created folder `{to}` for {}.move_to", s.key),
                Err(e) if format!("{e:#}").to_ascii_lowercase().contains("exists") => {}
                Err(e) => {
                    return Err(
                        e.context(format!("cannot create the {}.move_to folder `{to}`", s.key))
                    );
                }
            }
        }
        tracing::info!(
            mailbox = %status.name,
            wait = if has_idle { "IDLE" } else { "polling" },
            "IMAP watcher connected"
        );
        let mut selection = Selection::default();
        let mut announced = false;
        loop {
            self.health(
                status,
                WatcherHealth::without_error(WatcherState::Syncing, true),
            )
            .await;
            let finished = self
                .sync(
                    &mut sess,
                    Pass {
                        status,
                        shutdown,
                        has_move,
                    },
                    &mut selection,
                    announced,
                )
                .await?;
            *synced = true;
            if !finished {
                break;
            }
            self.health(
                status,
                WatcherHealth::without_error(
                    if has_idle {
                        WatcherState::Idle
                    } else {
                        WatcherState::Polling
                    },
                    true,
                ),
            )
            .await;
            give_back_free_memory();
            let (next, wake) = self.wait(sess, status, shutdown, has_idle).await?;
            sess = next;
            announced = match wake {
                Wake::Announced => true,
                Wake::Look => false,
                Wake::Shutdown => break,
            };
        }
        status.expect_within(limit);
        let _ = tokio::time::timeout(limit.min(Duration::from_secs(5)), sess.logout()).await;
        Ok(())
    }

    async fn connect(&self) -> Result<ImapSession> {
        match &self.settings.auth {
            ImapAuth::Password(p) => {
                let password = p.expose_str();
                conn::open(&self.settings, &self.tls, Login::Password(&password)).await
            }
            ImapAuth::XOAuth2(_) => {
                let tokens = self
                    .tokens
                    .as_ref()
                    .expect("XOAUTH2 settings build a token source");
                let token = tokens.lock().await.access_token().await?;
                let token = token.expose_str();
                let r = conn::open(
                    &self.settings,
                    &self.tls,
                    Login::XOAuth2 {
                        access_token: &token,
                    },
                )
                .await;
                if r.is_err() {
                    // Perhaps revoked early: refresh before the next try.
                    tokens.lock().await.invalidate();
                }
                r
            }
        }
    }

    /// Waits for news: IDLE, re-issued every `idle_renew`, or a poll
    /// interval. Returns the session for the next sync.
    async fn wait(
        &self,
        sess: ImapSession,
        status: &FolderStatus,
        shutdown: &CancellationToken,
        has_idle: bool,
    ) -> Result<(ImapSession, Wake)> {
        let s = &self.settings;
        // The server may already have told us of new mail during the sync.
        let mut news = false;
        while let Ok(u) = sess.unsolicited_responses.try_recv() {
            news |= matches!(
                u,
                UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
            );
        }
        if news {
            return Ok((sess, Wake::Announced));
        }
        if !has_idle {
            status.expect_within(s.poll);
            tokio::select! {
                _ = tokio::time::sleep(s.poll) => return Ok((sess, Wake::Look)),
                _ = shutdown.cancelled() => return Ok((sess, Wake::Shutdown)),
            }
        }
        let mut idle = sess.idle();
        status.expect_within(s.command_timeout);
        within(s.command_timeout, "IDLE", idle.init()).await?;
        status.expect_within(s.idle_renew + s.command_timeout);
        let wake = {
            // The library's own timeout restarts on every "* OK Still here";
            // the renewal deadline here does not.
            let (fut, _stop) = idle.wait_with_timeout(s.idle_renew + s.command_timeout);
            tokio::pin!(fut);
            tokio::select! {
                r = &mut fut => match r.map_err(|e| conn::failed("IDLE", e.into()))? {
                    IdleResponse::NewData(d) if announces_mail(d.parsed()) => Wake::Announced,
                    // Other news, a timeout or the end of the connection:
                    // DONE and the SELECT that follows will tell which.
                    IdleResponse::NewData(_) | IdleResponse::Timeout | IdleResponse::ManualInterrupt => Wake::Look,
                },
                _ = tokio::time::sleep(s.idle_renew) => Wake::Look,
                _ = shutdown.cancelled() => Wake::Shutdown,
            }
        };
        tracing::debug!(mailbox = %status.name, "IDLE woke");
        status.expect_within(s.command_timeout);
        let sess = within(s.command_timeout, "DONE (end of IDLE)", idle.done()).await?;
        tracing::debug!(mailbox = %status.name, "IDLE done");
        Ok((sess, wake))
    }
}

/// Hands the allocator's free pages back to the system before waiting:
/// a sync's batches (bodies, verdicts, 2,000-UID header fetches) leave the
/// heap holding pages the idle watcher does not need, and glibc keeps them
/// until told. After a 10,000-message backfill this is most of the heap.
/// Cheap for a heap this size, and done after the sync's commit, so no
/// message waits for it.
fn give_back_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes glibc's own arena locks and touches only
    // memory that is free; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Whether a response the server sent during IDLE announces new mail.
fn announces_mail(r: &async_imap::imap_proto::Response<'_>) -> bool {
    use async_imap::imap_proto::{MailboxDatum, Response};
    matches!(
        r,
        Response::MailboxData(MailboxDatum::Exists(_) | MailboxDatum::Recent(_))
    )
}
