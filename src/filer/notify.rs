//! The `notify` filer: tells people to file the request, through
//! Slack-compatible webhooks and/or email. Its channels also announce
//! outcomes and reminders, whichever filer files.

use anyhow::Context;

use super::filing::{Filed, Filer, FilingRequest};
use crate::config::{NotifyChannels, WorkerSettings};
use crate::model::{PARTNER_DASHBOARD_URL, RequestState};
use crate::outbound::http_client;
use crate::queue::Failure;
use crate::store::browser::BrowserLedger;

/// Where `notify` sends its message by email.
#[derive(Debug, Clone)]
pub struct EmailChannel {
    pub transport: SmtpTransport,
    pub from: lettre::message::Mailbox,
    pub to: Vec<lettre::message::Mailbox>,
    /// `smtp_url`, to explain a refused certificate in the log as
    /// `check-config` does (what was wrong, and the setting that fixes it).
    pub relay_url: Option<String>,
}

pub type SmtpTransport = crate::relay::Relay;

/// The SMTP transport `[worker.notify]` describes: `smtp_url`, with the
/// password from its secret when the URL names only the user, and the
/// private CA in `smtp_ca_file` when set. Errors name the setting.
pub fn smtp_transport(
    s: &crate::config::SmtpSettings,
    timeout: std::time::Duration,
) -> anyhow::Result<SmtpTransport> {
    use anyhow::{Context as _, anyhow};
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    use lettre::{AsyncSmtpTransport, Tokio1Executor};
    let parsed = &s.url;
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(parsed.as_str()).map_err(|e| {
        anyhow!(
            "config setting worker.notify.smtp_url: {e} (write smtp://user@host:587?tls=required or smtps://user@host)"
        )
    })?;
    let user = percent_encoding::percent_decode_str(parsed.username())
        .decode_utf8_lossy()
        .into_owned();
    if let Some(password) = &s.password {
        builder = builder.credentials(Credentials::new(
            user.clone(),
            password.expose_str().into_owned(),
        ));
    }
    if let Some(pin) = &s.tls_pin {
        let inline = parsed.password().map(|p| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned()
        });
        let password = s.password.as_ref().map(|p| p.expose_str().into_owned());
        return Ok(crate::relay::Relay::Pinned(crate::relay::Pinned {
            host: parsed.host_str().unwrap_or_default().to_owned(),
            port: parsed
                .port()
                .unwrap_or(if parsed.scheme() == "smtps" { 465 } else { 587 }),
            implicit_tls: parsed.scheme() == "smtps",
            credentials: password.or(inline).map(|p| Credentials::new(user, p)),
            pin: pin.clone(),
            timeout,
        }));
    }
    let tls = parsed
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    let implicit_tls = parsed.scheme() == "smtps";
    // lettre's own default would be its compiled-in roots: TLS trusts the
    // system's store, and the CA in smtp_ca_file beside it.
    if s.ca_file.is_some() || implicit_tls || tls.is_some() {
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let mut params = system_trust(TlsParameters::builder(host));
        if let Some(path) = &s.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                anyhow!(
                    "worker.notify.smtp_ca_file: cannot read {}: {}",
                    path.display(),
                    crate::fs_error::reason(&e)
                )
            })?;
            let cert = Certificate::from_pem(&pem).map_err(|e| {
                anyhow!(
                    "worker.notify.smtp_ca_file: {} is not a PEM certificate file: {e}",
                    path.display()
                )
            })?;
            params = params.add_root_certificate(cert);
        }
        let params = params
            .build_rustls()
            .context("worker.notify.smtp_url: TLS setup")?;
        builder = builder.tls(match (implicit_tls, tls.as_deref()) {
            (true, _) => Tls::Wrapper(params),
            (_, Some("opportunistic")) => Tls::Opportunistic(params),
            _ => Tls::Required(params),
        });
    }
    Ok(crate::relay::Relay::Verified(
        builder.timeout(Some(timeout)).build(),
    ))
}

/// lettre's TLS told to trust the system's store ([`crate::tls::system_roots`]),
/// or the web roots compiled in when that store is empty.
fn system_trust(
    params: lettre::transport::smtp::client::TlsParametersBuilder,
) -> lettre::transport::smtp::client::TlsParametersBuilder {
    use lettre::transport::smtp::client::{Certificate, CertificateStore};
    let system = crate::tls::system_roots();
    if system.certs.is_empty() {
        return params.certificate_store(CertificateStore::WebpkiRoots);
    }
    let mut params = params.certificate_store(CertificateStore::None);
    for cert in &system.certs {
        // Already parsed once by rustls: one lettre refuses is skipped, as
        // the store skipped it.
        if let Ok(cert) = Certificate::from_der(cert.to_vec()) {
            params = params.add_root_certificate(cert);
        }
    }
    params
}

