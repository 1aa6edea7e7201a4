//! Recognises Shopify's reply to a collaborator request by its structure: a
//! transactional message whose subject or an early sentence speaks of *your*
//! request or access and says, in that same sentence, what became of it
//! (accepted/approved/granted, declined/rejected/denied, removed/revoked),
//! about exactly one store. Bulk and marketing mail (newsletters, product
//! updates, webinar invitations, blog digests) is never an answer, whatever
//! it says. Patterns the operator adds when Shopify's wording changes come
//! before the built-in phrases. The store is a permanent domain, else the
//! store's name.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;
use serde::Serialize;

use super::grant::{find_store_domains, strip_reply_prefixes};
use super::lang;
use super::statement::{MAX_CANDIDATES, normalise, sentences, states_a_fact};
use super::text::{contains_ic, find_ic, unquote};
use crate::model::{OutcomeResult, StoreDomain};

/// Shopify's answer about one store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub store: Option<StoreDomain>,
    /// The store's name as the email gives it, when no domain is named.
    pub store_name: Option<String>,
    pub result: OutcomeResult,
}

impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Outcome", 2)?;
        let store = self
            .store
            .as_ref()
            .map(|d| d.as_str())
            .or(self.store_name.as_deref());
        st.serialize_field("store", &store)?;
        st.serialize_field("result", &self.result)?;
        st.end()
    }
}

/// What one reading of a Shopify email found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// A transactional answer about one store.
    Answer(Outcome),
    /// Never an answer, whichever part is read: bulk or marketing mail, or a
    /// message about several or example stores. Says why.
    Refused(String),
    /// Nothing in this text answers a request (another part might).
    Silent,
}

/// Compiled patterns: built-in meaning plus the operator's own.
#[derive(Debug, Clone)]
pub struct OutcomeRules {
    /// The operator's patterns, checked before the built-in phrases.
    rules: Vec<(OutcomeResult, Regex)>,
    /// Per operator rule: whether it has a `(?P<store>…)` group.
    named_store: Vec<bool>,
}

// The built-in phrase tables: the same for every configuration, and built
// on first use, so that a command or a mailbox that never meets a Shopify
// reply never pays for building them.

/// Shopify's replies by meaning ([`BUILTIN`]).
static ANSWERS: LazyLock<Phrases> = LazyLock::new(|| {
    let answers: Vec<&str> = BUILTIN.iter().map(|(_, p)| *p).collect();
    Phrases::new(&answers)
});
static REFS: LazyLock<Phrases> = LazyLock::new(|| Phrases::new(REQUEST_REFS));
static HEDGES: LazyLock<Phrases> = LazyLock::new(|| {
    let hedges: Vec<&str> = HEDGES_BEFORE.iter().chain(PENDING).copied().collect();
    Phrases::new(&hedges)
});
/// Newsletter and marketing vocabulary: one strong signal (a footer's
/// included), or two different weak ones, anywhere in the subject or body
/// makes the email marketing.
static MARKETING: LazyLock<Phrases> = LazyLock::new(|| {
    let marketing: Vec<&str> = strong_marketing()
        .chain(lang::MARKETING_WEAK)
        .copied()
        .collect();
    Phrases::new(&marketing)
});

/// The patterns that find a store's name in a reply that gives no domain:
/// rarely needed, and slower to build than every phrase table together, so
/// built only when first needed (not by [`super::warm_up`]).
static STORE_NAMES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    STORE_NAME_PATTERNS
        .iter()
        .map(|p| Regex::new(p).expect("built-in store-name patterns compile"))
        .collect()
});

/// Each built-in table, to be built now ([`super::warm_up`]).
pub(super) const TABLES: &[fn()] = tables![MARKETING, ANSWERS, HEDGES, REFS];

