//! Files judged on the lanes (`collabd parse`, `collabd ingest`): a file
//! read only as far as its header block must be judged exactly as the whole
//! message is, whatever the mail and wherever its header block ends; a file
//! that cannot be read is named, and the others keep their order.

#[path = "support/clientgen.rs"]
#[allow(dead_code)]
mod clientgen;
#[path = "support/corpus.rs"]
mod mailbox;
#[path = "support/verdict.rs"]
#[allow(dead_code)]
mod verdict;

use std::path::PathBuf;

use collabd::ingest::Judged;
use collabd::ingest::files::{HEAD_BYTES, HEAD_STEPS, Input, Verdict, judge_inputs};
use collabd::mail::{Classifier, OutcomeRules, Require, TrustPolicy};

fn classifier(forwarders: Option<&str>) -> Classifier {
    Classifier::new(
        TrustPolicy {
            forwarders: forwarders.map(|f| vec![f.to_owned()]),
            require: Require::None,
            ..TrustPolicy::default()
        },
        OutcomeRules::new(&[]).unwrap(),
    )
}

/// `raw` with a folded header of about `pad` bytes inserted before its
/// first line, so that its header block ends where a test wants it to.
fn padded(raw: &[u8], pad: usize, eol: &str) -> Vec<u8> {
    let mut header = String::from("X-Padding: start");
    while header.len() < pad {
        header.push_str(eol);
        header.push_str(" more padding to move the end of the header block along");
    }
    header.truncate(pad.max(16));
    let mut out = header.trim_end().as_bytes().to_vec();
    out.extend_from_slice(eol.as_bytes());
    out.extend_from_slice(raw);
    out
}

/// `raw` with LF line ends, as a Unix tool saves mail.
fn lf(raw: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(raw)
        .replace("\r\n", "\n")
        .into_bytes()
}

/// What a verdict says, as `collabd parse` prints it.
fn said(j: &Judged) -> String {
    match j {
        Judged::Ready(c) => serde_json::to_string(c).unwrap(),
        Judged::Deferred(c, why) => {
            format!("deferred {why}: {}", serde_json::to_string(c).unwrap())
        }
    }
}

/// The mail of every shape: forwards from every client and locale (with
/// the twins that must give nothing), a realistic mailbox (attachments,
/// grants, outcomes), and each of them with header blocks that end just
/// before, at and just after each step of the head, with CRLF and LF line
/// ends.
fn corpus() -> Vec<Vec<u8>> {
    let mut mail: Vec<Vec<u8>> = clientgen::corpus()
        .into_iter()
        .step_by(7)
        .map(|v| v.raw)
        .collect();
    let mut rng = mailbox::Rng::seeded();
    mail.extend((0..300).map(|i| mailbox::message(i, &mut rng).0));
    let mut shaped = Vec::new();
    for (i, raw) in mail.iter().enumerate() {
        shaped.push(raw.clone());
        if i % 3 == 0 {
            shaped.push(lf(raw));
        }
        // Where the block ends relative to the head: the padding is put
        // before the header block, so it ends `pad + len(header)` in.
        if i % 5 == 0 {
            let end = raw
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map_or(raw.len(), |p| p + 4);
            for step in HEAD_STEPS {
                for shift in [-3i64, -2, -1, 0, 1, 2, 3, 700] {
                    let pad = (step as i64 - end as i64 + shift).max(20) as usize;
                    shaped.push(padded(raw, pad, "\r\n"));
                }
                shaped.push(padded(&lf(raw), step, "\n"));
            }
        }
    }
    // A stranger's forward whose subject, the one header that makes it
    // worth reading, comes after the head: judged from the head's headers
    // alone it would be ignored unread.
    for shift in HEAD_STEPS
        .iter()
        .flat_map(|&step| [-40i64, 0, 40, 400].map(|s| step as i64 + s))
    {
        let mut raw = b"From: Someone <someone@stranger.example>\r\n".to_vec();
        let pad = (shift - raw.len() as i64) as usize;
        raw = padded(&raw, pad, "\r\n");
        let grant = mailbox::grant(7);
        let body = &grant[grant.windows(4).position(|w| w == b"\r\n\r\n").unwrap()..];
        raw.extend_from_slice(
            b"Subject: Fwd: Shop 7 has granted you access on Leadsie\r\nTo: ops@agency.example",
        );
        raw.extend_from_slice(body);
        shaped.push(raw);
    }
    // No blank line anywhere, and a blank line at once (no headers).
    shaped.push(vec![b'X'; HEAD_BYTES * 2]);
    shaped.push(padded(b"\r\nbody only", HEAD_BYTES + 10, "\r\n"));
    let mut headless = b"\r\n".to_vec();
    headless.extend(std::iter::repeat_n(b'a', HEAD_BYTES * 2));
    shaped.push(headless);
    shaped
}

