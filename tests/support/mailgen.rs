//! A generated corpus of Leadsie grant emails: every Leadsie layout, handed
//! on by every forward style, in many languages, with every transfer encoding
//! and the charsets each language allows, each message with its known answer.
//!
//! Deterministic: a fixed-seed LCG makes every choice, so a variant's number
//! names the same bytes on every run and machine. Client strings (forward
//! separators and header labels) are written once, as data, in [`LANGS`].
//!
//! Used by `tests/generated.rs` as `#[path = "support/mailgen.rs"] mod mailgen;`.

use std::fmt::Write as _;

use base64::Engine as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

// ---------------------------------------------------------------------------
// Dimensions
// ---------------------------------------------------------------------------

/// How Leadsie laid the email out. The last three are negative variants: a
/// Leadsie email that must not produce a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// text/plain only: "Shopify store: x.myshopify.com" / "Collaborator code: 0473".
    PlainText,
    /// text/html only, label and value in neighbouring table cells.
    HtmlOnly,
    /// multipart/alternative with the same content in both parts.
    Alternative,
    /// multipart/alternative whose text part is only "View this email in
    /// your browser: …"; the content is in the HTML part alone.
    StubText,
    /// The store is a link whose text is the shop's name and whose href is
    /// the store's admin URL.
    StoreLink,
    /// The store link goes through a click-tracking redirect that carries
    /// the real URL percent-encoded (once or twice) in a query parameter.
    RedirectLink,
    /// The code is split across inline elements: `<span>04</span><span>73</span>`.
    SplitCode,
    /// Zero-width characters and `&nbsp;` between labels and values.
    ZeroWidth,
    /// One table of several stores ("Store | Collaborator code") with rows
    /// for Meta and Google assets among them.
    StoreTable,
    /// A 4-digit number beside the store, but with no collaborator label.
    NegNoLabel,
    /// The store is given as a custom domain only (acme.com).
    NegCustomDomain,
    /// The store "link" goes to a domain that is not a Shopify store.
    NegNonStoreLink,
}

pub const LAYOUTS: &[Layout] = &[
    Layout::PlainText,
    Layout::HtmlOnly,
    Layout::Alternative,
    Layout::StubText,
    Layout::StoreLink,
    Layout::RedirectLink,
    Layout::SplitCode,
    Layout::ZeroWidth,
    Layout::StoreTable,
];

pub const NEGATIVE_LAYOUTS: &[Layout] = &[
    Layout::NegNoLabel,
    Layout::NegCustomDomain,
    Layout::NegNonStoreLink,
];

impl Layout {
    pub fn name(self) -> &'static str {
        match self {
            Layout::PlainText => "plain-text",
            Layout::HtmlOnly => "html-only",
            Layout::Alternative => "alternative",
            Layout::StubText => "stub-text+html",
            Layout::StoreLink => "store-link",
            Layout::RedirectLink => "redirect-link",
            Layout::SplitCode => "split-code",
            Layout::ZeroWidth => "zero-width",
            Layout::StoreTable => "store-table",
            Layout::NegNoLabel => "neg:no-code-label",
            Layout::NegCustomDomain => "neg:custom-domain",
            Layout::NegNonStoreLink => "neg:non-store-link",
        }
    }
}

/// How the Leadsie email reached the mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Straight from notifications@leadsie.com.
    Direct,
    Gmail,
    OutlookDesktop,
    OutlookWeb,
    AppleMail,
    Thunderbird,
    /// Forwarded as a message/rfc822 attachment.
    Attachment,
}

pub const STYLES: &[Style] = &[
    Style::Direct,
    Style::Gmail,
    Style::OutlookDesktop,
    Style::OutlookWeb,
    Style::AppleMail,
    Style::Thunderbird,
    Style::Attachment,
];

impl Style {
    pub fn name(self) -> &'static str {
        match self {
            Style::Direct => "direct",
            Style::Gmail => "gmail",
            Style::OutlookDesktop => "outlook-desktop",
            Style::OutlookWeb => "outlook-web",
            Style::AppleMail => "apple-mail",
            Style::Thunderbird => "thunderbird",
            Style::Attachment => "rfc822-attachment",
        }
    }
}

/// Content-Transfer-Encoding of every text part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cte {
    /// No encoding: "7bit" when the bytes are ASCII, "8bit" otherwise.
    Identity,
    QuotedPrintable,
    Base64,
}

pub const CTES: &[Cte] = &[Cte::Identity, Cte::QuotedPrintable, Cte::Base64];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Utf8,
    Latin1,
    Windows1252,
}

impl Charset {
    pub fn name(self) -> &'static str {
        match self {
            Charset::Utf8 => "utf-8",
            Charset::Latin1 => "iso-8859-1",
            Charset::Windows1252 => "windows-1252",
        }
    }

    /// The byte for `c` in this (single-byte) charset.
    fn byte(self, c: char) -> Option<u8> {
        let u = c as u32;
        match self {
            Charset::Utf8 => None,
            Charset::Latin1 => (u <= 0xff).then_some(u as u8),
            Charset::Windows1252 => {
                if u < 0x80 || (0xa0..=0xff).contains(&u) {
                    return Some(u as u8);
                }
                CP1252_HIGH
                    .iter()
                    .position(|&h| h == c)
                    .map(|i| 0x80 + i as u8)
            }
        }
    }

    fn encodes(self, s: &str) -> bool {
        self == Charset::Utf8 || s.chars().all(|c| self.byte(c).is_some())
    }

    fn encode(self, s: &str) -> Vec<u8> {
        match self {
            Charset::Utf8 => s.as_bytes().to_vec(),
            _ => s
                .chars()
                .map(|c| self.byte(c).expect("checked with encodes()"))
                .collect(),
        }
    }
}

/// windows-1252 bytes 0x80..=0x9f ('\0' where the byte is undefined).
const CP1252_HIGH: [char; 32] = [
    '€', '\0', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\0', 'Ž', '\0', '\0', '‘',
    '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\0', 'ž', 'Ÿ',
];

// ---------------------------------------------------------------------------
// Languages: the forward clients' strings, as data
// ---------------------------------------------------------------------------

/// One forward header block's labels, each with its own colon (French puts
/// a NO-BREAK SPACE before it, Chinese Gmail a full-width colon).
#[derive(Debug, Clone, Copy)]
pub struct Labels {
    pub from: &'static str,
    /// "Date" or "Sent".
    pub date: &'static str,
    pub to: &'static str,
    pub subject: &'static str,
}

/// How one language's mail clients write a forward.
#[derive(Debug)]
pub struct Lang {
    pub code: &'static str,
    /// Whether iso-8859-1 / windows-1252 can carry the language.
    pub latin: bool,
    /// The forwarder's own words above the forward, with numbers that are
    /// not codes.
    pub note: &'static str,
    /// The forwarder's words when the original travels as an attachment.
    pub attach_note: &'static str,
    /// The original's date as the clients print it.
    pub date: &'static str,
    /// Outlook (desktop and web): From / Sent / To / Subject.
    pub outlook: Labels,
    /// Outlook's subject prefix ("FW:", "WG:", "TR:" …).
    pub outlook_prefix: &'static str,
    /// Gmail's separator line as the brief gives it, localised.
    pub gmail_sep: &'static str,
    /// Gmail localises the From label; Date, Subject and To stay English
    /// in most locales.
    pub gmail: Labels,
    /// Apple Mail's "Begin forwarded message:" line.
    pub apple_intro: &'static str,
    pub apple: Labels,
    /// Thunderbird's separator line.
    pub tb_sep: &'static str,
    pub thunderbird: Labels,
}

