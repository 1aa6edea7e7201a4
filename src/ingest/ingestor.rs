//! The [`Ingestor`]: a judged message stored in one transaction,
//! idempotent on its digest, for mail and the Leadsie webhook alike.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use std::sync::Arc;

use super::apply::apply;
use super::judge::{Judged, deferred_backoff, judge, judge_all_with};
use super::report::IngestReport;
use crate::config::{Review, Settings};
use crate::dkim::Verifier;
use crate::mail::{Classification, Classifier};
use crate::model::MessageKind;
use crate::store::{self, Db, Immediate, NewMessage, Source};
use crate::timestamp::Timestamp;

/// Ingests messages under one set of [`Rules`] into one database. Clones
/// share the rules: [`Ingestor::replace_rules`] (the daemon's reload)
/// changes them for the watcher, the webhook and the deferred-message
/// lane at once, each message being judged under one set throughout.
#[derive(Clone)]
pub struct Ingestor {
    pub db: Db,
    rules: Arc<std::sync::RwLock<Arc<Rules>>>,
}

/// How messages are judged and stored: what a reload may change.
#[derive(Clone)]
pub struct Rules {
    pub classifier: Classifier,
    /// Raw messages larger than this keep headers and classification only.
    pub max_raw_bytes: u64,
    /// Checks DKIM signatures over DNS when `[trust] require = "dkim"`.
    pub verifier: Arc<Verifier>,
    /// Which new requests wait for an operator's approval (`[worker]
    /// review`); decided where requests are created, for mail and the
    /// webhook alike.
    pub review: Review,
}

pub fn sha256_hex(raw: &[u8]) -> String {
    hex::encode(Sha256::digest(raw))
}

/// The digest a message is known by (`messages.sha256`): the SHA-256 of
/// its bytes, and for a webhook delivery of `leadsie-webhook\0` and its
/// body, so the same bytes once ingested as an email (by mistake) never
/// make a later delivery a no-op, nor the other way round.
pub fn digest(raw: &[u8], source: &Source) -> String {
    match source {
        Source::Webhook(_) => {
            let mut h = Sha256::new();
            h.update(b"leadsie-webhook\0");
            h.update(raw);
            hex::encode(h.finalize())
        }
        _ => sha256_hex(raw),
    }
}

impl Rules {
    /// The one way to build an ingestor's rules from settings: classifier,
    /// DKIM verifier, raw-size cap and review policy together.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Rules> {
        Ok(Rules {
            classifier: settings.classifier(),
            max_raw_bytes: settings.max_raw_bytes,
            verifier: Arc::new(Verifier::new(&settings.nameservers)?),
            review: settings.worker.review,
        })
    }
}

impl Ingestor {
    /// An ingestor into `db` under `settings`.
    pub fn from_settings(settings: &Settings, db: Db) -> anyhow::Result<Ingestor> {
        Ok(Ingestor::new(db, Rules::from_settings(settings)?))
    }

    pub fn new(db: Db, rules: Rules) -> Ingestor {
        Ingestor {
            db,
            rules: Arc::new(std::sync::RwLock::new(Arc::new(rules))),
        }
    }

