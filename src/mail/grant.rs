//! Extracts Shopify grants (store + collaborator code) and client details
//! from the text of a Leadsie email. Keys on meaning — a store label or a
//! permanent store domain, a code beside a "collaborator" label, the platform
//! section a line sits in — never on one template.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::model::{CollaboratorCode, StoreDomain};

/// One Shopify store a client shared, with its own collaborator code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub store: StoreDomain,
    pub code: CollaboratorCode,
    pub client: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_url: Option<String>,
}

/// What one Leadsie email yielded.
#[derive(Debug, Default)]
pub struct Extraction {
    pub grants: Vec<Grant>,
    /// Why no grant came out, when the email looked like it should have one.
    pub problem: Option<String>,
    /// The email says a Shopify connection failed.
    pub failed_connection: bool,
    /// The email mentions Shopify at all.
    pub mentions_shopify: bool,
    /// Labelled store lines found, paired or not.
    pub stores_seen: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Unknown,
    Shopify,
    Other,
}

#[derive(Debug)]
enum Event {
    Store(StoreDomain),
    Code(CollaboratorCode),
}

/// Other platforms Leadsie connects; their sections are not ours.
const OTHER_PLATFORMS: &[&str] = &[
    "meta", "facebook", "instagram", "google", "tiktok", "linkedin", "pinterest", "snapchat", "twitter",
    "youtube", "bing", "microsoft", "amazon", "klaviyo", "hubspot", "mailchimp", "wordpress", "webflow",
    "squarespace", "wix", "bigcommerce", "woocommerce", "x ads", "reddit", "taboola", "outbrain", "ga4",
];

/// Store labels, longest first so "store url" wins over "store". The flag
/// says whether the label itself names Shopify (then it counts anywhere).
const STORE_LABELS: &[(&str, bool)] = &[
    ("shopify store domain", true),
    ("shopify store url", true),
    ("shopify store id", true),
    ("shopify store", true),
    ("shopify domain", true),
    ("shopify url", true),
    ("shopify shop", true),
    ("myshopify domain", true),
    ("myshopify url", true),
    ("store domain", false),
    ("store url", false),
    ("store id", false),
    ("store link", false),
    ("shop domain", false),
    ("shop url", false),
    ("store", false),
    ("shop", false),
];

/// Lines that name a store but do not identify it.
const NAME_LABELS: &[&str] = &["store name", "shop name", "shopify store name"];

const FAILURE_WORDS: &[&str] = &[
    "failed", "unsuccessful", "could not", "couldn't", "not connected", "was not granted", "error",
];

