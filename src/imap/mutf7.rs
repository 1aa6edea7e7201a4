//! Folder names on the wire: IMAP's modified UTF-7 (RFC 3501 §5.1.3), so
//! that `folders = ["Zugänge"]` is sent as `Zug&AOQ-nge` and a listed
//! `&BB4EMQRABDAEMQQ+BEIEMAQ9BD4-` is shown as `Обработано`. People see and
//! write the readable form; only the commands that name a folder use the
//! encoded one. Pure text: no session, no I/O.
//!
//! Every character is encoded on its own, so a hierarchy delimiter (`/` or
//! `.`, printable ASCII) passes through unchanged whatever the server's is,
//! and so does Gmail's `[Gmail]/…`.
//!
//! collabd does not ENABLE `UTF8=ACCEPT` (RFC 6855): a client that has not
//! enabled it keeps using modified UTF-7, which every server accepts, and
//! the responses stay in the form the IMAP parser reads.

use std::borrow::Cow;

/// The modified base64 alphabet: `,` stands for base64's `/`.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// Why a name from the server is not modified UTF-7.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{name}` is not a modified UTF-7 folder name: {why}")]
pub struct Invalid {
    pub name: String,
    pub why: &'static str,
}

/// Encodes a folder name for the wire. A name that is already valid
/// modified UTF-7 with an encoded run (`Entw&APw-rfe`, as people had to
/// write it before collabd encoded names) is sent as written, so such a
/// configuration keeps meaning what it meant.
pub fn wire(name: &str) -> Cow<'_, str> {
    if name.is_ascii() && name.contains('&') && decode(name).is_ok() {
        return Cow::Borrowed(name);
    }
    encode(name)
}

/// The readable form of a name the server sent; its own text when it is not
/// valid modified UTF-7 (shown rather than refused).
pub fn readable(wire: &str) -> Cow<'_, str> {
    match decode(wire) {
        Ok(s) => Cow::Owned(s),
        Err(_) => Cow::Borrowed(wire),
    }
}

/// Modified UTF-7: printable ASCII as itself, `&` as `&-`, every run of
/// other characters as `&`, modified base64 of its UTF-16, `-`.
pub fn encode(name: &str) -> Cow<'_, str> {
    if name.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'&') {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() * 2);
    let mut run: Vec<u16> = Vec::new();
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut run, &mut out);
            out.push(c);
            if c == '&' {
                out.push('-');
            }
        } else {
            let mut units = [0u16; 2];
            run.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut run, &mut out);
    Cow::Owned(out)
}

fn flush(run: &mut Vec<u16>, out: &mut String) {
    if run.is_empty() {
        return;
    }
    out.push('&');
    let bytes: Vec<u8> = run.iter().flat_map(|u| u.to_be_bytes()).collect();
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let bits = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        // n bytes need n + 1 characters; no `=` padding.
        for i in 0..=n {
            out.push(ALPHABET[(bits >> (18 - 6 * i) & 0x3f) as usize] as char);
        }
    }
    out.push('-');
    run.clear();
}

