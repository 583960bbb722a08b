//! Every route of the API, for tests that go through all of them.

use reqwest::Method;
use serde_json::{Value, json};

/// Every route of the API, with a body where it takes one. A route added to the
/// router must be added here too: tests/openapi.rs compares this list with the
/// OpenAPI document, which the router is built from.
pub fn every_route(webhook: &str) -> Vec<(Method, String, Option<Value>)> {
    let hook = json!({"name": "r", "url": "http://127.0.0.1:9/x", "event_types": ["dr.host.disconnected"]});
    let event = json!({"type": "dr.host.disconnected", "source": "h1", "result": "failure"});
    vec![
        (Method::GET, "/api/v1/webhooks".into(), None),
        (Method::POST, "/api/v1/webhooks".into(), Some(hook.clone())),
        (Method::GET, format!("/api/v1/webhooks/{webhook}"), None),
        (
            Method::PUT,
            format!("/api/v1/webhooks/{webhook}"),
            Some(hook.clone()),
        ),
        (
            Method::PATCH,
            format!("/api/v1/webhooks/{webhook}"),
            Some(json!({"language": "en-US"})),
        ),
        (
            Method::DELETE,
            "/api/v1/webhooks/wh_01jzzzzzzzzzzzzzzzzzzzzzzz".into(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/webhooks/test".into(),
            Some(hook.clone()),
        ),
        (
            Method::POST,
            "/api/v1/webhooks/preview".into(),
            Some(json!({"webhook": hook, "event": event})),
        ),
        (
            Method::POST,
            format!("/api/v1/webhooks/{webhook}/enable"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/webhooks/{webhook}/disable"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/webhooks/{webhook}/test"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/webhooks/{webhook}/replay"),
            Some(json!({})),
        ),
        (Method::GET, "/api/v1/event-types".into(), None),
        (Method::GET, "/api/v1/events".into(), None),
        (Method::POST, "/api/v1/events".into(), Some(event.clone())),
        (
            Method::POST,
            "/api/v1/events/batch".into(),
            Some(json!({"events": [event]})),
        ),
        (
            Method::GET,
            "/api/v1/events/evt_01jzzzzzzzzzzzzzzzzzzzzzzz".into(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/ingest/alertmanager".into(),
            Some(json!({"version": "4", "status": "firing", "alerts": [
                {"status": "firing", "labels": {"alertname": "X", "instance": "h1"},
                 "startsAt": "2026-11-27T08:00:00Z"}
            ]})),
        ),
        (Method::GET, "/api/v1/deliveries".into(), None),
        (
            Method::GET,
            "/api/v1/deliveries/msg_01jzzzzzzzzzzzzzzzzzzzzzzz".into(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/deliveries/msg_01jzzzzzzzzzzzzzzzzzzzzzzz/retry".into(),
            None,
        ),
        (Method::GET, "/api/v1/stats/webhooks".into(), None),
        (
            Method::GET,
            "/api/v1/stats/attempts-per-minute".into(),
            None,
        ),
        (Method::GET, "/api/v1/info".into(), None),
        (Method::GET, "/api/v1/tokens".into(), None),
        (
            Method::POST,
            "/api/v1/tokens".into(),
            Some(json!({"name": "x", "scopes": ["read"]})),
        ),
        (
            Method::DELETE,
            "/api/v1/tokens/tok_01jzzzzzzzzzzzzzzzzzzzzzzz".into(),
            None,
        ),
        (Method::GET, "/api/v1/audit".into(), None),
    ]
}
