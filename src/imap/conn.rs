//! One authenticated IMAP session: TCP, then implicit TLS, STARTTLS or
//! (loopback only) plaintext, then LOGIN or XOAUTH2. Every step has a
//! timeout, and every failure says what to check.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use async_imap::{Client, Session};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{ClientConfig, pki_types::ServerName};

use crate::config::{ImapSettings, Security};

/// Headers are fetched this many UIDs at a time.
pub(super) const UID_WINDOW: u32 = 2000;
/// Bounded commands in the longest after-processing action: COPY, STORE
/// and EXPUNGE, two of them with a reply stream to drain.
pub(super) const AFTER_PROCESSING_STEPS: u32 = 5;

/// The byte stream under an IMAP session.
#[derive(Debug)]
pub enum ImapConn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

pub type ImapSession = Session<ImapConn>;

impl AsyncRead for ImapConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ImapConn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            ImapConn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ImapConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ImapConn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            ImapConn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ImapConn::Plain(s) => Pin::new(s).poll_flush(cx),
            ImapConn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ImapConn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            ImapConn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The TLS client configuration: the certificate pinned by `tls_pin` if
/// set, else the CA in `ca_file`, else the public web roots.
pub fn tls_config(
    ca_file: Option<&Path>,
    pin: Option<&crate::tls::Pin>,
) -> Result<Arc<ClientConfig>> {
    crate::tls::client_config(crate::tls::IMAP, ca_file, pin)
}

/// Runs `fut` with a deadline; the error names what timed out.
pub async fn within<T, E>(
    limit: Duration,
    what: &str,
    fut: impl Future<Output = std::result::Result<T, E>>,
) -> Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r.map_err(|e| failed(what, anyhow!(e))),
        Err(_) => bail!(
            "IMAP {what}: no answer within {} s; the connection is presumed dead",
            limit.as_secs()
        ),
    }
}

/// Words an IMAP failure with one cause. A closed connection reads
/// "connection lost" whether a read saw the end (async-imap's
/// `ConnectionLost`) or a write hit a broken pipe or a reset, so the
/// operator sees the same words for the same event; and an I/O error is
/// printed once, not once by async-imap's wrapper and again as its source.
pub fn failed(what: &str, e: anyhow::Error) -> anyhow::Error {
    use async_imap::error::Error as ImapError;
    fn lost(e: &io::Error) -> bool {
        use io::ErrorKind::*;
        matches!(
            e.kind(),
            BrokenPipe | ConnectionReset | ConnectionAborted | UnexpectedEof | NotConnected
        )
    }
    let io = match e.downcast_ref::<ImapError>() {
        Some(ImapError::ConnectionLost) => {
            return anyhow!("IMAP {what} failed: connection lost (the server closed it)");
        }
        Some(ImapError::No(msg) | ImapError::Bad(msg)) => {
            return anyhow!(
                "IMAP {what} failed: the server said \"{}\"",
                server_said(msg)
            );
        }
        Some(ImapError::Io(io)) => Some(io),
        _ => e.downcast_ref::<io::Error>(),
    };
    match io {
        Some(io) if lost(io) => anyhow!("IMAP {what} failed: connection lost ({io})"),
        Some(io) => anyhow!("IMAP {what} failed: {io}"),
        None => e.context(format!("IMAP {what} failed")),
    }
}

/// A NO or BAD answer as the server wrote it, `[CODE] text`. async-imap
/// hands it over as Rust debug text (`code: Some(AuthenticationFailed),
/// info: Some("Authentication failed.")`), which no operator should read.
/// Text in any other shape is returned trimmed, as it came.
pub fn server_said(msg: &str) -> String {
    let msg = msg.trim();
    let Some(rest) = msg.strip_prefix("code: ") else {
        return msg.to_owned();
    };
    let Some((code, info)) = rest.split_once(", info: ") else {
        return msg.to_owned();
    };
    let code = match code {
        "None" => None,
        c => match c.strip_prefix("Some(").and_then(|c| c.strip_suffix(')')) {
            // `Other("X", …)` and the like: the word inside the quotes.
            Some(inner) if inner.starts_with("Other(") => {
                inner.split('"').nth(1).map(str::to_uppercase)
            }
            Some(inner) => Some(response_code(inner)),
            None => return msg.to_owned(),
        },
    };
    let info = match info {
        "None" => String::new(),
        i => match i
            .strip_prefix("Some(\"")
            .and_then(|i| i.strip_suffix("\")"))
        {
            Some(text) => text.replace("\\\"", "\"").replace("\\\\", "\\"),
            None => return msg.to_owned(),
        },
    };
    match code {
        Some(c) if info.is_empty() => format!("[{c}]"),
        Some(c) => format!("[{c}] {info}"),
        None => info,
    }
}

