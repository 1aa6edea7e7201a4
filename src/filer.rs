//! How the worker hands a request on: the [`Filer`] trait and its backends.
//! Every backend receives the request id as an idempotency key, so a retry
//! after a crash cannot become a second request downstream. Knows nothing of
//! the queue's SQL.

use std::fmt;
use std::future::Future;

use crate::model::{RequestId, RequestState, mask_code};
use crate::queue::Failure;
use crate::secret::Secret;
use crate::store::Request;

/// The Partner Dashboard form for a managed-store (collaborator) request;
/// `current` stands for the logged-in organisation.
pub const PARTNER_DASHBOARD_URL: &str =
    "https://partners.shopify.com/current/stores/new?store_type=managed_store";

/// What a filer is given: one request, as a person filing it would need it.
#[derive(Clone)]
pub struct FilingRequest {
    /// Also the idempotency key: the same request filed twice has the same id.
    pub id: RequestId,
    /// Which attempt this is (1-based).
    pub attempt: i64,
    pub store_domain: String,
    pub collaborator_code: String,
    pub client_name: Option<String>,
    pub client_email: Option<String>,
    pub leadsie_request_name: Option<String>,
    pub leadsie_request_url: Option<String>,
}

impl From<&Request> for FilingRequest {
    fn from(r: &Request) -> Self {
        FilingRequest {
            id: r.id,
            attempt: r.attempts,
            store_domain: r.store_domain.clone(),
            collaborator_code: r.collaborator_code.clone(),
            client_name: r.client_name.clone(),
            client_email: r.client_email.clone(),
            leadsie_request_name: r.leadsie_request_name.clone(),
            leadsie_request_url: r.leadsie_request_url.clone(),
        }
    }
}

/// `{:?}` never shows the whole code, so a debug log cannot leak it.
impl fmt::Debug for FilingRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilingRequest")
            .field("id", &self.id)
            .field("attempt", &self.attempt)
            .field("store_domain", &self.store_domain)
            .field("collaborator_code", &mask_code(&self.collaborator_code))
            .field("client_name", &self.client_name)
            .finish_non_exhaustive()
    }
}

/// A successful hand-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filed {
    /// `requested` when the request reached Shopify, `notified` when a
    /// person was told to file it.
    pub state: RequestState,
    /// What happened, for the request's timeline (no full code).
    pub detail: String,
}

/// A backend that files requests.
pub trait Filer: Send + Sync {
    /// The name shown in events and logs.
    fn name(&self) -> &'static str;

    /// Files one request. Errors say whether a retry can help; their message
    /// goes on the timeline and must not contain the full code.
    fn file(&self, request: &FilingRequest) -> impl Future<Output = Result<Filed, Failure>> + Send;
}

/// Records what would be filed and files nothing: for the demo and dry runs.
/// The request becomes `notified` — the log is the notification.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogFiler;

impl Filer for LogFiler {
    fn name(&self) -> &'static str {
        "log"
    }

    async fn file(&self, r: &FilingRequest) -> Result<Filed, Failure> {
        let code = mask_code(&r.collaborator_code);
        tracing::info!(
            request = %r.id,
            store = %r.store_domain,
            client = r.client_name.as_deref().unwrap_or("-"),
            code = %code,
            "log filer: would request collaborator access"
        );
        Ok(Filed {
            state: RequestState::Notified,
            detail: format!(
                "log filer (dry run): request access to {} with code {code} at {PARTNER_DASHBOARD_URL}, then `collabd mark {} requested`",
                r.store_domain, r.id
            ),
        })
    }
}

impl FilingRequest {
    /// The documented JSON body the `command` (and later `webhook`) filer
    /// sends. It carries the full code: the receiver must file it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "idempotency_key": format!("collabd-request-{}", self.id),
            "attempt": self.attempt,
            "store": self.store_domain,
            "collaborator_code": self.collaborator_code,
            "client": { "name": self.client_name, "email": self.client_email },
            "leadsie": { "request_name": self.leadsie_request_name, "request_url": self.leadsie_request_url },
            "links": { "partner_dashboard": PARTNER_DASHBOARD_URL },
        })
    }
}

