//! A small JSON client for the CLI commands: bearer token, problem+json errors shown
//! as the server wrote them.

use std::path::Path;

use anyhow::{Context, anyhow, bail};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::admin_token;
use crate::domain::secret::Secret;

pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    token: Secret,
}

impl ApiClient {
    pub fn new(server: &str, token: Secret) -> anyhow::Result<Self> {
        crate::init_tls();
        let http = reqwest::Client::builder()
            .user_agent(concat!("hookcast-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(ApiClient {
            http,
            base: format!("{}/api/v1", server.trim_end_matches('/')),
            token,
        })
    }

    /// Sends a request; returns the JSON body (`Null` for 204), or the server's
    /// problem as an error message.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut request = self
            .http
            .request(method, &url)
            .bearer_auth(self.token.expose());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach hookcast at {}", self.base))?;
        let status = response.status();
        let text = response.text().await.context("cannot read the response")?;
        if status == StatusCode::NO_CONTENT {
            return Ok(Value::Null);
        }
        let json: Value = serde_json::from_str(&text).map_err(|_| {
            anyhow!(
                "unexpected response ({status}): {}",
                text.chars().take(200).collect::<String>()
            )
        })?;
        if status.is_success() {
            Ok(json)
        } else {
            bail!(describe_problem(status, &json))
        }
    }
}

fn describe_problem(status: StatusCode, problem: &Value) -> String {
    let title = problem["title"].as_str().unwrap_or("request failed");
    let mut message = format!("{title} ({status})");
    match problem["errors"].as_array() {
        Some(errors) if !errors.is_empty() => {
            for error in errors {
                message.push_str(&format!(
                    "\n  {}: {}",
                    error["field"].as_str().unwrap_or("?"),
                    error["message"].as_str().unwrap_or("?")
                ));
            }
        }
        _ => {
            if let Some(detail) = problem["detail"].as_str() {
                message.push_str(&format!(": {detail}"));
            }
        }
    }
    message
}

/// The token to use: given explicitly, else the server's configured admin token, else
/// the one `serve` generated into the local data directory.
pub fn resolve_token(explicit: Option<String>, data_dir: &Path) -> anyhow::Result<Secret> {
    if let Some(token) = explicit.filter(|t| !t.is_empty()) {
        return Ok(Secret::new(token));
    }
    if let Some(token) = std::env::var("HOOKCAST_ADMIN_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
    {
        return Ok(Secret::new(token));
    }
    let path = data_dir.join("admin-token");
    admin_token::read_stored(&path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .ok_or_else(|| {
            anyhow!(
                "no API token: pass --token, set HOOKCAST_TOKEN, or run where the server's data directory is ({} not found)",
                path.display()
            )
        })
}
