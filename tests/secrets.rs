//! Secrets: never returned, kept when omitted, sealed on disk, readable after restart.

mod common;

use std::sync::Arc;

use common::{TestApp, all_file_bytes, contains};
use hookcast::domain::auth::AuthConfig;
use hookcast::domain::ids::WebhookId;
use hookcast::store::{Sealer, SqliteStore, Store};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "pw-Zq8vLr3xWm";
const BEARER: &str = "bearer-Kd93jfQpA1";
const API_KEY: &str = "apikey-Pp0oIi9uUy";
const HMAC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const DINGTALK: &str = "SECd1ngT4lkS1gn1ngS3cret";
const FEISHU: &str = "feishu-Sg7Hh2Jj9Kk";
const ALL: [&str; 6] = [PASSWORD, BEARER, API_KEY, HMAC, DINGTALK, FEISHU];

fn with_auth(name: &str, auth: Value) -> Value {
    json!({"name": name, "url": "https://example.com/hook", "auth": auth,
           "event_types": ["dr.host.disconnected"]})
}

fn auths() -> Vec<(&'static str, Value)> {
    vec![
        (
            "basic",
            json!({"type": "basic", "username": "ops", "password": PASSWORD}),
        ),
        ("bearer", json!({"type": "bearer", "token": BEARER})),
        (
            "api_key",
            json!({"type": "api_key", "header": "X-Api-Key", "value": API_KEY}),
        ),
        ("hmac", json!({"type": "hmac", "secret": HMAC})),
        (
            "dingtalk",
            json!({"type": "dingtalk_sign", "secret": DINGTALK}),
        ),
        ("feishu", json!({"type": "feishu_sign", "secret": FEISHU})),
    ]
}

fn assert_no_secret(text: &str, context: &str) {
    for secret in ALL {
        assert!(!text.contains(secret), "{context} shows a secret: {text}");
    }
}

async fn open_store(dir: &std::path::Path) -> SqliteStore {
    let sealer = Sealer::load_or_create(None, &dir.join("secret.key")).unwrap();
    let url = format!("sqlite://{}", dir.join("hookcast.db").display());
    SqliteStore::open(&url, Arc::new(sealer), true)
        .await
        .unwrap()
}

#[tokio::test]
async fn secrets_never_appear_in_responses_and_are_kept_when_omitted() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let mut paths = Vec::new();
    for (name, auth) in auths() {
        let created = app.post("/api/v1/webhooks", with_auth(name, auth)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert_no_secret(&created.text, "create");
        let masked = created.body["auth"].as_object().unwrap();
        assert!(masked.values().any(|v| v == "********"), "{masked:?}");
        paths.push(format!(
            "/api/v1/webhooks/{}",
            created.body["id"].as_str().unwrap()
        ));
    }
    for path in &paths {
        let read = app.get(path).await;
        assert_no_secret(&read.text, "get");
        // PUT back what was read (masked secrets included), PUT with the secret left
        // out, PATCH without auth, enable/disable: none of them shows or loses it.
        let mut body = read.body.clone();
        let put = app.call(Method::PUT, path, Some(body.clone())).await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.text);
        assert_no_secret(&put.text, "put");
        let auth = body["auth"].as_object_mut().unwrap();
        auth.retain(|key, value| key == "type" || value != "********");
        let put_omitted = app.call(Method::PUT, path, Some(body)).await;
        assert_eq!(put_omitted.status, StatusCode::OK, "{}", put_omitted.text);
        let patch = app
            .call(Method::PATCH, path, Some(json!({"language": "zh-CN"})))
            .await;
        assert_no_secret(&patch.text, "patch");
        assert_no_secret(
            &app.post(&format!("{path}/disable"), json!({})).await.text,
            "disable",
        );
        assert_no_secret(
            &app.post(&format!("{path}/enable"), json!({})).await.text,
            "enable",
        );
    }
    assert_no_secret(&app.get("/api/v1/webhooks").await.text, "list");
    app.stop().await;

    // The secrets are still the originals after all those updates.
    let store = open_store(dir.path()).await;
    let webhooks = store.list_webhooks().await.unwrap();
    let secrets: Vec<String> = webhooks
        .iter()
        .map(|w| match &w.spec.auth {
            AuthConfig::Basic { password, .. } => password.expose().to_string(),
            AuthConfig::Bearer { token } => token.expose().to_string(),
            AuthConfig::ApiKey { value, .. } => value.expose().to_string(),
            AuthConfig::Hmac { secret }
            | AuthConfig::DingtalkSign { secret }
            | AuthConfig::FeishuSign { secret } => secret.expose().to_string(),
            AuthConfig::None => String::new(),
        })
        .collect();
    assert_eq!(secrets, ALL);
}

#[tokio::test]
async fn a_replaced_secret_takes_effect() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let created = app
        .post(
            "/api/v1/webhooks",
            with_auth("b", json!({"type": "bearer", "token": BEARER})),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_string();
    let patch = app
        .call(
            Method::PATCH,
            &format!("/api/v1/webhooks/{id}"),
            Some(json!({"auth": {"type": "bearer", "token": "new-token-123"}})),
        )
        .await;
    assert_eq!(patch.status, StatusCode::OK);
    assert!(!patch.text.contains("new-token-123"));
    app.stop().await;
    let store = open_store(dir.path()).await;
    let webhook = store
        .get_webhook(&WebhookId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    let AuthConfig::Bearer { token } = webhook.spec.auth else {
        panic!("auth type changed")
    };
    assert_eq!(token.expose(), "new-token-123");
}

#[tokio::test]
async fn a_generated_hmac_secret_is_shown_once() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let created = app
        .post("/api/v1/webhooks", with_auth("h", json!({"type": "hmac"})))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let secret = created.body["auth"]["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let path = format!("/api/v1/webhooks/{}", created.body["id"].as_str().unwrap());
    let read = app.get(&path).await;
    assert_eq!(
        read.body["auth"],
        json!({"type": "hmac", "secret": "********"})
    );
    assert!(!app.get("/api/v1/webhooks").await.text.contains(&secret));
    app.stop().await;
}

#[tokio::test]
async fn data_and_secrets_survive_a_restart_and_no_file_holds_a_plaintext_secret() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let mut created = Vec::new();
    for (name, auth) in auths() {
        created.push(
            app.post("/api/v1/webhooks", with_auth(name, auth))
                .await
                .body,
        );
    }
    app.stop().await;

    for (path, bytes) in all_file_bytes(dir.path()) {
        for secret in ALL {
            assert!(
                !contains(&bytes, secret),
                "{} holds {secret} in plaintext",
                path.display()
            );
        }
    }

    let app = TestApp::start(dir.path()).await;
    let list = app.get("/api/v1/webhooks").await;
    assert_eq!(list.body["items"], Value::Array(created));
    app.stop().await;

    // The secrets still decrypt with the key in the data directory…
    let store = open_store(dir.path()).await;
    let webhooks = store.list_webhooks().await.unwrap();
    assert!(
        matches!(&webhooks[0].spec.auth, AuthConfig::Basic { password, .. } if password.expose() == PASSWORD)
    );
    drop(store);

    // …and only with it.
    let other_key = tempfile::tempdir().unwrap();
    let sealer = Sealer::load_or_create(None, &other_key.path().join("k")).unwrap();
    let url = format!("sqlite://{}", dir.path().join("hookcast.db").display());
    let stranger = SqliteStore::open(&url, Arc::new(sealer), true)
        .await
        .unwrap();
    assert!(stranger.list_webhooks().await.is_err());
}
