//! Why mail from a trusted Leadsie or Shopify address is still no grant and
//! no answer: delivery and read reports, automatic replies, bulk and list
//! mail, test mail and sample data, examples in marketing, and notices that
//! a connection ended. Each is judged by the message's structure — which
//! header of which message in a forward's chain, which MIME type, where a
//! phrase stands in its sentence — with the words themselves in `lang`.
//! Decides nothing about what a grant or an answer says (`grant`,
//! `outcome.rs`); only whether one may be read at all.

use std::sync::LazyLock;

use mail_parser::{Message, MimeHeaders, PartType};

use super::classification::{Classification, MessageMeta};
use super::domain::domain_within;
use super::forward::{Route, Unwrapped};
use super::grant::{self, strip_reply_prefixes};
use super::lang;
use super::statement::{EXAMPLES, MAX_CANDIDATES, clause, states_a_fact};
use super::text::{PhraseSet, fold_case};
use crate::model::MessageKind;

/// What kind of mail a veto found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VetoKind {
    /// A delivery, read or feedback report, or a message from a mailer
    /// daemon: what it carries is returned, not forwarded.
    Report,
    /// An auto-reply anywhere in the chain, or automatic mail from the
    /// trusted sender itself.
    Automatic,
    /// List or bulk mail from the trusted sender.
    Bulk,
    /// A test mail or sample data.
    Test,
    /// Marketing that shows an example.
    MarketingExample,
    /// A connection removed, access revoked, a code no longer valid.
    AccessEnded,
}

/// Why a message from a trusted sender is not acted on, and what showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Veto {
    pub kind: VetoKind,
    /// The header, MIME type or phrase that showed it.
    pub detail: String,
}

impl Veto {
    fn new(kind: VetoKind, detail: impl Into<String>) -> Veto {
        Veto {
            kind,
            detail: detail.into(),
        }
    }

    /// The reason for the record: what the veto names, what showed it, and
    /// why such mail is never `never` ("a grant", "an answer").
    pub fn reason(&self, never: &str) -> String {
        let (what, why) = match self.kind {
            VetoKind::Report => (
                "a delivery or read report",
                format!("a returned original is never a forward, and a report is never {never}"),
            ),
            VetoKind::Automatic => (
                "automatic mail",
                format!("an auto-reply or other automatic message is never {never}"),
            ),
            VetoKind::Bulk => (
                "bulk mail",
                format!("a newsletter or list mail is never {never}"),
            ),
            VetoKind::Test => (
                "a test mail",
                format!("test mail and sample data are never {never}"),
            ),
            VetoKind::MarketingExample => (
                "marketing showing an example",
                format!("an example in a newsletter is never {never}"),
            ),
            VetoKind::AccessEnded => (
                "a notice that access ended",
                format!("a removed connection or a code no longer valid is never {never}"),
            ),
        };
        format!("{what} ({}); {why}", self.detail)
    }

    /// A vetoed Leadsie email: under "needs a look" when it looks like a
    /// grant (it names a store or a code), else ignored like any Leadsie
    /// email without a Shopify store.
    pub fn leadsie(self, u: &Unwrapped<'_>, meta: MessageMeta) -> Classification {
        let kind = if grant_shaped(u) {
            MessageKind::Unparseable
        } else {
            MessageKind::Ignored
        };
        Classification::new(
            kind,
            format!("Leadsie email: {}", self.reason("a grant")),
            meta,
        )
    }

    /// A vetoed Shopify email: never an answer to a request.
    pub fn shopify(self, meta: MessageMeta) -> Classification {
        Classification::new(
            MessageKind::ShopifyOther,
            format!(
                "from Shopify, but not an answer to a collaborator request: {}",
                self.reason("an answer")
            ),
            meta,
        )
    }
}