const fn labels(
    from: &'static str,
    date: &'static str,
    to: &'static str,
    subject: &'static str,
) -> Labels {
    Labels {
        from,
        date,
        to,
        subject,
    }
}

/// Gmail in every locale keeps these three in English.
const GMAIL_EN: (&str, &str, &str) = ("Date:", "To:", "Subject:");

pub const LANGS: &[Lang] = &[
    Lang {
        code: "en",
        latin: true,
        note: "Please file this one - ticket 4410, call me on 555 0142.",
        attach_note: "Forwarded as an attachment. The door code 9999 is not it.",
        date: "Monday, November 2, 2026 10:00 AM",
        outlook: labels("From:", "Sent:", "To:", "Subject:"),
        outlook_prefix: "FW:",
        gmail_sep: "---------- Forwarded message ---------",
        gmail: labels("From:", GMAIL_EN.0, GMAIL_EN.1, GMAIL_EN.2),
        apple_intro: "Begin forwarded message:",
        apple: labels("From:", "Date:", "To:", "Subject:"),
        tb_sep: "-------- Forwarded Message --------",
        thunderbird: labels("From:", "Date:", "To:", "Subject:"),
    },
    Lang {
        code: "de",
        latin: true,
        note: "Bitte eintragen – Ticket 4410, Rückruf unter 555 0142.",
        attach_note: "Als Anhang weitergeleitet. Türcode 9999 bitte ignorieren.",
        date: "Montag, 2. November 2026 10:00",
        outlook: labels("Von:", "Gesendet:", "An:", "Betreff:"),
        outlook_prefix: "WG:",
        gmail_sep: "---------- Weitergeleitete Nachricht ---------",
        gmail: labels("Von:", GMAIL_EN.0, GMAIL_EN.1, GMAIL_EN.2),
        apple_intro: "Anfang der weitergeleiteten Nachricht:",
        apple: labels("Von:", "Datum:", "An:", "Betreff:"),
        tb_sep: "-------- Weitergeleitete Nachricht --------",
        thunderbird: labels("Von:", "Datum:", "An:", "Betreff:"),
    },
    Lang {
        code: "fr",
        latin: true,
        note: "Merci de traiter – ticket 4410, rappelez-moi au 555 0142.",
        attach_note: "Transféré en pièce jointe. Le code de la porte 9999 n'en est pas un.",
        date: "lundi 2 novembre 2026 10:00",
        outlook: labels("De\u{a0}:", "Envoyé\u{a0}:", "À\u{a0}:", "Objet\u{a0}:"),
        outlook_prefix: "TR:",
        gmail_sep: "---------- Message transféré ---------",
        gmail: labels("De\u{a0}:", GMAIL_EN.0, GMAIL_EN.1, GMAIL_EN.2),
        apple_intro: "Début du message réexpédié\u{a0}:",
        apple: labels("De:", "Date:", "À:", "Objet:"),
        tb_sep: "-------- Message transféré --------",
        thunderbird: labels("De\u{a0}:", "Date\u{a0}:", "Pour\u{a0}:", "Sujet\u{a0}:"),
    },
    Lang {
        code: "es",
        latin: true,
        note: "Por favor, regístralo: ticket 4410, llámame al 555 0142.",
        attach_note: "Reenviado como adjunto. El código de la puerta 9999 no cuenta.",
        date: "lunes, 2 de noviembre de 2026 10:00",
        outlook: labels("De:", "Enviado:", "Para:", "Asunto:"),
        outlook_prefix: "RV:",
        gmail_sep: "---------- Mensaje reenviado ---------",
        gmail: labels("De:", GMAIL_EN.0, GMAIL_EN.1, GMAIL_EN.2),
        apple_intro: "Inicio del mensaje reenviado:",
        apple: labels("De:", "Fecha:", "Para:", "Asunto:"),
        tb_sep: "-------- Mensaje reenviado --------",
        thunderbird: labels("De:", "Fecha:", "Para:", "Asunto:"),
    },
    Lang {
        code: "it",
        latin: true,
        note: "Per favore registralo: ticket 4410, chiamami al 555 0142.",
        attach_note: "Inoltrato come allegato. Il codice della porta 9999 non conta.",
        date: "lunedì 2 novembre 2026 10:00",
        outlook: labels("Da:", "Inviato:", "A:", "Oggetto:"),
        outlook_prefix: "I:",
        gmail_sep: "---------- Messaggio inoltrato ---------",
        gmail: labels("Da:", GMAIL_EN.0, GMAIL_EN.1, GMAIL_EN.2),
        apple_intro: "Inizio messaggio inoltrato:",
        apple: labels("Da:", "Data:", "A:", "Oggetto:"),
        tb_sep: "-------- Messaggio Inoltrato --------",
        thunderbird: labels("Mittente:", "Data:", "A:", "Oggetto:"),
    },
    Lang {
        code: "pt",
        latin: true,
        note: "Por favor, registre: ticket 4410, ligue para 555 0142.",
        attach_note: "Encaminhado como anexo. O código da porta 9999 não conta.",
        date: "segunda-feira, 2 de novembro de 2026 10:00",
        outlook: labels("De:", "Enviado:", "Para:", "Assunto:"),
        outlook_prefix: "ENC:",
        gmail_sep: "---------- Mensagem encaminhada ---------",
        gmail: labels("De:", GMAIL_EN.0, GMAIL_EN.1, GMAIL_EN.2),
        apple_intro: "Início da mensagem encaminhada:",
        apple: labels("De:", "Data:", "Para:", "Assunto:"),
        tb_sep: "-------- Mensagem encaminhada --------",
        thunderbird: labels("De:", "Data:", "Para:", "Assunto:"),
    },
    Lang {
        code: "nl",
        latin: true,
        note: "Graag verwerken: ticket 4410, bel me op 555 0142.",
        attach_note: "Doorgestuurd als bijlage. Deurcode 9999 telt niet.",
        date: "maandag 2 november 2026 10:00",
        outlook: labels("Van:", "Verzonden:", "Aan:", "Onderwerp:"),
        outlook_prefix: "FW:",
        gmail_sep: "---------- Doorgestuurd bericht ---------",
        gmail: labels("Van:", GMAIL_EN.0, GMAIL_EN.1, GMAIL_EN.2),
        apple_intro: "Begin doorgestuurd bericht:",
        apple: labels("Van:", "Datum:", "Aan:", "Onderwerp:"),
        tb_sep: "-------- Doorgestuurd bericht --------",
        thunderbird: labels("Van:", "Datum:", "Aan:", "Onderwerp:"),
    },
    Lang {
        code: "pl",
        latin: false,
        note: "Proszę zarejestrować: zgłoszenie 4410, telefon 555 0142.",
        attach_note: "Przekazano jako załącznik. Kod do drzwi 9999 się nie liczy.",
        date: "poniedziałek, 2 listopada 2026 10:00",
        outlook: labels("Od:", "Wysłano:", "Do:", "Temat:"),
        outlook_prefix: "PD:",
        gmail_sep: "---------- Przekazana wiadomość ---------",
        gmail: labels("Od:", GMAIL_EN.0, GMAIL_EN.1, GMAIL_EN.2),
        apple_intro: "Początek przekazywanej wiadomości:",
        apple: labels("Od:", "Data:", "Do:", "Temat:"),
        tb_sep: "--- Treść przekazanej wiadomości ---",
        thunderbird: labels("Nadawca:", "Data:", "Adresat:", "Temat:"),
    },
    Lang {
        code: "ru",
        latin: false,
        note: "Пожалуйста, оформите: заявка 4410, звоните 555 0142.",
        attach_note: "Переслано вложением. Код двери 9999 не относится к делу.",
        date: "понедельник, 2 ноября 2026 г. 10:00",
        outlook: labels("От:", "Отправлено:", "Кому:", "Тема:"),
        outlook_prefix: "FW:",
        gmail_sep: "---------- Пересылаемое сообщение ---------",
        gmail: labels("От:", GMAIL_EN.0, GMAIL_EN.1, GMAIL_EN.2),
        apple_intro: "Начало переадресованного сообщения:",
        apple: labels("Отправитель:", "Дата:", "Кому:", "Тема:"),
        tb_sep: "-------- Перенаправленное сообщение --------",
        thunderbird: labels("От:", "Дата:", "Кому:", "Тема:"),
    },
    Lang {
        code: "ja",
        latin: false,
        note: "対応をお願いします。チケット 4410、電話 555 0142。",
        attach_note: "添付ファイルとして転送します。ドアコード 9999 は無関係です。",
        date: "2026年11月2日 10:00",
        outlook: labels("差出人:", "送信日時:", "宛先:", "件名:"),
        outlook_prefix: "FW:",
        gmail_sep: "---------- 転送されたメッセージ ---------",
        gmail: labels("差出人:", GMAIL_EN.0, GMAIL_EN.1, GMAIL_EN.2),
        apple_intro: "転送されたメッセージ:",
        apple: labels("差出人:", "日付:", "宛先:", "件名:"),
        tb_sep: "-------- 転送メッセージ --------",
        thunderbird: labels("差出人:", "日付:", "宛先:", "件名:"),
    },
    Lang {
        code: "zh",
        latin: false,
        note: "请处理一下：工单 4410，电话 555 0142。",
        attach_note: "作为附件转发。门禁密码 9999 与此无关。",
        date: "2026年11月2日 星期一 10:00",
        outlook: labels("发件人:", "发送时间:", "收件人:", "主题:"),
        outlook_prefix: "转发:",
        gmail_sep: "---------- 转发的邮件 ---------",
        // Chinese Gmail localises all four, with full-width colons.
        gmail: labels("发件人：", "日期：", "收件人：", "主题："),
        apple_intro: "以下为转发的邮件：",
        apple: labels("发件人:", "日期:", "收件人:", "主题:"),
        tb_sep: "-------- 转发的消息 --------",
        thunderbird: labels("发件人:", "日期:", "收件人:", "主题:"),
    },
];

