use clap::Parser;
use hookcast::cli::{Cli, Command, ConfigCommand, KeysCommand};
use hookcast::config::{LogFormat, Settings};
use tracing_subscriber::EnvFilter;

/// mimalloc rather than the system allocator: under delivery load the profile showed
/// glibc's malloc, free and chunk consolidation at about a sixth of the server's time
/// (many short-lived buffers freed on other threads than the ones that made them).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Before anything can touch SQLite (the runtime's other threads are idle so far).
    hookcast::store::route_sqlite_allocations_to_mimalloc();
    hookcast::init_tls();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { config, role } => match load(config.as_deref(), role.as_deref()) {
            Ok(settings) => {
                init_logging(settings.log_format);
                hookcast::server::serve(settings).await
            }
            Err(error) => Err(error),
        },
        Command::Migrate { config } => match load(config.as_deref(), None) {
            Ok(settings) => {
                init_logging(settings.log_format);
                hookcast::server::migrate(settings).await
            }
            Err(error) => Err(error),
        },
        Command::Keys {
            command: KeysCommand::Rotate { config },
        } => match load(config.as_deref(), None) {
            Ok(settings) => {
                init_logging(settings.log_format);
                hookcast::key_rotation::rotate(settings).await
            }
            Err(error) => Err(error),
        },
        Command::Config {
            command: ConfigCommand::PrintDefault,
        } => {
            print!("{}", hookcast::config::default_file());
            Ok(())
        }
        Command::Openapi => {
            print!("{}", hookcast::api::openapi_json());
            Ok(())
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

/// Settings from file and environment; `--role` wins over both.
fn load(config: Option<&std::path::Path>, role: Option<&str>) -> anyhow::Result<Settings> {
    let mut settings = Settings::load(config)?;
    if let Some(role) = role {
        settings.role =
            hookcast::config::Role::parse(role).map_err(|e| anyhow::anyhow!("--role {e}"))?;
    }
    Ok(settings)
}

/// Log level from `HOOKCAST_LOG` (same syntax as `RUST_LOG`), `info` by default; one
/// JSON object per line with `log_format = "json"`, span fields (the request id, the
/// method and path) included.
fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env("HOOKCAST_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}
