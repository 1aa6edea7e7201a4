//! The status page in a real headless Chromium (Debian's chromium and
//! chromium-driver, through fantoccini), served by `collabd::daemon::run`
//! with a seeded SQLite file: what the page shows is what the database
//! holds; filter, search, sort and paging work; a request's timeline is
//! whole; an action changes the state and names the operator; a form
//! without its CSRF token is refused; sign-in is required where the
//! configuration says so; a message ingested while the page is open
//! appears without a reload. Screenshots go to target/screenshots/.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use support::browser::Driver;
use support::daemon::{count, grant, sql};
use support::dovecot::free_port;
use tokio_util::sync::CancellationToken;

const PASSWORD: &str = "correct horse battery";
/// A 1×1 PNG: the browser filer's screenshot stand-in for the hook test.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/// A daemon with the status page, on a seeded database.
struct Site {
    dir: tempfile::TempDir,
    db: PathBuf,
    base: String,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Drop for Site {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Site {
    /// Stops the daemon and starts it again on the same configuration and
    /// database, as `systemctl restart` would.
    async fn restart(&mut self) {
        self.shutdown.cancel();
        let t = self.task.take().expect("the daemon runs");
        // Really stopped, so what answers next is the new daemon.
        let stopped = tokio::time::timeout(Duration::from_secs(20), t)
            .await
            .expect("the daemon stops within 20 s");
        stopped.unwrap().unwrap();
        // Its listener's tasks wind down on their own: wait until nothing
        // answers on the port.
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port_of(&self.base))).is_ok() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the old daemon still listens"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (shutdown, task) =
            launch(&self.dir.path().join("collabd.toml"), port_of(&self.base)).await;
        self.shutdown = shutdown;
        self.task = Some(task);
    }

    async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(20), t).await;
        }
    }

    /// Runs `collabd ingest` on the site's database, as an operator would.
    fn ingest(&self, name: &str, bytes: &[u8]) {
        let f = self.dir.path().join(name);
        std::fs::write(&f, bytes).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_collabd"))
            .args([
                "ingest",
                "--db",
                self.db.to_str().unwrap(),
                f.to_str().unwrap(),
            ])
            .env("COLLABD__TRUST__REQUIRE", "none")
            .env_remove("COLLABD_CONFIG")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The daemon on `cfg` (trust checks off), run in this process until its
/// shutdown is cancelled; returns once it listens on `port`.
async fn launch(
    cfg: &Path,
    port: u16,
) -> (
    CancellationToken,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let mut settings = collabd::config::Settings::load(Some(cfg)).unwrap();
    settings.trust.require = collabd::mail::Require::None;
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(collabd::daemon::run(settings, shutdown.clone()));
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the daemon did not listen"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (shutdown, task)
}

/// 120 requests in every state, a rejected message, two watched folders
/// (one failing), a screenshot event; then the daemon with `[http]` plus
/// `http_extra`.
async fn site(http_extra: &str) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("collabd.db");
    let files: Vec<PathBuf> = (1..=120)
        .map(|i| {
            let f = dir.path().join(format!("grant-{i}.eml"));
            std::fs::write(
                &f,
                grant(
                    &format!("shop{i:03}"),
                    &format!("{:04}", (i * 37) % 10000),
                    i,
                ),
            )
            .unwrap();
            f
        })
        .collect();
    let rejected = dir.path().join("rejected.eml");
    std::fs::write(
        &rejected,
        "From: Someone <someone@random.example>\r\nTo: ops@agency.example\r\nSubject: Leadsie: store access\r\n\
         Date: Mon, 02 Nov 2026 09:00:00 +0000\r\nMessage-ID: <x1@random.example>\r\nContent-Type: text/plain\r\n\r\n\
         Shopify\r\nStore URL: https://evil.myshopify.com\r\nCollaborator code: 5555\r\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_collabd"))
        .args(["ingest", "--db", db.to_str().unwrap()])
        .args(&files)
        .arg(&rejected)
        .env("COLLABD__TRUST__REQUIRE", "none")
        .env_remove("COLLABD_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every state, and received times that do not follow the ids.
    sql(
        &db,
        "update access_requests set
           state = case id % 7 when 0 then 'granted' when 1 then 'notified' when 2 then 'requested'
                   when 3 then 'failed' when 4 then 'declined' when 5 then 'logged' else 'cancelled' end,
           attempts = id % 4,
           received_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || ((id * 37) % 1000) || ' minutes');
         insert into mailbox_state (mailbox, uidvalidity, last_uid, connected, last_contact_at, last_error,
             last_error_at, state, reconnects, next_retry_at, updated_at)
         values ('ops@agency.example/INBOX', 1, 40, 0, strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-3 minutes'),
             'connection refused by imap.agency.example', strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 minutes'),
             'backoff', 3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+1 minutes'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
           ('ops@agency.example/Leadsie', 1, 12, 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), null, null,
             'idle', 0, null, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));",
    );
    // The browser filer's hook: an event naming a screenshot under the
    // state directory (the database's).
    std::fs::create_dir_all(dir.path().join("shots")).unwrap();
    use base64::Engine as _;
    std::fs::write(
        dir.path().join("shots/request-5.png"),
        base64::engine::general_purpose::STANDARD
            .decode(PNG)
            .unwrap(),
    )
    .unwrap();
    sql(
        &db,
        "insert into request_events (request_id, at, actor, event, detail)
         values (5, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), 'worker', 'retry',
                 'browser filer: the form did not answer as expected; screenshot: shots/request-5.png');",
    );
    let users = support::daemon::users_file(dir.path(), "alice", PASSWORD);
    let port = free_port();
    let cfg = dir.path().join("collabd.toml");
    std::fs::write(
        &cfg,
        format!(
            "[database]\npath = \"{}\"\n[worker]\nfiler = \"log\"\npoll_seconds = 1\n\
             [http]\nlisten = \"127.0.0.1:{port}\"\nusers_file = \"{}\"\n{http_extra}\n",
            db.display(),
            users.display()
        ),
    )
    .unwrap();
    let (shutdown, task) = launch(&cfg, port).await;
    let base = format!("http://127.0.0.1:{port}");
    Site {
        dir,
        db,
        base,
        shutdown,
        task: Some(task),
    }
}

