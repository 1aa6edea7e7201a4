//! Finds the original message inside forwards and who handed it on: forwards
//! as `message/rfc822` attachments (nested), inline forwards as mail clients
//! write them, and server-side auto-forwards that keep the original headers.

use std::borrow::Cow;

use mail_parser::{HeaderName, Message, PartType};

use super::address::parse_mailbox;
use super::text::{html_to_text, normalise, unquote};

/// How deep we follow forwards of forwards before giving up.
const MAX_DEPTH: usize = 8;

/// How much of a body's text is read. A Leadsie or Shopify email is a few
/// kilobytes; reading more only gives a hostile message more to chew on.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

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

    /// A sender from an address [`parse_mailbox`] already made canonical.
    pub fn from_mailbox(address: String, name: Option<&str>) -> Sender {
        let name = name
            .map(|n| n.trim_ascii().trim_matches(['"', '\'']).trim_ascii())
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        Sender { address, name }
    }

    /// The part after `@`, lower-cased, without a trailing dot.
    pub fn domain(&self) -> &str {
        self.address
            .rsplit_once('@')
            .map_or("", |(_, d)| d.trim_end_matches('.'))
    }
}

/// How the original reached us: which hop's authentication counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Route {
    /// The original sender's message itself, unforwarded.
    #[default]
    Direct,
    /// Forwarded by a server that kept the original message whole
    /// (Resent-From, X-Forwarded-For): the original's signature or an ARC
    /// chain vouches for it.
    AutoForward,
    /// Attached as `message/rfc822`: the attached message's own signature.
    Attached,
    /// Typed into a body by a mail client: only the forwarder can vouch.
    Inline,
}

/// The original message as far as forwards let us see it.
#[derive(Debug, Default)]
pub struct Unwrapped<'a> {
    /// Everyone who handed the message on, outermost first.
    pub forwarders: Vec<Sender>,
    /// The sender of the innermost message. `None` only when
    /// [`Unwrapped::identity_problem`] says why.
    pub original: Option<Sender>,
    /// Why some hop has no established sender: the outer From missing,
    /// repeated or malformed, an attached message without a sender, a
    /// forward header that names nobody. Such a message is never trusted.
    pub identity_problem: Option<String>,
    /// How the innermost message reached us.
    pub route: Route,
    /// The message whose body was read: the outer one or the innermost
    /// attached one. Its own DKIM signature, aligned with [`Unwrapped::signer`],
    /// is what vouches for what it says (inline forwards included: only their
    /// forwarder can vouch for typed text).
    pub signed: Option<&'a Message<'a>>,
    /// The From of [`Unwrapped::signed`].
    pub signer: Option<Sender>,
    /// Every message in the chain, outermost first: failures reported on any
    /// of them count.
    pub chain: Vec<&'a Message<'a>>,
    /// The innermost message's subject.
    pub subject: String,
    /// The innermost message's body as text (its text/plain part, else its
    /// HTML part converted), cut to what follows the last inline forward
    /// header block.
    pub text: Cow<'a, str>,
    /// The HTML alternative, kept unconverted until needed: most messages
    /// are read from their text part alone.
    pub html_alternative: Option<&'a str>,
}

/// The one sender of a message's header block, RFC 5322 strict: exactly one
/// From header with exactly one mailbox. The name is mail-parser's decoded
/// display name; the address is ours, parsed from the raw value.
pub fn header_sender(msg: &Message<'_>, what: &str) -> Result<Sender, String> {
    let froms = msg
        .headers()
        .iter()
        .filter(|h| h.name == HeaderName::From)
        .count();
    if froms == 0 {
        return Err(format!("{what} has no From header"));
    }
    if froms > 1 {
        return Err(format!(
            "{what} has {froms} From headers; exactly one is allowed (RFC 5322 §3.6)"
        ));
    }
    let raw = msg.header_raw(HeaderName::From).unwrap_or("");
    let mailbox =
        parse_mailbox(raw).map_err(|e| format!("{what}'s From header is refused: {e}"))?;
    let name = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.name())
        .map(str::to_owned)
        .or(mailbox.name);
    Ok(Sender::from_mailbox(mailbox.address, name.as_deref()))
}

