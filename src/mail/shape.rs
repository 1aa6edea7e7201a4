//! The shapes a forward takes in a body, whatever its language: a header
//! line (`label: value`), a value that carries a mailbox or reads as a date,
//! a separator line, an attribution line (`On <date>, <name> <addr> wrote:`),
//! and Yahoo's header lines run together on one line. Labels are looked up
//! in [`super::lang`] only to tell roles apart; none of these shapes needs
//! them. Pure string work, linear in the line.

use std::borrow::Cow;

use super::address::parse_mailbox;
use super::lang::{HEADER_LABELS, Role, WROTE};
use super::sender::Sender;

/// The longest label a header line may have, in characters.
const MAX_LABEL_CHARS: usize = 32;
/// The most words a label may have ("Antwort an", "보낸 사람", "Enviado el").
const MAX_LABEL_WORDS: usize = 4;
/// The longest attribution line, joined, in bytes.
const MAX_ATTRIBUTION_BYTES: usize = 400;

/// Whether `c` only steers the direction of text or joins glyphs: marks a
/// right-to-left client writes around labels (U+200E, U+200F, U+061C, the
/// embeddings and isolates U+202A..U+202E, U+2066..U+2069).
fn is_bidi_mark(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A line without its direction marks, borrowed when it has none.
pub fn without_marks(line: &str) -> Cow<'_, str> {
    if line.is_ascii() || !line.chars().any(is_bidi_mark) {
        Cow::Borrowed(line)
    } else {
        Cow::Owned(line.chars().filter(|c| !is_bidi_mark(*c)).collect())
    }
}

/// Decorations a client puts around a label or value: Markdown-ish bold
/// and italics from HTML conversions, table bars, bullets.
const DECORATION: &[char] = &['*', '_', '|', '•', '\u{a0}', ' ', '\t'];

/// One `label: value` line of a forward's header block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    /// As written, without decoration or colon.
    pub label: &'a str,
    /// Trimmed; empty when the value stands on the next line.
    pub value: &'a str,
}

/// Reads `line` (already unquoted and without direction marks) as a header
/// line: a short label of letters, a colon (ASCII or full-width, a space or
/// no-break space allowed before it, as French writes it), and a value.
pub fn field(line: &str) -> Option<Field<'_>> {
    let l = line.trim_start_matches(DECORATION);
    let (colon, width) = l
        .char_indices()
        .take(MAX_LABEL_CHARS + 4)
        .find(|(_, c)| matches!(c, ':' | '：'))
        .map(|(i, c)| (i, c.len_utf8()))?;
    let label = l[..colon].trim_end_matches(DECORATION);
    if !label_shaped(label) {
        return None;
    }
    let value = l[colon + width..].trim_matches(DECORATION);
    if value.starts_with("//") {
        return None;
    }
    Some(Field { label, value })
}

/// A label is a few words of letters: no digits, no address or link
/// punctuation, at most [`MAX_LABEL_WORDS`] words.
fn label_shaped(label: &str) -> bool {
    if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
        return false;
    }
    if label.split_whitespace().count() > MAX_LABEL_WORDS {
        return false;
    }
    let mut letters = 0;
    for c in label.chars() {
        if c.is_numeric() {
            return false;
        }
        if c.is_alphabetic() {
            letters += 1;
            continue;
        }
        // Combining marks (Thai vowels and tones, Hindi matras) are part
        // of a word; std has no test for them, so any character outside
        // ASCII passes, punctuation of its own kept out by the colon
        // search and the word limit.
        let allowed =
            c.is_whitespace() || matches!(c, '-' | '.' | '\'' | '/' | '\u{a0}') || !c.is_ascii();
        if !allowed {
            return false;
        }
    }
    letters > 0
}

