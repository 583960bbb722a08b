//! `hookcast webhook list|show|add|update|enable|disable|delete`

use anyhow::{anyhow, bail};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::client::ApiClient;
use super::output::{print_json, table, text};

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// List webhooks.
    List {
        /// Only `events` or only `alarms` webhooks.
        #[arg(long)]
        kind: Option<String>,
    },
    /// Show one webhook (by id or name).
    Show { webhook: String },
    /// Add a webhook.
    Add(#[command(flatten)] WebhookFields),
    /// Change some fields of a webhook; fields not given stay as they are.
    Update {
        webhook: String,
        #[command(flatten)]
        fields: WebhookFields,
    },
    /// Enable a webhook.
    Enable { webhook: String },
    /// Disable a webhook.
    Disable { webhook: String },
    /// Delete a webhook. This cannot be undone.
    Delete { webhook: String },
    /// Send a test message now and show the receiver's answer.
    Test { webhook: String },
}

/// The fields of the "Add WebHook" form. On `add`, `--name`, `--url` and at least one
/// `--event-type` are required (the server says so if missing).
#[derive(Args)]
pub struct WebhookFields {
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    url: Option<String>,
    /// `events` or `alarms`.
    #[arg(long)]
    kind: Option<String>,
    /// `zh-CN` or `en-US`.
    #[arg(long)]
    language: Option<String>,
    /// json, feishu, dingtalk, wecom, slack, discord, teams, telegram.
    #[arg(long)]
    format: Option<String>,
    /// An event type code to subscribe to; repeat for several. Replaces the list on update.
    #[arg(long = "event-type", value_name = "CODE")]
    event_types: Vec<String>,
    /// Start (or switch to) disabled.
    #[arg(long, conflicts_with = "enabled")]
    disabled: bool,
    /// Switch to enabled (update only; new webhooks are enabled by default).
    #[arg(long)]
    enabled: bool,
    /// none, basic, bearer, api_key, hmac, dingtalk_sign, feishu_sign.
    #[arg(long = "auth", value_name = "TYPE")]
    auth_type: Option<String>,
    /// basic: user name.
    #[arg(long)]
    username: Option<String>,
    /// basic: password.
    #[arg(long)]
    password: Option<String>,
    /// bearer: token.
    #[arg(long = "bearer-token")]
    bearer_token: Option<String>,
    /// api_key: header name.
    #[arg(long = "api-key-header")]
    api_key_header: Option<String>,
    /// api_key: header value.
    #[arg(long = "api-key-value")]
    api_key_value: Option<String>,
    /// hmac (whsec_…, generated if omitted), dingtalk_sign (SEC…), feishu_sign.
    #[arg(long)]
    secret: Option<String>,
    /// Extra request header `Name: value`; repeat for several. Replaces the set on update.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Per-attempt deadline in seconds (1–60).
    #[arg(long = "timeout")]
    timeout_seconds: Option<u16>,
}

impl WebhookFields {
    /// The JSON body: only what was given, so an update changes only that.
    fn to_json(&self) -> anyhow::Result<Value> {
        let mut body = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                body.insert(key.to_string(), value);
            }
        };
        put("name", self.name.clone().map(Value::from));
        put("url", self.url.clone().map(Value::from));
        put("kind", self.kind.clone().map(Value::from));
        put("language", self.language.clone().map(Value::from));
        put("format", self.format.clone().map(Value::from));
        put("timeout_seconds", self.timeout_seconds.map(Value::from));
        if !self.event_types.is_empty() {
            put("event_types", Some(json!(self.event_types)));
        }
        if self.disabled {
            put("enabled", Some(Value::Bool(false)));
        } else if self.enabled {
            put("enabled", Some(Value::Bool(true)));
        }
        if !self.headers.is_empty() {
            let mut headers = Map::new();
            for line in &self.headers {
                let (name, value) = line
                    .split_once(':')
                    .ok_or_else(|| anyhow!("--header `{line}` must look like `Name: value`"))?;
                headers.insert(name.trim().to_string(), Value::from(value.trim()));
            }
            put("headers", Some(Value::Object(headers)));
        }
        if let Some(auth_type) = &self.auth_type {
            let mut auth = Map::new();
            auth.insert("type".into(), Value::from(auth_type.as_str()));
            for (key, value) in [
                ("username", &self.username),
                ("password", &self.password),
                ("token", &self.bearer_token),
                ("header", &self.api_key_header),
                ("value", &self.api_key_value),
                ("secret", &self.secret),
            ] {
                if let Some(value) = value {
                    auth.insert(key.into(), Value::from(value.as_str()));
                }
            }
            put("auth", Some(Value::Object(auth)));
        } else if self.username.is_some()
            || self.password.is_some()
            || self.bearer_token.is_some()
            || self.api_key_header.is_some()
            || self.api_key_value.is_some()
            || self.secret.is_some()
        {
            bail!("credentials need --auth TYPE to say what they are for");
        }
        Ok(Value::Object(body))
    }
}

