//! Turns message bodies into plain lines: HTML to text (block elements
//! become line breaks, a table row becomes one line with its cells joined by
//! ` | `, a link to a store keeps its target, entities decoded, scripts and
//! styles dropped), `> ` quoting removed, and every kind of space made a
//! space while invisible characters go. Pure string work.

use std::borrow::Cow;

use super::link::store_of_link;

/// Characters that show nothing and split words for a matcher: zero-width
/// space, non-joiner and joiner, word joiner, byte-order mark, soft hyphen.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}'
    )
}

/// Removes invisible characters and turns every Unicode space (no-break,
/// thin, ideographic, …) into a plain space; line breaks are kept. Borrows
/// when there is nothing to change, which is the case for ASCII text.
pub fn normalise(text: &str) -> Cow<'_, str> {
    let needs = !text.is_ascii()
        && text
            .chars()
            .any(|c| is_invisible(c) || (c.is_whitespace() && !c.is_ascii()));
    if !needs {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .filter(|c| !is_invisible(*c))
            .map(|c| {
                if c.is_whitespace() && !c.is_ascii() {
                    ' '
                } else {
                    c
                }
            })
            .collect(),
    )
}

/// The value of attribute `name` in a tag's text, entities decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let b = tag.as_bytes();
    let mut from = 0;
    while let Some(p) = find_ic(&tag[from..], name) {
        let at = from + p;
        from = at + name.len();
        let before_ok = at > 0 && b[at - 1].is_ascii_whitespace();
        let rest = tag[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let rest = rest[1..].trim_start();
        let value = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
            _ => rest
                .split(|c: char| c.is_ascii_whitespace() || c == '>')
                .next()
                .unwrap_or(""),
        };
        let mut out = String::with_capacity(value.len());
        let mut i = 0;
        while i < value.len() {
            if value.as_bytes()[i] == b'&'
                && let Some((c, len)) = decode_entity(&value[i..])
            {
                out.push(c);
                i += len;
                continue;
            }
            let c = value[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
        return Some(out);
    }
    None
}

/// What [`html_to_text`] writes before a link's store target, so that a
/// reader can tell the link's target from what the email itself says.
pub const LINK_MARK: &str = "(link: ";

/// Converts HTML to text with one line per block element and one line per
/// table row (cells joined by ` | `), so that a label and its value in
/// neighbouring cells share a line, and a row of a table of stores keeps its
/// store beside its own code. A link whose target is a store, and whose text
/// is not, is followed by `(<handle>.myshopify.com)`.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let bytes = html.as_bytes();
    let mut i = 0;
    let mut last_was_space = true;
    // The store the open link goes to, and where its text starts.
    let mut link: Option<(String, usize)> = None;
    // Open <blockquote> elements: their lines are written `> `-quoted, as
    // a text part quotes, so a quoted original keeps its shape.
    let mut quote = 0usize;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'<' {
            if bytes[i..].starts_with(b"<!--") {
                i = memchr::memmem::find(&bytes[i..], b"-->").map_or(bytes.len(), |e| i + e + 3);
                continue;
            }
            let end = match memchr::memchr(b'>', &bytes[i..]) {
                Some(e) => i + e,
                None => break,
            };
            let tag = &html[i + 1..end];
            let closing = tag.starts_with('/');
            let name_start = usize::from(closing);
            let name: &str = tag[name_start..]
                .split(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
                .next()
                .unwrap_or("");
            i = end + 1;
            if !closing && !tag.ends_with('/') && is_hidden(tag) && !is_void(name) {
                // Hidden from the reader (a preheader, a template left in):
                // what a person does not see is not read.
                i = skip_element(bytes, i, name);
                continue;
            }
            if !closing
                && (eq_ic(name, "script")
                    || eq_ic(name, "style")
                    || eq_ic(name, "head")
                    || eq_ic(name, "title"))
            {
                // Skip to the matching close tag; its contents are not text.
                let close = {
                    let mut from = i;
                    let mut found = None;
                    while let Some(p) = memchr::memmem::find(&bytes[from..], b"</") {
                        let at = from + p + 2;
                        if bytes.len() >= at + name.len()
                            && bytes[at..at + name.len()].eq_ignore_ascii_case(name.as_bytes())
                        {
                            found = Some(at);
                            break;
                        }
                        from = at;
                    }
                    found
                };
                i = close.map_or(bytes.len(), |c| {
                    memchr::memchr(b'>', &bytes[c..]).map_or(bytes.len(), |e| c + e + 1)
                });
                continue;
            }
            if eq_ic(name, "a") {
                if closing {
                    if let Some((store, start)) = link.take()
                        && !out[start.min(out.len())..]
                            .to_ascii_lowercase()
                            .contains(&store)
                    {
                        trim_trailing_spaces(&mut out);
                        out.push(' ');
                        out.push_str(LINK_MARK);
                        out.push_str(&store);
                        out.push(')');
                        last_was_space = false;
                    }
                } else {
                    link = attribute(tag, "href")
                        .and_then(|h| store_of_link(&h))
                        .map(|d| (d.as_str().to_owned(), out.len()));
                }
                continue;
            }
            if eq_ic(name, "td") || eq_ic(name, "th") {
                // A cell: on the row's line, after a separator.
                if !closing {
                    trim_trailing_spaces(&mut out);
                    if !out.is_empty() && !out.ends_with('\n') {
                        out.push_str(" | ");
                    }
                    last_was_space = true;
                }
                continue;
            }
            if is_block(name) {
                trim_trailing_spaces(&mut out);
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                last_was_space = true;
                if eq_ic(name, "blockquote") {
                    quote = if closing {
                        quote.saturating_sub(1)
                    } else {
                        (quote + 1).min(MAX_QUOTE)
                    };
                }
            }
            continue;
        }
        if b == b'&'
            && let Some((decoded, len)) = decode_entity(&html[i..])
        {
            push_char(&mut out, decoded, &mut last_was_space, quote);
            i += len;
            continue;
        }
        if b.is_ascii() {
            if b.is_ascii_whitespace() {
                if !last_was_space {
                    out.push(' ');
                    last_was_space = true;
                }
            } else {
                quote_line(&mut out, quote);
                out.push(b as char);
                last_was_space = false;
            }
            i += 1;
            continue;
        }
        let ch = html[i..].chars().next().unwrap_or(' ');
        push_char(&mut out, ch, &mut last_was_space, quote);
        i += ch.len_utf8();
    }
    trim_trailing_spaces(&mut out);
    out
}

