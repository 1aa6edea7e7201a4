//! Recognises the labels a person reads as "the collaborator code", in every
//! language `lang` lists: named labels ("Collaborator request code",
//! "Access code", "Mitarbeitercode") wherever a label may stand, the bare
//! word ("Code", "Código") only where the caller has found a store beside
//! it, and a qualifier between label and value ("(4 digits)", "(4-stellig)")
//! by its shape. Says nothing about values: `grant` reads those.

use std::borrow::Cow;
use std::sync::LazyLock;

use super::lang::CODE_LABELS;
use super::separators::{after_separators, opens_with_separator};
use super::text::{PhraseSet, fold_case};

/// What every named label is written as before a Leadsie email is read.
pub const CANONICAL: &str = "Collaborator code";

static NAMED: LazyLock<PhraseSet> =
    LazyLock::new(|| PhraseSet::new(CODE_LABELS.iter().map(|l| l.named)));

/// Each of this module's phrase tables, to be built now ([`super::warm_up`]).
pub(super) const TABLES: &[fn()] = tables![NAMED];

/// The longest qualifier read between a label and its value, in bytes.
const MAX_QUALIFIER: usize = 40;

/// The length of a qualifier opening `rest` (spaces before it included):
/// a short bracketed note ("(4 digits)", "[4-digit]", "（4桁）") with no
/// colon and no run of two digits, so "(e.g. 1234)" or "(0473)" is never
/// one. Zero when there is none.
fn qualifier_len(rest: &str) -> usize {
    let trimmed = rest.trim_start_matches([' ', '\t']);
    let lead = rest.len() - trimmed.len();
    let close = match trimmed.chars().next() {
        Some('(') => ')',
        Some('[') => ']',
        Some('（') => '）',
        _ => return 0,
    };
    let Some(end) = trimmed.find(close) else {
        return 0;
    };
    let inside = &trimmed[trimmed.chars().next().map_or(1, char::len_utf8)..end];
    let digit_run = inside
        .as_bytes()
        .windows(2)
        .any(|w| w[0].is_ascii_digit() && w[1].is_ascii_digit());
    if end > MAX_QUALIFIER || inside.contains([':', '\n']) || digit_run {
        return 0;
    }
    lead + end + close.len_utf8()
}

/// `text` with every named code label, and a qualifier after it, written
/// as [`CANONICAL`]; borrowed when there is none.
pub fn canonical(text: &str) -> Cow<'_, str> {
    let folded = fold_case(text);
    let mut out: Option<String> = None;
    let mut copied = 0;
    for found in NAMED.find_in(&folded) {
        if found.start < copied {
            continue;
        }
        let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
        out.push_str(&text[copied..found.start]);
        out.push_str(CANONICAL);
        copied = found.end + qualifier_len(&text[found.end..]);
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(&text[copied..]);
            Cow::Owned(out)
        }
    }
}

/// What follows a bare code label ("Code", "Código (4 dígitos)") opening
/// `line`, separators stripped (empty when the value is on the next line);
/// `None` unless the word stands as a label: followed by `:`, a dash, `=`,
/// a tab, a table's `|`, or the end of the line. "Code 1234 gives 10% off"
/// is a sentence, not a label.
pub fn after_bare_label(line: &str) -> Option<&str> {
    let first = line.chars().next()?;
    if !first.is_alphabetic() {
        return None;
    }
    let folded = fold_case(line);
    // The longest that fits: Danish "kode" is not Swedish "kod" + "e".
    let word = CODE_LABELS
        .iter()
        .flat_map(|l| l.bare)
        .filter(|w| folded.starts_with(**w))
        .max_by_key(|w| w.len())?;
    let rest = &line[word.len()..];
    if rest.chars().next().is_some_and(char::is_alphanumeric) {
        return None;
    }
    let rest = &rest[qualifier_len(rest)..];
    let value = rest.trim_start_matches([' ', '*', '_']);
    if value.is_empty() {
        return Some(value);
    }
    opens_with_separator(rest).then(|| after_separators(value).trim_end())
}

