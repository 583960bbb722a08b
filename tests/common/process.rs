//! The real `hookcast` binary as a child process, for tests of start-up, signals and
//! crashes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_hookcast");

/// A running `hookcast serve` with everything it printed.
pub struct Server {
    child: Child,
    output: Arc<Mutex<String>>,
    pub address: String,
}

impl Server {
    /// Starts `hookcast serve` on `data_dir` with extra environment settings and waits
    /// until it listens.
    pub fn start(data_dir: &Path, settings: &[(&str, &str)]) -> Server {
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .env("HOOKCAST_LISTEN", "127.0.0.1:0")
            .env("HOOKCAST_DATA_DIR", data_dir)
            .env("HOOKCAST_LOG", "trace")
            .env_remove("HOOKCAST_ADMIN_TOKEN");
        for (name, value) in settings {
            command.env(name, value);
        }
        Server::spawn(command)
    }

    /// Runs `command` (a `hookcast serve …`) and waits until it listens.
    pub fn spawn(mut command: Command) -> Server {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut all = output.lock().unwrap();
                    all.push_str(&line);
                    all.push('\n');
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let address = loop {
            let text = output.lock().unwrap().clone();
            if let Some(address) = serving_address(&text) {
                break address;
            }
            assert!(Instant::now() < deadline, "server did not start:\n{text}");
            std::thread::sleep(Duration::from_millis(20));
        };
        Server {
            child,
            output,
            address,
        }
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// SIGTERM, then wait (bounded) for a clean exit.
    pub fn terminate(mut self) -> String {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "exit status {status}");
                break;
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100)); // let the readers drain
        self.output()
    }
}

impl Server {
    /// SIGKILL: no shutdown code runs, as in a crash.
    pub fn kill9(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.output()
    }
}

/// A test that fails before stopping its server must not leave the process running.
impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The address from the "hookcast is serving" line, in text or JSON logs.
fn serving_address(output: &str) -> Option<String> {
    let line = output
        .lines()
        .find(|line| line.contains("hookcast is serving"))?;
    if let Some(rest) = line.split("address=").nth(1) {
        return rest.split_whitespace().next().map(str::to_string);
    }
    let json: serde_json::Value = serde_json::from_str(line).ok()?;
    json["address"].as_str().map(str::to_string)
}
