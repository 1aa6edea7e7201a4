//! Finds the original message inside forwards and who handed it on: forwards
//! as `message/rfc822` attachments (nested), inline forwards as mail clients
//! write them, and server-side auto-forwards that keep the original headers.

use std::borrow::Cow;

use mail_parser::{HeaderName, Message, PartType};

use super::address::parse_mailbox;
use super::hops;
use super::sender::Sender;
use super::text::capped;
use super::text::{html_to_text, normalise};

/// How deep we follow forwards of forwards before giving up.
const MAX_DEPTH: usize = 8;

/// How much of a body's text is read. A Leadsie or Shopify email is a few
/// kilobytes; reading more only gives a hostile message more to chew on.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

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
    /// The sender of the message whose words are read. `None` only when
    /// [`Unwrapped::identity_problem`] says why.
    pub original: Option<Sender>,
    /// Why some hop above the original has no established sender: the
    /// outer From missing, repeated or malformed, an attached message
    /// without a sender, a forward header or attribution line that names
    /// nobody. Such a message is never trusted.
    pub identity_problem: Option<String>,
    /// How the original reached us.
    pub route: Route,
    /// The message whose body was read: the outer one or an attached one.
    /// Its own DKIM signature, aligned with [`Unwrapped::signer`], is what
    /// vouches for what it says (inline forwards included: only their
    /// forwarder can vouch for typed text).
    pub signed: Option<&'a Message<'a>>,
    /// The From of [`Unwrapped::signed`].
    pub signer: Option<Sender>,
    /// Every message in the chain, outermost first: failures reported on any
    /// of them count.
    pub chain: Vec<&'a Message<'a>>,
    /// The original's subject.
    pub subject: String,
    /// What the original says: its part of the body between its own header
    /// (block, attribution line or MIME header) and the next hop, if any.
    /// Hops below it are the history it quoted, not its words.
    pub text: Cow<'a, str>,
    /// The HTML alternative of the message read, kept unconverted until
    /// needed: most messages are read from their text part alone.
    pub html_alternative: Option<&'a str>,
    /// Which inline hop of the HTML alternative holds the original's words
    /// (0: the message itself), with the sender it must name.
    html_hop: usize,
    /// The senders of the inline hops above the original in the text part
    /// read: the HTML alternative must show the same ones.
    inline_above: Vec<String>,
}

/// One message in the chain, as MIME shows it.
struct Level<'a> {
    msg: &'a Message<'a>,
    sender: Result<Sender, String>,
    route: Route,
    text: Cow<'a, str>,
    html: Option<&'a str>,
    hops: Vec<hops::Hop>,
}

/// A place a sender may stand: a message of the chain or an inline hop
/// within one.
#[derive(Clone, Copy)]
enum Place {
    Message(usize),
    Inline(usize, usize),
}

/// Reads one message's body: its text part (or its HTML made text), the
/// inline hops in it, and its HTML alternative. When the text part shows
/// no forward but the HTML does (Yahoo's text part runs a forward's header
/// together in ways no shape survives), the HTML is what is read.
fn read_body<'a>(msg: &'a Message<'a>) -> (Cow<'a, str>, Option<&'a str>, Vec<hops::Hop>) {
    let (plain, html) = body_texts(msg);
    let plain = plain.map(|p| capped(p, MAX_TEXT_BYTES));
    // HTML is mostly markup: allow it more bytes for the same text.
    let html = html.map(|h| capped(h, 4 * MAX_TEXT_BYTES));
    match (plain, html) {
        (Some(p), h) => {
            let text = normalise(p);
            let found = hops::find(&text);
            if found.is_empty()
                && let Some(h) = h
            {
                let converted = html_to_text(h);
                let in_html = hops::find(&converted);
                if !in_html.is_empty() {
                    return (Cow::Owned(converted), None, in_html);
                }
            }
            (text, h, found)
        }
        (None, Some(h)) => {
            let text = html_to_text(h);
            let found = hops::find(&text);
            (Cow::Owned(text), None, found)
        }
        (None, None) => (Cow::Borrowed(""), None, Vec::new()),
    }
}

