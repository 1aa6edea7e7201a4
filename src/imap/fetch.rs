//! One sync of one folder: learn its bound (`bound`: UIDVALIDITY reconciled
//! with the checkpoint, and UIDNEXT), then fetch everything above the
//! checkpoint in windows of UIDs — headers first, bodies only for
//! candidates, judged a batch at a time and stored a batch per
//! transaction, each message with the checkpoint at its UID.

use std::collections::HashMap;

use anyhow::Result;
use async_imap::types::Fetch;
use futures_util::TryStreamExt;

use super::answers::{self, UidRange};
use super::bound::Bound;
use super::conn::{AFTER_PROCESSING_STEPS, ImapSession, UID_WINDOW, within};
use super::status::FolderStatus;
use super::watcher::{Account, Pass, Selection};
use crate::config::AfterProcessing;
use crate::model::{Actor, EventKind};
use crate::store::{self, Event, Source};

/// Bodies are downloaded in batches of at most this many messages…
const BATCH_MESSAGES: usize = 256;
/// …and about this many bytes, so memory stays small whatever the mailbox.
const BATCH_BYTES: u64 = 8 * 1024 * 1024;

impl Account {
    /// Brings the folder's checkpoint up to the newest message. Returns
    /// false when it stopped early for shutdown. Every UID the server then
    /// sends is checked against the UIDNEXT learned first (`bound`: SELECT,
    /// or STATUS when the server `announced` new mail in the folder the
    /// session keeps selected), so a hostile `n:*` answer cannot carry the
    /// checkpoint past it.
    pub(super) async fn sync(
        &self,
        sess: &mut ImapSession,
        pass: Pass<'_>,
        selection: &mut Selection,
        announced: bool,
    ) -> Result<bool> {
        // What the server said before the bound is asked for (the RECENT
        // that follows IDLE's EXISTS) is covered by it; only what comes
        // later is news for the next wait.
        while sess.unsolicited_responses.try_recv().is_ok() {}
        let mut conn = self.ingestor.db.pool.acquire().await?;
        let Bound { uidvalidity, new } = self
            .bound(sess, pass.status, &mut conn, selection, announced)
            .await?;
        self.retry_actions(sess, pass, &mut conn, uidvalidity)
            .await?;
        let Some((last_uid, upto)) = new else {
            return Ok(true);
        };
        self.fetch_new(sess, pass, &mut conn, uidvalidity, last_uid, upto)
            .await
    }

    /// Everything above `last_uid`, in windows of UIDs so that a mailbox of
    /// any size costs the same memory: headers for all, bodies for
    /// candidates, a batch stored with the checkpoint in one transaction. `upto`
    /// is the newest UID when known (after a SELECT); else one `n:*` pass.
    async fn fetch_new(
        &self,
        sess: &mut ImapSession,
        pass: Pass<'_>,
        conn: &mut impl crate::store::Exec,
        uidvalidity: u32,
        mut last_uid: u32,
        upto: Option<u32>,
    ) -> Result<bool> {
        // The checkpoint at u32::MAX leaves no UID to ask for.
        let Some(mut from) = last_uid.checked_add(1) else {
            return Ok(true);
        };
        loop {
            let range = match upto {
                Some(end) if from > end => return Ok(true),
                Some(end) => UidRange {
                    from,
                    to: Some(end.min(from.saturating_add(UID_WINDOW - 1))),
                },
                None => UidRange { from, to: None },
            };
            let (finished, reached) = self
                .fetch_range(sess, pass, conn, uidvalidity, last_uid, range)
                .await?;
            last_uid = reached;
            match range.to.and_then(|to| to.checked_add(1)) {
                Some(next) if finished => from = next,
                _ => return Ok(finished),
            }
        }
    }

