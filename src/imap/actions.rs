//! The after-processing action (mark seen, or move) on messages whose rows
//! are committed, and the ledger that makes it survive a crash: every
//! action is recorded with the message and cleared once done.

use anyhow::Result;
use futures_util::TryStreamExt;

use super::conn::{AFTER_PROCESSING_STEPS, UID_WINDOW};
use super::conn::{ImapSession, within};
use super::fetch::uid_set;
use super::mutf7;
use super::watcher::{Account, Pass};
use crate::config::AfterProcessing;
use crate::store;

impl Account {
    /// Retries the actions a crash or a failure left undone, before this
    /// sync stores anything new; and forgets those under an old UIDVALIDITY.
    pub(super) async fn retry_actions(
        &self,
        sess: &mut ImapSession,
        pass: Pass<'_>,
        conn: &mut impl crate::store::Exec,
        uidvalidity: u32,
    ) -> Result<()> {
        let name = pass.status.name.as_str();
        let (current, stale): (Vec<_>, Vec<_>) = store::pending_actions(conn, name)
            .await?
            .into_iter()
            .partition(|(v, _)| *v == uidvalidity);
        if !stale.is_empty() {
            store::drop_stale_actions(conn, name, uidvalidity).await?;
            tracing::warn!(
                mailbox = name,
                "forgot the after-processing of {} messages from before the UIDVALIDITY change; the rescan handles them again",
                stale.len()
            );
        }
        let pending: Vec<u32> = current.into_iter().map(|(_, uid)| uid).collect();
        for uids in pending.chunks(UID_WINDOW as usize) {
            if pass.shutdown.is_cancelled() {
                break;
            }
            tracing::info!(
                mailbox = name,
                n = uids.len(),
                "retrying after-processing left undone"
            );
            pass.status
                .expect_within(self.settings.command_timeout * AFTER_PROCESSING_STEPS);
            self.after_processing(sess, conn, name, uidvalidity, uids, pass.has_move)
                .await?;
        }
        Ok(())
    }

    /// Marks or moves messages once their rows are committed, then clears
    /// their pending rows. A failure is logged and counted on those rows,
    /// which the next sync retries; only a database error is returned.
    pub(super) async fn after_processing(
        &self,
        sess: &mut ImapSession,
        conn: &mut impl crate::store::Exec,
        name: &str,
        uidvalidity: u32,
        uids: &[u32],
        has_move: bool,
    ) -> Result<()> {
        let limit = self.settings.command_timeout;
        let set = uid_set(uids);
        let result: Result<()> = async {
            match &self.settings.after_processing {
                AfterProcessing::Nothing => {}
                AfterProcessing::MarkSeen => {
                    let stream = within(
                        limit,
                        "UID STORE +FLAGS (\\Seen)",
                        sess.uid_store(&set, "+FLAGS.SILENT (\\Seen)"),
                    )
                    .await?;
                    within(limit, "UID STORE", drain(stream)).await?;
                }
                AfterProcessing::MoveTo(to) if has_move => {
                    within(limit, "UID MOVE", sess.uid_mv(&set, mutf7::wire(to))).await?;
                }
                AfterProcessing::MoveTo(to) => {
                    within(limit, "UID COPY", sess.uid_copy(&set, mutf7::wire(to))).await?;
                    let stream = within(
                        limit,
                        "UID STORE +FLAGS (\\Deleted)",
                        sess.uid_store(&set, "+FLAGS.SILENT (\\Deleted)"),
                    )
                    .await?;
                    within(limit, "UID STORE", drain(stream)).await?;
                    let stream = within(limit, "UID EXPUNGE", sess.uid_expunge(&set)).await?;
                    within(limit, "UID EXPUNGE", drain(stream)).await?;
                }
            }
            Ok(())
        }
        .await;
        let error = result.err().map(|e| crate::render::error(&e));
        if let Some(e) = &error {
            tracing::warn!(
                mailbox = name,
                "after-processing of UIDs {set} failed; the messages are stored, stay where they are, and the action is retried on the next sync: {e}"
            );
        }
        let now = crate::timestamp::Timestamp::now();
        store::settle_actions(conn, name, uidvalidity, uids, error.as_deref(), &now).await?;
        Ok(())
    }
}

async fn drain<S, T>(stream: S) -> std::result::Result<(), async_imap::error::Error>
where
    S: futures_util::Stream<Item = std::result::Result<T, async_imap::error::Error>>,
{
    futures_util::pin_mut!(stream);
    while stream.try_next().await?.is_some() {}
    Ok(())
}
