//! The browser filer's session with the dashboard: the one browser it
//! drives (one tab at a time, a time budget for each piece of work, the
//! browser restarted when it dies or hangs, closed when idle), what a
//! filing does there (the hourly limit; a submission recorded before the
//! button is pressed and checked — never pressed again — after a crash),
//! the login's health (requests wait, and operators are told once, when it
//! lapsed; a new login makes them due), and the Collaborations list's
//! schedule. What it keeps, it keeps through the [`BrowserLedger`] it is
//! handed; it opens no database. Which request state an outcome means is
//! the filer's ([`crate::filer::browser`]).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::form::{self, Evidence, Filled, Job, Outcome};
use super::sync::{self, ListProblem, ListStatus};
use super::{Browser, BrowserError, Launch};
use crate::config::BrowserSettings;
use crate::filer::notify::NotifyFiler;
use crate::model::{SessionState, Wait};
use crate::queue::Failure;
use crate::store;
use crate::store::browser::{BrowserLedger, Changes};
use crate::timestamp::Timestamp;

/// What `status` and `/healthz` say while the session has lapsed, and how
/// the `last_error` of a request waiting for a login starts (for people: the
/// wait itself is `waiting_for`).
pub const LOGIN_NEEDED: &str = "browser login needed";

/// The browser and its dashboard session. Cloning it gives another handle
/// on the same browser.
#[derive(Debug, Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    settings: BrowserSettings,
    /// The one browser, held for a whole piece of work: one tab at a time.
    browser: tokio::sync::Mutex<Option<Browser>>,
    /// Held from the rate check to the end of the filing, so filings the
    /// worker runs at once cannot all pass the check together.
    filing: tokio::sync::Mutex<()>,
    /// The running browser's process group (0: none), readable while a
    /// filing holds the browser.
    pgid: std::sync::atomic::AtomicI32,
    /// When the browser last finished work, for closing it when idle.
    last_used: std::sync::Mutex<Instant>,
    /// Where operators hear that the login lapsed.
    announcer: Option<NotifyFiler>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("state_dir", &self.settings.state_dir)
            .field("dry_run", &self.settings.dry_run)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// No browser runs until the first piece of work needs one.
    pub fn new(settings: BrowserSettings, announcer: Option<NotifyFiler>) -> Session {
        Session {
            inner: Arc::new(Inner {
                settings,
                browser: tokio::sync::Mutex::new(None),
                filing: tokio::sync::Mutex::new(()),
                pgid: std::sync::atomic::AtomicI32::new(0),
                last_used: std::sync::Mutex::new(Instant::now()),
                announcer,
            }),
        }
    }

    pub fn settings(&self) -> &BrowserSettings {
        &self.inner.settings
    }

    /// Files one request in the dashboard's form and says what the page
    /// answered, with the evidence kept for a look. At most one filing at
    /// a time, within the hourly limit; a request whose submission already
    /// reached Shopify, or whose earlier press was never answered, is not
    /// sent again. What the page showed of the login is recorded.
    pub async fn file(
        &self,
        ledger: &impl BrowserLedger,
        job: Job<'_>,
    ) -> Result<(Outcome, Option<Evidence>), Failure> {
        let _turn = self.inner.filing.lock().await;
        self.rate_limited(ledger).await?;
        let (outcome, evidence) = self
            .with_browser(async |client, deadline| {
                self.file_in_browser(ledger, client, job, deadline).await
            })
            .await?;
        match &outcome {
            Outcome::LoginRequired(why) => self.seen(ledger, Some(why)).await,
            Outcome::Challenge(_) => {}
            _ => self.seen(ledger, None).await,
        }
        Ok((outcome, evidence))
    }

    /// The running browser's process group, if one runs (for tests).
    pub async fn process_group(&self) -> Option<i32> {
        Some(self.inner.pgid.load(std::sync::atomic::Ordering::SeqCst)).filter(|p| *p != 0)
    }

    /// Stops the browser (it starts again on the next filing).
    pub async fn shutdown(&self) {
        if let Some(b) = self.inner.browser.lock().await.take() {
            b.stop().await;
        }
        self.inner
            .pgid
            .store(0, std::sync::atomic::Ordering::SeqCst);
    }

    /// Runs `work` with a live browser, within the budget; a browser that
    /// errs or overruns is killed, to be started afresh next time.
    async fn with_browser<T>(
        &self,
        work: impl AsyncFnOnce(&fantoccini::Client, Instant) -> Result<T, BrowserError>,
    ) -> Result<T, Failure> {
        let s = &self.inner.settings;
        let mut slot = self.inner.browser.lock().await;
        let budget = s.budget;
        let deadline = Instant::now() + budget;
        let run = async {
            if let Some(b) = slot.take() {
                if b.alive().await {
                    *slot = Some(b);
                } else {
                    tracing::warn!("the browser stopped answering; starting a new one");
                    b.stop().await;
                }
            }
            if slot.is_none() {
                let b = Browser::start(s, &Launch::default(), budget).await?;
                self.inner.pgid.store(
                    b.process_group().unwrap_or(0),
                    std::sync::atomic::Ordering::SeqCst,
                );
                *slot = Some(b);
            }
            let client = slot.as_ref().map(|b| b.client.clone());
            let Some(c) = client else {
                return Err(BrowserError::Start("no browser".into()));
            };
            let result = work(&c, deadline).await;
            // An idle browser holds a blank page: less memory, and no form
            // with a code in it left open.
            if result.is_ok() {
                let _ = c.goto("about:blank").await;
            }
            result
        };
        let result = tokio::time::timeout(budget, run).await;
        if let Ok(mut at) = self.inner.last_used.lock() {
            *at = Instant::now();
        }
        if !matches!(result, Ok(Ok(_))) {
            self.inner
                .pgid
                .store(0, std::sync::atomic::Ordering::SeqCst);
        }
        match result {
            Ok(Ok(v)) => Ok(v),
            // The browser is fine; only this attempt is over.
            Ok(Err(e @ BrowserError::ClaimLost)) => {
                Err(Failure::Transient(format!("browser filer: {e}")))
            }
            // Another collabd (a `browser login` under way) has the profile:
            // a wait, which uses up no attempt.
            Ok(Err(e @ BrowserError::ProfileBusy(_))) => Err(Failure::Waiting(
                Wait::BrowserBusy,
                format!("browser filer: {e}"),
            )),
            Ok(Err(e)) => {
                if let Some(b) = slot.take() {
                    b.stop().await;
                }
                Err(Failure::Transient(format!("browser filer: {e}")))
            }
            Err(_) => {
                if let Some(b) = slot.take() {
                    b.stop().await;
                }
                Err(Failure::Transient(format!(
                    "browser filer: no answer within worker.browser.budget_seconds = {} (a page or the browser hung); the browser was restarted",
                    budget.as_secs()
                )))
            }
        }
    }

    async fn file_in_browser(
        &self,
        ledger: &impl BrowserLedger,
        client: &fantoccini::Client,
        job: Job<'_>,
        deadline: Instant,
    ) -> Result<(Outcome, Option<Evidence>), BrowserError> {
        let s = &self.inner.settings;
        // A submission of an earlier attempt already reached Shopify (its
        // result was then lost: the claim had run out, say): done, never
        // filed again.
        if let Some(earlier) = ledger.reached_submission(job.id).await.map_err(db_error)? {
            return Ok((
                Outcome::Already(format!(
                    "attempt {}'s submission reached Shopify ({}, {}); nothing was sent again",
                    earlier.attempt,
                    earlier.result.unwrap_or_default(),
                    earlier
                        .finished_at
                        .map(|t| t.to_string())
                        .unwrap_or_default()
                )),
                None,
            ));
        }
        if let Some(o) = self
            .check_earlier_submission(ledger, client, job, deadline)
            .await?
        {
            let evidence = keep_evidence(client, s, job, &o).await;
            return Ok((o, evidence));
        }
        let outcome = match form::fill(client, s, job, deadline).await? {
            Filled::Done(o) => o,
            Filled::Ready { .. } if s.dry_run => Outcome::DryRun,
            Filled::Ready { before } => {
                // Written before the press: after a crash from here on, the
                // next attempt checks the dashboard instead of pressing again.
                // Only while this attempt still holds the claim, which is
                // extended past the filing's deadline: an attempt whose lease
                // ran out (another attempt may own the request) sends nothing.
                let left = deadline.saturating_duration_since(Instant::now());
                let lease_until = Utc::now()
                    + chrono::Duration::from_std(left + Duration::from_secs(60))
                        .unwrap_or(chrono::Duration::minutes(10));
                let row = ledger
                    .hold_and_begin_submission(
                        job.id,
                        job.attempt,
                        &Timestamp::from(lease_until),
                        &Timestamp::now(),
                    )
                    .await
                    .map_err(db_error)?
                    .ok_or(BrowserError::ClaimLost)?;
                let o = form::submit(client, s, &before, deadline).await?;
                // An unknown answer, or a challenge or sign-in page instead
                // of one, may or may not have reached Shopify: it stays
                // open, so a retry checks the list first.
                if !matches!(
                    o,
                    Outcome::Unknown(_) | Outcome::Challenge(_) | Outcome::LoginRequired(_)
                ) {
                    ledger
                        .finish_submission(row, o.label(), &Timestamp::now())
                        .await
                        .map_err(db_error)?;
                }
                o
            }
        };
        let evidence = keep_evidence(client, s, job, &outcome).await;
        Ok((outcome, evidence))
    }

    /// An earlier attempt pressed "send" and never read the answer (a crash,
    /// a hang): the Collaborations list says whether it reached Shopify. If
    /// it shows the store pending or granted, that is the outcome; anything
    /// else is unknown (an absence the list cannot confirm), never a reason
    /// to send again without a person's `collabd retry`.
    async fn check_earlier_submission(
        &self,
        ledger: &impl BrowserLedger,
        client: &fantoccini::Client,
        job: Job<'_>,
        deadline: Instant,
    ) -> Result<Option<Outcome>, BrowserError> {
        let earlier = ledger
            .unfinished_submissions(job.id)
            .await
            .map_err(db_error)?;
        let Some(first) = earlier.first() else {
            return Ok(None);
        };
        let (attempt, at) = (first.attempt, first.started_at);
        let s = &self.inner.settings;
        let rows = match sync::read_list(client, s, deadline).await? {
            Ok(rows) => rows,
            Err(ListProblem::LoginRequired(d)) => return Ok(Some(Outcome::LoginRequired(d))),
            Err(ListProblem::Unknown(d)) => {
                return Ok(Some(Outcome::Unknown(format!(
                    "attempt {attempt} pressed “send” at {at} and its answer was never read; the Collaborations list could not be read to check it ({d}), so nothing was sent again"
                ))));
            }
        };
        // Only a row for this store with a status that says the request
        // is there counts. Anything else — an empty list, no row for the
        // store (rows load late), a status not recognised — cannot prove
        // that nothing was sent: the outcome is unknown, for a person to
        // look at, and nothing is sent again on it.
        let store_rows: Vec<_> = rows.iter().filter(|row| row.store == job.domain).collect();
        let seen = store_rows
            .iter()
            .find(|row| matches!(row.status, Some(ListStatus::Pending | ListStatus::Granted)));
        let (result, outcome) = match seen {
            Some(row) => (
                "checked: on the dashboard",
                Outcome::Already(format!(
                    "attempt {attempt}'s submission ({at}) reached Shopify: the Collaborations list says “{}”; nothing was sent again",
                    row.said.as_deref().unwrap_or_default()
                )),
            ),
            None => {
                let listed = if rows.is_empty() {
                    "shows no rows".to_owned()
                } else if store_rows.is_empty() {
                    format!("has no row for {}", job.domain)
                } else if store_rows.iter().any(|row| row.status.is_none()) {
                    format!(
                        "shows {} with a status the filer does not recognise",
                        job.domain
                    )
                } else {
                    format!("shows {} only as declined, expired or removed", job.domain)
                };
                (
                    "checked: not confirmed",
                    Outcome::Unknown(format!(
                        "attempt {attempt} pressed “send” at {at} and its answer was never read; the Collaborations list {listed}, which does not prove it was not sent, so nothing was sent again (check the dashboard; `collabd retry` files it again)"
                    )),
                )
            }
        };
        // Checked once: an operator's retry after an unknown outcome files
        // again (the form itself says when a request is already pending).
        for submission in earlier {
            ledger
                .finish_submission(submission.id, result, &Timestamp::now())
                .await
                .map_err(db_error)?;
        }
        Ok(Some(outcome))
    }

    /// Records the session's health; tells operators once when it lapses,
    /// and makes the requests that waited for a login due once it works.
    async fn seen(&self, ledger: &impl BrowserLedger, lapsed: Option<&str>) {
        let now = Timestamp::now();
        let state = match lapsed {
            Some(_) => SessionState::LoginNeeded,
            None => SessionState::SignedIn,
        };
        let changed = ledger
            .set_browser_session(state, lapsed.unwrap_or("ok"), &now)
            .await;
        match (changed, lapsed) {
            (Err(e), _) => tracing::error!(error = %e, "cannot record the browser session's state"),
            (Ok(true), Some(why)) => {
                tracing::error!(
                    "{LOGIN_NEEDED}: {why}; requests wait until an operator runs `collabd browser login`"
                );
            }
            (Ok(true), None) => {
                tracing::info!("the browser's dashboard session works");
                match ledger.wake_login_waiters(&now).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(
                        requests = n,
                        "requests that waited for the login are due now"
                    ),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot make the requests that waited for the login due")
                    }
                }
            }
            (Ok(false), _) => {}
        }
        let Some(why) = lapsed else { return };
        let Ok(session) = ledger.browser_session().await else {
            return;
        };
        if session.told_at.is_some() {
            return;
        }
        let told = match &self.inner.announcer {
            Some(n) => {
                let (delivered, failed) = n
                    .send(
                        "collabd: browser login needed",
                        &format!(
                            "The browser filer's dashboard session has lapsed ({why}).\n\
                             Requests wait in the queue until an operator signs in again:\n\
                             collabd browser login\n"
                        ),
                    )
                    .await;
                if delivered.is_empty() {
                    tracing::warn!(failed = %failed.join("; "), "could not tell operators that a browser login is needed; will try again");
                }
                !delivered.is_empty()
            }
            None => true,
        };
        if told && let Err(e) = ledger.mark_login_told(&now).await {
            tracing::error!(error = %e, "cannot record that operators were told");
        }
    }

    /// Reads the Collaborations list once and records what changed.
    pub async fn sync_once(&self, ledger: &impl BrowserLedger) -> anyhow::Result<Changes> {
        let s = self.inner.settings.clone();
        let rows = self
            .with_browser(async |client, deadline| sync::read_list(client, &s, deadline).await)
            .await
            .map_err(|f| anyhow::anyhow!("{}", f.message()))?;
        let now = Timestamp::now();
        match rows {
            Ok(rows) => {
                self.seen(ledger, None).await;
                let changes = ledger.apply_list(&sync::listed(&rows), &now).await?;
                let n = i64::try_from(rows.len()).unwrap_or(i64::MAX);
                ledger.record_sync(&now, Some(n), None).await?;
                Ok(changes)
            }
            Err(problem) => {
                let why = match &problem {
                    ListProblem::LoginRequired(d) => {
                        self.seen(ledger, Some(d)).await;
                        format!("{LOGIN_NEEDED}: {d}")
                    }
                    ListProblem::Unknown(d) => d.clone(),
                };
                ledger.record_sync(&now, None, Some(&why)).await?;
                anyhow::bail!("the Collaborations list was not read: {why}")
            }
        }
    }

    /// Until `shutdown`: reads the list every `sync_every`, recording what
    /// it says in `ledger`, and closes the browser once it has been idle for
    /// `idle_close` (an idle filer then holds no Chromium at all).
    pub async fn run_sync(self, ledger: impl BrowserLedger, shutdown: CancellationToken) {
        self.run_sync_while(ledger, &crate::store::OnThisNode::always(), shutdown)
            .await
    }

    /// [`run_sync`](Self::run_sync), reading the list only while
    /// `on_this_node` says this node files through the browser (with
    /// several nodes, the one holding the browser filer's lock: the others
    /// have no signed-in profile, and would only report it lapsed).
    pub async fn run_sync_while(
        self,
        ledger: impl BrowserLedger,
        on_this_node: &crate::store::OnThisNode,
        shutdown: CancellationToken,
    ) {
        let s = &self.inner.settings;
        let tick = [s.sync_every, s.idle_close]
            .into_iter()
            .flatten()
            .min()
            .map(|d| d.min(Duration::from_secs(30)));
        let Some(tick) = tick else { return };
        let mut next_sync = s.sync_every.map(|e| Instant::now() + e);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(tick) => {}
            }
            if let (Some(at), Some(every)) = (next_sync, s.sync_every)
                && Instant::now() >= at
                && on_this_node.get()
            {
                next_sync = Some(Instant::now() + every);
                match self.sync_once(&ledger).await {
                    Ok(changes) => tracing::info!(
                        changed = changes.len(),
                        "read the dashboard's Collaborations list"
                    ),
                    Err(e) => tracing::warn!("{}", crate::render::error(&e)),
                }
            }
            self.close_if_idle().await;
        }
        self.shutdown().await;
    }

    /// Closes the browser if nothing used it for `idle_close`.
    pub async fn close_if_idle(&self) {
        let Some(idle) = self.inner.settings.idle_close else {
            return;
        };
        let since = self
            .inner
            .last_used
            .lock()
            .map(|t| t.elapsed())
            .unwrap_or_default();
        if since < idle {
            return;
        }
        // A filing in progress holds the browser: it is not idle.
        let Ok(mut slot) = self.inner.browser.try_lock() else {
            return;
        };
        if let Some(b) = slot.take() {
            tracing::debug!("closing the idle browser");
            b.stop().await;
            self.inner
                .pgid
                .store(0, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// Whether the dashboard session works, as `check-config` and
    /// `collabd browser login` ask: loads the form's page for a made-up
    /// store and sees whether it shows the form or a sign-in. What it saw
    /// is recorded in `ledger`, when there is one.
    pub async fn check_session(&self, ledger: Option<&impl BrowserLedger>) -> Result<(), String> {
        let s = self.inner.settings.clone();
        let r = self
            .with_browser(async |client, deadline| {
                client
                    .goto(&form::form_url(&s, "collabd-session-check.myshopify.com"))
                    .await?;
                let sels = [("store", s.selectors.store.as_str())];
                let (seen, snap) =
                    crate::browser::page::wait_for(client, &sels, deadline, |snap| {
                        if crate::browser::page::url_matches(&s.patterns.login_url, &snap.url)
                            .is_some()
                        {
                            return Some(false);
                        }
                        snap.visible("store").then_some(true)
                    })
                    .await?;
                Ok((seen, form::shown(&snap.url).to_owned()))
            })
            .await;
        match r {
            Ok((Some(true), _)) => {
                if let Some(ledger) = ledger {
                    self.seen(ledger, None).await;
                }
                Ok(())
            }
            Ok((Some(false), url)) => {
                let why = format!("redirected to a sign-in page ({url})");
                if let Some(ledger) = ledger {
                    self.seen(ledger, Some(&why)).await;
                }
                Err(format!(
                    "{LOGIN_NEEDED}: {why}; run `collabd browser login`"
                ))
            }
            Ok((None, url)) => Err(format!(
                "the dashboard form did not show its store field ({}) at {url}; check worker.browser.org_id and the selectors",
                s.selectors.store
            )),
            Err(f) => Err(f.message().to_owned()),
        }
    }

    /// Loads `url` in the filer's browser and returns where it ended (what
    /// `collabd browser login` uses to open the sign-in page).
    pub async fn open(&self, url: &str) -> Result<String, Failure> {
        let url = url.to_owned();
        self.with_browser(async |client, _| {
            client.goto(&url).await?;
            Ok(client.current_url().await?.to_string())
        })
        .await
    }

    async fn rate_limited(&self, ledger: &impl BrowserLedger) -> Result<(), Failure> {
        let s = &self.inner.settings;
        let Some(limit) = s.per_hour.filter(|_| !s.dry_run) else {
            return Ok(());
        };
        let since = Timestamp::from(Utc::now() - chrono::Duration::hours(1));
        let (count, oldest) = ledger
            .submissions_since(&since)
            .await
            .map_err(|e| Failure::Transient(e.to_string()))?;
        if count >= i64::from(limit) {
            return Err(Failure::Waiting(
                Wait::HourlyLimit,
                format!(
                    "browser filer: {count} requests sent in the last hour (worker.browser.per_hour = {limit}); waiting until the oldest ({}) is an hour old",
                    oldest.map(|t| t.to_string()).unwrap_or_default()
                ),
            ));
        }
        Ok(())
    }
}

/// Keeps the evidence `outcome` calls for. A failure to keep it (a full
/// disk, a browser that no longer answers) is logged and changes nothing:
/// an unknown page or a challenge stays what it is, never a blind retry.
async fn keep_evidence(
    client: &fantoccini::Client,
    s: &BrowserSettings,
    job: Job<'_>,
    outcome: &Outcome,
) -> Option<Evidence> {
    match form::evidence(client, s, job, outcome).await {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(request = %job.id, outcome = outcome.label(), error = %e, "cannot keep the page's evidence");
            None
        }
    }
}

fn db_error(e: store::Error) -> BrowserError {
    BrowserError::Start(format!("the database: {e}"))
}
