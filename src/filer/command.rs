//! The `command` filer: the operator's program, run with a clean
//! environment and the request as JSON on stdin; its exit code decides.

use super::filing::{Filed, Filer, FilingRequest, captured};
use crate::model::RequestState;
use crate::queue::Failure;
use crate::store::browser::BrowserLedger;

/// Runs the operator's program with the request as JSON on stdin: exit 0
/// means filed, 75 (EX_TEMPFAIL) retry later, anything else a permanent
/// failure. `COLLABD_REQUEST_ID` and `COLLABD_IDEMPOTENCY_KEY` are set so the
/// program can refuse a duplicate. Its output goes on the request's timeline,
/// with the code masked.
///
/// The program starts with a clean environment: collabd's own holds its
/// secrets (`COLLABD_IMAP_PASSWORD`, `CREDENTIALS_DIRECTORY`, …), and a
/// program that handles mail-derived text should not be one bug away from
/// them. It gets `PATH`, `LANG`, `LC_ALL`, the `COLLABD_*` request variables,
/// and only the variables the operator names in `env`.
#[derive(Debug, Clone)]
pub struct CommandFiler {
    pub program: std::path::PathBuf,
    pub args: Vec<String>,
    pub timeout: std::time::Duration,
    /// Names of collabd's environment variables passed through to the
    /// program (`[worker.command] env`).
    pub env: Vec<String>,
}

/// `PATH` for the command filer when collabd itself has none.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

impl CommandFiler {
    /// The program's whole environment for request `r`.
    fn environment(&self, r: &FilingRequest) -> Vec<(String, std::ffi::OsString)> {
        let path = std::env::var_os("PATH")
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| DEFAULT_PATH.into());
        let mut env = vec![("PATH".to_owned(), path)];
        for name in ["LANG", "LC_ALL"]
            .into_iter()
            .chain(self.env.iter().map(String::as_str))
        {
            if let Some(value) = std::env::var_os(name) {
                env.push((name.to_owned(), value));
            }
        }
        // Last, so a passed-through variable of the same name cannot stand in.
        env.push(("COLLABD_REQUEST_ID".into(), r.id.to_string().into()));
        env.push((
            "COLLABD_IDEMPOTENCY_KEY".into(),
            r.id.idempotency_key().into(),
        ));
        env.push(("COLLABD_ATTEMPT".into(), r.attempt.to_string().into()));
        env
    }
}

impl Filer for CommandFiler {
    fn name(&self) -> &'static str {
        "command"
    }

    async fn file(&self, r: &FilingRequest, _: &impl BrowserLedger) -> Result<Filed, Failure> {
        use tokio::io::AsyncWriteExt;

        let program = self.program.display();
        let mut child = tokio::process::Command::new(&self.program)
            .args(&self.args)
            .env_clear()
            .envs(self.environment(r))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            // Its own process group, so a timeout can stop what it started too.
            .process_group(0)
            .spawn()
            // A program that cannot start will not start on retry either.
            .map_err(|e| {
                Failure::Permanent(format!(
                    "cannot run the command filer {program}: {e}; check [worker] command"
                ))
            })?;
        let pid = child.id();
        let body = r.to_json().to_string();
        if let Some(mut stdin) = child.stdin.take() {
            // A program that does not read its input is its own business;
            // the exit code still decides.
            let _ = stdin.write_all(body.as_bytes()).await;
        }
        let output = match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => {
                return Err(Failure::Transient(format!(
                    "the command filer {program} failed to run: {e}"
                )));
            }
            // Dropping the future kills the child (kill_on_drop); the group
            // kill reaches anything it started.
            Err(_) => {
                if let Some(pid) = pid {
                    kill_process_group(pid);
                }
                return Err(Failure::Transient(format!(
                    "the command filer {program} did not finish within {} s and was killed",
                    self.timeout.as_secs()
                )));
            }
        };
        let said = captured(&output.stdout, &output.stderr, r.collaborator_code.expose());
        match output.status.code() {
            Some(0) => Ok(Filed {
                state: RequestState::Requested,
                detail: format!("command exited 0{said}"),
            }),
            Some(75) => Err(Failure::Transient(format!(
                "command exited 75 (EX_TEMPFAIL){said}"
            ))),
            Some(code) => Err(Failure::Permanent(format!("command exited {code}{said}"))),
            None => Err(Failure::Transient(format!(
                "command was killed by a signal{said}"
            ))),
        }
    }
}

/// Sends SIGKILL to a process group, through kill(1) to avoid a libc binding.
fn kill_process_group(pgid: u32) {
    let result = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    if let Err(e) = result {
        tracing::warn!(pgid, error = %e, "could not kill the command filer's process group");
    }
}
