//! Leadsie's webhook on a running `collabd run`: real HTTP requests on
//! loopback, a real SQLite file, and a real Dovecot where a test needs the
//! email path beside it.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use support::daemon::{Daemon, collabd_cli, count, grant, sql, wait_for};
use support::dovecot::{self, Dovecot, Options};

const TOKEN: &str = "3f9c2a7be41d08f6a5c3e9b27d4f1a60c8e2b5d7";

/// A daemon with the webhook on, at a free loopback port; `imap` as for
/// [`Daemon::tls`], or no mailbox at all.
struct Hook {
    d: Daemon,
    port: u16,
}

impl Hook {
    fn start(dc: Option<&Dovecot>, leadsie_extra: &str) -> Hook {
        Hook::start_with(dc, "", leadsie_extra)
    }

    /// As [`Hook::start`], with `http_extra` in `[http]`.
    fn start_with(dc: Option<&Dovecot>, http_extra: &str, leadsie_extra: &str) -> Hook {
        Hook::start_env(dc, http_extra, leadsie_extra, &[])
    }

    /// As [`Hook::start_with`], with `env` in the daemon's environment.
    fn start_env(
        dc: Option<&Dovecot>,
        http_extra: &str,
        leadsie_extra: &str,
        env: &[(&str, &str)],
    ) -> Hook {
        let mut d = match dc {
            Some(dc) => Daemon::tls(dc, ""),
            None => Daemon::new("port = 1\nsecurity = \"plain\""),
        };
        let port = dovecot::free_port();
        let token_file = d.dir.path().join("leadsie-token");
        std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
        let mut cfg = std::fs::read_to_string(&d.cfg).unwrap();
        if dc.is_none() {
            // No mailbox: keep [database], [trust] and [worker] only.
            cfg.truncate(cfg.find("[imap]").unwrap());
        }
        cfg.push_str(&format!(
            "\n[http]\nlisten = \"127.0.0.1:{port}\"\n{http_extra}\n[leadsie]\nwebhook = true\ntoken_file = \"{}\"\n{leadsie_extra}\n",
            token_file.display()
        ));
        std::fs::write(&d.cfg, cfg).unwrap();
        d.start_with(env);
        let h = Hook { d, port };
        h.wait_listening();
        h
    }

    fn wait_listening(&self) {
        wait_for(Duration::from_secs(20), "the http listener", || {
            TcpStream::connect(("127.0.0.1", self.port)).is_ok()
        });
    }

    fn post(&self, path: &str, body: &[u8]) -> (u16, String) {
        request(self.port, "POST", path, body, None)
    }

    fn deliver(&self, body: &serde_json::Value) -> serde_json::Value {
        let (status, text) = self.post(&format!("/leadsie/{TOKEN}"), body.to_string().as_bytes());
        assert_eq!(status, 200, "{text}\n{}", self.d.log());
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    fn collabd(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let mut all = vec!["--config", self.d.cfg.to_str().unwrap()];
        all.extend(args);
        collabd_cli(&all, &[])
    }
}

/// One HTTP/1.1 request over a fresh connection; `length` overrides the
/// Content-Length header sent.
fn request(
    port: u16,
    method: &str,
    path: &str,
    body: &[u8],
    length: Option<usize>,
) -> (u16, String) {
    let text = exchange(port, method, path, body, length);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

/// What came back, whole, for one request: empty when the server closed
/// the connection without an answer.
fn exchange(port: u16, method: &str, path: &str, body: &[u8], length: Option<usize>) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        length.unwrap_or(body.len())
    );
    s.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) and close before it has read it all.
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn shopify(store: &str, code: &str) -> serde_json::Value {
    serde_json::json!({
        "id": format!("{store}.myshopify.com"), "name": store, "type": "Shopify Store",
        "platform": "Shopify", "connectionStatus": "Connected",
        "linkToAsset": format!("https://admin.shopify.com/store/{store}"),
        "wasGrantedViaAssetType": false, "notes": "", "shopifyCollaboratorCode": code,
        "messageFromUser": "Here is our store"
    })
}

