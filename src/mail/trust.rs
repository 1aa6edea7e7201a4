//! Who may send what: the `[trust]` settings, normalised, and the domain
//! rules they are judged by (never a look-alike).

use super::auth::Require;
use super::domain::domain_within;
use super::sender::Sender;

/// Who may send what: the `[trust]` settings, normalised.
#[derive(Debug, Clone)]
pub struct TrustPolicy {
    pub leadsie_domains: Vec<String>,
    pub shopify_domains: Vec<String>,
    /// `None` allows any forwarder; otherwise domains or full addresses.
    pub forwarders: Option<Vec<String>>,
    /// What positive evidence a grant or outcome needs.
    pub require: Require,
    /// The receiving server's own authserv-id (RFC 8601 §5): the only
    /// `Authentication-Results` whose passes count.
    pub authserv_id: Option<String>,
    /// Domains whose ARC seals are believed for server-side auto-forwards.
    pub arc_sealers: Vec<String>,
}

impl Default for TrustPolicy {
    fn default() -> Self {
        TrustPolicy {
            leadsie_domains: vec!["leadsie.com".into()],
            shopify_domains: vec!["shopify.com".into()],
            forwarders: None,
            require: Require::default(),
            authserv_id: None,
            arc_sealers: Vec::new(),
        }
    }
}

impl TrustPolicy {
    pub fn is_leadsie(&self, s: &Sender) -> bool {
        self.leadsie_domains
            .iter()
            .any(|d| domain_within(s.domain(), d))
    }

    pub fn is_shopify(&self, s: &Sender) -> bool {
        self.shopify_domains
            .iter()
            .any(|d| domain_within(s.domain(), d))
    }

    /// Whether `s` shares a domain with a forwarder listed by address: a
    /// colleague of someone allowed to forward, whose forward is worth
    /// downloading to be refused with a reason, not ignored unread.
    pub fn forwarder_colleague(&self, s: &Sender) -> bool {
        self.forwarders.as_ref().is_some_and(|list| {
            list.iter().any(|rule| {
                rule.rsplit_once('@')
                    .is_some_and(|(_, domain)| domain.eq_ignore_ascii_case(s.domain()))
            })
        })
    }

    pub fn forwarder_allowed(&self, s: &Sender) -> bool {
        match &self.forwarders {
            None => true,
            Some(list) => list.iter().any(|rule| {
                if rule.contains('@') {
                    rule.eq_ignore_ascii_case(&s.address)
                } else {
                    domain_within(s.domain(), rule)
                }
            }),
        }
    }
}