    /// The rules in force now. A message is classified and its signature
    /// checked under one snapshot; a reload meanwhile counts from the next.
    pub fn rules(&self) -> Arc<Rules> {
        self.rules
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the rules for every clone of this ingestor.
    pub fn replace_rules(&self, rules: Rules) {
        *self
            .rules
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(rules);
    }

    /// Classifies a message off the async runtime within
    /// [`CLASSIFY_BUDGET`], then checks its DKIM signature when the trust
    /// policy asks for one. Never fails: a message over budget is
    /// `unparseable`, one whose DNS did not answer is [`Judged::Deferred`].
    pub async fn judge(&self, raw: &[u8]) -> Judged {
        let rules = self.rules();
        judge(&rules.classifier, &rules.verifier, raw).await
    }

    /// [`Ingestor::judge`] for a batch, in order, on at most one thread
    /// per core; `progress` is called as each message is classified.
    pub async fn judge_all(&self, raws: &[&[u8]], progress: &(dyn Fn() + Sync)) -> Vec<Judged> {
        let rules = self.rules();
        judge_all_with(&rules.classifier, &rules.verifier, raws, progress).await
    }

    /// Classifies and stores one message in its own transaction, on a
    /// connection from the pool.
    pub async fn ingest(
        &self,
        raw: &[u8],
        source: &Source,
        now: DateTime<Utc>,
    ) -> store::Result<IngestReport> {
        let mut conn = self.db.pool.acquire().await?;
        self.ingest_on(&mut conn, raw, source, now, now).await
    }

    /// Like [`Ingestor::ingest`], on a connection the caller holds for a run
    /// of messages: taking one from the pool per message costs more than the
    /// message's own statements. `received` is when the message reached
    /// the agency (`collabd ingest --received`; else now).
    pub async fn ingest_on(
        &self,
        conn: &mut impl crate::store::Exec,
        raw: &[u8],
        source: &Source,
        received: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> store::Result<IngestReport> {
        // Judge before taking the write lock: it may wait on DNS.
        let judged = self.judge(raw).await;
        let mut tx = Immediate::begin(conn).await?;
        let report = self
            .store_in(&mut tx, raw, &judged, source, received, now)
            .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Stores one Leadsie webhook delivery in its own transaction, as a
    /// message with `source = 'webhook'`, idempotent on its digest like
    /// mail: its grants become requests exactly as an email's do (the same
    /// store and code from either way in is one request), and a body that
    /// is not a Leadsie payload is kept as `rejected`, so nothing is lost.
    /// Returns why the body was refused, if it was. No DKIM: the endpoint's
    /// secret path is the webhook's authentication. `received` orders its
    /// codes against others for the same store, as an email's does.
    pub async fn ingest_webhook(
        &self,
        body: &[u8],
        source: &Source,
        received: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> store::Result<(IngestReport, Option<crate::leadsie::NotAPayload>)> {
        // Off the async runtime: a megabyte of JSON is work.
        let read = {
            let body = body.to_vec();
            tokio::task::spawn_blocking(move || crate::leadsie::read_payload(&body)).await
        };
        let read = read.unwrap_or_else(|e| {
            Err(crate::leadsie::NotAPayload(format!(
                "the payload reader failed ({e}); please report this delivery"
            )))
        });
        let (c, refused) = match read {
            Ok(c) => (c, None),
            Err(why) => (
                Classification::new(
                    MessageKind::Rejected,
                    format!("Leadsie webhook: {why}"),
                    crate::mail::MessageMeta {
                        subject: Some("Leadsie webhook (not a payload)".into()),
                        ..Default::default()
                    },
                ),
                Some(why),
            ),
        };
        let mut conn = self.db.pool.acquire().await?;
        let mut tx = Immediate::begin(&mut conn).await?;
        let report = self
            .store_in(&mut tx, body, &Judged::Ready(c), source, received, now)
            .await?;
        tx.commit().await?;
        Ok((report, refused))
    }

    /// Stores an already classified message inside the caller's
    /// transaction, so that a caller (the IMAP watcher) can advance its
    /// checkpoint in the same commit; classify before taking the write lock.
    ///
    /// `received` is when the message reached the mailbox (IMAP
    /// INTERNALDATE) or collabd; it orders codes for one store, and is
    /// clamped to `now`. The Date header, which the sender writes, decides
    /// nothing.
    pub async fn store_in(
        &self,
        conn: &mut Immediate<'_>,
        raw: &[u8],
        judged: &Judged,
        source: &Source,
        received: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> store::Result<IngestReport> {
        let sha = digest(raw, source);
        let now_s = Timestamp::from(now);
        let received_s = Timestamp::from(received.min(now));
        let c = match judged {
            Judged::Ready(c) => c,
            Judged::Deferred(c, why) => {
                if let Some(id) = store::message_id_by_sha(conn, &sha).await? {
                    return Ok(IngestReport::duplicate(id));
                }
                let next = Timestamp::from(now + deferred_backoff(0));
                let (id, new) =
                    store::defer_message(conn, &sha, source, raw, &received_s, &next, why).await?;
                let reason = format!(
                    "{}; its DKIM signature could not be checked because DNS failed: {why}; it will be judged again",
                    c.kind
                );
                return Ok(IngestReport {
                    deferred: Some(id),
                    ..IngestReport::new(0, MessageKind::Deferred, new, Some(reason))
                });
            }
        };
        // A Date in the future is the sender's claim, not a fact: clamp it.
        let date = c
            .meta
            .date
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(|d| Timestamp::from(d.min(now)));
        // Ordinary mail read from a mailbox keeps its bytes there: a
        // backfill would otherwise copy the whole mailbox into the
        // database. Mail handed over by a file or a pipe has no other copy.
        let elsewhere = c.unrelated && matches!(source, Source::Imap { .. });
        // A webhook body is always kept, for audit: the endpoint takes at
        // most a megabyte.
        let webhook =
            matches!(source, Source::Webhook(_)) && raw.len() <= crate::leadsie::MAX_BODY_BYTES;
        let rules = self.rules();
        let keep_raw = webhook || ((raw.len() as u64) <= rules.max_raw_bytes && !elsewhere);
        let new = NewMessage {
            sha256: &sha,
            source,
            message_id: c.meta.message_id.as_deref(),
            from_addr: c.meta.from.as_deref(),
            original_from: c.meta.original_from.as_deref(),
            subject: c.meta.subject.as_deref(),
            date: date.as_ref(),
            kind: c.kind,
            reason: c.reason.as_deref(),
            raw: keep_raw.then_some(raw),
            raw_size: raw.len(),
            received_at: &received_s,
        };
        // The unique digest makes a message seen before a no-op.
        let Some(message) = store::insert_message(conn, &new).await? else {
            let id = store::message_id_by_sha(conn, &sha).await?.unwrap_or(0);
            // Mail first seen in the mailbox was stored without its bytes;
            // handed over again (saved from the mail client), they are kept
            // now, so that `collabd rejudge` can judge it again.
            if keep_raw && !matches!(source, Source::Imap { .. }) {
                store::keep_missing_raw(conn, id, raw).await?;
            }
            return Ok(IngestReport::duplicate(id));
        };
        let mut report = IngestReport::new(message, c.kind, true, c.reason.clone());
        apply(
            conn,
            c,
            message,
            &received_s,
            &now_s,
            rules.review,
            &mut report,
        )
        .await?;
        Ok(report)
    }
}
