//! The mail-client corpus (issue 22, item 3): a Leadsie grant forwarded by
//! colleagues through the mail clients they really use, in the locales each
//! client ships in, one to three hops deep or as an attachment carried by an
//! inline forward, each genuine case with twins that must give no grant.
//!
//! Every string a client writes (separator, labels, attribution, date) is
//! in `clientgen_locales.rs` or beside the client's renderer below, written
//! by us from what those clients are known to produce. Each [`Variant`]
//! carries its known answer.

#[path = "clientgen_locales.rs"]
mod locales;
#[path = "clientgen_write.rs"]
mod write;

use std::fmt::Write as _;

use base64::Engine as _;
pub use locales::{FOREIGN, Foreign, LOCALES, Loc};
use write::{Ink, render};

// ---------------------------------------------------------------------------
// Deterministic choices
// ---------------------------------------------------------------------------

use crate::verdict::header_text;
pub use crate::verdict::{Expect, Lcg};

// ---------------------------------------------------------------------------
// Clients and where they ship
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    AppleMail,
    Gmail,
    /// Gmail's reply: "On <date> Name <addr> wrote:" and a `>`-quoted original.
    GmailReply,
    Outlook2013,
    /// Outlook 2016/2019/365 for Windows.
    Outlook2019,
    /// Outlook for Mac's attribution line and a four-space-indented original.
    OutlookMac,
    /// Outlook for Mac 16's header block, with no separator and no blank
    /// line before the original.
    OutlookMacHeaders,
    /// Outlook on the web and Outlook.com.
    OutlookWeb,
    /// The new Outlook for Windows.
    NewOutlook,
    ThunderbirdText,
    ThunderbirdHtml,
    Yahoo,
    HubSpot,
    Missive,
    MailMate,
    /// IONOS (1&1) webmail.
    Ionos,
    Roundcube,
    Zoho,
    Proton,
    Fastmail,
    Spark,
    Mutt,
    /// Outlook for iOS and Android.
    OutlookMobile,
    /// Samsung Email on Android.
    SamsungEmail,
}

pub const CLIENTS: &[Client] = &[
    Client::AppleMail,
    Client::Gmail,
    Client::GmailReply,
    Client::Outlook2013,
    Client::Outlook2019,
    Client::OutlookMac,
    Client::OutlookMacHeaders,
    Client::OutlookWeb,
    Client::NewOutlook,
    Client::ThunderbirdText,
    Client::ThunderbirdHtml,
    Client::Yahoo,
    Client::HubSpot,
    Client::Missive,
    Client::MailMate,
    Client::Ionos,
    Client::Roundcube,
    Client::Zoho,
    Client::Proton,
    Client::Fastmail,
    Client::Spark,
    Client::Mutt,
    Client::OutlookMobile,
    Client::SamsungEmail,
];