/// The element is not shown: `hidden`, `display:none`, `visibility:hidden`,
/// or shrunk to nothing (`max-height:0` with `overflow:hidden`, `font-size:0`).
fn is_hidden(tag: &str) -> bool {
    if attribute(tag, "hidden").is_some()
        || tag
            .split_ascii_whitespace()
            .any(|w| w.eq_ignore_ascii_case("hidden"))
    {
        return true;
    }
    let Some(style) = attribute(tag, "style") else {
        return false;
    };
    let style: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    style.contains("display:none")
        || style.contains("visibility:hidden")
        || style.contains("font-size:0;")
        || style.ends_with("font-size:0")
        || style.contains("font-size:0px")
        || (style.contains("max-height:0") && style.contains("overflow:hidden"))
}

fn is_void(name: &str) -> bool {
    [
        "br", "img", "input", "hr", "meta", "link", "wbr", "area", "base", "col", "source",
    ]
    .iter()
    .any(|v| eq_ic(name, v))
}

/// The position just past the element opened before `from`, counting the
/// same elements nested inside it; the end of the text when it never closes.
fn skip_element(bytes: &[u8], from: usize, name: &str) -> usize {
    let mut depth = 1usize;
    let mut i = from;
    while let Some(p) = memchr::memchr(b'<', &bytes[i..]) {
        let at = i + p + 1;
        let (closing, start) = if bytes.get(at) == Some(&b'/') {
            (true, at + 1)
        } else {
            (false, at)
        };
        let matches = bytes.len() >= start + name.len()
            && bytes[start..start + name.len()].eq_ignore_ascii_case(name.as_bytes())
            && bytes
                .get(start + name.len())
                .is_none_or(|c| c.is_ascii_whitespace() || *c == b'>' || *c == b'/');
        let end = memchr::memchr(b'>', &bytes[at..]).map_or(bytes.len(), |e| at + e + 1);
        if matches {
            if closing {
                depth -= 1;
                if depth == 0 {
                    return end;
                }
            } else if bytes.get(end.wrapping_sub(2)) != Some(&b'/') {
                depth += 1;
            }
        }
        i = end.min(bytes.len());
        if i >= bytes.len() {
            break;
        }
    }
    bytes.len()
}

