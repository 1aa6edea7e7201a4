//! The words people's mail clients and Leadsie write, per language, as data.
//! Nothing here decides anything: a forward is recognised by its shape
//! (`forward.rs`), a code by its place beside a label (`grant.rs`,
//! `code_label.rs`), a veto by where its words stand (`veto.rs`). These
//! lists only tell roles apart (which header line names the sender, which
//! label is a code's, which sentence says access ended). To add a language,
//! add its words here and nowhere else; `tests/clients.rs` shows what a new
//! locale's forwards look like.

// ---------------------------------------------------------------------------
// Forward header labels
// ---------------------------------------------------------------------------

/// What a line of a forward's header block says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Who sent the forwarded message: the hop's sender.
    From,
    /// When it was sent.
    Date,
    /// Who received it (To, Cc, Bcc, Reply-To): never the sender.
    Recipient,
    Subject,
}

/// The labels of a forward's header block in one language, lower-case and
/// without their colon, as mail clients (Outlook desktop, web and Mac,
/// Gmail, Apple Mail, Thunderbird, Yahoo, and others) write them.
pub struct HeaderLabels {
    /// Names the row for a reader.
    pub language: &'static str,
    pub from: &'static [&'static str],
    pub date: &'static [&'static str],
    pub recipient: &'static [&'static str],
    pub subject: &'static [&'static str],
}

const fn labels(
    language: &'static str,
    from: &'static [&'static str],
    date: &'static [&'static str],
    recipient: &'static [&'static str],
    subject: &'static [&'static str],
) -> HeaderLabels {
    HeaderLabels {
        language,
        from,
        date,
        recipient,
        subject,
    }
}

