//! Domain values with rules: store domains, collaborator codes, request ids,
//! message kinds, request states, event kinds, actors and the IMAP watcher's
//! states. Knows nothing of email, SQL or IMAP; the store decodes its text
//! columns into these types.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// A Shopify store's permanent `<handle>.myshopify.com` domain, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreDomain(String);

impl StoreDomain {
    /// Normalises what a person or an email calls a store into its permanent
    /// domain: `https://www.Acme.myshopify.com/admin?x` → `acme.myshopify.com`,
    /// `admin.shopify.com/store/acme` → `acme.myshopify.com`, `acme` →
    /// `acme.myshopify.com`. Custom domains (`acme.com`) are refused: the
    /// request form only takes the permanent domain.
    pub fn parse(input: &str) -> Option<StoreDomain> {
        let wrapper = |c: char| {
            matches!(
                c,
                '<' | '>' | '(' | ')' | '[' | ']' | '"' | '\'' | ',' | ';' | '*' | ':'
            )
        };
        let mut s = input.trim();
        loop {
            let t = s.trim_matches(wrapper).trim_end_matches('.').trim();
            if t.len() == s.len() {
                break;
            }
            s = t;
        }
        let lower = s.to_ascii_lowercase();
        let mut rest = lower.as_str();
        for scheme in ["https://", "http://"] {
            if let Some(r) = rest.strip_prefix(scheme) {
                rest = r;
            }
        }
        rest = rest.strip_prefix("www.").unwrap_or(rest);
        if let Some(after) = rest.strip_prefix("admin.shopify.com/store/") {
            let handle = after.split(['/', '?', '#']).next().unwrap_or("");
            return Self::from_handle(handle);
        }
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = host.trim_end_matches('.');
        if let Some(handle) = host.strip_suffix(".myshopify.com") {
            return Self::from_handle(handle);
        }
        if host.len() == rest.trim_end_matches('/').len() && !host.contains('.') {
            return Self::from_handle(host);
        }
        None
    }

    /// Builds the domain from a bare handle (`acme`), checking Shopify's rules.
    pub fn from_handle(handle: &str) -> Option<StoreDomain> {
        if is_valid_handle(handle) {
            let mut domain = String::with_capacity(handle.len() + 14);
            domain.push_str(handle);
            domain.push_str(".myshopify.com");
            Some(StoreDomain(domain))
        } else {
            None
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The handle before `.myshopify.com`.
    pub fn handle(&self) -> &str {
        self.0.strip_suffix(".myshopify.com").unwrap_or(&self.0)
    }
}

/// `^[a-z0-9][a-z0-9_-]*$`, at most 63 characters (one DNS label).
fn is_valid_handle(h: &str) -> bool {
    let b = h.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_')
}

impl fmt::Display for StoreDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for StoreDomain {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A Shopify collaborator request code: exactly four ASCII digits, kept as
/// text because leading zeros matter ("0105").
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CollaboratorCode(String);

impl CollaboratorCode {
    pub fn parse(s: &str) -> Option<CollaboratorCode> {
        let s = s.trim();
        (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| CollaboratorCode(s.to_owned()))
    }

    /// The full code, for the filer and the database; never for logs.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The code as logs and tables show it: only the last two digits.
    pub fn masked(&self) -> String {
        mask_code(&self.0)
    }
}

/// Masks a code for display: `0105` → `**05`.
pub fn mask_code(code: &str) -> String {
    let tail: String = code
        .chars()
        .rev()
        .take(2)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("**{tail}")
}

/// Debug never shows the whole code, so a `{:?}` in a log cannot leak it.
impl fmt::Debug for CollaboratorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CollaboratorCode({})", self.masked())
    }
}

impl Serialize for CollaboratorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// The id of a row in `access_requests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RequestId(pub i64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl RequestId {
    /// The key every filer sends with this request (`collabd-request-<id>`),
    /// so a retry after a crash cannot become a second request downstream.
    pub fn idempotency_key(self) -> String {
        format!("collabd-request-{}", self.0)
    }
}

impl FromStr for RequestId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .trim_start_matches('#')
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(RequestId)
            .ok_or_else(|| {
                format!("`{s}` is not a request id (a positive number, as `collabd status` shows)")
            })
    }
}

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        "`{s}` is not one of: {}",
                        [$($text,)+].join(", ")
                    )) }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