/// Whether a table's header cell labels the code column: a named label
/// (already [`canonical`]), or the bare word, each with or without a
/// qualifier, and nothing else.
pub fn is_code_column(cell: &str) -> bool {
    let cell = cell.trim();
    let folded = fold_case(cell);
    let named = folded.strip_prefix(&*CANONICAL.to_ascii_lowercase());
    if let Some(rest) = named {
        return rest.trim().is_empty() || qualifier_len(rest) == rest.len();
    }
    after_bare_label(cell).is_some_and(str::is_empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_labels_in_every_language_become_the_english_one() {
        for (line, want) in [
            ("Collaborator request code: 0473", "Collaborator code: 0473"),
            ("Request code: 0473", "Collaborator code: 0473"),
            ("ACCESS CODE: 0473", "Collaborator code: 0473"),
            (
                "Collaborator code (4 digits): 0473",
                "Collaborator code: 0473",
            ),
            ("Collaborator code (4-digit) 0473", "Collaborator code 0473"),
            (
                "Your access code is 0473.",
                "Your Collaborator code is 0473.",
            ),
            (
                "Mitarbeitercode (4-stellig): 0105",
                "Collaborator code: 0105",
            ),
            ("Zugangscode: 0105", "Collaborator code: 0105"),
            ("Code d'accès : 2211", "Collaborator code : 2211"),
            (
                "Code de demande de collaborateur : 2211",
                "Collaborator code : 2211",
            ),
            ("CÓDIGO DE ACCESO: 9001", "Collaborator code: 9001"),
            ("Código de solicitação: 7310", "Collaborator code: 7310"),
            (
                "Codice di richiesta (4 cifre): 0042",
                "Collaborator code: 0042",
            ),
            ("Aanvraagcode: 5555", "Collaborator code: 5555"),
            ("Medarbetarkod: 5555", "Collaborator code: 5555"),
            ("Kod dostępu: 5555", "Collaborator code: 5555"),
            ("コラボレーターコード：5555", "Collaborator code：5555"),
        ] {
            assert_eq!(canonical(line), want, "{line}");
        }
    }

    #[test]
    fn what_is_not_a_label_stays() {
        for line in [
            "Code: 0473",
            "Promo code 1234",
            "Zip code: 94103",
            "Accesscodes: 12",
            "See www.request-code.example/x",
            "Collaborator code (e.g. 1234): 0473",
        ] {
            let out = canonical(line);
            if line.starts_with("Collaborator") {
                // A bracket with a number in it is no qualifier: it stays.
                assert_eq!(out, line);
            } else {
                assert!(matches!(out, Cow::Borrowed(_)), "{line}: {out}");
            }
        }
    }

    #[test]
    fn bare_labels_stand_as_labels_only() {
        assert_eq!(after_bare_label("code: 0473"), Some("0473"));
        assert_eq!(after_bare_label("Code (4 digits): 0473"), Some("0473"));
        assert_eq!(after_bare_label("código | 0473"), Some("0473"));
        assert_eq!(after_bare_label("Codice\t0473"), Some("0473"));
        assert_eq!(after_bare_label("Code"), Some(""));
        assert_eq!(after_bare_label("Kod:"), Some(""));
        assert_eq!(after_bare_label("Kode: 0473"), Some("0473"));
        for sep in ["->", "=>", "→", "⇒", "»", "：", "-->"] {
            let line = format!("Code {sep} 0473");
            assert_eq!(after_bare_label(&line), Some("0473"), "{line:?}");
        }
        assert_eq!(after_bare_label("Code > 0473"), None, "a breadcrumb");
        assert_eq!(after_bare_label("code 1234 gives 10% off"), None);
        assert_eq!(after_bare_label("codes: 1234"), None);
        assert_eq!(after_bare_label("postal code: 1234"), None);
        assert_eq!(after_bare_label("1234"), None);
    }

    #[test]
    fn code_columns() {
        assert!(is_code_column("collaborator code"));
        assert!(is_code_column("Code"));
        assert!(is_code_column("code (4 digits)"));
        assert!(is_code_column("Código"));
        assert!(!is_code_column("postal code"));
        assert!(!is_code_column("code name"));
        assert!(!is_code_column("store"));
    }
}
