//! What a bad configuration looks like: [`ConfigError`] names the file,
//! the setting and what to do; [`ConfigProblem`] is a setting that loaded
//! but could not be put to use. Both make collabd exit 78.

use std::path::PathBuf;

/// An error in the configuration: it names the file, the setting and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The reason is said in words, once; the I/O error is not a source,
    /// or a printed chain would repeat it.
    #[error("cannot read config file {path}: {}", crate::fs_error::reason(.error))]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config setting {key}: {message}")]
    Invalid { key: String, message: String },
}

/// A setting that loaded but could not be put to use when collabd started
/// (a filer that cannot be built, a CA file that cannot be read): a
/// configuration error all the same, which restarting will not mend.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ConfigProblem(#[from] pub anyhow::Error);

/// Whether `e` is a configuration error — a [`ConfigError`] or a
/// [`ConfigProblem`] anywhere in its chain — rather than trouble at run time.
pub fn is_config_error(e: &anyhow::Error) -> bool {
    e.chain()
        .any(|c| c.is::<ConfigError>() || c.is::<ConfigProblem>())
}

pub(crate) fn invalid(key: &str, message: &str) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        message: message.to_owned(),
    }
}

/// toml's message plus the line it points at.
pub(super) fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = without_value(e.message());
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

/// serde names the offending value in a type error ("invalid type: integer
/// `12345678`, expected a string"). When the setting is a password written
/// without quotes, that value is the secret: say only what kind it was.
pub(super) fn without_value(message: &str) -> String {
    let Some(rest) = message.strip_prefix("invalid type: ") else {
        return message.to_owned();
    };
    let (found, expected) = rest.split_once(", expected").unwrap_or((rest, ""));
    let kind = found.find([' ', '`', '"']).map_or(found, |i| &found[..i]);
    let kind = if kind == "floating" {
        "floating point"
    } else {
        kind
    };
    if expected.is_empty() {
        format!("invalid type: {kind}")
    } else {
        format!("invalid type: {kind}, expected{expected}")
    }
}
