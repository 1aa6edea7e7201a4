//! The page's answers: HTML, text and assets, each with the headers every
//! answer carries; redirects and cookies.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderValue, LOCATION, SET_COOKIE};
use hyper::{Response, StatusCode};

/// An answer of the status page.
pub type Reply = Response<Full<Bytes>>;

/// Headers every page answer carries: no caching, no framing, and only
/// our own stylesheet, script and images.
pub(super) fn secure_headers(r: &mut Reply) {
    let h = r.headers_mut();
    h.insert("Cache-Control", HeaderValue::from_static("no-store"));
    h.insert(
        "X-Content-Type-Options",
        HeaderValue::from_static("nosniff"),
    );
    // same-origin, not no-referrer: under no-referrer a browser sends
    // `Origin: null` with its own forms, and sign-in checks Origin.
    h.insert("Referrer-Policy", HeaderValue::from_static("same-origin"));
    h.insert("X-Frame-Options", HeaderValue::from_static("DENY"));
    h.insert(
        "Content-Security-Policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
}

pub(super) fn html(status: StatusCode, body: maud::Markup) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body.into_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure_headers(&mut r);
    r
}

pub(super) fn text(status: StatusCode, body: &str) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body.to_owned())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    secure_headers(&mut r);
    r
}

pub(super) fn asset(kind: &'static str, body: &'static str) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    r.headers_mut().insert(
        "X-Content-Type-Options",
        HeaderValue::from_static("nosniff"),
    );
    r.headers_mut()
        .insert("Cache-Control", HeaderValue::from_static("max-age=300"));
    r
}

pub(super) fn not_found() -> Reply {
    text(StatusCode::NOT_FOUND, "no such page\n")
}

pub(super) fn redirect(to: &str) -> Reply {
    let mut r = text(StatusCode::SEE_OTHER, "");
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

pub(super) fn set_cookie(r: &mut Reply, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        r.headers_mut().append(SET_COOKIE, v);
    }
}
