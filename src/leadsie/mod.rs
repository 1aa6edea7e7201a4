//! Leadsie's webhook, the second way in beside the mailbox: what one
//! delivery's JSON body (API version 2) says, as the same
//! [`Classification`] an email gets, so the ingest path that stores mail
//! stores it too (docs/webhook.md has the payload and the rules).
//!
//! - this file — reading a payload ([`read_payload`]): pure, no I/O.
//! - [`endpoint`] — `POST /leadsie/{token}`: the token, size cap, rate limit
//!   and the answer, committed before it is given.
//!
//! Leadsie does not document which asset field holds a Shopify store's
//! domain, so it is taken from whichever of `linkToAsset`, `id` and `name`
//! names a `<handle>.myshopify.com` domain or an `admin.shopify.com/store/`
//! link. A bare word is not taken: `id` may be Shopify's numeric id and
//! `name` the shop's display name, and `12345678.myshopify.com` or
//! `acme.myshopify.com` guessed from them would be requests for someone
//! else's store. An asset whose store cannot be read is reported under
//! "needs a look".

pub mod endpoint;

/// Bodies larger than this are refused with 413 (Leadsie's payloads are a
/// few kilobytes).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

use std::collections::HashSet;

use serde_json::Value;

use crate::mail::{Classification, Grant, MAX_GRANTS, MessageMeta};
use crate::model::{CollaboratorCode, MessageKind, StoreDomain};
use crate::render;

/// Text fields kept from a payload (client name, request name and URL) are
/// cut to this many characters: they are shown, never parsed.
const MAX_FIELD_CHARS: usize = 300;

/// Problems (or unconnected stores) named one by one in a reason; past
/// this many the rest are counted.
const MAX_LISTED: usize = 10;

/// Assets read from one delivery; Leadsie sends a handful.
const MAX_ASSETS: usize = 500;

/// A body that is not a Leadsie payload: why, in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAPayload(pub String);