/// The role a label plays, in any language [`HEADER_LABELS`] lists.
pub fn role(label: &str) -> Option<Role> {
    let lower;
    let label = if label.chars().any(|c| c.is_uppercase()) {
        lower = label.to_lowercase();
        lower.as_str()
    } else {
        label
    };
    let label = label.trim_end_matches('.').trim();
    // One role per label across languages, From first: a label that is
    // "from" anywhere ("de") is read as the sender's line.
    let has = |pick: fn(&super::lang::HeaderLabels) -> &'static [&'static str]| {
        HEADER_LABELS.iter().any(|l| pick(l).contains(&label))
    };
    if has(|l| l.from) {
        Some(Role::From)
    } else if has(|l| l.recipient) {
        Some(Role::Recipient)
    } else if has(|l| l.date) {
        Some(Role::Date)
    } else if has(|l| l.subject) {
        Some(Role::Subject)
    } else {
        None
    }
}

/// `value` with Outlook's link residue removed: `a@b<mailto:a@b>` and
/// `Name <a@b<mailto:a@b>>` become `a@b` and `Name <a@b>`.
fn without_mailto_links(value: &str) -> Cow<'_, str> {
    if !value.contains("<mailto:") {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find("<mailto:") {
        let before = &rest[..at];
        let inner_end = rest[at..].find('>').map(|e| at + e);
        let target = inner_end.map(|e| &rest[at + 8..e]);
        // Only the link residue of the address just before it goes: a
        // `<mailto:` anywhere else is left for the address reader to refuse.
        let echoes = target.is_some_and(|t| {
            !t.is_empty()
                && before
                    .trim_end()
                    .to_ascii_lowercase()
                    .ends_with(&t.trim().to_ascii_lowercase())
        });
        match (echoes, inner_end) {
            (true, Some(e)) => {
                out.push_str(before);
                rest = &rest[e + 1..];
            }
            _ => {
                out.push_str(&rest[..at + 8]);
                rest = &rest[at + 8..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Whether `s` holds something shaped like an address: `local@domain.tld`.
pub fn has_address(s: &str) -> bool {
    let b = s.as_bytes();
    memchr::memchr_iter(b'@', b).any(|at| {
        let local_ok = at > 0 && is_addr_byte(b[at - 1]);
        let domain = &b[at + 1..];
        let end = domain
            .iter()
            .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-')))
            .unwrap_or(domain.len());
        let domain = &domain[..end];
        local_ok && domain.len() >= 3 && domain[1..].contains(&b'.') && !domain.ends_with(b".")
    })
}

fn is_addr_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.\"".contains(&c)
}

/// Reads a header value that names one person the way a mail client wrote
/// it: `Name <a@b>` (the name may hold commas or an `@`), `a@b`, Outlook's
/// `Name [mailto:a@b]` and `Name <a@b<mailto:a@b>>`, `Name (a@b)`. Exactly
/// one address; anything else (none, or several) names nobody, and the
/// caller treats that as a hop without a sender.
pub fn sender_of(value: &str) -> Option<Sender> {
    // One person: a value naming two addresses (a display name that holds
    // another address, a link to another one) names nobody for certain.
    if count_addresses(value) != 1 {
        return None;
    }
    let value = without_mailto_links(value);
    let value = value
        .trim()
        .trim_end_matches(DECORATION)
        .trim_end_matches(',');
    let value = value.trim();
    let angles = value.matches('<').count();
    let mailtos = value.matches("[mailto:").count();
    let (name, inner) = match (angles, mailtos) {
        (1, 0) => {
            let open = value.find('<')?;
            let close = open + value[open..].find('>')?;
            if !value[close + 1..].trim().is_empty() {
                return None;
            }
            (&value[..open], &value[open + 1..close])
        }
        (0, 1) if value.ends_with(']') => {
            let open = value.find("[mailto:")?;
            (&value[..open], &value[open + 8..value.len() - 1])
        }
        (0, 0) if value.ends_with(')') && value.contains('(') => {
            let open = value.rfind('(')?;
            let inner = &value[open + 1..value.len() - 1];
            if !has_address(inner) {
                let m = parse_mailbox(value).ok()?;
                return Some(Sender::from_mailbox(m.address, m.name.as_deref()));
            }
            (&value[..open], inner)
        }
        (0, 0) => {
            let m = parse_mailbox(value).ok()?;
            return Some(Sender::from_mailbox(m.address, m.name.as_deref()));
        }
        _ => return None,
    };
    let m = parse_mailbox(inner.trim().trim_start_matches("mailto:")).ok()?;
    let name = name
        .trim()
        .trim_matches(['"', '\'', '\u{201c}', '\u{201d}'])
        .trim();
    Some(Sender::from_mailbox(
        m.address,
        (!name.is_empty()).then_some(name),
    ))
}

/// The ASCII digit a decimal digit of any common script stands for:
/// Arabic-Indic, Persian, Devanagari, Bengali, Thai and full-width digits
/// read as 0-9.
fn digit(c: char) -> Option<u32> {
    if let Some(d) = c.to_digit(10) {
        return Some(d);
    }
    let zero = match c {
        '\u{0660}'..='\u{0669}' => 0x0660,
        '\u{06f0}'..='\u{06f9}' => 0x06f0,
        '\u{0966}'..='\u{096f}' => 0x0966,
        '\u{09e6}'..='\u{09ef}' => 0x09e6,
        '\u{0e50}'..='\u{0e59}' => 0x0e50,
        '\u{ff10}'..='\u{ff19}' => 0xff10,
        _ => return None,
    };
    Some(c as u32 - zero)
}

/// Whether a value reads as a date or a time in a common form: a clock time
/// (`10:00`, `10.00`, `10h00`, `10時00分`, `10시 00분`), a numeric date
/// (`02/11/2026`, `2026-11-02`, `2.11.26`), or a year (Gregorian, or a
/// Buddhist-era year such as 2569) beside a day. Month names are not
/// needed: every client writes a year or a time.
pub fn is_date(value: &str) -> bool {
    // A telephone number (`+44 20 7946 2100`) is no date: its digits go.
    let value = without_phone_numbers(value);
    let value = value.as_ref();
    // Numbers and what separates them, read once.
    let mut numbers: Vec<(u32, usize)> = Vec::new(); // (value, digits)
    let mut seps: Vec<char> = Vec::new(); // the character after each number
    let mut current: Option<(u32, usize)> = None;
    for c in value.chars() {
        match digit(c) {
            Some(d) => {
                let (v, n) = current.unwrap_or((0, 0));
                current = Some((v.saturating_mul(10).saturating_add(d), n + 1));
            }
            None => {
                if let Some(num) = current.take() {
                    numbers.push(num);
                    seps.push(c);
                }
            }
        }
        if numbers.len() > 16 {
            break;
        }
    }
    if let Some(num) = current {
        numbers.push(num);
        seps.push('\n');
    }
    for (i, &(v, n)) in numbers.iter().enumerate() {
        let next = numbers.get(i + 1);
        let sep = seps[i];
        // A clock time: hours, a separator, two-digit minutes.
        if n <= 2
            && v <= 24
            && matches!(sep, ':' | '.' | 'h' | '時' | '시' | '：')
            && next.is_some_and(|&(m, k)| k == 2 && m < 60)
        {
            return true;
        }
        // A numeric date: three numbers joined by the same / . - separator.
        if matches!(sep, '/' | '.' | '-')
            && next.is_some()
            && seps.get(i + 1) == Some(&sep)
            && numbers.get(i + 2).is_some()
            && n <= 4
        {
            return true;
        }
    }
    let year = numbers
        .iter()
        .any(|&(v, n)| n == 4 && (1900..=2800).contains(&v));
    let day = numbers
        .iter()
        .any(|&(v, n)| n <= 2 && (1..=31).contains(&v));
    year && day
}

/// `value` without international telephone numbers: a `+` and the digits,
/// spaces, dots, dashes and brackets after it.
fn without_phone_numbers(value: &str) -> Cow<'_, str> {
    if !value.contains('+') {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '+' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
            while chars
                .peek()
                .is_some_and(|n| n.is_ascii_digit() || matches!(n, ' ' | '.' | '-' | '(' | ')'))
            {
                chars.next();
            }
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether a line separates a forward from the text above it: a run of
/// dashes, underscores or equals signs, alone or around words
/// (`---------- Forwarded message ---------`, `-----Original Message-----`,
/// `________________________________`).
pub fn is_separator(line: &str) -> bool {
    let t = line.trim();
    let run = |s: &str| {
        s.chars()
            .take_while(|c| matches!(c, '-' | '_' | '=' | '—' | '–' | '*'))
            .count()
    };
    let lead = run(t);
    if lead >= 2 && lead == t.chars().count() {
        return lead >= 5;
    }
    let trail = t
        .chars()
        .rev()
        .take_while(|c| matches!(c, '-' | '_' | '=' | '—' | '–' | '*'))
        .count();
    lead >= 3 && trail >= 3 && t.chars().count() < 80 && !has_address(t)
}

/// Yahoo Mail's plain text runs a forward's header lines together on one
/// line (`… Message ----- From: A <a@x>To: B <b@y>Sent: …Subject: …`). Such
/// a line is cut before each label that [`HEADER_LABELS`] knows (written
/// with a capital or in a script without case) and that carries a colon,
/// when at least three labels, one of them the sender's, stand in it.
pub fn split_run_together(line: &str) -> Option<Vec<&str>> {
    if line.len() > 2000 || !line.contains(':') {
        return None;
    }
    let mut cuts: Vec<usize> = Vec::new();
    let mut from = false;
    for (at, _) in line.match_indices([':', '：']) {
        // The label is the longest known one ending here.
        let head = &line[..at];
        let Some((start, r)) = known_label_ending(head) else {
            continue;
        };
        if start == 0 || cuts.last().is_some_and(|&c| c >= start) {
            if start == 0 {
                from |= r == Role::From;
            }
            continue;
        }
        from |= r == Role::From;
        cuts.push(start);
    }
    if cuts.len() < 2 || !from {
        return None;
    }
    // Yahoo's line opens with its separator; a line that opens with a label
    // is one header line, whatever its value holds.
    if !line[..cuts[0]].trim_start().starts_with("---") {
        return None;
    }
    let mut pieces = Vec::with_capacity(cuts.len() + 1);
    let mut prev = 0;
    for c in cuts {
        pieces.push(&line[prev..c]);
        prev = c;
    }
    pieces.push(&line[prev..]);
    Some(pieces)
}

/// The start and role of a known label that ends `head`, beginning with a
/// capital letter (or a letter of a caseless script) and preceded by
/// anything but a lower-case letter.
fn known_label_ending(head: &str) -> Option<(usize, Role)> {
    let mut best = None;
    // Labels are at most four words: look back over a few spaces.
    for (start, c) in head.char_indices().rev().take(MAX_LABEL_CHARS) {
        if !(c.is_uppercase() || (c.is_alphabetic() && !c.is_lowercase())) {
            continue;
        }
        // "To" inside "auto" is no label; a label in a script without
        // case (收件人) may follow anything.
        if c.is_uppercase()
            && head[..start]
                .chars()
                .next_back()
                .is_some_and(char::is_lowercase)
        {
            continue;
        }
        let label = head[start..].trim_end();
        if let Some(r) = role(label) {
            best = Some((start, r));
        }
    }
    best
}

/// An attribution line: one line (as clients wrap it, up to three) that
/// carries a date and ends with a colon, with the sender's mailbox in it
/// (`On Mon, 2 Nov 2026 at 10:00, Leadsie <n@leadsie.com> wrote:`,
/// `Am 28/10/2021, 12:46 schrieb "Leadsie" <n@leadsie.com>:`).
#[derive(Debug)]
pub struct Attribution {
    /// `None` when the line names no single address.
    pub sender: Option<Sender>,
}

/// Reads `line` as an attribution line. `wrote_verb` tells whether the
/// caller needs a verb from [`WROTE`] to believe it (when no quoted or
/// indented original follows).
pub fn attribution(line: &str, need_verb: bool) -> Option<Attribution> {
    let t = line.trim_end_matches([' ', '\t', '\u{a0}']);
    if t.len() > MAX_ATTRIBUTION_BYTES {
        return None;
    }
    let dashes = |c: char| matches!(c, '-' | '—' | '–');
    // Zoho wraps it in dashes instead of ending it with a colon:
    // `---- On <date> <name> <addr> wrote ----`.
    let wrapped = t.starts_with("---") && t.ends_with("---");
    let body = if wrapped {
        t.trim_matches(dashes).trim()
    } else {
        t.strip_suffix(':').or_else(|| t.strip_suffix('：'))?
    };
    // A header line ("Subject:") or a separator's words are not one.
    if field(t).is_some_and(|f| f.value.is_empty()) && !is_date(body) {
        return None;
    }
    let lower = body.to_lowercase();
    let verb = WROTE.iter().any(|w| lower.contains(w));
    if need_verb && !verb {
        return None;
    }
    let address_free = strip_addresses(body);
    if !is_date(&address_free) {
        return None;
    }
    let n = count_addresses(body);
    if n == 0 && !verb {
        return None;
    }
    let sender = (n == 1).then(|| sender_in_line(body)).flatten();
    Some(Attribution { sender })
}

/// How many different addresses a line holds: an `<a<mailto:a>>` pair,
/// or a display name that is the address itself (`"a@b" <a@b>`), counts
/// once. Each `@` is widened to the address around it, whatever script
/// or punctuation stands beside it.
fn count_addresses(s: &str) -> usize {
    let b = s.as_bytes();
    let mut seen: Vec<String> = Vec::new();
    for at in memchr::memchr_iter(b'@', b) {
        let mut start = at;
        while start > 0 && is_local_byte(b[start - 1]) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < b.len() && (b[end].is_ascii_alphanumeric() || matches!(b[end], b'.' | b'-')) {
            end += 1;
        }
        let addr = s[start..end].trim_matches('.').to_ascii_lowercase();
        if has_address(&addr) && !seen.contains(&addr) {
            seen.push(addr);
        }
    }
    seen.len()
}

/// A byte of an address's local part as people write them (no quotes).
fn is_local_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&*+-/=?^_`{|}~.".contains(&c)
}

/// The line with its addresses taken out, so `12:46` is read as a time and
/// an address's digits are never a date.
fn strip_addresses(s: &str) -> String {
    s.split_whitespace()
        .filter(|w| !has_address(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The sender an attribution line names: the bracketed address with the
/// quoted or plain name before it, or the one bare address.
fn sender_in_line(body: &str) -> Option<Sender> {
    let body = without_mailto_links(body);
    let body = body.as_ref();
    if let Some(open) = body.rfind('<') {
        let close = open + body[open..].find('>')?;
        let m = parse_mailbox(&body[open + 1..close]).ok()?;
        // The name: a quoted string just before, else nothing certain.
        let before = body[..open].trim_end();
        let name = before
            .strip_suffix('"')
            .and_then(|b| b.rfind('"').map(|q| &b[q + 1..]));
        return Some(Sender::from_mailbox(m.address, name));
    }
    let word = body
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | ','))
        .find(|w| has_address(w))?;
    let m = parse_mailbox(word.trim_start_matches("mailto:")).ok()?;
    Some(Sender::from_mailbox(m.address, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_in_any_script() {
        assert_eq!(
            field("*From:* Leadsie <a@b.com>"),
            Some(Field {
                label: "From",
                value: "Leadsie <a@b.com>"
            })
        );
        assert_eq!(field("De\u{a0}: x").unwrap().label, "De");
        assert_eq!(field("差出人：x").unwrap().label, "差出人");
        assert_eq!(field("보낸 사람: x").unwrap().label, "보낸 사람");
        assert_eq!(field("Subject: \tHi").unwrap().value, "Hi");
        assert!(field("10:00 meeting").is_none());
        assert!(field("https://x.example/a").is_none());
        assert!(field("a@b.com: hi").is_none());
        assert!(field("This is a long sentence that ends: here").is_none());
    }

    #[test]
    fn dates_in_common_forms() {
        for d in [
            "Monday, November 2, 2026 10:00 AM",
            "2026年11月2日 10:00",
            "Wed, 3 Nov 2021 15:51:30 +0100",
            "02/10/2023 4:52 PM EST",
            "2 พ.ย. 2569 เวลา 10:00",
            "الاثنين، ٢ نوفمبر ٢٠٢٦ ١٠:٠٠",
            "lundi 2 novembre 2026 10h00",
            "2. 11. 2026.",
            "2 listopada 2026",
        ] {
            assert!(is_date(d), "{d}");
        }
        for d in [
            "Leadsie <a@b.com>",
            "Access granted",
            "ticket 4410",
            "555 0142",
        ] {
            assert!(!is_date(d), "{d}");
        }
    }

    #[test]
    fn senders_as_clients_write_them() {
        let s = sender_of("John <john@acme.com<mailto:john@acme.com>>").unwrap();
        assert_eq!(s.address, "john@acme.com");
        assert_eq!(s.name.as_deref(), Some("John"));
        assert_eq!(
            sender_of("john@acme.com<mailto:john@acme.com>")
                .unwrap()
                .address,
            "john@acme.com"
        );
        assert_eq!(
            sender_of("John Doe [mailto:john@acme.com]")
                .unwrap()
                .address,
            "john@acme.com"
        );
        assert_eq!(
            sender_of("John (john@acme.com)").unwrap().address,
            "john@acme.com"
        );
        assert!(sender_of("Valéry").is_none());
        assert!(sender_of("a <a@x.com>, b <b@y.com>").is_none());
    }

    #[test]
    fn yahoo_lines_are_cut_at_their_labels() {
        let line = "----- Forwarded Message ----- From: Leadsie <n@leadsie.com>To: \"a@agency.com\" <a@agency.com>Sent: Tuesday, November 2, 2021, 09:26:50 AM GMT+1Subject: Access";
        let pieces = split_run_together(line).unwrap();
        assert_eq!(pieces.len(), 5, "{pieces:?}");
        assert!(pieces[1].starts_with("From:"));
        assert!(pieces[4].starts_with("Subject:"));
        let de = "----- Weitergeleitete Nachricht ----- Von: L <n@leadsie.com>An: x <x@y.com>Gesendet: Dienstag, 2. November 2021, 09:26:50 MEZBetreff: Hallo";
        assert_eq!(split_run_together(de).unwrap().len(), 5);
        assert!(split_run_together("Note: this is: not it").is_none());
    }

    #[test]
    fn attribution_lines() {
        let a = attribution(
            "Am 28/10/2021, 12:46 schrieb \"Leadsie\" <notifications@leadsie.com>:",
            false,
        )
        .unwrap();
        let s = a.sender.unwrap();
        assert_eq!(s.address, "notifications@leadsie.com");
        assert_eq!(s.name.as_deref(), Some("Leadsie"));
        let a = attribution(
            "On Mon, Nov 2, 2026 at 10:00 AM Leadsie <n@leadsie.com> wrote:",
            true,
        )
        .unwrap();
        assert_eq!(a.sender.unwrap().address, "n@leadsie.com");
        // The shape without an address is a hop without a sender.
        let a = attribution("On July 19, 2022 at 3:36 PM, John Doe wrote:", false).unwrap();
        assert!(a.sender.is_none());
        assert!(attribution("Please file this:", false).is_none());
        assert!(attribution("Subject:", false).is_none());
    }

    #[test]
    fn separators() {
        assert!(is_separator("---------- Forwarded message ---------"));
        assert!(is_separator("-----Original Message-----"));
        assert!(is_separator("________________________________"));
        assert!(!is_separator("--"));
        assert!(!is_separator("- a list item -"));
    }
}
