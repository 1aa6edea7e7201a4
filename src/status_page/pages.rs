//! The HTML of each status page, written with maud, which escapes every
//! spliced value: text from mail (stores, clients, subjects, reasons,
//! details) cannot become markup. Control characters are cleaned too
//! ([`crate::render::line`]). Knows nothing of HTTP or SQL.

use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::form::{Query, encode};
use super::viewer::Viewer;
use crate::model::{PARTNER_DASHBOARD_URL, RequestState, WatcherState, mask_code};
use crate::operator::{Action, Mark};
use crate::render::report::{FolderHealth, folder_health, truncate};
use crate::store::web::{ListFilter, ListRow, MessageRow, SortBy, TimelineRow};
use crate::store::{MailboxRow, Request};
use crate::timestamp::Timestamp;

/// Rows per page of the requests table.
pub const PAGE_SIZE: i64 = 50;

/// Text from mail, made safe to read (maud escapes it on output).
fn clean(s: &str) -> String {
    crate::render::line(s).into_owned()
}

/// The page around every page's content.
pub fn layout(title: &str, viewer: &Viewer, version: Option<&str>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · collabd" }
                link rel="stylesheet" href="/assets/style.css";
                script src="/assets/live.js" defer {}
            }
            body data-version=[version] {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { "collabd" span.muted { " · access requests" } }
                    div.who {
                        @if version.is_some() {
                            span.live-status #live-status role="status" aria-live="polite" {}
                        }
                        @if let Some(s) = &viewer.session {
                            span { "Signed in as " strong { (s.name) } }
                            form method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(s.csrf);
                                button type="submit" { "Sign out" }
                            }
                        } @else if viewer.can_sign_in {
                            a href="/login" { "Sign in" }
                        } @else {
                            span { "Read-only" }
                        }
                    }
                }
                main #main { (content) }
            }
        }
    }
}

/// The sign-in page.
pub fn login(no_users: bool, next: Option<&str>, error: Option<&str>) -> Markup {
    let viewer = Viewer {
        session: None,
        can_sign_in: !no_users,
        hide: crate::redact::Redactor::default(),
    };
    layout(
        "Sign in",
        &viewer,
        None,
        html! {
            div.login.panel {
                h1 { "Sign in" }
                @if let Some(e) = error {
                    p.flash.err role="alert" { (e) }
                }
                @if no_users {
                    p { "Nobody can sign in: no status-page users are configured. Make a line with "
                        code { "collabd http-user NAME" } " and put it in "
                        code { "http.users_file" } " or the systemd credential " code { "http-users" } "." }
                } @else {
                    form method="post" action="/login" {
                        input type="hidden" name="next" value=(next.unwrap_or("/"));
                        label { "Name" input type="text" name="name" autocomplete="username" required autofocus; }
                        label { "Password or token" input type="password" name="password" autocomplete="current-password" required; }
                        button.primary type="submit" { "Sign in" }
                    }
                }
            }
        },
    )
}

/// What the requests table shows, as the page's address says it.
#[derive(Debug, Clone)]
pub struct ListParams {
    pub state: Option<RequestState>,
    pub search: String,
    pub sort: SortBy,
    pub descending: bool,
    /// From 1.
    pub page: i64,
    /// Asked by a signed-out reader ([`ListParams::for_signed_out`]).
    pub signed_out: bool,
}

impl ListParams {
    /// Anything unknown falls back to the default: newest first, all states.
    pub fn from_query(q: &Query) -> ListParams {
        let sort = q.get("sort").and_then(SortBy::parse);
        ListParams {
            state: q.get("state").and_then(|s| s.parse().ok()),
            search: q
                .get("q")
                .unwrap_or_default()
                .trim()
                .chars()
                .take(200)
                .collect(),
            sort: sort.unwrap_or(SortBy::Received),
            descending: match q.get("dir") {
                Some("asc") => false,
                Some("desc") => true,
                _ => sort.is_none(),
            },
            page: q
                .get("page")
                .and_then(|p| p.parse::<i64>().ok())
                .unwrap_or(1)
                .clamp(1, 1_000_000),
            signed_out: false,
        }
    }

