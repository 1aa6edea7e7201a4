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

/// Shopify's "collaborator (request) code" as its admin, and Leadsie's
/// emails in the same language, write it in German, French, Spanish,
/// Italian, Portuguese and Dutch; lower case, longest first. Each is read
/// as the English label, so every rule about the label holds for them.
pub const LOCALISED_CODE_LABELS: &[&str] = &[
    "código de solicitação de colaborador",
    "código de solicitud de colaborador",
    "code de demande de collaborateur",
    "codice di richiesta collaboratore",
    "code voor medewerkersverzoeken",
    "code für mitarbeiteranfragen",
    "código de colaborador",
    "código do colaborador",
    "code de collaborateur",
    "codice collaboratore",
    "code collaborateur",
    "mitarbeiteranfrage-code",
    "mitarbeiter-code",
    "mitarbeitercode",
    "medewerkerscode",
];

// ---------------------------------------------------------------------------
// Why a trusted sender's mail is still no grant (vetoes)
// ---------------------------------------------------------------------------
