//! Checks more than one section shares: secrets go over https, pinned
//! certificates, domain names.

use super::error::{ConfigError, invalid};

/// A URL that carries a secret (a signed body, a Slack webhook's key, a
/// refresh token) goes over https, or plain http only to a loopback host —
/// unless its section (`section.0`) says `insecure = true`, which is then
/// noted in `insecure`.
pub(super) fn check_https(
    key: &str,
    url: &reqwest::Url,
    section: (&str, bool),
    insecure: &mut Vec<String>,
) -> Result<(), ConfigError> {
    let host = url.host_str().unwrap_or_default();
    if url.scheme() != "http" || is_loopback(host) {
        return Ok(());
    }
    let (table, allowed) = section;
    if !allowed {
        return Err(invalid(
            key,
            &format!(
                "http://{host} is not encrypted: anyone on the way can read what collabd sends there (codes, signatures, tokens); use https://, or set insecure = true in [{table}] to allow it anyway"
            ),
        ));
    }
    insecure.push(format!(
        "{key}: plain http to {host}, allowed by insecure = true in [{table}]"
    ));
    Ok(())
}

pub(super) fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A `tls_pin` setting: a certificate digest, for a connection with TLS,
/// and not beside a CA file, which it would silently overrule.
pub(super) fn tls_pin(
    key: &str,
    pin: Option<&str>,
    with_ca_file: bool,
    with_tls: bool,
) -> Result<Option<crate::tls::Pin>, ConfigError> {
    let Some(pin) = pin else {
        return Ok(None);
    };
    if with_ca_file {
        return Err(invalid(
            key,
            "is set beside a CA file; a pin trusts one certificate, a CA file the certificates its CA issued: keep one of them",
        ));
    }
    if !with_tls {
        return Err(invalid(key, "needs a connection with TLS"));
    }
    pin.parse().map(Some).map_err(|e: String| invalid(key, &e))
}

pub(super) fn check_domain(key: &str, d: &str) -> Result<String, ConfigError> {
    let d = d
        .trim()
        .trim_start_matches('@')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let ok = d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(d)
    } else {
        Err(invalid(
            key,
            &format!("`{d}` is not a domain name (write it as `example.com`)"),
        ))
    }
}