/// The channels of `[worker.notify]`, built: where operators are told to
/// file (the `notify` filer) and hear of outcomes and reminders (with any
/// filer). `None` without a `[worker.notify]` table.
pub fn announcer(w: &WorkerSettings) -> anyhow::Result<Option<NotifyFiler>> {
    w.notify
        .as_ref()
        .map(NotifyFiler::from_channels)
        .transpose()
}

/// The human-in-the-loop default: tells people to file the request — client,
/// store, code and the pre-filled dashboard links — through Slack-compatible
/// incoming webhooks and/or email. The request becomes `notified` until an
/// operator marks it or Shopify's reply arrives. Delivered if any channel
/// took it; retried if none did.
#[derive(Debug, Clone)]
pub struct NotifyFiler {
    client: reqwest::Client,
    slack: Vec<reqwest::Url>,
    email: Option<EmailChannel>,
    /// The Dev Dashboard organisation id, for its pre-filled link.
    dev_org_id: Option<String>,
}

impl NotifyFiler {
    /// The filer `[worker.notify]` describes. Errors name the setting.
    pub fn from_channels(n: &NotifyChannels) -> anyhow::Result<NotifyFiler> {
        let email = match &n.smtp {
            None => None,
            Some(smtp) => Some(EmailChannel {
                transport: smtp_transport(smtp, std::time::Duration::from_secs(30))?,
                relay_url: Some(smtp.url.to_string()),
                from: n
                    .email_from
                    .as_deref()
                    .unwrap_or_default()
                    .parse()
                    .context("config setting worker.notify.email_from is not an address")?,
                to: n
                    .email_to
                    .iter()
                    .map(|a| {
                        a.parse().with_context(|| {
                            format!(
                                "config setting worker.notify.email_to: `{a}` is not an address"
                            )
                        })
                    })
                    .collect::<anyhow::Result<_>>()?,
            }),
        };
        NotifyFiler::new(
            n.slack.clone(),
            email,
            n.dev_org_id.clone(),
            std::time::Duration::from_secs(15),
        )
        .context("cannot set up the notify filer's HTTP client")
    }

    /// The Slack-compatible webhooks it posts to.
    pub fn slack(&self) -> &[reqwest::Url] {
        &self.slack
    }

    /// Where it sends email, if anywhere.
    pub fn email(&self) -> Option<&EmailChannel> {
        self.email.as_ref()
    }

    pub fn new(
        slack: Vec<reqwest::Url>,
        email: Option<EmailChannel>,
        dev_org_id: Option<String>,
        timeout: std::time::Duration,
    ) -> Result<NotifyFiler, reqwest::Error> {
        let client = http_client(timeout)?;
        Ok(NotifyFiler {
            client,
            slack,
            email,
            dev_org_id,
        })
    }

    /// The message, in plain text. It carries the full code: the reader files it.
    /// What came from mail is kept to one line each, so a client name
    /// cannot add a line ("Collaborator code: …") of its own.
    pub fn message(&self, r: &FilingRequest) -> (String, String) {
        let client = crate::render::line(r.client_name.as_deref().unwrap_or("a client"));
        let subject = format!("Request access to {} ({client})", r.store_domain);
        let mut body = format!(
            "{client} shared their Shopify store through Leadsie.\n\n\
             Store: {}\nCollaborator code: {}\n",
            r.store_domain,
            r.collaborator_code.expose()
        );
        if let Some(email) = &r.client_email {
            body.push_str(&format!("Client email: {}\n", crate::render::line(email)));
        }
        if let Some(url) = &r.leadsie_request_url {
            body.push_str(&format!("Leadsie request:\n{}\n", crate::render::line(url)));
        }
        body.push_str(&format!(
            "\nRequest access in the Partner Dashboard:\n{PARTNER_DASHBOARD_URL}\n"
        ));
        if let Some(org) = &self.dev_org_id {
            body.push_str(&format!(
                "or in the Dev Dashboard:\nhttps://dev.shopify.com/dashboard/{org}/stores/collaborations/new?store_url={}\n",
                r.store_domain
            ));
        }
        body.push_str(&format!(
            "\nThen record it: collabd mark {} requested\n",
            r.id
        ));
        (subject, body)
    }
}

