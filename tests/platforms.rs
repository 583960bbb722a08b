//! Each chat platform against a mock written from the platform's documentation
//! (../shared/PLATFORMS.md): it checks the body and, for Feishu and DingTalk, the
//! signature with an HMAC implementation of its own (RustCrypto's, where hookcast
//! signs with ring), and answers the way the platform does.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{LOCAL_DELIVERY, TestApp};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

const FEISHU_SECRET: &str = "feishu-secret-1";
const DINGTALK_SECRET: &str = "SECdingtalk0secret";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Platform {
    Feishu,
    Dingtalk,
    Wecom,
    Slack,
    Discord,
    Teams,
    Telegram,
}

#[derive(Default)]
struct Seen {
    valid: usize,
    problems: Vec<String>,
}

struct Mock {
    platform: Platform,
    /// The secret the mock expects; a webhook configured with another one is refused.
    secret: Option<&'static str>,
    seen: Mutex<Seen>,
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    STANDARD.encode(mac.finalize().into_bytes())
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Problems with a request, as the platform would see them.
fn check(mock: &Mock, body: &Value, query: &HashMap<String, String>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut need = |ok: bool, what: &str| {
        if !ok {
            problems.push(what.to_string());
        }
    };
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    match mock.platform {
        Platform::Feishu => {
            need(body["msg_type"] == "interactive", "msg_type");
            need(
                !text(&body["card"]["header"]["title"]["content"]).is_empty(),
                "card title",
            );
            need(
                body["card"]["elements"][0]["tag"] == "markdown",
                "markdown element",
            );
            let timestamp = text(&body["timestamp"]);
            let fresh = timestamp
                .parse::<i64>()
                .is_ok_and(|t| (now_seconds() - t).abs() < 3600);
            need(fresh, "timestamp within one hour");
            let expected = hmac_sha256(
                format!("{timestamp}\n{}", mock.secret.unwrap()).as_bytes(),
                b"",
            );
            need(text(&body["sign"]) == expected, "sign");
        }
        Platform::Dingtalk => {
            need(body["msgtype"] == "markdown", "msgtype");
            need(
                !text(&body["markdown"]["title"]).is_empty(),
                "markdown title",
            );
            need(
                text(&body["markdown"]["text"]).starts_with("#### "),
                "markdown text",
            );
            // A mention fires only when `@<mobile>` is also in the text.
            let text_body = text(&body["markdown"]["text"]);
            for mobile in body["at"]["atMobiles"].as_array().into_iter().flatten() {
                need(
                    text_body.contains(&format!("@{}", mobile.as_str().unwrap())),
                    "@mobile in the text",
                );
            }
            need(
                body["at"]["atMobiles"] == json!(["13800000000"]),
                "atMobiles",
            );
            let timestamp = query.get("timestamp").cloned().unwrap_or_default();
            let fresh = timestamp
                .parse::<i64>()
                .is_ok_and(|t| (now_seconds() * 1000 - t).abs() < 3_600_000);
            need(fresh, "timestamp (ms) within one hour");
            let secret = mock.secret.unwrap();
            let expected = hmac_sha256(
                secret.as_bytes(),
                format!("{timestamp}\n{secret}").as_bytes(),
            );
            need(query.get("sign") == Some(&expected), "sign");
        }
        // With people to mention, WeCom needs a text message (mentions do not work in
        // markdown); without, markdown.
        Platform::Wecom if body["msgtype"] == "text" => {
            let content = text(&body["text"]["content"]);
            need(
                !content.is_empty() && content.len() <= 2048,
                "content within 2048 bytes",
            );
            need(
                body["text"]["mentioned_mobile_list"] == json!(["13800000000"]),
                "mentioned_mobile_list",
            );
        }
        Platform::Wecom => {
            need(body["msgtype"] == "markdown", "msgtype");
            let content = text(&body["markdown"]["content"]);
            need(
                !content.is_empty() && content.len() <= 4096,
                "content within 4096 bytes",
            );
        }
        Platform::Slack => {
            need(!text(&body["text"]).is_empty(), "fallback text");
            need(body["blocks"][0]["type"] == "section", "section block");
            need(body["blocks"][0]["text"]["type"] == "mrkdwn", "mrkdwn");
        }
        Platform::Discord => {
            let content = text(&body["content"]);
            need(
                !content.is_empty() && content.chars().count() <= 2000,
                "content",
            );
            need(
                text(&body["embeds"][0]["title"]).chars().count() <= 256,
                "embed title",
            );
            need(body["embeds"][0]["color"].is_u64(), "embed colour");
            need(
                body["allowed_mentions"]["parse"] == json!([]),
                "no mentions",
            );
        }
        Platform::Teams => {
            need(body["type"] == "message", "type");
            let attachment = &body["attachments"][0];
            need(
                attachment["contentType"] == "application/vnd.microsoft.card.adaptive",
                "content type",
            );
            need(
                attachment["content"]["type"] == "AdaptiveCard",
                "adaptive card",
            );
            need(
                attachment["content"]["body"][0]["type"] == "TextBlock",
                "text block",
            );
        }
        Platform::Telegram => {
            need(body["chat_id"] == "-1001", "chat_id");
            need(body["parse_mode"] == "HTML", "parse_mode");
            let text = text(&body["text"]);
            need(!text.is_empty() && text.chars().count() <= 4096, "text");
        }
    }
    problems
}

async fn receive(
    State(mock): State<Arc<Mock>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let problems = check(&mock, &body, &query);
    let ok = problems.is_empty();
    {
        let mut seen = mock.seen.lock().unwrap();
        if ok {
            seen.valid += 1;
        }
        seen.problems.extend(problems);
    }
    // Each platform's own way of saying yes or no.
    match (mock.platform, ok) {
        (Platform::Feishu, true) => axum::Json(json!({"code": 0, "msg": "success"})).into_response(),
        (Platform::Feishu, false) => axum::Json(json!({"code": 19021,
            "msg": "sign match fail or timestamp is not within one hour from current time"})).into_response(),
        (Platform::Dingtalk | Platform::Wecom, true) => axum::Json(json!({"errcode": 0, "errmsg": "ok"})).into_response(),
        (Platform::Dingtalk, false) => axum::Json(json!({"errcode": 310000, "errmsg": "sign not match"})).into_response(),
        (Platform::Wecom, false) => axum::Json(json!({"errcode": 40008, "errmsg": "invalid message type"})).into_response(),
        (Platform::Slack, true) => "ok".into_response(),
        (Platform::Slack, false) => (StatusCode::BAD_REQUEST, "invalid_payload").into_response(),
        (Platform::Discord, true) => StatusCode::NO_CONTENT.into_response(),
        (Platform::Teams, true) => StatusCode::ACCEPTED.into_response(),
        (Platform::Discord | Platform::Teams, false) => StatusCode::BAD_REQUEST.into_response(),
        (Platform::Telegram, true) => axum::Json(json!({"ok": true, "result": {"message_id": 1}})).into_response(),
        (Platform::Telegram, false) => (StatusCode::BAD_REQUEST,
            axum::Json(json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}))).into_response(),
    }
}