/// A response code as IMAP writes it, from its debug form: `ReadOnly` →
/// `READ-ONLY`, `UidNext(4)` → `UIDNEXT 4`; arguments other than one
/// number are left out.
fn response_code(debug: &str) -> String {
    let (name, args) = match debug.split_once('(') {
        Some((n, a)) => (n, a.strip_suffix(')').unwrap_or(a)),
        None => (debug, ""),
    };
    let word = match name {
        "ReadOnly" => "READ-ONLY".to_owned(),
        "ReadWrite" => "READ-WRITE".to_owned(),
        other => other.to_uppercase(),
    };
    if !args.is_empty() && args.bytes().all(|b| b.is_ascii_digit()) {
        format!("{word} {args}")
    } else {
        word
    }
}

/// How the session logs in, with the secret in hand.
pub enum Login<'a> {
    Password(&'a str),
    XOAuth2 { access_token: &'a str },
}

/// Connects, secures and logs in.
pub async fn open(
    s: &ImapSettings,
    tls: &Arc<ClientConfig>,
    login: Login<'_>,
) -> Result<ImapSession> {
    let server = format!("{}:{}", s.host, s.port);
    let limit = s.command_timeout;
    let tcp = match tokio::time::timeout(limit, TcpStream::connect((s.host.as_str(), s.port))).await
    {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => bail!(
            "cannot connect to IMAP server {server}: {e} (check {k}.host and {k}.port, and that the server is up)",
            k = s.key
        ),
        Err(_) => bail!(
            "cannot connect to IMAP server {server}: no answer within {} s",
            limit.as_secs()
        ),
    };
    tcp.set_nodelay(true).ok();
    let client = match s.security {
        Security::Tls => {
            let conn = handshake(tcp, s, tls, &server).await?;
            let mut c = Client::new(ImapConn::Tls(Box::new(conn)));
            greeting(&mut c, &server, limit).await?;
            c
        }
        Security::Plain => {
            let mut c = Client::new(ImapConn::Plain(tcp));
            greeting(&mut c, &server, limit).await?;
            c
        }
        Security::StartTls => {
            let mut c = Client::new(ImapConn::Plain(tcp));
            greeting(&mut c, &server, limit).await?;
            within(
                limit,
                "STARTTLS",
                c.run_command_and_check_ok("STARTTLS", None),
            )
            .await
            .with_context(|| {
                format!(
                    "{server} refused STARTTLS; use security = \"tls\" if it speaks TLS on connect"
                )
            })?;
            let ImapConn::Plain(tcp) = c.into_inner() else {
                unreachable!("the stream is plain until STARTTLS completes")
            };
            let conn = handshake(tcp, s, tls, &server).await?;
            Client::new(ImapConn::Tls(Box::new(conn)))
        }
    };
    let user = s.user.as_str();
    let session = match login {
        Login::Password(password) => {
            match tokio::time::timeout(limit, client.login(user, password)).await {
                Ok(Ok(session)) => session,
                Ok(Err((e, _))) => return Err(login_refused(user, &server, &s.described(), e)),
                Err(_) => bail!(
                    "IMAP login at {server}: no answer within {} s",
                    limit.as_secs()
                ),
            }
        }
        Login::XOAuth2 { access_token } => {
            let auth = XOAuth2 {
                response: format!("user={user}\x01auth=Bearer {access_token}\x01\x01"),
                sent: false,
            };
            match tokio::time::timeout(limit, client.authenticate("XOAUTH2", auth)).await {
                Ok(Ok(session)) => session,
                Ok(Err((e, _))) => return Err(login_refused(user, &server, &s.described(), e)),
                Err(_) => bail!(
                    "IMAP XOAUTH2 login at {server}: no answer within {} s",
                    limit.as_secs()
                ),
            }
        }
    };
    Ok(session)
}

fn login_refused(
    user: &str,
    server: &str,
    account: &str,
    e: async_imap::error::Error,
) -> anyhow::Error {
    match e {
        async_imap::error::Error::No(msg) | async_imap::error::Error::Bad(msg) => anyhow!(
            "login refused for {user} at {server}: \"{}\" (check the password or OAuth2 token source of {account})",
            server_said(&msg)
        ),
        other => failed(&format!("login for {user} at {server}"), anyhow!(other)),
    }
}

async fn handshake(
    tcp: TcpStream,
    s: &ImapSettings,
    tls: &Arc<ClientConfig>,
    server: &str,
) -> Result<TlsStream<TcpStream>> {
    let name = ServerName::try_from(
        s.host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
    )
    .with_context(|| format!("imap.host `{}` is not a valid TLS server name", s.host))?;
    let connector = TlsConnector::from(tls.clone());
    match tokio::time::timeout(s.command_timeout, connector.connect(name, tcp)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => {
            if let Some(refused) = crate::tls::refused(&e) {
                bail!("TLS with {server}: the server's certificate was refused: {refused}")
            }
            bail!(
                "TLS with {server} failed: {e} (is security = \"tls\" right for this port? 993 speaks TLS at once, 143 needs \"starttls\")"
            )
        }
        Err(_) => bail!(
            "TLS with {server}: no handshake within {} s",
            s.command_timeout.as_secs()
        ),
    }
}

async fn greeting(c: &mut Client<ImapConn>, server: &str, limit: Duration) -> Result<()> {
    use async_imap::imap_proto::{Response, Status};
    let first = match tokio::time::timeout(limit, c.read_response()).await {
        Ok(Ok(Some(r))) => r,
        Ok(Ok(None)) => bail!("{server} closed the connection before its IMAP greeting"),
        Ok(Err(e)) => bail!("{server}: reading the IMAP greeting failed: {e}"),
        Err(_) => bail!(
            "{server} sent no IMAP greeting within {} s (is it an IMAP server, and is security right?)",
            limit.as_secs()
        ),
    };
    match first.parsed() {
        Response::Data {
            status: Status::Ok | Status::PreAuth,
            ..
        } => Ok(()),
        Response::Data {
            status: Status::Bye,
            outcome,
        } => bail!(
            "{server} refused the connection: {}",
            outcome.information.as_deref().unwrap_or("BYE")
        ),
        other => bail!("{server} did not greet as an IMAP server: {other:?}"),
    }
}

/// The XOAUTH2 SASL exchange: send the token once; if the server answers
/// with an error challenge, send an empty line so it finishes with NO.
struct XOAuth2 {
    response: String,
    sent: bool,
}

impl async_imap::Authenticator for XOAuth2 {
    type Response = String;

    fn process(&mut self, _challenge: &[u8]) -> String {
        if std::mem::replace(&mut self.sent, true) {
            String::new()
        } else {
            self.response.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_imap::error::Error as ImapError;

    #[test]
    fn refusals_read_as_the_server_wrote_them() {
        let cases = [
            (
                r#"code: Some(AuthenticationFailed), info: Some("Authentication failed.")"#,
                "[AUTHENTICATIONFAILED] Authentication failed.",
            ),
            (
                r#"code: None, info: Some("Mailbox doesn't exist: Zug\"e")"#,
                r#"Mailbox doesn't exist: Zug"e"#,
            ),
            (
                r#"code: Some(Other("OVERQUOTA", None)), info: Some("Quota")"#,
                "[OVERQUOTA] Quota",
            ),
            ("code: Some(UidNext(4)), info: None", "[UIDNEXT 4]"),
            (
                r#"code: Some(ReadOnly), info: Some("Select completed")"#,
                "[READ-ONLY] Select completed",
            ),
            (
                "code: Some(PermanentFlags([\"\\\\Seen\"])), info: None",
                "[PERMANENTFLAGS]",
            ),
            (" outcome: Bad ", "outcome: Bad"),
        ];
        for (debug, said) in cases {
            assert_eq!(server_said(debug), said, "{debug}");
        }
        let e = failed(
            "SELECT Zugänge",
            anyhow!(ImapError::No(cases[1].0.to_owned())),
        );
        assert_eq!(
            shown(e),
            r#"IMAP SELECT Zugänge failed: the server said "Mailbox doesn't exist: Zug"e""#
        );
    }

    fn shown(e: anyhow::Error) -> String {
        crate::render::error(&e)
    }

    #[test]
    fn a_closed_connection_reads_the_same_however_it_was_noticed() {
        let read = failed("IDLE", anyhow!(ImapError::ConnectionLost));
        let write = failed(
            "DONE (end of IDLE)",
            anyhow!(ImapError::Io(io::Error::from(io::ErrorKind::BrokenPipe))),
        );
        let reset = failed(
            "FETCH",
            anyhow!(io::Error::from(io::ErrorKind::ConnectionReset)),
        );
        for e in [read, write, reset] {
            assert!(shown(e).contains("connection lost"));
        }
    }

    #[test]
    fn an_io_error_is_printed_once_and_other_errors_keep_their_cause() {
        let e = shown(failed(
            "LOGIN",
            anyhow!(ImapError::Io(io::Error::other("tls alert"))),
        ));
        assert_eq!(e, "IMAP LOGIN failed: tls alert");
        let e = shown(failed(
            "SELECT",
            anyhow!(ImapError::No("no such folder".into())),
        ));
        assert_eq!(e, "IMAP SELECT failed: the server said \"no such folder\"");
    }
}
