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

use std::fmt::Write as _;

use base64::Engine as _;
pub use locales::{FOREIGN, Foreign, LOCALES, Loc};

// ---------------------------------------------------------------------------
// Deterministic choices
// ---------------------------------------------------------------------------

/// A 64-bit LCG (Knuth's MMIX constants); the high bits are the output.
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed ^ 0x2545_f491_4f6c_dd1d)
    }

    pub fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.next() as usize % n
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.next() % 100 < percent
    }
}

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
            encoded_words(&self.name)
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

/// RFC 2047 encoded words for a non-ASCII header value.
fn encoded_words(s: &str) -> String {
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in s.chars() {
        if chunk.len() + c.len_utf8() > 39 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    words.push(chunk);
    words
        .iter()
        .map(|w| {
            format!(
                "=?UTF-8?B?{}?=",
                base64::engine::general_purpose::STANDARD.encode(w)
            )
        })
        .collect::<Vec<_>>()
        .join("\r\n ")
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
// What each client writes when it forwards
// ---------------------------------------------------------------------------

/// A forward's body as its client composed it.
struct Fwd {
    text: String,
    html: Option<String>,
    /// Subject prefix.
    prefix: String,
}

/// Per-variant choices that every hop of it shares.
struct Ink {
    /// The space French writes before a colon: a space, a no-break space
    /// or a narrow no-break space.
    fr_space: char,
}

fn lab(label: &str, ink: &Ink) -> String {
    label.replace(" :", &format!("{}:", ink.fr_space))
}

fn hlab(label: &str, ink: &Ink, loc: &Loc) -> String {
    let l = esc(&lab(label, ink)).replace('\u{a0}', "&nbsp;");
    if loc.rtl {
        format!("\u{200f}{l}\u{200f}")
    } else {
        l
    }
}

/// An address as a right-to-left client writes it: kept left to right.
fn ltr(loc: &Loc, s: String) -> String {
    if loc.rtl {
        format!("\u{200e}{s}\u{200e}")
    } else {
        s
    }
}

fn ascii_colon(label: &str) -> String {
    label.replace('：', ":")
}

fn note_text(loc: &Loc) -> String {
    loc.note.to_owned()
}

fn render(w: &Writer, m: &Msg, ink: &Ink, rng: &mut Lcg, d: &mut Vec<String>) -> Fwd {
    match *w {
        Writer::Client(c, loc) => render_client(c, loc, m, ink, rng, d),
        Writer::Foreign(f) => render_foreign(f, m),
        Writer::Attach(loc) => Fwd {
            text: format!("{}\n", loc.note),
            html: Some(format!("<div>{}</div>", esc(loc.note))),
            prefix: "Fwd:".into(),
        },
    }
}

fn render_foreign(f: &Foreign, m: &Msg) -> Fwd {
    let loc = locales::locale("en");
    let when = date(f.date, loc, m.when);
    let [from, dt, to, subj] = f.labels;
    let text = format!(
        "{}\n\n{}\n{from} {}\n{dt} {when}\n{to} {}\n{subj} {}\n\n{}",
        f.note,
        f.sep,
        m.from.angle(),
        m.to.angle(),
        m.subject,
        m.text
    );
    let html = format!(
        "<div>{}</div><br><div>{}<br><b>{from}</b> {}<br><b>{dt}</b> {}<br><b>{to}</b> {}<br><b>{subj}</b> {}<br></div><br>\n{}",
        esc(f.note),
        esc(f.sep),
        m.from.html(),
        esc(&when),
        m.to.html(),
        esc(&m.subject),
        m.html_or_text()
    );
    Fwd {
        text,
        html: Some(html),
        prefix: "Fwd:".into(),
    }
}

fn render_client(
    c: Client,
    loc: &'static Loc,
    m: &Msg,
    ink: &Ink,
    rng: &mut Lcg,
    d: &mut Vec<String>,
) -> Fwd {
    let note = note_text(loc);
    let inner = m.html_or_text();
    match c {
        Client::AppleMail => {
            let [from, subj, dt, to] = loc.apple;
            let when = date(loc.d_apple, loc, m.when);
            let ios = rng.chance(30);
            let rows: Vec<(&str, String, String)> = if ios {
                d.push("ios".into());
                vec![
                    (from, m.from.angle(), m.from.html()),
                    (dt, when.clone(), esc(&when)),
                    (to, m.to.angle(), m.to.html()),
                    (subj, m.subject.clone(), esc(&m.subject)),
                ]
            } else {
                vec![
                    (from, m.from.angle(), m.from.html()),
                    (subj, m.subject.clone(), esc(&m.subject)),
                    (dt, when.clone(), esc(&when)),
                    (to, m.to.angle(), m.to.html()),
                ]
            };
            let mut rows = rows;
            if let Some(r) = &m.reply_to {
                d.push("reply-to".into());
                rows.push((reply_to_label(loc), r.angle(), r.html()));
            }
            let mut block = format!("{}\n\n", loc.apple_intro);
            for (l, v, _) in &rows {
                let _ = writeln!(block, "{} {v}", lab(l, ink));
            }
            block.push('\n');
            block.push_str(&m.text);
            let quoted = !ios && rng.chance(60);
            if quoted {
                d.push("> quoted".into());
                block = quote(&block, "> ");
            }
            let sig = if ios && loc.code == "en" {
                "\n\nSent from my iPhone"
            } else {
                ""
            };
            let text = format!("{note}{sig}\n\n{block}");
            let mut rows_html = String::new();
            for (l, _, v) in &rows {
                let _ = write!(
                    rows_html,
                    "<div style=\"margin-top: 0px; margin-right: 0px; margin-bottom: 0px; margin-left: 0px;\"><span style=\"font-family: -apple-system, Helvetica Neue; color:rgba(0, 0, 0, 1.0);\"><b>{} </b></span><span style=\"font-family: -apple-system, Helvetica Neue;\">{v}<br></span></div>",
                    hlab(l, ink, loc)
                );
            }
            let dir = if loc.rtl { "rtl" } else { "ltr" };
            let html = format!(
                "<div dir=\"{dir}\">{}<br id=\"lineBreakAtBeginningOfMessage\"><div><br><blockquote type=\"cite\"><div>{}</div><br class=\"Apple-interchange-newline\">{rows_html}<br><div>{inner}</div></blockquote></div><br></div>",
                esc(&note),
                esc(loc.apple_intro)
            );
            Fwd {
                text,
                html: Some(html),
                prefix: "Fwd:".into(),
            }
        }
        Client::Gmail => {
            let when = gmail_date(loc, m.when, rng, d);
            let to_text = if m.to.name.is_empty() || rng.chance(40) {
                format!("<{}>", m.to.addr)
            } else {
                m.to.angle()
            };
            let cc = rng
                .chance(20)
                .then(|| Person::new("Ops Team", "ops@mail.agency.com"));
            let mut text = format!(
                "{note}\n\n---------- Forwarded message ---------\n{} {}\nDate: {when}\nSubject: {}\nTo: {to_text}\n",
                lab(loc.gmail_from, ink),
                m.from.angle(),
                m.subject
            );
            if let Some(cc) = &cc {
                d.push("cc".into());
                let _ = writeln!(text, "Cc: {}", cc.angle());
            }
            let _ = write!(text, "\n\n{}", m.text);
            let cc_html = cc
                .map(|c| format!("Cc: {}<br>", c.html()))
                .unwrap_or_default();
            let html = format!(
                "<div dir=\"ltr\">{}<br><br><div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">---------- Forwarded message ---------<br>{} <strong class=\"gmail_sendername\" dir=\"auto\">{}</strong> <span dir=\"auto\">&lt;{}&gt;</span><br>Date: {}<br>Subject: {}<br>To: {}<br>{cc_html}</div><br><br>{inner}</div></div>",
                esc(&note),
                hlab(loc.gmail_from, ink, loc),
                esc(m.from.display()),
                link(&m.from.addr),
                esc(&when),
                esc(&m.subject),
                m.to.html()
            );
            Fwd {
                text,
                html: Some(html),
                prefix: "Fwd:".into(),
            }
        }
        Client::GmailReply => {
            let when = gmail_date(loc, m.when, rng, d);
            let attribution = fill(loc.gmail_reply, &when, &m.from);
            // Gmail's text part wraps a long attribution line.
            let attr_text = if attribution.chars().count() > 76 && rng.chance(60) {
                d.push("attribution wrapped".into());
                wrap_at(&attribution, 76)
            } else {
                attribution.clone()
            };
            let text = format!("{note}\n\n{attr_text}\n\n{}", quote(&m.text, "> "));
            let attr_html = esc(&attribution).replace(
                &esc(&format!("<{}>", m.from.addr)),
                &format!("&lt;{}&gt;", link(&m.from.addr)),
            );
            let html = format!(
                "<div dir=\"ltr\">{}</div><br><div class=\"gmail_quote gmail_quote_container\"><div dir=\"ltr\" class=\"gmail_attr\">{attr_html}<br></div><blockquote class=\"gmail_quote\" style=\"margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex\">{inner}</blockquote></div>",
                esc(&note)
            );
            Fwd {
                text,
                html: Some(html),
                prefix: "Re:".into(),
            }
        }
        Client::Outlook2013 | Client::Outlook2019 => {
            let [from, sent, to, subj] = loc.outlook;
            let when = date(loc.d_outlook, loc, m.when);
            let old = c == Client::Outlook2013;
            let from_text = if old || rng.chance(15) {
                d.push("[mailto:]".into());
                m.from.mailto()
            } else {
                m.from.angle()
            };
            let from_html = if old {
                format!(
                    "{} [<a href=\"mailto:{}\">mailto:{}</a>]",
                    esc(m.from.display()),
                    m.from.addr,
                    m.from.addr
                )
            } else {
                m.from.html()
            };
            let mark = if loc.rtl && rng.chance(50) {
                d.push("rlm lines".into());
                "\u{200f}"
            } else {
                ""
            };
            let cc = rng
                .chance(15)
                .then(|| Person::new("Ops Team", "ops@mail.agency.com"));
            let cc_text = cc
                .as_ref()
                .map(|p| format!("{} {}\n", cc_label(loc), p.angle()))
                .unwrap_or_default();
            let cc_html = cc
                .as_ref()
                .map(|p| format!("<b>{}</b> {}<br>", hlab(cc_label(loc), ink, loc), p.html()))
                .unwrap_or_default();
            if cc.is_some() {
                d.push("cc".into());
            }
            let plain_compose = rng.chance(20);
            let sep = if plain_compose {
                d.push("plain-text compose".into());
                let words = match loc.code {
                    "de" => "Ursprüngliche Nachricht",
                    _ => loc.orig_msg,
                };
                format!("-----{words}-----\n")
            } else {
                String::new()
            };
            let text = format!(
                "{note}\n\n{sep}{mark}{} {}\n{mark}{} {when}\n{mark}{} {}\n{cc_text}{mark}{} {}\n\n{}",
                lab(from, ink),
                ltr(loc, from_text),
                lab(sent, ink),
                lab(to, ink),
                ltr(loc, m.to.angle()),
                lab(subj, ink),
                m.subject,
                m.text
            );
            let colour = if old { "#B5C4DF" } else { "#E1E1E1" };
            let lang = loc.code.to_ascii_uppercase();
            let dir = if loc.rtl { " dir=\"rtl\"" } else { "" };
            let html = (!plain_compose).then(|| {
                format!(
                    "<div class=\"WordSection1\"{dir}><p class=\"MsoNormal\"><span lang=\"{lang}\">{}</span><o:p></o:p></p><p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p>\n\
                     <div><div style=\"border:none;border-top:solid {colour} 1.0pt;padding:3.0pt 0cm 0cm 0cm\">\n\
                     <p class=\"MsoNormal\"{dir}><b><span lang=\"{lang}\">{}</span></b><span lang=\"{lang}\"> {}<br><b>{}</b> {}<br><b>{}</b> {}<br>{cc_html}<b>{}</b> {}<o:p></o:p></span></p></div></div>\n\
                     <p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p>\n{inner}\n</div>",
                    esc(&note),
                    hlab(from, ink, loc),
                    ltr(loc, from_html),
                    hlab(sent, ink, loc),
                    esc(&when),
                    hlab(to, ink, loc),
                    ltr(loc, m.to.html()),
                    hlab(subj, ink, loc),
                    esc(&m.subject)
                )
            });
            Fwd {
                text,
                html,
                prefix: loc.fw.into(),
            }
        }
        Client::OutlookMac => {
            let when = date(loc.d_num, loc, m.when);
            let attribution = fill(loc.mac_attr, &when, &m.from);
            let text = format!("{note}\n\n{attribution}\n\n{}", indent(&m.text));
            let attr_html = esc(&attribution).replace(
                &esc(&format!("<{}>", m.from.addr)),
                &format!("&lt;{}&gt;", link(&m.from.addr)),
            );
            let html = format!(
                "<div class=\"WordSection1\"><p class=\"MsoNormal\"><span style=\"font-size:11.0pt\">{}<o:p></o:p></span></p>\n\
                 <div id=\"MAC_OUTLOOK_ATTRIBUTION_BLOCKQUOTE\"><p class=\"MsoNormal\"><span style=\"font-size:11.0pt\">{attr_html}<o:p></o:p></span></p></div>\n\
                 <blockquote style=\"BORDER-LEFT: #B5C4DF 5 solid; PADDING:0 0 0 5; MARGIN: 0 0 0 5;\" id=\"MAC_OUTLOOK_ATTRIBUTION_BLOCKQUOTE\">\n{inner}\n</blockquote></div>",
                esc(&note)
            );
            Fwd {
                text,
                html: Some(html),
                prefix: loc.fw.into(),
            }
        }
        Client::OutlookMacHeaders => {
            let [from, dt, to, subj] = loc.std.map(ascii_colon);
            let when = date(loc.d_outlook, loc, m.when);
            let text = format!(
                "{note}\n\n{} {}\n{} {when}\n{} {}\n{} {}\n{}",
                lab(&from, ink),
                m.from.angle(),
                lab(&dt, ink),
                lab(&to, ink),
                m.to.angle(),
                lab(&subj, ink),
                m.subject,
                m.text
            );
            let html = format!(
                "<div class=\"WordSection1\"><p class=\"MsoNormal\"><span style=\"font-size:11.0pt\">{}<o:p></o:p></span></p>\n\
                 <div id=\"mail-editor-reference-message-container\"><div class=\"ms-outlook-mobile-reference-message skipProofing\">\
                 <div style=\"border:none;border-top:solid #B5C4DF 1.0pt;padding:3.0pt 0cm 0cm 0cm\"><p class=\"MsoNormal\" style=\"margin-bottom:12.0pt\">\
                 <b><span style=\"font-size:12.0pt;color:black\">{} </span></b><span style=\"font-size:12.0pt;color:black\">{}<br><b>{} </b>{}<br><b>{} </b>{}<br><b>{} </b>{}<o:p></o:p></span></p></div>\n{inner}\n</div></div></div>",
                esc(&note),
                hlab(&from, ink, loc),
                ltr(loc, m.from.html()),
                hlab(&dt, ink, loc),
                esc(&when),
                hlab(&to, ink, loc),
                ltr(loc, m.to.html()),
                hlab(&subj, ink, loc),
                esc(&m.subject)
            );
            Fwd {
                text,
                html: Some(html),
                prefix: loc.fw.into(),
            }
        }
        Client::OutlookWeb | Client::NewOutlook => {
            let legacy = c == Client::OutlookWeb && loc.code != "en" && rng.chance(35);
            let [from, sent, to, subj] = if legacy {
                // Outlook.com long wrote English labels in every locale.
                d.push("english labels".into());
                ["From:", "Sent:", "To:", "Subject:"]
            } else if loc.code == "es" {
                ["De:", "Enviado:", "Para:", "Asunto:"]
            } else {
                loc.outlook
            };
            let when = date(loc.d_outlook, loc, m.when);
            let text = format!(
                "{note}\n\n________________________________\n{} {}\n{} {when}\n{} {}\n{} {}\n\n{}",
                lab(from, ink),
                ltr(loc, m.from.angle()),
                lab(sent, ink),
                lab(to, ink),
                ltr(loc, m.to.angle()),
                lab(subj, ink),
                m.subject,
                m.text
            );
            let inner = if m.html.is_some() {
                x_prefixed(&inner)
            } else {
                inner
            };
            let dir = if loc.rtl { "rtl" } else { "ltr" };
            let from_html = ltr(
                loc,
                format!("{} &lt;{}&gt;", esc(m.from.display()), m.from.addr),
            );
            let to_html = ltr(loc, esc(&m.to.angle()));
            let html = if c == Client::OutlookWeb {
                format!(
                    "<div dir=\"{dir}\"><div style=\"font-family:Calibri,Arial,Helvetica,sans-serif;font-size:12pt;color:rgb(0,0,0)\">{}</div></div>\n\
                     <div id=\"appendonsend\"></div>\n<hr style=\"display:inline-block;width:98%\" tabindex=\"-1\">\n\
                     <div id=\"divRplyFwdMsg\" dir=\"{dir}\"><font face=\"Calibri, sans-serif\" style=\"font-size:11pt\" color=\"#000000\"><b>{}</b> {from_html}<br><b>{}</b> {}<br><b>{}</b> {to_html}<br><b>{}</b> {}</font><div>&nbsp;</div></div>\n{inner}",
                    esc(&note),
                    hlab(from, ink, loc),
                    hlab(sent, ink, loc),
                    esc(&when),
                    hlab(to, ink, loc),
                    hlab(subj, ink, loc),
                    esc(&m.subject)
                )
            } else {
                format!(
                    "<div class=\"elementToProof\" dir=\"{dir}\" style=\"font-family: Aptos, Aptos_EmbeddedFont, Aptos_MSFontService, Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);\">{}</div>\n\
                     <div id=\"appendonsend\"></div>\n<hr style=\"display: inline-block; width: 98%;\">\n\
                     <div id=\"divRplyFwdMsg\" dir=\"{dir}\"><span style=\"font-family: Calibri, sans-serif; font-size: 11pt; color: rgb(0, 0, 0);\"><b>{}</b>&nbsp;{from_html}<br><b>{}</b>&nbsp;{}<br><b>{}</b>&nbsp;{to_html}<br><b>{}</b>&nbsp;{}</span>\n<div>&nbsp;</div></div>\n{inner}",
                    esc(&note),
                    hlab(from, ink, loc),
                    hlab(sent, ink, loc),
                    esc(&when),
                    hlab(to, ink, loc),
                    hlab(subj, ink, loc),
                    esc(&m.subject)
                )
            };
            let prefix = if loc.code == "en" && c == Client::OutlookWeb {
                "Fw:"
            } else {
                loc.fw
            };
            Fwd {
                text,
                html: Some(html),
                prefix: prefix.into(),
            }
        }
        Client::ThunderbirdText | Client::ThunderbirdHtml => {
            let [subj, dt, from, to] = loc.tb;
            let when = m.when.rfc();
            let to_text = if rng.chance(50) {
                m.to.addr.clone()
            } else {
                m.to.angle()
            };
            let rt = m
                .reply_to
                .as_ref()
                .map(|r| (reply_to_label(loc), r))
                .filter(|(l, _)| !l.is_empty());
            let rt_text = rt
                .map(|(l, r)| format!("{} \t{}\n", lab(l, ink), r.angle()))
                .unwrap_or_default();
            let text = format!(
                "{note}\n\n\n{}\n{} \t{}\n{} \t{when}\n{} \t{}\n{rt_text}{} \t{to_text}\n\n\n\n{}",
                loc.tb_sep,
                lab(subj, ink),
                m.subject,
                lab(dt, ink),
                lab(from, ink),
                m.from.angle(),
                lab(to, ink),
                m.text
            );
            let row = |l: &str, v: String| {
                format!(
                    "<tr><th valign=\"BASELINE\" nowrap=\"nowrap\" align=\"RIGHT\">{} </th><td>{v}</td></tr>\n",
                    hlab(l, ink, loc)
                )
            };
            let html = (c == Client::ThunderbirdHtml).then(|| {
                format!(
                    "<p>{}</p>\n<div class=\"moz-forward-container\"><br><br>{}\n<table class=\"moz-email-headers-table\" cellspacing=\"0\" cellpadding=\"0\" border=\"0\"><tbody>\n{}{}{}{}{}</tbody></table><br><br>\n{inner}\n</div>",
                    esc(&note),
                    esc(loc.tb_sep),
                    row(subj, esc(&m.subject)),
                    row(dt, when.clone()),
                    row(
                        from,
                        format!(
                            "{} <a class=\"moz-txt-link-rfc2396E\" href=\"mailto:{}\">&lt;{}&gt;</a>",
                            esc(m.from.display()),
                            m.from.addr,
                            m.from.addr
                        )
                    ),
                    rt.map(|(l, r)| row(l, r.html())).unwrap_or_default(),
                    row(
                        to,
                        format!(
                            "<a class=\"moz-txt-link-abbreviated\" href=\"mailto:{}\">{}</a>",
                            m.to.addr, m.to.addr
                        )
                    ),
                )
            });
            Fwd {
                text,
                html,
                prefix: "Fwd:".into(),
            }
        }
        Client::Yahoo => {
            let [from, sent, to, subj] = match loc.code {
                "tr" => ["Kimden:", "Gönderilen:", "Kime:", "Konu:"],
                "uk" => ["Від:", "Відправлено:", "Кому:", "Тема:"],
                "cs" => ["Od:", "Datum:", "Komu:", "Předmět:"],
                "es" => ["De:", "Enviado:", "Para:", "Asunto:"],
                _ => loc.outlook,
            };
            let when = match loc.code {
                "en" => date(
                    "{DAY}, {MONTH} {d}, {yyyy}, {hh}:{mi}:{ss} {ap} GMT",
                    loc,
                    m.when,
                ),
                "de" => date(
                    "{DAY}, {d}. {MONTH} {yyyy}, {HH}:{mi}:{ss} MEZ",
                    loc,
                    m.when,
                ),
                _ => format!("{} GMT", date(loc.d_outlook, loc, m.when)),
            };
            let to_text = if rng.chance(50) {
                format!("\"{}\" <{}>", m.to.addr, m.to.addr)
            } else {
                m.to.angle()
            };
            let sep = format!("----- {} -----", loc.fwd_msg);
            // Yahoo's text part runs the header lines together.
            let text = format!(
                "{note}\n\n   {sep} {} {}{} {to_text}{} {when}{} {}\n {}",
                lab(from, ink),
                m.from.angle(),
                lab(to, ink),
                lab(sent, ink),
                lab(subj, ink),
                m.subject,
                m.text
            );
            let n = 1_000_000 + rng.next() % 9_000_000;
            let inner = if m.html.is_some() {
                yiv_prefixed(&inner, n)
            } else {
                inner
            };
            let row = |l: &str, v: String| {
                format!(
                    "<div><b><span style=\"font-weight:bold;\">{}</span></b> {v}</div>",
                    hlab(l, ink, loc)
                )
            };
            let html = format!(
                "<div class=\"ydp{n}yahoo-style-wrap\" style=\"font-family:Helvetica Neue, Helvetica, Arial, sans-serif;font-size:13px;\"><div dir=\"ltr\" data-setdir=\"false\">{}</div><div><br></div>\n\
                 <div id=\"ydp{n}yahoo_quoted_{n}\" class=\"ydp{n}yahoo_quoted\"><div style=\"font-family:'Helvetica Neue', Helvetica, Arial, sans-serif;font-size:13px;color:#26282a;\">\n\
                 <div>{}</div>{}{}{}{}<div><br></div><div><br></div>\n<div id=\"yiv{n}\">{inner}</div></div></div></div>",
                esc(&note),
                esc(&sep),
                row(from, esc(&m.from.angle())),
                row(to, esc(&to_text)),
                row(sent, esc(&when)),
                row(subj, esc(&m.subject)),
            );
            Fwd {
                text,
                html: Some(html),
                prefix: "Fwd:".into(),
            }
        }
        Client::HubSpot => {
            let (sep_words, [from, dt, to, subj]) = if loc.code == "ja" {
                (
                    "メッセージを転送",
                    ["送信元：", "日付：", "送信先：", "件名："],
                )
            } else if loc.code == "en" {
                ("Forwarded message", loc.std)
            } else {
                (loc.fwd_msg, loc.std)
            };
            let when = format!("{} +0000", date(loc.d_outlook, loc, m.when));
            let sep = format!("---------- {sep_words} ---------");
            let text = format!(
                "{note}\n\n{sep}\n{} {}\n{} {when}\n{} {}\n{} {}\n\n{}",
                lab(from, ink),
                m.from.angle(),
                lab(dt, ink),
                lab(subj, ink),
                m.subject,
                lab(to, ink),
                m.to.addr,
                m.text
            );
            let html = format!(
                "<div>{}</div><div><br></div><div class=\"hs_reply\"><div>{}<br>{} {}<br>{} {}<br>{} {}<br>{} {}<br></div><br>{inner}</div>",
                esc(&note),
                esc(&sep),
                hlab(from, ink, loc),
                m.from.html(),
                hlab(dt, ink, loc),
                esc(&when),
                hlab(subj, ink, loc),
                esc(&m.subject),
                hlab(to, ink, loc),
                link(&m.to.addr)
            );
            Fwd {
                text,
                html: Some(html),
                prefix: "Fwd:".into(),
            }
        }
        Client::Missive => {
            let (sep, when) = if loc.code == "fr" {
                (
                    "---------- Message transféré ----------",
                    date("{d} {MONTH} {yyyy} à {HH}:{mi}", loc, m.when),
                )
            } else {
                (
                    "---------- Forwarded message ----------",
                    date("{MONTH} {d}, {yyyy} at {h}:{mi} {ap}", loc, m.when),
                )
            };
            let [from, dt, to, subj] = loc.std;
            let text = format!(
                "{note}\n\n{sep}\n{} {}\n{} {when}\n{} {}\n{} {}\n\n{}",
                lab(from, ink),
                m.from.angle(),
                lab(dt, ink),
                lab(to, ink),
                m.to.addr,
                lab(subj, ink),
                m.subject,
                quote(&m.text, "> ")
            );
            let html = format!(
                "<div>{}</div><br><div>{sep}<br>{} {}<br>{} {}<br>{} {}<br>{} {}<br></div><blockquote style=\"margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex\">{inner}</blockquote>",
                esc(&note),
                hlab(from, ink, loc),
                m.from.html(),
                hlab(dt, ink, loc),
                esc(&when),
                hlab(to, ink, loc),
                link(&m.to.addr),
                hlab(subj, ink, loc),
                esc(&m.subject)
            );
            Fwd {
                text,
                html: Some(html),
                prefix: "Fwd:".into(),
            }
        }
        Client::MailMate => {
            let block = format!(
                "From: {}\nTo: {}\nSubject: {}\nDate: {}\n\n{}",
                m.from.angle(),
                m.to.addr,
                m.subject,
                m.when.rfc(),
                m.text
            );
            Fwd {
                text: format!("{note}\n\nForwarded message:\n\n{}", quote(&block, "> ")),
                html: None,
                prefix: "Fwd:".into(),
            }
        }
        Client::Ionos => {
            let [from, dt, to, subj] = loc.std;
            let words = match loc.code {
                "de" => "Originalnachricht",
                _ => loc.orig_msg,
            };
            let when = match loc.code {
                "en" => date("{dd}/{mm}/{yyyy} {HH}:{mi} GMT", loc, m.when),
                _ => date(loc.d_num, loc, m.when),
            };
            let block = format!(
                "---------- {words} ----------\n{} {}\n{} \"{}\" <{}>\n{} {when}\n{} {}\n \n \n{}",
                lab(from, ink),
                m.from.angle(),
                lab(to, ink),
                m.to.addr,
                m.to.addr,
                lab(dt, ink),
                lab(subj, ink),
                m.subject,
                m.text
            );
            let html = format!(
                "<div>{}</div><div>&nbsp;</div><blockquote type=\"cite\"><div>---------- {} ----------</div><div>{} {}</div><div>{} &quot;{}&quot; &lt;{}&gt;</div><div>{} {}</div><div>{} {}</div><div>&nbsp;</div><div>&nbsp;</div>{inner}</blockquote>",
                esc(&note),
                esc(words),
                hlab(from, ink, loc),
                m.from.html(),
                hlab(to, ink, loc),
                m.to.addr,
                link(&m.to.addr),
                hlab(dt, ink, loc),
                esc(&when),
                hlab(subj, ink, loc),
                esc(&m.subject)
            );
            Fwd {
                text: format!("{note}\n\n{}", quote(&block, "> ")),
                html: Some(html),
                prefix: "Fwd:".into(),
            }
        }
        Client::Roundcube => {
            let [from, dt, to, subj] = loc.std;
            let words = match loc.code {
                "de" => "Ursprüngliche Nachricht",
                _ => loc.orig_msg,
            };
            // Roundcube's default date format, whatever the language.
            let when = date("{yyyy}-{mm}-{dd} {HH}:{mi}", locales::locale("en"), m.when);
            let text = format!(
                "{note}\n\n-------- {words} --------\n{} {}\n{} {when}\n{} {}\n{} {}\n\n{}",
                lab(subj, ink),
                m.subject,
                lab(dt, ink),
                lab(from, ink),
                m.from.angle(),
                lab(to, ink),
                m.to.addr,
                m.text
            );
            let row = |l: &str, v: String| {
                format!(
                    "<tr><th align=\"right\" valign=\"baseline\" nowrap=\"nowrap\">{}</th><td>{v}</td></tr>",
                    hlab(l, ink, loc)
                )
            };
            let html = format!(
                "<p>{}</p>\n<p><br></p>\n<p>-------- {} --------</p>\n<table border=\"0\" cellpadding=\"0\" cellspacing=\"0\"><tbody>{}{}{}{}</tbody></table>\n<br>\n{inner}",
                esc(&note),
                esc(words),
                row(subj, esc(&m.subject)),
                row(dt, when.clone()),
                row(from, m.from.html()),
                row(to, link(&m.to.addr)),
            );
            Fwd {
                text,
                html: Some(html),
                prefix: "Fwd:".into(),
            }
        }
        Client::Zoho => {
            let [from, dt, to, subj] = loc.std;
            let when = m.when.rfc_padded();
            if loc.code == "en" && rng.chance(40) {
                // Zoho's reply attribution: dashes, no colon.
                d.push("attribution".into());
                let attribution = format!(
                    "---- On {when} {} <{}> wrote ----",
                    m.from.display(),
                    m.from.addr
                );
                let text = format!("{note}\n\n\n\n{attribution}\n\n{}", quote(&m.text, "> "));
                let html = format!(
                    "<div>{}<br></div><div class=\"zmail_extra_hr\" style=\"border-top: 1px solid rgb(204, 204, 204); height: 0px; margin-top: 10px; margin-bottom: 10px; line-height: 0px;\"><br></div>\
                     <div class=\"zmail_extra\" data-zmail_extra=\"\"><div><br></div><div id=\"Zm-_Id_-Sgn1\">---- On {when} <b>{}</b> &lt;{}&gt; wrote ----<br></div><div><br></div>\
                     <blockquote style=\"margin: 0px;\">{inner}</blockquote></div>",
                    esc(&note),
                    esc(m.from.display()),
                    link(&m.from.addr)
                );
                return Fwd {
                    text,
                    html: Some(html),
                    prefix: "Re:".into(),
                };
            }
            let sep = format!("============ {} ============", loc.fwd_msg);
            let text = format!(
                "{note}\n\n\n\n{sep}\n{} {}\n{} <{}>\n{} {when}\n{} {}\n{sep}\n\n{}",
                lab(from, ink),
                m.from.angle(),
                lab(to, ink),
                m.to.addr,
                lab(dt, ink),
                lab(subj, ink),
                m.subject,
                m.text
            );
            let html = format!(
                "<div>{}<br></div><div class=\"zmail_extra_hr\" style=\"border-top: 1px solid rgb(204, 204, 204); height: 0px; margin-top: 10px; margin-bottom: 10px; line-height: 0px;\"><br></div>\
                 <div class=\"zmail_extra\" data-zmail_extra=\"\"><div><br></div><div>{}<br>{} {}<br>{} &lt;{}&gt;<br>{} {}<br>{} {}<br>{}<br></div><div><br></div></div><div>{inner}</div>",
                esc(&note),
                esc(&sep),
                hlab(from, ink, loc),
                m.from.html(),
                hlab(to, ink, loc),
                link(&m.to.addr),
                hlab(dt, ink, loc),
                esc(&when),
                hlab(subj, ink, loc),
                esc(&m.subject),
                esc(&sep)
            );
            Fwd {
                text,
                html: Some(html),
                prefix: "Fwd:".into(),
            }
        }
        Client::Proton => {
            let [from, dt, to, subj] = loc.std;
            let sep_words = if loc.code == "en" {
                "Forwarded Message"
            } else {
                loc.fwd_msg
            };
            let sep = format!("------- {sep_words} -------");
            let when = if loc.code == "en" {
                date(
                    "On {DAY}, {MONTH} {d}nd, {yyyy} at {h}:{mi} {ap}",
                    loc,
                    m.when,
                )
                .replace("3nd", "3rd")
            } else {
                date(loc.d_outlook, loc, m.when)
            };
            let text = format!(
                "{note}\n\n\n\n\n{sep}\n{} {}\n{} {when}\n{} {}\n{} {}\n\n\n{}",
                lab(from, ink),
                m.from.angle(),
                lab(dt, ink),
                lab(subj, ink),
                m.subject,
                lab(to, ink),
                m.to.angle(),
                m.text
            );
            let html = format!(
                "<div style=\"font-family: Arial, sans-serif; font-size: 14px;\">{}</div><div style=\"font-family: Arial, sans-serif; font-size: 14px;\"><br></div>\
                 <div class=\"protonmail_quote\">\n{sep}<br>\n{} {}<br>\n{} {}<br>\n{} {}<br>\n{} {}<br>\n<br>\n<blockquote class=\"protonmail_quote\" type=\"cite\">\n{inner}\n</blockquote><br>\n</div>",
                esc(&note),
                hlab(from, ink, loc),
                m.from.html(),
                hlab(dt, ink, loc),
                esc(&when),
                hlab(subj, ink, loc),
                esc(&m.subject),
                hlab(to, ink, loc),
                m.to.html()
            );
            Fwd {
                text,
                html: Some(html),
                prefix: "Fwd:".into(),
            }
        }
        Client::Fastmail => {
            let when = date("{DAY}, {MONTH} {dd}, {yyyy} {h}:{mi} {ap}", loc, m.when);
            let text = format!(
                "{note}\n\n----- Original message -----\nFrom: {}\nTo: {}\nSubject: {}\nDate: {when}\n\n{}",
                m.from.angle(),
                m.to.angle(),
                m.subject,
                m.text
            );
            let html = format!(
                "<div>{}<br></div><div><br></div><div>----- Original message -----</div>\
                 <div>From: {}</div><div>To: {}</div><div>Subject: {}</div><div>Date: {}</div><div><br></div>{inner}",
                esc(&note),
                m.from.html(),
                m.to.html(),
                esc(&m.subject),
                esc(&when)
            );
            Fwd {
                text,
                html: Some(html),
                prefix: "Fwd:".into(),
            }
        }
        Client::Spark => {
            let attribution = spark_attribution(loc, m);
            let text = format!("{note}\n\n{attribution}\n{}", quote(&m.text, "> "));
            let attr_html = esc(&attribution).replace(
                &esc(&format!("<{}>", m.from.addr)),
                &format!("&lt;{}&gt;", link(&m.from.addr)),
            );
            let html = format!(
                "<div name=\"messageBodySection\"><div dir=\"auto\">{}</div></div>\
                 <div name=\"messageReplySection\">{attr_html}<br>\n<blockquote type=\"cite\" style=\"margin: 5px 5px; padding-left: 10px; border-left: thin solid #1abc9c;\">{inner}</blockquote></div>",
                esc(&note)
            );
            Fwd {
                text,
                html: Some(html),
                prefix: "Fwd:".into(),
            }
        }
        Client::OutlookMobile => {
            let [from, sent, to, subj] = loc.outlook;
            let when = date(loc.d_outlook, loc, m.when);
            let sig = "Get Outlook for iOS<https://aka.ms/o0ukef>";
            let text = format!(
                "{note}\n\n{sig}\n________________________________\n{} {}\n{} {when}\n{} {}\n{} {}\n\n{}",
                lab(from, ink),
                ltr(loc, m.from.angle()),
                lab(sent, ink),
                lab(to, ink),
                ltr(loc, m.to.angle()),
                lab(subj, ink),
                m.subject,
                m.text
            );
            let dir = if loc.rtl { "rtl" } else { "ltr" };
            let html = format!(
                "<div dir=\"{dir}\">{}</div><div dir=\"ltr\"><br></div><div id=\"ms-outlook-mobile-signature\" dir=\"ltr\">Get <a href=\"https://aka.ms/o0ukef\">Outlook for iOS</a></div>\n\
                 <div id=\"mail-editor-reference-message-container\" dir=\"{dir}\"><hr style=\"display:inline-block;width:98%\" tabindex=\"-1\">\
                 <div id=\"divRplyFwdMsg\" dir=\"{dir}\"><font face=\"Calibri, sans-serif\" style=\"font-size:11pt\" color=\"#000000\"><b>{}</b> {}<br><b>{}</b> {}<br><b>{}</b> {}<br><b>{}</b> {}</font><div>&nbsp;</div></div>\n{}</div>",
                esc(&note),
                hlab(from, ink, loc),
                ltr(loc, esc(&m.from.angle())),
                hlab(sent, ink, loc),
                esc(&when),
                hlab(to, ink, loc),
                ltr(loc, esc(&m.to.angle())),
                hlab(subj, ink, loc),
                esc(&m.subject),
                if m.html.is_some() {
                    x_prefixed(&inner)
                } else {
                    inner
                }
            );
            Fwd {
                text,
                html: Some(html),
                prefix: loc.fw.into(),
            }
        }
        Client::SamsungEmail => {
            let [from, dt, to, subj] = loc.std.map(ascii_colon);
            let words = match loc.code {
                "en" => "Original message",
                "de" => "Ursprüngliche Nachricht",
                _ => loc.orig_msg,
            };
            let when = format!("{} (GMT+00:00)", date(loc.d_num, loc, m.when));
            // Samsung Email leaves a space after each value.
            let text = format!(
                "{note}\n\n\n\n-------- {words} --------\n{} {} \n{} {when} \n{} {} \n{} {} \n\n{}",
                lab(&from, ink),
                m.from.angle(),
                lab(&dt, ink),
                lab(&to, ink),
                m.to.angle(),
                lab(&subj, ink),
                m.subject,
                m.text
            );
            let html = format!(
                "<div dir=\"auto\">{}</div><div dir=\"auto\"><br></div><div id=\"composer_signature\" dir=\"auto\"><br></div><div dir=\"auto\"><br></div>\
                 <div align=\"left\" dir=\"auto\" style=\"font-size:100%;color:#000000\"><!-- originalMessage --><div>-------- {} --------</div>\
                 <div>{} {} </div><div>{} {} </div><div>{} {} </div><div>{} {} </div><div><br></div></div>{inner}",
                esc(&note),
                esc(words),
                hlab(&from, ink, loc),
                esc(&m.from.angle()),
                hlab(&dt, ink, loc),
                esc(&when),
                hlab(&to, ink, loc),
                esc(&m.to.angle()),
                hlab(&subj, ink, loc),
                esc(&m.subject)
            );
            Fwd {
                text,
                html: Some(html),
                prefix: "Fwd:".into(),
            }
        }
        Client::Mutt => {
            let text = format!(
                "{note}\n\n----- Forwarded message from {} -----\n\nDate: {}\nFrom: {}\nTo: {}\nSubject: {}\n\n{}\n----- End forwarded message -----\n",
                m.from.angle(),
                m.when.rfc(),
                m.from.angle(),
                m.to.angle(),
                m.subject,
                m.text
            );
            Fwd {
                text,
                html: None,
                prefix: "Fwd:".into(),
            }
        }
    }
}

/// The Reply-To row of Apple Mail's and Thunderbird's header block.
fn reply_to_label(loc: &Loc) -> &'static str {
    match loc.code {
        "de" => "Antwort an:",
        "fr" => "Répondre à:",
        "es" | "pt-BR" => "Responder a:",
        "pt" => "Responder A:",
        "it" => "Rispondi a:",
        "nl" => "Antwoord aan:",
        "da" | "nb" => "Svar til:",
        "sv" => "Svara till:",
        "fi" => "Vastaus:",
        "pl" => "Odpowiedź-do:",
        "cs" => "Odpověď na:",
        "sk" => "Odpovedať-Pre:",
        "hu" => "Válaszcím:",
        "hr" => "Odgovori na:",
        "ro" => "Răspuns către:",
        "tr" => "Yanıt Adresi:",
        "ru" => "Ответ-Кому:",
        "uk" => "Кому відповісти:",
        "ja" => "返信先:",
        "zh-CN" => "回复至:",
        "zh-TW" => "回覆至:",
        "ko" => "회신 주소:",
        _ => "Reply-To:",
    }
}

/// Outlook's Cc label.
fn cc_label(loc: &Loc) -> &'static str {
    match loc.code {
        "sv" => "Kopia:",
        "fi" => "Kopio:",
        "et" => "Koopia:",
        "pl" => "DW:",
        "cs" => "Kopie:",
        "sk" => "Kópia:",
        "hu" => "Másolatot kap:",
        "hr" => "Kopija:",
        "tr" => "Bilgi:",
        "ru" => "Копия:",
        "uk" => "Копія:",
        "el" => "Κοιν.:",
        "he" => "עותק:",
        "ar" => "نسخة:",
        "ja" | "vi" => "CC:",
        "zh-CN" => "抄送:",
        "zh-TW" => "副本:",
        "ko" => "참조:",
        "th" => "สำเนาถึง:",
        _ => "Cc:",
    }
}