/// Shopify's replies by meaning. Phrases, matched case-insensitively on word
/// boundaries in one pass; the leftmost match wins, so "has not been
/// approved" (declined) beats the "approved" inside it.
const BUILTIN: &[(OutcomeResult, &str)] = &[
    (OutcomeResult::Declined, "declined"),
    (OutcomeResult::Declined, "rejected"),
    (OutcomeResult::Declined, "denied"),
    (OutcomeResult::Declined, "refused"),
    (OutcomeResult::Declined, "turned down"),
    (OutcomeResult::Declined, "not approved"),
    (OutcomeResult::Declined, "not been approved"),
    (OutcomeResult::Declined, "not accepted"),
    (OutcomeResult::Declined, "not been accepted"),
    (OutcomeResult::Declined, "not granted"),
    (OutcomeResult::Declined, "not been granted"),
    (OutcomeResult::Declined, "not approve"),
    (OutcomeResult::Declined, "not accept"),
    (OutcomeResult::Declined, "not to approve"),
    (OutcomeResult::Declined, "not to accept"),
    (OutcomeResult::Declined, "n't approved"),
    (OutcomeResult::Declined, "n't been approved"),
    (OutcomeResult::Declined, "n't accepted"),
    (OutcomeResult::Declined, "n't been accepted"),
    (OutcomeResult::Declined, "n't granted"),
    (OutcomeResult::Declined, "n't been granted"),
    (OutcomeResult::Declined, "n't approve"),
    (OutcomeResult::Declined, "n't accept"),
    (OutcomeResult::Revoked, "revoked"),
    (OutcomeResult::Revoked, "removed"),
    (OutcomeResult::Revoked, "no longer have access"),
    (OutcomeResult::Revoked, "no longer has access"),
    (OutcomeResult::Revoked, "no longer have collaborator access"),
    (OutcomeResult::Revoked, "no longer a collaborator"),
    (OutcomeResult::Revoked, "access expired"),
    (OutcomeResult::Revoked, "access has expired"),
    (OutcomeResult::Revoked, "access ended"),
    (OutcomeResult::Revoked, "access has ended"),
    (OutcomeResult::Revoked, "ended your collaborator access"),
    (OutcomeResult::Revoked, "ended your access"),
    (OutcomeResult::Granted, "accepted"),
    (OutcomeResult::Granted, "approved"),
    (OutcomeResult::Granted, "granted"),
    (OutcomeResult::Granted, "now have access"),
    (OutcomeResult::Granted, "now have collaborator access"),
    (OutcomeResult::Granted, "now a collaborator"),
    (OutcomeResult::Granted, "added as a collaborator"),
    (OutcomeResult::Granted, "added you as a collaborator"),
    (OutcomeResult::Granted, "gave you access"),
    (OutcomeResult::Granted, "given you access"),
    (OutcomeResult::Granted, "gave you collaborator access"),
    (OutcomeResult::Granted, "given you collaborator access"),
];

/// What ties an outcome phrase to *your* request: one of these must stand in
/// the same sentence as the phrase. Generic mentions ("a collaborator
/// request", "collaborator requests") do not count.
const REQUEST_REFS: &[&str] = &[
    "your collaborator",
    "your request",
    "your access",
    "your store access",
    "request to access",
    "request for access",
    "request for collaborator",
    "access request",
    "collaborator request",
    "collaborator access",
    "collaborator account",
    "you now have",
    "you no longer have",
    "you are no longer",
    "you're no longer",
    "you have been",
    "you've been",
    "you were",
    "you are now",
    "you're now",
    "gave you",
    "given you",
    "granted you",
    "removed you",
    "added you",
    "you as a collaborator",
];

/// Words that make a request reference generic ("a collaborator request").
const GENERIC_BEFORE_REF: &[&str] = &["a", "an", "any", "each", "every", "all", "no"];

/// Words that, before the outcome phrase in its sentence, make it a
/// condition, an example, a future or a possibility rather than a fact:
/// "once the owner has approved your request", "for example, when Acme
/// accepted your request", "your request will be approved".
const HEDGES_BEFORE: &[&str] = &[
    "if",
    "when",
    "whenever",
    "once",
    "after",
    "before",
    "until",
    "unless",
    "as soon as",
    "for example",
    "for instance",
    "e.g.",
    "eg.",
    "such as",
    "imagine",
    "suppose",
    "say",
    "let's say",
    "stores like",
    "store like",
    "shops like",
    "shop like",
    "merchants like",
    "merchant like",
    "partners like",
    "here's how",
    "here is how",
    "how",
    "whether",
    "what happens",
    "will",
    "would",
    "could",
    "should",
    "can",
    "may",
    "might",
    "must",
    "need to",
    "needs to",
    "has to",
    "have to",
    "'ll",
    "be",
    "expect",
    "soon",
    "shortly",
    "example",
    "sample",
];

/// Phrases that, anywhere in the email, say nothing has ended yet: a
/// request that "expires in 7 days" is pending whatever else is said, and
/// access that "remains active" was not removed.
const STILL_OPEN: &[&str] = &[
    "expires in",
    "will expire",
    "remains active",
    "remain active",
    "still have access",
    "still has access",
    "forwarded to the store owner",
    "sent to the store owner",
    "waiting for the store owner",
];

/// Words that, anywhere in the sentence, say the request is still open.
const PENDING: &[&str] = &["yet", "pending", "awaiting", "waiting", "still"];