impl std::fmt::Display for NotAPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads one delivery. `Err` when the body is not JSON or not shaped like a
/// Leadsie payload (the endpoint answers 400 and stores it as rejected);
/// otherwise the classification to store, whose grants become requests
/// exactly as an email's do and whose reason, when set on a grant or an
/// unparseable payload, puts it under "needs a look".
pub fn read_payload(body: &[u8]) -> Result<Classification, NotAPayload> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        NotAPayload(format!(
            "the body is not JSON ({}); Leadsie sends a JSON object",
            render::line(&e.to_string())
        ))
    })?;
    let Some(top) = value.as_object() else {
        return Err(NotAPayload(format!(
            "the body is JSON {} where Leadsie sends an object",
            json_kind(&value)
        )));
    };
    let assets = match top.get("connectionAssets") {
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(NotAPayload(format!(
                "connectionAssets is {} where Leadsie sends an array",
                json_kind(other)
            )));
        }
        None => {
            return Err(NotAPayload(
                "no connectionAssets array: this is not a Leadsie connection payload (API version 2)"
                    .into(),
            ));
        }
    };
    let text = |key: &str| top.get(key).and_then(field_text);
    let client = text("clientName");
    let request_name = text("requestName");
    let request_url = text("requestUrl");
    let status = text("status").unwrap_or_default().to_ascii_uppercase();
    let meta = MessageMeta {
        message_id: None,
        from: text("user"),
        original_from: None,
        subject: Some(match (&request_name, &client) {
            (Some(r), Some(c)) => format!("Leadsie webhook: {r} ({c})"),
            (Some(r), None) => format!("Leadsie webhook: {r}"),
            (None, Some(c)) => format!("Leadsie webhook ({c})"),
            (None, None) => "Leadsie webhook".to_owned(),
        }),
        date: None,
    };

    let mut grants: Vec<Grant> = Vec::new();
    let mut problems = Listed::default();
    let mut not_connected = Listed::default();
    let mut conflicting: HashSet<StoreDomain> = HashSet::new();
    let mut shopify_assets = 0usize;
    let mut other_assets = 0usize;
    if assets.len() > MAX_ASSETS {
        problems.push(format!(
            "{} assets, more than the {MAX_ASSETS} one delivery may hold; only the first {MAX_ASSETS} were read",
            assets.len()
        ));
    }
    for (n, asset) in assets.iter().take(MAX_ASSETS).enumerate() {
        let Some(asset) = asset.as_object() else {
            problems.push(format!(
                "asset {} is {}, not an object",
                n + 1,
                json_kind(asset)
            ));
            continue;
        };
        let field = |key: &str| asset.get(key).and_then(field_text);
        if !is_shopify(&field("type"), &field("platform")) {
            other_assets += 1;
            continue;
        }
        shopify_assets += 1;
        let label = field("name").or_else(|| field("id")).map_or_else(
            || format!("Shopify asset {}", n + 1),
            |s| format!("\"{s}\""),
        );
        let connection = field("connectionStatus").unwrap_or_default();
        let raw = |key: &str| asset.get(key).and_then(raw_text);
        let store = match store_of(&raw("linkToAsset"), &raw("id"), &raw("name")) {
            Ok((s, Named::ByLinkOrId)) => s,
            Ok((s, Named::ByNameOnly)) => {
                problems.push(format!(
                    "{s} was read from the asset's display name alone; check it is this client's store"
                ));
                s
            }
            Err(why) => {
                problems.push(format!("{label}: {why}"));
                continue;
            }
        };
        let refused = ["not connected", "insufficient permissions"]
            .contains(&connection.to_ascii_lowercase().as_str())
            || (status == "FAILED" && !connection.eq_ignore_ascii_case("connected"));
        if refused {
            let said = if connection.is_empty() {
                "the connection FAILED".to_owned()
            } else {
                format!("\"{connection}\"")
            };
            not_connected.push(format!("{store} ({said})"));
            continue;
        }
        let code = match asset.get("shopifyCollaboratorCode") {
            None | Some(Value::Null) => {
                problems.push(format!(
                    "{store}: no shopifyCollaboratorCode; ask the client for the store's collaborator code"
                ));
                continue;
            }
            Some(v) => match code_of(v) {
                Some(c) => c,
                None => {
                    problems.push(format!(
                        "{store}: shopifyCollaboratorCode is not 4 digits; ask the client for the store's collaborator code"
                    ));
                    continue;
                }
            },
        };
        if let Some(other) = grants.iter().position(|g| g.store == store) {
            if grants[other].code != code {
                // Which of two codes is current cannot be told: ask.
                grants.remove(other);
                conflicting.insert(store);
            }
            continue;
        }
        if conflicting.contains(&store) {
            continue;
        }
        if grants.len() == MAX_GRANTS {
            problems.push(format!(
                "{store}: more than the {MAX_GRANTS} stores one delivery may queue; not queued"
            ));
            continue;
        }
        grants.push(Grant {
            store,
            code,
            client: client.clone(),
            client_email: None,
            request_name: request_name.clone(),
            request_url: request_url.clone(),
        });
    }

    let mut conflicting: Vec<StoreDomain> = conflicting.into_iter().collect();
    conflicting.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    for store in conflicting {
        problems.push(format!(
            "{store}: two different collaborator codes in one delivery; not queued, ask the client which one is current"
        ));
    }
    if !not_connected.is_empty() {
        let list = not_connected.into_vec().join(", ");
        if grants.is_empty() && problems.is_empty() {
            return Ok(Classification::new(
                MessageKind::Ignored,
                format!(
                    "Leadsie webhook: the Shopify connection is not made for {list}; no code to file"
                ),
                meta,
            ));
        }
        problems.push(format!("not connected, so not queued: {list}"));
    }
    let reason = (!problems.is_empty())
        .then(|| format!("Leadsie webhook: {}", problems.into_vec().join("; ")));
    if !grants.is_empty() {
        let mut c = Classification::new(MessageKind::LeadsieGrant, String::new(), meta);
        c.grants = grants;
        c.reason = reason;
        return Ok(c);
    }
    if let Some(reason) = reason {
        return Ok(Classification::new(MessageKind::Unparseable, reason, meta));
    }
    let why = if shopify_assets == 0 {
        format!(
            "Leadsie webhook without a Shopify store to request ({other_assets} other asset(s))"
        )
    } else {
        "Leadsie webhook: the Shopify connection FAILED; no code to file".to_owned()
    };
    Ok(Classification::new(MessageKind::Ignored, why, meta))
}