fn gmail_date(loc: &Loc, w: When, rng: &mut Lcg, d: &mut Vec<String>) -> String {
    let s = date(loc.d_gmail, loc, w);
    // Gmail has written a narrow no-break space before AM/PM since 2023;
    // older mail has a plain space.
    if s.contains('\u{202f}') {
        if rng.chance(50) {
            d.push("U+202F before AM/PM".into());
            s
        } else {
            s.replace('\u{202f}', " ")
        }
    } else {
        s
    }
}

/// Spark's attribution: the date, the sender, a comma, "wrote".
fn spark_attribution(loc: &Loc, m: &Msg) -> String {
    let tpl = match loc.code {
        "de" => "Am {d}. {mon} {yyyy}, {HH}:{mi} +0000 schrieb {name} <{addr}>:",
        "fr" => "Le {d} {mon} {yyyy} à {HH}:{mi} +0000, {name} <{addr}> a écrit :",
        "es" => "El {d} {mon} {yyyy}, {H}:{mi} +0000, {name} <{addr}>, escribió:",
        "it" => "Il {d} {mon} {yyyy}, {HH}:{mi} +0000, {name} <{addr}>, ha scritto:",
        "pt-BR" => "Em {d} de {mon} de {yyyy} {HH}:{mi} +0000, {name} <{addr}>, escreveu:",
        "nl" => "Op {d} {mon} {yyyy} om {HH}:{mi} +0000 schreef {name} <{addr}>:",
        "ru" => "{d} {mon} {yyyy} г., {HH}:{mi} +0000, {name} <{addr}>, писал:",
        "uk" => "{d} {mon} {yyyy} р., {HH}:{mi} +0000, {name} <{addr}> пише:",
        "ja" => "{yyyy}年{m}月{d}日 {HH}:{mi} +0000、{name} <{addr}> のメール:",
        "zh-CN" => "{yyyy}年{m}月{d}日 +0000 {HH}:{mi}，{name} <{addr}>，写道：",
        "ko" => "{yyyy}년 {m}월 {d}일 {ap} {h}:{mi} +0000, {name} <{addr}>님이 작성:",
        _ => "On {d} {mon} {yyyy} at {HH}:{mi} +0000, {name} <{addr}>, wrote:",
    };
    let t = date(tpl, loc, m.when);
    fill(&t, "", &m.from)
}

/// Breaks a line at the last space before `width` characters.
fn wrap_at(s: &str, width: usize) -> String {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let cut = chars
        .iter()
        .take(width)
        .filter(|(_, c)| *c == ' ')
        .map(|(i, _)| *i)
        .next_back();
    match cut {
        Some(i) => format!("{}\n{}", &s[..i], &s[i + 1..]),
        None => s.to_owned(),
    }
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
    let subject = if h.subject.is_ascii() {
        h.subject.to_owned()
    } else {
        encoded_words(h.subject)
    };
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

/// The known answer for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// A `leadsie_grant` with exactly these (store, code) pairs, sorted.
    Grants(Vec<(String, String)>),
    /// No grant at all: why.
    NoGrant(&'static str),
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
