//! DKIM and ARC verification over DNS with mail-auth, for the
//! [`DkimCheck`]s the pure classifier leaves: the one place collabd looks up
//! keys. A DNS failure is a temporary verdict, never a pass and never a drop.

use std::net::SocketAddr;
use std::time::Duration;

use mail_auth::arc::ArcError;
use mail_auth::common::crypto::CryptoError;
use mail_auth::dkim::DkimError;
use mail_auth::hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use mail_auth::{AuthenticatedMessage, DkimResult, DnsError, Error, MessageAuthenticator};

use crate::mail::auth::{self, AuthResults, parse_results};
use crate::mail::{DkimCheck, DkimVerdict, aligned, domain_within};

/// How long one verification may wait on DNS before it counts as a
/// temporary failure.
const DNS_BUDGET: Duration = Duration::from_secs(20);

/// Verifies signatures against DNS: the system's resolvers, or those of
/// `[trust] nameservers`. A clone shares the resolver and its cache.
#[derive(Clone)]
pub struct Verifier {
    auth: MessageAuthenticator,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Verifier")
    }
}

impl Verifier {
    /// A verifier using `nameservers`, or the system's (`/etc/resolv.conf`)
    /// when the list is empty.
    pub fn new(nameservers: &[SocketAddr]) -> anyhow::Result<Verifier> {
        let mut opts = ResolverOpts::default();
        opts.timeout = Duration::from_secs(4);
        opts.attempts = 2;
        let auth = if nameservers.is_empty() {
            match mail_auth::hickory_resolver::system_conf::read_system_conf() {
                Ok((config, _)) => MessageAuthenticator::new(config, opts),
                // No resolv.conf: every lookup will fail temporarily, and the
                // messages wait; the error says so when they do.
                Err(_) => {
                    MessageAuthenticator::new(ResolverConfig::from_name_servers(vec![]), opts)
                }
            }
        } else {
            let servers = nameservers
                .iter()
                .map(|addr| {
                    let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                    for c in &mut ns.connections {
                        c.port = addr.port();
                    }
                    ns
                })
                .collect();
            MessageAuthenticator::new(ResolverConfig::from_name_servers(servers), opts)
        }
        .map_err(|e| anyhow::anyhow!("cannot set up DNS for DKIM (trust.nameservers): {e}"))?;
        Ok(Verifier { auth })
    }

    /// Verifies `check`: each reported failure it leaves for ARC is
    /// explained by a trusted chain, and (when a signature is needed) a
    /// signature that passes and aligns with `check.domain`, or where ARC
    /// may vouch, a trusted chain whose first sealer saw one.
    pub async fn verify(&self, check: &DkimCheck) -> DkimVerdict {
        match tokio::time::timeout(DNS_BUDGET, self.verify_inner(check)).await {
            Ok(v) => v,
            Err(_) => DkimVerdict::TempError(format!(
                "DNS did not answer within {} s",
                DNS_BUDGET.as_secs()
            )),
        }
    }

    async fn verify_inner(&self, check: &DkimCheck) -> DkimVerdict {
        let Some(msg) = AuthenticatedMessage::parse(&check.message) else {
            return DkimVerdict::Fail("the message could not be read for DKIM".into());
        };
        let mut temp = None;
        let mut signature = if check.signature_needed {
            self.signature(&msg, &check.domain, &mut temp).await
        } else {
            Ok(String::new())
        };
        let chain = if check.arc && (signature.is_err() || !check.vouch_needed.is_empty()) {
            Some(self.trusted_chain(&msg, &check.arc_sealers).await)
        } else {
            None
        };

        // Every failure left for ARC must be explained, or the message is
        // rejected whatever its signature says.
        let mut notes = Vec::new();
        for f in &check.vouch_needed {
            let why = match &chain {
                Some(Ok(ch)) => match auth::first_sealer_vouches(&ch.first, f) {
                    Ok(()) => {
                        notes.push(format!("{}, which ARC vouches for", f.describe()));
                        continue;
                    }
                    Err(e) => format!("the ARC chain sealed by {} is valid, but {e}", ch.sealers),
                },
                Some(Err(ChainProblem::Temporary(e))) => return DkimVerdict::TempError(e.clone()),
                Some(Err(ChainProblem::Refused(e))) => e.clone(),
                None => "the message may not be vouched for by ARC".into(),
            };
            return DkimVerdict::Unvouched(format!(
                "{}, and no trusted ARC chain vouches for it: {why}",
                f.describe()
            ));
        }

        if let Err(seen) = &mut signature {
            match &chain {
                Some(Ok(ch)) if auth::first_sealer_saw_pass(&ch.first, &check.domain) => {
                    signature = Ok(format!("arc=pass sealed by {}", ch.sealers));
                }
                Some(Ok(ch)) => seen.push(format!(
                    "the ARC chain sealed by {} is valid, but its first results (i=1) record no pass for {}",
                    ch.sealers, check.domain
                )),
                Some(Err(ChainProblem::Temporary(e))) => temp = Some(e.clone()),
                Some(Err(ChainProblem::Refused(e))) => seen.push(e.clone()),
                None => {}
            }
        }
        match signature {
            Ok(pass) => {
                notes.insert(0, pass);
                notes.retain(|n| !n.is_empty());
                DkimVerdict::Pass(notes.join("; "))
            }
            Err(_) if temp.is_some() => DkimVerdict::TempError(temp.unwrap_or_default()),
            Err(seen) if seen.is_empty() => DkimVerdict::Fail("no DKIM signature".into()),
            Err(seen) => DkimVerdict::Fail(seen.join("; ")),
        }
    }

