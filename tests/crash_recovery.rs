//! kill -9 with deliveries pending: after a restart every accepted event is delivered.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use common::process::Server;
use common::receiver::{Receiver, Reply};
use serde_json::{Value, json};

const TOKEN: &str = "crash-test-token";
const EVENTS: usize = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_accepted_event_is_delivered_after_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    // A receiver slow enough that most deliveries are still pending at the kill.
    let mut slow = Reply::status(200);
    slow.delay = Duration::from_millis(20);
    let receiver = Receiver::start_scripted(vec![], Some(slow)).await;
    let settings = [
        ("HOOKCAST_ADMIN_TOKEN", TOKEN),
        ("HOOKCAST_ALLOWED_CIDRS", "127.0.0.0/8"),
        ("HOOKCAST_MAX_IN_FLIGHT", "4"),
        ("HOOKCAST_LOG", "warn,hookcast::server=info"),
    ];
    let server = Server::start(&data_dir, &settings);
    hookcast::init_tls();
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{}/api/v1/webhooks", server.url()))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "crash", "url": receiver.url(), "event_types": ["dr.host.disconnected"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    let mut accepted = HashSet::new();
    for batch in 0..EVENTS / 50 {
        let events: Vec<Value> = (0..50)
            .map(|n| json!({"type": "dr.host.disconnected", "source": format!("host-{batch}-{n}"), "result": "failure"}))
            .collect();
        let reply: Value = client
            .post(format!("{}/api/v1/events/batch", server.url()))
            .bearer_auth(TOKEN)
            .json(&json!({ "events": events }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for item in reply["items"].as_array().unwrap() {
            accepted.insert(item["id"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(accepted.len(), EVENTS);

    receiver.wait_for(20, Duration::from_secs(20)).await;
    server.kill9();
    let before_restart = receiver.count();
    assert!(
        before_restart < EVENTS,
        "the kill must leave work pending (delivered {before_restart})"
    );

    let server = Server::start(&data_dir, &settings);
    let deadline = Instant::now() + Duration::from_secs(60);
    let (distinct, total) = loop {
        let received = receiver.received();
        let mut per_event: HashMap<String, usize> = HashMap::new();
        for request in &received {
            *per_event
                .entry(
                    request.json()["data"]["event_id"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                )
                .or_default() += 1;
        }
        if per_event.len() >= EVENTS || Instant::now() > deadline {
            break (per_event, received.len());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let delivered: HashSet<String> = distinct.keys().cloned().collect();
    assert_eq!(delivered, accepted, "every accepted event is delivered");
    let duplicates = total - distinct.len();
    // At-least-once: only attempts whose results were not yet committed may be
    // repeated: at most the 4 in flight, 4 queued for the recorder and 4 in the batch
    // being written.
    assert!(duplicates <= 12, "{duplicates} duplicates");
    println!(
        "delivered {EVENTS} events, {before_restart} before the kill, {duplicates} duplicates"
    );
    server.terminate();
}
