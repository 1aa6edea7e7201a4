//! A local replica of Shopify's Dev Dashboard "Request store access" flow
//! on a free loopback port, written to behave like the real pages: a
//! session cookie or a redirect to a sign-in page, the store validated by
//! a `fetch` after debounced input, the code field added only once the
//! store validates, the send button disabled until the store is valid and
//! a permission is ticked, then a success page, a wrong-code error, an
//! already-pending message, a challenge, or an unexpected page; and a
//! Collaborations list. What a store does is chosen by its handle's prefix:
//! `missing-` (not found), `pending-` (a request is pending), `hang-` (the
//! form never loads), `stall-` (validation never answers, and the test is
//! told), `challenge-`, `weird-` (an unexpected page after sending),
//! `both-` (after sending, a success and an error at once),
//! `crash-` (the request is recorded, then the answer never comes). The code
//! `0000` is refused as wrong.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

/// What the replica has seen, for assertions.
#[derive(Debug, Default)]
pub struct Seen {
    /// (store handle, code, permissions) of each request that was sent.
    pub submissions: Vec<(String, String, Vec<String>)>,
    /// Every path and query asked for (to check the code never is in one).
    pub urls: Vec<String>,
    /// The Collaborations list: handle → status text.
    pub list: BTreeMap<String, String>,
    /// The valid session cookie value.
    pub session: String,
}

#[derive(Clone)]
pub struct Replica {
    pub base: String,
    pub seen: Arc<Mutex<Seen>>,
    /// Told when a `stall-` store's validation arrives.
    pub stalled: Arc<tokio::sync::Notify>,
    /// The page written another way: the same documented selectors and
    /// behaviour, other markup — a single-page form sent by `fetch` that
    /// answers in place, hidden styled checkboxes, other wording.
    pub spa: bool,
}

impl Replica {
    pub fn form_url(&self) -> String {
        format!(
            "{}/dashboard/{{org_id}}/stores/collaborations/new?store_url={{handle}}",
            self.base
        )
    }

    pub fn list_url(&self) -> String {
        format!("{}/dashboard/{{org_id}}/stores/collaborations", self.base)
    }

    /// Visiting this signs the browser in (what an operator does by hand).
    pub fn login_url(&self) -> String {
        let token = self.seen.lock().unwrap().session.clone();
        format!("{}/login?token={token}", self.base)
    }

    /// The session lapses: the cookie the browser holds stops working.
    pub fn lapse(&self) {
        let mut s = self.seen.lock().unwrap();
        s.session = format!("{}x", s.session);
    }

    pub fn submissions(&self) -> Vec<(String, String, Vec<String>)> {
        self.seen.lock().unwrap().submissions.clone()
    }

    /// The list stops showing `handle` (as when its rows load late).
    pub fn forget(&self, handle: &str) {
        self.seen.lock().unwrap().list.remove(handle);
    }

    pub fn set_status(&self, handle: &str, status: &str) {
        self.seen
            .lock()
            .unwrap()
            .list
            .insert(handle.to_owned(), status.to_owned());
    }
}

pub async fn start() -> Replica {
    start_variant(false).await
}