impl Client {
    pub fn name(self) -> &'static str {
        match self {
            Client::AppleMail => "apple-mail",
            Client::Gmail => "gmail",
            Client::GmailReply => "gmail-reply",
            Client::Outlook2013 => "outlook-2013",
            Client::Outlook2019 => "outlook-2019",
            Client::OutlookMac => "outlook-mac",
            Client::OutlookMacHeaders => "outlook-mac-16",
            Client::OutlookWeb => "outlook-web",
            Client::NewOutlook => "new-outlook",
            Client::ThunderbirdText => "thunderbird-text",
            Client::ThunderbirdHtml => "thunderbird-html",
            Client::Yahoo => "yahoo",
            Client::HubSpot => "hubspot",
            Client::Missive => "missive",
            Client::MailMate => "mailmate",
            Client::Ionos => "ionos",
            Client::Roundcube => "roundcube",
            Client::Zoho => "zoho",
            Client::Proton => "proton",
            Client::Fastmail => "fastmail",
            Client::Spark => "spark",
            Client::Mutt => "mutt",
            Client::OutlookMobile => "outlook-mobile",
            Client::SamsungEmail => "samsung-email",
        }
    }

    /// The locales the client is shipped in (of the ones we generate).
    pub fn locales(self) -> Vec<&'static Loc> {
        let only = |codes: &[&str]| -> Vec<&'static Loc> {
            LOCALES.iter().filter(|l| codes.contains(&l.code)).collect()
        };
        let all_but = |codes: &[&str]| -> Vec<&'static Loc> {
            LOCALES
                .iter()
                .filter(|l| !codes.contains(&l.code))
                .collect()
        };
        match self {
            // macOS and iOS have no Estonian interface.
            Client::AppleMail => all_but(&["et"]),
            // Office for Mac ships without Estonian, Croatian and Romanian.
            Client::OutlookMac | Client::OutlookMacHeaders => all_but(&["et", "hr", "ro"]),
            Client::Yahoo => all_but(&["et", "hr"]),
            Client::HubSpot => only(&[
                "en", "de", "es", "fi", "fr", "it", "ja", "nl", "pl", "pt-BR", "sv", "da", "nb",
                "ko", "zh-CN", "zh-TW", "cs", "id", "th", "vi",
            ]),
            Client::Missive => only(&["en", "fr"]),
            Client::MailMate | Client::Fastmail | Client::Mutt => only(&["en"]),
            Client::Ionos => only(&["en", "de", "fr", "es", "it", "nl", "pl"]),
            Client::Zoho => all_but(&["et", "fi", "sk", "hr", "el"]),
            Client::Proton => all_but(&["et", "vi", "th", "he", "ar"]),
            Client::Spark => only(&[
                "en", "de", "fr", "es", "it", "pt-BR", "nl", "ru", "uk", "ja", "zh-CN", "ko",
            ]),
            Client::Gmail
            | Client::GmailReply
            | Client::Outlook2013
            | Client::Outlook2019
            | Client::OutlookWeb
            | Client::NewOutlook
            | Client::ThunderbirdText
            | Client::ThunderbirdHtml
            | Client::Roundcube
            | Client::OutlookMobile
            | Client::SamsungEmail => LOCALES.iter().collect(),
        }
    }

    fn mailer(self) -> (&'static str, &'static str) {
        match self {
            Client::AppleMail => ("X-Mailer", "Apple Mail (2.3826.300.87.4.3)"),
            Client::Gmail | Client::GmailReply => ("X-Gm-Features", "AQt7F2oExample"),
            Client::Outlook2013 => ("X-Mailer", "Microsoft Outlook 15.0"),
            Client::Outlook2019 => ("X-Mailer", "Microsoft Outlook 16.0"),
            Client::OutlookMac | Client::OutlookMacHeaders => {
                ("User-Agent", "Microsoft-MacOutlook/16.89.24091630")
            }
            Client::OutlookWeb | Client::NewOutlook => ("X-MS-Has-Attach", ""),
            Client::ThunderbirdText | Client::ThunderbirdHtml => (
                "User-Agent",
                "Mozilla Thunderbird 128.4.0esr (Windows NT 10.0; Win64; x64)",
            ),
            Client::Yahoo => ("X-Mailer", "WebService/1.1.22806 YMailNorrin"),
            Client::HubSpot => ("X-HubSpot-Forward", "1"),
            Client::Missive => ("X-Mailer", "Missive Email Client"),
            Client::MailMate => ("X-Mailer", "MailMate (2.0r6255)"),
            Client::Ionos => ("X-Mailer", "Open-Xchange Mailer v7.10.6-Rev70"),
            Client::Roundcube => ("User-Agent", "Roundcube Webmail/1.6.9"),
            Client::Zoho => ("User-Agent", "Zoho Mail"),
            Client::Proton => ("X-Pm-Origin", "internal"),
            Client::Fastmail => ("User-Agent", "Cyrus-JMAP/3.11.0"),
            Client::Spark => ("X-Readdle-Message-ID", "spark-generated"),
            Client::Mutt => ("User-Agent", "NeoMutt/20231103"),
            Client::OutlookMobile => ("X-Mailer", "Outlook for iOS and Android"),
            Client::SamsungEmail => ("X-Mailer", "Samsung Email 6.1.90.16"),
        }
    }
}

/// Who wrote one hop of a chain.
#[derive(Clone, Copy)]
pub enum Writer {
    Client(Client, &'static Loc),
    /// A client in a language no label list knows.
    Foreign(&'static Foreign),
    /// A colleague who sent the Leadsie email on as an attachment
    /// (`message/rfc822`) with a short note.
    Attach(&'static Loc),
}

impl Writer {
    pub fn client_name(&self) -> &'static str {
        match self {
            Writer::Client(c, _) => c.name(),
            Writer::Foreign(_) => "foreign",
            Writer::Attach(_) => "as-attachment",
        }
    }

    pub fn lang(&self) -> &'static str {
        match self {
            Writer::Client(_, l) | Writer::Attach(l) => l.code,
            Writer::Foreign(f) => f.code,
        }
    }
}

// ---------------------------------------------------------------------------
// People
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub addr: String,
    /// Clients that copy the original header write `"Name" <addr>`.
    pub quoted: bool,
}

impl Person {
    fn new(name: &str, addr: &str) -> Person {
        Person {
            name: name.to_owned(),
            addr: addr.to_owned(),
            quoted: false,
        }
    }

    fn display(&self) -> &str {
        if self.name.is_empty() {
            &self.addr
        } else {
            &self.name
        }
    }

    /// `Name <addr>`, `"Name" <addr>`, or the bare address.
    fn angle(&self) -> String {
        match (self.name.is_empty(), self.quoted) {
            (true, _) => self.addr.clone(),
            (false, false) => format!("{} <{}>", self.name, self.addr),
            (false, true) => format!("\"{}\" <{}>", self.name, self.addr),
        }
    }

    /// Outlook 2013: `Name [mailto:addr]`.
    fn mailto(&self) -> String {
        format!("{} [mailto:{}]", self.display(), self.addr)
    }

    fn html(&self) -> String {
        if self.name.is_empty() {
            link(&self.addr)
        } else {
            format!("{} &lt;{}&gt;", esc(&self.name), link(&self.addr))
        }
    }

