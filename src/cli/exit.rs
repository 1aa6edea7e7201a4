//! Exit statuses: what a failed command tells its caller (and systemd).

use std::process::ExitCode;

/// The exit status for a configuration error (sysexits' EX_CONFIG): the
/// unit's `RestartPreventExitStatus=78` keeps systemd from restarting a
/// daemon that cannot start until the file is fixed.
pub const EX_CONFIG: u8 = 78;

/// The exit status for an error `run` returned: [`EX_CONFIG`] for a
/// configuration error, else 1.
pub fn exit_status(e: &anyhow::Error) -> ExitCode {
    if crate::config::is_config_error(e) {
        ExitCode::from(EX_CONFIG)
    } else {
        ExitCode::from(1)
    }
}