/// Unwraps forwards of every kind, hop by hop: the outer message, the
/// inline forwards typed into its body, the message attached to it, the
/// inline forwards in that one, and so on. The original is the outermost
/// hop whose sender `trusted` accepts (what Leadsie or Shopify wrote), or,
/// when none is, the innermost hop. Every hop above the
/// original must name its sender; the first that does not is the identity
/// problem. Hops below the original are the history it quoted.
pub fn unwrap<'a>(msg: &'a Message<'a>, trusted: &dyn Fn(&Sender) -> bool) -> Unwrapped<'a> {
    let mut out = Unwrapped::default();
    let mut auto = None;
    // Server-side auto-forwards keep From but say who forwarded.
    let mut outer_route = Route::Direct;
    match auto_forwarder(msg) {
        Ok(Some(s)) => {
            auto = Some(Ok(s));
            outer_route = Route::AutoForward;
        }
        Ok(None) => {}
        Err(p) => auto = Some(Err(p)),
    }

    let mut levels: Vec<Level<'a>> = Vec::new();
    let mut current = msg;
    for depth in 0..=MAX_DEPTH {
        let what = match depth {
            0 => "the message",
            1 => "the attached message",
            _ => "a nested attached message",
        };
        let (text, html, found) = read_body(current);
        levels.push(Level {
            msg: current,
            sender: header_sender(current, what),
            route: if depth == 0 {
                outer_route
            } else {
                Route::Attached
            },
            text,
            html,
            hops: found,
        });
        match attached_message(current) {
            Some(inner) if depth < MAX_DEPTH => current = inner,
            _ => break,
        }
    }
    out.chain = levels.iter().map(|l| l.msg).collect();

    let mut places = Vec::new();
    for (li, level) in levels.iter().enumerate() {
        places.push(Place::Message(li));
        places.extend((0..level.hops.len()).map(|h| Place::Inline(li, h)));
    }
    let sender_at = |p: Place| -> &Result<Sender, String> {
        match p {
            Place::Message(l) => &levels[l].sender,
            Place::Inline(l, h) => &levels[l].hops[h].sender,
        }
    };
    let first_trusted = places
        .iter()
        .position(|&p| sender_at(p).as_ref().is_ok_and(trusted));
    // With no trusted sender anywhere, the innermost hop is read (for the
    // reason a spoof is refused), and every hop must name its sender.
    let k = first_trusted.unwrap_or(places.len() - 1);

    match auto {
        Some(Ok(s)) => out.forwarders.push(s),
        Some(Err(p)) => out.identity_problem = Some(p),
        None => {}
    }
    for (n, &p) in places[..=k].iter().enumerate() {
        match sender_at(p) {
            Ok(s) if n < k => out.forwarders.push(s.clone()),
            Ok(s) => out.original = Some(s.clone()),
            Err(why) => {
                if out.identity_problem.is_none() {
                    let hop = match p {
                        Place::Message(_) => why.clone(),
                        Place::Inline(..) => {
                            format!("hop {} of the forward chain: {why}", n + 1)
                        }
                    };
                    out.identity_problem = Some(hop);
                }
            }
        }
    }

    // A forward that could not be read above the original hides a hop.
    if out.identity_problem.is_none() {
        for (n, &p) in places[..k].iter().enumerate() {
            let (l, segment) = match p {
                Place::Message(l) => (l, 0),
                Place::Inline(l, h) => (l, h + 1),
            };
            let level = &levels[l];
            let text = hops::segments(&level.text, &level.hops)[segment];
            if let Some(line) = hops::unread_forward(text) {
                out.identity_problem = Some(format!(
                    "hop {} of the forward chain holds a forward header that could not be read (\"{line}\"); nothing below it can be attributed",
                    n + 2
                ));
                break;
            }
        }
    }

    let (level_index, hop) = match places[k] {
        Place::Message(l) => (l, None),
        Place::Inline(l, h) => (l, Some(h)),
    };
    let level = levels.swap_remove(level_index);
    out.signed = Some(level.msg);
    out.signer = level.sender.as_ref().ok().cloned();
    out.route = match hop {
        None => level.route,
        Some(_) => Route::Inline,
    };
    let message_subject = level.msg.subject().unwrap_or("").trim().to_owned();
    out.subject = match hop {
        Some(h) => level.hops[h].subject.clone().unwrap_or(message_subject),
        None => message_subject,
    };
    let segment = hop.map_or(0, |h| h + 1);
    let range = {
        let segs = hops::segments(&level.text, &level.hops);
        let s = segs[segment];
        let start = s.as_ptr() as usize - level.text.as_ptr() as usize;
        start..start + s.len()
    };
    out.text = match level.text {
        Cow::Borrowed(b) => Cow::Borrowed(&b[range]),
        Cow::Owned(o) if range.start == 0 && range.end == o.len() => Cow::Owned(o),
        Cow::Owned(o) => Cow::Owned(o[range].to_owned()),
    };
    out.html_alternative = level.html;
    out.html_hop = segment;
    out.inline_above = hops::senders(&level.hops[..hop.unwrap_or(0)]);
    if out.original.is_none() && out.identity_problem.is_none() {
        out.identity_problem = Some("no sender could be established".into());
    }
    out
}

impl Unwrapped<'_> {
    /// The HTML alternative as text, cut to the original's words as the
    /// text part was: a second chance when the text part says nothing
    /// useful. `None` when the HTML's hops do not name the same sender.
    pub fn html_alternative_text(&self) -> Option<String> {
        let text = html_to_text(self.html_alternative?);
        let found = hops::find(&text);
        let segment = if self.html_hop == 0 {
            0
        } else {
            let want = self.original.as_ref()?;
            let same = |h: &hops::Hop| h.sender.as_ref().is_ok_and(|s| s.address == want.address);
            // The same hop where it names the same sender; else the first
            // hop that does.
            let at = if found.get(self.html_hop - 1).is_some_and(same) {
                self.html_hop - 1
            } else {
                found.iter().position(same)?
            };
            // The hops above it must be the text part's, sender by sender:
            // a version that adds or changes a hop is not the same message.
            if found[..at].iter().any(|h| h.sender.is_err())
                || hops::senders(&found[..at]) != self.inline_above
            {
                return None;
            }
            at + 1
        };
        Some(hops::segments(&text, &found)[segment].to_owned())
    }
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
