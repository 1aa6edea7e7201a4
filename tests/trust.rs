//! Authentication against real DNS: a DNS server on loopback serves DKIM
//! keys the test generates, mail is signed with them by mail-auth, and
//! collabd verifies as it does in production (`[trust] require = "dkim"`).

mod support;

use std::sync::Arc;

use collabd::dkim::Verifier;
use collabd::ingest::{Ingestor, Judged, judge};
use collabd::mail::{Classifier, OutcomeRules, Require, TrustPolicy};
use collabd::model::MessageKind;
use collabd::store::{Db, Source};
use mail_auth::arc::ArcSealer;
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use mail_auth::hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use mail_auth::{AuthenticatedMessage, AuthenticationResults, MessageAuthenticator};
use support::dkim::{Key, key, sign};
use support::dns::Dns;

fn publish(dns: &Dns, k: &Key, selector: &str, domain: &str) {
    dns.txt(
        &format!("{selector}._domainkey.{domain}"),
        &format!("v=DKIM1; k=ed25519; p={}", k.public),
    );
}

fn classifier(forwarders: Option<Vec<String>>) -> Classifier {
    policy(TrustPolicy {
        forwarders,
        require: Require::Dkim,
        ..TrustPolicy::default()
    })
}

fn policy(trust: TrustPolicy) -> Classifier {
    Classifier::new(trust, OutcomeRules::new(&[]).unwrap())
}

const LEADSIE: &str = "From: Leadsie <notifications@leadsie.com>\nTo: ops@agency.com\nSubject: Acme Co has granted you access\nDate: Mon, 02 Nov 2026 10:00:00 +0000\nMessage-ID: <g1@leadsie.com>\n\nShopify\nStore URL: acme-co.myshopify.com\nCollaborator code: 0105\n";

async fn verdict(c: &Classifier, dns: &Dns, raw: &str) -> Judged {
    let v = Verifier::new(&[dns.addr]).unwrap();
    judge(c, &v, raw.as_bytes()).await
}

fn kind(j: &Judged) -> (MessageKind, String) {
    match j {
        Judged::Ready(c) => (c.kind, c.reason.clone().unwrap_or_default()),
        Judged::Deferred(_, why) => (MessageKind::Deferred, why.clone()),
    }
}

