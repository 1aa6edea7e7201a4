//! Extracts Shopify grants (store + collaborator code) and client details
//! from the text of a Leadsie email. Keys on meaning — a store label or a
//! permanent store domain, a code beside a "collaborator" label, the platform
//! section a line sits in — never on one template.

use std::sync::LazyLock;

use memchr::memmem;
use serde::Serialize;

use super::code_label;
use super::text::{LINK_MARK, contains_ic, unquote};

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
    /// A store label whose value is no store (a name, a custom domain, a
    /// placeholder): then no store named elsewhere may stand in for it.
    pub unusable_store: bool,
    /// A collaborator code was read, paired or not.
    pub code_seen: bool,
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
    /// A code label whose value is not a code ("not provided", "—"): the
    /// store before it has no code, and no later code may be taken for it.
    NoCode,
}

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

/// What one pass over a line's words found.
#[derive(Debug, Default, Clone, Copy)]
struct LineWords {
    /// "shopify" or "myshopify" appears in the line's head (before a colon).
    shopify_head: bool,
    /// Another platform's name appears in the line's head.
    other_head: bool,
    /// The line says something failed ("failed", "could not", "not connected").
    failure: bool,
}

/// Tokenises a line once into ASCII words and matches each against the
/// platform and failure words; far cheaper than searching the line for each.
fn scan_words(line: &str) -> LineWords {
    let b = line.as_bytes();
    // The head is what precedes a colon that has a value after it; a
    // platform named there is a heading ("Meta ad account: 1"), one named in
    // a value is not ("Client: Meta Industries").
    let head_end = match memchr::memchr(b':', b) {
        Some(c) if b[c + 1..].iter().any(|x| !x.is_ascii_whitespace()) => c,
        _ => b.len(),
    };
    let long_head = head_end > 80;
    let mut w = LineWords::default();
    let mut prev = [0u8; 12];
    let mut prev_len = 0;
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let len = i - start;
        if len > 12 {
            prev_len = 0;
            continue;
        }
        let mut word = [0u8; 12];
        for (d, s) in word.iter_mut().zip(&b[start..i]) {
            *d = s.to_ascii_lowercase();
        }
        let word = &word[..len];
        let in_head = start < head_end && !long_head;
        let prev_word = &prev[..prev_len];
        match word {
            b"shopify" | b"myshopify" => w.shopify_head |= in_head,
            b"failed" | b"unsuccessful" | b"error" | b"couldn" => w.failure = true,
            b"connected" | b"granted" if prev_word == b"not" => w.failure = true,
            b"not" if prev_word == b"could" => w.failure = true,
            b"meta" | b"facebook" | b"instagram" | b"google" | b"tiktok" | b"linkedin"
            | b"pinterest" | b"snapchat" | b"twitter" | b"youtube" | b"bing" | b"microsoft"
            | b"amazon" | b"klaviyo" | b"hubspot" | b"mailchimp" | b"wordpress" | b"webflow"
            | b"squarespace" | b"wix" | b"bigcommerce" | b"woocommerce" | b"reddit"
            | b"taboola" | b"outbrain" | b"ga4" => {
                w.other_head |= in_head;
            }
            _ => {}
        }
        prev[..len].copy_from_slice(word);
        prev_len = len;
    }
    w
}

static SHOPIFY: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new("shopify"));
static LEADSIE_URL: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new("leadsie.com/"));

/// The body split into lines, unquoted and trimmed, in original case and
/// lower-cased (ASCII lower-casing keeps byte offsets, so both align).
struct Lines<'a> {
    orig: Vec<&'a str>,
    lower: Vec<&'a str>,
    /// Byte offset of each line's start in the text, for mapping hits.
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str, lower: &'a str) -> Lines<'a> {
        let n = memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1;
        let mut l = Lines {
            orig: Vec::with_capacity(n),
            lower: Vec::with_capacity(n),
            starts: Vec::with_capacity(n),
        };
        let mut pos = 0;
        for raw in text.split_inclusive('\n') {
            let line = raw.trim_end_matches(['\n', '\r']);
            let kept = unquote(line).trim();
            let off = if kept.is_empty() {
                pos
            } else {
                pos + (kept.as_ptr() as usize - line.as_ptr() as usize)
            };
            l.orig.push(kept);
            l.lower.push(&lower[off..off + kept.len()]);
            l.starts.push(pos);
            pos += raw.len();
        }
        l
    }

    /// Marks the lines where any of `finders` matches the lower-cased text.
    fn marks(&self, lower: &str, finders: &[&memmem::Finder<'_>]) -> Vec<bool> {
        let mut marks = vec![false; self.orig.len()];
        for finder in finders {
            for at in finder.find_iter(lower.as_bytes()) {
                let line = self.starts.partition_point(|&s| s <= at).saturating_sub(1);
                if let Some(m) = marks.get_mut(line) {
                    *m = true;
                }
            }
        }
        marks
    }

    /// The platform section each line sits in, from the headings above it.
    /// A full pass over every word: only computed when a decision needs it.
    fn sections(&self) -> (Vec<Section>, Vec<bool>) {
        let mut section = Section::Unknown;
        let mut sections = Vec::with_capacity(self.orig.len());
        let mut failures = Vec::with_capacity(self.orig.len());
        for line in &self.orig {
            let words = scan_words(line);
            section = match (words.shopify_head, words.other_head) {
                (true, false) => Section::Shopify,
                (false, true) => Section::Other,
                _ => section,
            };
            sections.push(section);
            failures.push(words.failure);
        }
        (sections, failures)
    }
}

