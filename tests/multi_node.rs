//! Several `hookcast serve` processes on one PostgreSQL: the API on any node, delivery
//! shared, a node killed with SIGKILL mid-run, nothing lost.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use common::postgres::TestDatabase;
use common::process::Server;
use common::receiver::{Receiver, Reply};
use serde_json::{Value, json};

const TOKEN: &str = "multi-node-token";
/// Shared by every node: they must open each other's sealed secrets.
const SECRET_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const EVENTS: usize = 600;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_deliver_everything_when_one_is_killed() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    hookcast::init_tls();
    let mut slow = Reply::status(200);
    slow.delay = Duration::from_millis(10);
    let receiver = Receiver::start_scripted(vec![], Some(slow)).await;
    let dir = tempfile::tempdir().unwrap();
    let settings = |node: &str| -> Vec<(String, String)> {
        vec![
            ("HOOKCAST_DATABASE_URL".into(), database.url.clone()),
            ("HOOKCAST_ADMIN_TOKEN".into(), TOKEN.into()),
            ("HOOKCAST_SECRET_KEY".into(), SECRET_KEY.into()),
            ("HOOKCAST_ALLOWED_CIDRS".into(), "127.0.0.0/8".into()),
            ("HOOKCAST_MAX_IN_FLIGHT".into(), "4".into()),
            ("HOOKCAST_LOG".into(), "warn,hookcast::server=info".into()),
            (
                "HOOKCAST_DATA_DIR".into(),
                dir.path().join(node).display().to_string(),
            ),
        ]
    };
    let start = |node: &str| {
        let owned = settings(node);
        let pairs: Vec<(&str, &str)> = owned
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Server::start(&dir.path().join(node), &pairs)
    };
    let nodes = vec![start("a"), start("b"), start("c")];
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{}/api/v1/webhooks", nodes[0].url()))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "shared", "url": receiver.url(), "event_types": ["dr.host.disconnected"],
                      "auth": {"type": "bearer", "token": "t-1"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    // Post round-robin in batches of 20, killing node c a third of the way through.
    let mut accepted = HashSet::new();
    let mut nodes: Vec<Option<Server>> = nodes.into_iter().map(Some).collect();
    for batch in 0..EVENTS / 20 {
        if batch == EVENTS / 20 / 3 {
            nodes[2].take().unwrap().kill9();
        }
        let live: Vec<&Server> = nodes.iter().flatten().collect();
        let node = live[batch % live.len()];
        let events: Vec<Value> = (0..20)
            .map(|n| json!({"type": "dr.host.disconnected", "source": format!("h{batch}-{n}"), "result": "failure"}))
            .collect();
        let reply: Value = client
            .post(format!("{}/api/v1/events/batch", node.url()))
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

    // The killed node's claims expire (lease: 60 s attempt deadline + 10 s) and the
    // others take them over; everything arrives.
    let deadline = Instant::now() + Duration::from_secs(150);
    let (per_event, total) = loop {
        let received = receiver.received();
        let mut per_event: HashMap<String, usize> = HashMap::new();
        for request in &received {
            assert_eq!(
                request.header("authorization").as_deref(),
                Some("Bearer t-1")
            );
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
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let delivered: HashSet<String> = per_event.keys().cloned().collect();
    assert_eq!(delivered.len(), EVENTS, "every accepted event is delivered");
    assert_eq!(delivered, accepted);
    let duplicates = total - per_event.len();
    println!("{EVENTS} events over 3 nodes, one killed: {duplicates} duplicates");
    // Only the killed node's attempts whose results were not yet committed may be
    // repeated: at most its 4 in flight, 4 queued for its recorder and 4 in the batch
    // being written.
    assert!(duplicates <= 12, "{duplicates} duplicates");
    for node in nodes.into_iter().flatten() {
        node.terminate();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn api_and_worker_roles_split_the_work() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    hookcast::init_tls();
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();

    // `hookcast migrate` prepares the schema on its own.
    let migrated = std::process::Command::new(common::process::BIN)
        .arg("migrate")
        .env("HOOKCAST_DATABASE_URL", &database.url)
        .env("HOOKCAST_DATA_DIR", dir.path().join("migrate"))
        .env("HOOKCAST_SECRET_KEY", SECRET_KEY)
        .output()
        .unwrap();
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    assert!(String::from_utf8_lossy(&migrated.stdout).contains("up to date"));

    let start = |node: &str, role: &str| {
        Server::start(
            &dir.path().join(node),
            &[
                ("HOOKCAST_DATABASE_URL", &database.url),
                ("HOOKCAST_ADMIN_TOKEN", TOKEN),
                ("HOOKCAST_SECRET_KEY", SECRET_KEY),
                ("HOOKCAST_ALLOWED_CIDRS", "127.0.0.0/8"),
                ("HOOKCAST_ROLE", role),
                ("HOOKCAST_LOG", "warn,hookcast::server=info"),
            ],
        )
    };
    let api = start("api", "api");
    let worker = start("worker", "worker");
    let client = reqwest::Client::new();
    let post = |server: &Server, path: &str, body: Value| {
        client
            .post(format!("{}{path}", server.url()))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
    };
    let created = post(
        &api,
        "/api/v1/webhooks",
        json!({"name": "w", "url": receiver.url(), "event_types": ["dr.user.login"]}),
    )
    .await
    .unwrap();
    assert_eq!(created.status(), 201);
    let on_worker = client
        .get(format!("{}/api/v1/webhooks", worker.url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(on_worker.status(), 404, "a worker serves no API");
    let ready = client
        .get(format!("{}/readyz", worker.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);

    // The API node accepts, the worker delivers (woken through NOTIFY).
    let event = json!({"type": "dr.user.login", "source": "admin", "result": "failure"});
    assert_eq!(
        post(&api, "/api/v1/events", event.clone())
            .await
            .unwrap()
            .status(),
        202
    );
    receiver.wait_for(1, Duration::from_secs(10)).await;

    // Without a worker nothing is sent; a worker that starts later catches up.
    worker.terminate();
    assert_eq!(
        post(&api, "/api/v1/events", event.clone())
            .await
            .unwrap()
            .status(),
        202
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(receiver.count(), 1, "an api node does not deliver");
    let worker = start("worker", "worker");
    receiver.wait_for(2, Duration::from_secs(10)).await;
    worker.terminate();
    api.terminate();
}
