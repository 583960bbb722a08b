//! `hookcast token create|list|revoke` against a running server.

mod common;

use std::process::Command;

use common::process::{BIN, Server};
use serde_json::Value;

const TOKEN: &str = "cli-token-admin";

fn cli(server: &Server, token: &str, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(BIN)
        .args(args)
        .env("HOOKCAST_SERVER", server.url())
        .env("HOOKCAST_TOKEN", token)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_token_made_on_the_command_line_publishes_until_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[("HOOKCAST_ADMIN_TOKEN", TOKEN)]);

    let (ok, stdout, stderr) = cli(
        &server,
        TOKEN,
        &[
            "token",
            "create",
            "monitoring",
            "--scope",
            "publish",
            "--json",
        ],
    );
    assert!(ok, "{stderr}");
    let made: Value = serde_json::from_str(&stdout).unwrap();
    let token = made["token"].as_str().unwrap().to_string();
    assert_eq!(made["scopes"], serde_json::json!(["publish"]));

    let emit = [
        "emit",
        "dr.host.disconnected",
        "--source",
        "h1",
        "--result",
        "failure",
    ];
    let (ok, _, stderr) = cli(&server, &token, &emit);
    assert!(ok, "publishing with the new token: {stderr}");
    let (ok, _, stderr) = cli(&server, &token, &["webhook", "list"]);
    assert!(!ok, "a publish token cannot read webhooks");
    assert!(stderr.contains("`read`"), "{stderr}");

    let (ok, table, stderr) = cli(&server, TOKEN, &["token", "list"]);
    assert!(ok, "{stderr}");
    assert!(
        table.contains("monitoring") && table.contains("active"),
        "{table}"
    );
    assert!(
        !table.contains(&token),
        "the list never shows a token: {table}"
    );

    let (ok, stdout, stderr) = cli(&server, TOKEN, &["token", "revoke", "monitoring"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("Revoked"), "{stdout}");
    let (ok, _, stderr) = cli(&server, &token, &emit);
    assert!(!ok, "a revoked token is refused");
    assert!(
        stderr.contains("401") || stderr.contains("Unauthorized"),
        "{stderr}"
    );
    let (_, table, _) = cli(&server, TOKEN, &["token", "list"]);
    assert!(table.contains("revoked"), "{table}");
    drop(server);
}
