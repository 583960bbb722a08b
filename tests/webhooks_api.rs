//! The webhooks API, end to end over HTTP against a real SQLite file.

mod common;

use common::{TestApp, error_fields};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const FEISHU_URL: &str =
    "https://open.feishu.cn/open-apis/bot/v2/hook/2f9c1d0e-aaaa-bbbb-cccc-0123456789ab";

fn minimal(name: &str) -> Value {
    json!({"name": name, "url": "https://example.com/hook", "event_types": ["dr.host.disconnected"]})
}

#[tokio::test]
async fn the_product_page_example_is_created_with_one_request_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;

    let form = json!({
        "kind": "events",
        "name": "test",
        "url": FEISHU_URL,
        "language": "zh-CN",
        "auth": {"type": "none"},
        "enabled": false,
        "event_types": ["dr.host.recovery_timeout"]
    });
    let created = app.post("/api/v1/webhooks", form.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.body["id"].as_str().unwrap();
    assert!(id.starts_with("wh_"));

    let read = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    for field in [
        "kind",
        "name",
        "url",
        "language",
        "auth",
        "enabled",
        "event_types",
    ] {
        assert_eq!(read.body[field], form[field], "field {field}");
    }
    assert_eq!(
        read.body["format"], "feishu",
        "suggested from the Feishu bot URL"
    );
    assert_eq!(read.body["status"], "disabled");
    assert_eq!(read.body["disabled_reason"], "manual");
    assert_eq!(read.body["headers"], json!({}));
    assert_eq!(read.body["timeout_seconds"], Value::Null);
    assert_eq!(read.body["created_at"], created.body["created_at"]);
    assert_eq!(read.body, created.body);

    let list = app.get("/api/v1/webhooks").await;
    assert_eq!(list.body["items"], json!([read.body]));
    app.stop().await;
}

