//! The TOML configuration file, environment overrides and validation into
//! typed settings. Owns every setting's name and default; knows nothing of
//! email parsing beyond building the classifier the settings describe.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::mail::{Classifier, OutcomeRules, TrustPolicy};
use crate::model::OutcomeResult;

/// An error in the configuration: it names the file, the setting and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config setting {key}: {message}")]
    Invalid { key: String, message: String },
}

/// The file as written. Unknown keys are refused so a typo is never ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub database: RawDatabase,
    #[serde(default)]
    pub trust: RawTrust,
    #[serde(default)]
    pub shopify: RawShopify,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    /// Path of the SQLite file.
    pub path: Option<PathBuf>,
    /// Largest raw message kept for audit, in bytes; larger ones keep headers only.
    pub max_raw_bytes: Option<u64>,
    /// Days raw message bytes are kept; 0 keeps them forever.
    pub raw_retention_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrust {
    pub leadsie_domains: Option<Vec<String>>,
    pub shopify_domains: Option<Vec<String>>,
    pub forwarders: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShopify {
    #[serde(default)]
    pub granted_patterns: Vec<String>,
    #[serde(default)]
    pub declined_patterns: Vec<String>,
    #[serde(default)]
    pub revoked_patterns: Vec<String>,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_path: PathBuf,
    pub max_raw_bytes: u64,
    pub raw_retention_days: u32,
    pub trust: TrustPolicy,
    pub outcome_patterns: Vec<(OutcomeResult, String)>,
}

pub const DEFAULT_MAX_RAW_BYTES: u64 = 2 * 1024 * 1024;
pub const DEFAULT_RAW_RETENTION_DAYS: u32 = 180;

impl Settings {
    /// Loads `path` if given (else defaults), then applies environment
    /// overrides (`COLLABD_DB`).
    pub fn load(path: Option<&Path>) -> Result<Settings, ConfigError> {
        let raw = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.to_owned(),
                    source,
                })?;
                toml::from_str::<RawConfig>(&text).map_err(|e| ConfigError::Parse {
                    path: p.to_owned(),
                    message: describe_toml_error(&text, &e),
                })?
            }
            None => RawConfig::default(),
        };
        let mut settings = Settings::from_raw(raw)?;
        if let Some(db) = std::env::var_os("COLLABD_DB").filter(|v| !v.is_empty()) {
            settings.database_path = PathBuf::from(db);
        }
        Ok(settings)
    }

    pub fn from_raw(raw: RawConfig) -> Result<Settings, ConfigError> {
        let domains = |key: &str,
                       v: Option<Vec<String>>,
                       default: &str|
         -> Result<Vec<String>, ConfigError> {
            let list = v.unwrap_or_else(|| vec![default.to_owned()]);
            if list.is_empty() {
                return Err(invalid(key, "must name at least one domain"));
            }
            list.into_iter().map(|d| check_domain(key, &d)).collect()
        };
        let trust = TrustPolicy {
            leadsie_domains: domains(
                "trust.leadsie_domains",
                raw.trust.leadsie_domains,
                "leadsie.com",
            )?,
            shopify_domains: domains(
                "trust.shopify_domains",
                raw.trust.shopify_domains,
                "shopify.com",
            )?,
            forwarders: match raw.trust.forwarders {
                None => None,
                Some(list) => Some(
                    list.into_iter()
                        .map(|f| {
                            let f = f.trim().to_ascii_lowercase();
                            match f.split_once('@') {
                                Some((local, domain)) if !local.is_empty() => {
                                    check_domain("trust.forwarders", domain).map(|_| f.clone())
                                }
                                Some(_) => Err(invalid(
                                    "trust.forwarders",
                                    &format!("`{f}` is not an address or a domain"),
                                )),
                                None => check_domain("trust.forwarders", &f),
                            }
                        })
                        .collect::<Result<_, _>>()?,
                ),
            },
        };
        let mut outcome_patterns = Vec::new();
        for (key, result, list) in [
            (
                "shopify.granted_patterns",
                OutcomeResult::Granted,
                raw.shopify.granted_patterns,
            ),
            (
                "shopify.declined_patterns",
                OutcomeResult::Declined,
                raw.shopify.declined_patterns,
            ),
            (
                "shopify.revoked_patterns",
                OutcomeResult::Revoked,
                raw.shopify.revoked_patterns,
            ),
        ] {
            for p in list {
                regex::Regex::new(&p).map_err(|e| {
                    invalid(
                        key,
                        &format!("`{p}` is not a valid regular expression: {e}"),
                    )
                })?;
                outcome_patterns.push((result, p));
            }
        }
        Ok(Settings {
            database_path: raw.database.path.unwrap_or_else(default_database_path),
            max_raw_bytes: raw.database.max_raw_bytes.unwrap_or(DEFAULT_MAX_RAW_BYTES),
            raw_retention_days: raw
                .database
                .raw_retention_days
                .unwrap_or(DEFAULT_RAW_RETENTION_DAYS),
            trust,
            outcome_patterns,
        })
    }

    /// The classifier these settings describe.
    pub fn classifier(&self) -> Classifier {
        let rules =
            OutcomeRules::new(&self.outcome_patterns).expect("patterns were validated when loaded");
        Classifier::new(self.trust.clone(), rules)
    }
}

/// `$STATE_DIRECTORY/collabd.db` under systemd, else `./collabd.db`.
fn default_database_path() -> PathBuf {
    match std::env::var_os("STATE_DIRECTORY").filter(|v| !v.is_empty()) {
        Some(dir) => {
            // systemd may pass several colon-separated directories.
            let first = dir
                .to_string_lossy()
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned();
            PathBuf::from(first).join("collabd.db")
        }
        None => PathBuf::from("collabd.db"),
    }
}

fn invalid(key: &str, message: &str) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        message: message.to_owned(),
    }
}

fn check_domain(key: &str, d: &str) -> Result<String, ConfigError> {
    let d = d
        .trim()
        .trim_start_matches('@')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let ok = d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(d)
    } else {
        Err(invalid(
            key,
            &format!("`{d}` is not a domain name (write it as `example.com`)"),
        ))
    }
}

/// toml's message plus the line it points at.
fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().to_owned();
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: "test.toml".into(),
            message: describe_toml_error(text, &e),
        })?;
        Settings::from_raw(raw)
    }

    #[test]
    fn defaults() {
        let s = parse("").unwrap();
        assert_eq!(s.trust.leadsie_domains, vec!["leadsie.com"]);
        assert!(s.trust.forwarders.is_none());
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let err = parse("[trust]\nleadsie_domains = [\"leadsie.com\"]\nforwarder = []\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3") && err.contains("forwarder"), "{err}");
    }

    #[test]
    fn bad_values_are_named() {
        let err = parse("[trust]\nshopify_domains = [\"not a domain\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("trust.shopify_domains"), "{err}");
        let err = parse("[shopify]\ngranted_patterns = [\"(unclosed\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("shopify.granted_patterns"), "{err}");
        let err = parse("[trust]\nforwarders = [\"@\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("trust.forwarders"), "{err}");
    }
}