    /// The message's own signatures: `Ok` with what passed, aligned with
    /// `domain`, or `Err` with what each signature showed, in words a
    /// person reads. A DNS failure is left in `temp`.
    async fn signature(
        &self,
        msg: &AuthenticatedMessage<'_>,
        domain: &str,
        temp: &mut Option<String>,
    ) -> Result<String, Vec<String>> {
        let mut seen = Vec::new();
        // Signatures mail-auth set aside unverified: those with a body
        // length (`l=`) and those it could not read.
        for e in &msg.errors {
            if !e.name.eq_ignore_ascii_case(b"DKIM-Signature") {
                continue;
            }
            let parsed = mail_auth::dkim::Signature::parse(e.value).ok();
            let d = parsed.as_ref().map_or(String::new(), |s| signer(&s.d));
            seen.push(match (&e.header, parsed.as_ref()) {
                (Error::Dkim(DkimError::SignatureLength), Some(s)) if !d.is_empty() => {
                    partial_body(&d, s.l)
                }
                (err, _) if d.is_empty() => format!(
                    "a DKIM-Signature that cannot be read ({})",
                    error_in_words(err)
                ),
                (err, _) => format!(
                    "{d}'s signature (d={d}) cannot be read ({})",
                    error_in_words(err)
                ),
            });
        }
        for o in self.auth.verify_dkim(msg).await {
            // The set-aside ones, described above.
            let Some(sig) = o.signature() else {
                continue;
            };
            let d = signer(&sig.d);
            // A body-length limit (`l=`) signs only a prefix: anyone could
            // append a grant to a genuine message. Such a signature proves
            // nothing about the text collabd reads.
            if sig.l > 0 {
                seen.push(partial_body(&d, sig.l));
                continue;
            }
            match o.result() {
                DkimResult::Pass if aligned(&d, domain) => return Ok(format!("dkim=pass d={d}")),
                DkimResult::Pass => seen.push(format!(
                    "a valid signature by {d} (d={d}), which is not {domain}"
                )),
                DkimResult::TempError(e) => {
                    *temp = Some(format!(
                        "{d}'s key could not be looked up ({})",
                        dns_detail(e)
                    ));
                }
                r => seen.push(format!("{d}'s signature (d={d}): {}", in_words(r))),
            }
        }
        Err(seen)
    }

    /// The message's ARC chain, when it is valid and every seal in it is by
    /// one of `sealers`, with its first sealer's results. Who sealed is read
    /// before any DNS: an unlisted sealer ends it there. Every sealer must
    /// be listed, not only the first: a hop not listed could have changed
    /// the message after a trusted one recorded what it saw.
    async fn trusted_chain(
        &self,
        msg: &AuthenticatedMessage<'_>,
        sealers: &[String],
    ) -> Result<Chain, ChainProblem> {
        if msg.as_headers.is_empty() {
            return Err(ChainProblem::Refused("it carries no ARC seal".into()));
        }
        let mut names: Vec<String> = Vec::new();
        for seal in &msg.as_headers {
            let d = seal.header.d.trim_end_matches('.').to_ascii_lowercase();
            if !sealers.iter().any(|t| domain_within(&d, t)) {
                let listed = if sealers.is_empty() {
                    "which is not listed in [trust] arc_sealers (empty: no ARC seal is believed)"
                } else {
                    "which is not listed in [trust] arc_sealers"
                };
                return Err(ChainProblem::Refused(format!(
                    "it is ARC-sealed by {d}, {listed}; add {d} there if it is the server that forwards this mail to collabd"
                )));
            }
            if !names.contains(&d) {
                names.push(d);
            }
        }
        let sealers = names.join(", ");
        let arc = self.auth.verify_arc(msg).await;
        match arc.result() {
            DkimResult::Pass => {}
            DkimResult::TempError(e) => {
                return Err(ChainProblem::Temporary(format!(
                    "the keys of the ARC chain sealed by {sealers} could not be looked up ({})",
                    dns_detail(e)
                )));
            }
            r => {
                return Err(ChainProblem::Refused(format!(
                    "its ARC chain (sealed by {sealers}) is not valid: {}",
                    arc_in_words(r)
                )));
            }
        }
        let Some(first) = arc.sets().first() else {
            return Err(ChainProblem::Refused("its ARC chain has no sets".into()));
        };
        Ok(Chain {
            sealers,
            first: parse_results(&String::from_utf8_lossy(first.results.value), true),
        })
    }
}

