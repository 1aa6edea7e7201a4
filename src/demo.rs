//! `collabd demo`: the whole pipeline on emails shipped inside the binary —
//! Leadsie grants, a re-forward, a newer code, a spoof, Shopify's replies —
//! ingested into a throwaway database, the worker filing each new request
//! with the log filer (a dry run: requests become `logged`), then the
//! status table. No network.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::config::{FilerSettings, Settings, WorkerSettings};
use crate::render;
use crate::render::report::{describe, print_status};
use crate::store::{Db, Source};
use crate::worker::Worker;

macro_rules! demo_mail {
    ($($name:literal),+ $(,)?) => {
        &[$(($name, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo/", $name)) as &[u8]),)+]
    };
}

/// The demo's emails, in the order they "arrive".
pub const EMAILS: &[(&str, &[u8])] = demo_mail![
    "01-leadsie-acme.eml",
    "02-leadsie-two-stores.eml",
    "03-leadsie-acme-reforwarded.eml",
    "04-shopify-acme-granted.eml",
    "05-shopify-beta-granted.eml",
    "06-shopify-beta-removed.eml",
    "07-shopify-gamma-declined.eml",
    "08-leadsie-delta-old-code.eml",
    "09-leadsie-delta-new-code.eml",
    "10-spoofed-leadsie.eml",
    "11-leadsie-meta-only.eml",
    "12-newsletter.eml",
];

/// Each request's store and state, by id.
async fn states(db: &Db) -> Result<BTreeMap<i64, (String, String)>> {
    Ok(crate::store::status_rows(&db.pool, None)
        .await?
        .into_iter()
        .map(|r| {
            let state = r.state.to_string();
            (r.id, (render::line(&r.store_domain).into_owned(), state))
        })
        .collect())
}

pub async fn run(settings: &Settings, db_path: Option<&Path>) -> Result<ExitCode> {
    let tmp =
        tempfile::tempdir().context("cannot create a temporary directory for the demo database")?;
    let path = db_path
        .map(Path::to_path_buf)
        .unwrap_or_else(|| tmp.path().join("demo.db"));
    let db = Db::open(&path).await?;
    // The shipped emails carry no DKIM signatures (they were written for the
    // demo, not sent), so the demo trusts them by identity alone; every other
    // rule still applies.
    let mut settings = settings.clone();
    settings.trust.require = crate::mail::Require::None;
    let ingestor = settings.ingestor(db.clone())?;
    println!(
        "collabd demo: {} emails into {}\n",
        EMAILS.len(),
        path.display()
    );
    let start = chrono::Utc::now() - chrono::Duration::minutes(EMAILS.len() as i64);
    // The worker files with the log filer, chosen as `filer = "log"` would
    // choose it: nothing leaves the machine, and requests become `logged`.
    let worker_settings = WorkerSettings {
        filer: Some(FilerSettings::Log),
        ..WorkerSettings::default()
    };
    let filer = crate::filer::from_settings(&worker_settings)?;
    let worker = Arc::new(Worker::new(db.clone(), filer, &worker_settings));
    for (i, (name, raw)) in EMAILS.iter().enumerate() {
        let now = start + chrono::Duration::minutes(i as i64);
        let report = ingestor
            .ingest(raw, &Source::File(format!("demo/{name}")), now)
            .await?;
        println!("{}", describe(name, &report));
        let before = states(&db).await?;
        worker.run_due(now).await?;
        // What the worker did, as the database now has it.
        for (id, (store, state)) in states(&db).await? {
            let was = before.get(&id).map(|(_, s)| s.as_str());
            if was != Some(state.as_str()) {
                println!(
                    "  worker: request #{id} ({store}) {} → {state}",
                    was.unwrap_or("new")
                );
            }
        }
    }
    println!();
    print_status(&db, None, false, &mut std::io::stdout().lock()).await?;
    if db_path.is_none() {
        println!(
            "\n(the demo database was temporary; pass --db FILE to keep it and query it with sqlite3)"
        );
    }
    db.pool.close().await;
    Ok(ExitCode::SUCCESS)
}
