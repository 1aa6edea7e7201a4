//! `[worker.browser]`: the browser filer's settings — which Chromium, where
//! its profile and evidence live, the dashboard's URLs and selectors, the
//! text that tells outcomes apart, and the safety limits — validated, with
//! each default written once. Every URL, selector and phrase is a setting,
//! so an operator can follow a Shopify redesign without a new release.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::{ConfigError, invalid};
use super::raw::RawBrowser;

/// The Dev Dashboard's "Request store access" form. `{org_id}`, `{handle}`
/// and `{domain}` are filled in; the collaborator code never goes into a URL.
pub const DEV_FORM_URL: &str =
    "https://dev.shopify.com/dashboard/{org_id}/stores/collaborations/new?store_url={handle}";
/// The Partner Dashboard's form, for older accounts.
pub const PARTNER_FORM_URL: &str = "https://partners.shopify.com/{org_id}/stores/new?store_type=managed_store&store_domain={domain}";
/// The Dev Dashboard's Collaborations list.
pub const DEV_LIST_URL: &str = "https://dev.shopify.com/dashboard/{org_id}/stores/collaborations";

/// The form's documented selectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormSelectors {
    pub form: String,
    pub store: String,
    pub code: String,
    pub permissions: String,
    pub message: String,
    pub submit: String,
}

impl Default for FormSelectors {
    fn default() -> Self {
        FormSelectors {
            form: "#collaboration-request-form".into(),
            store: "#store-url-input".into(),
            code: "input[name=\"collaborator_request_code\"]".into(),
            permissions: "input[type=checkbox][name=\"permissions[]\"]".into(),
            message: "#collaboration-request-message".into(),
            submit: "#collaboration-request-submit-button".into(),
        }
    }
}

/// Phrases (matched case-insensitively in the page's visible text) and URL
/// fragments that tell what a page says. Several phrases each, because
/// Shopify's wording is not published and changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomePatterns {
    pub requested: Vec<String>,
    pub wrong_code: Vec<String>,
    pub store_not_found: Vec<String>,
    pub already: Vec<String>,
    pub challenge: Vec<String>,
    /// Matched against the page's URL: Shopify's sign-in pages.
    pub login_url: Vec<String>,
    /// Matched against the text of a page that shows no form.
    pub login_text: Vec<String>,
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for OutcomePatterns {
    fn default() -> Self {
        OutcomePatterns {
            requested: strings(&[
                "request sent",
                "request was sent",
                "request has been sent",
                "sent a request",
                "sent your request",
                "request submitted",
                "request was submitted",
                "request has been submitted",
                "access requested",
                "collaborator request sent",
            ]),
            wrong_code: strings(&[
                "code is invalid",
                "invalid code",
                "invalid collaborator",
                "code is incorrect",
                "incorrect code",
                "wrong code",
                "code has expired",
                "code is expired",
                "expired code",
                "code doesn't match",
                "code does not match",
                "code isn't valid",
                "code is not valid",
                "code is wrong",
                "code isn't correct",
                "code is not correct",
                "code you entered",
                "invalid request code",
                "request code is invalid",
                "code not found",
                "code has been regenerated",
                "code is no longer valid",
            ]),
            store_not_found: strings(&[
                "store not found",
                "store was not found",
                "couldn't find",
                "find a store",
                "could not find",
                "can't find",
                "cannot find",
                "no store",
                "doesn't exist",
                "does not exist",
                "not a valid store",
                "isn't a valid store",
                "invalid store",
                "store was not found",
                "shop not found",
                "could not be found",
                "couldn't be found",
                "enter a valid store",
                "valid store url",
                "store url is invalid",
            ]),
            already: strings(&[
                "already a collaborator",
                "already have access",
                "already has access",
                "already have collaborator access",
                "already pending",
                "request is pending",
                "pending request",
                "already requested",
                "already sent",
                "already been sent",
                "request already exists",
                // Not "is pending", "pending approval" or "awaiting approval":
                // too loose, a help text can say them of anything.
            ]),
            challenge: strings(&[
                "captcha",
                "verify you are human",
                "verify that you are human",
                "are you a robot",
                "not a robot",
                "security check",
                "two-step",
                "2-step",
                "two-factor",
                "verification code",
                "authentication code",
                "confirm it's you",
                "authenticator app",
                "unusual activity",
                "press and hold",
                "confirm it’s you",
            ]),
            login_url: strings(&[
                "accounts.shopify.com",
                "/login",
                "/signin",
                "/sign_in",
                "/sign-in",
                "/lookup",
                "/session",
                "/auth/",
            ]),
            login_text: strings(&["log in", "sign in", "login to", "continue to shopify"]),
        }
    }
}