/// A valid ARC chain sealed only by trusted sealers.
struct Chain {
    /// Who sealed it, for reasons.
    sealers: String,
    /// The first sealer's `ARC-Authentication-Results` (i=1): what it saw
    /// of the message as its sender sent it.
    first: AuthResults,
}

enum ChainProblem {
    /// DNS did not answer: judge again later.
    Temporary(String),
    Refused(String),
}

fn partial_body(d: &str, l: u64) -> String {
    format!(
        "{d}'s signature (d={d}) covers only the first {l} bytes of the body (l=): what follows them could have been added by anyone"
    )
}

/// A signature's or seal's `d=` as reasons name it.
fn signer(d: &str) -> String {
    d.trim_end_matches('.').to_ascii_lowercase()
}

/// What a DKIM result means, for a person.
fn in_words(r: &DkimResult) -> String {
    match r {
        DkimResult::Pass => "valid".into(),
        DkimResult::None => "none".into(),
        DkimResult::Neutral(e)
        | DkimResult::Fail(e)
        | DkimResult::PermError(e)
        | DkimResult::TempError(e) => error_in_words(e),
    }
}

/// What mail-auth found wrong with a signature or seal, for a person:
/// decided by the error, never by the library's own wording, which names
/// no one and means little to an operator ("Calculated body hash does not
/// match").
fn error_in_words(e: &Error) -> String {
    match e {
        Error::Dkim(DkimError::FailedBodyHashMatch) => {
            "the body was changed after it was signed".into()
        }
        Error::Crypto(CryptoError::FailedVerification) => {
            "the signed header fields were changed after signing, or the signature is forged".into()
        }
        Error::Dkim(DkimError::SignatureExpired) => "the signature has expired (x=)".into(),
        Error::Dkim(DkimError::RevokedPublicKey) => "its key has been revoked in DNS".into(),
        Error::Dkim(DkimError::FailedAuidMatch) => "its i= is outside its d= domain".into(),
        Error::Dkim(DkimError::SignatureLength) => {
            "it covers only part of the body (l=), so it proves nothing about the rest".into()
        }
        Error::Dkim(DkimError::UnsupportedVersion) => "its version (v=) is not DKIM1".into(),
        Error::Dkim(DkimError::UnsupportedAlgorithm) => {
            "its algorithm (a=) is not one collabd can verify".into()
        }
        Error::Dkim(DkimError::UnsupportedCanonicalization) => {
            "its canonicalization (c=) is not simple or relaxed".into()
        }
        Error::Dkim(DkimError::UnsupportedKeyType) => {
            "its key in DNS is of a type collabd cannot use (k=)".into()
        }
        Error::Crypto(CryptoError::IncompatibleAlgorithms) => {
            "its key in DNS does not fit its algorithm (a=)".into()
        }
        Error::Crypto(CryptoError::Library(e)) => {
            format!("the signature could not be checked ({e})")
        }
        Error::Dns(DnsError::RecordNotFound(_)) => "its key is not published in DNS".into(),
        Error::Dns(DnsError::InvalidRecordType) => {
            "its key record in DNS is not a DKIM key".into()
        }
        Error::Dns(DnsError::Resolver(e)) => format!("DNS failed ({e})"),
        Error::ParseError => "it, or its key record in DNS, is malformed".into(),
        Error::MissingParameters => "a required tag (d=, s=, b= or bh=) is missing".into(),
        Error::Base64 => "its b= or bh= is not valid base64".into(),
        Error::Arc(ArcError::FailedBodyHashMatch) => {
            "the body was changed after the last ARC seal".into()
        }
        Error::Arc(ArcError::BrokenChain) => "a set is missing or unreadable".into(),
        Error::Arc(ArcError::InvalidCV) => {
            "a sealer recorded the chain as already broken (cv=fail)".into()
        }
        Error::Arc(ArcError::InvalidInstance(i)) => format!("set i={i} is missing or repeated"),
        Error::Arc(ArcError::SignatureLength) => {
            "an ARC-Message-Signature covers only part of the body (l=), so it proves nothing about the rest".into()
        }
        Error::Arc(ArcError::SignatureExpired) => {
            "a seal or ARC message signature has expired (x=)".into()
        }
        Error::Arc(ArcError::ChainTooLong) => "it has more than 50 ARC sets".into(),
        Error::Arc(ArcError::HasHeaderTag) => {
            "an ARC-Seal carries an h= tag, which RFC 8617 forbids".into()
        }
        e => e.to_string(),
    }
}