#[tokio::test]
async fn every_api_route_refuses_a_missing_or_wrong_token() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let id = app.post("/api/v1/webhooks", minimal("a")).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();

    let routes = [
        (Method::GET, "/api/v1/webhooks".to_string()),
        (Method::POST, "/api/v1/webhooks".to_string()),
        (Method::GET, format!("/api/v1/webhooks/{id}")),
        (Method::PUT, format!("/api/v1/webhooks/{id}")),
        (Method::PATCH, format!("/api/v1/webhooks/{id}")),
        (Method::DELETE, format!("/api/v1/webhooks/{id}")),
        (Method::POST, format!("/api/v1/webhooks/{id}/enable")),
        (Method::POST, format!("/api/v1/webhooks/{id}/disable")),
        (Method::GET, "/api/v1/event-types".to_string()),
        (Method::GET, "/api/v1/event-types?kind=alarm".to_string()),
        (Method::GET, "/api/v1/no-such-route".to_string()),
    ];
    // Every route without a token; wrong tokens on one route each (the layer is the
    // same for all, and more than five wrong tokens in a row are slowed down).
    for (n, (method, path)) in routes.iter().enumerate() {
        let wrong = [Some("wrong-token"), Some(""), Some("test-admin-tokenX")];
        let tokens = [None].into_iter().chain(wrong.get(n).copied());
        for token in tokens {
            let reply = app
                .call_with(method.clone(), path, Some(minimal("b")), token)
                .await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {token:?}"
            );
            assert_eq!(reply.content_type, "application/problem+json");
        }
    }
    // A non-bearer scheme carrying the right token is refused too.
    let basic = app
        .client
        .get(app.url("/api/v1/webhooks"))
        .header("authorization", format!("Basic {}", common::TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    assert!(basic.headers().contains_key("www-authenticate"));

    // Nothing was changed by the refused requests.
    let list = app.get("/api/v1/webhooks").await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["items"][0]["enabled"], true);
    // Health probes stay open.
    let health = app.call_with(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn each_invalid_field_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;

    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"url": "https://e.com/", "event_types": ["dr.user.login"]}),
            "name",
        ),
        (
            json!({"name": "", "url": "https://e.com/", "event_types": ["dr.user.login"]}),
            "name",
        ),
        (
            json!({"name": "x".repeat(65), "url": "https://e.com/", "event_types": ["dr.user.login"]}),
            "name",
        ),
        (
            json!({"name": "n", "event_types": ["dr.user.login"]}),
            "url",
        ),
        (
            json!({"name": "n", "url": "not a url", "event_types": ["dr.user.login"]}),
            "url",
        ),
        (
            json!({"name": "n", "url": "ftp://e.com/", "event_types": ["dr.user.login"]}),
            "url",
        ),
        (
            json!({"name": "n", "url": format!("https://e.com/{}", "a".repeat(2048)), "event_types": ["dr.user.login"]}),
            "url",
        ),
        (json!({"name": "n", "url": "https://e.com/"}), "event_types"),
        (
            json!({"name": "n", "url": "https://e.com/", "event_types": []}),
            "event_types",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "event_types": ["no.such.type"]}),
            "event_types[0]",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "kind": "alarms", "event_types": ["dr.user.login"]}),
            "event_types[0]",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "kind": "events", "event_types": ["alarm.host.cpu_usage"]}),
            "event_types[0]",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "kind": "alerts", "event_types": ["dr.user.login"]}),
            "kind",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "language": "fr-FR", "event_types": ["dr.user.login"]}),
            "language",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "format": "xml", "event_types": ["dr.user.login"]}),
            "format",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "auth": {}, "event_types": ["dr.user.login"]}),
            "auth.type",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "auth": {"type": "oauth"}, "event_types": ["dr.user.login"]}),
            "auth.type",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "auth": {"type": "basic", "password": "p"}, "event_types": ["dr.user.login"]}),
            "auth.username",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "auth": {"type": "basic", "username": "u"}, "event_types": ["dr.user.login"]}),
            "auth.password",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "auth": {"type": "bearer"}, "event_types": ["dr.user.login"]}),
            "auth.token",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "auth": {"type": "api_key", "value": "v"}, "event_types": ["dr.user.login"]}),
            "auth.header",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "auth": {"type": "api_key", "header": "X-Key"}, "event_types": ["dr.user.login"]}),
            "auth.value",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "auth": {"type": "hmac", "secret": "plain"}, "event_types": ["dr.user.login"]}),
            "auth.secret",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "auth": {"type": "dingtalk_sign", "secret": "abc"}, "event_types": ["dr.user.login"]}),
            "auth.secret",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "auth": {"type": "feishu_sign"}, "event_types": ["dr.user.login"]}),
            "auth.secret",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "auth": {"type": "none", "token": "t"}, "event_types": ["dr.user.login"]}),
            "auth.token",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "headers": {"Host": "x"}, "event_types": ["dr.user.login"]}),
            "headers.Host",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "headers": {"Connection": "close"}, "event_types": ["dr.user.login"]}),
            "headers.Connection",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "headers": {"X-A": "a\r\nX-B: b"}, "event_types": ["dr.user.login"]}),
            "headers.X-A",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "headers": {"bad header": "x"}, "event_types": ["dr.user.login"]}),
            "headers.bad header",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "auth": {"type": "bearer", "token": "t"}, "headers": {"Authorization": "x"}, "event_types": ["dr.user.login"]}),
            "headers.Authorization",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "headers": {"X-A": 5}, "event_types": ["dr.user.login"]}),
            "headers.X-A",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "timeout_seconds": 0, "event_types": ["dr.user.login"]}),
            "timeout_seconds",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "timeout_seconds": 61, "event_types": ["dr.user.login"]}),
            "timeout_seconds",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "enabled": "yes", "event_types": ["dr.user.login"]}),
            "enabled",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "mentions": {"mobiles": ["call me"]}, "event_types": ["dr.user.login"]}),
            "mentions.mobiles[0]",
        ),
        (
            json!({"name": "n", "url": "https://e.com/", "event_types": ["dr.user.login"], "colour": "red"}),
            "colour",
        ),
    ];
    for (body, field) in cases {
        let reply = app.post("/api/v1/webhooks", body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            reply.text
        );
        assert_eq!(reply.content_type, "application/problem+json");
        let fields = error_fields(&reply);
        let named = fields.iter().any(|f| f == field) || reply.text.contains(field);
        assert!(named, "expected `{field}` in {}", reply.text);
        assert!(
            reply.text.contains(field),
            "the field name appears in the body"
        );
    }

    // Not JSON at all: 400; not declared as JSON: 415.
    let broken = app
        .client
        .post(app.url("/api/v1/webhooks"))
        .bearer_auth(common::TOKEN)
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
    let untyped = app
        .client
        .post(app.url("/api/v1/webhooks"))
        .bearer_auth(common::TOKEN)
        .body(minimal("n").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(untyped.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Nothing invalid was stored.
    assert_eq!(app.get("/api/v1/webhooks").await.body["items"], json!([]));
    app.stop().await;
}

#[tokio::test]
async fn all_errors_of_one_request_are_reported_together() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let reply = app
        .post(
            "/api/v1/webhooks",
            json!({"name": " ", "url": "ftp://x", "language": "fr", "event_types": []}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_fields(&reply),
        ["name", "url", "language", "event_types"]
    );
    app.stop().await;
}

#[tokio::test]
async fn a_duplicate_name_is_a_conflict_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let first = app.post("/api/v1/webhooks", minimal("ops")).await;
    assert_eq!(first.status, StatusCode::CREATED);

    let duplicate = app.post("/api/v1/webhooks", minimal("ops")).await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert_eq!(duplicate.content_type, "application/problem+json");
    assert_eq!(error_fields(&duplicate), ["name"]);

    // Renaming another webhook onto a taken name is refused the same way.
    let second = app.post("/api/v1/webhooks", minimal("dev")).await;
    let second_id = second.body["id"].as_str().unwrap();
    let rename = app
        .call(
            Method::PATCH,
            &format!("/api/v1/webhooks/{second_id}"),
            Some(json!({"name": "ops"})),
        )
        .await;
    assert_eq!(rename.status, StatusCode::CONFLICT);
    let unchanged = app.get(&format!("/api/v1/webhooks/{second_id}")).await;
    assert_eq!(unchanged.body, second.body);
    assert_eq!(
        app.get("/api/v1/webhooks").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    app.stop().await;
}

#[tokio::test]
async fn put_replaces_patch_merges_and_unknown_ids_are_404() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let created = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "w", "url": "https://e.com/a", "event_types": ["dr.user.login"],
                   "headers": {"X-Env": "prod"}, "timeout_seconds": 10, "language": "zh-CN"}),
        )
        .await;
    let path = format!("/api/v1/webhooks/{}", created.body["id"].as_str().unwrap());

    let patched = app
        .call(
            Method::PATCH,
            &path,
            Some(json!({"url": "https://e.com/b"})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["url"], "https://e.com/b");
    assert_eq!(patched.body["headers"], json!({"X-Env": "prod"}));
    assert_eq!(patched.body["timeout_seconds"], 10);
    assert_eq!(patched.body["language"], "zh-CN");
    assert_eq!(patched.body["created_at"], created.body["created_at"]);

    // PATCH with null clears the timeout.
    let cleared = app
        .call(Method::PATCH, &path, Some(json!({"timeout_seconds": null})))
        .await;
    assert_eq!(cleared.body["timeout_seconds"], Value::Null);

    // PUT is a full replacement: omitted fields take their defaults.
    let replaced = app
        .call(
            Method::PUT,
            &path,
            Some(
                json!({"name": "w2", "url": "https://e.com/c", "kind": "alarms",
                        "event_types": ["alarm.host.root_disk_usage"]}),
            ),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    assert_eq!(replaced.body["kind"], "alarms");
    assert_eq!(replaced.body["headers"], json!({}));
    assert_eq!(replaced.body["language"], "en-US");
    assert_eq!(app.get(&path).await.body, replaced.body);

    // PUT without a required field is refused; PATCH that breaks kind/type pairing too.
    let incomplete = app
        .call(Method::PUT, &path, Some(json!({"name": "w3"})))
        .await;
    assert_eq!(incomplete.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&incomplete), ["url", "event_types"]);
    let mismatched = app
        .call(Method::PATCH, &path, Some(json!({"kind": "events"})))
        .await;
    assert_eq!(error_fields(&mismatched), ["event_types[0]"]);
    assert_eq!(app.get(&path).await.body, replaced.body);

    // A client may send back what it read.
    let round_trip = app
        .call(Method::PUT, &path, Some(replaced.body.clone()))
        .await;
    assert_eq!(round_trip.status, StatusCode::OK, "{}", round_trip.text);

    for unknown in [
        "/api/v1/webhooks/wh_01hzzzzzzzzzzzzzzzzzzzzzzz",
        "/api/v1/webhooks/nonsense",
    ] {
        assert_eq!(app.get(unknown).await.status, StatusCode::NOT_FOUND);
        let patch = app
            .call(Method::PATCH, unknown, Some(json!({"name": "x"})))
            .await;
        assert_eq!(patch.status, StatusCode::NOT_FOUND);
        assert_eq!(patch.content_type, "application/problem+json");
    }
    app.stop().await;
}

