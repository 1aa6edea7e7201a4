//! Table-driven parsing tests: every `fixtures/**/X.eml` is classified and
//! compared with `X.expected.json` beside it; mail-parser's own test corpus
//! (malformed messages included) must classify without a panic.

use std::path::{Path, PathBuf};

use collabd::mail::Classifier;
use serde_json::Value;

fn fixture_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            fixture_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "eml") {
            out.push(path);
        }
    }
}

fn all_fixtures() -> Vec<PathBuf> {
    let mut files = Vec::new();
    fixture_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        &mut files,
    );
    files.sort();
    files
}

#[test]
fn every_fixture_matches_its_expected_json() {
    // The fixtures' colleagues forward from the agency's domains, listed as
    // an operator lists theirs: no inline forward is believed otherwise.
    let classifier = Classifier::new(
        collabd::mail::TrustPolicy {
            forwarders: Some(vec!["agency.com".into(), "agency.example".into()]),
            ..collabd::mail::TrustPolicy::default()
        },
        collabd::mail::OutcomeRules::new(&[]).unwrap(),
    );
    // The attack corpus is read as a careful operator runs collabd: with
    // the agency's forwarders listed.
    let guarded = Classifier::new(
        collabd::mail::TrustPolicy {
            forwarders: Some(vec!["agency.com".into()]),
            ..collabd::mail::TrustPolicy::default()
        },
        collabd::mail::OutcomeRules::new(&[]).unwrap(),
    );
    let files = all_fixtures();
    assert!(
        files.len() >= 40,
        "expected at least 40 fixtures, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for eml in &files {
        let expected_path = eml.with_extension("expected.json");
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(&expected_path)
                .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display())),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        let raw = std::fs::read(eml).unwrap();
        let hostile = eml.components().any(|c| c.as_os_str() == "hostile");
        let c = if hostile { &guarded } else { &classifier }.classify(&raw);
        let actual = serde_json::json!({
            "kind": c.kind,
            "grants": c.grants,
            "outcome": c.outcome,
        });
        let mut problems = Vec::new();
        for key in ["kind", "grants", "outcome"] {
            if actual[key] != expected[key] {
                problems.push(format!(
                    "  {key}: expected {}\n  {key}:   actual {}",
                    expected[key], actual[key]
                ));
            }
        }
        if let Some(want) = expected.get("reason_contains").and_then(Value::as_str) {
            let reason = c.reason.clone().unwrap_or_default();
            if !reason.contains(want) {
                problems.push(format!("  reason {reason:?} does not contain {want:?}"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{}\n{}", eml.display(), problems.join("\n")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures wrong:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

/// mail-parser's own test messages live in its crate source; cargo metadata
/// says where the version we build against is unpacked.
fn mail_parser_corpus() -> PathBuf {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let manifest = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "mail-parser")
        .and_then(|p| p["manifest_path"].as_str())
        .expect("mail-parser is a dependency");
    Path::new(manifest).parent().unwrap().join("resources/eml")
}

#[test]
fn mail_parser_corpus_classifies_without_panic() {
    let dir = mail_parser_corpus();
    let mut files = Vec::new();
    fixture_files(&dir, &mut files);
    assert!(
        files.len() >= 100,
        "mail-parser corpus at {} has only {} messages",
        dir.display(),
        files.len()
    );
    let classifier = Classifier::with_defaults();
    let mut kinds = std::collections::BTreeMap::new();
    for f in &files {
        let raw = std::fs::read(f).unwrap();
        let c = std::panic::catch_unwind(|| classifier.classify(&raw))
            .unwrap_or_else(|_| panic!("classify panicked on {}", f.display()));
        // None of these come from Leadsie or Shopify: nothing may become a grant.
        assert!(c.grants.is_empty(), "{} produced grants", f.display());
        *kinds.entry(c.kind.as_str()).or_insert(0) += 1;
    }
    eprintln!(
        "mail-parser corpus: {} messages, kinds {kinds:?}",
        files.len()
    );
}

/// A small deterministic generator, so a failure names a reproducible case.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() as usize) % n.max(1)
    }
}

/// Malformed input of every shape: every fixture cut short, with bytes
/// flipped, inserted and deleted. Classification must never panic, and a
/// mutant of a message from an untrusted sender must never become a grant.
#[test]
fn mutated_fixtures_never_panic_or_grant_from_untrusted_senders() {
    let classifier = Classifier::with_defaults();
    let mut rng = Lcg(0x5eed);
    let nasty: &[&[u8]] = &[
        b"\r\n",
        b"\n\n",
        b"--",
        b"=?utf-8?B?",
        b"<",
        b"&#",
        b">",
        b"\xff",
        b"\xc3",
        b"Content-Type: message/rfc822\n\n",
        b"From: ",
    ];
    let mut cases = 0;
    for eml in all_fixtures() {
        let raw = std::fs::read(&eml).unwrap();
        // Senders on untrusted domains. (dmarc-fail.eml is from a trusted
        // address and only its Authentication-Results header marks it
        // forged; a mutant that deletes that header is a different message.)
        let name = eml.to_string_lossy();
        let untrusted =
            (name.contains("/trust/") && !name.contains("dmarc-fail")) || name.contains("/other/");
        for round in 0..60 {
            let mut m = raw.clone();
            match round % 4 {
                0 => m.truncate(rng.below(raw.len() + 1)),
                1 => {
                    for _ in 0..1 + rng.below(8) {
                        let i = rng.below(m.len());
                        if let Some(b) = m.get_mut(i) {
                            *b = rng.next() as u8;
                        }
                    }
                }
                2 => {
                    let at = rng.below(m.len() + 1);
                    let piece = nasty[rng.below(nasty.len())];
                    m.splice(at..at, piece.iter().copied());
                }
                _ => {
                    let a = rng.below(m.len() + 1);
                    let b = (a + rng.below(64)).min(m.len());
                    m.drain(a..b);
                }
            }
            cases += 1;
            let c = std::panic::catch_unwind(|| classifier.classify(&m)).unwrap_or_else(|_| {
                panic!(
                    "classify panicked on a mutant of {} (round {round})",
                    eml.display()
                )
            });
            if untrusted {
                assert!(
                    c.grants.is_empty(),
                    "a mutant of {} (round {round}) became a grant",
                    eml.display()
                );
            }
        }
    }
    assert!(cases > 4000);
}
