//! Checks on the UIDs an IMAP server sends, made before any of them moves a
//! folder's checkpoint. A broken or hostile server once answered
//! `* SEARCH 0`, the checkpoint wrapped to 4294967295 and nothing was read
//! again; an answer that breaks the rules now ends the session with an
//! error naming the folder and what was sent, and the checkpoint stays.
//! Knows nothing of sessions or the database.

use std::collections::HashSet;
use std::fmt;

/// An answer that breaks RFC 3501's rules for UIDs (§2.3.1.1: a UID is a
/// non-zero 32-bit number, and UIDs only grow while UIDVALIDITY stays).
/// Acting on it could skip mail or stop reading for good, so the session
/// ends and the watcher retries with backoff, as for any error.
#[derive(Debug, thiserror::Error)]
pub enum BadAnswer {
    #[error(
        "the server answered {command} in `{folder}` with UID 0, which is invalid (RFC 3501 §2.3.1.1); not moving the checkpoint. Retrying with backoff; if it persists, the IMAP server is at fault"
    )]
    UidZero { folder: String, command: String },
    #[error(
        "the server answered UID FETCH BODY[] in `{folder}` without the body of UID {uid}, which UID SEARCH says still exists; not moving the checkpoint, so it is not skipped. Retrying with backoff; if it persists, the IMAP server is at fault"
    )]
    BodyWithheld { folder: String, uid: u32 },
    #[error(
        "the server answered {command} of `{folder}` with UIDNEXT 0, which is invalid (RFC 3501 §2.3.1.1); not moving the checkpoint. Retrying with backoff; if it persists, the IMAP server is at fault"
    )]
    UidNextZero { folder: String, command: String },
    #[error(
        "the server answered UID SEARCH in `{folder}` with UID {uid}, at or above the folder's UIDNEXT {uid_next}, which is invalid (RFC 3501 §2.3.1.1); not moving the checkpoint. Retrying with backoff; if it persists, the IMAP server is at fault"
    )]
    SearchBeyondUidNext {
        folder: String,
        uid: u32,
        uid_next: u32,
    },
    #[error(
        "the server answered UID FETCH {range} in `{folder}` with UID {uid}, outside the UIDs asked for; not moving the checkpoint. Retrying with backoff; if it persists, the IMAP server is at fault"
    )]
    FetchOutsideRange {
        folder: String,
        range: UidRange,
        uid: u32,
    },
    #[error(
        "the server says UIDNEXT of `{folder}` is {uid_next}, but UID {last_uid} was already read under the same UIDVALIDITY {uidvalidity}: UIDs never go backwards (RFC 3501 §2.3.1.1); not moving the checkpoint, so new mail below it would be missed. Retrying with backoff. If the folder was restored from a backup without a new UIDVALIDITY, delete its row from mailbox_state to rescan it (stored messages are recognised, not stored twice)"
    )]
    UidNextBackwards {
        folder: String,
        uid_next: u32,
        last_uid: u32,
        uidvalidity: u32,
    },
}

/// The UIDs one UID FETCH asks for: `from:to`, or `from:*` when the newest
/// UID is not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UidRange {
    pub from: u32,
    pub to: Option<u32>,
}

impl fmt::Display for UidRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to {
            Some(to) => write!(f, "{}:{to}", self.from),
            None => write!(f, "{}:*", self.from),
        }
    }
}

/// The UIDNEXT a SELECT or STATUS (`command`) reported, if any, when it
/// is a possible one.
pub fn uid_next(
    command: &str,
    folder: &str,
    uid_next: Option<u32>,
) -> Result<Option<u32>, BadAnswer> {
    match uid_next {
        Some(0) => Err(BadAnswer::UidNextZero {
            folder: folder.to_owned(),
            command: command.to_owned(),
        }),
        other => Ok(other),
    }
}

/// The checkpoint may only be behind UIDNEXT: at or above it, the server
/// has gone back on UIDs it already gave out.
pub fn uid_next_ahead(
    folder: &str,
    uid_next: u32,
    last_uid: u32,
    uidvalidity: u32,
) -> Result<(), BadAnswer> {
    if uid_next <= last_uid {
        return Err(BadAnswer::UidNextBackwards {
            folder: folder.to_owned(),
            uid_next,
            last_uid,
            uidvalidity,
        });
    }
    Ok(())
}