    /// One window of UIDs (`range`): headers for all, then bodies for the
    /// candidates in batches. Returns false on shutdown, and the checkpoint
    /// reached.
    async fn fetch_range(
        &self,
        sess: &mut ImapSession,
        pass: Pass<'_>,
        conn: &mut impl crate::store::Exec,
        uidvalidity: u32,
        mut last_uid: u32,
        range: UidRange,
    ) -> Result<(bool, u32)> {
        let Pass {
            status,
            shutdown,
            has_move,
        } = pass;
        let limit = self.settings.command_timeout;
        let name = status.name.as_str();

        let heads = self.fetch_headers(sess, status, last_uid, range).await?;
        let Some(newest) = heads.last().map(|h| h.uid) else {
            return Ok((true, last_uid));
        };

        let mut stored = 0usize;
        // Pipelined: while one batch is judged and stored, the next one's
        // bodies download. The session and the database connection are
        // separate resources; after-processing (which needs the session)
        // waits until both are done and the batch is committed.
        let (first, mut next_start) = next_batch(&heads, 0);
        let bodies = self.fetch_bodies(sess, status, &first, false).await?;
        let mut current = Some((first, next_start, bodies));
        while let Some((batch, end, bodies)) = current.take() {
            if shutdown.is_cancelled() {
                return Ok((false, last_uid));
            }
            let upcoming = (next_start < heads.len()).then(|| next_batch(&heads, next_start));
            // One deadline covers judging (DKIM may wait on DNS) and the
            // download beside it; the download only ever extends it.
            status.expect_within(limit + crate::ingest::CLASSIFY_BUDGET * 5);
            let store = self.store_batch(conn, status, uidvalidity, &heads, &batch, end, &bodies);
            let (outcome, fetched) = match &upcoming {
                Some((next, _)) => {
                    let (o, f) = tokio::join!(store, self.fetch_bodies(sess, status, next, true));
                    (o, Some(f))
                }
                None => (store.await, None),
            };
            let (new_here, processed, through) = outcome?;
            stored += new_here;
            last_uid = last_uid.max(through);
            // A download that failed beside the commit leaves the session
            // out of step: no after-processing on it, reconnect instead.
            let fetched = fetched.transpose()?;
            if !processed.is_empty() {
                status.expect_within(limit * AFTER_PROCESSING_STEPS);
                self.after_processing(sess, conn, name, uidvalidity, &processed, has_move)
                    .await?;
            }
            if let (Some((next, next_end)), Some(fetched)) = (upcoming, fetched) {
                current = Some((next, next_end, fetched));
                next_start = next_end;
            }
        }
        debug_assert_eq!(last_uid, newest);
        tracing::debug!(mailbox = name, stored, scanned = heads.len(), "sync done");
        if stored > 0 {
            tracing::info!(
                mailbox = name,
                stored,
                scanned = heads.len(),
                "synced folder"
            );
        }
        Ok((true, last_uid))
    }

    /// Judges a batch at once, off the runtime (both cores busy, DKIM's
    /// DNS waits overlapping), then stores it in one transaction: each
    /// message's rows and its pending action, then the checkpoint past the
    /// batch and the non-candidates among it. A crash loses the whole
    /// batch's work, never part of it, and none is skipped: the checkpoint
    /// moves only with the rows. Returns how many were new, the UIDs due
    /// for after-processing and the checkpoint.
    #[allow(clippy::too_many_arguments)]
    async fn store_batch(
        &self,
        conn: &mut impl crate::store::Exec,
        status: &FolderStatus,
        uidvalidity: u32,
        heads: &[Head],
        batch: &[&Head],
        end: usize,
        bodies: &HashMap<u32, Fetch>,
    ) -> Result<(usize, Vec<u32>, u32)> {
        let judged = self.judge_batch(status, batch, bodies).await;
        let now = chrono::Utc::now();
        let now_s = crate::timestamp::Timestamp::from(now);
        let mut tx = store::Immediate::begin(conn).await?;
        let mut processed = Vec::new();
        let mut new_here = 0usize;
        for (h, body) in batch.iter().zip(&judged) {
            match self
                .store_one(&mut tx, status, uidvalidity, h, body.as_ref(), now)
                .await?
            {
                Stored::New => {
                    new_here += 1;
                    processed.push(h.uid);
                }
                Stored::Again => processed.push(h.uid),
                Stored::Skipped => {}
            }
        }
        let through = heads[end - 1].uid;
        store::set_checkpoint(&mut tx, &status.name, uidvalidity, through, &now_s).await?;
        tx.commit().await?;
        Ok((new_here, processed, through))
    }

