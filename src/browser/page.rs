//! Reading a dashboard page: one snapshot per look (URL, visible text, and
//! which configured selectors match), phrase matching on it, waiting for a
//! condition, and keeping evidence (a screenshot and the page's HTML, with
//! the collaborator code masked) for a person to look at. Relies only on
//! the configured selectors and on the page's text and URL.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;

use super::BrowserError;
use crate::model::{RequestId, mask_code};

/// How often a waiting filer looks at the page again.
pub const POLL: Duration = Duration::from_millis(100);

/// What one selector matched.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct Found {
    #[serde(default)]
    pub count: u32,
    /// At least one match is rendered (has a box).
    #[serde(default)]
    pub visible: bool,
    /// At least one match is not disabled.
    #[serde(default)]
    pub enabled: bool,
    /// The selector is not valid CSS (the message says why).
    #[serde(default)]
    pub error: Option<String>,
}

/// The page at one moment.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Snapshot {
    pub url: String,
    /// The visible text, lower-cased.
    pub text: String,
    /// `document.readyState` is `complete`.
    #[serde(default)]
    pub loaded: bool,
    #[serde(default)]
    pub found: BTreeMap<String, Found>,
}

impl Snapshot {
    pub fn found(&self, key: &str) -> Found {
        self.found.get(key).cloned().unwrap_or_default()
    }

    pub fn visible(&self, key: &str) -> bool {
        self.found(key).visible
    }
}

const SNAPSHOT_JS: &str = r#"
const sels = arguments[0];
const out = {
  url: String(location.href),
  text: document.body ? String(document.body.innerText || '').toLowerCase().replace(/[\u2018\u2019]/g, "'") : '',
  loaded: document.readyState === 'complete',
  found: {},
};
for (const [key, sel] of Object.entries(sels)) {
  try {
    const els = Array.from(document.querySelectorAll(sel));
    out.found[key] = {
      count: els.length,
      visible: els.some(e => e.getClientRects().length > 0),
      enabled: els.some(e => !e.disabled && e.getAttribute('aria-disabled') !== 'true'),
    };
  } catch (e) {
    out.found[key] = { error: String(e) };
  }
}
return out;
"#;

/// Looks at the page once; `selectors` are (key, CSS selector) pairs.
pub async fn snapshot(
    client: &fantoccini::Client,
    selectors: &[(&str, &str)],
) -> Result<Snapshot, BrowserError> {
    let sels: serde_json::Map<String, serde_json::Value> = selectors
        .iter()
        .map(|(k, s)| ((*k).to_owned(), serde_json::Value::from(*s)))
        .collect();
    let value = client
        .execute(SNAPSHOT_JS, vec![serde_json::Value::Object(sels)])
        .await?;
    Ok(serde_json::from_value(value).unwrap_or_default())
}

/// The first phrase of `patterns` in `text` (both compared lower-case).
pub fn find<'a>(patterns: &'a [String], text: &str) -> Option<&'a str> {
    patterns
        .iter()
        .map(String::as_str)
        .find(|p| !p.is_empty() && text.contains(&p.to_lowercase()))
}

/// The first phrase in `after` that was not already in `before`: what the
/// page started saying (an error after a submit, say), not what it always
/// says (a help text that mentions codes).
pub fn fresh<'a>(patterns: &'a [String], before: &str, after: &str) -> Option<&'a str> {
    patterns.iter().map(String::as_str).find(|p| {
        let p = p.to_lowercase();
        !p.is_empty() && after.contains(&p) && !before.contains(&p)
    })
}

/// Whether `url` looks like one of `patterns` (sign-in pages).
pub fn url_matches<'a>(patterns: &'a [String], url: &str) -> Option<&'a str> {
    let url = url.to_lowercase();
    // Only scheme, host and path: a query such as `?return_to=/login` on a
    // dashboard page must not count.
    let url = url.split(['?', '#']).next().unwrap_or_default();
    find(patterns, url)
}

/// Looks at the page until `decide` says something or `deadline` passes
/// (then `None`), every [`POLL`].
pub async fn wait_for<T>(
    client: &fantoccini::Client,
    selectors: &[(&str, &str)],
    deadline: Instant,
    mut decide: impl FnMut(&Snapshot) -> Option<T>,
) -> Result<(Option<T>, Snapshot), BrowserError> {
    loop {
        let snap = snapshot(client, selectors).await?;
        if let Some(found) = decide(&snap) {
            return Ok((Some(found), snap));
        }
        if Instant::now() + POLL >= deadline {
            return Ok((None, snap));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The page kept for a person: where its screenshot and HTML are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub screenshot: PathBuf,
    pub html: PathBuf,
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "screenshot: {}, page: {}",
            self.screenshot.display(),
            self.html.display()
        )
    }
}

