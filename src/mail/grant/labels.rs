//! The words the rules key on and how a label's value is read: store
//! labels, hedges that make a code an example, placeholders that name no
//! store, a code after its "collaborator … code" label (on its line or the
//! next), and the permanent store domains a line names.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::LazyLock;

use memchr::memmem;

use super::extraction::MAX_STORES;
use crate::mail::separators::{after_separators, is_separator, opens_with_separator};
use crate::model::{CollaboratorCode, StoreDomain};

/// Store labels, longest first so "store url" wins over "store". The flag
/// says whether the label itself names Shopify (then it counts anywhere).
pub(super) const STORE_LABELS: &[(&str, bool)] = &[
    ("shopify store domain", true),
    ("shopify store url", true),
    ("shopify store id", true),
    ("shopify store", true),
    ("shopify domain", true),
    ("shopify url", true),
    ("shopify shop", true),
    ("myshopify domain", true),
    ("myshopify url", true),
    ("store domain", false),
    ("store url", false),
    ("store id", false),
    ("store link", false),
    ("shop domain", false),
    ("shop url", false),
    ("store", false),
    ("shop", false),
];

/// Lines that name a store but do not identify it.
pub(super) const NAME_LABELS: &[&str] = &["store name", "shop name", "shopify store name"];

/// Words that make a code an example, not the code: "e.g. collaborator code
/// 0000", "a code looks like 1234".
const HEDGES: &[&str] = &[
    "e.g.",
    "for example",
    "example",
    "looks like",
    "such as",
    "last month",
    "previous",
    "old code",
    "expired code",
];

/// Values of a store label that name no store.
const PLACEHOLDERS: &[&str] = &[
    "pending",
    "none",
    "n/a",
    "na",
    "tbd",
    "tba",
    "unknown",
    "null",
    "unavailable",
    "see below",
    "see-below",
    "-",
    "—",
    "not provided",
    "not available",
    "not connected",
];

pub(super) static SHOPIFY: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new("shopify"));
pub(super) static COLLABORATOR: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new("collaborator"));
static CODE: LazyLock<memmem::FinderRev<'static>> =
    LazyLock::new(|| memmem::FinderRev::new("code"));
pub(super) static MYSHOPIFY: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(".myshopify.com"));
pub(super) static ADMIN_STORE: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new("admin.shopify.com/store/"));

/// The line gives its code as an example or an old one, not the code.
pub(super) fn is_hedged(line: &str) -> bool {
    HEDGES.iter().any(|h| line.contains(h))
}

/// A store label's one-word value that is no handle: a placeholder
/// ("pending", "n/a", "tbd") or a number (Shopify's numeric store ID is
/// not its handle).
pub(super) fn is_placeholder(value: &str) -> bool {
    PLACEHOLDERS.contains(&value.trim_matches(['.', ',']))
        || value.bytes().all(|b| b.is_ascii_digit())
}

/// Where the value stands in `rest`, the text after a label: separators
/// (see [`is_separator`]; "is")
/// stripped in front, spaces and emphasis behind.
fn value_range(rest: &str) -> Range<usize> {
    let mut value = after_separators(rest);
    if let Some(after_is) = value.strip_prefix("is ") {
        value = after_is.trim_start();
    }
    let start = rest.len() - value.len();
    let emphasis = |c: char| c.is_whitespace() || c == '*' || c == '_';
    let mut value = value.trim_end_matches(emphasis);
    // A quote that opened the value closes it: "Acme Co" is Acme Co. A
    // quote at the end that none opened is the value's own.
    let opened = &rest[..start];
    if let Some(q) = value.chars().last().filter(|q| "\"'".contains(*q))
        && opened.contains(q)
    {
        value = value[..value.len() - q.len_utf8()].trim_end_matches(emphasis);
    }
    start..start + value.len()
}

/// `s` without the separators before its value and the emphasis after it.
pub(super) fn strip_separators(s: &str) -> &str {
    &s[value_range(s)]
}

/// Where the value of `label` stands in `line` when the line starts with
/// the label standing alone as a word (not "stores" for "store").
fn label_value(line: &str, label: &str) -> Option<Range<usize>> {
    let rest = line.strip_prefix(label)?;
    let next = rest.chars().next();
    if next.is_some_and(|c| c.is_alphanumeric() || c == '.' || c == '@') {
        return None;
    }
    let value = value_range(rest);
    Some(label.len() + value.start..label.len() + value.end)
}

/// Returns what follows `label` at the start of `line` when the label stands
/// alone as a word, with separators (`:`, `-`, `=`, "is") stripped.
pub(super) fn starts_with_label<'a>(line: &'a str, label: &str) -> Option<&'a str> {
    label_value(line, label).map(|value| &line[value])
}

