//! The IMAP watcher: one task per watched folder keeps a session open, fetches
//! every message above the folder's checkpoint, stores it, and waits for more
//! with IDLE (or polling). Any error ends the session; the task reconnects
//! with backoff and records its health in `mailbox_state`. It never exits
//! until shutdown.
//!
//! Per sync: SELECT; compare UIDVALIDITY with the checkpoint (a change means
//! a rescan, harmless because messages are stored once by digest); fetch the
//! few header fields that decide candidacy for every UID above the
//! checkpoint; download full bodies (`BODY.PEEK[]`, so nothing is marked
//! read) only for candidates, in batches; store each message and advance the
//! checkpoint in one transaction; then apply the after-processing action.

pub mod answers;
pub mod conn;
pub mod oauth;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow};
use async_imap::extensions::idle::IdleResponse;
use async_imap::types::{Fetch, UnsolicitedResponse};
use futures_util::TryStreamExt;
use sqlx::Connection;
use tokio_rustls::rustls::ClientConfig;
use tokio_util::sync::CancellationToken;

use crate::config::{AfterProcessing, ImapAuth, ImapSettings};
use crate::ingest::Ingestor;
use crate::model::{Actor, EventKind, WatcherState};
use crate::store::{self, Event, Source, WatcherHealth};
use answers::UidRange;
use conn::{ImapSession, Login, within};
use oauth::TokenSource;

/// Bodies are downloaded in batches of at most this many messages…
const BATCH_MESSAGES: usize = 64;
/// …and about this many bytes, so memory stays small whatever the mailbox.
const BATCH_BYTES: u64 = 8 * 1024 * 1024;
/// Headers are fetched this many UIDs at a time.
const UID_WINDOW: u32 = 500;
/// Bounded commands in the longest after-processing action: COPY, STORE
/// and EXPUNGE, two of them with a reply stream to drain.
const AFTER_PROCESSING_STEPS: u32 = 5;
/// Reconnect delays: from one second, doubling, to five minutes.
const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// What one folder's task is doing, shared with the daemon for systemd's
/// STATUS= and watchdog.
#[derive(Debug)]
pub struct FolderStatus {
    /// The `mailbox_state` key: account and folder.
    pub name: String,
    pub folder: String,
    state: Mutex<WatcherState>,
    /// Milliseconds (since process start) by which the task must report
    /// progress: each bounded wait moves it.
    deadline_ms: AtomicI64,
}

fn clock_ms() -> i64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as i64
}

impl FolderStatus {
    fn new(name: String, folder: String) -> FolderStatus {
        FolderStatus {
            name,
            folder,
            state: Mutex::new(WatcherState::Starting),
            deadline_ms: AtomicI64::new(clock_ms() + 120_000),
        }
    }

    pub fn state(&self) -> WatcherState {
        *self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Connected to the server: syncing, in IDLE, or between polls.
    pub fn connected(&self) -> bool {
        self.state().is_connected()
    }

    fn set_state(&self, s: WatcherState) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = s;
    }

    /// The next step will finish (or time out) within `d`.
    fn expect_within(&self, d: Duration) {
        self.deadline_ms
            .store(clock_ms() + d.as_millis() as i64 + 5_000, Ordering::Relaxed);
    }

    /// False when the task has gone past its own deadline: it is stuck, and
    /// the watchdog must stop vouching for the daemon.
    pub fn making_progress(&self) -> bool {
        clock_ms() <= self.deadline_ms.load(Ordering::Relaxed)
    }
}

/// Watches the configured account's folders.
pub struct Watcher {
    settings: ImapSettings,
    ingestor: Ingestor,
    tls: Arc<ClientConfig>,
    tokens: Option<tokio::sync::Mutex<TokenSource>>,
    pub folders: Vec<Arc<FolderStatus>>,
    /// Signalled on every state change, for the daemon's STATUS= line.
    pub changed: Arc<tokio::sync::Notify>,
}

/// What every step of one folder's sync needs besides the session and the
/// database connection.
#[derive(Clone, Copy)]
struct Pass<'a> {
    status: &'a FolderStatus,
    shutdown: &'a CancellationToken,
    has_move: bool,
}

