//! `systemctl reload collabd` (SIGHUP): the configuration is read again
//! and what can change while running is applied. A file that does not load
//! is logged and the settings in force are kept; the daemon goes on.
//!
//! Applied at once: `[trust]` (forwarders, sealers, phrase lists,
//! nameservers), `[shopify]`'s patterns, `[database] max_raw_bytes` and
//! `[worker] review` (the rules every new message is judged under);
//! `[worker]` and its filers (the worker stops after the filings in hand
//! and starts again with the new settings); the status page's users; `[log]
//! level`. Read only at start: `[database] path`, `[imap]`, the rest of
//! `[http]`, `[leadsie]`; a change there is logged as needing a restart.

use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::ingest::Ingestor;
use crate::lane::WorkerLane;
use crate::sdnotify::Notifier;
use crate::status_page::Web;

/// Sets the log level (a filter such as `info` or `info,collabd=debug`).
pub type SetLogLevel = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// Reads the configuration again, as the command line did.
pub type LoadSettings = Box<dyn Fn() -> Result<Settings, crate::config::ConfigError> + Send + Sync>;

/// What the process hands the daemon so that SIGHUP reloads it (see
/// this module); tests run the daemon without.
pub struct Reload {
    /// One item per SIGHUP.
    pub signals: tokio::sync::mpsc::UnboundedReceiver<()>,
    /// Reads the configuration again, as the command line did.
    pub load: LoadSettings,
    /// Sets the log level from `[log] level`; `None` when `RUST_LOG`
    /// decides it.
    pub set_log_level: Option<SetLogLevel>,
}

/// What a reload changes in the running daemon.
pub struct Live<'a> {
    pub ingestor: &'a Ingestor,
    /// The status page, when it is served.
    pub page: Option<&'a Web>,
    pub notifier: &'a Notifier,
}

/// One reload: `current` (the settings in force) becomes what was applied.
pub async fn reload(
    current: &mut Settings,
    lane: &mut WorkerLane,
    reload: &Reload,
    live: &Live<'_>,
    shutdown: &CancellationToken,
) {
    // No STATUS= here: the supervisor owns the status line and sends it
    // only when the watcher's state changes.
    live.notifier.notify("RELOADING=1");
    match (reload.load)() {
        Err(e) => tracing::error!(
            "reload: {e}; nothing was changed, the settings in force are kept (fix the file and reload again)"
        ),
        Ok(new) => {
            let applied = apply(current, new, lane, reload, live, shutdown).await;
            *current = applied;
        }
    }
    live.notifier.notify("READY=1");
}

