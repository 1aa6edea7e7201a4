//! Driving the "Request store access" form: open it for a store, type the
//! store (real key events: the page validates it after a debounce), wait
//! for the code field, type the code there and nowhere else, tick the
//! permissions, and — in a separate step, so the caller can record the
//! submission first — press the button and read what the page answers.
//! Every wait is for a condition on the page, bounded by the filing's
//! deadline.

use std::time::Duration;

use fantoccini::Locator;
use tokio::time::Instant;

use super::BrowserError;
pub use super::page::Evidence;
use super::page::{self, Snapshot, fresh, url_matches};
use crate::config::BrowserSettings;
use crate::model::RequestId;

/// What the page said, one outcome per filing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The form was accepted.
    Requested(String),
    /// Filled in, not submitted (`dry_run`).
    DryRun,
    WrongCode(String),
    StoreNotFound(String),
    /// Already a collaborator, or a request is already pending.
    Already(String),
    /// Redirected to Shopify's sign-in.
    LoginRequired(String),
    /// A CAPTCHA or a two-step prompt.
    Challenge(String),
    /// Nothing the filer recognises.
    Unknown(String),
}

impl Outcome {
    /// A short name for files and the submission record.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Requested(_) => "requested",
            Outcome::DryRun => "dry-run",
            Outcome::WrongCode(_) => "wrong-code",
            Outcome::StoreNotFound(_) => "store-not-found",
            Outcome::Already(_) => "already",
            Outcome::LoginRequired(_) => "login-required",
            Outcome::Challenge(_) => "challenge",
            Outcome::Unknown(_) => "unknown",
        }
    }

    /// Outcomes a person must look at: the page is kept.
    pub fn keeps_evidence(&self) -> bool {
        matches!(
            self,
            Outcome::DryRun | Outcome::Challenge(_) | Outcome::Unknown(_)
        )
    }
}

/// One request to file, as the form needs it.
#[derive(Clone, Copy)]
pub struct Job<'a> {
    pub id: RequestId,
    pub attempt: i64,
    pub domain: &'a str,
    pub code: &'a str,
}

/// `{:?}` never shows the whole code.
impl std::fmt::Debug for Job<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("id", &self.id)
            .field("attempt", &self.attempt)
            .field("domain", &self.domain)
            .field("code", &crate::model::mask_code(self.code))
            .finish()
    }
}

/// A form filled in and ready to send, or an outcome reached before that.
#[derive(Debug)]
pub enum Filled {
    Ready {
        /// The page's text before the press, so only what it says after
        /// counts as its answer.
        before: String,
    },
    Done(Outcome),
}

/// How long a form that loaded may take to show its store field, and a
/// validated store its code field, before the page is called unknown.
const STEP: Duration = Duration::from_secs(10);
/// How long a loaded page that is not the form (or no longer shows it) may
/// keep changing (scripts, redirects) before what it says is final.
const SETTLE: Duration = Duration::from_secs(3);

fn step_deadline(deadline: Instant) -> Instant {
    deadline.min(Instant::now() + STEP)
}

fn selectors(s: &BrowserSettings) -> Vec<(&'static str, &str)> {
    let sel = &s.selectors;
    vec![
        ("form", sel.form.as_str()),
        ("store", sel.store.as_str()),
        ("code", sel.code.as_str()),
        ("permissions", sel.permissions.as_str()),
        ("message", sel.message.as_str()),
        ("submit", sel.submit.as_str()),
    ]
}

/// The form's URL for `domain`; the code is never part of it.
pub fn form_url(s: &BrowserSettings, domain: &str) -> String {
    let handle = domain.strip_suffix(".myshopify.com").unwrap_or(domain);
    s.form_url
        .replace("{org_id}", &s.org_id)
        .replace("{handle}", handle)
        .replace("{domain}", domain)
}