/// Gmail's separator in every locale (the localised one of [`Lang::gmail_sep`]
/// is also seen); the generator uses both.
const GMAIL_SEP_EN: &str = "---------- Forwarded message ---------";

// ---------------------------------------------------------------------------
// Deterministic choices
// ---------------------------------------------------------------------------

use crate::verdict::header_text;
pub use crate::verdict::{Expect, Lcg};

// ---------------------------------------------------------------------------
// Variants
// ---------------------------------------------------------------------------

pub struct Variant {
    pub id: usize,
    pub layout: Layout,
    pub style: Style,
    /// `None` for a message sent straight from Leadsie (no forward text).
    pub lang: Option<&'static Lang>,
    pub cte: Cte,
    pub charset: Charset,
    /// The finer choices made for this variant, for the failure report.
    pub detail: Vec<String>,
    pub expect: Expect,
    pub raw: Vec<u8>,
    /// Strings that the decoded message must contain: a check on the
    /// generator's own encoders, not on the classifier.
    pub markers: Vec<String>,
}

impl Variant {
    pub fn lang_code(&self) -> &'static str {
        self.lang.map_or("-", |l| l.code)
    }

    pub fn cte_name(&self) -> &'static str {
        match self.cte {
            Cte::Identity if self.raw.is_ascii() => "7bit",
            Cte::Identity => "8bit",
            Cte::QuotedPrintable => "quoted-printable",
            Cte::Base64 => "base64",
        }
    }

    /// `#12 gmail/store-link/de/quoted-printable+iso-8859-1 [admin-url]`
    pub fn name(&self) -> String {
        format!(
            "#{} {}/{}/{}/{}+{} [{}]",
            self.id,
            self.style.name(),
            self.layout.name(),
            self.lang_code(),
            self.cte_name(),
            self.charset.name(),
            self.detail.join(", ")
        )
    }
}