pub const HEADER_LABELS: &[HeaderLabels] = &[
    labels(
        "English",
        &["from", "sender"],
        &["sent", "date", "sent on", "received"],
        &["to", "cc", "bcc", "reply-to", "reply to"],
        &["subject", "subj"],
    ),
    labels(
        "German",
        &["von", "absender"],
        &["gesendet", "datum", "gesendet am"],
        &[
            "an",
            "empfänger",
            "cc",
            "kopie",
            "bcc",
            "blindkopie",
            "antwort an",
        ],
        &["betreff"],
    ),
    labels(
        "French",
        &["de", "expéditeur", "envoyé par"],
        &["envoyé", "date", "envoyé le"],
        &["à", "a", "pour", "destinataire", "cc", "cci", "répondre à"],
        &["objet", "sujet"],
    ),
    labels(
        "Spanish",
        &["de", "remitente"],
        &["enviado", "fecha", "enviado el"],
        &["para", "destinatario", "cc", "cco", "responder a"],
        &["asunto"],
    ),
    labels(
        "Italian",
        &["da", "mittente"],
        &["inviato", "data", "inviato il"],
        &["a", "destinatario", "cc", "ccn", "rispondi a"],
        &["oggetto"],
    ),
    labels(
        "Portuguese",
        &["de", "remetente"],
        &["enviado", "enviada", "data", "enviado em", "enviada em"],
        &["para", "destinatário", "cc", "cco", "responder a"],
        &["assunto"],
    ),
    labels(
        "Catalan",
        &["de", "remitent"],
        &["enviat", "tramès", "data"],
        &["per a", "a", "destinatari", "a/c", "cc"],
        &["assumpte"],
    ),
    labels(
        "Dutch",
        &["van", "afzender"],
        &["verzonden", "datum", "verstuurd"],
        &["aan", "cc", "bcc", "antwoord aan"],
        &["onderwerp"],
    ),
    labels(
        "Danish",
        &["fra", "afsender"],
        &["sendt", "dato"],
        &["til", "cc", "bcc", "modtager"],
        &["emne"],
    ),
    labels(
        "Swedish",
        &["från", "avsändare"],
        &["skickat", "skickad", "datum"],
        &["till", "kopia", "mottagare", "cc", "hemlig kopia"],
        &["ämne", "rubrik"],
    ),
    labels(
        "Norwegian",
        &["fra", "avsender"],
        &["sendt", "dato"],
        &["til", "kopi", "mottaker", "cc"],
        &["emne"],
    ),
    labels(
        "Icelandic",
        &["frá", "sendandi"],
        &["sent", "dagsetning"],
        &["til", "afrit"],
        &["efni"],
    ),
    labels(
        "Finnish",
        &["lähettäjä", "keneltä"],
        &["lähetetty", "päivämäärä", "päiväys", "pvm"],
        &["vastaanottaja", "kenelle", "kopio", "piilokopio"],
        &["aihe"],
    ),
    labels(
        "Estonian",
        &["saatja", "kellelt"],
        &["saadetud", "kuupäev", "saatmisaeg"],
        &["adressaat", "saaja", "kellele", "koopia"],
        &["teema"],
    ),
    labels(
        "Latvian",
        &["no", "sūtītājs"],
        &["nosūtīts", "datums"],
        &["kam", "kopija"],
        &["tēma"],
    ),
    labels(
        "Lithuanian",
        &["nuo", "siuntėjas"],
        &["išsiųsta", "data"],
        &["kam", "kopija"],
        &["tema"],
    ),
    labels(
        "Polish",
        &["od", "nadawca"],
        &["wysłano", "wysłane", "data"],
        &["do", "adresat", "dw", "udw", "kopia"],
        &["temat"],
    ),
    labels(
        "Czech",
        &["od", "odesílatel"],
        &["odesláno", "datum"],
        &["komu", "kopie", "příjemce"],
        &["předmět"],
    ),
    labels(
        "Slovak",
        &["od", "odosielateľ"],
        &["odoslané", "dátum"],
        &["komu", "kópia", "príjemca"],
        &["predmet"],
    ),
    labels(
        "Hungarian",
        &["feladó", "küldő"],
        &["elküldve", "küldve", "dátum", "időpont"],
        &["címzett", "másolat", "másolatot kap"],
        &["tárgy"],
    ),
    labels(
        "Romanian",
        &["de la", "expeditor"],
        &["trimis", "data", "dată"],
        &["către", "catre", "pentru", "destinatar", "cc"],
        &["subiect"],
    ),
    labels(
        "Croatian",
        &["od", "šalje", "pošiljatelj"],
        &["poslano", "datum"],
        &["prima", "za", "kopija", "primatelj"],
        &["predmet", "tema"],
    ),
    labels(
        "Serbian",
        &["od", "пошиљалац", "од", "šalje", "pošiljalac"],
        &["poslato", "послато", "datum", "датум"],
        &["za", "за", "prima", "прима", "kopija", "копија"],
        &["predmet", "предмет", "tema", "тема"],
    ),
    labels(
        "Slovenian",
        &["od", "pošiljatelj"],
        &["poslano", "datum"],
        &["za", "prejemnik", "kp", "kopija"],
        &["zadeva"],
    ),
    labels(
        "Bulgarian",
        &["от", "подател"],
        &["изпратено", "дата"],
        &["до", "към", "получател", "копие"],
        &["относно", "тема"],
    ),
    labels(
        "Russian",
        &["от", "от кого", "отправитель"],
        &["отправлено", "дата", "отправлено в"],
        &["кому", "получатель", "копия"],
        &["тема"],
    ),
    labels(
        "Ukrainian",
        &["від", "від кого", "відправник"],
        &["надіслано", "відправлено", "дата"],
        &["кому", "одержувач", "отримувач", "копія"],
        &["тема"],
    ),
    labels(
        "Greek",
        &["από", "αποστολέας"],
        &["στάλθηκε", "ημερομηνία", "απεσταλμένο"],
        &["προς", "κοιν", "κοιν.", "παραλήπτης"],
        &["θέμα"],
    ),
    labels(
        "Turkish",
        &["kimden", "gönderen", "gönderici"],
        &[
            "gönderildi",
            "gönderilen",
            "gönderilme",
            "tarih",
            "gönderme tarihi",
        ],
        &["kime", "alıcı", "bilgi", "cc"],
        &["konu"],
    ),
    labels(
        "Hebrew",
        &["מאת", "שולח"],
        &["נשלח", "תאריך"],
        &["אל", "עותק", "נמען"],
        &["נושא"],
    ),
    labels(
        "Arabic",
        &["من", "المرسل"],
        &["تم الإرسال", "التاريخ", "أرسلت", "تاريخ الإرسال"],
        &["إلى", "الى", "نسخة", "نسخة إلى"],
        &["الموضوع"],
    ),
    labels(
        "Persian",
        &["از", "فرستنده"],
        &["ارسال شده", "تاریخ"],
        &["به", "گیرنده", "رونوشت"],
        &["موضوع"],
    ),
    labels(
        "Hindi",
        &["प्रेषक", "से"],
        &["भेजा गया", "दिनांक", "तारीख"],
        &["को", "प्राप्तकर्ता", "प्रति"],
        &["विषय"],
    ),
    labels(
        "Thai",
        &["จาก", "ผู้ส่ง"],
        &["ส่ง", "วันที่", "ส่งเมื่อ"],
        &["ถึง", "สำเนา", "ผู้รับ"],
        &["เรื่อง", "หัวเรื่อง"],
    ),
    labels(
        "Vietnamese",
        &["từ", "người gửi"],
        &["đã gửi", "ngày", "thời gian"],
        &["đến", "tới", "người nhận", "cc"],
        &["chủ đề", "tiêu đề"],
    ),
    labels(
        "Indonesian",
        &["dari", "pengirim"],
        &["dikirim", "tanggal", "terkirim"],
        &["kepada", "penerima", "cc", "tembusan"],
        &["subjek", "perihal", "judul"],
    ),
    labels(
        "Malay",
        &["daripada"],
        &["dihantar", "tarikh"],
        &["kepada", "sk"],
        &["subjek", "perkara"],
    ),
    labels(
        "Japanese",
        &["差出人", "送信者", "送信元", "送信者名"],
        &["送信日時", "日付", "日時", "送信日"],
        &["宛先", "送信先", "cc", "bcc", "受信者"],
        &["件名"],
    ),
    labels(
        "Chinese (Simplified)",
        &["发件人", "发信人"],
        &["发送时间", "日期", "时间", "发送日期"],
        &["收件人", "抄送", "密送"],
        &["主题"],
    ),
    labels(
        "Chinese (Traditional)",
        &["寄件者", "寄件人", "發件人"],
        &["寄件日期", "傳送時間", "日期", "時間", "傳送日期"],
        &["收件者", "收件人", "副本", "密件副本"],
        &["主旨", "主題"],
    ),
    labels(
        "Korean",
        &["보낸 사람", "보낸사람", "발신자", "보낸이"],
        &["보낸 날짜", "날짜", "보낸 시간", "발송일"],
        &["받는 사람", "받는사람", "수신자", "참조", "숨은 참조"],
        &["제목"],
    ),
];

