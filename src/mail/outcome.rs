//! Recognises Shopify's reply to a collaborator request by meaning
//! (accepted/approved/granted, declined/rejected/denied, removed/revoked),
//! plus patterns the operator adds when Shopify's wording changes, and finds
//! the store it is about: a permanent domain, else the store's name.

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;
use serde::Serialize;

use super::grant::{find_store_domains, strip_reply_prefixes};
use super::text::contains_ic;
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

/// Compiled patterns: built-in meaning plus the operator's own.
#[derive(Debug, Clone)]
pub struct OutcomeRules {
    /// The operator's patterns, checked before the built-in phrases.
    rules: Vec<(OutcomeResult, Regex)>,
    /// Per operator rule: whether it has a `(?P<store>…)` group.
    named_store: Vec<bool>,
    builtin: AhoCorasick,
    store_names: Vec<Regex>,
}

/// Shopify's replies by meaning. Phrases, matched case-insensitively on word
/// boundaries in one pass; the leftmost match wins, so "has not been
/// approved" (declined) beats the "approved" inside it.
const BUILTIN: &[(OutcomeResult, &str)] = &[
    (OutcomeResult::Declined, "declined"),
    (OutcomeResult::Declined, "rejected"),
    (OutcomeResult::Declined, "denied"),
    (OutcomeResult::Declined, "refused"),
    (OutcomeResult::Declined, "not approved"),
    (OutcomeResult::Declined, "not been approved"),
    (OutcomeResult::Declined, "not accepted"),
    (OutcomeResult::Declined, "not been accepted"),
    (OutcomeResult::Declined, "not granted"),
    (OutcomeResult::Declined, "not been granted"),
    (OutcomeResult::Declined, "n't approved"),
    (OutcomeResult::Declined, "n't been approved"),
    (OutcomeResult::Declined, "n't accepted"),
    (OutcomeResult::Declined, "n't been accepted"),
    (OutcomeResult::Revoked, "revoked"),
    (OutcomeResult::Revoked, "removed"),
    (OutcomeResult::Revoked, "no longer have access"),
    (OutcomeResult::Revoked, "no longer has access"),
    (OutcomeResult::Revoked, "access expired"),
    (OutcomeResult::Revoked, "access has expired"),
    (OutcomeResult::Revoked, "access ended"),
    (OutcomeResult::Revoked, "access has ended"),
    (OutcomeResult::Granted, "accepted"),
    (OutcomeResult::Granted, "approved"),
    (OutcomeResult::Granted, "granted"),
    (OutcomeResult::Granted, "now have access"),
    (OutcomeResult::Granted, "gave you access"),
    (OutcomeResult::Granted, "given you access"),
];

/// Ways Shopify names a store without its domain; group 1 is the name.
const STORE_NAME_PATTERNS: &[&str] = &[
    r#"(?i)(?:access\s+to|request\s+(?:for|to\s+access)|collaborator\s+(?:account|access)\s+(?:for|on|to))\s+(?:the\s+)?(?:store\s+)?["“']?(.+?)["”']?\s+(?:was|has|is|were|had|have)\b"#,
    r#"(?i)^["“']?(.+?)["”']?\s+(?:accepted|approved|declined|rejected|denied|removed|revoked)\b"#,
    r#"(?i)\b(?:store|shop):\s*["“']?([^"”'\n]+?)["”']?\s*$"#,
];

impl OutcomeRules {
    /// Builds the rules; `extra` holds the operator's patterns, checked before
    /// the built-in ones. A pattern may name the store with `(?P<store>…)`.
    pub fn new(extra: &[(OutcomeResult, String)]) -> Result<OutcomeRules, regex::Error> {
        let mut rules = Vec::new();
        for (result, pattern) in extra {
            rules.push((*result, Regex::new(&format!("(?i){pattern}"))?));
        }
        let store_names = STORE_NAME_PATTERNS
            .iter()
            .map(|p| Regex::new(p))
            .collect::<Result<_, _>>()?;
        let named_store = rules
            .iter()
            .map(|(_, re)| re.capture_names().any(|n| n == Some("store")))
            .collect();
        let builtin = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(BUILTIN.iter().map(|(_, p)| p))
            .expect("built-in phrases build");
        Ok(OutcomeRules {
            rules,
            named_store,
            builtin,
            store_names,
        })
    }

