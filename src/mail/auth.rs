//! Reads what `Authentication-Results` and `ARC-Authentication-Results`
//! headers say (RFC 8601, parsed by [`results`]), asymmetrically: a failure
//! written anywhere rejects (whoever wrote it, believing it costs an
//! attacker nothing), while a pass counts only from the receiving server's
//! own authserv-id, on the outer message, where RFC 8601 §5 has that server
//! remove forgeries.
//!
//! One kind of failure is not believed outright: the one ARC explains
//! (RFC 8617 §7.2, the local policy large receivers apply). A forwarder
//! that changes a message breaks its sender's signature; if it ARC-sealed
//! the message after recording that signature's pass, a later `dkim=fail`
//! for the same signature (and the `dmarc=fail` it causes) is what the seal
//! vouches for. Whether a chain is valid needs DNS, so such failures are
//! left to the verifier ([`Failure`] on the `DkimCheck`), which passes the
//! message only if a chain sealed by `[trust] arc_sealers` vouches for each.

use mail_parser::Message;

use super::domain::aligned;

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

pub mod results;

pub use results::{AuthResults, MethodResult, parse_results};

/// The domain a DKIM or DMARC result is about: header.from for DMARC,
/// header.d (else the domain of header.i) for DKIM.
fn domain_of(r: &MethodResult) -> Option<String> {
    let v = match r.method.as_str() {
        "dmarc" => r.prop("header.from"),
        "dkim" => r.prop("header.d").or_else(|| r.prop("header.i")),
        _ => None,
    }?;
    let v = v.trim_matches(['"', '<', '>']);
    super::address::canonical_domain(v.rsplit('@').next().unwrap_or(v))
}

/// Every domain a DKIM result names for its signature: header.d and the
/// domain of header.i.
fn signature_domains(r: &MethodResult) -> Vec<String> {
    ["header.d", "header.i"]
        .iter()
        .filter_map(|k| r.prop(k))
        .filter_map(|v| {
            let v = v.trim_matches(['"', '<', '>']);
            super::address::canonical_domain(v.rsplit('@').next().unwrap_or(v))
        })
        .collect()
}

/// Whether two DKIM results are about the same signature: a domain in
/// common, and the same selector and `b=` prefix (RFC 6008) when both
/// name them.
fn same_signature(a: &MethodResult, b: &MethodResult) -> bool {
    let (da, db) = (signature_domains(a), signature_domains(b));
    let agree = |key: &str, prefix: bool| match (a.prop(key), b.prop(key)) {
        (Some(x), Some(y)) if prefix => x.starts_with(y) || y.starts_with(x),
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        _ => true,
    };
    da.iter().any(|d| db.contains(d)) && agree("header.s", false) && agree("header.b", true)
}

/// Every results header of one message, ARC's included (`true` beside
/// them).
fn all_results<'m>(msg: &'m Message<'_>) -> impl Iterator<Item = (bool, AuthResults)> + 'm {
    msg.headers().iter().filter_map(|h| {
        let name = h.name();
        let arc = name.eq_ignore_ascii_case("ARC-Authentication-Results");
        if !arc && !name.eq_ignore_ascii_case("Authentication-Results") {
            return None;
        }
        let raw = msg
            .raw_message
            .get(h.offset_start as usize..h.offset_end as usize)?;
        Some((arc, parse_results(&String::from_utf8_lossy(raw), arc)))
    })
}

/// Whether `msg` carries ARC sets (an `ARC-Seal` header): direct mail that
/// does is an auto-forward that dropped its Resent- or X-Forwarded- headers.
pub fn has_arc_sets(msg: &Message<'_>) -> bool {
    msg.headers()
        .iter()
        .any(|h| h.name().eq_ignore_ascii_case("ARC-Seal"))
}

/// One failure a results header reported about one of our domains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Who recorded it (empty when the header names no one).
    pub authserv_id: String,
    /// Recorded in an `ARC-Authentication-Results` header.
    pub arc: bool,
    /// That header's ARC set (`i=`), when it could be read.
    pub arc_instance: Option<u32>,
    /// The `dkim=fail` or `dmarc=fail`; `None` when the header could not
    /// be read and what was not read mentions a failure.
    pub result: Option<MethodResult>,
    /// The domain it is about, or the domains it may be about when it
    /// names none.
    pub about: String,
    /// Recorded on the outer message, the only one ARC can vouch for.
    pub outer: bool,
}

