//! Where a sync starts: the folder's UIDVALIDITY reconciled with the
//! checkpoint, and the UIDNEXT that bounds every UID the server may then
//! send. A session's first sync learns both from SELECT; a sync after the
//! server announced new mail in the folder it still has selected learns
//! them from `STATUS (UIDNEXT UIDVALIDITY)`. Fetching is in `fetch`.
//!
//! Why not SELECT every time: SELECT makes the server take in the whole
//! folder again (Dovecot, 10,000 messages in Maildir: 12–29 ms, most of
//! collabd's time from IDLE's news to the stored row, and more on a busy
//! host), where STATUS reads its counters (0.04–0.07 ms). RFC 3501 §6.3.10
//! asks clients not to use STATUS on the selected mailbox, since the server
//! may have to open it a second time and the session usually knows the
//! answer, and never as the check for new mail (Dovecot answers it, right
//! and fast, tagged `[CLIENTBUG]`). Here the session does not know UIDNEXT
//! without a SELECT, and the check for new mail stays IDLE's announcement.
//! A server that refuses STATUS there, leaves out UIDNEXT or UIDVALIDITY,
//! names another UIDVALIDITY, or shows no mail above the checkpoint though
//! it just announced some (a STATUS lagging behind the selected folder) gets
//! a SELECT instead, as does every wake-up that is not an announcement.

use anyhow::{Context as _, Result, anyhow};
use async_imap::error::Error as ImapError;

use super::answers;
use super::conn::{self, ImapSession, within};
use super::mutf7;
use super::status::FolderStatus;
use super::watcher::{Account, Selection};
use crate::store;

/// What a sync fetches, once its bound is known.
pub(super) struct Bound {
    pub(super) uidvalidity: u32,
    /// The checkpoint to fetch above and the newest UID (UIDNEXT − 1) when
    /// the server said; `None` when there is nothing new.
    pub(super) new: Option<(u32, Option<u32>)>,
}

impl Account {
    /// The bound for this sync: from STATUS when the server `announced` new
    /// mail in the folder the session still has selected, else (or when
    /// STATUS will not do) from a SELECT, which `selection` then records.
    pub(super) async fn bound(
        &self,
        sess: &mut ImapSession,
        status: &FolderStatus,
        conn: &mut impl crate::store::Exec,
        selection: &mut Selection,
        announced: bool,
    ) -> Result<Bound> {
        if let Some(selected) = selection.uidvalidity.filter(|_| announced)
            && !selection.no_status
            && let Some(bound) = self
                .status_bound(sess, status, conn, selected, selection)
                .await?
        {
            return Ok(bound);
        }
        let bound = self.select(sess, status, conn).await?;
        selection.uidvalidity = Some(bound.uidvalidity);
        Ok(bound)
    }

    /// The bound from `STATUS (UIDNEXT UIDVALIDITY)` on the folder the
    /// session has selected under `selected`; `None` when a SELECT must give
    /// it instead (see the module's note).
    async fn status_bound(
        &self,
        sess: &mut ImapSession,
        status: &FolderStatus,
        conn: &mut impl crate::store::Exec,
        selected: u32,
        selection: &mut Selection,
    ) -> Result<Option<Bound>> {
        let limit = self.settings.command_timeout;
        let name = status.name.as_str();
        status.expect_within(limit);
        let asked = sess.status(mutf7::wire(&status.folder), "(UIDNEXT UIDVALIDITY)");
        // A refusal is an answer, not a failure: SELECT will do.
        let answer = within(limit, "STATUS", async {
            Ok::<_, std::convert::Infallible>(asked.await)
        })
        .await?;
        let mb = match answer {
            Ok(mb) => mb,
            Err(ImapError::No(said) | ImapError::Bad(said)) => {
                tracing::info!(
                    mailbox = name,
                    "the server refused STATUS on the selected folder (\"{}\"); this session SELECTs before every sync instead",
                    conn::server_said(&said)
                );
                selection.no_status = true;
                return Ok(None);
            }
            Err(e) => return Err(conn::failed("STATUS", e.into())),
        };
        let (Some(uidvalidity), Some(next)) = (mb.uid_validity, mb.uid_next) else {
            tracing::info!(
                mailbox = name,
                "the server's STATUS on the selected folder left out UIDNEXT or UIDVALIDITY; this session SELECTs before every sync instead"
            );
            selection.no_status = true;
            return Ok(None);
        };
        if uidvalidity != selected {
            tracing::info!(
                mailbox = name,
                "STATUS names UIDVALIDITY {uidvalidity}, the folder was selected under {selected}: selecting it again"
            );
            return Ok(None);
        }
        answers::uid_next("STATUS", &status.folder, Some(next))?;
        let last_uid = match store::mailbox_checkpoint(conn, name).await? {
            Some((Some(v), uid)) if v == uidvalidity => uid,
            // Not reconciled with this UIDVALIDITY yet: SELECT does that.
            _ => return Ok(None),
        };
        // Past the zero check, `next - 1` holds. Nothing above the
        // checkpoint though mail was announced (or a UIDNEXT gone back,
        // which SELECT's own check then refuses): SELECT settles it.
        let upto = next - 1;
        if upto <= last_uid {
            tracing::debug!(
                mailbox = name,
                uid_next = next,
                last_uid,
                "STATUS shows no new mail though some was announced: selecting the folder again"
            );
            return Ok(None);
        }
        tracing::debug!(mailbox = name, uid_next = next, "bound by STATUS");
        Ok(Some(Bound {
            uidvalidity,
            new: Some((last_uid, Some(upto))),
        }))
    }