/// Runs the operator's program with the request as JSON on stdin: exit 0
/// means filed, 75 (EX_TEMPFAIL) retry later, anything else a permanent
/// failure. `COLLABD_REQUEST_ID` and `COLLABD_IDEMPOTENCY_KEY` are set so the
/// program can refuse a duplicate. Its output goes on the request's timeline,
/// with the code masked.
///
/// The program starts with a clean environment: collabd's own holds its
/// secrets (`COLLABD_IMAP_PASSWORD`, `CREDENTIALS_DIRECTORY`, …), and a
/// program that handles mail-derived text should not be one bug away from
/// them. It gets `PATH`, `LANG`, `LC_ALL`, the `COLLABD_*` request variables,
/// and only the variables the operator names in `env`.
#[derive(Debug, Clone)]
pub struct CommandFiler {
    pub program: std::path::PathBuf,
    pub args: Vec<String>,
    pub timeout: std::time::Duration,
    /// Names of collabd's environment variables passed through to the
    /// program (`[worker.command] env`).
    pub env: Vec<String>,
}

/// `PATH` for the command filer when collabd itself has none.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

impl CommandFiler {
    /// The program's whole environment for request `r`.
    fn environment(&self, r: &FilingRequest) -> Vec<(String, std::ffi::OsString)> {
        let path = std::env::var_os("PATH")
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| DEFAULT_PATH.into());
        let mut env = vec![("PATH".to_owned(), path)];
        for name in ["LANG", "LC_ALL"]
            .into_iter()
            .chain(self.env.iter().map(String::as_str))
        {
            if let Some(value) = std::env::var_os(name) {
                env.push((name.to_owned(), value));
            }
        }
        // Last, so a passed-through variable of the same name cannot stand in.
        env.push(("COLLABD_REQUEST_ID".into(), r.id.to_string().into()));
        env.push((
            "COLLABD_IDEMPOTENCY_KEY".into(),
            format!("collabd-request-{}", r.id).into(),
        ));
        env.push(("COLLABD_ATTEMPT".into(), r.attempt.to_string().into()));
        env
    }
}

/// The most of a command's output kept on the timeline.
const OUTPUT_LIMIT: usize = 2000;

impl Filer for CommandFiler {
    fn name(&self) -> &'static str {
        "command"
    }

    async fn file(&self, r: &FilingRequest) -> Result<Filed, Failure> {
        use tokio::io::AsyncWriteExt;

        let program = self.program.display();
        let mut child = tokio::process::Command::new(&self.program)
            .args(&self.args)
            .env_clear()
            .envs(self.environment(r))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            // Its own process group, so a timeout can stop what it started too.
            .process_group(0)
            .spawn()
            // A program that cannot start will not start on retry either.
            .map_err(|e| {
                Failure::Permanent(format!(
                    "cannot run the command filer {program}: {e}; check [worker] command"
                ))
            })?;
        let pid = child.id();
        let body = r.to_json().to_string();
        if let Some(mut stdin) = child.stdin.take() {
            // A program that does not read its input is its own business;
            // the exit code still decides.
            let _ = stdin.write_all(body.as_bytes()).await;
        }
        let output = match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => {
                return Err(Failure::Transient(format!(
                    "the command filer {program} failed to run: {e}"
                )));
            }
            // Dropping the future kills the child (kill_on_drop); the group
            // kill reaches anything it started.
            Err(_) => {
                if let Some(pid) = pid {
                    kill_process_group(pid);
                }
                return Err(Failure::Transient(format!(
                    "the command filer {program} did not finish within {} s and was killed",
                    self.timeout.as_secs()
                )));
            }
        };
        let said = captured(&output.stdout, &output.stderr, &r.collaborator_code);
        match output.status.code() {
            Some(0) => Ok(Filed {
                state: RequestState::Requested,
                detail: format!("command exited 0{said}"),
            }),
            Some(75) => Err(Failure::Transient(format!(
                "command exited 75 (EX_TEMPFAIL){said}"
            ))),
            Some(code) => Err(Failure::Permanent(format!("command exited {code}{said}"))),
            None => Err(Failure::Transient(format!(
                "command was killed by a signal{said}"
            ))),
        }
    }
}

/// Sends SIGKILL to a process group, through kill(1) to avoid a libc binding.
fn kill_process_group(pgid: u32) {
    let result = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    if let Err(e) = result {
        tracing::warn!(pgid, error = %e, "could not kill the command filer's process group");
    }
}

/// The command's output for the timeline: trimmed, capped, code masked.
fn captured(stdout: &[u8], stderr: &[u8], code: &str) -> String {
    let mut text = String::new();
    for (name, bytes) in [("stdout", stdout), ("stderr", stderr)] {
        let s = String::from_utf8_lossy(bytes);
        let s = s.trim();
        if !s.is_empty() {
            text.push_str(&format!("; {name}: {s}"));
        }
    }
    if text.len() > OUTPUT_LIMIT {
        let mut cut = OUTPUT_LIMIT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    if code.is_empty() {
        text
    } else {
        text.replace(code, &mask_code(code))
    }
}

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

/// An endpoint as messages show it: scheme, host and path, without the
/// query or credentials, which often carry tokens.
pub fn shown_url(url: &reqwest::Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or("?"),
        url.path()
    )
}

