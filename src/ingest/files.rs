//! Files judged on the daemon's lanes, as `collabd parse` and `collabd
//! ingest` take them: each file is read once, by the lane thread that
//! judges it (so the reading, too, runs one thread per core), each within
//! its own [`CLASSIFY_BUDGET`], and the verdicts come back in input order.
//!
//! A file is opened, its size asked once, and read to that size: four
//! system calls. When its bytes need not be kept (`parse`) and `[trust]
//! forwarders` is set, only its first page is read at first, then up to
//! [`HEAD_BYTES`] if its header block goes on past the page ([`HEAD_STEPS`]):
//! ordinary mail is ruled out by the header block there, and the rest of
//! the file (attachments, mostly) is never read. That is three system calls
//! for most mail (open, read, close), one more read for a file under a page.

use std::cell::RefCell;
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use futures_util::future::Either;
use futures_util::{Stream, StreamExt};

use super::judge::{CLASSIFY_BUDGET, InOrder, Judged, NO_PROGRESS, failed, lanes, settle};
use crate::dkim::Verifier;
use crate::mail::{Classification, Classifier};

/// How much of a file is read, step by step, before its header block is
/// judged: a page (most mail's headers fit in one), then two; a file whose
/// header block goes on past the last step is read whole.
pub const HEAD_STEPS: [usize; 2] = [4 * 1024, 8 * 1024];

/// The most read of a file before its header block is judged.
pub const HEAD_BYTES: usize = HEAD_STEPS[HEAD_STEPS.len() - 1];

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
    judge_each(classifier, verifier, inputs, keep, |_: &Input, v| v)
        .collect()
        .await
}

/// How many messages' DKIM checks [`judge_each`] has waiting on DNS at
/// once: when DNS does not answer, that many wait side by side.
const CHECKS_AT_ONCE: usize = 256;

/// What a lane made of one input.
enum Laned<T> {
    /// Judged, and made into what the caller wants, on the lane.
    Done(T),
    /// Classified; its signature is still to be checked. Boxed: the slot
    /// every input's outcome waits in is no larger than the rest need.
    Check(Box<(Classification, Option<Vec<u8>>)>),
    /// Over its budget, or the classifier failed.
    Lost(String),
}

/// [`judge_inputs`] as the verdicts come, in input order, each made into
/// what the caller wants by `finish`: on the lane that read it when no
/// signature is to be checked (nearly every message), so the lanes do that
/// work side by side, and the caller's thread only takes the results in
/// order (printing, storing) while the lanes go on. Up to
/// [`CHECKS_AT_ONCE`] signature checks wait on DNS side by side.
pub fn judge_each<'a, T, R>(
    classifier: &'a Classifier,
    verifier: &'a Verifier,
    inputs: Vec<Input>,
    keep: bool,
    finish: R,
) -> impl Stream<Item = T> + 'a
where
    T: Send + 'static,
    R: Fn(&Input, Verdict) -> T + Clone + Send + Sync + 'static,
{
    CALL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let inputs = Arc::new(inputs);
    let work = {
        let classifier = classifier.clone();
        let finish = finish.clone();
        move |input: &Input| match classify_input(&classifier, input, keep) {
            Read1::Classified(c, raw) if c.dkim.is_none() => Laned::Done(finish(
                input,
                Verdict::Judged {
                    judged: Judged::Ready(c),
                    raw,
                },
            )),
            Read1::Classified(c, raw) => Laned::Check(Box::new((c, raw))),
            Read1::NotRead(e) => Laned::Done(finish(input, Verdict::NotRead(e))),
        }
    };
    let lanes = InOrder::new(
        Arc::clone(&inputs),
        work,
        Laned::Lost,
        CLASSIFY_BUDGET,
        lanes(),
        &NO_PROGRESS,
    );
    let read = futures_util::stream::unfold((lanes, 0usize), |(mut lanes, i)| async move {
        let r = lanes.next().await?;
        Some(((i, r), (lanes, i + 1)))
    });
    read.map(move |(i, r)| {
        // Nearly every input was finished on its lane: only the others
        // need a future of their own (a signature check is a large one).
        let pending = match r {
            Laned::Done(t) => return Either::Left(std::future::ready(t)),
            Laned::Check(checked) => Ok(checked),
            Laned::Lost(why) => Err(why),
        };
        let inputs = Arc::clone(&inputs);
        let finish = finish.clone();
        Either::Right(Box::pin(async move {
            let input = &inputs[i];
            let verdict = match pending {
                Ok(checked) => {
                    let (c, raw) = *checked;
                    // A task of its own: its DNS answers are read (and its
                    // timeouts counted) while the caller waits on its
                    // reader, not only when it asks for the next verdict.
                    let (classifier, verifier) = (classifier.clone(), verifier.clone());
                    let judged =
                        tokio::spawn(async move { settle(&classifier, &verifier, c).await })
                            .await
                            .unwrap_or_else(|e| {
                                Judged::Ready(Classification::unreadable(failed(
                                    "checking its signature",
                                    &e.to_string(),
                                )))
                            });
                    Verdict::Judged { judged, raw }
                }
                Err(why) => {
                    let judged = Judged::Ready(Classification::unreadable(why));
                    match input {
                        _ if !keep => Verdict::Judged { judged, raw: None },
                        Input::Bytes(raw) => Verdict::Judged {
                            judged,
                            raw: Some(raw.clone()),
                        },
                        Input::File(path) => match tokio::fs::read(path).await {
                            Ok(raw) => Verdict::Judged {
                                judged,
                                raw: Some(raw),
                            },
                            Err(e) => Verdict::NotRead(e),
                        },
                    }
                }
            };
            finish(input, verdict)
        }))
    })
    .buffered(CHECKS_AT_ONCE)
}