/// How deep blockquotes are written as quotes; deeper ones read as this.
const MAX_QUOTE: usize = 16;

/// At the start of a line inside `quote` blockquotes, writes their `> `.
fn quote_line(out: &mut String, quote: usize) {
    if quote > 0 && (out.is_empty() || out.ends_with('\n')) {
        for _ in 0..quote {
            out.push_str("> ");
        }
    }
}

fn push_char(out: &mut String, ch: char, last_was_space: &mut bool, quote: usize) {
    if is_invisible(ch) {
        return;
    }
    if ch.is_whitespace() {
        if !*last_was_space {
            out.push(' ');
            *last_was_space = true;
        }
    } else {
        quote_line(out, quote);
        out.push(ch);
        *last_was_space = false;
    }
}

fn trim_trailing_spaces(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
}

fn is_block(name: &str) -> bool {
    const BLOCKS: &[&str] = &[
        "br",
        "p",
        "div",
        "tr",
        "li",
        "ul",
        "ol",
        "table",
        "tbody",
        "thead",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "blockquote",
        "section",
        "article",
        "header",
        "footer",
        "dt",
        "dd",
        "dl",
        "pre",
        "center",
    ];
    BLOCKS.iter().any(|b| eq_ic(name, b))
}

fn eq_ic(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Case-insensitive ASCII find. Jumps with memchr between the places the
/// needle's rarest byte (in either case) occurs, then compares the whole
/// needle around it: jumping on the first byte would stop at every `c` of
/// a long text when looking for "collaborator".
pub fn find_ic(hay: &str, needle: &str) -> Option<usize> {
    let h = hay.as_bytes();
    let n = needle.as_bytes();
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    let (k, &pivot) = n.iter().enumerate().min_by_key(|&(_, &b)| commonness(b))?;
    let last_start = h.len() - n.len();
    let mut from = k;
    while from <= last_start + k {
        let p = from
            + memchr::memchr2(
                pivot.to_ascii_lowercase(),
                pivot.to_ascii_uppercase(),
                &h[from..=last_start + k],
            )?;
        let start = p - k;
        if h[start..start + n.len()].eq_ignore_ascii_case(n) {
            return Some(start);
        }
        from = p + 1;
    }
    None
}

/// How often a byte turns up in mail text, roughly: a higher number is
/// commoner. Letters follow English letter frequency.
fn commonness(b: u8) -> u8 {
    const LETTERS: &[u8; 26] = b"zqxjkvbpygfwmucldrhsnioate";
    match b.to_ascii_lowercase() {
        b' ' | b'\n' | b'\r' | b'\t' => 40,
        c @ b'a'..=b'z' => 10 + LETTERS.iter().position(|&l| l == c).unwrap_or(0) as u8,
        b'.' | b',' | b'-' | b'=' | b'/' | b'0'..=b'9' => 8,
        _ => 0,
    }
}

/// A few words, each found as written in lower case, Capitalised or in
/// UPPER CASE, in one fast pass (SIMD where the CPU has it). Mixed casing
/// such as "LeAdSiE" is not found: use it only where missing a word makes
/// the caller read more, or act less.
#[derive(Debug, Clone)]
pub struct Words {
    packed: Option<aho_corasick::packed::Searcher>,
    each: Vec<memchr::memmem::Finder<'static>>,
}

impl Words {
    pub fn new<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> Words {
        let mut variants: Vec<String> = Vec::new();
        for w in words {
            let lower = w.as_ref().to_ascii_lowercase();
            let mut capital = lower.clone();
            if let Some(first) = capital.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            for v in [lower.to_ascii_uppercase(), capital, lower] {
                if !v.is_empty() && !variants.contains(&v) {
                    variants.push(v);
                }
            }
        }
        Words {
            packed: aho_corasick::packed::Searcher::new(variants.iter()),
            each: variants
                .iter()
                .map(|v| memchr::memmem::Finder::new(v.as_bytes()).into_owned())
                .collect(),
        }
    }

    /// Whether `hay` holds any of the words.
    pub fn in_text(&self, hay: &str) -> bool {
        match &self.packed {
            Some(p) => p.find(hay).is_some(),
            None => self.each.iter().any(|f| f.find(hay.as_bytes()).is_some()),
        }
    }
}

/// `s` lower-cased wherever that keeps each character's length in bytes
/// (nearly every letter of every script), so offsets in the result are
/// offsets in `s`. Borrows when `s` has no upper-case letter.
pub fn fold_case(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if !s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Cow::Borrowed(s);
        }
        return Cow::Owned(s.to_ascii_lowercase());
    }
    if !s.chars().any(char::is_uppercase) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let mut lower = c.to_lowercase();
        match (lower.next(), lower.next()) {
            (Some(l), None) if l.len_utf8() == c.len_utf8() => out.push(l),
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A letter or digit of a script that separates words with spaces: CJK
/// text has no spaces, so a phrase in it has no word boundary to check.
fn word_char(c: char) -> bool {
    c.is_alphanumeric() && (c as u32) < 0x2E80
}

/// Whether `text[start..end]` stands as words: no letter runs on into it,
/// and it is not part of a domain, address or path (`agency.example`,
/// `ops@example.com`).
pub fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let joined = |edge: Option<char>, beside: Option<char>, beyond: Option<char>| {
        let Some(beside) = beside else { return false };
        if word_char(beside) && edge.is_some_and(word_char) {
            return true;
        }
        matches!(beside, '.' | '@' | '/' | '_' | '-') && beyond.is_some_and(word_char)
    };
    let mut before = text[..start].chars().rev();
    let mut after = text[end..].chars();
    let phrase = &text[start..end];
    !joined(phrase.chars().next(), before.next(), before.next())
        && !joined(phrase.chars().next_back(), after.next(), after.next())
}

