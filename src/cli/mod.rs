//! The subcommands and their output. Parses arguments into calls on the
//! library and prints results; holds no business rules of its own.
//!
//! - [`args`] — [`Cli`]: the command line as clap reads it.
//! - [`run`] — one command run, with settings loaded in one place
//!   ([`load_settings`]).
//! - [`mail`] — `parse` and `ingest`: messages from files or stdin.
//! - [`exit`] — exit statuses ([`EX_CONFIG`] for a configuration error).

pub mod args;
pub mod exit;
pub mod mail;
pub mod run;

pub use args::{BrowserAction, Cli, Command, LogFormat, Who};
pub use exit::{EX_CONFIG, exit_status};
pub use run::{load_settings, load_settings_from, run};
