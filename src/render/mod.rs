//! What collabd prints for people. Text that came from mail is made safe
//! for the people who read it: on a terminal (`status`, `show`,
//! `check-config`), in an email or a Slack message. Anyone who can send mail
//! to the watched mailbox chooses subjects, client names and addresses, so
//! control characters and escape sequences in them must never reach a
//! terminal, and line breaks must never forge a line of our own.
//!
//! - [`clean`] — the cleaning itself ([`line`](fn@line), [`text`], [`json`], [`slack`]).
//! - [`report`] — the reports the CLI and the demo print: what an ingest
//!   did, the status table, one request's timeline.
//! - [`error`](fn@error) — an error and its causes as one line.
//!
//! Reads the database through `store`'s queries; changes nothing.

pub mod clean;
pub mod report;

pub use clean::{json, line, slack, text};

/// An error and its causes as one line, each said once, made safe as
/// [`line`](fn@line) makes it (an error can quote a request's text, which
/// came from mail). Many errors show their source in their own message
/// (`database x: {source}`); `{:#}` would print that source again after
/// it, so a cause whose words are already on the line is left out.
pub fn error(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let said = cause.to_string();
        if said.is_empty() || out.contains(&said) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&said);
    }
    line(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("database /x.db: {source}")]
    struct Shown {
        source: std::io::Error,
    }

    #[test]
    fn a_cause_already_on_the_line_is_not_repeated() {
        let e = anyhow::Error::new(Shown {
            source: std::io::Error::other("unable to open"),
        })
        .context("cannot start");
        assert_eq!(
            super::error(&e),
            "cannot start: database /x.db: unable to open"
        );
        let plain = anyhow::anyhow!("refused").context("imap login");
        assert_eq!(super::error(&plain), "imap login: refused");
    }
}