/// The checkpoint just before the first UID a `UID SEARCH` found, or `None`
/// when it found nothing. Every UID must be non-zero and below UIDNEXT.
pub fn before_first_found(
    folder: &str,
    found: &HashSet<u32>,
    uid_next: Option<u32>,
) -> Result<Option<u32>, BadAnswer> {
    if found.contains(&0) {
        return Err(BadAnswer::UidZero {
            folder: folder.to_owned(),
            command: "UID SEARCH".to_owned(),
        });
    }
    if let Some(next) = uid_next
        && let Some(&uid) = found.iter().filter(|u| **u >= next).max()
    {
        return Err(BadAnswer::SearchBeyondUidNext {
            folder: folder.to_owned(),
            uid,
            uid_next: next,
        });
    }
    Ok(found.iter().min().and_then(|first| first.checked_sub(1)))
}

/// A UID in an answer to `UID FETCH range`: never 0, never past the end of
/// a bounded range (it would carry the checkpoint past mail not read).
pub fn fetched(folder: &str, range: UidRange, uid: u32) -> Result<u32, BadAnswer> {
    if uid == 0 {
        return Err(BadAnswer::UidZero {
            folder: folder.to_owned(),
            command: format!("UID FETCH {range}"),
        });
    }
    if range.to.is_some_and(|to| uid > to) {
        return Err(BadAnswer::FetchOutsideRange {
            folder: folder.to_owned(),
            range,
            uid,
        });
    }
    Ok(uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(uids: &[u32]) -> HashSet<u32> {
        uids.iter().copied().collect()
    }

    #[test]
    fn search_uid_0_is_refused_rather_than_wrapping_the_checkpoint() {
        let e = before_first_found("INBOX", &set(&[0]), Some(5)).unwrap_err();
        assert_eq!(
            e.to_string().split(". Retrying").next().unwrap(),
            "the server answered UID SEARCH in `INBOX` with UID 0, which is invalid (RFC 3501 §2.3.1.1); not moving the checkpoint"
        );
        assert!(before_first_found("INBOX", &set(&[0, 3]), None).is_err());
    }

    #[test]
    fn search_answers_at_or_past_uidnext_are_refused() {
        let e = before_first_found("Leads", &set(&[2, 9]), Some(5)).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("`Leads`") && text.contains("UID 9") && text.contains("UIDNEXT 5"),
            "{text}"
        );
        assert!(before_first_found("Leads", &set(&[5]), Some(5)).is_err());
    }

    #[test]
    fn a_valid_search_answer_starts_just_before_the_first_uid() {
        assert_eq!(
            before_first_found("INBOX", &set(&[7, 3, 4]), Some(8)).unwrap(),
            Some(2)
        );
        assert_eq!(
            before_first_found("INBOX", &set(&[1]), None).unwrap(),
            Some(0)
        );
        assert_eq!(
            before_first_found("INBOX", &set(&[]), Some(8)).unwrap(),
            None
        );
    }

    #[test]
    fn uidnext_may_not_fall_to_or_below_the_checkpoint() {
        assert!(uid_next_ahead("INBOX", 6, 5, 7).is_ok());
        let e = uid_next_ahead("INBOX", 3, 5, 7).unwrap_err().to_string();
        assert!(
            e.contains("UIDNEXT of `INBOX` is 3") && e.contains("UID 5") && e.contains("7"),
            "{e}"
        );
        assert!(uid_next_ahead("INBOX", 5, 5, 7).is_err());
        let e = uid_next("STATUS", "INBOX", Some(0))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("answered STATUS of `INBOX` with UIDNEXT 0"),
            "{e}"
        );
        assert_eq!(uid_next("SELECT", "INBOX", None).unwrap(), None);
        assert_eq!(uid_next("SELECT", "INBOX", Some(9)).unwrap(), Some(9));
    }

    #[test]
    fn fetched_uids_must_be_non_zero_and_inside_a_bounded_range() {
        let bounded = UidRange {
            from: 3,
            to: Some(10),
        };
        let open = UidRange { from: 3, to: None };
        assert_eq!(fetched("INBOX", bounded, 4).unwrap(), 4);
        assert!(fetched("INBOX", bounded, 0).is_err());
        let e = fetched("INBOX", bounded, u32::MAX).unwrap_err().to_string();
        assert!(
            e.contains("UID FETCH 3:10") && e.contains("4294967295"),
            "{e}"
        );
        assert_eq!(fetched("INBOX", open, u32::MAX).unwrap(), u32::MAX);
        assert!(fetched("INBOX", open, 0).is_err());
        // Below the range is left to the caller: `n:*` names the last
        // message even when its UID is below n.
        assert_eq!(fetched("INBOX", open, 1).unwrap(), 1);
    }
}