/// Extracts grants from a Leadsie email's subject and body text.
pub fn extract(subject: &str, text: &str) -> Extraction {
    let lower = text.to_ascii_lowercase();
    let mut out = Extraction {
        mentions_shopify: lower.contains("shopify") || subject.to_ascii_lowercase().contains("shopify"),
        ..Extraction::default()
    };
    if !out.mentions_shopify && !lower.contains("collaborator") {
        return out;
    }
    // ASCII lower-casing keeps byte offsets, so both line lists align.
    let lines: Vec<&str> = text.lines().map(|l| super::text::unquote(l).trim()).collect();
    let llines: Vec<&str> = lower.lines().map(|l| super::text::unquote(l).trim()).collect();

    let mut events = Vec::new();
    let mut mentions: Vec<StoreDomain> = Vec::new();
    let mut section = Section::Unknown;
    let mut custom_domain: Option<String> = None;
    let mut i = 0;
    while i < llines.len() {
        let l = llines[i];
        if l.is_empty() {
            i += 1;
            continue;
        }
        section = next_section(section, l);
        mentions.extend(find_store_domains(l));
        if section != Section::Other && FAILURE_WORDS.iter().any(|w| l.contains(w)) {
            out.failed_connection = true;
        }
        if l.contains("collaborator") {
            if let Some((code, used_next)) = code_after_label(l, next_nonempty(&llines, i).map(|j| (j, llines[j]))) {
                events.push(Event::Code(code));
                i = used_next.unwrap_or(i) + 1;
                continue;
            }
        }
        let body = l.trim_start_matches(['*', '-', '•', '|', '#', '_', ' ', '\t']);
        if NAME_LABELS.iter().any(|n| starts_with_label(body, n).is_some()) {
            i += 1;
            continue;
        }
        if let Some((value, names_shopify)) = store_label(body) {
            let (value, used_next) = if value.is_empty() {
                match next_nonempty(&llines, i) {
                    Some(j) => (llines[j], Some(j)),
                    None => ("", None),
                }
            } else {
                (value, None)
            };
            if let Some(store) = find_store_domains(value).into_iter().next() {
                out.stores_seen += 1;
                events.push(Event::Store(store));
                i = used_next.unwrap_or(i) + 1;
                continue;
            }
            let single = value.split_whitespace().count() == 1;
            if single && (names_shopify || section == Section::Shopify) {
                if let Some(store) = StoreDomain::parse(value) {
                    out.stores_seen += 1;
                    events.push(Event::Store(store));
                    i = used_next.unwrap_or(i) + 1;
                    continue;
                }
                if value.contains('.') && (names_shopify || section == Section::Shopify) {
                    custom_domain = Some(value.trim_matches(['/', '.']).to_owned());
                }
            }
        }
        i += 1;
    }

    let pairs = pair(events);
    let mut unpaired_store = None;
    for (store, code) in pairs {
        match code {
            Some(code) => out.grants.push(grant(store, code)),
            None => unpaired_store = Some(store),
        }
    }
    if out.grants.is_empty() && out.stores_seen == 0 {
        // No labelled store: fall back to one store domain named anywhere,
        // with one code.
        mentions.dedup();
        let codes: Vec<_> = llines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.contains("collaborator"))
            .filter_map(|(i, l)| code_after_label(l, next_nonempty(&llines, i).map(|j| (j, llines[j]))).map(|c| c.0))
            .collect();
        if mentions.len() == 1 && codes.len() == 1 {
            out.grants.push(grant(mentions[0].clone(), codes[0].clone()));
        }
    }
    out.grants.dedup_by(|a, b| a.store == b.store && a.code == b.code);

    if !out.grants.is_empty() {
        let client = client_info(subject, &lines, &llines);
        for g in &mut out.grants {
            g.client = client.name.clone();
            g.client_email = client.email.clone();
            g.request_name = client.request_name.clone();
            g.request_url = client.request_url.clone();
        }
    } else if let Some(store) = unpaired_store {
        out.problem = Some(format!("Shopify store {store} is named but no 4-digit collaborator code was found beside it"));
    } else if let Some(domain) = custom_domain {
        out.problem = Some(format!(
            "the Shopify store is given as `{domain}`, a custom domain; the request needs its permanent <handle>.myshopify.com domain"
        ));
    }
    out
}

fn grant(store: StoreDomain, code: CollaboratorCode) -> Grant {
    Grant { store, code, client: None, client_email: None, request_name: None, request_url: None }
}

/// Pairs each store with its own code. The first event fixes the layout:
/// store-then-code (most templates) or code-then-store.
fn pair(events: Vec<Event>) -> Vec<(StoreDomain, Option<CollaboratorCode>)> {
    let code_first = matches!(events.first(), Some(Event::Code(_)));
    let mut out = Vec::new();
    let mut pending_store: Option<StoreDomain> = None;
    let mut pending_code: Option<CollaboratorCode> = None;
    for ev in events {
        match (ev, code_first) {
            (Event::Store(s), false) => {
                if let Some(prev) = pending_store.replace(s) {
                    // Two labels for one store ("Store" then "Store URL") name
                    // it twice; a different store means the first had no code.
                    if pending_store.as_ref() != Some(&prev) {
                        out.push((prev, None));
                    }
                }
            }
            (Event::Code(c), false) => {
                if let Some(s) = pending_store.take() {
                    out.push((s, Some(c)));
                }
            }
            (Event::Code(c), true) => pending_code = Some(c),
            (Event::Store(s), true) => match pending_code.take() {
                Some(c) => out.push((s, Some(c))),
                None => {
                    if out.last().map(|(last, _)| last) != Some(&s) {
                        out.push((s, None));
                    }
                }
            },
        }
    }
    if let Some(s) = pending_store {
        out.push((s, None));
    }
    out
}

fn next_nonempty(lines: &[&str], i: usize) -> Option<usize> {
    (i + 1..lines.len().min(i + 4)).find(|&j| !lines[j].is_empty())
}

/// Returns what follows `label` at the start of `line` when the label stands
/// alone as a word, with separators (`:`, `-`, `=`, "is") stripped.
fn starts_with_label<'a>(line: &'a str, label: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(label)?;
    let next = rest.chars().next();
    if next.is_some_and(|c| c.is_alphanumeric() || c == '.' || c == '@') {
        return None;
    }
    Some(strip_separators(rest))
}

fn strip_separators(s: &str) -> &str {
    let mut s = s.trim_start_matches(|c: char| c.is_whitespace() || "*_:-–—=|\"'".contains(c));
    if let Some(rest) = s.strip_prefix("is ") {
        s = rest.trim_start();
    }
    s.trim_end_matches(|c: char| c.is_whitespace() || c == '*' || c == '_')
}

