//! The delivery commands of the CLI against a running server and a real receiver.

mod common;

use std::process::Command;
use std::time::Duration;

use common::process::{BIN, Server};
use common::receiver::{Receiver, Reply};
use serde_json::Value;

const TOKEN: &str = "cli-delivery-token";

fn cli(server: &Server, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(BIN)
        .args(args)
        .env("HOOKCAST_SERVER", server.url())
        .env("HOOKCAST_TOKEN", TOKEN)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn cli_json(server: &Server, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let (ok, stdout, stderr) = cli(server, &all);
    assert!(ok, "{args:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emit_test_and_read_the_delivery_log_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start_scripted(vec![Reply::status(503)], None).await;
    let server = Server::start(
        &dir.path().join("data"),
        &[
            ("HOOKCAST_ADMIN_TOKEN", TOKEN),
            ("HOOKCAST_ALLOWED_CIDRS", "127.0.0.0/8"),
            ("HOOKCAST_RETRY_SCHEDULE", "100ms"),
        ],
    );
    let url = receiver.url();
    cli_json(
        &server,
        &[
            "webhook",
            "add",
            "--name",
            "ops",
            "--url",
            &url,
            "--event-type",
            "dr.host.disconnected",
        ],
    );

    let accepted = cli_json(
        &server,
        &[
            "emit",
            "dr.host.disconnected",
            "--source",
            "web-01",
            "--result",
            "failure",
            "--attr",
            "ip=10.0.0.8",
            "--attr",
            "retries=3",
        ],
    );
    assert_eq!(accepted["deliveries"], 1);
    let got = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(
        got[1].json()["data"]["attributes"],
        serde_json::json!({"ip": "10.0.0.8", "retries": 3})
    );

    // The log shows the failed first attempt and the success.
    let mut delivery = Value::Null;
    for _ in 0..100 {
        let list = cli_json(&server, &["deliveries", "list", "--webhook", "ops"]);
        delivery = list["items"][0].clone();
        if delivery["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(delivery["status"], "succeeded");
    let id = delivery["id"].as_str().unwrap();
    let (ok, shown, _) = cli(&server, &["deliveries", "show", id]);
    assert!(
        ok && shown.contains("HTTP 503") && shown.contains("HTTP 200"),
        "{shown}"
    );
    let retried = cli_json(&server, &["deliveries", "retry", id]);
    assert_eq!(retried["status"], "pending");
    receiver.wait_for(3, Duration::from_secs(10)).await;

    let (ok, preview, stderr) = cli(&server, &["preview", "ops"]);
    assert!(ok, "{stderr}");
    assert!(preview.starts_with("POST http://127.0.0.1:"), "{preview}");
    assert!(
        preview.contains("\"type\": \"dr.host.disconnected\""),
        "{preview}"
    );

    let (ok, tested, _) = cli(&server, &["webhook", "test", "ops"]);
    assert!(ok && tested.starts_with("Delivered: HTTP 200"), "{tested}");
    let (ok, _, stderr) = cli(&server, &["emit", "dr.host.disconnected", "--source", "x"]);
    assert!(!ok && stderr.contains("result"), "{stderr}");
    server.terminate();
}
