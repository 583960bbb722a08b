//! What an operator installs: the default settings file, the systemd unit.

mod common;

use std::process::Command;

use common::process::{BIN, Server};

fn print_default() -> String {
    let output = Command::new(BIN)
        .args(["config", "print-default"])
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

/// `hookcast config print-default`, fed back unchanged but for the port (the default
/// 8080 may be taken on a test machine), starts a server that answers.
#[test]
fn the_printed_default_settings_start_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let text = print_default();
    assert!(text.contains("listen = \"127.0.0.1:8080\"\n"), "{text}");
    let file = dir.path().join("hookcast.toml");
    std::fs::write(
        &file,
        text.replace("listen = \"127.0.0.1:8080\"", "listen = \"127.0.0.1:0\""),
    )
    .unwrap();

    let mut command = Command::new(BIN);
    command
        .args(["serve", "--config"])
        .arg(&file)
        // The default data directory is relative: ./hookcast-data in here.
        .current_dir(dir.path())
        .env("HOOKCAST_LOG", "info");
    for (name, _) in std::env::vars() {
        if name.starts_with("HOOKCAST_") && name != "HOOKCAST_LOG" {
            command.env_remove(name);
        }
    }
    let server = Server::spawn(command);
    hookcast::init_tls();
    let ready = reqwest::blocking::get(format!("{}/readyz", server.url())).unwrap();
    assert_eq!(ready.status(), 200);
    assert!(dir.path().join("hookcast-data/hookcast.db").exists());
    assert!(dir.path().join("hookcast-data/admin-token").exists());
    server.terminate();
}

#[test]
fn the_committed_example_settings_are_the_printed_defaults() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/hookcast.toml"
    ))
    .unwrap();
    assert!(
        committed == print_default(),
        "packaging/hookcast.toml is stale: run `cargo run -- config print-default > packaging/hookcast.toml`"
    );
}
