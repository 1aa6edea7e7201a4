//! XOAUTH2 access tokens for Gmail and Microsoft 365: refreshed from the
//! refresh token at the configured token endpoint (RFC 6749 §6) before they
//! expire, and kept in memory only.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde::Deserialize;

use crate::config::OAuth2Settings;
use crate::secret::Secret;

/// Refresh this long before the token's stated expiry.
const MARGIN: Duration = Duration::from_secs(120);

#[derive(Debug)]
pub struct TokenSource {
    settings: OAuth2Settings,
    client: reqwest::Client,
    /// A rotated refresh token, when the endpoint sent a new one.
    refresh_token: Secret,
    cached: Option<(Secret, Instant)>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenError {
    error: Option<String>,
    error_description: Option<String>,
}

impl TokenSource {
    pub fn new(settings: OAuth2Settings) -> Result<TokenSource> {
        let client = crate::outbound::http_client(Duration::from_secs(30))?;
        Ok(TokenSource {
            refresh_token: settings.refresh_token.clone(),
            settings,
            client,
            cached: None,
        })
    }

    /// A token valid for at least two more minutes, refreshed if needed.
    pub async fn access_token(&mut self) -> Result<Secret> {
        if let Some((token, until)) = &self.cached
            && Instant::now() + MARGIN < *until
        {
            return Ok(token.clone());
        }
        let (token, lifetime) = self.refresh().await?;
        self.cached = Some((token.clone(), Instant::now() + lifetime));
        Ok(token)
    }

    /// Forget the cached token (the server refused it): the next call refreshes.
    pub fn invalidate(&mut self) {
        self.cached = None;
    }

    async fn refresh(&mut self) -> Result<(Secret, Duration)> {
        let url = &self.settings.token_url;
        let shown = crate::outbound::shown_url(url);
        let refresh = self.refresh_token.expose_str().into_owned();
        let mut form: Vec<(&str, String)> = vec![
            ("grant_type", "refresh_token".into()),
            ("refresh_token", refresh),
            ("client_id", self.settings.client_id.clone()),
        ];
        if let Some(secret) = &self.settings.client_secret {
            form.push(("client_secret", secret.expose_str().into_owned()));
        }
        if let Some(scope) = &self.settings.scope {
            form.push(("scope", scope.clone()));
        }
        let resp = match self.client.post(url.clone()).form(&form).send().await {
            Ok(r) => r,
            Err(e) => bail!(
                "cannot reach the OAuth2 token endpoint {shown}: {} (check {}.token_url and the network)",
                e.without_url(),
                self.settings.key
            ),
        };
        let status = resp.status();
        if status.is_redirection() {
            bail!(
                "the OAuth2 token endpoint {shown} answered {status}, a redirect to {}, which collabd does not follow (it would re-send the refresh token there); set {}.token_url to the address that answers",
                crate::outbound::redirect_target(url, &resp),
                self.settings.key
            );
        }
        let body = resp.bytes().await.unwrap_or_default();
        if !status.is_success() {
            // Only the error code and description: the body may echo tokens.
            let why = serde_json::from_slice::<TokenError>(&body)
                .ok()
                .map(|e| {
                    format!(
                        "{}{}",
                        e.error.unwrap_or_default(),
                        e.error_description
                            .map(|d| format!(": {d}"))
                            .unwrap_or_default()
                    )
                })
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "no error description".into());
            bail!(
                "the OAuth2 token endpoint {shown} refused to refresh the access token ({status}, {why}); if it says invalid_grant, the refresh token was revoked or expired: issue a new one"
            );
        }
        let Ok(t) = serde_json::from_slice::<TokenResponse>(&body) else {
            bail!("the OAuth2 token endpoint {shown} answered without an access_token");
        };
        if t.access_token.is_empty() {
            bail!("the OAuth2 token endpoint {shown} answered with an empty access_token");
        }
        if let Some(rotated) = t.refresh_token.filter(|r| !r.is_empty()) {
            self.refresh_token = Secret::new(rotated);
        }
        let lifetime = Duration::from_secs(t.expires_in.unwrap_or(3600).max(1));
        tracing::info!(
            endpoint = %shown,
            expires_in_s = lifetime.as_secs(),
            "refreshed the IMAP OAuth2 access token"
        );
        Ok((Secret::new(t.access_token), lifetime))
    }
}
