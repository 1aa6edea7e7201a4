//! The `collabd` binary: parse the command line, set up logging, run.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = collabd::cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
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
