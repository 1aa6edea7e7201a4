//! Bounded work per message: classification time and peak memory for the
//! hostile shapes issue 9 names (reproduce: `cargo bench --bench hostile`).
//! Goals: any message up to 25 MB in at most 2 s and 256 MB RSS; a 1 MB
//! hostile one in at most 100 ms. Prints figures; asserts nothing on time.

use std::time::Instant;

use collabd::mail::Classifier;

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn leadsie(body: &str) -> Vec<u8> {
    format!(
        "From: Leadsie <notifications@leadsie.com>\r\nSubject: Acme has granted you access\r\n\r\nShopify collaborator code\r\n{body}"
    )
    .into_bytes()
}

fn main() {
    let c = Classifier::with_defaults();
    let mb = 1 << 20;
    let stores = |n: usize| {
        let mut s = String::new();
        while s.len() < n {
            s.push_str(&format!(
                "Store: s{}.myshopify.com collaborator code 1234 ",
                s.len()
            ));
        }
        s
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("1 MB, store names on one line", leadsie(&stores(mb))),
        (
            "1 MB, one store per line",
            leadsie(
                &stores(mb)
                    .replace(" collaborator", "\r\ncollaborator")
                    .replace("Store:", "\r\nStore:"),
            ),
        ),
        ("4 MB, store names on one line", leadsie(&stores(4 * mb))),
        ("24 MB of newlines", leadsie(&"\r\n".repeat(12 * mb))),
        ("25 MB HTML of nested tags", {
            let mut m =
                b"From: Leadsie <notifications@leadsie.com>\r\nContent-Type: text/html\r\n\r\n"
                    .to_vec();
            m.extend(
                "<div><span>acme.myshopify.com collaborator 1234</span>"
                    .repeat(25 * mb / 55)
                    .bytes(),
            );
            m
        }),
        (
            "25 MB of forward headers",
            leadsie(&"From: a@b.c\r\nDate: x\r\n".repeat(25 * mb / 23)),
        ),
    ];
    for (name, raw) in &cases {
        let start = Instant::now();
        let out = c.classify(raw);
        let took = start.elapsed();
        println!(
            "{name:34} {:6.1} MB  {:8.1} ms  peak RSS {:6.1} MB  -> {} ({} grants)",
            raw.len() as f64 / mb as f64,
            took.as_secs_f64() * 1000.0,
            peak_rss_mb(),
            out.kind,
            out.grants.len()
        );
    }
}
