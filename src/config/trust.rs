//! `[trust]` and `[shopify]`: whose mail may make a request happen, how
//! its DKIM keys are looked up, and the operator's own patterns for
//! Shopify's replies. Validated into the [`TrustPolicy`] `mail` applies.

use crate::mail::{OutcomeRules, Require, TrustPolicy};
use crate::model::OutcomeResult;

use super::checks::check_domain;
use super::error::{ConfigError, invalid};
use super::raw::{RawShopify, RawTrust};

/// The trust policy and the DNS servers for DKIM look-ups (empty for the
/// system's). What `[trust]` leaves out is [`TrustPolicy::default`]'s.
pub(super) fn trust_settings(
    raw: RawTrust,
) -> Result<(TrustPolicy, Vec<std::net::SocketAddr>), ConfigError> {
    let defaults = TrustPolicy::default();
    let domains = |key: &str,
                   v: Option<Vec<String>>,
                   default: Vec<String>|
     -> Result<Vec<String>, ConfigError> {
        let list = v.unwrap_or(default);
        if list.is_empty() {
            return Err(invalid(key, "must name at least one domain"));
        }
        list.into_iter().map(|d| check_domain(key, &d)).collect()
    };
    let trust = TrustPolicy {
        leadsie_domains: domains(
            "trust.leadsie_domains",
            raw.leadsie_domains,
            defaults.leadsie_domains,
        )?,
        shopify_domains: domains(
            "trust.shopify_domains",
            raw.shopify_domains,
            defaults.shopify_domains,
        )?,
        forwarders: match raw.forwarders {
            None => defaults.forwarders,
            Some(list) => Some(
                list.into_iter()
                    .map(|f| {
                        let f = f.trim().to_ascii_lowercase();
                        match f.split_once('@') {
                            Some((local, domain)) if !local.is_empty() => {
                                check_domain("trust.forwarders", domain).map(|_| f.clone())
                            }
                            Some(_) => Err(invalid(
                                "trust.forwarders",
                                &format!("`{f}` is not an address or a domain"),
                            )),
                            None => check_domain("trust.forwarders", &f),
                        }
                    })
                    .collect::<Result<_, _>>()?,
            ),
        },
        require: match raw.require.as_deref() {
            None => defaults.require,
            Some("dkim") => Require::Dkim,
            Some("dmarc") => Require::Dmarc,
            Some("none") => Require::None,
            Some(other) => {
                return Err(invalid(
                    "trust.require",
                    &format!("`{other}` is not one of \"dkim\", \"dmarc\", \"none\""),
                ));
            }
        },
        authserv_id: match raw.authserv_id {
            Some(id)
                if id.trim().is_empty() || id.contains(char::is_whitespace) || id.contains(';') =>
            {
                return Err(invalid(
                    "trust.authserv_id",
                    "must be the receiving server's authserv-id, one word such as `mx.google.com`",
                ));
            }
            Some(id) => Some(id.trim().to_ascii_lowercase()),
            None => defaults.authserv_id,
        },
        arc_sealers: raw
            .arc_sealers
            .unwrap_or(defaults.arc_sealers)
            .into_iter()
            .map(|d| check_domain("trust.arc_sealers", &d))
            .collect::<Result<_, _>>()?,
    };
    if trust.require == Require::Dmarc && trust.authserv_id.is_none() {
        return Err(invalid(
            "trust.require",
            "\"dmarc\" needs [trust] authserv_id: only the receiving server's own Authentication-Results can vouch for a pass",
        ));
    }
    let nameservers = raw
        .nameservers
        .unwrap_or_default()
        .into_iter()
        .map(|n| {
            n.parse::<std::net::SocketAddr>()
                .or_else(|_| n.parse::<std::net::IpAddr>().map(|ip| (ip, 53).into()))
                .map_err(|_| {
                    invalid(
                        "trust.nameservers",
                        &format!("`{n}` is not an IP address or IP:port"),
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((trust, nameservers))
}

/// The operator's patterns for Shopify's replies, each checked to compile
/// as it will be matched (case-insensitively), then compiled once with the
/// built-in phrases.
pub(super) fn outcome_rules(raw: RawShopify) -> Result<OutcomeRules, ConfigError> {
    let mut outcome_patterns = Vec::new();
    for (key, result, list) in [
        (
            "shopify.granted_patterns",
            OutcomeResult::Granted,
            raw.granted_patterns,
        ),
        (
            "shopify.declined_patterns",
            OutcomeResult::Declined,
            raw.declined_patterns,
        ),
        (
            "shopify.revoked_patterns",
            OutcomeResult::Revoked,
            raw.revoked_patterns,
        ),
    ] {
        for p in list {
            let compiled = OutcomeRules::check_pattern(&p).map_err(|e| {
                invalid(
                    key,
                    &format!("`{p}` is not a valid regular expression: {e}"),
                )
            })?;
            outcome_patterns.push((result, compiled));
        }
    }
    OutcomeRules::with_compiled(outcome_patterns).map_err(|e| {
        invalid(
            "shopify",
            &format!("the patterns do not compile together: {e}"),
        )
    })
}