impl Failure {
    /// What was reported, for a reason: "mx.example recorded dkim=fail for
    /// leadsie.com".
    pub fn describe(&self) -> String {
        let set = match (self.arc, self.arc_instance) {
            (false, _) => String::new(),
            (true, Some(i)) => format!(" (ARC set i={i})"),
            (true, None) => " (an ARC set without a readable i=)".to_owned(),
        };
        let who = match self.authserv_id.as_str() {
            "" => format!("a server{set}"),
            id => format!("{id}{set}"),
        };
        match &self.result {
            Some(r) => format!("{who} recorded {}=fail for {}", r.method, self.about),
            None => format!(
                "{who} wrote results that cannot be read (an unclosed comment or quote, or text off the RFC 8601 grammar) and they mention a failure"
            ),
        }
    }

    /// Whether an ARC chain could explain this failure for mail from
    /// `sender`'s domain: a `dkim=fail` for a signature of the sender's
    /// domain, or a `dmarc=fail` for its From, recorded on the outer
    /// message after the first ARC set (the first sealer's own record is
    /// the one that must show the pass).
    fn arc_may_vouch(&self, sender: &str) -> bool {
        let Some(r) = &self.result else {
            return false;
        };
        self.outer
            && (!self.arc || self.arc_instance.is_some_and(|i| i > 1))
            && matches!(r.method.as_str(), "dkim" | "dmarc")
            && domain_of(r).is_some_and(|d| aligned(&d, sender))
    }
}