/// The server-side forwarder a message names, if any: `Err` when it names
/// one that cannot be read (a hop without a sender).
fn auto_forwarder(msg: &Message<'_>) -> Result<Option<Sender>, String> {
    let resent: Vec<&str> = msg
        .headers()
        .iter()
        .filter(|h| h.name == HeaderName::ResentFrom)
        .filter_map(|h| {
            msg.raw_message
                .get(h.offset_start as usize..h.offset_end as usize)
                .and_then(|b| std::str::from_utf8(b).ok())
        })
        .collect();
    if let Some(first) = resent.first() {
        // The newest Resent block comes first (RFC 5322 §3.6.6).
        return parse_mailbox(first)
            .map(|m| Some(Sender::from_mailbox(m.address, m.name.as_deref())))
            .map_err(|e| format!("the Resent-From header is refused: {e}"));
    }
    match header_text(msg, "X-Forwarded-For") {
        None => Ok(None),
        Some(v) => v
            .split([' ', '\t', ','])
            .find_map(|a| parse_mailbox(a).ok())
            .map(|m| Some(Sender::from_mailbox(m.address, None)))
            .ok_or_else(|| "the X-Forwarded-For header names no readable address".to_owned()),
    }
}

fn problem(out: &mut Unwrapped<'_>, p: String) {
    if out.identity_problem.is_none() {
        out.identity_problem = Some(p);
    }
}

/// Unwraps forwards of every kind, outermost first. Every hop must have an
/// established sender; the first that does not is the identity problem.
pub fn unwrap<'a>(msg: &'a Message<'a>) -> Unwrapped<'a> {
    let mut out = Unwrapped::default();
    let outer = header_sender(msg, "the message");
    if let Err(p) = &outer {
        problem(&mut out, p.clone());
    }
    // Server-side auto-forwards keep From but say who forwarded.
    match auto_forwarder(msg) {
        Ok(Some(s)) => {
            out.forwarders.push(s);
            out.route = Route::AutoForward;
        }
        Ok(None) => {}
        Err(p) => problem(&mut out, p),
    }

    let mut current = msg;
    let mut current_sender = outer.ok();
    out.chain.push(msg);
    for depth in 0..MAX_DEPTH {
        let Some(inner) = attached_message(current) else {
            break;
        };
        match current_sender.take() {
            Some(s) => out.forwarders.push(s),
            None => problem(&mut out, "a forwarding hop has no sender".into()),
        }
        current = inner;
        out.route = Route::Attached;
        out.chain.push(inner);
        let what = if depth == 0 {
            "the attached message"
        } else {
            "a nested attached message"
        };
        current_sender = match header_sender(current, what) {
            Ok(s) => Some(s),
            Err(p) => {
                problem(&mut out, p);
                None
            }
        };
    }
    out.signed = Some(current);
    out.signer = current_sender.clone();
    out.original = current_sender;
    out.subject = current.subject().unwrap_or("").trim().to_owned();

    let (plain, html) = body_texts(current);
    let plain = plain.map(|p| capped(p, MAX_TEXT_BYTES));
    // HTML is mostly markup: allow it more bytes for the same text.
    let html = html.map(|h| capped(h, 4 * MAX_TEXT_BYTES));
    let (text, html_alternative) = match (plain, html) {
        (Some(p), h) => (normalise(p), h),
        (None, Some(h)) => (Cow::Owned(html_to_text(h)), None),
        (None, None) => (Cow::Borrowed(""), None),
    };
    let (blocks, rest_start) = forward_blocks(&text);
    for block in blocks {
        match out.original.take() {
            Some(prev) => out.forwarders.push(prev),
            None => problem(
                &mut out,
                "an inline forward's forwarder has no sender".into(),
            ),
        }
        if block.from.is_none() {
            problem(
                &mut out,
                "an inline forward's From line names no single address".into(),
            );
        }
        out.original = block.from;
        out.route = Route::Inline;
        if let Some(subject) = block.subject {
            out.subject = subject;
        }
    }
    if out.original.is_none() && out.identity_problem.is_none() {
        out.identity_problem = Some("no sender could be established".into());
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

/// The first header called `name` (any case), as text.
pub(crate) fn header_text<'a>(msg: &'a Message<'a>, name: &str) -> Option<&'a str> {
    msg.headers()
        .iter()
        .find(|h| h.name().eq_ignore_ascii_case(name))
        .and_then(|h| h.value().as_text())
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
    /// `None` when the block's From line names no single address: a hop
    /// without a sender, which makes the whole message untrusted.
    pub from: Option<Sender>,
    pub subject: Option<String>,
}

/// The labels of a forward's header block in one language, lower-case, as
/// Outlook (desktop and web), Gmail, Apple Mail and Thunderbird write them.
/// Blocks are found by a run of such lines holding a From and a date or
/// subject, so the separator line above them ("Weitergeleitete Nachricht",
/// "Message transféré", …) does not matter and is not listed.
struct Labels {
    #[allow(dead_code)] // names the row for a reader
    language: &'static str,
    from: &'static [&'static str],
    sent: &'static [&'static str],
    to: &'static [&'static str],
    cc: &'static [&'static str],
    subject: &'static [&'static str],
}