/// HMAC-SHA256 of `body` under `secret`, as the signature header carries it.
pub fn signature(secret: &Secret, body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.expose())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The HTTP client for every request that carries a secret — a signed
/// webhook body, a Slack webhook (its path is its key, its body the code),
/// an OAuth2 refresh token. It follows no redirect: reqwest would re-send
/// the body and headers to whatever origin a `307` names, and send the old
/// URL (query tokens and all) as `Referer`. A redirect is reported instead,
/// so the operator fixes the URL.
pub fn http_client(timeout: std::time::Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("collabd/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .build()
}

/// Where a redirect answer points, as messages show it: its origin only,
/// since a redirect often keeps the path, and a Slack webhook's path is
/// its key.
pub fn redirect_target(from: &reqwest::Url, response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| from.join(l).ok())
        .map_or_else(
            || "nowhere (no Location)".to_owned(),
            |u| u.origin().ascii_serialization(),
        )
}

impl WebhookFiler {
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

    async fn file(&self, r: &FilingRequest) -> Result<Filed, Failure> {
        let body = r.to_json().to_string();
        let sent = self
            .client
            .post(self.url.clone())
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", format!("collabd-request-{}", r.id))
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
        let said = captured(text.as_bytes(), b"", &r.collaborator_code);
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

/// Where `notify` sends its message by email.
#[derive(Debug, Clone)]
pub struct EmailChannel {
    pub transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    pub from: lettre::message::Mailbox,
    pub to: Vec<lettre::message::Mailbox>,
}

pub type SmtpTransport = lettre::AsyncSmtpTransport<lettre::Tokio1Executor>;

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
    let parsed = &s.url;
    let mut builder = SmtpTransport::from_url(parsed.as_str()).map_err(|e| {
        anyhow!(
            "config setting worker.notify.smtp_url: {e} (write smtp://user@host:587?tls=required or smtps://user@host)"
        )
    })?;
    if let Some(password) = &s.password {
        let user = percent_encoding::percent_decode_str(parsed.username())
            .decode_utf8_lossy()
            .into_owned();
        builder = builder.credentials(Credentials::new(user, password.expose_str().into_owned()));
    }
    if let Some(path) = &s.ca_file {
        let pem = std::fs::read(path).with_context(|| {
            format!("worker.notify.smtp_ca_file: cannot read {}", path.display())
        })?;
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let cert = Certificate::from_pem(&pem).map_err(|e| {
            anyhow!(
                "worker.notify.smtp_ca_file: {} is not a PEM certificate file: {e}",
                path.display()
            )
        })?;
        let params = TlsParameters::builder(host)
            .add_root_certificate(cert)
            .build_rustls()
            .context("worker.notify.smtp_ca_file: TLS setup")?;
        let tls = parsed
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        builder = builder.tls(match (parsed.scheme(), tls.as_deref()) {
            ("smtps", _) => Tls::Wrapper(params),
            (_, Some("opportunistic")) => Tls::Opportunistic(params),
            _ => Tls::Required(params),
        });
    }
    Ok(builder.timeout(Some(timeout)).build())
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
            r.store_domain, r.collaborator_code
        );
        if let Some(email) = &r.client_email {
            body.push_str(&format!("Client email: {}\n", crate::render::line(email)));
        }
        if let Some(url) = &r.leadsie_request_url {
            body.push_str(&format!("Leadsie request: {}\n", crate::render::line(url)));
        }
        body.push_str(&format!(
            "\nRequest access in the Partner Dashboard: {PARTNER_DASHBOARD_URL}\n"
        ));
        if let Some(org) = &self.dev_org_id {
            body.push_str(&format!(
                "or in the Dev Dashboard: https://dev.shopify.com/dashboard/{org}/stores/collaborations/new?store_url={}\n",
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

    async fn file(&self, r: &FilingRequest) -> Result<Filed, Failure> {
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
                mask_code(&r.collaborator_code)
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
        use lettre::AsyncTransport;

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
            let mut builder = lettre::Message::builder()
                .from(email.from.clone())
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
            match builder.body(body.into_owned()) {
                Ok(message) => match email.transport.send(message).await {
                    Ok(_) => delivered.push(format!("email to {to_list}")),
                    Err(e) => failed.push(format!("email to {to_list} failed: {e}")),
                },
                Err(e) => failed.push(format!("email could not be built: {e}")),
            }
        }
        (delivered, failed)
    }
}
