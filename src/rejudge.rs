//! `collabd rejudge`: stored messages judged again under the settings of
//! now (a forwarder added, a phrase list grown) and what they now say
//! applied, as ingesting them would have. Idempotent; every change is on
//! the timeline. It only ever adds belief: a message that made a request
//! or moved one keeps its verdict, and its request is never taken back.

use chrono::{DateTime, Utc};

use crate::ingest::{IngestReport, Ingestor, Judged, apply, judge};
use crate::model::{Actor, EventKind, MessageKind, RequestId, RequestState};
use crate::store::{self, Event, Immediate};
use crate::timestamp::Timestamp;

/// What judging a stored message again did.
#[derive(Debug)]
pub enum Rejudged {
    /// No message has that id.
    Missing,
    /// A Leadsie webhook delivery: not mail, and read by its payload when
    /// it came; nothing to judge again.
    Webhook,
    /// Its bytes are not kept (ordinary mail stays in the mailbox; past
    /// `raw_retention_days`; over `max_raw_bytes`): it cannot be judged
    /// again.
    NoBytes,
    /// DNS did not answer its DKIM check: nothing changed.
    Deferred(String),
    /// The same verdict as before.
    Unchanged(MessageKind),
    /// It was believed (a grant, or Shopify's answer) and would not be
    /// now: its verdict stands, and so do the requests it made.
    Kept {
        kind: MessageKind,
        now: MessageKind,
        reason: Option<String>,
        /// The requests it made that are still open, for the operator to
        /// cancel if they should not be filed.
        open: Vec<(RequestId, RequestState)>,
    },
    /// A new verdict, recorded and applied.
    Changed {
        was: MessageKind,
        report: IngestReport,
    },
}

/// Kinds that made or moved a request when they were stored.
fn believed(kind: MessageKind) -> bool {
    matches!(
        kind,
        MessageKind::LeadsieGrant
            | MessageKind::ShopifyGranted
            | MessageKind::ShopifyDeclined
            | MessageKind::ShopifyRevoked
    )
}

impl Ingestor {
    /// Judges stored message `id` again under the rules in force and, when
    /// a message not believed before now is, records its new verdict and
    /// applies it: a grant makes its request (or notes one seen before), an
    /// outcome moves its request. `actor` is on the timeline. A second run
    /// changes nothing.
    pub async fn rejudge_stored(
        &self,
        conn: &mut impl crate::store::Exec,
        id: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> store::Result<Rejudged> {
        let Some(stored) = store::stored_message(conn, id).await? else {
            return Ok(Rejudged::Missing);
        };
        if stored.source == "webhook" {
            return Ok(Rejudged::Webhook);
        }
        let Some(raw) = &stored.raw else {
            return Ok(Rejudged::NoBytes);
        };
        let rules = self.rules();
        let c = match judge(&rules.classifier, &rules.verifier, raw).await {
            Judged::Deferred(_, why) => return Ok(Rejudged::Deferred(why)),
            Judged::Ready(c) => c,
        };
        if c.kind == stored.kind {
            return Ok(Rejudged::Unchanged(c.kind));
        }
        if believed(stored.kind) {
            // A signer's key rotated since, or a signature's x= lapsed, or
            // a forwarder was removed: none of that unsends what came.
            let open = store::requests_from_message(conn, id)
                .await?
                .into_iter()
                .filter(|r| r.state.is_open())
                .map(|r| (r.id, r.state))
                .collect();
            return Ok(Rejudged::Kept {
                kind: stored.kind,
                now: c.kind,
                reason: c.reason,
                open,
            });
        }
        let now_s = Timestamp::from(now);
        let mut tx = Immediate::begin(conn).await?;
        // Another rejudge may have got here first: only the verdict this
        // one read is replaced.
        if !store::set_verdict(&mut tx, id, stored.kind, c.kind, c.reason.as_deref()).await? {
            return Ok(Rejudged::Unchanged(c.kind));
        }
        let detail = format!(
            "message #{id} judged again under the settings of now: {} (was {}{})",
            c.kind,
            stored.kind,
            stored
                .reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        );
        let mut report = IngestReport::new(id, c.kind, true, c.reason.clone());
        apply(
            &mut tx,
            &c,
            id,
            &stored.received_at,
            &now_s,
            rules.review,
            &mut report,
        )
        .await?;
        // On the message's own record, and on each request it made or met.
        let requests = report
            .created
            .iter()
            .chain(&report.seen_again)
            .chain(&report.outcome_applied)
            .map(|r| Some(*r));
        for request_id in std::iter::once(None).chain(requests) {
            store::add_event(
                &mut tx,
                &Event {
                    request_id,
                    message_id: Some(id),
                    actor,
                    event: EventKind::Rejudged,
                    from_state: None,
                    to_state: None,
                    detail: Some(&detail),
                },
                &now_s,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Rejudged::Changed {
            was: stored.kind,
            report,
        })
    }
}