#[tokio::test]
async fn a_direct_leadsie_email_counts_only_with_its_aligned_signature() {
    let dns = Dns::start().await;
    let k = key();
    publish(&dns, &k, "s1", "leadsie.com");
    let signed = sign(k, "s1", "leadsie.com", LEADSIE);
    let c = classifier(None);
    assert_eq!(
        kind(&verdict(&c, &dns, &signed).await).0,
        MessageKind::LeadsieGrant
    );

    // The same email unsigned, or altered after signing, is refused.
    let (k, why) = kind(&verdict(&c, &dns, LEADSIE).await);
    assert_eq!(k, MessageKind::Rejected, "{why}");
    assert!(
        why.contains("no valid DKIM signature aligned with leadsie.com"),
        "{why}"
    );
    let altered = signed.replace("0105", "9999");
    let (k, why) = kind(&verdict(&c, &dns, &altered).await);
    assert_eq!(k, MessageKind::Rejected, "{why}");
    assert!(
        why.contains(
            "leadsie.com's signature (d=leadsie.com): the body was changed after it was signed"
        ),
        "{why}"
    );

    // A signature over only a prefix of the body (l=) lets anyone append a
    // grant to a genuine email: it proves nothing.
    let k = key();
    publish(&dns, &k, "s2", "leadsie.com");
    let raw = LEADSIE
        .replace(
            "Store URL: acme-co.myshopify.com\nCollaborator code: 0105\n",
            "Thanks\n",
        )
        .replace('\n', "\r\n");
    let sig = DkimSigner::from_key(k.key)
        .domain("leadsie.com")
        .selector("s2")
        .headers(["From", "Subject", "Date"])
        .body_length(true)
        .sign(raw.as_bytes())
        .unwrap();
    let appended = format!(
        "{}{raw}Shopify\r\nStore URL: evil-shop.myshopify.com\r\nCollaborator code: 6666\r\n",
        sig.to_header()
    );
    let (k, why) = kind(&verdict(&c, &dns, &appended).await);
    assert_eq!(k, MessageKind::Rejected, "{why}");
    assert!(
        why.contains("leadsie.com's signature (d=leadsie.com) covers only the first"),
        "says whose signature covers part of the body: {why}"
    );
    assert!(why.contains("(l=)"), "{why}");

    // A bare LF ends the headers for a mail reader but not for a DKIM
    // verifier: text slipped in there would be read but not verified.
    let k = key();
    publish(&dns, &k, "s3", "leadsie.com");
    let welcome = "From: Leadsie <notifications@leadsie.com>\nTo: eve@evil.example\nSubject: Welcome to Leadsie\nDate: Mon, 02 Nov 2026 09:00:00 +0000\n\nThanks for signing up.\n";
    let signed_welcome = sign(k, "s3", "leadsie.com", welcome);
    let (sig, rest) = signed_welcome
        .split_once("From: Leadsie <notifications@leadsie.com>\r\n")
        .unwrap();
    let split = format!(
        "From: Leadsie <notifications@leadsie.com>\r\n\x0c\nShopify\r\nStore URL: victim-store.myshopify.com\r\nCollaborator code: 6666\r\n{sig}{rest}"
    );
    let (k, why) = kind(&verdict(&c, &dns, &split).await);
    assert_eq!(k, MessageKind::Rejected, "{why}");
    assert!(why.contains("header block is malformed"), "{why}");
    // The same genuine email with LF line ends throughout (as a pipe hands
    // it over) is read and verified alike.
    assert_eq!(
        kind(&verdict(&c, &dns, &signed.replace("\r\n", "\n")).await).0,
        MessageKind::LeadsieGrant
    );

    // A valid signature by the sender's own domain does not make it Leadsie.
    let evil = key();
    publish(&dns, &evil, "e", "evil.example");
    let by_evil = sign(evil, "e", "evil.example", LEADSIE);
    let (k, why) = kind(&verdict(&c, &dns, &by_evil).await);
    assert_eq!(k, MessageKind::Rejected, "{why}");
    assert!(why.contains("d=evil.example"), "{why}");
}

#[tokio::test]
async fn an_inline_forward_counts_only_through_its_authenticated_forwarder() {
    let dns = Dns::start().await;
    let agency = key();
    publish(&dns, &agency, "g", "agency.com");
    let forward = "From: Ann <ann@agency.com>\nTo: collabd@agency.com\nSubject: Fwd: Acme Co has granted you access\nDate: Mon, 02 Nov 2026 10:05:00 +0000\n\n---------- Forwarded message ---------\nFrom: Leadsie <notifications@leadsie.com>\nDate: Mon, 2 Nov 2026 at 10:00\nSubject: Acme Co has granted you access\nTo: <ann@agency.com>\n\nShopify\nStore URL: acme-co.myshopify.com\nCollaborator code: 0105\n";
    let c = classifier(Some(vec!["agency.com".into()]));
    let signed = sign(agency, "g", "agency.com", forward);
    assert_eq!(
        kind(&verdict(&c, &dns, &signed).await).0,
        MessageKind::LeadsieGrant
    );
    let (k, why) = kind(&verdict(&c, &dns, forward).await);
    assert_eq!(
        k,
        MessageKind::Rejected,
        "an unsigned forward is anyone's: {why}"
    );
    assert!(why.contains("the forwarder's own message"), "{why}");
}