text_enum! {
    /// What a message turned out to be (`messages.kind`).
    MessageKind {
        LeadsieGrant = "leadsie_grant",
        ShopifyGranted = "shopify_granted",
        ShopifyDeclined = "shopify_declined",
        ShopifyRevoked = "shopify_revoked",
        ShopifyOther = "shopify_other",
        Ignored = "ignored",
        Rejected = "rejected",
        Unparseable = "unparseable",
        // Never stored in `messages`: a message whose DKIM check met a DNS
        // failure waits in `deferred_message` until it can be judged.
        Deferred = "deferred",
    }
}

text_enum! {
    /// Shopify's answer to a collaborator request.
    OutcomeResult {
        Granted = "granted",
        Declined = "declined",
        Revoked = "revoked",
    }
}

impl OutcomeResult {
    pub fn kind(self) -> MessageKind {
        match self {
            OutcomeResult::Granted => MessageKind::ShopifyGranted,
            OutcomeResult::Declined => MessageKind::ShopifyDeclined,
            OutcomeResult::Revoked => MessageKind::ShopifyRevoked,
        }
    }

    /// The request state this outcome moves a request to.
    pub fn state(self) -> RequestState {
        match self {
            OutcomeResult::Granted => RequestState::Granted,
            OutcomeResult::Declined => RequestState::Declined,
            OutcomeResult::Revoked => RequestState::Revoked,
        }
    }
}

/// The Partner Dashboard form for a managed-store (collaborator) request;
/// `current` stands for the logged-in organisation (see docs/design.md).
pub const PARTNER_DASHBOARD_URL: &str =
    "https://partners.shopify.com/current/stores/new?store_type=managed_store";

text_enum! {
    /// Where a request stands (`access_requests.state`); see docs/design.md.
    RequestState {
        /// Waits for an operator's approval before the worker may file it
        /// (`[worker] review`).
        AwaitingReview = "awaiting_review",
        Queued = "queued",
        Filing = "filing",
        Requested = "requested",
        Notified = "notified",
        Logged = "logged",
        Granted = "granted",
        Declined = "declined",
        Expired = "expired",
        Revoked = "revoked",
        Failed = "failed",
        Cancelled = "cancelled",
        Superseded = "superseded",
    }
}

impl RequestState {
    /// Open requests still wait on someone: us, the operator or the merchant.
    /// A newer code for the same store supersedes an open request. A
    /// `logged` one (the dry-run `log` filer's) is open too: nobody was told,
    /// so it waits on the operator; so does one awaiting review.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            RequestState::AwaitingReview
                | RequestState::Queued
                | RequestState::Filing
                | RequestState::Requested
                | RequestState::Notified
                | RequestState::Logged
        )
    }

    /// Whether a Shopify email may move a request in this state to `to`:
    /// only a request that was filed (or handed to a person to file, or
    /// logged in a dry run, which a person may have filed by hand) can
    /// have been answered; a reply about a queued one is news to check.
    pub fn mail_may_move_to(self, to: RequestState) -> bool {
        use RequestState::*;
        matches!(self, Requested | Notified | Logged | Expired | Granted) && self.can_move_to(to)
    }

    /// Every allowed state change, written once. Anything not listed is refused.
    pub fn can_move_to(self, to: RequestState) -> bool {
        use RequestState::*;
        match (self, to) {
            (Queued, Filing) | (Filing, Queued) => true,
            // An operator's approval; the worker never claims a request
            // awaiting review.
            (AwaitingReview, Queued) => true,
            (Filing, Requested | Notified | Logged | Failed) => true,
            // Filed again: after a failure, or for real after a dry run.
            (Failed | Logged, Queued) => true,
            // Operator marks and Shopify replies can come before the worker
            // has run (someone filed by hand), also while a review waits.
            (AwaitingReview | Queued | Notified | Logged, Requested) => true,
            (
                AwaitingReview | Queued | Filing | Requested | Notified | Logged | Expired,
                Granted,
            ) => true,
            (
                AwaitingReview | Queued | Filing | Requested | Notified | Logged | Expired,
                Declined,
            ) => true,
            // A logged request was never filed: Shopify cannot drop it.
            (Requested | Notified, Expired) => true,
            (Granted, Revoked) => true,
            (from, Cancelled | Superseded) => from.is_open(),
            _ => false,
        }
    }
}

