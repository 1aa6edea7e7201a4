//! The rules that read an email's lines, one method each. The line rules
//! ([`Scanner::collaborator_line`], [`Scanner::bare_code_beside_store`],
//! [`Scanner::labelled_store`] and its [`Scanner::bare_handle`]) note the
//! stores and codes in the email's order; the finishing rules pair them,
//! add the tables' rows, fall back on a store named anywhere, settle
//! conflicts, report what needs a person and attach the client.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use std::mem;
use std::ops::Range;

use super::client::{LEADSIE_URL, client_info};
use super::extraction::{Extraction, Grant, MAX_STORES};
use super::labels::{
    ADMIN_STORE, COLLABORATOR, MYSHOPIFY, NAME_LABELS, StoreLabel, code_after_label,
    find_store_domains, is_hedged, is_placeholder, labels_a_code, read_value, starts_with_label,
    store_label,
};
use super::lines::{Lines, Section, Sections, next_nonempty, scan_words};
use super::pairing::{Event, Pair, pair};
use super::tables::{Tables, read_tables};
use crate::mail::code_label;
use crate::mail::text::LINK_MARK;
use crate::model::{CollaboratorCode, StoreDomain};

/// How far a bare code label may stand from its store, in lines.
const CARD_LINES: usize = 4;

/// What a line rule did with a line it read. A rule returns `None` for a
/// line that is not its own, and the next rule reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
    /// Read: the walk goes on with the lines after it (and after its value,
    /// when that stood on a line of its own).
    Next,
    /// Enough stores read: the walk ends here.
    Stop,
}

/// A label's value (lower-cased), the line it stands on and where on that
/// line: the same bytes of the original line are the value as written.
struct Value<'a> {
    text: &'a str,
    line: usize,
    span: Range<usize>,
}

/// A line without the bullets, bars and emphasis in front of its label.
fn after_bullets(line: &str) -> &str {
    line.trim_start_matches(['*', '-', '•', '|', '#', '_', ' ', '\t'])
}

/// One email being read: its lines, what the rules found so far, and the
/// extraction they fill in.
pub(super) struct Scanner<'a> {
    subject: &'a str,
    lower_text: &'a str,
    lines: Lines<'a>,
    /// Lines naming "collaborator" anywhere.
    collaborator_lines: Vec<bool>,
    /// Lines naming a permanent store domain anywhere.
    store_lines: Vec<bool>,
    /// The platform section of each line, read only when a rule needs it.
    sections: OnceCell<Sections>,
    table: Tables,
    /// The first line not yet read: a label's value on the line after it
    /// was read with the label.
    resume_at: usize,
    events: Vec<Event>,
    pairs: Vec<Pair>,
    /// Lines naming a store domain outside a label: the fallback when no
    /// labelled store turns up, read only then.
    mention_lines: Vec<usize>,
    /// A store given by a custom domain, which no grant can use.
    custom_domain: Option<String>,
    out: Extraction,
}