/// Like [`starts_with_label`], but only when a separator (`:`, `-`, a tab)
/// follows or the label ends the line: "Business: X" is a label, "Business
/// Manager ID: 1" is not.
fn labelled_value<'a>(line: &'a str, label: &str) -> Option<&'a str> {
    let rest = starts_with_label(line, label)?;
    let after = &line[label.len()..];
    let separated = after.trim().is_empty()
        || after.trim_start_matches(['*', '_', ' ']).starts_with([':', '-', '–', '—', '=', '|'])
        || after.starts_with('\t');
    separated.then_some(rest)
}

fn store_label(line: &str) -> Option<(&str, bool)> {
    STORE_LABELS.iter().find_map(|(label, names_shopify)| {
        let rest = starts_with_label(line, label)?;
        // "Store: ..." is a label; "Store owners can ..." is prose.
        let after = &line[label.len()..];
        let separated = after.is_empty()
            || after.trim_start_matches(['*', '_', ' ']).starts_with([':', '-', '–', '—', '=', '|', '\t'])
            || after.starts_with('\t')
            || !find_store_domains(rest).is_empty();
        separated.then_some((rest, *names_shopify))
    })
}

/// Reads the code after a "collaborator … code" label on this line, or alone
/// on the next line when the label ends the line. Returns the code and the
/// index of the next line if it was used.
fn code_after_label(line: &str, next: Option<(usize, &str)>) -> Option<(CollaboratorCode, Option<usize>)> {
    let at = line.find("collaborator")?;
    let label = &line[at..];
    // The value follows the label's last "code" (or a colon after it).
    let mut rest = match label.rfind("code") {
        Some(c) => &label[c + 4..],
        None => &label["collaborator".len()..],
    };
    if let Some(colon) = rest.rfind(':') {
        rest = &rest[colon + 1..];
    }
    let rest = strip_separators(rest.trim_start_matches(|c: char| c == 's' || c == ')'));
    if rest.is_empty() {
        let (j, next_line) = next?;
        let value = strip_separators(next_line);
        return CollaboratorCode::parse(value.trim_end_matches(['.', ','])).map(|c| (c, Some(j)));
    }
    let token = rest.split_whitespace().next()?;
    CollaboratorCode::parse(token.trim_end_matches(['.', ',', ')', ';', '*', '_', '"', '\''])).map(|c| (c, None))
}

/// Every permanent store named in a line: `<h>.myshopify.com` or
/// `admin.shopify.com/store/<h>`. Expects a lower-cased line.
pub fn find_store_domains(l: &str) -> Vec<StoreDomain> {
    let mut out = Vec::new();
    let b = l.as_bytes();
    let is_handle = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_';
    let mut from = 0;
    while let Some(p) = l[from..].find(".myshopify.com") {
        let end = from + p;
        let mut start = end;
        while start > 0 && is_handle(b[start - 1]) {
            start -= 1;
        }
        if let Some(d) = StoreDomain::from_handle(&l[start..end]) {
            if !out.contains(&d) {
                out.push(d);
            }
        }
        from = end + ".myshopify.com".len();
    }
    let mut from = 0;
    while let Some(p) = l[from..].find("admin.shopify.com/store/") {
        let start = from + p + "admin.shopify.com/store/".len();
        let mut end = start;
        while end < b.len() && is_handle(b[end]) {
            end += 1;
        }
        if let Some(d) = StoreDomain::from_handle(&l[start..end]) {
            if !out.contains(&d) {
                out.push(d);
            }
        }
        from = end;
    }
    out
}

fn next_section(current: Section, l: &str) -> Section {
    // A platform word counts as a heading when it is the line or comes
    // before the line's colon ("Meta ad account: 123"), not in a value
    // ("Client: Meta Industries").
    let head = match l.find(':') {
        Some(c) if c + 1 < l.len() => &l[..c],
        _ => l,
    };
    if head.len() > 80 {
        return current;
    }
    let shopify = contains_word(head, "shopify") || contains_word(head, "myshopify");
    let other = OTHER_PLATFORMS.iter().any(|p| contains_word(head, p));
    match (shopify, other) {
        (true, false) => Section::Shopify,
        (false, true) => Section::Other,
        _ => current,
    }
}