#[tokio::test]
async fn an_attached_original_counts_by_its_own_signature() {
    let dns = Dns::start().await;
    let leadsie = key();
    publish(&dns, &leadsie, "s1", "leadsie.com");
    let inner = sign(leadsie, "s1", "leadsie.com", LEADSIE);
    let wrap = |inner: &str| {
        format!(
            "From: Ann <ann@agency.com>\r\nTo: collabd@agency.com\r\nSubject: Fwd: access\r\nDate: Mon, 02 Nov 2026 10:05:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n{inner}\r\n--b--\r\n"
        )
    };
    let c = classifier(Some(vec!["agency.com".into()]));
    assert_eq!(
        kind(&verdict(&c, &dns, &wrap(&inner)).await).0,
        MessageKind::LeadsieGrant
    );
    let (k, why) = kind(&verdict(&c, &dns, &wrap(&LEADSIE.replace('\n', "\r\n"))).await);
    assert_eq!(k, MessageKind::Rejected, "{why}");
    assert!(why.contains("the attached original"), "{why}");
}

#[tokio::test]
async fn when_dns_fails_the_message_waits_and_is_judged_again() {
    let dns = Dns::start().await;
    let k = key();
    publish(&dns, &k, "s1", "leadsie.com");
    let signed = sign(k, "s1", "leadsie.com", LEADSIE);
    dns.set_silent(true);

    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("t.db")).await.unwrap();
    let ingestor = Ingestor::new(
        db.clone(),
        collabd::ingest::Rules {
            classifier: classifier(None),
            max_raw_bytes: 1 << 20,
            verifier: Arc::new(Verifier::new(&[dns.addr]).unwrap()),
            review: collabd::config::Review::None,
        },
    );
    let now = chrono::Utc::now();
    let r = ingestor
        .ingest(signed.as_bytes(), &Source::Stdin, now)
        .await
        .unwrap();
    assert_eq!(r.kind, MessageKind::Deferred, "{:?}", r.reason);
    assert_eq!(r.deferred, Some(1), "named by the row it waits in");
    assert!(r.created.is_empty(), "nothing is accepted unverified");
    let waiting: i64 = sqlx::query_scalar("select count(*) from deferred_message")
        .fetch_one(db.pool.sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(waiting, 1, "nothing is dropped");

    // Still down: postponed, not dropped and not accepted.
    let later = now + chrono::Duration::minutes(2);
    assert_eq!(ingestor.rejudge_due(later).await.unwrap(), 0);
    let attempts: i64 = sqlx::query_scalar("select attempts from deferred_message")
        .fetch_one(db.pool.sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(attempts, 2);

    dns.set_silent(false);
    let much_later = now + chrono::Duration::hours(2);
    assert_eq!(ingestor.rejudge_due(much_later).await.unwrap(), 1);
    let (waiting, requests): (i64, i64) = sqlx::query_as(
        "select (select count(*) from deferred_message), (select count(*) from access_requests where state = 'queued')",
    )
    .fetch_one(db.pool.sqlite().unwrap())
    .await
    .unwrap();
    assert_eq!((waiting, requests), (0, 1));
}

/// The parser reads a copy without attachment bodies; the signatures are
/// checked over the bytes as they arrived. A signed Leadsie email with an
/// image, sent directly or attached (with its image) to a forward that has
/// a PDF of its own, still verifies; changing the image breaks it.
#[tokio::test]
async fn signatures_cover_the_attachments_the_parser_never_decodes() {
    let dns = Dns::start().await;
    let leadsie = key();
    publish(&dns, &leadsie, "s1", "leadsie.com");
    let with_logo = "From: Leadsie <notifications@leadsie.com>\nTo: ops@agency.com\nSubject: Acme Co has granted you access\nDate: Mon, 02 Nov 2026 10:00:00 +0000\nMessage-ID: <g2@leadsie.com>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"L\"\n\n--L\nContent-Type: text/plain\n\nShopify\nStore URL: acme-co.myshopify.com\nCollaborator code: 0105\n--L\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\n--L--\n";
    let signed = sign(leadsie, "s1", "leadsie.com", with_logo);
    let c = classifier(Some(vec!["agency.com".into()]));
    let (k, why) = kind(&verdict(&c, &dns, &signed).await);
    assert_eq!(k, MessageKind::LeadsieGrant, "{why}");
    let tampered = signed.replace("60e6kgAAAABJRU5ErkJggg==", "60e6kgAAAABJRU5ErkJggA==");
    assert_ne!(tampered, signed);
    assert_eq!(
        kind(&verdict(&c, &dns, &tampered).await).0,
        MessageKind::Rejected,
        "a changed attachment must break the signature"
    );
    let forward = format!(
        "From: Ann <ann@agency.com>\r\nTo: collabd@agency.com\r\nSubject: Fwd: access\r\nDate: Mon, 02 Nov 2026 10:05:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\nContent-Type: application/pdf; name=notes.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n{signed}\r\n--b--\r\n"
    );
    let (k, why) = kind(&verdict(&c, &dns, &forward).await);
    assert_eq!(k, MessageKind::LeadsieGrant, "{why}");
}

/// A mailbox provider on the test's DNS: what it records on receipt, as
/// the first ARC sealer does, is what mail-auth itself verifies.
fn provider(dns: &Dns) -> MessageAuthenticator {
    let mut ns = NameServerConfig::udp_and_tcp(dns.addr.ip());
    for c in &mut ns.connections {
        c.port = dns.addr.port();
    }
    MessageAuthenticator::new(
        ResolverConfig::from_name_servers(vec![ns]),
        ResolverOpts::default(),
    )
    .unwrap()
}

/// `received` after `provider` (authserv-id `mx.google.example`) got it:
/// verified as it arrived, changed as forwarders do (`change`), then
/// ARC-sealed by `sealer` with what it recorded on receipt.
async fn sealed(
    provider: &MessageAuthenticator,
    received: &str,
    change: impl Fn(&str) -> String,
    sealer: (&Key, &str),
) -> String {
    let incoming = AuthenticatedMessage::parse(received.as_bytes()).unwrap();
    let dkim = provider.verify_dkim(&incoming).await;
    let results =
        AuthenticationResults::new("mx.google.example").with_dkim_results(&dkim, "leadsie.com");
    let changed = change(received);
    let outgoing = AuthenticatedMessage::parse(changed.as_bytes()).unwrap();
    let chain = provider.verify_arc(&outgoing).await;
    let key = Ed25519Key::from_pkcs8_der(&sealer.0.der).unwrap();
    let set = ArcSealer::from_key(key)
        .domain(sealer.1)
        .selector("arc")
        .headers(["From", "Subject", "Date", "Resent-From"])
        .seal(&outgoing, &results, &chain)
        .unwrap();
    format!("{}{changed}", set.to_header())
}

/// A server-side auto-forward as a mailbox provider sends it: it says who
/// forwarded and adds a footer, which breaks Leadsie's body hash.
fn auto_forward(m: &str) -> String {
    format!("Resent-From: ann@agency.example\r\n{m}-- \r\nForwarded by the agency's mail\r\n")
}

/// The receiving server's own record, as it arrives on top.
fn received_by(ar: &str, m: &str) -> String {
    format!("Authentication-Results: mx.agency.example; {ar}\r\n{m}")
}

fn sealers(require: Require, arc_sealers: &[&str]) -> Classifier {
    policy(TrustPolicy {
        require,
        authserv_id: Some("mx.agency.example".into()),
        arc_sealers: arc_sealers.iter().map(|s| s.to_string()).collect(),
        ..TrustPolicy::default()
    })
}

/// How collabd judges `raw` under `require`, with `listed` as
/// `[trust] arc_sealers`.
async fn under(dns: &Dns, require: Require, listed: &[&str], raw: &str) -> (MessageKind, String) {
    kind(&verdict(&sealers(require, listed), dns, raw).await)
}

const BROKE: &str = "dkim=fail header.i=@leadsie.com; dmarc=fail header.from=leadsie.com; arc=pass";

/// RFC 8617 as large receivers apply it: an auto-forward that broke
/// Leadsie's signature arrives with the receiving server's dkim=fail and a
/// valid ARC chain whose first sealer recorded dkim=pass. With that sealer
/// in `[trust] arc_sealers` the failure is what ARC vouches for; with any
/// part of that missing, it still rejects, and says which part.
#[tokio::test]
async fn an_arc_seal_by_a_trusted_sealer_vouches_for_the_signature_a_forward_broke() {
    let dns = Dns::start().await;
    let leadsie = key();
    publish(&dns, &leadsie, "s1", "leadsie.com");
    let google = key();
    publish(&dns, &google, "arc", "google.example");
    let relay = key();
    publish(&dns, &relay, "arc", "relay.example");
    let mx = provider(&dns);
    let signed = sign(leadsie, "s1", "leadsie.com", LEADSIE);
    let forwarded = sealed(&mx, &signed, auto_forward, (&google, "google.example")).await;
    let arrived = received_by(BROKE, &forwarded);

    // Vouched: accepted under every `require`.
    for require in [Require::Dkim, Require::Dmarc, Require::None] {
        let (k, why) = under(&dns, require, &["google.example"], &arrived).await;
        assert_eq!(k, MessageKind::LeadsieGrant, "require={require:?}: {why}");
    }
    // Comments, folding and quoted values in the receiving server's header.
    let commented = received_by(
        "dkim (a footer was added) =\r\n\tfail header . i = \"@leadsie.com\" (s1);\r\n dmarc = fail (p=reject) header.from=\"leadsie.com\"; arc=pass (i=1 google.example)",
        &forwarded,
    );
    let (k, why) = under(&dns, Require::None, &["google.example"], &commented).await;
    assert_eq!(k, MessageKind::LeadsieGrant, "{why}");
    // An auto-forward that dropped its Resent-From is direct mail with ARC
    // sets: vouched alike.
    let google2 = key();
    publish(&dns, &google2, "arc", "mail.google.example");
    let plain_forward = |m: &str| format!("{m}-- \r\nForwarded by the agency's mail\r\n");
    let direct = received_by(
        BROKE,
        &sealed(
            &mx,
            &sign(key_published(&dns, "s9"), "s9", "leadsie.com", LEADSIE),
            plain_forward,
            (&google2, "mail.google.example"),
        )
        .await,
    );
    let (k, why) = under(&dns, Require::None, &["google.example"], &direct).await;
    assert_eq!(k, MessageKind::LeadsieGrant, "{why}");

    // The sealer not listed: rejected, naming the sealer and the setting.
    for listed in [&[][..], &["other.example"][..]] {
        let (k, why) = under(&dns, Require::None, listed, &arrived).await;
        assert_eq!(k, MessageKind::Rejected, "{why}");
        assert!(
            why.contains("mx.agency.example recorded dkim=fail for leadsie.com"),
            "{why}"
        );
        assert!(why.contains("ARC-sealed by google.example"), "{why}");
        assert!(why.contains("[trust] arc_sealers"), "{why}");
    }
    // Under require = "dkim" without the receiving server's record, the
    // reason names the broken body and the unlisted sealer.
    let (k, why) = under(&dns, Require::Dkim, &[], &forwarded).await;
    assert_eq!(k, MessageKind::Rejected, "{why}");
    assert!(
        why.contains("the body was changed after it was signed"),
        "{why}"
    );
    assert!(
        why.contains("ARC-sealed by google.example, which is not listed in [trust] arc_sealers"),
        "{why}"
    );

    // A second sealer not listed could have changed the message after the
    // trusted one: the chain is not believed.
    let resealed = {
        let incoming = AuthenticatedMessage::parse(forwarded.as_bytes()).unwrap();
        let chain = mx.verify_arc(&incoming).await;
        let results = AuthenticationResults::new("mx.relay.example");
        let key = Ed25519Key::from_pkcs8_der(&relay.der).unwrap();
        let set = ArcSealer::from_key(key)
            .domain("relay.example")
            .selector("arc")
            .headers(["From", "Subject", "Date"])
            .seal(&incoming, &results, &chain)
            .unwrap();
        format!("{}{forwarded}", set.to_header())
    };
    let (k, why) = under(
        &dns,
        Require::None,
        &["google.example"],
        &received_by(BROKE, &resealed),
    )
    .await;
    assert_eq!(k, MessageKind::Rejected, "{why}");
    assert!(why.contains("ARC-sealed by relay.example"), "{why}");
    // With the relay listed too, the chain is believed.
    let (k, why) = under(
        &dns,
        Require::None,
        &["google.example", "relay.example"],
        &received_by(BROKE, &resealed),
    )
    .await;
    assert_eq!(k, MessageKind::LeadsieGrant, "{why}");

    // Changed after sealing: the chain does not verify.
    let tampered = arrived.replace("0105", "6666");
    let (k, why) = under(&dns, Require::None, &["google.example"], &tampered).await;
    assert_eq!(k, MessageKind::Rejected, "{why}");
    assert!(why.contains("is not valid"), "{why}");

    // A failure for another domain, or an arc=fail, is nothing ARC
    // explains.
    for ar in [
        "dkim=fail header.d=agency.example; arc=pass",
        "dkim=fail header.i=@leadsie.com; arc=fail",
    ] {
        let (k, why) = under(
            &dns,
            Require::None,
            &["google.example", "agency.example"],
            &received_by(ar, &forwarded),
        )
        .await;
        assert_eq!(k, MessageKind::Rejected, "{ar}: {why}");
    }
}

/// The first sealer must have seen Leadsie's signature pass: a message
/// that reached it already broken (or never signed) is not vouched for,
/// however valid the seal.
#[tokio::test]
async fn an_arc_seal_vouches_only_for_what_its_first_sealer_saw_pass() {
    let dns = Dns::start().await;
    let leadsie = key();
    publish(&dns, &leadsie, "s1", "leadsie.com");
    let google = key();
    publish(&dns, &google, "arc", "google.example");
    let mx = provider(&dns);
    let broken_on_arrival = sign(leadsie, "s1", "leadsie.com", LEADSIE).replace("0105", "6666");
    let forwarded = sealed(
        &mx,
        &broken_on_arrival,
        auto_forward,
        (&google, "google.example"),
    )
    .await;
    assert!(
        forwarded.contains("dkim=neutral") || forwarded.contains("dkim=fail"),
        "the first sealer recorded the broken signature"
    );
    for require in [Require::None, Require::Dkim] {
        let (k, why) = under(
            &dns,
            require,
            &["google.example"],
            &received_by(BROKE, &forwarded),
        )
        .await;
        assert_eq!(k, MessageKind::Rejected, "{why}");
        assert!(why.contains("first results (i=1"), "{why}");
    }
}

/// The finding: `dmarc = fail` with spaces around `=` was not read as a
/// failure, and `require = "none"` granted. On mail no ARC chain could
/// explain it rejects, with comments, quotes or a missing `;`.
#[tokio::test]
async fn a_dmarc_failure_written_with_spaces_rejects_under_require_none() {
    let dns = Dns::start().await;
    let leadsie = LEADSIE.replace('\n', "\r\n");
    for ar in [
        "dmarc = fail header.from=leadsie.com",
        "dmarc (checked) = (result) fail header.from = \"leadsie.com\"",
        "spf=pass smtp.mailfrom=leadsie.com dmarc=fail header.from=leadsie.com",
    ] {
        let raw = received_by(ar, &leadsie);
        let (k, why) = under(&dns, Require::None, &["google.example"], &raw).await;
        assert_eq!(k, MessageKind::Rejected, "{ar}: {why}");
        assert!(
            why.contains("mx.agency.example recorded dmarc=fail for leadsie.com"),
            "{why}"
        );
    }
    // Without a failure, the same message is a grant under "none".
    let raw = received_by("dmarc=pass header.from=leadsie.com", &leadsie);
    let (k, why) = under(&dns, Require::None, &["google.example"], &raw).await;
    assert_eq!(k, MessageKind::LeadsieGrant, "{why}");
}

fn key_published(dns: &Dns, selector: &str) -> Key {
    let k = key();
    publish(dns, &k, selector, "leadsie.com");
    k
}