/// Why a message from a trusted Leadsie address is no grant, if it is not:
/// a report or an auto-reply anywhere in the chain; automatic, bulk or list
/// mail by the headers of the message Leadsie sent (never a forwarder's);
/// a test, sample data, an example in marketing, or a notice that access
/// ended, by what it says.
pub fn leadsie(u: &Unwrapped<'_>, own_domains: &[String]) -> Option<Veto> {
    if let Some(v) = report(u).or_else(|| automatic(u, true)) {
        return Some(v);
    }
    if let Some(why) = bulk(u, own_domains) {
        return Some(Veto::new(VetoKind::Bulk, why));
    }
    let subjects = subjects(u);
    if let Some(s) = subjects.iter().find(|s| test_subject(s)) {
        return Some(Veto::new(VetoKind::Test, format!("subject \"{s}\"")));
    }
    let mut text = String::with_capacity(u.text.len() + u.subject.len() + 1);
    // A blank line keeps the subject a sentence of its own.
    text.push_str(&u.subject);
    text.push_str("\n\n");
    text.push_str(&u.text);
    if let Some(html) = u.html_alternative_text() {
        text.push('\n');
        text.push_str(&html);
    }
    let folded = fold_case(&text);
    if let Some(f) = TEST_PHRASES.find_in(&folded).next() {
        return Some(Veto::new(VetoKind::Test, format!("\"{}\"", f.phrase)));
    }
    if let Some(ended) = access_ended(&text) {
        return Some(Veto::new(VetoKind::AccessEnded, format!("\"{ended}\"")));
    }
    marketing_example(&folded).map(|why| Veto::new(VetoKind::MarketingExample, why))
}

/// Why a message from a trusted Shopify address is no answer, beyond what
/// its text says ([`super::outcome`]): a report or an auto-reply anywhere
/// in the chain. (Shopify's own replies are automatic by nature; only an
/// auto-*reply* counts here.)
pub fn shopify(u: &Unwrapped<'_>) -> Option<Veto> {
    report(u).or_else(|| automatic(u, false))
}

/// The message whose headers the trusted sender wrote: the outer one for
/// direct mail and server auto-forwards, the attached original for a
/// forward as attachment; none for an inline forward, whose headers are
/// the forwarder's.
fn sender_message<'a>(u: &Unwrapped<'a>) -> Option<&'a Message<'a>> {
    match u.route {
        Route::Inline => None,
        Route::Direct | Route::AutoForward | Route::Attached => u.signed,
    }
}

/// Every value of the header fields called `name` (any case), as text.
fn header_values<'a>(msg: &'a Message<'a>, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    msg.headers()
        .iter()
        .filter(move |h| h.name().eq_ignore_ascii_case(name))
        .filter_map(|h| {
            h.value().as_text().or_else(|| {
                msg.raw_message
                    .get(h.offset_start as usize..h.offset_end as usize)
                    .and_then(|b| std::str::from_utf8(b).ok())
            })
        })
        .map(str::trim)
}

fn header<'a>(msg: &'a Message<'a>, name: &'a str) -> Option<&'a str> {
    header_values(msg, name).next()
}

