//! `collabd parse` and `collabd ingest`: messages from files or stdin,
//! judged and (for ingest) stored, printed in input order.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::config::Settings;
use crate::model::MessageKind;
use crate::render;
use crate::store::{self, Db, Source};

/// How many lines `parse` prints between flushes.
const PARSE_FLUSH: usize = 512;

/// How many files `ingest` judges and then stores in one transaction: their
/// bytes are held until the commit.
const INGEST_BATCH: usize = 64;

pub(super) async fn parse(settings: &Settings, files: Vec<PathBuf>) -> Result<ExitCode> {
    use crate::ingest::files::{Input, judge_each};
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    let classifier = settings.classifier();
    let verifier = crate::dkim::Verifier::new(&settings.nameservers)?;
    let mut failed = false;
    // A DNS failure is said once, with how many messages it left unjudged,
    // rather than once per message.
    let mut dns_failed: Option<String> = None;
    let mut unchecked = 0usize;
    // Written off the runtime's thread: while a slow reader holds the
    // output back, signature checks go on reading their DNS answers.
    let mut out = tokio::io::BufWriter::with_capacity(64 * 1024, tokio::io::stdout());
    let inputs = files.into_iter().map(Input::File).collect();
    // Each line is made on the lane that read its file.
    let lines = judge_each(&classifier, &verifier, inputs, false, parse_line);
    let mut lines = std::pin::pin!(lines);
    let mut printed = 0usize;
    while let Some(line) = lines.next().await {
        let line = match line {
            ParseLine::Judged(line) => line,
            ParseLine::Deferred(line, why) => {
                unchecked += 1;
                dns_failed.get_or_insert(why);
                line
            }
            ParseLine::NotRead(why) => {
                failed = true;
                // What was printed so far goes first.
                let _ = out.flush().await;
                eprintln!("collabd: {why}");
                continue;
            }
        };
        let mut written = out.write_all(line.as_bytes()).await;
        if written.is_ok() {
            written = out.write_all(b"\n").await;
        }
        if written.is_err() {
            // A closed pipe (`| head`): nobody reads the rest.
            return Ok(ExitCode::from(1));
        }
        printed += 1;
        // Lines reach a reader as they come, a few hundred at a time.
        if printed.is_multiple_of(PARSE_FLUSH) && out.flush().await.is_err() {
            return Ok(ExitCode::from(1));
        }
    }
    if out.flush().await.is_err() {
        return Ok(ExitCode::from(1));
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

/// One file as `parse` prints it.
enum ParseLine {
    Judged(String),
    /// Its signature could not be checked: the line, and why.
    Deferred(String, String),
    /// Why it could not be read.
    NotRead(String),
}

/// The line `parse` prints for one file: its verdict as one JSON object.
fn parse_line(
    input: &crate::ingest::files::Input,
    verdict: crate::ingest::files::Verdict,
) -> ParseLine {
    use crate::ingest::Judged;
    use crate::ingest::files::{Input, Verdict};
    let file = match input {
        Input::File(path) => path.display().to_string(),
        Input::Bytes(_) => "-".to_owned(),
    };
    let judged = match verdict {
        Verdict::Judged { judged, .. } => judged,
        Verdict::NotRead(e) => return ParseLine::NotRead(format!("cannot read {file}: {e}")),
    };
    match judged {
        Judged::Ready(c) => ParseLine::Judged(render::json(&Line {
            file: &file,
            grants: sorted(&c.grants),
            kind: c.kind,
            outcome: sorted(&c.outcome),
            reason: c.reason.as_deref(),
        })),
        Judged::Deferred(c, why) => ParseLine::Deferred(
            render::json(&Line {
                file: &file,
                grants: serde_json::Value::Array(Vec::new()),
                kind: MessageKind::Deferred,
                outcome: serde_json::Value::Null,
                reason: Some(&format!(
                    "would be {}, but its DKIM signature could not be checked: {why}",
                    c.kind
                )),
            }),
            why,
        ),
    }
}

/// One line of `parse`'s output, its keys in the order it has always
/// printed them (alphabetical, at every depth).
#[derive(serde::Serialize)]
struct Line<'a> {
    file: &'a str,
    grants: serde_json::Value,
    kind: MessageKind,
    outcome: serde_json::Value,
    reason: Option<&'a str>,
}

/// `value` with its keys sorted, as a `serde_json::Value` writes them.
fn sorted<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
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
