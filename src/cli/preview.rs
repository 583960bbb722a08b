//! `hookcast preview WEBHOOK`: the exact request a webhook would send, not sent.

use clap::Args;
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::client::ApiClient;
use super::output::print_json;
use super::webhook::resolve;

#[derive(Args)]
pub struct PreviewArgs {
    /// Webhook id or name.
    webhook: String,
    /// Event type to show (default: the webhook's first).
    #[arg(long = "type", value_name = "TYPE")]
    event_type: Option<String>,
    /// With --type: the host or resource.
    #[arg(long, default_value = "web-01")]
    source: String,
    /// With --type: success or failure (events).
    #[arg(long)]
    result: Option<String>,
    /// With --type: firing or resolved (alarms).
    #[arg(long)]
    status: Option<String>,
}

pub async fn run(api: &ApiClient, args: PreviewArgs, json_output: bool) -> anyhow::Result<()> {
    let id = resolve(api, &args.webhook).await?;
    let mut request = json!({"webhook_id": id});
    if let Some(event_type) = args.event_type {
        let mut event = Map::new();
        event.insert("type".into(), Value::from(event_type));
        event.insert("source".into(), Value::from(args.source));
        if let Some(result) = args.result {
            event.insert("result".into(), Value::from(result));
        }
        if let Some(status) = args.status {
            event.insert("status".into(), Value::from(status));
        }
        request["event"] = Value::Object(event);
    }
    let preview = api
        .call(Method::POST, "/webhooks/preview", Some(&request))
        .await?;
    if json_output {
        print_json(&preview);
        return Ok(());
    }
    println!(
        "{} {}",
        preview["method"].as_str().unwrap_or("POST"),
        preview["url"].as_str().unwrap_or("")
    );
    for header in preview["headers"].as_array().into_iter().flatten() {
        println!(
            "{}: {}",
            header[0].as_str().unwrap_or(""),
            header[1].as_str().unwrap_or("")
        );
    }
    println!();
    println!("{}", serde_json::to_string_pretty(&preview["body"])?);
    Ok(())
}
