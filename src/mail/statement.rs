//! What a sentence states: a body's sentences, and whether a phrase in
//! one is said as a fact rather than as a rule, a condition or a question.
//! Shared by the outcome reader and the vetoes.

use std::sync::LazyLock;

use super::lang;
use super::text::{PhraseSet, unquote};

pub(super) static EXAMPLES: LazyLock<PhraseSet> =
    LazyLock::new(|| PhraseSet::new([lang::EXAMPLE_WORDS]));
static CONDITIONALS_BEFORE: LazyLock<PhraseSet> =
    LazyLock::new(|| PhraseSet::new([lang::CONDITIONALS, lang::CONDITIONALS_BEFORE]));
static CONDITIONALS: LazyLock<PhraseSet> = LazyLock::new(|| PhraseSet::new([lang::CONDITIONALS]));
static GENERAL_MARKERS: LazyLock<PhraseSet> =
    LazyLock::new(|| PhraseSet::new([lang::GENERAL_MARKERS]));
static PAST: LazyLock<PhraseSet> = LazyLock::new(|| PhraseSet::new([lang::PAST_AUXILIARIES]));

/// Each of this module's phrase tables, to be built now ([`super::warm_up`]).
pub(super) const TABLES: &[fn()] = tables![
    EXAMPLES,
    CONDITIONALS_BEFORE,
    CONDITIONALS,
    GENERAL_MARKERS,
    PAST
];

/// The sentences of the body's first `max_lines` non-blank lines: quoting
/// removed, hard-wrapped lines joined, split after `.`, `!` or `?` followed
/// by a space (so `acme.myshopify.com` and "Acme Co." stay whole).
pub(crate) fn sentences(body: &str, max_lines: usize) -> Vec<String> {
    let mut paragraphs: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut last_len = 0;
    let mut seen = 0;
    for raw in body.lines() {
        let line = unquote(raw).trim();
        if line.is_empty() {
            if !cur.is_empty() {
                paragraphs.push(std::mem::take(&mut cur));
            }
            continue;
        }
        seen += 1;
        if seen > max_lines {
            break;
        }
        if !cur.is_empty() {
            let ended = cur.ends_with(['.', '!', '?', ':', ';']);
            let continues = line.starts_with(|c: char| c.is_lowercase());
            if !ended && (last_len >= 40 || continues) {
                cur.push(' ');
            } else {
                paragraphs.push(std::mem::take(&mut cur));
            }
        }
        cur.push_str(line);
        last_len = line.len();
    }
    if !cur.is_empty() {
        paragraphs.push(cur);
    }
    let mut out = Vec::new();
    for p in paragraphs {
        let p = normalise(&p);
        let mut start = 0;
        let b = p.as_bytes();
        for (i, &c) in b.iter().enumerate() {
            if !matches!(c, b'.' | b'!' | b'?') {
                continue;
            }
            let at_end = i + 1 >= b.len() || b[i + 1].is_ascii_whitespace();
            if !at_end || (c == b'.' && abbreviation(&p[start..i])) {
                continue;
            }
            let s = p[start..=i].trim();
            if !s.is_empty() {
                out.push(s.to_owned());
            }
            start = i + 1;
        }
        let s = p[start..].trim();
        if !s.is_empty() {
            out.push(s.to_owned());
        }
    }
    out
}

/// How many candidate phrases of one sentence are judged.
pub(crate) const MAX_CANDIDATES: usize = 8;

/// The clause of `s` around `s[start..end]`: between the commas,
/// semicolons, colons or dashes on either side.
pub(super) fn clause(s: &str, start: usize, end: usize) -> (usize, usize) {
    const CLAUSE_ENDS: [char; 6] = [',', ';', ':', '—', '–', '('];
    let from = s[..start].rfind(CLAUSE_ENDS).map_or(0, |p| p + 1);
    let to = s[end..].find(CLAUSE_ENDS).map_or(s.len(), |p| end + p);
    (from, to)
}