/// What the results headers of `msgs` (the outer message first, then every
/// attached one) report against `domains`: `dmarc=fail` or `dkim=fail` (a
/// failure that names no domain counts for all of them), or unreadable
/// text that mentions a failure.
///
/// `Err` is the reason to reject: a failure no ARC chain could explain.
/// `Ok` holds the failures that only an ARC chain can explain, to be
/// checked by the verifier; `arc` says whether the message's route lets
/// ARC vouch at all (a server-side auto-forward, or direct mail with ARC
/// sets), and `sender` is the original sender's domain. A recorded
/// `arc=fail` leaves nothing for ARC to explain.
pub fn reported_failures(
    msgs: &[&Message<'_>],
    domains: &[&str],
    sender: &str,
    arc: bool,
) -> Result<Vec<Failure>, String> {
    let mut failures = Vec::new();
    let mut arc_failed = None;
    for (n, msg) in msgs.iter().enumerate() {
        for (in_arc, ar) in all_results(msg) {
            let failure = |result: Option<MethodResult>, about: String| Failure {
                authserv_id: ar.authserv_id.clone(),
                arc: in_arc,
                arc_instance: ar.instance,
                result,
                about,
                outer: n == 0,
            };
            if ar.unread_failure {
                failures.push(failure(None, domains.join(", ")));
            }
            for r in &ar.results {
                if r.result != "fail" {
                    continue;
                }
                if r.method == "arc" && n == 0 && arc_failed.is_none() {
                    arc_failed = Some(failure(Some(r.clone()), "the message".into()));
                }
                if !matches!(r.method.as_str(), "dmarc" | "dkim") {
                    continue;
                }
                let about = domain_of(r);
                if about
                    .as_deref()
                    .is_none_or(|d| domains.iter().any(|ours| aligned(d, ours)))
                {
                    let about = about.unwrap_or_else(|| domains.join(", "));
                    failures.push(failure(Some(r.clone()), about));
                }
            }
        }
    }
    let forged = "the sender is forged or the message was altered";
    if let Some(f) = failures.iter().find(|f| !(arc && f.arc_may_vouch(sender))) {
        return Err(format!("{}: {forged}", f.describe()));
    }
    if let (Some(f), Some(a)) = (failures.first(), &arc_failed) {
        return Err(format!(
            "{}, and {}: no ARC chain can vouch for it; {forged}",
            f.describe(),
            a.describe()
        ));
    }
    Ok(failures)
}

/// Whether the first sealer's results (`first`, ARC set i=1) vouch for
/// `f`, a failure [`reported_failures`] left for ARC. For a `dkim=fail`:
/// a `dkim=pass` for the same signature. For a `dmarc=fail`: a
/// `dmarc=pass` for the same From domain, or a `dkim=pass` aligned with it,
/// which is what made DMARC pass before the forwarder changed the message
/// (RFC 7489 §3.1; SPF never survives a forward). `Err` says why not.
pub fn first_sealer_vouches(first: &AuthResults, f: &Failure) -> Result<(), String> {
    let Some(failed) = &f.result else {
        return Err("an unreadable failure cannot be vouched for".into());
    };
    if first.instance != Some(1) {
        return Err("its first results header is not ARC set i=1".into());
    }
    let passes = first.results.iter().filter(|r| r.result == "pass");
    let vouched = match failed.method.as_str() {
        "dkim" => passes
            .filter(|r| r.method == "dkim")
            .any(|r| same_signature(r, failed)),
        "dmarc" => {
            let from = domain_of(failed);
            passes
                .filter(|r| matches!(r.method.as_str(), "dkim" | "dmarc"))
                .any(|r| {
                    let d = domain_of(r);
                    match (r.method.as_str(), &d, &from) {
                        ("dmarc", Some(d), Some(from)) => d == from,
                        ("dkim", Some(d), Some(from)) => aligned(d, from),
                        _ => false,
                    }
                })
        }
        _ => false,
    };
    if vouched {
        return Ok(());
    }
    let who = if first.authserv_id.is_empty() {
        "the first sealer"
    } else {
        first.authserv_id.as_str()
    };
    Err(format!(
        "its first results (i=1, by {who}) record no {} for {}: the signature was already broken, or never there, when the message reached the first sealer",
        match failed.method.as_str() {
            "dkim" => "dkim=pass for that signature",
            _ => "dmarc=pass or aligned dkim=pass",
        },
        f.about
    ))
}

/// Whether the first sealer's results (`first`, ARC set i=1) record a
/// DKIM or DMARC pass aligned with `domain`: the sealer saw the message as
/// its sender signed it.
pub fn first_sealer_saw_pass(first: &AuthResults, domain: &str) -> bool {
    first.instance == Some(1)
        && first.results.iter().any(|r| {
            r.result == "pass"
                && matches!(r.method.as_str(), "dkim" | "dmarc")
                && domain_of(r).is_some_and(|d| aligned(&d, domain))
        })
}

/// Whether the receiving server (`authserv_id`) recorded `method=pass` for
/// `domain` (aligned: the same organisation's domain) on this message.
pub fn trusted_pass(msg: &Message<'_>, authserv_id: &str, method: &str, domain: &str) -> bool {
    // Only `Authentication-Results`: the receiving server removes forged
    // copies of those (RFC 8601 §5), not of ARC's, which anyone can write.
    all_results(msg)
        .filter(|(arc, ar)| !arc && ar.authserv_id.eq_ignore_ascii_case(authserv_id))
        .flat_map(|(_, ar)| ar.results)
        .any(|r| {
            r.method == method
                && r.result == "pass"
                && domain_of(&r).is_some_and(|d| aligned(&d, domain))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures(headers: &str, arc: bool) -> Result<Vec<Failure>, String> {
        let raw = format!(
            "{headers}From: Leadsie <notifications@leadsie.com>\r\nSubject: hi\r\n\r\nbody\r\n"
        )
        .replace("\n", "\r\n")
        .replace("\r\r", "\r");
        let msg = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        reported_failures(
            &[&msg],
            &["agency.example", "leadsie.com"],
            "leadsie.com",
            arc,
        )
    }

    #[test]
    fn results_headers_are_read() {
        let ar = parse_results(
            " mx.agency.com; dkim=pass (2048-bit key) header.d=leadsie.com header.s=s1;\r\n spf=pass smtp.mailfrom=leadsie.com; dmarc=fail (p=REJECT) header.from=leadsie.com",
            false,
        );
        assert_eq!(ar.authserv_id, "mx.agency.com");
        assert_eq!(ar.results.len(), 3);
        assert_eq!(domain_of(&ar.results[0]).as_deref(), Some("leadsie.com"));
        assert_eq!(ar.results[2].result, "fail");
        let arc = parse_results("i=1; mx.google.com; dkim=pass header.i=@leadsie.com", true);
        assert_eq!(arc.authserv_id, "mx.google.com");
        assert_eq!(domain_of(&arc.results[0]).as_deref(), Some("leadsie.com"));
    }

    #[test]
    fn a_failure_with_spaces_or_comments_around_its_equals_rejects() {
        for h in [
            "Authentication-Results: mx.agency.example; dmarc = fail header.from=leadsie.com\n",
            "Authentication-Results: mx.agency.example; dmarc (policy) = (was) fail header.from = \"leadsie.com\"\n",
            "Authentication-Results: mx.agency.example; spf=pass smtp.mailfrom=leadsie.com dkim=fail header.d=leadsie.com\n",
        ] {
            let why = failures(h, false).unwrap_err();
            assert!(why.contains("recorded"), "{why}");
            assert!(why.contains("=fail for leadsie.com"), "{why}");
        }
        let why = failures(
            "Authentication-Results: mx.agency.example; spf=pass (x@(evil) smtp.mailfrom=a; dmarc=fail header.from=leadsie.com\n",
            true,
        )
        .unwrap_err();
        assert!(why.contains("cannot be read"), "{why}");
        // Passes, and failures for someone else, are no failure of ours.
        assert_eq!(
            failures(
                "Authentication-Results: mx; dkim=pass header.d=leadsie.com; dkim=fail header.d=other.example\n",
                false
            ),
            Ok(vec![])
        );
    }

    #[test]
    fn only_failures_an_arc_chain_could_explain_are_left_for_it() {
        let broke = "Authentication-Results: mx.agency.example; dkim=fail header.i=@leadsie.com; dmarc=fail header.from=leadsie.com; arc=pass\n";
        // Where ARC may vouch, both wait for the verifier.
        let left = failures(broke, true).unwrap();
        assert_eq!(left.len(), 2);
        assert_eq!(
            left[0].describe(),
            "mx.agency.example recorded dkim=fail for leadsie.com"
        );
        // Elsewhere they reject.
        assert!(failures(broke, false).is_err());
        // A failure for the forwarder's domain, one that names no domain, or
        // one the first sealer itself recorded: nothing ARC could explain.
        for h in [
            "Authentication-Results: mx; dkim=fail header.d=agency.example\n",
            "Authentication-Results: mx; dmarc=fail\n",
            "ARC-Authentication-Results: i=1; mx.google.com; dkim=fail header.d=leadsie.com\n",
            "ARC-Authentication-Results: mx.google.com; dkim=fail header.d=leadsie.com\n",
        ] {
            assert!(failures(h, true).is_err(), "{h}");
        }
        // A later sealer's record of the same breakage is.
        assert_eq!(
            failures(
                "ARC-Authentication-Results: i=2; mx.agency.example; dkim=fail header.d=leadsie.com\n",
                true
            )
            .unwrap()
            .len(),
            1
        );
        // An arc=fail anywhere leaves nothing for ARC to explain.
        let why = failures(
            "Authentication-Results: mx.agency.example; dkim=fail header.d=leadsie.com; arc=fail\n",
            true,
        )
        .unwrap_err();
        assert!(why.contains("arc=fail"), "{why}");
    }

    #[test]
    fn the_first_sealer_vouches_only_for_what_it_saw_pass() {
        let failure = |h: &str| failures(h, true).unwrap().remove(0);
        let dkim = failure(
            "Authentication-Results: mx.agency.example; dkim=fail header.i=@leadsie.com header.s=s1 header.b=AbCdEf12\n",
        );
        let dmarc = failure(
            "Authentication-Results: mx.agency.example; dmarc=fail header.from=leadsie.com\n",
        );
        let first = |v: &str| parse_results(v, true);
        let seen = first(
            " i=1; mx.google.com; dkim=pass header.d=leadsie.com header.s=s1 header.b=AbCdEf; spf=pass",
        );
        assert_eq!(first_sealer_vouches(&seen, &dkim), Ok(()));
        assert_eq!(first_sealer_vouches(&seen, &dmarc), Ok(()));
        assert!(
            first_sealer_vouches(
                &first(" i=1; mx; dmarc=pass header.from=leadsie.com"),
                &dmarc
            )
            .is_ok()
        );
        for (aar, what) in [
            (
                " i=1; mx.google.com; dkim=fail header.d=leadsie.com",
                "a failure",
            ),
            (
                " i=1; mx.google.com; dkim=pass header.d=evil.example",
                "another domain",
            ),
            (
                " i=1; mx.google.com; dkim=pass header.d=leadsie.com header.s=s2",
                "another selector",
            ),
            (
                " i=1; mx.google.com; dkim=pass header.d=leadsie.com header.b=ZZZ",
                "another signature",
            ),
            (
                " i=2; mx.google.com; dkim=pass header.d=leadsie.com",
                "not the first set",
            ),
            (" i=1; mx.google.com; none", "nothing"),
        ] {
            let why = first_sealer_vouches(&first(aar), &dkim).unwrap_err();
            assert!(
                why.contains("leadsie.com") || why.contains("i=1"),
                "{what}: {why}"
            );
        }
        // DMARC needs a pass for the From domain, not any domain's.
        assert!(
            first_sealer_vouches(&first(" i=1; mx; dkim=pass header.d=evil.example"), &dmarc)
                .is_err()
        );
        assert!(first_sealer_saw_pass(&seen, "leadsie.com"));
        assert!(!first_sealer_saw_pass(&seen, "shopify.com"));
    }

    #[test]
    fn only_the_receiving_servers_own_header_grants_a_pass() {
        let raw = "ARC-Authentication-Results: i=1; mx.agency.example; dmarc=pass header.from=leadsie.com\r\nAuthentication-Results: mx.other.example; dmarc=pass header.from=leadsie.com\r\nFrom: a@leadsie.com\r\n\r\nx\r\n";
        let msg = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        assert!(!trusted_pass(
            &msg,
            "mx.agency.example",
            "dmarc",
            "leadsie.com"
        ));
        assert!(trusted_pass(
            &msg,
            "mx.other.example",
            "dmarc",
            "leadsie.com"
        ));
    }
}
