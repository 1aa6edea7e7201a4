//! The [`Classifier`]: one message's bytes judged under one trust policy
//! and set of outcome rules — who sent it, whether to believe them, and
//! what it says.

use mail_parser::{HeaderName, MessageParser, PartType};

use super::auth::{self, Require};
use super::classification::{Classification, DkimCheck, DkimVerdict, MAX_GRANTS, MessageMeta};
use super::domain::aligned;
use super::forward::{self, Route};
use super::message::{
    ambiguous_header_block, header_senders, lean_parser, lf_to_crlf, meta_of, too_deep,
};
use super::outcome::OutcomeRules;
use super::sender::Sender;
use super::text::{self, contains_ic};
use super::trust::TrustPolicy;
use super::{grant, mime, outcome, veto};
use crate::model::MessageKind;

/// Why ordinary mail is ignored.
const NOT_FROM_US: &str = "not from Leadsie or Shopify";

/// Classifies messages under one trust policy and set of outcome rules.
#[derive(Debug, Clone)]
pub struct Classifier {
    parser: MessageParser,
    trust: TrustPolicy,
    outcomes: OutcomeRules,
    /// The words without which a message cannot be a grant, an outcome or
    /// a spoof of either: see [`Classifier::unrelated`].
    words: text::Words,
}

impl Classifier {
    pub fn new(trust: TrustPolicy, outcomes: OutcomeRules) -> Classifier {
        let words = ["leadsie", "shopify", "collaborator"]
            .iter()
            .map(|w| w.to_string())
            .chain(trust.leadsie_domains.iter().cloned())
            .chain(trust.shopify_domains.iter().cloned());
        Classifier {
            parser: lean_parser(),
            words: text::Words::new(words),
            trust,
            outcomes,
        }
    }

    /// The classifier with the default trust policy and built-in patterns.
    pub fn with_defaults() -> Classifier {
        Classifier::new(
            TrustPolicy::default(),
            OutcomeRules::new(&[]).expect("built-in patterns compile"),
        )
    }

    /// The built-in patterns under a policy that needs no signature
    /// (`require = "none"`): for mail written by hand, as in the demo and
    /// tests, where no DKIM key exists to check.
    pub fn identity_only() -> Classifier {
        Classifier::new(
            TrustPolicy {
                require: Require::None,
                ..TrustPolicy::default()
            },
            OutcomeRules::new(&[]).expect("built-in patterns compile"),
        )
    }

    /// The header fields [`Classifier::is_candidate`] reads: what an IMAP
    /// client fetches before deciding to download a body.
    pub const CANDIDATE_HEADERS: &'static str = "FROM SENDER RESENT-FROM X-FORWARDED-FOR SUBJECT";

    /// Whether a message is worth downloading, judged from its header block
    /// alone (the [`Classifier::CANDIDATE_HEADERS`]). True for a trusted
    /// Leadsie or Shopify sender, an allowed forwarder (any sender when no
    /// forwarder list is set), and anything that names Leadsie or Shopify in
    /// a sender or the subject, so spoofs are downloaded and rejected with a
    /// reason rather than skipped. When in doubt (headers that do not parse)
    /// it says yes: skipping a grant would lose it.
    pub fn is_candidate(&self, header: &[u8]) -> bool {
        if self.trust.forwarders.is_none() {
            return true;
        }
        match self.parser.parse_headers(header) {
            Some(msg) => self.candidate(&msg),
            None => true,
        }
    }

    /// [`Classifier::is_candidate`] on headers already parsed.
    fn candidate(&self, msg: &mail_parser::Message<'_>) -> bool {
        let senders = header_senders(msg);
        if senders.is_empty() {
            return true;
        }
        let names_platform = |t: &str| contains_ic(t, "leadsie") || contains_ic(t, "shopify");
        senders.iter().any(|s| {
            self.trust.is_leadsie(s)
                || self.trust.is_shopify(s)
                || self.trust.forwarder_allowed(s)
                || self.trust.forwarder_colleague(s)
                || names_platform(&s.address)
                || s.name.as_deref().is_some_and(names_platform)
        }) || msg.subject().is_some_and(names_platform)
    }