/// The verb of an attribution line ("On …, X wrote:"), lower-case, in the
/// languages mail clients write it. Only needed when no quoted or indented
/// original follows the line to show its shape.
pub const WROTE: &[&str] = &[
    "wrote",
    "writes",
    "schrieb",
    "a écrit",
    "escribió",
    "ha scritto",
    "scrisse",
    "escreveu",
    "schreef",
    "skrev",
    "kirjoitti",
    "napisał",
    "napisala",
    "napsal",
    "napísal",
    "írta",
    "a scris",
    "yazdı",
    "написал",
    "написала",
    "написав",
    "написа",
    "έγραψε",
    "כתב",
    "كتب",
    "写道",
    "寫道",
    "のメッセージ",
    "が書きました",
    "작성",
    "đã viết",
    "เขียน",
    "menulis",
    "rakstīja",
    "rašė",
    "kirjutas",
    "je napisao",
    "je napisala",
    "je napisal",
    "va escriure",
];

/// Labels of what a Leadsie or Shopify email itself says (a client, an
/// asset, a code), lower-case: a run of lines with one of these is content,
/// never a forward's header block, even beside a mailbox and a date.
pub const CONTENT_LABELS: &[&str] = &[
    "client",
    "client name",
    "client email",
    "email",
    "e-mail",
    "name",
    "contact",
    "company",
    "store",
    "store url",
    "store id",
    "shop",
    "shopify store",
    "shopify store id",
    "store name",
    "collaborator code",
    "code",
    "access code",
    "request code",
    "request",
    "request name",
    "request link",
    "link",
    "url",
    "website",
    "phone",
    "status",
    "platform",
    "asset",
    "assets",
    "account",
    "connected",
    "connected on",
    "message",
    "note",
    "notes",
    "permissions",
];

