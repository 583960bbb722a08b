//! What operators watch: `/metrics`, `/readyz`, request ids, JSON logs.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::process::Server;
use common::receiver::Receiver;
use common::{LOCAL_DELIVERY, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Checks the text with promtool (Debian's `prometheus` package), the parser and
/// linter Prometheus itself uses. `.ci/run` installs it; without it this fails loudly.
fn promtool_accepts(text: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is needed: apt-get install prometheus");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool refused /metrics:\n{}{}\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The value of the sample `name` whose labels include every one of `labels`; 0 when
/// there is no such sample (a counter nobody touched yet).
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|line| {
            labels
                .iter()
                .all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|line| line.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum()
}

async fn metrics(app: &TestApp) -> String {
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    response.text().await.unwrap()
}

async fn wait_until(app: &TestApp, what: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = metrics(app).await;
        if check(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "{what} never showed:\n{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn metrics_parse_and_move_with_ingest_delivery_refusals_and_disabling() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(dir.path(), LOCAL_DELIVERY).await;
    let receiver = Receiver::start().await;
    let hook = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "ok", "url": receiver.url(), "event_types": ["dr.host.disconnected"]}),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text);
    let hook_id = hook.body["id"].as_str().unwrap().to_string();
    // 10.0.0.0/8 is not allowed here: the SSRF guard refuses each attempt.
    let internal = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "internal", "url": "http://10.1.2.3/x", "event_types": ["alarm.host.root_disk_usage"], "kind": "alarms"}),
        )
        .await;
    assert_eq!(internal.status, StatusCode::CREATED, "{}", internal.text);

    let before = metrics(&app).await;
    promtool_accepts(&before);
    assert_eq!(sample(&before, "hookcast_queue_depth", &[]), 0.0);
    assert_eq!(sample(&before, "hookcast_webhooks_disabled", &[]), 0.0);
    assert_eq!(
        sample(&before, "hookcast_attempt_duration_seconds_count", &[]),
        0.0
    );

    for n in 0..3 {
        let published = app
            .post(
                "/api/v1/events",
                json!({"type": "dr.host.disconnected", "source": format!("web-{n}"), "result": "failure"}),
            )
            .await;
        assert_eq!(published.status, StatusCode::ACCEPTED, "{}", published.text);
    }
    // A repeated idempotency key is not a new event.
    for _ in 0..2 {
        app.post(
            "/api/v1/events",
            json!({"type": "alarm.host.root_disk_usage", "source": "db-1", "status": "firing", "idempotency_key": "disk-1"}),
        )
        .await;
    }
    receiver.wait_for(3, Duration::from_secs(10)).await;

    let after = wait_until(&app, "three successes and a refusal", |text| {
        sample(
            text,
            "hookcast_deliveries_total",
            &[("webhook_id", &hook_id), ("outcome", "succeeded")],
        ) == 3.0
            && sample(text, "hookcast_ssrf_refusals_total", &[]) == 1.0
            // The results are recorded just after they are counted.
            && sample(text, "hookcast_queue_depth", &[]) == 0.0
    })
    .await;
    promtool_accepts(&after);
    assert_eq!(
        sample(
            &after,
            "hookcast_events_ingested_total",
            &[("type", "dr.host.disconnected"), ("kind", "event")]
        ),
        3.0
    );
    assert_eq!(
        sample(
            &after,
            "hookcast_events_ingested_total",
            &[("type", "alarm.host.root_disk_usage"), ("kind", "alarm")]
        ),
        1.0
    );
    assert_eq!(
        sample(
            &after,
            "hookcast_deliveries_total",
            &[("outcome", "failed")]
        ),
        1.0,
        "the refused delivery fails at once"
    );
    assert_eq!(
        sample(&after, "hookcast_attempt_duration_seconds_count", &[]),
        4.0
    );

    // Disabling shows in the gauge.
    let disabled = app
        .post(&format!("/api/v1/webhooks/{hook_id}/disable"), json!({}))
        .await;
    assert_eq!(disabled.status, StatusCode::OK);
    let text = metrics(&app).await;
    assert_eq!(sample(&text, "hookcast_webhooks_disabled", &[]), 1.0);

    app.stop().await;
}

