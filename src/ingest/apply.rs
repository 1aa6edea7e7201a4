//! What a stored message says, applied inside its transaction: the
//! requests its grants ask for (created, seen again, or superseding older
//! codes) and Shopify's outcomes. The one place requests are made.

use super::report::IngestReport;
use crate::config::Review;
use crate::mail::{Classification, Grant, Outcome};
use crate::model::{Actor, EventKind, MessageKind, RequestId, RequestState, StoreDomain};
use crate::store::{self, Event, Immediate, NewRequest};
use crate::timestamp::Timestamp;

pub(crate) async fn apply(
    conn: &mut Immediate<'_>,
    c: &Classification,
    message: i64,
    received: &Timestamp,
    now: &Timestamp,
    review: Review,
    report: &mut IngestReport,
) -> store::Result<()> {
    if c.kind == MessageKind::LeadsieGrant {
        for g in &c.grants {
            apply_grant(conn, g, message, Some(received), now, review, report).await?;
        }
    }
    if let Some(outcome) = &c.outcome {
        report.outcome_applied = apply_outcome(conn, outcome, message, now).await?;
    }
    Ok(())
}

/// Creates the request a grant asks for — the one place requests are made,
/// for mail and the webhook alike — or notes a grant seen before, and
/// supersedes the store's older open requests. Whether the new request
/// waits for review is decided here, from `review`.
async fn apply_grant(
    conn: &mut Immediate<'_>,
    g: &Grant,
    message: i64,
    date: Option<&Timestamp>,
    now: &Timestamp,
    review: Review,
    report: &mut IngestReport,
) -> store::Result<()> {
    if let Some(existing) = store::find_request(conn, &g.store, &g.code).await? {
        // A re-sent or re-forwarded grant: same request, noted on its timeline.
        let adds_details = (existing.client_name.is_none() && g.client.is_some())
            || (existing.client_email.is_none() && g.client_email.is_some());
        if adds_details {
            store::fill_client_details(
                conn,
                existing.id,
                g.client.as_deref(),
                g.client_email.as_deref(),
            )
            .await?;
        }
        store::add_event(
            conn,
            &Event {
                request_id: Some(existing.id),
                message_id: Some(message),
                actor: &Actor::Leadsie,
                event: EventKind::SeenAgain,
                from_state: None,
                to_state: None,
                detail: Some("the same store and code arrived again; no new request"),
            },
            now,
        )
        .await?;
        report.seen_again.push(existing.id);
        return Ok(());
    }
    // Every earlier request for the store, in any state: one is enough to
    // make it a store the agency has seen.
    let earlier = store::requests_for_store(conn, g.store.as_str()).await?;
    let seen_before = !earlier.is_empty();
    let open: Vec<_> = earlier.into_iter().filter(|r| r.state.is_open()).collect();
    // A merchant who regenerates the code invalidates the old one: the newer
    // grant wins. Order by when each message was received (never by its
    // Date header, which the sender writes), so a late re-forward of an old
    // email cannot undo a newer code.
    let newer_open = open.iter().find(|r| match (date, r.grant_date.as_ref()) {
        (Some(ours), Some(theirs)) => theirs > ours,
        _ => false,
    });
    let new_request = |state| NewRequest {
        store: &g.store,
        code: &g.code,
        client_name: g.client.as_deref(),
        client_email: g.client_email.as_deref(),
        request_name: g.request_name.as_deref(),
        request_url: g.request_url.as_deref(),
        state,
        source_message_id: message,
    };
    if let Some(newer) = newer_open {
        let detail = format!(
            "an older code for this store; request #{} holds a newer one",
            newer.id
        );
        let id = store::create_request(conn, &new_request(RequestState::Superseded), now, &detail)
            .await?;
        report.created.push(id);
        return Ok(());
    }
    // With review on, a newer code for a store whose request still awaits
    // review waits too: a merchant's new code must not skip the review.
    let inherits = open.iter().any(|r| r.state == RequestState::AwaitingReview);
    let why = match (review, seen_before, inherits) {
        (Review::None, _, _) => None,
        (Review::All, _, _) => Some("review = \"all\""),
        (Review::NewStores, false, _) => {
            Some("review = \"new-stores\": no request for this store before")
        }
        (Review::NewStores, true, true) => {
            Some("a newer code for a store whose request was still awaiting review")
        }
        (Review::NewStores, true, false) => None,
    };
    let (state, detail) = match why {
        Some(why) => (
            RequestState::AwaitingReview,
            format!(
                "Leadsie grant received; awaiting review ({why}): approve with `collabd approve` or on the status page, or cancel"
            ),
        ),
        None => (RequestState::Queued, "Leadsie grant received".to_owned()),
    };
    let id = store::create_request(conn, &new_request(state), now, &detail).await?;
    report.created.push(id);
    for old in open {
        let detail = format!(
            "superseded by request #{id}: the merchant sent a newer code ({})",
            g.code.masked()
        );
        let from = old.state;
        let moved = store::transition(
            conn,
            old.id,
            from,
            RequestState::Superseded,
            &Event {
                request_id: Some(old.id),
                message_id: Some(message),
                actor: &Actor::Leadsie,
                event: EventKind::Superseded,
                from_state: None,
                to_state: None,
                detail: Some(&detail),
            },
            now,
        )
        .await?;
        if moved {
            report.superseded.push(old.id);
        }
    }
    Ok(())
}

