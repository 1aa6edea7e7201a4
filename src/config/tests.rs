//! The configuration's own tests: defaults, and that every bad value is
//! named by its setting without echoing a secret.

use std::time::Duration;

use super::error::{describe_toml_error, without_value};
use super::*;

#[test]
fn a_mistyped_value_is_not_echoed() {
    let err = parse("[imap]\nhost = \"h\"\nuser = \"u\"\npassword = 12345678\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 4") && err.contains("invalid type: integer, expected a string"),
        "{err}"
    );
    assert!(!err.contains("12345678"), "{err}");
    assert_eq!(
        without_value("invalid type: string \"hunter2\", expected u64"),
        "invalid type: string, expected u64"
    );
    assert_eq!(
        without_value("invalid type: floating point `1.5`, expected a string"),
        "invalid type: floating point, expected a string"
    );
    assert_eq!(
        without_value("invalid value: integer `70000`, expected u16"),
        "invalid value: integer `70000`, expected u16"
    );
}

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
fn worker_settings_are_checked() {
    let s = parse("").unwrap();
    assert!(s.worker.filer.is_none(), "the log filer is never a default");
    let s = parse("[worker]\nfiler = \"log\"\n").unwrap();
    assert!(matches!(s.worker.filer, Some(FilerSettings::Log)));
    let s = parse("[worker.notify]\nslack_webhooks = [\"https://hooks.slack.com/x\"]\n").unwrap();
    assert!(matches!(s.worker.filer, Some(FilerSettings::Notify)));
    let err = parse("[worker]\nfiler = \"carrier-pigeon\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("worker.filer") && err.contains("carrier-pigeon"),
        "{err}"
    );
    let err = parse("[worker]\nfiler = \"command\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("worker.command"), "{err}");
    let err = parse("[worker]\nfiler = \"notify\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("slack_webhooks"), "{err}");
    let err = parse("[worker.notify]\nsmtp_url = \"smtp://localhost\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("email_from"), "{err}");
    let mail = "email_from = \"a@x.example\"\nemail_to = [\"b@x.example\"]\n";
    let err = parse(&format!(
        "[worker.notify]\nsmtp_url = \"smtp://relay.example\"\nsmtp_password_file = \"/p\"\n{mail}"
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("smtp_password_file") && err.contains("names no user"),
        "{err}"
    );
    let err = parse(&format!(
        "[worker.notify]\nsmtp_url = \"smtp://relay.example:25\"\nsmtp_ca_file = \"/ca.pem\"\n{mail}"
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("smtp_ca_file") && err.contains("TLS"), "{err}");
    let err = parse("[worker]\nremind_after_days = 9\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("worker.remind_after_days"), "{err}");
    let err = parse("[worker]\nfiler = \"webhook\"\n[worker.webhook]\nurl = \"https://x.example/h\"\nsecret_file = \"/nonexistent/secret\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("worker.webhook.secret_file") && err.contains("/nonexistent/secret"),
        "{err}"
    );
}

#[test]
fn review_defaults_to_none_and_a_bad_value_names_the_setting() {
    assert_eq!(parse("").unwrap().worker.review, Review::None);
    for (text, want) in [
        ("none", Review::None),
        ("new-stores", Review::NewStores),
        ("all", Review::All),
    ] {
        let s = parse(&format!("[worker]\nreview = \"{text}\"\n")).unwrap();
        assert_eq!(s.worker.review, want, "{text}");
    }
    for bad in ["new_stores", "yes", "All"] {
        let err = parse(&format!("[worker]\nreview = \"{bad}\"\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("config setting worker.review")
                && err.contains(bad)
                && err.contains("none, new-stores, all"),
            "{err}"
        );
    }
    let err = parse("[worker]\nreview = true\n").unwrap_err().to_string();
    assert!(
        err.contains("line 2") && err.contains("expected a string"),
        "{err}"
    );
}

#[test]
fn a_webhook_secret_may_be_inline_but_not_twice() {
    let s = parse("[worker]\nfiler = \"webhook\"\n[worker.webhook]\nurl = \"https://x.example/h\"\nsecret = \"s3\"\n").unwrap();
    assert!(matches!(
        s.worker.filer,
        Some(FilerSettings::Webhook { .. })
    ));
    let err = parse("[worker]\nfiler = \"webhook\"\n[worker.webhook]\nurl = \"https://x.example/h\"\nsecret = \"s3\"\nsecret_file = \"/x\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("not both") && !err.contains("s3\""), "{err}");
}

#[test]
fn a_webhook_secret_comes_from_its_file_and_never_prints() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("secret");
    std::fs::write(&f, "hunter2\n").unwrap();
    let s = parse(&format!(
        "[worker]\nfiler = \"webhook\"\n[worker.webhook]\nurl = \"https://x.example/h\"\nsecret_file = \"{}\"\n",
        f.display()
    ))
    .unwrap();
    let Some(FilerSettings::Webhook { secret, .. }) = &s.worker.filer else {
        panic!("webhook expected")
    };
    assert_eq!(secret.expose(), b"hunter2");
    assert!(!format!("{s:?}").contains("hunter2"));
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

/// `[[imap]]`: several accounts, each named; the name is on every error
/// about the account and in its secrets' names; a single `[imap]` keeps
/// its plain names and is the account `default`.
#[test]
fn several_imap_accounts_are_named_and_kept_apart() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&a, "pw-alpha\n").unwrap();
    std::fs::write(&b, "pw-beta\n").unwrap();
    let account = |name: &str, user: &str, file: &std::path::Path, extra: &str| {
        format!(
            "[[imap]]\nname = \"{name}\"\nhost = \"imap.example.com\"\nuser = \"{user}\"\npassword_file = \"{}\"\n{extra}",
            file.display()
        )
    };
    let two = format!(
        "{}{}",
        account(
            "alpha",
            "ops@alpha.example",
            &a,
            "folders = [\"INBOX\", \"Leadsie\"]\n"
        ),
        account("beta-2", "ops@beta.example", &b, "")
    );
    let s = parse(&two).unwrap();
    let names: Vec<_> = s.imap.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["alpha", "beta-2"]);
    assert_eq!(s.imap[0].folders, ["INBOX", "Leadsie"]);
    assert_eq!(s.imap[1].folders, ["INBOX"]);
    let passwords: Vec<_> = s
        .imap
        .iter()
        .map(|m| match &m.auth {
            ImapAuth::Password(p) => p.expose_str().into_owned(),
            ImapAuth::XOAuth2(_) => panic!("password auth"),
        })
        .collect();
    assert_eq!(passwords, ["pw-alpha", "pw-beta"]);

    // A single table is the account `default`, or the name it gives.
    let one = "[imap]\nhost = \"h.example\"\nuser = \"u\"\npassword = \"pw\"\n";
    assert_eq!(parse(one).unwrap().imap[0].name, DEFAULT_ACCOUNT);
    let named = one.replace("[imap]\n", "[imap]\nname = \"main\"\n");
    assert_eq!(parse(&named).unwrap().imap[0].name, "main");
    // An error names the account it is about.
    let bad_host = two.replace(
        "host = \"imap.example.com\"\nuser = \"ops@beta",
        "host = \"a b\"\nuser = \"ops@beta",
    );
    let err = parse(&bad_host).unwrap_err().to_string();
    assert!(err.contains("imap[beta-2].host"), "{err}");
    for (text, key, says) in [
        (
            two.replacen("name = \"alpha\"\n", "", 1),
            "imap[0].name",
            "needs a name",
        ),
        (
            two.replace("beta-2", "alpha"),
            "imap[1].name",
            "two [[imap]] accounts are named `alpha`",
        ),
        (
            two.replace("beta-2", "Beta"),
            "imap[1].name",
            "not an account name",
        ),
        (
            two.replace("beta-2", "-b"),
            "imap[1].name",
            "not an account name",
        ),
        (
            two.replace("ops@beta.example", "ops@alpha.example"),
            "imap[beta-2].user",
            "both log in as `ops@alpha.example`",
        ),
        (
            format!("{}{}", account("a", "u", &a, ""), account("b", "u", &b, "")),
            "imap[b].user",
            "both log in as `u@imap.example.com`",
        ),
        (
            // No password anywhere: the account's own secret names are named.
            two.replace(&format!("password_file = \"{}\"\n", b.display()), ""),
            "imap[beta-2].password_file",
            "imap-password-beta-2",
        ),
    ] {
        let err = parse(&text).unwrap_err().to_string();
        assert!(
            err.contains(key) && err.contains(says),
            "{key}: {err}\n{text}"
        );
    }
    // `[[imap]]` tables are read by `[imap]`'s rules: an unknown key is refused.
    let err = parse(&format!("{two}hostname = \"x\"\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("hostname"), "{err}");
    // An environment override names the account it sets.
    let over = |name: &str, value: &str| {
        super::env::overlay(
            &two,
            std::path::Path::new("t.toml"),
            &[(name.to_owned(), value.to_owned())],
        )
        .and_then(Settings::from_raw)
    };
    let s = over("COLLABD__IMAP__BETA_2__HOST", "mail.beta.example").unwrap();
    let hosts: Vec<_> = s.imap.iter().map(|m| m.host.as_str()).collect();
    assert_eq!(hosts, ["imap.example.com", "mail.beta.example"]);
    for (name, says) in [
        (
            "COLLABD__IMAP__HOST",
            "name one, as COLLABD__IMAP__<NAME>__HOST",
        ),
        (
            "COLLABD__IMAP__GAMMA__HOST",
            "no [[imap]] table has the name `gamma`",
        ),
    ] {
        let err = over(name, "h.example").unwrap_err().to_string();
        assert!(err.contains(name) && err.contains(says), "{err}");
    }
    // Two accounts on different servers may use the same login.
    let other_server = format!(
        "{}{}",
        account("a", "u", &a, ""),
        account("b", "u", &b, "").replace("imap.example.com", "mail.example.net")
    );
    assert_eq!(parse(&other_server).unwrap().imap.len(), 2);
}

#[test]
fn imap_settings_have_defaults_and_name_bad_values() {
    let s = parse(
        "[imap]\nhost = \"imap.example.com\"\nuser = \"ops@agency.example\"\npassword = \"pw\"\n",
    )
    .unwrap();
    let m = s.imap.into_iter().next().unwrap();
    assert_eq!((m.port, m.security), (993, Security::Tls));
    assert_eq!(m.folders, vec!["INBOX"]);
    assert_eq!(m.after_processing, AfterProcessing::Nothing);
    assert_eq!(m.idle_renew, Duration::from_secs(540));
    assert!(parse("").unwrap().imap.is_empty());

    let base = "[imap]\nhost = \"imap.example.com\"\nuser = \"u\"\npassword = \"pw\"\n";
    for (extra, key, says) in [
        ("security = \"plain\"\n", "imap.security", "loopback"),
        ("security = \"ssl\"\n", "imap.security", "`ssl`"),
        (
            "after_processing = \"move\"\n",
            "imap.move_to",
            "needs move_to",
        ),
        (
            "after_processing = \"move\"\nmove_to = \"INBOX\"\n",
            "imap.move_to",
            "watched",
        ),
        (
            "after_processing = \"delete\"\n",
            "imap.after_processing",
            "`delete`",
        ),
        ("since = \"26/11/2026\"\n", "imap.since", "YYYY-MM-DD"),
        ("folders = []\n", "imap.folders", "at least one"),
        ("folders = [\"A\", \"A\"]\n", "imap.folders", "twice"),
        (
            "idle_renew_seconds = 3600\n",
            "imap.idle_renew_seconds",
            "between",
        ),
        (
            "max_message_bytes = 10\n",
            "imap.max_message_bytes",
            "at least",
        ),
        ("auth = \"xoauth2\"\n", "imap.oauth2", "[imap.oauth2]"),
        ("auth = \"cram-md5\"\n", "imap.auth", "`cram-md5`"),
        ("password_file = \"/x\"\n", "imap.password_file", "not both"),
    ] {
        let err = parse(&format!("{base}{extra}")).unwrap_err().to_string();
        assert!(err.contains(key) && err.contains(says), "{extra}: {err}");
        assert!(!err.contains("\"pw\""), "{err}");
    }
    let err =
        parse("[imap]\nhost = \"imaps://imap.example.com:993\"\nuser = \"u\"\npassword = \"p\"\n")
            .unwrap_err()
            .to_string();
    assert!(err.contains("imap.host"), "{err}");
    let ok =
        parse("[imap]\nhost = \"::1\"\nsecurity = \"plain\"\nuser = \"u\"\npassword = \"p\"\n")
            .unwrap();
    assert_eq!(ok.imap[0].port, 143);
}

/// Every setting that sends a secret over the network refuses plain
/// http (or SMTP without required TLS) to a host that is not loopback,
/// naming the setting and the fix; `insecure = true` in its section
/// allows it and leaves a warning for check-config.
#[test]
fn unencrypted_remote_endpoints_are_refused_unless_insecure() {
    let mail = "email_from = \"a@x.example\"\nemail_to = [\"b@x.example\"]\n";
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("refresh-token");
    std::fs::write(&token, "r\n").unwrap();
    let imap = format!(
        "[imap]\nhost = \"imap.example.com\"\nuser = \"u\"\nauth = \"xoauth2\"\n\
         [imap.oauth2]\nclient_id = \"c\"\nrefresh_token_file = \"{}\"\n",
        token.display()
    );
    for (section, setting, key, fix) in [
        (
            "[worker]\nfiler = \"webhook\"\n[worker.webhook]\nsecret = \"s\"\n".to_owned(),
            "url = \"http://hooks.example.com/x\"\n",
            "worker.webhook.url",
            "[worker.webhook]",
        ),
        (
            "[worker.notify]\n".to_owned(),
            "slack_webhooks = [\"https://hooks.slack.com/a\", \"http://hooks.slack.com/services/T/B/k\"]\n",
            "worker.notify.slack_webhooks",
            "[worker.notify]",
        ),
        (
            format!("[worker.notify]\n{mail}"),
            "smtp_url = \"smtp://relay.example.com:587\"\n",
            "worker.notify.smtp_url",
            "?tls=required",
        ),
        (
            format!("[worker.notify]\n{mail}"),
            "smtp_url = \"smtp://relay.example.com:587?tls=opportunistic\"\n",
            "worker.notify.smtp_url",
            "[worker.notify]",
        ),
        (
            imap.clone(),
            "token_url = \"http://login.example.com/token\"\n",
            "imap.oauth2.token_url",
            "[imap.oauth2]",
        ),
    ] {
        let err = parse(&format!("{section}{setting}"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(key) && err.contains(fix) && err.contains("insecure = true"),
            "{setting}: {err}"
        );
        let s = parse(&format!("{section}{setting}insecure = true\n")).unwrap();
        assert_eq!(s.insecure.len(), 1, "{:?}", s.insecure);
        assert!(s.insecure[0].starts_with(key), "{:?}", s.insecure);
    }
    // TLS, or a loopback host, needs no escape hatch.
    for ok in [
        "[worker]\nfiler = \"webhook\"\n[worker.webhook]\nsecret = \"s\"\nurl = \"http://127.0.0.1:8080/x\"\n".to_owned(),
        "[worker]\nfiler = \"webhook\"\n[worker.webhook]\nsecret = \"s\"\nurl = \"http://[::1]:8080/x\"\n".to_owned(),
        "[worker.notify]\nslack_webhooks = [\"http://localhost:9/x\"]\n".to_owned(),
        format!("[worker.notify]\n{mail}smtp_url = \"smtp://relay.example.com:587?tls=required\"\n"),
        format!("[worker.notify]\n{mail}smtp_url = \"smtps://relay.example.com\"\n"),
        format!("[worker.notify]\n{mail}smtp_url = \"smtp://localhost:25\"\n"),
        format!("{imap}token_url = \"https://login.example.com/token\"\n"),
    ] {
        let s = parse(&ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        assert!(s.insecure.is_empty(), "{ok}: {:?}", s.insecure);
    }
}

#[test]
fn command_env_names_are_checked() {
    let base = "[worker]\nfiler = \"command\"\n[worker.command]\nprogram = \"/bin/true\"\n";
    let s = parse(&format!("{base}env = [\"HOME\", \"FILER_TOKEN_2\"]\n")).unwrap();
    let Some(FilerSettings::Command { env, .. }) = s.worker.filer else {
        panic!("command expected")
    };
    assert_eq!(env, vec!["HOME", "FILER_TOKEN_2"]);
    for bad in ["", "A=B", "2X", "PATH X"] {
        let err = parse(&format!("{base}env = [\"{bad}\"]\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("worker.command.env"), "{bad}: {err}");
    }
}

#[test]
fn imap_password_comes_from_a_file_and_never_prints() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("pw");
    std::fs::write(&f, "s3cret-imap\n").unwrap();
    let s = parse(&format!(
        "[imap]\nhost = \"imap.example.com\"\nuser = \"u\"\npassword_file = \"{}\"\n",
        f.display()
    ))
    .unwrap();
    let m = s.imap.into_iter().next().unwrap();
    let ImapAuth::Password(p) = &m.auth else {
        panic!("password auth")
    };
    assert_eq!(p.expose(), b"s3cret-imap");
    assert!(!format!("{m:?}").contains("s3cret"));
    let err = parse(
        "[imap]\nhost = \"imap.example.com\"\nuser = \"u\"\npassword_file = \"/nonexistent/pw\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("/nonexistent/pw: no such file"), "{err}");
    assert!(!err.contains("os error"), "{err}");
}

/// The message names the key the operator writes, not a generic one.
#[test]
fn a_missing_imap_password_names_password_file() {
    let err = parse("[imap]\nhost = \"imap.example.com\"\nuser = \"u\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("set password_file, $COLLABD_IMAP_PASSWORD"),
        "{err}"
    );
    assert!(!err.contains("secret_file"), "{err}");
}

/// Who the status page serves follows from the listener and the users:
/// a remote listener with users asks everyone to sign in; without users
/// it needs allow_remote and then serves no page; require_sign_in needs
/// users.
#[test]
fn the_status_page_access_follows_listener_and_users() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("http-users");
    let line = crate::users::users_file_line("alice", "pw").unwrap();
    std::fs::write(&users, format!("{line}\n")).unwrap();
    let http = |body: &str| parse(&format!("[http]\n{body}\n"));
    let page = |body: &str| http(body).unwrap().http.unwrap().page;
    let with_users = format!("users_file = \"{}\"", users.display());
    assert_eq!(
        page("listen = \"127.0.0.1:9464\""),
        PageAccess::OpenOnLoopback
    );
    assert_eq!(
        page(&format!("listen = \"0.0.0.0:9464\"\n{with_users}")),
        PageAccess::SignIn
    );
    assert_eq!(
        page(&format!(
            "listen = \"127.0.0.1:9464\"\n{with_users}\nrequire_sign_in = true"
        )),
        PageAccess::SignIn
    );
    assert_eq!(
        page("listen = \"0.0.0.0:9464\"\nallow_remote = true"),
        PageAccess::NotServed
    );
    let err = http("listen = \"0.0.0.0:9464\"").unwrap_err().to_string();
    assert!(
        err.contains("is not a loopback address") && err.contains("collabd http-user NAME"),
        "{err}"
    );
    let err = http("listen = \"127.0.0.1:9464\"\nrequire_sign_in = true")
        .unwrap_err()
        .to_string();
    assert!(err.contains("http.require_sign_in"), "{err}");
    std::fs::write(&users, "alice:secret-in-plain-text\n").unwrap();
    let err = http(&format!("listen = \"127.0.0.1:9464\"\n{with_users}"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("http.users_file")
            && err.contains("line 1")
            && !err.contains("secret-in-plain"),
        "{err}"
    );
    let err = http("listen = \"127.0.0.1:9464\"\ntls_cert_file = \"/x.pem\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("tls_key_file"), "{err}");
}

/// `http.hostnames` and `http.trusted_proxies` are checked at load, and a
/// bad entry is named with its key.
#[test]
fn host_names_and_trusted_proxies_are_checked() {
    let http = |body: &str| parse(&format!("[http]\nlisten = \"127.0.0.1:9464\"\n{body}\n"));
    let s = http("hostnames = [\"collabd.example.com\"]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"::1\"]")
        .unwrap()
        .http
        .unwrap();
    assert!(s.hosts.allows("collabd.example.com:443") && !s.hosts.allows("evil.example"));
    assert_eq!(s.trusted_proxies.len(), 3);
    let err = http("trusted_proxies = [\"proxy.example\"]")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("http.trusted_proxies") && err.contains("proxy.example"),
        "{err}"
    );
    let err = http("trusted_proxies = [\"10.0.0.0/40\"]")
        .unwrap_err()
        .to_string();
    assert!(err.contains("http.trusted_proxies"), "{err}");
    let err = http("hostnames = [\"https://collabd.example.com/\"]")
        .unwrap_err()
        .to_string();
    assert!(err.contains("http.hostnames"), "{err}");
}

// The browser filer's settings: `[worker.browser]`.

fn parse_text(text: &str) -> Result<Settings, String> {
    parse(text).map_err(|e| e.to_string())
}

#[test]
fn the_browser_filer_is_opt_in_and_needs_its_table() {
    let s = parse_text("[worker.browser]\norg_id = \"123\"\n").unwrap();
    assert!(s.worker.filer.is_none(), "a table alone chooses nothing");
    let b = s.worker.browser.unwrap();
    assert_eq!(b.per_hour, Some(6), "rate limited by default");
    assert!(!b.dry_run);
    assert!(b.state_dir.ends_with("browser"), "beside the database");
    let err = parse_text("[worker]\nfiler = \"browser\"\n").unwrap_err();
    assert!(
        err.contains("worker.browser") && err.contains("org_id"),
        "{err}"
    );
    let s = parse_text(
        "[database]\npath = \"/var/lib/collabd/collabd.db\"\n[worker]\nfiler = \"browser\"\n\
         [worker.browser]\norg_id = \"123\"\ndashboard = \"partners\"\nper_hour = 0\n\
         wrong_code_patterns = [\"Nope, Wrong\"]\n",
    )
    .unwrap();
    assert!(matches!(s.worker.filer, Some(FilerSettings::Browser)));
    let b = s.worker.browser.unwrap();
    assert_eq!(
        b.state_dir,
        std::path::Path::new("/var/lib/collabd/browser")
    );
    assert!(
        b.form_url
            .starts_with("https://partners.shopify.com/{org_id}/")
    );
    assert_eq!(b.per_hour, None);
    assert_eq!(b.patterns.wrong_code, vec!["nope, wrong".to_owned()]);
}

#[test]
fn bad_browser_settings_are_named() {
    for (text, key) in [
        ("org_id = \"\"", "worker.browser.org_id"),
        ("org_id = \"1/2\"", "worker.browser.org_id"),
        (
            "org_id = \"1\"\ndashboard = \"x\"",
            "worker.browser.dashboard",
        ),
        (
            "org_id = \"1\"\nform_url = \"https://x/{code}\"",
            "worker.browser.form_url",
        ),
        (
            "org_id = \"1\"\nbudget_seconds = 1",
            "worker.browser.budget_seconds",
        ),
        ("org_id = \"1\"\nper_hour = 1000", "worker.browser.per_hour"),
        (
            "org_id = \"1\"\nsync_minutes = 1",
            "worker.browser.sync_minutes",
        ),
        (
            "org_id = \"1\"\nchallenge_patterns = []",
            "worker.browser.challenge_patterns",
        ),
    ] {
        let err = parse_text(&format!("[worker.browser]\n{text}\n")).unwrap_err();
        assert!(err.contains(key), "{text}: {err}");
    }
}

#[test]
fn a_postgres_url_is_one_place_and_keeps_no_password() {
    // The default stays a SQLite file.
    let s = parse("").unwrap();
    assert!(s.database_server.is_none());
    assert!(matches!(s.database_place(), DatabasePlace::File(_)));

    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("database-password");
    std::fs::write(&pw, "s3cret-db-pass\n").unwrap();
    let s = parse(&format!(
        "[database]\nurl = \"postgres://collabd@db.internal:5432/collabd\"\npassword_file = \"{}\"\n",
        pw.display()
    ))
    .unwrap();
    let DatabasePlace::Server(DatabaseServer { url, password }) = s.database_place() else {
        panic!("not a server: {s:?}");
    };
    assert_eq!(url, "postgres://collabd@db.internal:5432/collabd");
    assert_eq!(password.unwrap().expose(), b"s3cret-db-pass");
    assert_eq!(s.database_shown(), url);
    assert!(!format!("{s:?}").contains("s3cret"), "the password printed");

    for (text, says) in [
        (
            "[database]\npath = \"x.db\"\nurl = \"postgres://db/c\"\n",
            "not both",
        ),
        (
            "[database]\nurl = \"mysql://db/c\"\n",
            "postgres://user@host:5432/database",
        ),
        (
            "[database]\nurl = \"postgres://collabd:hunter2@db/c\"\n",
            "holds a password",
        ),
        (
            "[database]\nurl = \"postgres://db/c?password=hunter2\"\n",
            "holds a password",
        ),
        // A password with a URL's own delimiters in it is still one.
        (
            "[database]\nurl = \"postgres://collabd:hun/ter?2@db/c\"\n",
            "holds a password",
        ),
        (
            "[database]\nurl = \"postgres://collabd:hun@ter2@db/c\"\n",
            "holds a password",
        ),
    ] {
        let err = parse(text).unwrap_err().to_string();
        assert!(
            err.contains("database.url") && err.contains(says),
            "{text}: {err}"
        );
        assert!(!err.contains("hunter2"), "the password echoed: {err}");
    }
    let err = parse("[database]\nurl = \"postgres://db/c\"\npassword_file = \"/nonexistent/pw\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("database.password_file") && err.contains("/nonexistent/pw"),
        "{err}"
    );
    // The URL as shown never has a password, whatever was written.
    assert_eq!(
        crate::config::database::without_password("postgres://u:hunter2@h:5/d?sslmode=require"),
        "postgres://u:…@h:5/d?sslmode=require"
    );
    assert_eq!(
        crate::config::database::without_password("postgres://u@h/d?password=hunter2&x=1"),
        "postgres://u@h/d?password=…&x=1"
    );
    assert_eq!(
        crate::config::database::without_password("postgres://u:hun/ter?2@h:5432/d"),
        "postgres://u:…@h:5432/d"
    );
    // A user and a port are not a password.
    assert_eq!(
        crate::config::database::without_password("postgres://u@h:5432/d?application_name=a@b"),
        "postgres://u@h:5432/d?application_name=a@b"
    );
}