/// The Collaborations list: where rows are and what their status text means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSettings {
    pub url: String,
    /// Each collaboration's row; its text holds the store and its status.
    pub row: String,
    /// The status within a row (its first match); when the row has none,
    /// the row's text without its store domain is read instead.
    pub status: String,
    pub pending: Vec<String>,
    pub granted: Vec<String>,
    pub declined: Vec<String>,
    pub expired: Vec<String>,
    pub removed: Vec<String>,
}

impl Default for ListSettings {
    fn default() -> Self {
        ListSettings {
            url: DEV_LIST_URL.into(),
            row: "table tbody tr, [role=\"row\"]:not(:has([role=\"columnheader\"]))".into(),
            status: ".Polaris-Badge, [class*=\"badge\" i], [class*=\"status\" i]".into(),
            pending: strings(&["request sent", "pending"]),
            granted: strings(&["active", "accepted", "approved"]),
            declined: strings(&["declined", "rejected", "denied"]),
            expired: strings(&["expired"]),
            removed: strings(&["access removed", "removed", "revoked"]),
        }
    }
}

/// Validated `[worker.browser]`.
#[derive(Debug, Clone)]
pub struct BrowserSettings {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
    /// Holds `profile/` (the login session) and `evidence/` (screenshots and
    /// pages kept for a look). Defaults to `browser/` beside the database.
    pub state_dir: PathBuf,
    /// Fills `{org_id}` in the URLs.
    pub org_id: String,
    pub form_url: String,
    pub selectors: FormSelectors,
    pub patterns: OutcomePatterns,
    pub list: ListSettings,
    /// `value`s (or label text) of the permission boxes to tick; empty ticks
    /// every box the form offers.
    pub permissions: Vec<String>,
    pub message: Option<String>,
    /// Fill the form, keep a screenshot, never submit.
    pub dry_run: bool,
    /// One filing, start to end (the browser started if need be).
    pub budget: Duration,
    /// At most this many submissions an hour; `None` when turned off.
    pub per_hour: Option<u32>,
    /// How often the Collaborations list is read; `None` never.
    pub sync_every: Option<Duration>,
    /// The browser is closed after this long without work (it starts again,
    /// in about a second, for the next filing); `None` keeps it running.
    pub idle_close: Option<Duration>,
    /// Run Chromium without a window (always, unless `browser login` asks).
    pub headless: bool,
    /// More Chromium flags (e.g. `--proxy-server=…`).
    pub args: Vec<String>,
}

impl BrowserSettings {
    pub fn profile_dir(&self) -> PathBuf {
        self.state_dir.join("profile")
    }

    pub fn evidence_dir(&self) -> PathBuf {
        self.state_dir.join("evidence")
    }

    /// Settings for a test or the bench: every default, these paths and URLs.
    pub fn with(state_dir: PathBuf, form_url: &str, list_url: &str) -> BrowserSettings {
        let mut s = defaults(state_dir);
        s.form_url = form_url.into();
        s.list.url = list_url.into();
        s.org_id = "1".into();
        s
    }
}

fn defaults(state_dir: PathBuf) -> BrowserSettings {
    BrowserSettings {
        // Debian's binary itself, not the /usr/bin/chromium wrapper: the
        // wrapper refuses to start when /proc/cpuinfo is hidden (the unit's
        // ProcSubset=pid) and adds Google API keys and flags from
        // /etc/chromium.d that the filer has no use for.
        chromium: default_chromium(),
        chromedriver: "/usr/bin/chromedriver".into(),
        state_dir,
        org_id: String::new(),
        form_url: DEV_FORM_URL.into(),
        selectors: FormSelectors::default(),
        patterns: OutcomePatterns::default(),
        list: ListSettings::default(),
        permissions: Vec::new(),
        message: None,
        dry_run: false,
        budget: Duration::from_secs(60),
        per_hour: Some(6),
        sync_every: Some(Duration::from_secs(3600)),
        idle_close: Some(Duration::from_secs(60)),
        headless: true,
        args: Vec::new(),
    }
}

/// Debian's Chromium binary when it is there, else the `/usr/bin/chromium`
/// command other systems install.
fn default_chromium() -> PathBuf {
    let binary = Path::new("/usr/lib/chromium/chromium");
    if binary.exists() {
        binary.to_owned()
    } else {
        PathBuf::from("/usr/bin/chromium")
    }
}