/// Ways Shopify names a store without its domain; group 1 is the name.
const STORE_NAME_PATTERNS: &[&str] = &[
    r#"(?i)(?:access\s+to|request\s+(?:for|to\s+access)|collaborator\s+(?:account|access)\s+(?:for|on|to))\s+(?:the\s+)?(?:store\s+)?["“']?(.+?)["”']?\s+(?:was|has|is|were|had|have|did)(?:n['’]t)?\b"#,
    r#"(?i)^["“']?(.+?)["”']?\s+(?:has\s+|have\s+)?(?:accepted|approved|declined|rejected|denied|removed|revoked)\b"#,
    r#"(?i)\b(?:store|shop):\s*["“']?([^"”'\n]+?)["”']?\s*$"#,
];

/// How many of the body's non-blank lines are read for the answer: a
/// transactional reply says it early.
const EARLY_LINES: usize = 40;

/// A case-insensitive phrase list matched on word boundaries.
#[derive(Debug, Clone)]
struct Phrases {
    ac: AhoCorasick,
    /// Per phrase: whether its start must follow a word boundary (not for
    /// "n't …" or "'ll", which end a word).
    left: Vec<bool>,
}

impl Phrases {
    fn new(list: &[&str]) -> Phrases {
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(super::text::BUILT_QUICKLY))
            .build(list)
            .expect("built-in phrases build");
        let left = list
            .iter()
            .map(|p| !p.starts_with("n'") && p.as_bytes()[0].is_ascii_alphanumeric())
            .collect();
        Phrases { ac, left }
    }

    /// Matches standing on word boundaries: (start, end, phrase index).
    fn find<'a>(&'a self, text: &'a str) -> impl Iterator<Item = (usize, usize, usize)> + 'a {
        let b = text.as_bytes();
        self.ac.find_iter(b).filter_map(move |m| {
            let (s, e, i) = (m.start(), m.end(), m.pattern().as_usize());
            let before = !self.left[i] || s == 0 || !b[s - 1].is_ascii_alphanumeric();
            let after =
                e >= b.len() || !b[e - 1].is_ascii_alphanumeric() || !b[e].is_ascii_alphanumeric();
            (before && after).then_some((s, e, i))
        })
    }
}

impl OutcomeRules {
    /// An operator's pattern compiled as it is matched: case-insensitively.
    pub fn check_pattern(pattern: &str) -> Result<Regex, regex::Error> {
        Regex::new(&format!("(?i){pattern}"))
    }

    /// The operator's patterns in force, to tell whether a reload changed
    /// them.
    pub fn operator_patterns(&self) -> Vec<(OutcomeResult, &str)> {
        self.rules.iter().map(|(r, re)| (*r, re.as_str())).collect()
    }

    /// Builds the rules; `extra` holds the operator's patterns, checked before
    /// the built-in ones. A pattern may name the store with `(?P<store>…)`.
    pub fn new(extra: &[(OutcomeResult, String)]) -> Result<OutcomeRules, regex::Error> {
        let mut rules = Vec::new();
        for (result, pattern) in extra {
            rules.push((*result, Self::check_pattern(pattern)?));
        }
        Self::with_compiled(rules)
    }

    /// [`OutcomeRules::new`] from the operator's patterns already compiled
    /// by [`OutcomeRules::check_pattern`] (as settings validate them).
    pub fn with_compiled(rules: Vec<(OutcomeResult, Regex)>) -> Result<OutcomeRules, regex::Error> {
        let named_store = rules
            .iter()
            .map(|(_, re)| re.capture_names().any(|n| n == Some("store")))
            .collect();
        Ok(OutcomeRules { rules, named_store })
    }

    /// The outcome a Shopify email carries, or `None` when it is about
    /// something else (billing, newsletters, app reviews).
    pub fn detect(&self, subject: &str, body: &str) -> Option<Outcome> {
        match self.read(subject, body, None) {
            Reading::Answer(o) => Some(o),
            _ => None,
        }
    }