pub async fn start_variant(spa: bool) -> Replica {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let replica = Replica {
        base: format!("http://127.0.0.1:{port}"),
        seen: Arc::new(Mutex::new(Seen {
            session: format!("s{port}"),
            ..Seen::default()
        })),
        stalled: Arc::new(tokio::sync::Notify::new()),
        spa,
    };
    let r = replica.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let r = r.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let r = r.clone();
                    async move { Ok::<_, hyper::Error>(answer(&r, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    replica
}

fn page(status: u16, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Type", "text/html; charset=utf-8")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

fn redirect(to: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(302)
        .header("Location", to)
        .body(Full::new(Bytes::new()))
        .unwrap()
}

fn json(body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn handle_of(store: &str) -> String {
    let s = store.trim().to_lowercase();
    let s = s.strip_prefix("https://").unwrap_or(&s).to_owned();
    s.strip_suffix(".myshopify.com").unwrap_or(&s).to_owned()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn answer(r: &Replica, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let cookie = req
        .headers()
        .get("cookie")
        .and_then(|c| c.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&body).into_owned();
    let q = pairs(&query);
    let get = |k: &str| {
        q.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let session = {
        let mut s = r.seen.lock().unwrap();
        s.urls.push(format!("{path}?{query}"));
        s.session.clone()
    };
    if path == "/login" {
        if get("token") == session {
            return Response::builder()
                .status(302)
                .header("Location", "/dashboard/1/stores/collaborations")
                .header(
                    "Set-Cookie",
                    format!("session={session}; Path=/; Max-Age=86400; HttpOnly"),
                )
                .body(Full::new(Bytes::new()))
                .unwrap();
        }
        return page(
            200,
            "<!doctype html><html><head><title>Log in — Shopify</title></head><body>\
             <main class=\"auth\"><h1>Log in</h1><p>Continue to Shopify</p>\
             <form method=\"post\" action=\"/login\"><input type=\"email\" name=\"email\">\
             <button>Continue with email</button></form></main></body></html>"
                .into(),
        );
    }
    let signed_in = cookie
        .split(';')
        .any(|c| c.trim() == format!("session={session}"));
    if !signed_in {
        return redirect(&format!("/login?return_to={}", escape(&path)));
    }
    if path == "/api/stores/validate" {
        let handle = handle_of(&get("store"));
        if handle.starts_with("stall-") {
            r.stalled.notify_one();
            std::future::pending::<()>().await;
        }
        let status = if handle.starts_with("missing-") || handle.is_empty() {
            "not_found"
        } else if handle.starts_with("pending-") {
            "pending"
        } else {
            "ok"
        };
        return json(&format!("{{\"status\":\"{status}\"}}"));
    }
    if path.ends_with("/stores/collaborations/new") && method == hyper::Method::GET {
        let handle = handle_of(&get("store_url"));
        if handle.starts_with("hang-") {
            std::future::pending::<()>().await;
        }
        if r.spa {
            return page(200, spa_page(&get("store_url")));
        }
        return page(200, form_page(&get("store_url"), None));
    }
    if path == "/api/collaborations" && method == hyper::Method::POST {
        let form = pairs(&body);
        let field = |k: &str| {
            form.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let handle = handle_of(&field("store"));
        let code = field("code");
        if code == "0000" {
            return json("{\"error\":\"code\"}");
        }
        let permissions = field("permissions")
            .split(',')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        let mut s = r.seen.lock().unwrap();
        s.submissions.push((handle.clone(), code, permissions));
        s.list.insert(handle, "Request sent".into());
        return json("{\"ok\":true}");
    }
    if path.ends_with("/stores/collaborations") && method == hyper::Method::POST {
        let form = pairs(&body);
        let field = |k: &str| {
            form.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let handle = handle_of(&field("store_url"));
        let code = field("collaborator_request_code");
        let permissions: Vec<String> = form
            .iter()
            .filter(|(n, _)| n == "permissions[]")
            .map(|(_, v)| v.clone())
            .collect();
        if handle.starts_with("challenge-") {
            return page(
                200,
                "<!doctype html><html><body><div class=\"challenge\"><h2>Verify you are human</h2>\
                 <p>Complete the security check to continue.</p><div class=\"h-captcha\"></div></div></body></html>"
                    .into(),
            );
        }
        if code == "0000" {
            return page(
                422,
                form_page(
                    &handle,
                    Some(
                        "The collaborator request code is invalid. Ask the store owner for a new code.",
                    ),
                ),
            );
        }
        {
            let mut s = r.seen.lock().unwrap();
            s.submissions.push((handle.clone(), code, permissions));
            s.list.insert(handle.clone(), "Request sent".into());
        }
        if handle.starts_with("crash-") {
            std::future::pending::<()>().await;
        }
        if handle.starts_with("both-") {
            return page(
                200,
                "<!doctype html><html><body><div role=\"status\">Collaborator request sent.</div>\
                 <div role=\"alert\">The collaborator request code is invalid.</div></body></html>"
                    .into(),
            );
        }
        if handle.starts_with("weird-") {
            return page(
                200,
                "<!doctype html><html><body><h1>We'll be right back</h1>\
                 <p>The dashboard is down for scheduled maintenance.</p></body></html>"
                    .into(),
            );
        }
        return redirect(&format!(
            "/dashboard/1/stores/collaborations?sent={}",
            escape(&handle)
        ));
    }
    if path.ends_with("/stores/collaborations") {
        let sent = get("sent");
        let flash = if sent.is_empty() {
            String::new()
        } else {
            format!(
                "<div class=\"banner\" role=\"status\">Collaborator request sent to {}.myshopify.com</div>",
                escape(&sent)
            )
        };
        let rows: String = r
            .seen
            .lock()
            .unwrap()
            .list
            .iter()
            .map(|(h, status)| {
                format!(
                    "<tr><td>{h} store</td><td>{h}.myshopify.com</td><td><span class=\"badge\">{}</span></td></tr>",
                    escape(status)
                )
            })
            .collect();
        return page(
            200,
            format!(
                "<!doctype html><html><body><nav>Stores · Collaborations</nav>{flash}\
                 <table><thead><tr><th>Store</th><th>URL</th><th>Status</th></tr></thead>\
                 <tbody>{rows}</tbody></table></body></html>"
            ),
        );
    }
    page(404, "<html><body>Not found</body></html>".into())
}

fn form_page(store: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<div class=\"error\" role=\"alert\">{}</div>", escape(e)))
        .unwrap_or_default();
    format!(
        r#"<!doctype html><html><head><title>Request store access</title></head><body>
<h1>Request store access</h1>
<p>Enter the store URL and the 4-digit collaborator request code the store owner gave you.</p>
{error}
<form id="collaboration-request-form" method="post" action="/dashboard/1/stores/collaborations">
  <label>Store URL <input id="store-url-input" name="store_url" value="{store}" autocomplete="off"></label>
  <div id="store-status" aria-live="polite"></div>
  <div id="code-slot"></div>
  <fieldset><legend>Permissions</legend>
    <label><input type="checkbox" name="permissions[]" value="products"> Products</label>
    <label><input type="checkbox" name="permissions[]" value="orders"> Orders</label>
    <label><input type="checkbox" name="permissions[]" value="themes"> Themes</label>
  </fieldset>
  <textarea id="collaboration-request-message" name="message"></textarea>
  <button id="collaboration-request-submit-button" type="submit" disabled>Send request</button>
</form>
<footer>This page is protected by reCAPTCHA. Pending requests expire after 7 days.</footer>
<script>
const input = document.getElementById('store-url-input');
const status = document.getElementById('store-status');
const slot = document.getElementById('code-slot');
const submit = document.getElementById('collaboration-request-submit-button');
let valid = false, timer = null;
function update() {{
  const ticked = document.querySelectorAll('input[name="permissions[]"]:checked').length > 0;
  submit.disabled = !(valid && ticked);
}}
input.addEventListener('input', () => {{
  valid = false; slot.innerHTML = ''; status.textContent = ''; update();
  clearTimeout(timer);
  timer = setTimeout(async () => {{
    const res = await fetch('/api/stores/validate?store=' + encodeURIComponent(input.value));
    const body = await res.json();
    if (body.status === 'ok') {{
      valid = true;
      slot.innerHTML = '<label>Collaborator request code <input name="collaborator_request_code" inputmode="numeric" maxlength="4"></label>';
    }} else if (body.status === 'pending') {{
      status.textContent = 'A collaborator request for this store is already pending.';
    }} else {{
      status.textContent = "We couldn't find a store with that URL.";
    }}
    update();
  }}, 300);
}});
document.querySelectorAll('input[name="permissions[]"]').forEach(b => b.addEventListener('change', update));
</script>
</body></html>"#,
        store = escape(store)
    )
}

/// The same form as a single-page app: other structure and wording, the
/// documented selectors kept.
fn spa_page(store: &str) -> String {
    format!(
        r#"<!doctype html><html><head><title>Dev Dashboard</title>
<style>.box input {{ position: absolute; left: -10000px; }} .box span {{ padding: 4px; border: 1px solid #999; }}</style>
</head><body><div id="app"><section class="card">
<h2>Request access</h2>
<form id="collaboration-request-form" novalidate>
  <div class="row"><span>Store</span><input id="store-url-input" type="text" value="{store}"></div>
  <p class="hint" id="hint"></p>
  <div class="row" id="code-row"></div>
  <div class="perms">
    <label class="box"><input type="checkbox" name="permissions[]" value="products"><span>Products</span></label>
    <label class="box"><input type="checkbox" name="permissions[]" value="customers"><span>Customers</span></label>
  </div>
  <textarea id="collaboration-request-message" placeholder="Message (optional)"></textarea>
  <button id="collaboration-request-submit-button" type="button" aria-disabled="true" disabled>Send request</button>
  <p id="answer" role="alert"></p>
</form></section></div>
<script>
const $ = s => document.querySelector(s);
let ok = false, t;
function sync() {{
  const b = $('#collaboration-request-submit-button');
  const on = ok && document.querySelectorAll('input[name="permissions[]"]:checked').length > 0;
  b.disabled = !on; b.setAttribute('aria-disabled', String(!on));
}}
$('#store-url-input').addEventListener('input', e => {{
  ok = false; $('#code-row').textContent = ''; $('#hint').textContent = ''; sync();
  clearTimeout(t);
  t = setTimeout(() => fetch('/api/stores/validate?store=' + encodeURIComponent(e.target.value))
    .then(r => r.json()).then(b => {{
      if (b.status === 'ok') {{
        setTimeout(() => {{
          const i = document.createElement('input');
          i.name = 'collaborator_request_code'; i.autocomplete = 'off';
          $('#code-row').append('Code ', i); ok = true; sync();
        }}, 150);
      }} else if (b.status === 'pending') {{
        $('#hint').textContent = 'You have a pending request for this store already.';
      }} else {{
        $('#hint').textContent = 'This store couldn’t be found. Check the URL.';
      }}
    }}), 400);
}});
document.querySelectorAll('input[name="permissions[]"]').forEach(c => c.addEventListener('change', sync));
$('#collaboration-request-submit-button').addEventListener('click', async () => {{
  const body = new URLSearchParams({{
    store: $('#store-url-input').value,
    code: $('input[name="collaborator_request_code"]').value,
    permissions: Array.from(document.querySelectorAll('input[name="permissions[]"]:checked')).map(c => c.value).join(','),
  }});
  const r = await fetch('/api/collaborations', {{ method: 'POST', body }});
  const b = await r.json();
  if (b.ok) {{
    $('#app').innerHTML = '<div class="toast">Your request has been sent. The store owner has 7 days to accept it.</div>';
  }} else {{
    $('#answer').textContent = 'That code doesn’t match. Ask the store owner for a new one.';
  }}
}});
</script></body></html>"#,
        store = escape(store)
    )
}
