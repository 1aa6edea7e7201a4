//! Reads where a link goes: the store a link's target names, through the
//! redirect wrappers that mail trackers put around it. Only a link to the
//! store's own domain (`<handle>.myshopify.com`, `admin.shopify.com/store/
//! <handle>`) names a store; a store's name in some other site's path or
//! query does not, unless that query is a wrapped URL that itself goes to
//! the store.

use percent_encoding::percent_decode_str;

use crate::model::StoreDomain;

/// How many wrappers deep a link is unwrapped (a URL in a query parameter,
/// percent-encoded once or twice, inside another).
const MAX_WRAPS: usize = 3;

/// The store a link goes to, if it goes to one.
pub fn store_of_link(href: &str) -> Option<StoreDomain> {
    store_of(href.trim(), 0)
}

/// The host of a URL whose scheme is already stripped, and where its
/// authority ends; `None` when the authority hides another host behind
/// user info (`store@evil`) or a backslash.
pub(crate) fn host_of(rest: &str) -> Option<(&str, usize)> {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.contains('@') || authority.contains('\\') {
        return None;
    }
    let host = authority.split(':').next().unwrap_or("");
    Some((host.trim_end_matches('.'), end))
}

fn store_of(url: &str, depth: usize) -> Option<StoreDomain> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .or_else(|| lower.strip_prefix("//"))?;
    let (host, end) = host_of(rest)?;
    let path_and_query = &rest[end..];
    if let Some(handle) = host.strip_suffix(".myshopify.com")
        && !handle.contains('.')
    {
        return StoreDomain::from_handle(handle);
    }
    if host == "admin.shopify.com"
        && let Some(p) = path_and_query.strip_prefix("/store/")
    {
        let handle = p.split(['/', '?', '#']).next().unwrap_or("");
        return StoreDomain::from_handle(handle);
    }
    if depth >= MAX_WRAPS {
        return None;
    }
    // A tracker's redirect: the real URL sits in a query parameter. ASCII
    // lower-casing keeps byte offsets, so the original's values are at the
    // same place.
    let q = url.len() - rest.len() + end + path_and_query.find('?')? + 1;
    let orig_query = url.get(q..)?;
    for pair in orig_query.split('#').next().unwrap_or("").split('&') {
        let value = pair.split_once('=').map_or(pair, |(_, v)| v);
        let mut v = value.to_owned();
        for _ in 0..MAX_WRAPS {
            if let Some(s) = store_of(&v, depth + 1) {
                return Some(s);
            }
            let decoded = percent_decode_str(&v).decode_utf8_lossy().into_owned();
            if decoded == v {
                break;
            }
            v = decoded;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(href: &str) -> Option<String> {
        store_of_link(href).map(|d| d.as_str().to_owned())
    }

    #[test]
    fn links_to_the_store_itself() {
        assert_eq!(
            s("https://acme.myshopify.com/admin").as_deref(),
            Some("acme.myshopify.com")
        );
        assert_eq!(
            s("https://admin.shopify.com/store/ac3cb8/settings").as_deref(),
            Some("ac3cb8.myshopify.com")
        );
        assert_eq!(
            s("HTTPS://Acme.MyShopify.com").as_deref(),
            Some("acme.myshopify.com")
        );
    }

    #[test]
    fn wrapped_links_are_unwrapped() {
        assert_eq!(
            s("https://click.leadsie.com/ls/click?upn=x1&url=https%3A%2F%2Facme.myshopify.com%2Fadmin").as_deref(),
            Some("acme.myshopify.com")
        );
        assert_eq!(
            s("https://t.example/r?u=https%253A%252F%252Fadmin.shopify.com%252Fstore%252Fbeta")
                .as_deref(),
            Some("beta.myshopify.com")
        );
    }

    #[test]
    fn other_sites_never_make_a_store() {
        assert_eq!(s("https://evil.example/acme.myshopify.com"), None);
        assert_eq!(s("https://acme.myshopify.com.evil.example/"), None);
        assert_eq!(s("https://evil.example/?note=acme.myshopify.com"), None);
        assert_eq!(s("https://acme.myshopify.com@evil.example/"), None);
        assert_eq!(s("https://shopify.com/store/acme"), None);
        assert_eq!(s("mailto:acme@acme.myshopify.com"), None);
        assert_eq!(s("https://a.b.myshopify.com/"), None);
    }
}