    /// What a signed-out reader may ask: a search with digits skips the
    /// stores and clients whose names hold four digits (a search for
    /// `8642` would otherwise say which store's masked code it is, one
    /// guess at a time), and there is no order by code (which would rank
    /// the hidden digits).
    pub fn for_signed_out(&mut self) {
        self.signed_out = true;
        if self.sort == SortBy::Code {
            self.sort = SortBy::Received;
            self.descending = true;
        }
    }

    pub fn filter(&self, limit: i64) -> ListFilter {
        ListFilter {
            state: self.state,
            search: Some(self.search.clone()).filter(|s| !s.is_empty()),
            sort: self.sort,
            descending: self.descending,
            offset: (self.page - 1) * limit,
            limit,
            signed_out: self.signed_out,
        }
    }

    /// This view's address with some of it changed.
    fn href(
        &self,
        state: Option<Option<RequestState>>,
        sort: Option<(SortBy, bool)>,
        page: Option<i64>,
    ) -> String {
        let state = state.unwrap_or(self.state);
        let (sort, desc) = sort.unwrap_or((self.sort, self.descending));
        let page = page.unwrap_or(self.page);
        let mut parts = Vec::new();
        if let Some(s) = state {
            parts.push(format!("state={}", s.as_str()));
        }
        if !self.search.is_empty() {
            parts.push(format!("q={}", encode(&self.search)));
        }
        parts.push(format!("sort={}", sort.as_str()));
        parts.push(format!("dir={}", if desc { "desc" } else { "asc" }));
        if page > 1 {
            parts.push(format!("page={page}"));
        }
        format!("/?{}", parts.join("&"))
    }
}

/// Everything `/` shows.
pub struct IndexPage<'a> {
    pub list: ListParams,
    pub rows: Vec<ListRow>,
    pub total: i64,
    pub counts: Vec<(RequestState, i64)>,
    pub attention: Vec<MessageRow>,
    pub attention_total: i64,
    pub mailboxes: Vec<MailboxRow>,
    pub watched: bool,
    pub filer: &'a str,
    /// (queued, being filed)
    pub queue: (i64, i64),
    pub now: DateTime<Utc>,
}

pub fn badge(s: RequestState) -> Markup {
    html! { span class={ "badge s-" (s.as_str()) } { (s.as_str()) } }
}

/// `2026-11-26T08:44:52Z` → `2026-11-26 08:44`, in a `<time>`.
fn when(t: &Timestamp) -> Markup {
    let short = t.to_minute();
    html! { time datetime=(t) title={ (t) } { (short) } }
}

/// How long ago `t` was: "just now", "5 min ago", "3 h ago", "4 days ago".
pub fn age(t: &Timestamp, now: DateTime<Utc>) -> String {
    let s = (now - t.datetime()).num_seconds();
    match s {
        i64::MIN..60 => "just now".into(),
        60..3600 => format!("{} min ago", s / 60),
        3600..86400 => format!("{} h ago", s / 3600),
        _ => match s / 86400 {
            1 => "1 day ago".into(),
            d => format!("{d} days ago"),
        },
    }
}

/// The order states are counted in at the top: the pipeline's order.
const STATE_ORDER: [RequestState; 13] = [
    RequestState::AwaitingReview,
    RequestState::Queued,
    RequestState::Filing,
    RequestState::Notified,
    RequestState::Logged,
    RequestState::Requested,
    RequestState::Granted,
    RequestState::Declined,
    RequestState::Expired,
    RequestState::Revoked,
    RequestState::Failed,
    RequestState::Cancelled,
    RequestState::Superseded,
];

