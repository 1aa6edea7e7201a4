//! `collabd parse` and `collabd ingest`: messages from files or stdin,
//! judged and (for ingest) stored, printed in input order.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use crate::config::Settings;
use crate::model::MessageKind;
use crate::render;
use crate::store::{self, Db, Source};

/// How many files `parse` reads and judges at once: their DKIM look-ups
/// wait on DNS side by side (when DNS does not answer, a batch waits about
/// as long as one message), and no more than this many are held.
const PARSE_BATCH: usize = 32;

pub(super) async fn parse(settings: &Settings, files: &[PathBuf]) -> Result<ExitCode> {
    use crate::ingest::Judged;
    let classifier = settings.classifier();
    let verifier = crate::dkim::Verifier::new(&settings.nameservers)?;
    let mut failed = false;
    // A DNS failure is said once, with how many messages it left unjudged,
    // rather than once per message.
    let mut dns_failed: Option<String> = None;
    let mut unchecked = 0usize;
    for batch in files.chunks(PARSE_BATCH) {
        let mut read = Vec::with_capacity(batch.len());
        for file in batch {
            match std::fs::read(file) {
                Ok(raw) => read.push((file, raw)),
                Err(e) => {
                    failed = true;
                    eprintln!("collabd: cannot read {}: {e}", file.display());
                }
            }
        }
        let raws: Vec<&[u8]> = read.iter().map(|(_, raw)| raw.as_slice()).collect();
        let judged = crate::ingest::judge_all(&classifier, &verifier, &raws).await;
        for ((file, _), judged) in read.iter().zip(judged) {
            let line = match judged {
                Judged::Ready(c) => json!({
                    "file": file.display().to_string(),
                    "kind": c.kind,
                    "grants": c.grants,
                    "outcome": c.outcome,
                    "reason": c.reason,
                }),
                Judged::Deferred(c, why) => {
                    unchecked += 1;
                    let line = json!({
                        "file": file.display().to_string(),
                        "kind": MessageKind::Deferred,
                        "grants": [],
                        "outcome": null,
                        "reason": format!("would be {}, but its DKIM signature could not be checked: {why}", c.kind),
                    });
                    dns_failed.get_or_insert(why);
                    line
                }
            };
            let stdout = std::io::stdout();
            let _ = writeln!(stdout.lock(), "{}", render::json(&line));
        }
    }
    if let Some(why) = dns_failed {
        eprintln!(
            "collabd: DNS failed: {}; {unchecked} {} (kind \"deferred\"): check [trust] nameservers and the network",
            render::line(&why),
            if unchecked == 1 {
                "message could not have its DKIM signature checked"
            } else {
                "messages could not have their DKIM signatures checked"
            },
        );
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub(super) async fn ingest(
    settings: &Settings,
    files: &[String],
    webhook: bool,
    received: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<ExitCode> {
    let db = Db::open(&settings.database_path).await?;
    store::purge_raw_older_than(
        &db.pool,
        settings.raw_retention_days,
        &chrono::Utc::now().into(),
    )
    .await?;
    let ingestor = crate::ingest::Ingestor::from_settings(settings, db)?;
    let mut conn = ingestor.db.pool.acquire().await?;
    let mut failed = false;
    for file in files {
        let (raw, source) = if file == "-" {
            let mut buf = Vec::new();
            match std::io::stdin().lock().read_to_end(&mut buf) {
                Ok(_) if webhook => (buf, Source::Webhook("standard input".into())),
                Ok(_) => (buf, Source::Stdin),
                Err(e) => {
                    failed = true;
                    eprintln!("collabd: cannot read standard input: {e}");
                    continue;
                }
            }
        } else {
            match std::fs::read(file) {
                Ok(raw) if webhook => (raw, Source::Webhook(format!("file {file}"))),
                Ok(raw) => (raw, Source::File(file.clone())),
                Err(e) => {
                    failed = true;
                    eprintln!("collabd: cannot read {file}: {e}");
                    continue;
                }
            }
        };
        let max = crate::leadsie::MAX_BODY_BYTES;
        if webhook && raw.len() > max {
            failed = true;
            eprintln!(
                "collabd: {file} is over {} MB, which the webhook refuses (413); a Leadsie payload is a few kilobytes; nothing was stored",
                max / (1024 * 1024)
            );
            continue;
        }
        let now = chrono::Utc::now();
        let received = received.unwrap_or(now);
        let stored = if webhook {
            ingestor.ingest_webhook(&raw, &source, received, now).await
        } else {
            ingestor
                .ingest_on(&mut conn, &raw, &source, received, now)
                .await
                .map(|r| (r, None))
        };
        match stored {
            Ok((report, refused)) => {
                println!("{}", render::line(&render::report::describe(file, &report)));
                if let Some(why) = refused {
                    failed = true;
                    eprintln!(
                        "collabd: {file} is not a Leadsie webhook payload ({why}); it is stored as rejected message #{}",
                        report.message
                    );
                }
            }
            Err(e) => {
                failed = true;
                eprintln!(
                    "collabd: {file} was not ingested (nothing of it was stored; database {}): {e}",
                    settings.database_path.display()
                );
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
