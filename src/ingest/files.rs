//! Files judged on the daemon's lanes, as `collabd parse` and `collabd
//! ingest` take them: each file is read once, by the lane thread that
//! judges it (so the reading, too, runs one thread per core), each within
//! its own [`CLASSIFY_BUDGET`], and the verdicts come back in input order.
//!
//! A file is opened, its size asked once, and read to that size: four
//! system calls. When its bytes need not be kept (`parse`) and `[trust]
//! forwarders` is set, only its first [`HEAD_BYTES`] are read at first:
//! ordinary mail is ruled out by the header block there, and the rest of
//! the file (attachments, mostly) is never read.

use std::cell::RefCell;
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use super::judge::{CLASSIFY_BUDGET, Judged, across_lanes, run_lane, settle};
use crate::dkim::Verifier;
use crate::mail::{Classification, Classifier};

/// How much of a file is read before its header block is judged: mail's
/// headers fit in a few kilobytes; a file whose header block goes on past
/// this is read whole.
pub const HEAD_BYTES: usize = 8 * 1024;

/// One message to judge: a file to read, or bytes already read (standard
/// input).
#[derive(Debug)]
pub enum Input {
    File(PathBuf),
    Bytes(Vec<u8>),
}

/// What became of one input.
// Nearly every value is the large variant: boxing it would only add an
// allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Verdict {
    /// Read and judged; `raw` holds its bytes when they were asked for.
    Judged {
        judged: Judged,
        raw: Option<Vec<u8>>,
    },
    /// The file could not be read.
    NotRead(std::io::Error),
}

/// What a lane made of one input, before its signature is checked.
#[allow(clippy::large_enum_variant)] // as for Verdict
enum Read1 {
    Classified(Classification, Option<Vec<u8>>),
    NotRead(std::io::Error),
    Lost(String),
}

/// Judges `inputs` in order: read and classified on one lane per core,
/// then their DKIM signatures checked side by side. `keep` asks for each
/// message's bytes back (to store them); without it a file may be read only
/// as far as its header block. Exactly one verdict per input: one whose
/// classification failed or ran over its budget is `unparseable` with the
/// reason, as the daemon records it (its file read again for its bytes).
pub async fn judge_inputs(
    classifier: &Classifier,
    verifier: &Verifier,
    inputs: Vec<Input>,
    keep: bool,
) -> Vec<Verdict> {
    let inputs = Arc::new(inputs);
    let read = across_lanes(&inputs, &|| {}, |items, range, progress| {
        let classifier = classifier.clone();
        run_lane(
            move |input: &Input| classify_input(&classifier, input, keep),
            Read1::Lost,
            CLASSIFY_BUDGET,
            items,
            range,
            progress,
        )
    })
    .await;
    let inputs = &inputs;
    futures_util::future::join_all(read.into_iter().enumerate().map(|(i, r)| async move {
        match r {
            Read1::Classified(c, raw) => Verdict::Judged {
                judged: settle(classifier, verifier, c).await,
                raw,
            },
            Read1::NotRead(e) => Verdict::NotRead(e),
            Read1::Lost(why) => {
                let judged = Judged::Ready(Classification::unreadable(why));
                let raw = match &inputs[i] {
                    _ if !keep => None,
                    Input::Bytes(raw) => Some(raw.clone()),
                    Input::File(path) => match tokio::fs::read(path).await {
                        Ok(raw) => Some(raw),
                        Err(e) => return Verdict::NotRead(e),
                    },
                };
                Verdict::Judged { judged, raw }
            }
        }
    }))
    .await
}

thread_local! {
    /// A lane's buffer for files whose bytes are not kept: grown once to
    /// the largest file, never allocated again.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn classify_input(classifier: &Classifier, input: &Input, keep: bool) -> Read1 {
    let path = match input {
        Input::Bytes(raw) => {
            return Read1::Classified(classifier.classify(raw), keep.then(|| raw.clone()));
        }
        Input::File(path) => path,
    };
    if keep {
        let mut buf = Vec::new();
        return match read_file(path, &mut buf, None) {
            Ok(_) => Read1::Classified(classifier.classify(&buf), Some(buf)),
            Err(e) => Read1::NotRead(e),
        };
    }
    SCRATCH.with_borrow_mut(|buf| {
        buf.clear();
        let head_first = classifier.reads_headers_first().then_some(classifier);
        match read_file(path, buf, head_first) {
            Ok(Some(c)) => Read1::Classified(c, None),
            Ok(None) => Read1::Classified(classifier.classify(buf), None),
            Err(e) => Read1::NotRead(e),
        }
    })
}

/// Reads `path` into `buf` (empty): opened once, its size asked once, then
/// read to that size (a file that grows meanwhile is read as it was when
/// asked; one that is not a regular file is read to its end). With
/// `head_first`, a file longer than [`HEAD_BYTES`] is read that far first,
/// and when its headers rule it out that verdict comes back and the rest is
/// never read. `None`: `buf` holds the whole file, to be classified.
fn read_file(
    path: &std::path::Path,
    buf: &mut Vec<u8>,
    head_first: Option<&Classifier>,
) -> std::io::Result<Option<Classification>> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        if meta.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                "is a directory",
            ));
        }
        file.read_to_end(buf)?;
        return Ok(None);
    }
    let size = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    if let Some(classifier) = head_first
        && size > HEAD_BYTES
    {
        read_to(&mut file, buf, HEAD_BYTES)?;
        if buf.len() == HEAD_BYTES
            && let Some(c) = classifier.judge_head(buf)
        {
            return Ok(Some(c));
        }
    }
    read_to(&mut file, buf, size)?;
    Ok(None)
}

/// Reads from `file` until `buf` holds `len` bytes or the file ends.
fn read_to(file: &mut File, buf: &mut Vec<u8>, len: usize) -> std::io::Result<()> {
    let mut filled = buf.len();
    if filled >= len {
        return Ok(());
    }
    buf.resize(len, 0);
    while filled < len {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(filled);
                return Err(e);
            }
        }
    }
    buf.truncate(filled);
    Ok(())
}