#[tokio::test]
async fn enable_disable_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let created = app.post("/api/v1/webhooks", minimal("w")).await;
    assert_eq!(created.body["enabled"], true);
    assert_eq!(created.body["status"], "enabled");
    assert_eq!(created.body["disabled_reason"], Value::Null);
    let path = format!("/api/v1/webhooks/{}", created.body["id"].as_str().unwrap());

    let disabled = app.post(&format!("{path}/disable"), json!({})).await;
    assert_eq!(disabled.status, StatusCode::OK);
    assert_eq!(disabled.body["enabled"], false);
    assert_eq!(disabled.body["disabled_reason"], "manual");
    assert_eq!(app.get(&path).await.body["status"], "disabled");

    let enabled = app.post(&format!("{path}/enable"), json!({})).await;
    assert_eq!(enabled.body["enabled"], true);
    assert_eq!(enabled.body["disabled_reason"], Value::Null);

    let filtered = app.get("/api/v1/webhooks?enabled=false").await;
    assert_eq!(filtered.body["items"], json!([]));

    let deleted = app.call(Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.call(Method::DELETE, &path, None).await.status,
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

#[tokio::test]
async fn list_filters_by_kind_and_name() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    app.post("/api/v1/webhooks", minimal("Feishu ops")).await;
    app.post(
        "/api/v1/webhooks",
        json!({"name": "disk alarms", "kind": "alarms", "url": "https://e.com/",
               "event_types": ["alarm.host.root_disk_usage"]}),
    )
    .await;
    let names = |reply: common::Reply| -> Vec<String> {
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(app.get("/api/v1/webhooks?kind=alarms").await),
        ["disk alarms"]
    );
    assert_eq!(
        names(app.get("/api/v1/webhooks?name=FEISHU").await),
        ["Feishu ops"]
    );
    assert_eq!(
        names(app.get("/api/v1/webhooks").await),
        ["Feishu ops", "disk alarms"]
    );
    let bad = app.get("/api/v1/webhooks?kind=alerts").await;
    assert_eq!(error_fields(&bad), ["kind"]);
    app.stop().await;
}