/// Why a DNS look-up failed, as the resolver says it ("request timed
/// out"), without the library's wrapping.
fn dns_detail(e: &Error) -> String {
    match e {
        Error::Dns(DnsError::Resolver(why)) if !why.is_empty() => why.clone(),
        e => error_in_words(e),
    }
}

/// What an ARC result means, for a person.
fn arc_in_words(r: &DkimResult) -> String {
    match r {
        // Said of a chain, a failed signature is a seal's or the last
        // ARC-Message-Signature's.
        DkimResult::Neutral(Error::Crypto(CryptoError::FailedVerification))
        | DkimResult::Fail(Error::Crypto(CryptoError::FailedVerification))
        | DkimResult::PermError(Error::Crypto(CryptoError::FailedVerification)) => {
            "a seal or the last ARC message signature does not verify: the message or the chain was changed after sealing".into()
        }
        r => in_words(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every verdict reads as words an operator understands, decided by
    /// the error: never the library's own message.
    #[test]
    fn reasons_are_words_not_the_librarys_messages() {
        let errors = [
            Error::Dkim(DkimError::FailedBodyHashMatch),
            Error::Dkim(DkimError::SignatureLength),
            Error::Dkim(DkimError::SignatureExpired),
            Error::Dkim(DkimError::UnsupportedAlgorithm),
            Error::Dkim(DkimError::UnsupportedCanonicalization),
            Error::Dkim(DkimError::UnsupportedKeyType),
            Error::Dkim(DkimError::UnsupportedVersion),
            Error::Crypto(CryptoError::IncompatibleAlgorithms),
            Error::Dns(DnsError::InvalidRecordType),
            Error::MissingParameters,
            Error::Base64,
            Error::Arc(ArcError::FailedBodyHashMatch),
            Error::Arc(ArcError::SignatureLength),
            Error::Arc(ArcError::SignatureExpired),
            Error::Arc(ArcError::ChainTooLong),
            Error::Arc(ArcError::HasHeaderTag),
            Error::Arc(ArcError::BrokenChain),
            Error::Arc(ArcError::InvalidCV),
            Error::Arc(ArcError::InvalidInstance(2)),
        ];
        for e in errors {
            let library = e.to_string();
            for r in [
                DkimResult::Neutral(e.clone()),
                DkimResult::Fail(e.clone()),
                DkimResult::PermError(e.clone()),
            ] {
                for words in [in_words(&r), arc_in_words(&r)] {
                    assert!(!words.contains(&library), "{e:?}: {words}");
                    assert!(!words.to_ascii_lowercase().contains("neutral"), "{words}");
                }
            }
        }
        let neutral = DkimResult::Neutral(Error::Dkim(DkimError::FailedBodyHashMatch));
        assert_eq!(
            in_words(&neutral),
            "the body was changed after it was signed"
        );
        let partial = DkimResult::Neutral(Error::Arc(ArcError::SignatureLength));
        assert!(arc_in_words(&partial).contains("(l=)"));
        // A DNS failure says what the resolver said, not the wrapping.
        let timeout = Error::Dns(DnsError::Resolver("request timed out".into()));
        assert_eq!(dns_detail(&timeout), "request timed out");
    }

    #[test]
    fn a_partial_signature_names_its_signer() {
        let why = partial_body(&signer("Leadsie.COM."), 42);
        assert!(
            why.starts_with(
                "leadsie.com's signature (d=leadsie.com) covers only the first 42 bytes"
            ),
            "{why}"
        );
    }
}