/// Like [`starts_with_label`], but only when a separator ([`is_separator`],
/// a tab) follows or the label ends the line: "Business: X" is a label, "Business
/// Manager ID: 1" is not.
pub(super) fn labelled_value<'a>(line: &'a str, label: &str) -> Option<&'a str> {
    let rest = starts_with_label(line, label)?;
    let after = &line[label.len()..];
    let separated = after.trim().is_empty() || opens_with_separator(after);
    separated.then_some(rest)
}

/// A store label opening a line, and what follows it there.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct StoreLabel<'a> {
    /// The value, separators stripped; empty when it is on the next line.
    pub value: &'a str,
    /// Where the value stands in the labelled line.
    pub span: Range<usize>,
    /// The label itself names Shopify ("Shopify store URL").
    pub names_shopify: bool,
}

/// The store label `line` opens with, if it is one: "Store: ..." is a
/// label, "Store owners can ..." is prose.
pub(super) fn store_label(line: &str) -> Option<StoreLabel<'_>> {
    STORE_LABELS.iter().find_map(|&(label, names_shopify)| {
        let span = label_value(line, label)?;
        let value = &line[span.clone()];
        let after = &line[label.len()..];
        let separated = after.is_empty()
            || opens_with_separator(after)
            || !find_store_domains(value).is_empty();
        separated.then_some(StoreLabel {
            value,
            span,
            names_shopify,
        })
    })
}

/// Reads the code after a "collaborator … code" label on this line, or alone
/// on the next line when the label ends the line. Returns the code and the
/// index of the next line if it was used.
pub(super) fn code_after_label(
    line: &str,
    next: Option<(usize, &str)>,
) -> Option<(CollaboratorCode, Option<usize>)> {
    let at = COLLABORATOR.find(line.as_bytes())?;
    let label = &line[at..];
    // The value follows the label's last "code" (or a colon after it).
    let mut rest = match CODE.rfind(label.as_bytes()) {
        Some(c) => &label[c + "code".len()..],
        None => &label["collaborator".len()..],
    };
    if let Some(colon) = rest.rfind(':') {
        rest = &rest[colon + 1..];
    }
    read_value(rest.trim_start_matches(['s', ')']), next)
}

/// Reads a code from what follows its label on the line, or alone on the
/// next line when nothing does.
pub(super) fn read_value(
    rest: &str,
    next: Option<(usize, &str)>,
) -> Option<(CollaboratorCode, Option<usize>)> {
    let rest = strip_separators(rest);
    if rest.is_empty() {
        let (j, next_line) = next?;
        let value = strip_separators(next_line);
        return CollaboratorCode::parse(value.trim_end_matches(['.', ','])).map(|c| (c, Some(j)));
    }
    if let Some(code) = spaced_code(rest) {
        return Some((code, None));
    }
    let token = rest.split_whitespace().next()?;
    CollaboratorCode::parse(token.trim_end_matches(['.', ',', ')', ';', '*', '_', '"', '\'']))
        .map(|c| (c, None))
}

/// The line is a collaborator-code label (with whatever value).
pub(super) fn labels_a_code(line: &str) -> bool {
    line.find("collaborator").is_some_and(|at| {
        let label = &line[at..];
        label.find("code").is_some_and(|c| {
            label.contains(':')
                || label[c + "code".len()..]
                    .trim_start_matches(['s', '*', '_', ' ', ')'])
                    .starts_with(is_separator)
        })
    })
}

/// A code written with spaces inside it ("04 73", "0 4 7 3", or two inline
/// elements with a line break between them in the HTML): the whole value is
/// digits and spaces, four digits in all.
pub(super) fn spaced_code(value: &str) -> Option<CollaboratorCode> {
    let v = value.trim_end_matches(['.', ',']).trim();
    if !v.contains(' ') || !v.chars().all(|c| c.is_ascii_digit() || c == ' ') {
        return None;
    }
    let digits: String = v.chars().filter(char::is_ascii_digit).collect();
    CollaboratorCode::parse(&digits)
}

