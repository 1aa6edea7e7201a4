//! Domain rules: a domain within a trusted one (never a look-alike), and
//! two domains aligned the way DMARC aligns them.

/// `domain` is `trusted` or one of its subdomains; never a look-alike such as
/// `leadsie.com.evil.example` or `leadsie-support.com`.
pub fn domain_within(domain: &str, trusted: &str) -> bool {
    let domain = domain.trim_end_matches('.');
    domain.eq_ignore_ascii_case(trusted)
        || (domain.len() > trusted.len()
            && domain.as_bytes()[domain.len() - trusted.len() - 1] == b'.'
            && domain[domain.len() - trusted.len()..].eq_ignore_ascii_case(trusted))
}

/// DMARC's relaxed alignment, near enough: one domain is the other or a
/// subdomain of it (`mail.leadsie.com` and `leadsie.com`).
pub fn aligned(a: &str, b: &str) -> bool {
    domain_within(a, b) || domain_within(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alike_domains_are_not_trusted() {
        assert!(domain_within("leadsie.com", "leadsie.com"));
        assert!(domain_within("mail.leadsie.com", "leadsie.com"));
        assert!(domain_within("LEADSIE.COM.", "leadsie.com"));
        assert!(!domain_within("leadsie-support.com", "leadsie.com"));
        assert!(!domain_within("leadsie.com.evil.example", "leadsie.com"));
        assert!(!domain_within("evilleadsie.com", "leadsie.com"));
    }
}