    /// Whether nothing in a message could make it a grant, an outcome, or a
    /// spoof of either worth recording: no attached message, no sender on
    /// a trusted domain, and neither "Leadsie", "Shopify", "collaborator"
    /// nor a trusted domain in its senders, subject or any text part. Such
    /// a message (most of a mailbox) is ignored without the line-by-line
    /// reading a forward needs. The search is over decoded parts, HTML
    /// before its entities are decoded, in the casings mail uses
    /// ([`text::Words`]). A grant always names its `*.myshopify.com` store,
    /// which any ordinary casing spells with "shopify", "Shopify" or
    /// "SHOPIFY"; what the search cannot see (a word hidden in entities or
    /// odd casing) is ignored, never acted on, so a spoof so written is
    /// ignored rather than rejected with a reason.
    fn unrelated(&self, msg: &mail_parser::Message<'_>) -> bool {
        let mut texts = Vec::with_capacity(msg.parts.len());
        for part in &msg.parts {
            match &part.body {
                PartType::Message(_) => return false,
                PartType::Text(t) | PartType::Html(t) => texts.push(t.as_ref()),
                _ => {}
            }
        }
        let senders = header_senders(msg);
        if senders
            .iter()
            .any(|s| self.trust.is_leadsie(s) || self.trust.is_shopify(s))
        {
            return false;
        }
        let names = senders
            .iter()
            .flat_map(|s| [Some(s.address.as_str()), s.name.as_deref()])
            .flatten();
        !names
            .chain(msg.subject())
            .chain(texts)
            .any(|t| self.words.in_text(t))
    }

    /// The header-first decision every path shares (the watcher before it
    /// downloads a body, `parse` and `ingest` before a full parse): with
    /// `[trust] forwarders` set, a message whose headers rule it out is
    /// ignored without reading its body, so its attachments are never
    /// decoded. `None` means the whole message must be read.
    fn ruled_out_by_headers(&self, raw: &[u8]) -> Option<Classification> {
        self.trust.forwarders.as_ref()?;
        let head = self.parser.parse_headers(raw)?;
        if self.candidate(&head) {
            return None;
        }
        let meta = meta_of(&head);
        Some(
            Classification::new(
                MessageKind::Ignored,
                format!(
                    "judged from the headers: not from Leadsie or Shopify, and the sender {} is not listed in [trust] forwarders (add it there if it forwards Leadsie mail to this mailbox)",
                    meta.from.as_deref().unwrap_or("(none)")
                ),
                meta,
            )
            .into_unrelated(),
        )
    }

    /// Whether [`Classifier::judge_head`] can ever decide: only with
    /// `[trust] forwarders` set is mail ruled out by its headers.
    pub fn reads_headers_first(&self) -> bool {
        self.trust.forwarders.is_some()
    }

    /// The verdict [`Classifier::classify`] gives the whole message, from
    /// its first bytes alone, when those hold the whole header block (up to
    /// and including the blank line that ends it) and the headers rule the
    /// message out. `None` means the rest must be read: the header block
    /// goes on past `head`, or the headers do not decide. `collabd parse`
    /// reads a long file's first kilobytes this way, and the rest only when
    /// asked.
    pub fn judge_head(&self, head: &[u8]) -> Option<Classification> {
        if !self.reads_headers_first() {
            return None;
        }
        let end = mime::body_start(head)?;
        self.ruled_out_by_headers(&head[..end])
    }

    /// Whether `head` holds a whole header block (up to and including the
    /// blank line that ends it): when it does and [`Classifier::judge_head`]
    /// still cannot decide, reading further into the file cannot help.
    pub fn holds_header_block(head: &[u8]) -> bool {
        mime::body_start(head).is_some()
    }