fn payload(status: &str, assets: Vec<serde_json::Value>) -> serde_json::Value {
    serde_json::json!({
        "user": "ops@agency.example", "accessLevel": "Manage",
        "requestName": "Acme onboarding", "requestUrl": "https://app.leadsie.com/request/abc",
        "status": status, "clientName": "Acme Ltd",
        "clientSummaryUrl": "https://app.leadsie.com/summary/abc", "apiVersion": 2,
        "someFieldLeadsieAddsLater": {"nested": [1, 2]},
        "connectionAssets": assets
    })
}

#[test]
fn a_two_store_payload_beside_meta_and_google_assets_queues_both_stores() {
    let h = Hook::start(None, "");
    let body = payload(
        "SUCCESS",
        vec![
            serde_json::json!({"id": "act_123", "name": "Acme Ads", "type": "Meta Ad Account",
                               "platform": "Facebook", "connectionStatus": "Connected"}),
            shopify("acme-eu", "0105"),
            serde_json::json!({"id": "123-456-7890", "name": "Acme Google Ads", "type": "Google Ads Account",
                               "platform": "Google", "connectionStatus": "Connected"}),
            shopify("acme-us", "7431"),
        ],
    );
    let answer = h.deliver(&body);
    assert_eq!(answer["new"], true);
    assert_eq!(answer["kind"], "leadsie_grant");
    assert_eq!(answer["created"].as_array().unwrap().len(), 2, "{answer}");
    assert_eq!(
        sql(
            &h.d.db,
            "select store_domain || ' ' || collaborator_code || ' ' || client_name || ' ' || leadsie_request_name || ' ' || leadsie_request_url from access_requests order by store_domain"
        ),
        "acme-eu.myshopify.com 0105 Acme Ltd Acme onboarding https://app.leadsie.com/request/abc\n\
         acme-us.myshopify.com 7431 Acme Ltd Acme onboarding https://app.leadsie.com/request/abc"
    );
    assert_eq!(
        sql(&h.d.db, "select source || ' ' || kind from messages"),
        "webhook leadsie_grant"
    );
    assert_eq!(
        sql(&h.d.db, "select length(raw) from messages"),
        body.to_string().len().to_string(),
        "the raw body is kept for audit"
    );

    // The same delivery again (Leadsie retrying): a no-op 200.
    let again = h.deliver(&body);
    assert_eq!(again["new"], false);
    assert_eq!(again["message"], answer["message"]);
    assert_eq!(count(&h.d.db, "select count(*) from messages"), 1);
    assert_eq!(count(&h.d.db, "select count(*) from access_requests"), 2);

    // The worker files them as it files mail's requests.
    wait_for(Duration::from_secs(20), "the log filer", || {
        count(
            &h.d.db,
            "select count(*) from access_requests where state = 'logged'",
        ) == 2
    });
    let log = h.d.log();
    assert!(!log.contains(TOKEN), "the token reached the log:\n{log}");
    for code in ["0105", "7431"] {
        assert!(
            !support::daemon::has_code(&log, code),
            "{code} reached the log:\n{log}"
        );
    }
    assert!(log.contains("Leadsie webhook delivery stored"), "{log}");
}

