//! The filer `[worker] filer` chose: [`ConfiguredFiler`], one of the
//! backends, and [`from_settings`], which builds it.

use anyhow::Context;

use super::browser::BrowserFiler;
use super::command::CommandFiler;
use super::filing::{Filed, Filer, FilingRequest};
use super::log::LogFiler;
use super::notify::{self, NotifyFiler};
use super::webhook::WebhookFiler;
use crate::config::{FilerSettings, WorkerSettings};
use crate::queue::Failure;
use crate::store::browser::BrowserLedger;

/// The filer `[worker] filer` chose, built and ready: what `collabd run`
/// files with and what `check-config` tries.
// One per process, built once: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum ConfiguredFiler {
    Log(LogFiler),
    Command(CommandFiler),
    Webhook(WebhookFiler),
    Notify(NotifyFiler),
    Browser(BrowserFiler),
}

/// Builds the filer `w.filer` names. Errors name the setting to fix: with
/// no filer chosen and no `[worker.notify]` to default to, requests would
/// reach nobody, so there is none to build.
pub fn from_settings(w: &WorkerSettings) -> anyhow::Result<ConfiguredFiler> {
    let Some(filer) = &w.filer else {
        anyhow::bail!(
            "config setting worker.filer: no filer is configured, so requests would reach nobody; \
             set [worker.notify] (slack_webhooks, or smtp_url with email_from and email_to) to tell people, \
             filer = \"webhook\" or \"command\" in [worker] to hand requests to a system, \
             or filer = \"log\" in [worker] for a dry run that only logs them (state `logged`)"
        );
    };
    Ok(match filer {
        FilerSettings::Log => ConfiguredFiler::Log(LogFiler),
        FilerSettings::Command {
            program,
            args,
            timeout,
            env,
        } => ConfiguredFiler::Command(CommandFiler {
            program: program.clone(),
            args: args.clone(),
            timeout: *timeout,
            env: env.clone(),
        }),
        FilerSettings::Webhook {
            url,
            secret,
            timeout,
        } => ConfiguredFiler::Webhook(
            WebhookFiler::new(url.clone(), secret.clone(), *timeout)
                .context("cannot set up the webhook filer's HTTP client")?,
        ),
        FilerSettings::Notify => ConfiguredFiler::Notify(
            notify::announcer(w)?.context("filer = \"notify\" needs [worker.notify]")?,
        ),
        FilerSettings::Browser => ConfiguredFiler::Browser(BrowserFiler::new(
            w.browser
                .clone()
                .context("filer = \"browser\" needs [worker.browser]")?,
            notify::announcer(w)?,
        )),
    })
}

impl Filer for ConfiguredFiler {
    fn name(&self) -> &'static str {
        match self {
            ConfiguredFiler::Log(f) => f.name(),
            ConfiguredFiler::Command(f) => f.name(),
            ConfiguredFiler::Webhook(f) => f.name(),
            ConfiguredFiler::Notify(f) => f.name(),
            ConfiguredFiler::Browser(f) => f.name(),
        }
    }

    fn one_at_a_time(&self) -> bool {
        matches!(self, ConfiguredFiler::Browser(_))
    }

    fn on_one_node(&self) -> bool {
        matches!(self, ConfiguredFiler::Browser(_))
    }

    async fn file(&self, r: &FilingRequest, ledger: &impl BrowserLedger) -> Result<Filed, Failure> {
        match self {
            ConfiguredFiler::Log(f) => f.file(r, ledger).await,
            ConfiguredFiler::Command(f) => f.file(r, ledger).await,
            ConfiguredFiler::Webhook(f) => f.file(r, ledger).await,
            ConfiguredFiler::Notify(f) => f.file(r, ledger).await,
            ConfiguredFiler::Browser(f) => f.file(r, ledger).await,
        }
    }
}