    /// Classifies one raw message. Never panics on input: anything that is
    /// not a readable email comes back `unparseable` with a reason.
    pub fn classify(&self, raw: &[u8]) -> Classification {
        if let Some(c) = self.ruled_out_by_headers(raw) {
            return c;
        }
        if let Some(why) = too_deep(raw) {
            return Classification::new(
                MessageKind::Unparseable,
                format!("too complex to read: {why}"),
                MessageMeta::default(),
            );
        }
        // Mail saved by a Unix tool or handed over by a pipe often has LF
        // line ends throughout: make them CRLF, so that the DKIM verifier
        // and the MIME parser read the same bytes. Mixed line ends stay as
        // they are, and a signed message with them is refused below.
        let crlf;
        let raw = if memchr::memchr(b'\r', raw).is_none() && memchr::memchr(b'\n', raw).is_some() {
            crlf = lf_to_crlf(raw);
            crlf.as_slice()
        } else {
            raw
        };
        // Attachments that cannot hold a grant are never decoded: the parser
        // reads a copy without their bodies (attached messages stay whole).
        let reading = mime::without_binary_leaves(raw);
        let Some(msg) = self.parser.parse(reading.as_deref().unwrap_or(raw)) else {
            return Classification::new(
                MessageKind::Unparseable,
                "not an email: no header lines were found",
                MessageMeta::default(),
            );
        };
        let email_like = msg.headers().iter().any(|h| {
            matches!(
                h.name,
                HeaderName::From
                    | HeaderName::Sender
                    | HeaderName::To
                    | HeaderName::Subject
                    | HeaderName::Date
                    | HeaderName::MessageId
                    | HeaderName::Received
                    | HeaderName::ResentFrom
            )
        });
        if !email_like {
            return Classification::new(
                MessageKind::Unparseable,
                "not an email: no header lines were found",
                MessageMeta::default(),
            );
        }
        if self.unrelated(&msg) {
            return Classification::new(MessageKind::Ignored, NOT_FROM_US, meta_of(&msg))
                .into_unrelated();
        }
        let trusted = |s: &Sender| self.trust.is_leadsie(s) || self.trust.is_shopify(s);
        let unwrapped = forward::unwrap(&msg, &trusted);
        let mut meta = meta_of(&msg);
        if let Some(problem) = &unwrapped.identity_problem {
            return Classification::new(
                MessageKind::Rejected,
                format!(
                    "{problem}; a message whose senders cannot all be established is never trusted"
                ),
                meta,
            );
        }
        let Some(original) = unwrapped.original.clone() else {
            return Classification::new(
                MessageKind::Rejected,
                "no sender could be established; such a message is never trusted",
                meta,
            );
        };
        if !unwrapped.forwarders.is_empty() {
            meta.original_from = Some(original.address.clone());
        }
        let leadsie = self.trust.is_leadsie(&original);
        let shopify = self.trust.is_shopify(&original);
        let mut c = if leadsie {
            self.leadsie(&unwrapped, meta)
        } else if shopify {
            self.shopify(&unwrapped, meta)
        } else {
            return self.untrusted(&original, &unwrapped, meta);
        };
        if !c.acts() {
            return c;
        }
        if unwrapped.route == Route::Inline && self.trust.forwarders.is_none() {
            let by = unwrapped
                .forwarders
                .last()
                .map_or("(nobody)", |f| f.address.as_str());
            return c.reject(format!(
                "an inline forward (typed into {by}'s message) is believed only from a forwarder listed in [trust] forwarders, and none is listed; list the addresses or domains that forward Leadsie mail to this mailbox"
            ));
        }
        if let Some(f) = unwrapped
            .forwarders
            .iter()
            .find(|f| !self.trust.forwarder_allowed(f))
        {
            return c.reject(format!(
                "forwarded by {}, which is not listed in [trust] forwarders; add it there if it is yours",
                f.address
            ));
        }
        let mut domains: Vec<&str> = unwrapped.forwarders.iter().map(Sender::domain).collect();
        domains.push(original.domain());
        // ARC may vouch for a server-side auto-forward, or direct mail that
        // is one without its Resent- or X-Forwarded- headers, when sealed.
        let arc = matches!(unwrapped.route, Route::AutoForward | Route::Direct)
            && auth::has_arc_sets(&msg);
        let vouch_needed =
            match auth::reported_failures(&unwrapped.chain, &domains, original.domain(), arc) {
                Ok(v) => v,
                Err(failure) => return c.reject(failure),
            };
        let (Some(signed), Some(signer)) = (unwrapped.signed, unwrapped.signer.as_ref()) else {
            return c.reject("no message in the chain has a sender who could vouch for it".into());
        };
        match self.trust.require {
            Require::None | Require::Dkim => {}
            Require::Dmarc => {
                // DMARC is about the outer From, which an auto-forward
                // keeps: the original sender's.
                let outer = match unwrapped.route {
                    Route::AutoForward => original.domain(),
                    _ => unwrapped.forwarders.first().unwrap_or(&original).domain(),
                };
                let id = self.trust.authserv_id.as_deref().unwrap_or("");
                // A dmarc=fail left for ARC is the pass ARC must restore.
                let vouched = vouch_needed.iter().any(|f| {
                    f.authserv_id == id
                        && !f.arc
                        && f.result.as_ref().is_some_and(|r| r.method == "dmarc")
                        && aligned(&f.about, outer)
                });
                if id.is_empty() || !(vouched || auth::trusted_pass(&msg, id, "dmarc", outer)) {
                    return c.reject(format!(
                        "[trust] require = \"dmarc\", but the receiving server ({}) recorded no dmarc=pass for {outer}",
                        if id.is_empty() { "no authserv_id set" } else { id }
                    ));
                }
            }
        }
        let signature_needed = self.trust.require == Require::Dkim;
        if signature_needed || !vouch_needed.is_empty() {
            if let Some(why) = ambiguous_header_block(signed) {
                return c.reject(format!(
                    "the signed message's header block is malformed ({why}): a DKIM verifier and a mail reader could disagree on where its body starts"
                ));
            }
            c.dkim = Some(DkimCheck {
                domain: signer.domain().to_owned(),
                // The outer message's signature covers the bytes as
                // they arrived, not the reading copy.
                message: if std::ptr::eq(signed, &msg) {
                    raw.to_vec()
                } else {
                    signed.raw_message().to_vec()
                },
                arc,
                arc_sealers: self.trust.arc_sealers.clone(),
                route: unwrapped.route,
                signature_needed,
                vouch_needed,
            });
        }
        c
    }