/// Whether `sentence[start..end]`, a phrase saying something ended, is
/// stated as a fact rather than as a condition, a rule, an example, a
/// question or a possibility. `sentence` is lower case. An auxiliary in
/// `rule_auxiliaries` just before the phrase (adverbs skipped) makes it a
/// rule or a possibility ("is removed automatically", "may be revoked").
/// A rule word in its clause ("automatically", "after 90 days") makes a
/// present-tense statement a rule; a past one ("was removed
/// automatically") stays news.
pub(crate) fn states_a_fact(
    sentence: &str,
    start: usize,
    end: usize,
    rule_auxiliaries: &[&[&str]],
) -> bool {
    let s = sentence;
    if s.trim_end().ends_with('?') {
        return false;
    }
    let (clause_start, clause_end) = clause(s, start, end);
    // A condition after the statement governs it up to the next `;` or
    // dash ("…, wenn er nicht genutzt wird"); what follows those is another
    // thought ("…; if this is a mistake, ask the owner").
    let governed_end = s[end..]
        .find([';', '—', '–', '('])
        .map_or(s.len(), |p| end + p);
    if CONDITIONALS_BEFORE.find_in(&s[..start]).next().is_some()
        || CONDITIONALS.find_in(&s[end..governed_end]).next().is_some()
        || EXAMPLES.find_in(&s[..start]).next().is_some()
    {
        return false;
    }
    let before = s[clause_start..start]
        .split_whitespace()
        .rev()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\''))
        .find(|w| !lang::ADVERBS.contains(w));
    let is_aux = |w: &str, aux: &str| w == aux || (aux.starts_with('\'') && w.ends_with(aux));
    if let Some(w) = before
        && rule_auxiliaries
            .iter()
            .flat_map(|l| l.iter())
            .any(|aux| is_aux(w, aux))
    {
        return false;
    }
    let clause = &s[clause_start..clause_end];
    let rule = GENERAL_MARKERS.find_in(clause).next().is_some() || after_some_days(clause);
    if rule {
        // "removed", "was revoked", "has disconnected": the phrase's own
        // participle, or a past auxiliary before it.
        let participle = s[start..end]
            .split_whitespace()
            .any(|w| w.len() > 3 && w.ends_with("ed"));
        let past = participle || PAST.find_in(&s[clause_start..start]).next().is_some();
        if !past {
            return false;
        }
    }
    true
}

/// "after 90 days", "within 7 days", "for 3 months": a span of time that
/// makes a statement a rule.
fn after_some_days(clause: &str) -> bool {
    let words: Vec<&str> = clause.split_whitespace().collect();
    words.windows(3).any(|w| {
        matches!(w[0], "after" | "within" | "for" | "in")
            && w[1].bytes().all(|b| b.is_ascii_digit())
            && matches!(
                w[2].trim_end_matches(['.', ',', ';']),
                "day" | "days" | "week" | "weeks" | "month" | "months" | "hour" | "hours"
            )
    })
}

/// Curly quotes and apostrophes as ASCII, no-break spaces as spaces.
pub(super) fn normalise(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' | '\u{02bc}' => '\'',
            '\u{201c}' | '\u{201d}' => '"',
            '\u{a0}' => ' ',
            c => c,
        })
        .collect()
}
/// Whether the word before a full stop is an abbreviation ("Co", "e.g"),
/// so the stop ends no sentence.
fn abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace())
        .next()
        .unwrap_or("")
        .trim_start_matches(['(', '"', '\'']);
    word.len() == 1
        || (word.contains('.') && word.len() <= 5)
        || [
            "inc", "co", "ltd", "llc", "corp", "mr", "mrs", "ms", "dr", "st", "vs", "etc", "no",
            "jr", "sr",
        ]
        .iter()
        .any(|a| word.eq_ignore_ascii_case(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_of_time() {
        assert!(after_some_days("access ends after 90 days"));
        assert!(after_some_days("within 7 days."));
        assert!(!after_some_days("after the owner approved"));
    }
}
