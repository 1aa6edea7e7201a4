//! The generated corpus (issue 10, item 7): every Leadsie layout, through
//! every forward style, in eleven languages, with every transfer encoding
//! and the charsets each language allows; each message has a known answer
//! that the classifier must give exactly.
//!
//! The report lists pass/fail counts per dimension and the first failures,
//! each named by its variant (`#id style/layout/lang/encoding+charset
//! [choices]`). To look at failing messages:
//!
//! ```text
//! MAILGEN_DUMP=/tmp/mailgen cargo test --release --test generated -- --nocapture
//! MAILGEN_ONLY=outlook-web/store-link cargo test --release --test generated -- --nocapture
//! ```
//!
//! `MAILGEN_DUMP` writes each failing variant as `<dir>/<id>.eml`;
//! `MAILGEN_ONLY` keeps the variants whose name contains the text.

#[path = "support/mailgen.rs"]
mod mailgen;
#[path = "support/verdict.rs"]
mod verdict;

use std::fmt::Write as _;

use mail_parser::MessageParser;
use mailgen::{Expect, Variant};
use verdict::{Misreads, Tables, bodies, classifier, judge};

fn selected() -> Vec<Variant> {
    verdict::selected("MAILGEN_ONLY", mailgen::corpus(), Variant::name)
}

#[test]
fn classifier_reads_every_generated_variant() {
    let started = std::time::Instant::now();
    let corpus = selected();
    let classifier = classifier();

    // dimension → value → tally, in the order values first appear.
    let dims = ["layout", "forward style", "language", "encoding", "charset"];
    let mut tables = Tables::new(&dims);
    let mut failures = Misreads::new("MAILGEN_DUMP");
    let mut pass = 0;
    for v in &corpus {
        let c = classifier.classify(&v.raw);
        let verdict = judge(&v.expect, &c);
        let keys = [
            v.layout.name().to_owned(),
            v.style.name().to_owned(),
            v.lang_code().to_owned(),
            v.cte_name().to_owned(),
            v.charset.name().to_owned(),
        ];
        for (dim, key) in keys.iter().enumerate() {
            tables.count(dim, key, &verdict);
        }
        match verdict {
            Ok(()) => pass += 1,
            Err(miss) => {
                failures.record(v.name(), v.id, &v.raw, miss);
            }
        }
    }
    let elapsed = started.elapsed();

    let mut report = String::new();
    let _ = writeln!(
        report,
        "\ngenerated corpus: {} variants, {pass} pass, {} fail ({} with a WRONG grant), {:.2?}",
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
    failures.write_first(&mut report, 30);
    panic!(
        "{} of {} generated variants were misread:{report}",
        failures.list.len(),
        corpus.len()
    );
}

/// The corpus is the same on every run, of the promised size, and covers
/// the product of layouts, forward styles and encodings, with every language
/// meeting every layout and every forward style.
#[test]
fn corpus_is_deterministic_and_covers_every_dimension() {
    let a = mailgen::corpus();
    let b = mailgen::corpus();
    assert!(
        (300..=2000).contains(&a.len()),
        "{} variants; the corpus should hold a few hundred to 2000",
        a.len()
    );
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!(x.raw == y.raw, "{} differs between two runs", x.name());
    }
    let mut seen = std::collections::HashSet::new();
    for v in &a {
        assert!(
            seen.insert(&v.raw),
            "{} repeats an earlier message",
            v.name()
        );
    }
    for &layout in mailgen::LAYOUTS {
        for &style in mailgen::STYLES {
            for &cte in mailgen::CTES {
                assert!(
                    a.iter()
                        .any(|v| v.layout == layout && v.style == style && v.cte == cte),
                    "no variant for {}/{}/{cte:?}",
                    layout.name(),
                    style.name()
                );
            }
            if style == mailgen::Style::Direct {
                continue;
            }
            for lang in mailgen::LANGS {
                assert!(
                    a.iter().any(|v| v.layout == layout
                        && v.style == style
                        && v.lang_code() == lang.code),
                    "no variant for {}/{}/{}",
                    layout.name(),
                    style.name(),
                    lang.code
                );
            }
        }
    }
    for cs in ["utf-8", "iso-8859-1", "windows-1252"] {
        assert!(
            a.iter().filter(|v| v.charset.name() == cs).count() >= 20,
            "too few {cs} variants"
        );
    }
    for negative in mailgen::NEGATIVE_LAYOUTS {
        assert!(a.iter().any(|v| v.layout == *negative));
    }
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "nbsp" => '\u{a0}',
                "shy" => '\u{ad}',
                "zwnj" => '\u{200c}',
                "zwj" => '\u{200d}',
                "copy" => '©',
                _ => {
                    let n = name.strip_prefix('#')?;
                    char::from_u32(n.parse().ok()?)?
                }
            };
            Some((c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            _ => out.push(c),
        }
    }
    out
}

/// A check on the generator, not on collabd: every variant parses, its
/// encodings decode back to what was written (labels in their language,
/// the code, the store), so a failure in the main test is the classifier's.
#[test]
fn every_variant_decodes_to_what_it_was_written_from() {
    let parser = MessageParser::default();
    let invisible = ['\u{200b}', '\u{200c}', '\u{200d}', '\u{feff}', '\u{ad}'];
    for v in mailgen::corpus() {
        let msg = parser
            .parse(&v.raw)
            .unwrap_or_else(|| panic!("{} does not parse", v.name()));
        let mut texts = Vec::new();
        bodies(&msg, &mut texts);
        assert!(!texts.is_empty(), "{} has no text", v.name());
        let mut visible = String::new();
        let mut source = String::new();
        for t in &texts {
            let d = decode_entities(t);
            visible.push_str(&strip_tags(&d).replace(invisible, ""));
            visible.push('\n');
            let once = percent_encoding::percent_decode_str(&d).decode_utf8_lossy();
            let twice = percent_encoding::percent_decode_str(&once).decode_utf8_lossy();
            source.push_str(&d);
            source.push_str(&once);
            source.push_str(&twice);
        }
        for m in &v.markers {
            assert!(
                visible.contains(m.as_str()) || source.contains(m.as_str()),
                "{}: decoded text lacks {m:?}\n{visible}",
                v.name()
            );
        }
        if let Expect::Grants(want) = &v.expect {
            for (_, code) in want {
                assert!(
                    visible.contains(code.as_str()),
                    "{}: code {code} is not visible",
                    v.name()
                );
            }
        }
    }
}