/// Applies `new` where it differs from `old`; returns the settings now in
/// force (the old ones where a change needs a restart or failed).
async fn apply(
    old: &Settings,
    new: Settings,
    lane: &mut WorkerLane,
    reload: &Reload,
    live: &Live<'_>,
    shutdown: &CancellationToken,
) -> Settings {
    let mut done: Vec<String> = Vec::new();
    let mut in_force = new;

    let rules_changed = changed_rules(old, &in_force);
    if !rules_changed.is_empty() {
        match crate::ingest::Rules::from_settings(&in_force) {
            Ok(rules) => {
                live.ingestor.replace_rules(rules);
                done.push(format!(
                    "{}: mail is judged under the new settings from now on (`collabd rejudge` judges stored mail again)",
                    rules_changed.join(", ")
                ));
            }
            Err(e) => {
                tracing::error!(
                    "reload: {}; mail is still judged under the old settings",
                    crate::render::error(&e)
                );
                keep_rules(&mut in_force, old);
            }
        }
    }

    if worker_differs(&old.worker, &in_force.worker) {
        match crate::filer::from_settings(&in_force.worker)
            .and_then(|filer| crate::filer::notify::announcer(&in_force.worker).map(|a| (filer, a)))
        {
            Ok((filer, announcer)) => {
                // The old lane first finishes its filings in hand and claims
                // nothing more; only then does the new one start, so the
                // two never file, announce or hold the browser profile at
                // once.
                let db = live.ingestor.db.clone();
                let was = lane.filer;
                lane.stop().await;
                *lane = WorkerLane::start(db, filer, announcer, &in_force.worker, shutdown);
                done.push(format!(
                    "[worker]: the worker restarted with the {} filer{}",
                    lane.filer,
                    if was == lane.filer {
                        String::new()
                    } else {
                        format!(
                            " (was {was}; the status page names the filer chosen at start until a restart)"
                        )
                    }
                ));
            }
            Err(e) => {
                tracing::error!(
                    "reload: {}; the worker keeps its settings",
                    crate::render::error(&e)
                );
                // The review policy went with the rules, above.
                let review = in_force.worker.review;
                in_force.worker = old.worker.clone();
                in_force.worker.review = review;
            }
        }
    }

    match (&old.http, &in_force.http, live.page) {
        (Some(was), Some(now), Some(page))
            if was.users != now.users && same_but_users(was, now) =>
        {
            page.replace_users(now.users.clone());
            done.push(format!(
                "[http] users: {} can sign in to the status page (was {})",
                now.users.len(),
                was.users.len()
            ));
        }
        _ => {}
    }

    if old.log_level != in_force.log_level {
        let level = in_force
            .log_level
            .clone()
            .unwrap_or_else(|| "info".to_owned());
        match &reload.set_log_level {
            Some(set) => match set(&level) {
                Ok(()) => done.push(format!("[log] level: {level}")),
                Err(e) => {
                    tracing::error!("reload: [log] level `{level}`: {e}; the level stays");
                    in_force.log_level = old.log_level.clone();
                }
            },
            None => tracing::warn!(
                "reload: [log] level is now `{level}`, but RUST_LOG is set and decides the level"
            ),
        }
    }

    let mut restart = Vec::new();
    if old.database_path != in_force.database_path
        || old.database_shown() != in_force.database_shown()
    {
        restart.push("[database] path");
        in_force.database_path = old.database_path.clone();
        in_force.database_server = old.database_server.clone();
    }
    if differs(&old.imap, &in_force.imap) {
        restart.push("[imap]");
        in_force.imap = old.imap.clone();
    }
    let http_changed = match (&old.http, &in_force.http) {
        (Some(a), Some(b)) => !same_but_users(a, b),
        (a, b) => a.is_some() != b.is_some(),
    };
    if http_changed {
        restart.push("[http]");
        in_force.http = old.http.clone();
    }
    if differs(&old.leadsie, &in_force.leadsie) {
        restart.push("[leadsie]");
        in_force.leadsie = old.leadsie.clone();
    }
    if old.raw_retention_days != in_force.raw_retention_days {
        restart.push("[database] raw_retention_days");
        in_force.raw_retention_days = old.raw_retention_days;
    }

    for what in in_force
        .insecure
        .iter()
        .filter(|w| !old.insecure.contains(w))
    {
        tracing::warn!("{what}: secrets and codes cross the network unencrypted");
    }
    for what in in_force.exposed.iter().filter(|w| !old.exposed.contains(w)) {
        tracing::warn!("{what}");
    }
    for what in &done {
        tracing::info!("reload: {what}");
    }
    if !restart.is_empty() {
        tracing::warn!(
            "reload: {} changed; collabd reads {} only at start: run `systemctl restart collabd` to apply",
            restart.join(", "),
            if restart.len() == 1 { "it" } else { "them" }
        );
    }
    if done.is_empty() && restart.is_empty() {
        tracing::info!("reload: the configuration is unchanged");
    }
    in_force
}

/// The sections whose change alters how mail is judged and stored.
fn changed_rules(old: &Settings, new: &Settings) -> Vec<&'static str> {
    let mut sections = Vec::new();
    if differs(&old.trust, &new.trust) || old.nameservers != new.nameservers {
        sections.push("[trust]");
    }
    if old.outcome_rules.operator_patterns() != new.outcome_rules.operator_patterns() {
        sections.push("[shopify]");
    }
    if old.max_raw_bytes != new.max_raw_bytes {
        sections.push("[database] max_raw_bytes");
    }
    if old.worker.review != new.worker.review {
        sections.push("[worker] review");
    }
    sections
}

/// `[worker]` changed in what the worker uses (the review policy belongs
/// to the rules).
fn worker_differs(a: &crate::config::WorkerSettings, b: &crate::config::WorkerSettings) -> bool {
    let mut b = b.clone();
    b.review = a.review;
    differs(a, &b)
}

fn keep_rules(new: &mut Settings, old: &Settings) {
    new.trust = old.trust.clone();
    new.nameservers = old.nameservers.clone();
    new.outcome_rules = old.outcome_rules.clone();
    new.max_raw_bytes = old.max_raw_bytes;
    new.worker.review = old.worker.review;
}

/// Whether two settings differ. The validated settings are compared
/// through their `Debug` form, which every setting has and which shows each
/// field (secrets as a mark, so a changed password reads as unchanged: it
/// is read at start, with the connection it opens).
fn differs<T: std::fmt::Debug>(a: &T, b: &T) -> bool {
    format!("{a:?}") != format!("{b:?}")
}

/// `[http]` the same but for its users (and the page access they decide).
fn same_but_users(a: &crate::config::HttpSettings, b: &crate::config::HttpSettings) -> bool {
    let (mut a, mut b) = (a.clone(), b.clone());
    a.users = Default::default();
    b.users = Default::default();
    !differs(&a, &b)
}
