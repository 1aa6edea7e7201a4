//! Collaborator codes hidden in text that came from outside: a filer's
//! answer, a subject, a client's name, a page kept as evidence. The code
//! column is masked where it is shown; this is for every other field, where
//! a code can be quoted in any form a person or a page writes it: `8642`,
//! `86 42`, `86-42`, `8\u{200B}642`, full-width or Arabic-Indic digits.
//!
//! An occurrence is four digits, in order, with at most
//! [`MAX_GAP`] separators (spaces, punctuation, invisible characters, but
//! never a letter or another digit) between two of them. Its first two
//! digits become `*`, as [`crate::model::mask_code`] shows a code: `86 42`
//! reads `** 42`. Masking too much only hides a number; masking too little
//! gives a stranger a store, so the rule errs on the side of hiding.

use std::borrow::Cow;

/// Separators allowed between two digits of one occurrence.
pub const MAX_GAP: usize = 3;

/// The codes to hide: one bit for each of the 10,000 possible codes, so
/// that every request's code costs nothing more to look for.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Empty when no code is to be hidden.
    codes: Vec<bool>,
    any: bool,
    /// Every number written with four digits, whatever it is: for text
    /// that may quote a code no request holds (a rejected message).
    every: bool,
}

fn index(d: [u8; 4]) -> usize {
    d.iter().fold(0, |n, x| n * 10 + usize::from(*x))
}

impl Redactor {
    /// Hides each of `codes` (four ASCII digits; anything else is ignored,
    /// as no code is shaped like it).
    pub fn new<'a>(codes: impl IntoIterator<Item = &'a str>) -> Redactor {
        let mut r = Redactor::default();
        for c in codes {
            let b = c.trim().as_bytes();
            if b.len() == 4 && b.iter().all(u8::is_ascii_digit) {
                if r.codes.is_empty() {
                    r.codes = vec![false; 10_000];
                }
                r.codes[index([b[0] - b'0', b[1] - b'0', b[2] - b'0', b[3] - b'0'])] = true;
                r.any = true;
            }
        }
        r
    }

    fn hides(&self, d: [u8; 4]) -> bool {
        self.any && self.codes[index(d)]
    }

    /// Hides every four-digit number (a run of exactly four digits, with
    /// separators as for a code): `2026` too, for want of knowing.
    pub fn every_code() -> Redactor {
        Redactor {
            every: true,
            ..Redactor::default()
        }
    }

    /// Hides one code.
    pub fn one(code: &str) -> Redactor {
        Redactor::new([code])
    }

    pub fn is_empty(&self) -> bool {
        !self.any && !self.every
    }

    /// `text` with every occurrence of a code masked; borrowed when there
    /// was none.
    pub fn apply<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.is_empty() {
            return Cow::Borrowed(text);
        }
        let digits = digits_of(text);
        if digits.len() < 4 {
            return Cow::Borrowed(text);
        }
        let mut hide = vec![false; digits.len()];
        // Runs of digits close enough to be one written number.
        let mut start = 0;
        while start < digits.len() {
            let mut end = start + 1;
            while end < digits.len() && gap_ok(text, digits[end - 1], digits[end]) {
                end += 1;
            }
            let run = &digits[start..end];
            if self.every && run.len() == 4 {
                hide[start] = true;
                hide[start + 1] = true;
            }
            for w in 0..run.len().saturating_sub(3) {
                let window = [
                    run[w].value,
                    run[w + 1].value,
                    run[w + 2].value,
                    run[w + 3].value,
                ];
                if self.hides(window) {
                    hide[start + w] = true;
                    hide[start + w + 1] = true;
                }
            }
            start = end;
        }
        if !hide.contains(&true) {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (d, h) in digits.iter().zip(&hide) {
            if *h {
                out.push_str(&text[at..d.start]);
                out.push('*');
                at = d.end;
            }
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }

    /// `text` masked, then cut to at most `limit` characters (an ellipsis
    /// marks the cut). Masking first means a cut cannot fall inside a code
    /// and leave its digits readable; digits left at the end that begin a
    /// code (the rest cut away) are hidden too.
    pub fn apply_and_cut(&self, text: &str, limit: usize) -> String {
        let masked = self.apply(text);
        if masked.chars().count() <= limit {
            return masked.into_owned();
        }
        let mut cut: String = masked.chars().take(limit).collect();
        self.hide_partial_tail(&mut cut);
        cut.push('…');
        cut
    }

    /// Hides two or three digits at the end of `text` that are the start
    /// of a code (the rest of it cut off).
    fn hide_partial_tail(&self, text: &mut String) {
        let digits = digits_of(text);
        // The run of digits that ends the text.
        let Some(last) = digits.last() else { return };
        if text[last.end..].chars().any(|c| !is_separator(c)) {
            return;
        }
        let mut first = digits.len() - 1;
        while first > 0 && gap_ok(text, digits[first - 1], digits[first]) {
            first -= 1;
        }
        let tail = &digits[first..];
        for k in (2..=3).rev() {
            if tail.len() < k {
                continue;
            }
            let part = &tail[tail.len() - k..];
            let prefix = part.iter().fold(0, |n, d| n * 10 + usize::from(d.value));
            // The codes that begin with these digits are one run of the table.
            let width = 10usize.pow(4 - k as u32);
            if self.any && self.codes[prefix * width..(prefix + 1) * width].contains(&true) {
                for d in part.iter().rev() {
                    text.replace_range(d.start..d.end, "*");
                }
                return;
            }
        }
    }
}

