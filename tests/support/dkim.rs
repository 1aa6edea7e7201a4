//! Signing test mail with DKIM as a sender's server does: an Ed25519 key
//! made for the test, and mail-auth's own signer.
#![allow(dead_code)]

use base64::Engine;
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;

pub struct Key {
    pub key: Ed25519Key,
    /// The private key, to make another signer with it (an ARC sealer).
    pub der: Vec<u8>,
    /// The public key, as a DKIM TXT record's `p=`.
    pub public: String,
}

pub fn key() -> Key {
    let der = Ed25519Key::generate_pkcs8().unwrap();
    let key = Ed25519Key::from_pkcs8_der(&der).unwrap();
    let public = base64::engine::general_purpose::STANDARD.encode(key.public_key());
    Key { key, der, public }
}

/// `msg` (LF line ends) with CRLF line ends, signed by `domain` with `k`
/// under `selector` over From, Subject and Date.
pub fn sign(k: Key, selector: &str, domain: &str, msg: &str) -> String {
    let raw = msg.replace('\n', "\r\n");
    let sig = DkimSigner::from_key(k.key)
        .domain(domain)
        .selector(selector)
        .headers(["From", "Subject", "Date"])
        .sign(raw.as_bytes())
        .unwrap();
    format!("{}{raw}", sig.to_header())
}