    /// As the message's own From or To header writes it.
    fn header(&self) -> String {
        if self.name.is_empty() {
            return self.addr.clone();
        }
        let name = if self.name.is_ascii() {
            if self.name.contains([',', '.', '"', '(']) {
                format!("\"{}\"", self.name.replace('"', "\\\""))
            } else {
                self.name.clone()
            }
        } else {
            header_text(&self.name)
        };
        format!("{name} <{}>", self.addr)
    }
}

const COLLEAGUES: &[(&str, &str)] = &[
    ("Ann Berg", "ann@agency.com"),
    ("Bruno Keller", "bruno.keller@agency.com"),
    ("Ops Team", "ops@mail.agency.com"),
    ("Chloé Martin", "chloe.martin@agency.com"),
    ("Yuki Tanaka", "yuki@agency.com"),
    ("Ольга Петрова", "olga@eu.agency.com"),
    ("", "accounts@agency.com"),
    ("Sam O'Neil", "sam.oneil@agency.com"),
];

const STRANGERS: &[(&str, &str)] = &[
    ("Mallory", "mallory@evil.example"),
    ("Eve Outsider", "eve@outsider.example"),
    // Look-alikes of a colleague.
    ("Ann Berg", "ann@agency-com.example"),
    ("Bruno Keller", "bruno.keller@agency.co"),
    ("Partner Agency", "hello@other-agency.example"),
];

const LEADSIE_NAMES: &[&str] = &["Leadsie", "Leadsie", "Leadsie Notifications"];
pub const LEADSIE_ADDR: &str = "notifications@leadsie.com";

/// Originals that are not Leadsie's though they carry the same text.
const NOT_LEADSIE: &[(&str, &str)] = &[
    ("Acme Co", "someone@client-shop.example"),
    ("Leadsie", "notifications@leadsie.co"),
    ("Leadsie", "notifications@leadsie.com.client-shop.example"),
    ("Shop Owner", "owner@client-shop.example"),
];

fn inbox() -> Person {
    Person::new("Access Requests", "access@agency.com")
}

// ---------------------------------------------------------------------------
// Time: every message is from Monday 2 or Tuesday 3 November 2026 (UTC)
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct When {
    day: u32,
    hour: u32,
    min: u32,
    sec: u32,
}

impl When {
    fn rfc(self) -> String {
        let dow = ["Mon", "Tue"][(self.day - 2) as usize];
        format!(
            "{dow}, {} Nov 2026 {:02}:{:02}:{:02} +0000",
            self.day, self.hour, self.min, self.sec
        )
    }

    /// Zoho pads the day.
    fn rfc_padded(self) -> String {
        let dow = ["Mon", "Tue"][(self.day - 2) as usize];
        format!(
            "{dow}, {:02} Nov 2026 {:02}:{:02}:{:02} +0000",
            self.day, self.hour, self.min, self.sec
        )
    }
}

/// Fills a date template of `clientgen_locales.rs` in the locale's words.
fn date(tpl: &str, loc: &Loc, w: When) -> String {
    let year = 2026 + if loc.buddhist { 543 } else { 0 };
    let di = (w.day - 2) as usize;
    let h12 = match w.hour % 12 {
        0 => 12,
        h => h,
    };
    let ap = loc.ampm[usize::from(w.hour >= 12)];
    let pairs: [(&str, String); 17] = [
        ("{DAY}", loc.day[di].to_owned()),
        ("{dy}", loc.dy[di].to_owned()),
        ("{MONTH}", loc.nov.to_owned()),
        ("{mon}", loc.nov_short.to_owned()),
        ("{dd}", format!("{:02}", w.day)),
        ("{d}", w.day.to_string()),
        ("{mm}", "11".to_owned()),
        ("{m}", "11".to_owned()),
        ("{yyyy}", year.to_string()),
        ("{yy}", (year % 100).to_string()),
        ("{HH}", format!("{:02}", w.hour)),
        ("{H}", w.hour.to_string()),
        ("{hh}", format!("{h12:02}")),
        ("{h}", h12.to_string()),
        ("{mi}", format!("{:02}", w.min)),
        ("{ss}", format!("{:02}", w.sec)),
        ("{ap}", ap.to_owned()),
    ];
    let mut s = tpl.to_owned();
    for (k, v) in pairs {
        s = s.replace(k, &v);
    }
    s
}

fn fill(tpl: &str, date: &str, p: &Person) -> String {
    tpl.replace("{date}", date)
        .replace("{name}", p.display())
        .replace("{addr}", &p.addr)
}

// ---------------------------------------------------------------------------
// Text helpers
// ---------------------------------------------------------------------------

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn link(addr: &str) -> String {
    format!("<a href=\"mailto:{addr}\">{addr}</a>")
}

