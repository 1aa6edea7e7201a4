//! DKIM and ARC verification over DNS with mail-auth, for the
//! [`DkimCheck`]s the pure classifier leaves: the one place collabd looks up
//! keys. A DNS failure is a temporary verdict, never a pass and never a drop.

use std::net::SocketAddr;
use std::time::Duration;

use mail_auth::hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use mail_auth::{AuthenticatedMessage, DkimResult, MessageAuthenticator};

use crate::mail::auth::parse_results;
use crate::mail::{DkimCheck, DkimVerdict, aligned, domain_within};

/// How long one verification may wait on DNS before it counts as a
/// temporary failure.
const DNS_BUDGET: Duration = Duration::from_secs(20);

/// Verifies signatures against DNS: the system's resolvers, or those of
/// `[trust] nameservers`.
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

    /// Verifies `check`: a signature that passes and aligns with
    /// `check.domain`, or for an auto-forward an ARC chain sealed by a
    /// trusted sealer whose first results header vouches for the domain.
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
        let aligned = |d: &str| {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            aligned(&d, &check.domain)
        };
        let outputs = self.auth.verify_dkim(&msg).await;
        let mut temp = None;
        let mut seen = Vec::new();
        for o in &outputs {
            let d = o.signature().map(|s| s.d.clone()).unwrap_or_default();
            // A body-length limit (`l=`) signs only a prefix: anyone could
            // append a grant to a genuine message. Such a signature proves
            // nothing about the text collabd reads.
            if o.signature().is_some_and(|s| s.l > 0) {
                seen.push(format!(
                    "d={d}: signs only the first {} body bytes (l=)",
                    o.signature().map_or(0, |s| s.l)
                ));
                continue;
            }
            match o.result() {
                DkimResult::Pass if aligned(&d) => {
                    return DkimVerdict::Pass(format!("dkim=pass d={d}"));
                }
                DkimResult::TempError(e) => temp = Some(format!("d={d}: {e}")),
                r => seen.push(format!("d={d}: {}", short(r))),
            }
        }
        if !check.arc_sealers.is_empty() {
            let arc = self.auth.verify_arc(&msg).await;
            match arc.result() {
                DkimResult::Pass => {
                    // The first sealer saw the message as the original
                    // sender sent it; believe it only when it is trusted.
                    if let Some(first) = arc.sets().iter().min_by_key(|s| s.seal.header.i) {
                        let sealer = first.seal.header.d.to_ascii_lowercase();
                        let trusted = check.arc_sealers.iter().any(|t| domain_within(&sealer, t));
                        let vouches =
                            parse_results(&String::from_utf8_lossy(first.results.value), false)
                                .is_some_and(|ar| {
                                    ar.results.iter().any(|r| {
                                        r.result == "pass"
                                            && matches!(r.method.as_str(), "dkim" | "dmarc")
                                            && r.props.iter().any(|(k, v)| {
                                                matches!(
                                                    k.as_str(),
                                                    "header.d" | "header.from" | "header.i"
                                                ) && aligned(v.rsplit('@').next().unwrap_or(v))
                                            })
                                    })
                                });
                        if trusted && vouches {
                            return DkimVerdict::Pass(format!("arc=pass sealed by {sealer}"));
                        }
                        seen.push(format!(
                            "ARC sealed by {sealer}{}",
                            if trusted {
                                " does not vouch for the sender"
                            } else {
                                ", not in [trust] arc_sealers"
                            }
                        ));
                    }
                }
                DkimResult::TempError(e) => temp = Some(format!("ARC: {e}")),
                DkimResult::None => {}
                r => seen.push(format!("ARC: {}", short(r))),
            }
        }
        if let Some(t) = temp {
            return DkimVerdict::TempError(t);
        }
        if seen.is_empty() {
            DkimVerdict::Fail("no DKIM signature".into())
        } else {
            DkimVerdict::Fail(seen.join("; "))
        }
    }
}

fn short(r: &DkimResult) -> String {
    match r {
        DkimResult::Pass => "pass, but not aligned".into(),
        DkimResult::Neutral(e) => format!("neutral ({e})"),
        DkimResult::Fail(e) => format!("fail ({e})"),
        DkimResult::PermError(e) => format!("permerror ({e})"),
        DkimResult::TempError(e) => format!("temperror ({e})"),
        DkimResult::None => "none".into(),
    }
}
