//! The command line as clap reads it: [`Cli`], its subcommands and their
//! arguments, each parsed and checked once here.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::model::{RequestId, RequestState};
use crate::operator::Mark;

/// `--version`: the release and the commit it was built from (see build.rs).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("COLLABD_BUILD_COMMIT"),
    ")"
);

/// collabd: turns Leadsie's Shopify access emails into tracked collaborator requests.
#[derive(Debug, Parser)]
#[command(name = "collabd", version = VERSION, about, long_about = None)]
pub struct Cli {
    /// Configuration file (TOML); see deploy/collabd.toml.
    #[arg(long, global = true, env = "COLLABD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// SQLite database file; overrides [database] path. `collabd demo`
    /// uses it only when given as --db, never from COLLABD_DB.
    #[arg(long, global = true, env = "COLLABD_DB", value_name = "FILE")]
    pub db: Option<PathBuf>,

    /// `--db` came from COLLABD_DB, not the command line.
    #[arg(skip)]
    pub db_from_env: bool,

    /// Log format: auto (journald fields under systemd, else text), text,
    /// json (one object per line, for log shippers) or journald.
    #[arg(
        long,
        global = true,
        value_name = "FORMAT",
        default_value = "auto",
        env = "COLLABD_LOG_FORMAT"
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Classify and extract emails; print one JSON object per file. No database.
    Parse {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Store emails and apply them, as the daemon would. `-` reads one email from stdin.
    Ingest {
        /// The files are saved Leadsie webhook payloads (JSON), read as
        /// `POST /leadsie/{token}` reads them: for replays and tests.
        #[arg(long)]
        webhook: bool,
        /// When these arrived (RFC 3339, e.g. 2026-11-02T09:00:00Z), for
        /// replaying an old one: a store's codes are ordered by arrival, so
        /// a replay stamped now would supersede a newer code. Default: now.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        received: Option<chrono::DateTime<chrono::Utc>>,
        #[arg(required = true, value_name = "FILE|-")]
        files: Vec<String>,
    },
    /// Judge stored messages again under the settings of now (after adding
    /// a forwarder, say) and apply what they say, as the daemon would: a
    /// rejected grant becomes a request. Changes go on the timeline; a
    /// second run changes nothing.
    #[command(group = clap::ArgGroup::new("which").required(true).multiple(true).args(["since", "ids"]))]
    Rejudge {
        /// Every message received since then (RFC 3339, or a date such as
        /// 2026-11-02, midnight UTC).
        #[arg(long, value_name = "TIME", value_parser = parse_since)]
        since: Option<chrono::DateTime<chrono::Utc>>,
        /// Name recorded as the actor (default: $SUDO_USER or $USER).
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
        /// Message ids (`collabd show` and the status page name them).
        #[arg(value_name = "ID")]
        ids: Vec<i64>,
    },
    /// Where every store stands: the request_status table.
    Status {
        /// Only requests in this state.
        #[arg(long, value_parser = parse_state)]
        state: Option<RequestState>,
        /// One JSON object per request instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One request, its code and its timeline.
    Show {
        #[arg(value_parser = parse_id)]
        id: RequestId,
        #[arg(long)]
        json: bool,
    },
    /// Record that a request was filed by hand (requested) or approved (granted).
    Mark {
        #[arg(value_parser = parse_id)]
        id: RequestId,
        #[arg(value_parser = parse_mark)]
        state: Mark,
        #[command(flatten)]
        who: Who,
    },
    /// Approve a request awaiting review ([worker] review): it is queued,
    /// and the worker files it.
    Approve {
        #[arg(value_parser = parse_id)]
        id: RequestId,
        #[command(flatten)]
        who: Who,
    },
    /// Cancel an open request (it will not be filed).
    Cancel {
        #[arg(value_parser = parse_id)]
        id: RequestId,
        #[command(flatten)]
        who: Who,
    },
    /// Queue a failed request again, or make a waiting one due now.
    Retry {
        #[arg(value_parser = parse_id)]
        id: RequestId,
        #[command(flatten)]
        who: Who,
    },
    /// The daemon: watches the [imap] mailbox, files queued requests with the
    /// configured filer, reminds and expires, until SIGTERM or SIGINT.
    Run,
    /// Check the configuration file, then try each configured connection
    /// (IMAP login and folders, OAuth2 token, SMTP, webhooks, database).
    CheckConfig,
    /// The whole pipeline on shipped fixtures, in a throwaway database.
    Demo,
    /// Copy this SQLite database (the configured one, or --db) into an
    /// empty PostgreSQL database, every table with its ids, in one
    /// transaction; then count each table on both sides. Refuses a target
    /// that already holds mail or requests. Stop the daemon first.
    MigrateDb {
        /// The target: postgres://user@host:5432/database (no password in
        /// it: the password comes from --password-file,
        /// $COLLABD_DATABASE_PASSWORD or the credential database-password).
        #[arg(long, value_name = "URL")]
        to: String,
        /// A file holding the target's password.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Print a status-page users-file line (`NAME:$argon2id$…`) for NAME,
    /// asking for the password at the terminal (not echoed, twice), or
    /// reading it (or a long random token) from piped stdin. Put the
    /// line in `http.users_file` or the systemd credential `http-users`.
    HttpUser {
        #[arg(value_name = "NAME")]
        name: String,
    },
    /// Write the manual pages and shell completions into DIR, for the
    /// Debian package (`deploy/build-deb`).
    #[command(hide = true)]
    GenerateAssets {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// The browser filer's dashboard session and Collaborations list
    /// ([worker.browser]; stop the daemon first: they use its browser profile).
    Browser {
        #[command(subcommand)]
        action: BrowserAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum BrowserAction {
    /// Sign in to the dashboard once, in the profile the filer uses: a window
    /// when there is a display, else remote debugging on loopback for an SSH
    /// tunnel. Then checks the session works.
    Login {
        /// Use remote debugging even when there is a display.
        #[arg(long)]
        remote: bool,
        /// The loopback port for remote debugging.
        #[arg(long, default_value_t = 9222)]
        port: u16,
    },
    /// Read the Collaborations list now and record what changed.
    Sync,
    /// Whether the dashboard session works, from what the filer last saw.
    Status,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Auto,
    Text,
    Json,
    Journald,
}

/// Who acts and why, recorded on the request's timeline.
#[derive(Debug, clap::Args)]
pub struct Who {
    /// Name recorded as the actor (default: $SUDO_USER or $USER).
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    /// A note kept with the event.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
}

fn parse_mark(s: &str) -> Result<Mark, String> {
    s.parse()
}

fn parse_state(s: &str) -> Result<RequestState, String> {
    s.parse()
}

fn parse_id(s: &str) -> Result<RequestId, String> {
    s.parse()
}

/// A time as `parse_time` reads it, or a date (midnight UTC).
fn parse_since(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(day) = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    parse_time(s).map_err(|_| {
        format!("`{s}` is not a date such as 2026-11-02 or a time such as 2026-11-02T09:00:00Z")
    })
}

fn parse_time(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.to_utc())
        .map_err(|e| format!("`{s}` is not a time such as 2026-11-02T09:00:00Z ({e})"))
}

impl Cli {
    /// The command line (exits with a usage error if it is wrong), noting
    /// whether `--db` came from the environment, with the configuration
    /// file decided (see [`Cli::use_default_config`]).
    pub fn parse_args() -> Cli {
        Cli::parse_from_args(std::env::args_os().collect())
    }

    /// [`Cli::parse_args`] of `args` (the program's name first).
    pub fn parse_from_args(args: Vec<OsString>) -> Cli {
        use clap::parser::ValueSource;
        use clap::{CommandFactory, FromArgMatches};
        let (mut cli, matches) = with_long_run(&args).unwrap_or_else(|| {
            let matches = Cli::command().get_matches_from(args);
            let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
            (cli, matches)
        });
        cli.db_from_env = matches.value_source("db") == Some(ValueSource::EnvVariable);
        cli.use_default_config(Path::new(crate::config::DEFAULT_CONFIG_PATH));
        cli
    }

    /// Without `--config` or COLLABD_CONFIG, every command but the demo
    /// and `http-user` reads `default` (/etc/collabd/collabd.toml) when it
    /// exists, so `collabd status` on a packaged host reads the database
    /// and settings the service uses. The demo needs nothing external.
    pub fn use_default_config(&mut self, default: &Path) {
        if self.config.is_some() || matches!(self.command, Command::Demo | Command::HttpUser { .. })
        {
            return;
        }
        self.config = crate::config::default_config(default);
    }
}

/// A run of operands shorter than this goes through clap as it is.
const LONG_RUN: usize = 64;

/// `args` read by clap with its longest run of plain operands handed over
/// as one stand-in and put back in its place after: clap spends about a
/// third of a microsecond on each operand, a millisecond of `collabd parse`
/// over a few thousand files, while nothing else runs. `None` when there is
/// no long run, or at any doubt (the stand-in read as anything but one of
/// `parse`'s or `ingest`'s files, an error, `--help`): then clap reads the
/// line as given, and says what it says of it.
fn with_long_run(args: &[OsString]) -> Option<(Cli, clap::ArgMatches)> {
    use clap::{CommandFactory, FromArgMatches};
    let command = Cli::command();
    // Not empty (clap refuses an empty file name), not an option, not `-`
    // (standard input), not a subcommand's name.
    let plain = |a: &OsString| {
        !a.is_empty()
            && !a.as_encoded_bytes().starts_with(b"-")
            && !command
                .get_subcommands()
                .any(|c| c.get_name() == a || c.get_all_aliases().any(|n| n == a))
    };
    let mut run = 0..0;
    let mut i = 1;
    while i < args.len() {
        if !plain(&args[i]) {
            i += 1;
            continue;
        }
        let mut start = i;
        while i < args.len() && plain(&args[i]) {
            i += 1;
        }
        // The first may be the value of the option before it.
        if args[start - 1].as_encoded_bytes().starts_with(b"-") {
            start += 1;
        }
        if i.saturating_sub(start) > run.len() {
            run = start..i;
        }
    }
    if run.len() < LONG_RUN {
        return None;
    }
    // No argument holds a NUL: this cannot be one given.
    let stand_in = "\0collabd: the operands\0";
    let mut short = args[..run.start].to_vec();
    short.push(stand_in.into());
    short.extend_from_slice(&args[run.end..]);
    let matches = command.try_get_matches_from(short).ok()?;
    let mut cli = Cli::from_arg_matches(&matches).ok()?;
    let given = &args[run];
    let put_back = match &mut cli.command {
        Command::Parse { files } => {
            splice(files, Path::new(stand_in), given.iter().map(PathBuf::from))
        }
        Command::Ingest { files, .. } => {
            let given: Option<Vec<String>> = given
                .iter()
                .map(|a| a.to_str().map(str::to_owned))
                .collect();
            given.is_some_and(|given| splice(files, stand_in, given))
        }
        _ => false,
    };
    put_back.then_some((cli, matches))
}

/// Replaces the one `stand_in` among `files` with `given`; false, leaving
/// `files` as it was, unless it is there exactly once.
fn splice<T, S>(files: &mut Vec<T>, stand_in: &S, given: impl IntoIterator<Item = T>) -> bool
where
    T: PartialEq<S>,
    S: ?Sized,
{
    let mut at = files.iter().enumerate().filter(|(_, f)| *f == stand_in);
    let (Some((i, _)), None) = (at.next(), at.next()) else {
        return false;
    };
    files.splice(i..=i, given);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(args: &[&str]) -> String {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cli::command()
            .try_get_matches_from(args)
            .expect("a valid line");
        format!("{:?}", Cli::from_arg_matches(&matches).unwrap())
    }

    /// A long run of operands read through the stand-in gives exactly what
    /// clap gives reading every one, wherever the run stands among options,
    /// option values, `-` and names that are subcommands' too; and what is
    /// not a run of files is left to clap.
    #[test]
    fn a_long_run_of_operands_reads_as_clap_reads_it() {
        use clap::CommandFactory;
        let files: Vec<String> = (0..300).map(|i| format!("mail/{i:05}.eml")).collect();
        let files: Vec<&str> = files.iter().map(String::as_str).collect();
        let line = |before: &[&'static str], after: &[&'static str]| -> Vec<&str> {
            let mut l = vec!["collabd"];
            l.extend_from_slice(before);
            l.extend_from_slice(&files);
            l.extend_from_slice(after);
            l
        };
        let cases: Vec<Vec<&str>> = vec![
            line(&["parse"], &[]),
            line(&["--config", "c.toml", "parse"], &["--db", "x.db"]),
            line(&["parse", "--db"], &[]),
            line(&["parse", "first.eml"], &["parse", "last.eml"]),
            line(&["ingest", "--received", "2026-11-02T09:00:00Z"], &["-"]),
            line(&["ingest", "--webhook"], &[]),
            line(&["--log-format", "json", "ingest", "-"], &["status"]),
        ];
        for args in cases {
            let os: Vec<OsString> = args.iter().map(OsString::from).collect();
            let (quick, _) =
                with_long_run(&os).unwrap_or_else(|| panic!("no run read in {:?}", &args[..6]));
            assert_eq!(format!("{quick:?}"), full(&args), "{:?}", &args[..6]);
        }
        // A run that is not files: left to clap (which refuses `status`'s
        // operands, as it should).
        let not_files = line(&["status"], &[]);
        let os: Vec<OsString> = not_files.iter().map(OsString::from).collect();
        assert!(with_long_run(&os).is_none());
        // An empty name, in the run or beside it, is left to clap, which
        // refuses it as it always did.
        for at in [2, 100, 301] {
            let mut empty = line(&["parse"], &[]);
            empty[at] = "";
            let os: Vec<OsString> = empty.iter().map(OsString::from).collect();
            assert!(with_long_run(&os).is_none(), "empty name at {at}");
            assert!(
                Cli::command().try_get_matches_from(&empty).is_err(),
                "clap refuses an empty name"
            );
        }
        let short: Vec<OsString> = ["collabd", "parse", "a.eml", "b.eml"]
            .iter()
            .map(OsString::from)
            .collect();
        assert!(
            with_long_run(&short).is_none(),
            "a short line goes through clap whole"
        );
    }
}