/// Finds the request an outcome is about and moves it; records an event
/// either way. Returns the request moved.
async fn apply_outcome(
    conn: &mut Immediate<'_>,
    o: &Outcome,
    message: i64,
    now: &Timestamp,
) -> store::Result<Option<RequestId>> {
    let to = o.result.state();
    let (candidates, named) = match (&o.store, &o.store_name) {
        (Some(domain), _) => (
            store::requests_for_store(conn, domain.as_str()).await?,
            domain.to_string(),
        ),
        (None, Some(name)) => {
            let mut by_name = store::requests_for_client_name(conn, name).await?;
            if let Some(slug) = slug_domain(name) {
                by_name.extend(store::requests_for_store(conn, slug.as_str()).await?);
            }
            by_name.sort_by_key(|r| std::cmp::Reverse(r.id));
            by_name.dedup_by_key(|r| r.id);
            (by_name, format!("\"{name}\""))
        }
        (None, None) => (Vec::new(), "an unnamed store".to_owned()),
    };
    let by_name = o.store.is_none();
    // Mail moves only requests that were filed: a reply about one still
    // queued cannot be an answer to us, so a person should look.
    let unfiled: Vec<_> = candidates
        .iter()
        .filter(|r| r.state.can_move_to(to) && !r.state.mail_may_move_to(to))
        .collect();
    let movable: Vec<_> = candidates
        .iter()
        .filter(|r| r.state.mail_may_move_to(to))
        .collect();
    let open = candidates.iter().filter(|r| r.state.is_open()).count();
    let stores: std::collections::BTreeSet<&str> =
        movable.iter().map(|r| r.store_domain.as_str()).collect();
    // A name is a weak key: it decides only when exactly one request fits.
    let ambiguous = stores.len() > 1 || (by_name && (movable.len() > 1 || open > 1));
    if ambiguous {
        let ids: Vec<String> = candidates.iter().map(|r| format!("#{}", r.id)).collect();
        let detail = format!(
            "Shopify says {} for {named}, which matches several requests ({}); mark the right one with `collabd mark`",
            o.result,
            ids.join(", ")
        );
        unmatched(conn, message, &detail, now).await?;
        return Ok(None);
    }
    if movable.is_empty()
        && let Some(r) = unfiled.first()
    {
        let detail = format!(
            "Shopify says {} for {named}, but request #{} is {} and was never filed, so mail cannot answer it; check the store and mark it by hand",
            o.result, r.id, r.state
        );
        store::add_event(
            conn,
            &Event {
                request_id: Some(r.id),
                message_id: Some(message),
                actor: &Actor::Shopify,
                event: EventKind::OutcomeUnfiled,
                from_state: None,
                to_state: None,
                detail: Some(&detail),
            },
            now,
        )
        .await?;
        unmatched(conn, message, &detail, now).await?;
        return Ok(None);
    }
    if let Some(target) = movable.first() {
        let from = target.state;
        let detail = format!("Shopify: {} ({named})", o.result);
        store::transition(
            conn,
            target.id,
            from,
            to,
            &Event {
                request_id: Some(target.id),
                message_id: Some(message),
                actor: &Actor::Shopify,
                event: EventKind::Outcome,
                from_state: None,
                to_state: None,
                detail: Some(&detail),
            },
            now,
        )
        .await?;
        return Ok(Some(target.id));
    }
    if let Some(latest) = candidates.first() {
        let detail = format!(
            "Shopify says {} for {named}; the request is already {}, so nothing changed",
            o.result, latest.state
        );
        store::add_event(
            conn,
            &Event {
                request_id: Some(latest.id),
                message_id: Some(message),
                actor: &Actor::Shopify,
                event: EventKind::OutcomeIgnored,
                from_state: None,
                to_state: None,
                detail: Some(&detail),
            },
            now,
        )
        .await?;
        return Ok(None);
    }
    let detail = format!(
        "Shopify says {} for {named}, but no request matches it",
        o.result
    );
    unmatched(conn, message, &detail, now).await?;
    Ok(None)
}

async fn unmatched(
    conn: &mut impl crate::store::Exec,
    message: i64,
    detail: &str,
    now: &Timestamp,
) -> store::Result<()> {
    store::add_event(
        conn,
        &Event {
            request_id: None,
            message_id: Some(message),
            actor: &Actor::Shopify,
            event: EventKind::UnmatchedOutcome,
            from_state: None,
            to_state: None,
            detail: Some(detail),
        },
        now,
    )
    .await
}

/// "Acme Boutique" → `acme-boutique.myshopify.com`, Shopify's default handle.
fn slug_domain(name: &str) -> Option<StoreDomain> {
    let mut slug = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    StoreDomain::from_handle(slug.trim_end_matches('-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(
            slug_domain("Acme Boutique").unwrap().as_str(),
            "acme-boutique.myshopify.com"
        );
        assert_eq!(
            slug_domain("  Zeta & Co. ").unwrap().as_str(),
            "zeta-co.myshopify.com"
        );
        assert!(slug_domain("!!!").is_none());
    }
}