pub(super) fn browser_settings(
    b: RawBrowser,
    database_path: &Path,
) -> Result<BrowserSettings, ConfigError> {
    let state_dir = b.state_dir.clone().unwrap_or_else(|| {
        database_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join("browser")
    });
    let mut s = defaults(state_dir);
    let Some(org_id) = b.org_id.filter(|o| !o.trim().is_empty()) else {
        return Err(invalid(
            "worker.browser.org_id",
            "is required: the number in your dashboard's URL (dev.shopify.com/dashboard/<org_id>/… or partners.shopify.com/<partner_id>/…)",
        ));
    };
    if !org_id.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return Err(invalid(
            "worker.browser.org_id",
            "must be the organisation's id as its dashboard URL shows it (letters and digits)",
        ));
    }
    s.org_id = org_id;
    match b.dashboard.as_deref().unwrap_or("dev") {
        "dev" => {}
        "partners" => s.form_url = PARTNER_FORM_URL.into(),
        other => {
            return Err(invalid(
                "worker.browser.dashboard",
                &format!("`{other}` is not one of: dev, partners"),
            ));
        }
    }
    let set = |slot: &mut String, v: Option<String>| {
        if let Some(v) = v {
            *slot = v;
        }
    };
    let setv = |slot: &mut Vec<String>, v: Option<Vec<String>>, key: &str| {
        if let Some(v) = v {
            if v.iter().any(|p| p.trim().is_empty()) || v.is_empty() {
                return Err(invalid(key, "needs at least one phrase, and no empty ones"));
            }
            *slot = v.into_iter().map(|p| p.to_lowercase()).collect();
        }
        Ok(())
    };
    if let Some(p) = b.chromium {
        s.chromium = p;
    }
    if let Some(p) = b.chromedriver {
        s.chromedriver = p;
    }
    set(&mut s.form_url, b.form_url);
    for (key, url) in [("form_url", &s.form_url)] {
        if url.contains("{code}") {
            return Err(invalid(
                &format!("worker.browser.{key}"),
                "must not carry the collaborator code: it goes into the form's code field only",
            ));
        }
    }
    set(&mut s.list.url, b.list_url);
    let sel = &mut s.selectors;
    set(&mut sel.form, b.form_selector);
    set(&mut sel.store, b.store_selector);
    set(&mut sel.code, b.code_selector);
    set(&mut sel.permissions, b.permissions_selector);
    set(&mut sel.message, b.message_selector);
    set(&mut sel.submit, b.submit_selector);
    set(&mut s.list.row, b.list_row_selector);
    set(&mut s.list.status, b.list_status_selector);
    let p = &mut s.patterns;
    setv(
        &mut p.requested,
        b.requested_patterns,
        "worker.browser.requested_patterns",
    )?;
    setv(
        &mut p.wrong_code,
        b.wrong_code_patterns,
        "worker.browser.wrong_code_patterns",
    )?;
    setv(
        &mut p.store_not_found,
        b.store_not_found_patterns,
        "worker.browser.store_not_found_patterns",
    )?;
    setv(
        &mut p.already,
        b.already_patterns,
        "worker.browser.already_patterns",
    )?;
    setv(
        &mut p.challenge,
        b.challenge_patterns,
        "worker.browser.challenge_patterns",
    )?;
    setv(
        &mut p.login_url,
        b.login_url_patterns,
        "worker.browser.login_url_patterns",
    )?;
    setv(
        &mut p.login_text,
        b.login_text_patterns,
        "worker.browser.login_text_patterns",
    )?;
    let l = &mut s.list;
    setv(
        &mut l.pending,
        b.list_pending_patterns,
        "worker.browser.list_pending_patterns",
    )?;
    setv(
        &mut l.granted,
        b.list_granted_patterns,
        "worker.browser.list_granted_patterns",
    )?;
    setv(
        &mut l.declined,
        b.list_declined_patterns,
        "worker.browser.list_declined_patterns",
    )?;
    setv(
        &mut l.expired,
        b.list_expired_patterns,
        "worker.browser.list_expired_patterns",
    )?;
    setv(
        &mut l.removed,
        b.list_removed_patterns,
        "worker.browser.list_removed_patterns",
    )?;
    s.permissions = b.permissions;
    s.message = b.message.filter(|m| !m.trim().is_empty());
    s.dry_run = b.dry_run;
    s.headless = b.headless.unwrap_or(true);
    s.args = b.args;
    if let Some(secs) = b.budget_seconds {
        if !(5..=600).contains(&secs) {
            return Err(invalid(
                "worker.browser.budget_seconds",
                "must be between 5 and 600",
            ));
        }
        s.budget = Duration::from_secs(secs);
    }
    s.per_hour = match b.per_hour {
        None => s.per_hour,
        Some(0) => None,
        Some(n) if n > 60 => {
            return Err(invalid(
                "worker.browser.per_hour",
                "must be at most 60 (0 turns the limit off)",
            ));
        }
        Some(n) => Some(n),
    };
    s.idle_close = match b.idle_close_minutes {
        None => s.idle_close,
        Some(0) => None,
        Some(m) => Some(Duration::from_secs(m.saturating_mul(60))),
    };
    s.sync_every = match b.sync_minutes {
        None => s.sync_every,
        Some(0) => None,
        Some(m) if m < 5 => {
            return Err(invalid(
                "worker.browser.sync_minutes",
                "must be at least 5 (0 turns the schedule off)",
            ));
        }
        Some(m) => Some(Duration::from_secs(m * 60)),
    };
    Ok(s)
}