    /// The header pass over `range`: the few fields that decide candidacy,
    /// and the size, for every message above `last_uid`, in UID order.
    async fn fetch_headers(
        &self,
        sess: &mut ImapSession,
        status: &FolderStatus,
        last_uid: u32,
        range: UidRange,
    ) -> Result<Vec<Head>> {
        let limit = self.settings.command_timeout;
        let max_bytes = self.settings.max_message_bytes;
        status.expect_within(limit);
        let query = format!(
            "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({})])",
            crate::mail::Classifier::CANDIDATE_HEADERS
        );
        let mut heads: Vec<Head> = Vec::new();
        let mut stream = within(
            limit,
            "UID FETCH (headers)",
            sess.uid_fetch(range.to_string(), &query),
        )
        .await?;
        loop {
            status.expect_within(limit);
            let Some(f) = within(limit, "UID FETCH (headers)", stream.try_next()).await? else {
                break;
            };
            // A FETCH with neither size nor header is the server's news
            // of another message's flags, not an answer.
            let Some(uid) = f.uid.filter(|_| f.size.is_some() || f.header().is_some()) else {
                continue;
            };
            let uid = answers::fetched(&status.folder, range, uid)?;
            // `n:*` names the last message even when its UID is below n.
            if uid <= last_uid {
                continue;
            }
            let header = f.header().unwrap_or_default();
            heads.push(Head {
                uid,
                size: f.size.map_or(0, u64::from),
                candidate: self.ingestor.rules().classifier.is_candidate(header),
                summary: if f.size.is_some_and(|n| u64::from(n) > max_bytes) {
                    Some(header_summary(header))
                } else {
                    None
                },
            });
        }
        tracing::debug!(
            mailbox = status.name.as_str(),
            n = heads.len(),
            "headers fetched"
        );
        heads.sort_by_key(|h| h.uid);
        heads.dedup_by_key(|h| h.uid);
        Ok(heads)
    }

    /// Full bodies (`BODY.PEEK[]`, so nothing is marked read) of the batch's
    /// messages within `imap.max_message_bytes`, by UID. `beside`: while the
    /// previous batch is stored, so its deadline is only ever extended.
    async fn fetch_bodies(
        &self,
        sess: &mut ImapSession,
        status: &FolderStatus,
        batch: &[&Head],
        beside: bool,
    ) -> Result<HashMap<u32, Fetch>> {
        let limit = self.settings.command_timeout;
        // Beside the judging of the batch before, whose deadline is longer.
        let expect = |d| {
            if beside {
                status.extend_within(d)
            } else {
                status.expect_within(d)
            }
        };
        let wanted: Vec<u32> = batch
            .iter()
            .filter(|h| h.size <= self.settings.max_message_bytes)
            .map(|h| h.uid)
            .collect();
        let mut bodies: HashMap<u32, Fetch> = HashMap::new();
        if !wanted.is_empty() {
            expect(limit);
            let mut stream = within(
                limit,
                "UID FETCH (bodies)",
                sess.uid_fetch(uid_set(&wanted), "(UID INTERNALDATE BODY.PEEK[])"),
            )
            .await?;
            loop {
                expect(limit);
                let Some(f) = within(limit, "UID FETCH (bodies)", stream.try_next()).await? else {
                    break;
                };
                if let Some(uid) = f.uid {
                    bodies.insert(uid, f);
                }
            }
            drop(stream);
            self.check_missing(sess, status, &wanted, &bodies).await?;
        }
        tracing::debug!(
            mailbox = status.name.as_str(),
            n = bodies.len(),
            "bodies fetched"
        );
        Ok(bodies)
    }