/// What a page that is not (yet) the form is: a sign-in, a challenge. With
/// `before`, only a challenge the page started showing since counts (a
/// "protected by reCAPTCHA" line on the form itself is no challenge).
fn not_the_form(s: &BrowserSettings, snap: &Snapshot, before: Option<&str>) -> Option<Outcome> {
    if let Some(p) = url_matches(&s.patterns.login_url, &snap.url) {
        return Some(Outcome::LoginRequired(format!(
            "redirected to a sign-in page ({}; matched “{p}”)",
            shown(&snap.url)
        )));
    }
    let challenge = match before {
        Some(before) => fresh(&s.patterns.challenge, before, &snap.text),
        None => page::find(&s.patterns.challenge, &snap.text),
    };
    challenge.map(|p| {
        Outcome::Challenge(format!(
            "the page asks for a challenge (“{p}”) at {}",
            shown(&snap.url)
        ))
    })
}

/// Opens the form and fills it in; stops early with an outcome when the
/// page says something else (signed out, unknown store, already pending).
pub async fn fill(
    client: &fantoccini::Client,
    s: &BrowserSettings,
    job: Job<'_>,
    deadline: Instant,
) -> Result<Filled, BrowserError> {
    let sels = selectors(s);
    client.goto(&form_url(s, job.domain)).await?;
    // The landing page: the form, or something else once it has loaded
    // and settled without showing the form.
    let mut loaded_at: Option<Instant> = None;
    let (landing, snap) = page::wait_for(client, &sels, deadline, |snap| {
        if snap.visible("store") && url_matches(&s.patterns.login_url, &snap.url).is_none() {
            return Some(Ok(()));
        }
        if let Some(o) = not_the_form(s, snap, None) {
            return Some(Err(o));
        }
        if snap.loaded {
            let at = *loaded_at.get_or_insert_with(Instant::now);
            if at.elapsed() >= SETTLE {
                return Some(Err(landing_unknown(s, snap)));
            }
        }
        None
    })
    .await?;
    if let Some(bad) = snap.found.values().find_map(|f| f.error.clone()) {
        return Ok(Filled::Done(Outcome::Unknown(format!(
            "a [worker.browser] selector is not valid CSS: {bad}"
        ))));
    }
    match landing {
        Some(Ok(())) => {}
        // A settled page that only mentions signing in is a sign-in page
        // when it has a password field; otherwise it is unknown.
        Some(Err(Outcome::LoginRequired(why))) if why.starts_with(ASKS_TO_SIGN_IN) => {
            let password = client
                .find_all(Locator::Css("input[type=\"password\"]"))
                .await?;
            return Ok(Filled::Done(if password.is_empty() {
                Outcome::Unknown(format!(
                    "the form's store field ({}) is not on the page at {}, which mentions signing in but has no password field",
                    s.selectors.store,
                    shown(&snap.url)
                ))
            } else {
                Outcome::LoginRequired(why)
            }));
        }
        Some(Err(o)) => return Ok(Filled::Done(o)),
        None => return Ok(Filled::Done(landing_unknown(s, &snap))),
    }

    // The store, typed for real: validation runs on input events.
    let baseline = snap.text.clone();
    let store = client.find(Locator::Css(&s.selectors.store)).await?;
    store.clear().await?;
    store.send_keys(job.domain).await?;
    let p = &s.patterns;
    let (validated, snap) = page::wait_for(client, &sels, step_deadline(deadline), |snap| {
        if let Some(o) = not_the_form(s, snap, Some(&baseline)) {
            return Some(o);
        }
        let said = |list: &[String]| fresh(list, &baseline, &snap.text).map(str::to_owned);
        if let Some(phrase) = said(&p.already) {
            return Some(Outcome::Already(format!("the dashboard says “{phrase}”")));
        }
        if let Some(phrase) = said(&p.store_not_found) {
            return Some(Outcome::StoreNotFound(format!(
                "the dashboard says “{phrase}” for {}",
                job.domain
            )));
        }
        snap.visible("code")
            .then(|| Outcome::Requested(String::new()))
    })
    .await?;
    match validated {
        Some(Outcome::Requested(_)) => {}
        Some(o) => return Ok(Filled::Done(o)),
        None => {
            return Ok(Filled::Done(Outcome::Unknown(format!(
                "the store {} was typed but the code field ({}) never appeared; page at {}",
                job.domain,
                s.selectors.code,
                shown(&snap.url)
            ))));
        }
    }

    // What the page says once the store validated and the code field
    // appeared (help text that comes with the field, say) is no answer:
    // only what it says after the code is typed counts.
    let baseline = snap.text.clone();
    // The code goes into its field and nowhere else.
    let code = client.find(Locator::Css(&s.selectors.code)).await?;
    code.clear().await?;
    code.send_keys(job.code).await?;
    tick_permissions(client, s).await?;
    if let Some(message) = &s.message
        && snap.found("message").count > 0
    {
        let m = client.find(Locator::Css(&s.selectors.message)).await?;
        m.clear().await?;
        // A newline typed into a one-line <input> submits the form.
        let tag = m.tag_name().await?.to_lowercase();
        let message = if tag == "textarea" {
            message.clone()
        } else {
            message.replace(['\r', '\n'], " ")
        };
        m.send_keys(&message).await?;
    }

    let (ready, snap) = page::wait_for(client, &sels, step_deadline(deadline), |snap| {
        if let Some(o) = not_the_form(s, snap, Some(&baseline)) {
            return Some(o);
        }
        let said = |list: &[String]| fresh(list, &baseline, &snap.text).map(str::to_owned);
        if let Some(phrase) = said(&p.already) {
            return Some(Outcome::Already(format!("the dashboard says “{phrase}”")));
        }
        if let Some(phrase) = said(&p.wrong_code) {
            return Some(Outcome::WrongCode(format!("the dashboard says “{phrase}”")));
        }
        let submit = snap.found("submit");
        (submit.visible && submit.enabled).then(|| Outcome::Requested(String::new()))
    })
    .await?;
    match ready {
        Some(Outcome::Requested(_)) => Ok(Filled::Ready { before: snap.text }),
        Some(o) => Ok(Filled::Done(o)),
        None => Ok(Filled::Done(Outcome::Unknown(format!(
            "the send button ({}) stayed disabled after the store, code and permissions were filled in",
            s.selectors.submit
        )))),
    }
}