    /// Applies what DKIM verification found to a classification that asked
    /// for it ([`Classification::dkim`]). A pass keeps the verdict; a failure
    /// rejects; a DNS failure comes back with its reason, so the caller
    /// keeps the message to judge again.
    pub fn settle(
        &self,
        mut c: Classification,
        v: DkimVerdict,
    ) -> (Classification, Option<String>) {
        let Some(check) = c.dkim.take() else {
            return (c, None);
        };
        match v {
            DkimVerdict::Pass(_) => (c, None),
            DkimVerdict::Unvouched(why) => (c.reject(why), None),
            DkimVerdict::Fail(why) => {
                let how = match check.route {
                    Route::Inline => "the forwarder's own message",
                    Route::Attached => "the attached original",
                    Route::AutoForward => "the auto-forwarded original",
                    Route::Direct => "the message",
                };
                let reason = format!(
                    "[trust] require = \"dkim\": {how} has no valid DKIM signature aligned with {} ({why})",
                    check.domain
                );
                (c.reject(reason), None)
            }
            DkimVerdict::TempError(why) => {
                c.dkim = Some(check);
                (c, Some(why))
            }
        }
    }

    fn shopify(&self, u: &forward::Unwrapped<'_>, meta: MessageMeta) -> Classification {
        if let Some(v) = veto::shopify(u) {
            return v.shopify(meta);
        }
        let subject = u.subject.as_str();
        let bulk = veto::bulk(u, &self.trust.shopify_domains);
        let mut reading = self.outcomes.read(subject, &u.text, bulk.as_deref());
        if reading == outcome::Reading::Silent
            && let Some(html) = u.html_alternative_text()
        {
            reading = self.outcomes.read(subject, &html, bulk.as_deref());
        }
        let other = "from Shopify, but not an answer to a collaborator request";
        match reading {
            outcome::Reading::Answer(outcome) => Classification {
                kind: outcome.result.kind(),
                grants: Vec::new(),
                outcome: Some(outcome),
                reason: None,
                meta,
                dkim: None,
                unrelated: false,
            },
            outcome::Reading::Refused(why) => {
                Classification::new(MessageKind::ShopifyOther, format!("{other}: {why}"), meta)
            }
            outcome::Reading::Silent => Classification::new(MessageKind::ShopifyOther, other, meta),
        }
    }