const LANGUAGES: &[Labels] = &[
    Labels {
        language: "English",
        from: &["from"],
        sent: &["sent", "date"],
        to: &["to"],
        cc: &["cc", "bcc", "reply-to"],
        subject: &["subject"],
    },
    Labels {
        language: "German",
        from: &["von", "absender"],
        sent: &["gesendet", "datum"],
        to: &["an", "empfänger"],
        cc: &["cc", "kopie", "bcc", "antwort an"],
        subject: &["betreff"],
    },
    Labels {
        language: "French",
        from: &["de", "expéditeur"],
        sent: &["envoyé", "date"],
        to: &["à", "a", "pour", "destinataire"],
        cc: &["cc", "cci", "répondre à"],
        subject: &["objet", "sujet"],
    },
    Labels {
        language: "Spanish",
        from: &["de", "remitente"],
        sent: &["enviado", "fecha", "enviado el"],
        to: &["para", "destinatario"],
        cc: &["cc", "cco"],
        subject: &["asunto"],
    },
    Labels {
        language: "Italian",
        from: &["da", "mittente"],
        sent: &["inviato", "data"],
        to: &["a", "destinatario"],
        cc: &["cc", "ccn"],
        subject: &["oggetto"],
    },
    Labels {
        language: "Portuguese",
        from: &["de", "remetente"],
        sent: &["enviado", "enviada", "data", "enviado em"],
        to: &["para", "destinatário"],
        cc: &["cc", "cco"],
        subject: &["assunto"],
    },
    Labels {
        language: "Dutch",
        from: &["van", "afzender"],
        sent: &["verzonden", "datum"],
        to: &["aan"],
        cc: &["cc", "bcc"],
        subject: &["onderwerp"],
    },
    Labels {
        language: "Polish",
        from: &["od", "nadawca"],
        sent: &["wysłano", "wysłane", "data"],
        to: &["do", "adresat"],
        cc: &["dw", "udw", "cc"],
        subject: &["temat"],
    },
    Labels {
        language: "Russian",
        from: &["от", "отправитель"],
        sent: &["отправлено", "дата"],
        to: &["кому", "получатель"],
        cc: &["копия", "cc"],
        subject: &["тема"],
    },
    Labels {
        language: "Japanese",
        from: &["差出人", "送信者", "送信元"],
        sent: &["送信日時", "日付", "日時"],
        to: &["宛先"],
        cc: &["cc"],
        subject: &["件名"],
    },
    Labels {
        language: "Chinese",
        from: &["发件人", "寄件者", "寄件人"],
        sent: &[
            "发送时间",
            "日期",
            "時間",
            "傳送時間",
            "寄件日期",
            "发送日期",
        ],
        to: &["收件人"],
        cc: &["抄送", "副本"],
        subject: &["主题", "主旨"],
    },
];

/// What a label means, whatever its language.
fn field_of(label: &str) -> Option<&'static str> {
    let lower;
    let label = if label.bytes().any(|b| b.is_ascii_uppercase()) || !label.is_ascii() {
        lower = label.to_lowercase();
        lower.as_str()
    } else {
        label
    };
    LANGUAGES.iter().find_map(|l| {
        let has = |set: &[&str]| set.contains(&label);
        if has(l.from) {
            Some("from")
        } else if has(l.sent) {
            Some("sent")
        } else if has(l.subject) {
            Some("subject")
        } else if has(l.to) || has(l.cc) {
            Some("to")
        } else {
            None
        }
    })
}