#[test]
fn partial_success_queues_the_connected_store_and_the_other_needs_a_look() {
    let h = Hook::start(None, "");
    let mut not_connected = shopify("beta-shop", "");
    not_connected["connectionStatus"] = "Not Connected".into();
    not_connected
        .as_object_mut()
        .unwrap()
        .remove("shopifyCollaboratorCode");
    let answer = h.deliver(&payload(
        "PARTIAL_SUCCESS",
        vec![shopify("alpha-shop", "2468"), not_connected],
    ));
    assert_eq!(answer["created"].as_array().unwrap().len(), 1);
    assert_eq!(
        sql(&h.d.db, "select store_domain from access_requests"),
        "alpha-shop.myshopify.com"
    );
    let (code, out, _) = h.collabd(&["status"]);
    assert_eq!(code, Some(0));
    let look = out
        .split("needs a look")
        .nth(1)
        .unwrap_or_else(|| panic!("nothing needs a look:\n{out}"));
    assert!(look.contains("beta-shop.myshopify.com"), "{out}");
    assert!(look.contains("Not Connected"), "{out}");

    // A Shopify asset whose store no field names as a domain: not guessed.
    let mut unnamed = shopify("x", "1357");
    unnamed["id"] = 88_771_234.into();
    unnamed["name"] = "Gamma Store".into();
    unnamed["linkToAsset"] = serde_json::Value::Null;
    let answer = h.deliver(&payload("SUCCESS", vec![unnamed]));
    assert_eq!(answer["kind"], "unparseable");
    assert!(answer["created"].as_array().unwrap().is_empty());
    let (_, out, _) = h.collabd(&["status"]);
    assert!(out.contains("myshopify.com domain"), "{out}");
    assert!(!out.contains("1357"), "a full code in status:\n{out}");
}

#[test]
fn the_same_connection_by_webhook_and_by_email_is_one_request_with_both_on_its_timeline() {
    let dc = Dovecot::start(Options::default());
    let h = Hook::start(Some(&dc), "");

    // Webhook first, then the email.
    h.deliver(&payload("SUCCESS", vec![shopify("first-hook", "4821")]));
    dc.append("INBOX", &[grant("first-hook", "4821", 1)]);
    // Email first, then the webhook.
    dc.append("INBOX", &[grant("first-mail", "9302", 2)]);
    wait_for(Duration::from_secs(60), "the emails", || {
        count(
            &h.d.db,
            "select count(*) from messages where source = 'imap'",
        ) == 2
    });
    let answer = h.deliver(&payload("SUCCESS", vec![shopify("first-mail", "9302")]));
    assert!(answer["created"].as_array().unwrap().is_empty(), "{answer}");
    assert_eq!(
        answer["seen_again"].as_array().unwrap().len(),
        1,
        "{answer}"
    );

    assert_eq!(count(&h.d.db, "select count(*) from access_requests"), 2);
    for store in ["first-hook", "first-mail"] {
        let id = sql(
            &h.d.db,
            &format!("select id from access_requests where store_domain = '{store}.myshopify.com'"),
        );
        let sources = sql(
            &h.d.db,
            &format!(
                "select group_concat(m.source, ' ') from (select distinct m.source from request_events e join messages m on m.id = e.message_id where e.request_id = {id} order by m.source) m"
            ),
        );
        assert_eq!(sources, "imap webhook", "request {id} ({store})");
        let (code, out, _) = h.collabd(&["show", &id]);
        assert_eq!(code, Some(0));
        assert!(out.contains("by webhook"), "{out}");
        assert!(out.contains("by email"), "{out}");
    }
}

#[test]
fn a_newer_code_by_webhook_supersedes_the_open_request() {
    let h = Hook::start(None, "");
    let first = h.deliver(&payload("SUCCESS", vec![shopify("regen-shop", "1111")]));
    let second = h.deliver(&payload("SUCCESS", vec![shopify("regen-shop", "2222")]));
    assert_eq!(second["superseded"], first["created"], "{second}");
    assert_eq!(
        sql(
            &h.d.db,
            "select collaborator_code || ' ' || (state = 'superseded') from access_requests order by id"
        ),
        "1111 1\n2222 0"
    );
}