/// Presses the send button and reads the page's answer.
pub async fn submit(
    client: &fantoccini::Client,
    s: &BrowserSettings,
    before: &str,
    deadline: Instant,
) -> Result<Outcome, BrowserError> {
    let sels = selectors(s);
    client
        .find(Locator::Css(&s.selectors.submit))
        .await?
        .click()
        .await?;
    let p = &s.patterns;
    let answer_by = deadline.min(Instant::now() + STEP * 2);
    // A page without the form that has loaded and settled, saying nothing
    // known, is unknown without waiting out the whole step.
    let mut gone_at: Option<Instant> = None;
    let (answer, snap) = page::wait_for(client, &sels, answer_by, |snap| {
        if let Some(o) = not_the_form(s, snap, Some(before)) {
            return Some(o);
        }
        let said = |list: &[String]| fresh(list, before, &snap.text).map(str::to_owned);
        let refused = said(&p.wrong_code).or_else(|| said(&p.store_not_found));
        // Success and an error at once: which is true is not known.
        if let (Some(ok), Some(bad)) = (said(&p.requested), &refused) {
            return Some(Outcome::Unknown(format!(
                "after “send”, the page says both “{ok}” and “{bad}”"
            )));
        }
        if let Some(phrase) = said(&p.wrong_code) {
            return Some(Outcome::WrongCode(format!("the dashboard says “{phrase}”")));
        }
        if let Some(phrase) = said(&p.store_not_found) {
            return Some(Outcome::StoreNotFound(format!(
                "the dashboard says “{phrase}”"
            )));
        }
        if let Some(phrase) = said(&p.already) {
            return Some(Outcome::Already(format!("the dashboard says “{phrase}”")));
        }
        if let Some(phrase) = said(&p.requested) {
            return Some(Outcome::Requested(format!("the dashboard says “{phrase}”")));
        }
        if snap.loaded && snap.found("submit").count == 0 {
            let at = *gone_at.get_or_insert_with(Instant::now);
            if at.elapsed() >= SETTLE {
                return Some(Outcome::Unknown(format!(
                    "after “send”, the page ({}) said nothing the filer recognises",
                    shown(&snap.url)
                )));
            }
        } else {
            gone_at = None;
        }
        None
    })
    .await?;
    Ok(answer.unwrap_or_else(|| {
        Outcome::Unknown(format!(
            "after “send”, the page ({}) said nothing the filer recognises",
            shown(&snap.url)
        ))
    }))
}

