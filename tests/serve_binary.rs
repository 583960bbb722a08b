//! The real `hookcast` binary: start-up, the generated admin token, logs that keep
//! secrets out, the CLI against a running server, graceful shutdown on SIGTERM.

mod common;

use std::path::Path;
use std::process::Command;

use common::process::{BIN, Server};

use serde_json::{Value, json};

const CLI_PASSWORD: &str = "cli-pw-Hq7Ww2Ee";
const API_TOKEN_SECRET: &str = "bearer-Nn4Mm8Bb";

/// Runs a CLI command against `server`, with the data directory as the only source
/// of the token.
fn cli(server: &Server, data_dir: &Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(BIN)
        .args(args)
        .env("HOOKCAST_SERVER", server.url())
        .env("HOOKCAST_DATA_DIR", data_dir)
        .env_remove("HOOKCAST_TOKEN")
        .env_remove("HOOKCAST_ADMIN_TOKEN")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn cli_json(server: &Server, data_dir: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let (ok, stdout, stderr) = cli(server, data_dir, &all);
    assert!(ok, "{args:?} failed: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

#[test]
fn serve_prints_a_generated_token_once_keeps_secrets_out_of_logs_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let server = Server::start(&data_dir, &[]);

    let token = std::fs::read_to_string(data_dir.join("admin-token")).unwrap();
    assert!(token.starts_with("hc_"));
    assert!(
        server.output().contains(&token),
        "the generated token is printed"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in ["admin-token", "secret.key"] {
            let mode = std::fs::metadata(data_dir.join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
    }

    // Secrets through the API, including in rejected requests.
    hookcast::init_tls();
    let client = reqwest::blocking::Client::new();
    let post = |body: Value| {
        client
            .post(format!("{}/api/v1/webhooks", server.url()))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .unwrap()
    };
    let created = post(
        json!({"name": "b", "url": "https://example.com/", "event_types": ["dr.user.login"],
                              "auth": {"type": "bearer", "token": API_TOKEN_SECRET}}),
    );
    assert_eq!(created.status(), 201);
    let rejected = post(
        json!({"name": "h", "url": "https://example.com/", "event_types": ["dr.user.login"],
                               "auth": {"type": "hmac", "secret": "whsec-not-valid-Rr5Tt6"}}),
    );
    assert_eq!(rejected.status(), 422);
    assert!(
        !rejected.text().unwrap().contains("Rr5Tt6"),
        "errors do not echo secrets"
    );

    let output = server.terminate();
    assert!(output.contains("SIGTERM received"), "{output}");
    assert!(output.contains("hookcast stopped"), "{output}");
    for secret in [API_TOKEN_SECRET, "Rr5Tt6"] {
        assert!(
            !output.contains(secret),
            "the log holds {secret}:\n{output}"
        );
    }

    // Second start: same token, not printed again, data still there.
    let server = Server::start(&data_dir, &[]);
    assert!(
        !server.output().contains(&token),
        "the token is printed only once"
    );
    assert_eq!(
        std::fs::read_to_string(data_dir.join("admin-token")).unwrap(),
        token
    );
    let list = cli_json(&server, &data_dir, &["webhook", "list"]);
    assert_eq!(list["items"][0]["name"], "b");
    server.terminate();
}

#[test]
fn the_cli_manages_webhooks_on_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let server = Server::start(&data_dir, &[]);

    let (ok, stdout, stderr) = cli(&server, &data_dir, &["webhook", "list"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("No webhooks yet"), "{stdout}");

    let created = cli_json(
        &server,
        &data_dir,
        &[
            "webhook",
            "add",
            "--name",
            "test",
            "--kind",
            "events",
            "--url",
            "https://open.feishu.cn/open-apis/bot/v2/hook/2f9c1d0e-aaaa-bbbb-cccc-0123456789ab",
            "--language",
            "zh-CN",
            "--disabled",
            "--event-type",
            "dr.host.recovery_timeout",
            "--auth",
            "basic",
            "--username",
            "ops",
            "--password",
            CLI_PASSWORD,
            "--header",
            "X-Env: prod",
            "--timeout",
            "20",
        ],
    );
    assert_eq!(created["name"], "test");
    assert_eq!(created["enabled"], false);
    assert_eq!(created["event_types"], json!(["dr.host.recovery_timeout"]));
    assert_eq!(
        created["auth"],
        json!({"type": "basic", "username": "ops", "password": "********"})
    );
    assert_eq!(created["headers"], json!({"X-Env": "prod"}));
    assert_eq!(created["timeout_seconds"], 20);

    // Tables for people; names work wherever ids do.
    let (ok, table, _) = cli(&server, &data_dir, &["webhook", "list"]);
    assert!(ok);
    assert!(
        table.contains("NAME") && table.contains("test") && table.contains("disabled (manual)"),
        "{table}"
    );
    let (ok, shown, _) = cli(&server, &data_dir, &["webhook", "show", "test"]);
    assert!(ok && shown.contains("dr.host.recovery_timeout"), "{shown}");
    assert!(!shown.contains(CLI_PASSWORD));

    let updated = cli_json(
        &server,
        &data_dir,
        &["webhook", "update", "test", "--language", "en-US"],
    );
    assert_eq!(updated["language"], "en-US");
    assert_eq!(updated["timeout_seconds"], 20, "fields not given stay");
    let enabled = cli_json(&server, &data_dir, &["webhook", "enable", "test"]);
    assert_eq!(enabled["enabled"], true);
    let disabled = cli_json(
        &server,
        &data_dir,
        &["webhook", "disable", created["id"].as_str().unwrap()],
    );
    assert_eq!(disabled["disabled_reason"], "manual");

    // Server-side validation reaches the user with the field name.
    let (ok, _, stderr) = cli(
        &server,
        &data_dir,
        &[
            "webhook",
            "add",
            "--name",
            "x",
            "--url",
            "ftp://nope",
            "--event-type",
            "dr.user.login",
        ],
    );
    assert!(!ok);
    assert!(stderr.contains("url:"), "{stderr}");

    let event_types = cli_json(&server, &data_dir, &["event-types", "--kind", "alarm"]);
    assert!(
        event_types["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["kind"] == "alarm")
    );
    let (ok, table, _) = cli(&server, &data_dir, &["event-types"]);
    assert!(ok && table.contains("dr.host.disconnected") && table.contains("主机失联"));

    let (ok, stdout, _) = cli(&server, &data_dir, &["webhook", "delete", "test"]);
    assert!(ok && stdout.contains("Deleted"), "{stdout}");
    let list = cli_json(&server, &data_dir, &["webhook", "list"]);
    assert_eq!(list["items"], json!([]));

    // A wrong token is refused.
    let output = Command::new(BIN)
        .args(["webhook", "list", "--token", "wrong"])
        .env("HOOKCAST_SERVER", server.url())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("401"));

    let log = server.terminate();
    assert!(!log.contains(CLI_PASSWORD), "the log holds the password");
}
