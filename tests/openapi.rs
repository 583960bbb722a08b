//! The OpenAPI document: served, valid, current, and the same routes the router has.

mod common;

use std::collections::BTreeSet;

use common::TestApp;
use common::routes::every_route;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// `/api/v1/webhooks/wh_…` → `/api/v1/webhooks/{id}`: ids start with a known prefix.
fn template_of(path: &str) -> String {
    path.split('/')
        .map(|part| {
            let is_id = ["wh_", "evt_", "msg_", "tok_"]
                .iter()
                .any(|prefix| part.starts_with(prefix));
            if is_id { "{id}" } else { part }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn documented_operations(document: &Value) -> BTreeSet<(String, String)> {
    document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

#[tokio::test]
async fn the_served_document_is_the_committed_one_and_lists_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;

    // Served without a token: it holds nothing secret.
    let served = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    let served = served.text().await.unwrap();
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json")).unwrap();
    assert!(
        served == committed,
        "openapi.json is not the served document; run `cargo run -- openapi > openapi.json`"
    );
    let document: Value = serde_json::from_str(&served).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    // The codes a webhook may subscribe to are listed; hookcast's own test type is not.
    let codes = document
        .pointer("/components/schemas/WebhookInput/properties/event_types/items/enum")
        .and_then(Value::as_array)
        .expect("event_types lists the catalog");
    for code in ["dr.host.disconnected", "alarm.prometheus"] {
        assert!(codes.iter().any(|c| c == code), "{code}");
    }
    assert!(!codes.iter().any(|c| c == "hookcast.test"));

    // The same routes as the list the access tests go through, plus the probes.
    let mut expected: BTreeSet<(String, String)> = every_route("wh_x")
        .iter()
        .map(|(method, path, _)| (method.to_string(), template_of(path)))
        .collect();
    expected.insert(("GET".into(), "/healthz".into()));
    expected.insert(("GET".into(), "/readyz".into()));
    expected.insert(("GET".into(), "/metrics".into()));
    assert_eq!(documented_operations(&document), expected);

    // Each documented operation reaches a handler: never the API's fallback (404 "no
    // such API route") nor a 405 for a method the path does not have.
    for (method, path) in documented_operations(&document) {
        let concrete = path.replace("{id}", "wh_01jzzzzzzzzzzzzzzzzzzzzzzz");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let reply = app
            .call(method.clone(), &concrete, Some(serde_json::json!({})))
            .await;
        assert_ne!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert!(
            !reply.text.contains("no such API route"),
            "{method} {path}: {}",
            reply.text
        );
    }
    // ... and the fallback does answer a route that is not there.
    let missing = app.get("/api/v1/no-such-route").await;
    assert!(
        missing.text.contains("no such API route"),
        "{}",
        missing.text
    );

    // Every operation under /api/v1 names the scope it needs.
    for (_, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if operation["tags"][0] == "health" {
                continue;
            }
            let scopes = &operation["security"][0]["bearer"];
            assert!(
                scopes
                    .as_array()
                    .is_some_and(|s| s.len() == 1 && s[0].is_string()),
                "{method} {}: {scopes}",
                operation["operationId"]
            );
        }
    }
    app.stop().await;
}

/// The document is valid OpenAPI 3.1, checked by openapi-spec-validator (PyPI), which
/// `.ci/run` installs. Without it this test fails and says how to get it.
#[test]
fn the_committed_document_validates() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    let output = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator", path])
        .output()
        .expect("python3 is needed to validate the OpenAPI document");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named"),
        "openapi-spec-validator is not installed: run `pip install openapi-spec-validator`"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("OK"),
        "openapi.json is not valid OpenAPI: {stdout}{stderr}"
    );
}