/// Ticks the configured permission boxes (all the form offers when none
/// are configured), by clicking them: the page listens for real clicks.
async fn tick_permissions(
    client: &fantoccini::Client,
    s: &BrowserSettings,
) -> Result<(), BrowserError> {
    let boxes = client
        .find_all(Locator::Css(&s.selectors.permissions))
        .await?;
    let wanted: Vec<String> = s.permissions.iter().map(|p| p.to_lowercase()).collect();
    for b in boxes {
        if b.is_selected().await? {
            continue;
        }
        if !wanted.is_empty() {
            let value = b.attr("value").await?.unwrap_or_default().to_lowercase();
            let label = client
                .execute(
                    "const e = arguments[0]; const l = (e.labels && e.labels[0]) || e.closest('label'); \
                     return l ? l.innerText.toLowerCase() : '';",
                    vec![serde_json::to_value(&b).unwrap_or_default()],
                )
                .await?;
            let label = label.as_str().unwrap_or_default().to_owned();
            if !wanted
                .iter()
                .any(|w| *w == value || (!label.is_empty() && label.contains(w.as_str())))
            {
                continue;
            }
        }
        if b.click().await.is_err() {
            // Styled boxes are often hidden behind their label: a click on
            // the element from a script still sends the click event.
            client
                .execute(
                    "arguments[0].click(); return null;",
                    vec![serde_json::to_value(&b).unwrap_or_default()],
                )
                .await?;
        }
    }
    Ok(())
}

const ASKS_TO_SIGN_IN: &str = "the page asks to sign in";

fn landing_unknown(s: &BrowserSettings, snap: &Snapshot) -> Outcome {
    if let Some(p) = page::find(&s.patterns.login_text, &snap.text) {
        return Outcome::LoginRequired(format!(
            "{ASKS_TO_SIGN_IN} (“{p}”) at {}",
            shown(&snap.url)
        ));
    }
    Outcome::Unknown(format!(
        "the form's store field ({}) is not on the page at {}",
        s.selectors.store,
        shown(&snap.url)
    ))
}

/// A URL as messages show it: without its query, which may carry tokens.
pub fn shown(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or_default()
}

/// Keeps the evidence `outcome` calls for.
pub async fn evidence(
    client: &fantoccini::Client,
    s: &BrowserSettings,
    job: Job<'_>,
    outcome: &Outcome,
) -> Result<Option<Evidence>, BrowserError> {
    if !outcome.keeps_evidence() {
        return Ok(None);
    }
    page::keep_evidence(
        client,
        &s.evidence_dir(),
        &s.selectors.code,
        job.id,
        job.attempt,
        outcome.label(),
        job.code,
    )
    .await
    .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_never_shows_its_code() {
        let job = Job {
            id: RequestId(1),
            attempt: 1,
            domain: "a.myshopify.com",
            code: "4821",
        };
        assert!(!format!("{job:?}").contains("4821"));
    }
}
