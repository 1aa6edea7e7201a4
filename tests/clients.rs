//! The mail-client corpus (issue 22, item 3): Leadsie grants forwarded by
//! colleagues through the clients they use (Apple Mail, Gmail, the
//! Outlooks, Thunderbird, Yahoo, webmails…) in each locale those clients
//! ship in, one to three hops deep and as an attachment carried by an
//! inline forward, each genuine case beside twins that must give no grant:
//! (a) the outer forward is a stranger's, (b) the original is not
//! Leadsie's, (c) a middle hop is a stranger's, (d) a stranger's middle hop
//! in a language no label list knows.
//!
//! The report counts pass/total and wrong grants per client, locale, chain
//! depth, twin and body parts (a chain counts under every client and locale
//! it passes through), then the commonest failure shapes and the first
//! failures by variant name. To look at failing messages:
//!
//! ```text
//! CLIENTGEN_DUMP=/tmp/clients cargo test --release --test clients -- --nocapture
//! CLIENTGEN_ONLY='outlook-web:pl' cargo test --release --test clients -- --nocapture
//! ```
//!
//! `CLIENTGEN_DUMP` writes each failing variant as `<dir>/<id>.eml`;
//! `CLIENTGEN_ONLY` keeps the variants whose name contains the text;
//! `CLIENTGEN_ALL` lists every failure, not only the first 40.

#[path = "support/clientgen.rs"]
mod clientgen;
#[path = "support/verdict.rs"]
mod verdict;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use clientgen::Variant;
use collabd::mail::Classification;
use mail_parser::MessageParser;
use verdict::{Misreads, Tables, bodies, classifier, judge};

/// A failure's reason with the particulars (addresses, numbers, quoted
/// text) taken out, so that failures of one shape count together.
fn shape(v: &Variant, c: &Classification, wrong: bool) -> String {
    let reason = c.reason.as_deref().unwrap_or("-");
    let mut out = String::new();
    let mut in_quote = false;
    for word in reason.split_whitespace() {
        if word.starts_with(['"', '“', '\'', '«']) {
            in_quote = true;
        }
        let token = if in_quote {
            "…"
        } else if word.contains('@') {
            role(word)
        } else if word.chars().any(|ch| ch.is_ascii_digit()) {
            "#"
        } else {
            word
        };
        if word.ends_with(['"', '”', '\'', '»', ':']) || word.ends_with("\",") {
            in_quote = false;
        }
        if !(token == "…" && out.ends_with('…')) {
            out.push_str(token);
            out.push(' ');
        }
    }
    let mut reason: String = out.trim_end().chars().take(110).collect();
    if reason.is_empty() {
        reason.push('-');
    }
    let tag = if wrong { "WRONG " } else { "" };
    format!("{tag}{} {}: {}", v.twin.name(), c.kind, reason)
}

/// Whose address a reason names, by the part it plays in the corpus.
fn role(word: &str) -> &'static str {
    let w = word.trim_matches(|c: char| !c.is_alphanumeric());
    if w.ends_with("@agency.com") && w.starts_with("access@") {
        "<inbox>"
    } else if w.ends_with("agency.com") {
        "<colleague>"
    } else if w.ends_with("@leadsie.com") {
        "<leadsie>"
    } else if w.contains("client-shop") || w.contains("leadsie") {
        "<not-leadsie>"
    } else {
        "<stranger>"
    }
}

fn selected() -> Vec<Variant> {
    verdict::selected("CLIENTGEN_ONLY", clientgen::corpus(), Variant::name)
}

