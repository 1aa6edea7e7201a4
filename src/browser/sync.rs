//! The dashboard as a second witness: reading the Collaborations list
//! (each row's store, and its status from the status cell by the configured
//! selectors and whole-word status phrases), and what it says of each
//! store, which the store applies to the filed requests — granted,
//! declined, expired, access removed — on the same timeline as Shopify's
//! emails ([`crate::store::browser::BrowserLedger::apply_list`]). A request
//! already in the state the list shows is left alone, so an email and the
//! list saying the same thing are one outcome; a store whose rows disagree
//! is left alone too.

use std::sync::LazyLock;

use regex::Regex;
use tokio::time::Instant;

use super::BrowserError;
use super::form::shown;
use super::page::{self, url_matches};
use crate::config::BrowserSettings;
use crate::model::RequestState;
use crate::store::browser::Listed;

/// What the list says of one collaboration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ListStatus {
    Pending,
    Granted,
    Declined,
    Expired,
    Removed,
}

impl ListStatus {
    /// The request state it means.
    pub fn state(self) -> RequestState {
        match self {
            ListStatus::Pending => RequestState::Requested,
            ListStatus::Granted => RequestState::Granted,
            ListStatus::Declined => RequestState::Declined,
            ListStatus::Expired => RequestState::Expired,
            ListStatus::Removed => RequestState::Revoked,
        }
    }
}

/// One row of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    pub store: String,
    pub status: Option<ListStatus>,
    /// The status phrase that matched.
    pub said: Option<String>,
}

/// Why the list could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListProblem {
    LoginRequired(String),
    Unknown(String),
}

static STORE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[a-z0-9][a-z0-9_-]*\.myshopify\.com").expect("a valid pattern"));

/// Reads one row: its store domain (from the row's text) and its status,
/// from the status cell's text when the row has one (`status`), else from
/// the row's text with the store domain taken out. Phrases match whole
/// words only ("inactive" is not "active"), never inside the store name.
pub fn read_row(s: &BrowserSettings, text: &str, status: Option<&str>) -> Option<ListRow> {
    let text = text.to_lowercase();
    let store = STORE.find(&text)?.as_str().to_owned();
    let said = match status.map(str::trim).filter(|t| !t.is_empty()) {
        Some(cell) => cell.to_lowercase(),
        None => STORE.replace_all(&text, " ").into_owned(),
    };
    let l = &s.list;
    // Ends first: "access removed" must not read as "active" and the like.
    let status = [
        (ListStatus::Removed, &l.removed),
        (ListStatus::Expired, &l.expired),
        (ListStatus::Declined, &l.declined),
        (ListStatus::Pending, &l.pending),
        (ListStatus::Granted, &l.granted),
    ]
    .into_iter()
    .find_map(|(st, phrases)| find_words(phrases, &said).map(|p| (st, p.to_owned())));
    Some(ListRow {
        store,
        status: status.as_ref().map(|(s, _)| *s),
        said: status.map(|(_, p)| p),
    })
}

/// The first phrase found in `text` (lowercase) as whole words.
fn find_words<'a>(phrases: &'a [String], text: &str) -> Option<&'a str> {
    phrases.iter().map(String::as_str).find(|p| {
        let p = p.to_lowercase();
        !p.is_empty()
            && text.match_indices(&p).any(|(at, _)| {
                let before = text[..at].chars().next_back();
                let after = text[at + p.len()..].chars().next();
                let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '-');
                !word(before) && !word(after)
            })
    })
}

/// Opens the Collaborations list and reads its rows.
pub async fn read_list(
    client: &fantoccini::Client,
    s: &BrowserSettings,
    deadline: Instant,
) -> Result<Result<Vec<ListRow>, ListProblem>, BrowserError> {
    let url = s.list.url.replace("{org_id}", &s.org_id);
    client.goto(&url).await?;
    let sels = [("row", s.list.row.as_str())];
    let mut loaded_at: Option<Instant> = None;
    let (seen, snap) = page::wait_for(client, &sels, deadline, |snap| {
        if url_matches(&s.patterns.login_url, &snap.url).is_some() {
            return Some(false);
        }
        if snap.found("row").count > 0 {
            return Some(true);
        }
        // An empty list is a list too, once the page has settled.
        let at = *loaded_at.get_or_insert_with(Instant::now);
        (snap.loaded && at.elapsed() >= std::time::Duration::from_secs(3)).then_some(true)
    })
    .await?;
    if let Some(e) = snap.found("row").error {
        return Ok(Err(ListProblem::Unknown(format!(
            "worker.browser.list_row_selector is not valid CSS: {e}"
        ))));
    }
    match seen {
        Some(true) => {}
        Some(false) => {
            return Ok(Err(ListProblem::LoginRequired(format!(
                "redirected to a sign-in page ({})",
                shown(&snap.url)
            ))));
        }
        None => {
            return Ok(Err(ListProblem::Unknown(format!(
                "the Collaborations list at {} did not load",
                shown(&snap.url)
            ))));
        }
    }
    let texts = client
        .execute(
            "let st = null; return Array.from(document.querySelectorAll(arguments[0])).map(r => { \
               try { st = r.querySelector(arguments[1]); } catch (e) { st = null; } \
               return [String(r.innerText || ''), st ? String(st.innerText || '') : null]; });",
            vec![s.list.row.as_str().into(), s.list.status.as_str().into()],
        )
        .await?;
    let rows = texts
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| {
                    let text = t.get(0)?.as_str()?;
                    read_row(s, text, t.get(1).and_then(|c| c.as_str()))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Ok(rows))
}

