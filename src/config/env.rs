//! Environment overrides: `COLLABD__SECTION__KEY=value` sets any setting,
//! laid over the file's table before it is read into the raw structs.

use std::path::Path;

use serde::Deserialize;

use super::error::{ConfigError, describe_toml_error, invalid, without_value};
use super::raw::RawConfig;

/// `text` (the file, shown as `shown` in errors) with `overrides`
/// (`COLLABD__…` names and their values) laid over it.
pub(super) fn overlay(
    text: &str,
    shown: &Path,
    overrides: &[(String, String)],
) -> Result<RawConfig, ConfigError> {
    let mut table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: shown.to_owned(),
        message: describe_toml_error(text, &e),
    })?;
    let mut names = Vec::new();
    for (name, value) in overrides {
        apply_override(&mut table, name, value)?;
        names.push(name.as_str());
    }
    RawConfig::deserialize(toml::Value::Table(table)).map_err(|e| ConfigError::Parse {
        path: shown.to_owned(),
        message: format!(
            "{} (with the environment overrides {}){}",
            without_value(e.message()),
            names.join(", "),
            if e.message().starts_with("invalid type: ") {
                "; a value that reads as a number or boolean is taken as one: for text, quote it as TOML, e.g. COLLABD__IMAP__USER='\"1234\"'"
            } else {
                ""
            }
        ),
    })
}

/// The environment's overrides: every `COLLABD__…` variable and its value.
pub fn overrides() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("COLLABD__"))
        .collect()
}

/// The file's table with `overrides` laid over it, as the settings are
/// read: what each key is in effect. `None` when the file is not TOML or
/// an override cannot be applied (loading the settings says why).
pub fn effective_table(text: &str, overrides: &[(String, String)]) -> Option<toml::Table> {
    let mut table: toml::Table = toml::from_str(text).ok()?;
    for (name, value) in overrides {
        apply_override(&mut table, name, value).ok()?;
    }
    Some(table)
}

/// A name as an environment variable's part writes it: upper case, `-` as
/// `_` (`beta-2` → `BETA_2`), as in `COLLABD_IMAP_PASSWORD_BETA_2`.
pub(super) fn env_form(name: &str) -> String {
    name.to_ascii_uppercase().replace('-', "_")
}

/// Sets `COLLABD__A__B=value` as `[a] b = value` in the parsed file;
/// `COLLABD__IMAP__NAME__B=value` as `b = value` in the `[[imap]]` table
/// named NAME.
fn apply_override(table: &mut toml::Table, name: &str, value: &str) -> Result<(), ConfigError> {
    let path: Vec<String> = name["COLLABD__".len()..]
        .split("__")
        .map(str::to_ascii_lowercase)
        .collect();
    if path.iter().any(String::is_empty) {
        return Err(invalid(
            name,
            "environment overrides are written COLLABD__SECTION__KEY (double underscores)",
        ));
    }
    let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_owned()));
    let (last, parents) = path.split_last().expect("split gives at least one part");
    let mut at = table;
    let mut parts = parents.iter();
    while let Some(part) = parts.next() {
        let entry = at
            .entry(part.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        // Tables written several times (`[[imap]]`): the next part names
        // one by its `name`, upper-cased with `-` as `_` like its secrets
        // (COLLABD__IMAP__CLIENTS__HOST for the account `clients`).
        if entry.is_array() {
            let Some(wanted) = parts.next() else {
                return Err(invalid(
                    name,
                    &format!(
                        "there are several [[{part}]] tables: name one, as COLLABD__{}__<NAME>__{}",
                        part.to_ascii_uppercase(),
                        last.to_ascii_uppercase()
                    ),
                ));
            };
            at = entry
                .as_array_mut()
                .into_iter()
                .flatten()
                .filter_map(toml::Value::as_table_mut)
                .find(|t| {
                    t.get("name")
                        .and_then(toml::Value::as_str)
                        .is_some_and(|n| env_form(n).eq_ignore_ascii_case(wanted))
                })
                .ok_or_else(|| {
                    invalid(
                        name,
                        &format!(
                            "no [[{part}]] table has the name `{}`",
                            wanted.replace('_', "-")
                        ),
                    )
                })?;
            continue;
        }
        at = entry
            .as_table_mut()
            .ok_or_else(|| invalid(name, &format!("`{part}` is a setting, not a section")))?;
    }
    at.insert(last.clone(), parsed);
    Ok(())
}
