//! PostgreSQL stopped for 10 s mid-run and started again: /readyz and ingest answer
//! 503 meanwhile, then the node recovers by itself and nothing acknowledged is lost.
//!
//! This test stops the machine's PostgreSQL cluster, so it lives in a test binary of
//! its own (cargo runs test binaries one after another) and restarts the cluster even
//! if it fails.

mod common;

use std::collections::HashSet;
use std::process::Command;
use std::time::{Duration, Instant};

use common::postgres::TestDatabase;
use common::process::Server;
use common::receiver::Receiver;
use serde_json::{Value, json};

const TOKEN: &str = "outage-token";

fn cluster_version() -> String {
    let listed = std::fs::read_dir("/etc/postgresql").expect("a Debian PostgreSQL cluster");
    listed
        .flatten()
        .next()
        .unwrap()
        .file_name()
        .to_string_lossy()
        .into_owned()
}

fn cluster(action: &str) {
    let status = Command::new("pg_ctlcluster")
        .args([
            "--skip-systemctl-redirect",
            &cluster_version(),
            "main",
            action,
            "-m",
            "fast",
        ])
        .status()
        .expect("pg_ctlcluster runs");
    assert!(status.success(), "pg_ctlcluster {action} failed");
}

/// Starts the cluster again whatever happens to the test.
struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        let _ = Command::new("pg_ctlcluster")
            .args([
                "--skip-systemctl-redirect",
                &cluster_version(),
                "main",
                "start",
            ])
            .status();
    }
}

async fn publish(
    client: &reqwest::Client,
    server: &Server,
    n: usize,
    tag: &str,
) -> reqwest::Response {
    let events: Vec<Value> = (0..n)
        .map(|i| json!({"type": "dr.host.disconnected", "source": format!("{tag}-{i}"), "result": "failure"}))
        .collect();
    client
        .post(format!("{}/api/v1/events/batch", server.url()))
        .bearer_auth(TOKEN)
        .json(&json!({ "events": events }))
        .timeout(Duration::from_secs(15))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_rides_out_a_database_restart() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    hookcast::init_tls();
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &dir.path().join("data"),
        &[
            ("HOOKCAST_DATABASE_URL", &database.url),
            ("HOOKCAST_ADMIN_TOKEN", TOKEN),
            ("HOOKCAST_ALLOWED_CIDRS", "127.0.0.0/8"),
            ("HOOKCAST_RETRY_SCHEDULE", "1s,1s,1s,1s,1s"),
            ("HOOKCAST_LOG", "warn,hookcast::server=info"),
        ],
    );
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{}/api/v1/webhooks", server.url()))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "w", "url": receiver.url(), "event_types": ["dr.host.disconnected"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    let mut accepted = HashSet::new();
    let before: Value = publish(&client, &server, 50, "before")
        .await
        .json()
        .await
        .unwrap();
    accepted.extend(
        before["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string()),
    );

    let _restart = Restart;
    cluster("stop");
    let down_at = Instant::now();
    let ready = client
        .get(format!("{}/readyz", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let started = Instant::now();
    let refused = publish(&client, &server, 5, "during").await;
    assert_eq!(refused.status(), 503, "ingest says the database is away");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "no hang: {:?}",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(10).saturating_sub(down_at.elapsed())).await;
    cluster("start");

    // Back by itself: ready again, ingest works, everything accepted arrives.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = client
            .get(format!("{}/readyz", server.url()))
            .send()
            .await
            .unwrap();
        if ready.status() == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not ready again after the restart"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("ready again {:?} after stopping", down_at.elapsed());
    let restarted = Instant::now();
    let after = publish(&client, &server, 50, "after").await;
    assert_eq!(after.status(), 202);
    let after: Value = after.json().await.unwrap();
    accepted.extend(
        after["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string()),
    );
    loop {
        let delivered: HashSet<String> = receiver
            .received()
            .iter()
            .map(|r| r.json()["data"]["event_id"].as_str().unwrap().to_string())
            .collect();
        if accepted.is_subset(&delivered) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} delivered",
            delivered.len(),
            accepted.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "all {} accepted events delivered {:?} after the restart",
        accepted.len(),
        restarted.elapsed()
    );
    server.terminate();
}