    /// A candidate the body FETCH did not answer for is skipped only if it
    /// is gone (expunged between the two fetches): a server that withholds
    /// the body of a message that still exists ends the session, so the
    /// checkpoint does not move past it and it is read on a later try.
    async fn check_missing(
        &self,
        sess: &mut ImapSession,
        status: &FolderStatus,
        wanted: &[u32],
        bodies: &HashMap<u32, Fetch>,
    ) -> Result<()> {
        let missing: Vec<u32> = wanted
            .iter()
            .copied()
            .filter(|uid| bodies.get(uid).is_none_or(|f| f.body().is_none()))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let limit = self.settings.command_timeout;
        status.extend_within(limit);
        let query = format!("UID {}", uid_set(&missing));
        let still = within(limit, "UID SEARCH", sess.uid_search(&query)).await?;
        if let Some(&uid) = missing.iter().find(|uid| still.contains(uid)) {
            return Err(answers::BadAnswer::BodyWithheld {
                folder: status.folder.clone(),
                uid,
            }
            .into());
        }
        tracing::info!(
            mailbox = status.name.as_str(),
            uids = %uid_set(&missing),
            "messages expunged before their bodies were downloaded; skipped"
        );
        Ok(())
    }

    /// Judges a batch's downloaded candidates together (see
    /// [`crate::ingest::judge_all`]): for each, its bytes, the verdict and
    /// when the server received it; `None` for one not downloaded (over the
    /// size limit, or expunged between the two fetches).
    async fn judge_batch<'f>(
        &self,
        status: &FolderStatus,
        batch: &[&Head],
        bodies: &'f HashMap<u32, Fetch>,
    ) -> Vec<Option<Judgement<'f>>> {
        let fetched: Vec<Option<(&'f [u8], &'f Fetch)>> = batch
            .iter()
            .map(|h| {
                let f = bodies
                    .get(&h.uid)
                    .filter(|_| h.size <= self.settings.max_message_bytes)?;
                Some((f.body()?, f))
            })
            .collect();
        let raws: Vec<&[u8]> = fetched.iter().flatten().map(|(raw, _)| *raw).collect();
        // Each verdict is progress: the batch's deadline moves with it.
        let progress = || status.extend_within(crate::ingest::CLASSIFY_BUDGET * 2);
        let mut verdicts = self.ingestor.judge_all(&raws, &progress).await.into_iter();
        fetched
            .into_iter()
            .map(|f| {
                let (raw, fetch) = f?;
                let received = fetch.internal_date().map(|d| d.with_timezone(&chrono::Utc));
                // One verdict per message by construction; were one missing,
                // the message is kept as unreadable, never skipped.
                let verdict = verdicts.next().unwrap_or_else(|| {
                    crate::ingest::Judged::Ready(crate::mail::Classification::unreadable(
                        "could not be read: no verdict came back for it; please report this message"
                            .into(),
                    ))
                });
                Some((raw, verdict, received))
            })
            .collect()
    }

    /// Stores one candidate as judged (or records why it was not
    /// downloaded), with its pending after-processing action, in the
    /// batch's transaction (which moves the checkpoint past the batch).
    async fn store_one(
        &self,
        tx: &mut store::Immediate<'_>,
        status: &FolderStatus,
        uidvalidity: u32,
        h: &Head,
        body: Option<&Judgement<'_>>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Stored> {
        let s = &self.settings;
        let name = status.name.as_str();
        let now_s = crate::timestamp::Timestamp::from(now);
        let outcome = if h.size > s.max_message_bytes {
            let detail = format!(
                "message UID {} in {} is {} bytes, over imap.max_message_bytes ({}); not downloaded. {}. Raise the limit to have it read, or handle it by hand",
                h.uid,
                status.folder,
                h.size,
                s.max_message_bytes,
                h.summary.as_deref().unwrap_or("")
            );
            tracing::warn!(mailbox = name, "{detail}");
            store::add_event(
                &mut *tx,
                &Event {
                    request_id: None,
                    message_id: None,
                    actor: &Actor::Imap,
                    event: EventKind::SkippedOversize,
                    from_state: None,
                    to_state: None,
                    detail: Some(&detail),
                },
                &now_s,
            )
            .await?;
            Stored::Skipped
        } else if let Some((raw, judged, received)) = body {
            let source = Source::Imap {
                account: self.settings.name.clone(),
                mailbox: name.to_owned(),
                uidvalidity,
                uid: h.uid,
            };
            let report = self
                .ingestor
                .store_in(&mut *tx, raw, judged, &source, received.unwrap_or(now), now)
                .await?;
            if report.new {
                tracing::info!(
                    account = %self.settings.name,
                    mailbox = name,
                    uid = h.uid,
                    message_id = report.message,
                    deferred = report.deferred,
                    kind = report.kind.as_str(),
                    created = ?report.created.iter().map(|r| r.0).collect::<Vec<_>>(),
                    // A reason can quote the subject, and so a code.
                    reason = %crate::redact::Redactor::every_code()
                        .apply(report.reason.as_deref().unwrap_or("")),
                    "stored a message"
                );
            }
            if s.after_processing != AfterProcessing::Nothing {
                store::add_pending_action(&mut *tx, name, uidvalidity, h.uid, &now_s).await?;
            }
            if report.new {
                Stored::New
            } else {
                Stored::Again
            }
        } else {
            // Expunged between the two fetches: nothing to store.
            tracing::debug!(
                mailbox = name,
                uid = h.uid,
                "message vanished before download"
            );
            Stored::Skipped
        };
        Ok(outcome)
    }
}