/// Decodes a modified UTF-7 name, refusing what RFC 3501 does not allow:
/// bytes outside printable ASCII, an unterminated or malformed encoded run,
/// an encoded run holding printable ASCII, an odd or unpaired UTF-16.
pub fn decode(wire: &str) -> Result<String, Invalid> {
    let bad = |why| Invalid {
        name: wire.to_owned(),
        why,
    };
    let mut out = String::with_capacity(wire.len());
    let mut bytes = wire.bytes();
    while let Some(b) = bytes.next() {
        if !(0x20..0x7f).contains(&b) {
            return Err(bad("it holds a character outside printable ASCII"));
        }
        if b != b'&' {
            out.push(b as char);
            continue;
        }
        let mut bits: u32 = 0;
        let mut nbits = 0u32;
        let mut units: Vec<u16> = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        let mut closed = false;
        let mut chars = 0usize;
        for b in bytes.by_ref() {
            if b == b'-' {
                closed = true;
                break;
            }
            let Some(v) = ALPHABET.iter().position(|&a| a == b) else {
                return Err(bad(
                    "an encoded run holds a character outside modified base64",
                ));
            };
            chars += 1;
            bits = bits << 6 | v as u32;
            nbits += 6;
            if nbits >= 8 {
                nbits -= 8;
                pending.push((bits >> nbits) as u8);
                bits &= (1 << nbits) - 1;
                if pending.len() == 2 {
                    units.push(u16::from_be_bytes([pending[0], pending[1]]));
                    pending.clear();
                }
            }
        }
        if !closed {
            return Err(bad("an encoded run does not end with `-`"));
        }
        if chars == 0 {
            out.push('&');
            continue;
        }
        if !pending.is_empty() || nbits >= 6 || bits != 0 {
            return Err(bad("an encoded run does not hold whole UTF-16 characters"));
        }
        for c in char::decode_utf16(units) {
            let c = c.map_err(|_| bad("an encoded run holds an unpaired UTF-16 surrogate"))?;
            if (' '..='~').contains(&c) {
                return Err(bad("an encoded run holds printable ASCII"));
            }
            out.push(c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_3501_example_encodes_and_decodes() {
        let readable = "~peter/mail/\u{53f0}\u{5317}/\u{65e5}\u{672c}\u{8a9e}";
        let wire = "~peter/mail/&U,BTFw-/&ZeVnLIqe-";
        assert_eq!(encode(readable), wire);
        assert_eq!(decode(wire).unwrap(), readable);
    }

    #[test]
    fn an_ampersand_is_written_and_read_as_amp_dash() {
        assert_eq!(encode("&"), "&-");
        assert_eq!(encode("R&D"), "R&-D");
        assert_eq!(decode("&-").unwrap(), "&");
        assert_eq!(decode("R&-D").unwrap(), "R&D");
    }

    #[test]
    fn ascii_names_gmail_labels_and_delimiters_stay_as_they_are() {
        for name in ["INBOX", "[Gmail]/All Mail", "Kunden.Archiv", "a b~c"] {
            assert_eq!(encode(name), name);
            assert!(matches!(encode(name), Cow::Borrowed(_)));
            assert_eq!(decode(name).unwrap(), name);
        }
    }

    #[test]
    fn names_in_german_russian_and_japanese_round_trip() {
        let cases = [
            ("Zugänge", "Zug&AOQ-nge"),
            ("Kunden/Zugänge", "Kunden/Zug&AOQ-nge"),
            ("Обработано", "&BB4EMQRABDAEMQQ+BEIEMAQ9BD4-"),
            ("処理済み", "&UeZ0Bm4IMH8-"),
        ];
        for (readable, wire) in cases {
            assert_eq!(encode(readable), wire, "{readable}");
            assert_eq!(decode(wire).unwrap(), readable, "{wire}");
        }
        for name in [
            "Ünïcödé & more",
            "😀 emoji/🎉",
            "x\u{7f}y",
            "a\tb",
            "Größe/Maße & Co",
        ] {
            assert_eq!(decode(&encode(name)).unwrap(), name, "{name}");
        }
    }

    #[test]
    fn invalid_names_are_refused_on_decode() {
        for wire in [
            "Zug&AOQ",     // not terminated
            "Zug&AOQ!-",   // not modified base64
            "&AGE-",       // "a", printable ASCII, encoded
            "&AOQA-",      // 3 bytes: half a UTF-16 unit
            "&AOR-",       // non-zero padding bits
            "&2D0-",       // a lone high surrogate
            "Zugänge",     // raw 8-bit
            "a/b&U,BTFw/", // not terminated
        ] {
            assert!(decode(wire).is_err(), "{wire}");
        }
    }

    #[test]
    fn a_name_already_written_in_modified_utf7_is_sent_as_written() {
        assert_eq!(wire("Entw&APw-rfe"), "Entw&APw-rfe");
        assert_eq!(wire("Entwürfe"), "Entw&APw-rfe");
        assert_eq!(wire("R&D"), "R&-D");
        assert_eq!(readable("Entw&APw-rfe"), "Entwürfe");
        assert_eq!(readable("bad&"), "bad&");
    }
}
