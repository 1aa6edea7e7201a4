//! The `collabd` binary: parse the command line, set up logging, run.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = collabd::cli::Cli::parse();
    // The daemon says what it does; one-shot commands speak only on trouble.
    let default_level = if matches!(cli.command, collabd::cli::Command::Run) {
        "info"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default_level.into()),
        )
        .init();
    match collabd::cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("collabd: {e:#}");
            ExitCode::from(1)
        }
    }
}
