//! What the generated corpora (`tests/generated.rs`, `tests/clients.rs`)
//! share: the deterministic choices their generators make, the answer each
//! message must give, the classifier they hold it against, and how a
//! classification is judged and counted.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use collabd::mail::{Classification, Classifier, OutcomeRules, Require, TrustPolicy};
use collabd::model::MessageKind;
use mail_parser::PartType;

/// A 64-bit LCG (Knuth's MMIX constants); the high bits are the output.
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed ^ 0x9e37_79b9_7f4a_7c15)
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

/// The known answer for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// A `leadsie_grant` with exactly these (store, code) pairs, sorted.
    Grants(Vec<(String, String)>),
    /// No grant at all: the reason a reader would give.
    NoGrant(&'static str),
}

/// Colleagues forward from agency.com; no DKIM is asked for, so that the
/// corpora test reading, not signatures.
pub fn classifier() -> Classifier {
    Classifier::new(
        TrustPolicy {
            forwarders: Some(vec!["agency.com".into()]),
            require: Require::None,
            ..TrustPolicy::default()
        },
        OutcomeRules::new(&[]).unwrap(),
    )
}

/// How a message's answer went wrong.
pub enum Miss {
    /// Fewer grants than expected, or another kind, but nothing false.
    Missed(String),
    /// A grant for a store or code the message does not give: the worse kind.
    Wrong(String),
}

pub fn pairs(c: &Classification) -> Vec<(String, String)> {
    let mut got: Vec<(String, String)> = c
        .grants
        .iter()
        .map(|g| (g.store.as_str().to_owned(), g.code.expose().to_owned()))
        .collect();
    got.sort();
    got
}

pub fn show(pairs: &[(String, String)]) -> String {
    let items: Vec<String> = pairs.iter().map(|(s, c)| format!("{s}={c}")).collect();
    format!("[{}]", items.join(" "))
}

pub fn judge(expect: &Expect, c: &Classification) -> Result<(), Miss> {
    let got = pairs(c);
    let reason = c.reason.as_deref().unwrap_or("-");
    match expect {
        Expect::Grants(want) => {
            let wrong: Vec<(String, String)> =
                got.iter().filter(|g| !want.contains(g)).cloned().collect();
            if !wrong.is_empty() {
                return Err(Miss::Wrong(format!(
                    "WRONG grant {} (want {}; kind {}, reason: {reason})",
                    show(&wrong),
                    show(want),
                    c.kind
                )));
            }
            if c.kind != MessageKind::LeadsieGrant || &got != want {
                return Err(Miss::Missed(format!(
                    "want leadsie_grant {}, got {} {} (reason: {reason})",
                    show(want),
                    c.kind,
                    show(&got)
                )));
            }
        }
        Expect::NoGrant(why) => {
            if c.kind == MessageKind::LeadsieGrant || !got.is_empty() {
                return Err(Miss::Wrong(format!(
                    "WRONG grant {} from a message with none ({why}); kind {}",
                    show(&got),
                    c.kind
                )));
            }
        }
    }
    Ok(())
}

/// Pass, total and wrong grants for one value of one dimension.
#[derive(Default)]
struct Tally {
    total: usize,
    pass: usize,
    wrong: usize,
}

/// Counts per value of each dimension of a corpus (layout, client,
/// language…), values in the order they first appear.
pub struct Tables {
    dims: Vec<&'static str>,
    tables: Vec<(Vec<String>, BTreeMap<String, Tally>)>,
}

impl Tables {
    pub fn new(dims: &[&'static str]) -> Tables {
        Tables {
            dims: dims.to_vec(),
            tables: dims.iter().map(|_| Default::default()).collect(),
        }
    }

    /// Counts one message's verdict under `key` of dimension `dim`.
    pub fn count(&mut self, dim: usize, key: &str, verdict: &Result<(), Miss>) {
        let (order, table) = &mut self.tables[dim];
        if !table.contains_key(key) {
            order.push(key.to_owned());
        }
        let t = table.entry(key.to_owned()).or_default();
        t.total += 1;
        match verdict {
            Ok(()) => t.pass += 1,
            Err(Miss::Wrong(_)) => t.wrong += 1,
            Err(Miss::Missed(_)) => {}
        }
    }

    pub fn write(&self, report: &mut String) {
        for (dim, (order, table)) in self.dims.iter().zip(&self.tables) {
            let _ = writeln!(
                report,
                "\n{dim:<22} {:>6} {:>6} {:>6} {:>6}",
                "total", "pass", "fail", "wrong"
            );
            for key in order {
                let t = &table[key];
                let _ = writeln!(
                    report,
                    "  {key:<20} {:>6} {:>6} {:>6} {:>6}",
                    t.total,
                    t.pass,
                    t.total - t.pass,
                    t.wrong
                );
            }
        }
    }
}

/// The variants whose name contains the text of environment variable
/// `var` (all of them when it is unset).
pub fn selected<V>(var: &str, corpus: Vec<V>, name: impl Fn(&V) -> String) -> Vec<V> {
    let only = std::env::var(var).ok();
    corpus
        .into_iter()
        .filter(|v| only.as_deref().is_none_or(|o| name(v).contains(o)))
        .collect()
}

/// The misread variants of a run: each named with why, wrong grants
/// counted, and each written as `<dir>/<id>.eml` when environment variable
/// `dump_var` names a directory.
pub struct Misreads {
    pub list: Vec<(bool, String)>,
    pub wrong: usize,
    dump: Option<std::path::PathBuf>,
}

impl Misreads {
    pub fn new(dump_var: &str) -> Misreads {
        let dump = std::env::var_os(dump_var).map(std::path::PathBuf::from);
        if let Some(dir) = &dump {
            std::fs::create_dir_all(dir).unwrap();
        }
        Misreads {
            list: Vec::new(),
            wrong: 0,
            dump,
        }
    }

    /// Records one miss; says whether it was a wrong grant.
    pub fn record(&mut self, name: String, id: usize, raw: &[u8], miss: Miss) -> bool {
        let (is_wrong, why) = match miss {
            Miss::Wrong(w) => (true, w),
            Miss::Missed(m) => (false, m),
        };
        self.wrong += usize::from(is_wrong);
        self.list.push((is_wrong, format!("{name}: {why}")));
        if let Some(dir) = &self.dump {
            std::fs::write(dir.join(format!("{id}.eml")), raw).unwrap();
        }
        is_wrong
    }

    /// The first `limit` misses, wrong grants first: a missed grant waits
    /// for a person, a wrong one asks a stranger's store for access.
    pub fn write_first(&mut self, report: &mut String, limit: usize) {
        self.list.sort_by_key(|(wrong, _)| !wrong);
        let _ = writeln!(report, "\nfirst failures (wrong grants first):");
        for (_, f) in self.list.iter().take(limit) {
            let _ = writeln!(report, "  {f}");
        }
        if self.list.len() > limit {
            let _ = writeln!(report, "  … and {} more", self.list.len() - limit);
        }
    }
}

/// A header value as RFC 2047 encoded words when it is not ASCII.
pub fn header_text(s: &str) -> String {
    if s.is_ascii() {
        return s.to_owned();
    }
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

/// The decoded text and HTML of every part, attached messages included.
pub fn bodies(msg: &mail_parser::Message<'_>, out: &mut Vec<String>) {
    for part in &msg.parts {
        match &part.body {
            PartType::Text(t) | PartType::Html(t) => out.push(t.to_string()),
            PartType::Message(m) => bodies(m, out),
            _ => {}
        }
    }
}