/// Why the wait for mail ended.
enum Wake {
    /// New mail was announced, or it is time to look again (poll, IDLE
    /// renewal): the next sync re-SELECTs, which also notices a changed
    /// UIDVALIDITY and bounds the UIDs the server may send.
    Look,
    Shutdown,
}

impl Watcher {
    pub fn new(settings: ImapSettings, ingestor: Ingestor) -> Result<Watcher> {
        let tls = conn::tls_config(settings.ca_file.as_deref())?;
        let tokens = match &settings.auth {
            ImapAuth::XOAuth2(o) => Some(tokio::sync::Mutex::new(TokenSource::new(o.clone())?)),
            ImapAuth::Password(_) => None,
        };
        let account = if settings.user.contains('@') {
            settings.user.clone()
        } else {
            format!("{}@{}", settings.user, settings.host)
        };
        let folders = settings
            .folders
            .iter()
            .map(|f| Arc::new(FolderStatus::new(format!("{account}/{f}"), f.clone())))
            .collect();
        Ok(Watcher {
            settings,
            ingestor,
            tls,
            tokens,
            folders,
            changed: Arc::new(tokio::sync::Notify::new()),
        })
    }

    /// Runs one task per folder until `shutdown`; each stops after the
    /// message in hand.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut tasks = tokio::task::JoinSet::new();
        for status in &self.folders {
            let (me, status, stop) = (self.clone(), status.clone(), shutdown.clone());
            tasks.spawn(async move { me.watch_folder(&status, &stop).await });
        }
        while let Some(done) = tasks.join_next().await {
            if let Err(e) = done {
                tracing::error!("an IMAP folder task ended abnormally: {e}");
            }
        }
    }

    async fn health(&self, status: &FolderStatus, h: WatcherHealth<'_>) {
        status.set_state(h.state);
        self.changed.notify_one();
        let now = store::timestamp(chrono::Utc::now());
        if let Err(e) =
            store::set_watcher_health(&self.ingestor.db.pool, &status.name, &h, &now).await
        {
            tracing::warn!(mailbox = %status.name, "cannot record the watcher's health: {e}");
        }
    }

    async fn watch_folder(&self, status: &FolderStatus, shutdown: &CancellationToken) {
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
                    let message = format!("{e:#}");
                    tracing::warn!(
                        mailbox = %status.name,
                        retry_in_s = delay.as_secs_f64().round(),
                        "IMAP watcher: {message}"
                    );
                    let retry_at = store::timestamp(
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
        self.health(
            status,
            WatcherHealth::without_error(WatcherState::Stopped, false),
        )
        .await;
        tracing::info!(mailbox = %status.name, "IMAP watcher stopped");
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
            match within(limit, "CREATE", sess.create(to)).await {
                Ok(()) => tracing::info!("created folder `{to}` for imap.move_to"),
                Err(e) if format!("{e:#}").to_ascii_lowercase().contains("exists") => {}
                Err(e) => {
                    return Err(e.context(format!("cannot create the imap.move_to folder `{to}`")));
                }
            }
        }
        tracing::info!(
            mailbox = %status.name,
            wait = if has_idle { "IDLE" } else { "polling" },
            "IMAP watcher connected"
        );
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
            let (next, wake) = self.wait(sess, status, shutdown, has_idle).await?;
            sess = next;
            if matches!(wake, Wake::Shutdown) {
                break;
            }
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
            return Ok((sess, Wake::Look));
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
                    // New data, a timeout or the end of the connection:
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

    /// Brings the folder's checkpoint up to the newest message. Returns
    /// false when it stopped early for shutdown. Every sync re-SELECTs, even right after IDLE announced
    /// new mail: SELECT's UIDNEXT is the bound every UID the server then
    /// sends is checked against, so a hostile `n:*` answer cannot carry the
    /// checkpoint past it (one round trip, a few milliseconds).
    async fn sync(&self, sess: &mut ImapSession, pass: Pass<'_>) -> Result<bool> {
        let status = pass.status;
        let mut conn = self.ingestor.db.pool.acquire().await?;
        let (uidvalidity, new) = self.select(sess, status, &mut conn).await?;
        self.retry_actions(sess, pass, &mut conn, uidvalidity)
            .await?;
        let Some((last_uid, upto)) = new else {
            return Ok(true);
        };
        self.fetch_new(sess, pass, &mut conn, uidvalidity, last_uid, upto)
            .await
    }

    /// SELECTs the folder and reconciles its UIDVALIDITY with the checkpoint.
    /// Returns the UIDVALIDITY, and the UID to fetch above with the newest
    /// UID if the server said (UIDNEXT), or `None` when there is nothing new.
    async fn select(
        &self,
        sess: &mut ImapSession,
        status: &FolderStatus,
        conn: &mut sqlx::SqliteConnection,
    ) -> Result<(u32, Option<(u32, Option<u32>)>)> {
        let limit = self.settings.command_timeout;
        let name = status.name.as_str();
        status.expect_within(limit);
        let mb = within(limit, "SELECT", sess.select(&status.folder))
            .await
            .with_context(|| {
                format!(
                    "cannot open folder `{}` (check imap.folders)",
                    status.folder
                )
            })?;
        let uidvalidity = mb
            .uid_validity
            .ok_or_else(|| anyhow!("the server sent no UIDVALIDITY for `{}`", status.folder))?;
        let uid_next = answers::uid_next(&status.folder, mb.uid_next)?;
        let last_uid = match store::mailbox_checkpoint(conn, name).await? {
            Some((Some(v), uid)) if v == uidvalidity => uid,
            previous => {
                if let Some((Some(old), _)) = previous {
                    tracing::warn!(
                        mailbox = name,
                        "UIDVALIDITY changed from {old} to {uidvalidity} (the folder was recreated or restored): rescanning it; messages already stored are recognised and not stored twice"
                    );
                }
                status.expect_within(limit);
                let start = self.first_uid(sess, &status.folder, &mb).await?;
                let now = store::timestamp(chrono::Utc::now());
                store::set_checkpoint(conn, name, uidvalidity, start, &now).await?;
                start
            }
        };
        if let Some(next) = uid_next {
            answers::uid_next_ahead(&status.folder, next, last_uid, uidvalidity)?;
        }
        // Past the checks UIDNEXT is above the checkpoint, so `next - 1` holds.
        let upto = uid_next.map(|next| next - 1);
        let nothing_new = mb.exists == 0 || upto == Some(last_uid);
        Ok((uidvalidity, (!nothing_new).then_some((last_uid, upto))))
    }

    /// Everything above `last_uid`, in windows of UIDs so that a mailbox of
    /// any size costs the same memory: headers for all, bodies for
    /// candidates, each stored with its checkpoint in one transaction. `upto`
    /// is the newest UID when known (after a SELECT); else one `n:*` pass.
    async fn fetch_new(
        &self,
        sess: &mut ImapSession,
        pass: Pass<'_>,
        conn: &mut sqlx::SqliteConnection,
        uidvalidity: u32,
        mut last_uid: u32,
        upto: Option<u32>,
    ) -> Result<bool> {
        // The checkpoint at u32::MAX leaves no UID to ask for.
        let Some(mut from) = last_uid.checked_add(1) else {
            return Ok(true);
        };
        loop {
            let range = match upto {
                Some(end) if from > end => return Ok(true),
                Some(end) => UidRange {
                    from,
                    to: Some(end.min(from.saturating_add(UID_WINDOW - 1))),
                },
                None => UidRange { from, to: None },
            };
            let (finished, reached) = self
                .fetch_range(sess, pass, conn, uidvalidity, last_uid, range)
                .await?;
            last_uid = reached;
            match range.to.and_then(|to| to.checked_add(1)) {
                Some(next) if finished => from = next,
                _ => return Ok(finished),
            }
        }
    }

    /// One window of UIDs (`range`): headers for all, then bodies for the
    /// candidates in batches. Returns false on shutdown, and the checkpoint
    /// reached.
    async fn fetch_range(
        &self,
        sess: &mut ImapSession,
        pass: Pass<'_>,
        conn: &mut sqlx::SqliteConnection,
        uidvalidity: u32,
        mut last_uid: u32,
        range: UidRange,
    ) -> Result<(bool, u32)> {
        let Pass {
            status,
            shutdown,
            has_move,
        } = pass;
        let s = &self.settings;
        let limit = s.command_timeout;
        let name = status.name.as_str();

        // Headers first: a few fields decide which bodies are worth fetching.
        status.expect_within(limit);
        let query = format!(
            "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({})])",
            crate::mail::Classifier::CANDIDATE_HEADERS
        );
        let mut heads: Vec<Head> = Vec::new();
        {
            let mut stream = within(
                limit,
                "UID FETCH (headers)",
                sess.uid_fetch(range.to_string(), &query),
            )
            .await?;
            loop {
                status.expect_within(limit);
                let Some(f) = within(limit, "UID FETCH (headers)", stream.try_next()).await? else {
                    break;
                };
                // A FETCH with neither size nor header is the server's news
                // of another message's flags, not an answer.
                let Some(uid) = f.uid.filter(|_| f.size.is_some() || f.header().is_some()) else {
                    continue;
                };
                let uid = answers::fetched(&status.folder, range, uid)?;
                // `n:*` names the last message even when its UID is below n.
                if uid <= last_uid {
                    continue;
                }
                let header = f.header().unwrap_or_default();
                heads.push(Head {
                    uid,
                    size: f.size.map_or(0, u64::from),
                    candidate: self.ingestor.classifier.is_candidate(header),
                    summary: if f.size.is_some_and(|n| u64::from(n) > s.max_message_bytes) {
                        Some(header_summary(header))
                    } else {
                        None
                    },
                });
            }
        }
        tracing::debug!(mailbox = name, n = heads.len(), "headers fetched");
        heads.sort_by_key(|h| h.uid);
        heads.dedup_by_key(|h| h.uid);
        let Some(newest) = heads.last().map(|h| h.uid) else {
            return Ok((true, last_uid));
        };

        let mut stored = 0usize;
        let mut i = 0;
        while i < heads.len() {
            if shutdown.is_cancelled() {
                return Ok((false, last_uid));
            }
            // The next batch of candidates, and the non-candidates among them.
            let mut batch: Vec<&Head> = Vec::new();
            let mut bytes = 0u64;
            let mut end = i;
            while end < heads.len() && batch.len() < BATCH_MESSAGES {
                let h = &heads[end];
                if h.candidate {
                    if !batch.is_empty() && bytes + h.size > BATCH_BYTES {
                        break;
                    }
                    bytes += h.size;
                    batch.push(h);
                }
                end += 1;
            }
            let wanted: Vec<u32> = batch
                .iter()
                .filter(|h| h.size <= s.max_message_bytes)
                .map(|h| h.uid)
                .collect();
            let mut bodies: HashMap<u32, Fetch> = HashMap::new();
            if !wanted.is_empty() {
                status.expect_within(limit);
                let mut stream = within(
                    limit,
                    "UID FETCH (bodies)",
                    sess.uid_fetch(uid_set(&wanted), "(UID INTERNALDATE BODY.PEEK[])"),
                )
                .await?;
                loop {
                    status.expect_within(limit);
                    let Some(f) = within(limit, "UID FETCH (bodies)", stream.try_next()).await?
                    else {
                        break;
                    };
                    if let Some(uid) = f.uid {
                        bodies.insert(uid, f);
                    }
                }
            }
            tracing::debug!(mailbox = name, n = bodies.len(), "bodies fetched");
            let mut processed = Vec::new();
            for h in &batch {
                if shutdown.is_cancelled() {
                    return Ok((false, last_uid));
                }
                // Judge before taking the write lock: classification runs
                // off the runtime within its budget, DKIM may wait on DNS.
                let fetched = bodies.get(&h.uid).filter(|_| h.size <= s.max_message_bytes);
                let body = match fetched.and_then(|f| f.body().map(|raw| (f, raw))) {
                    Some((f, raw)) => {
                        status.expect_within(limit + crate::ingest::CLASSIFY_BUDGET * 5);
                        let received = f.internal_date().map(|d| d.with_timezone(&chrono::Utc));
                        Some((raw, self.ingestor.judge(raw).await, received))
                    }
                    None => None,
                };
                let now = chrono::Utc::now();
                let now_s = store::timestamp(now);
                let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
                if h.size > s.max_message_bytes {
                    let detail = format!(
                        "message UID {} in {} is {} bytes, over imap.max_message_bytes ({}); not downloaded. {}. Raise the limit to have it read, or handle it by hand",
                        h.uid,
                        status.folder,
                        h.size,
                        s.max_message_bytes,
                        h.summary.as_deref().unwrap_or("")
                    );
                    tracing::warn!(mailbox = name, "{detail}");
                    store::add_event(
                        &mut tx,
                        &Event {
                            request_id: None,
                            message_id: None,
                            actor: &Actor::Imap,
                            event: EventKind::SkippedOversize,
                            from_state: None,
                            to_state: None,
                            detail: Some(&detail),
                        },
                        &now_s,
                    )
                    .await?;
                } else if let Some((raw, judged, received)) = &body {
                    let source = Source::Imap {
                        mailbox: name.to_owned(),
                        uidvalidity,
                        uid: h.uid,
                    };
                    let report = self
                        .ingestor
                        .store_in(&mut tx, raw, judged, &source, received.unwrap_or(now), now)
                        .await?;
                    if report.new {
                        stored += 1;
                        tracing::info!(
                            mailbox = name,
                            uid = h.uid,
                            message_id = report.message,
                            kind = report.kind.as_str(),
                            created = ?report.created.iter().map(|r| r.0).collect::<Vec<_>>(),
                            reason = report.reason.as_deref().unwrap_or(""),
                            "stored a message"
                        );
                    }
                    if self.settings.after_processing != AfterProcessing::Nothing {
                        store::add_pending_action(&mut tx, name, uidvalidity, h.uid, &now_s)
                            .await?;
                    }
                    processed.push(h.uid);
                } else {
                    // Expunged between the two fetches: nothing to store.
                    tracing::debug!(
                        mailbox = name,
                        uid = h.uid,
                        "message vanished before download"
                    );
                }
                store::set_checkpoint(&mut tx, name, uidvalidity, h.uid, &now_s).await?;
                tx.commit().await?;
                last_uid = h.uid;
            }
            // Non-candidates up to here need no download, only the checkpoint.
            let through = heads[end - 1].uid;
            if through > last_uid {
                let now_s = store::timestamp(chrono::Utc::now());
                store::set_checkpoint(conn, name, uidvalidity, through, &now_s).await?;
                last_uid = through;
            }
            if !processed.is_empty() {
                status.expect_within(limit * AFTER_PROCESSING_STEPS);
                self.after_processing(sess, conn, name, uidvalidity, &processed, has_move)
                    .await?;
            }
            i = end;
        }
        debug_assert_eq!(last_uid, newest);
        tracing::debug!(mailbox = name, stored, scanned = heads.len(), "sync done");
        if stored > 0 {
            tracing::info!(
                mailbox = name,
                stored,
                scanned = heads.len(),
                "synced folder"
            );
        }
        Ok((true, last_uid))
    }

    /// The checkpoint to start from when a folder is first seen (or its
    /// UIDVALIDITY changed): 0 for all mail, or just before the first message
    /// on or after `since`.
    async fn first_uid(
        &self,
        sess: &mut ImapSession,
        folder: &str,
        mb: &async_imap::types::Mailbox,
    ) -> Result<u32> {
        let Some(since) = self.settings.since else {
            return Ok(0);
        };
        let query = format!("SINCE {}", since.format("%-d-%b-%Y"));
        let uids = within(
            self.settings.command_timeout,
            "UID SEARCH",
            sess.uid_search(&query),
        )
        .await?;
        Ok(
            match answers::before_first_found(folder, &uids, mb.uid_next)? {
                Some(start) => start,
                None => mb.uid_next.map_or(0, |n| n.saturating_sub(1)),
            },
        )
    }

    /// Retries the actions a crash or a failure left undone, before this
    /// sync stores anything new; and forgets those under an old UIDVALIDITY.
    async fn retry_actions(
        &self,
        sess: &mut ImapSession,
        pass: Pass<'_>,
        conn: &mut sqlx::SqliteConnection,
        uidvalidity: u32,
    ) -> Result<()> {
        let name = pass.status.name.as_str();
        let (current, stale): (Vec<_>, Vec<_>) = store::pending_actions(conn, name)
            .await?
            .into_iter()
            .partition(|(v, _)| *v == uidvalidity);
        if !stale.is_empty() {
            store::drop_stale_actions(conn, name, uidvalidity).await?;
            tracing::warn!(
                mailbox = name,
                "forgot the after-processing of {} messages from before the UIDVALIDITY change; the rescan handles them again",
                stale.len()
            );
        }
        let pending: Vec<u32> = current.into_iter().map(|(_, uid)| uid).collect();
        for uids in pending.chunks(UID_WINDOW as usize) {
            if pass.shutdown.is_cancelled() {
                break;
            }
            tracing::info!(
                mailbox = name,
                n = uids.len(),
                "retrying after-processing left undone"
            );
            pass.status
                .expect_within(self.settings.command_timeout * AFTER_PROCESSING_STEPS);
            self.after_processing(sess, conn, name, uidvalidity, uids, pass.has_move)
                .await?;
        }
        Ok(())
    }

    /// Marks or moves messages once their rows are committed, then clears
    /// their pending rows. A failure is logged and counted on those rows,
    /// which the next sync retries; only a database error is returned.
    async fn after_processing(
        &self,
        sess: &mut ImapSession,
        conn: &mut sqlx::SqliteConnection,
        name: &str,
        uidvalidity: u32,
        uids: &[u32],
        has_move: bool,
    ) -> Result<()> {
        let limit = self.settings.command_timeout;
        let set = uid_set(uids);
        let result: Result<()> = async {
            match &self.settings.after_processing {
                AfterProcessing::Nothing => {}
                AfterProcessing::MarkSeen => {
                    let stream = within(
                        limit,
                        "UID STORE +FLAGS (\\Seen)",
                        sess.uid_store(&set, "+FLAGS.SILENT (\\Seen)"),
                    )
                    .await?;
                    within(limit, "UID STORE", drain(stream)).await?;
                }
                AfterProcessing::MoveTo(to) if has_move => {
                    within(limit, "UID MOVE", sess.uid_mv(&set, to)).await?;
                }
                AfterProcessing::MoveTo(to) => {
                    within(limit, "UID COPY", sess.uid_copy(&set, to)).await?;
                    let stream = within(
                        limit,
                        "UID STORE +FLAGS (\\Deleted)",
                        sess.uid_store(&set, "+FLAGS.SILENT (\\Deleted)"),
                    )
                    .await?;
                    within(limit, "UID STORE", drain(stream)).await?;
                    let stream = within(limit, "UID EXPUNGE", sess.uid_expunge(&set)).await?;
                    within(limit, "UID EXPUNGE", drain(stream)).await?;
                }
            }
            Ok(())
        }
        .await;
        let error = result.err().map(|e| format!("{e:#}"));
        if let Some(e) = &error {
            tracing::warn!(
                mailbox = name,
                "after-processing of UIDs {set} failed; the messages are stored, stay where they are, and the action is retried on the next sync: {e}"
            );
        }
        let now = store::timestamp(chrono::Utc::now());
        store::settle_actions(conn, name, uidvalidity, uids, error.as_deref(), &now).await?;
        Ok(())
    }
}