pub fn index(p: &IndexPage<'_>, viewer: &Viewer) -> Markup {
    let l = &p.list;
    let all: i64 = p.counts.iter().map(|(_, n)| n).sum();
    let first = (l.page - 1) * PAGE_SIZE + 1;
    let last = first + p.rows.len() as i64 - 1;
    let pages = (p.total + PAGE_SIZE - 1) / PAGE_SIZE;
    let signed_in = viewer.session.is_some();
    html! {
        h1 { "Access requests" }
        div #live data-live {
            nav aria-label="Requests by state" {
                ul.counts {
                    li { a href=(l.href(Some(None), None, Some(1))) aria-current=[l.state.is_none().then_some("true")] {
                        span.n { (all) } " all" } }
                    @for s in STATE_ORDER {
                        @let n = p.counts.iter().find(|(c, _)| *c == s).map_or(0, |(_, n)| *n);
                        @if n > 0 || l.state == Some(s) {
                            li { a href=(l.href(Some(Some(s)), None, Some(1))) aria-current=[(l.state == Some(s)).then_some("true")] data-state=(s.as_str()) {
                                span.n { (n) } " " (badge(s)) } }
                        }
                    }
                }
            }
            (health(p))
        }
        form.filters method="get" action="/" role="search" {
            label { "State"
                select name="state" {
                    option value="" selected[l.state.is_none()] { "All states" }
                    @for s in STATE_ORDER {
                        option value=(s.as_str()) selected[l.state == Some(s)] { (s.as_str()) }
                    }
                }
            }
            label { "Store or client"
                input type="search" name="q" value=(l.search) placeholder="acme or Acme Corp";
            }
            input type="hidden" name="sort" value=(l.sort.as_str());
            input type="hidden" name="dir" value=(if l.descending { "desc" } else { "asc" });
            button type="submit" { "Show" }
            @if l.state.is_some() || !l.search.is_empty() {
                a href="/" { "Clear" }
            }
        }
        div #live-table data-live {
            div.table-wrap {
                table #requests {
                    caption {
                        @if p.total == 0 { "No requests match." }
                        @else { "Requests " (first) "–" (last) " of " (p.total) }
                        @if !signed_in { " · codes are masked" (if viewer.can_sign_in { "; sign in to see them" } else { "" }) }
                    }
                    thead { tr {
                        (sort_head(l, SortBy::Id, "#", "num hide-narrow"))
                        (sort_head(l, SortBy::Store, "Store", ""))
                        (sort_head(l, SortBy::Client, "Client", "hide-narrow"))
                        (sort_head(l, SortBy::State, "State", ""))
                        (sort_head(l, SortBy::Code, "Code", "hide-narrow"))
                        (sort_head(l, SortBy::Tries, "Tries", "num hide-narrow"))
                        (sort_head(l, SortBy::Received, "Received", "hide-narrow"))
                        (sort_head(l, SortBy::LastEvent, "Last event", ""))
                    } }
                    tbody {
                        @for r in &p.rows {
                            tr data-id=(r.id) {
                                td.num.hide-narrow { a href={ "/requests/" (r.id) } { (r.id) } }
                                td { a.store href={ "/requests/" (r.id) } { (viewer.text(&r.store_domain)) } }
                                td.hide-narrow { (r.client_name.as_deref().map(|s| viewer.text(s)).unwrap_or_default()) }
                                td { (badge(r.state)) }
                                td.code.hide-narrow { @if signed_in { (r.collaborator_code) } @else { (mask_code(&r.collaborator_code)) } }
                                td.num.hide-narrow { (r.attempts) }
                                td.hide-narrow.nowrap { (when(&r.received_at)) }
                                td {
                                    @if let (Some(e), Some(at)) = (r.last_event, &r.last_at) {
                                        (e.as_str()) " " span.muted { (age(at, p.now)) }
                                        @if let Some(d) = &r.last_detail {
                                            div.detail.hide-narrow { (truncate(&viewer.text(d), 90)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if pages > 1 {
                nav.pages aria-label="Pages" {
                    @if l.page > 1 { a href=(l.href(None, None, Some(l.page - 1))) rel="prev" { "← Newer page" } }
                    @else { span.off { "← Newer page" } }
                    span { "Page " (l.page) " of " (pages) }
                    @if l.page < pages { a href=(l.href(None, None, Some(l.page + 1))) rel="next" { "Older page →" } }
                    @else { span.off { "Older page →" } }
                }
            }
            h2 #needs-a-look { "Needs a look " span.muted { "(" (p.attention_total) ")" } }
            @if p.attention.is_empty() {
                p.muted { "Nothing: every message was read in full." }
            } @else {
                div.table-wrap { table {
                    caption { "Rejected, unparseable and partly read messages, newest first" }
                    thead { tr { th { "Received" } th { "Verdict" } th { "From / subject" } th { "Reason" } } }
                    tbody { @for m in &p.attention {
                        tr {
                            td { a href={ "/messages/" (m.id) } { (when(&m.received_at)) } div.detail { (age(&m.received_at, p.now)) } }
                            td { (m.kind.as_str()) }
                            td { (m.original_from.as_deref().or(m.from_addr.as_deref()).map(|s| viewer.text(s)).unwrap_or_default())
                                 div.detail { (m.subject.as_deref().map(|s| viewer.text_of_message(s)).unwrap_or_default()) } }
                            td { (m.reason.as_deref().map(|s| viewer.text_of_message(s)).unwrap_or_default()) }
                        }
                    } }
                } }
            }
        }
    }
}

fn sort_head(l: &ListParams, by: SortBy, label: &str, class: &str) -> Markup {
    let current = l.sort == by;
    // A second click on the sorted column turns the order round; a first
    // click on text sorts A→Z, on numbers and times newest/largest first.
    let first_desc = matches!(
        by,
        SortBy::Id | SortBy::Tries | SortBy::Received | SortBy::LastEvent
    );
    let desc = if current { !l.descending } else { first_desc };
    let aria = current.then_some(if l.descending {
        "descending"
    } else {
        "ascending"
    });
    let arrow = match (current, l.descending) {
        (false, _) => "",
        (true, true) => " ↓",
        (true, false) => " ↑",
    };
    html! {
        th class=(class) aria-sort=[aria] scope="col" {
            a href=(l.href(None, Some((by, desc)), Some(1))) data-sort=(by.as_str()) { (label) (arrow) }
        }
    }
}

/// The watcher per folder and the worker, in one row of panels.
fn health(p: &IndexPage<'_>) -> Markup {
    html! {
        div.grid {
            section.panel aria-labelledby="h-watcher" {
                h2 #h-watcher { "Mail watcher" }
                @if p.mailboxes.is_empty() {
                    p.muted { @if p.watched { "Starting: no folder has reported yet." } @else { "No mailbox watched ([imap] is not configured)." } }
                } @else {
                    ul.plain { @for m in &p.mailboxes {
                        @let h = folder_health(m, p.now);
                        li data-mailbox=(m.mailbox) data-account=(m.account) {
                            strong { (clean(&m.account)) ": " (clean(&m.mailbox)) } " "
                            span class={ "badge h-" (h.label().to_ascii_lowercase()) } { (h.label()) }
                            " " span.muted { (m.state.as_str()) }
                            div.detail {
                                "Last contact: " (m.last_contact_at.as_ref().map(|t| age(t, p.now)).unwrap_or_else(|| "never".into()))
                                @if let Some(n) = &m.next_retry_at { " · next retry " (when(n)) }
                                " · reconnects " (m.reconnects)
                                @if let Some(n) = &m.node { " · " (if m.state == WatcherState::Stopped { "last watched by " } else { "watched by " }) (clean(n)) }
                            }
                            @if let Some(e) = &m.last_error {
                                @if h != FolderHealth::Ok || m.next_retry_at.is_some() {
                                    div.detail { "Last error" @if let Some(t) = &m.last_error_at { " (" (age(t, p.now)) ")" } ": " (truncate(&clean(e), 200)) }
                                } @else {
                                    div.detail { "Earlier error" @if let Some(t) = &m.last_error_at { " (" (age(t, p.now)) ")" } ": " (truncate(&clean(e), 200)) }
                                }
                            }
                            @if m.actions_pending > 0 {
                                div.detail { (m.actions_pending) " message(s) still to be marked or moved" }
                            }
                        }
                    } }
                }
            }
            section.panel aria-labelledby="h-worker" {
                h2 #h-worker { "Worker" }
                dl.facts {
                    dt { "Filer" } dd #filer { (p.filer) }
                    dt { "Queue" } dd #queue { (p.queue.0) " queued · " (p.queue.1) " being filed" }
                }
            }
        }
    }
}

/// Everything `/requests/{id}` shows.
pub struct RequestPage<'a> {
    pub r: &'a Request,
    pub timeline: &'a [TimelineRow],
    /// Per timeline row: the event id when it names a screenshot.
    pub screenshots: &'a [Option<i64>],
    pub source: Option<&'a MessageRow>,
    pub dev_org_id: Option<&'a str>,
    pub done: Option<&'a str>,
    pub error: Option<&'a str>,
    pub now: DateTime<Utc>,
}

const ACTIONS: [(Action, &str, &str); 5] = [
    (Action::Approve, "approve", "Approve"),
    (Action::Retry, "retry", "Retry"),
    (Action::Mark(Mark::Requested), "requested", "Mark requested"),
    (Action::Mark(Mark::Granted), "granted", "Mark granted"),
    (Action::Cancel, "cancel", "Cancel"),
];

pub fn request(p: &RequestPage<'_>, viewer: &Viewer) -> Markup {
    let r = p.r;
    let signed_in = viewer.session.is_some();
    // The link names the store whole: for a signed-out reader, only when
    // the store's name does not quote a code.
    let dev_shown = signed_in
        || matches!(
            viewer.hide.apply(r.store_domain.as_str()),
            std::borrow::Cow::Borrowed(_)
        );
    let dev = p.dev_org_id.filter(|_| dev_shown).map(|org| {
        format!(
            "https://dev.shopify.com/dashboard/{}/stores/collaborations/new?store_url={}",
            encode(org),
            encode(r.store_domain.as_str())
        )
    });
    let leadsie_url = r
        .leadsie_request_url
        .as_deref()
        .filter(|u| u.starts_with("https://"));
    html! {
        p { a href="/" { "← All requests" } }
        @if let Some(d) = p.done { p.flash.ok role="status" { (d) } }
        @if let Some(e) = p.error { p.flash.err role="alert" { (e) } }
        div #live data-live {
            h1 { span.store { (viewer.text(r.store_domain.as_str())) } (badge(r.state)) span.muted { "#" (r.id) } }
            div.grid {
                section.panel aria-label="Request" {
                    dl.facts {
                        dt { "Client" } dd { (r.client_name.as_deref().map(|s| viewer.text(s)).unwrap_or_else(|| "—".into())) }
                        @if let Some(e) = &r.client_email { dt { "Client email" } dd { (viewer.text(e)) } }
                        dt { "Code" } dd.code #code { @if signed_in { (r.collaborator_code.expose()) } @else { (r.collaborator_code.masked()) " " span.muted { "(masked)" } } }
                        dt { "Tries" } dd { (r.attempts) }
                        dt { "Received" } dd { (when(&r.received_at)) " " span.muted { (age(&r.received_at, p.now)) } }
                        @if let Some(t) = &r.filed_at { dt { "Filed" } dd { (when(t)) } }
                        @if let Some(t) = &r.resolved_at { dt { "Resolved" } dd { (when(t)) } }
                        @if let Some(t) = &r.next_attempt_at { @if r.state == RequestState::Queued { dt { "Next attempt" } dd { (when(t)) } } }
                        @if let Some(e) = &r.last_error { dt { "Last error" } dd { (viewer.text(e)) } }
                        @if let Some(n) = &r.leadsie_request_name { dt { "Leadsie request" } dd {
                            @if let Some(u) = leadsie_url { a href=(u) rel="noreferrer" { (viewer.text(n)) } } @else { (viewer.text(n)) } } }
                    }
                }
                section.panel aria-labelledby="h-file" {
                    h2 #h-file { "File it by hand" }
                    p.muted { "Request access with this store and its code:" }
                    div.links {
                        a href=(PARTNER_DASHBOARD_URL) rel="noreferrer" target="_blank" { "Partner Dashboard" }
                        @if let Some(d) = &dev { a href=(d) rel="noreferrer" target="_blank" { "Dev Dashboard" } }
                    }
                }
            }
        }
        section aria-labelledby="h-act" {
            h2 #h-act { "Act" }
            @if let Some(s) = &viewer.session {
                @let offered: Vec<_> = ACTIONS.iter().filter(|(a, _, _)| a.applies_to(r.state)).collect();
                @if offered.is_empty() {
                    p.muted { "Nothing to do: a " (r.state.as_str()) " request takes no action." }
                } @else {
                    form.act method="post" action={ "/requests/" (r.id) "/action" } {
                        input type="hidden" name="csrf" value=(s.csrf);
                        label { "Note (kept on the timeline)" textarea name="note" rows="1" maxlength="500" {} }
                        @for (a, value, label) in offered {
                            @let danger = *a == Action::Cancel;
                            @let class = if danger { Some("danger") } else if *a == Action::Approve { Some("primary") } else { None };
                            button type="submit" name="action" value=(value) class=[class]
                                data-confirm=[danger.then_some("Cancel this request? It will not be filed.")] { (label) }
                        }
                    }
                    @if r.state == RequestState::AwaitingReview {
                        p.muted #review { "Awaiting review: nothing is filed for this store until it is approved. Approve queues it for the "
                            "worker; Cancel drops it." }
                    }
                    p.muted { "Recorded as operator:" (s.name) ", with the same rules as " code { "collabd approve/mark/cancel/retry" } "." }
                }
            } @else if viewer.can_sign_in {
                p { a href={ "/login?next=/requests/" (r.id) } { "Sign in" } " to approve, retry, cancel or mark this request." }
            } @else {
                p.muted { "Actions need a signed-in operator, and no status-page users are configured: use "
                    @if r.state == RequestState::AwaitingReview { code { "collabd approve " (r.id) } " (or " code { "cancel" } ") on the server." }
                    @else { code { "collabd mark " (r.id) " granted" } " (or requested, cancel, retry) on the server." } }
            }
        }
        div #live-2 data-live {
            h2 { "Timeline" }
            div.table-wrap { table #timeline {
                thead { tr { th { "When" } th { "Who" } th { "What" } th { "Change" } th { "Detail" } } }
                tbody { @for (e, shot) in p.timeline.iter().zip(p.screenshots) {
                    tr data-event=(e.event.as_str()) {
                        td { (when(&e.at)) div.detail { (age(&e.at, p.now)) } }
                        td { (viewer.text(&e.actor.to_string())) }
                        td { (e.event.as_str()) }
                        td { @if let Some(f) = e.from_state { (badge(f)) " → " } @if let Some(t) = e.to_state { (badge(t)) } }
                        td {
                            (e.detail.as_deref().map(|s| viewer.text(s)).unwrap_or_default())
                            @if let Some(m) = e.message_id { div.detail { a href={ "/messages/" (m) } { "message " (m) } } }
                            @if let Some(ev) = shot {
                                @let src = format!("/requests/{}/events/{ev}/screenshot", r.id);
                                div.shot { @if signed_in {
                                    a href=(src) { "Screenshot" img src=(src) alt={ "Browser filer screenshot for event " (ev) } loading="lazy"; }
                                } @else { span.muted { "Screenshot kept (sign in to see it)" } } }
                            }
                        }
                    }
                } }
            } }
        }
        @if let Some(m) = p.source {
            h2 { "The email that created it" }
            (message_facts(m, viewer))
        }
    }
}

/// A stored message's headers, verdict and reason, and its raw download.
fn message_facts(m: &MessageRow, viewer: &Viewer) -> Markup {
    html! {
        section.panel aria-label="Email" {
            dl.facts {
                dt { "Verdict" } dd #verdict { (m.kind.as_str()) }
                @if let Some(r) = &m.reason { dt { "Reason" } dd { (viewer.text_of_message(r)) } }
                dt { "From" } dd { (m.from_addr.as_deref().map(|s| viewer.text(s)).unwrap_or_default()) }
                @if let Some(o) = &m.original_from { dt { "Originally from" } dd { (viewer.text(o)) } }
                dt { "Subject" } dd { (m.subject.as_deref().map(|s| viewer.text_of_message(s)).unwrap_or_default()) }
                @if let Some(d) = &m.date { dt { "Date" } dd { (viewer.text(&d.to_string())) } }
                @if let Some(i) = &m.message_id { dt { "Message-ID" } dd { (viewer.text(i)) } }
                dt { "Received" } dd { (when(&m.received_at)) }
                dt { "Source" } dd {
                    (m.source) @if let Some(b) = &m.mailbox { " · " (viewer.text(b)) } @if let Some(f) = &m.source_ref { " · " (viewer.text(f)) }
                }
                dt { "Raw message" } dd {
                    @if !m.has_raw { span.muted { "not kept (" (m.raw_size) " bytes)" } }
                    @else if viewer.session.is_some() { a href={ "/messages/" (m.id) "/raw" } download { "Download (" (m.raw_size) " bytes)" } }
                    @else { span.muted { (m.raw_size) " bytes; sign in to download (it holds the code)" } }
                }
            }
        }
    }
}

pub fn message(m: &MessageRow, requests: &[(i64, String)], viewer: &Viewer) -> Markup {
    html! {
        p { a href="/" { "← All requests" } " · " a href="/#needs-a-look" { "Needs a look" } }
        h1 { "Message " (m.id) }
        (message_facts(m, viewer))
        h2 { "Requests it concerns" }
        @if requests.is_empty() { p.muted { "None." } }
        @else { ul { @for (id, store) in requests { li { a href={ "/requests/" (id) } { "#" (id) " " (viewer.text(store)) } } } } }
        (PreEscaped(""))
    }
}