/// What the list says of each store, for [`BrowserLedger::apply_list`]:
/// one entry per store whose rows all show the same recognised status. A
/// store whose rows say different things (an old "Expired" beside a new
/// "Request sent") is left out rather than guessed at, and so is one whose
/// status the filer does not recognise.
///
/// [`BrowserLedger::apply_list`]: crate::store::browser::BrowserLedger::apply_list
pub fn listed(rows: &[ListRow]) -> Vec<Listed<'_>> {
    let mut by_store: std::collections::BTreeMap<&str, Vec<&ListRow>> = Default::default();
    for row in rows {
        by_store.entry(row.store.as_str()).or_default().push(row);
    }
    let mut listed = Vec::new();
    for (domain, rows) in by_store {
        let statuses: std::collections::BTreeSet<_> = rows.iter().map(|r| r.status).collect();
        if statuses.len() > 1 {
            tracing::info!(
                store = domain,
                rows = rows.len(),
                "the Collaborations list shows this store with different statuses; left alone"
            );
            continue;
        }
        let row = rows[0];
        let Some(status) = row.status else { continue };
        listed.push(Listed {
            store: domain,
            state: status.state(),
            said: row.said.as_deref().unwrap_or_default(),
        });
    }
    listed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_store_and_status_with_ends_first() {
        let s = BrowserSettings::with("/tmp".into(), "http://x", "http://x");
        let r = read_row(&s, "Acme Shop\nacme.myshopify.com\tActive", None).unwrap();
        assert_eq!(
            (r.store.as_str(), r.status),
            ("acme.myshopify.com", Some(ListStatus::Granted))
        );
        let r = read_row(&s, "b.myshopify.com Access removed", None).unwrap();
        assert_eq!(r.status, Some(ListStatus::Removed));
        let r = read_row(&s, "c.myshopify.com Request sent", None).unwrap();
        assert_eq!(r.status, Some(ListStatus::Pending));
        assert!(read_row(&s, "no store here", None).is_none());
    }

    #[test]
    fn each_store_is_listed_once_and_only_with_one_recognised_status() {
        let row = |store: &str, status, said: &str| ListRow {
            store: store.into(),
            status,
            said: Some(said.into()),
        };
        let rows = [
            row("b.myshopify.com", Some(ListStatus::Granted), "Active"),
            row("a.myshopify.com", Some(ListStatus::Expired), "Expired"),
            row("a.myshopify.com", Some(ListStatus::Pending), "Request sent"),
            row("b.myshopify.com", Some(ListStatus::Granted), "Active"),
            row("c.myshopify.com", None, ""),
        ];
        assert_eq!(
            listed(&rows),
            vec![Listed {
                store: "b.myshopify.com",
                state: RequestState::Granted,
                said: "Active",
            }]
        );
    }

    #[test]
    fn the_status_is_whole_words_never_the_store_name() {
        let s = BrowserSettings::with("/tmp".into(), "http://x", "http://x");
        let r = read_row(&s, "expired-goods.myshopify.com Active", None).unwrap();
        assert_eq!(r.status, Some(ListStatus::Granted));
        let r = read_row(&s, "pending-shop.myshopify.com Inactive", None).unwrap();
        assert_eq!(r.status, None, "inactive is not active");
        // The status cell wins over the rest of the row.
        let r = read_row(
            &s,
            "Revoked Goods\nrg.myshopify.com Request sent",
            Some("Request sent"),
        )
        .unwrap();
        assert_eq!(r.status, Some(ListStatus::Pending));
    }
}