#[test]
fn bad_input_is_refused_plainly_and_what_arrived_is_kept() {
    let h = Hook::start(None, "rate_limit_per_minute = 1000");
    let path = format!("/leadsie/{TOKEN}");

    // Not JSON, and JSON of the wrong shape: 400 with one line, stored as rejected.
    for (body, says) in [
        (&b"this is not json"[..], "not JSON"),
        (b"{\"status\": \"SUCCESS\"}", "connectionAssets"),
        (b"[]", "object"),
    ] {
        let (status, text) = h.post(&path, body);
        assert_eq!(status, 400, "{text}");
        assert!(text.contains(says), "{text}");
        assert_eq!(text.trim_end().lines().count(), 1, "{text}");
    }
    assert_eq!(
        count(
            &h.d.db,
            "select count(*) from messages where source = 'webhook' and kind = 'rejected'"
        ),
        3
    );

    // Over 1 MB: 413, whether the length is declared or only sent.
    let big = vec![b' '; 1024 * 1024 + 1];
    let (status, _) = h.post(&path, &big);
    assert_eq!(status, 413);
    let (status, _) = request(h.port, "POST", &path, b"{}", Some(50 * 1024 * 1024));
    assert_eq!(status, 413);

    // A wrong token looks like any unknown path; so does the prefix alone.
    let (unknown_status, unknown_text) = h.post("/no-such-page", b"{}");
    for wrong in [
        format!("/leadsie/{}", &TOKEN[..TOKEN.len() - 1]),
        format!("/leadsie/{TOKEN}x"),
        "/leadsie/".to_owned(),
    ] {
        let (status, text) = h.post(&wrong, b"{\"connectionAssets\": []}");
        assert_eq!((status, &text), (unknown_status, &unknown_text), "{wrong}");
    }
    assert_eq!(unknown_status, 404);
    // GET on the right path: 405.
    assert_eq!(request(h.port, "GET", &path, b"", None).0, 405);
    // Nothing but the three rejected bodies was stored.
    assert_eq!(count(&h.d.db, "select count(*) from messages"), 3);
    let log = h.d.log();
    assert!(!log.contains(TOKEN), "the token reached the log:\n{log}");
}

#[test]
fn a_burst_from_one_address_is_rate_limited_and_guessing_never_blocks_leadsie() {
    let h = Hook::start(None, "rate_limit_per_minute = 5");
    let path = format!("/leadsie/{TOKEN}");
    // Guessing: 30 wrong tokens a minute, then 429.
    let wrong = "/leadsie/not-the-token-not-the-token-at-all";
    let statuses: Vec<u16> = (0..32).map(|_| h.post(wrong, b"{}").0).collect();
    assert_eq!(statuses[..30], [404; 30]);
    assert_eq!(statuses[30..], [429, 429]);
    // From the same address (all senders share the proxy's), Leadsie's
    // deliveries still go through: five a minute here, then 429.
    let statuses: Vec<u16> = (0..7)
        .map(|n| {
            let body = payload("SUCCESS", vec![shopify(&format!("burst-{n}"), "1234")]);
            h.post(&path, body.to_string().as_bytes()).0
        })
        .collect();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429]);
    assert_eq!(count(&h.d.db, "select count(*) from access_requests"), 5);
    // Other endpoints are not limited.
    assert_eq!(request(h.port, "GET", "/metrics", b"", None).0, 200);
    // The refusals are logged once, not once each.
    let log = h.d.log();
    assert_eq!(
        log.matches("answered 429").count(),
        2,
        "one line for the guesses, one for the deliveries:\n{log}"
    );
}

/// One POST over a fresh connection with the given Host and extra header
/// lines: the status.
fn post_as(port: u16, host: &str, extra: &str, path: &str, body: &[u8]) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"))
}

/// Issue 23: behind a reverse proxy listed in `http.trusted_proxies`, a
/// delivery is recorded as from the client the proxy names, and the
/// public name the proxy passes on is listed in `http.hostnames`; a name
/// not listed (DNS rebinding) is answered 421 before the token is looked
/// at.
#[test]
fn behind_a_trusted_proxy_a_delivery_names_the_forwarded_client() {
    let h = Hook::start_with(
        None,
        "hostnames = [\"hooks.example.com\"]\ntrusted_proxies = [\"127.0.0.1\"]",
        "",
    );
    let path = format!("/leadsie/{TOKEN}");
    let body = payload("SUCCESS", vec![shopify("proxied-shop", "2323")]).to_string();
    assert_eq!(
        post_as(
            h.port,
            "hooks.example.com",
            "X-Forwarded-For: 192.0.2.1, 198.51.100.7\r\n",
            &path,
            body.as_bytes()
        ),
        200,
        "{}",
        h.d.log()
    );
    assert_eq!(
        sql(&h.d.db, "select source_ref from messages"),
        "POST from 198.51.100.7 via 127.0.0.1"
    );
    let other = payload("SUCCESS", vec![shopify("rebound-shop", "2424")]).to_string();
    assert_eq!(
        post_as(
            h.port,
            "attacker-rebind.example",
            "",
            &path,
            other.as_bytes()
        ),
        421
    );
    assert_eq!(count(&h.d.db, "select count(*) from messages"), 1);
}

