//! `[database]`: a SQLite file (`path`, the default) or a PostgreSQL
//! server shared by several nodes (`url`), and the server's password.

use std::path::{Path, PathBuf};

use super::error::{ConfigError, invalid};
use crate::secret::Secret;

/// The systemd credential (and, upper-cased, the variable) that holds the
/// PostgreSQL password.
pub const PASSWORD_CREDENTIAL: &str = "database-password";
const PASSWORD_ENV: &str = "COLLABD_DATABASE_PASSWORD";

/// Where the database is.
#[derive(Debug, Clone)]
pub enum DatabasePlace {
    /// A SQLite file.
    File(PathBuf),
    /// A PostgreSQL server.
    Server {
        /// `postgres://user@host:port/database`; a password written in it
        /// is refused by the packaged config's checks, never shown.
        url: String,
        /// From `password_file`, `$COLLABD_DATABASE_PASSWORD` or the
        /// credential `database-password`; none when the server needs none
        /// (peer or certificate authentication, or `~/.pgpass`).
        password: Option<Secret>,
    },
}

/// The server's URL checked for form, and its password found.
pub fn server(
    url: String,
    path_set: bool,
    password_file: Option<&Path>,
) -> Result<DatabasePlace, ConfigError> {
    if path_set {
        return Err(invalid(
            "database.url",
            "set [database] path (a SQLite file) or url (a PostgreSQL server), not both",
        ));
    }
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        return Err(invalid(
            "database.url",
            "must be a PostgreSQL URL: postgres://user@host:5432/database",
        ));
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let has_password = authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
        || rest.contains("password=");
    if has_password {
        return Err(invalid(
            "database.url",
            &format!(
                "holds a password; take it out of the URL and put it in [database] password_file, ${PASSWORD_ENV} or the systemd credential `{PASSWORD_CREDENTIAL}`"
            ),
        ));
    }
    let password = password(password_file)?;
    Ok(DatabasePlace::Server { url, password })
}

/// The password from `password_file` (which must then be readable), else
/// the variable, else the credential; none when none of them is given.
fn password(file: Option<&Path>) -> Result<Option<Secret>, ConfigError> {
    if file.is_some() {
        return crate::secret::load(
            file,
            "database.password_file",
            PASSWORD_ENV,
            PASSWORD_CREDENTIAL,
        )
        .map(Some)
        .map_err(|e| invalid("database.password_file", &e));
    }
    if let Some(v) = std::env::var_os(PASSWORD_ENV).filter(|v| !v.is_empty()) {
        return Ok(Some(Secret::new(v.into_encoded_bytes())));
    }
    let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") else {
        return Ok(None);
    };
    let file = Path::new(&dir).join(PASSWORD_CREDENTIAL);
    match std::fs::read(&file) {
        Ok(mut v) => {
            while v.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                v.pop();
            }
            Ok((!v.is_empty()).then(|| Secret::new(v)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) if !crate::secret::needed() => {
            let _ = e;
            Ok(None)
        }
        Err(e) => Err(invalid(
            "database.password_file",
            &format!(
                "cannot read the credential {}: {}",
                file.display(),
                crate::fs_error::reason(&e)
            ),
        )),
    }
}