// ---------------------------------------------------------------------------
// Collaborator-code labels
// ---------------------------------------------------------------------------

/// The labels a person reads as "the collaborator code" in one language,
/// lower case. A qualifier between label and value ("(4 digits)", "(4
/// Ziffern)") is recognised by its shape in `code_label.rs`, not listed.
pub struct CodeLabels {
    /// Names the row for a reader.
    pub language: &'static str,
    /// Labels that say which code they are (Shopify's "collaborator request
    /// code", Leadsie's "collaborator code", "request code", "access code"):
    /// read wherever a label may stand, and written as the English
    /// "Collaborator code" before a Leadsie email is read, so every rule
    /// about that label holds for them.
    pub named: &'static [&'static str],
    /// The bare word "code": a label only at the start of a line or a table
    /// column inside a Shopify store's section or card, never elsewhere
    /// ("promo code", "code 1234" in a sentence).
    pub bare: &'static [&'static str],
}

const fn code_labels(
    language: &'static str,
    named: &'static [&'static str],
    bare: &'static [&'static str],
) -> CodeLabels {
    CodeLabels {
        language,
        named,
        bare,
    }
}

pub const CODE_LABELS: &[CodeLabels] = &[
    code_labels(
        "English",
        &[
            "shopify collaborator request code",
            "shopify collaborator code",
            "collaborator request code",
            "collaborator access code",
            "collaborator code",
            "store access code",
            "request code",
            "access code",
        ],
        &["code"],
    ),
    code_labels(
        "German",
        &[
            "code für mitarbeiteranfragen",
            "code für die mitarbeiteranfrage",
            "code für mitarbeiterzugriff",
            "mitarbeiteranfrage-code",
            "mitarbeiteranfragecode",
            "mitarbeiterzugangscode",
            "mitarbeiter-code",
            "mitarbeitercode",
            "anfrage-code",
            "anfragecode",
            "zugangscode",
            "zugriffscode",
        ],
        &["code"],
    ),
    code_labels(
        "French",
        &[
            "code de demande de collaborateur",
            "code de demande de collaboration",
            "code de collaborateur",
            "code collaborateur",
            "code de demande",
            "code d'accès",
            "code d’accès",
            "code d'acces",
        ],
        &["code"],
    ),
    code_labels(
        "Spanish",
        &[
            "código de solicitud de colaborador",
            "codigo de solicitud de colaborador",
            "código de colaborador",
            "codigo de colaborador",
            "código de solicitud",
            "codigo de solicitud",
            "código de acceso",
            "codigo de acceso",
        ],
        &["código", "codigo"],
    ),
    code_labels(
        "Italian",
        &[
            "codice di richiesta del collaboratore",
            "codice di richiesta collaboratore",
            "codice del collaboratore",
            "codice collaboratore",
            "codice di richiesta",
            "codice di accesso",
            "codice d'accesso",
            "codice d’accesso",
        ],
        &["codice"],
    ),
    code_labels(
        "Portuguese",
        &[
            "código de solicitação de colaborador",
            "código de solicitação do colaborador",
            "codigo de solicitacao de colaborador",
            "código de pedido de colaborador",
            "código de colaborador",
            "código do colaborador",
            "codigo de colaborador",
            "código de solicitação",
            "código de pedido",
            "código de acesso",
            "codigo de acesso",
        ],
        &["código", "codigo"],
    ),
    code_labels(
        "Dutch",
        &[
            "code voor medewerkersverzoeken",
            "code voor medewerkersverzoek",
            "medewerkersverzoekcode",
            "medewerkerscode",
            "medewerkercode",
            "aanvraagcode",
            "verzoekcode",
            "toegangscode",
        ],
        &["code"],
    ),
    code_labels(
        "Swedish",
        &[
            "kod för medarbetarförfrågan",
            "medarbetarförfrågningskod",
            "medarbetarkod",
            "förfrågningskod",
            "åtkomstkod",
        ],
        &["kod"],
    ),
    code_labels(
        "Danish",
        // Not "adgangskode": in Danish that is a password.
        &[
            "kode til samarbejdspartneranmodning",
            "samarbejdspartnerkode",
            "anmodningskode",
        ],
        &["kode"],
    ),
    code_labels(
        "Norwegian",
        &[
            "kode for samarbeidspartnerforespørsel",
            "samarbeidspartnerkode",
            "forespørselskode",
            "tilgangskode",
        ],
        &["kode"],
    ),
    code_labels(
        "Finnish",
        &[
            "yhteistyökumppanin pyyntökoodi",
            "yhteistyökumppanikoodi",
            "pyyntökoodi",
            "käyttöoikeuskoodi",
        ],
        &["koodi"],
    ),
    code_labels(
        "Polish",
        &[
            "kod prośby o współpracę",
            "kod prośby współpracownika",
            "kod współpracownika",
            "kod prośby",
            "kod dostępu",
        ],
        &["kod"],
    ),
    code_labels(
        "Czech",
        &[
            "kód žádosti o spolupráci",
            "kód spolupracovníka",
            "kód žádosti",
            "přístupový kód",
        ],
        &["kód"],
    ),
    code_labels(
        "Turkish",
        &[
            "ortak çalışan istek kodu",
            "ortak çalışan kodu",
            "istek kodu",
            "erişim kodu",
        ],
        &["kod"],
    ),
    code_labels(
        "Russian",
        &[
            "код запроса для соавтора",
            "код запроса соавтора",
            "код соавтора",
            "код запроса",
            "код доступа",
        ],
        &["код"],
    ),
    code_labels(
        "Japanese",
        &[
            "コラボレーターのリクエストコード",
            "コラボレーターリクエストコード",
            "コラボレーターコード",
            "リクエストコード",
            "アクセスコード",
        ],
        &["コード"],
    ),
    code_labels(
        "Chinese (Simplified)",
        &["协作者请求代码", "协作者代码", "请求代码", "访问代码"],
        &["代码"],
    ),
    code_labels(
        "Chinese (Traditional)",
        &["協作者要求代碼", "協作者代碼", "要求代碼", "存取代碼"],
        &["代碼"],
    ),
    code_labels(
        "Korean",
        &[
            "협업자 요청 코드",
            "협업자 코드",
            "요청 코드",
            "액세스 코드",
        ],
        &["코드"],
    ),
];

