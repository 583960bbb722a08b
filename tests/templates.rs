//! Format `template` and per-webhook time zones.

mod common;

use std::time::Duration;

use common::receiver::Receiver;
use common::{LOCAL_DELIVERY, TestApp, error_fields};
use reqwest::StatusCode;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_template_shapes_the_body_with_local_times() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(dir.path(), LOCAL_DELIVERY).await;
    let receiver = Receiver::start().await;
    let template = r#"{"msg": {{ message|tojson }}, "at": "{{ event.occurred_at|localtime("%H:%M") }}", "who": {{ webhook.name|tojson }}, "ip": {{ event.attributes.ip|tojson }}}"#;
    let created = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "custom", "url": receiver.url(), "format": "template", "language": "en-US",
                   "time_zone": "UTC+09:00", "event_types": ["dr.host.disconnected"],
                   "template": {"body": template, "content_type": "application/vnd.ops+json"}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.body["template"]["content_type"],
        "application/vnd.ops+json"
    );
    assert_eq!(created.body["time_zone"], "UTC+09:00");

    app.post(
        "/api/v1/events",
        json!({"type": "dr.host.disconnected", "source": "web-01", "result": "failure",
               "occurred_at": "2026-11-27T05:00:00Z", "attributes": {"ip": "10.0.0.8"}}),
    )
    .await;
    let got = &receiver.wait_for(1, WAIT).await[0];
    assert_eq!(
        got.header("content-type").unwrap(),
        "application/vnd.ops+json"
    );
    assert_eq!(
        got.json(),
        json!({"msg": "Host web-01 disconnected at 2026-11-27 14:00:00 (UTC+09:00)",
               "at": "14:00", "who": "custom", "ip": "10.0.0.8"})
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_templates_are_refused_and_runaway_ones_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(dir.path(), LOCAL_DELIVERY).await;
    let receiver = Receiver::start().await;
    let webhook = |template: serde_json::Value, format: &str| {
        json!({"name": "t", "url": receiver.url(), "format": format, "template": template,
               "event_types": ["dr.host.disconnected"]})
    };

    let broken = app
        .post(
            "/api/v1/webhooks",
            webhook(
                json!({"body": "{\n  \"a\": {{ title }},\n  {% if x %}\n}"}),
                "template",
            ),
        )
        .await;
    assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&broken), ["template.body"]);
    assert!(broken.text.contains("line "), "{}", broken.text);

    let missing = app
        .post(
            "/api/v1/webhooks",
            webhook(serde_json::Value::Null, "template"),
        )
        .await;
    assert_eq!(error_fields(&missing), ["template"]);
    let misplaced = app
        .post("/api/v1/webhooks", webhook(json!({"body": "{}"}), "json"))
        .await;
    assert_eq!(error_fields(&misplaced), ["template"]);
    let bad_zone = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "z", "url": receiver.url(), "time_zone": "Mars/Olympus", "event_types": ["dr.user.login"]}),
        )
        .await;
    assert_eq!(error_fields(&bad_zone), ["time_zone"]);

    // Compiles, but would run for ever: stopped, reported, nothing sent.
    let runaway =
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}";
    let started = std::time::Instant::now();
    let test = app
        .post(
            "/api/v1/webhooks/test",
            webhook(json!({"body": runaway}), "template"),
        )
        .await;
    assert_eq!(test.status, StatusCode::OK, "{}", test.text);
    assert_eq!(test.body["ok"], false);
    assert!(
        test.body["error"]
            .as_str()
            .unwrap()
            .contains("the template failed"),
        "{}",
        test.text
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped quickly: {:?}",
        started.elapsed()
    );

    // Too much output is refused as well.
    let huge = r#"{% for i in range(400) %}{{ "x" * 1000 }}{% endfor %}"#;
    let test = app
        .post(
            "/api/v1/webhooks/test",
            webhook(json!({"body": huge}), "template"),
        )
        .await;
    assert!(
        test.body["error"].as_str().unwrap().contains("bytes"),
        "{}",
        test.text
    );
    assert_eq!(receiver.count(), 0);
    app.stop().await;
}
