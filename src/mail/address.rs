//! Reads one sender from a From (or forward block) header value the way RFC
//! 5322 §3.4 defines a mailbox, and fails closed: a value that is not exactly
//! one well-formed mailbox yields no sender. Lenient parsers guess at
//! `<a@x> <b@y>` or `<a@x>@y`; a receiving server and collabd guessing
//! differently is how a spoof gets trusted, so this one never guesses.
//!
//! Domains come back in one canonical form (lower case, IDNA A-labels, no
//! trailing dot), so `LEADSIE.com.`, `leadsie.com` and a Unicode spelling of
//! the same name compare equal, and a Unicode look-alike never equals an
//! ASCII domain.

/// Why a header value is not one sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressError {
    Empty,
    Group,
    Several,
    Malformed(&'static str),
}

impl std::fmt::Display for AddressError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AddressError::Empty => f.write_str("it names no address"),
            AddressError::Group => f.write_str("it is a group, not one mailbox"),
            AddressError::Several => f.write_str("it names several addresses"),
            AddressError::Malformed(why) => write!(f, "it is not a well-formed address ({why})"),
        }
    }
}

/// One parsed mailbox: the address with its domain canonical, and the
/// display name as written (undecoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// `local@domain`: the local part lower-cased, the domain canonical.
    pub address: String,
    pub name: Option<String>,
}

/// The canonical form of a domain: IDNA A-labels, lower case, no trailing
/// dot. `None` when it is not a valid domain name.
pub fn canonical_domain(domain: &str) -> Option<String> {
    let d = domain.trim_end_matches('.');
    if d.is_empty() || d.len() > 253 {
        return None;
    }
    let ascii = if d.is_ascii() {
        d.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(d).ok()?
    };
    let ok = ascii.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !label.starts_with('-')
            && !label.ends_with('-')
    });
    ok.then_some(ascii)
}

/// atext (RFC 5322 §3.2.3), plus any non-ASCII character (RFC 6532).
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
}

