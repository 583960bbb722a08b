//! The delivery engine end to end: real receivers on 127.0.0.1, the real server,
//! SQLite on disk.

mod common;

use std::time::Duration;

use common::receiver::{Receiver, Reply};
use common::{LOCAL_DELIVERY, TestApp, error_fields};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

async fn add_webhook(app: &TestApp, body: Value) -> String {
    let reply = app.post("/api/v1/webhooks", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body["id"].as_str().unwrap().to_string()
}

fn webhook(name: &str, url: &str, types: &[&str]) -> Value {
    json!({"name": name, "url": url, "event_types": types, "language": "zh-CN"})
}

async fn publish(app: &TestApp, body: Value) -> Value {
    let reply = app.post("/api/v1/events", body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    reply.body
}

fn disconnected(source: &str) -> Value {
    json!({"type": "dr.host.disconnected", "source": source, "result": "failure"})
}

async fn deliveries_of(app: &TestApp, webhook_id: &str) -> Vec<Value> {
    let reply = app
        .get(&format!("/api/v1/deliveries?webhook_id={webhook_id}"))
        .await;
    reply.body["items"].as_array().unwrap().clone()
}

/// Waits until the webhook's newest delivery has `status`.
async fn wait_for_status(app: &TestApp, webhook_id: &str, status: &str) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let items = deliveries_of(app, webhook_id).await;
        if let Some(first) = items.first()
            && first["status"] == status
        {
            let id = first["id"].as_str().unwrap();
            return app.get(&format!("/api/v1/deliveries/{id}")).await.body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no `{status}` delivery: {items:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_event_reaches_every_enabled_subscribed_webhook_once() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(dir.path(), LOCAL_DELIVERY).await;
    let [a, b, disabled, other_type, alarms] = [
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    ];
    let a_id = add_webhook(&app, webhook("a", &a.url(), &["dr.host.disconnected"])).await;
    let mut b_body = webhook("b", &b.url(), &["dr.user.login", "dr.host.disconnected"]);
    b_body["language"] = json!("en-US");
    add_webhook(&app, b_body).await;
    let mut off = webhook("off", &disabled.url(), &["dr.host.disconnected"]);
    off["enabled"] = json!(false);
    add_webhook(&app, off).await;
    add_webhook(
        &app,
        webhook("other", &other_type.url(), &["dr.user.login"]),
    )
    .await;
    add_webhook(
        &app,
        json!({"name": "alarms", "kind": "alarms", "url": alarms.url(), "event_types": ["alarm.host.cpu_usage"]}),
    )
    .await;

    let accepted = publish(
        &app,
        json!({"type": "dr.host.disconnected", "source": "web-01", "result": "failure",
               "occurred_at": "2026-11-27T05:00:00Z", "attributes": {"ip": "10.0.0.8"}}),
    )
    .await;
    assert_eq!(accepted["deliveries"], 2);
    let event_id = accepted["id"].as_str().unwrap();
    assert!(event_id.starts_with("evt_"));

    let got_a = a.wait_for(1, WAIT).await;
    let got_b = b.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!((a.count(), b.count()), (1, 1), "exactly once each");
    assert_eq!(
        (disabled.count(), other_type.count(), alarms.count()),
        (0, 0, 0)
    );

    // The Standard Webhooks envelope, in the webhook's language and time zone.
    let body = got_a[0].json();
    assert_eq!(body["type"], "dr.host.disconnected");
    assert_eq!(body["timestamp"], "2026-11-27T05:00:00Z");
    let data = &body["data"];
    assert_eq!(data["event_id"], event_id);
    assert_eq!(data["kind"], "event");
    assert_eq!(data["severity"], "critical");
    assert_eq!(data["result"], "failure");
    assert_eq!(data["source"], "web-01");
    assert_eq!(data["language"], "zh-CN");
    assert_eq!(data["title"], "主机失联");
    assert_eq!(
        data["message"],
        "主机 web-01 于 2026-11-27 13:00:00 (UTC+08:00) 失联"
    );
    assert_eq!(data["attributes"], json!({"ip": "10.0.0.8"}));
    assert_eq!(data["webhook"], json!({"id": a_id, "name": "a"}));
    assert_eq!(got_b[0].json()["data"]["title"], "Host disconnected");

    let request = &got_a[0];
    assert_eq!(request.header("content-type").unwrap(), "application/json");
    assert!(
        request
            .header("user-agent")
            .unwrap()
            .starts_with("hookcast/")
    );
    assert!(request.header("webhook-id").unwrap().starts_with("msg_"));
    let sent_at: i64 = request
        .header("webhook-timestamp")
        .unwrap()
        .parse()
        .unwrap();
    assert!((chrono::Utc::now().timestamp() - sent_at).abs() < 60);
    assert_eq!(
        request.header("webhook-signature"),
        None,
        "no signature without hmac"
    );

    // The event and its deliveries are readable.
    let event = app.get(&format!("/api/v1/events/{event_id}")).await;
    assert_eq!(event.body["source"], "web-01");
    assert_eq!(event.body["result"], "failure");
    let log = app
        .get(&format!("/api/v1/deliveries?event_id={event_id}"))
        .await;
    assert_eq!(log.body["items"].as_array().unwrap().len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn hmac_verifies_independently_and_auth_headers_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(dir.path(), LOCAL_DELIVERY).await;
    let receivers = [
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    ];
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let auths = [
        json!({"type": "hmac", "secret": secret}),
        json!({"type": "basic", "username": "ops", "password": "p@ss:word"}),
        json!({"type": "bearer", "token": "tok-123"}),
        json!({"type": "api_key", "header": "X-Api-Key", "value": "key-456"}),
    ];
    for (index, (receiver, auth)) in receivers.iter().zip(auths).enumerate() {
        let mut body = webhook(&format!("w{index}"), &receiver.url(), &["dr.user.login"]);
        body["auth"] = auth;
        body["headers"] = json!({"X-Env": "prod"});
        add_webhook(&app, body).await;
    }
    publish(
        &app,
        json!({"type": "dr.user.login", "source": "admin", "result": "failure"}),
    )
    .await;

    let signed = &receivers[0].wait_for(1, WAIT).await[0];
    let verifier = standardwebhooks::Webhook::new(secret).unwrap();
    let mut headers = http::HeaderMap::new();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        headers.insert(name, signed.header(name).unwrap().parse().unwrap());
    }
    verifier
        .verify(&signed.body, &headers)
        .expect("the signature verifies");
    let mut tampered = signed.body.to_vec();
    tampered[0] = b' ';
    assert!(
        verifier.verify(&tampered, &headers).is_err(),
        "a changed body does not verify"
    );

    let basic = &receivers[1].wait_for(1, WAIT).await[0];
    assert_eq!(
        basic.header("authorization").unwrap(),
        "Basic b3BzOnBAc3M6d29yZA=="
    );
    let bearer = &receivers[2].wait_for(1, WAIT).await[0];
    assert_eq!(bearer.header("authorization").unwrap(), "Bearer tok-123");
    let api_key = &receivers[3].wait_for(1, WAIT).await[0];
    assert_eq!(api_key.header("x-api-key").unwrap(), "key-456");
    assert_eq!(api_key.header("authorization"), None);
    assert_eq!(api_key.header("x-env").unwrap(), "prod");

    // The attempt log keeps the secrets out.
    let list = app.get("/api/v1/deliveries").await;
    for item in list.body["items"].as_array().unwrap() {
        let detail = app
            .get(&format!(
                "/api/v1/deliveries/{}",
                item["id"].as_str().unwrap()
            ))
            .await;
        for secret in [
            "b3BzOnBAc3M6d29yZA==",
            "tok-123",
            "key-456",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ] {
            assert!(
                !detail.text.contains(secret),
                "the log shows {secret}: {}",
                detail.text
            );
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn failures_are_retried_with_one_webhook_id_until_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(dir.path(), LOCAL_DELIVERY).await;
    let receiver =
        Receiver::start_scripted(vec![Reply::status(500), Reply::status(500)], None).await;
    let id = add_webhook(
        &app,
        webhook("flaky", &receiver.url(), &["dr.host.disconnected"]),
    )
    .await;
    publish(&app, disconnected("web-01")).await;

    let got = receiver.wait_for(3, WAIT).await;
    let ids: Vec<String> = got
        .iter()
        .map(|r| r.header("webhook-id").unwrap())
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "one webhook-id across retries: {ids:?}"
    );
    let delivery = wait_for_status(&app, &id, "succeeded").await;
    assert_eq!(delivery["id"], ids[0].as_str());
    assert_eq!(delivery["attempt_count"], 3);
    let tries = delivery["attempts"].as_array().unwrap();
    assert_eq!(tries.len(), 3, "{delivery}");
    let statuses: Vec<u64> = tries
        .iter()
        .map(|t| t["response"]["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 500, 200]);
    assert_eq!(tries[0]["error"]["kind"], "http_status");
    assert_eq!(tries[2]["error"], Value::Null);
    // Retries wait for the schedule (100 ms, then 200 ms, ±20 %).
    assert!(got[1].at - got[0].at >= Duration::from_millis(75));
    assert!(got[2].at - got[1].at >= Duration::from_millis(150));
    sleep_then_assert_count(&receiver, 3).await;
    app.stop().await;
}

async fn sleep_then_assert_count(receiver: &Receiver, expected: usize) {
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.count(), expected);
}

#[tokio::test]
async fn permanent_errors_are_not_retried_and_410_disables_the_webhook() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(dir.path(), LOCAL_DELIVERY).await;
    let bad_request = Receiver::start_scripted(vec![], Some(Reply::status(400))).await;
    let gone = Receiver::start_scripted(vec![], Some(Reply::status(410))).await;
    let watcher = Receiver::start().await;
    let bad_id = add_webhook(
        &app,
        webhook("bad", &bad_request.url(), &["dr.host.disconnected"]),
    )
    .await;
    let gone_id = add_webhook(
        &app,
        webhook("gone", &gone.url(), &["dr.host.disconnected"]),
    )
    .await;
    add_webhook(
        &app,
        webhook("watcher", &watcher.url(), &["hookcast.webhook.disabled"]),
    )
    .await;
    publish(&app, disconnected("web-01")).await;

    let failed = wait_for_status(&app, &bad_id, "failed").await;
    assert_eq!(failed["attempt_count"], 1);
    assert_eq!(failed["last_error"], "the receiver answered HTTP 400");
    wait_for_status(&app, &gone_id, "failed").await;
    let gone_webhook = app.get(&format!("/api/v1/webhooks/{gone_id}")).await;
    assert_eq!(gone_webhook.body["enabled"], false);
    assert_eq!(gone_webhook.body["disabled_reason"], "gone");
    let bad_webhook = app.get(&format!("/api/v1/webhooks/{bad_id}")).await;
    assert_eq!(
        bad_webhook.body["enabled"], true,
        "one 400 does not disable"
    );

    // The disabling is announced to webhooks subscribed to it.
    let notice = watcher.wait_for(1, WAIT).await[0].json();
    assert_eq!(notice["type"], "hookcast.webhook.disabled");
    assert_eq!(notice["data"]["attributes"]["webhook_id"], gone_id.as_str());
    assert!(
        notice["data"]["message"].as_str().unwrap().contains("410"),
        "{notice}"
    );

    // The audit trail names hookcast as the one who disabled it, and why.
    let trail = app.get(&format!("/api/v1/audit?target_id={gone_id}")).await;
    let entry = &trail.body["items"][0];
    assert_eq!(entry["actor"], "hookcast", "{}", trail.text);
    assert_eq!(entry["action"], "webhook.disable");
    assert_eq!(entry["after"]["disabled_reason"], "gone");

    // A disabled webhook receives nothing more.
    publish(&app, disconnected("web-02")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!((bad_request.count(), gone.count()), (2, 1));
    app.stop().await;
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(dir.path(), LOCAL_DELIVERY).await;
    let mut slow_down = Reply::status(429);
    slow_down.headers.push(("retry-after", "1".into()));
    let receiver = Receiver::start_scripted(vec![slow_down], None).await;
    let id = add_webhook(
        &app,
        webhook("limited", &receiver.url(), &["dr.host.disconnected"]),
    )
    .await;
    publish(&app, disconnected("web-01")).await;
    let got = receiver.wait_for(2, WAIT).await;
    let gap = got[1].at - got[0].at;
    assert!(
        gap >= Duration::from_millis(950),
        "retried after {gap:?}, not after the 1 s asked for"
    );
    wait_for_status(&app, &id, "succeeded").await;
    app.stop().await;
}

#[tokio::test]
async fn a_webhook_failing_past_the_window_is_disabled_and_announced() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = LOCAL_DELIVERY.to_vec();
    settings.push(("HOOKCAST_DISABLE_AFTER", "150ms"));
    settings.push(("HOOKCAST_RETRY_SCHEDULE", "100ms,100ms,100ms,100ms"));
    let app = TestApp::start_with(dir.path(), &settings).await;
    let broken = Receiver::start_scripted(vec![], Some(Reply::status(503))).await;
    let watcher = Receiver::start().await;
    let id = add_webhook(
        &app,
        webhook("broken", &broken.url(), &["dr.host.disconnected"]),
    )
    .await;
    add_webhook(
        &app,
        webhook("watcher", &watcher.url(), &["hookcast.webhook.disabled"]),
    )
    .await;
    publish(&app, disconnected("web-01")).await;

    let notice = watcher.wait_for(1, WAIT).await[0].json();
    assert_eq!(notice["data"]["attributes"]["reason"], "failing");
    assert_eq!(notice["data"]["attributes"]["webhook_name"], "broken");
    let state = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(state.body["disabled_reason"], "failing");
    let tries = broken.count();
    assert!((2..=4).contains(&tries), "disabled after {tries} attempts");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(broken.count(), tries, "no attempts after disabling");

    // Enabling again resumes the parked delivery.
    app.post(&format!("/api/v1/webhooks/{id}/enable"), json!({}))
        .await;
    broken.wait_for(tries + 1, WAIT).await;
    app.stop().await;
}

#[tokio::test]
async fn a_slow_receiver_does_not_delay_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = LOCAL_DELIVERY.to_vec();
    settings.push(("HOOKCAST_MAX_IN_FLIGHT_PER_WEBHOOK", "4"));
    let app = TestApp::start_with(dir.path(), &settings).await;
    let mut sleepy = Reply::status(200);
    sleepy.delay = Duration::from_secs(10);
    let slow = Receiver::start_scripted(vec![], Some(sleepy)).await;
    let fast = Receiver::start().await;
    add_webhook(
        &app,
        webhook("slow", &slow.url(), &["dr.host.disconnected"]),
    )
    .await;
    add_webhook(
        &app,
        webhook("fast", &fast.url(), &["dr.host.disconnected"]),
    )
    .await;

    let started = std::time::Instant::now();
    for n in 0..20 {
        publish(&app, disconnected(&format!("web-{n}"))).await;
    }
    fast.wait_for(20, Duration::from_secs(1)).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        slow.count() <= 4,
        "the slow webhook holds at most its own slots"
    );
    // No graceful stop: it would wait for the sleeping receiver.
}

#[tokio::test]
async fn the_ssrf_guard_refuses_internal_targets_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await; // default policy: nothing internal allowed
    let receiver = Receiver::start().await;
    let port = receiver.address.port();
    let cases = [
        (
            "http://169.254.169.254/latest/meta-data/".to_string(),
            "169.254.169.254 is a link-local address",
        ),
        (
            format!("http://127.0.0.2:{port}/hook"),
            "127.0.0.2 is a loopback address",
        ),
        (
            format!("http://[::ffff:127.0.0.1]:{port}/hook"),
            "is a loopback address",
        ),
        (
            format!("http://localhost:{port}/hook"),
            "localhost resolves to 127.0.0.1, a loopback address",
        ),
        (
            "http://10.1.2.3/hook".to_string(),
            "10.1.2.3 is a private address",
        ),
        (
            format!("http://127.0.0.1:{port}/hook"),
            "127.0.0.1 is a loopback address",
        ),
    ];
    for (url, expected) in &cases {
        let reply = app
            .post(
                "/api/v1/webhooks/test",
                webhook("probe", url, &["dr.host.disconnected"]),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.body["ok"], false, "{url}");
        let error = reply.body["error"].as_str().unwrap();
        assert!(
            error.starts_with("blocked: ") && error.contains(expected),
            "{url}: {error}"
        );
    }
    assert_eq!(receiver.count(), 0, "nothing reached the receiver");

    // A saved webhook's refusal is an attempt with kind `blocked`, not retried.
    let id = add_webhook(
        &app,
        webhook("internal", &receiver.url(), &["dr.host.disconnected"]),
    )
    .await;
    publish(&app, disconnected("web-01")).await;
    let delivery = wait_for_status(&app, &id, "failed").await;
    assert_eq!(delivery["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(delivery["attempts"][0]["error"]["kind"], "blocked");
    app.stop().await;

    // Allowing 127.0.0.0/8 opens loopback, and nothing else.
    let app = TestApp::start_with(dir.path(), &[("HOOKCAST_ALLOWED_CIDRS", "127.0.0.0/8")]).await;
    let reply = app
        .post(
            "/api/v1/webhooks/test",
            webhook("probe", &receiver.url(), &["dr.host.disconnected"]),
        )
        .await;
    assert_eq!(reply.body["ok"], true, "{}", reply.text);
    for url in [
        "http://169.254.169.254/",
        "http://10.1.2.3/hook",
        "http://[::1]:9/",
    ] {
        let reply = app
            .post(
                "/api/v1/webhooks/test",
                webhook("probe", url, &["dr.host.disconnected"]),
            )
            .await;
        assert!(
            reply.body["error"]
                .as_str()
                .unwrap()
                .starts_with("blocked: "),
            "{url}: {}",
            reply.text
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn send_test_reaches_the_receiver_and_saves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(dir.path(), LOCAL_DELIVERY).await;
    let receiver = Receiver::start_scripted(
        vec![Reply {
            status: 200,
            headers: vec![],
            body: "thanks".into(),
            delay: Duration::ZERO,
        }],
        None,
    )
    .await;
    let form = webhook("draft", &receiver.url(), &["dr.host.recovery_timeout"]);
    let reply = app.post("/api/v1/webhooks/test", form).await;
    assert_eq!(reply.body["ok"], true, "{}", reply.text);
    assert_eq!(reply.body["status"], 200);
    assert_eq!(reply.body["response"], "thanks");
    assert!(reply.body["duration_ms"].is_u64());
    let got = receiver.wait_for(1, WAIT).await[0].json();
    assert_eq!(got["type"], "hookcast.test");
    assert!(
        got["data"]["message"]
            .as_str()
            .unwrap()
            .contains("测试消息"),
        "{got}"
    );
    assert_eq!(app.get("/api/v1/webhooks").await.body["items"], json!([]));
    assert_eq!(app.get("/api/v1/deliveries").await.body["items"], json!([]));
    assert_eq!(app.get("/api/v1/events").await.body["items"], json!([]));

    // A closed port: the error says so.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("http://127.0.0.1:{port}/hook");
    let reply = app
        .post(
            "/api/v1/webhooks/test",
            webhook("draft", &url, &["dr.host.disconnected"]),
        )
        .await;
    assert_eq!(reply.body["ok"], false);
    assert_eq!(
        reply.body["error"],
        format!("connection refused by 127.0.0.1:{port}")
    );

    // An invalid form is refused with field errors, not sent.
    let reply = app
        .post(
            "/api/v1/webhooks/test",
            json!({"name": "x", "url": "ftp://x"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&reply), ["url", "event_types"]);

    // "Send" on a saved webhook is recorded in its log.
    let id = add_webhook(
        &app,
        webhook("saved", &receiver.url(), &["dr.host.disconnected"]),
    )
    .await;
    let sent = app
        .post(&format!("/api/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(sent.body["ok"], true, "{}", sent.text);
    let log = deliveries_of(&app, &id).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "succeeded");
    assert_eq!(log[0]["id"], sent.body["delivery_id"]);
    app.stop().await;
}

#[tokio::test]
async fn idempotency_batches_and_manual_retry() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(dir.path(), LOCAL_DELIVERY).await;
    let receiver = Receiver::start_scripted(vec![Reply::status(400)], None).await;
    let id = add_webhook(
        &app,
        webhook("w", &receiver.url(), &["dr.host.disconnected"]),
    )
    .await;

    let mut keyed = disconnected("web-01");
    keyed["idempotency_key"] = json!("outage-42");
    let first = publish(&app, keyed.clone()).await;
    let again = publish(&app, keyed).await;
    assert_eq!(first["id"], again["id"]);
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["deliveries"], 1);
    let failed = wait_for_status(&app, &id, "failed").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.count(), 1, "the repeated key created nothing new");

    // Manual retry puts the failed delivery back; it then succeeds.
    let retried = app
        .post(
            &format!(
                "/api/v1/deliveries/{}/retry",
                failed["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.text);
    assert_eq!(retried.body["status"], "pending");
    wait_for_status(&app, &id, "succeeded").await;
    assert_eq!(receiver.count(), 2);

    // Batches: all or nothing, errors name the index.
    let bad = app
        .post(
            "/api/v1/events/batch",
            json!({"events": [disconnected("a"), {"type": "dr.host.disconnected", "result": "failure"}]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&bad), ["events[1].source"]);
    let events: Vec<Value> = (0..100)
        .map(|n| disconnected(&format!("host-{n}")))
        .collect();
    let batch = app
        .post("/api/v1/events/batch", json!({ "events": events }))
        .await;
    assert_eq!(batch.status, StatusCode::ACCEPTED, "{}", batch.text);
    assert_eq!(batch.body["items"].as_array().unwrap().len(), 100);
    receiver.wait_for(102, WAIT).await;
    let too_many: Vec<Value> = (0..1001).map(|n| disconnected(&format!("h{n}"))).collect();
    let refused = app
        .post("/api/v1/events/batch", json!({ "events": too_many }))
        .await;
    assert_eq!(error_fields(&refused), ["events"]);

    // Cursor pagination walks the log newest first without repeats.
    let mut seen = std::collections::HashSet::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .call(
                Method::GET,
                &format!("/api/v1/deliveries?webhook_id={id}&limit=30{cursor}"),
                None,
            )
            .await;
        for item in page.body["items"].as_array().unwrap() {
            assert!(seen.insert(item["id"].as_str().unwrap().to_string()));
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 101);
    app.stop().await;
}

#[tokio::test]
async fn replay_puts_failed_deliveries_of_a_window_back() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(dir.path(), LOCAL_DELIVERY).await;
    let receiver =
        Receiver::start_scripted(vec![Reply::status(400), Reply::status(400)], None).await;
    let id = add_webhook(
        &app,
        webhook("w", &receiver.url(), &["dr.host.disconnected"]),
    )
    .await;
    publish(&app, disconnected("a")).await;
    publish(&app, disconnected("b")).await;
    receiver.wait_for(2, WAIT).await;
    wait_for_count(&app, &id, "failed", 2).await;

    let later = |hours| (chrono::Utc::now() + chrono::Duration::hours(hours)).to_rfc3339();
    let none = app
        .post(
            &format!("/api/v1/webhooks/{id}/replay"),
            json!({"since": later(1), "until": later(2)}),
        )
        .await;
    assert_eq!(none.body["replayed"], 0, "{}", none.text);
    let backwards = app
        .post(
            &format!("/api/v1/webhooks/{id}/replay"),
            json!({"since": later(2), "until": later(1)}),
        )
        .await;
    assert_eq!(error_fields(&backwards), ["until"]);
    let bad = app
        .post(
            &format!("/api/v1/webhooks/{id}/replay"),
            json!({"since": "yesterday"}),
        )
        .await;
    assert_eq!(error_fields(&bad), ["since"]);

    let since = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let replay = app
        .post(
            &format!("/api/v1/webhooks/{id}/replay"),
            json!({"since": since}),
        )
        .await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.text);
    assert_eq!(replay.body["replayed"], 2);
    receiver.wait_for(4, WAIT).await;
    wait_for_count(&app, &id, "succeeded", 2).await;
    app.stop().await;
}

/// Waits until the webhook has `n` deliveries with `status`.
async fn wait_for_count(app: &TestApp, webhook_id: &str, status: &str, n: usize) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let reply = app
            .get(&format!(
                "/api/v1/deliveries?webhook_id={webhook_id}&status={status}"
            ))
            .await;
        if reply.body["items"].as_array().unwrap().len() >= n {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{}", reply.text);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