/// Splits `*From:* x` (or `De : x`, `差出人：x`) into ("from", "x") when the
/// line is a forward header line; the value may be empty when it stands on
/// the next line.
fn header_line(line: &str) -> Option<(&'static str, &str)> {
    let l = line.trim_start_matches(['*', '_', '|']).trim_start();
    let colon = l
        .char_indices()
        .take(24)
        .find(|(_, c)| matches!(c, ':' | '：'))?;
    let name = l[..colon.0].trim_end_matches(['*', '_']).trim();
    if name.is_empty() {
        return None;
    }
    let field = field_of(name)?;
    let value = l[colon.0 + colon.1.len_utf8()..]
        .trim_start_matches(['*', '_', '|', ' ', '\t'])
        .trim();
    Some((field, value))
}

/// Reads a forward block's From value, which a mail client wrote for people:
/// `Name <a@b>` (the name may hold commas or an `@`), `a@b`, or Outlook's
/// `Name [mailto:a@b]`. Exactly one bracketed address, or one bare mailbox;
/// anything else names nobody, and the caller treats that as a hop without
/// a sender.
pub fn parse_address_line(value: &str) -> Option<Sender> {
    let value = value.trim().trim_end_matches(['*', '_']).trim();
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
        (0, 0) => {
            let m = parse_mailbox(value).ok()?;
            return Some(Sender::from_mailbox(m.address, m.name.as_deref()));
        }
        _ => return None,
    };
    let m = parse_mailbox(inner).ok()?;
    let name = name.trim().trim_matches('"').trim();
    Some(Sender::from_mailbox(
        m.address,
        (!name.is_empty()).then_some(name),
    ))
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

/// Whether any line could be a forward's From line: a cheap check before
/// the line-by-line search, since most bodies hold no forward at all.
fn has_from_header(text: &str) -> bool {
    text.lines()
        .any(|l| matches!(header_line(unquote(l).trim()), Some(("from", _))))
}

/// Finds the first header block with a From address and a Subject, Date or
/// Sent line; returns it and the byte offset just past its last line. One
/// pass over the lines, holding only the current run of header lines.
fn find_block(text: &str) -> Option<(ForwardBlock, usize)> {
    // Cheap check first: most bodies have no forward at all, and a header
    // block needs a From line.
    if !has_from_header(text) {
        return None;
    }
    let mut subject: Option<String> = None;
    let mut dated = false;
    let mut in_run = false;
    let mut run_end = 0;
    let mut pos = 0;
    // `None` while no From line was seen; `Some(None)` when it names no
    // single address.
    let mut from: Option<Option<Sender>> = None;
    // A label whose value is on the next line.
    let mut pending: Option<&'static str> = None;
    let finish = |from: &mut Option<Option<Sender>>,
                  subject: &mut Option<String>,
                  dated: bool,
                  end: usize| match (from.take(), dated) {
        (Some(from), true) => Some((
            ForwardBlock {
                from,
                subject: subject.take(),
            },
            end,
        )),
        _ => None,
    };
    for raw in text.split_inclusive('\n') {
        pos += raw.len();
        let line = unquote(raw.trim_end_matches(['\n', '\r'])).trim();
        let header = header_line(line).or_else(|| {
            // A value on the line after its label (Thunderbird's table, some
            // HTML layouts): it belongs to the label left open.
            let name = pending.take()?;
            (!line.is_empty()).then_some((name, line))
        });
        match header {
            Some((name, "")) => {
                if !in_run {
                    in_run = true;
                    from = None;
                    subject = None;
                    dated = false;
                }
                pending = Some(name);
                run_end = pos;
            }
            Some((name, v)) => {
                if !in_run {
                    in_run = true;
                    from = None;
                    subject = None;
                    dated = false;
                }
                match name {
                    "from" if from.is_none() => from = Some(parse_address_line(v)),
                    "subject" => {
                        subject = Some(v.to_owned());
                        dated = true;
                    }
                    "sent" => dated = true,
                    _ => {}
                }
                run_end = pos;
            }
            None if in_run => {
                in_run = false;
                if let Some(found) = finish(&mut from, &mut subject, dated, run_end) {
                    return Some(found);
                }
            }
            None => {}
        }
    }
    if in_run {
        return finish(&mut from, &mut subject, dated, run_end);
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
        assert_eq!(blocks[0].from.as_ref().unwrap().address, "hi@leadsie.com");
    }

    #[test]
    fn a_from_line_alone_is_not_a_forward() {
        let (blocks, start) = forward_blocks("From: someone@example.com\n\nhello");
        assert!(blocks.is_empty());
        assert_eq!(start, 0);
    }
}