struct Cursor<'a> {
    s: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<char> {
        self.s[self.at..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        Some(c)
    }

    /// Skips folding white space and (nested) comments.
    fn cfws(&mut self) -> Result<(), AddressError> {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                Some('(') => {
                    let mut depth = 0usize;
                    loop {
                        match self.bump() {
                            Some('(') => depth += 1,
                            Some(')') => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            Some('\\') => {
                                self.bump();
                            }
                            Some(_) => {}
                            None => return Err(AddressError::Malformed("unclosed comment")),
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn atom(&mut self) -> &'a str {
        let start = self.at;
        while self.peek().is_some_and(is_atext) {
            self.bump();
        }
        &self.s[start..self.at]
    }

    /// A quoted string, returned with its quotes and escapes as written.
    fn quoted(&mut self) -> Result<&'a str, AddressError> {
        let start = self.at;
        self.bump();
        loop {
            match self.bump() {
                Some('"') => return Ok(&self.s[start..self.at]),
                Some('\\') => {
                    if self.bump().is_none() {
                        break;
                    }
                }
                Some('\r' | '\n') => {}
                Some(c) if c.is_control() && c != '\t' => {
                    return Err(AddressError::Malformed("control character in quotes"));
                }
                Some(_) => {}
                None => break,
            }
        }
        Err(AddressError::Malformed("unclosed quotes"))
    }

    /// dot-atom: atoms joined by single dots. A domain may end in one more
    /// dot (the root), which [`canonical_domain`] drops.
    fn dot_atom(&mut self, trailing_dot: bool) -> Result<&'a str, AddressError> {
        let start = self.at;
        loop {
            if self.atom().is_empty() {
                let ends_here = self.at > start && self.peek().is_none_or(|c| c != '.');
                if trailing_dot && ends_here && self.s[..self.at].ends_with('.') {
                    return Ok(&self.s[start..self.at]);
                }
                return Err(AddressError::Malformed("empty part in a dotted name"));
            }
            if self.peek() == Some('.') {
                self.bump();
            } else {
                return Ok(&self.s[start..self.at]);
            }
        }
    }

    fn addr_spec(&mut self) -> Result<String, AddressError> {
        let local = match self.peek() {
            Some('"') => self.quoted()?,
            Some(c) if is_atext(c) => self.dot_atom(false)?,
            Some('@') => {
                return Err(AddressError::Malformed(
                    "a source route or empty local part",
                ));
            }
            _ => return Err(AddressError::Malformed("no local part")),
        };
        self.cfws()?;
        if self.bump() != Some('@') {
            return Err(AddressError::Malformed("no @domain"));
        }
        self.cfws()?;
        if self.peek() == Some('[') {
            return Err(AddressError::Malformed(
                "an address literal instead of a domain",
            ));
        }
        let domain = self.dot_atom(true)?;
        let domain = canonical_domain(domain).ok_or(AddressError::Malformed("invalid domain"))?;
        Ok(format!("{}@{domain}", local.to_lowercase()))
    }
}

/// Parses a header value that must hold exactly one mailbox:
/// `addr-spec`, or `[display-name] <addr-spec>`, with comments anywhere.
pub fn parse_mailbox(value: &str) -> Result<Mailbox, AddressError> {
    let mut c = Cursor { s: value, at: 0 };
    c.cfws()?;
    if c.peek().is_none() {
        return Err(AddressError::Empty);
    }
    // Try a bare addr-spec first.
    let save = c.at;
    if let Ok(address) = c.addr_spec() {
        c.cfws()?;
        return match c.peek() {
            None => Ok(Mailbox {
                address,
                name: None,
            }),
            Some(',') => Err(AddressError::Several),
            _ => Err(AddressError::Malformed("text after the address")),
        };
    }
    c.at = save;
    // display-name: words (atoms, quoted strings, dots as obs-phrase).
    let name_start = c.at;
    let mut name_end = c.at;
    loop {
        c.cfws()?;
        match c.peek() {
            Some('"') => {
                c.quoted()?;
            }
            Some('.') => {
                c.bump();
            }
            Some(ch) if is_atext(ch) => {
                c.atom();
            }
            _ => break,
        }
        name_end = c.at;
    }
    let name = value[name_start..name_end].trim();
    match c.bump() {
        Some('<') => {}
        Some(':') => return Err(AddressError::Group),
        Some(',') => return Err(AddressError::Several),
        None => return Err(AddressError::Malformed("a name without an address")),
        Some(_) => return Err(AddressError::Malformed("unexpected character")),
    }
    c.cfws()?;
    if c.peek() == Some('>') {
        return Err(AddressError::Empty);
    }
    let address = c.addr_spec()?;
    c.cfws()?;
    if c.bump() != Some('>') {
        return Err(AddressError::Malformed("unclosed <"));
    }
    c.cfws()?;
    match c.peek() {
        None => Ok(Mailbox {
            address,
            name: (!name.is_empty()).then(|| name.trim_matches('"').to_owned()),
        }),
        Some(',') => Err(AddressError::Several),
        Some(_) => Err(AddressError::Malformed("text after the address")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(v: &str) -> Result<String, AddressError> {
        parse_mailbox(v).map(|m| m.address)
    }

    #[test]
    fn well_formed_mailboxes() {
        assert_eq!(addr("a@Leadsie.COM").unwrap(), "a@leadsie.com");
        assert_eq!(
            addr("Leadsie <notifications@leadsie.com>").unwrap(),
            "notifications@leadsie.com"
        );
        assert_eq!(
            addr("\"Leadsie, Inc.\" <hi@leadsie.com.> (comment)").unwrap(),
            "hi@leadsie.com"
        );
        assert_eq!(
            addr("=?utf-8?q?L=C3=A9adsie?= <hi@leadsie.com>").unwrap(),
            "hi@leadsie.com"
        );
        assert_eq!(
            addr("Eve <\"eve smith\"@evil.example>").unwrap(),
            "\"eve smith\"@evil.example"
        );
        assert_eq!(addr("eve@localhost").unwrap(), "eve@localhost");
        // IDN: one canonical form.
        assert_eq!(addr("x@bücher.example").unwrap(), "x@xn--bcher-kva.example");
        // A Cyrillic look-alike is not the ASCII domain.
        assert_ne!(addr("x@leadsiе.com").unwrap(), "x@leadsie.com");
    }

    #[test]
    fn anything_but_one_mailbox_is_refused() {
        for bad in [
            "",
            "   ",
            "Eve <>",
            "undisclosed-recipients:;",
            "Team: a@x.com, b@y.com;",
            "<eve@evil.example> <notifications@leadsie.com>",
            "<eve@evil.example>@leadsie.com",
            "eve@evil.example, notifications@leadsie.com",
            "eve@evil.example notifications@leadsie.com",
            "Leadsie notifications@leadsie.com",
            "<@route.example:a@leadsie.com>",
            "a@[127.0.0.1]",
            "a@leadsie..com",
            "a@-leadsie.com",
            "<a@leadsie.com",
            "a@leadsie.com (unclosed",
            "\"unclosed <a@leadsie.com>",
        ] {
            assert!(parse_mailbox(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
