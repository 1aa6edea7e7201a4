//! Messages whose DKIM check met a DNS failure wait in `deferred`, and
//! are judged again with backoff until DNS answers. Nothing is accepted
//! unverified and nothing is dropped.

use chrono::{DateTime, Utc};

use std::time::Duration;

use super::ingestor::Ingestor;
use super::judge::{Judged, deferred_backoff};
use crate::store::{self, Immediate};
use crate::timestamp::Timestamp;

impl Ingestor {
    /// Judges again the messages that wait because DNS failed, every
    /// `every`, until `shutdown`. Each leaves the waiting room in the
    /// transaction that stores it; another DNS failure postpones it with
    /// backoff. Nothing is accepted unverified and nothing is dropped.
    pub async fn rejudge_deferred(
        &self,
        every: Duration,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        loop {
            if let Err(e) = self.rejudge_due(chrono::Utc::now()).await {
                tracing::warn!("could not judge deferred messages again: {e}; trying later");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    /// One pass over the deferred messages due at `now`; returns how many
    /// were stored.
    pub async fn rejudge_due(&self, now: DateTime<Utc>) -> store::Result<usize> {
        let mut conn = self.db.pool.acquire().await?;
        let due = store::due_deferred(&mut conn, &Timestamp::from(now), 100).await?;
        let mut stored = 0;
        for d in due {
            let judged = self.judge(&d.raw).await;
            let now = chrono::Utc::now();
            let mut tx = Immediate::begin(&mut conn).await?;
            match &judged {
                Judged::Deferred(_, why) => {
                    let next = Timestamp::from(now + deferred_backoff(d.attempts));
                    store::postpone_deferred(&mut tx, d.id, &next, why).await?;
                    tracing::warn!(
                        deferred = d.id,
                        attempts = d.attempts + 1,
                        "a message still cannot be judged: DNS failed ({why}); next try at {next}"
                    );
                }
                Judged::Ready(_) => {
                    let received = d.received_at.datetime();
                    let report = self
                        .store_in(&mut tx, &d.raw, &judged, &d.source, received, now)
                        .await?;
                    store::forget_deferred(&mut tx, d.id).await?;
                    stored += 1;
                    tracing::info!(
                        message_id = report.message,
                        kind = report.kind.as_str(),
                        "judged a deferred message"
                    );
                }
            }
            tx.commit().await?;
        }
        Ok(stored)
    }
}
