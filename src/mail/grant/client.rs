//! Who granted the access: the client's name, email, request name and
//! Leadsie request link, from labelled lines ("Client: Acme") or else from
//! the subject ("Acme has granted you access").

use std::sync::LazyLock;

use memchr::memmem;

use super::labels::{labelled_value, strip_separators};
use super::lines::next_nonempty;
use crate::mail::link::host_of;

/// Marks the lines that may hold the Leadsie request link.
pub(super) static LEADSIE_URL: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new("leadsie.com/"));

/// The client details a Leadsie email gives, each when it gives it.
#[derive(Debug, Default)]
pub(super) struct ClientInfo {
    pub name: Option<String>,
    pub email: Option<String>,
    pub request_name: Option<String>,
    pub request_url: Option<String>,
}

const CLIENT_LABELS: &[&str] = &[
    "client name",
    "client",
    "company name",
    "company",
    "business name",
    "business",
];
const EMAIL_LABELS: &[&str] = &["client email", "email address", "email"];
const REQUEST_LABELS: &[&str] = &["request name", "access request", "request"];

/// Reads the client details from the lines (original case) and the
/// subject; `url_lines` marks the lines where a Leadsie link may stand.
pub(super) fn client_info(subject: &str, lines: &[&str], url_lines: &[bool]) -> ClientInfo {
    let mut info = ClientInfo::default();
    let mut lower = String::new();
    for (i, line) in lines.iter().enumerate() {
        if info.request_url.is_none() && url_lines[i] {
            info.request_url = line
                .split_whitespace()
                .map(|t| t.trim_matches(|c: char| "<>()[],;\"'".contains(c)))
                .find(|t| is_leadsie_url(t) && !t.to_ascii_lowercase().contains("unsubscribe"))
                .map(str::to_owned);
        }
        let body = line.trim_start_matches(['*', '-', '•', '|', '_', ' ']);
        if !body
            .as_bytes()
            .first()
            .is_some_and(|c| matches!(c.to_ascii_lowercase(), b'c' | b'e' | b'b' | b'r' | b'a'))
        {
            continue;
        }
        lower.clear();
        lower.push_str(body);
        lower.make_ascii_lowercase();
        // `rest` is a slice of `lower`, which is `body` ASCII-lower-cased:
        // the same bytes at the same offsets, so the value is cut from
        // `body` where `rest` stands in `lower` (its end too: emphasis
        // after the value is not part of it).
        let value_of = |rest: &str| {
            let start = rest.as_ptr() as usize - lower.as_ptr() as usize;
            strip_separators(&body[start..start + rest.len()])
                .trim()
                .to_owned()
        };
        if info.email.is_none()
            && let Some(rest) = EMAIL_LABELS
                .iter()
                .find_map(|lab| labelled_value(&lower, lab))
        {
            info.email = value_of(rest)
                .split_whitespace()
                .map(|t| {
                    t.trim_matches(|c: char| "<>()[],;\"'".contains(c))
                        .trim_start_matches("mailto:")
                })
                .find(|t| t.contains('@') && !t.to_ascii_lowercase().ends_with("leadsie.com"))
                .map(str::to_owned);
            continue;
        }
        if info.name.is_none()
            && let Some(rest) = CLIENT_LABELS
                .iter()
                .find_map(|lab| labelled_value(&lower, lab))
        {
            let v = if rest.is_empty() {
                next_nonempty(lines, i).map(|j| lines[j].trim().to_owned())
            } else {
                Some(value_of(rest))
            };
            info.name = v.filter(|v| !v.is_empty() && v.len() <= 120);
            continue;
        }
        if info.request_name.is_none()
            && let Some(rest) = REQUEST_LABELS
                .iter()
                .find_map(|lab| labelled_value(&lower, lab))
            && !rest.is_empty()
            && !rest.starts_with("http")
        {
            info.request_name = Some(value_of(rest));
        }
    }
    if info.name.is_none() {
        info.name = client_from_subject(strip_reply_prefixes(subject));
    }
    info
}

/// An http(s) URL whose host is leadsie.com or one of its subdomains; a URL
/// that merely contains "leadsie.com/" somewhere is not.
fn is_leadsie_url(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return false;
    };
    host_of(rest).is_some_and(|(host, _)| crate::mail::domain::domain_within(host, "leadsie.com"))
}

