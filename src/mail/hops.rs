//! Finds the inline forwards in one body of text, in order, by their shape
//! ([`super::shape`]): header blocks (a short run of `label: value` lines
//! with a mailbox and a date) and attribution lines followed by a quoted or
//! indented original. Each hop comes with the sender it names, or why it
//! names none, and the text that follows it up to the next hop.

use std::borrow::Cow;
use std::ops::Range;

use super::lang::{CONTENT_LABELS, Role, WROTE};
use super::sender::Sender;
use super::shape::{self, Field};

/// How many hops one body may hold before the rest is not read.
pub const MAX_HOPS: usize = 16;
/// The most lines one header block may have.
const MAX_BLOCK_LINES: usize = 14;

/// One inline forward found in a body.
#[derive(Debug, Clone)]
pub struct Hop {
    /// Who sent the forwarded message, or why the hop names nobody; the
    /// reason names the hop as a person would find it.
    pub sender: Result<Sender, String>,
    /// The forwarded message's subject, when the block gives one.
    pub subject: Option<String>,
    /// Where the hop's header block or attribution line stands in the text.
    pub marker: Range<usize>,
}

/// Each hop's sender address, or why it names none: what two readings of
/// one body are compared by.
pub fn senders(hops: &[Hop]) -> Vec<String> {
    hops.iter()
        .map(|h| {
            h.sender
                .as_ref()
                .map_or_else(|e| e.clone(), |s| s.address.clone())
        })
        .collect()
}

/// A body's lines with what the search needs of each.
struct Line<'a> {
    /// Byte range in the text, line end included.
    range: Range<usize>,
    /// `>` quote depth.
    depth: usize,
    /// Leading white space after the quote markers.
    indent: usize,
    /// Unquoted, trimmed, direction marks removed.
    content: Cow<'a, str>,
}

fn lines_of(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut pos = 0;
    for raw in text.split_inclusive('\n') {
        let range = pos..pos + raw.len();
        pos += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let mut depth = 0;
        let mut rest = line.trim_start_matches([' ', '\t']);
        while let Some(r) = rest.strip_prefix('>') {
            depth += 1;
            rest = r.strip_prefix(' ').unwrap_or(r);
            if rest.trim_start().starts_with('>') {
                rest = rest.trim_start();
            }
        }
        let indent = if depth == 0 {
            line.len() - line.trim_start_matches([' ', '\t', '\u{a0}']).len()
        } else {
            rest.len() - rest.trim_start_matches([' ', '\t', '\u{a0}']).len()
        };
        let content = match shape::without_marks(rest.trim()) {
            Cow::Borrowed(b) => Cow::Borrowed(b),
            Cow::Owned(o) => Cow::Owned(o.trim().to_owned()),
        };
        out.push(Line {
            range,
            depth,
            indent,
            content,
        });
    }
    out
}

/// Every hop in `text`, outermost first.
pub fn find(text: &str) -> Vec<Hop> {
    // Cheap check first: every hop has a colon and an `@` or a date; most
    // bodies have no forward at all.
    if !text.contains([':', '：']) {
        return Vec::new();
    }
    let lines = lines_of(text);
    let mut hops = Vec::new();
    let mut i = 0;
    while i < lines.len() && hops.len() < MAX_HOPS {
        if lines[i].content.is_empty() {
            i += 1;
            continue;
        }
        if let Some((hop, next)) = block_at(&lines, i) {
            hops.push(hop);
            i = next;
            continue;
        }
        if let Some((hop, next)) = attribution_at(&lines, i, hops.last()) {
            hops.push(hop);
            i = next;
            continue;
        }
        i += 1;
    }
    hops
}

/// The text each hop's message says, outermost first: before the first hop
/// (the message that holds them all), then after each hop up to the next.
pub fn segments<'t>(text: &'t str, hops: &[Hop]) -> Vec<&'t str> {
    let mut out = Vec::with_capacity(hops.len() + 1);
    let mut start = 0;
    for hop in hops {
        out.push(&text[start..hop.marker.start.max(start)]);
        start = hop.marker.end;
    }
    out.push(&text[start.min(text.len())..]);
    out
}

/// The first line of `segment` that still looks like part of a forward
/// although no hop was read there: a sender's header line with an address
/// (a block whose date or shape did not survive), or an attribution-shaped
/// line. Text above the original that holds one hides a hop, so nothing
/// below it may be believed.
pub fn unread_forward(segment: &str) -> Option<String> {
    for l in lines_of(segment) {
        let c = l.content.as_ref();
        if (c.ends_with(':') || c.ends_with('：')) && c.chars().count() > 3 {
            let lower = c.to_lowercase();
            if WROTE.iter().any(|w| lower.contains(w)) && shape::is_date(c) {
                return Some(shorten(c));
            }
        }
        if !c.contains('@') {
            continue;
        }
        let sender_line = fields_of(c)
            .iter()
            .any(|f| shape::role(f.label) == Some(Role::From) && shape::has_address(f.value));
        if sender_line || shape::attribution(c, false).is_some() {
            return Some(shorten(c));
        }
    }
    None
}

