//! The status page's users: the users file (`name:$argon2id$…` lines, or
//! the `http-users` credential), read and checked once when settings load,
//! and the password check at sign-in. Knows nothing of pages or sessions.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// An argon2id hash of nothing anyone knows, checked for an unknown name
/// so that it costs as much as a known one.
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$0yX0aQwPp1BXl6y3nJk1vL8f5mQv0YJtU8dN1o7c2aQ";

/// The status page's users, from the users file or the credential.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Users(Vec<(String, String)>);

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|(n, _)| n.as_str()).collect();
        write!(f, "Users({names:?})")
    }
}

impl Users {
    /// Reads `name:$argon2id$…` lines; blank lines and `#` comments are
    /// skipped. An error names the line, never its hash.
    pub fn parse(text: &str) -> Result<Users, String> {
        let mut users = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((name, hash)) = line.split_once(':') else {
                return Err(format!(
                    "line {}: not `name:$argon2id$…` (make one with `collabd http-user NAME`)",
                    n + 1
                ));
            };
            check_name(name).map_err(|e| format!("line {}: {e}", n + 1))?;
            match PasswordHash::new(hash) {
                Ok(h) if h.algorithm.as_str() == "argon2id" => {}
                _ => {
                    return Err(format!(
                        "line {}: the hash for {name} is not an argon2id hash (make one with `collabd http-user {name}`)",
                        n + 1
                    ));
                }
            }
            if users.iter().any(|(u, _)| u == name) {
                return Err(format!("line {}: {name} is listed twice", n + 1));
            }
            users.push((name.to_owned(), hash.to_owned()));
        }
        Ok(Users(users))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `name`'s password hash, to tell whether a reload changed it.
    pub fn hash_of(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, h)| h.as_str())
    }

    /// Whether `password` is `name`'s. Slow on purpose (argon2id): call it
    /// off the async runtime. An unknown name costs the same as a known
    /// one, so timing does not tell which names exist.
    pub fn verify(&self, name: &str, password: &str) -> bool {
        let hash = self
            .0
            .iter()
            .find(|(u, _)| u == name)
            .map_or(DECOY_HASH, |(_, h)| h.as_str());
        let known = self.0.iter().any(|(u, _)| u == name);
        let Ok(parsed) = PasswordHash::new(hash) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
            && known
    }
}

/// A user name: letters, digits and `._-@`, at most 64, as it is recorded
/// on the timeline (`operator:<name>`).
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err("a user name is 1 to 64 letters, digits, `.`, `_`, `-` or `@`".into())
    }
}

/// A users-file line for `name` with `password`: `name:$argon2id$…`.
pub fn users_file_line(name: &str, password: &str) -> Result<String, String> {
    check_name(name)?;
    if password.is_empty() {
        return Err("the password is empty".into());
    }
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| format!("cannot hash the password: {e}"))?;
    Ok(format!("{name}:{hash}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_line_is_read_back_and_checks_its_password() {
        let line = users_file_line("alice", "correct horse").unwrap();
        assert!(line.starts_with("alice:$argon2id$"));
        let users = Users::parse(&format!("# operators\n\n{line}\n")).unwrap();
        assert!(users.verify("alice", "correct horse"));
        assert!(!users.verify("alice", "wrong"));
        assert!(!users.verify("bob", "correct horse"));
        assert!(!format!("{users:?}").contains("argon2"));
    }

    #[test]
    fn the_decoy_is_a_real_argon2id_hash() {
        let h = PasswordHash::new(DECOY_HASH).unwrap();
        assert_eq!(h.algorithm.as_str(), "argon2id");
    }

    #[test]
    fn bad_lines_are_named_without_their_hash() {
        let e = Users::parse("alice:plaintext-secret\n").unwrap_err();
        assert!(
            e.contains("line 1") && !e.contains("plaintext-secret"),
            "{e}"
        );
        assert!(
            Users::parse("no colon here")
                .unwrap_err()
                .contains("line 1")
        );
        assert!(users_file_line("has space", "x").is_err());
    }
}