    /// The outcome a Shopify email carries, or `None` when it is about
    /// something else (billing, newsletters, app reviews).
    pub fn detect(&self, subject: &str, body: &str) -> Option<Outcome> {
        let subject = strip_reply_prefixes(subject);
        let about_access = |t: &str| {
            contains_ic(t, "collaborator")
                || (contains_ic(t, "access") && (contains_ic(t, "store") || contains_ic(t, "shop")))
        };
        if !about_access(subject) && !about_access(body) {
            return None;
        }
        // The subject decides when it can; else the earliest match in the body.
        let (result, named) = self.earliest(subject).or_else(|| self.earliest(body))?;
        let store = find_store_domains(&subject.to_ascii_lowercase())
            .into_iter()
            .next()
            .or_else(|| {
                find_store_domains(&body.to_ascii_lowercase())
                    .into_iter()
                    .next()
            });
        let store_name = if store.is_some() {
            None
        } else {
            named.or_else(|| self.store_name(subject)).or_else(|| {
                body.lines()
                    .take(40)
                    .find_map(|l| self.store_name(l.trim()))
            })
        };
        Some(Outcome {
            store,
            store_name,
            result,
        })
    }

    fn earliest(&self, text: &str) -> Option<(OutcomeResult, Option<String>)> {
        // (start, rank, result, store): the earliest match wins; on a tie the
        // operator's rules (ranked first) win.
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
        let b = text.as_bytes();
        let builtin = self.builtin.find_iter(b).find(|m| {
            let before = m.start() == 0 || !b[m.start() - 1].is_ascii_alphanumeric();
            let after = m.end() >= b.len() || !b[m.end()].is_ascii_alphanumeric();
            before && after
        });
        if let Some(m) = builtin {
            let rank = self.rules.len();
            if best.as_ref().is_none_or(|b| (m.start(), rank) < (b.0, b.1)) {
                best = Some((m.start(), rank, BUILTIN[m.pattern().as_usize()].0, None));
            }
        }
        best.map(|(_, _, r, n)| (r, n))
    }

    fn store_name(&self, text: &str) -> Option<String> {
        self.store_names.iter().find_map(|re| {
            let name = re.captures(text)?.get(1)?.as_str().trim();
            let lower = name.to_ascii_lowercase();
            // "Your collaborator request was declined" names no store.
            let generic = lower.contains("collaborator")
                || lower.contains("request")
                || ["your", "the", "a", "this", "access", "it", "store"].contains(&lower.as_str())
                || lower.starts_with("your ");
            (!name.is_empty() && name.len() <= 100 && !generic).then(|| name.to_owned())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> OutcomeRules {
        OutcomeRules::new(&[]).unwrap()
    }

    #[test]
    fn subjects_by_meaning() {
        let r = rules();
        let o = r
            .detect(
                "Your collaborator request for acme.myshopify.com was approved",
                "",
            )
            .unwrap();
        assert_eq!(o.result, OutcomeResult::Granted);
        assert_eq!(o.store.unwrap().as_str(), "acme.myshopify.com");
        let o = r
            .detect(
                "Collaborator request declined",
                "Acme Boutique declined your request to access their store.",
            )
            .unwrap();
        assert_eq!(o.result, OutcomeResult::Declined);
        assert_eq!(o.store_name.as_deref(), Some("Acme Boutique"));
        let o = r
            .detect("Your collaborator access to Acme Boutique was removed", "")
            .unwrap();
        assert_eq!(o.result, OutcomeResult::Revoked);
        assert_eq!(o.store_name.as_deref(), Some("Acme Boutique"));
        assert!(
            r.detect("Your app was approved", "Congratulations")
                .is_none()
        );
    }

    #[test]
    fn operator_patterns_win() {
        let r = OutcomeRules::new(&[(
            OutcomeResult::Granted,
            r"welcome aboard at (?P<store>\w+)".into(),
        )])
        .unwrap();
        let o = r
            .detect("Collaborator update", "Welcome aboard at Zeta")
            .unwrap();
        assert_eq!(o.result, OutcomeResult::Granted);
        assert_eq!(o.store_name.as_deref(), Some("Zeta"));
    }
}
