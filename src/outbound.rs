//! HTTP requests collabd makes that carry a secret — a signed webhook
//! body, a Slack webhook (its path is its key, its body the code), an
//! OAuth2 refresh token — and how their endpoints are named in messages.
//! Shared by the filers, the IMAP watcher's OAuth2 and `check-config`.

use std::time::Duration;

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

/// The HTTP client for every request that carries a secret. It follows no
/// redirect: reqwest would re-send the body and headers to whatever origin
/// a `307` names, and send the old URL (query tokens and all) as
/// `Referer`. A redirect is reported instead, so the operator fixes the
/// URL. It trusts the system's store ([`crate::tls::system_roots`]).
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .use_preconfigured_tls(crate::tls::https_config())
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
