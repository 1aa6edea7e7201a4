//! The notify filer's SMTP relay: lettre's pooled transport when the relay's
//! certificate is trusted through a CA, or, when `smtp_tls_pin` pins it, one
//! connection per message whose certificate is held to the pin before
//! anything is sent. Knows nothing of what the messages say.
//!
//! lettre 0.11 takes no rustls `ClientConfig` of ours, so a pinned relay is
//! reached with lettre's verifier told to accept any certificate — it still
//! checks the handshake's signatures against the certificate presented,
//! with the ring provider — and the certificate is then checked against the
//! pin by [`crate::tls::check_pin`] before AUTH or MAIL: only EHLO (and
//! STARTTLS) precede the check, and they carry no secret.

use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncTransport as _, Message};
use tokio_rustls::rustls::pki_types::CertificateDer;

use crate::tls::{self, Pin, Refused};

/// Where notification emails are handed over.
#[derive(Debug, Clone)]
pub enum Relay {
    /// Trusted through `smtp_ca_file` or the public roots.
    Verified(lettre::AsyncSmtpTransport<lettre::Tokio1Executor>),
    /// Trusted by `smtp_tls_pin`.
    Pinned(Pinned),
}

/// A relay whose certificate is pinned.
#[derive(Debug, Clone)]
pub struct Pinned {
    pub host: String,
    pub port: u16,
    /// `smtps://`: TLS from the first byte; else STARTTLS, required.
    pub implicit_tls: bool,
    pub credentials: Option<Credentials>,
    pub pin: Pin,
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("the relay's certificate was refused: {0}")]
    Refused(Box<Refused>),
}

impl Relay {
    /// Sends one message.
    pub async fn send(&self, message: Message) -> Result<(), RelayError> {
        match self {
            Relay::Verified(t) => t.send(message).await.map(|_| ()).map_err(Into::into),
            Relay::Pinned(p) => {
                let mut conn = p.connect().await?;
                let sent = conn.send(message.envelope(), &message.formatted()).await;
                let _ = conn.quit().await;
                sent.map(|_| ()).map_err(Into::into)
            }
        }
    }

    /// Connects (and logs in) without sending anything.
    pub async fn test_connection(&self) -> Result<bool, RelayError> {
        match self {
            Relay::Verified(t) => Ok(t.test_connection().await?),
            Relay::Pinned(p) => {
                let mut conn = p.connect().await?;
                let _ = conn.quit().await;
                Ok(true)
            }
        }
    }
}

impl Pinned {
    async fn connect(&self) -> Result<AsyncSmtpConnection, RelayError> {
        let mut conn =
            tls_connection(&self.host, self.port, self.implicit_tls, self.timeout).await?;
        let presented = conn.peer_certificate()?;
        if let Err(refused) = tls::check_pin(tls::SMTP, &self.pin, &CertificateDer::from(presented))
        {
            conn.abort().await;
            return Err(RelayError::Refused(refused));
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await?;
        }
        Ok(conn)
    }
}

/// A TLS connection to the relay that accepts whatever certificate it
/// presents (signatures checked), for the caller to judge.
async fn tls_connection(
    host: &str,
    port: u16,
    implicit_tls: bool,
    timeout: Duration,
) -> Result<AsyncSmtpConnection, lettre::transport::smtp::Error> {
    let hello = ClientId::default();
    let params = TlsParameters::builder(host.to_owned())
        .dangerous_accept_invalid_certs(true)
        .build_rustls()?;
    if implicit_tls {
        AsyncSmtpConnection::connect_tokio1((host, port), Some(timeout), &hello, Some(params), None)
            .await
    } else {
        let mut conn =
            AsyncSmtpConnection::connect_tokio1((host, port), Some(timeout), &hello, None, None)
                .await?;
        conn.starttls(params, &hello).await?;
        Ok(conn)
    }
}

/// For a certificate lettre refused: what was wrong with it, and the pin
/// that would trust it, from a second look at the certificate. `None` when
/// the error was not the certificate's or the relay cannot be reached again.
pub async fn explain_refusal(
    e: &lettre::transport::smtp::Error,
    url: &reqwest::Url,
    timeout: Duration,
) -> Option<String> {
    let cause = tls::certificate_error(e)?;
    let host = url.host_str()?;
    let implicit_tls = url.scheme() == "smtps";
    let port = url.port().unwrap_or(if implicit_tls { 465 } else { 587 });
    let conn = tls_connection(host, port, implicit_tls, timeout)
        .await
        .ok()?;
    let presented = conn.peer_certificate().ok()?;
    Some(tls::explain(tls::SMTP, cause, &CertificateDer::from(presented)).to_string())
}