/// The client a Leadsie subject names: "Acme has granted you access",
/// "Acme connected their accounts", "New access from Acme". Matches words,
/// not patterns, to stay cheap.
fn client_from_subject(subject: &str) -> Option<String> {
    let lower = subject.to_ascii_lowercase();
    let words: Vec<(usize, &str)> = lower
        .split(' ')
        .scan(0, |pos, w| {
            let at = *pos;
            *pos += w.len() + 1;
            Some((at, w))
        })
        .filter(|(_, w)| !w.is_empty())
        .collect();
    let word = |i: usize| words.get(i).map_or("", |w| w.1);
    let mut name = None;
    for i in 1..words.len() {
        let (at, w) = words[i];
        let next = word(i + 1);
        let before = match w {
            "has" | "have" => matches!(
                next,
                "granted" | "given" | "shared" | "connected" | "just" | "approved"
            ),
            "granted" | "gave" => matches!(next, "you" | "access"),
            "shared" => next == "access",
            "connected" => matches!(next, "their" | "its" | "accounts" | "assets"),
            "is" | "are" => next == "now" && word(i + 2).starts_with("connected"),
            _ => false,
        };
        if before {
            name = Some(&subject[..at]);
            break;
        }
        let after = matches!(w, "from" | "by" | "for")
            && matches!(
                word(i - 1),
                "access" | "connection" | "assets" | "account" | "accounts" | "granted"
            );
        if after && i + 1 < words.len() {
            name = Some(&subject[words[i + 1].0..]);
            break;
        }
    }
    // "Order #12: Acme has granted you access" names Acme.
    let name = name?
        .rsplit(": ")
        .next()
        .unwrap_or("")
        .trim()
        .trim_end_matches(['!', '.'])
        .trim_matches('"')
        .trim();
    (!name.is_empty() && name.len() <= 120).then(|| name.to_owned())
}

/// `Fwd: Re: Fw: x` → `x`.
pub fn strip_reply_prefixes(mut s: &str) -> &str {
    loop {
        let t = s.trim_start();
        let lower = t.get(..4).unwrap_or("").to_ascii_lowercase();
        let cut = ["fwd:", "fw: ", "re: ", "tr: ", "wg: "]
            .iter()
            .find(|p| lower.starts_with(*p))
            .map(|p| p.trim_end().len());
        match cut {
            Some(n) => s = &t[n..],
            None => return t,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subject_names_the_client_when_no_line_does() {
        for (subject, client) in [
            ("Acme Co has granted you access", Some("Acme Co")),
            ("Order #12: Acme connected their accounts!", Some("Acme")),
            ("New access from Bistro Lumière", Some("Bistro Lumière")),
            ("Your weekly digest", None),
        ] {
            assert_eq!(client_from_subject(subject).as_deref(), client, "{subject}");
        }
        assert_eq!(strip_reply_prefixes("Fwd: RE: fw: Acme"), "Acme");
    }

    #[test]
    fn labelled_lines_give_the_client_details() {
        let lines = [
            "**Client:** Acme Co",
            "Email: <owner@acme.example>",
            "Request name: Shopify for Acme",
            "Open https://app.leadsie.com/r/abc and https://evil.example/leadsie.com/x",
        ];
        let info = client_info("", &lines, &[false, false, false, true]);
        assert_eq!(info.name.as_deref(), Some("Acme Co"));
        assert_eq!(info.email.as_deref(), Some("owner@acme.example"));
        assert_eq!(info.request_name.as_deref(), Some("Shopify for Acme"));
        assert_eq!(
            info.request_url.as_deref(),
            Some("https://app.leadsie.com/r/abc")
        );
        assert!(!is_leadsie_url("https://leadsie.com.evil.example/"));
    }

    /// The value keeps its own first and last letters whatever emphasis,
    /// quotes or separators stand around it, on either side.
    #[test]
    fn a_labelled_value_is_cut_where_it_stands() {
        for open in ["", "*", "**", "_", "__", "\"", "'"] {
            for close in ["", "*", "**", "_", "__", "\"", "'", "  "] {
                for sep in [":", " ->", " →", " =", " -", "："] {
                    let lines = [
                        format!("**Client{sep}** {open}Zephyr Outfitters{close}"),
                        format!("Request name{sep} {open}Shopify for Zephyr{close}"),
                    ];
                    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
                    let info = client_info("", &lines, &[false, false]);
                    // A closing quote that nothing opened is the value's own.
                    let stray = close.starts_with(['"', '\'']) && !open.starts_with(close);
                    let own = if stray { close } else { "" };
                    let name = format!("Zephyr Outfitters{own}");
                    let request = format!("Shopify for Zephyr{own}");
                    assert_eq!(info.name.as_deref(), Some(name.as_str()), "{lines:?}");
                    assert_eq!(
                        info.request_name.as_deref(),
                        Some(request.as_str()),
                        "{lines:?}"
                    );
                }
            }
        }
    }
}
