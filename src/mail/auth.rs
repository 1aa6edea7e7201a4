//! Reads what `Authentication-Results` and `ARC-Authentication-Results`
//! headers say (RFC 8601), asymmetrically: a failure written anywhere
//! rejects (whoever wrote it, believing it costs an attacker nothing), while
//! a pass counts only from the receiving server's own authserv-id, on the
//! outer message, where RFC 8601 §5 has that server remove forgeries.

use mail_parser::Message;

use super::aligned;

/// What positive evidence a grant or outcome needs (`[trust] require`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Require {
    /// A DKIM signature collabd verified itself, aligned with the sender
    /// whose authentication counts for the route the message took.
    #[default]
    Dkim,
    /// `dmarc=pass` for the outer sender from `[trust] authserv_id`.
    Dmarc,
    /// No positive evidence; identity rules and reported failures still apply.
    None,
}

impl Require {
    pub fn as_str(self) -> &'static str {
        match self {
            Require::Dkim => "dkim",
            Require::Dmarc => "dmarc",
            Require::None => "none",
        }
    }
}

/// One `method=result` with its properties (`header.from=x`, `header.d=y`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodResult {
    pub method: String,
    pub result: String,
    pub props: Vec<(String, String)>,
}

impl MethodResult {
    fn prop(&self, key: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// The domain this result is about: header.from for DMARC, header.d
    /// (else the domain of header.i) for DKIM.
    fn domain(&self) -> Option<String> {
        let v = match self.method.as_str() {
            "dmarc" => self.prop("header.from"),
            "dkim" => self
                .prop("header.d")
                .or_else(|| self.prop("header.i").and_then(|i| i.rsplit('@').next())),
            _ => None,
        }?;
        super::address::canonical_domain(v.trim_matches(['"', '<', '>']))
    }
}

/// One parsed results header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResults {
    pub authserv_id: String,
    pub results: Vec<MethodResult>,
}

/// Strips RFC 5322 comments, which may sit anywhere in the value.
fn strip_comments(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    for c in v.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Parses an `Authentication-Results` value; for ARC's, the leading
/// `i=N;` is skipped. Lenient: a part it cannot read is left out.
pub fn parse_results(value: &str, arc: bool) -> Option<AuthResults> {
    let clean = strip_comments(value);
    let mut parts = clean.split(';').map(str::trim);
    if arc {
        parts.next()?; // i=N
    }
    let authserv_id = parts
        .next()?
        .split_whitespace()
        .next()?
        .to_ascii_lowercase();
    let mut results = Vec::new();
    for part in parts {
        let mut tokens = part.split_whitespace();
        let Some((method, result)) = tokens.next().and_then(|t| t.split_once('=')) else {
            continue;
        };
        let method = method.split('/').next().unwrap_or(method);
        let props = tokens
            .filter_map(|t| t.split_once('='))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.trim_matches('"').to_owned()))
            .collect();
        results.push(MethodResult {
            method: method.to_ascii_lowercase(),
            result: result.to_ascii_lowercase(),
            props,
        });
    }
    Some(AuthResults {
        authserv_id,
        results,
    })
}

/// Every results header of one message, ARC's included.
fn all_results<'m>(msg: &'m Message<'_>) -> impl Iterator<Item = AuthResults> + 'm {
    msg.headers().iter().filter_map(|h| {
        let name = h.name();
        let arc = name.eq_ignore_ascii_case("ARC-Authentication-Results");
        if !arc && !name.eq_ignore_ascii_case("Authentication-Results") {
            return None;
        }
        let raw = msg
            .raw_message
            .get(h.offset_start as usize..h.offset_end as usize)?;
        parse_results(&String::from_utf8_lossy(raw), arc)
    })
}

/// The first failure any results header reports for one of `domains`:
/// `dmarc=fail`, or `dkim=fail`. A failure that names no domain counts for
/// all of them. Looks at `msgs` (the outer message and every attached one).
pub fn reported_failure(msgs: &[&Message<'_>], domains: &[&str]) -> Option<String> {
    for msg in msgs {
        for ar in all_results(msg) {
            for r in &ar.results {
                if r.result != "fail" || !matches!(r.method.as_str(), "dmarc" | "dkim") {
                    continue;
                }
                let concerns = match r.domain() {
                    None => true,
                    Some(d) => domains.iter().any(|ours| aligned(&d, ours)),
                };
                if concerns {
                    let about = r.domain().unwrap_or_else(|| domains.join(", "));
                    return Some(format!(
                        "{} recorded {}=fail for {about}: the sender is forged or the message was altered",
                        ar.authserv_id, r.method
                    ));
                }
            }
        }
    }
    None
}

/// Whether the receiving server (`authserv_id`) recorded `method=pass` for
/// `domain` (aligned: the same organisation's domain) on this message.
pub fn trusted_pass(msg: &Message<'_>, authserv_id: &str, method: &str, domain: &str) -> bool {
    all_results(msg)
        .filter(|ar| ar.authserv_id.eq_ignore_ascii_case(authserv_id))
        .flat_map(|ar| ar.results)
        .any(|r| {
            r.method == method
                && r.result == "pass"
                && r.domain().is_some_and(|d| aligned(&d, domain))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_headers_are_read() {
        let ar = parse_results(
            " mx.agency.com; dkim=pass (2048-bit key) header.d=leadsie.com header.s=s1;\r\n spf=pass smtp.mailfrom=leadsie.com; dmarc=fail (p=REJECT) header.from=leadsie.com",
            false,
        )
        .unwrap();
        assert_eq!(ar.authserv_id, "mx.agency.com");
        assert_eq!(ar.results.len(), 3);
        assert_eq!(ar.results[0].domain().as_deref(), Some("leadsie.com"));
        assert_eq!(ar.results[2].result, "fail");
        let arc =
            parse_results("i=1; mx.google.com; dkim=pass header.i=@leadsie.com", true).unwrap();
        assert_eq!(arc.authserv_id, "mx.google.com");
        assert_eq!(arc.results[0].domain().as_deref(), Some("leadsie.com"));
    }
}
