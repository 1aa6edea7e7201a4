//! Which server certificates collabd trusts, for the IMAP session, the
//! SMTP relay and HTTPS (webhooks, Slack, OAuth2): the system's trust store
//! ([`system_roots`]), the CA in a `ca_file`, or exactly one pinned
//! certificate (`tls_pin`), as `ssh` trusts a known host. A refusal says
//! what was wrong with the certificate and which setting fixes it. Knows
//! nothing of IMAP or SMTP beyond the names of their settings.
//!
//! The system's store is Debian's (`/etc/ssl/certs`, kept by
//! ca-certificates, with a company CA added by `update-ca-certificates`),
//! or the PEM file `SSL_CERT_FILE` or directories `SSL_CERT_DIR` name, as
//! for OpenSSL. Only when it holds no certificate at all does collabd fall
//! back to the web roots compiled into it (webpki-roots), and says so.
//!
//! A pin is `sha256:` and the SHA-256 of the server's certificate (DER) or
//! of its SubjectPublicKeyInfo, in hex (colons and case ignored, as
//! `openssl x509 -noout -fingerprint -sha256` prints it) or base64 (as
//! `openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`
//! gives it). collabd prints the certificate's digest in lowercase hex.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use sha2::{Digest, Sha256};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{
    WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature,
};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    self, CertificateError, ClientConfig, DigitallySignedStruct, OtherError, RootCertStore,
    SignatureScheme,
};

/// A pinned server certificate: the SHA-256 of its DER, or of its key's
/// SubjectPublicKeyInfo; either matches.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin([u8; 32]);

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", hex::encode(self.0))
    }
}

impl std::str::FromStr for Pin {
    type Err = String;

    fn from_str(s: &str) -> Result<Pin, String> {
        const FORM: &str = "write sha256: and the certificate's or its key's SHA-256 in hex or base64, as check-config prints it";
        let Some(value) = s
            .trim()
            .split_once(':')
            .filter(|(alg, _)| alg.eq_ignore_ascii_case("sha256"))
            .map(|(_, v)| v)
        else {
            return Err(format!("does not start with sha256: ({FORM})"));
        };
        let hexed: String = value.chars().filter(|c| *c != ':').collect();
        let bytes = if hexed.len() == 64 {
            hex::decode(&hexed).ok()
        } else {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(value)
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(value))
                .ok()
        };
        match bytes.and_then(|b| <[u8; 32]>::try_from(b).ok()) {
            Some(digest) => Ok(Pin(digest)),
            None => Err(format!("is not a SHA-256 digest ({FORM})")),
        }
    }
}

impl Pin {
    /// The pin of a certificate as collabd prints it: its own digest.
    pub fn of(cert: &CertificateDer<'_>) -> Pin {
        Pin(Sha256::digest(cert.as_ref()).into())
    }

    /// The pin of the certificate's key (SubjectPublicKeyInfo), if it parses.
    pub fn of_key(cert: &CertificateDer<'_>) -> Option<Pin> {
        let parsed = rustls::server::ParsedCertificate::try_from(cert).ok()?;
        Some(Pin(Sha256::digest(
            parsed.subject_public_key_info().as_ref(),
        )
        .into()))
    }

    pub fn matches(&self, cert: &CertificateDer<'_>) -> bool {
        *self == Pin::of(cert) || Pin::of_key(cert).as_ref() == Some(self)
    }
}

/// Names of the two settings a refusal points to, such as `imap.ca_file`
/// and `imap.tls_pin`.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub ca_file: &'static str,
    pub tls_pin: &'static str,
}

pub const IMAP: Settings = Settings {
    ca_file: "imap.ca_file",
    tls_pin: "imap.tls_pin",
};

pub const SMTP: Settings = Settings {
    ca_file: "worker.notify.smtp_ca_file",
    tls_pin: "worker.notify.smtp_tls_pin",
};

/// The client configuration: a pin if given, else the CA in `ca_file`, else
/// the system's trust store. rustls with the ring provider.
pub fn client_config(
    settings: Settings,
    ca_file: Option<&Path>,
    pin: Option<&Pin>,
) -> Result<Arc<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let trust = match pin {
        Some(pin) => Trust::Pinned(pin.clone()),
        None => {
            let roots = match ca_file {
                Some(path) => Arc::new(roots_from(settings.ca_file, path)?),
                None => system_roots().roots.clone(),
            };
            Trust::Roots(
                WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                    .build()
                    .context("TLS setup")?,
            )
        }
    };
    let verifier = Verifier {
        trust,
        settings,
        algorithms: provider.signature_verification_algorithms,
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS setup")?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The client configuration for HTTPS (webhooks, Slack, OAuth2 tokens):
/// the system's trust store, rustls with the ring provider.
pub fn https_config() -> ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring provides TLS 1.2 and 1.3")
        .with_root_certificates(system_roots().roots.clone())
        .with_no_client_auth()
}

