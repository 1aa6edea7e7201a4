//! Finds the original message inside forwards and who handed it on: forwards
//! as `message/rfc822` attachments (nested), inline forwards as mail clients
//! write them, and server-side auto-forwards that keep the original headers.

use std::borrow::Cow;
use std::sync::LazyLock;

use mail_parser::{Address, Message, PartType};
use memchr::memmem;

use super::text::{clean_lines, html_to_text};

/// How deep we follow forwards of forwards before giving up.
const MAX_DEPTH: usize = 8;

/// An email address with the display name it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// Lower-cased address.
    pub address: String,
    pub name: Option<String>,
}

impl Sender {
    pub fn new(address: &str, name: Option<&str>) -> Option<Sender> {
        let address = address.trim_ascii();
        let address = address
            .strip_prefix("mailto:")
            .unwrap_or(address)
            .trim_ascii();
        let (local, domain) = address.rsplit_once('@')?;
        let bad_byte = |b: u8| b.is_ascii_whitespace() || b.is_ascii_control();
        if local.is_empty()
            || domain.is_empty()
            || !domain.contains('.')
            || address.bytes().any(bad_byte)
        {
            return None;
        }
        let name = name
            .map(|n| n.trim_ascii().trim_matches(['"', '\'']).trim_ascii())
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        Some(Sender {
            address: address.to_ascii_lowercase(),
            name,
        })
    }

    /// The part after `@`, lower-cased, without a trailing dot.
    pub fn domain(&self) -> &str {
        self.address
            .rsplit_once('@')
            .map_or("", |(_, d)| d.trim_end_matches('.'))
    }
}

/// The original message as far as forwards let us see it.
#[derive(Debug, Default)]
pub struct Unwrapped<'a> {
    /// Everyone who handed the message on, outermost first.
    pub forwarders: Vec<Sender>,
    /// The sender of the innermost message, if it had a usable address.
    pub original: Option<Sender>,
    /// The innermost message's subject.
    pub subject: String,
    /// The innermost message's body as text (its text/plain part, else its
    /// HTML part converted), cut to what follows the last inline forward
    /// header block.
    pub text: Cow<'a, str>,
    /// The HTML alternative, kept unconverted until needed: most messages
    /// are read from their text part alone.
    pub html_alternative: Option<&'a str>,
    /// Set when the receiving server recorded a DMARC failure for the sender.
    pub dmarc_failed: bool,
    /// The innermost message's From names more than one address: which of
    /// them sent it cannot be told, so none of them is trusted.
    pub several_authors: bool,
}

/// Unwraps forwards of every kind, outermost first.
pub fn unwrap<'a>(msg: &'a Message<'a>) -> Unwrapped<'a> {
    let mut out = Unwrapped {
        dmarc_failed: dmarc_failed(msg),
        ..Unwrapped::default()
    };
    // Server-side auto-forwards keep From but say who forwarded.
    if let Some(resent) = msg.resent_from().and_then(|a| a.first()) {
        if let Some(s) = resent.address().and_then(|a| Sender::new(a, resent.name())) {
            out.forwarders.push(s);
        }
    } else if let Some(fwd) = header_text(msg, "X-Forwarded-For")
        && let Some(s) = fwd.split_whitespace().find_map(|a| Sender::new(a, None))
    {
        out.forwarders.push(s);
    }

    let mut current = msg;
    for _ in 0..MAX_DEPTH {
        let Some(inner) = attached_message(current) else {
            break;
        };
        if let Some(s) = sender_of(current) {
            out.forwarders.push(s);
        }
        current = inner;
    }
    out.original = sender_of(current);
    out.several_authors = current.from().is_some_and(|a| match a {
        Address::List(list) => list.len() > 1,
        Address::Group(groups) => groups.iter().map(|g| g.addresses.len()).sum::<usize>() > 1,
    });
    out.subject = current.subject().unwrap_or("").trim().to_owned();

    let (plain, html) = body_texts(current);
    let (text, html_alternative) = match (plain, html) {
        (Some(p), h) => (Cow::Borrowed(p), h),
        (None, Some(h)) => (Cow::Owned(html_to_text(h)), None),
        (None, None) => (Cow::Borrowed(""), None),
    };
    let (blocks, rest_start) = forward_blocks(&text);
    for block in blocks {
        if let Some(prev) = out.original.take() {
            out.forwarders.push(prev);
        }
        out.original = Some(block.from);
        out.several_authors = false;
        if let Some(subject) = block.subject {
            out.subject = subject;
        }
    }
    out.text = match text {
        Cow::Borrowed(s) => Cow::Borrowed(&s[rest_start..]),
        Cow::Owned(s) if rest_start == 0 => Cow::Owned(s),
        Cow::Owned(s) => Cow::Owned(s[rest_start..].to_owned()),
    };
    out.html_alternative = html_alternative;
    out
}