text_enum! {
    /// What happened to a request, or to a message that concerns none
    /// (`request_events.event`).
    EventKind {
        /// A Leadsie grant created the request.
        Created = "created",
        /// The same store and code arrived again.
        SeenAgain = "seen_again",
        /// A newer code for the store replaced this request's.
        Superseded = "superseded",
        /// A worker claimed the request for a filing attempt.
        Claimed = "claimed",
        Filed = "filed",
        /// A filing attempt failed and will be tried again.
        Retry = "retry",
        /// A filing attempt failed for good.
        Failed = "failed",
        Expired = "expired",
        Reminder = "reminder",
        /// An operator's mark, cancel or retry.
        Operator = "operator",
        /// Shopify's reply moved the request.
        Outcome = "outcome",
        /// Shopify replied about a request that was never filed.
        OutcomeUnfiled = "outcome_unfiled",
        /// Shopify replied about a request already settled.
        OutcomeIgnored = "outcome_ignored",
        /// Shopify replied about no request we know.
        UnmatchedOutcome = "unmatched_outcome",
        /// A message over `imap.max_message_bytes` was not downloaded.
        SkippedOversize = "skipped_oversize",
        /// A stored message was judged again under newer settings
        /// (`collabd rejudge`) and its verdict changed.
        Rejudged = "rejudged",
    }
}

text_enum! {
    /// What the watcher of one mailbox is doing (`mailbox_state.state`).
    WatcherState {
        Starting = "starting",
        Connecting = "connecting",
        Syncing = "syncing",
        Idle = "idle",
        Polling = "polling",
        /// Waiting to reconnect after an error.
        Backoff = "backoff",
        /// Another node (sharing the PostgreSQL database) watches the
        /// folder; this one takes it over if that node goes.
        Standby = "standby",
        Stopped = "stopped",
    }
}

impl WatcherState {
    /// Connected to the server: syncing, in IDLE, or between polls.
    pub fn is_connected(self) -> bool {
        matches!(
            self,
            WatcherState::Syncing | WatcherState::Idle | WatcherState::Polling
        )
    }
}

text_enum! {
    /// The browser filer's dashboard session as last seen
    /// (`browser_session.state`).
    SessionState {
        /// The filer has not used the dashboard yet.
        Unknown = "unknown",
        /// The dashboard showed its form: the profile's login works.
        SignedIn = "signed_in",
        /// The dashboard showed its sign-in page: requests wait for an
        /// operator's `collabd browser login`.
        LoginNeeded = "login_needed",
    }
}

text_enum! {
    /// What a queued request waits for when its last filing could not
    /// start for a reason outside the request (`access_requests.waiting_for`;
    /// null for a request that only waits for its retry). A wait is not an
    /// attempt.
    Wait {
        /// The browser filer's dashboard session lapsed: a new login makes
        /// the request due at once.
        BrowserLogin = "browser_login",
        /// The browser filer sent `worker.browser.per_hour` requests in the
        /// last hour.
        HourlyLimit = "hourly_limit",
        /// Another collabd process holds the browser profile (a
        /// `collabd browser login`, say).
        BrowserBusy = "browser_busy",
    }
}

/// Who wrote an event (`request_events.actor`): one of collabd's own parts,
/// or an operator by name (stored as `operator:<name>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A Leadsie grant email.
    Leadsie,
    /// A Shopify reply email.
    Shopify,
    Worker,
    Imap,
    /// A person, by the name `--by`, sudo or the login gave.
    Operator(String),
}

impl Actor {
    const OPERATOR_PREFIX: &'static str = "operator:";

    /// An operator acting under `name`, trimmed.
    pub fn operator(name: &str) -> Actor {
        Actor::Operator(name.trim().to_owned())
    }
}

impl FromStr for Actor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "leadsie" => Ok(Actor::Leadsie),
            "shopify" => Ok(Actor::Shopify),
            "worker" => Ok(Actor::Worker),
            "imap" => Ok(Actor::Imap),
            _ => match s.strip_prefix(Self::OPERATOR_PREFIX) {
                Some(name) => Ok(Actor::Operator(name.to_owned())),
                None => Err(format!(
                    "`{s}` is not an actor (leadsie, shopify, worker, imap or operator:<name>)"
                )),
            },
        }
    }
}