/// SIGKILL in the one window that matters, held open by the endpoint's
/// test hook (`COLLABD_TEST_PAUSE_AFTER_COMMIT`): the delivery is
/// committed, Leadsie has no answer yet. Leadsie then gets none and sends
/// the same delivery again; after a restart that retry is answered 200 as
/// seen before, and the store is one request from one message.
#[test]
fn killed_after_the_commit_before_the_answer_the_retry_is_the_same_one_request() {
    let held = tempfile::tempdir().unwrap();
    let marker = held.path().join("committed");
    let mut h = Hook::start_env(
        None,
        "",
        "",
        &[("COLLABD_TEST_PAUSE_AFTER_COMMIT", marker.to_str().unwrap())],
    );
    let body = payload("SUCCESS", vec![shopify("durable-shop", "8080")]).to_string();
    let path = format!("/leadsie/{TOKEN}");
    let leadsie = {
        let (port, path, body) = (h.port, path.clone(), body.clone());
        std::thread::spawn(move || exchange(port, "POST", &path, body.as_bytes(), None))
    };
    wait_for(
        Duration::from_secs(20),
        "the delivery to be committed and held before its answer",
        || marker.exists(),
    );
    // Held: committed, and nothing answered.
    assert!(!leadsie.is_finished(), "answered before the hold");
    let stored = "select store_domain || ' ' || collaborator_code from access_requests";
    assert_eq!(sql(&h.d.db, stored), "durable-shop.myshopify.com 8080");
    // SIGKILL: no shutdown, no flush, no answer.
    h.d.sigkill();
    let answer = leadsie.join().unwrap();
    assert!(
        answer.is_empty(),
        "an answer came before the kill: {answer}"
    );
    assert_eq!(sql(&h.d.db, stored), "durable-shop.myshopify.com 8080");

    // Leadsie sends it again, to collabd started again (without the hold).
    h.d.start();
    h.wait_listening();
    let (status, text) = h.post(&path, body.as_bytes());
    assert_eq!(status, 200, "{text}\n{}", h.d.log());
    let again: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(again["new"], false, "{again}");
    assert_eq!(again["created"], serde_json::json!([]), "{again}");
    assert_eq!(sql(&h.d.db, stored), "durable-shop.myshopify.com 8080");
    assert_eq!(
        count(
            &h.d.db,
            "select count(*) from messages where source = 'webhook'"
        ),
        1
    );
    assert_eq!(
        count(
            &h.d.db,
            "select count(*) from request_events where event = 'created'"
        ),
        1
    );
}