    fn leadsie(&self, u: &forward::Unwrapped<'_>, meta: MessageMeta) -> Classification {
        if let Some(v) = veto::leadsie(u, &self.trust.leadsie_domains) {
            return v.leadsie(u, meta);
        }
        // Both alternatives are read: a text part that is a stub ("view
        // this email in your browser") must not hide the HTML's content.
        // The one that names more stores with their codes wins; on a tie,
        // the text part.
        let mut ex = grant::extract(&u.subject, &u.text);
        if let Some(html) = u.html_alternative_text() {
            let from_html = grant::extract(&u.subject, &html);
            fn pairs(e: &grant::Extraction) -> Vec<(&str, &str)> {
                let mut v: Vec<(&str, &str)> = e
                    .grants
                    .iter()
                    .map(|g| (g.store.as_str(), g.code.expose()))
                    .collect();
                v.sort_unstable();
                v
            }
            // Two versions of one email that name different stores or codes:
            // which one the sender meant is not for collabd to guess.
            if !ex.grants.is_empty()
                && !from_html.grants.is_empty()
                && pairs(&ex) != pairs(&from_html)
            {
                return Classification::new(
                    MessageKind::Unparseable,
                    "Leadsie email: its text and HTML versions name different stores or codes",
                    meta,
                );
            }
            let better = from_html.grants.len() > ex.grants.len()
                || (ex.grants.is_empty()
                    && from_html.grants.is_empty()
                    && from_html.stores_seen > ex.stores_seen);
            if better {
                ex = from_html;
            }
        }
        if !ex.grants.is_empty() {
            if ex.grants.len() > MAX_GRANTS {
                let extra: Vec<&str> = ex.grants[MAX_GRANTS..]
                    .iter()
                    .map(|g| g.store.as_str())
                    .collect();
                let over = format!(
                    "it names {} stores, more than the {MAX_GRANTS} one email may queue; not queued: {}",
                    ex.grants.len(),
                    extra.join(", ")
                );
                ex.grants.truncate(MAX_GRANTS);
                ex.problem = Some(match ex.problem {
                    Some(p) => format!("{p}; {over}"),
                    None => over,
                });
            }
            // A partial grant keeps its problem as the reason, so the store
            // without a code shows under "needs a look".
            return Classification {
                kind: MessageKind::LeadsieGrant,
                grants: ex.grants,
                outcome: None,
                reason: ex.problem.map(|p| format!("Leadsie email: {p}")),
                meta,
                dkim: None,
                unrelated: false,
            };
        }
        if ex.failed_connection && ex.mentions_shopify {
            return Classification::new(
                MessageKind::Ignored,
                "Leadsie reports that the Shopify connection failed; no code to file",
                meta,
            );
        }
        if let Some(problem) = ex.problem {
            return Classification::new(
                MessageKind::Unparseable,
                format!("Leadsie email: {problem}"),
                meta,
            );
        }
        if ex.unusable_store && ex.code_seen {
            return Classification::new(
                MessageKind::Unparseable,
                "Leadsie email: a collaborator code is given, but the store beside it is not a <handle>.myshopify.com domain (a name, a placeholder or a number); find the store's permanent domain",
                meta,
            );
        }
        if ex.mentions_shopify && ex.stores_seen > 0 {
            return Classification::new(
                MessageKind::Unparseable,
                "Leadsie email names a Shopify store but no collaborator code could be read",
                meta,
            );
        }
        Classification::new(
            MessageKind::Ignored,
            "Leadsie email without a Shopify store to request",
            meta,
        )
    }

