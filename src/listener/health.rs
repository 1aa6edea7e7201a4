//! `/healthz` and `/metrics`: figures from the database, the watcher's
//! state from memory, read-only.

use std::fmt::Write as _;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};

use super::state::ListenerState;
use crate::model::WatcherState;
use crate::store::{self, Figures};

/// A queued request due this long ago, or a claim expired this long ago,
/// means the worker is not keeping up: the queue is stuck.
pub const STUCK_AFTER_S: i64 = 15 * 60;

pub(super) async fn answer<B>(h: &ListenerState, req: Request<B>) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, kind: &str, body: String| {
        Response::builder()
            .status(status)
            .header("Content-Type", kind)
            .body(Full::new(Bytes::from(body)))
            .expect("static headers are valid")
    };
    let now = chrono::Utc::now();
    let figures = match store::figures(&h.db.pool, &now.into(), STUCK_AFTER_S).await {
        Ok(f) => f,
        Err(e) => {
            return reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                format!("database: {e}\n"),
            );
        }
    };
    match req.uri().path() {
        "/healthz" => {
            let browser = if h.browser_filer {
                crate::filer::browser::health(&h.db).await.ok().flatten()
            } else {
                None
            };
            let (healthy, body) = healthz(h, &figures, browser);
            let status = if healthy {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            reply(status, "application/json", body)
        }
        _ => reply(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            metrics(h, &figures, now),
        ),
    }
}

/// Healthy when every watched folder is connected (syncing, idle or
/// polling) or watched by another node (standby), and keeping to its
/// deadlines, and nothing in the queue is stuck.
fn healthz(h: &ListenerState, f: &Figures, browser: Option<&str>) -> (bool, String) {
    let mut problems = Vec::new();
    if let Some(b) = browser {
        problems.push(format!(
            "{b}: requests for the browser filer wait until an operator runs `collabd browser login`"
        ));
    }
    let mut folders = Vec::new();
    for s in h.watcher.iter().flat_map(|w| w.folders.iter()) {
        let state = s.state();
        // A folder another node watches is as it should be on this one.
        let ok = (s.connected() || state == WatcherState::Standby) && s.making_progress();
        if !ok {
            let error = f
                .mailboxes
                .iter()
                .find(|m| m.mailbox == s.name)
                .and_then(|m| m.last_error.clone())
                .unwrap_or_default();
            problems.push(format!("{} is {state}: {error}", s.name));
        }
        folders.push(serde_json::json!({ "mailbox": s.name, "state": state, "ok": ok }));
    }
    if f.overdue > 0 {
        problems.push(format!(
            "{} requests overdue by more than {} minutes: is the worker's filer failing?",
            f.overdue,
            STUCK_AFTER_S / 60
        ));
    }
    let healthy = problems.is_empty();
    let body = serde_json::json!({
        "status": if healthy { "ok" } else { "unhealthy" },
        "mailboxes": folders,
        "overdue_requests": f.overdue,
        "problems": problems,
    });
    (healthy, format!("{body}\n"))
}

fn metrics(h: &ListenerState, f: &Figures, now: chrono::DateTime<chrono::Utc>) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, String)>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let label = |k: &str, v: &str| format!("{{{k}=\"{}\"}}", escape(v));
    // A watched folder's labels: its account (as configured) and mailbox.
    let folder = |m: &store::MailboxRow| {
        format!(
            "{{account=\"{}\",mailbox=\"{}\"}}",
            escape(&m.account),
            escape(&m.mailbox)
        )
    };
    family(
        "collabd_messages",
        "gauge",
        "Messages stored, by kind (deferred: waiting to be judged again after a DNS failure).",
        f.messages_by_kind
            .iter()
            .map(|(k, n)| (label("kind", k.as_str()), n.to_string()))
            .collect(),
    );
    family(
        "collabd_requests",
        "gauge",
        "Access requests, by state.",
        f.requests_by_state
            .iter()
            .map(|(s, n)| (label("state", s.as_str()), n.to_string()))
            .collect(),
    );
    family(
        "collabd_filer_attempts_total",
        "counter",
        "Filing attempts made.",
        vec![(String::new(), f.filer_attempts.to_string())],
    );
    family(
        "collabd_filer_failures_total",
        "counter",
        "Filing attempts that failed (to be retried, or given up).",
        vec![(String::new(), f.filer_failures.to_string())],
    );
    family(
        "collabd_requests_overdue",
        "gauge",
        "Requests stuck in the queue for more than 15 minutes.",
        vec![(String::new(), f.overdue.to_string())],
    );
    family(
        "collabd_imap_reconnects_total",
        "counter",
        "Reconnects after an error, per watched mailbox.",
        f.mailboxes
            .iter()
            .map(|m| (folder(m), m.reconnects.to_string()))
            .collect(),
    );
    family(
        "collabd_imap_after_processing_pending",
        "gauge",
        "Stored messages whose mark-seen or move is not done yet, per mailbox.",
        f.mailboxes
            .iter()
            .map(|m| (folder(m), m.actions_pending.to_string()))
            .collect(),
    );
    let live = |name: &str| {
        h.watcher
            .iter()
            .flat_map(|w| w.folders.iter())
            .any(|s| s.name == name && s.connected())
    };
    family(
        "collabd_imap_connected",
        "gauge",
        "1 while the watcher is connected to the mailbox.",
        f.mailboxes
            .iter()
            .map(|m| (folder(m), u8::from(live(&m.mailbox)).to_string()))
            .collect(),
    );
    family(
        "collabd_imap_seconds_since_contact",
        "gauge",
        "Seconds since the IMAP server last answered, per mailbox.",
        f.mailboxes
            .iter()
            .filter_map(|m| {
                let t = m.last_contact_at?.datetime();
                Some((folder(m), (now - t).num_seconds().max(0).to_string()))
            })
            .collect(),
    );
    out
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
