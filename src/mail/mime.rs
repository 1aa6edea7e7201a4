//! A reading copy of a message in which every binary leaf part — an image,
//! a PDF, a zip: anything that is not text, not an attached message and not
//! a multipart — keeps its headers and loses its body, so the MIME parser
//! never decodes what cannot hold a grant or a reply. Decoding attachments
//! was most of a full parse's time on ordinary mail.
//!
//! Only the bytes the parser reads change: attached messages (`message/*`)
//! are copied whole, so a signature over one still verifies, and the DKIM
//! check of the outer message is given the original bytes by the caller.
//! Whenever the structure is anything but plain (no boundary, two
//! Content-Type fields, a parameter it does not read), the part is copied
//! as it is: the copy may be larger than needed, never missing text.

use memchr::memmem;

/// The reading copy, or `None` when no part was emptied (read the original).
pub fn without_binary_leaves(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut emptied = false;
    entity(raw, &mut out, &mut emptied, 0);
    emptied.then_some(out)
}

/// Multiparts nested deeper than this are copied as they are.
const MAX_DEPTH: usize = 16;

/// Copies one entity (headers, blank line, body) into `out`.
fn entity(bytes: &[u8], out: &mut Vec<u8>, emptied: &mut bool, depth: usize) {
    let Some(body_at) = body_start(bytes) else {
        out.extend_from_slice(bytes);
        return;
    };
    let (head, body) = bytes.split_at(body_at);
    match content_type(head) {
        Kind::Binary => {
            out.extend_from_slice(head);
            *emptied = true;
        }
        Kind::Multipart(boundary) if depth < MAX_DEPTH => {
            out.extend_from_slice(head);
            multipart(body, &boundary, out, emptied, depth);
        }
        _ => out.extend_from_slice(bytes),
    }
}

/// Where the body starts: just past the first empty line (CRLF or LF).
/// An entity that starts with an empty line has no headers.
pub(super) fn body_start(bytes: &[u8]) -> Option<usize> {
    if bytes.starts_with(b"\r\n") {
        return Some(2);
    }
    if bytes.starts_with(b"\n") {
        return Some(1);
    }
    let mut at = 0;
    for nl in memchr::memchr_iter(b'\n', bytes) {
        let line = &bytes[at..nl];
        if line.is_empty() || line == b"\r" {
            return Some(nl + 1);
        }
        at = nl + 1;
    }
    None
}

enum Kind {
    /// Copied as it is: text, an attached message, no or an unclear type.
    Keep,
    /// A leaf that cannot hold a grant: its body is left out.
    Binary,
    /// Its parts are copied one by one; the boundary.
    Multipart(Vec<u8>),
}

/// Reads the one Content-Type field of a header block.
fn content_type(head: &[u8]) -> Kind {
    let mut found: Option<Vec<u8>> = None;
    for field in fields(head) {
        let Some(colon) = memchr::memchr(b':', &field) else {
            continue;
        };
        if !field[..colon]
            .trim_ascii()
            .eq_ignore_ascii_case(b"content-type")
        {
            continue;
        }
        if found.is_some() {
            // Two of them: parsers may disagree on which counts.
            return Kind::Keep;
        }
        found = Some(field[colon + 1..].to_vec());
    }
    let Some(value) = found else {
        return Kind::Keep;
    };
    let mut params = value.split(|&b| b == b';');
    let media = params
        .next()
        .unwrap_or_default()
        .trim_ascii()
        .to_ascii_lowercase();
    let Some(slash) = memchr::memchr(b'/', &media) else {
        return Kind::Keep;
    };
    let top = &media[..slash];
    if top == b"multipart" {
        return boundary_of(&value).map_or(Kind::Keep, Kind::Multipart);
    }
    // Text, attached messages, and anything quoted or commented oddly.
    let plain_token = media
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b"/-.+_".contains(&b));
    if top == b"text" || top == b"message" || !plain_token || media.len() == slash + 1 {
        return Kind::Keep;
    }
    Kind::Binary
}

/// The header block's fields, each unfolded onto one line.
fn fields(head: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        match (line[0], out.last_mut()) {
            (b' ' | b'\t', Some(last)) => last.extend_from_slice(line),
            _ => out.push(line.to_vec()),
        }
    }
    out
}

/// `boundary=…`, plain or quoted; `None` for anything else (RFC 2231
/// continuations, escapes, an empty or over-long boundary).
fn boundary_of(value: &[u8]) -> Option<Vec<u8>> {
    let mut found = None;
    for param in value.split(|&b| b == b';').skip(1) {
        let Some(eq) = memchr::memchr(b'=', param) else {
            continue;
        };
        let name = param[..eq].trim_ascii();
        if name.eq_ignore_ascii_case(b"boundary*") || name.eq_ignore_ascii_case(b"boundary*0") {
            return None;
        }
        if !name.eq_ignore_ascii_case(b"boundary") {
            continue;
        }
        if found.is_some() {
            return None;
        }
        let v = param[eq + 1..].trim_ascii();
        let v = match v.strip_prefix(b"\"") {
            Some(rest) => {
                let inner = rest.strip_suffix(b"\"")?;
                if inner.contains(&b'\\') || inner.contains(&b'"') {
                    return None;
                }
                inner
            }
            None => v,
        };
        if v.is_empty() || v.len() > 200 {
            return None;
        }
        found = Some(v.to_vec());
    }
    found
}

