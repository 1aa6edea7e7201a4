//! The grammar of `Authentication-Results` (RFC 8601 §2.2) and of
//! `ARC-Authentication-Results` (RFC 8617 §4.1.1): comments and folding
//! whitespace anywhere, quoted values with escapes, `method/version`,
//! `reason=`, `ptype.property=value`, the `none` form and an authserv-id
//! version. Reading only: what the results mean is for `auth`.
//!
//! One pass, left to right, with a constant look-ahead: the work is linear
//! in the header's length whatever it holds. A part that does not follow
//! the grammar is skipped to the next `;`; when the text so skipped (or
//! swallowed by an unclosed comment or quote) mentions a failure, the
//! header says so ([`AuthResults::unread_failure`]), so that a broken
//! header can never hide a `fail`.

/// One `method=result` with its reason and properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodResult {
    /// Lower-case, without its version (`dkim`, `dmarc`, `spf`, `arc`).
    pub method: String,
    /// The `/N` after the method, when written.
    pub version: Option<u32>,
    /// Lower-case (`pass`, `fail`, `none`, …).
    pub result: String,
    /// The `reason=` value, unquoted.
    pub reason: Option<String>,
    /// `ptype.property` (lower-case) and its value, unquoted. A bare
    /// `key=value` some servers write (`action=none`) is kept under `key`.
    pub props: Vec<(String, String)>,
}

impl MethodResult {
    /// The value of property `key` (`header.d`), the first if repeated.
    pub fn prop(&self, key: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// One parsed results header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthResults {
    /// The `i=` of an `ARC-Authentication-Results` header: which ARC set
    /// (1 is the first sealer's) wrote it.
    pub instance: Option<u32>,
    /// Lower-case; empty when the header names none (as some servers
    /// write it, starting straight with a result).
    pub authserv_id: String,
    /// The version number after the authserv-id, when written.
    pub version: Option<u32>,
    pub results: Vec<MethodResult>,
    /// Text that could not be read (a part off the grammar, an unclosed
    /// comment or quoted string) mentions a failure.
    pub unread_failure: bool,
}

/// Method names registered with IANA for these headers, and the few
/// vendors' own: one of them followed by `=` where a property was expected
/// starts a new result whose `;` is missing, never a property.
const METHODS: &[&str] = &[
    "arc",
    "auth",
    "bimi",
    "compauth",
    "dkim",
    "dkim-adsp",
    "dkim-atps",
    "dmarc",
    "dnswl",
    "domainkeys",
    "iprev",
    "rrvs",
    "sender-id",
    "smime",
    "spf",
    "vbr",
    "x-tls",
];

/// The highest ARC instance RFC 8617 §4.2.1 allows.
const MAX_INSTANCE: u32 = 50;

/// Parses one header value. For `arc` (an `ARC-Authentication-Results`
/// header) the leading `i=N;` is read into [`AuthResults::instance`]; a
/// value without it is still read, with no instance. Never fails: what
/// cannot be read is left out, and flagged when it mentions a failure.
pub fn parse_results(value: &str, arc: bool) -> AuthResults {
    let mut c = Cursor {
        s: value.as_bytes(),
        at: 0,
        unread_failure: false,
    };
    let mut out = AuthResults::default();
    if arc {
        out.instance = c.instance();
    }
    c.cfws();
    // The authserv-id is a value, which can hold no `=`: a keyword
    // followed by `=` or `/` is already a result.
    if !c.at_methodspec() {
        out.authserv_id = c.value().unwrap_or_default().to_ascii_lowercase();
        c.cfws();
        out.version = c.number();
    }
    loop {
        c.cfws();
        match c.peek() {
            None => break,
            Some(b';') => {
                c.at += 1;
                c.cfws();
                if c.none_result() {
                    continue;
                }
            }
            // A missing `;` before a result (or right after the authserv-id
            // that was left out): read on.
            Some(_) if c.at_methodspec() => {}
            Some(_) => {
                c.skip_part();
                continue;
            }
        }
        if c.peek().is_none_or(|b| b == b';') {
            continue;
        }
        let start = c.at;
        match c.resinfo() {
            Some(r) => out.results.push(r),
            None => {
                c.at = start;
                c.skip_part();
            }
        }
    }
    out.unread_failure = c.unread_failure;
    out
}

struct Cursor<'a> {
    s: &'a [u8],
    at: usize,
    unread_failure: bool,
}

