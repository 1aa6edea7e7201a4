//! What each mail client writes when it forwards or quotes a message: its
//! separator or attribution line, its header block (labels, order, date,
//! how it writes an address), how it quotes or indents the original, and
//! the HTML around it. The words per locale are in `clientgen_locales.rs`.

use std::fmt::Write as _;

use super::*;

/// A forward's body as its client composed it.
pub(super) struct Fwd {
    pub text: String,
    pub html: Option<String>,
    /// Subject prefix.
    pub prefix: String,
}

/// Per-variant choices that every hop of it shares.
pub(super) struct Ink {
    /// The space French writes before a colon: a space, a no-break space
    /// or a narrow no-break space.
    pub fr_space: char,
}

pub(super) fn lab(label: &str, ink: &Ink) -> String {
    label.replace(" :", &format!("{}:", ink.fr_space))
}

pub(super) fn hlab(label: &str, ink: &Ink, loc: &Loc) -> String {
    let l = esc(&lab(label, ink)).replace('\u{a0}', "&nbsp;");
    if loc.rtl {
        format!("\u{200f}{l}\u{200f}")
    } else {
        l
    }
}

/// An address as a right-to-left client writes it: kept left to right.
pub(super) fn ltr(loc: &Loc, s: String) -> String {
    if loc.rtl {
        format!("\u{200e}{s}\u{200e}")
    } else {
        s
    }
}

pub(super) fn ascii_colon(label: &str) -> String {
    label.replace('：', ":")
}

pub(super) fn render(w: &Writer, m: &Msg, ink: &Ink, rng: &mut Lcg, d: &mut Vec<String>) -> Fwd {
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

pub(super) fn render_foreign(f: &Foreign, m: &Msg) -> Fwd {
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

pub(super) fn render_client(
    c: Client,
    loc: &'static Loc,
    m: &Msg,
    ink: &Ink,
    rng: &mut Lcg,
    d: &mut Vec<String>,
) -> Fwd {
    let note = loc.note;
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
                esc(note),
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
                esc(note),
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
                esc(note)
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
                    esc(note),
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
                esc(note)
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
                esc(note),
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
                    esc(note),
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
                    esc(note),
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
                    esc(note),
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
                esc(note),
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
                esc(note),
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
                esc(note),
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
                esc(note),
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
                esc(note),
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
                    esc(note),
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
                esc(note),
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
                esc(note),
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
                esc(note),
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
                esc(note)
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
                esc(note),
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
                esc(note),
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
pub(super) fn reply_to_label(loc: &Loc) -> &'static str {
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
pub(super) fn cc_label(loc: &Loc) -> &'static str {
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

pub(super) fn gmail_date(loc: &Loc, w: When, rng: &mut Lcg, d: &mut Vec<String>) -> String {
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
pub(super) fn spark_attribution(loc: &Loc, m: &Msg) -> String {
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
pub(super) fn wrap_at(s: &str, width: usize) -> String {
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
