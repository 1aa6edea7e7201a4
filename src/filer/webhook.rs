//! The `webhook` filer: a POST of the request as JSON, signed with
//! HMAC-SHA256, to the operator's endpoint; the status code decides.

use super::filing::{Filed, Filer, FilingRequest, captured};
use crate::model::RequestState;
use crate::outbound::{http_client, redirect_target, shown_url};
use crate::queue::Failure;
use crate::secret::Secret;
use crate::store::browser::BrowserLedger;

/// POSTs the request as JSON to the operator's endpoint, with
/// `Idempotency-Key` and an HMAC-SHA256 signature over the exact body
/// (`X-Collabd-Signature: sha256=<hex>`). 2xx means filed; 408, 429, 5xx,
/// timeouts and connection errors are retried; other 4xx are permanent.
#[derive(Debug, Clone)]
pub struct WebhookFiler {
    client: reqwest::Client,
    url: reqwest::Url,
    secret: Secret,
}

/// HMAC-SHA256 of `body` under `secret`, as the signature header carries it.
pub fn signature(secret: &Secret, body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.expose())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl WebhookFiler {
    /// The endpoint it posts to.
    pub fn url(&self) -> &reqwest::Url {
        &self.url
    }

    pub fn new(
        url: reqwest::Url,
        secret: Secret,
        timeout: std::time::Duration,
    ) -> Result<WebhookFiler, reqwest::Error> {
        let client = http_client(timeout)?;
        Ok(WebhookFiler {
            client,
            url,
            secret,
        })
    }
}

impl Filer for WebhookFiler {
    fn name(&self) -> &'static str {
        "webhook"
    }

    async fn file(&self, r: &FilingRequest, _: &impl BrowserLedger) -> Result<Filed, Failure> {
        let body = r.to_json().to_string();
        let sent = self
            .client
            .post(self.url.clone())
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", r.id.idempotency_key())
            .header(
                "X-Collabd-Signature",
                signature(&self.secret, body.as_bytes()),
            )
            .header("X-Collabd-Attempt", r.attempt.to_string())
            .body(body)
            .send()
            .await;
        let url = shown_url(&self.url);
        let response = match sent {
            Ok(response) => response,
            Err(e) if e.is_timeout() => {
                return Err(Failure::Transient(format!("webhook {url} timed out")));
            }
            Err(e) => {
                // reqwest's message can include the full URL; say what failed without it.
                let what = if e.is_connect() {
                    "could not connect"
                } else {
                    "request failed"
                };
                return Err(Failure::Transient(format!("webhook {url}: {what}")));
            }
        };
        let status = response.status();
        if status.is_redirection() {
            // Permanent: the same URL will redirect again.
            return Err(Failure::Permanent(format!(
                "webhook {url} answered {status}, a redirect to {}, which collabd does not follow (it would re-send the signed request there); set worker.webhook.url to the address that answers",
                redirect_target(&self.url, &response)
            )));
        }
        let text = response.text().await.unwrap_or_default();
        let said = captured(text.as_bytes(), b"", r.collaborator_code.expose());
        let said = said.replacen("; stdout: ", "; response: ", 1);
        if status.is_success() {
            Ok(Filed {
                state: RequestState::Requested,
                detail: format!("webhook {url} answered {status}{said}"),
            })
        } else if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
            Err(Failure::Transient(format!(
                "webhook {url} answered {status}{said}"
            )))
        } else {
            Err(Failure::Permanent(format!(
                "webhook {url} answered {status}{said}"
            )))
        }
    }
}