    /// SELECTs the folder and reconciles its UIDVALIDITY with the checkpoint.
    async fn select(
        &self,
        sess: &mut ImapSession,
        status: &FolderStatus,
        conn: &mut impl crate::store::Exec,
    ) -> Result<Bound> {
        let limit = self.settings.command_timeout;
        let name = status.name.as_str();
        status.expect_within(limit);
        let mb = within(limit, "SELECT", sess.select(mutf7::wire(&status.folder)))
            .await
            .with_context(|| {
                format!(
                    "cannot open folder `{}` (check {}.folders)",
                    status.folder, self.settings.key
                )
            })?;
        let uidvalidity = mb
            .uid_validity
            .ok_or_else(|| anyhow!("the server sent no UIDVALIDITY for `{}`", status.folder))?;
        let uid_next = answers::uid_next("SELECT", &status.folder, mb.uid_next)?;
        let last_uid = match store::mailbox_checkpoint(conn, name).await? {
            Some((Some(v), uid)) if v == uidvalidity => uid,
            previous => {
                if let Some((Some(old), _)) = previous {
                    tracing::warn!(
                        mailbox = name,
                        "UIDVALIDITY changed from {old} to {uidvalidity} (the folder was recreated or restored): rescanning it; messages already stored are recognised and not stored twice"
                    );
                }
                status.expect_within(limit);
                let start = self.first_uid(sess, &status.folder, &mb).await?;
                let now = crate::timestamp::Timestamp::now();
                store::set_checkpoint(conn, name, uidvalidity, start, &now).await?;
                start
            }
        };
        if let Some(next) = uid_next {
            answers::uid_next_ahead(&status.folder, next, last_uid, uidvalidity)?;
        }
        // Past the checks UIDNEXT is above the checkpoint, so `next - 1` holds.
        let upto = uid_next.map(|next| next - 1);
        tracing::debug!(mailbox = name, uid_next = ?uid_next, "bound by SELECT");
        let nothing_new = mb.exists == 0 || upto == Some(last_uid);
        Ok(Bound {
            uidvalidity,
            new: (!nothing_new).then_some((last_uid, upto)),
        })
    }

    /// The checkpoint to start from when a folder is first seen (or its
    /// UIDVALIDITY changed): 0 for all mail, or just before the first message
    /// on or after `since`.
    async fn first_uid(
        &self,
        sess: &mut ImapSession,
        folder: &str,
        mb: &async_imap::types::Mailbox,
    ) -> Result<u32> {
        let Some(since) = self.settings.since else {
            return Ok(0);
        };
        let query = format!("SINCE {}", since.format("%-d-%b-%Y"));
        let uids = within(
            self.settings.command_timeout,
            "UID SEARCH",
            sess.uid_search(&query),
        )
        .await?;
        Ok(
            match answers::before_first_found(folder, &uids, mb.uid_next)? {
                Some(start) => start,
                None => mb.uid_next.map_or(0, |n| n.saturating_sub(1)),
            },
        )
    }
}