    /// Reads one text of a Shopify email. `bulk` says why the message's
    /// headers mark it as bulk mail, if they do ([`super::veto::bulk`]).
    pub fn read(&self, subject: &str, body: &str, bulk: Option<&str>) -> Reading {
        let subject = strip_reply_prefixes(subject);
        let about_access = |t: &str| {
            contains_ic(t, "collaborator")
                || (contains_ic(t, "access") && (contains_ic(t, "store") || contains_ic(t, "shop")))
        };
        if !about_access(subject) && !about_access(body) {
            return Reading::Silent;
        }
        if let Some(why) = bulk {
            return Reading::Refused(format!("it is bulk mail ({why})"));
        }
        if let Some(why) = self.marketing(subject, body) {
            return Reading::Refused(format!("it reads as a newsletter or marketing ({why})"));
        }
        // The operator's patterns win; else the built-in structure.
        let (result, named, sentence) =
            if let Some((r, n)) = self.operator(subject).or_else(|| self.operator(body)) {
                (r, n, None)
            } else {
                if let Some(p) = STILL_OPEN
                    .iter()
                    .find(|p| contains_ic(body, p) || contains_ic(subject, p))
                {
                    return Reading::Refused(format!(
                        "it says the request or access is still open (\"{p}\")"
                    ));
                }
                match self.structural(subject, body) {
                    Ok(Some((r, s))) => (r, None, s),
                    Ok(None) => return Reading::Silent,
                    Err(why) => return Reading::Refused(why),
                }
            };
        let mut stores = find_store_domains(&subject.to_ascii_lowercase());
        for d in find_store_domains(&body.to_ascii_lowercase()) {
            if !stores.contains(&d) {
                stores.push(d);
            }
        }
        if stores.len() > 1 {
            let names: Vec<&str> = stores.iter().map(StoreDomain::as_str).collect();
            return Reading::Refused(format!(
                "it names {} stores ({}), a reply is about one",
                stores.len(),
                names.join(", ")
            ));
        }
        let store = stores.pop();
        let store_name = if store.is_some() {
            None
        } else {
            named
                .or_else(|| self.store_name(subject))
                .or_else(|| sentence.as_deref().and_then(|s| self.store_name(s)))
                .or_else(|| {
                    body.lines()
                        .take(EARLY_LINES)
                        .find_map(|l| self.store_name(unquote(l).trim()))
                })
        };
        let shown = store
            .as_ref()
            .map(|d| d.as_str().trim_end_matches(".myshopify.com"))
            .or(store_name.as_deref());
        if let Some(s) = shown.filter(|s| is_placeholder(s)) {
            return Reading::Refused(format!("it names an example store ({s})"));
        }
        Reading::Answer(Outcome {
            store,
            store_name,
            result,
        })
    }

    /// The earliest operator pattern in `text`, and the store it names.
    fn operator(&self, text: &str) -> Option<(OutcomeResult, Option<String>)> {
        // (start, rank, result, store): the earliest match wins; on a tie the
        // rule listed first.
        let mut best: Option<(usize, usize, OutcomeResult, Option<String>)> = None;
        for (rank, (result, re)) in self.rules.iter().enumerate() {
            // `find` is much cheaper than `captures`; only a pattern that
            // names the store needs its groups.
            let Some(m) = re.find(text) else { continue };
            if best.as_ref().is_none_or(|b| (m.start(), rank) < (b.0, b.1)) {
                let named = if self.named_store[rank] {
                    re.captures(text)
                        .and_then(|c| c.name("store"))
                        .map(|s| s.as_str().trim().to_owned())
                } else {
                    None
                };
                best = Some((m.start(), rank, *result, named));
            }
        }
        best.map(|(_, _, r, n)| (r, n))
    }

    /// The answer the subject and the body's early sentences give, each
    /// sentence judged alone; with the body sentence that gave it. `Err` when
    /// they contradict each other.
    fn structural(
        &self,
        subject: &str,
        body: &str,
    ) -> Result<Option<(OutcomeResult, Option<String>)>, String> {
        let mut found: Option<(OutcomeResult, Option<String>)> =
            self.answer_in(&normalise(subject)).map(|r| (r, None));
        for s in sentences(body, EARLY_LINES) {
            let Some(r) = self.answer_in(&s) else {
                continue;
            };
            match &found {
                None => found = Some((r, Some(s))),
                Some((prev, _)) if *prev == r => {}
                Some((prev, _)) => {
                    return Err(format!(
                        "it says both {} and {}; a reply gives one answer",
                        prev.as_str(),
                        r.as_str()
                    ));
                }
            }
        }
        Ok(found)
    }

