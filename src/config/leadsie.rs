//! `[leadsie]`: Leadsie's webhook, beside the mailbox — whether
//! `POST /leadsie/{token}` is served, its secret token, and how many
//! deliveries one address may make in a burst.

use super::error::{ConfigError, invalid};
use super::raw::RawLeadsie;
use crate::secret::{self, Secret};

/// The systemd credential that holds the webhook's token.
pub const TOKEN_CREDENTIAL: &str = "leadsie-webhook-token";
/// The environment variable that may hold it instead.
pub const TOKEN_ENV: &str = "COLLABD_LEADSIE_WEBHOOK_TOKEN";
/// A shorter token could be guessed; 24 random hex digits is 96 bits.
pub const MIN_TOKEN_CHARS: usize = 24;
/// A random token of that length uses many characters; one that does not
/// was typed, not made.
pub const MIN_DISTINCT_CHARS: usize = 10;
/// Deliveries one address may make per minute (and in one burst). Leadsie
/// sends one per client connection; a burst above this is not Leadsie.
pub const DEFAULT_RATE_PER_MINUTE: u32 = 120;

/// Validated `[leadsie]` settings, present when `webhook = true`.
#[derive(Debug, Clone)]
pub struct LeadsieSettings {
    /// The secret path segment: `POST /leadsie/{token}`.
    pub token: Secret,
    /// Deliveries one client address may make per minute, and in a burst.
    pub rate_per_minute: u32,
}

pub(super) fn leadsie_settings(
    raw: RawLeadsie,
    http_configured: bool,
) -> Result<Option<LeadsieSettings>, ConfigError> {
    if raw.webhook != Some(true) {
        return Ok(None);
    }
    if !http_configured {
        return Err(invalid(
            "leadsie.webhook",
            "the webhook is served on the [http] listener, and there is none: add [http] listen = \"127.0.0.1:9464\" (behind a TLS reverse proxy that forwards /leadsie/ to it)",
        ));
    }
    let token = secret::inline_or_load(
        raw.token,
        raw.token_file.as_deref(),
        ("leadsie.token", "leadsie.token_file"),
        TOKEN_ENV,
        TOKEN_CREDENTIAL,
    )
    .map_err(|e| invalid("leadsie.token_file", &e))?;
    let text = token.expose_str();
    let well_formed = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~'));
    // `aaaa…` has the length and none of the secrecy.
    let distinct = text.chars().collect::<std::collections::HashSet<_>>().len();
    // A command that serves no webhook read no token: nothing to check.
    let unread = text.is_empty() && !secret::needed();
    if !unread
        && (text.chars().count() < MIN_TOKEN_CHARS || !well_formed || distinct < MIN_DISTINCT_CHARS)
    {
        return Err(invalid(
            "leadsie.token_file",
            &format!(
                "the webhook token must be at least {MIN_TOKEN_CHARS} characters of letters, digits, '-', '_', '.' or '~' (it is part of the URL), at least {MIN_DISTINCT_CHARS} of them different; make one with `openssl rand -hex 24`"
            ),
        ));
    }
    let rate_per_minute = match raw.rate_limit_per_minute {
        Some(0) => {
            return Err(invalid(
                "leadsie.rate_limit_per_minute",
                "must be at least 1 (deliveries one address may make per minute)",
            ));
        }
        Some(n) => n,
        None => DEFAULT_RATE_PER_MINUTE,
    };
    Ok(Some(LeadsieSettings {
        token,
        rate_per_minute,
    }))
}