fn contains_word(hay: &str, word: &str) -> bool {
    let b = hay.as_bytes();
    let mut from = 0;
    while let Some(p) = hay[from..].find(word) {
        let s = from + p;
        let e = s + word.len();
        let before = s == 0 || !b[s - 1].is_ascii_alphanumeric();
        let after = e >= b.len() || !b[e].is_ascii_alphanumeric();
        if before && after {
            return true;
        }
        from = e;
    }
    false
}

#[derive(Debug, Default)]
struct ClientInfo {
    name: Option<String>,
    email: Option<String>,
    request_name: Option<String>,
    request_url: Option<String>,
}

static SUBJECT_CLIENT: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"(?i)^(.+?)\s+(?:has|have)\s+(?:just\s+)?(?:granted|given|shared|connected|approved)\b",
        r"(?i)^(.+?)\s+(?:granted|gave|shared|connected)\s+(?:you|access|their|its)\b",
        r"(?i)\b(?:access|assets|accounts?|connection)\s+(?:from|by|for)\s+(.+?)\s*[!.]*$",
        r"(?i)^(.+?)\s+(?:is|are)\s+now\s+connected\b",
    ]
    .iter()
    .map(|p| Regex::new(p).expect("client patterns are valid"))
    .collect()
});

const CLIENT_LABELS: &[&str] = &["client name", "client", "company name", "company", "business name", "business"];
const EMAIL_LABELS: &[&str] = &["client email", "email address", "email"];
const REQUEST_LABELS: &[&str] = &["request name", "access request", "request"];

fn client_info(subject: &str, lines: &[&str], llines: &[&str]) -> ClientInfo {
    let mut info = ClientInfo::default();
    let value_at = |i: usize, rest_len: usize| -> String {
        let line = lines[i];
        let rest = &line[line.len() - rest_len..];
        strip_separators(rest).trim().to_owned()
    };
    for (i, l) in llines.iter().enumerate() {
        let body_off = l.len() - l.trim_start_matches(['*', '-', '•', '|', '_', ' ']).len();
        let body = &l[body_off..];
        if info.email.is_none() {
            if let Some(rest) = EMAIL_LABELS.iter().find_map(|lab| labelled_value(body, lab)) {
                info.email = rest
                    .split_whitespace()
                    .map(|t| t.trim_matches(|c: char| "<>()[],;\"'".contains(c)).trim_start_matches("mailto:"))
                    .find(|t| t.contains('@') && !t.ends_with("leadsie.com"))
                    .map(str::to_owned);
                continue;
            }
        }
        if info.name.is_none() {
            if let Some(rest) = CLIENT_LABELS.iter().find_map(|lab| labelled_value(body, lab)) {
                let v = if rest.is_empty() {
                    next_nonempty(llines, i).map(|j| lines[j].trim().to_owned())
                } else {
                    Some(value_at(i, rest.len()))
                };
                info.name = v.filter(|v| !v.is_empty() && v.len() <= 120);
                continue;
            }
        }
        if info.request_name.is_none() {
            if let Some(rest) = REQUEST_LABELS.iter().find_map(|lab| labelled_value(body, lab)) {
                if !rest.is_empty() && !rest.starts_with("http") {
                    info.request_name = Some(value_at(i, rest.len()));
                }
            }
        }
        if info.request_url.is_none() && l.contains("leadsie.com/") {
            info.request_url = lines[i]
                .split_whitespace()
                .map(|t| t.trim_matches(|c: char| "<>()[],;\"'".contains(c)))
                .find(|t| {
                    let t = t.to_ascii_lowercase();
                    t.starts_with("http") && t.contains("leadsie.com/") && !t.contains("unsubscribe")
                })
                .map(str::to_owned);
        }
    }
    if info.name.is_none() {
        let subject = strip_reply_prefixes(subject);
        info.name = SUBJECT_CLIENT
            .iter()
            .find_map(|re| re.captures(subject).and_then(|c| c.get(1)))
            // "Order #12: Acme has granted you access" names Acme.
            .map(|m| m.as_str().rsplit(": ").next().unwrap_or("").trim().trim_matches('"').to_owned())
            .filter(|n| !n.is_empty() && n.len() <= 120);
    }
    info
}

/// `Fwd: Re: Fw: x` → `x`.
pub fn strip_reply_prefixes(mut s: &str) -> &str {
    loop {
        let t = s.trim_start();
        let lower = t.get(..4).unwrap_or("").to_ascii_lowercase();
        let cut = ["fwd:", "fw: ", "re: ", "tr: ", "wg: "]
            .iter()
            .find(|p| lower.starts_with(*p))
            .map(|p| p.trim_end().len());
        match cut {
            Some(n) => s = &t[n..],
            None => return t,
        }
    }
}
