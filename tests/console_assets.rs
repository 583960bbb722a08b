//! The console's files are served by the binary with a strict policy, and the
//! statistics behind its charts add up.

mod common;

use common::receiver::{Receiver, Reply};
use common::{LOCAL_DELIVERY, TestApp};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_console_is_served_with_a_strict_content_security_policy() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let index = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    let csp = index.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(index.headers()["x-content-type-options"], "nosniff");
    let html = index.text().await.unwrap();
    assert!(
        html.contains("/assets/app.js") && !html.contains("<script>"),
        "no inline script"
    );

    // Every module the app imports is served, as JavaScript.
    let mut pending = vec!["app.js".to_string()];
    let mut seen = std::collections::HashSet::new();
    while let Some(file) = pending.pop() {
        if !seen.insert(file.clone()) {
            continue;
        }
        let response = app
            .client
            .get(app.url(&format!("/assets/{file}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{file}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/javascript")
        );
        let source = response.text().await.unwrap();
        for line in source.lines().filter(|l| l.starts_with("import ")) {
            let target = line.rsplit("from '").next().unwrap().trim_end_matches("';");
            pending.push(target.trim_start_matches("./").to_string());
        }
    }
    assert!(seen.len() >= 9, "{seen:?}");
    let css = app
        .client
        .get(app.url("/assets/console.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    let missing = app
        .client
        .get(app.url("/assets/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn health_statistics_count_attempts_per_webhook_and_minute() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(dir.path(), LOCAL_DELIVERY).await;
    let receiver = Receiver::start_scripted(vec![Reply::status(500)], None).await;
    let created = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "w", "url": receiver.url(), "event_types": ["dr.host.disconnected"]}),
        )
        .await;
    let id = created.body["id"].as_str().unwrap();
    for n in 0..3 {
        app.post(
            "/api/v1/events",
            json!({"type": "dr.host.disconnected", "source": format!("h{n}"), "result": "failure"}),
        )
        .await;
    }
    receiver
        .wait_for(4, std::time::Duration::from_secs(10))
        .await; // one 500, retried
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let stats = app.get("/api/v1/stats/webhooks").await;
    let mine = &stats.body["items"][0];
    assert_eq!(mine["webhook_id"], id);
    assert_eq!(mine["attempts"], 4);
    assert_eq!(mine["delivered"], 3);
    assert_eq!(mine["success_rate"], 0.75);
    assert!(mine["median_latency_ms"].is_u64());

    let minutes = app.get("/api/v1/stats/attempts-per-minute?minutes=5").await;
    let buckets = minutes.body["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 5);
    let delivered: u64 = buckets
        .iter()
        .map(|b| b["delivered"].as_u64().unwrap())
        .sum();
    let failed: u64 = buckets.iter().map(|b| b["failed"].as_u64().unwrap()).sum();
    assert_eq!((delivered, failed), (3, 1));
    let bad = app.get("/api/v1/stats/attempts-per-minute?minutes=0").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let info = app.get("/api/v1/info").await;
    assert_eq!(info.body["time_zone"], "UTC+08:00");
    assert_eq!(info.body["time_zone_offset_minutes"], 480);
    app.stop().await;
}
