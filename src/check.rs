//! `collabd check-config`: validates the configuration, then tries each
//! configured connection and prints one line per check. Nothing is filed,
//! sent or changed: IMAP folders are EXAMINEd (read-only), webhooks get a
//! HEAD request, SMTP a connection test.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::config::{ConfigError, ImapAuth, Settings};
use crate::filer::{self, ConfiguredFiler, NotifyFiler};
use crate::imap::conn::{self, Login, within};
use crate::imap::mutf7;
use crate::render;

struct Report {
    failed: bool,
}

impl Report {
    /// One check's line. Server answers and the database's contents can
    /// carry text from mail: it is printed through [`render::line`].
    fn line(&mut self, ok: bool, what: &str, detail: impl std::fmt::Display) {
        let text = format!("{} {what}: {detail}", if ok { "ok  " } else { "FAIL" });
        println!("{}", render::line(&text));
        self.failed |= !ok;
    }

    /// Something that works but should not stay that way; not a failure.
    fn warn(&mut self, what: &str, detail: impl std::fmt::Display) {
        println!("{}", render::line(&format!("WARN {what}: {detail}")));
    }
}

/// Settings in `text` (a configuration file) whose value names a domain
/// that can only be an example: the agency domain the packaged file writes
/// (`youragency.com`), the names reserved for documentation (RFC 2606:
/// example.com, .net and .org) and the reserved top-level domains
/// `.example`, `.invalid` and `.test`. Key and the example domain (never
/// the whole value, which may hold a password or a token), ordered by key.
pub fn placeholders(text: &str, overrides: &[(String, String)]) -> Vec<(String, String)> {
    fn walk(prefix: &str, value: &toml::Value, found: &mut Vec<(String, String)>) {
        match value {
            toml::Value::String(s) => {
                if let Some(domain) = example_domain(s) {
                    found.push((prefix.to_owned(), domain));
                }
            }
            toml::Value::Array(items) => {
                for item in items {
                    walk(prefix, item, found);
                }
            }
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    // What is in effect: a value an environment override replaces is not
    // the file's placeholder any more.
    if let Some(table) = crate::config::env::effective_table(text, overrides) {
        walk("", &toml::Value::Table(table), &mut found);
    }
    found
}

/// The first domain-like word in `value` that is an example domain.
fn example_domain(value: &str) -> Option<String> {
    const PACKAGED: &[&str] = &["youragency.com"];
    const RESERVED: &[&str] = &["example.com", "example.net", "example.org"];
    const RESERVED_TLDS: &[&str] = &["example", "invalid", "test"];
    value
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .map(|w| w.trim_matches('.').to_ascii_lowercase())
        .filter(|w| w.contains('.'))
        .find(|domain| {
            let within = |d: &str| domain == d || domain.ends_with(&format!(".{d}"));
            PACKAGED.iter().chain(RESERVED).any(|d| within(d))
                || domain
                    .rsplit('.')
                    .next()
                    .is_some_and(|tld| RESERVED_TLDS.contains(&tld))
        })
}

/// Reports on `loaded` (the settings from `config`, or why they could not
/// be loaded), then tries each connection they name.
pub async fn run(config: Option<&Path>, loaded: Result<Settings, ConfigError>) -> ExitCode {
    let mut r = Report { failed: false };
    let settings = match loaded {
        Ok(s) => {
            r.line(
                true,
                "config",
                config.map_or_else(
                    || "no file given: defaults and environment".to_owned(),
                    |p| format!("{} is valid", p.display()),
                ),
            );
            s
        }
        Err(e) => {
            // A setting's error names the setting; say which file too.
            match (&e, config) {
                (ConfigError::Invalid { .. }, Some(p)) => {
                    r.line(false, "config", format!("{}: {e}", p.display()))
                }
                _ => r.line(false, "config", e),
            }
            return ExitCode::from(crate::cli::exit::EX_CONFIG);
        }
    };
    for what in &settings.insecure {
        r.warn(
            "insecure",
            format!("{what}; use TLS and remove insecure = true"),
        );
    }
    for what in &settings.exposed {
        r.warn("secrets", what.clone());
    }
    if let Some(text) = config.and_then(|p| std::fs::read_to_string(p).ok()) {
        for (key, domain) in placeholders(&text, &crate::config::env::overrides()) {
            r.warn(
                "placeholder",
                format!(
                    "{key} names {domain}, an example domain left from the packaged file; put your own value"
                ),
            );
        }
    }
    check_trust(&mut r, &settings.trust);
    match &settings.database_server {
        Some(server) => {
            match crate::store::Db::connect(&server.url, server.password.as_ref()).await {
                Ok(_) => r.line(
                    true,
                    "database",
                    format!("{} reachable, schema up to date", settings.database_shown()),
                ),
                Err(e) => r.line(false, "database", e),
            }
        }
        None => check_database(&mut r, &settings.database_path).await,
    }
    if settings.imap.is_empty() {
        r.line(true, "imap", "no [imap] table: no mailbox will be watched");
    }
    let several = settings.imap.len() > 1;
    for imap in &settings.imap {
        // One account keeps the plain labels; several name each one.
        let who = if several { imap.key.as_str() } else { "imap" };
        check_imap(&mut r, imap, who).await;
    }
    check_worker(&mut r, &settings).await;
    if let Some(http) = &settings.http {
        use crate::config::PageAccess;
        let scheme = if http.tls.is_some() { "https" } else { "http" };
        let remote = match (http.remote, http.page) {
            (true, PageAccess::NotServed) => {
                " (reachable from other hosts: http.allow_remote = true)"
            }
            (true, _) => " (reachable from other hosts)",
            (false, _) => "",
        };
        r.line(
            true,
            "http",
            format!(
                "/healthz and /metrics will be served on {scheme}://{}{remote}",
                http.listen
            ),
        );
        let page = match http.page {
            PageAccess::NotServed => {
                "the status page is not served: the listener is not loopback and no users are configured (http.users_file or the credential http-users)".to_owned()
            }
            PageAccess::SignIn => format!(
                "the status page will be served on {scheme}://{}/; every page needs sign-in ({} user(s))",
                http.listen,
                http.users.len()
            ),
            PageAccess::OpenOnLoopback if http.users.is_empty() => format!(
                "the status page will be served on {scheme}://{}/, read-only: no users are configured, so nobody can sign in to act",
                http.listen
            ),
            PageAccess::OpenOnLoopback => format!(
                "the status page will be served on {scheme}://{}/; readable without sign-in on loopback, actions need sign-in ({} user(s))",
                http.listen,
                http.users.len()
            ),
        };
        r.line(true, "http", page);
    }
    match (&settings.leadsie, &settings.http) {
        (Some(l), Some(http)) => {
            r.line(
                true,
                "leadsie",
                format!(
                    "the webhook is on: POST http://{}/leadsie/<token> (a {}-character token; paste https://<your proxy>/leadsie/<token> into Leadsie → Settings → Webhooks & API); at most {} deliveries a minute per sender",
                    http.listen,
                    l.token.expose_str().chars().count(),
                    l.rate_per_minute
                ),
            );
        }
        _ => r.line(
            true,
            "leadsie",
            "the webhook is off ([leadsie] webhook = true serves it on the [http] listener)",
        ),
    }
    if r.failed {
        println!("some checks failed; fix them and run `collabd check-config` again");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Which routes can make a request happen under `[trust]`, and what
/// vouches for each: an operator sees at a glance what is open.
fn check_trust(r: &mut Report, t: &crate::mail::TrustPolicy) {
    use crate::mail::Require;
    let evidence = match t.require {
        Require::Dkim => "a DKIM signature collabd verifies itself".to_owned(),
        Require::Dmarc => format!(
            "dmarc=pass recorded by {}",
            t.authserv_id.as_deref().unwrap_or("(no authserv_id set)")
        ),
        Require::None => "nothing ([trust] require = \"none\": identity rules only)".to_owned(),
    };
    let senders = t
        .leadsie_domains
        .iter()
        .chain(&t.shopify_domains)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    r.line(
        true,
        "trust",
        format!("direct mail from {senders}: open, vouched for by {evidence}"),
    );
    r.line(
        true,
        "trust",
        format!("forwards as attachments (message/rfc822): open, the attached original vouched for by {evidence}"),
    );
    let arc = if t.arc_sealers.is_empty() {
        "no ARC seal is believed ([trust] arc_sealers is empty)".to_owned()
    } else {
        format!("or an ARC seal from {}", t.arc_sealers.join(", "))
    };
    r.line(
        true,
        "trust",
        format!(
            "server-side auto-forwards: open, vouched for by the original's own signature, {arc}"
        ),
    );
    match &t.forwarders {
        None => r.warn(
            "trust",
            "inline forwards (typed by a mail client): closed, because [trust] forwarders is unset; list the addresses or domains that forward Leadsie mail to this mailbox to open them",
        ),
        Some(list) => r.line(
            true,
            "trust",
            format!(
                "inline forwards (typed by a mail client): open from {}; every hop's sender must be listed",
                list.join(", ")
            ),
        ),
    }
}

async fn check_database(r: &mut Report, path: &Path) {
    if path.exists() {
        match crate::store::Db::open(path).await {
            Ok(_) => r.line(true, "database", format!("{} opens", path.display())),
            Err(e) => r.line(false, "database", e),
        }
        return;
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match tempfile::tempfile_in(dir) {
        Ok(_) => r.line(
            true,
            "database",
            format!("{} will be created (directory writable)", path.display()),
        ),
        Err(e) => r.line(
            false,
            "database",
            format!(
                "cannot create {} ({}, as {}); create the directory or set [database] path",
                path.display(),
                crate::fs_error::reason(&e),
                crate::fs_error::user()
            ),
        ),
    }
}

async fn check_imap(r: &mut Report, s: &crate::config::ImapSettings, who: &str) {
    let oauth2 = if who == "imap" {
        "oauth2".to_owned()
    } else {
        format!("{who} oauth2")
    };
    let server = format!("{}:{}", s.host, s.port);
    let tls = match conn::tls_config(s.ca_file.as_deref(), s.tls_pin.as_ref()) {
        Ok(t) => t,
        Err(e) => return r.line(false, &format!("{who} tls"), render::error(&e)),
    };
    let token = match &s.auth {
        ImapAuth::Password(p) => p.expose_str().into_owned(),
        ImapAuth::XOAuth2(o) => {
            let source = crate::imap::oauth::TokenSource::new(o.clone());
            match source {
                Ok(mut t) => match t.access_token().await {
                    Ok(tok) => {
                        r.line(true, &oauth2, "the refresh token gave an access token");
                        tok.expose_str().into_owned()
                    }
                    Err(e) => return r.line(false, &oauth2, render::error(&e)),
                },
                Err(e) => return r.line(false, &oauth2, render::error(&e)),
            }
        }
    };
    let login = match &s.auth {
        ImapAuth::Password(_) => Login::Password(&token),
        ImapAuth::XOAuth2(_) => Login::XOAuth2 {
            access_token: &token,
        },
    };
    let mut sess = match conn::open(s, &tls, login).await {
        Ok(sess) => {
            r.line(
                true,
                &format!("{who} login"),
                format!("{} logged in at {server}", s.user),
            );
            sess
        }
        Err(e) => return r.line(false, &format!("{who} login"), render::error(&e)),
    };
    match within(s.command_timeout, "CAPABILITY", sess.capabilities()).await {
        Ok(caps) => r.line(
            true,
            &format!("{who} server"),
            if caps.has_str("IDLE") {
                "has IDLE: new mail arrives at once".to_owned()
            } else {
                format!(
                    "has no IDLE: collabd will poll every {} s",
                    s.poll.as_secs()
                )
            },
        ),
        Err(e) => r.line(false, &format!("{who} server"), render::error(&e)),
    }
    for folder in &s.folders {
        match within(
            s.command_timeout,
            "EXAMINE",
            sess.examine(mutf7::wire(folder)),
        )
        .await
        {
            Ok(mb) => r.line(
                true,
                &format!("{who} folder {folder}"),
                format!("{} messages", mb.exists),
            ),
            Err(e) => {
                let listed = server_folders(&mut sess, s.command_timeout).await;
                r.line(
                    false,
                    &format!("{who} folder {folder}"),
                    format!("{} (check {who}.folders{listed})", render::error(&e)),
                )
            }
        }
    }
    if let crate::config::AfterProcessing::MoveTo(to) = &s.after_processing {
        match within(s.command_timeout, "EXAMINE", sess.examine(mutf7::wire(to))).await {
            Ok(_) => r.line(true, &format!("{who} move_to"), format!("{to} exists")),
            Err(_) => r.line(
                true,
                &format!("{who} move_to"),
                format!("{to} does not exist yet; collabd creates it"),
            ),
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), sess.logout()).await;
}

/// "; the server has: …", the folders it lists in their readable form, or
/// nothing if it would not say.
async fn server_folders(sess: &mut conn::ImapSession, limit: Duration) -> String {
    use futures_util::TryStreamExt;
    let names: Result<Vec<String>, _> = within(limit, "LIST", async {
        sess.list(Some(""), Some("*"))
            .await?
            .map_ok(|n| mutf7::readable(n.name()).into_owned())
            .try_collect()
            .await
    })
    .await;
    match names {
        Ok(names) if !names.is_empty() => format!("; the server has: {}", names.join(", ")),
        _ => String::new(),
    }
}

/// Which requests wait for review, and whether anyone will hear of them.
fn check_review(r: &mut Report, w: &crate::config::WorkerSettings) {
    use crate::config::Review;
    let which = match w.review {
        Review::None => return,
        Review::NewStores => "a request for a store never requested before",
        Review::All => "every new request",
    };
    r.line(
        true,
        "review",
        format!(
            "{which} waits in awaiting_review until an operator approves it (`collabd approve ID` or the status page)"
        ),
    );
    if w.notify.is_none() {
        r.warn(
            "review",
            "there is no [worker.notify]: nobody is told when a request awaits review; watch `collabd status --state awaiting_review` or the status page, or add slack_webhooks or email",
        );
    }
}

/// Builds the filer and the notify channels as `collabd run` would, then
/// tries what they reach.
async fn check_worker(r: &mut Report, settings: &Settings) {
    let w = &settings.worker;
    match filer::from_settings(w) {
        Err(e) => r.line(false, "filer", render::error(&e)),
        Ok(ConfiguredFiler::Log(_)) => r.line(
            true,
            "filer",
            "log (a dry run): requests are recorded as logged, nobody is told",
        ),
        Ok(ConfiguredFiler::Command(c)) => {
            use std::os::unix::fs::PermissionsExt;
            let program = &c.program;
            match std::fs::metadata(program) {
                Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => r.line(
                    true,
                    "filer",
                    format!("command {} is executable", program.display()),
                ),
                Ok(_) => r.line(
                    false,
                    "filer",
                    format!("command {} is not an executable file", program.display()),
                ),
                Err(e) => r.line(
                    false,
                    "filer",
                    format!("command {}: {e}", program.display()),
                ),
            }
        }
        Ok(ConfiguredFiler::Webhook(h)) => {
            reachable(
                r,
                "filer webhook",
                h.url(),
                crate::outbound::shown_url(h.url()),
            )
            .await
        }
        Ok(ConfiguredFiler::Notify(_)) => r.line(true, "filer", "notify (channels below)"),
        Ok(ConfiguredFiler::Browser(b)) => {
            // Starts the browser, loads the dashboard's form, and says
            // whether the saved session is signed in; an existing database
            // records what it saw (a new login makes waiting requests due).
            let b = b.session();
            let dry = if b.settings().dry_run {
                " (dry_run: forms are filled, never sent)"
            } else {
                ""
            };
            let db = match settings.database_server.is_some() || settings.database_path.exists() {
                true => crate::store::Db::open_configured(settings).await.ok(),
                false => None,
            };
            match b.check_session(db.as_ref()).await {
                Ok(()) => r.line(
                    true,
                    "filer",
                    format!("browser: Chromium started, the dashboard session is signed in{dry}"),
                ),
                Err(e) => r.line(false, "filer", format!("browser: {e}")),
            }
            if b.settings().permissions.is_empty() {
                r.warn(
                    "filer",
                    "browser: worker.browser.permissions is not set, so every permission box on the form is ticked \
                     (the broadest request a merchant can get); list the ones the agency needs, by box value or label",
                );
            }
            b.shutdown().await;
        }
    }
    check_review(r, w);
    let Some(n) = &w.notify else {
        return;
    };
    let channels = match NotifyFiler::from_channels(n) {
        Ok(c) => c,
        Err(e) => return r.line(false, "notify", render::error(&e)),
    };
    for url in channels.slack() {
        // A Slack webhook's path is its secret: show the host only.
        let shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or("?"));
        reachable(r, "notify slack", url, shown).await;
    }
    if let (Some(smtp), Some(email)) = (&n.smtp, channels.email()) {
        let u = &smtp.url;
        let shown = format!(
            "{}://{}:{}",
            u.scheme(),
            u.host_str().unwrap_or("?"),
            u.port().unwrap_or(0)
        );
        match email.transport.test_connection().await {
            Ok(true) => r.line(true, "notify smtp", format!("{shown} answers")),
            Ok(false) => r.line(
                false,
                "notify smtp",
                format!("{shown} did not accept a connection"),
            ),
            Err(crate::relay::RelayError::Smtp(e)) => {
                let why = match crate::relay::explain_refusal(&e, u, Duration::from_secs(15)).await
                {
                    Some(refused) => format!("the relay's certificate was refused: {refused}"),
                    None => smtp_error(&e),
                };
                r.line(false, "notify smtp", format!("{shown}: {why}"))
            }
            Err(e) => r.line(false, "notify smtp", format!("{shown}: {e}")),
        }
    }
}

/// An SMTP error as one line, with the setting that fixes it when known.
fn smtp_error(e: &lettre::transport::smtp::Error) -> String {
    // lettre prints its causes after its own words, and a wrapped lettre
    // error repeats them ("Connection error: Connection error: …"): once is
    // enough.
    let text = e.to_string();
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split(": ") {
        if parts.last() != Some(&part) {
            parts.push(part);
        }
    }
    let mut out = parts.join(": ");
    if out.contains("certificate") {
        out.push_str(" (if the relay uses a private CA, set worker.notify.smtp_ca_file)");
    }
    if e.is_permanent() && out.contains("535") {
        out.push_str(
            " (check the SMTP user in smtp_url and the password in smtp_password_file, $COLLABD_SMTP_PASSWORD or the credential smtp-password)",
        );
    }
    out
}

/// A HEAD request: any HTTP answer means the endpoint is reachable.
async fn reachable(r: &mut Report, what: &str, url: &reqwest::Url, shown: String) {
    // The filer's own client: a redirect is shown, not followed.
    let client = match crate::outbound::http_client(Duration::from_secs(15)) {
        Ok(c) => c,
        Err(e) => return r.line(false, what, e),
    };
    match client.head(url.clone()).send().await {
        Ok(resp) if resp.status().is_redirection() => r.line(
            false,
            what,
            format!(
                "{shown} answered {}, a redirect to {}, which collabd does not follow; set the URL to the address that answers",
                resp.status(),
                crate::outbound::redirect_target(url, &resp)
            ),
        ),
        Ok(resp) => r.line(
            true,
            what,
            format!("{shown} is reachable (HEAD answered {})", resp.status()),
        ),
        // reqwest's own text is only "error sending request": its causes
        // say why (refused, a certificate not trusted).
        Err(e) => r.line(
            false,
            what,
            format!(
                "{shown}: {}",
                render::error(&anyhow::Error::new(e.without_url()))
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn example_domains_left_from_the_packaged_file_are_found() {
        let text = "[imap]\nhost = \"imap.Example.COM\"\nuser = \"leadsie-inbox@youragency.com\"\n\
                    [trust]\nforwarders = [\"agency.com\", \"ops.agency.test\"]\n\
                    [worker.webhook]\nurl = \"https://hooks.agency.com/x?next=example.org\"\n\
                    [http]\nlisten = \"127.0.0.1:8080\"\n";
        let found = super::placeholders(text, &[]);
        let keys: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "imap.host",
                "imap.user",
                "trust.forwarders",
                "worker.webhook.url"
            ]
        );
        assert!(
            super::placeholders(
                "[imap]\nhost = \"imap.gmail.com\"\nuser = \"ops@agency.com\"\n",
                &[]
            )
            .is_empty()
        );
        // The example file as packaged: its agency domain is a placeholder.
        let packaged = include_str!("../deploy/collabd.toml");
        let left = super::placeholders(packaged, &[]);
        assert!(
            left.iter().any(|(k, _)| k == "trust.forwarders"),
            "{left:?}"
        );
        // Every placeholder replaced through the environment: none is left,
        // and a key the override does not touch still is.
        let over = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let replaced: Vec<(String, String)> = left
            .iter()
            .map(|(key, _)| {
                let name = format!("COLLABD__{}", key.to_ascii_uppercase().replace('.', "__"));
                let value = if key == "trust.forwarders" {
                    "[\"ouragency.com\"]"
                } else {
                    "ops@ouragency.com"
                };
                over(&name, value)
            })
            .collect();
        assert_eq!(super::placeholders(packaged, &replaced), []);
        assert_eq!(
            super::placeholders(packaged, &replaced[1..])
                .into_iter()
                .map(|(k, _)| k)
                .collect::<Vec<_>>(),
            [left[0].0.clone()]
        );
    }
}