/// Read head-first through the lanes, every file is judged as
/// `Classifier::classify` judges its whole bytes, with and without
/// `[trust] forwarders`, and the verdicts come back in input order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_read_head_first_is_judged_as_the_whole_message() {
    let dir = tempfile::tempdir().unwrap();
    let mail = corpus();
    let mut files = Vec::new();
    for (i, raw) in mail.iter().enumerate() {
        let path = dir.path().join(format!("{i:05}.eml"));
        std::fs::write(&path, raw).unwrap();
        files.push(path);
    }
    let long = mail.iter().filter(|m| m.len() > HEAD_BYTES).count();
    assert!(long > 100, "only {long} files are longer than the head");
    let verifier = collabd::dkim::Verifier::new(&[]).unwrap();
    for forwarders in [Some("agency.com"), Some(mailbox::AGENCY), None] {
        let classifier = classifier(forwarders);
        let inputs = files.iter().cloned().map(Input::File).collect();
        let verdicts = judge_inputs(&classifier, &verifier, inputs, false).await;
        assert_eq!(verdicts.len(), mail.len());
        let mut from_head = 0;
        for (i, (raw, verdict)) in mail.iter().zip(verdicts).enumerate() {
            let Verdict::Judged { judged, raw: kept } = verdict else {
                panic!("file {i} was not read");
            };
            assert!(kept.is_none(), "parse keeps no bytes");
            let whole = classifier.classify(raw);
            assert_eq!(
                said(&judged),
                serde_json::to_string(&whole).unwrap(),
                "file {i} ({} bytes) under forwarders {forwarders:?}",
                raw.len()
            );
            if let Judged::Ready(c) = &judged
                && c.reason
                    .as_deref()
                    .is_some_and(|r| r.starts_with("judged from the headers"))
                && raw.len() > HEAD_BYTES
            {
                from_head += 1;
            }
        }
        // With forwarders set, long ordinary mail is judged from its head
        // alone: the case this path is for, so the comparison above
        // covers it.
        if forwarders == Some(mailbox::AGENCY) {
            assert!(
                from_head > 50,
                "only {from_head} long files judged from the head"
            );
        }
    }
}

/// Asked to keep the bytes (`ingest`), each file comes back whole, in
/// order; a file that cannot be read is said to be so, in its place, and
/// standard input's bytes are judged as a file's are. Not asked (`parse`),
/// the same verdicts come back. Files from two directories in turn, and
/// one named through `..`, read as any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_bytes_are_whole_and_an_unreadable_file_keeps_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let mut rng = mailbox::Rng::seeded();
    let mail: Vec<Vec<u8>> = (0..200).map(|i| mailbox::message(i, &mut rng).0).collect();
    let mut paths = Vec::new();
    for (i, raw) in mail.iter().enumerate() {
        let home = if i % 3 == 1 { &sub } else { dir.path() };
        let path = home.join(format!("{i:05}.eml"));
        std::fs::write(&path, raw).unwrap();
        paths.push(path);
    }
    paths[20] = sub.join("..").join("00020.eml");
    paths[17] = dir.path().join("missing.eml");
    paths[18] = PathBuf::from(dir.path());
    let classifier = classifier(Some(mailbox::AGENCY));
    let verifier = collabd::dkim::Verifier::new(&[]).unwrap();
    for keep in [true, false] {
        let mut inputs: Vec<Input> = paths.iter().cloned().map(Input::File).collect();
        inputs[19] = Input::Bytes(mail[19].clone());
        let verdicts = judge_inputs(&classifier, &verifier, inputs, keep).await;
        assert_eq!(verdicts.len(), mail.len());
        for (i, (raw, verdict)) in mail.iter().zip(verdicts).enumerate() {
            match (i, verdict) {
                (17, Verdict::NotRead(e)) => {
                    assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "{e}")
                }
                (18, Verdict::NotRead(e)) => {
                    assert_eq!(e.to_string(), "is a directory", "keep {keep}")
                }
                (17 | 18, v) => panic!("file {i} should not have been read: {v:?}"),
                (_, Verdict::Judged { judged, raw: kept }) => {
                    let expected = keep.then_some(raw.as_slice());
                    assert_eq!(kept.as_deref(), expected, "file {i}, keep {keep}");
                    assert_eq!(
                        said(&judged),
                        serde_json::to_string(&classifier.classify(raw)).unwrap(),
                        "file {i}, keep {keep}"
                    );
                }
                (_, Verdict::NotRead(e)) => panic!("file {i} was not read: {e}"),
            }
        }
    }
}