/// A list that goes into a reason: the first [`MAX_LISTED`] entries, and a
/// count of the rest, so a payload of thousands of bad assets makes neither
/// a reason of megabytes nor a vector of thousands of strings.
#[derive(Default)]
struct Listed {
    items: Vec<String>,
    more: usize,
}

impl Listed {
    fn push(&mut self, item: String) {
        if self.items.len() < MAX_LISTED {
            self.items.push(item);
        } else {
            self.more += 1;
        }
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn into_vec(mut self) -> Vec<String> {
        if self.more > 0 {
            self.items.push(format!("and {} more", self.more));
        }
        self.items
    }
}

/// Which fields named the store.
enum Named {
    ByLinkOrId,
    /// Only the display name, which the client may type freely.
    ByNameOnly,
}

/// An asset is Shopify's when its `type` or `platform` says so ("Shopify
/// Store", "shopify").
fn is_shopify(kind: &Option<String>, platform: &Option<String>) -> bool {
    [kind, platform]
        .into_iter()
        .flatten()
        .any(|s| s.to_ascii_lowercase().contains("shopify"))
}

/// The one store the asset's fields name, or why there is none. The
/// values are read as they came, before any cleaning for display.
fn store_of(
    link: &Option<String>,
    id: &Option<String>,
    name: &Option<String>,
) -> Result<(StoreDomain, Named), String> {
    let mut found: Vec<StoreDomain> = Vec::new();
    let mut by_link_or_id = false;
    for (value, is_name) in [(link, false), (id, false), (name, true)] {
        let Some(value) = value else { continue };
        let lower = value.to_ascii_lowercase();
        let explicit =
            lower.contains(".myshopify.com") || lower.contains("admin.shopify.com/store/");
        if let Some(d) = explicit.then(|| StoreDomain::parse(value)).flatten() {
            by_link_or_id |= !is_name;
            if !found.contains(&d) {
                found.push(d);
            }
        }
    }
    let named = if by_link_or_id {
        Named::ByLinkOrId
    } else {
        Named::ByNameOnly
    };
    match found.len() {
        1 => Ok((found.remove(0), named)),
        0 => Err(
            "none of linkToAsset, id and name is a <handle>.myshopify.com domain or an admin.shopify.com/store/ link; find the store's permanent domain and add it with `collabd ingest` or by hand"
                .into(),
        ),
        _ => Err(format!(
            "its fields name different stores ({}); not queued",
            found.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// `"0105"`, or a number Leadsie's JSON may have turned it into (`105`,
/// whose leading zero a 4-digit code must have had).
fn code_of(v: &Value) -> Option<CollaboratorCode> {
    match v {
        Value::String(s) => CollaboratorCode::parse(s.trim()),
        Value::Number(n) => n
            .as_u64()
            .filter(|&n| n <= 9999)
            .and_then(|n| CollaboratorCode::parse(&format!("{n:04}"))),
        _ => None,
    }
}

/// A field's text exactly as sent (strings, and numbers as written), for
/// reading a store from; nothing longer than a URL could be.
fn raw_text(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!s.is_empty() && s.len() <= 2000).then_some(s)
}

/// A field's text, cleaned for display and cut: strings as they are,
/// numbers as written (`id` may be numeric); anything else is no text.
fn field_text(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let s: String = render::line(&s).chars().take(MAX_FIELD_CHARS).collect();
    (!s.is_empty()).then_some(s)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(v: serde_json::Value) -> Classification {
        read_payload(v.to_string().as_bytes()).expect("a payload")
    }

    #[test]
    fn shopify_assets_become_grants_beside_other_platforms() {
        let c = read(serde_json::json!({
            "apiVersion": 2, "status": "SUCCESS", "clientName": "Acme Ltd",
            "requestName": "Onboarding", "requestUrl": "https://app.leadsie.com/r/x",
            "connectionAssets": [
                {"type": "Meta Ad Account", "platform": "Facebook", "id": "act_1", "connectionStatus": "Connected"},
                {"type": "Shopify Store", "id": "acme-store.myshopify.com", "name": "Acme",
                 "connectionStatus": "Connected", "shopifyCollaboratorCode": "0105"},
                {"type": "Shopify Store", "name": "Beta", "linkToAsset": "https://admin.shopify.com/store/beta-shop",
                 "connectionStatus": "In progress", "shopifyCollaboratorCode": 42},
            ]
        }));
        assert_eq!(c.kind, MessageKind::LeadsieGrant);
        assert_eq!(c.reason, None);
        let got: Vec<(&str, &str)> = c
            .grants
            .iter()
            .map(|g| (g.store.as_str(), g.code.expose()))
            .collect();
        assert_eq!(
            got,
            [
                ("acme-store.myshopify.com", "0105"),
                ("beta-shop.myshopify.com", "0042")
            ]
        );
        assert_eq!(c.grants[0].client.as_deref(), Some("Acme Ltd"));
        assert_eq!(c.grants[0].request_name.as_deref(), Some("Onboarding"));
    }

    #[test]
    fn a_bare_name_or_numeric_id_is_never_taken_for_a_store() {
        let c = read(serde_json::json!({
            "status": "SUCCESS",
            "connectionAssets": [{"type": "Shopify Store", "id": 987654321, "name": "acme",
                                  "connectionStatus": "Connected", "shopifyCollaboratorCode": "1234"}]
        }));
        assert_eq!(c.kind, MessageKind::Unparseable);
        assert!(c.grants.is_empty());
        let reason = c.reason.unwrap();
        assert!(reason.contains("myshopify.com domain"), "{reason}");
        assert!(!reason.contains("1234"), "the code leaked: {reason}");
    }

    #[test]
    fn partial_success_queues_the_connected_store_and_notes_the_other() {
        let c = read(serde_json::json!({
            "status": "PARTIAL_SUCCESS",
            "connectionAssets": [
                {"type": "Shopify Store", "id": "one.myshopify.com", "connectionStatus": "Connected", "shopifyCollaboratorCode": "1111"},
                {"type": "Shopify Store", "id": "two.myshopify.com", "connectionStatus": "Not Connected"},
            ]
        }));
        assert_eq!(c.kind, MessageKind::LeadsieGrant);
        assert_eq!(c.grants.len(), 1);
        assert!(c.reason.unwrap().contains("two.myshopify.com"));
    }

    #[test]
    fn bad_bodies_say_why() {
        for (body, expect) in [
            (&b"not json"[..], "not JSON"),
            (b"[1,2]", "an array"),
            (b"{\"status\":\"SUCCESS\"}", "no connectionAssets"),
            (
                b"{\"connectionAssets\":{}}",
                "connectionAssets is an object",
            ),
        ] {
            let e = read_payload(body).unwrap_err();
            assert!(e.0.contains(expect), "{e}");
            assert!(!e.0.contains('\n'));
        }
    }

    #[test]
    fn codes_that_are_not_four_digits_need_a_look_and_stay_secret() {
        let c = read(serde_json::json!({
            "connectionAssets": [{"type": "Shopify Store", "id": "x.myshopify.com", "shopifyCollaboratorCode": "98765"}]
        }));
        assert_eq!(c.kind, MessageKind::Unparseable);
        assert!(!c.reason.as_deref().unwrap().contains("98765"));
    }

    #[test]
    fn conflicting_fields_are_not_guessed() {
        let c = read(serde_json::json!({
            "connectionAssets": [{"type": "Shopify Store", "id": "a.myshopify.com",
                "linkToAsset": "https://admin.shopify.com/store/b", "shopifyCollaboratorCode": "1234"}]
        }));
        assert_eq!(c.kind, MessageKind::Unparseable);
        assert!(c.reason.unwrap().contains("different stores"));
    }

    #[test]
    fn two_codes_for_one_store_in_one_delivery_are_not_guessed_between() {
        let asset = |code: &str| serde_json::json!({"type": "Shopify Store", "id": "twice.myshopify.com", "shopifyCollaboratorCode": code});
        let c = read(serde_json::json!({
            "connectionAssets": [asset("1111"), asset("2222"), asset("3333"),
                {"type": "Shopify Store", "id": "other.myshopify.com", "shopifyCollaboratorCode": "4444"}]
        }));
        let stores: Vec<&str> = c.grants.iter().map(|g| g.store.as_str()).collect();
        assert_eq!(stores, ["other.myshopify.com"]);
        assert!(
            c.reason
                .unwrap()
                .contains("twice.myshopify.com: two different")
        );
        // The same store and code twice is one grant, and fine.
        let c = read(serde_json::json!({"connectionAssets": [asset("1111"), asset("1111")]}));
        assert_eq!(c.grants.len(), 1);
        assert_eq!(c.reason, None);
    }

    #[test]
    fn thousands_of_bad_assets_make_a_short_reason() {
        let bad: Vec<_> = (0..5000)
            .map(|n| serde_json::json!({"type": "Shopify Store", "name": format!("Shop {n}")}))
            .collect();
        let c = read(serde_json::json!({ "connectionAssets": bad }));
        let reason = c.reason.unwrap();
        assert!(reason.len() < 5000, "{} bytes", reason.len());
        assert!(reason.ends_with("and 491 more"), "{reason}");
        assert!(reason.contains("only the first 500 were read"), "{reason}");
    }

    #[test]
    fn a_store_named_only_by_the_display_name_is_queued_but_needs_a_look() {
        let c = read(serde_json::json!({
            "connectionAssets": [{"type": "Shopify Store", "id": 123, "name": "victim.myshopify.com",
                                  "shopifyCollaboratorCode": "1234"}]
        }));
        assert_eq!(c.grants.len(), 1);
        assert!(c.reason.unwrap().contains("display name alone"));
    }

    #[test]
    fn values_are_read_before_they_are_cut_or_cleaned_for_display() {
        // Cut at 300 characters, this would be acme.myshopify.com.
        let padded = format!("acme.myshopify.com{}@evil.example", " ".repeat(290));
        let c = read(serde_json::json!({
            "connectionAssets": [{"type": "Shopify Store", "id": padded, "shopifyCollaboratorCode": "1234"}]
        }));
        assert!(c.grants.is_empty(), "{:?}", c.grants);
        // A control character that display cleaning would drop is not dropped
        // before the store is read.
        let c = read(serde_json::json!({
            "connectionAssets": [{"type": "Shopify Store", "id": "ac\u{1b}me.myshopify.com", "shopifyCollaboratorCode": "1234"}]
        }));
        assert!(c.grants.is_empty(), "{:?}", c.grants);
    }

    #[test]
    fn no_shopify_asset_is_ignored() {
        let c = read(serde_json::json!({
            "status": "SUCCESS",
            "connectionAssets": [{"type": "Google Ads Account", "id": "123-456"}]
        }));
        assert_eq!(c.kind, MessageKind::Ignored);
        assert!(c.grants.is_empty());
    }
}