// ---------------------------------------------------------------------------
// Why a trusted sender's mail is still no grant (vetoes)
// ---------------------------------------------------------------------------

/// Header fields whose presence (with any value but "no" or "false") marks
/// a message as an automatic reply, wherever it sits in a forward's chain.
pub const AUTO_REPLY_HEADERS: &[&str] = &["x-autoreply", "x-autorespond", "x-autogenerated"];

/// Header fields a discussion list (Google Groups, Mailman, groups.io) adds
/// when it relays a message: then the list's `List-*` and `Precedence`
/// headers are the relay's, not the sender's.
pub const LIST_RELAY_HEADERS: &[&str] = &[
    "mailing-list",
    "x-google-group-id",
    "x-mailman-version",
    "x-mailman-rule-misses",
    "x-groupsio-msgnum",
];

/// Hosts of discussion-list services, named in the `List-*` headers of a
/// message they relay.
pub const LIST_HOSTS: &[&str] = &["googlegroups.com", "groups.io", "freelists.org"];

/// The `message/*` subtypes of delivery, read and feedback reports (RFC
/// 3464, 8098, 6533, 5965): a message carrying one is a report.
pub const REPORT_TYPES: &[&str] = &[
    "delivery-status",
    "disposition-notification",
    "global-delivery-status",
    "global-disposition-notification",
    "global-headers",
    "feedback-report",
];

/// Local parts of the addresses that send delivery reports.
pub const REPORT_SENDERS: &[&str] = &["mailer-daemon", "postmaster"];

