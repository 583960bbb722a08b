//! `hookcast deliveries list|show|retry`: the delivery log.

use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;

use super::client::ApiClient;
use super::output::{print_json, table, text};
use super::webhook::resolve as resolve_webhook;

#[derive(Subcommand)]
pub enum DeliveriesCommand {
    /// Newest first.
    List {
        /// Only this webhook's (id or name).
        #[arg(long)]
        webhook: Option<String>,
        /// Only this event's.
        #[arg(long)]
        event: Option<String>,
        /// pending, retrying, succeeded or failed.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// One delivery with every attempt.
    Show { id: String },
    /// Try a delivery again now.
    Retry { id: String },
}

pub async fn run(api: &ApiClient, command: DeliveriesCommand, json: bool) -> anyhow::Result<()> {
    match command {
        DeliveriesCommand::List {
            webhook,
            event,
            status,
            limit,
        } => {
            let mut query = vec![format!("limit={limit}")];
            if let Some(webhook) = webhook {
                query.push(format!(
                    "webhook_id={}",
                    resolve_webhook(api, &webhook).await?
                ));
            }
            if let Some(event) = event {
                query.push(format!("event_id={event}"));
            }
            if let Some(status) = status {
                query.push(format!("status={status}"));
            }
            let response = api
                .call(
                    Method::GET,
                    &format!("/deliveries?{}", query.join("&")),
                    None,
                )
                .await?;
            if json {
                print_json(&response);
                return Ok(());
            }
            let items = response["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                println!("No deliveries.");
                return Ok(());
            }
            let rows = items.iter().map(|d| {
                vec![
                    text(&d["id"]),
                    text(&d["status"]),
                    text(&d["attempt_count"]),
                    text(&d["webhook_id"]),
                    text(&d["event_id"]),
                    text(&d["updated_at"]),
                    text(&d["last_error"]),
                ]
            });
            println!(
                "{}",
                table(
                    &[
                        "ID",
                        "STATUS",
                        "ATTEMPTS",
                        "WEBHOOK",
                        "EVENT",
                        "UPDATED",
                        "LAST ERROR"
                    ],
                    rows
                )
            );
        }
        DeliveriesCommand::Show { id } => {
            let delivery = api
                .call(Method::GET, &format!("/deliveries/{id}"), None)
                .await?;
            if json {
                print_json(&delivery);
                return Ok(());
            }
            println!(
                "Delivery {} ({}), event {}, webhook {}",
                text(&delivery["id"]),
                text(&delivery["status"]),
                text(&delivery["event_id"]),
                text(&delivery["webhook_id"])
            );
            let attempts = delivery["attempts"].as_array().cloned().unwrap_or_default();
            let rows = attempts.iter().map(|a| {
                let outcome = match (&a["response"], &a["error"]) {
                    (_, Value::Object(error)) => format!(
                        "{}: {}",
                        error.get("kind").map(text).unwrap_or_default(),
                        error.get("message").map(text).unwrap_or_default()
                    ),
                    (Value::Object(response), _) => format!(
                        "HTTP {}",
                        response.get("status").map(text).unwrap_or_default()
                    ),
                    _ => "-".into(),
                };
                vec![
                    text(&a["number"]),
                    text(&a["started_at"]),
                    format!("{} ms", text(&a["duration_ms"])),
                    outcome,
                ]
            });
            println!("{}", table(&["#", "STARTED", "DURATION", "OUTCOME"], rows));
        }
        DeliveriesCommand::Retry { id } => {
            let delivery = api
                .call(Method::POST, &format!("/deliveries/{id}/retry"), None)
                .await?;
            if json {
                print_json(&delivery);
            } else {
                println!(
                    "Delivery {} is {} again.",
                    text(&delivery["id"]),
                    text(&delivery["status"])
                );
            }
        }
    }
    Ok(())
}