#[tokio::test]
async fn queue_gauges_show_deliveries_nobody_has_sent() {
    // An API-only node stores deliveries and sends none: they wait, due.
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(dir.path(), &[("HOOKCAST_ROLE", "api")]).await;
    let hook = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "waiting", "url": "https://hooks.example.com/x", "event_types": ["dr.host.disconnected"]}),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text);
    for n in 0..2 {
        app.post(
            "/api/v1/events",
            json!({"type": "dr.host.disconnected", "source": format!("web-{n}"), "result": "failure"}),
        )
        .await;
    }
    let text = metrics(&app).await;
    assert_eq!(sample(&text, "hookcast_queue_depth", &[]), 2.0, "{text}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let text = metrics(&app).await;
    assert!(
        sample(&text, "hookcast_queue_oldest_due_age_seconds", &[]) >= 1.0,
        "{text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_fan_out_wider_than_the_slots_is_handed_over_as_it_is_stored() {
    // Two slots, one per webhook, and four rounds of them (the default 15 s deadline
    // in a 70 s lease): room for eight deliveries held, two of them in flight.
    let dir = tempfile::tempdir().unwrap();
    let mut settings = LOCAL_DELIVERY.to_vec();
    settings.extend([
        ("HOOKCAST_MAX_IN_FLIGHT", "2"),
        ("HOOKCAST_MAX_IN_FLIGHT_PER_WEBHOOK", "1"),
    ]);
    let app = TestApp::start_with(dir.path(), &settings).await;
    let receiver = Receiver::start().await;
    for n in 0..10 {
        let hook = app
            .post(
                "/api/v1/webhooks",
                json!({"name": format!("fan-{n}"), "url": receiver.url(), "event_types": ["dr.host.disconnected"]}),
            )
            .await;
        assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text);
    }
    let published = app
        .post(
            "/api/v1/events",
            json!({"type": "dr.host.disconnected", "source": "web-1", "result": "failure"}),
        )
        .await;
    assert_eq!(published.status, StatusCode::ACCEPTED, "{}", published.text);
    receiver.wait_for(10, Duration::from_secs(10)).await;
    let text = wait_until(&app, "ten deliveries taken on", |text| {
        sample(text, "hookcast_deliveries_taken_total", &[]) == 10.0
    })
    .await;
    // Two start at once and six wait in memory for a slot; the two beyond the room
    // are stored due and claimed from the queue.
    let taken = |via| sample(&text, "hookcast_deliveries_taken_total", &[("via", via)]);
    assert_eq!(taken("ingest"), 8.0, "{text}");
    assert_eq!(taken("claim"), 2.0, "{text}");
    app.stop().await;
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_keeps_a_plain_one_from_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let mut seen = std::collections::HashSet::new();
    for path in ["/healthz", "/api/v1/webhooks", "/", "/api/v1/nothing-here"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(id.len(), 26, "{path}: a ULID, not {id}");
        assert!(seen.insert(id), "ids are not reused");
    }
    let kept = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "lb-7f3a.2_x")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "lb-7f3a.2_x");
    let replaced = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "x\"}{\"forged\":1")
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.headers()["x-request-id"].len(), 26);
    app.stop().await;
}

#[tokio::test]
async fn readiness_needs_the_database_and_its_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);

    // The newest migration is taken off the books, as when a node meets a database
    // that was never migrated this far.
    let url = format!("sqlite://{}", dir.path().join("hookcast.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let unready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(unready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = unready.json().await.unwrap();
    assert_eq!(body["reason"], "database migrations not applied");
    let alive = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(alive.status(), StatusCode::OK);
    pool.close().await;
    app.stop().await;
}

/// With `log_format = "json"` every line is one JSON object; a request's lines name
/// its request id, and each attempt names its event, delivery and webhook.
#[test]
fn json_logs_name_the_request_and_each_attempt() {
    hookcast::init_tls();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let receiver = runtime.block_on(Receiver::start());
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("HOOKCAST_LOG_FORMAT", "json"),
            ("HOOKCAST_LOG", "info"),
            ("HOOKCAST_ADMIN_TOKEN", "json-logs-token"),
            ("HOOKCAST_ALLOWED_CIDRS", "127.0.0.0/8"),
        ],
    );
    let client = reqwest::blocking::Client::new();
    let created: Value = client
        .post(format!("{}/api/v1/webhooks", server.url()))
        .bearer_auth("json-logs-token")
        .header("x-request-id", "create-hook-1")
        .json(&json!({"name": "j", "url": receiver.url(), "event_types": ["dr.host.disconnected"]}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let accepted: Value = client
        .post(format!("{}/api/v1/events", server.url()))
        .bearer_auth("json-logs-token")
        .json(&json!({"type": "dr.host.disconnected", "source": "web-1", "result": "failure"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    runtime.block_on(receiver.wait_for(1, Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(300)); // the attempt's line follows the receipt
    let output = server.terminate();

    let lines: Vec<Value> = output
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(lines.len() >= 4, "{output}");
    for line in output.lines() {
        // The token banner goes to stdout as text by design; every log line is JSON.
        if line.contains("INFO") || line.contains("WARN") || line.contains("ERROR") {
            assert!(line.starts_with('{'), "not JSON: {line}");
        }
    }
    let request_line = lines
        .iter()
        .find(|l| l["span"]["request_id"] == "create-hook-1")
        .unwrap_or_else(|| panic!("no line names the request id:\n{output}"));
    assert_eq!(request_line["span"]["method"], "POST");
    let attempt = lines
        .iter()
        .find(|l| l["message"] == "attempt finished")
        .unwrap_or_else(|| panic!("no attempt line:\n{output}"));
    assert_eq!(attempt["event_id"], accepted["id"]);
    assert_eq!(attempt["webhook_id"], created["id"]);
    assert!(
        attempt["delivery_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("msg_")),
        "{attempt}"
    );
    assert!(
        !output.contains("json-logs-token"),
        "the token is never logged"
    );
}