/// Subjects of automatic replies (out of office, vacation), in the
/// languages mail clients and servers write them; lower case, matched as
/// words anywhere in a subject.
pub const AUTO_REPLY_SUBJECTS: &[&str] = &[
    // English
    "automatic reply",
    "auto reply",
    "auto-reply",
    "autoreply",
    "auto response",
    "auto-response",
    "autoresponse",
    "automated response",
    "automatic response",
    "out of office",
    "out of the office",
    "out-of-office",
    "ooo",
    "away from the office",
    "on vacation",
    "on holiday",
    "on leave",
    "vacation reply",
    // German
    "automatische antwort",
    "abwesenheitsnotiz",
    "abwesenheit",
    "nicht im büro",
    "außer haus",
    // French
    "réponse automatique",
    "reponse automatique",
    "absent du bureau",
    "absence du bureau",
    "message d'absence",
    "message d’absence",
    // Spanish
    "respuesta automática",
    "respuesta automatica",
    "fuera de la oficina",
    "fuera de oficina",
    "ausente",
    // Italian
    "risposta automatica",
    "fuori sede",
    "fuori ufficio",
    "assente",
    // Portuguese
    "resposta automática",
    "resposta automatica",
    "fora do escritório",
    "ausência",
    // Dutch
    "automatisch antwoord",
    "afwezig",
    "niet op kantoor",
    "afwezigheidsbericht",
    // Nordic
    "automatiskt svar",
    "autosvar",
    "automatisk svar",
    "frånvaro",
    "fravær",
    "ikke på kontoret",
    "automaattinen vastaus",
    "poissa toimistolta",
    // Polish, Czech, Turkish, Russian, Ukrainian
    "odpowiedź automatyczna",
    "automatyczna odpowiedź",
    "poza biurem",
    "automatická odpověď",
    "mimo kancelář",
    "otomatik yanıt",
    "otomatik cevap",
    "ofis dışında",
    "автоответ",
    "автоматический ответ",
    "вне офиса",
    "автоматична відповідь",
    // Japanese, Chinese, Korean
    "自動応答",
    "自動返信",
    "不在通知",
    "自动回复",
    "自動回覆",
    "外出中",
    "자동 회신",
    "자동 응답",
    "부재중",
];

/// Words that mark a subject as a test when they stand in a tag at its
/// start ("[Test]", "(TEST EMAIL)") or open it before a colon or dash
/// ("Test: …", "TEST - …").
pub const TEST_WORDS: &[&str] = &[
    "test",
    "testing",
    "test email",
    "test mail",
    "testmail",
    "test message",
    "test notification",
    "sample",
    "demo",
    "probe",
    "testnachricht",
    "essai",
    "prueba",
    "teste",
    "prova",
    "próba",
    "тест",
    "テスト",
    "测试",
    "測試",
    "테스트",
];

/// Phrases in a body that say the email is a test or shows sample data.
pub const TEST_PHRASES: &[&str] = &[
    // English
    "this is a test",
    "this is only a test",
    "this is just a test",
    "this is a sample",
    "this email is a test",
    "this message is a test",
    "for testing purposes",
    "for test purposes",
    "sample data",
    "sample notification",
    "dummy data",
    "test data",
    "placeholder data",
    // German
    "dies ist ein test",
    "das ist ein test",
    "beispieldaten",
    "testdaten",
    // French
    "ceci est un test",
    "c'est un test",
    "données d'exemple",
    "données de test",
    // Spanish
    "esto es una prueba",
    "datos de ejemplo",
    "datos de muestra",
    "datos de prueba",
    // Italian
    "questo è un test",
    "questa è una prova",
    "dati di esempio",
    "dati di prova",
    // Portuguese
    "isto é um teste",
    "este é um teste",
    "dados de exemplo",
    "dados de teste",
    // Dutch
    "dit is een test",
    "voorbeeldgegevens",
    "testgegevens",
];

/// Words that make a newsletter's store and code an example: a product
/// announcement showing what a grant looks like.
pub const EXAMPLE_WORDS: &[&str] = &[
    "example",
    "for example",
    "for instance",
    "e.g.",
    "sample",
    "demo",
    "here's what",
    "here’s what",
    "here is what",
    "looks like",
    "look like",
    "preview",
    "mock-up",
    "mockup",
    "illustration",
    "zum beispiel",
    "beispiel",
    "par exemple",
    "exemple",
    "por ejemplo",
    "ejemplo",
    "per esempio",
    "esempio",
    "por exemplo",
    "exemplo",
    "bijvoorbeeld",
    "voorbeeld",
];