/// The next batch of candidates from `heads[start..]`: at most
/// [`BATCH_MESSAGES`] messages and about [`BATCH_BYTES`] (always at least
/// one). Returns the batch and the index just past the last head it spans,
/// non-candidates among them included.
fn next_batch(heads: &[Head], start: usize) -> (Vec<&Head>, usize) {
    let mut batch: Vec<&Head> = Vec::new();
    let mut bytes = 0u64;
    let mut end = start;
    while end < heads.len() && batch.len() < BATCH_MESSAGES {
        let h = &heads[end];
        if h.candidate {
            if !batch.is_empty() && bytes + h.size > BATCH_BYTES {
                break;
            }
            bytes += h.size;
            batch.push(h);
        }
        end += 1;
    }
    (batch, end)
}

/// A downloaded message, its verdict, and when the server received it.
type Judgement<'f> = (
    &'f [u8],
    crate::ingest::Judged,
    Option<chrono::DateTime<chrono::Utc>>,
);

/// What storing one candidate did.
enum Stored {
    /// Stored for the first time.
    New,
    /// Seen before (same bytes): nothing changed, but the action is due.
    Again,
    /// Not stored: over the size limit, or gone before download.
    Skipped,
}

/// What the header pass learned about one message.
struct Head {
    uid: u32,
    size: u64,
    candidate: bool,
    /// From and Subject, for the event about an oversized message.
    summary: Option<String>,
}

fn header_summary(header: &[u8]) -> String {
    let Some(msg) = mail_parser::MessageParser::default().parse_headers(header) else {
        return String::new();
    };
    let from = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or("?");
    format!("From: {from}, Subject: {}", msg.subject().unwrap_or(""))
}

/// A compact UID set: `1:5,7,9:12`.
pub fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(uid: u32, size: u64, candidate: bool) -> Head {
        Head {
            uid,
            size,
            candidate,
            summary: None,
        }
    }

    #[test]
    fn a_batch_spans_non_candidates_and_stops_at_the_byte_budget() {
        let heads = [
            head(1, 10, false),
            head(2, BATCH_BYTES - 5, true),
            head(3, 10, false),
            head(4, 10, true),
            head(5, 10, true),
        ];
        let (batch, end) = next_batch(&heads, 0);
        assert_eq!(batch.iter().map(|h| h.uid).collect::<Vec<_>>(), [2]);
        assert_eq!(end, 3);
        let (batch, end) = next_batch(&heads, end);
        assert_eq!(batch.iter().map(|h| h.uid).collect::<Vec<_>>(), [4, 5]);
        assert_eq!(end, 5);
        // One message over the budget still makes a batch of its own.
        let big = [head(9, BATCH_BYTES * 2, true)];
        assert_eq!(next_batch(&big, 0).0.len(), 1);
    }

    #[test]
    fn uid_sets_are_compact_and_sorted() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8, 12]), "1:3,5,7:8,12");
        assert_eq!(uid_set(&[9, 3, 4, 3]), "3:4,9");
        assert_eq!(uid_set(&[42]), "42");
    }
}
