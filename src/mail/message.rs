//! Reading a message's bytes safely: what is too deep for the MIME parser,
//! a header block two readers could read differently, the lean parser, and
//! the header facts kept for the record.

use mail_parser::{HeaderName, MessageParser};

use super::classification::MessageMeta;
use super::forward;
use super::sender::Sender;

/// Attached messages one email may nest: the MIME parser recurses into
/// each, and tens of thousands of them exhaust the stack.
const MAX_NESTED_MESSAGES: usize = 32;
/// MIME parts one email may have before it is not read.
const MAX_MIME_PARTS: usize = 2000;

/// Why a message is too deeply built to hand to the MIME parser, judged
/// from a count of `message/` and `Content-Type:` in its bytes. One pass
/// over the rare `/` and `:` (ordinary text and base64 are full of the
/// letters the words start with), each checked for the word before it.
pub(super) fn too_deep(raw: &[u8]) -> Option<String> {
    const MESSAGE: &[u8] = b"message";
    const CONTENT_TYPE: &[u8] = b"content-type";
    let ends_with = |at: usize, word: &[u8]| {
        at >= word.len() && raw[at - word.len()..at].eq_ignore_ascii_case(word)
    };
    let (mut nested, mut parts) = (0, 0);
    for at in memchr::memchr2_iter(b'/', b':', raw) {
        if raw[at] == b'/' {
            if ends_with(at, MESSAGE) {
                nested += 1;
                if nested > MAX_NESTED_MESSAGES {
                    return Some(format!(
                        "it declares more than {MAX_NESTED_MESSAGES} attached messages"
                    ));
                }
            }
        } else if ends_with(at, CONTENT_TYPE) {
            parts += 1;
            if parts > MAX_MIME_PARTS {
                return Some(format!("it has more than {MAX_MIME_PARTS} MIME parts"));
            }
        }
    }
    None
}

/// Why the header block of a message whose signature is to be checked
/// could be read differently by the DKIM verifier and the MIME parser: a
/// bare LF or CR, or a line that is neither a header field nor a folded
/// continuation. Then what is verified may not be what is read.
pub(super) fn ambiguous_header_block(msg: &mail_parser::Message<'_>) -> Option<&'static str> {
    let raw = msg.raw_message();
    let root = msg.root_part();
    let end = (root.offset_body.saturating_sub(root.offset_header) as usize).min(raw.len());
    let head = &raw[..end];
    let mut line_start = 0;
    for (i, &b) in head.iter().enumerate() {
        match b {
            b'\n' if i == 0 || head[i - 1] != b'\r' => return Some("a line ends in a bare LF"),
            b'\r' if head.get(i + 1) != Some(&b'\n') => return Some("a bare CR"),
            b'\n' => {
                let line = &head[line_start..i - 1];
                line_start = i + 1;
                if line.is_empty() {
                    continue;
                }
                let folded = matches!(line[0], b' ' | b'\t');
                let field = line
                    .iter()
                    .position(|&c| c == b':')
                    .is_some_and(|c| c > 0 && line[..c].iter().all(|&x| x.is_ascii_graphic()));
                if !folded && !field {
                    return Some("a line that is not a header field");
                }
            }
            _ => {}
        }
    }
    None
}

pub(super) fn lf_to_crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 32);
    for line in raw.split_inclusive(|&b| b == b'\n') {
        match line.strip_suffix(b"\n") {
            Some(l) => {
                out.extend_from_slice(l);
                out.extend_from_slice(b"\r\n");
            }
            None => out.extend_from_slice(line),
        }
    }
    out
}

/// Every sender a message's headers name: From, Sender, Resent-From and
/// X-Forwarded-For.
pub(super) fn header_senders(msg: &mail_parser::Message<'_>) -> Vec<Sender> {
    let mut senders: Vec<Sender> = Vec::new();
    for addr in [msg.from(), msg.sender(), msg.resent_from()]
        .into_iter()
        .flatten()
    {
        senders.extend(
            addr.iter()
                .filter_map(|a| a.address().and_then(|x| Sender::new(x, a.name()))),
        );
    }
    if let Some(fwd) = forward::header_text(msg, "X-Forwarded-For") {
        senders.extend(fwd.split_whitespace().filter_map(|a| Sender::new(a, None)));
    }
    senders
}

/// What a message's headers say about it, read from its first bytes
/// alone (a message waiting to be judged, listed by `collabd status`).
pub fn meta_of_headers(head: &[u8]) -> MessageMeta {
    lean_parser()
        .parse_headers(head)
        .map(|msg| meta_of(&msg))
        .unwrap_or_default()
}

/// What a message's own headers say about it, for the record.
pub(super) fn meta_of(msg: &mail_parser::Message<'_>) -> MessageMeta {
    MessageMeta {
        message_id: msg.message_id().map(str::to_owned),
        from: msg
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(str::to_ascii_lowercase),
        original_from: None,
        subject: msg.subject().map(str::to_owned),
        date: msg.date().map(|d| d.to_timestamp()),
    }
}

/// A mail-parser that parses only the headers collabd reads (senders,
/// subject, date, Message-ID, MIME structure) and keeps the rest raw:
/// structured parsing of To, Cc and long Received chains is wasted work here.
pub fn lean_parser() -> MessageParser {
    MessageParser::new()
        .with_mime_headers()
        .header_address(HeaderName::From)
        .header_address(HeaderName::Sender)
        .header_address(HeaderName::ResentFrom)
        .header_text(HeaderName::Subject)
        .header_date(HeaderName::Date)
        .header_id(HeaderName::MessageId)
        .default_header_raw()
}
