//! `collabd demo`: the whole pipeline on emails shipped inside the binary —
//! Leadsie grants, a re-forward, a newer code, a spoof, Shopify's replies —
//! and one Leadsie webhook delivery (a store an email already brought, and a
//! new one), ingested into a throwaway database, the worker filing each new request
//! with the log filer (a dry run: requests become `logged`), then the
//! status table. No network.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::cli::report::print_status;
use crate::config::{FilerSettings, Settings, WorkerSettings};
use crate::render;
use crate::render::report::describe;
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

/// The Leadsie webhook delivery that "arrives" after the emails, as
/// `POST /leadsie/{token}` would receive it.
pub const WEBHOOK: (&str, &[u8]) = (
    "13-leadsie-webhook.json",
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/demo/13-leadsie-webhook.json"
    )),
);

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

/// The agency the demo's forwarded emails come from.
const DEMO_AGENCY: &str = "agency.example";

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
    // The demo's colleague forwards from the agency's own domain: list it,
    // as an operator lists theirs (no inline forward is believed otherwise).
    if settings.trust.forwarders.is_none() {
        settings.trust.forwarders = Some(vec![DEMO_AGENCY.to_owned()]);
    }
    let ingestor = crate::ingest::Ingestor::from_settings(&settings, db.clone())?;
    println!(
        "collabd demo: {} emails and a Leadsie webhook delivery into {}\n",
        EMAILS.len(),
        path.display()
    );
    let start = chrono::Utc::now() - chrono::Duration::minutes(EMAILS.len() as i64 + 1);
    // The worker files with the log filer, chosen as `filer = "log"` would
    // choose it: nothing leaves the machine, and requests become `logged`.
    let worker_settings = WorkerSettings {
        filer: Some(FilerSettings::Log),
        ..WorkerSettings::default()
    };
    let filer = crate::filer::from_settings(&worker_settings)?;
    let worker = Arc::new(Worker::new(db.clone(), filer, &worker_settings));
    let arrivals = EMAILS.iter().map(|m| (m, false)).chain([(&WEBHOOK, true)]);
    for (i, ((name, raw), webhook)) in arrivals.enumerate() {
        let now = start + chrono::Duration::minutes(i as i64);
        let report = if webhook {
            let source = Source::Webhook(format!("demo/{name}"));
            ingestor.ingest_webhook(raw, &source, now, now).await?.0
        } else {
            ingestor
                .ingest(raw, &Source::File(format!("demo/{name}")), now)
                .await?
        };
        let label = if webhook {
            format!("{name} (webhook)")
        } else {
            (*name).to_owned()
        };
        println!("{}", describe(&label, &report));
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
