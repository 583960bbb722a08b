//! Events hookcast publishes about itself.

use crate::domain::audit::AuditEntry;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::messages::WEBHOOK_DISABLED_CODE;
use crate::domain::catalog::TEST_EVENT_CODE;
use crate::domain::event::{Event, Outcome};
use crate::domain::event_type::{EventKind, EventTypeCode, Severity};
use crate::domain::ids::EventId;
use crate::store::DisabledWebhook;

fn system_event(
    code: &str,
    severity: Severity,
    outcome: Outcome,
    attributes: Map<String, Value>,
) -> Event {
    let now = Utc::now();
    Event {
        id: EventId::generate(),
        event_type: EventTypeCode::parse(code).expect("system codes are valid"),
        kind: EventKind::Event,
        severity,
        outcome,
        source: "hookcast".into(),
        occurred_at: now,
        received_at: now,
        attributes,
        idempotency_key: None,
    }
}

/// The message "Send Test" delivers.
pub fn test_event(webhook_name: &str) -> Event {
    let mut attributes = Map::new();
    attributes.insert("webhook_name".into(), Value::from(webhook_name));
    system_event(
        TEST_EVENT_CODE,
        Severity::Info,
        Outcome::Success,
        attributes,
    )
}

/// Published when a webhook is disabled automatically.
pub fn webhook_disabled_event(disabled: &DisabledWebhook) -> Event {
    let mut attributes = Map::new();
    attributes.insert("webhook_id".into(), Value::from(disabled.id.as_str()));
    attributes.insert("webhook_name".into(), Value::from(disabled.name.as_str()));
    attributes.insert("reason".into(), Value::from(disabled.reason.as_str()));
    if let Some(since) = disabled.failing_since {
        attributes.insert("failing_since".into(), Value::from(rfc3339(since)));
    }
    system_event(
        WEBHOOK_DISABLED_CODE,
        Severity::Major,
        Outcome::Failure,
        attributes,
    )
}

/// The audit trail's entry for a webhook the dispatcher disabled: the actor is
/// hookcast itself.
pub fn webhook_disabled_audit(disabled: &DisabledWebhook) -> AuditEntry {
    AuditEntry::new(
        "hookcast",
        "webhook.disable",
        "webhook",
        disabled.id.as_str(),
        Some(serde_json::json!({"enabled": true})),
        Some(serde_json::json!({
            "enabled": false,
            "disabled_reason": disabled.reason.as_str(),
            "failing_since": disabled.failing_since.map(rfc3339),
        })),
    )
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