/// A header value's first token, lower case: `auto-replied; x=1` →
/// `auto-replied`.
fn token(v: &str) -> String {
    v.split([';', ' ', '\t', '('])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Why the headers of the message the trusted sender wrote mark it as bulk
/// or list mail, if they do: `Precedence: bulk|list|junk`, a `List-Id`, or
/// a `List-Unsubscribe`. A discussion list that relays the message (a
/// Google Group the agency receives mail through) adds its own `List-Id`
/// and says it is a list (`List-Post`, `Mailing-list`, its host in the
/// `List-*` headers): then only what names the sender's own domains, and
/// `Precedence: bulk` or `junk`, counts. An inline forward's headers are
/// the forwarder's, so it has none to judge.
pub fn bulk(u: &Unwrapped<'_>, own_domains: &[String]) -> Option<String> {
    let msg = sender_message(u)?;
    let names = |v: &str, domains: &[&str]| {
        v.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
            .filter(|t| t.contains('.'))
            .any(|host| domains.iter().any(|d| domain_within(host, d)))
    };
    let own: Vec<&str> = own_domains.iter().map(String::as_str).collect();
    let names_own = |v: &str| names(v, &own);
    let list_ids: Vec<&str> = header_values(msg, "List-Id").collect();
    let relayed = list_ids.iter().any(|id| !names_own(id)) && {
        let list_headers = ["List-Id", "List-Unsubscribe", "List-Post", "List-Archive"];
        header(msg, "List-Post").is_some_and(|p| !p.eq_ignore_ascii_case("no"))
            || lang::LIST_RELAY_HEADERS
                .iter()
                .any(|h| header(msg, h).is_some())
            || list_headers
                .iter()
                .flat_map(|h| header_values(msg, h))
                .any(|v| names(v, lang::LIST_HOSTS))
    };
    if let Some(p) = header(msg, "Precedence") {
        let p = token(p);
        if p == "bulk" || p == "junk" || (p == "list" && !relayed) {
            return Some(format!("Precedence: {p}"));
        }
    }
    if let Some(id) = list_ids.iter().find(|id| !relayed || names_own(id)) {
        return Some(format!("List-Id: {id}"));
    }
    if header_values(msg, "List-Unsubscribe").any(|v| !relayed || names_own(v)) {
        return Some("a List-Unsubscribe header".into());
    }
    None
}

/// A report anywhere in the message: a `multipart/report` or a
/// delivery, read or feedback part at any depth, or a message from a
/// mailer daemon at any hop.
fn report(u: &Unwrapped<'_>) -> Option<Veto> {
    fn in_parts(msg: &Message<'_>, depth: usize) -> Option<String> {
        for part in &msg.parts {
            if let Some(ct) = part.content_type() {
                let (t, st) = (ct.ctype(), ct.subtype().unwrap_or(""));
                let report = (t.eq_ignore_ascii_case("multipart")
                    && st.eq_ignore_ascii_case("report"))
                    || (t.eq_ignore_ascii_case("message")
                        && lang::REPORT_TYPES
                            .iter()
                            .any(|r| st.eq_ignore_ascii_case(r)));
                if report {
                    return Some(format!("{t}/{st}").to_ascii_lowercase());
                }
            }
            if let PartType::Message(inner) = &part.body
                && depth < 32
                && let Some(found) = in_parts(inner, depth + 1)
            {
                return Some(found);
            }
        }
        None
    }
    if let Some(found) = u.chain.first().and_then(|m| in_parts(m, 0)) {
        return Some(Veto::new(VetoKind::Report, found));
    }
    u.chain.iter().find_map(|m| {
        let from = m.from()?.first()?.address()?;
        let local = from.rsplit_once('@')?.0;
        lang::REPORT_SENDERS
            .iter()
            .any(|r| local.eq_ignore_ascii_case(r))
            .then(|| Veto::new(VetoKind::Report, format!("sent by {from}")))
    })
}

/// Every subject the chain shows: each message's own, and the innermost
/// one an inline forward gives.
fn subjects<'a>(u: &'a Unwrapped<'a>) -> Vec<&'a str> {
    let mut out: Vec<&str> = u.chain.iter().filter_map(|m| m.subject()).collect();
    out.push(&u.subject);
    out
}

static AUTO_REPLY_SUBJECTS: LazyLock<PhraseSet> =
    LazyLock::new(|| PhraseSet::new([lang::AUTO_REPLY_SUBJECTS]));
static TEST_WORDS: LazyLock<PhraseSet> = LazyLock::new(|| PhraseSet::new([lang::TEST_WORDS]));
static TEST_PHRASES: LazyLock<PhraseSet> = LazyLock::new(|| PhraseSet::new([lang::TEST_PHRASES]));
static MARKETING_STRONG: LazyLock<PhraseSet> =
    LazyLock::new(|| PhraseSet::new([lang::MARKETING_STRONG]));
static MARKETING_WEAK: LazyLock<PhraseSet> =
    LazyLock::new(|| PhraseSet::new([lang::MARKETING_WEAK]));
static ENDED: LazyLock<PhraseSet> =
    LazyLock::new(|| PhraseSet::new([lang::ENDED_STATES, lang::ENDED_VERBS]));
static ACCESS_NOUNS: LazyLock<PhraseSet> = LazyLock::new(|| PhraseSet::new([lang::ACCESS_NOUNS]));

/// Each of this module's phrase tables, to be built now ([`super::warm_up`]).
pub(super) const TABLES: &[fn()] = tables![
    AUTO_REPLY_SUBJECTS,
    TEST_WORDS,
    TEST_PHRASES,
    MARKETING_STRONG,
    MARKETING_WEAK,
    ENDED,
    ACCESS_NOUNS
];

/// An auto-reply anywhere in the chain (`Auto-Submitted: auto-replied`,
/// `X-Autoreply`, `Precedence: auto_reply`, an out-of-office subject) and,
/// when `sender_too`, any automatic mail (`Auto-Submitted` other than `no`)
/// from the trusted sender itself. A server that forwards a message may
/// mark its forward `auto-forwarded`: that says nothing of the original.
fn automatic(u: &Unwrapped<'_>, sender_too: bool) -> Option<Veto> {
    for msg in &u.chain {
        if let Some(v) = header_values(msg, "Auto-Submitted").find(|v| token(v) == "auto-replied") {
            return Some(Veto::new(
                VetoKind::Automatic,
                format!("Auto-Submitted: {v}"),
            ));
        }
        for name in lang::AUTO_REPLY_HEADERS {
            if let Some(v) = header_values(msg, name)
                .find(|v| !matches!(token(v).as_str(), "no" | "false" | "0"))
            {
                let shown = msg
                    .headers()
                    .iter()
                    .find(|h| h.name().eq_ignore_ascii_case(name))
                    .map_or(*name, |h| h.name());
                return Some(Veto::new(VetoKind::Automatic, format!("{shown}: {v}")));
            }
        }
        if let Some(p) = header_values(msg, "Precedence")
            .find(|p| matches!(token(p).as_str(), "auto_reply" | "auto-reply"))
        {
            return Some(Veto::new(VetoKind::Automatic, format!("Precedence: {p}")));
        }
    }
    if let Some(s) = subjects(u).into_iter().find(|s| auto_reply_subject(s)) {
        return Some(Veto::new(VetoKind::Automatic, format!("subject \"{s}\"")));
    }
    if sender_too
        && let Some(msg) = sender_message(u)
        && let Some(v) = header(msg, "Auto-Submitted")
    {
        let t = token(v);
        if t != "no" && !t.starts_with("auto-forwarded") {
            return Some(Veto::new(
                VetoKind::Automatic,
                format!("Auto-Submitted: {v}"),
            ));
        }
    }
    None
}

/// A subject that opens by saying it is an automatic reply ("Automatic
/// reply: …", "Re: Abwesenheitsnotiz", "[Out of office] …"), after reply
/// prefixes and brackets: the same words later on may be a client's name,
/// and so may one word before anything but a colon, a bracket or a dash
/// ("Ausente Studio has granted you access").
fn auto_reply_subject(subject: &str) -> bool {
    let folded = fold_case(subject);
    let Some(f) = AUTO_REPLY_SUBJECTS.find_in(&folded).next() else {
        return false;
    };
    let opens = folded[..f.start].split(':').all(|part| {
        let part = part.trim_matches(|c: char| c.is_whitespace() || "[(".contains(c));
        part.len() <= 4 && part.chars().all(char::is_alphabetic)
    });
    let after = folded[f.end..].trim_start();
    let set_apart = after.is_empty() || after.starts_with([':', '：', ']', ')', '-', '–', '—']);
    opens && (set_apart || f.phrase.contains(' '))
}

/// A subject that says it is a test: a tag at its start holding a test
/// word ("[Test]", "(TEST EMAIL)"), or a test word opening it before a
/// colon or a dash ("Test: …", "TEST – …").
fn test_subject(subject: &str) -> bool {
    let s = strip_reply_prefixes(subject).trim();
    let close = match s.chars().next() {
        Some('[') => Some(']'),
        Some('(') => Some(')'),
        Some('【') => Some('】'),
        _ => None,
    };
    if let Some(close) = close {
        return s.find(close).is_some_and(|end| {
            let inside = &s[s.chars().next().map_or(1, char::len_utf8)..end];
            TEST_WORDS.first(inside).is_some()
        });
    }
    let folded = fold_case(s);
    TEST_WORDS.find_in(&folded).next().is_some_and(|f| {
        f.start == 0
            && folded[f.end..]
                .trim_start()
                .starts_with([':', '-', '–', '—', '|'])
    })
}

/// Marketing that shows an example: a newsletter word (or two weaker
/// signs) and an example word. Footers any sender has (an unsubscribe
/// link, "view in browser") are no sign here: Leadsie's own notices carry
/// them.
fn marketing_example(folded: &str) -> Option<String> {
    let example = EXAMPLES.find_in(folded).next()?;
    if let Some(m) = MARKETING_STRONG.find_in(folded).next() {
        return Some(format!("\"{}\", \"{}\"", m.phrase, example.phrase));
    }
    let mut weak: Vec<&str> = Vec::new();
    for m in MARKETING_WEAK.find_in(folded) {
        let is_example = lang::EXAMPLE_WORDS.contains(&m.phrase);
        if !is_example && !weak.contains(&m.phrase) {
            weak.push(m.phrase);
        }
        if weak.len() >= 2 {
            return Some(format!(
                "\"{}\", \"{}\", \"{}\"",
                weak[0], weak[1], example.phrase
            ));
        }
    }
    None
}

/// The first statement that a connection ended or a code no longer works,
/// outside another platform's section, made as a fact (not "if the client
/// disconnects, this code is no longer valid"): a word that says so by
/// itself ("disconnected", "no longer valid"), or a verb such as "revoked"
/// with what it ended ("access", "connection", "code") in its clause.
/// Returns that clause.
fn access_ended(text: &str) -> Option<String> {
    let shopify_part = grant::outside_other_platforms(text);
    for sentence in super::statement::sentences(&shopify_part, usize::MAX) {
        // A sentence is read as far as prose goes, and for its first few
        // candidates: each is judged against its whole sentence, so a
        // hostile run of them must not cost a square.
        let sentence = super::text::capped(&sentence, MAX_SENTENCE);
        let folded = fold_case(sentence);
        for f in ENDED.find_in(&folded).take(MAX_CANDIDATES) {
            let (start, end) = clause(&folded, f.start, f.end);
            let needs_noun = lang::ENDED_VERBS.contains(&f.phrase);
            if needs_noun && ACCESS_NOUNS.find_in(&folded[start..end]).next().is_none() {
                continue;
            }
            if states_a_fact(&folded, f.start, f.end, &[lang::MODAL_AUXILIARIES]) {
                let said = sentence[start..end].trim();
                return Some(super::text::capped(said, 120).to_owned());
            }
        }
    }
    None
}

/// How much of one sentence is read for a statement, in bytes.
const MAX_SENTENCE: usize = 2000;
/// Whether a Leadsie email reads like a grant at all: a store or a code in
/// its text or HTML, so a veto puts it under "needs a look" rather than
/// among ignored mail.
fn grant_shaped(u: &Unwrapped<'_>) -> bool {
    let shaped = |text: &str| {
        let ex = grant::extract(&u.subject, text);
        !ex.grants.is_empty() || ex.code_seen || ex.stores_seen > 0 || ex.unusable_store
    };
    shaped(&u.text) || u.html_alternative_text().is_some_and(|h| shaped(&h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(sentence: &str, phrase: &str, aux: &[&[&str]]) -> bool {
        let s = sentence.to_lowercase();
        let start = s.find(phrase).expect("phrase in sentence");
        states_a_fact(&s, start, start + phrase.len(), aux)
    }

    #[test]
    fn rules_and_conditions_are_not_facts() {
        let rule = &[lang::MODAL_AUXILIARIES, lang::PRESENT_AUXILIARIES][..];
        for (s, p) in [
            (
                "Collaborator access is removed automatically if nobody logs in for 90 days.",
                "removed",
            ),
            ("If you don't use it, access is removed.", "removed"),
            (
                "Your collaborator access may be revoked at any time.",
                "revoked",
            ),
            (
                "Unused collaborator accounts are removed after 90 days.",
                "removed",
            ),
            (
                "You no longer have access after 90 days without a login.",
                "no longer have access",
            ),
            ("Was your collaborator access removed?", "removed"),
            ("For example, Acme removed your access.", "removed"),
        ] {
            assert!(!fact(s, p, rule), "{s}");
        }
        for (s, p) in [
            ("Your collaborator access to Acme was removed.", "removed"),
            ("Acme removed you as a collaborator.", "removed"),
            (
                "Your collaborator access was removed automatically after 90 days without a login.",
                "removed",
            ),
            (
                "Your collaborator access was removed when the owner closed the store.",
                "removed",
            ),
            (
                "Acme revoked your collaborator access; if this is a mistake, ask the owner.",
                "revoked",
            ),
            (
                "You no longer have access to Acme.",
                "no longer have access",
            ),
        ] {
            assert!(fact(s, p, rule), "{s}");
        }
    }

    #[test]
    fn leadsie_notices_by_where_the_phrase_stands() {
        let modal = &[lang::MODAL_AUXILIARIES][..];
        assert!(fact(
            "This code is no longer valid.",
            "no longer valid",
            modal
        ));
        assert!(fact(
            "Acme has disconnected their store.",
            "disconnected",
            modal
        ));
        assert!(!fact(
            "If the client disconnects their store, this code is no longer valid.",
            "no longer valid",
            modal
        ));
        assert!(!fact(
            "Once a client has disconnected, nothing more is shared.",
            "disconnected",
            modal
        ));
        assert!(!fact(
            "Nach 7 Tagen ist der Code nicht mehr gültig, wenn er nicht genutzt wird.",
            "nicht mehr gültig",
            modal
        ));
    }

    fn judged(headers: &str, own: &str) -> Option<String> {
        let raw = format!("From: Sender <news@{own}>\r\nSubject: x\r\n{headers}\r\nhello\r\n");
        let msg = crate::mail::message::lean_parser()
            .parse(raw.as_bytes())
            .unwrap();
        let u = super::super::forward::unwrap(&msg, &|_| false);
        bulk(&u, &[own.to_owned()])
    }

    #[test]
    fn bulk_headers_of_the_message_the_sender_wrote() {
        for own in ["shopify.com", "leadsie.com"] {
            let bulk = |h: &str| judged(h, own);
            assert!(bulk("Precedence: bulk\r\n").is_some());
            assert!(bulk("Precedence: junk\r\n").is_some());
            assert!(bulk("Precedence: list\r\n").is_some());
            assert!(bulk("List-Unsubscribe: <https://email.example/u?x=1>\r\n").is_some());
            assert!(bulk(&format!("List-Id: News <news.{own}>\r\n")).is_some());
            // A mailing service's own List-Id is still the sender's list.
            assert!(
                bulk("List-Id: <mc1.list-id.mcsv.example>\r\nList-Unsubscribe: <https://x.example/u>\r\n")
                    .is_some()
            );
            // A Google Group relaying the sender's mail to the agency is not
            // bulk: it says it is a list, and its headers are its own.
            assert!(
                bulk(
                    "Precedence: list\r\nList-Id: <ops.agency.example>\r\nList-Unsubscribe: <mailto:googlegroups-manage+1+unsubscribe@googlegroups.com>\r\n"
                )
                .is_none()
            );
            assert!(
                bulk("Mailing-list: list ops@agency.example\r\nList-Id: <ops.agency.example>\r\nList-Unsubscribe: <https://lists.agency.example/u>\r\n")
                    .is_none()
            );
            assert!(bulk("List-Post: <mailto:ops@agency.example>\r\nList-Id: <ops.agency.example>\r\nPrecedence: list\r\n").is_none());
            // ...unless what it relays names the sender's own list.
            assert!(
                bulk(&format!("Mailing-list: list ops@agency.example\r\nList-Id: <ops.agency.example>\r\nList-Unsubscribe: <https://{own}/unsubscribe>\r\n"))
                    .is_some()
            );
            assert!(bulk("").is_none());
        }
    }

    #[test]
    fn notices_that_access_ended_in_many_words() {
        for t in [
            "Your access to Acme Co's Shopify store has been revoked.",
            "Acme Co removed Leadsie's connection to their store.",
            "The collaborator code 0105 expired.",
            "Acme Co has disconnected.",
            "Der Zugriff auf den Shop wurde entzogen.",
            "Votre accès à la boutique a été révoqué.",
            "La conexión con la tienda fue eliminada.",
            "Il codice non è più valido.",
            "A conexão com a loja foi removida.",
            "De toegang tot de winkel is ingetrokken.",
        ] {
            assert!(access_ended(t).is_some(), "{t}");
        }
        for t in [
            "If Acme Co disconnects their store, this code is no longer valid.",
            "Access can be revoked by the client at any time.",
            "Leadsie removed the old wording from this email.",
            "Codes expire after 7 days.",
            "Meta\nAd account: disconnected\n",
            "Wenn der Kunde die Verbindung trennt, ist der Code nicht mehr gültig.",
            "Was your access removed?",
        ] {
            assert_eq!(access_ended(t), None, "{t}");
        }
    }

    #[test]
    fn auto_reply_subjects_open_the_subject() {
        for s in [
            "Automatic reply: Acme Co has granted you access",
            "AW: Abwesenheitsnotiz: Acme Co has granted you access",
            "[Out of Office] Acme Co has granted you access",
            "Réponse automatique : Acme Co",
            "Out of office until Monday",
        ] {
            assert!(auto_reply_subject(s), "{s}");
        }
        for s in [
            "Ausente Studio has granted you access",
            "Acme Co has granted you access",
            "Re: Acme Co (out of office) has granted you access",
        ] {
            assert!(!auto_reply_subject(s), "{s}");
        }
    }

    #[test]
    fn test_subjects_by_shape() {
        for s in [
            "[Test] Acme has granted you access",
            "Fwd: [TEST EMAIL] Acme has granted you access",
            "(Prueba) Acme te ha dado acceso",
            "Test: Acme has granted you access",
            "TEST – Acme has granted you access",
            "【テスト】Acme",
        ] {
            assert!(test_subject(s), "{s}");
        }
        for s in [
            "Acme has granted you access",
            "Testing Co has granted you access",
            "[Acme] has granted you access",
            "Contest winners: Acme",
        ] {
            assert!(!test_subject(s), "{s}");
        }
    }

    #[test]
    fn marketing_needs_an_example_and_not_only_a_footer() {
        let m = |t: &str| marketing_example(&fold_case(t));
        assert!(m("Our newsletter: here's what a grant looks like").is_some());
        assert!(m("Introducing multi-store access. Learn more. For example: …").is_some());
        // A notice's footer is no marketing, and marketing without an
        // example is left to the other vetoes.
        assert!(m("Unsubscribe | View in browser. For example, …").is_none());
        assert!(m("Our newsletter is out").is_none());
        // A domain is no example.
        assert!(m("Newsletter for ops@agency.example").is_none());
    }
}
