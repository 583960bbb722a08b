//! Command-line interface: `serve` runs the service; the other subcommands talk to a
//! running server over its JSON API.

mod client;
mod deliveries;
mod emit;
mod event_types;
mod output;
mod preview;
mod token;
mod webhook;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use webhook::WebhookCommand;

#[derive(Parser)]
#[command(
    name = "hookcast",
    version,
    about = "Self-hosted WebHook notification service"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the API and delivery service.
    Serve {
        /// TOML settings file; HOOKCAST_* environment variables override it.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// all (default), api (no delivery) or worker (delivery, health probes only).
        #[arg(long)]
        role: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate {
        /// TOML settings file; HOOKCAST_* environment variables override it.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Manage the key that encrypts secrets at rest.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Settings file helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print the OpenAPI 3.1 document of the HTTP API (as served at
    /// /api/v1/openapi.json).
    Openapi,
    /// Manage webhooks on a running server.
    Webhook {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: Box<WebhookCommand>,
    },
    /// Publish an event or alarm.
    Emit {
        #[command(flatten)]
        client: ClientArgs,
        #[command(flatten)]
        event: emit::EmitArgs,
    },
    /// Show the exact request a webhook would send for an event, without sending it.
    Preview {
        #[command(flatten)]
        client: ClientArgs,
        #[command(flatten)]
        preview: preview::PreviewArgs,
    },
    /// Read the delivery log; retry a delivery.
    Deliveries {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: deliveries::DeliveriesCommand,
    },
    /// Make, list and revoke API tokens.
    Token {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: token::TokenCommand,
    },
    /// List the event types webhooks can subscribe to.
    EventTypes {
        #[command(flatten)]
        client: ClientArgs,
        /// Only `event` or only `alarm` types.
        #[arg(long)]
        kind: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Seal every stored secret with a new key, while servers keep running.
    Rotate {
        /// TOML settings file; HOOKCAST_* environment variables override it.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Print a settings file with every setting at its default, each explained.
    PrintDefault,
}

/// How CLI commands reach the server.
#[derive(Args, Clone)]
pub struct ClientArgs {
    /// Base URL of the hookcast server.
    #[arg(
        long,
        env = "HOOKCAST_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub server: String,
    /// API token; defaults to the admin token in the local data directory.
    #[arg(long, env = "HOOKCAST_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Where `serve` keeps its data (to find the generated admin token).
    #[arg(long, env = "HOOKCAST_DATA_DIR", default_value = crate::config::DEFAULT_DATA_DIR, global = true)]
    pub data_dir: PathBuf,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

impl ClientArgs {
    fn connect(&self) -> anyhow::Result<client::ApiClient> {
        let token = client::resolve_token(self.token.clone(), &self.data_dir)?;
        client::ApiClient::new(&self.server, token)
    }
}

/// Runs a client subcommand.
pub async fn run_client(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve { .. }
        | Command::Migrate { .. }
        | Command::Keys { .. }
        | Command::Config { .. }
        | Command::Openapi => {
            unreachable!("not a client command")
        }
        Command::Webhook { client, command } => {
            webhook::run(&client.connect()?, *command, client.json).await
        }
        Command::Emit { client, event } => emit::run(&client.connect()?, event, client.json).await,
        Command::Preview { client, preview } => {
            preview::run(&client.connect()?, preview, client.json).await
        }
        Command::Deliveries { client, command } => {
            deliveries::run(&client.connect()?, command, client.json).await
        }
        Command::Token { client, command } => {
            token::run(&client.connect()?, command, client.json).await
        }
        Command::EventTypes { client, kind } => {
            event_types::run(&client.connect()?, kind.as_deref(), client.json).await
        }
    }
}