fn quote(text: &str, prefix: &str) -> String {
    let bare = prefix.trim_end();
    text.lines()
        .map(|l| {
            if l.is_empty() {
                bare.to_owned()
            } else if l.starts_with('>') && prefix == "> " {
                // Mail clients write a second level as `>>`.
                format!(">{l}")
            } else {
                format!("{prefix}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("    {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn text_to_html(t: &str) -> String {
    let lines: Vec<String> = t.lines().map(esc).collect();
    format!("<div>{}</div>", lines.join("<br>\n"))
}

/// Outlook on the web prefixes the ids and classes of the HTML it quotes.
fn x_prefixed(html: &str) -> String {
    html.replace(" id=\"", " id=\"x_")
        .replace(" class=\"", " class=\"x_")
}

/// Yahoo renames the ids and classes of the HTML it quotes.
fn yiv_prefixed(html: &str, n: u32) -> String {
    html.replace(" id=\"", &format!(" id=\"yiv{n}"))
        .replace(" class=\"", &format!(" class=\"yiv{n}"))
}

// ---------------------------------------------------------------------------
// The Leadsie grant
// ---------------------------------------------------------------------------

const SHOPS: &[(&str, &str)] = &[
    ("Acme Co", "acme-co"),
    ("Nordlicht Naturkosmetik", "nordlicht-kosmetik"),
    ("Maison Belle", "maison-belle-paris"),
    ("Tienda Sol", "tienda-sol"),
    ("Sakura Tea House", "sakura-tea"),
    ("Kraków Ceramics", "krakow-ceramics"),
    ("Blue Fjord Outdoor", "blue-fjord"),
    ("ac3cb8", "ac3cb8"),
    ("Olive & Thyme", "olive-thyme"),
];

/// A message as a client sees it when it forwards or quotes it.
#[derive(Clone)]
struct Msg {
    from: Person,
    to: Person,
    when: When,
    subject: String,
    text: String,
    /// The body's HTML (what goes inside `<body>`), if it has one.
    html: Option<String>,
    /// An attached original the forward carries along.
    attachment: Option<Vec<u8>>,
    /// Leadsie's emails may carry a Reply-To; Apple Mail and Thunderbird
    /// show it as one more row of the header block.
    reply_to: Option<Person>,
}

impl Msg {
    fn html_or_text(&self) -> String {
        self.html
            .clone()
            .unwrap_or_else(|| text_to_html(&self.text))
    }
}

struct Grant {
    client: &'static str,
    stores: Vec<(String, String)>,
}

fn pick_grant(rng: &mut Lcg) -> Grant {
    let n = if rng.chance(10) { 2 } else { 1 };
    let mut stores = Vec::new();
    let mut client = "";
    while stores.len() < n {
        let &(name, handle) = rng.pick(SHOPS);
        let domain = format!("{handle}.myshopify.com");
        if stores.iter().any(|(d, _)| *d == domain) {
            continue;
        }
        if client.is_empty() {
            client = name;
        }
        let code = if rng.chance(15) {
            "0473".to_owned()
        } else if rng.chance(20) {
            format!("{:04}", rng.below(1000))
        } else {
            format!("{:04}", rng.below(10_000))
        };
        stores.push((domain, code));
    }
    Grant { client, stores }
}

fn leadsie_text(g: &Grant, rid: u32) -> String {
    let mut s = format!(
        "You've been granted access\n\n{} connected their accounts through your request \"Onboarding - {}\".\n\n",
        g.client, g.client
    );
    for (store, code) in &g.stores {
        let _ = write!(s, "Shopify\nStore: {store}\nCollaborator code: {code}\n\n");
    }
    let _ = write!(
        s,
        "Request access from your Shopify Partner Dashboard with the collaborator code above.\n\n\
         View request: https://app.leadsie.com/requests/r{rid}\n\n\
         Leadsie - the easiest way to get access to your clients' accounts.\n"
    );
    s
}

fn leadsie_html(g: &Grant, rid: u32) -> String {
    let mut rows = String::new();
    for (store, code) in &g.stores {
        let _ = write!(
            rows,
            "<tr><th colspan=\"2\" align=\"left\" style=\"padding:8px\">Shopify</th></tr>\n\
             <tr><td style=\"padding:4px 8px;color:#555\">Store</td><td style=\"padding:4px 8px\"><a href=\"https://{store}\">{store}</a></td></tr>\n\
             <tr><td style=\"padding:4px 8px;color:#555\">Collaborator code</td><td style=\"padding:4px 8px\"><b>{code}</b></td></tr>\n"
        );
    }
    format!(
        "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"background:#f4f5f7\"><tr><td align=\"center\">\n\
         <table role=\"presentation\" width=\"560\" cellpadding=\"0\" cellspacing=\"0\" class=\"leadsie-card\" style=\"background:#ffffff;font-family:Helvetica,Arial,sans-serif\">\n\
         <tr><td style=\"padding:24px\"><img src=\"https://leadsie.com/email/logo.png\" alt=\"Leadsie\" width=\"96\"></td></tr>\n\
         <tr><td style=\"padding:0 24px\"><h1 style=\"font-size:20px\">You've been granted access</h1>\n\
         <p>{} connected their accounts through your request &ldquo;Onboarding - {}&rdquo;.</p></td></tr>\n\
         <tr><td style=\"padding:0 24px\"><table cellpadding=\"0\" cellspacing=\"0\" style=\"border:1px solid #e5e7eb\">\n{rows}</table></td></tr>\n\
         <tr><td style=\"padding:24px\"><p>Request access from your Shopify Partner Dashboard with the collaborator code above.</p>\n\
         <a href=\"https://app.leadsie.com/requests/r{rid}\" id=\"cta\" style=\"color:#4f46e5\">View request</a></td></tr>\n\
         </table></td></tr></table>",
        esc(g.client),
        esc(g.client)
    )
}

// ---------------------------------------------------------------------------
// MIME
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cte {
    Bit7,
    Bit8,
    Qp,
    B64,
}

enum Part {
    Text { html: bool, body: String, cte: Cte },
    Alt(Vec<Part>),
    Mixed(Vec<Part>),
    Rfc822(Vec<u8>),
}

fn crlf(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\n', "\r\n")
}

fn qp(s: &str) -> String {
    let mut out = String::new();
    for (n, line) in s.replace("\r\n", "\n").split('\n').enumerate() {
        if n > 0 {
            out.push_str("\r\n");
        }
        let bytes = line.as_bytes();
        let mut col = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let blank = b == b' ' || b == b'\t';
            let encode = b == b'=' || (blank && last) || !(blank || (33..=126).contains(&b));
            let piece = if encode {
                format!("={b:02X}")
            } else {
                (b as char).to_string()
            };
            if col + piece.len() > 75 {
                out.push_str("=\r\n");
                col = 0;
            }
            col += piece.len();
            out.push_str(&piece);
        }
    }
    out
}

fn b64(bytes: &[u8]) -> String {
    let all = base64::engine::general_purpose::STANDARD.encode(bytes);
    all.as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n")
}

fn write_part(p: &Part, tag: &str, seq: &mut u32, out: &mut Vec<u8>) {
    match p {
        Part::Text { html, body, cte } => {
            let kind = if *html { "html" } else { "plain" };
            let charset = if body.is_ascii() { "us-ascii" } else { "utf-8" };
            let cte = match (*cte, body.is_ascii()) {
                (Cte::Bit8, true) => Cte::Bit7,
                (c, _) => c,
            };
            let (name, encoded) = match cte {
                Cte::Bit7 | Cte::Bit8 => {
                    (if cte == Cte::Bit7 { "7bit" } else { "8bit" }, crlf(body))
                }
                Cte::Qp => ("quoted-printable", qp(body)),
                Cte::B64 => ("base64", b64(body.as_bytes())),
            };
            let _ = write!(
                VecWriter(out),
                "Content-Type: text/{kind}; charset=\"{charset}\"\r\nContent-Transfer-Encoding: {name}\r\n\r\n{encoded}\r\n"
            );
        }
        Part::Alt(parts) | Part::Mixed(parts) => {
            *seq += 1;
            let boundary = format!("{tag}{:08x}{}", seq.wrapping_mul(2_654_435_761), seq);
            let kind = if matches!(p, Part::Alt(_)) {
                "alternative"
            } else {
                "mixed"
            };
            let _ = write!(
                VecWriter(out),
                "Content-Type: multipart/{kind}; boundary=\"{boundary}\"\r\n\r\n"
            );
            for part in parts {
                let _ = write!(VecWriter(out), "--{boundary}\r\n");
                write_part(part, tag, seq, out);
            }
            let _ = write!(VecWriter(out), "--{boundary}--\r\n");
        }
        Part::Rfc822(raw) => {
            out.extend_from_slice(
                b"Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"Leadsie.eml\"\r\n\r\n",
            );
            out.extend_from_slice(raw);
            if !raw.ends_with(b"\r\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
}

struct VecWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

struct Headers<'a> {
    from: &'a Person,
    reply_to: Option<&'a Person>,
    to: &'a Person,
    subject: &'a str,
    when: When,
    id: String,
    mailer: Option<(&'static str, &'static str)>,
}

fn message(h: &Headers<'_>, body: &Part, tag: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let subject = header_text(h.subject);
    let _ = write!(
        VecWriter(&mut out),
        "From: {}\r\nTo: {}\r\nSubject: {subject}\r\nDate: {}\r\nMessage-ID: <{}>\r\nMIME-Version: 1.0\r\n",
        h.from.header(),
        h.to.header(),
        h.when.rfc(),
        h.id
    );
    if let Some(r) = h.reply_to {
        let _ = write!(VecWriter(&mut out), "Reply-To: {}\r\n", r.header());
    }
    if let Some((name, value)) = h.mailer {
        let _ = write!(VecWriter(&mut out), "{name}: {value}\r\n");
    }
    let mut seq = 0;
    write_part(body, tag, &mut seq, &mut out);
    out
}

fn cte_for(c: Option<Client>, rng: &mut Lcg) -> Cte {
    match c {
        Some(Client::ThunderbirdText | Client::ThunderbirdHtml | Client::Mutt) => Cte::Bit8,
        Some(Client::OutlookWeb | Client::NewOutlook) if rng.chance(50) => Cte::B64,
        Some(Client::Outlook2019 | Client::Outlook2013) if rng.chance(25) => Cte::B64,
        _ => Cte::Qp,
    }
}

fn boundary_tag(c: Option<Client>) -> &'static str {
    match c {
        Some(Client::AppleMail) => "Apple-Mail=_",
        Some(Client::Gmail | Client::GmailReply) => "000000000000",
        Some(
            Client::Outlook2013 | Client::Outlook2019 | Client::OutlookWeb | Client::NewOutlook,
        ) => "_000_",
        Some(Client::ThunderbirdText | Client::ThunderbirdHtml) => "------------",
        _ => "----=_Part_",
    }
}

// ---------------------------------------------------------------------------
// Variants
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Twin {
    Genuine,
    /// (a) the outermost forward comes from a stranger.
    Stranger,
    /// (b) the innermost original is not Leadsie's.
    NotLeadsie,
    /// (c) a middle hop was forwarded by a stranger.
    StrangerHop,
    /// (d) a middle hop by a stranger, in a language no label list knows.
    ForeignHop,
}

impl Twin {
    pub fn name(self) -> &'static str {
        match self {
            Twin::Genuine => "genuine",
            Twin::Stranger => "a:stranger",
            Twin::NotLeadsie => "b:not-leadsie",
            Twin::StrangerHop => "c:stranger-hop",
            Twin::ForeignHop => "d:foreign-hop",
        }
    }
}

pub const TWINS: &[Twin] = &[
    Twin::Genuine,
    Twin::Stranger,
    Twin::NotLeadsie,
    Twin::StrangerHop,
    Twin::ForeignHop,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    One,
    Two,
    Three,
    /// An inline forward of a message carrying the Leadsie email as a
    /// `message/rfc822` attachment.
    Mime,
}

impl Depth {
    pub fn name(self) -> &'static str {
        match self {
            Depth::One => "1 hop",
            Depth::Two => "2 hops",
            Depth::Three => "3 hops",
            Depth::Mime => "inline+rfc822",
        }
    }
}

pub const DEPTHS: &[Depth] = &[Depth::One, Depth::Two, Depth::Three, Depth::Mime];

/// Which body parts the outermost message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parts {
    /// Text and HTML, as the client sends them.
    Alternative,
    /// Only the HTML part (the text part dropped on the way, as some
    /// gateways and mobile clients do): the HTML header block must be read.
    HtmlOnly,
    TextOnly,
}

impl Parts {
    pub fn name(self) -> &'static str {
        match self {
            Parts::Alternative => "text+html",
            Parts::HtmlOnly => "html only",
            Parts::TextOnly => "text only",
        }
    }
}

pub struct Variant {
    pub id: usize,
    pub depth: Depth,
    pub twin: Twin,
    /// Innermost hop first.
    pub hops: Vec<Writer>,
    pub parts: Parts,
    pub detail: Vec<String>,
    pub expect: Expect,
    pub raw: Vec<u8>,
    /// The code and store, for the generator's own decode check.
    pub markers: Vec<String>,
}

impl Variant {
    /// `#12 2 hops/genuine outlook-web:pl > gmail:sv text+html [details]`:
    /// hops outermost first, as a reader meets them.
    pub fn name(&self) -> String {
        let hops: Vec<String> = self
            .hops
            .iter()
            .rev()
            .map(|w| format!("{}:{}", w.client_name(), w.lang()))
            .collect();
        format!(
            "#{} {}/{} {} {} [{}]",
            self.id,
            self.depth.name(),
            self.twin.name(),
            hops.join(" > "),
            self.parts.name(),
            self.detail.join(", ")
        )
    }

    /// Client names of every hop, each once.
    pub fn clients(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for w in &self.hops {
            if !out.contains(&w.client_name()) {
                out.push(w.client_name());
            }
        }
        out
    }

    pub fn langs(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for w in &self.hops {
            if !out.contains(&w.lang()) {
                out.push(w.lang());
            }
        }
        out
    }
}

/// A chain to write: its hops (innermost first), and its twin.
struct Plan {
    depth: Depth,
    twin: Twin,
    hops: Vec<Writer>,
    /// Which hop a stranger sent, for the hop twins.
    stranger_at: Option<usize>,
    parts_roll: u32,
    seed: u64,
}

fn person(rng: &mut Lcg, list: &[(&str, &str)]) -> Person {
    let &(n, a) = rng.pick(list);
    Person::new(n, a)
}

fn build(id: usize, plan: &Plan) -> Variant {
    let mut rng = Lcg::new(plan.seed);
    let mut detail = Vec::new();
    let ink = Ink {
        fr_space: *rng.pick(&[' ', ' ', '\u{a0}', '\u{202f}']),
    };
    let grant = pick_grant(&mut rng);
    let rid = 10_000 + rng.next() % 90_000;

    // Who sent each hop: colleagues, different from one hop to the next.
    let n = plan.hops.len();
    let mut senders: Vec<Person> = Vec::new();
    for i in 0..n {
        let mut p = person(&mut rng, COLLEAGUES);
        while senders.last().is_some_and(|q: &Person| q.addr == p.addr) {
            p = person(&mut rng, COLLEAGUES);
        }
        if plan.stranger_at == Some(i) {
            p = person(&mut rng, STRANGERS);
        }
        senders.push(p);
    }
    if plan.twin == Twin::Stranger {
        senders[n - 1] = person(&mut rng, STRANGERS);
    }
    let original = if plan.twin == Twin::NotLeadsie {
        person(&mut rng, NOT_LEADSIE)
    } else {
        let name = LEADSIE_NAMES[rng.below(LEADSIE_NAMES.len())];
        let mut p = Person::new(name, LEADSIE_ADDR);
        p.quoted = rng.chance(30);
        if p.quoted {
            detail.push("\"Leadsie\"".into());
        }
        p
    };

    let mut when = When {
        day: 2,
        hour: 9 + rng.below(2) as u32,
        min: rng.below(60) as u32,
        sec: rng.below(60) as u32,
    };
    let subject = format!("{} granted you access to their Shopify store", grant.client);
    let mut msg = Msg {
        from: original.clone(),
        to: senders[0].clone(),
        when,
        subject,
        text: leadsie_text(&grant, rid),
        html: Some(leadsie_html(&grant, rid)),
        attachment: None,
        reply_to: rng
            .chance(30)
            .then(|| Person::new("Leadsie Support", "support@leadsie.com")),
    };
    let last_client = match plan.hops[n - 1] {
        Writer::Client(c, _) => Some(c),
        _ => None,
    };

    for (i, hop) in plan.hops.iter().enumerate() {
        // Each hop is sent a little later, the last on the next morning.
        when = if i == 2 {
            When {
                day: 3,
                hour: 8,
                min: rng.below(60) as u32,
                sec: rng.below(60) as u32,
            }
        } else {
            When {
                day: 2,
                hour: when.hour + 1 + rng.below(5) as u32,
                min: rng.below(60) as u32,
                sec: rng.below(60) as u32,
            }
        };
        let to = if i + 1 < n {
            senders[i + 1].clone()
        } else {
            inbox()
        };
        if let Writer::Attach(_) = hop {
            // The Leadsie email as it arrived, attached to a short note.
            let raw = message(
                &Headers {
                    from: &msg.from,
                    to: &msg.to,
                    subject: &msg.subject,
                    when: msg.when,
                    id: format!("lead-{id}-{rid}@mail.leadsie.com"),
                    mailer: None,
                    reply_to: msg.reply_to.as_ref(),
                },
                &Part::Alt(vec![
                    Part::Text {
                        html: false,
                        body: msg.text.clone(),
                        cte: Cte::Qp,
                    },
                    Part::Text {
                        html: true,
                        body: format!(
                            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Leadsie</title></head><body>\n{}\n</body></html>",
                            msg.html.as_deref().unwrap_or_default()
                        ),
                        cte: Cte::Qp,
                    },
                ]),
                "----=_Leadsie_",
            );
            let fwd = render(hop, &msg, &ink, &mut rng, &mut detail);
            msg = Msg {
                from: senders[i].clone(),
                to,
                when,
                subject: format!("{} {}", fwd.prefix, msg.subject),
                text: fwd.text,
                html: fwd.html,
                attachment: Some(raw),
                reply_to: None,
            };
            continue;
        }
        let fwd = render(hop, &msg, &ink, &mut rng, &mut detail);
        msg = Msg {
            from: senders[i].clone(),
            to,
            when,
            subject: format!("{} {}", fwd.prefix, msg.subject),
            text: fwd.text,
            html: fwd.html,
            attachment: msg.attachment.take(),
            reply_to: None,
        };
    }

    // What the outermost message carries.
    let parts = match (&msg.html, plan.parts_roll % 10) {
        (None, _) => Parts::TextOnly,
        (Some(_), 0..=2) => Parts::HtmlOnly,
        (Some(_), _) => Parts::Alternative,
    };
    let cte = cte_for(last_client, &mut rng);
    let html_doc = |h: &str| {
        format!(
            "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body>\n{h}\n</body></html>\n"
        )
    };
    let text_part = Part::Text {
        html: false,
        body: msg.text.clone(),
        cte,
    };
    let mut body = match parts {
        Parts::TextOnly => text_part,
        Parts::HtmlOnly => Part::Text {
            html: true,
            body: html_doc(msg.html.as_deref().unwrap_or_default()),
            cte,
        },
        Parts::Alternative => Part::Alt(vec![
            text_part,
            Part::Text {
                html: true,
                body: html_doc(msg.html.as_deref().unwrap_or_default()),
                cte,
            },
        ]),
    };
    if let Some(raw) = msg.attachment.take() {
        body = Part::Mixed(vec![body, Part::Rfc822(raw)]);
    }
    let raw = message(
        &Headers {
            from: &msg.from,
            to: &msg.to,
            subject: &msg.subject,
            when: msg.when,
            id: format!("cg-{id}.{}@mail.agency.com", rng.next()),
            reply_to: None,
            mailer: last_client
                .map(Client::mailer)
                .filter(|(_, v)| !v.is_empty()),
        },
        &body,
        boundary_tag(last_client),
    );

    let expect = match plan.twin {
        Twin::Genuine => {
            let mut pairs = grant.stores.clone();
            pairs.sort();
            Expect::Grants(pairs)
        }
        Twin::Stranger => Expect::NoGrant("the outer forward is a stranger's"),
        Twin::NotLeadsie => Expect::NoGrant("the original is not from Leadsie"),
        Twin::StrangerHop => Expect::NoGrant("a middle hop was a stranger's forward"),
        Twin::ForeignHop => {
            Expect::NoGrant("a middle hop by a stranger, in a language we have no labels for")
        }
    };
    let mut markers: Vec<String> = grant.stores.iter().map(|(_, c)| c.clone()).collect();
    markers.extend(grant.stores.iter().map(|(s, _)| s.clone()));
    Variant {
        id,
        depth: plan.depth,
        twin: plan.twin,
        hops: plan.hops.clone(),
        parts,
        detail,
        expect,
        raw,
        markers,
    }
}

/// Every (client, locale) pair the corpus covers.
pub fn cells() -> Vec<(Client, &'static Loc)> {
    let mut out = Vec::new();
    for &c in CLIENTS {
        for l in c.locales() {
            out.push((c, l));
        }
    }
    out
}

/// The whole corpus: every cell forwarded once with its stranger and
/// non-Leadsie twins; two- and three-hop chains through different clients
/// and languages, and inline forwards carrying an attached original, each
/// with all its twins.
pub fn corpus() -> Vec<Variant> {
    let mut rng = Lcg::new(0xc11e_47c0_4905);
    let cells = cells();
    let mut plans = Vec::new();
    for &(c, l) in &cells {
        push(
            &mut plans,
            &mut rng,
            Depth::One,
            vec![Writer::Client(c, l)],
            &[Twin::Genuine, Twin::Stranger, Twin::NotLeadsie],
        );
    }
    let other = |rng: &mut Lcg, used: &[(Client, &'static Loc)]| loop {
        let &(c, l) = rng.pick(&cells);
        if used.iter().all(|&(uc, ul)| uc != c && ul.code != l.code) {
            return (c, l);
        }
    };
    let chain_twins = [
        Twin::Genuine,
        Twin::Stranger,
        Twin::NotLeadsie,
        Twin::StrangerHop,
        Twin::ForeignHop,
    ];
    // Two hops: every cell is the outer hop once, every second cell the
    // inner one.
    for (k, &outer) in cells.iter().enumerate() {
        if k % 2 == 1 {
            continue;
        }
        let inner = other(&mut rng, &[outer]);
        push(
            &mut plans,
            &mut rng,
            Depth::Two,
            vec![
                Writer::Client(inner.0, inner.1),
                Writer::Client(outer.0, outer.1),
            ],
            &chain_twins,
        );
    }
    for k in 0..cells.len() / 4 {
        let outer = cells[(k * 4 + 1) % cells.len()];
        let middle = other(&mut rng, &[outer]);
        let inner = other(&mut rng, &[outer, middle]);
        push(
            &mut plans,
            &mut rng,
            Depth::Three,
            vec![
                Writer::Client(inner.0, inner.1),
                Writer::Client(middle.0, middle.1),
                Writer::Client(outer.0, outer.1),
            ],
            &chain_twins,
        );
    }
    for k in 0..cells.len() / 6 {
        let outer = cells[(k * 6 + 3) % cells.len()];
        let attach = rng.pick(LOCALES);
        push(
            &mut plans,
            &mut rng,
            Depth::Mime,
            vec![Writer::Attach(attach), Writer::Client(outer.0, outer.1)],
            &[
                Twin::Genuine,
                Twin::Stranger,
                Twin::NotLeadsie,
                Twin::StrangerHop,
            ],
        );
    }
    plans
        .iter()
        .enumerate()
        .map(|(id, p)| build(id, p))
        .collect()
}

/// Adds one chain with each of its twins. The stranger's hop is the middle
/// one (the inner one of two); a foreign-language twin writes either the
/// stranger's hop or the hop that names the stranger in an unknown language.
fn push(plans: &mut Vec<Plan>, rng: &mut Lcg, depth: Depth, hops: Vec<Writer>, twins: &[Twin]) {
    let seed = u64::from(rng.next()) << 32 | u64::from(rng.next());
    let parts_roll = rng.next();
    let middle = if hops.len() > 2 {
        1 + rng.below(hops.len() - 2)
    } else {
        0
    };
    for &twin in twins {
        let mut hops = hops.clone();
        let stranger_at = match twin {
            Twin::StrangerHop => Some(middle),
            Twin::ForeignHop => {
                let at = if rng.chance(50) { middle } else { middle + 1 };
                hops[at] = Writer::Foreign(rng.pick(FOREIGN));
                Some(middle)
            }
            _ => None,
        };
        plans.push(Plan {
            depth,
            twin,
            hops,
            stranger_at,
            parts_roll,
            seed,
        });
    }
}