/// `text` with `code` masked wherever it is quoted.
pub fn hide_code<'t>(text: &'t str, code: &str) -> Cow<'t, str> {
    Redactor::one(code).apply(text)
}

/// A digit in the text: its value and its byte span.
#[derive(Debug, Clone, Copy)]
struct Digit {
    value: u8,
    start: usize,
    end: usize,
}

fn digits_of(text: &str) -> Vec<Digit> {
    text.char_indices()
        .filter_map(|(i, c)| {
            digit_value(c).map(|value| Digit {
                value,
                start: i,
                end: i + c.len_utf8(),
            })
        })
        .collect()
}

/// Whether only separators, and few of them, stand between two digits.
fn gap_ok(text: &str, a: Digit, b: Digit) -> bool {
    let between = &text[a.end..b.start];
    between.chars().count() <= MAX_GAP && between.chars().all(is_separator)
}

/// What may stand between the digits of one written number: white space,
/// punctuation and invisible characters; not letters.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || c.is_ascii_punctuation()
        || matches!(
            c,
            '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2010}'..='\u{2015}' | '\u{2060}'..='\u{2064}'
                | '\u{FEFF}' | '\u{00B7}' | '\u{2022}' | '\u{2027}' | '\u{30FB}' | '\u{FF0D}'
                | '\u{FF0E}' | '\u{3000}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// The value of a decimal digit in the scripts a code is written in: ASCII,
/// full-width, Arabic-Indic, Persian, Devanagari, Bengali, Thai.
fn digit_value(c: char) -> Option<u8> {
    let zero = match c {
        '0'..='9' => '0',
        '\u{FF10}'..='\u{FF19}' => '\u{FF10}',
        '\u{0660}'..='\u{0669}' => '\u{0660}',
        '\u{06F0}'..='\u{06F9}' => '\u{06F0}',
        '\u{0966}'..='\u{096F}' => '\u{0966}',
        '\u{09E6}'..='\u{09EF}' => '\u{09E6}',
        '\u{0E50}'..='\u{0E59}' => '\u{0E50}',
        _ => return None,
    };
    u8::try_from(c as u32 - zero as u32).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_written_form_of_the_code_is_masked() {
        let r = Redactor::one("8642");
        for (text, want) in [
            ("code 8642.", "code **42."),
            ("code 86 42", "code ** 42"),
            ("code 86-42", "code **-42"),
            (
                "code 8\u{200B}6\u{200B}4\u{200B}2",
                "code *\u{200B}*\u{200B}4\u{200B}2",
            ),
            ("code ８６４２", "code **４２"),
            ("code ٨٦٤٢", "code **٤٢"),
            ("Sunrise Shop (code 8642)", "Sunrise Shop (code **42)"),
            ("ref 186420", "ref 1**420"),
        ] {
            assert_eq!(r.apply(text), want, "{text:?}");
        }
    }

    #[test]
    fn other_numbers_and_letters_between_digits_are_left_alone() {
        let r = Redactor::one("8642");
        for text in ["order 8643", "86 then 42", "8a642", "no digits", "86    42"] {
            assert_eq!(r.apply(text), text);
        }
        assert!(matches!(r.apply("order 1234"), Cow::Borrowed(_)));
        assert_eq!(Redactor::new(["x", "12345"]).apply("12345"), "12345");
    }

    #[test]
    fn every_four_digit_number_when_no_code_is_known() {
        let r = Redactor::every_code();
        assert_eq!(
            r.apply("code 86 42, order 12345, 7"),
            "code ** 42, order 12345, 7"
        );
    }

    #[test]
    fn several_codes_at_once() {
        let r = Redactor::new(["1111", "2222", "1111"]);
        assert_eq!(r.apply("1111 and 2222"), "**11 and **22");
    }

    #[test]
    fn a_cut_never_leaves_a_code_readable() {
        let r = Redactor::one("4821");
        // Wherever the cut falls, no four digits of the code survive, nor
        // the first two or three at the end.
        let base = "x".repeat(30);
        for pad in 0..8 {
            let text = format!("{}{} code 4821 end", base, "y".repeat(pad));
            for limit in 30..text.len() {
                let out = r.apply_and_cut(&text, limit);
                assert!(!out.contains("4821"), "{out}");
                assert!(!out.contains("482"), "{out}");
                assert!(!out.trim_end_matches('…').ends_with("48"), "{out}");
            }
        }
        // A code already cut in the text itself keeps only masked digits.
        assert_eq!(
            r.apply_and_cut("ends with 48 then more", 12),
            "ends with **…"
        );
        assert_eq!(r.apply_and_cut("short", 10), "short");
    }
}
