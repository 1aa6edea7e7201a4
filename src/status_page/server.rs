//! [`Web`]: what the status page needs from the daemon, the routing of its
//! addresses, who may see what, and the operator's actions (through
//! [`crate::operator`], the CLI's rules).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Body, Bytes};
use hyper::header::{CONTENT_TYPE, COOKIE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::auth::{LoginLimiter, Session, Sessions};
use super::form::{
    Query, csrf_ok, encode, parse_id, path_and_query, read_form, safe_next, same_origin,
};
use super::pages::PAGE_SIZE;
use super::reply::{Reply, asset, html, not_found, redirect, secure_headers, set_cookie, text};
use super::viewer::Viewer;
use super::{assets, auth, pages};
use crate::config::{HttpSettings, PageAccess};
use crate::imap::Watcher;
use crate::model::RequestId;
use crate::operator::{self, Action, Mark};
use crate::store::{self, Db};
use crate::users::Users;

/// The address the connection came from, put in the request's extensions
/// by the listener; the sign-in limit counts per client
/// ([`crate::net::client`]: this, or whom a trusted proxy names).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// The session cookie's name.
const COOKIE_NAME: &str = "collabd_session";
/// What a page says when the database fails it: the error itself (SQL,
/// paths) is for the log, which every such answer writes first.
const DB_UNAVAILABLE: &str = "the database did not answer; the collabd log says why\n";
/// How long a sign-in waits for its turn at the password check (two run
/// at once) before it is told to try again: longer than the slowest
/// slowdown, so an operator behind a burst of guesses still gets in.
const CHECK_TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
/// Largest screenshot served: the browser filer's PNGs of one page are a
/// few megabytes at most; anything bigger is not one of them.
const MAX_SCREENSHOT_BYTES: u64 = 32 * 1024 * 1024;

/// What the status page needs from the daemon.
pub struct Web {
    pub db: Db,
    pub watcher: Option<Arc<Watcher>>,
    pub access: PageAccess,
    /// Replaced by a reload (`systemctl reload collabd`).
    users: std::sync::RwLock<Users>,
    pub sessions: Sessions,
    pub limiter: LoginLimiter,
    /// Password checks running now (at most two).
    pub checking: tokio::sync::Semaphore,
    /// The worker's filer, by name.
    pub filer: String,
    /// The Dev Dashboard organisation, for its pre-filled link.
    pub dev_org_id: Option<String>,
    /// The state directory (the database's): screenshots named by events
    /// are served only from under it.
    pub state_dir: PathBuf,
    /// Served over TLS by collabd itself: cookies are `Secure`.
    pub tls: bool,
    /// `http.trusted_proxies`: whose `X-Forwarded-For` names the client
    /// the sign-in limit counts.
    pub trusted_proxies: Vec<crate::net::Network>,
}

impl Web {
    pub fn new(
        settings: &HttpSettings,
        db: Db,
        watcher: Option<Arc<Watcher>>,
        filer: String,
        dev_org_id: Option<String>,
        state_dir: PathBuf,
    ) -> Web {
        Web {
            watcher,
            access: settings.page,
            users: std::sync::RwLock::new(settings.users.clone()),
            sessions: Sessions::new(db.clone()),
            limiter: LoginLimiter::new(db.clone()),
            db,
            checking: tokio::sync::Semaphore::new(2),
            filer,
            dev_org_id,
            state_dir,
            tls: settings.tls.is_some(),
            trusted_proxies: settings.trusted_proxies.clone(),
        }
    }

    /// Who can sign in now.
    pub fn users(&self) -> Users {
        self.users
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the users (a reload read the users file again); the
    /// sessions of a removed user, or of one whose password changed, end
    /// at their next use (each session knows which password it began with).
    pub fn replace_users(&self, users: Users) {
        *self
            .users
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = users;
    }

    /// Answers one request for a page address (everything but /healthz
    /// and /metrics).
    pub async fn handle<B>(&self, req: Request<B>) -> Reply
    where
        B: Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let path = req.uri().path().to_owned();
        let method = req.method().clone();
        let get = method == Method::GET || method == Method::HEAD;
        let post = method == Method::POST;
        // Assets and the sign-in page are for everyone.
        match path.as_str() {
            "/assets/style.css" if get => return asset("text/css", assets::STYLE),
            "/assets/live.js" if get => return asset("text/javascript", assets::SCRIPT),
            "/login" if get => {
                let q = Query::parse(req.uri().query());
                return html(
                    StatusCode::OK,
                    pages::login(self.users().is_empty(), q.get("next"), None),
                );
            }
            "/login" if post => {
                // Sign-in has no session yet to carry a CSRF token: a
                // browser's Origin, when it sends one, must be this site.
                if !same_origin(&req) {
                    return text(
                        StatusCode::FORBIDDEN,
                        "refused: the sign-in form was sent from another site\n",
                    );
                }
                return self.login(req).await;
            }
            _ => {}
        }
        let (sid, session) = match self.session(&req).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!("status page {path}: {e}");
                return text(StatusCode::SERVICE_UNAVAILABLE, DB_UNAVAILABLE);
            }
        };
        // A request a proxy forwarded came from wherever the proxy is
        // reachable, not from this host: on a loopback listener left open,
        // it must sign in all the same.
        let forwarded = ["x-forwarded-for", "x-forwarded-proto", "forwarded"]
            .iter()
            .any(|h| req.headers().contains_key(*h));
        let sign_in_needed = self.access == PageAccess::SignIn
            || (self.access == PageAccess::OpenOnLoopback && forwarded);
        if session.is_none() && sign_in_needed {
            return if get && path != "/live" {
                redirect(&format!("/login?next={}", encode(&path_and_query(&req))))
            } else {
                text(StatusCode::UNAUTHORIZED, "sign in first\n")
            };
        }
        let renders = get
            && (path == "/" || path.starts_with("/requests/") || path.starts_with("/messages/"));
        let hide = if session.is_some() || !renders {
            crate::redact::Redactor::default()
        } else {
            match store::web::all_codes(&self.db.pool).await {
                Ok(codes) => crate::redact::Redactor::new(codes.iter().map(String::as_str)),
                Err(e) => {
                    tracing::warn!("status page {path}: {e}");
                    return text(StatusCode::SERVICE_UNAVAILABLE, DB_UNAVAILABLE);
                }
            }
        };
        let viewer = Viewer {
            session,
            can_sign_in: !self.users().is_empty(),
            hide,
        };
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let result = match (get, post, segments.as_slice()) {
            (true, _, [""]) => self.index(&req, &viewer).await,
            (true, _, ["live"]) => match store::web::change_marker(&self.db.pool).await {
                Ok(m) => Ok(text(StatusCode::OK, &m)),
                Err(e) => Err(e),
            },
            (true, _, ["requests", id]) => match parse_id(id) {
                Some(id) => self.request(id, &viewer, sid.as_deref()).await,
                None => Ok(not_found()),
            },
            (_, true, ["requests", id, "action"]) => match parse_id(id) {
                Some(id) => return self.act(id, req, viewer.session, sid.as_deref()).await,
                None => Ok(not_found()),
            },
            (true, _, ["requests", id, "events", event, "screenshot"]) => {
                match (parse_id(id), event.parse::<i64>().ok()) {
                    (Some(id), Some(event)) => self.screenshot(id, event, &viewer).await,
                    _ => Ok(not_found()),
                }
            }
            (true, _, ["messages", id]) => match id.parse::<i64>() {
                Ok(id) => self.message(id, &viewer).await,
                Err(_) => Ok(not_found()),
            },
            (true, _, ["messages", id, "raw"]) => match id.parse::<i64>() {
                Ok(id) => self.raw(id, &viewer).await,
                Err(_) => Ok(not_found()),
            },
            (_, true, ["logout"]) => {
                return match (&sid, &viewer.session) {
                    (Some(sid), Some(s)) if csrf_ok(s, &read_form(req).await) => {
                        if let Err(e) = self.sessions.end(sid).await {
                            tracing::warn!("status page: cannot end a session: {e}");
                            return text(
                                StatusCode::SERVICE_UNAVAILABLE,
                                "the database did not answer, so you are still signed in; the log says why\n",
                            );
                        }
                        let mut r = redirect("/");
                        set_cookie(
                            &mut r,
                            &format!(
                                "{COOKIE_NAME}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict"
                            ),
                        );
                        r
                    }
                    _ => text(
                        StatusCode::FORBIDDEN,
                        "refused: the form's CSRF token is missing or wrong; reload the page and try again\n",
                    ),
                };
            }
            (false, false, _) => Ok(text(StatusCode::METHOD_NOT_ALLOWED, "GET or POST only\n")),
            _ => Ok(not_found()),
        };
        result.unwrap_or_else(|e| {
            tracing::warn!("status page {path}: {e}");
            text(StatusCode::SERVICE_UNAVAILABLE, DB_UNAVAILABLE)
        })
    }

    /// The session the cookie names, if it is live.
    async fn session<B>(
        &self,
        req: &Request<B>,
    ) -> store::Result<(Option<String>, Option<Session>)> {
        let sid = req
            .headers()
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .find(|(k, _)| *k == COOKIE_NAME)
            .map(|(_, v)| v.to_owned());
        let session = match sid.as_deref() {
            Some(id) => self.sessions.get(id, &self.users()).await?,
            None => None,
        };
        Ok((sid, session))
    }

    async fn index<B>(&self, req: &Request<B>, viewer: &Viewer) -> store::Result<Reply> {
        let q = Query::parse(req.uri().query());
        let marker = store::web::change_marker(&self.db.pool).await?;
        let mut list = pages::ListParams::from_query(&q);
        if viewer.session.is_none() {
            list.for_signed_out();
        }
        let filter = list.filter(PAGE_SIZE);
        let pool = &self.db.pool;
        let (rows, total) = store::web::list_requests(pool, &filter).await?;
        let counts = store::web::counts_by_state(pool).await?;
        let (attention, attention_total) = store::web::needs_a_look(pool, 20).await?;
        let mailboxes = store::mailbox_rows(pool).await?;
        let queue = store::web::queue_depth(pool).await?;
        let page = pages::IndexPage {
            list,
            rows,
            total,
            counts,
            attention,
            attention_total,
            mailboxes,
            watched: self.watcher.is_some(),
            filer: &self.filer,
            queue,
            now: chrono::Utc::now(),
        };
        Ok(html(
            StatusCode::OK,
            pages::layout(
                "Requests",
                viewer,
                Some(&marker),
                pages::index(&page, viewer),
            ),
        ))
    }

    async fn request(
        &self,
        id: RequestId,
        viewer: &Viewer,
        sid: Option<&str>,
    ) -> store::Result<Reply> {
        let marker = store::web::change_marker(&self.db.pool).await?;
        let mut conn = self.db.pool.acquire().await?;
        let r = match store::get_request(&mut conn, id).await {
            Ok(r) => r,
            Err(store::Error::NoSuchRequest(_)) => return Ok(not_found()),
            Err(e) => return Err(e),
        };
        drop(conn);
        let timeline = store::web::timeline(&self.db.pool, id.0).await?;
        let source = match r.source_message_id {
            Some(m) => store::web::message(&self.db.pool, m).await?,
            None => None,
        };
        let flash = match sid {
            Some(sid) => self.sessions.take_flash(sid).await?,
            None => None,
        };
        let shots: Vec<Option<i64>> = timeline
            .iter()
            .map(|e| {
                e.detail
                    .as_deref()
                    .and_then(|d| self.screenshot_path(d))
                    .map(|_| e.id)
            })
            .collect();
        let page = pages::RequestPage {
            r: &r,
            timeline: &timeline,
            screenshots: &shots,
            source: source.as_ref(),
            dev_org_id: self.dev_org_id.as_deref(),
            done: flash.as_ref().filter(|f| f.0).map(|f| f.1.as_str()),
            error: flash.as_ref().filter(|f| !f.0).map(|f| f.1.as_str()),
            now: chrono::Utc::now(),
        };
        Ok(html(
            StatusCode::OK,
            pages::layout(
                &format!("#{} {}", r.id, viewer.text(r.store_domain.as_str())),
                viewer,
                Some(&marker),
                pages::request(&page, viewer),
            ),
        ))
    }

    async fn message(&self, id: i64, viewer: &Viewer) -> store::Result<Reply> {
        let Some(m) = store::web::message(&self.db.pool, id).await? else {
            return Ok(not_found());
        };
        let requests = store::web::requests_of_message(&self.db.pool, id).await?;
        Ok(html(
            StatusCode::OK,
            pages::layout(
                &format!("Message {id}"),
                viewer,
                None,
                pages::message(&m, &requests, viewer),
            ),
        ))
    }

    /// The raw message, for signed-in operators only: it holds the code.
    async fn raw(&self, id: i64, viewer: &Viewer) -> store::Result<Reply> {
        if viewer.session.is_none() {
            return Ok(text(
                StatusCode::FORBIDDEN,
                "sign in to download raw messages: they hold collaborator codes\n",
            ));
        }
        let Some(raw) = store::web::message_raw(&self.db.pool, id).await? else {
            return Ok(text(
                StatusCode::NOT_FOUND,
                "no raw bytes kept for this message (over database.max_raw_bytes, or past database.raw_retention_days)\n",
            ));
        };
        let mut r = Response::new(Full::new(Bytes::from(raw)));
        let h = r.headers_mut();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"message-{id}.eml\""))
        {
            h.insert("Content-Disposition", v);
        }
        secure_headers(&mut r);
        Ok(r)
    }

    /// The browser filer's hook: an event whose detail says
    /// `screenshot: <file>` (a PNG under the state directory, relative to
    /// it or absolute) gets its picture shown on the timeline.
    ///
    /// Only a regular file reached without a symlink below the state
    /// directory: `x.png → collabd.db` once served the whole database
    /// (issue 23). No `..` either, so the path stays under it as written.
    fn screenshot_path(&self, detail: &str) -> Option<PathBuf> {
        let named = Path::new(named_screenshot(detail)?);
        let base = self.state_dir.canonicalize().ok()?;
        let below = if named.is_absolute() {
            named
                .strip_prefix(&self.state_dir)
                .or_else(|_| named.strip_prefix(&base))
                .ok()?
        } else {
            named
        };
        let mut path = base.clone();
        for part in below.components() {
            match part {
                std::path::Component::Normal(p) => path.push(p),
                std::path::Component::CurDir => continue,
                _ => return None,
            }
            // symlink_metadata: the link itself, never what it points at.
            if path.symlink_metadata().ok()?.file_type().is_symlink() {
                return None;
            }
        }
        let regular = path.symlink_metadata().ok()?.file_type().is_file();
        // Belt and braces: what the path resolves to is under the state
        // directory too.
        let inside = path.canonicalize().ok()?.starts_with(&base);
        (regular && inside).then_some(path)
    }

    async fn screenshot(&self, id: RequestId, event: i64, viewer: &Viewer) -> store::Result<Reply> {
        if viewer.session.is_none() {
            return Ok(text(
                StatusCode::FORBIDDEN,
                "sign in to see screenshots: the form in them shows the collaborator code\n",
            ));
        }
        let detail = store::web::event_detail(&self.db.pool, id.0, event).await?;
        let Some(path) = detail.as_deref().and_then(|d| self.screenshot_path(d)) else {
            return Ok(not_found());
        };
        match tokio::task::spawn_blocking(move || read_regular_file(&path)).await {
            Ok(Ok(bytes)) => {
                let mut r = Response::new(Full::new(Bytes::from(bytes)));
                r.headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("image/png"));
                secure_headers(&mut r);
                Ok(r)
            }
            _ => Ok(not_found()),
        }
    }

    /// An operator's approval, retry, cancel or mark, with the CLI's rules
    /// ([`operator::apply`]), recorded under the signed-in name.
    async fn act<B>(
        &self,
        id: RequestId,
        req: Request<B>,
        session: Option<Session>,
        sid: Option<&str>,
    ) -> Reply
    where
        B: Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let Some(session) = session else {
            return text(
                StatusCode::FORBIDDEN,
                "sign in to act on requests (actions always need sign-in, on loopback too)\n",
            );
        };
        let form = read_form(req).await;
        if !csrf_ok(&session, &form) {
            return text(
                StatusCode::FORBIDDEN,
                "refused: the form's CSRF token is missing or wrong; reload the page and try again\n",
            );
        }
        let action = match form.get("action") {
            Some("approve") => Action::Approve,
            Some("retry") => Action::Retry,
            Some("cancel") => Action::Cancel,
            Some("requested") => Action::Mark(Mark::Requested),
            Some("granted") => Action::Mark(Mark::Granted),
            _ => {
                return text(
                    StatusCode::BAD_REQUEST,
                    "action must be approve, retry, cancel, requested or granted\n",
                );
            }
        };
        let note = form
            .get("note")
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| n.chars().take(500).collect::<String>());
        let actor = crate::model::Actor::operator(&session.name);
        let outcome = match self.db.pool.acquire().await {
            Ok(mut conn) => operator::apply(
                &mut conn,
                id,
                action,
                &actor,
                note.as_deref(),
                chrono::Utc::now(),
            )
            .await
            .map_err(|e| e.to_string()),
            Err(e) => Err(format!("database: {e}")),
        };
        let back = format!("/requests/{}", id.0);
        match outcome {
            Ok(state) => {
                tracing::info!(
                    request = id.0,
                    by = %session.name,
                    "status page: {} (now {state})",
                    action.name()
                );
                self.flash(
                    sid,
                    true,
                    format!("{} by {}: now {state}", action.name(), session.name),
                )
                .await;
                redirect(&back)
            }
            Err(e) => {
                self.flash(sid, false, e).await;
                redirect(&back)
            }
        }
    }

    /// Keeps an action's result for the session's next page (in the
    /// database, so any node can show it). Not kept, the action still
    /// happened: the page's timeline shows it.
    async fn flash(&self, sid: Option<&str>, ok: bool, text: String) {
        let Some(sid) = sid else { return };
        if let Err(e) = self.sessions.flash(sid, ok, &text).await {
            tracing::warn!("cannot keep an action's result for the next page: {e}");
        }
    }

    async fn login<B>(&self, req: Request<B>) -> Reply
    where
        B: Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let peer = req
            .extensions()
            .get::<Peer>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.0.ip());
        let ip = crate::net::client(peer, req.headers(), &self.trusted_proxies);
        // While this sign-in only waits (slowed, or for its turn at the
        // password check), its connection may be dropped for a newcomer,
        // so waiting sign-ins cannot hold every slot.
        let answering = req
            .extensions()
            .get::<crate::net::Answering>()
            .cloned()
            .unwrap_or_default();
        // Behind a TLS-terminating proxy the browser speaks HTTPS: the
        // cookie must then never go out over plain HTTP either.
        let proxied_https = req
            .headers()
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
        let form = read_form(req).await;
        let next = form.get("next").map(str::to_owned);
        let again = |status: StatusCode, message: &str| {
            html(
                status,
                pages::login(self.users().is_empty(), next.as_deref(), Some(message)),
            )
        };
        if self.users().is_empty() {
            return again(
                StatusCode::FORBIDDEN,
                "No status-page users are configured.",
            );
        }
        let name_tried = form.get("name").unwrap_or_default().trim().to_lowercase();
        let gate = match self.limiter.check(ip, &name_tried).await {
            Ok(gate) => gate,
            Err(e) => {
                tracing::warn!("status page: sign-in limit unknown: {e}");
                return again(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The database did not answer. Try again in a moment.",
                );
            }
        };
        match gate {
            auth::Gate::Open => {}
            auth::Gate::Shut(wait) => {
                tracing::warn!("status page: sign-in from {ip} refused: too many failed attempts");
                return again(
                    StatusCode::TOO_MANY_REQUESTS,
                    &format!(
                        "Too many failed sign-ins. Try again in {} seconds.",
                        wait.as_secs().max(1)
                    ),
                );
            }
            // Failures from many addresses together: everyone waits a
            // little before the check, nobody is refused outright.
            auth::Gate::Slow(delay) => answering.waiting(tokio::time::sleep(delay)).await,
        }
        let name = form.get("name").unwrap_or_default().trim().to_owned();
        let password = form.get("password").unwrap_or_default().to_owned();
        // Each check costs an argon2 hash (about 19 MiB and tens of
        // milliseconds): two at a time, so a burst cannot pile them up; a
        // sign-in waits its turn a while rather than being refused.
        let turn = answering.waiting(tokio::time::timeout(
            CHECK_TURN_WAIT,
            self.checking.acquire(),
        ));
        let Ok(Ok(_checking)) = turn.await else {
            return again(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many sign-ins at once. Try again in a moment.",
            );
        };
        let users = self.users();
        let checked = users.clone();
        let n = name.clone();
        let ok = tokio::task::spawn_blocking(move || checked.verify(&n, &password))
            .await
            .unwrap_or(false);
        if !ok {
            if let Err(e) = self.limiter.failed(ip, &name).await {
                tracing::warn!("status page: cannot count a failed sign-in: {e}");
            }
            tracing::warn!("status page: failed sign-in from {ip}");
            return again(StatusCode::UNAUTHORIZED, "Wrong name or password.");
        }
        // A reload that replaced the users while the password was checked
        // (a password changed, a user removed) must not let a session begin
        // on the old ones. One that lands after this look is caught too: the
        // session keeps which password it began with, and ends at its next
        // use if that is no longer the user's.
        let started = *self
            .users
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            == users;
        if !started {
            return again(
                StatusCode::UNAUTHORIZED,
                "The users changed while you signed in. Sign in again.",
            );
        }
        let sid = match self.sessions.start(&name, &users).await {
            Ok((sid, _)) => sid,
            Err(e) => {
                tracing::warn!("status page: cannot start a session: {e}");
                return again(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The database did not answer. Try again in a moment.",
                );
            }
        };
        tracing::info!("status page: {name} signed in from {ip}");
        let mut r = redirect(&safe_next(next.as_deref()));
        let secure = if self.tls || proxied_https {
            "; Secure"
        } else {
            ""
        };
        set_cookie(
            &mut r,
            &format!(
                "{COOKIE_NAME}={sid}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
                auth::SESSION_LIFETIME.as_secs()
            ),
        );
        r
    }
}

