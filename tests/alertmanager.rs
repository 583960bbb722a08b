//! A real Prometheus evaluates alerting rules and sends them to a real Alertmanager
//! (Debian's `prometheus` and `prometheus-alertmanager`), which sends its webhook to
//! hookcast, which delivers to local receivers in each webhook's language and format.
//! `.ci/run` installs both; without them this test fails and says so.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::receiver::Receiver;
use common::{LOCAL_DELIVERY, TestApp};
use reqwest::StatusCode;
use serde_json::json;

/// A child process killed when the test ends, however it ends.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(program: &str, args: &[String], log: &Path) -> Process {
    let log = std::fs::File::create(log).unwrap();
    let child = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{program} is needed ({e}): apt-get install prometheus prometheus-alertmanager")
        });
    Process(child)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firing_prometheus_rule_reaches_each_webhook_in_its_language_and_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = LOCAL_DELIVERY.to_vec();
    settings.push((
        "HOOKCAST_ALERTMANAGER_TYPES",
        "RootDiskFull=alarm.host.root_disk_usage",
    ));
    let app = TestApp::start_with(&dir.path().join("hookcast"), &settings).await;

    // Two receivers: a Feishu-format webhook in Chinese for the mapped type, a JSON
    // webhook in English for every other Prometheus alert.
    let feishu = Receiver::start().await;
    let generic = Receiver::start().await;
    for (name, url, language, format, event_type) in [
        (
            "disk-feishu",
            feishu.url(),
            "zh-CN",
            "feishu",
            "alarm.host.root_disk_usage",
        ),
        (
            "prom-json",
            generic.url(),
            "en-US",
            "json",
            "alarm.prometheus",
        ),
    ] {
        let made = app
            .post(
                "/api/v1/webhooks",
                json!({"name": name, "kind": "alarms", "url": url, "language": language,
                       "format": format, "event_types": [event_type]}),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    }
    let token = app
        .post(
            "/api/v1/tokens",
            json!({"name": "alertmanager", "scopes": ["publish"]}),
        )
        .await;
    let token = token.body["token"].as_str().unwrap().to_string();

    let work = dir.path();
    let alertmanager_port = free_port();
    let prometheus_port = free_port();
    std::fs::write(
        work.join("alertmanager.yml"),
        format!(
            r#"route:
  receiver: hookcast
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hookcast
    webhook_configs:
      - url: {}
        send_resolved: true
        http_config:
          authorization:
            credentials: {token}
"#,
            app.url("/api/v1/ingest/alertmanager")
        ),
    )
    .unwrap();
    std::fs::write(
        work.join("rules.yml"),
        r#"groups:
  - name: hookcast-test
    interval: 1s
    rules:
      - alert: RootDiskFull
        expr: vector(91)
        labels:
          severity: warning
          instance: db-1:9100
        annotations:
          summary: root disk nearly full
          value: "91%"
          threshold: "80%"
      - alert: ServiceFlapping
        expr: vector(1)
        labels:
          severity: critical
          instance: api-7:8080
        annotations:
          summary: the service restarted 5 times
"#,
    )
    .unwrap();
    std::fs::write(
        work.join("prometheus.yml"),
        format!(
            r#"global:
  evaluation_interval: 1s
rule_files:
  - {}
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:{alertmanager_port}"]
"#,
            work.join("rules.yml").display()
        ),
    )
    .unwrap();

    let _alertmanager = spawn(
        "prometheus-alertmanager",
        &[
            format!("--config.file={}", work.join("alertmanager.yml").display()),
            format!("--storage.path={}", work.join("am-data").display()),
            format!("--web.listen-address=127.0.0.1:{alertmanager_port}"),
            // One instance: no gossip port.
            "--cluster.listen-address=".to_string(),
        ],
        &work.join("alertmanager.log"),
    );
    let _prometheus = spawn(
        "prometheus",
        &[
            format!("--config.file={}", work.join("prometheus.yml").display()),
            format!("--storage.tsdb.path={}", work.join("prom-data").display()),
            format!("--web.listen-address=127.0.0.1:{prometheus_port}"),
            // The first send can come before the Alertmanager is discovered and be
            // dropped; resend each second rather than after the default minute.
            "--rules.alert.resend-delay=1s".to_string(),
        ],
        &work.join("prometheus.log"),
    );

    let logs = || {
        format!(
            "alertmanager:\n{}\nprometheus:\n{}",
            std::fs::read_to_string(work.join("alertmanager.log")).unwrap_or_default(),
            std::fs::read_to_string(work.join("prometheus.log")).unwrap_or_default()
        )
    };
    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        feishu.wait_for(1, Duration::from_secs(60)).await;
        generic.wait_for(1, Duration::from_secs(60)).await;
    })
    .await;
    assert!(waited.is_ok(), "no delivery within 60 s\n{}", logs());

    // Chinese, Feishu's card, the catalog type the rule maps to, the measured value.
    let card = feishu.received()[0].json();
    assert_eq!(card["msg_type"], "interactive", "{card}");
    let text = card.to_string();
    for expected in [
        "主机根磁盘使用率",
        "db-1:9100",
        "重要",
        "当前值 91%（阈值 80%）",
        "root disk nearly full",
    ] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }

    // English, the Standard Webhooks envelope, the generic type named by the alert.
    let envelope = generic.received()[0].json();
    assert_eq!(envelope["type"], "alarm.prometheus", "{envelope}");
    let data = &envelope["data"];
    assert_eq!(data["source"], "api-7:8080", "{envelope}");
    assert_eq!(data["severity"], "critical", "{envelope}");
    assert_eq!(data["status"], "firing", "{envelope}");
    assert_eq!(data["attributes"]["alertname"], "ServiceFlapping");
    let text = envelope.to_string();
    assert!(
        text.contains("ServiceFlapping alarm firing on api-7:8080"),
        "{text}"
    );

    // Alertmanager sends the group again as it changes; each alert is still one alarm.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let events = app
        .get("/api/v1/events?type=alarm.host.root_disk_usage")
        .await;
    assert_eq!(
        events.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        events.text
    );
    assert_eq!(feishu.count(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_payload_that_is_not_alertmanager_version_4_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let alert = json!({"status": "firing", "labels": {"alertname": "X"}});
    for (body, field) in [
        (json!({"version": "3", "alerts": [alert]}), "version"),
        (json!({"version": "4", "alerts": []}), "alerts"),
        (
            json!({"version": "4", "alerts": [alert, {"status": "burning", "labels": {}}]}),
            "alerts[1].status",
        ),
        (
            json!({"version": "4", "alerts": [{"status": "firing", "startsAt": "yesterday"}]}),
            "alerts[0].occurred_at",
        ),
    ] {
        let reply = app.post("/api/v1/ingest/alertmanager", body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.text
        );
        assert!(
            common::error_fields(&reply).contains(&field.to_string()),
            "{field}: {}",
            reply.text
        );
    }
    // Nothing of a refused notification is stored.
    let events = app.get("/api/v1/events").await;
    assert_eq!(events.body["items"].as_array().unwrap().len(), 0);
    app.stop().await;
}