/// How phrase tables are built: a contiguous NFA takes a fraction of a
/// DFA's time to build (a DFA of a few hundred phrases costs about a
/// millisecond, paid by whichever message first needs it while the other
/// lanes wait) and searches the short texts it is given nearly as fast.
pub const BUILT_QUICKLY: aho_corasick::AhoCorasickKind =
    aho_corasick::AhoCorasickKind::ContiguousNFA;

/// Phrases in any language, found case-insensitively as whole words: the
/// leftmost, longest one at each place.
#[derive(Debug, Clone)]
pub struct PhraseSet {
    ac: aho_corasick::AhoCorasick,
    phrases: Vec<&'static str>,
}

/// One phrase found: where it stands in the text and which it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub phrase: &'static str,
}

impl PhraseSet {
    /// The phrases of `lists`, lower case as `lang` writes them.
    pub fn new<'a>(lists: impl IntoIterator<Item = &'a [&'static str]>) -> PhraseSet {
        let mut phrases: Vec<&'static str> = Vec::new();
        for p in lists.into_iter().flatten() {
            if !phrases.contains(p) {
                phrases.push(p);
            }
        }
        let ac = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .kind(Some(BUILT_QUICKLY))
            .build(&phrases)
            .expect("built-in phrases build");
        PhraseSet { ac, phrases }
    }