fn is_keyword_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// RFC 2045 tspecials, which a token cannot hold.
fn is_tspecial(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')'
            | b'<'
            | b'>'
            | b'@'
            | b','
            | b';'
            | b':'
            | b'\\'
            | b'"'
            | b'/'
            | b'['
            | b']'
            | b'?'
            | b'='
    )
}

fn mentions_failure(text: &[u8]) -> bool {
    text.windows(4).any(|w| w.eq_ignore_ascii_case(b"fail"))
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// Skips folding whitespace and comments (nested, with quoted pairs).
    /// An unclosed comment runs to the end of the value, as in RFC 5322.
    fn cfws(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => self.at += 1,
                b'(' => {
                    let start = self.at;
                    let mut depth = 0usize;
                    while let Some(b) = self.peek() {
                        self.at += 1;
                        match b {
                            b'\\' => self.at = (self.at + 1).min(self.s.len()),
                            b'(' => depth += 1,
                            b')' => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                    if depth > 0 && mentions_failure(&self.s[start..]) {
                        self.unread_failure = true;
                    }
                }
                _ => return,
            }
        }
    }

    fn keyword(&mut self) -> Option<String> {
        let start = self.at;
        while self.peek().is_some_and(is_keyword_byte) {
            self.at += 1;
        }
        (self.at > start)
            .then(|| String::from_utf8_lossy(&self.s[start..self.at]).to_ascii_lowercase())
    }

    fn number(&mut self) -> Option<u32> {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        if self.at == start {
            return None;
        }
        // Digits glued to letters are a word, not a version.
        if self.peek().is_some_and(is_keyword_byte) {
            self.at = start;
            return None;
        }
        std::str::from_utf8(&self.s[start..self.at])
            .ok()?
            .parse()
            .ok()
    }

    /// A quoted-string's content, unescaped; the opening quote is next.
    /// Unclosed, it runs to the end of the value.
    fn quoted(&mut self) -> String {
        let start = self.at;
        self.at += 1;
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            self.at += 1;
            match b {
                b'"' => return String::from_utf8_lossy(&out).into_owned(),
                b'\\' => {
                    if let Some(e) = self.peek() {
                        out.push(e);
                        self.at += 1;
                    }
                }
                b'\r' | b'\n' => {}
                _ => out.push(b),
            }
        }
        if mentions_failure(&self.s[start..]) {
            self.unread_failure = true;
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// A token or quoted-string (RFC 2045 `value`).
    fn value(&mut self) -> Option<String> {
        if self.peek() == Some(b'"') {
            return Some(self.quoted());
        }
        let start = self.at;
        while self
            .peek()
            .is_some_and(|b| b > b' ' && b != 0x7f && !is_tspecial(b))
        {
            self.at += 1;
        }
        (self.at > start).then(|| String::from_utf8_lossy(&self.s[start..self.at]).into_owned())
    }

    /// A property's value: a value, or `[local-part] "@" domain`. Read
    /// leniently up to whitespace, a comment or `;`, so a base64 `header.b`
    /// with its `=`, `/` and `+` stays whole.
    fn pvalue(&mut self) -> Option<String> {
        self.cfws();
        let mut out = if self.peek() == Some(b'"') {
            self.quoted()
        } else {
            String::new()
        };
        let start = self.at;
        while self
            .peek()
            .is_some_and(|b| b > b' ' && !matches!(b, b';' | b'(' | b')' | b'"' | 0x7f))
        {
            self.at += 1;
        }
        out.push_str(&String::from_utf8_lossy(&self.s[start..self.at]));
        self.cfws();
        (!out.is_empty()).then_some(out)
    }

    /// ARC's `i=N;`, consumed when so written; only 1 to 50 is an instance.
    /// Anything else leaves the cursor where it was.
    fn instance(&mut self) -> Option<u32> {
        let start = self.at;
        self.cfws();
        let read = (|| {
            if !self.peek().is_some_and(|b| b.eq_ignore_ascii_case(&b'i')) {
                return None;
            }
            self.at += 1;
            self.cfws();
            if !self.eat(b'=') {
                return None;
            }
            self.cfws();
            let n = self.number()?;
            self.cfws();
            self.eat(b';').then_some(n)
        })();
        match read {
            Some(n) => (1..=MAX_INSTANCE).contains(&n).then_some(n),
            None => {
                self.at = start;
                None
            }
        }
    }

    /// Whether a method specification starts here: a keyword, then `=` or
    /// `/`. Looks ahead only.
    fn at_methodspec(&mut self) -> bool {
        let start = self.at;
        let yes = self.keyword().is_some() && {
            self.cfws();
            matches!(self.peek(), Some(b'=' | b'/'))
        };
        self.at = start;
        yes
    }

    /// The `none` that stands for "no results": consumed when it is there.
    fn none_result(&mut self) -> bool {
        let start = self.at;
        if self.keyword().as_deref() == Some("none") {
            self.cfws();
            if self.peek().is_none_or(|b| b == b';') {
                return true;
            }
        }
        self.at = start;
        false
    }

    /// Skips to the next `;` outside comments and quoted strings, noting a
    /// failure in what is skipped.
    fn skip_part(&mut self) {
        let start = self.at;
        while let Some(b) = self.peek() {
            match b {
                b';' => break,
                b'(' => self.cfws(),
                b'"' => {
                    self.quoted();
                }
                _ => self.at += 1,
            }
        }
        if mentions_failure(&self.s[start..self.at]) {
            self.unread_failure = true;
        }
    }

    /// `method[/version] = result`, then a reason and properties up to the
    /// next `;`. `None` when not even the method and result can be read.
    fn resinfo(&mut self) -> Option<MethodResult> {
        let method = self.keyword()?;
        self.cfws();
        let mut version = None;
        if self.eat(b'/') {
            self.cfws();
            version = self.number();
            self.cfws();
        }
        if !self.eat(b'=') {
            return None;
        }
        self.cfws();
        let result = self.keyword()?;
        let mut r = MethodResult {
            method,
            version,
            result,
            reason: None,
            props: Vec::new(),
        };
        loop {
            self.cfws();
            if self.peek().is_none_or(|b| b == b';') {
                return Some(r);
            }
            let start = self.at;
            match self.property() {
                Property::Value(k, v) if k == "reason" => r.reason = Some(v),
                Property::Value(k, v) => r.props.push((k, v)),
                Property::NextResult => {
                    self.at = start;
                    return Some(r);
                }
                Property::Unreadable => {
                    self.at = start;
                    self.skip_part();
                    return Some(r);
                }
            }
        }
    }

    /// `ptype.property=value`, `reason=value`, or a bare `key=value`.
    fn property(&mut self) -> Property {
        let Some(ptype) = self.keyword() else {
            return Property::Unreadable;
        };
        self.cfws();
        if self.eat(b'.') {
            self.cfws();
            let Some(property) = self.keyword() else {
                return Property::Unreadable;
            };
            self.cfws();
            if !self.eat(b'=') {
                return Property::Unreadable;
            }
            return match self.pvalue() {
                Some(v) => Property::Value(format!("{ptype}.{property}"), v),
                None => Property::Unreadable,
            };
        }
        if METHODS.contains(&ptype.as_str()) && matches!(self.peek(), Some(b'=' | b'/')) {
            return Property::NextResult;
        }
        if !self.eat(b'=') {
            return Property::Unreadable;
        }
        self.cfws();
        let v = if ptype == "reason" {
            self.value()
        } else {
            self.pvalue()
        };
        match v {
            Some(v) => Property::Value(ptype, v),
            None => Property::Unreadable,
        }
    }
}

enum Property {
    Value(String, String),
    /// A method name and `=`: the next result, its `;` left out.
    NextResult,
    Unreadable,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(v: &str) -> AuthResults {
        parse_results(v, false)
    }

    fn summary(ar: &AuthResults) -> Vec<String> {
        ar.results
            .iter()
            .map(|r| {
                let mut s = format!("{}={}", r.method, r.result);
                if let Some(v) = r.version {
                    s = format!("{}/{v}={}", r.method, r.result);
                }
                if let Some(why) = &r.reason {
                    s.push_str(&format!(" reason={why:?}"));
                }
                for (k, v) in &r.props {
                    s.push_str(&format!(" {k}={v}"));
                }
                s
            })
            .collect()
    }

    // RFC 8601 Appendix B, written from the RFC's text.

    #[test]
    fn b2_the_nearly_trivial_case() {
        let ar = one(" example.org 1; none");
        assert_eq!(ar.authserv_id, "example.org");
        assert_eq!(ar.version, Some(1));
        assert!(ar.results.is_empty());
        assert!(!ar.unread_failure);
    }

    #[test]
    fn b3_spf() {
        let ar = one(" example.com;\r\n                spf=pass smtp.mailfrom=example.net");
        assert_eq!(ar.authserv_id, "example.com");
        assert_eq!(summary(&ar), ["spf=pass smtp.mailfrom=example.net"]);
    }

    #[test]
    fn b4_smtp_auth_and_iprev() {
        let ar = one(
            " example.com;\r\n      auth=pass (cram-md5) smtp.auth=sender@example.net;\r\n      spf=pass smtp.mailfrom=example.net",
        );
        assert_eq!(
            summary(&ar),
            [
                "auth=pass smtp.auth=sender@example.net",
                "spf=pass smtp.mailfrom=example.net"
            ]
        );
        let ar = one(" example.com;\r\n      iprev=pass\r\n      policy.iprev=192.0.2.200");
        assert_eq!(summary(&ar), ["iprev=pass policy.iprev=192.0.2.200"]);
    }

    #[test]
    fn b5_sender_id_and_dkim() {
        let ar = one(
            " example.com;\r\n          sender-id=fail header.from=example.com;\r\n          dkim=pass (good signature) header.d=example.com",
        );
        assert_eq!(
            summary(&ar),
            [
                "sender-id=fail header.from=example.com",
                "dkim=pass header.d=example.com"
            ]
        );
    }

    #[test]
    fn b6_two_signatures_with_quoted_reasons() {
        let ar = one(
            " example.com;\r\n    dkim=pass reason=\"good signature\"\r\n      header.i=@mail-router.example.net;\r\n    dkim=fail reason=\"bad signature\"\r\n      header.i=@newyork.example.com",
        );
        assert_eq!(
            summary(&ar),
            [
                "dkim=pass reason=\"good signature\" header.i=@mail-router.example.net",
                "dkim=fail reason=\"bad signature\" header.i=@newyork.example.com"
            ]
        );
    }

    #[test]
    fn b7_comments_everywhere() {
        let ar = one(
            " foo.example.net (foobar) 1 (baz);\r\n    dkim (Because I like it) / 1 (One yay) = (wait for it) fail\r\n      policy (A dot can go here) . (like that) expired\r\n      (this surprised me) = (as I wasn't expecting it) 1362471462",
        );
        assert_eq!(ar.authserv_id, "foo.example.net");
        assert_eq!(ar.version, Some(1));
        assert_eq!(summary(&ar), ["dkim/1=fail policy.expired=1362471462"]);
    }

    #[test]
    fn spaces_around_equals_are_read() {
        // The finding: read as anything but dmarc=fail, it granted.
        let ar = one(" mx.agency.example; dmarc = fail header.from=leadsie.com");
        assert_eq!(summary(&ar), ["dmarc=fail header.from=leadsie.com"]);
        let ar = one(" mx; dkim =\r\n\tfail header . d = leadsie.com");
        assert_eq!(summary(&ar), ["dkim=fail header.d=leadsie.com"]);
    }

    #[test]
    fn quoted_values_keep_their_escapes_meaning() {
        let ar = one(
            " \"mx.agency.example\"; dkim=pass reason=\"a \\\"quoted\\\" (not a comment); word\" header.i=\"@leadsie.com\" header.from=\"john doe\"@leadsie.com",
        );
        assert_eq!(ar.authserv_id, "mx.agency.example");
        assert_eq!(
            summary(&ar),
            [
                "dkim=pass reason=\"a \\\"quoted\\\" (not a comment); word\" header.i=@leadsie.com header.from=john doe@leadsie.com"
            ]
        );
    }

    #[test]
    fn arc_results_keep_their_instance() {
        let ar = parse_results(
            " i=1; lists.example.org;\r\n spf=pass smtp.mfrom=jqd@d1.example;\r\n dkim=pass (1024-bit key) header.i=@d1.example; dmarc=pass",
            true,
        );
        assert_eq!(ar.instance, Some(1));
        assert_eq!(ar.authserv_id, "lists.example.org");
        assert_eq!(ar.results.len(), 3);
        let ar = parse_results(" i = (two) 2 ; mx.example; arc=pass", true);
        assert_eq!(ar.instance, Some(2));
        assert_eq!(summary(&ar), ["arc=pass"]);
        // Out of range, or missing: no instance, the rest still read.
        let ar = parse_results(" i=51; mx.example; dkim=fail header.d=a.example", true);
        assert_eq!(ar.instance, None);
        assert_eq!(summary(&ar), ["dkim=fail header.d=a.example"]);
        let ar = parse_results(" mx.example; dkim=pass header.d=a.example", true);
        assert_eq!((ar.instance, ar.authserv_id.as_str()), (None, "mx.example"));
    }

    #[test]
    fn what_servers_write_off_the_grammar_is_still_read() {
        // No authserv-id, bare `action=`, no space after `;`.
        let ar = one(
            " spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=leadsie.com; dkim=pass (signature was verified) header.d=leadsie.com;dmarc=fail action=oreject header.from=leadsie.com;compauth=fail reason=000",
        );
        assert_eq!(ar.authserv_id, "");
        assert_eq!(
            summary(&ar),
            [
                "spf=pass smtp.mailfrom=leadsie.com",
                "dkim=pass header.d=leadsie.com",
                "dmarc=fail action=oreject header.from=leadsie.com",
                "compauth=fail reason=\"000\""
            ]
        );
        // A `;` left out between two results.
        let ar = one(" mx; dkim=pass header.d=x.example dmarc=fail header.from=leadsie.com");
        assert_eq!(
            summary(&ar),
            [
                "dkim=pass header.d=x.example",
                "dmarc=fail header.from=leadsie.com"
            ]
        );
        // A base64 header.b stays whole; a trailing `;` is harmless.
        let ar = one(" mx; dkim=pass header.d=a.example header.b=ab+/c=;");
        assert_eq!(
            summary(&ar),
            ["dkim=pass header.d=a.example header.b=ab+/c="]
        );
    }

    #[test]
    fn hostile_forms_never_hide_a_failure() {
        // An unclosed comment swallows the rest, as RFC 5322 reads it; what
        // it swallowed mentions a failure, and the header says so.
        let ar = one(
            " mx; spf=pass (x@(evil smtp.mailfrom=e.example; dmarc=fail header.from=leadsie.com",
        );
        assert_eq!(summary(&ar), ["spf=pass"]);
        assert!(ar.unread_failure);
        let ar = one(" mx; dkim=pass header.d=\"leadsie.com; dmarc=fail header.from=leadsie.com");
        assert!(ar.unread_failure);
        let ar = one(" mx; @@dkim=fail header.d=leadsie.com; spf=pass");
        assert_eq!(summary(&ar), ["spf=pass"]);
        assert!(ar.unread_failure);
        // Unreadable text that mentions no failure is just left out.
        let ar = one(" mx; ==; (unclosed spf=pass");
        assert!(ar.results.is_empty());
        assert!(!ar.unread_failure);
        // A stray `)` or backslash is not a crash.
        for v in [
            ")",
            "\\",
            "(\\",
            "\"\\",
            "mx; dkim=",
            "mx; dkim/=",
            "mx; a.b",
            ";;;",
            "",
        ] {
            let _ = one(v);
            let _ = parse_results(v, true);
        }
    }

    #[test]
    fn huge_values_are_read_in_one_pass() {
        // Each of these would be quadratic in a parser that backtracks or
        // rescans: 400k bytes must read as quickly as a small header.
        let n = 100_000;
        for v in [
            "(".repeat(n),
            format!("mx; {}", "dkim=pass ".repeat(n / 10)),
            format!("mx; dkim=pass {}", "a.b=c ".repeat(n / 6)),
            format!("mx; {}", "; ".repeat(n)),
            format!("mx; {}", "\"".repeat(n)),
            format!("mx; dkim=pass {}", "(a".repeat(n / 2)),
            format!("mx; {}", "x ".repeat(n)),
            "i=".repeat(n),
        ] {
            let ar = parse_results(&v, true);
            assert!(ar.results.len() <= n);
        }
        let many = format!("mx{}", "; dkim=fail header.d=a.example".repeat(10_000));
        assert_eq!(one(&many).results.len(), 10_000);
    }
}
