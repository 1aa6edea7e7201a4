//! What stands between a label and its value in mail people write:
//! "Collaborator code: 0473", "Store URL → acme.myshopify.com", "Client =>
//! Acme". One list, as data, for every reader of labelled lines (the grant
//! scanner, the client details, the localised code labels).

/// What may stand between a label and its value, alone or run together:
/// a colon (ASCII or full-width), a dash, an equals sign, a bar, and an
/// arrow however it is typed or rendered (`->`, `-->`, `=>`, `→`, `⇒`,
/// `⟶`, `➔`, `»`). A bare `>` is not one (breadcrumbs, "Business >
/// Settings", and quoting use it); it is an arrow's head after `-` or `=`.
/// Data, not rules: the shape is "label, separators, value".
pub const SEPARATORS: &str = ":：-–—=|→⇒⟶⟹➔➜➝➞➡»⇨";

/// A character that opens the separators between a label and its value.
pub fn is_separator(c: char) -> bool {
    SEPARATORS.contains(c)
}

/// Whether what follows a label opens with a separator: a tab, or one of
/// [`SEPARATORS`] once spaces and emphasis (`**Code:**`) are passed.
pub fn opens_with_separator(after_label: &str) -> bool {
    after_label.starts_with('\t')
        || after_label
            .trim_start_matches(['*', '_', ' '])
            .starts_with(is_separator)
}

/// `s` from its first character past the separators that open it (with
/// whitespace, quotes and emphasis among them, and an arrow's `>` head).
pub fn after_separators(s: &str) -> &str {
    let mut prev = ' ';
    let at = s
        .char_indices()
        .find(|&(_, c)| {
            let part = c.is_whitespace()
                || "*_\"'".contains(c)
                || is_separator(c)
                || (c == '>' && matches!(prev, '-' | '=' | '>' | '–' | '—'));
            prev = c;
            !part
        })
        .map_or(s.len(), |(i, _)| i);
    &s[at..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_are_skipped_and_a_bare_angle_bracket_is_not_one() {
        for (text, rest) in [
            (": 0473", "0473"),
            (" -> 0473", "0473"),
            (" --> 0473", "0473"),
            (" => **0473**", "0473**"),
            ("：0473", "0473"),
            (" → \"Acme\"", "Acme\""),
            (" — 0473", "0473"),
            (" > Settings", "> Settings"),
            ("", ""),
        ] {
            assert_eq!(after_separators(text), rest, "{text:?}");
        }
        assert!(!is_separator('>'));
        assert!(SEPARATORS.chars().all(is_separator));
    }
}