/// Every permanent store named in a line: `<h>.myshopify.com` or
/// `admin.shopify.com/store/<h>`. Expects a lower-cased line.
pub fn find_store_domains(l: &str) -> Vec<StoreDomain> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let b = l.as_bytes();
    let is_handle = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_';
    for end in MYSHOPIFY.find_iter(b) {
        // `x.myshopify.com.au` or `x.myshopify.company` is another domain.
        let after = end + ".myshopify.com".len();
        let continues = b.get(after).is_some_and(|c| {
            c.is_ascii_alphanumeric()
                || *c == b'-'
                || (*c == b'.' && b.get(after + 1).is_some_and(u8::is_ascii_alphanumeric))
        });
        if continues {
            continue;
        }
        let mut start = end;
        while start > 0 && is_handle(b[start - 1]) {
            start -= 1;
        }
        if out.len() >= MAX_STORES {
            return out;
        }
        if let Some(d) = StoreDomain::from_handle(&l[start..end])
            && seen.insert(d.clone())
        {
            out.push(d);
        }
    }
    for at in ADMIN_STORE.find_iter(b) {
        let start = at + "admin.shopify.com/store/".len();
        let mut end = start;
        while end < b.len() && is_handle(b[end]) {
            end += 1;
        }
        if out.len() >= MAX_STORES {
            return out;
        }
        if let Some(d) = StoreDomain::from_handle(&l[start..end])
            && seen.insert(d.clone())
        {
            out.push(d);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_label_says_where_its_value_stands() {
        let line = "store url: **acme-co.myshopify.com**  ";
        let label = store_label(line).expect("a store label");
        assert_eq!(label.value, "acme-co.myshopify.com");
        assert_eq!(&line[label.span.clone()], label.value);
        assert!(!label.names_shopify);
        let label = store_label("shopify store: acme").expect("a store label");
        assert_eq!((label.value, label.span), ("acme", 15..19));
        assert!(label.names_shopify);
        // The value on the next line: an empty one at the line's end.
        let label = store_label("shop:").expect("a store label");
        assert_eq!((label.value, label.span), ("", 5..5));
        assert_eq!(store_label("store owners can invite staff"), None);
        assert_eq!(store_label("stores: 3"), None);
    }

    #[test]
    fn a_code_is_read_beside_its_label_or_on_the_next_line() {
        let code = |line: &str, next: Option<(usize, &str)>| {
            code_after_label(line, next).map(|(c, j)| (c.expose().to_owned(), j))
        };
        assert_eq!(
            code("collaborator request code: 0473", None),
            Some(("0473".to_owned(), None))
        );
        assert_eq!(
            code("collaborator code", Some((3, "**0105**"))),
            Some(("0105".to_owned(), Some(3)))
        );
        assert_eq!(
            code("collaborator code: 04 73.", None),
            Some(("0473".to_owned(), None))
        );
        assert_eq!(code("collaborator code: not provided", None), None);
        // Every separator, alone, doubled or typed as an arrow, with or
        // without spaces and emphasis around it.
        let mut forms: Vec<String> = crate::mail::separators::every_separator()
            .map(String::from)
            .collect();
        forms.extend(["->", "-->", "=>", "==>", ":-", ": ->", "—>", "=>>"].map(String::from));
        for sep in &forms {
            for line in [
                format!("collaborator code{sep}0473"),
                format!("collaborator code {sep} 0473"),
                format!("**collaborator code** {sep} **0473**"),
                format!("collaborator code {sep}\t0473."),
            ] {
                assert_eq!(
                    code(&line, None),
                    Some(("0473".to_owned(), None)),
                    "{line:?}"
                );
            }
            // A bare handle too: the separator alone makes the label.
            let line = format!("store {sep} acme");
            let label = store_label(&line).unwrap_or_else(|| panic!("{line:?}"));
            assert_eq!(label.value, "acme", "{line:?}");
            let line = format!("store url {sep} acme.myshopify.com");
            let label = store_label(&line).unwrap_or_else(|| panic!("{line:?}"));
            assert_eq!(label.value, "acme.myshopify.com", "{line:?}");
        }
        assert!(labels_a_code("collaborator code: not provided"));
        assert!(labels_a_code("collaborator code → not provided"));
        assert!(labels_a_code("**collaborator code** -> pending"));
        assert!(!labels_a_code("ask for a collaborator code"));
        // A bare `>` is a breadcrumb, not a separator.
        assert_eq!(labelled_value("business > settings", "business"), None);
        assert_eq!(store_label("store > settings"), None);
    }

    #[test]
    fn only_a_permanent_domain_names_a_store() {
        let stores = find_store_domains(
            "a.myshopify.com, https://admin.shopify.com/store/b-2, b.myshopify.com.au, a.myshopify.com",
        );
        let stores: Vec<&str> = stores.iter().map(StoreDomain::as_str).collect();
        assert_eq!(stores, ["a.myshopify.com", "b-2.myshopify.com"]);
        assert!(is_placeholder("n/a."));
        assert!(is_placeholder("123456"));
        assert!(!is_placeholder("acme-co"));
        assert!(is_hedged("e.g. collaborator code 0000"));
    }
}
