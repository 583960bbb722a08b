//! The built-in catalog holds every item of the design's list, in both languages.

mod common;

use common::{TestApp, error_fields};
use reqwest::StatusCode;
use serde_json::Value;

/// The reference product's lists, as written in the design (group → items).
const EVENTS: &[(&str, &[&str])] = &[
    (
        "DR Host Resources",
        &[
            "add DR host configuration",
            "boot host",
            "clean host resource",
            "forced abort of task",
            "host disconnected",
            "host connection recovery",
            "host snapshot integrity check",
            "limit host resource",
            "limit transfer rate",
            "host recovery timeout",
            "register host",
            "start boot host",
            "start clean boot resource",
            "start limiting host resource",
            "start limiting transfer rate",
            "start sync host",
            "start takeover host",
            "start unlimiting host resource",
            "start unlimiting transfer rate",
            "sync host",
            "takeover host",
            "unlimit host resource",
            "unlimit transfer rate",
            "update DR host configuration",
            "update source sync configuration",
        ],
    ),
    (
        "User Resources",
        &[
            "login",
            "logout",
            "modify phone number",
            "change password",
            "reset password",
        ],
    ),
    ("License Resources", &["add license"]),
    (
        "Production Site Resources",
        &[
            "add Linux agent",
            "delete Linux agent",
            "add Windows agent",
            "delete Windows agent",
            "add sync proxy",
            "delete sync proxy",
            "bind sync proxy",
            "unbind sync proxy",
            "add sync proxy connection",
            "delete sync proxy connection",
            "refresh sync proxy VMs",
            "update sync proxy connection",
        ],
    ),
    (
        "DR Site Resources",
        &[
            "add cloud account",
            "delete cloud account",
            "update cloud account",
            "create cloud sync gateway",
            "delete cloud sync gateway",
        ],
    ),
    (
        "Monitoring Alarm",
        &[
            "create alarm",
            "delete alarm",
            "update alarm",
            "create notification",
            "delete notification",
            "update notification",
        ],
    ),
    (
        "Resource Groups",
        &[
            "create resource group",
            "delete resource group",
            "clean resources",
            "sync data",
            "drill",
            "takeover",
            "start clean resources",
            "start sync data",
            "start drill",
            "start takeover",
        ],
    ),
    (
        "Object Storage",
        &[
            "add object storage",
            "delete object storage",
            "update object storage",
        ],
    ),
    (
        "Resource Policies",
        &[
            "create resource policy",
            "delete resource policy",
            "update resource policy",
            "associate resource policy",
            "disassociate resource policy",
        ],
    ),
];

const ALARMS: &[&str] = &[
    "host CPU usage",
    "host memory usage",
    "host root disk usage",
    "unhealthy containers",
    "RabbitMQ queue backlog",
    "sync proxy CPU",
    "sync proxy RAM",
    "sync proxy disk",
    "sync proxy process",
    "cloud sync gateway CPU",
    "cloud sync gateway RAM",
    "cloud sync gateway disk",
    "cloud sync gateway process",
    "Linux agent CPU",
    "Linux agent RAM",
    "Linux agent disk",
    "Linux agent process",
    "Windows agent CPU",
    "Windows agent RAM",
    "Windows agent disk",
    "Windows agent process",
    "object storage capacity",
];

/// Product and technology names that stay in Latin letters in Chinese text.
const NAMES_KEPT_IN_CHINESE: &[&str] =
    &["RabbitMQ", "CPU", "Linux", "Windows", "WebHook", "hookcast"];

fn assert_chinese(text: &str, context: &str) {
    assert!(
        text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{context}: `{text}` has no Chinese"
    );
    let mut rest = text.to_string();
    for name in NAMES_KEPT_IN_CHINESE {
        rest = rest.replace(name, "");
    }
    assert!(
        !rest.chars().any(|c| c.is_ascii_alphabetic()),
        "{context}: `{text}` has English words"
    );
}

async fn fetch(app: &TestApp, query: &str) -> Vec<Value> {
    let reply = app.get(&format!("/api/v1/event-types{query}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.body["items"].as_array().unwrap().clone()
}

fn find<'a>(items: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    let wanted = name.to_lowercase();
    items.iter().find(|t| {
        t["kind"] == kind
            && t["name"]["en-US"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains(&wanted)
    })
}

#[tokio::test]
async fn every_event_and_alarm_of_the_design_is_listed_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let all = fetch(&app, "").await;

    let mut expected_events = 0;
    for (group, names) in EVENTS {
        for name in *names {
            let found = all.iter().find(|t| {
                t["kind"] == "event"
                    && t["group"]["name"]["en-US"] == *group
                    && t["name"]["en-US"]
                        .as_str()
                        .unwrap()
                        .eq_ignore_ascii_case(name)
            });
            let found = found.unwrap_or_else(|| panic!("event `{name}` of `{group}` is missing"));
            assert_eq!(found["category"]["id"], "dr");
            assert_chinese(found["name"]["zh-CN"].as_str().unwrap(), name);
            assert_chinese(found["group"]["name"]["zh-CN"].as_str().unwrap(), group);
            expected_events += 1;
        }
    }
    for name in ALARMS {
        let found =
            find(&all, "alarm", name).unwrap_or_else(|| panic!("alarm `{name}` is missing"));
        assert_chinese(found["name"]["zh-CN"].as_str().unwrap(), name);
    }
    for code in ["hookcast.test", "hookcast.webhook.disabled"] {
        assert!(all.iter().any(|t| t["code"] == code), "{code} is missing");
    }

    // Exactly these, nothing duplicated.
    let events = fetch(&app, "?kind=event").await;
    let alarms = fetch(&app, "?kind=alarm").await;
    assert_eq!(
        events.len(),
        expected_events + 2,
        "the design's events plus hookcast's two"
    );
    assert_eq!(
        alarms.len(),
        ALARMS.len() + 1,
        "the design's alarms plus alarm.prometheus"
    );
    assert!(alarms.iter().any(|t| t["code"] == "alarm.prometheus"));
    assert_eq!(events.len() + alarms.len(), all.len());
    assert!(events.iter().all(|t| t["kind"] == "event"));
    assert!(alarms.iter().all(|t| t["kind"] == "alarm"));
    let mut codes: Vec<&str> = all.iter().map(|t| t["code"].as_str().unwrap()).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), all.len());
    app.stop().await;
}

#[tokio::test]
async fn the_product_page_events_have_their_fixed_codes() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await;
    let all = fetch(&app, "").await;
    let by_code = |code: &str| all.iter().find(|t| t["code"] == code).unwrap().clone();
    let disconnected = by_code("dr.host.disconnected");
    assert_eq!(disconnected["name"]["en-US"], "Host disconnected");
    assert_eq!(disconnected["name"]["zh-CN"], "主机失联");
    assert_eq!(disconnected["group"]["id"], "dr.host");
    let timeout = by_code("dr.host.recovery_timeout");
    assert_eq!(timeout["name"]["en-US"], "Host recovery timeout");
    assert_eq!(timeout["name"]["zh-CN"], "主机恢复超时");
    assert_eq!(timeout["kind"], "event");

    let bad = app.get("/api/v1/event-types?kind=alarms").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&bad), ["kind"]);
    app.stop().await;
}
