//! Every hop attributed, or nothing (issue 22, item 2): a chain whose middle
//! hop names no sender is rejected with the hop named, whichever language
//! the hop is written in; a chain whose every hop names a listed colleague
//! gives its grant; with `[trust] forwarders` unset no typed forward is
//! believed, while an attached original still is.

use collabd::mail::{Classifier, OutcomeRules, Require, TrustPolicy};
use collabd::model::MessageKind;

fn classifier(forwarders: Option<Vec<String>>) -> Classifier {
    Classifier::new(
        TrustPolicy {
            forwarders,
            require: Require::None,
            ..TrustPolicy::default()
        },
        OutcomeRules::new(&[]).unwrap(),
    )
}

fn listed() -> Classifier {
    classifier(Some(vec!["agency.com".into()]))
}

/// A middle hop's header block in one language: (language, from, date,
/// to, subject labels, a date as that language's clients write it).
const MIDDLE: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "en",
        "From",
        "Sent",
        "To",
        "Subject",
        "Monday, November 2, 2026 10:00 AM",
    ),
    (
        "de",
        "Von",
        "Gesendet",
        "An",
        "Betreff",
        "Montag, 2. November 2026 10:00",
    ),
    (
        "fr",
        "De",
        "Envoyé",
        "À",
        "Objet",
        "lundi 2 novembre 2026 10:00",
    ),
    (
        "sv",
        "Från",
        "Skickat",
        "Till",
        "Ämne",
        "den 2 november 2026 10:00",
    ),
    (
        "pl",
        "Od",
        "Wysłano",
        "Do",
        "Temat",
        "poniedziałek, 2 listopada 2026 10:00",
    ),
    (
        "tr",
        "Kimden",
        "Gönderildi",
        "Kime",
        "Konu",
        "2 Kasım 2026 Pazartesi 10:00",
    ),
    (
        "el",
        "Από",
        "Στάλθηκε",
        "Προς",
        "Θέμα",
        "Δευτέρα, 2 Νοεμβρίου 2026 10:00 π.μ.",
    ),
    (
        "he",
        "מאת",
        "נשלח",
        "אל",
        "נושא",
        "יום שני 2 נובמבר 2026 10:00",
    ),
    (
        "ar",
        "من",
        "تم الإرسال",
        "إلى",
        "الموضوع",
        "الاثنين، ٢ نوفمبر ٢٠٢٦ ١٠:٠٠ ص",
    ),
    (
        "ja",
        "差出人",
        "送信日時",
        "宛先",
        "件名",
        "2026年11月2日 10:00",
    ),
    (
        "ko",
        "보낸 사람",
        "보낸 날짜",
        "받는 사람",
        "제목",
        "2026년 11월 2일 월요일 오전 10:00",
    ),
    ("th", "จาก", "ส่ง", "ถึง", "เรื่อง", "2 พฤศจิกายน 2569 10:00"),
    (
        "vi",
        "Từ",
        "Đã gửi",
        "Đến",
        "Chủ đề",
        "Thứ Hai, 2 tháng 11, 2026 10:00",
    ),
    // Labels no list here knows (Welsh): the shape alone makes it a hop.
    (
        "cy",
        "Oddi wrth",
        "Anfonwyd",
        "At",
        "Pwnc",
        "Dydd Llun, 2 Tachwedd 2026 10:00",
    ),
];

const LEADSIE: &str = "________________________________\nFrom: Leadsie <notifications@leadsie.com>\nSent: Monday, November 2, 2026 9:00 AM\nTo: bo@agency.com\nSubject: Acme Co granted you access\n\nShopify\nStore URL: acme-co.myshopify.com\nCollaborator code: 0473\n";

/// ann@agency.com forwards bo's forward of Leadsie's mail; bo's hop is
/// written in `lang`, its sender given as `middle_from`.
fn chain(lang: &(&str, &str, &str, &str, &str, &str), middle_from: &str) -> Vec<u8> {
    let (_, from, date, to, subject, when) = lang;
    format!(
        "From: Ann <ann@agency.com>\r\nTo: access@agency.com\r\nSubject: Fwd: Acme Co granted you access\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease file.\r\n\r\n{from}: {middle_from}\r\n{date}: {when}\r\n{to}: ann@agency.com\r\n{subject}: Fwd: Acme Co granted you access\r\n\r\nSee below.\r\n\r\n{}",
        LEADSIE.replace('\n', "\r\n")
    )
    .into_bytes()
}