/// The file at `path`, if it is a regular file and its last component not
/// a symlink (`O_NOFOLLOW`, so one swapped in after
/// [`Web::screenshot_path`] looked is not followed; `O_NONBLOCK`, so a
/// FIFO swapped in cannot hang the reader), up to
/// [`MAX_SCREENSHOT_BYTES`].
fn read_regular_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() || meta.len() > MAX_SCREENSHOT_BYTES {
        return Err(std::io::Error::other(
            "not a regular file of a screenshot's size",
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_SCREENSHOT_BYTES).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The PNG an event's detail names as `screenshot: <file>`, as the browser
/// filer writes it ([`crate::browser::page::Evidence`]).
fn named_screenshot(detail: &str) -> Option<&str> {
    let named = detail
        .split("screenshot: ")
        .nth(1)?
        .split_whitespace()
        .next()?
        .trim_end_matches([',', ';', ')']);
    named.ends_with(".png").then_some(named)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_filers_evidence_is_found_in_its_event() {
        let e = crate::browser::page::Evidence {
            screenshot: "/var/lib/collabd/browser/evidence/r7-a2-challenge.png".into(),
            html: "/var/lib/collabd/browser/evidence/r7-a2-challenge.html".into(),
        };
        let detail = format!("a challenge (CAPTCHA or two-step); kept for a look: {e}");
        assert_eq!(
            named_screenshot(&detail),
            Some("/var/lib/collabd/browser/evidence/r7-a2-challenge.png")
        );
        assert_eq!(named_screenshot("screenshot: notes.txt"), None);
    }
}