    /// Every phrase standing alone in `folded`, a text [`fold_case`] made.
    pub fn find_in<'a>(&'a self, folded: &'a str) -> impl Iterator<Item = Found> + 'a {
        self.ac
            .find_iter(folded)
            .filter(|m| stands_alone(folded, m.start(), m.end()))
            .map(|m| Found {
                start: m.start(),
                end: m.end(),
                phrase: self.phrases[m.pattern().as_usize()],
            })
    }

    /// The first phrase standing alone in `text`, any case.
    pub fn first(&self, text: &str) -> Option<Found> {
        self.find_in(&fold_case(text)).next()
    }
}

/// Case-insensitive ASCII `contains`.
pub fn contains_ic(hay: &str, needle: &str) -> bool {
    find_ic(hay, needle).is_some()
}

fn decode_entity(s: &str) -> Option<(char, usize)> {
    // Search bytes: a `;` is ASCII, so slicing at it is always on a char
    // boundary, while cutting at a fixed length might split a character.
    let end = s.as_bytes()[..s.len().min(20)]
        .iter()
        .position(|&b| b == b';')?;
    let body = &s[1..end];
    let ch = match body {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" | "#39" => '\'',
        "nbsp" | "ensp" | "emsp" | "thinsp" | "NonBreakingSpace" => ' ',
        "shy" => '\u{ad}',
        "zwnj" => '\u{200c}',
        "zwj" => '\u{200d}',
        "ZeroWidthSpace" => '\u{200b}',
        "copy" => '©',
        "ndash" => '–',
        "mdash" => '—',
        "rsquo" | "lsquo" => '\'',
        "ldquo" | "rdquo" => '"',
        "bull" => '•',
        // Arrows and separators a template may write between a label and
        // its value ("Code &rarr; 0473").
        "rarr" | "srarr" | "rightarrow" | "RightArrow" => '→',
        "rArr" | "Rightarrow" | "DoubleRightArrow" | "Implies" => '⇒',
        "larr" | "leftarrow" => '←',
        "harr" => '↔',
        "hArr" | "iff" => '⇔',
        "xrarr" | "longrightarrow" | "LongRightArrow" => '⟶',
        "xrArr" | "Longrightarrow" | "DoubleLongRightArrow" => '⟹',
        "map" | "mapsto" => '↦',
        "raquo" => '»',
        "laquo" => '«',
        "rsaquo" => '›',
        "lsaquo" => '‹',
        "minus" => '−',
        "hyphen" | "dash" => '‐',
        "horbar" => '―',
        "colon" => ':',
        "equals" => '=',
        "verbar" | "vert" | "VerticalLine" => '|',
        "hellip" => '…',
        "middot" => '·',
        _ => {
            let num = body.strip_prefix('#')?;
            let code = if let Some(hex) = num.strip_prefix(['x', 'X']) {
                u32::from_str_radix(hex, 16).ok()?
            } else {
                num.parse().ok()?
            };
            char::from_u32(code)?
        }
    };
    Some((ch, end + 1))
}

/// Strips e-mail quoting (`> `, `>> `, `> > `) from the start of a line.
pub fn unquote(line: &str) -> &str {
    let mut s = line.trim_start();
    while let Some(rest) = s.strip_prefix('>') {
        s = rest.trim_start();
    }
    s
}

/// The body's lines, unquoted and trimmed, blank lines kept (they end header
/// blocks in forwards).
pub fn clean_lines(text: &str) -> Vec<&str> {
    text.lines().map(|l| unquote(l).trim()).collect()
}