    fn untrusted(
        &self,
        sender: &Sender,
        u: &forward::Unwrapped<'_>,
        meta: MessageMeta,
    ) -> Classification {
        let name = sender.name.as_deref().unwrap_or("");
        let domain = sender.domain();
        let (subject, text) = (u.subject.as_str(), u.text.as_ref());
        let claims_leadsie = contains_ic(name, "leadsie")
            || domain.contains("leadsie")
            || contains_ic(subject, "leadsie");
        // Only mail that speaks of collaborator codes can be grant-shaped.
        let grant_shaped =
            contains_ic(text, "collaborator") && !grant::extract(subject, text).grants.is_empty();
        if claims_leadsie
            || grant_shaped
            || (contains_ic(text, "leadsie") && contains_ic(text, "collaborator"))
        {
            let how = if contains_ic(name, "leadsie") && !domain.contains("leadsie") {
                " (the display name says Leadsie, the address does not)"
            } else if domain.contains("leadsie") {
                " (a look-alike of a Leadsie domain)"
            } else {
                ""
            };
            return Classification::new(
                MessageKind::Rejected,
                format!(
                    "looks like a Leadsie grant, but the sender {} is not on a trusted Leadsie domain ({}){how}",
                    sender.address,
                    self.trust.leadsie_domains.join(", ")
                ),
                meta,
            );
        }
        let claims_shopify = contains_ic(name, "shopify") || domain.contains("shopify");
        if claims_shopify && self.outcomes.detect(subject, text).is_some() {
            return Classification::new(
                MessageKind::Rejected,
                format!(
                    "looks like a Shopify reply, but the sender {} is not on a trusted Shopify domain ({})",
                    sender.address,
                    self.trust.shopify_domains.join(", ")
                ),
                meta,
            );
        }
        Classification::new(MessageKind::Ignored, NOT_FROM_US, meta).into_unrelated()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarders_by_domain_or_address() {
        let t = TrustPolicy {
            forwarders: Some(vec!["agency.com".into(), "ops@other.org".into()]),
            ..TrustPolicy::default()
        };
        let s = |a| Sender::new(a, None).unwrap();
        assert!(t.forwarder_allowed(&s("a@agency.com")));
        assert!(t.forwarder_allowed(&s("a@mail.agency.com")));
        assert!(t.forwarder_allowed(&s("ops@other.org")));
        assert!(!t.forwarder_allowed(&s("eve@other.org")));
    }

    #[test]
    fn garbage_is_unparseable_not_a_panic() {
        let c = Classifier::with_defaults();
        assert_eq!(c.classify(b"").kind, MessageKind::Unparseable);
        assert_eq!(
            c.classify(&[0xff, 0xfe, 0x00, 0x01]).kind,
            MessageKind::Unparseable
        );
    }

    #[test]
    fn candidates_are_judged_from_headers() {
        let c = Classifier::new(
            TrustPolicy {
                forwarders: Some(vec!["agency.com".into()]),
                ..TrustPolicy::default()
            },
            OutcomeRules::new(&[]).unwrap(),
        );
        let h = |s: &str| s.replace('\n', "\r\n").into_bytes();
        assert!(c.is_candidate(&h(
            "From: Leadsie <notifications@leadsie.com>\nSubject: Acme granted access\n\n"
        )));
        assert!(c.is_candidate(&h("From: Shopify <mailer@shopify.com>\n\n")));
        assert!(c.is_candidate(&h("From: Ann <ann@agency.com>\nSubject: Fwd: hello\n\n")));
        // A colleague of a forwarder listed by address: refused with a reason.
        let by_address = Classifier::new(
            TrustPolicy {
                forwarders: Some(vec!["boss@agency.example".into()]),
                ..TrustPolicy::default()
            },
            OutcomeRules::new(&[]).unwrap(),
        );
        assert!(by_address.is_candidate(&h("From: ops@agency.example\nSubject: Fwd: x\n\n")));
        assert!(!by_address.is_candidate(&h("From: ops@other.example\nSubject: Fwd: x\n\n")));
        assert!(c.is_candidate(&h("From: x@leadsie.com\nResent-From: ann@agency.com\n\n")));
        // Spoofs are downloaded so they can be rejected with a reason.
        assert!(c.is_candidate(&h("From: Leadsie <support@leadsie-mail.example>\n\n")));
        assert!(c.is_candidate(&h(
            "From: eve@evil.example\nSubject: Your Shopify collaborator code\n\n"
        )));
        // Ordinary mail is not.
        assert!(!c.is_candidate(&h(
            "From: News <news@shop-news.example>\nSubject: Weekly digest\n\n"
        )));
        assert!(!c.is_candidate(&h(
            "From: bob@other.org\nX-Forwarded-For: eve@evil.example\n\n"
        )));
        // No sender to judge: download it rather than risk losing it.
        assert!(c.is_candidate(b"Subject: no from\r\n\r\n"));
        // Without a forwarder list, every message may be a forward.
        assert!(Classifier::with_defaults().is_candidate(&h("From: bob@other.org\n\n")));
    }

    #[test]
    fn mail_that_never_names_us_is_ignored_unread_and_spoofs_are_not() {
        let c = Classifier::identity_only();
        let kind = |raw: &str| c.classify(raw.replace('\n', "\r\n").as_bytes()).kind;
        // Ordinary mail, even with a forward block that names two people.
        assert_eq!(
            kind(
                "From: bob@other.org\nSubject: lunch\n\nFrom: a@x.example, b@y.example\nDate: today\nSubject: hi\n\nhello\n"
            ),
            MessageKind::Ignored
        );
        // A Leadsie display name hidden in an encoded word is still seen.
        assert_eq!(
            kind(
                "From: =?utf-8?b?TGVhZHNpZQ==?= <eve@evil.example>\nSubject: access\n\nStore: acme-co.myshopify.com\nCollaborator code: 0105\n"
            ),
            MessageKind::Rejected
        );
        // So are the words in a base64 HTML part, and an attached message.
        assert_eq!(
            kind(
                "From: eve@evil.example\nSubject: hi\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\nPHA+U3RvcmU6IGFjbWUtY28ubXlzaG9waWZ5LmNvbTxicj5Db2xsYWJvcmF0b3IgY29kZTogMDEwNTwvcD4=\n"
            ),
            MessageKind::Rejected,
            "the HTML says: <p>Store: acme-co.myshopify.com<br>Collaborator code: 0105</p>"
        );
        let attached = "From: bob@other.org\nSubject: fyi\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\nFrom: x@y.example\nSubject: hi\n\nhello\n--b--\n";
        assert_eq!(kind(attached), MessageKind::Ignored);
        assert!(!c.unrelated(&c.parser.parse(attached.as_bytes()).unwrap()));
    }

    #[test]
    fn headers_decide_before_the_body_is_read() {
        let with_forwarders = Classifier::new(
            TrustPolicy {
                forwarders: Some(vec!["agency.com".into()]),
                require: Require::None,
                ..TrustPolicy::default()
            },
            OutcomeRules::new(&[]).unwrap(),
        );
        // Grant-shaped text from a stranger: read in full, it is a spoof to
        // reject; with forwarders set its headers already rule it out.
        let raw = "From: bob@other.org\r\nSubject: hello\r\n\r\n\
            Store: https://acme-co.myshopify.com\r\nCollaborator code: 1234\r\n\
            Your Shopify collaborator request via Leadsie\r\n";
        let full = Classifier::identity_only().classify(raw.as_bytes());
        assert_eq!(full.kind, MessageKind::Rejected, "{:?}", full.reason);
        let early = with_forwarders.classify(raw.as_bytes());
        assert_eq!(early.kind, MessageKind::Ignored);
        assert!(
            early
                .reason
                .as_deref()
                .is_some_and(|r| r.starts_with("judged from the headers")),
            "{:?}",
            early.reason
        );
        assert_eq!(early.meta.from.as_deref(), Some("bob@other.org"));
        // A forward from an allowed address is still read in full.
        let fwd = raw.replace("bob@other.org", "ann@agency.com");
        let read = with_forwarders.classify(fwd.as_bytes());
        assert!(
            !read
                .reason
                .as_deref()
                .is_some_and(|r| r.starts_with("judged from the headers")),
            "{:?}",
            read.reason
        );
    }
}