    /// The outcome one sentence states about your request, if it states one
    /// as a fact.
    fn answer_in(&self, s: &str) -> Option<OutcomeResult> {
        // Small print about when access ends ("collaborator access is
        // removed automatically if nobody logs in for 90 days") is a rule,
        // not news: the sentence that answers the request is.
        let lower = s.to_ascii_lowercase();
        let (start, _, i) = ANSWERS.find(s).take(MAX_CANDIDATES).find(|&(st, en, i)| {
            BUILTIN[i].0 != OutcomeResult::Revoked
                || states_a_fact(
                    &lower,
                    st,
                    en,
                    &[lang::MODAL_AUXILIARIES, lang::PRESENT_AUXILIARIES],
                )
        })?;
        let refers = REFS.find(s).any(|(rs, _, _)| {
            let before = s[..rs].trim_end();
            let word = before
                .rsplit(|c: char| !c.is_ascii_alphanumeric())
                .next()
                .unwrap_or("");
            !GENERIC_BEFORE_REF
                .iter()
                .any(|g| word.eq_ignore_ascii_case(g))
        });
        // A question, or a reply quoted as an example ("“Acme accepted your
        // collaborator request” is the email you will get"), states nothing.
        let quoted = s[..start].matches('"').count() % 2 == 1;
        if !refers || quoted || s.trim_end().ends_with('?') {
            return None;
        }
        let hedged = HEDGES
            .find(s)
            .any(|(_, he, h)| h >= HEDGES_BEFORE.len() || he <= start);
        (!hedged).then_some(BUILTIN[i].0)
    }

    /// Why the text reads as marketing, if it does: one strong signal or two
    /// different weak ones. The footer a mailing list appends (a Google
    /// Group the agency receives Shopify's mail through) does not count.
    fn marketing(&self, subject: &str, body: &str) -> Option<String> {
        let mut weak: Vec<&str> = Vec::new();
        let body = &body[..list_footer_start(body)];
        let strong = strong_marketing().count();
        for text in [subject, body] {
            for (s, e, i) in MARKETING.find(text) {
                let phrase = &text[s..e];
                if i < strong {
                    return Some(format!("\"{phrase}\""));
                }
                let canon = lang::MARKETING_WEAK[i - strong];
                if !weak.contains(&canon) {
                    weak.push(canon);
                }
                if weak.len() >= 2 {
                    return Some(format!("\"{}\", \"{}\"", weak[0], weak[1]));
                }
            }
        }
        None
    }

    fn store_name(&self, text: &str) -> Option<String> {
        STORE_NAMES.iter().find_map(|re| {
            let name = re.captures(text)?.get(1)?.as_str().trim();
            let lower = name.to_ascii_lowercase();
            // "Your collaborator request was declined" names no store, nor
            // does "The store owner removed your access".
            let generic = lower.contains("collaborator")
                || lower.contains("dashboard")
                || lower.contains("partner")
                || lower.contains("request")
                || lower.contains("owner")
                || lower.contains("merchant")
                || ["your", "the", "a", "this", "access", "it", "store"].contains(&lower.as_str())
                || lower.starts_with("your ");
            (!name.is_empty() && name.len() <= 100 && !generic).then(|| name.to_owned())
        })
    }
}

/// Where a footer a mailing list appends begins (Google Groups' "You
/// received this message because you are subscribed to the Google Groups…",
/// Mailman's line of underscores), or the text's end: a list that relays
/// Shopify's mail to the agency adds its own unsubscribe line.
fn list_footer_start(text: &str) -> usize {
    let google = [
        "you are subscribed to the google groups",
        "googlegroups.com",
    ]
    .iter()
    .filter_map(|m| find_ic(text, m))
    .min()
    .map(|at| text[..at].rfind('\n').map_or(0, |p| p + 1));
    let mut offset = 0;
    let mut mailman = None;
    for line in text.split_inclusive('\n') {
        if line.trim().len() >= 30 && line.trim().bytes().all(|b| b == b'_') {
            mailman = Some(offset);
            break;
        }
        offset += line.len();
    }
    google
        .into_iter()
        .chain(mailman)
        .min()
        .unwrap_or(text.len())
}

/// A store that stands for any store: `example-store`, `your-store`,
/// "Sample Shop".
fn is_placeholder(store: &str) -> bool {
    let s = store.to_ascii_lowercase();
    let compact: String = s.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    ["example", "sample", "placeholder", "dummy"]
        .iter()
        .any(|w| compact.contains(w))
        || [
            "yourstore",
            "yourshop",
            "yourbrand",
            "yourcompany",
            "storename",
            "shopname",
            "mystore",
            "myshop",
        ]
        .iter()
        .any(|p| compact.starts_with(p))
}

/// Strong signs of marketing: a footer's words, then a newsletter's.
fn strong_marketing() -> impl Iterator<Item = &'static &'static str> {
    lang::MARKETING_FOOTER.iter().chain(lang::MARKETING_STRONG)
}

#[cfg(test)]
mod tests;