pub async fn run(api: &ApiClient, command: WebhookCommand, json: bool) -> anyhow::Result<()> {
    match command {
        WebhookCommand::List { kind } => {
            let path = match kind {
                Some(kind) => format!("/webhooks?kind={kind}"),
                None => "/webhooks".into(),
            };
            let response = api.call(Method::GET, &path, None).await?;
            if json {
                print_json(&response);
            } else {
                print_list(&response);
            }
        }
        WebhookCommand::Show { webhook } => {
            let id = resolve(api, &webhook).await?;
            let response = api
                .call(Method::GET, &format!("/webhooks/{id}"), None)
                .await?;
            show(&response, json);
        }
        WebhookCommand::Add(fields) => {
            let response = api
                .call(Method::POST, "/webhooks", Some(&fields.to_json()?))
                .await?;
            show(&response, json);
            if !json
                && let Some(secret) = response["auth"]["secret"]
                    .as_str()
                    .filter(|s| s.starts_with("whsec_"))
            {
                println!(
                    "\nSigning secret (shown only now; keep it for verifying signatures):\n    {secret}"
                );
            }
        }
        WebhookCommand::Update { webhook, fields } => {
            let id = resolve(api, &webhook).await?;
            let response = api
                .call(
                    Method::PATCH,
                    &format!("/webhooks/{id}"),
                    Some(&fields.to_json()?),
                )
                .await?;
            show(&response, json);
        }
        WebhookCommand::Enable { webhook } => {
            let id = resolve(api, &webhook).await?;
            let response = api
                .call(Method::POST, &format!("/webhooks/{id}/enable"), None)
                .await?;
            show(&response, json);
        }
        WebhookCommand::Disable { webhook } => {
            let id = resolve(api, &webhook).await?;
            let response = api
                .call(Method::POST, &format!("/webhooks/{id}/disable"), None)
                .await?;
            show(&response, json);
        }
        WebhookCommand::Test { webhook } => {
            let id = resolve(api, &webhook).await?;
            let result = api
                .call(Method::POST, &format!("/webhooks/{id}/test"), None)
                .await?;
            if json {
                print_json(&result);
            } else if result["ok"] == true {
                println!(
                    "Delivered: HTTP {} in {} ms.",
                    text(&result["status"]),
                    text(&result["duration_ms"])
                );
            } else {
                println!(
                    "Not delivered: {} ({} ms).",
                    result["error"].as_str().unwrap_or("unknown error"),
                    text(&result["duration_ms"])
                );
                if let Some(response) = result["response"].as_str().filter(|r| !r.is_empty()) {
                    println!("The receiver answered: {response}");
                }
            }
        }
        WebhookCommand::Delete { webhook } => {
            let id = resolve(api, &webhook).await?;
            api.call(Method::DELETE, &format!("/webhooks/{id}"), None)
                .await?;
            if json {
                print_json(&json!({"deleted": id}));
            } else {
                println!("Deleted webhook {id}.");
            }
        }
    }
    Ok(())
}

/// Accepts an id (`wh_…`) or an exact name.
pub async fn resolve(api: &ApiClient, webhook: &str) -> anyhow::Result<String> {
    if webhook.starts_with("wh_") {
        return Ok(webhook.to_string());
    }
    let list = api.call(Method::GET, "/webhooks", None).await?;
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|w| w["name"].as_str() == Some(webhook))
        .and_then(|w| w["id"].as_str().map(str::to_string))
        .ok_or_else(|| anyhow!("no webhook with id or name `{webhook}`"))
}

fn print_list(response: &Value) {
    let items = response["items"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        println!(
            "No webhooks yet. Add one with `hookcast webhook add --name … --url … --event-type …`."
        );
        return;
    }
    let rows = items.iter().map(|w| {
        vec![
            text(&w["id"]),
            text(&w["name"]),
            text(&w["kind"]),
            text(&w["url"]),
            text(&w["language"]),
            text(&w["auth"]["type"]),
            text(&w["format"]),
            status(w),
        ]
    });
    println!(
        "{}",
        table(
            &[
                "ID", "NAME", "TYPE", "URL", "LANGUAGE", "AUTH", "FORMAT", "STATUS"
            ],
            rows
        )
    );
}

fn status(webhook: &Value) -> String {
    match webhook["disabled_reason"].as_str() {
        Some(reason) if webhook["enabled"] == Value::Bool(false) => format!("disabled ({reason})"),
        _ => text(&webhook["status"]),
    }
}

fn show(webhook: &Value, json: bool) {
    if json {
        print_json(webhook);
        return;
    }
    let headers = webhook["headers"]
        .as_object()
        .map(|h| {
            h.iter()
                .map(|(k, v)| format!("{k}: {}", text(v)))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let event_types = webhook["event_types"]
        .as_array()
        .map(|list| list.iter().map(text).collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    let rows = [
        ("id", text(&webhook["id"])),
        ("name", text(&webhook["name"])),
        ("type", text(&webhook["kind"])),
        ("url", text(&webhook["url"])),
        ("language", text(&webhook["language"])),
        ("auth", text(&webhook["auth"]["type"])),
        ("format", text(&webhook["format"])),
        ("status", status(webhook)),
        ("event types", event_types),
        ("headers", headers),
        ("timeout", text(&webhook["timeout_seconds"])),
        ("created", text(&webhook["created_at"])),
        ("updated", text(&webhook["updated_at"])),
    ];
    println!(
        "{}",
        table(
            &["FIELD", "VALUE"],
            rows.into_iter().map(|(k, v)| vec![k.to_string(), v])
        )
    );
}
