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
    let classifier = Classifier::with_defaults();
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
        let c = classifier.classify(&raw);
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
