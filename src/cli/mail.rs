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

/// How many files `parse` hands the lanes at once: a batch's DKIM look-ups
/// wait on DNS side by side (when DNS does not answer, a batch waits about
/// as long as one message), and its lines are printed together.
const PARSE_BATCH: usize = 512;

/// How many files `ingest` judges and then stores in one transaction: their
/// bytes are held until the commit.
const INGEST_BATCH: usize = 64;

pub(super) async fn parse(settings: &Settings, files: &[PathBuf]) -> Result<ExitCode> {
    use crate::ingest::Judged;
    use crate::ingest::files::{Input, Verdict, judge_inputs};
    let classifier = settings.classifier();
    let verifier = crate::dkim::Verifier::new(&settings.nameservers)?;
    let mut failed = false;
    // A DNS failure is said once, with how many messages it left unjudged,
    // rather than once per message.
    let mut dns_failed: Option<String> = None;
    let mut unchecked = 0usize;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    for batch in files.chunks(PARSE_BATCH) {
        let inputs = batch.iter().cloned().map(Input::File).collect();
        let verdicts = judge_inputs(&classifier, &verifier, inputs, false).await;
        for (file, verdict) in batch.iter().zip(verdicts) {
            let judged = match verdict {
                Verdict::Judged { judged, .. } => judged,
                Verdict::NotRead(e) => {
                    failed = true;
                    // What was printed so far goes first.
                    let _ = out.flush();
                    eprintln!("collabd: cannot read {}: {e}", file.display());
                    continue;
                }
            };
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
            if writeln!(out, "{}", render::json(&line)).is_err() {
                // A closed pipe (`| head`): nobody reads the rest.
                return Ok(ExitCode::from(1));
            }
        }
        if out.flush().is_err() {
            return Ok(ExitCode::from(1));
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
    use crate::ingest::files::{Input, Verdict, judge_inputs};
    let db = Db::open_configured(settings).await?;
    store::purge_raw_older_than(
        &db.pool,
        settings.raw_retention_days,
        &chrono::Utc::now().into(),
    )
    .await?;
    let ingestor = crate::ingest::Ingestor::from_settings(settings, db)?;
    if webhook {
        return ingest_webhooks(settings, &ingestor, files, received).await;
    }
    let rules = ingestor.rules();
    let mut conn = ingestor.db.pool.acquire().await?;
    let mut failed = false;
    let mut stdin_read = false;
    for batch in files.chunks(INGEST_BATCH) {
        let mut names = Vec::with_capacity(batch.len());
        let mut inputs = Vec::with_capacity(batch.len());
        for file in batch {
            if file != "-" {
                names.push(file);
                inputs.push(Input::File(PathBuf::from(file)));
                continue;
            }
            // Standard input holds one message, read once.
            let mut buf = Vec::new();
            if stdin_read {
                failed = true;
                eprintln!("collabd: `-` is given twice; standard input holds one message");
                continue;
            }
            stdin_read = true;
            match std::io::stdin().lock().read_to_end(&mut buf) {
                Ok(_) => {
                    names.push(file);
                    inputs.push(Input::Bytes(buf));
                }
                Err(e) => {
                    failed = true;
                    eprintln!("collabd: cannot read standard input: {e}");
                }
            }
        }
        let verdicts = judge_inputs(&rules.classifier, &rules.verifier, inputs, true).await;
        let mut judged = Vec::with_capacity(names.len());
        for (file, verdict) in names.into_iter().zip(verdicts) {
            match verdict {
                Verdict::Judged {
                    judged: j,
                    raw: Some(raw),
                } => {
                    let source = if file == "-" {
                        Source::Stdin
                    } else {
                        Source::File(file.clone())
                    };
                    judged.push(Judgement {
                        file,
                        raw,
                        judged: j,
                        source,
                    });
                }
                Verdict::Judged { raw: None, .. } => {
                    failed = true;
                    eprintln!(
                        "collabd: {file} was not ingested: its bytes were not kept; please report this"
                    );
                }
                Verdict::NotRead(e) => {
                    failed = true;
                    eprintln!("collabd: cannot read {file}: {e}");
                }
            }
        }
        let stored = store_batch(&ingestor, &mut conn, &judged, received).await;
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        for (j, stored) in judged.iter().zip(stored) {
            match stored {
                Ok(report) => {
                    let _ = writeln!(
                        out,
                        "{}",
                        render::line(&render::report::describe(j.file, &report))
                    );
                }
                Err(e) => {
                    failed = true;
                    // What was printed so far goes first.
                    let _ = out.flush();
                    eprintln!(
                        "collabd: {} was not ingested (nothing of it was stored; database {}): {e}",
                        j.file,
                        settings.database_shown()
                    );
                }
            }
        }
        let _ = out.flush();
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// One message read and judged, to be stored.
struct Judgement<'a> {
    file: &'a String,
    raw: Vec<u8>,
    judged: crate::ingest::Judged,
    source: Source,
}

/// Stores a batch in one transaction. Should that fail, each message is
/// stored in its own, so the one that cannot be is named and the others
/// are kept. One result per message, in order.
async fn store_batch(
    ingestor: &crate::ingest::Ingestor,
    conn: &mut impl crate::store::Exec,
    judged: &[Judgement<'_>],
    received: Option<chrono::DateTime<chrono::Utc>>,
) -> Vec<store::Result<crate::ingest::IngestReport>> {
    let together: store::Result<Vec<_>> = async {
        let mut tx = store::Immediate::begin(&mut *conn).await?;
        let mut reports = Vec::with_capacity(judged.len());
        for j in judged {
            reports.push(store_one(ingestor, &mut tx, j, received).await?);
        }
        tx.commit().await?;
        Ok(reports)
    }
    .await;
    if let Ok(reports) = together {
        return reports.into_iter().map(Ok).collect();
    }
    let mut each = Vec::with_capacity(judged.len());
    for j in judged {
        let alone = async {
            let mut tx = store::Immediate::begin(&mut *conn).await?;
            let report = store_one(ingestor, &mut tx, j, received).await?;
            tx.commit().await?;
            Ok(report)
        }
        .await;
        each.push(alone);
    }
    each
}

/// Stores one judged message in the caller's transaction.
async fn store_one(
    ingestor: &crate::ingest::Ingestor,
    tx: &mut store::Immediate<'_>,
    j: &Judgement<'_>,
    received: Option<chrono::DateTime<chrono::Utc>>,
) -> store::Result<crate::ingest::IngestReport> {
    let now = chrono::Utc::now();
    ingestor
        .store_in(
            tx,
            &j.raw,
            &j.judged,
            &j.source,
            received.unwrap_or(now),
            now,
        )
        .await
}

/// `collabd ingest --webhook`: each file a saved Leadsie payload, stored
/// in its own transaction as the endpoint stores a delivery.
async fn ingest_webhooks(
    settings: &Settings,
    ingestor: &crate::ingest::Ingestor,
    files: &[String],
    received: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<ExitCode> {
    let mut failed = false;
    for file in files {
        let read = if file == "-" {
            let mut buf = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut buf)
                .map(|_| (buf, Source::Webhook("standard input".into())))
        } else {
            std::fs::read(file).map(|raw| (raw, Source::Webhook(format!("file {file}"))))
        };
        let (raw, source) = match read {
            Ok(read) => read,
            Err(e) => {
                failed = true;
                if file == "-" {
                    eprintln!("collabd: cannot read standard input: {e}");
                } else {
                    eprintln!("collabd: cannot read {file}: {e}");
                }
                continue;
            }
        };
        let max = crate::leadsie::MAX_BODY_BYTES;
        if raw.len() > max {
            failed = true;
            eprintln!(
                "collabd: {file} is over {} MB, which the webhook refuses (413); a Leadsie payload is a few kilobytes; nothing was stored",
                max / (1024 * 1024)
            );
            continue;
        }
        let now = chrono::Utc::now();
        match ingestor
            .ingest_webhook(&raw, &source, received.unwrap_or(now), now)
            .await
        {
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
                    settings.database_shown()
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
