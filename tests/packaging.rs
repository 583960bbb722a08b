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

/// The unit passes `systemd-analyze verify` (systemd's own checker), and the command
/// and environment it gives start a server that answers.
#[test]
fn the_systemd_unit_verifies_and_its_command_serves() {
    let dir = tempfile::tempdir().unwrap();
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/hookcast.service"
    ))
    .unwrap();
    let config = dir.path().join("hookcast.toml");
    std::fs::write(
        &config,
        print_default().replace("listen = \"127.0.0.1:8080\"", "listen = \"127.0.0.1:0\""),
    )
    .unwrap();
    let state = dir.path().join("state");
    // Installed paths become this test's: the binary, the settings, the state.
    let local = unit
        .replace("/usr/local/bin/hookcast", BIN)
        .replace("/etc/hookcast/hookcast.toml", config.to_str().unwrap())
        .replace("/var/lib/hookcast", state.to_str().unwrap());
    let unit_file = dir.path().join("hookcast.service");
    std::fs::write(&unit_file, &local).unwrap();
    let verified = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit_file)
        .output()
        .expect("systemd-analyze (package systemd) is needed to check the unit");
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );

    let value_of = |key: &str| -> Vec<String> {
        local
            .lines()
            .filter_map(|line| line.strip_prefix(&format!("{key}=")))
            .map(str::to_string)
            .collect()
    };
    let exec = value_of("ExecStart");
    let mut words = exec[0].split_whitespace();
    let mut command = Command::new(words.next().unwrap());
    command.args(words).env("HOOKCAST_LOG", "info");
    for name in std::env::vars().map(|(name, _)| name) {
        if name.starts_with("HOOKCAST_") && name != "HOOKCAST_LOG" {
            command.env_remove(name);
        }
    }
    for assignment in value_of("Environment") {
        let (name, value) = assignment.split_once('=').unwrap();
        command.env(name, value);
    }
    std::fs::create_dir_all(&state).unwrap(); // StateDirectory= makes it
    let server = Server::spawn(command);
    hookcast::init_tls();
    let ready = reqwest::blocking::get(format!("{}/readyz", server.url())).unwrap();
    assert_eq!(ready.status(), 200);
    assert!(
        state.join("hookcast.db").exists(),
        "the state directory holds the data"
    );
    server.terminate();
}

/// The Dockerfile is not built by the tests (that needs a Docker daemon and base
/// images from a registry); what can drift is checked here: the build stage copies
/// every file `cargo build` reads — the manifest and lock file, the sources, every
/// file the sources embed, and every bench target the manifest declares.
#[test]
fn the_dockerfile_copies_everything_the_build_reads() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .canonicalize()
        .unwrap();
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    let copied: Vec<std::path::PathBuf> = dockerfile
        .lines()
        .filter(|line| line.starts_with("COPY ") && !line.contains("--from"))
        .flat_map(|line| {
            let words: Vec<&str> = line.split_whitespace().skip(1).collect();
            words[..words.len() - 1]
                .iter()
                .map(|source| root.join(source))
                .collect::<Vec<_>>()
        })
        .collect();
    let is_copied = |path: &std::path::Path| copied.iter().any(|c| path.starts_with(c));
    for needed in ["Cargo.toml", "Cargo.lock", "src"] {
        assert!(is_copied(&root.join(needed)), "{needed} is not copied");
    }
    let manifest: toml::Table = std::fs::read_to_string(root.join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    for bench in manifest["bench"].as_array().unwrap() {
        let name = bench["name"].as_str().unwrap();
        let file = root.join(format!("benches/{name}.rs"));
        assert!(file.exists() && is_copied(&file), "bench {name}");
    }
    let mut embedded = 0;
    let mut pending = vec![root.join("src")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for part in text.split("include_str!(\"").skip(1) {
                let relative = part.split('"').next().unwrap();
                let file = path.parent().unwrap().join(relative);
                assert!(
                    file.exists(),
                    "{} embeds a missing {relative}",
                    path.display()
                );
                let file = file.canonicalize().unwrap();
                assert!(
                    is_copied(&file),
                    "{} is embedded but not copied",
                    file.display()
                );
                embedded += 1;
            }
        }
    }
    assert!(
        embedded >= 11,
        "the migrations are embedded ({embedded} found)"
    );
}
