//! The SSRF regression suite: the known ways past an address guard, each refused with
//! error kind `blocked`, through Send Test and through a saved webhook's delivery.

mod common;

use common::TestApp;
use common::receiver::{Receiver, Reply};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn probe(url: &str) -> Value {
    json!({"name": "probe", "url": url, "event_types": ["dr.host.disconnected"]})
}

/// Send Test's verdict for `url`: `(ok, error)`.
async fn send_test(app: &TestApp, url: &str) -> (bool, String) {
    let reply = app.post("/api/v1/webhooks/test", probe(url)).await;
    assert_eq!(reply.status, StatusCode::OK, "{url}: {}", reply.text);
    (
        reply.body["ok"].as_bool().unwrap(),
        reply.body["error"].as_str().unwrap_or("").to_string(),
    )
}

#[tokio::test]
async fn every_known_bypass_is_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await; // nothing internal allowed
    let receiver = Receiver::start().await;
    let port = receiver.address.port();
    let cases = [
        // Other spellings of 127.0.0.1: decimal, octal, hex, short forms.
        format!("http://2130706433:{port}/"),
        format!("http://0177.0.0.1:{port}/"),
        format!("http://0x7f.0.0.1:{port}/"),
        format!("http://0x7f000001:{port}/"),
        format!("http://127.1:{port}/"),
        // IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6 around loopback and metadata.
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://[::ffff:7f00:1]:{port}/"),
        "http://[::ffff:169.254.169.254]/".to_string(),
        "http://[64:ff9b::a9fe:a9fe]/".to_string(),
        "http://[64:ff9b::7f00:1]/".to_string(),
        "http://[2002:7f00:1::]/".to_string(),
        // The unspecified address (Linux connects it to localhost), other loopbacks.
        format!("http://0.0.0.0:{port}/"),
        format!("http://0:{port}/"),
        format!("http://[::]:{port}/"),
        format!("http://127.0.0.2:{port}/"),
        format!("http://[::1]:{port}/"),
        // Cloud metadata, private ranges.
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://[fd00:ec2::254]/".to_string(),
        "http://10.0.0.1/".to_string(),
        "http://192.168.1.1/".to_string(),
        // A name that resolves to a private address (what DNS rebinding returns on
        // the second lookup; the guard checks what it connects to).
        format!("http://localhost:{port}/"),
    ];
    for url in &cases {
        let (ok, error) = send_test(&app, url).await;
        assert!(!ok, "{url} was reached");
        assert!(error.starts_with("blocked: "), "{url}: {error}");
    }
    assert_eq!(receiver.count(), 0, "nothing reached the receiver");
    app.stop().await;
}

#[tokio::test]
async fn a_redirect_to_the_metadata_address_is_blocked_and_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    // The receiver itself is allowed (loopback), what it redirects to is not.
    let app = TestApp::start_with(dir.path(), &[("HOOKCAST_ALLOWED_CIDRS", "127.0.0.0/8")]).await;
    let mut redirect = Reply::status(302);
    redirect.headers = vec![(
        "location",
        "http://169.254.169.254/latest/meta-data/iam".to_string(),
    )];
    let receiver = Receiver::start_scripted(vec![], Some(redirect)).await;
    let (ok, error) = send_test(&app, &receiver.url()).await;
    assert!(!ok);
    assert!(
        error.starts_with("blocked: ") && error.contains("169.254.169.254"),
        "{error}"
    );
    assert_eq!(receiver.count(), 1, "asked once, the redirect not followed");

    // A saved webhook's delivery records the attempt as `blocked`, not retried.
    let created = app.post("/api/v1/webhooks", probe(&receiver.url())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    let posted = app
        .post(
            "/api/v1/events",
            json!({"type": "dr.host.disconnected", "source": "h1", "result": "failure"}),
        )
        .await;
    assert_eq!(posted.status, StatusCode::ACCEPTED);
    let mut delivery = Value::Null;
    for _ in 0..200 {
        let list = app
            .get(&format!("/api/v1/deliveries?webhook_id={id}&status=failed"))
            .await;
        if let Some(first) = list.body["items"].as_array().and_then(|i| i.first()) {
            let one = first["id"].as_str().unwrap().to_string();
            delivery = app.get(&format!("/api/v1/deliveries/{one}")).await.body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(
        delivery["attempts"].as_array().unwrap().len(),
        1,
        "{delivery}"
    );
    assert_eq!(delivery["attempts"][0]["error"]["kind"], "blocked");
    app.stop().await;
}

#[tokio::test]
async fn an_allowed_network_opens_itself_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(dir.path(), &[("HOOKCAST_ALLOWED_CIDRS", "127.0.0.1/32")]).await;
    let receiver = Receiver::start().await;
    let port = receiver.address.port();
    let (ok, error) = send_test(&app, &receiver.url()).await;
    assert!(ok, "{error}");
    for url in [
        format!("http://127.0.0.2:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://0.0.0.0:{port}/"),
        "http://169.254.169.254/".to_string(),
        "http://10.0.0.1/".to_string(),
        "http://[64:ff9b::a9fe:a9fe]/".to_string(),
    ] {
        let (ok, error) = send_test(&app, &url).await;
        assert!(!ok && error.starts_with("blocked: "), "{url}: {error}");
    }
    app.stop().await;
}
