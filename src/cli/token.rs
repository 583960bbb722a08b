//! `hookcast token create|list|revoke`

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use super::client::ApiClient;
use super::output::{print_json, table, text};

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Make a token; it is printed once and cannot be shown again.
    Create {
        /// A name that says who uses it (`ci`, `zabbix`); shown in the audit trail.
        name: String,
        /// admin, publish or read; repeat or separate with commas.
        #[arg(long = "scope", value_delimiter = ',', required = true)]
        scopes: Vec<String>,
    },
    /// List tokens (never the tokens themselves).
    List,
    /// Revoke a token by id (`tok_…`) or name; it stops working at once on this
    /// server, within seconds on the others.
    Revoke {
        /// (Not named `token`: that is the global `--token` the CLI calls with.)
        #[arg(value_name = "TOKEN")]
        which: String,
    },
}

pub async fn run(api: &ApiClient, command: TokenCommand, json: bool) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { name, scopes } => {
            let made = api
                .call(
                    Method::POST,
                    "/tokens",
                    Some(&json!({"name": name, "scopes": scopes})),
                )
                .await?;
            if json {
                print_json(&made);
            } else {
                println!(
                    "Created token {} ({}) with scopes {}. It is shown only this once:\n\n    {}\n",
                    text(&made["name"]),
                    text(&made["id"]),
                    scope_list(&made["scopes"]),
                    text(&made["token"])
                );
            }
        }
        TokenCommand::List => {
            let list = api.call(Method::GET, "/tokens", None).await?;
            if json {
                print_json(&list);
                return Ok(());
            }
            let items = list["items"].as_array().cloned().unwrap_or_default();
            let rows = items.iter().map(|t| {
                vec![
                    text(&t["id"]),
                    text(&t["name"]),
                    scope_list(&t["scopes"]),
                    format!("{}…", text(&t["prefix"])),
                    text(&t["created_at"]),
                    if t["revoked_at"].is_null() {
                        "active".to_string()
                    } else {
                        format!("revoked {}", text(&t["revoked_at"]))
                    },
                ]
            });
            println!(
                "{}",
                table(
                    &["ID", "NAME", "SCOPES", "STARTS", "CREATED", "STATE"],
                    rows
                )
            );
        }
        TokenCommand::Revoke { which } => {
            let id = resolve(api, &which).await?;
            api.call(Method::DELETE, &format!("/tokens/{id}"), None)
                .await?;
            if json {
                print_json(&json!({"revoked": id}));
            } else {
                println!("Revoked token {id}.");
            }
        }
    }
    Ok(())
}

fn scope_list(scopes: &Value) -> String {
    scopes
        .as_array()
        .map(|s| s.iter().map(text).collect::<Vec<_>>().join(","))
        .unwrap_or_default()
}

/// Accepts an id (`tok_…`) or an exact name.
async fn resolve(api: &ApiClient, token: &str) -> anyhow::Result<String> {
    if token.starts_with("tok_") {
        return Ok(token.to_string());
    }
    let list = api.call(Method::GET, "/tokens", None).await?;
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["name"] == token && t["revoked_at"].is_null())
        .map(|t| text(&t["id"]))
        .ok_or_else(|| anyhow::anyhow!("no active token is named {token:?}"))
}
