//! The `browser` filer: files "Request access to store" in the dashboard
//! itself, through the browser collabd owns. Opt-in only — Shopify's terms
//! restrict automated access to its dashboards. A filer like the others:
//! the worker hands it a request and the [`BrowserLedger`] its records go
//! to; the browser, the filing's rules and the login's health are the
//! [`Session`]'s ([`crate::browser::session`]). What is decided here is how
//! each outcome the page shows becomes a request state.

use super::filing::{Filed, Filer, FilingRequest};
use super::notify::NotifyFiler;
use crate::browser::form::{Job, Outcome};
use crate::browser::session::{LOGIN_NEEDED, Session};
use crate::config::BrowserSettings;
use crate::model::{RequestState, SessionState, Wait};
use crate::queue::Failure;
use crate::store::browser::BrowserLedger;

/// Files through the dashboard form in a headless Chromium.
#[derive(Debug, Clone)]
pub struct BrowserFiler {
    session: Session,
}

impl BrowserFiler {
    /// `announcer` tells operators when the login lapses.
    pub fn new(settings: BrowserSettings, announcer: Option<NotifyFiler>) -> BrowserFiler {
        BrowserFiler {
            session: Session::new(settings, announcer),
        }
    }

    /// The browser and its dashboard session: the list's schedule, the
    /// session check, and stopping the browser.
    pub fn session(&self) -> &Session {
        &self.session
    }
}

impl Filer for BrowserFiler {
    fn name(&self) -> &'static str {
        "browser"
    }

    /// One browser, one filing at a time: a request claimed while another
    /// is being filed would only wait for the browser with its lease
    /// running down.
    fn one_at_a_time(&self) -> bool {
        true
    }

    /// The dashboard login lives in this machine's browser profile.
    fn on_one_node(&self) -> bool {
        true
    }

    async fn file(&self, r: &FilingRequest, ledger: &impl BrowserLedger) -> Result<Filed, Failure> {
        let job = Job {
            id: r.id,
            attempt: r.attempt,
            domain: r.store_domain.as_str(),
            code: r.collaborator_code.expose(),
        };
        let (outcome, evidence) = self.session.file(ledger, job).await?;
        let kept = evidence
            .map(|e| format!("; kept for a look: {e}"))
            .unwrap_or_default();
        let masked = r.collaborator_code.masked();
        let ask_client = format!(
            "ask the client for a new collaborator code for {} (Shopify admin → Settings → Users → Security), and file it again",
            r.store_domain
        );
        match outcome {
            Outcome::Requested(said) => Ok(Filed {
                state: RequestState::Requested,
                detail: format!(
                    "filed in the dashboard for {} with code {masked}: {said}",
                    r.store_domain
                ),
            }),
            Outcome::Already(said) => Ok(Filed {
                state: RequestState::Requested,
                detail: format!(
                    "already a collaborator or a request is pending for {}: {said}; nothing new was sent",
                    r.store_domain
                ),
            }),
            Outcome::DryRun => Ok(Filed {
                state: RequestState::Logged,
                detail: format!(
                    "dry run (worker.browser.dry_run): the form was filled for {} with code {masked} and not sent{kept}",
                    r.store_domain
                ),
            }),
            Outcome::WrongCode(said) => Err(Failure::Permanent(format!(
                "Shopify refused the collaborator code {masked} (wrong or expired; {said}); {ask_client}"
            ))),
            Outcome::StoreNotFound(said) => Err(Failure::Permanent(format!(
                "Shopify does not know the store {} ({said}); check the store with the client and {ask_client}",
                r.store_domain
            ))),
            Outcome::LoginRequired(why) => Err(Failure::Waiting(
                Wait::BrowserLogin,
                format!(
                    "{LOGIN_NEEDED}: {why}; the request waits until an operator runs `collabd browser login`"
                ),
            )),
            Outcome::Challenge(why) => Err(Failure::Permanent(format!(
                "the dashboard asked for a challenge (CAPTCHA or two-step prompt): {why}{kept}; solve it with `collabd browser login`, then `collabd retry {}`",
                r.id
            ))),
            Outcome::Unknown(why) => Err(Failure::Permanent(format!(
                "the dashboard showed a page the browser filer does not recognise: {why}{kept}; look at it, then `collabd retry {}` or file by hand",
                r.id
            ))),
        }
    }
}

/// What `status` and `/healthz` say about the browser filer: `Some("browser
/// login needed")` while the dashboard session has lapsed.
pub async fn health(ledger: &impl BrowserLedger) -> crate::store::Result<Option<&'static str>> {
    let session = ledger.browser_session().await?;
    Ok((session.state == SessionState::LoginNeeded).then_some(LOGIN_NEEDED))
}
