//! `hookcast emit TYPE --source S …`: publish one event.

use anyhow::anyhow;
use clap::Args;
use reqwest::Method;
use serde_json::{Map, Value};

use super::client::ApiClient;
use super::output::print_json;

#[derive(Args)]
pub struct EmitArgs {
    /// Event type code, e.g. dr.host.disconnected.
    #[arg(value_name = "TYPE")]
    event_type: String,
    /// The host or resource it concerns.
    #[arg(long)]
    source: String,
    /// info, major, critical or emergency (default: the type's usual severity).
    #[arg(long)]
    severity: Option<String>,
    /// Events: success or failure.
    #[arg(long)]
    result: Option<String>,
    /// Alarms: firing or resolved.
    #[arg(long)]
    status: Option<String>,
    /// When it happened (RFC 3339; default now).
    #[arg(long)]
    occurred_at: Option<String>,
    /// Attribute `key=value`; the value is read as JSON when it parses, else as text.
    #[arg(long = "attr", value_name = "KEY=VALUE")]
    attributes: Vec<String>,
    /// Publishing again with the same key creates nothing new.
    #[arg(long)]
    idempotency_key: Option<String>,
}

pub async fn run(api: &ApiClient, args: EmitArgs, json: bool) -> anyhow::Result<()> {
    let mut body = Map::new();
    body.insert("type".into(), Value::from(args.event_type));
    body.insert("source".into(), Value::from(args.source));
    for (key, value) in [
        ("severity", args.severity),
        ("result", args.result),
        ("status", args.status),
        ("occurred_at", args.occurred_at),
        ("idempotency_key", args.idempotency_key),
    ] {
        if let Some(value) = value {
            body.insert(key.into(), Value::from(value));
        }
    }
    let mut attributes = Map::new();
    for pair in &args.attributes {
        let (key, raw) = pair
            .split_once('=')
            .ok_or_else(|| anyhow!("--attr `{pair}` must look like key=value"))?;
        let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::from(raw));
        attributes.insert(key.to_string(), value);
    }
    if !attributes.is_empty() {
        body.insert("attributes".into(), Value::Object(attributes));
    }
    let accepted = api
        .call(Method::POST, "/events", Some(&Value::Object(body)))
        .await?;
    if json {
        print_json(&accepted);
    } else {
        println!(
            "Accepted event {} for {} webhook(s){}.",
            accepted["id"].as_str().unwrap_or("?"),
            accepted["deliveries"],
            if accepted["duplicate"] == true {
                " (seen before: nothing new)"
            } else {
                ""
            }
        );
    }
    Ok(())
}