impl Unwrapped<'_> {
    /// The HTML alternative as text, past its forward header blocks: a second
    /// chance when the text part says nothing useful.
    pub fn html_alternative_text(&self) -> Option<String> {
        let text = html_to_text(self.html_alternative?);
        let (_, start) = forward_blocks(&text);
        Some(text[start..].to_owned())
    }
}

/// The first `message/rfc822` part of this message, if any.
fn attached_message<'a>(msg: &'a Message<'a>) -> Option<&'a Message<'a>> {
    msg.parts.iter().find_map(|p| match &p.body {
        PartType::Message(m) => Some(m),
        _ => None,
    })
}

fn sender_of(msg: &Message<'_>) -> Option<Sender> {
    let addr = msg.from().or_else(|| msg.sender())?;
    // `first()` borrows; `iter()` would box an iterator for every message.
    let first = addr.first()?;
    match first.address().and_then(|x| Sender::new(x, first.name())) {
        Some(s) => Some(s),
        None => addr
            .iter()
            .skip(1)
            .find_map(|a| a.address().and_then(|x| Sender::new(x, a.name()))),
    }
}

/// The first header called `name` (any case), as text.
pub(crate) fn header_text<'a>(msg: &'a Message<'a>, name: &str) -> Option<&'a str> {
    msg.headers()
        .iter()
        .find(|h| h.name().eq_ignore_ascii_case(name))
        .and_then(|h| h.value().as_text())
}

fn dmarc_failed(msg: &Message<'_>) -> bool {
    msg.headers()
        .iter()
        .filter(|h| h.name().eq_ignore_ascii_case("Authentication-Results"))
        .filter_map(|h| h.value().as_text())
        .any(|v| v.to_ascii_lowercase().contains("dmarc=fail"))
}

/// The text/plain body and the raw HTML body, whichever exist.
fn body_texts<'a>(msg: &'a Message<'a>) -> (Option<&'a str>, Option<&'a str>) {
    let mut plain = None;
    let mut html = None;
    for part in msg.text_bodies().chain(msg.html_bodies()) {
        match &part.body {
            PartType::Text(t) if plain.is_none() => plain = Some(t.as_ref()),
            PartType::Html(h) if html.is_none() => html = Some(h.as_ref()),
            _ => {}
        }
    }
    (plain, html)
}

/// One inline forward's header block (`From:` … `Subject:`).
#[derive(Debug)]
pub struct ForwardBlock {
    pub from: Sender,
    pub subject: Option<String>,
}

const HEADER_NAMES: &[&str] = &[
    "from", "to", "cc", "bcc", "date", "sent", "subject", "reply-to",
];

/// Splits `*From:* x` into ("from", "x") when the line is a header line.
fn header_line(line: &str) -> Option<(&'static str, &str)> {
    let l = line.trim_start_matches(['*', '_']).trim_start();
    let colon = l.find(':')?;
    if colon > 10 {
        return None;
    }
    let name = l[..colon].trim_end_matches(['*', '_']).trim();
    let name = HEADER_NAMES.iter().find(|h| name.eq_ignore_ascii_case(h))?;
    let value = l[colon + 1..].trim_start_matches(['*', '_']).trim();
    Some((name, value))
}

/// Reads `Name <a@b>`, `Name [mailto:a@b]`, `"a@b" <a@b>` or `a@b`.
pub fn parse_address_line(value: &str) -> Option<Sender> {
    if let (Some(open), Some(close)) = (value.rfind('<'), value.rfind('>'))
        && open < close
    {
        let name = value[..open].trim();
        return Sender::new(
            &value[open + 1..close],
            Some(name).filter(|n| !n.is_empty()),
        );
    }
    if let Some(open) = value.find("[mailto:") {
        let close = value[open..].find(']').map(|c| open + c)?;
        return Sender::new(&value[open + 8..close], Some(value[..open].trim()));
    }
    value
        .split_whitespace()
        .find(|t| t.contains('@'))
        .and_then(|t| Sender::new(t.trim_matches(|c: char| "()<>[],;\"'".contains(c)), None))
}

