//! Secret files other users can read. Like OpenSSH with a private key, a
//! password, token, users or key file that every user on the host can read
//! (or write) is reported, naming the file and its mode; unlike OpenSSH it
//! is still used, so an upgrade does not stop a running service, but
//! `check-config` and `run` say it plainly. Systemd credentials are not
//! checked: systemd hands them over in a directory only the service reads.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::raw::RawConfig;

/// One line for each secret file the config names that other users can
/// read or write.
pub fn exposed_files(raw: &RawConfig) -> Vec<String> {
    let mut files: Vec<(String, Option<&std::path::PathBuf>)> = Vec::new();
    if let Some(raws) = &raw.imap {
        for (i, imap) in raws.accounts().iter().enumerate() {
            let place = super::imap::Place::of(raws, i);
            let oauth2 = imap.oauth2.as_ref();
            files.push((place.at("password_file"), imap.password_file.as_ref()));
            files.push((
                place.at("oauth2.client_secret_file"),
                oauth2.and_then(|o| o.client_secret_file.as_ref()),
            ));
            files.push((
                place.at("oauth2.refresh_token_file"),
                oauth2.and_then(|o| o.refresh_token_file.as_ref()),
            ));
        }
    }
    let http = raw.http.as_ref();
    let others: [(&str, Option<&std::path::PathBuf>); 6] = [
        (
            "database.password_file",
            raw.database.password_file.as_ref(),
        ),
        ("http.users_file", http.and_then(|h| h.users_file.as_ref())),
        (
            "http.tls_key_file",
            http.and_then(|h| h.tls_key_file.as_ref()),
        ),
        ("leadsie.token_file", raw.leadsie.token_file.as_ref()),
        (
            "worker.webhook.secret_file",
            raw.worker
                .webhook
                .as_ref()
                .and_then(|w| w.secret_file.as_ref()),
        ),
        (
            "worker.notify.smtp_password_file",
            raw.worker
                .notify
                .as_ref()
                .and_then(|n| n.smtp_password_file.as_ref()),
        ),
    ];
    files.extend(others.into_iter().map(|(k, p)| (k.to_owned(), p)));
    files
        .into_iter()
        .filter_map(|(key, path)| {
            let path = path?;
            exposed(path).map(|mode| warning(&key, path, mode))
        })
        .collect()
}

/// The config file itself, when it holds a secret inline and other users
/// can read it.
pub fn exposed_config(path: &Path, raw: &RawConfig) -> Option<String> {
    let inline = raw
        .imap
        .as_ref()
        .is_some_and(|a| a.accounts().iter().any(|i| i.password.is_some()))
        || raw.leadsie.token.is_some()
        || raw
            .worker
            .webhook
            .as_ref()
            .is_some_and(|w| w.secret.is_some() || w.url.contains('?') || url_has_password(&w.url))
        // A Slack webhook's address is its key.
        || raw
            .worker
            .notify
            .as_ref()
            .is_some_and(|n| !n.slack_webhooks.is_empty())
        || raw
            .worker
            .notify
            .as_ref()
            .and_then(|n| n.smtp_url.as_deref())
            .is_some_and(url_has_password);
    if !inline {
        return None;
    }
    exposed(path).map(|mode| {
        format!(
            "the config file {} holds a secret inline and every user on this host can read it (mode {mode:04o}); run `chmod o-rwx {}`, or move the secret to a *_file setting or a systemd credential",
            path.display(),
            path.display()
        )
    })
}

/// `smtp://user:password@host`: a password in the URL.
fn url_has_password(url: &str) -> bool {
    url.split_once("://")
        .and_then(|(_, rest)| rest.split(['/', '?']).next())
        .and_then(|authority| authority.rsplit_once('@'))
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

/// The file's permission bits when others may read or write it. A file
/// that cannot be examined is left to the code that reads it, which names
/// the error.
fn exposed(path: &Path) -> Option<u32> {
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o7777;
    (mode & 0o006 != 0).then_some(mode)
}

fn warning(key: &str, path: &Path, mode: u32) -> String {
    format!(
        "{key} {} can be read by every user on this host (mode {mode:04o}); run `chmod o-rwx {}` (0600, or 0640 with group collabd)",
        path.display(),
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_world_readable_secret_file_is_named_with_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "t0ken").unwrap();
        let raw: RawConfig = toml::from_str(&format!(
            "[leadsie]\nwebhook = true\ntoken_file = \"{}\"\n",
            token.display()
        ))
        .unwrap();
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
        let found = exposed_files(&raw);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("leadsie.token_file")
                && found[0].contains(&token.display().to_string())
                && found[0].contains("0644"),
            "{found:?}"
        );
        assert!(!found[0].contains("t0ken"));
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(exposed_files(&raw).is_empty());
    }

    #[test]
    fn an_inline_secret_in_a_readable_config_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("collabd.toml");
        let text = "[worker]\nfiler = \"webhook\"\n[worker.webhook]\nurl = \"https://x.example/\"\nsecret = \"s3cret\"\n";
        std::fs::write(&cfg, text).unwrap();
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
        let raw: RawConfig = toml::from_str(text).unwrap();
        let w = exposed_config(&cfg, &raw).unwrap();
        assert!(w.contains("0644") && !w.contains("s3cret"), "{w}");
        let plain: RawConfig = toml::from_str("[worker]\nfiler = \"log\"\n").unwrap();
        assert!(exposed_config(&cfg, &plain).is_none());
        assert!(url_has_password("smtps://u:p@host:465"));
        assert!(!url_has_password("smtps://u@host:465"));
    }
}
