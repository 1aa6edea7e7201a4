//! `[database]`: a SQLite file (`path`, the default) or a PostgreSQL
//! server shared by several nodes (`url`), and the server's password.

use std::path::{Path, PathBuf};

use super::error::{ConfigError, invalid};
use crate::secret::Secret;

/// The systemd credential (and, upper-cased, the variable) that holds the
/// PostgreSQL password.
pub const PASSWORD_CREDENTIAL: &str = "database-password";
const PASSWORD_ENV: &str = "COLLABD_DATABASE_PASSWORD";

/// Where a password written in a PostgreSQL URL is: the byte ranges of
/// the user-info's password (`postgres://user:PASSWORD@host/db`, whatever
/// characters it holds: a `/`, `?` or `@` in it still counts) and of any
/// `password=` query value. Empty when the URL holds none. Errs towards
/// finding one: a range that is not a password is only hidden, or the URL
/// refused with words that say why.
pub fn url_passwords(url: &str) -> Vec<std::ops::Range<usize>> {
    let mut found = Vec::new();
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return found;
    };
    let rest = &url[start..];
    // The user-info ends at the last `@` (a host, path or query has none
    // in a PostgreSQL URL, and a password may hold one); the user ends at
    // the first `:` if that comes before any `@`.
    if let Some(at) = rest.rfind('@') {
        let userinfo = &rest[..at];
        let first_at = userinfo.find('@').unwrap_or(userinfo.len());
        if let Some(colon) = userinfo.find(':').filter(|c| *c < first_at) {
            found.push(start + colon + 1..start + at);
        }
    }
    let mut from = 0;
    while let Some(i) = url[from..].find("password=") {
        let value = from + i + "password=".len();
        let end = url[value..].find('&').map_or(url.len(), |e| value + e);
        found.push(value..end);
        from = end;
    }
    found
}

/// `text` with every password `url` holds replaced by `…`.
pub fn hide_url_passwords(text: &str, url: &str) -> String {
    let mut out = text.to_owned();
    for r in url_passwords(url) {
        let secret = &url[r];
        if !secret.is_empty() {
            out = out.replace(secret, "…");
        }
    }
    out
}

/// `url` with every password it holds replaced by `…`: how logs, errors
/// and commands show a PostgreSQL URL.
pub fn without_password(url: &str) -> String {
    hide_url_passwords(url, url)
}

/// Where the database is.
#[derive(Debug, Clone)]
pub enum DatabasePlace {
    /// A SQLite file.
    File(PathBuf),
    /// A PostgreSQL server.
    Server(DatabaseServer),
}

/// A PostgreSQL server, and the password to log in with.
#[derive(Debug, Clone)]
pub struct DatabaseServer {
    /// `postgres://user@host:port/database`; one holding a password is
    /// refused ([`server`]).
    pub url: String,
    /// From `password_file`, `$COLLABD_DATABASE_PASSWORD` or the
    /// credential `database-password`; none when the server needs none
    /// (peer or certificate authentication, or `~/.pgpass`).
    pub password: Option<Secret>,
}

/// The server's URL checked for form (a PostgreSQL URL, without a
/// password), and its password found.
pub fn server(url: String, password_file: Option<&Path>) -> Result<DatabaseServer, ConfigError> {
    if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
        return Err(invalid(
            "database.url",
            "must be a PostgreSQL URL: postgres://user@host:5432/database",
        ));
    }
    if !url_passwords(&url).is_empty() {
        return Err(invalid(
            "database.url",
            &format!(
                "holds a password; take it out of the URL and put it in [database] password_file, ${PASSWORD_ENV} or the systemd credential `{PASSWORD_CREDENTIAL}`"
            ),
        ));
    }
    let password = password(password_file)?;
    Ok(DatabaseServer { url, password })
}

/// The password from `password_file` (which must then be readable), else
/// the variable, else the credential; none when none of them is given.
fn password(file: Option<&Path>) -> Result<Option<Secret>, ConfigError> {
    crate::secret::optional(
        file,
        "database.password_file",
        PASSWORD_ENV,
        PASSWORD_CREDENTIAL,
    )
    .map_err(|e| invalid("database.password_file", &e))
}