/// Waits (up to 20 s) until `check` says yes.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn texts(c: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in c.find_all(Locator::Css(css)).await.unwrap() {
        out.push(e.text().await.unwrap_or_default().trim().to_owned());
    }
    out
}

/// Clicks the element `css` finds.
async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Types `text` into the element `css` finds, as real key events.
async fn type_into(c: &Client, css: &str, text: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

async fn attrs(c: &Client, css: &str, attr: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in c.find_all(Locator::Css(css)).await.unwrap() {
        out.push(e.attr(attr).await.unwrap().unwrap_or_default());
    }
    out
}

fn lines(db: &Path, q: &str) -> Vec<String> {
    sql(db, q).lines().map(str::to_owned).collect()
}

/// A page's text as a signed-in operator's browser gets it.
async fn text_with_cookie(http: &reqwest::Client, url: &str, cookie: &str) -> String {
    http.get(url)
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// An HTTP client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The same, connecting from another loopback address (another source).
fn no_redirects_from(from: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(from))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn screenshots_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn save_screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(screenshots_dir().join(name), png).unwrap();
}

async fn sign_in(c: &Client, base: &str, next: &str) {
    c.goto(&format!("{base}/login?next={next}")).await.unwrap();
    type_into(c, "input[name=name]", "alice").await;
    type_into(c, "input[name=password]", PASSWORD).await;
    click(c, ".login button[type=submit]").await;
    eventually("sign-in to finish", || async {
        c.current_url().await.is_ok_and(|u| u.path() == next)
    })
    .await;
}

/// The seeded site, and a light, laptop-sized browser on it. The driver
/// must outlive the session: dropped, it kills its browser.
async fn browse() -> (Site, Driver, Client) {
    let site = site("").await;
    let mut driver = Driver::start();
    let c = driver.session(1280, 1000, false).await;
    (site, driver, c)
}

/// Ends a test that passed: the session, then the daemon.
async fn finish(site: Site, c: Client) {
    c.close().await.unwrap();
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_front_page_shows_the_counts_rows_and_health_the_database_holds() {
    let (site, _driver, c) = browse().await;
    let (db, base) = (&site.db, &site.base);

    // Counts by state, and the first page, as the database has them.
    c.goto(&format!("{base}/")).await.unwrap();
    for state in lines(db, "select distinct state from access_requests") {
        let shown = texts(&c, &format!("a[data-state='{state}'] .n")).await;
        let n = count(
            db,
            &format!("select count(*) from access_requests where state = '{state}'"),
        );
        assert_eq!(shown, vec![n.to_string()], "count of {state}");
    }
    assert_eq!(
        texts(&c, "ul.counts li:first-child .n").await,
        vec!["120".to_owned()]
    );
    let want = lines(
        db,
        "select id from access_requests order by received_at desc, id desc limit 50",
    );
    assert_eq!(attrs(&c, "#requests tbody tr", "data-id").await, want);
    let caption = texts(&c, "#requests caption").await.concat();
    assert!(caption.contains("1–50 of 120"), "{caption}");
    // Signed out, every code is masked.
    let codes = texts(&c, "#requests td.code").await;
    assert!(codes.iter().all(|t| t.starts_with("**")), "{codes:?}");
    // Needs a look: the rejected message, with its reason.
    let look = count(
        db,
        "select count(*) from messages where kind in ('rejected', 'unparseable')",
    );
    assert_eq!(
        texts(&c, "#needs-a-look .muted").await,
        vec![format!("({look})")]
    );
    let page = c.source().await.unwrap();
    assert!(page.contains("is not on a trusted Leadsie domain"));
    // The watcher per folder, and the worker.
    assert_eq!(
        texts(&c, "li[data-mailbox='ops@agency.example/INBOX'] .badge").await,
        vec!["FAILING".to_owned()]
    );
    assert_eq!(
        texts(&c, "li[data-mailbox='ops@agency.example/Leadsie'] .badge").await,
        vec!["ok".to_owned()]
    );
    assert!(page.contains("connection refused by imap.agency.example"));
    assert_eq!(texts(&c, "#filer").await, vec!["log".to_owned()]);
    save_screenshot(&c, "index-light-laptop.png").await;
    finish(site, c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filtering_by_state_shows_only_that_state() {
    let (site, _driver, c) = browse().await;
    c.goto(&format!("{}/", site.base)).await.unwrap();
    c.find(Locator::Css("select[name=state]"))
        .await
        .unwrap()
        .select_by_value("failed")
        .await
        .unwrap();
    click(&c, "form.filters button[type=submit]").await;
    eventually("the failed filter", || async {
        c.current_url()
            .await
            .is_ok_and(|u| u.query().is_some_and(|q| q.contains("state=failed")))
    })
    .await;
    let failed = count(
        &site.db,
        "select count(*) from access_requests where state = 'failed'",
    );
    let badges = texts(&c, "#requests tbody .badge").await;
    assert_eq!(badges.len() as i64, failed.min(50));
    assert!(badges.iter().all(|b| b == "failed"), "{badges:?}");
    finish(site, c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_by_store_finds_its_requests_and_stays_through_sorting_both_ways() {
    let (site, _driver, c) = browse().await;
    c.goto(&format!("{}/", site.base)).await.unwrap();
    type_into(&c, "input[name=q]", "shop01").await;
    click(&c, "form.filters button[type=submit]").await;
    eventually("the search", || async {
        c.current_url()
            .await
            .is_ok_and(|u| u.query().is_some_and(|q| q.contains("q=shop01")))
    })
    .await;
    let mut found = texts(&c, "#requests tbody a.store").await;
    found.sort();
    let mut want = lines(
        &site.db,
        "select store_domain from access_requests where store_domain like '%shop01%'",
    );
    want.sort();
    assert_eq!(found, want);

    // Sort by store, both ways; the search stays.
    click(&c, "a[data-sort=store]").await;
    eventually("sorting by store", || async {
        c.current_url()
            .await
            .is_ok_and(|u| u.query().is_some_and(|q| q.contains("sort=store&dir=asc")))
    })
    .await;
    let asc = texts(&c, "#requests tbody a.store").await;
    let mut sorted = asc.clone();
    sorted.sort();
    assert_eq!(asc, sorted);
    assert!(
        c.current_url()
            .await
            .unwrap()
            .query()
            .unwrap()
            .contains("q=shop01")
    );
    click(&c, "a[data-sort=store]").await;
    eventually("sorting by store, descending", || async {
        c.current_url()
            .await
            .is_ok_and(|u| u.query().is_some_and(|q| q.contains("sort=store&dir=desc")))
    })
    .await;
    let desc = texts(&c, "#requests tbody a.store").await;
    sorted.reverse();
    assert_eq!(desc, sorted);
    finish(site, c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_page_holds_the_next_fifty_rows() {
    let (site, _driver, c) = browse().await;
    c.goto(&format!("{}/?sort=id&dir=asc", site.base))
        .await
        .unwrap();
    click(&c, "a[rel=next]").await;
    eventually("page 2", || async {
        c.current_url()
            .await
            .is_ok_and(|u| u.query().is_some_and(|q| q.contains("page=2")))
    })
    .await;
    let ids = attrs(&c, "#requests tbody tr", "data-id").await;
    assert_eq!(
        ids,
        lines(
            &site.db,
            "select id from access_requests order by id limit 50 offset 50"
        )
    );
    finish(site, c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeline_is_whole_and_its_code_and_screenshot_are_shown_only_signed_in() {
    let (site, _driver, c) = browse().await;
    let (db, base) = (&site.db, &site.base);
    // Signed out: the whole timeline; the screenshot is kept, not shown.
    c.goto(&format!("{base}/requests/5")).await.unwrap();
    let events = attrs(&c, "#timeline tbody tr", "data-event").await;
    assert_eq!(
        events,
        lines(
            db,
            "select event from request_events where request_id = 5 order by id"
        )
    );
    assert!(
        c.source()
            .await
            .unwrap()
            .contains("Screenshot kept (sign in to see it)")
    );
    assert_eq!(
        texts(&c, "#verdict").await,
        vec!["leadsie_grant".to_owned()]
    );
    let code = sql(
        db,
        "select collaborator_code from access_requests where id = 5",
    );
    assert_ne!(texts(&c, "#code").await, vec![code.clone()]);

    // Signed in: the full code and the screenshot.
    sign_in(&c, base, "/requests/5").await;
    assert_eq!(texts(&c, "#code").await, vec![code]);
    let shown: serde_json::Value = c
        .execute(
            "return document.querySelector('.shot img').naturalWidth",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(shown, serde_json::json!(1), "the screenshot loads");
    save_screenshot(&c, "request-light-laptop.png").await;
    finish(site, c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_s_action_changes_the_state_and_names_the_operator() {
    let (site, _driver, c) = browse().await;
    let db = &site.db;
    // Request 8 is notified (8 % 7 = 1); mark it granted.
    assert_eq!(
        sql(db, "select state from access_requests where id = 8"),
        "notified"
    );
    sign_in(&c, &site.base, "/requests/8").await;
    type_into(&c, "textarea[name=note]", "merchant approved on the phone").await;
    click(&c, "button[value=granted]").await;
    eventually("the action's answer", || async {
        c.find(Locator::Css(".flash.ok")).await.is_ok()
    })
    .await;
    assert_eq!(
        sql(db, "select state from access_requests where id = 8"),
        "granted"
    );
    assert_eq!(
        sql(
            db,
            "select actor || '|' || detail from request_events where request_id = 8 order by id desc limit 1"
        ),
        "operator:alice|mark granted: merchant approved on the phone"
    );
    finish(site, c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_form_without_its_csrf_token_is_refused() {
    let (site, _driver, c) = browse().await;
    let db = &site.db;
    assert_eq!(
        sql(db, "select state from access_requests where id = 15"),
        "notified"
    );
    // A signed-in session, but a form without its CSRF token.
    sign_in(&c, &site.base, "/requests/15").await;
    let status = c
        .execute_async(
            "const done = arguments[0];
             fetch('/requests/15/action', {method: 'POST', credentials: 'same-origin',
                 headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'action=cancel'})
               .then(r => done(r.status), () => done(0));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, serde_json::json!(403));
    assert_eq!(
        sql(db, "select state from access_requests where id = 15"),
        "notified"
    );
    finish(site, c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_ingested_while_the_page_is_open_appears_without_a_reload() {
    let (site, _driver, c) = browse().await;
    // A search that matches nothing yet; a message arrives; the row
    // appears without a reload, and the search is still there.
    c.goto(&format!("{}/?q=fresh-store", site.base))
        .await
        .unwrap();
    assert!(texts(&c, "#requests tbody tr").await.is_empty());
    c.execute("window.notReloaded = true; return 1", vec![])
        .await
        .unwrap();
    site.ingest("fresh.eml", &grant("fresh-store", "4321", 999));
    eventually("the new request to appear on the open page", || async {
        texts(&c, "#requests tbody a.store").await == vec!["fresh-store.myshopify.com".to_owned()]
    })
    .await;
    let same_page: serde_json::Value = c
        .execute("return window.notReloaded === true", vec![])
        .await
        .unwrap();
    assert_eq!(
        same_page,
        serde_json::json!(true),
        "the page was not reloaded"
    );
    let q = c
        .find(Locator::Css("input[name=q]"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(q.as_deref(), Some("fresh-store"));
    finish(site, c).await;
}

/// The phone width and the dark scheme, for the README and reviewers: the
/// page sees the colour scheme the browser asks for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_follows_the_browser_s_colour_scheme_at_each_width() {
    let site = site("").await;
    let mut driver = Driver::start();
    for (dark, width, height, name) in [
        (false, 390, 1400, "light-phone"),
        (true, 1280, 1000, "dark-laptop"),
        (true, 390, 1400, "dark-phone"),
    ] {
        let c = driver.session(width, height, dark).await;
        let is_dark: serde_json::Value = c
            .execute(
                "return matchMedia('(prefers-color-scheme: dark)').matches",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(is_dark, serde_json::json!(dark), "{name}");
        c.goto(&format!("{}/", site.base)).await.unwrap();
        save_screenshot(&c, &format!("index-{name}.png")).await;
        c.goto(&format!("{}/requests/5", site.base)).await.unwrap();
        save_screenshot(&c, &format!("request-{name}.png")).await;
        c.close().await.unwrap();
    }
    site.stop().await;
}

/// With `http.require_sign_in = true` — what a listener other hosts can
/// reach gets from the same code path — nothing is shown signed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_out_visitors_see_nothing_when_sign_in_is_required() {
    let site = site("require_sign_in = true").await;
    let base = site.base.clone();
    let mut driver = Driver::start();
    let c = driver.session(1280, 900, false).await;
    for path in ["/", "/requests/5", "/messages/1"] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        let url = c.current_url().await.unwrap();
        assert_eq!(url.path(), "/login", "{path}");
        let page = c.source().await.unwrap();
        assert!(
            !page.contains("shop0") && !page.contains("id=\"requests\""),
            "{path}: {page}"
        );
    }
    // Without a browser too: the change marker is refused, raw mail sends
    // the client to sign in.
    let http = no_redirects();
    let r = http.get(format!("{base}/live")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = http
        .get(format!("{base}/messages/1/raw"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/login?next=%2Fmessages%2F1%2Fraw");
    let r = http
        .post(format!("{base}/requests/8/action"))
        .form(&[("action", "cancel")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // Health and metrics stay as they were.
    let r = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert!(r.status().is_success() || r.status().as_u16() == 503);

    // Wrong passwords are limited; then even the right one waits.
    for _ in 0..collabd::status_page::auth::LOGIN_FAILURES_PER_ADDRESS {
        let r = http
            .post(format!("{base}/login"))
            .form(&[("name", "alice"), ("password", "guess")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401);
    }
    let r = http
        .post(format!("{base}/login"))
        .form(&[("name", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    // Another name from the same address (behind a proxy, everyone's) is
    // not locked out by alice's failures.
    let r = http
        .post(format!("{base}/login"))
        .form(&[("name", "carol"), ("password", "guess")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    site.stop().await;
}

/// A loopback page left open reads without sign-in from this host, but a
/// request a reverse proxy forwarded must sign in: it came from wherever
/// the proxy is reachable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_request_to_an_open_loopback_page_must_sign_in() {
    let site = site("").await;
    let http = no_redirects();
    let r = http.get(format!("{}/", site.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    for (header, value) in [
        ("X-Forwarded-For", "203.0.113.9"),
        ("X-Forwarded-Proto", "https"),
        ("Forwarded", "for=203.0.113.9"),
    ] {
        let r = http
            .get(format!("{}/requests/5", site.base))
            .header(header, value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "{header}");
        assert!(
            r.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/login"),
            "{header}"
        );
    }
    site.stop().await;
}

/// A code quoted outside its column — in the subject, in the client's
/// name — is masked wherever a signed-out reader sees it: the list, the
/// request, the message; a signed-in operator sees it whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_quoted_in_a_subject_or_a_client_name_is_masked_when_signed_out() {
    let site = site("").await;
    site.ingest(
        "quoted.eml",
        b"From: Leadsie <notifications@leadsie.com>\r\nTo: ops@agency.example\r\n\
          Subject: Sunrise Shop granted access, code 8642\r\n\
          Date: Mon, 02 Nov 2026 09:00:00 +0000\r\nMessage-ID: <quoted-1@leadsie.com>\r\nMIME-Version: 1.0\r\n\
          Content-Type: text/plain; charset=utf-8\r\n\r\nClient: Sunrise Shop (code 86 42)\r\n\r\nShopify\r\n\
          Store URL: https://sunrise-shop.myshopify.com\r\nCollaborator code: 8642\r\n",
    );
    let id = lines(
        &site.db,
        "select id from access_requests where store_domain = 'sunrise-shop.myshopify.com'",
    );
    let message = lines(
        &site.db,
        "select source_message_id from access_requests where store_domain = 'sunrise-shop.myshopify.com'",
    );
    let client_name = lines(
        &site.db,
        "select client_name from access_requests where store_domain = 'sunrise-shop.myshopify.com'",
    );
    assert_eq!(
        client_name,
        ["Sunrise Shop (code 86 42)"],
        "the name as the client wrote it"
    );
    let (id, message) = (&id[0], &message[0]);
    let http = no_redirects();
    let get = async |path: &str, cookie: Option<&str>| {
        let mut r = http.get(format!("{}{path}", site.base));
        if let Some(c) = cookie {
            r = r.header("Cookie", c);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        r.text().await.unwrap()
    };
    for path in [
        "/".to_owned(),
        "/?q=sunrise".to_owned(),
        format!("/requests/{id}"),
        format!("/messages/{message}"),
    ] {
        let page = get(&path, None).await;
        assert!(page.contains("Sunrise Shop"), "{path}: {page}");
        for shown in ["8642", "86 42", "86&nbsp;42"] {
            assert!(!page.contains(shown), "{path} shows {shown:?}: {page}");
        }
    }
    // A search cannot confirm the hidden digits one guess at a time.
    for guess in ["86", "8642", "86 42"] {
        let page = get(&format!("/?q={}", guess.replace(' ', "+")), None).await;
        assert!(!page.contains("sunrise-shop"), "{guess}: {page}");
    }
    assert!(get("/?sort=code", None).await.contains("sunrise-shop"));
    let request = get(&format!("/requests/{id}"), None).await;
    assert!(request.contains("Sunrise Shop (code ** 42)"), "{request}");
    let message_page = get(&format!("/messages/{message}"), None).await;
    assert!(
        message_page.contains("granted access, code **42"),
        "{message_page}"
    );
    // Signed in, the operator reads it as it came.
    let session = session_cookie(&http, &site.base).await;
    let page = get(&format!("/requests/{id}"), Some(&session)).await;
    assert!(page.contains("Sunrise Shop (code 86 42)"), "{page}");
    let found = get("/?q=86", Some(&session)).await;
    assert!(found.contains("sunrise-shop"), "{found}");
    site.stop().await;
}

/// A browser from the same address that signed in fine before the
/// limit: the cookie is HttpOnly and SameSite=Strict, and the page opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_operator_gets_a_strict_http_only_cookie() {
    let site = site("require_sign_in = true").await;
    let http = no_redirects();
    // Sign-in posted from another site is refused before the password.
    let r = http
        .post(format!("{}/login", site.base))
        .header("Origin", "http://evil.example")
        .form(&[("name", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.headers().get("set-cookie").is_none());
    // After sign-in, never to another site: a tab or a backslash that a
    // browser would drop or turn into a slash sends it home instead.
    for next in [
        "/\t/evil.example/",
        "/\\evil.example",
        "//evil.example",
        "https://evil.example",
    ] {
        let r = http
            .post(format!("{}/login", site.base))
            .form(&[("name", "alice"), ("password", PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "{next:?}");
        assert_eq!(r.headers()["location"], "/", "{next:?}");
    }
    let r = http
        .post(format!("{}/login", site.base))
        .form(&[
            ("name", "alice"),
            ("password", PASSWORD),
            ("next", "/requests/5"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/requests/5");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let session = cookie.split(';').next().unwrap().to_owned();
    let page = text_with_cookie(&http, &format!("{}/requests/5", site.base), &session).await;
    assert!(page.contains("shop005.myshopify.com"), "{page}");
    // A link cannot put words on the page: what an action did is kept in
    // the session, not read from the address.
    let spoofed = text_with_cookie(
        &http,
        &format!(
            "{}/requests/5?error=Session+expired%2C+sign+in+at+evil.example&done=ok",
            site.base
        ),
        &session,
    )
    .await;
    assert!(!spoofed.contains("evil.example"), "{spoofed}");
    let n = count(
        &site.db,
        "select count(*) from request_events where request_id = 5",
    );
    assert_eq!(page.matches("<tr data-event=").count() as i64, n);
    site.stop().await;
}

/// `http.tls_cert_file` and `tls_key_file`: collabd speaks HTTPS itself,
/// health and the page alike, and the session cookie is `Secure`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_over_tls_the_cookie_is_secure() {
    let certs = tempfile::tempdir().unwrap();
    support::self_signed::make(certs.path());
    let site = site(&format!(
        "tls_cert_file = \"{}\"\ntls_key_file = \"{}\"",
        certs.path().join("server.pem").display(),
        certs.path().join("server.key").display()
    ))
    .await;
    let base = site.base.replace("http://", "https://");
    // The test's certificate is self-signed and marked CA: accepted here
    // for what it is, since the point is that collabd speaks TLS.
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let page = http
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("shop001.myshopify.com"));
    let r = http
        .post(format!("{base}/login"))
        .form(&[("name", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    // Plain HTTP on the same port gets no page.
    assert!(reqwest::get(format!("{}/", site.base)).await.is_err());
    site.stop().await;
}

/// `collabd http-user NAME` reads the password from stdin and prints a
/// line the users file accepts, without echoing the password.
#[test]
fn http_user_prints_a_users_file_line() {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_collabd"))
        .args(["http-user", "bob"])
        .env_remove("COLLABD_CONFIG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"s3cret token\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(
        line.starts_with("bob:$argon2id$") && !line.contains("s3cret"),
        "{line}"
    );
    let users = collabd::users::Users::parse(&line).unwrap();
    assert!(users.verify("bob", "s3cret token"));
    assert!(!users.verify("bob", "s3cret"));
}

/// The port of a site's base URL.
fn port_of(base: &str) -> u16 {
    base.rsplit(':').next().unwrap().parse().unwrap()
}

/// One GET over a fresh connection with `host` as the Host header (none
/// when empty), answered within five seconds: the status and body, or
/// `None` when the connection was closed or timed out first.
fn get_as(port: u16, host: &str, path: &str, extra: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let host = if host.is_empty() {
        String::new()
    } else {
        format!("Host: {host}\r\n")
    };
    s.write_all(
        format!("GET {path} HTTP/1.1\r\n{host}{extra}Connection: close\r\n\r\n").as_bytes(),
    )
    .ok()?;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    Some((status, body))
}

/// Connections from one client that keep a slot each and come back as
/// soon as they are closed: `request` sent once connected (a sign-in whose
/// body never finishes), or nothing at all (a silent socket).
fn hold_slots(
    port: u16,
    clients: usize,
    request: Option<&'static [u8]>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Vec<std::thread::JoinHandle<()>> {
    use std::io::{Read, Write};
    use std::sync::atomic::Ordering;
    (0..clients)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    let _ = s.set_read_timeout(Some(Duration::from_millis(300)));
                    if let Some(r) = request {
                        let _ = s.write_all(r);
                    }
                    let mut buf = [0u8; 512];
                    while !stop.load(Ordering::Relaxed) {
                        match s.read(&mut buf) {
                            Ok(0) => break,
                            Ok(_) => {}
                            Err(e)
                                if matches!(
                                    e.kind(),
                                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                                ) => {}
                            Err(_) => break,
                        }
                    }
                }
            })
        })
        .collect()
}

/// Issue 23: one host with 100 connections that each send part of a
/// sign-in and wait (or send nothing), reconnecting the moment they are
/// closed, once held every slot and kept `/healthz` down. A probe from the
/// same address (everything is 127.0.0.1 here, so per-source caps alone
/// would not save it) still gets its answer: the listener drops the oldest
/// connection that has not had a request answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_host_holding_every_slot_does_not_keep_healthz_down() {
    let site = site("").await;
    let port = port_of(&site.base);
    const PARTIAL_SIGN_IN: &[u8] = b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\
        Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nname=al";
    for (what, request) in [
        ("partial sign-in bodies", Some(PARTIAL_SIGN_IN)),
        ("silent sockets", None),
    ] {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let holders = hold_slots(port, 100, request, stop.clone());
        tokio::time::sleep(Duration::from_secs(2)).await;
        let answered = tokio::task::spawn_blocking(move || {
            (0..20)
                .filter(|_| {
                    let ok = get_as(port, &format!("127.0.0.1:{port}"), "/healthz", "").is_some();
                    std::thread::sleep(Duration::from_millis(250));
                    ok
                })
                .count()
        })
        .await
        .unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for h in holders {
            let _ = h.join();
        }
        eprintln!("{what}: /healthz answered {answered} of 20 probes");
        assert!(
            answered >= 18,
            "{what}: /healthz answered {answered} of 20 probes"
        );
    }
    site.stop().await;
}

/// Issue 23: 505 wrong sign-ins (101 names × 5) from one address reached
/// the cap for everyone together, and the operator at another address then
/// got 429 with the right password. One address's failures now stop
/// counting (and it is refused) well before that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_sign_ins_from_one_address_do_not_lock_out_the_operator() {
    let site = site("").await;
    let http = no_redirects();
    let mut refused = 0;
    for n in 0..=100 {
        for _ in 0..collabd::status_page::auth::LOGIN_FAILURES_PER_ADDRESS {
            let r = http
                .post(format!("{}/login", site.base))
                .form(&[("name", format!("guess{n}")), ("password", "wrong".into())])
                .send()
                .await
                .unwrap();
            match r.status().as_u16() {
                401 => {}
                429 => refused += 1,
                s => panic!("wrong sign-in answered {s}"),
            }
        }
    }
    // The operator, at another loopback address.
    let operator = no_redirects_from([127, 0, 0, 2]);
    let r = operator
        .post(format!("{}/login", site.base))
        .form(&[("name", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "the operator's sign-in");
    assert!(
        refused > 400,
        "one address was refused only {refused} times"
    );
    site.stop().await;
}

/// Issue 23 (DNS rebinding): a page asked for under a name the attacker
/// controls, pointed at 127.0.0.1, answered with stores, clients and
/// emails. Only loopback names and the listener's own address are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebound_host_name_is_misdirected() {
    let site = site("").await;
    let port = port_of(&site.base);
    for path in ["/", "/requests/7", "/messages/1", "/healthz", "/metrics"] {
        for host in [
            format!("attacker-rebind.example:{port}"),
            "attacker-rebind.example".into(),
            format!("localhost.attacker.example:{port}"),
            format!("10.1.2.3:{port}"),
        ] {
            let (status, body) = get_as(port, &host, path, "").unwrap();
            assert_eq!(status, 421, "{host} {path}");
            assert!(
                !body.contains("shop0") && body.contains("hostnames"),
                "{host} {path}"
            );
        }
    }
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        "127.0.0.1".into(),
        format!("collabd.localhost:{port}"),
        format!("[::1]:{port}"),
        format!("LOCALHOST.:{port}"),
    ] {
        let (status, body) = get_as(port, &host, "/requests/7", "").unwrap();
        assert_eq!(status, 200, "{host}");
        assert!(body.contains("shop007"), "{host}");
    }
    site.stop().await;
}

/// `http.hostnames`: the name a reverse proxy passes on is served; other
/// names still are not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_host_name_is_served() {
    let site = site("hostnames = [\"Collabd.Example.com\"]").await;
    let port = port_of(&site.base);
    for host in ["collabd.example.com", "collabd.example.com:443"] {
        let (status, body) = get_as(port, host, "/healthz", "").unwrap();
        assert!(status == 200 || status == 503, "{host}: {status} {body}");
    }
    let (status, _) = get_as(port, "other.example.com", "/healthz", "").unwrap();
    assert_eq!(status, 421);
    site.stop().await;
}

/// Sessions and the sign-in limit are the database's: a restart signs no
/// one out and forgets no failed sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_sessions_and_failed_sign_ins() {
    let mut site = site("require_sign_in = true").await;
    let base = site.base.clone();
    let http = no_redirects();
    let front = |cookie: Option<String>| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let mut r = http.get(format!("{base}/"));
            if let Some(c) = cookie {
                r = r.header("Cookie", c);
            }
            r.send().await.unwrap().status().as_u16()
        }
    };
    let cookie = session_cookie(&http, &site.base).await;
    assert_eq!(
        front(None).await,
        303,
        "signed out, the page sends to sign-in"
    );
    assert_eq!(front(Some(cookie.clone())).await, 200);
    let wrong = |name: &'static str| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            http.post(format!("{base}/login"))
                .form(&[("name", name), ("password", "not it")])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for _ in 0..5 {
        assert_eq!(wrong("mallory").await, 401);
    }
    assert_eq!(wrong("mallory").await, 429);

    site.restart().await;
    assert_eq!(front(Some(cookie.clone())).await, 200, "still signed in");
    assert_eq!(wrong("mallory").await, 429, "the failures are remembered");
    assert_eq!(front(Some("collabd_session=made-up".into())).await, 303);
    // Signing out ends the session for good.
    let page = text_with_cookie(&http, &format!("{}/", site.base), &cookie).await;
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a signed-in page carries its CSRF token")
        .to_owned();
    let r = http
        .post(format!("{}/logout", site.base))
        .header("Cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(front(Some(cookie)).await, 303);
    site.stop().await;
}

/// Signs alice in over plain HTTP; the session cookie.
async fn session_cookie(http: &reqwest::Client, base: &str) -> String {
    let r = http
        .post(format!("{base}/login"))
        .form(&[("name", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

/// Issue 23: `x.png → collabd.db` in the evidence directory was served as
/// a screenshot, the whole database with it. A symlink anywhere under the
/// state directory is refused; a real PNG is still served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_in_the_state_directory_is_not_served_as_a_screenshot() {
    let site = site("").await;
    let state = site.dir.path();
    let evidence = state.join("browser/evidence");
    std::fs::create_dir_all(&evidence).unwrap();
    std::os::unix::fs::symlink(&site.db, evidence.join("x.png")).unwrap();
    std::os::unix::fs::symlink(state.join("shots"), state.join("linked")).unwrap();
    sql(
        &site.db,
        &format!(
            "insert into request_events (request_id, at, actor, event, detail)
             values (7, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), 'worker', 'retry',
                     'browser filer: a challenge; screenshot: {}'),
                    (7, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), 'worker', 'retry',
                     'browser filer: a challenge; screenshot: linked/request-5.png');",
            evidence.join("x.png").display()
        ),
    );
    let http = no_redirects();
    let cookie = session_cookie(&http, &site.base).await;
    let get = |request: i64, event: String| {
        let (http, cookie, base) = (http.clone(), cookie.clone(), site.base.clone());
        async move {
            let r = http
                .get(format!(
                    "{base}/requests/{request}/events/{event}/screenshot"
                ))
                .header("Cookie", cookie)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.bytes().await.unwrap())
        }
    };
    for like in ["%x.png%", "%linked/%"] {
        let event = sql(
            &site.db,
            &format!("select id from request_events where request_id = 7 and detail like '{like}'"),
        );
        let (status, body) = get(7, event).await;
        assert_eq!(status, 404, "{like}");
        assert!(!body.starts_with(b"SQLite format"), "{like}");
    }
    let event = sql(
        &site.db,
        "select id from request_events where request_id = 5 and detail like '%request-5.png%'",
    );
    let (status, body) = get(5, event).await;
    assert_eq!(status, 200);
    assert!(body.starts_with(b"\x89PNG"));
    // The request's page shows no picture for the symlinks.
    let page = text_with_cookie(&http, &format!("{}/requests/7", site.base), &cookie).await;
    assert!(!page.contains("/screenshot"), "{page}");
    site.stop().await;
}

/// `http.trusted_proxies`: `X-Forwarded-For` names the client only when
/// the connection comes from a listed proxy, and then its rightmost
/// address that is not itself a proxy, so a client cannot pick its own
/// name by prepending one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let site = site("trusted_proxies = [\"127.0.0.3\", \"10.0.0.0/8\"]").await;
    let client = no_redirects_from;
    let sign_in = |http: reqwest::Client, forwarded: &'static str, password: &'static str| {
        let base = site.base.clone();
        async move {
            http.post(format!("{base}/login"))
                .header("X-Forwarded-For", forwarded)
                .form(&[("name", "alice"), ("password", password)])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // Not a proxy: whatever it forwards, it is 127.0.0.1.
    let direct = client([127, 0, 0, 1]);
    for n in 0..collabd::status_page::auth::LOGIN_FAILURES_PER_ADDRESS {
        let fake = [
            "198.51.100.1",
            "198.51.100.2",
            "198.51.100.3",
            "198.51.100.4",
            "198.51.100.5",
        ];
        assert_eq!(sign_in(direct.clone(), fake[n], "guess").await, 401);
    }
    assert_eq!(sign_in(direct.clone(), "198.51.100.6", PASSWORD).await, 429);
    // Through the proxy, each client counts for itself.
    let proxy = client([127, 0, 0, 3]);
    for _ in 0..collabd::status_page::auth::LOGIN_FAILURES_PER_ADDRESS {
        assert_eq!(sign_in(proxy.clone(), "203.0.113.7", "guess").await, 401);
    }
    assert_eq!(sign_in(proxy.clone(), "203.0.113.7", PASSWORD).await, 429);
    // Prepending another address does not make a new client.
    assert_eq!(
        sign_in(proxy.clone(), "192.0.2.99, 203.0.113.7", PASSWORD).await,
        429
    );
    // A chain through another trusted proxy still ends at the client.
    assert_eq!(
        sign_in(proxy.clone(), "203.0.113.7, 10.1.1.1", PASSWORD).await,
        429
    );
    assert_eq!(sign_in(proxy.clone(), "203.0.113.8", PASSWORD).await, 303);
    site.stop().await;
}