async fn start_mock(platform: Platform, secret: Option<&'static str>) -> (String, Arc<Mock>) {
    let mock = Arc::new(Mock {
        platform,
        secret,
        seen: Mutex::new(Seen::default()),
    });
    let app = Router::new().fallback(receive).with_state(mock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let path = match platform {
        Platform::Feishu => {
            "/open-apis/bot/v2/hook/2f9c1d0e-aaaa-bbbb-cccc-0123456789ab".to_string()
        }
        Platform::Dingtalk => "/robot/send?access_token=abc123".to_string(),
        Platform::Wecom => "/cgi-bin/webhook/send?key=k-123".to_string(),
        Platform::Slack => "/services/T000/B000/XXXX".to_string(),
        Platform::Discord => "/api/webhooks/1/token".to_string(),
        Platform::Teams => "/workflows/abc/triggers/manual/paths/invoke".to_string(),
        Platform::Telegram => "/bot123456:ABC-def/sendMessage?chat_id=-1001".to_string(),
    };
    (format!("http://{address}{path}"), mock)
}

async fn wait_valid(mock: &Mock, n: usize) {
    for _ in 0..200 {
        if mock.seen.lock().unwrap().valid >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let seen = mock.seen.lock().unwrap();
    panic!(
        "{:?}: {} valid requests, problems {:?}",
        mock.platform, seen.valid, seen.problems
    );
}

#[tokio::test]
async fn every_platform_accepts_what_hookcast_sends() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(dir.path(), LOCAL_DELIVERY).await;
    let platforms = [
        (
            Platform::Feishu,
            "feishu",
            Some(FEISHU_SECRET),
            json!({"type": "feishu_sign", "secret": FEISHU_SECRET}),
        ),
        (
            Platform::Dingtalk,
            "dingtalk",
            Some(DINGTALK_SECRET),
            json!({"type": "dingtalk_sign", "secret": DINGTALK_SECRET}),
        ),
        (Platform::Wecom, "wecom", None, json!({"type": "none"})),
        (Platform::Slack, "slack", None, json!({"type": "none"})),
        (Platform::Discord, "discord", None, json!({"type": "none"})),
        (Platform::Teams, "teams", None, json!({"type": "none"})),
        (
            Platform::Telegram,
            "telegram",
            None,
            json!({"type": "none"}),
        ),
    ];
    let mut mocks = Vec::new();
    for (index, (platform, format, secret, auth)) in platforms.into_iter().enumerate() {
        let (url, mock) = start_mock(platform, secret).await;
        let language = if index % 2 == 0 { "zh-CN" } else { "en-US" };
        let created = app
            .post(
                "/api/v1/webhooks",
                json!({"name": format, "url": url, "format": format, "language": language, "auth": auth,
                       "mentions": {"mobiles": ["13800000000"]},
                       "event_types": ["dr.host.disconnected"]}),
            )
            .await;
        assert_eq!(
            created.status,
            reqwest::StatusCode::CREATED,
            "{}",
            created.text
        );
        mocks.push(mock);
    }
    app.post(
        "/api/v1/events",
        json!({"type": "dr.host.disconnected", "source": "web-01", "result": "failure"}),
    )
    .await;
    for mock in &mocks {
        wait_valid(mock, 1).await;
        assert!(mock.seen.lock().unwrap().problems.is_empty());
    }
    // Every delivery is recorded as delivered.
    for _ in 0..100 {
        let log = app.get("/api/v1/deliveries?status=succeeded").await;
        if log.body["items"].as_array().unwrap().len() == mocks.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let log = app.get("/api/v1/deliveries?status=succeeded").await;
    assert_eq!(
        log.body["items"].as_array().unwrap().len(),
        mocks.len(),
        "{}",
        log.text
    );

    // The Telegram bot token and DingTalk access token stay out of the attempt log.
    for item in app.get("/api/v1/deliveries").await.body["items"]
        .as_array()
        .unwrap()
    {
        let detail = app
            .get(&format!(
                "/api/v1/deliveries/{}",
                item["id"].as_str().unwrap()
            ))
            .await;
        assert!(
            !detail.text.contains("123456:ABC-def") && !detail.text.contains("abc123"),
            "{}",
            detail.text
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_platform_error_in_a_200_is_a_permanent_failure_with_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(dir.path(), LOCAL_DELIVERY).await;
    let (url, mock) = start_mock(Platform::Feishu, Some(FEISHU_SECRET)).await;
    let created = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "wrong-secret", "url": url, "format": "feishu",
                   "auth": {"type": "feishu_sign", "secret": "not-the-bot-secret"},
                   "event_types": ["dr.host.disconnected"]}),
        )
        .await;
    let id = created.body["id"].as_str().unwrap();
    app.post(
        "/api/v1/events",
        json!({"type": "dr.host.disconnected", "source": "web-01", "result": "failure"}),
    )
    .await;
    let mut failed = Value::Null;
    for _ in 0..200 {
        let list = app
            .get(&format!("/api/v1/deliveries?webhook_id={id}&status=failed"))
            .await;
        if let Some(item) = list.body["items"].as_array().unwrap().first() {
            failed = app
                .get(&format!(
                    "/api/v1/deliveries/{}",
                    item["id"].as_str().unwrap()
                ))
                .await
                .body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(failed["attempt_count"], 1, "not retried: {failed}");
    let attempt = &failed["attempts"][0];
    assert_eq!(attempt["response"]["status"], 200);
    assert_eq!(attempt["error"]["kind"], "platform");
    assert!(
        attempt["error"]["message"]
            .as_str()
            .unwrap()
            .contains("19021"),
        "{attempt}"
    );
    assert!(
        failed["last_error"]
            .as_str()
            .unwrap()
            .starts_with("Feishu error 19021")
    );
    assert_eq!(mock.seen.lock().unwrap().problems, ["sign"]);

    // Send Test shows the platform's code and message too.
    let test = app
        .post(
            "/api/v1/webhooks/test",
            json!({"name": "t", "url": url, "format": "feishu",
                   "auth": {"type": "feishu_sign", "secret": "not-the-bot-secret"},
                   "event_types": ["dr.host.disconnected"]}),
        )
        .await;
    assert_eq!(test.body["ok"], false);
    assert!(
        test.body["error"].as_str().unwrap().contains("19021"),
        "{}",
        test.text
    );
    app.stop().await;
}