/// The text stored in `request_events.actor`.
impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Leadsie => f.write_str("leadsie"),
            Actor::Shopify => f.write_str("shopify"),
            Actor::Worker => f.write_str("worker"),
            Actor::Imap => f.write_str("imap"),
            Actor::Operator(name) => write!(f, "{}{name}", Self::OPERATOR_PREFIX),
        }
    }
}

impl Serialize for Actor {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_domains_normalise() {
        let cases = [
            ("acme.myshopify.com", Some("acme.myshopify.com")),
            (
                "https://www.Acme-Co.myshopify.com/admin?x=1",
                Some("acme-co.myshopify.com"),
            ),
            (
                "admin.shopify.com/store/ac3cb8",
                Some("ac3cb8.myshopify.com"),
            ),
            (
                "https://admin.shopify.com/store/acme/products",
                Some("acme.myshopify.com"),
            ),
            ("acme", Some("acme.myshopify.com")),
            ("acme.myshopify.com/", Some("acme.myshopify.com")),
            ("<acme.myshopify.com>.", Some("acme.myshopify.com")),
            ("acme.com", None),
            ("www.acme-store.com", None),
            ("-bad.myshopify.com", None),
            ("has space", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(
                StoreDomain::parse(input).as_ref().map(StoreDomain::as_str),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn codes_are_four_digits_with_leading_zeros() {
        assert_eq!(CollaboratorCode::parse("0105").unwrap().expose(), "0105");
        assert!(CollaboratorCode::parse("105").is_none());
        assert!(CollaboratorCode::parse("01055").is_none());
        assert!(CollaboratorCode::parse("01a5").is_none());
        assert_eq!(
            format!("{:?}", CollaboratorCode::parse("0105").unwrap()),
            "CollaboratorCode(**05)"
        );
    }

    #[test]
    fn transitions() {
        use RequestState::*;
        assert!(Queued.can_move_to(Filing));
        assert!(Granted.can_move_to(Revoked));
        assert!(!Granted.can_move_to(Queued));
        assert!(!Cancelled.can_move_to(Queued));
        assert!(Notified.can_move_to(Superseded));
        assert!(Filing.can_move_to(Logged));
        assert!(Logged.can_move_to(Requested) && Logged.can_move_to(Granted));
        assert!(Logged.can_move_to(Cancelled) && Logged.can_move_to(Superseded));
        assert!(Logged.mail_may_move_to(Granted));
        assert!(!Logged.can_move_to(Expired) && !Queued.can_move_to(Logged));
        assert!(!Granted.can_move_to(Superseded));
        assert!(!Declined.can_move_to(Granted));
        // Review: approval queues it, cancel and a newer code end it, the
        // worker never takes it and nothing expires it.
        assert!(AwaitingReview.is_open());
        assert!(AwaitingReview.can_move_to(Queued));
        assert!(AwaitingReview.can_move_to(Cancelled) && AwaitingReview.can_move_to(Superseded));
        assert!(!AwaitingReview.can_move_to(Filing) && !AwaitingReview.can_move_to(Expired));
        assert!(!AwaitingReview.mail_may_move_to(Granted));
        assert!(!Queued.can_move_to(AwaitingReview) && !Failed.can_move_to(AwaitingReview));
    }

    #[test]
    fn actors_keep_their_stored_text() {
        for text in ["leadsie", "shopify", "worker", "imap", "operator:alice"] {
            let actor: Actor = text.parse().unwrap();
            assert_eq!(actor.to_string(), text);
        }
        assert_eq!(
            "operator:alice".parse::<Actor>(),
            Ok(Actor::operator(" alice "))
        );
        assert!("robot".parse::<Actor>().is_err());
    }

    #[test]
    fn text_enums_round_trip() {
        for k in EventKind::ALL {
            assert_eq!(k.as_str().parse::<EventKind>(), Ok(*k));
        }
        for w in WatcherState::ALL {
            assert_eq!(w.as_str().parse::<WatcherState>(), Ok(*w));
        }
        assert!("dozing".parse::<WatcherState>().is_err());
    }
}
