//! The words people's mail clients and Leadsie write, per language, as data.
//! Nothing here decides anything: a forward is recognised by its shape
//! (`forward.rs`), a code by its place beside a label (`grant.rs`). These
//! lists only tell roles apart (which header line names the sender, which
//! label is a code's). To add a language, add its words here and nowhere
//! else; `tests/clients.rs` shows what a new locale's forwards look like.

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
        &["от", "отправитель"],
        &["отправлено", "дата", "отправлено в"],
        &["кому", "получатель", "копия"],
        &["тема"],
    ),
    labels(
        "Ukrainian",
        &["від", "відправник"],
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
        &["kimden", "gönderen"],
        &["gönderildi", "gönderilme", "tarih", "gönderme tarihi"],
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
        &["差出人", "送信者", "送信元"],
        &["送信日時", "日付", "日時", "送信日"],
        &["宛先", "cc", "bcc", "受信者"],
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
