//! Secrets: a value that never prints ([`Secret`]), and where collabd finds
//! one — inline in the config, a file, an environment variable or a systemd
//! credential. Knows nothing of which setting wants it; callers name the
//! setting in their errors.

use std::path::Path;

use subtle::ConstantTimeEq;

/// A shared secret that never prints.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Secret {
        Secret(bytes.into())
    }

    /// The secret itself, for the one place that sends it. Never log it.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The secret as text (a password or token), lossily.
    pub fn expose_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// A secret written inline in the config (`keys.0`), which must not be set
/// together with its file (`keys.1`); else as [`load`] finds it.
pub fn inline_or_load(
    inline: Option<String>,
    file: Option<&Path>,
    keys: (&str, &str),
    env: &str,
    credential: &str,
) -> Result<Secret, String> {
    match inline.filter(|v| !v.is_empty()) {
        Some(v) if file.is_none() => Ok(Secret::new(v)),
        Some(_) => Err(format!("set {} or {}, not both", keys.0, keys.1)),
        None => load(file, keys.1, env, credential),
    }
}

/// Set by commands that connect to nothing (`status`, `show`, `ingest`,
/// …): the settings they read may name secrets they never use, which the
/// user running them (root without the service's credentials, the collabd
/// user, who cannot read the root-only files) may not be able to read.
static NOT_NEEDED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// From now on a secret that cannot be found or read is empty rather than
/// an error: for a process that will use none.
pub fn not_needed() {
    NOT_NEEDED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether secrets are needed in this process (see [`not_needed`]).
pub fn needed() -> bool {
    !NOT_NEEDED.load(std::sync::atomic::Ordering::Relaxed)
}

/// A secret from a file (the setting `file_key`, named when nothing is
/// found), else an environment variable, else a systemd credential; an
/// empty credential is no secret. The message never contains the secret.
/// After [`not_needed`], a missing secret is an empty one.
pub fn load(
    file: Option<&Path>,
    file_key: &str,
    env: &str,
    credential: &str,
) -> Result<Secret, String> {
    match find(file, file_key, env, credential) {
        Err(_) if NOT_NEEDED.load(std::sync::atomic::Ordering::Relaxed) => {
            Ok(Secret::new(Vec::new()))
        }
        found => found,
    }
}

/// A secret file's text without its trailing line end.
fn read_secret(p: &Path) -> std::io::Result<String> {
    std::fs::read_to_string(p).map(|s| s.trim_end_matches(['\n', '\r']).to_owned())
}

/// A secret the setting may do without (a server that needs no password):
/// from `file` if set (which must then be readable), else the variable
/// `env`, else the systemd credential; `None` when none of them gives one
/// (unset, missing, empty). A credential that cannot be read is an error,
/// except after [`not_needed`].
pub fn optional(
    file: Option<&Path>,
    file_key: &str,
    env: &str,
    credential: &str,
) -> Result<Option<Secret>, String> {
    if file.is_some() {
        return load(file, file_key, env, credential).map(Some);
    }
    let value = match std::env::var(env) {
        Ok(v) => v,
        Err(_) => {
            let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") else {
                return Ok(None);
            };
            let path = Path::new(&dir).join(credential);
            match read_secret(&path) {
                Ok(v) => v,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound || !needed() => return Ok(None),
                Err(e) => {
                    return Err(format!(
                        "cannot read the credential {}: {}",
                        path.display(),
                        crate::fs_error::reason(&e)
                    ));
                }
            }
        }
    };
    Ok((!value.is_empty()).then(|| Secret::new(value)))
}

fn find(
    file: Option<&Path>,
    file_key: &str,
    env: &str,
    credential: &str,
) -> Result<Secret, String> {
    let from_file = |p: &Path| {
        read_secret(p).map_err(|e| {
            format!(
                "cannot read {}: {}",
                p.display(),
                crate::fs_error::reason(&e)
            )
        })
    };
    let value = match file {
        Some(p) => from_file(p)?,
        None => match std::env::var(env) {
            Ok(v) => v,
            Err(_) => match std::env::var_os("CREDENTIALS_DIRECTORY") {
                // The packaged unit gives every credential an empty default
                // (its file may be missing): empty is "not given".
                Some(dir) => match from_file(&Path::new(&dir).join(credential))? {
                    v if v.is_empty() => {
                        return Err(format!(
                            "no secret: the systemd credential `{credential}` is empty (under the packaged unit: /etc/collabd/{credential} is missing or empty): put the secret there, or set this setting or ${env}"
                        ));
                    }
                    v => v,
                },
                None => {
                    return Err(format!(
                        "no secret: set {file_key}, ${env}, or a systemd credential `{credential}`"
                    ));
                }
            },
        },
    };
    if value.is_empty() {
        return Err("the secret is empty".into());
    }
    Ok(Secret::new(value))
}

/// Random bytes as hex: session ids and CSRF tokens.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    // The OS's generator does not fail on Linux once booted; if it ever
    // did, no session could be made, which is safe.
    getrandom::getrandom(&mut b).expect("the OS random number generator works");
    hex::encode(b)
}

/// Equal, in time that does not depend on where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}