async fn drain<S, T>(stream: S) -> std::result::Result<(), async_imap::error::Error>
where
    S: futures_util::Stream<Item = std::result::Result<T, async_imap::error::Error>>,
{
    futures_util::pin_mut!(stream);
    while stream.try_next().await?.is_some() {}
    Ok(())
}

/// What the header pass learned about one message.
struct Head {
    uid: u32,
    size: u64,
    candidate: bool,
    /// From and Subject, for the event about an oversized message.
    summary: Option<String>,
}

fn header_summary(header: &[u8]) -> String {
    let Some(msg) = mail_parser::MessageParser::default().parse_headers(header) else {
        return String::new();
    };
    let from = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or("?");
    format!("From: {from}, Subject: {}", msg.subject().unwrap_or(""))
}

/// A compact UID set: `1:5,7,9:12`.
pub fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_are_compact_and_sorted() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8, 12]), "1:3,5,7:8,12");
        assert_eq!(uid_set(&[9, 3, 4, 3]), "3:4,9");
        assert_eq!(uid_set(&[42]), "42");
    }

    #[test]
    fn a_task_past_its_deadline_is_not_making_progress() {
        let s = FolderStatus::new("a/INBOX".into(), "INBOX".into());
        assert!(s.making_progress());
        s.deadline_ms.store(clock_ms() - 1, Ordering::Relaxed);
        assert!(!s.making_progress());
        s.expect_within(Duration::from_secs(10));
        assert!(s.making_progress());
    }
}