/// The certificates collabd trusts when no `ca_file` or pin says otherwise,
/// and where they came from.
#[derive(Debug)]
pub struct SystemRoots {
    pub roots: Arc<RootCertStore>,
    /// The system's certificates as read, for a TLS client that takes
    /// certificates rather than a rustls store (lettre); empty when the
    /// compiled-in web roots stand in.
    pub certs: Vec<CertificateDer<'static>>,
    /// What went wrong reading the system's store, if anything, and what
    /// collabd did about it: for a warning in the log and in check-config.
    pub trouble: Option<String>,
}

/// The system's trust store, read once per process (a CA added later
/// counts from the next start); a warning is logged the first time if it
/// could not be read in full, or held nothing and the compiled-in web
/// roots stand in.
pub fn system_roots() -> &'static SystemRoots {
    static ROOTS: std::sync::OnceLock<SystemRoots> = std::sync::OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        let mut roots = RootCertStore::empty();
        let (added, _unusable) = roots.add_parsable_certificates(found.certs.iter().cloned());
        let certs = if added == 0 { Vec::new() } else { found.certs };
        let errors = found
            .errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        let trouble = if added == 0 {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            let why = if errors.is_empty() {
                "it holds no certificate".to_owned()
            } else {
                errors
            };
            Some(format!(
                "the system's trusted certificates could not be used ({why}): using the public web roots built into collabd instead, which no update or company CA reaches; install ca-certificates, or set SSL_CERT_FILE to a PEM bundle"
            ))
        } else if !errors.is_empty() {
            Some(format!(
                "some of the system's trusted certificates could not be read ({errors}); using the {added} that could"
            ))
        } else {
            None
        };
        if let Some(what) = &trouble {
            tracing::warn!("{what}");
        }
        SystemRoots {
            roots: Arc::new(roots),
            certs,
            trouble,
        }
    })
}

fn roots_from(setting: &str, path: &Path) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    let pem = std::fs::read(path).map_err(|e| {
        anyhow::anyhow!(
            "{setting}: cannot read {}: {}",
            path.display(),
            crate::fs_error::reason(&e)
        )
    })?;
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert = cert.with_context(|| {
            format!(
                "{setting}: {} is not a PEM certificate file",
                path.display()
            )
        })?;
        roots.add(cert).with_context(|| {
            format!(
                "{setting}: a certificate in {} is not usable",
                path.display()
            )
        })?;
    }
    if roots.is_empty() {
        bail!(
            "{setting}: {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        );
    }
    Ok(roots)
}

#[derive(Debug)]
enum Trust {
    Roots(Arc<WebPkiServerVerifier>),
    Pinned(Pin),
}

/// Verifies the certificate chain (or the pin), and every handshake
/// signature with the ring provider's algorithms whichever it is: a pinned
/// certificate is only as good as the proof that the server holds its key.
#[derive(Debug)]
struct Verifier {
    trust: Trust,
    settings: Settings,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let refused = match &self.trust {
            Trust::Pinned(pin) => match check_pin(self.settings, pin, end_entity) {
                Ok(()) => return Ok(ServerCertVerified::assertion()),
                Err(refused) => *refused,
            },
            Trust::Roots(webpki) => match webpki.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ) {
                Ok(v) => return Ok(v),
                Err(rustls::Error::InvalidCertificate(e)) => {
                    Refused::new(self.settings, Cause::Invalid(e), end_entity)
                }
                Err(other) => return Err(other),
            },
        };
        Err(rustls::Error::InvalidCertificate(CertificateError::Other(
            OtherError(Arc::new(refused)),
        )))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[derive(Debug)]
enum Cause {
    Invalid(CertificateError),
    NotPinned(Pin),
}

/// A refused server certificate: what was wrong, the pin that would trust
/// it, and the settings that fix it. Its text is the whole explanation.
#[derive(Debug)]
pub struct Refused {
    cause: Cause,
    presented: Pin,
    presented_key: Option<Pin>,
    settings: Settings,
}

/// Accepts exactly the pinned certificate (its digest or its key's).
pub fn check_pin(
    settings: Settings,
    pin: &Pin,
    cert: &CertificateDer<'_>,
) -> Result<(), Box<Refused>> {
    if pin.matches(cert) {
        Ok(())
    } else {
        Err(Box::new(Refused::new(
            settings,
            Cause::NotPinned(pin.clone()),
            cert,
        )))
    }
}

/// Explains a certificate error that arose elsewhere (in lettre's own
/// verifier, say), given the certificate the server presents.
pub fn explain(settings: Settings, e: &CertificateError, cert: &CertificateDer<'_>) -> Refused {
    Refused::new(settings, Cause::Invalid(e.clone()), cert)
}