/// Marketing that any sender's footer carries too (a transactional Leadsie
/// email may have an unsubscribe link): strong signs of a newsletter for a
/// Shopify reply, no sign at all for a Leadsie email.
pub const MARKETING_FOOTER: &[&str] = &[
    "unsubscribe",
    "unsubscribed",
    "email preferences",
    "e-mail preferences",
    "manage preferences",
    "manage your preferences",
    "update your preferences",
    "subscription preferences",
    "marketing preferences",
    "communication preferences",
    "opt out",
    "opt-out",
    "view in browser",
    "view in your browser",
    "view this email",
    "view it online",
    "view online",
    "you subscribed",
    "you signed up",
    "you opted in",
];

/// Newsletter and marketing vocabulary: one of these anywhere in the
/// subject or body makes the email marketing.
pub const MARKETING_STRONG: &[&str] = &[
    "newsletter",
    "newsletters",
    "webinar",
    "webinars",
    "what's new",
    "what\u{2019}s new",
    "whats new",
    "product update",
    "product updates",
    "product news",
    "in this issue",
    "this issue",
    "digest",
    "roundup",
    "round-up",
    "recap",
    "register now",
    "register today",
    "register here",
    "save your seat",
    "save my seat",
    "reserve your spot",
    "reserve your seat",
    "rsvp",
    "blog",
    "blogs",
    "podcast",
    "livestream",
    "ebook",
    "e-book",
    "promo code",
    "special offer",
    "limited time",
    "marketing email",
    "marketing emails",
    "promotional",
    "edition",
    "editions",
    "changelog",
    "release notes",
    "monthly update",
    "weekly update",
    "month in review",
    "year in review",
];

/// Weaker marketing vocabulary: two different ones make an email marketing.
pub const MARKETING_WEAK: &[&str] = &[
    "learn more",
    "read more",
    "tip",
    "tips",
    "introducing",
    "announcing",
    "now available",
    "new feature",
    "new features",
    "check out",
    "best practices",
    "we're excited",
    "we\u{2019}re excited",
    "we are excited",
    "partners like you",
    "agencies like you",
    "this month",
    "this week",
    "upcoming",
    "don't miss",
    "don\u{2019}t miss",
    "join us",
    "spotlight",
    "success story",
    "case study",
    "highlights",
    "announcement",
    "launch",
    "launched",
    "launching",
    "our new",
    "example",
    "for example",
    "sample",
];

/// Words that say by themselves that a connection ended or a code no
/// longer works: a Leadsie email stating one is never a grant, even when
/// it repeats the old code. A sentence that only says when it would happen
/// ("if the client disconnects, this code is no longer valid") does not
/// count.
pub const ENDED_STATES: &[&str] = &[
    // English
    "disconnected",
    "no longer valid",
    "not valid anymore",
    "not valid any more",
    "no longer works",
    "no longer work",
    "no longer has access",
    "no longer have access",
    "invalidated",
    // German
    "getrennt",
    "nicht mehr gültig",
    "ungültig geworden",
    // French
    "déconnecté",
    "déconnectée",
    "déconnectés",
    "n'est plus valide",
    "n’est plus valide",
    "n'est plus valable",
    "n’est plus valable",
    // Spanish
    "desconectado",
    "desconectada",
    "ya no es válido",
    "ya no es valido",
    // Italian
    "disconnesso",
    "disconnessa",
    "non è più valido",
    "non e più valido",
    // Portuguese
    "desconectou",
    "não é mais válido",
    "nao e mais valido",
    "já não é válido",
    // Dutch
    "ontkoppeld",
    "verbroken",
    "niet meer geldig",
];

/// Verbs that say something ended when an [`ACCESS_NOUNS`] word stands in
/// the same clause: "your access to Acme's store has been revoked", "Acme
/// removed Leadsie's connection", "the code expired".
pub const ENDED_VERBS: &[&str] = &[
    // English
    "revoked",
    "removed",
    "withdrawn",
    "withdrew",
    "ended",
    "terminated",
    "cancelled",
    "canceled",
    "deleted",
    "deactivated",
    "expired",
    // German
    "widerrufen",
    "entzogen",
    "entfernt",
    "gelöscht",
    "beendet",
    "abgelaufen",
    // French
    "révoqué",
    "révoquée",
    "retiré",
    "retirée",
    "supprimé",
    "supprimée",
    "expiré",
    // Spanish
    "revocado",
    "revocada",
    "eliminado",
    "eliminada",
    "retirado",
    "retirada",
    "caducado",
    // Italian
    "revocato",
    "revocata",
    "rimosso",
    "rimossa",
    "eliminato",
    "scaduto",
    // Portuguese
    "revogado",
    "revogada",
    "removido",
    "removida",
    "expirado",
    // Dutch
    "ingetrokken",
    "verwijderd",
    "beëindigd",
    "verlopen",
];

