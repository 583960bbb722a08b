use clap::Parser;
use hookcast::cli::{Cli, Command};
use hookcast::config::Settings;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    hookcast::init_tls();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { config } => {
            init_logging();
            match Settings::load(config.as_deref()) {
                Ok(settings) => hookcast::server::serve(settings).await,
                Err(error) => Err(error.into()),
            }
        }
        command => hookcast::cli::run_client(command).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Log level from `HOOKCAST_LOG` (same syntax as `RUST_LOG`), `info` by default.
fn init_logging() {
    let filter = EnvFilter::try_from_env("HOOKCAST_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
}