/// The certificate error somewhere in an error's chain, if any.
pub fn certificate_error<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a CertificateError> {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(rustls::Error::InvalidCertificate(c)) = e.downcast_ref::<rustls::Error>() {
            return Some(c);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
        {
            next = Some(inner as &(dyn std::error::Error + 'static));
            continue;
        }
        next = e.source();
    }
    None
}

impl Refused {
    fn new(settings: Settings, cause: Cause, cert: &CertificateDer<'_>) -> Refused {
        Refused {
            cause,
            presented: Pin::of(cert),
            presented_key: Pin::of_key(cert),
            settings,
        }
    }

    /// The pin (certificate digest) of the certificate the server presented.
    pub fn presented(&self) -> &Pin {
        &self.presented
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Settings { ca_file, tls_pin } = self.settings;
        let pin = &self.presented;
        let trust_it = format!(
            "to trust exactly this certificate, check it is the server's and set {tls_pin} = \"{pin}\""
        );
        use CertificateError as E;
        match &self.cause {
            Cause::NotPinned(expected) => {
                let key = self
                    .presented_key
                    .as_ref()
                    .map(|k| format!(" (its key: {k})"))
                    .unwrap_or_default();
                write!(
                    f,
                    "it does not match {tls_pin}: expected {expected}, the server presented {pin}{key}; if the server's certificate was replaced on purpose, set {tls_pin} = \"{pin}\""
                )
            }
            Cause::Invalid(E::Expired | E::ExpiredContext { .. }) => {
                let when = match &self.cause {
                    Cause::Invalid(E::ExpiredContext { not_after, .. }) => {
                        format!(" on {}", date(*not_after))
                    }
                    _ => String::new(),
                };
                write!(
                    f,
                    "it expired{when}; renew it on the server (or, {trust_it}, which ignores its dates)"
                )
            }
            Cause::Invalid(E::NotValidYet | E::NotValidYetContext { .. }) => write!(
                f,
                "it is not valid yet; check this machine's clock and the server's (or, {trust_it})"
            ),
            Cause::Invalid(E::NotValidForName | E::NotValidForNameContext { .. }) => {
                let names = match &self.cause {
                    Cause::Invalid(E::NotValidForNameContext {
                        expected,
                        presented,
                    }) => format!(
                        " it is for {} and not for {}",
                        if presented.is_empty() {
                            "no name".to_owned()
                        } else {
                            presented.join(", ")
                        },
                        expected.to_str()
                    ),
                    _ => " it is for another name".to_owned(),
                };
                write!(
                    f,
                    "wrong name:{names}; connect by a name it holds (or, {trust_it})"
                )
            }
            Cause::Invalid(E::UnknownIssuer) => write!(
                f,
                "it was issued by a CA that is not trusted; set {ca_file} to the PEM file of the CA that issued it (or, {trust_it})"
            ),
            Cause::Invalid(E::Other(o)) if o.to_string().contains("CaUsedAsEndEntity") => write!(
                f,
                "it is self-signed and marked as a CA (CA:TRUE, as `openssl req -x509` makes it), which cannot be trusted through {ca_file} as a server's certificate; {trust_it}"
            ),
            Cause::Invalid(other) => write!(
                f,
                "{other}; set {ca_file} to the PEM file of the CA that issued it (or, {trust_it})"
            ),
        }
    }
}

impl std::error::Error for Refused {}

fn date(t: UnixTime) -> String {
    chrono::DateTime::from_timestamp(t.as_secs() as i64, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "an unknown date".to_owned())
}

/// The [`Refused`] somewhere in a TLS handshake error, if the certificate
/// was the problem.
pub fn refused<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    match certificate_error(e)? {
        CertificateError::Other(o) => o.0.downcast_ref::<Refused>(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_is_read_in_hex_with_or_without_colons_and_in_base64() {
        let digest = [0xabu8; 32];
        let hex = hex::encode(digest);
        let colons = hex
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap().to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(":");
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
        for text in [
            format!("sha256:{hex}"),
            format!("SHA256:{colons}"),
            format!("sha256:{b64}"),
            format!("sha256:{}", b64.trim_end_matches('=')),
        ] {
            let pin: Pin = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(pin, Pin(digest), "{text}");
            assert_eq!(pin.to_string(), format!("sha256:{hex}"));
        }
    }

    #[test]
    fn a_pin_that_is_not_a_sha256_digest_is_refused() {
        for text in ["", "abc", "sha1:abcd", "sha256:", "sha256:abcd", "md5:00"] {
            assert!(text.parse::<Pin>().is_err(), "{text}");
        }
    }

    #[test]
    fn a_refusal_names_what_was_wrong_and_the_setting_that_fixes_it() {
        let refusal = |cause| Refused {
            cause,
            presented: Pin([1; 32]),
            presented_key: Some(Pin([2; 32])),
            settings: IMAP,
        };
        let shown = refusal(Cause::Invalid(CertificateError::UnknownIssuer)).to_string();
        assert!(shown.contains("imap.ca_file") && shown.contains("imap.tls_pin"));
        let shown = refusal(Cause::NotPinned(Pin([3; 32]))).to_string();
        assert!(shown.contains(&Pin([3; 32]).to_string()), "{shown}");
        assert!(shown.contains(&Pin([1; 32]).to_string()), "{shown}");
        let shown = refusal(Cause::Invalid(CertificateError::Expired)).to_string();
        assert!(shown.contains("expired"), "{shown}");
    }
}