#[test]
fn classifier_reads_every_client_forward() {
    let started = std::time::Instant::now();
    let corpus = selected();
    let classifier = classifier();

    let dims = ["client", "locale", "chain depth", "twin", "body parts"];
    let mut tables = Tables::new(&dims);
    let mut failures = Misreads::new("CLIENTGEN_DUMP");
    let mut shapes: BTreeMap<String, (usize, String)> = BTreeMap::new();
    // One-hop genuine misses: client → locales, in corpus order.
    let mut cells: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    let mut pass = 0;
    for v in &corpus {
        let c = classifier.classify(&v.raw);
        let verdict = judge(&v.expect, &c);
        let keys: [Vec<String>; 5] = [
            v.clients().iter().map(|s| s.to_string()).collect(),
            v.langs().iter().map(|s| s.to_string()).collect(),
            vec![v.depth.name().to_owned()],
            vec![v.twin.name().to_owned()],
            vec![v.parts.name().to_owned()],
        ];
        for (dim, keys) in keys.iter().enumerate() {
            for key in keys {
                tables.count(dim, key, &verdict);
            }
        }
        match verdict {
            Ok(()) => pass += 1,
            Err(miss) => {
                let is_wrong = failures.record(v.name(), v.id, &v.raw, miss);
                let entry = shapes
                    .entry(shape(v, &c, is_wrong))
                    .or_insert_with(|| (0, v.name()));
                entry.0 += 1;
                if v.depth == clientgen::Depth::One && v.twin == clientgen::Twin::Genuine {
                    let (client, lang) = (v.clients()[0], v.langs()[0]);
                    match cells.iter_mut().find(|(c, _)| *c == client) {
                        Some((_, langs)) => langs.push(lang),
                        None => cells.push((client, vec![lang])),
                    }
                }
            }
        }
    }
    let elapsed = started.elapsed();

    let mut report = String::new();
    let _ = writeln!(
        report,
        "\nclient corpus: {} variants, {pass} pass, {} fail ({} with a WRONG grant), {:.2?}",
        corpus.len(),
        failures.list.len(),
        failures.wrong,
        elapsed
    );
    tables.write(&mut report);
    if failures.list.is_empty() {
        println!("{report}");
        return;
    }
    if !cells.is_empty() {
        let _ = writeln!(report, "\none-hop genuine forwards missed, by client:");
        for (client, langs) in &cells {
            let _ = writeln!(report, "  {client:<18} {}", langs.join(" "));
        }
    }
    let mut common: Vec<(&String, &(usize, String))> = shapes.iter().collect();
    common.sort_by_key(|(_, (n, _))| std::cmp::Reverse(*n));
    let _ = writeln!(report, "\ncommonest failure shapes (count, shape, e.g.):");
    for (s, (n, example)) in common.iter().take(15) {
        let _ = writeln!(report, "  {n:>5}  {s}\n         e.g. {example}");
    }
    let all = std::env::var_os("CLIENTGEN_ALL").is_some();
    failures.write_first(&mut report, if all { usize::MAX } else { 40 });
    panic!(
        "{} of {} client variants were misread:{report}",
        failures.list.len(),
        corpus.len()
    );
}

/// The corpus is the same on every run and as wide as promised: at least
/// 14 clients, 25 locales and 14 × 25 client/locale cells, every chain
/// depth with every twin it can have.
#[test]
fn corpus_is_deterministic_and_wide() {
    let a = clientgen::corpus();
    let b = clientgen::corpus();
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!(x.raw == y.raw, "{} differs between two runs", x.name());
    }
    let cells = clientgen::cells();
    assert!(cells.len() >= 14 * 25, "{} cells", cells.len());
    let wide = clientgen::CLIENTS
        .iter()
        .filter(|c| c.locales().len() >= 25)
        .count();
    assert!(wide >= 14, "only {wide} clients in 25 or more locales");
    assert!(clientgen::LOCALES.len() >= 25);
    for &(c, l) in &cells {
        let name = format!("{}:{}", c.name(), l.code);
        assert!(
            a.iter()
                .any(|v| v.depth == clientgen::Depth::One && v.name().contains(&name)),
            "no one-hop variant for {name}"
        );
    }
    for &depth in clientgen::DEPTHS {
        for &twin in clientgen::TWINS {
            let possible = !matches!(
                (depth, twin),
                (clientgen::Depth::One, clientgen::Twin::StrangerHop)
                    | (clientgen::Depth::One, clientgen::Twin::ForeignHop)
                    | (clientgen::Depth::Mime, clientgen::Twin::ForeignHop)
            );
            let n = a
                .iter()
                .filter(|v| v.depth == depth && v.twin == twin)
                .count();
            assert_eq!(
                n > 0,
                possible,
                "{} variants of {}/{}",
                n,
                depth.name(),
                twin.name()
            );
        }
    }
    let mut seen = std::collections::HashSet::new();
    for v in &a {
        assert!(
            seen.insert(&v.raw),
            "{} repeats an earlier message",
            v.name()
        );
    }
}

/// A check on the generator, not on collabd: every variant parses, its
/// encodings decode back, and the code and store are in what it says.
#[test]
fn every_variant_decodes_to_what_it_was_written_from() {
    let parser = MessageParser::default();
    for v in clientgen::corpus() {
        let msg = parser
            .parse(&v.raw)
            .unwrap_or_else(|| panic!("{} does not parse", v.name()));
        let mut texts = Vec::new();
        bodies(&msg, &mut texts);
        assert!(!texts.is_empty(), "{} has no text", v.name());
        let all = texts.join("\n");
        for m in &v.markers {
            assert!(all.contains(m.as_str()), "{}: lacks {m:?}", v.name());
        }
        assert!(
            all.contains("Collaborator code"),
            "{}: lacks the code label",
            v.name()
        );
    }
}
