//! Cleaning: text from mail made safe for a terminal line, a message body,
//! a JSON line or Slack. Pure string functions; knows nothing of where the
//! text is stored or shown.

use std::borrow::Cow;

/// Shown in place of a control character, so tampering is visible.
const REPLACEMENT: char = '\u{FFFD}';

/// `s` as one line for a terminal or a header: escape sequences (CSI, OSC,
/// DCS and the other string commands, 7-bit or C1) are dropped whole, other
/// C0 and C1 controls, DEL and bidirectional overrides become `�`, and line
/// breaks and tabs become spaces.
pub fn line(s: &str) -> Cow<'_, str> {
    clean(s, false)
}

/// Like [`line`](fn@line), but keeps line breaks (`\n`) and tabs: for a message body
/// whose own lines are ours. Put attacker text through [`line`](fn@line) before it
/// goes into such a body, or it can forge lines.
pub fn text(s: &str) -> Cow<'_, str> {
    clean(s, true)
}

/// A JSON document as one line a terminal cannot be steered by: serde_json
/// escapes C0 controls but writes DEL, C1 controls and bidirectional
/// overrides raw; they are written here as `\u` escapes instead, which
/// decode to the same value (they can only occur inside strings). Anything
/// serde can write, without building a `serde_json::Value` first.
pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    let mut raw = Vec::with_capacity(256);
    if serde_json::to_writer(&mut raw, value).is_err() {
        // Only a map with keys that are not strings fails, and nothing
        // written here has one.
        return "null".to_owned();
    }
    // serde_json writes UTF-8.
    let raw = String::from_utf8(raw)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    // Printable ASCII, as nearly every line is, holds nothing dangerous.
    if raw.bytes().all(|b| (0x20..0x7f).contains(&b)) || !raw.chars().any(is_dangerous) {
        return raw;
    }
    let mut out = String::with_capacity(raw.len() + 16);
    for c in raw.chars() {
        if is_dangerous(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters a terminal or a reader may act on rather than show.
fn is_dangerous(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// Marks and overrides that reorder how the text around them is displayed.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn clean(s: &str, multiline: bool) -> Cow<'_, str> {
    if !s.chars().any(is_dangerous) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' if multiline => out.push(c),
            '\r' if multiline => {}
            '\n' | '\t' | '\r' => out.push(' '),
            // ESC and the C1 introducers start a sequence the terminal
            // would act on: drop it whole.
            '\u{1b}' => match chars.next() {
                Some('[') => skip_csi(&mut chars),
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut chars),
                // A two-character command (ESC c resets the terminal).
                Some(_) | None => {}
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            c if is_dangerous(c) => out.push(REPLACEMENT),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Parameters and intermediates up to the final byte (0x40–0x7E), as ECMA-48
/// defines a control sequence; stops early at anything that cannot be part
/// of one, which is then kept (and cleaned) as text.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(&c) = chars.peek() {
        match c {
            '\u{20}'..='\u{3f}' => {
                chars.next();
            }
            '\u{40}'..='\u{7e}' => {
                chars.next();
                return;
            }
            _ => return,
        }
    }
}

/// An OSC, DCS, SOS, PM or APC string, up to its terminator: BEL, ST
/// (`ESC \` or U+009C), or the end of the text.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

/// Text for a Slack message (mrkdwn): `&`, `<` and `>` escaped as Slack
/// asks, so `<https://evil.example|click>` or `<!channel>` in a client name
/// stays text instead of becoming a link or a mention.
pub fn slack(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_dropped_whole() {
        assert_eq!(line("a\x1b[2Jb\x1b]0;pwned\x07c"), "abc");
        assert_eq!(
            line("a\x1b]8;;https://evil\x1b\\link\x1b]8;;\x1b\\"),
            "alink"
        );
        assert_eq!(line("x\x1bcy"), "xy");
        assert_eq!(line("x\u{9b}31my"), "xy");
        assert_eq!(line("x\x1bPq#0;2\x1b\\y"), "xy");
        assert_eq!(line("unterminated \x1b]0;title"), "unterminated ");
        assert_eq!(line("trailing \x1b"), "trailing ");
    }

    #[test]
    fn other_controls_are_replaced_and_lines_joined() {
        assert_eq!(line("a\x07b\x7fc\u{85}d"), "a\u{FFFD}b\u{FFFD}c\u{FFFD}d");
        assert_eq!(
            line("Acme\r\nBcc: x@evil.example"),
            "Acme  Bcc: x@evil.example"
        );
        assert_eq!(line("a\u{202E}gpj.exe"), "a\u{FFFD}gpj.exe");
        assert_eq!(text("one\r\ntwo\tthree\x1b[1m"), "one\ntwo\tthree");
        assert!(matches!(line("plain text, ünïcode"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_keeps_the_value_but_not_the_raw_controls() {
        let v = serde_json::json!({ "subject": "a\x1b[2J\u{9b}b\u{202E}\x7f" });
        let out = json(&v);
        assert!(!out.chars().any(is_dangerous), "{out:?}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap(), v);
    }

    #[test]
    fn slack_controls_are_escaped() {
        assert_eq!(
            slack("<https://evil.example|click> & <!channel>"),
            "&lt;https://evil.example|click&gt; &amp; &lt;!channel&gt;"
        );
    }
}
