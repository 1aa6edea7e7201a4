//! A realistic mailbox, generated deterministically: 5% Leadsie and
//! Shopify (grants, forwarded grants, outcomes), the rest ordinary mail of
//! 5–50 KB, one in four with a base64 attachment. Shared by the IMAP and
//! pipeline benchmarks so both measure the same mail.
#![allow(dead_code)]

/// The `i`th message of a mailbox, and whether it carries a grant.
pub fn message(i: usize, rng: &mut Rng) -> (Vec<u8>, bool) {
    match i % 20 {
        0 if i.is_multiple_of(60) => (shopify_outcome(i), false),
        0 if i.is_multiple_of(40) => (forwarded_grant(i), true),
        0 => (grant(i), true),
        _ => (ordinary(i, rng), false),
    }
}

/// The agency's own address domain in this mailbox (the forwarder).
pub const AGENCY: &str = "agency.example";

pub fn grant(i: usize) -> Vec<u8> {
    format!(
        "From: Leadsie <notifications@leadsie.com>\r\nTo: ops@agency.example\r\nSubject: Shop {i} has granted you access\r\n\
         Date: Mon, 02 Nov 2026 09:00:00 +0000\r\nMessage-ID: <bench-grant-{i}@leadsie.com>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nClient: Shop {i}\r\n\r\nShopify\r\nStore URL: https://bench-shop-{i}.myshopify.com\r\n\
         Collaborator code: {:04}\r\n",
        i % 10_000
    )
    .into_bytes()
}

pub fn forwarded_grant(i: usize) -> Vec<u8> {
    format!(
        "From: Ops Person <ops@agency.example>\r\nTo: collabd@agency.example\r\nSubject: Fwd: Shop {i} has granted you access\r\n\
         Date: Mon, 02 Nov 2026 10:00:00 +0000\r\nMessage-ID: <bench-fwd-{i}@agency.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nPlease handle this one.\r\n\r\n---------- Forwarded message ---------\r\n\
         From: Leadsie <notifications@leadsie.com>\r\nDate: Mon, Nov 2, 2026 at 9:58 AM\r\nSubject: Shop {i} has granted you access\r\n\
         To: <ops@agency.example>\r\n\r\nShopify\r\nStore URL: https://bench-fwd-{i}.myshopify.com\r\nCollaborator code: {:04}\r\n",
        (i * 7) % 10_000
    )
    .into_bytes()
}

pub fn shopify_outcome(i: usize) -> Vec<u8> {
    format!(
        "From: Shopify <partners@shopify.com>\r\nTo: ops@agency.example\r\nSubject: Collaborator request accepted\r\n\
         Date: Tue, 03 Nov 2026 08:00:00 +0000\r\nMessage-ID: <bench-outcome-{i}@shopify.com>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nYour collaborator request for bench-shop-{i}.myshopify.com has been accepted.\r\n"
    )
    .into_bytes()
}

/// A deterministic pseudo-random stream (xorshift), so every run is alike.
pub struct Rng(pub u64);
impl Rng {
    /// The seed every benchmark uses, so every run is alike.
    pub fn seeded() -> Rng {
        Rng(0x9E37_79B9_7F4A_7C15)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Ordinary mail of 5–50 KB, most of it small (about 20 KB on average);
/// one in four carries a base64 attachment.
pub fn ordinary(i: usize, rng: &mut Rng) -> Vec<u8> {
    let size = 5_000 + (rng.next() % 45_000).min(rng.next() % 45_000) as usize;
    let senders = [
        "news@retail-weekly.example",
        "billing@saas.example",
        "alice@client.example",
        "noreply@calendar.example",
    ];
    let from = senders[i % senders.len()];
    let words = [
        "meeting",
        "invoice",
        "quarterly",
        "update",
        "schedule",
        "project",
        "review",
        "the",
        "and",
        "please",
    ];
    let mut text = String::with_capacity(size);
    while text.len() < size {
        text.push_str(words[(rng.next() % words.len() as u64) as usize]);
        text.push(if rng.next().is_multiple_of(12) {
            '\n'
        } else {
            ' '
        });
    }
    let head = format!(
        "From: Sender <{from}>\r\nTo: ops@agency.example\r\nSubject: Ordinary message {i}\r\nDate: Mon, 02 Nov 2026 09:00:00 +0000\r\nMessage-ID: <bench-{i}@example>\r\nMIME-Version: 1.0\r\n"
    );
    let text = text.replace('\n', "\r\n");
    if i.is_multiple_of(4) {
        let half = text.len() / 2;
        let mut blob = Vec::with_capacity(half);
        for _ in 0..half / 8 {
            blob.extend_from_slice(&rng.next().to_le_bytes());
        }
        use std::fmt::Write as _;
        let mut b64 = String::new();
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (n, c) in blob.chunks(3).enumerate() {
            let v = (c[0] as u32) << 16
                | (*c.get(1).unwrap_or(&0) as u32) << 8
                | *c.get(2).unwrap_or(&0) as u32;
            for k in 0..4 {
                b64.push(T[(v >> (18 - 6 * k) & 63) as usize] as char);
            }
            if n % 19 == 18 {
                let _ = write!(b64, "\r\n");
            }
        }
        format!(
            "{head}Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\nContent-Type: text/plain\r\n\r\n{}\r\n--b{i}\r\n\
             Content-Type: application/pdf; name=\"report-{i}.pdf\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment\r\n\r\n{b64}\r\n--b{i}--\r\n",
            &text[..half]
        )
        .into_bytes()
    } else {
        format!("{head}Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n").into_bytes()
    }
}
