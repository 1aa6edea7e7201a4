//! `collabd status` and `collabd show` (and the demo's status): the rows
//! read through `store`'s queries, printed as text or JSON with
//! [`crate::render`]'s helpers. Writes nothing.

use std::io::Write;

use anyhow::Result;
use serde_json::json;

use crate::model::{EventKind, PARTNER_DASHBOARD_URL, RequestId, RequestState};
use crate::render;
use crate::render::report::{FolderHealth, folder_health, short_time, truncate};
use crate::store::{self, Db};

/// Prints the status table (or JSON lines), then what needs attention.
pub async fn print_status(
    db: &Db,
    state: Option<RequestState>,
    json: bool,
    out: &mut impl Write,
) -> Result<()> {
    let rows = store::status_rows(&db.pool, state).await?;
    if json {
        for r in &rows {
            writeln!(out, "{}", render::json(&serde_json::to_value(r)?))?;
        }
        return Ok(());
    }
    let header = [
        "ID",
        "STORE",
        "CLIENT",
        "STATE",
        "CODE",
        "TRIES",
        "RECEIVED",
        "UPDATED",
        "LAST EVENT",
    ];
    // Client names and events come from mail: each cell is cleaned.
    let table: Vec<[String; 9]> = rows
        .iter()
        .map(|r| {
            [
                r.id.to_string(),
                render::line(&r.store_domain).into_owned(),
                render::line(r.client_name.as_deref().unwrap_or("-")).into_owned(),
                r.state.to_string(),
                render::line(&r.code_hint).into_owned(),
                r.attempts.to_string(),
                short_time(&r.received_at),
                short_time(&r.updated_at),
                truncate(&render::line(r.last_event.as_deref().unwrap_or("")), 70),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &table {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    writeln!(out, "{}", line(&header.map(str::to_owned)))?;
    for row in &table {
        writeln!(out, "{}", line(row))?;
    }
    if rows.is_empty() {
        writeln!(
            out,
            "(no requests{})",
            state.map(|s| format!(" in state {s}")).unwrap_or_default()
        )?;
    }
    let awaiting = rows
        .iter()
        .filter(|r| r.state == RequestState::AwaitingReview)
        .count();
    if awaiting > 0 {
        writeln!(
            out,
            "\n{awaiting} request(s) awaiting review: nothing is filed for them until `collabd approve ID` (or cancel ID)"
        )?;
    }

    // Deferred messages count among them: kept, only not judged yet.
    let counts = store::message_counts(&db.pool).await?;
    let total: i64 = counts.iter().map(|c| c.1).sum();
    let by_kind: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    if by_kind.is_empty() {
        writeln!(out, "\nmessages: none yet")?;
    } else {
        writeln!(out, "\nmessages: {total} ({})", by_kind.join(", "))?;
    }
    print_waiting(db, out).await?;
    let attention = store::messages_needing_attention(&db.pool, 10).await?;
    if !attention.is_empty() {
        writeln!(
            out,
            "needs a look (rejected, unparseable, or partly read; newest first):"
        )?;
        for (id, kind, sender, subject, reason) in attention {
            writeln!(
                out,
                "  message #{id} {kind} from {}: \"{}\" — {}",
                render::line(sender.as_deref().unwrap_or("?")),
                truncate(&render::line(subject.as_deref().unwrap_or("")), 60),
                render::line(reason.as_deref().unwrap_or_default())
            )?;
        }
    }
    let unmatched = store::unmatched_outcomes(&db.pool, 5).await?;
    if !unmatched.is_empty() {
        writeln!(out, "Shopify replies that matched no request:")?;
        for (at, message, detail) in unmatched {
            writeln!(
                out,
                "  {} message #{}: {}",
                short_time(&at),
                message.unwrap_or(0),
                render::line(detail.as_deref().unwrap_or_default())
            )?;
        }
    }
    print_watcher(db, out).await?;
    print_nodes(db, out).await
}

/// How many messages wait to be judged again, and the oldest of them, each
/// by its `deferred_message` id.
async fn print_waiting(db: &Db, out: &mut impl Write) -> Result<()> {
    const LISTED: i64 = 10;
    let deferred = store::deferred_count(&db.pool).await?;
    if deferred == 0 {
        return Ok(());
    }
    writeln!(
        out,
        "waiting to be judged: {deferred} message{} whose DKIM signature could not be checked because DNS failed; `collabd run` judges {} again — check [trust] nameservers and the network if this persists:",
        if deferred == 1 { "" } else { "s" },
        if deferred == 1 { "it" } else { "them" },
    )?;
    for w in store::waiting_messages(&db.pool, LISTED).await? {
        let meta = crate::mail::meta_of_headers(&w.head);
        let source = match &w.source {
            store::Source::File(path) => format!("file {path}"),
            store::Source::Stdin => "standard input".to_owned(),
            store::Source::Webhook(via) => format!("webhook, {via}"),
            store::Source::Imap {
                account,
                mailbox,
                uid,
                ..
            } => format!("{account}: {mailbox} UID {uid}"),
        };
        writeln!(
            out,
            "  deferred #{} from {}: \"{}\" — {}, received {}, {} attempt{} so far, next try {}; last error: {}",
            w.id,
            render::line(meta.from.as_deref().unwrap_or("?")),
            truncate(&render::line(meta.subject.as_deref().unwrap_or("")), 60),
            render::line(&source),
            short_time(&w.received_at),
            w.attempts,
            if w.attempts == 1 { "" } else { "s" },
            short_time(&w.next_attempt_at),
            truncate(&render::line(&w.last_error), 200),
        )?;
    }
    if deferred > LISTED {
        writeln!(out, "  … and {} more", deferred - LISTED)?;
    }
    Ok(())
}

/// With several nodes on one PostgreSQL database: which node files through
/// the browser and which tells operators (the holders of those locks now).
async fn print_nodes(db: &Db, out: &mut impl Write) -> Result<()> {
    if !db.shared() {
        return Ok(());
    }
    writeln!(out, "\nnodes sharing this PostgreSQL database:")?;
    for (lock, what) in [
        (crate::worker::FILER_LOCK, "files through the browser"),
        (crate::worker::ANNOUNCER_LOCK, "tells operators of outcomes"),
    ] {
        match db.lock_holder(lock).await? {
            Some(node) => writeln!(out, "  {what}: {}", render::line(&node))?,
            None => writeln!(
                out,
                "  {what}: no node now (none is running, or none is configured to)"
            )?,
        }
    }
    Ok(())
}

/// The IMAP watcher's health, per watched mailbox, as `mailbox_state` has it.
async fn print_watcher(db: &Db, out: &mut impl Write) -> Result<()> {
    let mailboxes = store::mailbox_rows(&db.pool).await?;
    if mailboxes.is_empty() {
        writeln!(
            out,
            "\nIMAP watcher: no mailbox watched yet (configure [imap] and start `collabd run`)"
        )?;
        return Ok(());
    }
    writeln!(out, "\nIMAP watcher:")?;
    for m in &mailboxes {
        let contact = m
            .last_contact_at
            .as_ref()
            .map(short_time)
            .unwrap_or_else(|| "never".into());
        let health = match folder_health(m, chrono::Utc::now()) {
            FolderHealth::Stale => "STALE (no contact for a long time: is collabd running?)",
            h => h.label(),
        };
        writeln!(
            out,
            "  {}: {}  {health}: {}{}, last contact {contact}, last UID {}, reconnects {}",
            render::line(&m.account),
            render::line(&m.mailbox),
            m.state,
            if m.connected { ", connected" } else { "" },
            m.last_uid,
            m.reconnects
        )?;
        if let Some(err) = &m.last_error {
            writeln!(
                out,
                "    last error{}: {}",
                m.last_error_at
                    .as_ref()
                    .map(|t| format!(" at {}", short_time(t)))
                    .unwrap_or_default(),
                truncate(&render::line(err), 300)
            )?;
        }
        if let Some(next) = &m.next_retry_at {
            writeln!(out, "    next attempt at {}", short_time(next))?;
        }
        if let Some(node) = &m.node {
            let who = if m.state == crate::model::WatcherState::Stopped {
                "last watched by"
            } else {
                "watched by"
            };
            writeln!(out, "    {who} {}", render::line(node))?;
        }
        if m.actions_pending > 0 {
            writeln!(
                out,
                "    {} stored message{} still to be marked or moved (imap.after_processing), retried on each sync{}",
                m.actions_pending,
                if m.actions_pending == 1 { "" } else { "s" },
                m.action_error
                    .as_deref()
                    .map(|e| format!("; last error: {}", truncate(&render::line(e), 300)))
                    .unwrap_or_default()
            )?;
        }
    }
    let skipped = store::request_less_events(&db.pool, EventKind::SkippedOversize, 5).await?;
    if !skipped.is_empty() {
        writeln!(out, "not downloaded (over imap.max_message_bytes):")?;
        for (at, _, detail) in skipped {
            writeln!(
                out,
                "  {} {}",
                short_time(&at),
                render::line(detail.as_deref().unwrap_or_default())
            )?;
        }
    }
    Ok(())
}

/// One request, its code and its timeline (or one JSON object).
pub async fn print_request(db: &Db, id: RequestId, json: bool, out: &mut impl Write) -> Result<()> {
    let mut conn = db.pool.acquire().await?;
    let r = store::get_request(&mut conn, id).await?;
    let events = store::events_for(&db.pool, id).await?;
    if json {
        let mut v = serde_json::to_value(&r)?;
        v["collaborator_code"] = json!(r.collaborator_code);
        v["events"] = serde_json::to_value(&events)?;
        writeln!(out, "{}", render::json(&v))?;
        return Ok(());
    }
    // Everything but ids, counts and times can come from mail.
    let line = |s: &str| render::line(s).into_owned();
    writeln!(
        out,
        "request #{}  {}  {}",
        r.id,
        line(r.store_domain.as_str()),
        line(r.state.as_str())
    )?;
    writeln!(
        out,
        "  collaborator code  {}",
        line(r.collaborator_code.expose())
    )?;
    writeln!(
        out,
        "  client             {}",
        line(r.client_name.as_deref().unwrap_or("-"))
    )?;
    if let Some(e) = &r.client_email {
        writeln!(out, "  client email       {}", line(e))?;
    }
    if let Some(n) = &r.leadsie_request_name {
        writeln!(out, "  leadsie request    {}", line(n))?;
    }
    if let Some(u) = &r.leadsie_request_url {
        writeln!(out, "  leadsie link       {}", line(u))?;
    }
    if r.state == RequestState::AwaitingReview {
        writeln!(
            out,
            "  review             awaiting an operator: `collabd approve {}` queues it for filing, `collabd cancel {}` drops it",
            r.id, r.id
        )?;
    }
    writeln!(out, "  attempts           {}", r.attempts)?;
    if let Some(e) = &r.last_error {
        writeln!(out, "  last error         {}", line(e))?;
    }
    writeln!(out, "  received           {}", r.received_at)?;
    writeln!(
        out,
        "  filed              {}",
        r.filed_at.map_or_else(|| "-".to_owned(), |t| t.to_string())
    )?;
    writeln!(
        out,
        "  resolved           {}",
        r.resolved_at
            .map_or_else(|| "-".to_owned(), |t| t.to_string())
    )?;
    writeln!(
        out,
        "  file it at         {PARTNER_DASHBOARD_URL}  (store {}, code {})",
        line(r.store_domain.as_str()),
        line(&r.collaborator_code.masked())
    )?;
    writeln!(out, "timeline:")?;
    for e in events {
        let moved = match (&e.from_state, &e.to_state) {
            (Some(f), Some(t)) => format!(" {f} → {t}"),
            (None, Some(t)) => format!(" → {t}"),
            _ => String::new(),
        };
        let way = match e.message_source.as_deref() {
            Some("webhook") => ", by webhook",
            Some("imap" | "file" | "stdin") => ", by email",
            _ => "",
        };
        let msg = e
            .message_id
            .map(|m| format!(" (message #{m}{way})"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {}  {:<8} {}{}{}  {}",
            short_time(&e.at),
            line(&e.actor.to_string()),
            e.event,
            moved,
            msg,
            line(e.detail.as_deref().unwrap_or_default())
        )?;
    }
    Ok(())
}