/// A header line: one field, or the pieces of a Yahoo line run together.
fn fields_of(content: &str) -> Vec<Field<'_>> {
    if let Some(pieces) = shape::split_run_together(content) {
        return pieces.into_iter().filter_map(shape::field).collect();
    }
    shape::field(content).into_iter().collect()
}

/// Whether a forward may start after line `prev`: at the top, after a
/// blank line, a separator, a line ending in a colon ("Begin forwarded
/// message:"), or where the quoting changes.
fn opens_block(lines: &[Line<'_>], first: usize) -> bool {
    let Some(prev) = first.checked_sub(1).map(|p| &lines[p]) else {
        return true;
    };
    let c = prev.content.as_ref();
    c.is_empty()
        || shape::is_separator(c)
        || c.ends_with(':')
        || c.ends_with('：')
        || prev.depth != lines[first].depth
}

/// A header block starting at line `i`: its hop and the line after it.
fn block_at(lines: &[Line<'_>], i: usize) -> Option<(Hop, usize)> {
    let depth = lines[i].depth;
    let mut fields: Vec<(Field<'_>, Option<Role>)> = Vec::new();
    let mut j = i;
    // A label whose value stands on the next line (Thunderbird's table).
    let mut open_label: Option<&str> = None;
    while j < lines.len() && fields.len() < MAX_BLOCK_LINES && lines[j].depth == depth {
        let content = lines[j].content.as_ref();
        if content.is_empty() {
            // One blank line inside a block, as an HTML table may leave.
            let next_is_field = lines.get(j + 1).is_some_and(|n| {
                n.depth == depth
                    && fields_of(&n.content)
                        .first()
                        .is_some_and(|f| shape::role(f.label).is_some())
            });
            if open_label.is_none() && !fields.is_empty() && next_is_field {
                j += 1;
                continue;
            }
            break;
        }
        let found = fields_of(content);
        // The value of a label left open is the next line, as written,
        // unless that line is itself a header line.
        if let Some(label) = open_label.take()
            && found.first().is_none_or(|f| shape::role(f.label).is_none())
        {
            let field = Field {
                label,
                value: content,
            };
            fields.push((field, shape::role(label)));
            j += 1;
            continue;
        }
        // What the message itself says (a store, a code, a client) ends
        // the block: some clients put the body right under it.
        if found.is_empty() || found.iter().any(|f| is_content(f.label)) {
            break;
        }
        // A second block glued under a complete one (HTML made text keeps
        // no blank line between them) starts at its sender's line, or at a
        // role the first one already had.
        let complete = fields.iter().any(|(f, _)| shape::has_address(f.value))
            && fields.iter().any(|(f, _)| shape::is_date(f.value));
        if complete
            && found.iter().any(|f| match shape::role(f.label) {
                Some(Role::From) => true,
                Some(r @ (Role::Date | Role::Subject)) => {
                    fields.iter().any(|(_, seen)| *seen == Some(r))
                }
                _ => false,
            })
        {
            break;
        }
        open_label = None;
        for f in found {
            if f.value.is_empty() {
                open_label = Some(f.label);
            } else {
                fields.push((f, shape::role(f.label)));
            }
        }
        j += 1;
    }
    if fields.len() < 2 {
        return None;
    }
    let mailbox = fields.iter().any(|(f, _)| shape::has_address(f.value));
    let dated = fields.iter().any(|(f, r)| {
        *r != Some(Role::From) && !shape::has_address(f.value) && shape::is_date(f.value)
    });
    let known = fields.iter().filter(|(_, r)| r.is_some()).count();
    let froms = fields
        .iter()
        .filter(|(_, r)| *r == Some(Role::From))
        .count();
    let has_from = froms > 0;
    let described = describe(&fields);
    let marker = lines[i].range.start..lines[j - 1].range.end;
    let unnamed = |why: String| {
        Some((
            Hop {
                sender: Err(why),
                subject: None,
                marker: marker.clone(),
            },
            j,
        ))
    };
    // Outlook writes a sender it knows by name alone: a dated block of
    // header labels with no address is still a hop, one that names nobody.
    if !mailbox && dated && has_from && known >= 3 {
        return unnamed(format!(
            "the forward header block ({described}) gives its sender by name only, with no address"
        ));
    }
    if !mailbox || !dated {
        return None;
    }
    // A block of labels no language here knows needs more lines to be
    // believed a forward: it cannot be told from content by its words.
    if known == 0 && fields.len() < 3 {
        return None;
    }
    // A block stands apart from the text above it, unless its labels leave
    // no doubt (a sender's line among three or more header lines). One of
    // labels no language here knows is still a hop, whatever stands above
    // it: missing it would hand its sender's words to the hop above.
    if !(opens_block(lines, i) || (has_from && fields.len() >= 3)) {
        return None;
    }
    if froms > 1 {
        return unnamed(format!(
            "the forward header block ({described}) has {froms} sender lines"
        ));
    }
    let sender = if has_from {
        let (f, _) = fields.iter().find(|(_, r)| *r == Some(Role::From))?;
        shape::sender_of(f.value).ok_or_else(|| {
            format!(
                "the forward header block ({described}) names no single address on its sender line"
            )
        })
    } else {
        // No label says which line is the sender's: the first line with an
        // address is, as every client orders its block (From first, or
        // Subject and Date before From and To). When it is not the first
        // line and no second address follows it, the first line may be a
        // sender written by name alone and the address a recipient's: then
        // the block names nobody for certain.
        let addressed: Vec<usize> = fields
            .iter()
            .enumerate()
            .filter(|(_, (f, r))| r.is_none() && shape::has_address(f.value))
            .map(|(n, _)| n)
            .collect();
        let certain = match addressed.first() {
            Some(0) => true,
            Some(_) => {
                fields
                    .iter()
                    .filter(|(f, _)| shape::has_address(f.value))
                    .count()
                    >= 2
            }
            None => false,
        };
        match addressed.first().filter(|_| certain).map(|&n| &fields[n]) {
            Some((f, _)) => shape::sender_of(f.value).ok_or_else(|| {
                format!(
                    "the forward header block ({described}) names no single address for its sender"
                )
            }),
            None => Err(format!(
                "the forward header block ({described}) names no sender for certain: no line is labelled as the sender's, and its addresses may all be recipients"
            )),
        }
    };
    let subject = fields
        .iter()
        .find(|(_, r)| *r == Some(Role::Subject))
        .map(|(f, _)| f.value.to_owned());
    Some((
        Hop {
            sender,
            subject,
            marker,
        },
        j,
    ))
}

fn is_content(label: &str) -> bool {
    CONTENT_LABELS.contains(&label.to_lowercase().as_str())
}

/// The block's labels, for a reason a person can find it by.
fn describe(fields: &[(Field<'_>, Option<Role>)]) -> String {
    let labels: Vec<&str> = fields.iter().take(5).map(|(f, _)| f.label).collect();
    format!("{}:", labels.join(": … / "))
}

/// An attribution line ending at line `i` (joined with up to two lines
/// before it, as clients wrap it), followed by a quoted or indented
/// original, or carrying a verb such as "wrote".
fn attribution_at(lines: &[Line<'_>], i: usize, last: Option<&Hop>) -> Option<(Hop, usize)> {
    let line = &lines[i];
    let c = line.content.as_ref();
    let wrapped = c.starts_with("---") && c.ends_with("---") && c.contains('@');
    if !(c.ends_with(':') || c.ends_with('：') || wrapped) {
        return None;
    }
    let next = lines[i + 1..].iter().find(|l| !l.content.is_empty());
    let deeper = next.is_some_and(|n| n.depth > line.depth || n.indent >= line.indent + 2);
    let mut best: Option<(shape::Attribution, usize)> = None;
    for w in 1..=3usize {
        let Some(first) = (i + 1).checked_sub(w) else {
            break;
        };
        let window = &lines[first..=i];
        if window
            .iter()
            .any(|l| l.content.is_empty() || l.depth != line.depth)
        {
            break;
        }
        // Never reach back into an earlier hop's marker.
        if last.is_some_and(|h| window[0].range.start < h.marker.end) {
            break;
        }
        let joined = window
            .iter()
            .map(|l| l.content.as_ref())
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(a) = shape::attribution(&joined, !deeper) {
            let named = a.sender.is_some();
            best = Some((a, first));
            if named {
                break;
            }
        }
    }
    let Some((a, first)) = best else {
        // An attribution too long or too wrapped to read ("… wrote:" over
        // a quoted original) still hides a sender: a hop that names nobody.
        let lower = c.to_lowercase();
        let verb = WROTE.iter().any(|w| lower.contains(w));
        return (verb && deeper && !c.contains(['/', '|'])).then(|| {
            (
                Hop {
                    sender: Err(format!(
                        "the attribution line \"{}\" could not be read",
                        shorten(c)
                    )),
                    subject: None,
                    marker: line.range.clone(),
                },
                i + 1,
            )
        });
    };
    let sender = a.sender.ok_or_else(|| {
        format!(
            "the attribution line \"{}\" names no single address for the sender of what it quotes",
            shorten(c)
        )
    });
    Some((
        Hop {
            sender,
            subject: None,
            marker: lines[first].range.start..line.range.end,
        },
        i + 1,
    ))
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= 80 {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(77).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn senders(text: &str) -> Vec<Result<String, String>> {
        find(text)
            .into_iter()
            .map(|h| h.sender.map(|s| s.address))
            .collect()
    }

    #[test]
    fn blocks_in_any_language_and_order() {
        let outlook = "FYI\n\n________________________________\nFrom: Leadsie <hi@leadsie.com>\nSent: Monday, November 2, 2026 10:00 AM\nTo: me@agency.com\nSubject: Access granted\n\nBody here\n";
        let hops = find(outlook);
        assert_eq!(hops.len(), 1);
        assert_eq!(hops[0].subject.as_deref(), Some("Access granted"));
        let segs = segments(outlook, &hops);
        assert!(segs[1].contains("Body here") && !segs[1].contains("FYI"));

        let tb = "-------- Forwarded Message --------\nSubject: \tHi\nDate: \tWed, 3 Nov 2021 15:51:30 +0100\nFrom: \tLeadsie <hi@leadsie.com>\nTo: \tme@x.com\n\nBody";
        assert_eq!(senders(tb), vec![Ok("hi@leadsie.com".into())]);

        // Labels no list knows: the first mailbox that is no recipient.
        let unknown = "________________________________\nOddi wrth: Eve <eve@evil.example>\nAnfonwyd: 2 Tachwedd 2026 10:00\nAt: ann@agency.com\nPwnc: Fwd\n\nhi";
        assert_eq!(senders(unknown), vec![Ok("eve@evil.example".into())]);
    }

    #[test]
    fn a_block_without_a_sender_is_a_hop_that_names_nobody() {
        let t = "\nFrom: Valéry\nDate: Wednesday, 22 February 2023 at 11:27\nTo: Suzanne <s@globex.example>\nSubject: RE: x\n\nhi";
        let hops = find(t);
        assert_eq!(hops.len(), 1);
        assert!(hops[0].sender.is_err());
    }

    #[test]
    fn a_signature_is_not_a_forward() {
        let sig = "Thanks,\nAnn\n\nM: +44 20 7946 2100\nE: ann@agency.com\nW: www.agency.com\n";
        assert!(find(sig).is_empty());
    }

    #[test]
    fn content_is_not_a_forward() {
        assert!(find("From: someone@example.com\n\nhello").is_empty());
        let leadsie = "\nClient: Jane <jane@acme.example>\nConnected on: 2 Nov 2026 10:00\nStore: acme.myshopify.com\n";
        assert!(find(leadsie).is_empty());
    }

    #[test]
    fn attribution_lines_with_indented_or_quoted_originals() {
        let mac = "Am 28/10/2021, 12:46 schrieb \"Leadsie\" <notifications@leadsie.com>:\n\n    Store: a.myshopify.com\n";
        assert_eq!(senders(mac), vec![Ok("notifications@leadsie.com".into())]);
        let gmail = "See below\n\nOn Mon, Nov 2, 2026 at 10:00 AM Leadsie <\nnotifications@leadsie.com> wrote:\n\n> Store: a.myshopify.com\n";
        assert_eq!(senders(gmail), vec![Ok("notifications@leadsie.com".into())]);
        let nameless = "On July 19, 2022 at 3:36 PM, John Doe wrote:\n\n> hi\n";
        assert!(find(nameless)[0].sender.is_err());
    }

    #[test]
    fn yahoo_run_together_header() {
        let y = "   ----- Forwarded Message ----- From: Leadsie <n@leadsie.com>To: \"a@agency.com\" <a@agency.com>Sent: Tuesday, November 2, 2021, 09:26:50 AM GMT+1Subject: Access\n Store: a.myshopify.com\n";
        let hops = find(y);
        assert_eq!(hops.len(), 1, "{hops:?}");
        assert_eq!(hops[0].sender.as_ref().unwrap().address, "n@leadsie.com");
        assert!(segments(y, &hops)[1].contains("Store"));
    }

    #[test]
    fn chains_across_languages() {
        let t = "Proszę\n\nOd: Sven <sven@agency.com>\nWysłano: poniedziałek, 2 listopada 2026 10:00\nDo: ann@agency.com\nTemat: VB: Access\n\nSe nedan\n\nFrån: Leadsie <n@leadsie.com>\nSkickat: den 2 november 2026 09:00\nTill: sven@agency.com\nÄmne: Access\n\nStore: a.myshopify.com\n";
        assert_eq!(
            senders(t),
            vec![Ok("sven@agency.com".into()), Ok("n@leadsie.com".into())]
        );
    }
}