/// Copies a multipart body: preamble, delimiters and epilogue as they are,
/// each part through [`entity`]. A delimiter is `--boundary` at the start
/// of a line, followed by `--` (the last) or only white space to the line's
/// end; the line break before it belongs to it.
fn multipart(body: &[u8], boundary: &[u8], out: &mut Vec<u8>, emptied: &mut bool, depth: usize) {
    let mut dash = b"--".to_vec();
    dash.extend_from_slice(boundary);
    let finder = memmem::Finder::new(&dash);
    // Delimiters found: (start of the line break before it, or of the
    // delimiter at the body's start; end of its line; last?).
    let mut delimiters: Vec<(usize, usize, bool)> = Vec::new();
    for at in finder.find_iter(body) {
        let line_start = at == 0 || body[at - 1] == b'\n';
        if !line_start {
            continue;
        }
        let after = at + dash.len();
        let rest = &body[after..];
        let eol = memchr::memchr(b'\n', rest).map_or(body.len(), |n| after + n + 1);
        let tail = &body[after..eol];
        let last = tail.starts_with(b"--");
        let tail = if last { &tail[2..] } else { tail };
        if !tail
            .iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            continue;
        }
        let break_before = if at >= 2 && body[at - 2] == b'\r' {
            at - 2
        } else {
            at.saturating_sub(1)
        };
        delimiters.push((break_before, eol, last));
        if last {
            break;
        }
    }
    let Some(&(first, _, _)) = delimiters.first() else {
        out.extend_from_slice(body);
        return;
    };
    out.extend_from_slice(&body[..first]);
    for (i, &(start, end, last)) in delimiters.iter().enumerate() {
        out.extend_from_slice(&body[start..end]);
        if last {
            out.extend_from_slice(&body[end..]);
            return;
        }
        let part_end = delimiters.get(i + 1).map_or(body.len(), |d| d.0);
        entity(&body[end..part_end.max(end)], out, emptied, depth + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIXED: &str = "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n\
        preamble\r\n--XX\r\nContent-Type: text/plain\r\n\r\nCollaborator code: 0105\r\n\
        --XX\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n\
        --XX\r\nContent-Type: message/rfc822\r\n\r\nFrom: c@d.example\r\nContent-Type: multipart/mixed; boundary=YY\r\n\r\n\
        --YY\r\nContent-Type: application/pdf\r\n\r\nJVBERi0=\r\n--YY--\r\n\
        --XX--\r\nepilogue\r\n";

    #[test]
    fn binary_leaves_lose_their_bodies_and_nothing_else_changes() {
        let copy = without_binary_leaves(MIXED.as_bytes()).expect("an image to empty");
        let copy = String::from_utf8(copy).unwrap();
        assert!(!copy.contains("iVBORw0KGgo="), "{copy}");
        assert_eq!(copy, MIXED.replace("iVBORw0KGgo=", ""));
        // The attached message's own PDF is kept: its signature covers it.
        assert!(copy.contains("JVBERi0="));
        // What mail-parser reads of the copy: the same parts, the same text.
        let msg = mail_parser::MessageParser::new()
            .parse(copy.as_bytes())
            .unwrap();
        let original = mail_parser::MessageParser::new()
            .parse(MIXED.as_bytes())
            .unwrap();
        assert_eq!(msg.parts.len(), original.parts.len());
        assert_eq!(msg.body_text(0), original.body_text(0));
        assert_eq!(msg.attachment_count(), original.attachment_count());
    }

    #[test]
    fn plain_or_unclear_structure_is_read_as_it_is() {
        for raw in [
            "From: a@b.example\r\n\r\nhello\r\n",
            "From: a@b.example\r\nContent-Type: image/png\r\nContent-Type: text/plain\r\n\r\nx\r\n",
            "From: a@b.example\r\nContent-Type: multipart/mixed; boundary*0=XX\r\n\r\n--XX\r\nContent-Type: image/png\r\n\r\nx\r\n--XX--\r\n",
            "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\nno delimiters at all\r\n",
            "no header block",
        ] {
            assert_eq!(without_binary_leaves(raw.as_bytes()), None, "{raw}");
        }
    }

    #[test]
    fn lf_line_ends_folded_headers_and_a_missing_close_delimiter() {
        let raw = "From: a@b.example\nContent-Type: multipart/mixed;\n\tboundary=ZZ\n\n--ZZ\nContent-Type: text/html\n\n<p>code 0105</p>\n--ZZ\nContent-Type:\n application/zip; name=x.zip\n\nUEsDBA==\n";
        let copy = String::from_utf8(without_binary_leaves(raw.as_bytes()).unwrap()).unwrap();
        assert!(copy.contains("<p>code 0105</p>"));
        assert!(!copy.contains("UEsDBA=="), "{copy}");
    }

    #[test]
    fn a_boundary_inside_a_line_is_not_a_delimiter() {
        let raw = "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee --B here\r\n--B\r\nContent-Type: audio/ogg\r\n\r\nT2dnUw==\r\n--B--\r\n";
        let copy = String::from_utf8(without_binary_leaves(raw.as_bytes()).unwrap()).unwrap();
        assert!(copy.contains("see --B here"));
        assert!(!copy.contains("T2dnUw=="));
    }
}
