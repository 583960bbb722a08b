//! `hookcast keys rotate` while a server runs: secrets are sealed again with a new
//! key, the old key leaves the key file, and deliveries keep their credentials before,
//! during and after, and across a restart.

mod common;

use std::process::Command;
use std::time::Duration;

use base64::Engine;
use common::process::{BIN, Server};
use common::receiver::Receiver;
use serde_json::{Value, json};
use sqlx::Connection;

const TOKEN: &str = "rotation-admin";

async fn call(server: &Server, method: reqwest::Method, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .request(method, format!("{}{path}", server.url()))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}

async fn publish(server: &Server, source: &str) {
    call(
        server,
        reqwest::Method::POST,
        "/api/v1/events",
        json!({"type": "dr.host.disconnected", "source": source, "result": "failure"}),
    )
    .await;
}

async fn stored_sealed_value(data_dir: &std::path::Path) -> String {
    let url = format!("sqlite://{}", data_dir.join("hookcast.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query_scalar("SELECT auth_sealed FROM webhooks")
        .fetch_one(&mut db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_key_keeps_delivering_with_the_same_credentials() {
    hookcast::init_tls();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let settings = [
        ("HOOKCAST_ADMIN_TOKEN", TOKEN),
        ("HOOKCAST_ALLOWED_CIDRS", "127.0.0.0/8"),
    ];
    let server = Server::start(&data, &settings);
    let receiver = Receiver::start().await;
    call(
        &server,
        reqwest::Method::POST,
        "/api/v1/webhooks",
        json!({"name": "ops", "url": receiver.url(), "event_types": ["dr.host.disconnected"],
               "auth": {"type": "basic", "username": "hc", "password": "s3cret-pw"}}),
    )
    .await;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("hc:s3cret-pw")
    );
    publish(&server, "before").await;
    receiver.wait_for(1, Duration::from_secs(10)).await;

    let key_file = data.join("secret.key");
    let old_key = std::fs::read_to_string(&key_file).unwrap();
    let sealed_before = stored_sealed_value(&data).await;

    // Rotate while the server runs, publishing all along.
    let rotation = {
        let data = data.clone();
        std::thread::spawn(move || {
            Command::new(BIN)
                .args(["keys", "rotate"])
                .env("HOOKCAST_DATA_DIR", &data)
                .env_remove("HOOKCAST_SECRET_KEY")
                .output()
                .unwrap()
        })
    };
    let mut published = 1;
    while !rotation.is_finished() {
        publish(&server, &format!("during-{published}")).await;
        published += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let output = rotation.join().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("Sealed 1 stored secret(s) again"),
        "{stdout}"
    );
    assert!(stdout.contains("Removed 1 old key(s)"), "{stdout}");

    let new_key = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(new_key.trim(), old_key.trim());
    assert!(!new_key.contains(old_key.trim()), "the old key is gone");
    assert_eq!(new_key.lines().count(), 1);
    let sealed_after = stored_sealed_value(&data).await;
    assert_ne!(sealed_after, sealed_before);
    let new_id = stdout.split("again with key ").nth(1).unwrap()[..8].to_string();
    assert!(
        sealed_after.starts_with(&format!("v2.{new_id}.")),
        "{sealed_after}"
    );

    // The running server still delivers with the password, and after a restart too.
    publish(&server, "after").await;
    published += 1;
    receiver.wait_for(published, Duration::from_secs(10)).await;
    drop(server);
    let server = Server::start(&data, &settings);
    publish(&server, "restarted").await;
    let received = receiver
        .wait_for(published + 1, Duration::from_secs(10))
        .await;
    for request in &received {
        assert_eq!(request.headers["authorization"], expected.as_str());
    }
    drop(server);
}
