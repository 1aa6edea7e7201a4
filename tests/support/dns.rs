//! A DNS server on loopback that answers TXT queries from a table the test
//! fills (DKIM keys it generated), and NXDOMAIN for anything else; or, when
//! `silent`, never answers at all (a resolver that is down). Real UDP, real
//! DNS wire format, so mail-auth's resolver does exactly what it does in
//! production.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub struct Dns {
    pub addr: SocketAddr,
    records: Arc<Mutex<HashMap<String, String>>>,
    silent: Arc<std::sync::atomic::AtomicBool>,
}

impl Dns {
    pub async fn start() -> Dns {
        let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = sock.local_addr().unwrap();
        let records: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let silent = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (r, quiet) = (records.clone(), silent.clone());
        tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            loop {
                let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
                    return;
                };
                if quiet.load(std::sync::atomic::Ordering::SeqCst) {
                    continue;
                }
                let reply = answer(&buf[..n], &r.lock().unwrap());
                if let Some(reply) = reply {
                    let _ = sock.send_to(&reply, peer).await;
                }
            }
        });
        Dns {
            addr,
            records,
            silent,
        }
    }

    pub fn txt(&self, name: &str, value: &str) {
        self.records.lock().unwrap().insert(
            name.trim_end_matches('.').to_ascii_lowercase(),
            value.into(),
        );
    }

    /// Stops (or resumes) answering: queries time out, as with a resolver
    /// that is down.
    pub fn set_silent(&self, silent: bool) {
        self.silent
            .store(silent, std::sync::atomic::Ordering::SeqCst);
    }
}

fn answer(q: &[u8], records: &HashMap<String, String>) -> Option<Vec<u8>> {
    if q.len() < 12 {
        return None;
    }
    let mut i = 12;
    let mut labels = Vec::new();
    loop {
        let len = *q.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(q.get(i..i + len)?).to_ascii_lowercase());
        i += len;
    }
    let qtype = u16::from_be_bytes([*q.get(i)?, *q.get(i + 1)?]);
    let question = &q[12..i + 4];
    let name = labels.join(".");
    let value = records.get(&name).filter(|_| qtype == 16);
    let mut out = Vec::new();
    out.extend_from_slice(&q[..2]);
    let rcode: u8 = if value.is_some() { 0 } else { 3 };
    out.extend_from_slice(&[0x81, 0x80 | rcode]);
    out.extend_from_slice(&[0, 1, 0, u8::from(value.is_some()), 0, 0, 0, 0]);
    out.extend_from_slice(question);
    if let Some(v) = value {
        let mut rdata = Vec::new();
        for chunk in v.as_bytes().chunks(255) {
            rdata.push(chunk.len() as u8);
            rdata.extend_from_slice(chunk);
        }
        out.extend_from_slice(&[0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 60]);
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(&rdata);
    }
    Some(out)
}
