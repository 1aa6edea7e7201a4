//! Reading a password from the person at the terminal: prompted on
//! stderr, typed without echo, asked twice; or the first line of stdin when
//! it is a pipe (a password manager, a script). Knows nothing of what the
//! password is for.

use std::io::{self, BufRead, Write};
use std::sync::atomic::{AtomicPtr, Ordering};

/// The password: from a terminal on stdin, asked with `prompt` and again
/// to confirm, never echoed; else the first line of stdin. The line break
/// is not part of it.
pub fn read_password(prompt: &str) -> io::Result<String> {
    // SAFETY: isatty only inspects the descriptor.
    if unsafe { libc::isatty(libc::STDIN_FILENO) } != 1 {
        let mut line = String::new();
        io::stdin().lock().read_line(&mut line)?;
        return Ok(without_line_break(line));
    }
    let first = ask(prompt)?;
    let again = ask("Again, to confirm: ")?;
    if first != again {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the two passwords differ",
        ));
    }
    Ok(first)
}

/// One line from the terminal on stdin with echo off.
fn ask(prompt: &str) -> io::Result<String> {
    let quiet = NoEcho::on_stdin()?;
    // After echo is off, so nothing typed ahead of the prompt is shown.
    let mut stderr = io::stderr().lock();
    write!(stderr, "{prompt}")?;
    stderr.flush()?;
    let mut line = String::new();
    let read = io::stdin().lock().read_line(&mut line);
    drop(quiet);
    // The Enter the terminal did not echo.
    writeln!(stderr)?;
    if read? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "no password was typed (end of input)",
        ));
    }
    Ok(without_line_break(line))
}

fn without_line_break(mut line: String) -> String {
    let kept = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(kept);
    line
}

/// The terminal settings to put back if a signal ends collabd while echo
/// is off; null when echo is on.
static SAVED: AtomicPtr<libc::termios> = AtomicPtr::new(std::ptr::null_mut());

/// The signals that end a prompt: Ctrl-C, Ctrl-\, a hang-up, a kill.
const ENDING: [libc::c_int; 4] = [libc::SIGINT, libc::SIGQUIT, libc::SIGHUP, libc::SIGTERM];

/// Echo off on stdin while this lives. The terminal's settings come back
/// when it is dropped — after a read, an error or a panic — and when one
/// of the [`ENDING`] signals ends collabd.
struct NoEcho {
    saved: Box<libc::termios>,
    /// The actions the [`ENDING`] signals had before, put back after.
    actions: [libc::sighandler_t; ENDING.len()],
}

impl NoEcho {
    fn on_stdin() -> io::Result<NoEcho> {
        // SAFETY: termios is plain data; tcgetattr fills it.
        let mut saved: Box<libc::termios> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: `saved` is a valid termios for the call's duration.
        if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut *saved) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut quiet = *saved;
        quiet.c_lflag &= !(libc::ECHO | libc::ECHOE | libc::ECHOK | libc::ECHONL);
        SAVED.store(&mut *saved, Ordering::SeqCst);
        let actions = ENDING.map(|signal| {
            // SAFETY: `restore_and_die` only calls async-signal-safe functions.
            unsafe { libc::signal(signal, restore_and_die as *const () as libc::sighandler_t) }
        });
        let quiet_now = NoEcho { saved, actions };
        // SAFETY: `quiet` is a valid termios; TCSAFLUSH also drops typed-ahead input.
        if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSAFLUSH, &quiet) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(quiet_now)
    }
}

impl Drop for NoEcho {
    fn drop(&mut self) {
        // SAFETY: `saved` is the valid termios read in `on_stdin`.
        unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &*self.saved) };
        SAVED.store(std::ptr::null_mut(), Ordering::SeqCst);
        for (signal, action) in ENDING.into_iter().zip(self.actions) {
            // SAFETY: puts back the action `on_stdin` replaced.
            unsafe { libc::signal(signal, action) };
        }
    }
}

/// Puts the terminal back and dies of `signal`, as if it had not been caught.
extern "C" fn restore_and_die(signal: libc::c_int) {
    let saved = SAVED.load(Ordering::SeqCst);
    // SAFETY: tcsetattr, signal and raise are async-signal-safe; `saved`
    // is null or points at the live `NoEcho`'s settings.
    unsafe {
        if !saved.is_null() {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, saved);
        }
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}