impl Filer for NotifyFiler {
    fn name(&self) -> &'static str {
        "notify"
    }

    async fn file(&self, r: &FilingRequest, _: &impl BrowserLedger) -> Result<Filed, Failure> {
        let (subject, body) = self.message(r);
        let (delivered, failed) = self.send(&subject, &body).await;
        let failed_text = if failed.is_empty() {
            String::new()
        } else {
            format!("; failed: {}", failed.join("; "))
        };
        if delivered.is_empty() {
            return Err(Failure::Transient(format!(
                "no notification channel took the message{failed_text}"
            )));
        }
        Ok(Filed {
            state: RequestState::Notified,
            detail: format!(
                "notified {} (store {}, code {}){failed_text}",
                delivered.join(" and "),
                r.store_domain,
                r.collaborator_code.masked()
            ),
        })
    }
}

impl NotifyFiler {
    /// Sends one message on every channel; returns what took it and what
    /// failed (each named, without secrets). Control characters are taken
    /// out here, whoever composed the message: the subject is one line (no
    /// header can be added through it), and Slack's `&`, `<`, `>` are
    /// escaped so no text becomes a link or an `@channel` mention.
    pub async fn send(&self, subject: &str, body: &str) -> (Vec<String>, Vec<String>) {
        let subject = crate::render::line(subject);
        let body = crate::render::text(body);

        let mut delivered = Vec::new();
        let mut failed = Vec::new();
        for url in &self.slack {
            let shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or("?"));
            let sent = self
                .client
                .post(url.clone())
                .header("Content-Type", "application/json")
                .body(
                    serde_json::json!({
                        "text": format!("*{}*\n{}", crate::render::slack(&subject), crate::render::slack(&body))
                    })
                    .to_string(),
                )
                .send()
                .await;
            match sent {
                Ok(resp) if resp.status().is_success() => {
                    delivered.push(format!("Slack webhook at {shown}"))
                }
                Ok(resp) if resp.status().is_redirection() => failed.push(format!(
                    "Slack webhook at {shown} answered {}, a redirect, which collabd does not follow; check worker.notify.slack_webhooks",
                    resp.status()
                )),
                Ok(resp) => failed.push(format!(
                    "Slack webhook at {shown} answered {}",
                    resp.status()
                )),
                Err(e) if e.is_timeout() => {
                    failed.push(format!("Slack webhook at {shown} timed out"))
                }
                Err(_) => failed.push(format!("Slack webhook at {shown} could not be reached")),
            }
        }
        if let Some(email) = &self.email {
            // Spam filters penalise mail without a Message-ID; lettre's
            // own would name this host, which may not be a real domain.
            let mut builder = lettre::Message::builder()
                .from(email.from.clone())
                .message_id(Some(message_id(email.from.email.domain())))
                .subject(subject.as_ref());
            for to in &email.to {
                builder = builder.to(to.clone());
            }
            let to_list = email
                .to
                .iter()
                .map(|m| m.email.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            match builder.singlepart(plain_text(&body)) {
                Ok(message) => match email.transport.send(message).await {
                    Ok(_) => delivered.push(format!("email to {to_list}")),
                    Err(e) => {
                        let url = email.relay_url.as_deref().and_then(|u| u.parse().ok());
                        let why = match (&e, &url) {
                            (crate::relay::RelayError::Smtp(smtp), Some(url)) => {
                                crate::relay::explain_refusal(
                                    smtp,
                                    url,
                                    std::time::Duration::from_secs(15),
                                )
                                .await
                            }
                            _ => None,
                        };
                        failed.push(format!(
                            "email to {to_list} failed: {}",
                            why.unwrap_or_else(|| e.to_string())
                        ));
                    }
                },
                Err(e) => failed.push(format!("email could not be built: {e}")),
            }
        }
        (delivered, failed)
    }
}

/// A Message-ID unique to this message, under the sender's own domain
/// (RFC 5322 §3.6.4).
fn message_id(domain: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let random = (crate::queue::jitter() * (1u64 << 53) as f64) as u64;
    format!("<collabd.{nanos:x}.{random:x}@{domain}>")
}

/// The notification as a text/plain part that every client shows as
/// written: 7-bit when it is ASCII with short lines (the message keeps
/// each link on a line of its own), else quoted-printable, never base64,
/// so a long link is wrapped with soft breaks a reader's client removes.
fn plain_text(body: &str) -> lettre::message::SinglePart {
    use lettre::message::header::{ContentTransferEncoding, ContentType};
    use lettre::message::{Body, SinglePart};
    let body = Body::new_with_encoding(body.to_owned(), ContentTransferEncoding::SevenBit)
        .unwrap_or_else(|_| {
            Body::new_with_encoding(body.to_owned(), ContentTransferEncoding::QuotedPrintable)
                .unwrap_or_else(Body::new)
        });
    SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(body)
}