/// The first `max` bytes of `s`, cut at a character boundary.
pub fn capped(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_become_lines_with_their_cells_joined() {
        let html = "<html><head><style>td{}</style></head><body><table><tr><td><b>Store URL</b></td><td><a href='x'>acme.myshopify.com</a></td></tr>\
                    <tr><td>Collaborator&nbsp;code</td><td>0105</td></tr></table><script>var x='9999';</script></body></html>";
        let text = html_to_text(html);
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(
            lines,
            vec!["Store URL | acme.myshopify.com", "Collaborator code | 0105"]
        );
    }

    #[test]
    fn values_are_normalised() {
        // Inline elements join; invisible characters vanish; every space is
        // a space.
        assert_eq!(
            html_to_text("Code:&nbsp;<span>04</span><span>7\u{200b}3</span>"),
            "Code: 0473"
        );
        assert_eq!(
            normalise("Code:\u{a0}\u{feff}04\u{ad}73\u{3000}x"),
            "Code: 0473 x"
        );
        assert!(matches!(normalise("plain ascii"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_link_to_a_store_keeps_its_target() {
        assert_eq!(
            html_to_text(
                "Store: <a href=\"https://admin.shopify.com/store/acme-b?x=1&amp;y=2\">Acme Boutique</a>"
            ),
            "Store: Acme Boutique (link: acme-b.myshopify.com)"
        );
        assert_eq!(
            html_to_text("<a href='https://acme.myshopify.com'>acme.myshopify.com</a>"),
            "acme.myshopify.com"
        );
        assert_eq!(
            html_to_text("<a href=\"https://evil.example/acme.myshopify.com\">Acme</a>"),
            "Acme"
        );
    }

    #[test]
    fn entities_and_comments() {
        assert_eq!(
            html_to_text("a&amp;b &#169; &#x32;&lt;<!-- 1234 -->x"),
            "a&b © 2<x"
        );
    }

    #[test]
    fn case_insensitive_find() {
        assert_eq!(find_ic("xx FROM: y", "from:"), Some(3));
        assert_eq!(find_ic("fro", "from"), None);
        // The first match, wherever the needle's rarest byte sits in it.
        let naive = |h: &str, n: &str| {
            (0..=h.len().saturating_sub(n.len())).find(|&i| {
                h.len() >= n.len()
                    && h.as_bytes()[i..i + n.len()].eq_ignore_ascii_case(n.as_bytes())
            })
        };
        let words = Words::new(["leadsie", "shop.example"]);
        assert!(words.in_text("via Leadsie today"));
        assert!(words.in_text("VIA LEADSIE"));
        assert!(words.in_text("at https://Shop.example/x"));
        assert!(!words.in_text("via Lead sie at shop-example"));
        assert!(!words.in_text(""));
        let hay = "Your COLLABORATOR code; collaborator, Leadsie leadsie: xbox-bx";
        for needle in [
            "collaborator",
            "leadsie",
            "x",
            "bx",
            "ox-b",
            "code;",
            "zz",
            "e",
        ] {
            assert_eq!(find_ic(hay, needle), naive(hay, needle), "{needle}");
        }
        assert!(contains_ic("Shopify", "SHOPIFY"));
        assert!(!contains_ic("", "a"));
    }

    #[test]
    fn arrows_written_as_entities_read_as_arrows() {
        for (html, text) in [
            ("Code &rarr; 0473", "Code → 0473"),
            ("Code &rArr; 0473", "Code ⇒ 0473"),
            ("Code -&gt; 0473", "Code -> 0473"),
            ("Code &longrightarrow; 0473", "Code ⟶ 0473"),
            ("Code &raquo; 0473", "Code » 0473"),
            ("Code &#x27A1;&#xFE0F; 0473", "Code ➡\u{FE0F} 0473"),
            ("Code &colon; 0473", "Code : 0473"),
        ] {
            assert_eq!(html_to_text(html).trim(), text, "{html}");
        }
    }

    #[test]
    fn entity_near_multibyte_text_does_not_panic() {
        // Found by the mutation test: `&` followed by multi-byte characters
        // within twelve bytes used to slice inside a character.
        assert_eq!(html_to_text("a &ééééééé; b"), "a &ééééééé; b");
        assert_eq!(
            html_to_text("&\u{1F600}\u{1F600}\u{1F600}"),
            "&\u{1F600}\u{1F600}\u{1F600}"
        );
    }

    #[test]
    fn unquoting() {
        assert_eq!(unquote("> > Store: x"), "Store: x");
        assert_eq!(unquote(">>Code"), "Code");
    }
}