/// Stores one email may name before the rest is not read: a bound on the
/// work a hostile email can cause (the grants it may queue are fewer still).
pub const MAX_STORES: usize = 50;

/// Extracts grants from a Leadsie email's subject and body text.
pub fn extract(subject: &str, text: &str) -> Extraction {
    let text = code_label::canonical(text);
    let text = text.as_ref();
    let lower_text = text.to_ascii_lowercase();
    let mut out = Extraction {
        mentions_shopify: SHOPIFY.find(lower_text.as_bytes()).is_some()
            || contains_ic(subject, "shopify"),
        ..Extraction::default()
    };
    if !out.mentions_shopify && COLLABORATOR.find(lower_text.as_bytes()).is_none() {
        return out;
    }
    let lines = Lines::new(text, &lower_text);
    let collaborator_lines = lines.marks(&lower_text, &[&COLLABORATOR]);
    let store_lines = lines.marks(&lower_text, &[&MYSHOPIFY, &ADMIN_STORE]);
    let mut sections: Option<(Vec<Section>, Vec<bool>)> = None;

    let table = read_tables(&lines.lower);
    out.stores_seen += table.pairs.len();

    let mut events = Vec::new();
    // Lines naming a store domain outside a label: the fallback when no
    // labelled store turns up, read only then.
    let mut mention_lines: Vec<usize> = Vec::new();
    let mut custom_domain: Option<String> = None;
    let mut i = 0;
    while i < lines.lower.len() {
        let l = lines.lower[i];
        if l.is_empty() || table.consumed[i] {
            i += 1;
            continue;
        }
        let body = l.trim_start_matches(['*', '-', '•', '|', '#', '_', ' ', '\t']);
        let maybe_label = body
            .as_bytes()
            .first()
            .is_some_and(|c| matches!(c, b's' | b'm'));
        if store_lines[i] {
            mention_lines.push(i);
        }
        if collaborator_lines[i] {
            let next = next_nonempty(&lines.lower, i).map(|j| (j, lines.lower[j]));
            // A store named earlier on the same line comes first: "Store:
            // a.myshopify.com, collaborator code: 1111".
            let before = &l[..COLLABORATOR.find(l.as_bytes()).unwrap_or(0)];
            let same_line = find_store_domains(before);
            if same_line.len() == 1 {
                out.stores_seen += 1;
                events.extend(same_line.into_iter().map(Event::Store));
            }
            let hedged = HEDGES.iter().any(|h| l.contains(h));
            let mut other_section =
                || sections.get_or_insert_with(|| lines.sections()).0[i] == Section::Other;
            match code_after_label(l, next) {
                Some((code, used_next)) => {
                    out.code_seen = true;
                    if !hedged && !other_section() {
                        events.push(Event::Code(code));
                    }
                    i = used_next.unwrap_or(i) + 1;
                    continue;
                }
                None if labels_a_code(l) && !hedged => events.push(Event::NoCode),
                None => {}
            }
        }
        // A bare "Code" is the code only beside a store, in no other
        // platform's section: "Code: 2025" in a footer is not.
        if !collaborator_lines[i]
            && let Some(value) = code_label::after_bare_label(body)
        {
            let other = sections.get_or_insert_with(|| lines.sections()).0[i] == Section::Other;
            if !other && beside_a_store(&lines, &store_lines, i) {
                let hedged = HEDGES.iter().any(|h| l.contains(h));
                let next = next_nonempty(&lines.lower, i).map(|j| (j, lines.lower[j]));
                match read_value(value, next) {
                    Some((code, used_next)) => {
                        out.code_seen = true;
                        if !hedged {
                            events.push(Event::Code(code));
                        }
                        i = used_next.unwrap_or(i) + 1;
                        continue;
                    }
                    None if !hedged && !value.is_empty() => events.push(Event::NoCode),
                    None => {}
                }
            }
            i += 1;
            continue;
        }
        if !maybe_label
            || NAME_LABELS
                .iter()
                .any(|n| starts_with_label(body, n).is_some())
        {
            i += 1;
            continue;
        }
        if out.stores_seen >= MAX_STORES {
            out.problem = Some(format!(
                "it names more than {MAX_STORES} stores; only the first {MAX_STORES} were read"
            ));
            break;
        }
        if let Some((value, names_shopify)) = store_label(body) {
            let (value, used_next) = if value.is_empty() {
                match next_nonempty(&lines.lower, i) {
                    Some(j) => (lines.lower[j], Some(j)),
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
            if value.split_whitespace().count() == 1 {
                // A bare handle counts only where Shopify is the subject: a
                // "Store ID" under Google Merchant Center is not ours.
                let shopify_context = names_shopify
                    || sections.get_or_insert_with(|| lines.sections()).0[i] == Section::Shopify;
                // A handle is written in lower case ("ac3cb8", "acme-co");
                // a capitalised word is the shop's name ("Tidewater"), often
                // a link's text, and never a store on its own.
                let at = used_next.unwrap_or(i);
                // ASCII lower-casing keeps offsets: the value's own bytes in
                // the original line.
                let off = (value.as_ptr() as usize).wrapping_sub(lines.lower[at].as_ptr() as usize);
                let named = lines.orig[at]
                    .get(off..off + value.len())
                    .is_some_and(|v| v.chars().any(char::is_uppercase));
                // Not a handle: a placeholder ("pending", "n/a", "tbd") or
                // a number (Shopify's numeric store ID is not its handle).
                let placeholder = PLACEHOLDERS.contains(&value.trim_matches(['.', ',']))
                    || value.bytes().all(|b| b.is_ascii_digit());
                if placeholder || named {
                    out.unusable_store = true;
                }
                if shopify_context && !named && !placeholder {
                    if let Some(store) = StoreDomain::parse(value) {
                        out.stores_seen += 1;
                        events.push(Event::Store(store));
                        i = used_next.unwrap_or(i) + 1;
                        continue;
                    }
                    if value.contains('.') {
                        custom_domain = Some(value.trim_matches(['/', '.']).to_owned());
                        out.unusable_store = true;
                    }
                }
            }
        }
        i += 1;
    }

    let mut pairs = pair(events);
    if !table.pairs.is_empty() {
        // A table under another platform's heading ("TikTok Shop") is not
        // a table of Shopify stores.
        let (secs, _) = sections.get_or_insert_with(|| lines.sections());
        pairs.extend(
            table
                .pairs
                .into_iter()
                .zip(&table.rows)
                .filter(|(_, row)| secs[**row] != Section::Other)
                .map(|(p, _)| p),
        );
    }
    if let Some(d) = table.custom_domains.first() {
        custom_domain.get_or_insert_with(|| d.clone());
    }
    let mut unpaired: Vec<StoreDomain> = Vec::new();
    for (store, code) in pairs {
        match code {
            Some(code) => out.grants.push(grant(store, code)),
            None => unpaired.push(store),
        }
    }
    // A store named without a code is reported even when other stores in
    // the same email were paired: it must not vanish silently.
    let granted: std::collections::HashSet<&StoreDomain> =
        out.grants.iter().map(|g| &g.store).collect();
    unpaired.retain(|s| !granted.contains(s));
    if !unpaired.is_empty() && out.problem.is_none() {
        let names: Vec<&str> = unpaired.iter().map(StoreDomain::as_str).collect();
        out.problem = Some(format!(
            "Shopify store {} is named but no 4-digit collaborator code was found beside it",
            names.join(", ")
        ));
    }
    if out.grants.is_empty() && out.stores_seen == 0 && !out.unusable_store {
        // No labelled store: fall back to one store domain named anywhere,
        // with one code.
        let mut mentions: std::collections::HashSet<StoreDomain> = Default::default();
        for &j in &mention_lines {
            // A link's target is not the email naming a store: a help or
            // unsubscribe link must not stand in for a missing label.
            if lines.lower[j].contains(LINK_MARK) {
                continue;
            }
            mentions.extend(find_store_domains(lines.lower[j]));
            if mentions.len() > 1 {
                break;
            }
        }
        let mentions: Vec<StoreDomain> = mentions.into_iter().collect();
        let codes: Vec<_> = (0..lines.lower.len())
            .filter(|&j| collaborator_lines[j])
            .filter_map(|j| {
                code_after_label(
                    lines.lower[j],
                    next_nonempty(&lines.lower, j).map(|k| (k, lines.lower[k])),
                )
            })
            .map(|c| c.0)
            .collect();
        if mentions.len() == 1 && codes.len() == 1 {
            out.grants
                .push(grant(mentions[0].clone(), codes[0].clone()));
        }
    }
    // The same store and code named twice is one grant; the same store with
    // two different codes is a contradiction a person must settle.
    let mut codes_of: std::collections::HashMap<StoreDomain, Vec<CollaboratorCode>> =
        Default::default();
    for g in &out.grants {
        let codes = codes_of.entry(g.store.clone()).or_default();
        if !codes.contains(&g.code) {
            codes.push(g.code.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.grants
        .retain(|g| codes_of[&g.store].len() == 1 && seen.insert(g.store.clone()));
    let conflicting: Vec<&str> = codes_of
        .iter()
        .filter(|(_, c)| c.len() > 1)
        .map(|(s, _)| s.as_str())
        .collect();
    if !conflicting.is_empty() {
        let mut conflicting = conflicting;
        conflicting.sort_unstable();
        out.problem = Some(format!(
            "Shopify store {} is given with more than one collaborator code; which one holds is not clear",
            conflicting.join(", ")
        ));
    }

    if !out.grants.is_empty() && out.problem.is_none() {
        // The other rows still become requests; these need a person.
        let mut problems = Vec::new();
        if !table.custom_domains.is_empty() {
            problems.push(format!(
                "the Shopify store {} is given by a custom domain; the request needs its permanent <handle>.myshopify.com domain",
                table.custom_domains.join(", ")
            ));
        }
        if !table.names_only.is_empty() {
            problems.push(format!(
                "the Shopify store {} is named without a domain; the request needs its permanent <handle>.myshopify.com domain",
                table.names_only.join(", ")
            ));
        }
        if !problems.is_empty() {
            out.problem = Some(problems.join("; "));
        }
    }
    if !out.grants.is_empty() {
        let url_lines = lines.marks(&lower_text, &[&LEADSIE_URL]);
        let client = client_info(subject, &lines.orig, &url_lines);
        for g in &mut out.grants {
            g.client = client.name.clone();
            g.client_email = client.email.clone();
            g.request_name = client.request_name.clone();
            g.request_url = client.request_url.clone();
        }
        return out;
    }
    // No grant: say why. Only now is every word of the email read.
    let (sections, failures) = sections.get_or_insert_with(|| lines.sections());
    out.failed_connection = failures
        .iter()
        .zip(sections.iter())
        .any(|(f, s)| *f && *s != Section::Other);
    if out.problem.is_some() {
        // Already said: a store without its code.
    } else if let Some(domain) = custom_domain {
        out.problem = Some(format!(
            "the Shopify store is given as `{domain}`, a custom domain; the request needs its permanent <handle>.myshopify.com domain"
        ));
    }
    out
}

/// What the tables of stores in an email said: rows under a header row
/// naming a store column and a code column ("Store | Collaborator code").
#[derive(Debug, Default)]
struct Tables {
    pairs: Vec<(StoreDomain, Option<CollaboratorCode>)>,
    /// The line of each pair, to check the section it sits in.
    rows: Vec<usize>,
    custom_domains: Vec<String>,
    /// Shopify rows with a code whose store cell is a name, no domain.
    names_only: Vec<String>,
    /// Lines that were table rows, so the label reader skips them.
    consumed: Vec<bool>,
}

/// A table row's cells (` | ` joins them, as [`super::text::html_to_text`]
/// writes rows and as people type tables).
fn cells(line: &str) -> Vec<&str> {
    line.trim()
        .trim_matches('|')
        .split('|')
        .map(|c| c.trim().trim_matches(['*', '_', ':']).trim())
        .collect()
}

fn read_tables(lower: &[&str]) -> Tables {
    let mut t = Tables {
        consumed: vec![false; lower.len()],
        ..Tables::default()
    };
    let mut i = 0;
    while i < lower.len() {
        if !lower[i].contains('|') {
            i += 1;
            continue;
        }
        let head = cells(lower[i]);
        let store_cols: Vec<usize> = (0..head.len())
            .filter(|&k| {
                STORE_LABELS.iter().any(|(l, _)| head[k] == *l)
                    || matches!(head[k], "store domain" | "domain" | "url")
            })
            .collect();
        let store_col = match store_cols.as_slice() {
            [] => None,
            [only] => Some(*only),
            several => Some(column_of_stores(lower, i, head.len(), several)),
        };
        // "Collaborator code", a named label in any language, or the bare
        // word, with a qualifier or not; a "Postal code" is not ours.
        let code_col = head.iter().position(|c| {
            code_label::is_code_column(c) || (c.contains("collaborator") && c.contains("code"))
        });
        // A store column under a label in no list ("Boutique", "Tienda"):
        // the one column whose rows hold stores' own domains (any row: the
        // first may give a custom domain), beside a column labelled as the
        // collaborator code.
        let store_col = store_col.or_else(|| {
            let cc = code_col.filter(|&cc| head[cc].contains("collaborator"))?;
            let permanent =
                |c: &str| c.contains(".myshopify.com") || c.contains("admin.shopify.com/store/");
            let mut columns = lower[i + 1..]
                .iter()
                .take_while(|l| l.contains('|'))
                .take(MAX_STORES)
                .map(|l| cells(l))
                .filter(|row| row.len() == head.len())
                .flat_map(|row| {
                    (0..row.len())
                        .filter(|&k| k != cc && permanent(row[k]))
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<usize>>();
            columns.sort_unstable();
            columns.dedup();
            match columns.as_slice() {
                [k] => Some(*k),
                _ => None,
            }
        });
        let (Some(sc), Some(cc)) = (store_col, code_col) else {
            i += 1;
            continue;
        };
        if sc == cc {
            i += 1;
            continue;
        }
        t.consumed[i] = true;
        let mut j = i + 1;
        while j < lower.len() && lower[j].contains('|') {
            let row = cells(lower[j]);
            if row.len() != head.len() {
                // A row spanning columns ("Failed – no code") inside the
                // table: not a store row, but the table goes on when the
                // next row has the header's shape.
                let goes_on = lower
                    .get(j + 1)
                    .is_some_and(|n| n.contains('|') && cells(n).len() == head.len());
                if row.len() < head.len() && goes_on {
                    t.consumed[j] = true;
                    j += 1;
                    continue;
                }
                break;
            }
            t.consumed[j] = true;
            let store_cell = row[sc];
            let code = CollaboratorCode::parse(row[cc]).or_else(|| spaced_code(row[cc]));
            // Another platform's row is never ours, whatever its cells hold.
            if scan_words(lower[j]).other_head {
                j += 1;
                continue;
            }
            // The cell must be the store's own domain (or link to it): a
            // store named inside another site's URL is not a store.
            let store = match store_cell.find(LINK_MARK) {
                Some(at) => {
                    StoreDomain::parse(store_cell[at + LINK_MARK.len()..].trim_end_matches(')'))
                }
                None if store_cell.contains(".myshopify.com")
                    || store_cell.contains("admin.shopify.com/store/") =>
                {
                    StoreDomain::parse(store_cell)
                }
                None => None,
            };
            match store {
                Some(store) => {
                    t.pairs.push((store, code));
                    t.rows.push(j);
                }
                // Another platform's row (an ad account, a Business Manager)
                // or a custom domain: never paired with a neighbour's code.
                // A Shopify row with a code but no permanent domain must not
                // vanish: it is reported beside the rows that were read.
                None if code.is_some() => {
                    if let Some(domain) = domain_in(store_cell) {
                        t.custom_domains.push(domain.to_owned());
                    } else if scan_words(lower[j]).shopify_head && !store_cell.is_empty() {
                        t.names_only.push(store_cell.to_owned());
                    }
                }
                None => {}
            }
            j += 1;
        }
        i = j;
    }
    t
}

/// Which of several store columns ("Store" beside "Store URL") holds the
/// stores' domains: the one whose rows name the most permanent domains,
/// then the most domain-shaped values, else the first.
fn column_of_stores(lower: &[&str], head_at: usize, width: usize, candidates: &[usize]) -> usize {
    let rows: Vec<Vec<&str>> = lower[head_at + 1..]
        .iter()
        .take_while(|l| l.contains('|'))
        .take(MAX_STORES)
        .map(|l| cells(l))
        .filter(|r| r.len() == width)
        .collect();
    let score = |k: usize| {
        let permanent = rows
            .iter()
            .filter(|r| {
                r[k].contains(".myshopify.com")
                    || r[k].contains("admin.shopify.com/store/")
                    || r[k].contains(LINK_MARK)
            })
            .count();
        let domain_shaped = rows
            .iter()
            .filter(|r| r[k].contains('.') && !r[k].contains(' '))
            .count();
        (permanent, domain_shaped)
    };
    candidates
        .iter()
        .copied()
        .rev()
        .max_by_key(|&k| score(k))
        .unwrap_or(candidates[0])
}

/// `text` without the lines that sit under another platform's heading
/// (a Meta or Google section): what a Leadsie email says about Shopify or
/// about no platform in particular.
pub(crate) fn outside_other_platforms(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let lines = Lines::new(text, &lower);
    let (sections, _) = lines.sections();
    let mut out = String::with_capacity(text.len());
    for (line, section) in lines.orig.iter().zip(sections) {
        if section != Section::Other {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The domain a table cell names, if any: `harborgoods.com`,
/// `https://www.harborgoods.com/`, `Harbor Home (harborgoods.com)`; never
/// an address.
fn domain_in(cell: &str) -> Option<&str> {
    cell.split(|c: char| c.is_whitespace() || "()[]<>,;\"'".contains(c))
        .filter(|t| !t.contains('@'))
        .map(|t| {
            let t = t.split_once("://").map_or(t, |(_, rest)| rest);
            t.split('/').next().unwrap_or("").trim_end_matches('.')
        })
        .find(|host| {
            let tld = host.rsplit_once('.').map_or("", |(_, tld)| tld);
            host.contains('.')
                && tld.len() >= 2
                && tld.bytes().all(|b| b.is_ascii_alphabetic())
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        })
}

fn grant(store: StoreDomain, code: CollaboratorCode) -> Grant {
    Grant {
        store,
        code,
        client: None,
        client_email: None,
        request_name: None,
        request_url: None,
    }
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
            (Event::NoCode, _) => {
                if !code_first && let Some(s) = pending_store.take() {
                    out.push((s, None));
                }
                pending_code = None;
            }
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

/// How far a bare code label may stand from its store, in lines.
const CARD_LINES: usize = 4;

/// Whether line `i` sits in a store's card: a store (a permanent domain,
/// or a store label with a value) on one of the few lines before it or the
/// two after it, with no other platform's heading in between.
fn beside_a_store(lines: &Lines<'_>, store_lines: &[bool], i: usize) -> bool {
    let names_store = |j: usize| {
        let body = lines.lower[j].trim_start_matches(['*', '-', '•', '|', '#', '_', ' ', '\t']);
        store_lines[j] || store_label(body).is_some_and(|(v, _)| !v.is_empty())
    };
    let before = (i.saturating_sub(CARD_LINES)..i)
        .rev()
        .take_while(|&j| {
            let w = scan_words(lines.orig[j]);
            !w.other_head || w.shopify_head
        })
        .any(names_store);
    let after = (i + 1..lines.lower.len().min(i + 3)).any(names_store);
    before || after
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
        || after
            .trim_start_matches(['*', '_', ' '])
            .starts_with([':', '-', '–', '—', '=', '|'])
        || after.starts_with('\t');
    separated.then_some(rest)
}

fn store_label(line: &str) -> Option<(&str, bool)> {
    STORE_LABELS.iter().find_map(|(label, names_shopify)| {
        let rest = starts_with_label(line, label)?;
        // "Store: ..." is a label; "Store owners can ..." is prose.
        let after = &line[label.len()..];
        let separated = after.is_empty()
            || after
                .trim_start_matches(['*', '_', ' '])
                .starts_with([':', '-', '–', '—', '=', '|', '\t'])
            || after.starts_with('\t')
            || !find_store_domains(rest).is_empty();
        separated.then_some((rest, *names_shopify))
    })
}

/// Reads the code after a "collaborator … code" label on this line, or alone
/// on the next line when the label ends the line. Returns the code and the
/// index of the next line if it was used.
fn code_after_label(
    line: &str,
    next: Option<(usize, &str)>,
) -> Option<(CollaboratorCode, Option<usize>)> {
    let at = COLLABORATOR.find(line.as_bytes())?;
    let label = &line[at..];
    // The value follows the label's last "code" (or a colon after it).
    let mut rest = match CODE.rfind(label.as_bytes()) {
        Some(c) => &label[c + 4..],
        None => &label["collaborator".len()..],
    };
    if let Some(colon) = rest.rfind(':') {
        rest = &rest[colon + 1..];
    }
    read_value(rest.trim_start_matches(['s', ')']), next)
}

/// Reads a code from what follows its label on the line, or alone on the
/// next line when nothing does.
fn read_value(
    rest: &str,
    next: Option<(usize, &str)>,
) -> Option<(CollaboratorCode, Option<usize>)> {
    let rest = strip_separators(rest);
    if rest.is_empty() {
        let (j, next_line) = next?;
        let value = strip_separators(next_line);
        return CollaboratorCode::parse(value.trim_end_matches(['.', ','])).map(|c| (c, Some(j)));
    }
    if let Some(code) = spaced_code(rest) {
        return Some((code, None));
    }
    let token = rest.split_whitespace().next()?;
    CollaboratorCode::parse(token.trim_end_matches(['.', ',', ')', ';', '*', '_', '"', '\'']))
        .map(|c| (c, None))
}

/// Words that make a code an example, not the code: "e.g. collaborator code
/// 0000", "a code looks like 1234".
const HEDGES: &[&str] = &[
    "e.g.",
    "for example",
    "example",
    "looks like",
    "such as",
    "last month",
    "previous",
    "old code",
    "expired code",
];

/// Values of a store label that name no store.
const PLACEHOLDERS: &[&str] = &[
    "pending",
    "none",
    "n/a",
    "na",
    "tbd",
    "tba",
    "unknown",
    "null",
    "unavailable",
    "see below",
    "see-below",
    "-",
    "—",
    "not provided",
    "not available",
    "not connected",
];

/// The line is a collaborator-code label (with whatever value).
fn labels_a_code(line: &str) -> bool {
    line.find("collaborator")
        .is_some_and(|at| line[at..].contains("code") && line[at..].contains(':'))
}

/// A code written with spaces inside it ("04 73", "0 4 7 3", or two inline
/// elements with a line break between them in the HTML): the whole value is
/// digits and spaces, four digits in all.
fn spaced_code(value: &str) -> Option<CollaboratorCode> {
    let v = value.trim_end_matches(['.', ',']).trim();
    if !v.contains(' ') || !v.chars().all(|c| c.is_ascii_digit() || c == ' ') {
        return None;
    }
    let digits: String = v.chars().filter(char::is_ascii_digit).collect();
    CollaboratorCode::parse(&digits)
}

static COLLABORATOR: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new("collaborator"));
static CODE: LazyLock<memmem::FinderRev<'static>> =
    LazyLock::new(|| memmem::FinderRev::new("code"));
static MYSHOPIFY: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(".myshopify.com"));
static ADMIN_STORE: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new("admin.shopify.com/store/"));

/// Every permanent store named in a line: `<h>.myshopify.com` or
/// `admin.shopify.com/store/<h>`. Expects a lower-cased line.
pub fn find_store_domains(l: &str) -> Vec<StoreDomain> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let b = l.as_bytes();
    let is_handle = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_';
    for end in MYSHOPIFY.find_iter(b) {
        // `x.myshopify.com.au` or `x.myshopify.company` is another domain.
        let after = end + ".myshopify.com".len();
        let continues = b.get(after).is_some_and(|c| {
            c.is_ascii_alphanumeric()
                || *c == b'-'
                || (*c == b'.' && b.get(after + 1).is_some_and(u8::is_ascii_alphanumeric))
        });
        if continues {
            continue;
        }
        let mut start = end;
        while start > 0 && is_handle(b[start - 1]) {
            start -= 1;
        }
        if out.len() >= MAX_STORES {
            return out;
        }
        if let Some(d) = StoreDomain::from_handle(&l[start..end])
            && seen.insert(d.clone())
        {
            out.push(d);
        }
    }
    for at in ADMIN_STORE.find_iter(b) {
        let start = at + "admin.shopify.com/store/".len();
        let mut end = start;
        while end < b.len() && is_handle(b[end]) {
            end += 1;
        }
        if out.len() >= MAX_STORES {
            return out;
        }
        if let Some(d) = StoreDomain::from_handle(&l[start..end])
            && seen.insert(d.clone())
        {
            out.push(d);
        }
    }
    out
}

#[derive(Debug, Default)]
struct ClientInfo {
    name: Option<String>,
    email: Option<String>,
    request_name: Option<String>,
    request_url: Option<String>,
}

const CLIENT_LABELS: &[&str] = &[
    "client name",
    "client",
    "company name",
    "company",
    "business name",
    "business",
];
const EMAIL_LABELS: &[&str] = &["client email", "email address", "email"];
const REQUEST_LABELS: &[&str] = &["request name", "access request", "request"];

fn client_info(subject: &str, lines: &[&str], url_lines: &[bool]) -> ClientInfo {
    let mut info = ClientInfo::default();
    let mut lower = String::new();
    for (i, line) in lines.iter().enumerate() {
        if info.request_url.is_none() && url_lines[i] {
            info.request_url = line
                .split_whitespace()
                .map(|t| t.trim_matches(|c: char| "<>()[],;\"'".contains(c)))
                .find(|t| is_leadsie_url(t) && !t.to_ascii_lowercase().contains("unsubscribe"))
                .map(str::to_owned);
        }
        let body = line.trim_start_matches(['*', '-', '•', '|', '_', ' ']);
        if !body
            .as_bytes()
            .first()
            .is_some_and(|c| matches!(c.to_ascii_lowercase(), b'c' | b'e' | b'b' | b'r' | b'a'))
        {
            continue;
        }
        lower.clear();
        lower.push_str(body);
        lower.make_ascii_lowercase();
        let value_of = |rest: &str| {
            strip_separators(&body[body.len() - rest.len()..])
                .trim()
                .to_owned()
        };
        if info.email.is_none()
            && let Some(rest) = EMAIL_LABELS
                .iter()
                .find_map(|lab| labelled_value(&lower, lab))
        {
            info.email = value_of(rest)
                .split_whitespace()
                .map(|t| {
                    t.trim_matches(|c: char| "<>()[],;\"'".contains(c))
                        .trim_start_matches("mailto:")
                })
                .find(|t| t.contains('@') && !t.to_ascii_lowercase().ends_with("leadsie.com"))
                .map(str::to_owned);
            continue;
        }
        if info.name.is_none()
            && let Some(rest) = CLIENT_LABELS
                .iter()
                .find_map(|lab| labelled_value(&lower, lab))
        {
            let v = if rest.is_empty() {
                next_nonempty(lines, i).map(|j| lines[j].trim().to_owned())
            } else {
                Some(value_of(rest))
            };
            info.name = v.filter(|v| !v.is_empty() && v.len() <= 120);
            continue;
        }
        if info.request_name.is_none()
            && let Some(rest) = REQUEST_LABELS
                .iter()
                .find_map(|lab| labelled_value(&lower, lab))
            && !rest.is_empty()
            && !rest.starts_with("http")
        {
            info.request_name = Some(value_of(rest));
        }
    }
    if info.name.is_none() {
        info.name = client_from_subject(strip_reply_prefixes(subject));
    }
    info
}

/// An http(s) URL whose host is leadsie.com or one of its subdomains; a URL
/// that merely contains "leadsie.com/" somewhere is not.
fn is_leadsie_url(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return false;
    };
    super::link::host_of(rest).is_some_and(|(host, _)| super::domain_within(host, "leadsie.com"))
}

/// The client a Leadsie subject names: "Acme has granted you access",
/// "Acme connected their accounts", "New access from Acme". Matches words,
/// not patterns, to stay cheap.
fn client_from_subject(subject: &str) -> Option<String> {
    let lower = subject.to_ascii_lowercase();
    let words: Vec<(usize, &str)> = lower
        .split(' ')
        .scan(0, |pos, w| {
            let at = *pos;
            *pos += w.len() + 1;
            Some((at, w))
        })
        .filter(|(_, w)| !w.is_empty())
        .collect();
    let word = |i: usize| words.get(i).map_or("", |w| w.1);
    let mut name = None;
    for i in 1..words.len() {
        let (at, w) = words[i];
        let next = word(i + 1);
        let before = match w {
            "has" | "have" => matches!(
                next,
                "granted" | "given" | "shared" | "connected" | "just" | "approved"
            ),
            "granted" | "gave" => matches!(next, "you" | "access"),
            "shared" => next == "access",
            "connected" => matches!(next, "their" | "its" | "accounts" | "assets"),
            "is" | "are" => next == "now" && word(i + 2).starts_with("connected"),
            _ => false,
        };
        if before {
            name = Some(&subject[..at]);
            break;
        }
        let after = matches!(w, "from" | "by" | "for")
            && matches!(
                word(i - 1),
                "access" | "connection" | "assets" | "account" | "accounts" | "granted"
            );
        if after && i + 1 < words.len() {
            name = Some(&subject[words[i + 1].0..]);
            break;
        }
    }
    // "Order #12: Acme has granted you access" names Acme.
    let name = name?
        .rsplit(": ")
        .next()
        .unwrap_or("")
        .trim()
        .trim_end_matches(['!', '.'])
        .trim_matches('"')
        .trim();
    (!name.is_empty() && name.len() <= 120).then(|| name.to_owned())
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

#[cfg(test)]
mod localised_tests {
    use super::*;

    #[test]
    fn localised_code_labels_read_as_the_english_one() {
        for (line, code) in [
            ("Mitarbeitercode: 0105", "0105"),
            ("Code für Mitarbeiteranfragen: 0473", "0473"),
            ("Code de demande de collaborateur : 2211", "2211"),
            ("Código de colaborador: 9001", "9001"),
            ("Codice collaboratore: 0042", "0042"),
            ("Código de solicitação de colaborador: 7310", "7310"),
            ("Medewerkerscode: 5555", "5555"),
        ] {
            let text = format!("Shopify\nShop: https://Acme-Co.MyShopify.com\n{line}\n");
            let ex = extract("", &text);
            assert_eq!(ex.grants.len(), 1, "{line}: {ex:?}");
            assert_eq!(ex.grants[0].code.expose(), code, "{line}");
            assert_eq!(ex.grants[0].store.as_str(), "acme-co.myshopify.com");
        }
        // A table whose store column has a label in no list.
        let ex = extract(
            "",
            "Shopify\nBoutique | Code de demande de collaborateur\nbistro-lumiere.myshopify.com | 2211\n",
        );
        assert_eq!(ex.grants.len(), 1, "{ex:?}");
        assert_eq!(ex.grants[0].code.expose(), "2211");
        // A number beside an unrelated word is still not a code.
        let ex = extract(
            "",
            "Shopify\nShop: acme-co.myshopify.com\nMitarbeiter: 12\nPLZ 1234\n",
        );
        assert!(ex.grants.is_empty(), "{ex:?}");
        assert!(matches!(
            code_label::canonical("no label here"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
