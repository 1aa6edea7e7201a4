//! What stands between a label and its value in mail people write:
//! "Collaborator code: 0473", "Store URL → acme.myshopify.com", "Client =>
//! Acme", "Code ➡️ 0473". One rule, over Unicode's classes (dashes,
//! arrows) kept as data, for every reader of labelled lines (the grant
//! scanner, the client details, the localised code labels).

/// Colons, equals signs and bars, in ASCII and in their full-width and
/// small forms.
const MARKS: &str = ":：﹕=＝|｜¦";

/// Dash punctuation (Unicode's class Pd, from the hyphen-minus to the
/// full-width hyphen) and the minus sign.
const DASHES: &str = "-\u{58A}\u{5BE}\u{1400}\u{1806}\u{2010}\u{2011}\u{2012}\u{2013}\u{2014}\u{2015}\u{2E17}\u{2E1A}\u{2E3A}\u{2E3B}\u{2E40}\u{301C}\u{3030}\u{30A0}\u{FE31}\u{FE32}\u{FE58}\u{FE63}\u{FF0D}\u{2212}";

/// Unicode's arrow blocks: Arrows, Supplemental Arrows-A and -B, the
/// Dingbats arrows, and the arrows of Miscellaneous Symbols and Arrows
/// (without its stars and circles, U+2B50–2B59).
const ARROWS: [std::ops::RangeInclusive<char>; 6] = [
    '\u{2190}'..='\u{21FF}',
    '\u{27F0}'..='\u{27FF}',
    '\u{2900}'..='\u{297F}',
    '\u{2794}'..='\u{27BF}',
    '\u{2B00}'..='\u{2B4F}',
    '\u{2B5A}'..='\u{2BFF}',
];

/// What may stand between a label and its value, alone or run together:
/// a colon, an equals sign or a bar (ASCII, full-width or small), any dash,
/// any arrow character, and `»`; and an arrow typed in ASCII (`->`, `-->`,
/// `=>`, `~>`), read by [`after_separators`]. A bare `>` is not one
/// (breadcrumbs, "Business > Settings", and quoting use it), nor `›`.
/// The shape is "label, separators, value"; the characters are data.
pub fn is_separator(c: char) -> bool {
    MARKS.contains(c) || DASHES.contains(c) || c == '»' || ARROWS.iter().any(|r| r.contains(&c))
}

/// Every character [`is_separator`] takes, for tests that go through the
/// whole class.
pub fn every_separator() -> impl Iterator<Item = char> {
    MARKS
        .chars()
        .chain(DASHES.chars())
        .chain(std::iter::once('»'))
        .chain(ARROWS.into_iter().flatten())
}

/// Whether what follows a label opens with a separator: a tab, or one of
/// [`is_separator`]'s once spaces and emphasis (`**Code:**`) are passed.
pub fn opens_with_separator(after_label: &str) -> bool {
    let after = after_label.trim_start_matches(['*', '_', ' ']);
    after_label.starts_with('\t') || after.starts_with(is_separator) || after.starts_with("~>")
}

/// `s` from its first character past the separators that open it (with
/// whitespace, quotes and emphasis among them; an ASCII arrow's `>` head
/// after a dash, `=`, `~` or another `>`; and the variation selectors and
/// joiner an emoji arrow such as ➡️ carries).
pub fn after_separators(s: &str) -> &str {
    let mut prev = ' ';
    let at = s
        .char_indices()
        .find(|&(i, c)| {
            let part = c.is_whitespace()
                || "*_\"'\u{FE0E}\u{FE0F}\u{200D}".contains(c)
                || is_separator(c)
                || (c == '>' && (matches!(prev, '=' | '>' | '~') || DASHES.contains(prev)))
                || (c == '~' && s[i + 1..].starts_with('>'));
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
        assert!(!is_separator('›'));
        assert!(!is_separator('⭐'));
        assert!(every_separator().all(is_separator));
        assert!(opens_with_separator(" ~> Acme") && opens_with_separator("** ➡️ Acme"));
        assert!(!opens_with_separator(" > Acme") && !opens_with_separator(" ~ Acme"));
        // Arrows however they come: an emoji with its variation selector,
        // ASCII, and from the arrow blocks' far ends.
        for text in [
            " ➡️ 0473",
            " ~> 0473",
            " ⮕ 0473",
            " ⇾ 0473",
            " ― 0473",
            " − 0473",
            " ⤏ 0473",
        ] {
            assert_eq!(after_separators(text), "0473", "{text:?}");
        }
    }
}
