//! What an operator does to a request by hand — approve one awaiting
//! review, mark it requested or granted, cancel it, retry it — each checked
//! against the state machine and recorded in `request_events` with who did
//! it and when. No SQL of its own.

use chrono::{DateTime, Utc};

use crate::model::{Actor, EventKind, RequestId, RequestState};
use crate::store::{self, Event, Immediate};
use crate::timestamp::Timestamp;

/// Why an operator action was refused.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("request #{id} is {state}; {action} applies only to {allowed}")]
    NotAllowed {
        id: RequestId,
        state: RequestState,
        action: &'static str,
        allowed: String,
    },
    #[error("request #{0} changed while this ran; run the command again")]
    Raced(RequestId),
}

/// What an operator may mark a request as by hand: filed (`requested`) or
/// approved by the merchant (`granted`), and nothing else. Read once, where
/// the command line or the status page's form names it, so no other state
/// can reach [`apply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Requested,
    Granted,
}

impl Mark {
    pub const ALL: [Mark; 2] = [Mark::Requested, Mark::Granted];

    /// The state the mark moves a request to.
    pub fn state(self) -> RequestState {
        match self {
            Mark::Requested => RequestState::Requested,
            Mark::Granted => RequestState::Granted,
        }
    }
}

impl std::str::FromStr for Mark {
    type Err = String;

    /// `requested` or `granted`, as the state is written.
    fn from_str(s: &str) -> Result<Mark, String> {
        Mark::ALL
            .into_iter()
            .find(|m| m.state().as_str() == s)
            .ok_or_else(|| {
                format!(
                    "`{s}`: mark takes `{}` or `{}`",
                    Mark::Requested.state(),
                    Mark::Granted.state()
                )
            })
    }
}

/// An operator action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The operator filed it by hand (or the merchant approved it).
    Mark(Mark),
    Cancel,
    /// Queue a failed request again, or a waiting one for now.
    Retry,
    /// Let the worker file a request awaiting review: it becomes queued.
    Approve,
}

/// The states a retry applies to: failed and logged ones are queued
/// again, a queued one is made due now.
const RETRIABLE: [RequestState; 3] = [
    RequestState::Failed,
    RequestState::Logged,
    RequestState::Queued,
];

impl Action {
    /// Whether this action applies to a request in state `from` (the
    /// status page offers only these; [`apply`] checks again).
    pub fn applies_to(self, from: RequestState) -> bool {
        match self {
            Action::Retry => RETRIABLE.contains(&from),
            Action::Mark(to) => from.can_move_to(to.state()),
            Action::Cancel => from.can_move_to(RequestState::Cancelled),
            Action::Approve => from == RequestState::AwaitingReview,
        }
    }

    /// The states this action applies to, for a refusal's message.
    fn allowed(self) -> Vec<RequestState> {
        match self {
            Action::Retry => RETRIABLE.to_vec(),
            _ => RequestState::ALL
                .iter()
                .copied()
                .filter(|s| self.applies_to(*s))
                .collect(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Action::Mark(Mark::Requested) => "mark requested",
            Action::Mark(Mark::Granted) => "mark granted",
            Action::Cancel => "cancel",
            Action::Retry => "retry",
            Action::Approve => "approve",
        }
    }
}

/// Who is acting: `--by`, else the login behind sudo, else the user.
pub fn operator_name(by: Option<&str>) -> Actor {
    let name = by
        .map(str::to_owned)
        .or_else(|| std::env::var("SUDO_USER").ok())
        .or_else(|| std::env::var("USER").ok())
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    Actor::operator(&name)
}

/// Applies `action` to request `id` in one transaction; returns the state
/// the request is in afterwards.
pub async fn apply(
    conn: &mut impl crate::store::Exec,
    id: RequestId,
    action: Action,
    actor: &Actor,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<RequestState, ActionError> {
    let now_s = Timestamp::from(now);
    let mut tx = Immediate::begin(conn).await?;
    let request = store::get_request(&mut tx, id).await?;
    let from = request.state;
    let refuse = |allowed: &[RequestState]| ActionError::NotAllowed {
        id,
        state: from,
        action: action.name(),
        allowed: allowed
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let detail = note.map_or_else(
        || action.name().to_owned(),
        |n| format!("{}: {n}", action.name()),
    );
    let event = Event {
        request_id: Some(id),
        message_id: None,
        actor,
        event: EventKind::Operator,
        from_state: None,
        to_state: None,
        detail: Some(&detail),
    };
    let to = match action {
        Action::Mark(to) => to.state(),
        Action::Cancel => RequestState::Cancelled,
        Action::Retry if from == RequestState::Queued => {
            // Already queued, perhaps waiting out a backoff: make it due now.
            store::make_due(&mut tx, id, &now_s).await?;
            store::add_event(&mut tx, &event, &now_s).await?;
            tx.commit().await?;
            return Ok(from);
        }
        Action::Retry | Action::Approve => RequestState::Queued,
    };
    if !action.applies_to(from) {
        return Err(refuse(&action.allowed()));
    }
    if !store::transition(&mut tx, id, from, to, &event, &now_s).await? {
        return Err(ActionError::Raced(id));
    }
    match to {
        RequestState::Requested => store::set_filed_at(&mut tx, id, &now_s).await?,
        RequestState::Queued => store::make_due(&mut tx, id, &now_s).await?,
        _ => {}
    }
    tx.commit().await?;
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_is_requested_or_granted_only() {
        assert_eq!("requested".parse(), Ok(Mark::Requested));
        assert_eq!("granted".parse(), Ok(Mark::Granted));
        for other in ["queued", "declined", "Granted", ""] {
            let err = other.parse::<Mark>().unwrap_err();
            assert!(err.contains("`requested` or `granted`"), "{err}");
        }
        assert_eq!(Action::Mark(Mark::Granted).name(), "mark granted");
        assert!(Action::Mark(Mark::Requested).applies_to(RequestState::Notified));
        assert!(!Action::Mark(Mark::Requested).applies_to(RequestState::Granted));
    }
}
