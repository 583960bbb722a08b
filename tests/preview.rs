//! Preview: the exact request a webhook would send, without sending or storing it.

mod common;

use common::receiver::Receiver;
use common::{LOCAL_DELIVERY, TestApp, error_fields};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn preview_shows_the_exact_request_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(dir.path(), LOCAL_DELIVERY).await;
    let receiver = Receiver::start().await;
    let url = format!(
        "http://{}/robot/send?access_token=tok-secret",
        receiver.address
    );
    let created = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "ding", "url": url, "format": "dingtalk", "language": "zh-CN",
                   "auth": {"type": "dingtalk_sign", "secret": "SECabc123"},
                   "event_types": ["dr.host.recovery_timeout"]}),
        )
        .await;
    let id = created.body["id"].as_str().unwrap();

    let preview = app
        .post("/api/v1/webhooks/preview", json!({"webhook_id": id}))
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    assert_eq!(preview.body["method"], "POST");
    let shown_url = preview.body["url"].as_str().unwrap();
    assert!(shown_url.contains("access_token=********"), "{shown_url}");
    assert!(
        shown_url.contains("&timestamp=") && shown_url.contains("&sign="),
        "{shown_url}"
    );
    assert!(!preview.text.contains("tok-secret") && !preview.text.contains("SECabc123"));
    assert_eq!(preview.body["body"]["msgtype"], "markdown");
    assert_eq!(preview.body["body"]["markdown"]["title"], "主机恢复超时");

    // An unsaved webhook and a chosen event.
    let unsaved = app
        .post(
            "/api/v1/webhooks/preview",
            json!({"webhook": {"name": "draft", "url": "https://example.com/hook", "language": "en-US",
                               "event_types": ["dr.host.disconnected"]},
                   "event": {"type": "dr.host.disconnected", "source": "db-02", "result": "failure"}}),
        )
        .await;
    assert_eq!(unsaved.status, StatusCode::OK, "{}", unsaved.text);
    let body = &unsaved.body["body"];
    assert_eq!(body["type"], "dr.host.disconnected");
    assert_eq!(body["data"]["source"], "db-02");
    assert_eq!(
        body["data"]["webhook"],
        json!({"id": null, "name": "draft"})
    );
    let headers = unsaved.body["headers"].as_array().unwrap();
    assert!(headers.iter().any(|h| h[0] == "webhook-id"));

    let bad = app
        .post(
            "/api/v1/webhooks/preview",
            json!({"webhook_id": id, "event": {"type": "dr.host.disconnected", "result": "failure"}}),
        )
        .await;
    assert_eq!(error_fields(&bad), ["event.source"]);
    let neither = app.post("/api/v1/webhooks/preview", json!({})).await;
    assert_eq!(neither.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Nothing was sent or stored.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(receiver.count(), 0);
    assert_eq!(app.get("/api/v1/deliveries").await.body["items"], json!([]));
    assert_eq!(app.get("/api/v1/events").await.body["items"], json!([]));
    app.stop().await;
}