#[test]
fn ingest_webhook_replays_a_saved_payload_and_check_config_says_the_endpoint_is_on() {
    let h = Hook::start(None, "");
    let file = h.d.dir.path().join("payload.json");
    std::fs::write(
        &file,
        payload("SUCCESS", vec![shopify("replayed-shop", "0420")]).to_string(),
    )
    .unwrap();
    let (code, out, err) = h.collabd(&["ingest", "--webhook", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("created request"), "{out}");
    assert_eq!(
        sql(&h.d.db, "select source || ' ' || source_ref from messages"),
        format!("webhook file {}", file.display())
    );
    // Replayed twice: nothing changes.
    let (_, out, _) = h.collabd(&["ingest", "--webhook", file.to_str().unwrap()]);
    assert!(out.contains("already ingested"), "{out}");
    // Not a payload: exit 1, stored as rejected.
    std::fs::write(&file, "<html>oops</html>").unwrap();
    let (code, _, err) = h.collabd(&["ingest", "--webhook", file.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("not a Leadsie webhook payload"), "{err}");
    assert_eq!(
        count(
            &h.d.db,
            "select count(*) from messages where kind = 'rejected'"
        ),
        1
    );

    // The same bytes once ingested as an email, by mistake, do not make the
    // delivery a duplicate.
    let other = h.d.dir.path().join("other.json");
    std::fs::write(
        &other,
        payload("SUCCESS", vec![shopify("mistaken-shop", "1212")]).to_string(),
    )
    .unwrap();
    let (_, out, _) = h.collabd(&["ingest", other.to_str().unwrap()]);
    assert!(
        out.contains("unparseable") || out.contains("ignored"),
        "{out}"
    );
    let (code, out, _) = h.collabd(&["ingest", "--webhook", other.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    assert!(out.contains("created request"), "{out}");

    // An old delivery replayed after a newer code arrived: stamped with when
    // it arrived, it does not supersede the newer code.
    let newer = h.deliver(&payload("SUCCESS", vec![shopify("replayed-shop", "0421")]));
    assert_eq!(newer["superseded"].as_array().unwrap().len(), 1, "{newer}");
    let old = h.d.dir.path().join("old.json");
    std::fs::write(
        &old,
        payload("SUCCESS", vec![shopify("replayed-shop", "0419")]).to_string(),
    )
    .unwrap();
    let (code, out, err) = h.collabd(&[
        "ingest",
        "--webhook",
        "--received",
        "2026-01-02T03:04:05Z",
        old.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(
        sql(
            &h.d.db,
            "select group_concat(collaborator_code || ' ' || (state = 'superseded'), ', ') from (select * from access_requests where store_domain = 'replayed-shop.myshopify.com' order by id)"
        ),
        "0420 1, 0421 0, 0419 1"
    );
    let (code, _, err) = h.collabd(&[
        "ingest",
        "--webhook",
        "--received",
        "yesterday",
        old.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("2026-11-02T09:00:00Z"), "{err}");

    let (_, out, _) = h.collabd(&["check-config"]);
    let line = out
        .lines()
        .find(|l| l.contains(" leadsie: "))
        .unwrap_or_else(|| panic!("no leadsie line:\n{out}"));
    assert!(line.contains("webhook is on"), "{line}");
    assert!(!line.contains(TOKEN), "the whole token was printed: {line}");
}

#[test]
fn a_short_token_or_a_webhook_without_http_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    let cfg = dir.path().join("collabd.toml");
    let check = |text: &str| {
        std::fs::write(&cfg, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_collabd"))
            .args(["check-config", "--config", cfg.to_str().unwrap()])
            .env_remove("COLLABD_DB")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    std::fs::write(&token, "a".repeat(40)).unwrap();
    let (code, out) = check(&format!(
        "[http]\nlisten = \"127.0.0.1:9\"\n[leadsie]\nwebhook = true\ntoken_file = \"{}\"\n",
        token.display()
    ));
    assert_ne!(code, Some(0), "a token of one repeated letter");
    assert!(out.contains("different"), "{out}");
    std::fs::write(&token, "short\n").unwrap();
    let (code, out) = check(&format!(
        "[http]\nlisten = \"127.0.0.1:9\"\n[leadsie]\nwebhook = true\ntoken_file = \"{}\"\n",
        token.display()
    ));
    assert_ne!(code, Some(0));
    assert!(out.contains("openssl rand -hex 24"), "{out}");
    assert!(!out.contains("short"), "{out}");
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    let (code, out) = check(&format!(
        "[leadsie]\nwebhook = true\ntoken_file = \"{}\"\n",
        token.display()
    ));
    assert_ne!(code, Some(0));
    assert!(
        out.contains("leadsie.webhook") && out.contains("[http]"),
        "{out}"
    );
}