/// What a connection's end is said of: access, a connection, a code, a
/// store.
pub const ACCESS_NOUNS: &[&str] = &[
    // English
    "access",
    "connection",
    "connections",
    "permission",
    "permissions",
    "code",
    "codes",
    "store",
    "shop",
    "collaborator",
    // German
    "zugriff",
    "zugang",
    "verbindung",
    "berechtigung",
    "berechtigungen",
    "code",
    // French
    "accès",
    "connexion",
    "autorisation",
    "boutique",
    // Spanish
    "acceso",
    "conexión",
    "permiso",
    "código",
    "tienda",
    // Italian
    "accesso",
    "connessione",
    "autorizzazione",
    "codice",
    "negozio",
    // Portuguese
    "acesso",
    "conexão",
    "permissão",
    "loja",
    // Dutch
    "toegang",
    "verbinding",
    "koppeling",
    "winkel",
];

/// Words that make a statement a condition or a rule rather than a fact,
/// before it or after it in its clause ("if you don't use it, access is
/// removed", "access is removed if nobody logs in"), in every language
/// above. Written with the word after them where the word alone is another
/// language's pronoun (French "si", Italian "si è"; Portuguese "se",
/// Spanish "se ha").
pub const CONDITIONALS: &[&str] = &[
    // English
    "if",
    "unless",
    "whenever",
    "in case",
    "as long as",
    "provided that",
    // German
    "wenn",
    "falls",
    "sofern",
    // French
    "si le",
    "si la",
    "si les",
    "si vous",
    "si votre",
    "s'il",
    "s’il",
    // Spanish
    "si el",
    "si tu",
    "si su",
    "si usted",
    "en caso de",
    // Italian
    "se il",
    "se non",
    "qualora",
    // Portuguese
    "se o",
    "se você",
    "se não",
    // Dutch
    "als u",
    "als de",
    "als het",
    "indien",
];

/// Words that make what follows them a condition ("once the client
/// disconnects, this code is no longer valid"), but that after a fact only
/// say when it happened ("access was removed when the owner …").
pub const CONDITIONALS_BEFORE: &[&str] = &[
    "when", "once", "sobald", "lorsque", "quand", "dès que", "cuando", "quando", "zodra",
];

/// Auxiliaries that, just before a statement, make it a possibility ("may
/// be revoked", "will no longer be valid") rather than news.
pub const MODAL_AUXILIARIES: &[&str] = &[
    "will", "'ll", "may", "might", "can", "could", "would", "should", "must", "be", "to", "won't",
    "can't", "cannot",
];

/// Auxiliaries that, just before "removed" or "revoked", make it a rule
/// ("access is removed automatically") rather than news ("was removed",
/// "Acme removed you").
pub const PRESENT_AUXILIARIES: &[&str] = &["is", "are", "am", "get", "gets", "getting", "being"];

/// Auxiliaries that make a statement past, so news, whatever rule words
/// it holds ("your access was removed automatically after 90 days"). Not
/// "has" or "have": "you no longer have access after 90 days" is a rule.
pub const PAST_AUXILIARIES: &[&str] = &["was", "were", "been", "had", "did"];

/// Adverbs skipped when looking for the auxiliary before a verb.
pub const ADVERBS: &[&str] = &[
    "automatically",
    "also",
    "always",
    "then",
    "usually",
    "normally",
    "typically",
    "immediately",
    "permanently",
    "simply",
    "not",
    "never",
    "eventually",
];

/// Phrases that make a present-tense statement a rule about time ("you no
/// longer have access after 90 days without a login"); "after N days" is
/// recognised by its shape.
pub const GENERAL_MARKERS: &[&str] = &[
    "automatically",
    "days without",
    "days of inactivity",
    "without a login",
    "without logging in",
    "inactive for",
    "at any time",
];
