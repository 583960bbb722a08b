//! Test helpers: the real server on a port-0 listener with a fresh data directory,
//! and a JSON client for it.

#![allow(dead_code)] // each test binary uses a different subset

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hookcast::config::Settings;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub mod fixtures;
pub mod postgres;
pub mod process;
pub mod receiver;
pub mod routes;

pub const TOKEN: &str = "test-admin-token";

/// Settings that let tests deliver to receivers on this machine, with a short retry
/// schedule.
pub const LOCAL_DELIVERY: &[(&str, &str)] = &[
    ("HOOKCAST_ALLOWED_CIDRS", "127.0.0.0/8"),
    ("HOOKCAST_RETRY_SCHEDULE", "100ms,200ms,300ms"),
];

pub struct TestApp {
    pub address: SocketAddr,
    pub data_dir: PathBuf,
    pub client: reqwest::Client,
    shutdown: CancellationToken,
    server: JoinHandle<anyhow::Result<()>>,
}

pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
    pub text: String,
}

impl TestApp {
    /// Starts hookcast on `data_dir` (created if needed) with the test token.
    pub async fn start(data_dir: &Path) -> TestApp {
        TestApp::start_with(data_dir, &[]).await
    }

    /// Starts hookcast with extra `HOOKCAST_*` settings.
    pub async fn start_with(data_dir: &Path, settings: &[(&str, &str)]) -> TestApp {
        hookcast::init_tls();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let extra: Vec<(String, String)> = settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let settings = Settings::load_from(None, |name| match name {
            "HOOKCAST_DATA_DIR" => Some(data_dir.display().to_string()),
            "HOOKCAST_ADMIN_TOKEN" => Some(TOKEN.to_string()),
            // Tests fsync less: they exercise logic, not the disk.
            "HOOKCAST_FSYNC" => Some("false".to_string()),
            other => extra
                .iter()
                .find(|(k, _)| k == other)
                .map(|(_, v)| v.clone()),
        })
        .unwrap();
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(hookcast::server::run(settings, listener, shutdown.clone()));
        let app = TestApp {
            address,
            data_dir: data_dir.to_path_buf(),
            client: reqwest::Client::new(),
            shutdown,
            server,
        };
        app.wait_ready().await;
        app
    }

    async fn wait_ready(&self) {
        for _ in 0..100 {
            if let Ok(response) = self.client.get(self.url("/readyz")).send().await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("server did not become ready");
    }

    /// Graceful shutdown; waits for the server task to finish.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.server.await.unwrap().unwrap();
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// A request with the admin token.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call_with(method, path, body, Some(TOKEN)).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        reply(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }
}

pub async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        content_type,
        body,
        text,
    }
}

/// The fields of the problem's per-field errors.
pub fn error_fields(reply: &Reply) -> Vec<String> {
    reply.body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Every byte of every file under `dir`, for looking for leaked secrets.
pub fn all_file_bytes(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(all_file_bytes(&path));
        } else {
            files.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    files
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}