thread_local! {
    /// A lane's buffer for files whose bytes are not kept: grown once to
    /// the largest file, never allocated again.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

thread_local! {
    /// A lane's last directory, held open: the files of one directory are
    /// opened relative to it, so the kernel walks the directory's path once
    /// rather than once per file.
    static DIRECTORY: RefCell<Option<(u64, Vec<u8>, std::os::fd::OwnedFd)>> = const { RefCell::new(None) };
}

/// Which call of [`judge_each`] a lane's held directory belongs to: a
/// directory is held for one call only (renamed or replaced later, it is
/// opened anew, as `File::open` would).
static CALL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Opens `path` for reading as `File::open` does, relative to its
/// directory held open by this lane when it has one (a plain `dir/name`).
fn open_in_lane(path: &std::path::Path) -> std::io::Result<File> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    let Some(slash) = bytes.iter().rposition(|&b| b == b'/') else {
        return File::open(path);
    };
    let (dir, name) = (&bytes[..slash.max(1)], &bytes[slash + 1..]);
    if name.is_empty() || name == b"." || name == b".." {
        return File::open(path);
    }
    let Ok(name) = std::ffi::CString::new(name) else {
        return File::open(path);
    };
    let call = CALL.load(std::sync::atomic::Ordering::Relaxed);
    DIRECTORY.with_borrow_mut(|held| {
        let dir_fd = match held.take() {
            Some(same) if same.0 == call && same.1 == dir => same,
            _ => {
                use std::os::unix::fs::OpenOptionsExt;
                let opened = std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
                    .open(std::ffi::OsStr::from_bytes(dir));
                let Ok(opened) = opened else {
                    return File::open(path);
                };
                (call, dir.to_vec(), OwnedFd::from(opened))
            }
        };
        // SAFETY: a NUL-terminated name and a directory descriptor open
        // for the call; the new descriptor is owned by nothing else.
        let fd = unsafe {
            libc::openat(
                dir_fd.2.as_raw_fd(),
                name.as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC,
            )
        };
        *held = Some(dir_fd);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(unsafe { File::from_raw_fd(fd) })
    })
}

thread_local! {
    /// Whether this lane has built its share of the phrase tables.
    static WARM: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Before a lane's first file: its share of the phrase tables, built side
/// by side with the other lanes' shares (a table is built once, by the
/// first to need it, while any other lane needing it waits).
fn warm_lane() {
    static LANES_WARMED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    if WARM.replace(true) {
        return;
    }
    let share = LANES_WARMED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if share < lanes() {
        crate::mail::warm_up(share, lanes());
    }
}

fn classify_input(classifier: &Classifier, input: &Input, keep: bool) -> Read1 {
    warm_lane();
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
/// `head_first`, the file is read [`HEAD_STEPS`] at a time first, and when
/// its headers rule it out that verdict comes back and the rest is never
/// read (nor its size asked). `None`: `buf` holds the whole file, to be
/// classified.
fn read_file(
    path: &std::path::Path,
    buf: &mut Vec<u8>,
    head_first: Option<&Classifier>,
) -> std::io::Result<Option<Classification>> {
    let mut file = open_in_lane(path)?;
    if let Some(classifier) = head_first {
        for step in HEAD_STEPS {
            read_to(&mut file, buf, step).map_err(named_directory)?;
            if buf.len() < step {
                // The whole file is in hand.
                return Ok(None);
            }
            if let Some(c) = classifier.judge_head(buf) {
                return Ok(Some(c));
            }
            if Classifier::holds_header_block(buf) {
                break;
            }
        }
    }
    let meta = file.metadata()?;
    if !meta.is_file() {
        if meta.is_dir() {
            return Err(named_directory(std::io::ErrorKind::IsADirectory.into()));
        }
        file.read_to_end(buf)?;
        return Ok(None);
    }
    let size = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    read_to(&mut file, buf, size)?;
    Ok(None)
}

/// A directory named as one, however the system said it.
fn named_directory(e: std::io::Error) -> std::io::Error {
    if e.kind() == std::io::ErrorKind::IsADirectory {
        std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory")
    } else {
        e
    }
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