/// Keeps a screenshot (PNG) and the HTML of the page in `dir`, named for
/// the request, attempt and `label` (never the code). The code field is
/// drawn as dots first (a style, no input events), and the code is masked
/// wherever it appears in the HTML — typed values are not in the page's
/// HTML, but a page may echo the code in its text.
pub async fn keep_evidence(
    client: &fantoccini::Client,
    dir: &Path,
    code_selector: &str,
    id: RequestId,
    attempt: i64,
    label: &str,
    code: &str,
) -> Result<Evidence, BrowserError> {
    // The code field shows discs; any other text or field that repeats the
    // code (an echo, an error message quoting it) shows it masked, in the
    // screenshot and in the HTML alike. The outcome has been read already.
    // Fails closed: a page the script cannot run in is not photographed.
    client
        .execute(
            HIDE_CODE,
            vec![code_selector.into(), code.into(), mask_code(code).into()],
        )
        .await?;
    let png = client.screenshot().await?;
    let mut html = client.source().await?;
    if !code.is_empty() {
        // What the script could not reach (an attribute, the title), in
        // any written form of the code.
        html = crate::redact::hide_code(&html, code).into_owned();
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let base = format!("request-{id}-attempt-{attempt}-{label}-{stamp}");
    let screenshot = dir.join(format!("{base}.png"));
    let page = dir.join(format!("{base}.html"));
    write_private(dir, &screenshot, &png)?;
    write_private(dir, &page, html.as_bytes())?;
    Ok(Evidence {
        screenshot,
        html: page,
    })
}

/// Run in the page before its evidence is kept: arguments are the code
/// field's selector, the code and its masked form.
///
/// First, text and fields that quote the code whole show it masked, so the
/// rest of the page stays readable. Then every element whose rendered text
/// still holds the code's digits in order, split in any way (across
/// elements such as `48<b>21</b>`, by zero-width or other separators, or
/// in CSS `::before`/`::after` content), has its digits starred and its
/// text blanked; the smallest such element is blanked, not the page.
/// Canvases are hidden: what is drawn on them cannot be read. Pictures of
/// text (an image of the code) are not recognised; docs/browser.md says so.
const HIDE_CODE: &str = r#"
const [selector, code, masked] = arguments;
let fields = [];
try { fields = Array.from(document.querySelectorAll(selector)); } catch (e) {}
for (const e of fields) { e.style.setProperty('-webkit-text-security', 'disc'); }
const ZERO_WIDTH = /[\u00AD\u200B-\u200F\u2060-\u2064\uFEFF\u202A-\u202E\u2066-\u2069]/g;
const DIGITS = '0123456789';
const ZEROS = [0x30, 0xFF10, 0x660, 0x6F0, 0x966, 0x9E6, 0xE50];
function ascii(s) {
  let out = '';
  for (const ch of s.replace(ZERO_WIDTH, '')) {
    const c = ch.codePointAt(0);
    const z = ZEROS.find(z => c >= z && c <= z + 9);
    out += z === undefined ? ch : DIGITS[c - z];
  }
  return out;
}
// The code's digits in order, with at most three separators (not letters
// or digits) between two of them.
const SPLIT = new RegExp(code.split('').join('[^0-9\\p{L}]{0,3}'), 'u');
const ANY_DIGIT = /[0-9\uFF10-\uFF19\u0660-\u0669\u06F0-\u06F9\u0966-\u096F\u09E6-\u09EF\u0E50-\u0E59]/g;
function holds(s) { return SPLIT.test(ascii(s)); }
// Whole quotes first: text and fields in the page, its open shadow roots
// and its same-origin frames.
function whole(root) {
  const walk = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  for (let n = walk.currentNode; n; n = walk.nextNode()) {
    if (n.nodeType === Node.TEXT_NODE) {
      if (n.nodeValue.includes(code)) { n.nodeValue = n.nodeValue.split(code).join(masked); }
      continue;
    }
    if ((n.tagName === 'INPUT' || n.tagName === 'TEXTAREA') && !fields.includes(n)
        && typeof n.value === 'string') {
      if (n.value.includes(code)) { n.value = n.value.split(code).join(masked); }
      if (holds(n.value)) { n.value = n.value.replace(ANY_DIGIT, '*'); }
    }
    if (n.shadowRoot) { whole(n.shadowRoot); }
    if (n.tagName === 'IFRAME') {
      try { if (n.contentDocument) { whole(n.contentDocument.documentElement); } } catch (e) {}
    }
  }
}
// A pseudo-element's text: its quoted strings and attr() values.
function pseudo(el, which) {
  let c = '';
  try { c = getComputedStyle(el, which).content; } catch (e) { return ''; }
  if (!c || c === 'none' || c === 'normal') { return ''; }
  let out = '';
  c.replace(/"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|attr\(\s*([^)\s]+)\s*\)/g, (m, d, q, a) => {
    if (a !== undefined) { out += el.getAttribute(a) || ''; }
    else { out += (d !== undefined ? d : q).replace(/\\(.)/g, '$1'); }
    return '';
  });
  return out;
}
// An element's rendered text: its pseudo-elements around its children
// (and its shadow root's).
const UNSEEN = ['SCRIPT', 'STYLE', 'TEMPLATE', 'TITLE', 'HEAD', 'NOSCRIPT', 'META', 'LINK'];
function rendered(el) {
  if (UNSEEN.includes(el.tagName) || el.hasAttribute('data-collabd-masked')) { return ''; }
  let s = pseudo(el, '::before');
  const kids = el.shadowRoot ? [...el.shadowRoot.childNodes, ...el.childNodes] : [...el.childNodes];
  for (const k of kids) {
    if (k.nodeType === Node.TEXT_NODE) { s += k.nodeValue; }
    else if (k.nodeType === Node.ELEMENT_NODE) { s += rendered(k); }
  }
  return s + pseudo(el, '::after');
}
function blank(el) {
  el.setAttribute('data-collabd-masked', '');
  const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    n.nodeValue = n.nodeValue.replace(ANY_DIGIT, '*');
  }
  if (el.shadowRoot) { for (const k of el.shadowRoot.children) { blank(k); } }
}
// Children first, so the smallest element that holds a split code is the
// one blanked; a parent is blanked only for an occurrence split across
// children that each hold part of it.
function split(el) {
  const kids = el.shadowRoot ? [...el.shadowRoot.children, ...el.children] : [...el.children];
  for (const k of kids) { split(k); }
  if (el.tagName === 'IFRAME') {
    try { if (el.contentDocument) { split(el.contentDocument.documentElement); } } catch (e) {}
  }
  if (holds(rendered(el))) { blank(el); }
}
function sheet(doc) {
  const st = doc.createElement('style');
  st.textContent = '[data-collabd-masked], [data-collabd-masked] * { color: transparent !important; text-shadow: none !important; }'
    + ' [data-collabd-masked]::before, [data-collabd-masked]::after, [data-collabd-masked] *::before, [data-collabd-masked] *::after { content: none !important; }'
    + ' canvas { visibility: hidden !important; }';
  (doc.head || doc.documentElement).appendChild(st);
}
if (code) {
  whole(document.documentElement);
  split(document.documentElement);
  sheet(document);
  for (const f of document.querySelectorAll('iframe')) {
    try { if (f.contentDocument) { sheet(f.contentDocument); } } catch (e) {}
  }
}
return null;
"#;

/// Writes a file only its owner can read, in a directory only its owner
/// can enter: screenshots show the store and the client's details.
fn write_private(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), BrowserError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let fail = |source| BrowserError::Evidence {
        path: path.to_owned(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(fail)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(fail)?;
    f.write_all(bytes).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn fresh_phrases_are_new_ones() {
        let p = v(&["invalid code", "request sent"]);
        assert_eq!(
            fresh(&p, "enter the code", "invalid code. try again"),
            Some("invalid code")
        );
        assert_eq!(fresh(&p, "invalid code help", "invalid code help"), None);
    }

    #[test]
    fn a_login_url_is_judged_by_host_and_path_only() {
        let p = v(&["/login", "accounts.shopify.com"]);
        assert!(url_matches(&p, "https://accounts.shopify.com/lookup?rid=1").is_some());
        assert!(url_matches(&p, "http://127.0.0.1:4000/login?return_to=x").is_some());
        assert!(url_matches(&p, "https://dev.shopify.com/dashboard/1?next=/login").is_none());
    }
}