/// Finds inline forward header blocks, in order, each searched for after the
/// previous one; returns them and the byte offset where the innermost body
/// starts (0 when there is no block).
pub fn forward_blocks(text: &str) -> (Vec<ForwardBlock>, usize) {
    let mut blocks = Vec::new();
    let mut offset = 0;
    while blocks.len() < MAX_DEPTH {
        match find_block(&text[offset..]) {
            Some((block, end)) => {
                blocks.push(block);
                offset += end;
            }
            None => break,
        }
    }
    (blocks, offset)
}

static ROM_LOWER: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new("rom:"));
static ROM_UPPER: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new("ROM:"));

/// Whether "from:" appears in any case, found with SIMD substring search.
fn has_from_header(text: &str) -> bool {
    let b = text.as_bytes();
    let preceded_by_f = |at: usize| at > 0 && b[at - 1].eq_ignore_ascii_case(&b'f');
    ROM_LOWER.find_iter(b).any(preceded_by_f) || ROM_UPPER.find_iter(b).any(preceded_by_f)
}

/// Finds the first header block with a From address and a Subject, Date or
/// Sent line; returns it and the byte offset just past its last line.
fn find_block(text: &str) -> Option<(ForwardBlock, usize)> {
    // Cheap check first: most bodies have no forward at all, and a header
    // block needs a From line.
    if !has_from_header(text) {
        return None;
    }
    let lines = clean_lines(text);
    let mut line_ends = Vec::with_capacity(lines.len());
    let mut pos = 0;
    for raw in text.split_inclusive('\n') {
        pos += raw.len();
        line_ends.push(pos);
    }
    let mut i = 0;
    while i < lines.len() {
        if header_line(lines[i]).is_none() {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        while end < lines.len() && header_line(lines[end]).is_some() {
            end += 1;
        }
        let mut from = None;
        let mut subject = None;
        let mut dated = false;
        for line in &lines[start..end] {
            match header_line(line) {
                Some(("from", v)) if from.is_none() => from = parse_address_line(v),
                Some(("subject", v)) => {
                    subject = Some(v.to_owned());
                    dated = true;
                }
                Some(("date" | "sent", _)) => dated = true,
                _ => {}
            }
        }
        if let (Some(from), true) = (from, dated) {
            let byte_end = line_ends.get(end - 1).copied().unwrap_or(text.len());
            return Some((ForwardBlock { from, subject }, byte_end));
        }
        i = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_lines() {
        let s = parse_address_line("Leadsie <Notifications@Leadsie.com>").unwrap();
        assert_eq!(s.address, "notifications@leadsie.com");
        assert_eq!(s.name.as_deref(), Some("Leadsie"));
        let s = parse_address_line("Leadsie [mailto:hi@leadsie.com]").unwrap();
        assert_eq!(s.domain(), "leadsie.com");
        assert!(parse_address_line("nobody").is_none());
    }

    #[test]
    fn outlook_and_thunderbird_blocks() {
        let outlook = "FYI\n\n________________________________\nFrom: Leadsie <hi@leadsie.com>\nSent: Monday\nTo: me@agency.com\nSubject: Access granted\n\nBody here\n";
        let (blocks, start) = forward_blocks(outlook);
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].subject.as_deref(), Some("Access granted"));
        assert!(outlook[start..].contains("Body here"));
        assert!(!outlook[start..].contains("FYI"));

        let tb = "-------- Forwarded Message --------\nSubject: \tHi\nDate: \tMon\nFrom: \tLeadsie <hi@leadsie.com>\nTo: \tme@x.com\n\nBody";
        let (blocks, _) = forward_blocks(tb);
        assert_eq!(blocks[0].from.address, "hi@leadsie.com");
    }

    #[test]
    fn a_from_line_alone_is_not_a_forward() {
        let (blocks, start) = forward_blocks("From: someone@example.com\n\nhello");
        assert!(blocks.is_empty());
        assert_eq!(start, 0);
    }
}
