//! API tokens and scopes, the audit trail, the auth-failure throttle and the body
//! limit, over HTTP against a real server.

mod common;

use std::time::{Duration, Instant};

use common::routes::every_route as routes;
use common::{TOKEN, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn make_token(app: &TestApp, name: &str, scopes: &[&str]) -> String {
    let made = app
        .post("/api/v1/tokens", json!({"name": name, "scopes": scopes}))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    made.body["token"].as_str().unwrap().to_string()
}

async fn a_webhook(app: &TestApp) -> String {
    let created = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "scoped", "url": "http://127.0.0.1:9/x", "event_types": ["dr.host.disconnected"], "enabled": false}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn every_route_refuses_a_missing_token_and_a_token_without_its_scope() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let webhook = a_webhook(&app).await;
    let publish = make_token(&app, "producer", &["publish"]).await;
    let read = make_token(&app, "viewer", &["read"]).await;

    // A wrong token (one check: repeated ones are slowed down, see below).
    let wrong = app
        .call_with(
            Method::GET,
            "/api/v1/webhooks",
            None,
            Some("hct_not-a-token"),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

    for (method, path, body) in routes(&webhook) {
        let anonymous = app
            .call_with(method.clone(), &path, body.clone(), None)
            .await;
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );

        // A publish token posts events and does nothing else.
        let publishing = method == Method::POST
            && matches!(
                path.as_str(),
                "/api/v1/events" | "/api/v1/events/batch" | "/api/v1/ingest/alertmanager"
            );
        let as_publisher = app
            .call_with(method.clone(), &path, body.clone(), Some(&publish))
            .await;
        if publishing {
            assert_eq!(as_publisher.status, StatusCode::ACCEPTED, "{path}");
        } else {
            assert_eq!(
                as_publisher.status,
                StatusCode::FORBIDDEN,
                "{method} {path}: {}",
                as_publisher.text
            );
            let needed = if method == Method::GET || path.ends_with("/preview") {
                "read"
            } else {
                "admin"
            };
            let needed = if path.starts_with("/api/v1/tokens") {
                "admin"
            } else {
                needed
            };
            assert!(
                as_publisher.body["detail"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("`{needed}`")),
                "{method} {path}: {}",
                as_publisher.text
            );
        }

        // A read token reads (including the preview) and changes nothing.
        let reading = (method == Method::GET && !path.starts_with("/api/v1/tokens"))
            || path == "/api/v1/webhooks/preview";
        let as_reader = app
            .call_with(method.clone(), &path, body.clone(), Some(&read))
            .await;
        if reading {
            assert!(
                as_reader.status != StatusCode::FORBIDDEN
                    && as_reader.status != StatusCode::UNAUTHORIZED,
                "{method} {path}: {}",
                as_reader.text
            );
        } else {
            assert_eq!(as_reader.status, StatusCode::FORBIDDEN, "{method} {path}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn a_token_is_shown_once_kept_hashed_and_stops_working_when_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let made = app
        .post(
            "/api/v1/tokens",
            json!({"name": "zabbix", "scopes": ["publish", "read"]}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let token = made.body["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("hct_") && token.len() > 40);
    assert_eq!(made.body["scopes"], json!(["publish", "read"]));
    assert_eq!(made.body["created_by"], "admin (bootstrap)");

    let list = app.get("/api/v1/tokens").await;
    assert!(!list.text.contains(&token), "the list never shows a token");
    assert!(list.body["items"][0].get("token").is_none());
    assert!(list.body["items"][0].get("hash").is_none());
    // The database holds no token either.
    for (path, bytes) in common::all_file_bytes(dir.path()) {
        assert!(!common::contains(&bytes, &token), "{}", path.display());
    }

    let duplicate = app
        .post(
            "/api/v1/tokens",
            json!({"name": "zabbix", "scopes": ["read"]}),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    let bad = app
        .post("/api/v1/tokens", json!({"name": "", "scopes": ["root"]}))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = common::error_fields(&bad);
    assert!(fields.contains(&"name".to_string()), "{fields:?}");
    assert!(fields.contains(&"scopes[0]".to_string()), "{fields:?}");

    let event = json!({"type": "dr.host.disconnected", "source": "h1", "result": "failure"});
    let posted = app
        .call_with(
            Method::POST,
            "/api/v1/events",
            Some(event.clone()),
            Some(&token),
        )
        .await;
    assert_eq!(posted.status, StatusCode::ACCEPTED);

    let id = made.body["id"].as_str().unwrap();
    let revoked = app
        .call(Method::DELETE, &format!("/api/v1/tokens/{id}"), None)
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let refused = app
        .call_with(Method::POST, "/api/v1/events", Some(event), Some(&token))
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let listed = app.get("/api/v1/tokens").await;
    assert!(listed.body["items"][0]["revoked_at"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn changes_are_audited_with_who_and_masked_before_and_after() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let ops = make_token(&app, "ops-team", &["admin"]).await;
    let created = app
        .call_with(
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({
                "name": "audited", "url": "http://127.0.0.1:9/x",
                "event_types": ["dr.host.disconnected"], "enabled": false, "language": "zh-CN",
                "auth": {"type": "basic", "username": "u", "password": "pa55-secret"}
            })),
            Some(&ops),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    let patched = app
        .call_with(
            Method::PATCH,
            &format!("/api/v1/webhooks/{id}"),
            Some(json!({"language": "en-US"})),
            Some(&ops),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    let deleted = app
        .call(Method::DELETE, &format!("/api/v1/webhooks/{id}"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);

    let trail = app.get(&format!("/api/v1/audit?target_id={id}")).await;
    assert_eq!(trail.status, StatusCode::OK);
    let items = trail.body["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["webhook.delete", "webhook.update", "webhook.create"]
    );
    assert_eq!(items[2]["actor"], "ops-team");
    assert_eq!(items[1]["actor"], "ops-team");
    assert_eq!(items[0]["actor"], "admin (bootstrap)");
    assert_eq!(items[1]["before"]["language"], "zh-CN");
    assert_eq!(items[1]["after"]["language"], "en-US");
    assert_eq!(items[2]["before"], Value::Null);
    assert_eq!(items[0]["after"], Value::Null);
    assert!(!trail.text.contains("pa55-secret"), "{}", trail.text);
    assert_eq!(items[2]["after"]["auth"]["password"], "********");

    let everything = app.get("/api/v1/audit").await;
    assert!(
        everything.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "token.create" && e["after"]["name"] == "ops-team")
    );
    app.stop().await;
}

#[tokio::test]
async fn repeated_failed_authentication_is_slowed_down() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let mut took = Vec::new();
    for _ in 0..8 {
        let started = Instant::now();
        let refused = app
            .call_with(Method::GET, "/api/v1/webhooks", None, Some("hct_guess"))
            .await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        took.push(started.elapsed());
    }
    // Five free failures, then 100, 200, 400 ms.
    assert!(
        took[..5].iter().all(|t| *t < Duration::from_millis(100)),
        "{took:?}"
    );
    assert!(took[5] >= Duration::from_millis(100), "{took:?}");
    assert!(took[7] >= Duration::from_millis(400), "{took:?}");
    // The right token is not slowed down.
    let started = Instant::now();
    assert_eq!(app.get("/api/v1/webhooks").await.status, StatusCode::OK);
    assert!(started.elapsed() < Duration::from_millis(100));
    app.stop().await;
}

#[tokio::test]
async fn oversized_and_malformed_bodies_get_problems_and_the_server_stays_healthy() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let huge = format!(
        r#"{{"type": "dr.host.disconnected", "source": "{}"}}"#,
        "x".repeat(1024 * 1024 + 1)
    );
    let response = app
        .client
        .post(app.url("/api/v1/events"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    let reply = common::reply(response).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.text
    );
    assert_eq!(reply.content_type, "application/problem+json");
    assert_eq!(reply.body["type"], "urn:hookcast:problem:too-large");

    let response = app
        .client
        .post(app.url("/api/v1/events"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(r#"{"type": "dr.host.disconnected", "source": "#)
        .send()
        .await
        .unwrap();
    let reply = common::reply(response).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.content_type, "application/problem+json");

    let healthy = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(healthy.status(), StatusCode::OK);
    let still = app
        .post(
            "/api/v1/events",
            json!({"type": "dr.host.disconnected", "source": "after", "result": "failure"}),
        )
        .await;
    assert_eq!(still.status, StatusCode::ACCEPTED);
    app.stop().await;
}