#[test]
fn a_middle_hop_that_names_no_sender_rejects_in_every_language() {
    let c = listed();
    for lang in MIDDLE {
        // The same chain with the middle hop's sender named is a grant:
        // the rejection below is for the missing sender, nothing else.
        let named = c.classify(&chain(lang, "Bo <bo@agency.com>"));
        assert_eq!(
            named.kind,
            MessageKind::LeadsieGrant,
            "{}: {:?}",
            lang.0,
            named.reason
        );
        for nobody in ["Bo", "Bo Berg (agency)", "\"Bo\""] {
            let got = c.classify(&chain(lang, nobody));
            assert_eq!(got.kind, MessageKind::Rejected, "{} {nobody}", lang.0);
            let reason = got.reason.unwrap_or_default();
            assert!(
                reason.contains("hop 2") && reason.contains("never trusted"),
                "{}: {reason}",
                lang.0
            );
        }
    }
}

#[test]
fn a_middle_hop_from_a_stranger_rejects_in_every_language() {
    let c = listed();
    for lang in MIDDLE {
        let got = c.classify(&chain(lang, "Eve <eve@evil.example>"));
        assert_eq!(got.kind, MessageKind::Rejected, "{}", lang.0);
        assert!(
            got.reason
                .as_deref()
                .unwrap_or("")
                .contains("eve@evil.example"),
            "{}: {:?}",
            lang.0,
            got.reason
        );
    }
}

#[test]
fn an_attribution_line_without_an_address_is_a_hop_without_a_sender() {
    let raw = format!(
        "From: Ann <ann@agency.com>\r\nSubject: Fwd: access\r\n\r\nPlease file.\r\n\r\nOn Mon, Nov 2, 2026 at 10:00 AM Bo wrote:\r\n\r\n> {}",
        LEADSIE.replace('\n', "\r\n> ")
    );
    let got = listed().classify(raw.as_bytes());
    assert_eq!(got.kind, MessageKind::Rejected, "{:?}", got.reason);
    assert!(got.reason.unwrap_or_default().contains("attribution line"));
}

#[test]
fn an_unreadable_hop_above_the_original_hides_its_sender() {
    // A Yahoo-style header run together, in a language whose date label is
    // unknown, so no block can be read from it: its sender line still shows.
    let raw = format!(
        "From: Ann <ann@agency.com>\r\nSubject: Fwd: access\r\n\r\nPlease file.\r\n\r\n----- Xyz ----- From: Eve <eve@evil.example>To: ann@agency.com Qwerty Subject: hi\r\n\r\n{}",
        LEADSIE.replace('\n', "\r\n")
    );
    let got = listed().classify(raw.as_bytes());
    assert_eq!(got.kind, MessageKind::Rejected, "{:?}", got.reason);
}

#[test]
fn without_forwarders_no_typed_forward_is_believed_but_an_attachment_is() {
    let open = classifier(None);
    let inline = chain(&MIDDLE[0], "Bo <bo@agency.com>");
    let got = open.classify(&inline);
    assert_eq!(got.kind, MessageKind::Rejected);
    assert!(
        got.reason
            .unwrap_or_default()
            .contains("[trust] forwarders")
    );
    let attached = "From: Eve <eve@gmail.example>\r\nSubject: Fwd: access\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: Leadsie <notifications@leadsie.com>\r\nSubject: Acme Co granted you access\r\n\r\nShopify\r\nStore URL: acme-co.myshopify.com\r\nCollaborator code: 0473\r\n--b--\r\n";
    let got = open.classify(attached.as_bytes());
    assert_eq!(got.kind, MessageKind::LeadsieGrant, "{:?}", got.reason);
}

#[test]
fn history_below_the_original_is_not_read_as_hops() {
    // New Outlook: the forwarded Leadsie mail, and under it the thread it
    // came with, whose oldest entry names nobody.
    let raw = "From: Ann <ann@agency.com>\r\nSubject: FW: access\r\n\r\nPlease file.\r\n\r\nFrom: Leadsie <notifications@leadsie.com>\r\nDate: Monday, 2 November 2026 at 09:00\r\nTo: ann@agency.com\r\nSubject: Acme Co granted you access\r\nShopify\r\nStore URL: acme-co.myshopify.com\r\nCollaborator code: 0473\r\n\r\nFrom: Valery\r\nDate: Friday, 30 October 2026 at 15:11\r\nTo: Ann <ann@agency.com>\r\nSubject: RE: hello\r\nOlder thread.\r\n";
    let got = listed().classify(raw.as_bytes());
    assert_eq!(got.kind, MessageKind::LeadsieGrant, "{:?}", got.reason);
    let pairs: Vec<(&str, &str)> = got
        .grants
        .iter()
        .map(|g| (g.store.as_str(), g.code.expose()))
        .collect();
    assert_eq!(pairs, vec![("acme-co.myshopify.com", "0473")]);
}
