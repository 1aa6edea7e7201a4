//! An email body as the rules read it: lines unquoted and trimmed, in
//! original case and lower-cased, and the platform section each line sits
//! in (a Shopify heading, another platform's, or none yet).

use memchr::memmem;

use crate::mail::text::unquote;

/// The platform a line is about, from the nearest heading above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    Unknown,
    Shopify,
    Other,
}

/// What one pass over a line's words found.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct LineWords {
    /// "shopify" or "myshopify" appears in the line's head (before a colon).
    pub shopify_head: bool,
    /// Another platform's name appears in the line's head.
    pub other_head: bool,
    /// The line says something failed ("failed", "could not", "not connected").
    pub failure: bool,
}

/// Tokenises a line once into ASCII words and matches each against the
/// platform and failure words; far cheaper than searching the line for each.
pub(super) fn scan_words(line: &str) -> LineWords {
    let b = line.as_bytes();
    // The head is what precedes a colon that has a value after it; a
    // platform named there is a heading ("Meta ad account: 1"), one named in
    // a value is not ("Client: Meta Industries").
    let head_end = match memchr::memchr(b':', b) {
        Some(c) if b[c + 1..].iter().any(|x| !x.is_ascii_whitespace()) => c,
        _ => b.len(),
    };
    let long_head = head_end > 80;
    let mut w = LineWords::default();
    let mut prev = [0u8; 12];
    let mut prev_len = 0;
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let len = i - start;
        if len > 12 {
            prev_len = 0;
            continue;
        }
        let mut word = [0u8; 12];
        for (d, s) in word.iter_mut().zip(&b[start..i]) {
            *d = s.to_ascii_lowercase();
        }
        let word = &word[..len];
        let in_head = start < head_end && !long_head;
        let prev_word = &prev[..prev_len];
        match word {
            b"shopify" | b"myshopify" => w.shopify_head |= in_head,
            b"failed" | b"unsuccessful" | b"error" | b"couldn" => w.failure = true,
            b"connected" | b"granted" if prev_word == b"not" => w.failure = true,
            b"not" if prev_word == b"could" => w.failure = true,
            b"meta" | b"facebook" | b"instagram" | b"google" | b"tiktok" | b"linkedin"
            | b"pinterest" | b"snapchat" | b"twitter" | b"youtube" | b"bing" | b"microsoft"
            | b"amazon" | b"klaviyo" | b"hubspot" | b"mailchimp" | b"wordpress" | b"webflow"
            | b"squarespace" | b"wix" | b"bigcommerce" | b"woocommerce" | b"reddit"
            | b"taboola" | b"outbrain" | b"ga4" => {
                w.other_head |= in_head;
            }
            _ => {}
        }
        prev[..len].copy_from_slice(word);
        prev_len = len;
    }
    w
}

/// The body split into lines, unquoted and trimmed, in original case and
/// lower-cased (ASCII lower-casing keeps byte offsets, so both align: a
/// byte range of one line is the same text in the other).
pub(super) struct Lines<'a> {
    pub orig: Vec<&'a str>,
    pub lower: Vec<&'a str>,
    /// Byte offset of each line's start in the text, for mapping hits.
    starts: Vec<usize>,
}

/// Per line, the platform section it sits in and whether it says something
/// failed.
pub(super) struct Sections {
    pub section: Vec<Section>,
    pub failure: Vec<bool>,
}

impl<'a> Lines<'a> {
    /// `lower` is `text` lower-cased with [`str::to_ascii_lowercase`].
    pub fn new(text: &'a str, lower: &'a str) -> Lines<'a> {
        let n = memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1;
        let mut l = Lines {
            orig: Vec::with_capacity(n),
            lower: Vec::with_capacity(n),
            starts: Vec::with_capacity(n),
        };
        let mut pos = 0;
        for raw in text.split_inclusive('\n') {
            let line = raw.trim_end_matches(['\n', '\r']);
            // Quoting and the spaces around it come off the front (what is
            // left is the line's tail), trailing spaces off the end.
            let unquoted = unquote(line);
            let kept = unquoted.trim_end();
            let start = pos + (line.len() - unquoted.len());
            l.orig.push(kept);
            l.lower.push(&lower[start..start + kept.len()]);
            l.starts.push(pos);
            pos += raw.len();
        }
        l
    }

    pub fn len(&self) -> usize {
        self.orig.len()
    }

    /// Marks the lines where any of `finders` matches the lower-cased text.
    pub fn marks(&self, lower: &str, finders: &[&memmem::Finder<'_>]) -> Vec<bool> {
        let mut marks = vec![false; self.orig.len()];
        for finder in finders {
            for at in finder.find_iter(lower.as_bytes()) {
                let line = self.starts.partition_point(|&s| s <= at).saturating_sub(1);
                if let Some(m) = marks.get_mut(line) {
                    *m = true;
                }
            }
        }
        marks
    }

    /// The platform section each line sits in, from the headings above it.
    /// A full pass over every word: only computed when a decision needs it.
    pub fn sections(&self) -> Sections {
        let mut section = Section::Unknown;
        let mut sections = Sections {
            section: Vec::with_capacity(self.orig.len()),
            failure: Vec::with_capacity(self.orig.len()),
        };
        for line in &self.orig {
            let words = scan_words(line);
            section = match (words.shopify_head, words.other_head) {
                (true, false) => Section::Shopify,
                (false, true) => Section::Other,
                _ => section,
            };
            sections.section.push(section);
            sections.failure.push(words.failure);
        }
        sections
    }
}

/// The first non-blank line of the three after line `i`: where a value
/// stands when its label ends its own line.
pub(super) fn next_nonempty(lines: &[&str], i: usize) -> Option<usize> {
    (i + 1..lines.len().min(i + 4)).find(|&j| !lines[j].is_empty())
}

/// `text` without the lines that sit under another platform's heading
/// (a Meta or Google section): what a Leadsie email says about Shopify or
/// about no platform in particular.
pub(crate) fn outside_other_platforms(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let lines = Lines::new(text, &lower);
    let sections = lines.sections();
    let mut out = String::with_capacity(text.len());
    for (line, section) in lines.orig.iter().zip(sections.section) {
        if section != Section::Other {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_cases_of_a_line_hold_the_same_bytes() {
        let text = "> > Store URL: Acme-Co.MyShopify.com  \r\n\n   Code: 0105\n>\n";
        let lower = text.to_ascii_lowercase();
        let lines = Lines::new(text, &lower);
        assert_eq!(
            lines.orig,
            ["Store URL: Acme-Co.MyShopify.com", "", "Code: 0105", ""]
        );
        assert_eq!(
            lines.lower,
            ["store url: acme-co.myshopify.com", "", "code: 0105", ""]
        );
        let marks = lines.marks(&lower, &[&memmem::Finder::new("myshopify")]);
        assert_eq!(marks, [true, false, false, false]);
    }

    #[test]
    fn a_heading_opens_a_section_until_the_next() {
        let text = "Shopify\nStore: a\nMeta ad account: 1\nID: 2\nShopify store: b\n";
        let lower = text.to_ascii_lowercase();
        let sections = Lines::new(text, &lower).sections();
        assert_eq!(
            sections.section,
            [
                Section::Shopify,
                Section::Shopify,
                Section::Other,
                Section::Other,
                Section::Shopify
            ]
        );
        assert_eq!(
            outside_other_platforms(text),
            "Shopify\nStore: a\nShopify store: b\n"
        );
    }
}
