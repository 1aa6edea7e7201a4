//! What a request brings: query strings and form bodies, the `Origin`
//! check, the CSRF token, where to go after signing in.

use http_body_util::{BodyExt, Limited};
use hyper::Request;
use hyper::body::{Body, Bytes};

use super::auth::Session;
use crate::model::RequestId;

/// Largest form body read (sign-in, actions): a note is short.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// No `Origin` (not a browser, or a same-origin GET), or one whose host
/// and port are the `Host` the request was sent to. Behind a proxy, the
/// proxy must pass `Host` on (Caddy does; nginx needs
/// `proxy_set_header Host $host`).
pub(super) fn same_origin<B>(req: &Request<B>) -> bool {
    let Some(origin) = req.headers().get("origin").and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = req
        .headers()
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin
        .split_once("://")
        .map_or(origin, |(_, rest)| rest)
        .trim_end_matches('/');
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

/// Where to go after signing in: a path on this site, never elsewhere.
/// Only the characters this site's own addresses use: browsers drop tabs
/// and line breaks from a `Location` (`/<TAB>/evil.example` would become
/// `//evil.example`) and read `\` as `/`.
pub(super) fn safe_next(next: Option<&str>) -> String {
    let plain = |n: &str| {
        n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/?=&%._~-+".contains(&b))
    };
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && plain(n) => n.to_owned(),
        _ => "/".to_owned(),
    }
}

pub(super) fn csrf_ok(s: &Session, form: &Query) -> bool {
    form.get("csrf")
        .is_some_and(|t| crate::secret::same_token(t, &s.csrf))
}

pub(super) fn parse_id(s: &str) -> Option<RequestId> {
    s.parse::<RequestId>().ok()
}

pub(super) fn path_and_query<B>(req: &Request<B>) -> String {
    req.uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned())
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A query string or form body, decoded.
#[derive(Debug, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(q: Option<&str>) -> Query {
        Query(
            form_urlencoded::parse(q.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A form body, up to [`MAX_FORM_BYTES`]; an unreadable one is empty (and
/// then fails its CSRF check).
pub(super) async fn read_form<B>(req: Request<B>) -> Query
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(req.into_body(), MAX_FORM_BYTES)
        .collect()
        .await
    {
        Ok(c) => Query::parse(Some(&String::from_utf8_lossy(&c.to_bytes()))),
        Err(_) => Query::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_sign_in_only_this_sites_paths() {
        for bad in [
            "/\t/evil.example",
            "/\\evil.example",
            "//evil.example",
            "https://x",
            "/a b",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(Some("/requests/5?x=1")), "/requests/5?x=1");
    }
}