/// Every variant: positive layouts × forward styles × encodings, with
/// languages in rotation (every language meets every layout and style), then
/// the negative layouts across styles and encodings.
pub fn corpus() -> Vec<Variant> {
    let mut rng = Lcg::new(0x1eed_5eed);
    let mut out = Vec::new();
    let mut rotation = 0usize;
    for &layout in LAYOUTS.iter().chain(NEGATIVE_LAYOUTS) {
        let negative = NEGATIVE_LAYOUTS.contains(&layout);
        for &style in STYLES {
            for &cte in CTES {
                let langs = match (style, negative) {
                    (Style::Direct, false) => 2,
                    (_, false) => 5,
                    (_, true) => 1,
                };
                for k in 0..langs {
                    let lang = if style == Style::Direct {
                        None
                    } else {
                        rotation += 1;
                        Some(&LANGS[(rotation - 1) % LANGS.len()])
                    };
                    // A direct message has no language of its own: its two
                    // variants differ in charset.
                    let latin = lang.is_none_or(|l| l.latin);
                    let charset = if !latin {
                        Charset::Utf8
                    } else if style == Style::Direct {
                        [
                            Charset::Utf8,
                            *rng.pick(&[Charset::Latin1, Charset::Windows1252]),
                        ][k]
                    } else {
                        *rng.pick(&[
                            Charset::Utf8,
                            Charset::Utf8,
                            Charset::Latin1,
                            Charset::Windows1252,
                        ])
                    };
                    let id = out.len();
                    out.push(build(&mut rng, id, layout, style, lang, cte, charset));
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Leadsie's content
// ---------------------------------------------------------------------------

/// Shops: (display name, handle). Handles are sometimes unrelated to the
/// name, as Shopify's generated ones are, so a name never reveals a store.
const SHOPS: &[(&str, &str)] = &[
    ("Acme Co", "acme-co"),
    ("Marlow Books", "marlow-books-uk"),
    ("Cedar & Pine", "cedar-and-pine"),
    ("Zeta Goods", "ac3cb8"),
    ("Tidewater", "tidewater-co"),
    ("Saffron Kitchen", "saffron-kitchen-2"),
    ("Copper Kettle", "copperkettle"),
    ("Willow Home", "f0e21d-7"),
    ("Granite & Co", "granite-and-co"),
    ("Nordlicht Mode", "nordlicht-mode"),
    ("Café Lumière", "cafe-lumiere"),
    ("Blue Heron Outfitters", "bho-store"),
];

/// One Leadsie email's content, before any forward wraps it.
struct Content {
    text: Option<String>,
    /// What goes inside `<body>`.
    html: Option<String>,
}

/// A grant's pieces as the generator chose them.
struct Pick {
    name: &'static str,
    handle: &'static str,
    code: String,
}

fn pick_shop(rng: &mut Lcg, avoid: &[&str]) -> Pick {
    loop {
        let &(name, handle) = rng.pick(SHOPS);
        if !avoid.contains(&handle) {
            // Codes with a leading zero are common enough to matter.
            let n = if rng.chance(20) {
                rng.below(1000)
            } else {
                rng.below(10_000)
            };
            return Pick {
                name,
                handle,
                code: format!("{n:04}"),
            };
        }
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const HTML_HEAD: &str =
    "<h2 style=\"font-family:Helvetica,Arial,sans-serif\">You've got access!</h2>";
const HTML_FOOT: &str = "<p style=\"color:#999;font-size:12px\">&copy; 2026 Leadsie · 1234 Market Street, Suite 2200, San Francisco, CA 94103</p>";

fn html_intro(client: &str) -> String {
    format!(
        "<p>{} connected their accounts through Leadsie on 2 November 2026.</p>",
        esc(client)
    )
}

fn html_request(rid: u32) -> String {
    format!(
        "<p><a href=\"https://app.leadsie.com/requests/r{rid}\" style=\"color:#4f46e5\">View the request in Leadsie</a></p>"
    )
}

/// A label/value table in Leadsie's style.
fn html_rows(rows: &[(String, String)]) -> String {
    let mut t = String::from(
        "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" style=\"border-collapse:collapse\">\n<tr><th colspan=\"2\" style=\"text-align:left\">Shopify</th></tr>\n",
    );
    for (label, value) in rows {
        let _ = writeln!(
            t,
            "<tr><td style=\"padding:4px 8px;color:#555\"><b>{label}</b></td><td style=\"padding:4px 8px\">{value}</td></tr>"
        );
    }
    t.push_str("</table>");
    t
}

fn plain_text(client: &str, store: &str, code: &str, rid: u32) -> String {
    format!(
        "You've got access!\n\n{client} connected their accounts through Leadsie on 2 November 2026.\n\n\
         Shopify store: {store}\nCollaborator code: {code}\n\n\
         View the request in Leadsie: https://app.leadsie.com/requests/r{rid}\n\n\
         --\n(c) 2026 Leadsie, 1234 Market Street, Suite 2200, San Francisco, CA 94103\n"
    )
}

fn stub_text(rid: u32) -> String {
    format!("View this email in your browser: https://leadsie.com/e/r{rid}\n")
}

/// Zero-width and invisible characters mail templates leave between words.
const INVISIBLE: &[char] = &['\u{200b}', '\u{200c}', '\u{200d}', '\u{feff}', '\u{ad}'];

fn invisible_run(rng: &mut Lcg) -> String {
    let mut s = String::new();
    for _ in 0..1 + rng.below(3) {
        let c = *rng.pick(INVISIBLE);
        // As a raw character or as an entity, both are seen.
        match (rng.below(3), c) {
            (0, '\u{ad}') => s.push_str("&shy;"),
            (0, '\u{200c}') => s.push_str("&zwnj;"),
            (0, '\u{200d}') => s.push_str("&zwj;"),
            (1, c) => {
                let _ = write!(s, "&#{};", c as u32);
            }
            (_, c) => s.push(c),
        }
    }
    if rng.chance(70) {
        s.insert_str(0, "&nbsp;");
    }
    s
}

const REDIRECT_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn token(rng: &mut Lcg, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..len).map(|_| *rng.pick(ALPHABET) as char).collect()
}

fn store_admin_url(rng: &mut Lcg, handle: &str, detail: &mut Vec<String>) -> String {
    if rng.chance(50) {
        detail.push("admin.shopify.com/store".into());
        format!("https://admin.shopify.com/store/{handle}")
    } else {
        detail.push("myshopify.com/admin".into());
        format!("https://{handle}.myshopify.com/admin")
    }
}

/// A click-tracking URL carrying `target` in a query parameter,
/// percent-encoded once or twice.
fn tracking_url(rng: &mut Lcg, target: &str, detail: &mut Vec<String>) -> String {
    let param = *rng.pick(&["url", "u", "redirect"]);
    let twice = rng.chance(40);
    let once = utf8_percent_encode(target, REDIRECT_KEEP).to_string();
    let value = if twice {
        utf8_percent_encode(&once, REDIRECT_KEEP).to_string()
    } else {
        once
    };
    detail.push(format!("{param}= {}", if twice { "x2" } else { "x1" }));
    let upn = token(rng, 48);
    let tail = if rng.chance(50) {
        "&amp;utm_source=leadsie&amp;utm_medium=email"
    } else {
        ""
    };
    if rng.chance(50) {
        format!("https://click.leadsie.com/ls/click?upn={upn}&amp;{param}={value}{tail}")
    } else {
        format!("https://click.leadsie.com/ls/click?{param}={value}&amp;upn={upn}{tail}")
    }
}

/// The code's digits cut across inline elements.
fn split_code(rng: &mut Lcg, code: &str, detail: &mut Vec<String>) -> String {
    let (a, b) = code.split_at(1 + rng.below(3));
    match rng.below(3) {
        0 => {
            detail.push("span|span".into());
            format!("<span>{a}</span><span>{b}</span>")
        }
        1 => {
            detail.push("span per digit".into());
            code.chars()
                .map(|d| format!("<span style=\"letter-spacing:4px\">{d}</span>"))
                .collect()
        }
        _ => {
            detail.push("b|font".into());
            format!("<b>{a}</b><font color=\"#111111\">{b}</font>")
        }
    }
}

/// Leadsie's content for one layout, its known answer and the subject.
fn leadsie(
    rng: &mut Lcg,
    layout: Layout,
    detail: &mut Vec<String>,
) -> (Content, Expect, String, Vec<String>) {
    let rid = rng.next() % 100_000;
    let p = pick_shop(rng, &[]);
    let domain = format!("{}.myshopify.com", p.handle);
    let subject = format!("{} has granted you access", p.name);
    let single = Expect::Grants(vec![(domain.clone(), p.code.clone())]);
    let mut markers = vec![p.code.clone()];
    let store_text = if rng.chance(30) {
        format!("https://{domain}")
    } else {
        domain.clone()
    };
    if store_text.starts_with("https://")
        && matches!(
            layout,
            Layout::PlainText
                | Layout::HtmlOnly
                | Layout::Alternative
                | Layout::StubText
                | Layout::SplitCode
                | Layout::ZeroWidth
                | Layout::NegNoLabel
        )
    {
        detail.push("https:// store".into());
    }
    let html_page = |rows: &[(String, String)]| {
        format!(
            "{HTML_HEAD}\n{}\n{}\n{}\n{HTML_FOOT}",
            html_intro(p.name),
            html_rows(rows),
            html_request(rid)
        )
    };
    let basic_rows = vec![
        ("Shopify store".to_owned(), esc(&store_text)),
        ("Collaborator code".to_owned(), p.code.clone()),
    ];
    // The HTML-featured layouts sometimes carry a stub text part too.
    let maybe_stub = |rng: &mut Lcg, detail: &mut Vec<String>| {
        rng.chance(30).then(|| {
            detail.push("+stub text".into());
            stub_text(rid)
        })
    };
    let (content, expect) = match layout {
        Layout::PlainText => (
            Content {
                text: Some(plain_text(p.name, &store_text, &p.code, rid)),
                html: None,
            },
            single,
        ),
        Layout::HtmlOnly => (
            Content {
                text: None,
                html: Some(html_page(&basic_rows)),
            },
            single,
        ),
        Layout::Alternative => (
            Content {
                text: Some(plain_text(p.name, &store_text, &p.code, rid)),
                html: Some(html_page(&basic_rows)),
            },
            single,
        ),
        Layout::StubText => (
            Content {
                text: Some(stub_text(rid)),
                html: Some(html_page(&basic_rows)),
            },
            single,
        ),
        Layout::StoreLink | Layout::RedirectLink => {
            let target = store_admin_url(rng, p.handle, detail);
            markers.push(target.clone());
            let href = if matches!(layout, Layout::RedirectLink) {
                tracking_url(rng, &target, detail)
            } else {
                target
            };
            let rows = vec![
                (
                    "Shopify store".to_owned(),
                    format!("<a href=\"{href}\" target=\"_blank\">{}</a>", esc(p.name)),
                ),
                ("Collaborator code".to_owned(), p.code.clone()),
            ];
            (
                Content {
                    text: maybe_stub(rng, detail),
                    html: Some(html_page(&rows)),
                },
                single,
            )
        }
        Layout::SplitCode => {
            let rows = vec![
                ("Shopify store".to_owned(), esc(&store_text)),
                (
                    "Collaborator code".to_owned(),
                    split_code(rng, &p.code, detail),
                ),
            ];
            (
                Content {
                    text: maybe_stub(rng, detail),
                    html: Some(html_page(&rows)),
                },
                single,
            )
        }
        Layout::ZeroWidth => {
            let store_gap = invisible_run(rng);
            let code_gap = invisible_run(rng);
            let html = if rng.chance(50) {
                detail.push("label+value in one cell".into());
                format!(
                    "{HTML_HEAD}\n{}\n<div style=\"display:none\">Your client shared access&zwnj;&nbsp;&zwnj;&nbsp;&zwnj;&nbsp;</div>\n\
                     <table role=\"presentation\"><tr><td><b>Shopify</b></td></tr>\n\
                     <tr><td>Shopify store:{store_gap}{}</td></tr>\n\
                     <tr><td>Collaborator code:{code_gap}{}</td></tr></table>\n{}\n{HTML_FOOT}",
                    html_intro(p.name),
                    esc(&store_text),
                    p.code,
                    html_request(rid)
                )
            } else {
                detail.push("value cells".into());
                html_page(&[
                    (
                        "Shopify store:".to_owned(),
                        format!("{store_gap}{}", esc(&store_text)),
                    ),
                    (
                        "Collaborator code:".to_owned(),
                        format!("{code_gap}{}", p.code),
                    ),
                ])
            };
            (
                Content {
                    text: maybe_stub(rng, detail),
                    html: Some(html),
                },
                single,
            )
        }
        Layout::StoreTable => {
            let mut grants = vec![(domain.clone(), p.code.clone())];
            let mut handles = vec![p.handle];
            let stores = 2 + rng.below(3);
            let mut rows: Vec<(String, String)> = Vec::new();
            let link = rng.chance(50);
            let store_cell = |d: &str| {
                if link {
                    format!("<a href=\"https://{d}\">{d}</a>")
                } else {
                    d.to_owned()
                }
            };
            rows.push((store_cell(&domain), p.code.clone()));
            for _ in 1..stores {
                let q = pick_shop(rng, &handles);
                handles.push(q.handle);
                let d = format!("{}.myshopify.com", q.handle);
                rows.push((store_cell(&d), q.code.clone()));
                markers.push(q.code.clone());
                grants.push((d, q.code));
            }
            // Other platforms' assets, with numbers where a code would be.
            let assets: [(String, String); 4] = [
                (
                    format!(
                        "Meta ad account: {} Ads (act_{})",
                        esc(p.name),
                        rng.next() % 90_000 + 10_000
                    ),
                    format!("{:04}", rng.below(10_000)),
                ),
                (
                    format!("Meta Business Manager {}", rng.next() % 9000 + 1000),
                    format!("{:04}", rng.below(10_000)),
                ),
                (
                    format!(
                        "Google Ads {}-{}-{}",
                        rng.below(900) + 100,
                        rng.below(900) + 100,
                        rng.below(9000) + 1000
                    ),
                    format!("{:04}", rng.below(10_000)),
                ),
                (
                    "Google Merchant Center store".to_owned(),
                    format!("{}", rng.below(9000) + 1000),
                ),
            ];
            for asset in assets {
                if rng.chance(60) {
                    let at = rng.below(rows.len() + 1);
                    rows.insert(at, asset);
                }
            }
            detail.push(format!("{stores} stores, {} rows", rows.len()));
            let mut t = String::from(
                "<table cellpadding=\"4\" style=\"border-collapse:collapse\">\n<tr><th style=\"text-align:left\">Store</th><th style=\"text-align:left\">Collaborator code</th></tr>\n",
            );
            for (a, b) in &rows {
                let _ = writeln!(t, "<tr><td>{a}</td><td>{b}</td></tr>");
            }
            t.push_str("</table>");
            let html = format!(
                "{HTML_HEAD}\n{}\n<p>Here is everything they shared:</p>\n{t}\n{}\n{HTML_FOOT}",
                html_intro(p.name),
                html_request(rid)
            );
            grants.sort();
            (
                Content {
                    text: maybe_stub(rng, detail),
                    html: Some(html),
                },
                Expect::Grants(grants),
            )
        }
        Layout::NegNoLabel => {
            let (line, how) = *rng.pick(&[
                ("{code}", "bare number"),
                ("Ticket: {code}", "ticket number"),
                ("Request ID {code}", "request id"),
            ]);
            detail.push(how.into());
            let line = line.replace("{code}", &p.code);
            let text = format!(
                "You've got access!\n\n{} connected their accounts through Leadsie on 2 November 2026.\n\n\
                 Shopify store: {store_text}\n{line}\n\n\
                 View the request in Leadsie: https://app.leadsie.com/requests/r{rid}\n",
                p.name
            );
            let html = rng.chance(50).then(|| {
                detail.push("+html".into());
                html_page(&[
                    ("Shopify store".to_owned(), esc(&store_text)),
                    (String::new(), esc(&line)),
                ])
            });
            (
                Content {
                    text: Some(text),
                    html,
                },
                Expect::NoGrant("the number beside the store has no collaborator-code label"),
            )
        }
        Layout::NegCustomDomain => {
            let custom = format!("{}.com", p.handle.replace('_', "-"));
            markers.push(custom.clone());
            let html = rng.chance(50);
            let content = if html {
                detail.push("html".into());
                Content {
                    text: None,
                    html: Some(html_page(&[
                        ("Shopify store".to_owned(), custom.clone()),
                        ("Collaborator code".to_owned(), p.code.clone()),
                    ])),
                }
            } else {
                Content {
                    text: Some(plain_text(p.name, &custom, &p.code, rid)),
                    html: None,
                }
            };
            (
                content,
                Expect::NoGrant("a custom domain names no permanent myshopify.com store"),
            )
        }
        Layout::NegNonStoreLink => {
            let target = *rng.pick(&[
                "https://www.{h}.com/",
                "https://{h}.com/collections/all",
                "https://linktr.ee/{h}",
                "https://shop.{h}.co.uk/admin",
            ]);
            let target = target.replace("{h}", &p.handle.replace('_', "-"));
            markers.push(target.clone());
            let href = if rng.chance(50) {
                tracking_url(rng, &target, detail)
            } else {
                target.clone()
            };
            detail.push(target);
            (
                Content {
                    text: None,
                    html: Some(html_page(&[
                        (
                            "Shopify store".to_owned(),
                            format!("<a href=\"{href}\">{}</a>", esc(p.name)),
                        ),
                        ("Collaborator code".to_owned(), p.code.clone()),
                    ])),
                },
                Expect::NoGrant("the store link goes to a site that is not a Shopify store"),
            )
        }
    };
    if !matches!(
        layout,
        Layout::StoreLink | Layout::RedirectLink | Layout::NegNonStoreLink
    ) {
        markers.push(p.handle.to_owned());
    }
    (content, expect, subject, markers)
}

// ---------------------------------------------------------------------------
// Forwards
// ---------------------------------------------------------------------------

const LEADSIE_NAME: &str = "Leadsie";
const LEADSIE_ADDR: &str = "notifications@leadsie.com";
const FORWARDER_NAME: &str = "Ann Example";
const FORWARDER_ADDR: &str = "ann@agency.com";
/// The mailbox collabd watches, where forwards are sent.
const INBOX: &str = "Access Requests <access@agency.com>";
const RFC_DATE: &str = "Mon, 2 Nov 2026 10:00:00 +0000";

fn quote(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                ">".to_owned()
            } else {
                format!("> {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// `De&nbsp;:` as Outlook writes a label in HTML.
fn html_label(label: &str) -> String {
    esc(label).replace('\u{a0}', "&nbsp;")
}

/// Wraps Leadsie's content in one client's inline forward, text and HTML
/// alike. Returns the new content and the outer subject.
fn inline_forward(
    rng: &mut Lcg,
    style: Style,
    lang: &Lang,
    inner: Content,
    subject: &str,
    detail: &mut Vec<String>,
    markers: &mut Vec<String>,
) -> (Content, String) {
    let from_mailbox = format!("{LEADSIE_NAME} <{LEADSIE_ADDR}>");
    let from_html =
        format!("{LEADSIE_NAME} &lt;<a href=\"mailto:{LEADSIE_ADDR}\">{LEADSIE_ADDR}</a>&gt;");
    let to_mailbox = format!("{FORWARDER_NAME} <{FORWARDER_ADDR}>");
    let note = lang.note;
    markers.push(LEADSIE_ADDR.to_owned());
    let (text, html, prefix) = match style {
        Style::Gmail => {
            let sep = if rng.chance(50) {
                lang.gmail_sep
            } else {
                GMAIL_SEP_EN
            };
            if sep != GMAIL_SEP_EN {
                detail.push("localised separator".into());
            }
            let l = lang.gmail;
            markers.push(l.from.to_owned());
            let text = inner.text.map(|t| {
                format!(
                    "{note}\n\n{sep}\n{} {from_mailbox}\n{} {}\n{} {subject}\n{} <{FORWARDER_ADDR}>\n\n\n{t}",
                    l.from, l.date, lang.date, l.subject, l.to
                )
            });
            let html = inner.html.map(|h| {
                format!(
                    "<div dir=\"ltr\">{}<br><br><div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">{sep}<br>\
                     {} <strong class=\"gmail_sendername\" dir=\"auto\">{LEADSIE_NAME}</strong> <span dir=\"auto\">&lt;<a href=\"mailto:{LEADSIE_ADDR}\">{LEADSIE_ADDR}</a>&gt;</span><br>\
                     {} {}<br>{} {}<br>{} &lt;<a href=\"mailto:{FORWARDER_ADDR}\">{FORWARDER_ADDR}</a>&gt;<br></div><br><br>\n{h}\n</div></div>",
                    esc(note),
                    html_label(l.from),
                    html_label(l.date),
                    esc(lang.date),
                    html_label(l.subject),
                    esc(subject),
                    html_label(l.to)
                )
            });
            (text, html, "Fwd:")
        }
        Style::OutlookDesktop | Style::OutlookWeb => {
            let l = lang.outlook;
            markers.push(l.from.to_owned());
            let desktop = style == Style::OutlookDesktop;
            let from_text = if desktop && rng.chance(30) {
                detail.push("[mailto:]".into());
                format!("{LEADSIE_NAME} [mailto:{LEADSIE_ADDR}]")
            } else {
                from_mailbox.clone()
            };
            let text = inner.text.map(|t| {
                format!(
                    "{note}\n\n________________________________\n{} {from_text}\n{} {}\n{} {to_mailbox}\n{} {subject}\n\n{t}",
                    l.from, l.date, lang.date, l.to, l.subject
                )
            });
            let html = inner.html.map(|h| {
                let block = format!(
                    "<b>{}</b> {}<br><b>{}</b> {}<br><b>{}</b> {FORWARDER_NAME} &lt;{FORWARDER_ADDR}&gt;<br><b>{}</b> {}",
                    html_label(l.from),
                    if desktop { esc(&from_text) } else { from_html.clone() },
                    html_label(l.date),
                    esc(lang.date),
                    html_label(l.to),
                    html_label(l.subject),
                    esc(subject)
                );
                if desktop {
                    format!(
                        "<div class=\"WordSection1\"><p class=\"MsoNormal\">{}<o:p></o:p></p><p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p>\n\
                         <div style=\"border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm\"><p class=\"MsoNormal\">{block}<o:p></o:p></p></div>\n\
                         <p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p>\n{h}\n</div>",
                        esc(note)
                    )
                } else {
                    format!(
                        "<div dir=\"ltr\">{}</div><div id=\"appendonsend\"></div>\n<hr style=\"display:inline-block;width:98%\" tabindex=\"-1\">\
                         <div id=\"divRplyFwdMsg\" dir=\"ltr\"><font face=\"Calibri, sans-serif\" style=\"font-size:11pt\" color=\"#000000\">{block}</font><div>&nbsp;</div></div>\n{h}",
                        esc(note)
                    )
                }
            });
            (text, html, lang.outlook_prefix)
        }
        Style::AppleMail => {
            let l = lang.apple;
            markers.push(l.from.to_owned());
            let quoted = rng.chance(60);
            if quoted && inner.text.is_some() {
                detail.push("text > quoted".into());
            }
            let text = inner.text.map(|t| {
                let fwd = format!(
                    "{}\n\n{} {from_mailbox}\n{} {subject}\n{} {}\n{} {FORWARDER_ADDR}\n\n{t}",
                    lang.apple_intro, l.from, l.subject, l.date, lang.date, l.to
                );
                let fwd = if quoted { quote(&fwd) } else { fwd };
                format!("{note}\n\n\n{fwd}")
            });
            let html = inner.html.map(|h| {
                let row = |label: &str, value: &str| {
                    format!(
                        "<div style=\"margin-top: 0px; margin-right: 0px; margin-bottom: 0px; margin-left: 0px;\"><span style=\"font-family: -apple-system, Helvetica Neue; color:rgba(0, 0, 0, 1.0);\"><b>{} </b></span><span style=\"font-family: -apple-system, Helvetica Neue;\">{value}<br></span></div>",
                        html_label(label)
                    )
                };
                format!(
                    "<div dir=\"auto\">{}<br><div dir=\"ltr\"><br><blockquote type=\"cite\">{}<br><br></blockquote></div>\
                     <blockquote type=\"cite\"><div dir=\"ltr\">{}{}{}{}<br></div>\n{h}\n</blockquote></div>",
                    esc(note),
                    html_label(lang.apple_intro),
                    row(l.from, &from_html),
                    row(l.subject, &esc(subject)),
                    row(l.date, &esc(lang.date)),
                    row(l.to, &format!("<a href=\"mailto:{FORWARDER_ADDR}\">{FORWARDER_ADDR}</a>")),
                )
            });
            (text, html, "Fwd:")
        }
        Style::Thunderbird => {
            let l = lang.thunderbird;
            markers.push(l.from.to_owned());
            let text = inner.text.map(|t| {
                format!(
                    "{note}\n\n\n{}\n{} \t{subject}\n{} \t{RFC_DATE}\n{} \t{from_mailbox}\n{} \t{FORWARDER_ADDR}\n\n\n\n{t}",
                    lang.tb_sep, l.subject, l.date, l.from, l.to
                )
            });
            let html = inner.html.map(|h| {
                let row = |label: &str, value: &str| {
                    format!(
                        "<tr><th valign=\"BASELINE\" nowrap=\"nowrap\" align=\"RIGHT\">{} </th><td>{value}</td></tr>\n",
                        html_label(label)
                    )
                };
                format!(
                    "<p>{}</p>\n<div class=\"moz-forward-container\"><br><br>{}\n<table class=\"moz-email-headers-table\" cellspacing=\"0\" cellpadding=\"0\" border=\"0\"><tbody>\n{}{}{}{}</tbody></table><br><br>\n{h}\n</div>",
                    esc(note),
                    esc(lang.tb_sep),
                    row(l.subject, &esc(subject)),
                    row(l.date, RFC_DATE),
                    row(
                        l.from,
                        &format!(
                            "{LEADSIE_NAME} <a class=\"moz-txt-link-rfc2396E\" href=\"mailto:{LEADSIE_ADDR}\">&lt;{LEADSIE_ADDR}&gt;</a>"
                        )
                    ),
                    row(
                        l.to,
                        &format!("<a class=\"moz-txt-link-abbreviated\" href=\"mailto:{FORWARDER_ADDR}\">{FORWARDER_ADDR}</a>")
                    ),
                )
            });
            (text, html, "Fwd:")
        }
        Style::Direct | Style::Attachment => unreachable!("not an inline forward"),
    };
    (Content { text, html }, format!("{prefix} {subject}"))
}

// ---------------------------------------------------------------------------
// MIME
// ---------------------------------------------------------------------------

enum Part {
    Text { html: bool, body: String },
    Alternative(Vec<Part>),
    Mixed(Vec<Part>),
    Message(Vec<u8>),
}

/// How every text part is written.
struct Enc {
    cte: Cte,
    charset: Charset,
    /// Quoted-printable lines are at most this long (soft breaks included).
    qp_width: usize,
    /// Quoted-printable gets a soft break inside each occurrence of these.
    qp_cut: Vec<String>,
}

fn crlf(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// HTML in a single-byte charset: characters it cannot carry become
/// numeric character references, as mailers write them.
fn html_in(charset: Charset, s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if charset == Charset::Utf8 || charset.byte(c).is_some() {
            out.push(c);
        } else {
            let _ = write!(out, "&#{};", c as u32);
        }
    }
    out
}

fn qp_encode(bytes: &[u8], enc: &Enc) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let last = lines.len() - 1;
    for (n, line) in lines.into_iter().enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        // Byte offsets in this line where a soft break is forced.
        let mut cuts: Vec<usize> = Vec::new();
        for needle in &enc.qp_cut {
            let nb = needle.as_bytes();
            if nb.len() < 2 {
                continue;
            }
            let mut from = 0;
            while let Some(p) = line[from..]
                .windows(nb.len())
                .position(|w| w.eq_ignore_ascii_case(nb))
            {
                let at = from + p;
                let mut cut = at + nb.len() / 2;
                // On a character boundary: the cut is for labels and codes,
                // a split UTF-8 sequence is tested by the width alone.
                while cut > at && (line[cut] & 0xc0) == 0x80 {
                    cut -= 1;
                }
                cuts.push(cut);
                from = at + nb.len();
            }
        }
        let mut col = 0;
        for (i, &b) in line.iter().enumerate() {
            let literal = (b == b' ' || b == b'\t') && i + 1 < line.len()
                || (33..=126).contains(&b) && b != b'=';
            let token_len = if literal { 1 } else { 3 };
            if (cuts.contains(&i) && col > 0) || col + token_len > enc.qp_width - 1 {
                out.extend_from_slice(b"=\r\n");
                col = 0;
            }
            if literal {
                out.push(b);
            } else {
                let _ = write!(VecWriter(&mut out), "={b:02X}");
            }
            col += token_len;
        }
        if n != last {
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

struct VecWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn b64_lines(bytes: &[u8]) -> Vec<u8> {
    let s = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = Vec::with_capacity(s.len() + s.len() / 38);
    for chunk in s.as_bytes().chunks(76) {
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn render(part: &Part, enc: &Enc, rng: &mut Lcg, out: &mut Vec<u8>) {
    match part {
        Part::Text { html, body } => {
            let body = if *html {
                html_in(enc.charset, body)
            } else {
                body.clone()
            };
            let bytes = enc.charset.encode(&crlf(&body));
            let (cte, encoded) = match enc.cte {
                Cte::Identity if bytes.is_ascii() => ("7bit", bytes),
                Cte::Identity => ("8bit", bytes),
                Cte::QuotedPrintable => ("quoted-printable", qp_encode(&bytes, enc)),
                Cte::Base64 => ("base64", b64_lines(&bytes)),
            };
            let _ = write!(
                VecWriter(out),
                "Content-Type: text/{}; charset=\"{}\"\r\nContent-Transfer-Encoding: {cte}\r\n\r\n",
                if *html { "html" } else { "plain" },
                enc.charset.name()
            );
            out.extend_from_slice(&encoded);
            if !out.ends_with(b"\r\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
        Part::Alternative(parts) | Part::Mixed(parts) => {
            let kind = if matches!(part, Part::Alternative(_)) {
                "alternative"
            } else {
                "mixed"
            };
            let boundary = format!("=_{}_{}", kind, token(rng, 16));
            let _ = write!(
                VecWriter(out),
                "Content-Type: multipart/{kind}; boundary=\"{boundary}\"\r\n\r\n"
            );
            for p in parts {
                let _ = write!(VecWriter(out), "--{boundary}\r\n");
                render(p, enc, rng, out);
            }
            let _ = write!(VecWriter(out), "--{boundary}--\r\n");
        }
        Part::Message(raw) => {
            out.extend_from_slice(
                b"Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"Access granted.eml\"\r\n\r\n",
            );
            out.extend_from_slice(raw);
            if !out.ends_with(b"\r\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
}

fn message(
    from: &str,
    to: &str,
    subject: &str,
    id: &str,
    body: &Part,
    enc: &Enc,
    rng: &mut Lcg,
) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = write!(
        VecWriter(&mut out),
        "From: {from}\r\nTo: {to}\r\nSubject: {}\r\nDate: {RFC_DATE}\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\n",
        header_text(subject)
    );
    render(body, enc, rng, &mut out);
    out
}

fn body_part(c: Content) -> Part {
    match (c.text, c.html) {
        (Some(t), Some(h)) => Part::Alternative(vec![
            Part::Text {
                html: false,
                body: t,
            },
            Part::Text {
                html: true,
                body: h,
            },
        ]),
        (Some(t), None) => Part::Text {
            html: false,
            body: t,
        },
        (None, Some(h)) => Part::Text {
            html: true,
            body: h,
        },
        (None, None) => Part::Text {
            html: false,
            body: String::new(),
        },
    }
}

/// Leadsie's HTML as a whole document, as it leaves Leadsie.
fn html_document(body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta name=\"viewport\" content=\"width=device-width\"><title>Leadsie</title>\
         <style>td {{ font-family: Helvetica, Arial, sans-serif; }} .muted {{ color: #999 }}</style></head>\n<body>\n{body}\n</body></html>\n"
    )
}

/// Whether every text (not HTML) part can be written in `charset`.
fn text_fits(c: &Content, extra: &[&str], charset: Charset) -> bool {
    c.text
        .iter()
        .map(String::as_str)
        .chain(extra.iter().copied())
        .all(|t| charset.encodes(t))
}

fn build(
    rng: &mut Lcg,
    id: usize,
    layout: Layout,
    style: Style,
    lang: Option<&'static Lang>,
    cte: Cte,
    charset: Charset,
) -> Variant {
    let mut detail = Vec::new();
    let (content, expect, subject, mut markers) = leadsie(rng, layout, &mut detail);
    let leadsie_from = format!("{LEADSIE_NAME} <{LEADSIE_ADDR}>");
    let forwarder_from = format!("{FORWARDER_NAME} <{FORWARDER_ADDR}>");
    let msg_id = format!("gen-{id}@mailgen.test");

    // The forward's text parts must fit the charset; otherwise the whole
    // message is written in UTF-8, as a mail client would.
    let note_texts: Vec<&str> = match (style, lang) {
        (Style::Direct, _) | (_, None) => vec![],
        (Style::Attachment, Some(l)) => vec![l.attach_note],
        // HTML carries any character as a reference; only text parts limit.
        (_, Some(_)) if content.text.is_none() => vec![],
        (_, Some(l)) => vec![
            l.note,
            l.date,
            l.outlook.from,
            l.outlook.date,
            l.outlook.to,
            l.outlook.subject,
            l.gmail_sep,
            l.gmail.from,
            l.gmail.date,
            l.gmail.to,
            l.gmail.subject,
            l.apple_intro,
            l.apple.from,
            l.apple.date,
            l.apple.to,
            l.apple.subject,
            l.tb_sep,
            l.thunderbird.from,
            l.thunderbird.date,
            l.thunderbird.to,
            l.thunderbird.subject,
        ],
    };
    let charset = if text_fits(&content, &note_texts, charset) {
        charset
    } else {
        Charset::Utf8
    };
    let enc = |rng: &mut Lcg, markers: &[String]| {
        let mut qp_cut: Vec<String> = markers.to_vec();
        qp_cut.extend([
            "Collaborator".to_owned(),
            "myshopify".to_owned(),
            "Shopify store".to_owned(),
        ]);
        Enc {
            cte,
            charset,
            qp_width: 24 + rng.below(53),
            qp_cut,
        }
    };
    let raw = match style {
        Style::Direct => {
            let content = Content {
                text: content.text,
                html: content.html.map(|h| html_document(&h)),
            };
            let e = enc(rng, &markers);
            message(
                &leadsie_from,
                &forwarder_from,
                &subject,
                &msg_id,
                &body_part(content),
                &e,
                rng,
            )
        }
        Style::Attachment => {
            let lang = lang.expect("a forward has a language");
            let content = Content {
                text: content.text,
                html: content.html.map(|h| html_document(&h)),
            };
            let e = enc(rng, &markers);
            let inner = message(
                &leadsie_from,
                &forwarder_from,
                &subject,
                &format!("orig-{id}@leadsie.com"),
                &body_part(content),
                &e,
                rng,
            );
            let outer = Part::Mixed(vec![
                Part::Text {
                    html: false,
                    body: format!("{}\n", lang.attach_note),
                },
                Part::Message(inner),
            ]);
            message(
                &forwarder_from,
                INBOX,
                &format!("Fwd: {subject}"),
                &msg_id,
                &outer,
                &e,
                rng,
            )
        }
        _ => {
            let lang = lang.expect("a forward has a language");
            let (content, outer_subject) = inline_forward(
                rng,
                style,
                lang,
                content,
                &subject,
                &mut detail,
                &mut markers,
            );
            let content = Content {
                text: content.text,
                html: content.html.map(|h| {
                    format!(
                        "<html><head><meta charset=\"{}\"></head><body>\n{h}\n</body></html>\n",
                        charset.name()
                    )
                }),
            };
            let e = enc(rng, &markers);
            message(
                &forwarder_from,
                INBOX,
                &outer_subject,
                &msg_id,
                &body_part(content),
                &e,
                rng,
            )
        }
    };
    Variant {
        id,
        layout,
        style,
        lang,
        cte,
        charset,
        detail,
        expect,
        raw,
        markers,
    }
}