impl<'a> Scanner<'a> {
    /// Prepares the reading of `text`, whose lower-cased copy is `lower`;
    /// the tables of stores are read first, so the line rules skip them.
    /// `mentions_shopify`: the email names Shopify at all.
    pub fn new(
        subject: &'a str,
        text: &'a str,
        lower: &'a str,
        mentions_shopify: bool,
    ) -> Scanner<'a> {
        let lines = Lines::new(text, lower);
        let table = read_tables(&lines.lower);
        let mut scan = Scanner {
            subject,
            lower_text: lower,
            collaborator_lines: lines.marks(lower, &[&COLLABORATOR]),
            store_lines: lines.marks(lower, &[&MYSHOPIFY, &ADMIN_STORE]),
            lines,
            sections: OnceCell::new(),
            table,
            resume_at: 0,
            events: Vec::new(),
            pairs: Vec::new(),
            mention_lines: Vec::new(),
            custom_domain: None,
            out: Extraction {
                mentions_shopify,
                ..Extraction::default()
            },
        };
        scan.out.stores_seen += scan.table.rows.len();
        scan
    }

    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    /// Whether line `i` is for the line rules: not blank, not a table's,
    /// and not a value already read with its label.
    pub fn reads(&self, i: usize) -> bool {
        i >= self.resume_at && !self.lines.lower[i].is_empty() && !self.table.consumed[i]
    }

    fn sections(&self) -> &Sections {
        self.sections.get_or_init(|| self.lines.sections())
    }

    fn section(&self, i: usize) -> Section {
        self.sections().section[i]
    }

    /// The line after `i` where a value ending line `i`'s label stands.
    fn next_line(&self, i: usize) -> Option<(usize, &'a str)> {
        next_nonempty(&self.lines.lower, i).map(|j| (j, self.lines.lower[j]))
    }

    /// Every line up to `last` (the rule's own, or the one its value stood
    /// on) is read: the walk goes on after it.
    fn read_through(&mut self, last: usize) -> Option<Flow> {
        self.resume_at = last + 1;
        Some(Flow::Next)
    }

    fn note_store(&mut self, store: StoreDomain) {
        self.out.stores_seen += 1;
        self.events.push(Event::Store(store));
    }

    /// A line naming a permanent store domain outside a label is kept for
    /// [`Scanner::fallback_mention`].
    pub fn store_mention(&mut self, i: usize) {
        if self.store_lines[i] {
            self.mention_lines.push(i);
        }
    }

    /// "Collaborator code: 0473", or the label alone with the code on the
    /// next line; a store named before the label on the same line comes
    /// first. A code given as an example, or under another platform's
    /// heading, is seen but not taken; a label with no code ("not
    /// provided") leaves the store before it without one. When no code is
    /// read the line may still be a store's label.
    pub fn collaborator_line(&mut self, i: usize) -> Option<Flow> {
        if !self.collaborator_lines[i] {
            return None;
        }
        let line = self.lines.lower[i];
        // "Store: a.myshopify.com, collaborator code: 1111".
        let before = &line[..COLLABORATOR.find(line.as_bytes()).unwrap_or(0)];
        if let [store] = find_store_domains(before).as_slice() {
            self.note_store(store.clone());
        }
        let hedged = is_hedged(line);
        match code_after_label(line, self.next_line(i)) {
            Some((code, value_line)) => {
                self.out.code_seen = true;
                if !hedged && self.section(i) != Section::Other {
                    self.events.push(Event::Code(code));
                }
                self.read_through(value_line.unwrap_or(i))
            }
            None => {
                if labels_a_code(line) && !hedged {
                    self.events.push(Event::NoCode);
                }
                None
            }
        }
    }

    /// A bare "Code: 2025" is the code only in a store's card, in no other
    /// platform's section: in a footer it is not. The line is read either
    /// way.
    pub fn bare_code_beside_store(&mut self, i: usize) -> Option<Flow> {
        if self.collaborator_lines[i] {
            return None;
        }
        let line = self.lines.lower[i];
        let value = code_label::after_bare_label(after_bullets(line))?;
        if self.section(i) == Section::Other || !self.beside_a_store(i) {
            return self.read_through(i);
        }
        let hedged = is_hedged(line);
        match read_value(value, self.next_line(i)) {
            Some((code, value_line)) => {
                self.out.code_seen = true;
                if !hedged {
                    self.events.push(Event::Code(code));
                }
                self.read_through(value_line.unwrap_or(i))
            }
            None => {
                if !hedged && !value.is_empty() {
                    self.events.push(Event::NoCode);
                }
                self.read_through(i)
            }
        }
    }

    /// Whether line `i` sits in a store's card: a store (a permanent domain,
    /// or a store label with a value) on one of the few lines before it or
    /// the two after it, with no other platform's heading in between.
    fn beside_a_store(&self, i: usize) -> bool {
        let names_store = |j: usize| {
            self.store_lines[j]
                || store_label(after_bullets(self.lines.lower[j]))
                    .is_some_and(|label| !label.value.is_empty())
        };
        let before = (i.saturating_sub(CARD_LINES)..i)
            .rev()
            .take_while(|&j| {
                let w = scan_words(self.lines.orig[j]);
                !w.other_head || w.shopify_head
            })
            .any(names_store);
        let after = (i + 1..self.lines.len().min(i + 3)).any(names_store);
        before || after
    }

    /// "Store URL: acme-co.myshopify.com", or the label alone with the
    /// store on the next line. A label naming the store by name ("Store
    /// name") identifies none; a value that is no domain may be a bare
    /// handle. Stops the walk once [`MAX_STORES`] stores are read.
    pub fn labelled_store(&mut self, i: usize) -> Option<Flow> {
        let body = after_bullets(self.lines.lower[i]);
        // Every store label starts "s" or "m"; most lines go no further.
        let maybe_label = body.starts_with(['s', 'm']);
        if !maybe_label
            || NAME_LABELS
                .iter()
                .any(|n| starts_with_label(body, n).is_some())
        {
            return None;
        }
        if self.out.stores_seen >= MAX_STORES {
            self.out.problem = Some(format!(
                "it names more than {MAX_STORES} stores; only the first {MAX_STORES} were read"
            ));
            return Some(Flow::Stop);
        }
        let label = store_label(body)?;
        let value = self.value_of(i, &label)?;
        if let Some(store) = find_store_domains(value.text).into_iter().next() {
            self.note_store(store);
            return self.read_through(value.line);
        }
        self.bare_handle(i, value, label.names_shopify)
    }

    /// Where the value of line `i`'s store label stands: after the label,
    /// or alone on the next line when the label ends its own.
    fn value_of(&self, i: usize, label: &StoreLabel<'a>) -> Option<Value<'a>> {
        if label.value.is_empty() {
            let (j, next) = self.next_line(i)?;
            return Some(Value {
                text: next,
                line: j,
                span: 0..next.len(),
            });
        }
        // The label was read after the line's bullets, which shift it along.
        let line = self.lines.lower[i];
        let bullets = line.len() - after_bullets(line).len();
        Some(Value {
            text: label.value,
            line: i,
            span: bullets + label.span.start..bullets + label.span.end,
        })
    }

    /// A store label's one-word value as the store's handle ("acme-co"),
    /// only where Shopify is the subject: a "Store ID" under Google Merchant
    /// Center is not ours. A name ("Tidewater"), a placeholder or a number
    /// is no store, nor is a custom domain; then no store named elsewhere
    /// may stand in for this one.
    fn bare_handle(&mut self, i: usize, value: Value<'a>, names_shopify: bool) -> Option<Flow> {
        if value.text.split_whitespace().count() != 1 {
            return None;
        }
        let shopify_context = names_shopify || self.section(i) == Section::Shopify;
        // A handle is written in lower case ("ac3cb8", "acme-co"); a
        // capitalised word is the shop's name, often a link's text.
        let named = self.lines.orig[value.line]
            .get(value.span)
            .is_some_and(|v| v.chars().any(char::is_uppercase));
        let placeholder = is_placeholder(value.text);
        if placeholder || named {
            self.out.unusable_store = true;
        }
        if !shopify_context || named || placeholder {
            return None;
        }
        if let Some(store) = StoreDomain::parse(value.text) {
            self.note_store(store);
            return self.read_through(value.line);
        }
        if value.text.contains('.') {
            self.custom_domain = Some(value.text.trim_matches(['/', '.']).to_owned());
            self.out.unusable_store = true;
        }
        None
    }

    /// Pairs the stores and codes the line rules found, in their order.
    pub fn pair_up(&mut self) {
        self.pairs = pair(mem::take(&mut self.events));
    }

    /// Adds the tables' rows, but for any under another platform's heading
    /// ("TikTok Shop"): those are not Shopify stores.
    pub fn table_rows(&mut self) {
        if !self.table.rows.is_empty() {
            let sections = self.sections.get_or_init(|| self.lines.sections());
            self.pairs.extend(
                self.table
                    .rows
                    .drain(..)
                    .filter(|row| sections.section[row.line] != Section::Other)
                    .map(|row| (row.store, row.code)),
            );
        }
        if let Some(d) = self.table.custom_domains.first() {
            self.custom_domain.get_or_insert_with(|| d.clone());
        }
    }

    /// Each store paired with a code is a grant. A store named without one
    /// is reported even when others were paired: it must not vanish.
    pub fn grant_pairs(&mut self) {
        let mut unpaired: Vec<StoreDomain> = Vec::new();
        for (store, code) in mem::take(&mut self.pairs) {
            match code {
                Some(code) => self.out.grants.push(Grant::of(store, code)),
                None => unpaired.push(store),
            }
        }
        let granted: HashSet<&StoreDomain> = self.out.grants.iter().map(|g| &g.store).collect();
        unpaired.retain(|s| !granted.contains(s));
        if !unpaired.is_empty() && self.out.problem.is_none() {
            let names: Vec<&str> = unpaired.iter().map(StoreDomain::as_str).collect();
            self.out.problem = Some(format!(
                "Shopify store {} is named but no 4-digit collaborator code was found beside it",
                names.join(", ")
            ));
        }
    }

    /// No labelled store at all: one store domain named anywhere (not as a
    /// link's target) with one collaborator code is the grant.
    pub fn fallback_mention(&mut self) {
        if !self.out.grants.is_empty() || self.out.stores_seen > 0 || self.out.unusable_store {
            return;
        }
        let mut mentions: HashSet<StoreDomain> = HashSet::new();
        for &j in &self.mention_lines {
            // A link's target is not the email naming a store: a help or
            // unsubscribe link must not stand in for a missing label.
            if self.lines.lower[j].contains(LINK_MARK) {
                continue;
            }
            mentions.extend(find_store_domains(self.lines.lower[j]));
            if mentions.len() > 1 {
                break;
            }
        }
        let codes: Vec<CollaboratorCode> = (0..self.lines.len())
            .filter(|&j| self.collaborator_lines[j])
            .filter_map(|j| code_after_label(self.lines.lower[j], self.next_line(j)))
            .map(|(code, _)| code)
            .collect();
        let mentions: Vec<StoreDomain> = mentions.into_iter().collect();
        if let ([store], [code]) = (mentions.as_slice(), codes.as_slice()) {
            self.out.grants.push(Grant::of(store.clone(), code.clone()));
        }
    }

    /// The same store and code named twice is one grant; the same store with
    /// two different codes is a contradiction a person must settle.
    pub fn one_code_per_store(&mut self) {
        let mut codes_of: HashMap<StoreDomain, Vec<CollaboratorCode>> = HashMap::new();
        for g in &self.out.grants {
            let codes = codes_of.entry(g.store.clone()).or_default();
            if !codes.contains(&g.code) {
                codes.push(g.code.clone());
            }
        }
        let mut seen = HashSet::new();
        self.out
            .grants
            .retain(|g| codes_of[&g.store].len() == 1 && seen.insert(g.store.clone()));
        let mut conflicting: Vec<&str> = codes_of
            .iter()
            .filter(|(_, c)| c.len() > 1)
            .map(|(s, _)| s.as_str())
            .collect();
        if !conflicting.is_empty() {
            conflicting.sort_unstable();
            self.out.problem = Some(format!(
                "Shopify store {} is given with more than one collaborator code; which one holds is not clear",
                conflicting.join(", ")
            ));
        }
    }

    pub fn found_grants(&self) -> bool {
        !self.out.grants.is_empty()
    }

    /// Table rows no grant could come from (a custom domain, a name
    /// without a domain) need a person; the other rows still become
    /// requests.
    pub fn problems(&mut self) {
        if self.out.grants.is_empty() || self.out.problem.is_some() {
            return;
        }
        let mut problems = Vec::new();
        if !self.table.custom_domains.is_empty() {
            problems.push(format!(
                "the Shopify store {} is given by a custom domain; the request needs its permanent <handle>.myshopify.com domain",
                self.table.custom_domains.join(", ")
            ));
        }
        if !self.table.names_only.is_empty() {
            problems.push(format!(
                "the Shopify store {} is named without a domain; the request needs its permanent <handle>.myshopify.com domain",
                self.table.names_only.join(", ")
            ));
        }
        if !problems.is_empty() {
            self.out.problem = Some(problems.join("; "));
        }
    }

    /// Every grant carries the client details the email gives.
    pub fn attach_client(&mut self) {
        let url_lines = self.lines.marks(self.lower_text, &[&LEADSIE_URL]);
        let client = client_info(self.subject, &self.lines.orig, &url_lines);
        for g in &mut self.out.grants {
            g.client = client.name.clone();
            g.client_email = client.email.clone();
            g.request_name = client.request_name.clone();
            g.request_url = client.request_url.clone();
        }
    }

    /// No grant: says why. Only now is every word of the email read.
    pub fn explain_failure(&mut self) {
        let sections = self.sections.get_or_init(|| self.lines.sections());
        self.out.failed_connection = sections
            .failure
            .iter()
            .zip(&sections.section)
            .any(|(failed, section)| *failed && *section != Section::Other);
        // A problem already said (a store without its code) stands.
        if self.out.problem.is_none()
            && let Some(domain) = &self.custom_domain
        {
            self.out.problem = Some(format!(
                "the Shopify store is given as `{domain}`, a custom domain; the request needs its permanent <handle>.myshopify.com domain"
            ));
        }
    }

    pub fn into_extraction(self) -> Extraction {
        self.out
    }
}
