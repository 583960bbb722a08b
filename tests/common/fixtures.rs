//! Rows to store in the store tests: webhooks, events, claims and attempt results.

use std::time::Duration;

use chrono::Utc;
use hookcast::domain::auth::AuthConfig;
use hookcast::domain::catalog::Catalog;
use hookcast::domain::choices::{Format, Language, WebhookKind};
use hookcast::domain::delivery::{Attempt, DeliveryStatus, LoggedRequest};
use hookcast::domain::event::{Event, EventInput};
use hookcast::domain::ids::AttemptId;
use hookcast::domain::target_url::TargetUrl;
use hookcast::domain::validation::FieldErrors;
use hookcast::domain::webhook::{EventTypeSet, Webhook, WebhookSpec};
use hookcast::domain::webhook_name::WebhookName;
use hookcast::store::{AttemptRecord, ClaimRequest, ClaimedDelivery, WebhookHealth};
use serde_json::json;

pub fn webhook(name: &str, code: &str, auth: AuthConfig) -> Webhook {
    let mut errors = FieldErrors::default();
    let kind = if code.starts_with("alarm.") {
        WebhookKind::Alarms
    } else {
        WebhookKind::Events
    };
    let spec = WebhookSpec {
        name: WebhookName::parse(name).unwrap(),
        kind,
        url: TargetUrl::parse("https://example.com/hook").unwrap(),
        language: Language::ZhCn,
        auth,
        format: Format::Json,
        enabled: true,
        event_types: EventTypeSet::parse(
            &[code.to_string()],
            kind,
            Catalog::builtin(),
            &mut errors,
        )
        .unwrap(),
        headers: Default::default(),
        timeout: None,
        template: None,
        time_zone: None,
        mentions: Default::default(),
        tls: Default::default(),
    };
    Webhook::new(spec, Utc::now())
}

pub fn events(n: usize, key: Option<&str>) -> Vec<Event> {
    (0..n)
        .map(|i| {
            let mut body = json!({"type": "dr.host.disconnected", "source": format!("h{i}"), "result": "failure"});
            if let Some(key) = key {
                body["idempotency_key"] = json!(key);
            }
            let input: EventInput = serde_json::from_value(body).unwrap();
            input.into_event(Catalog::builtin(), Utc::now(), "").unwrap()
        })
        .collect()
}

pub fn claim(owner: &str, lease: Duration, per_webhook: usize) -> ClaimRequest {
    ClaimRequest {
        now: Utc::now(),
        limit: 100,
        owner: owner.into(),
        lease,
        per_webhook,
        webhook_room: Vec::new(),
    }
}

pub fn record(
    claimed: &ClaimedDelivery,
    owner: Option<&str>,
    status: DeliveryStatus,
    health: WebhookHealth,
) -> AttemptRecord {
    AttemptRecord {
        attempt: Attempt {
            id: AttemptId::generate(),
            delivery_id: claimed.delivery.id.clone(),
            number: claimed.delivery.attempts + 1,
            started_at: Utc::now(),
            duration_ms: 3,
            request: LoggedRequest {
                method: "POST".into(),
                url: "https://example.com/hook".into(),
                headers: vec![("content-type".into(), "application/json".into())],
                body: "{}".into(),
            },
            response_status: Some(if status == DeliveryStatus::Succeeded {
                200
            } else {
                500
            }),
            response_headers: vec![],
            response_body: Some("answer".into()),
            error_kind: None,
            error_message: None,
        },
        webhook_id: claimed.webhook.id.clone(),
        owner: owner.map(str::to_string),
        status,
        next_attempt_at: (status == DeliveryStatus::Retrying).then(Utc::now),
        last_error: None,
        health,
    }
}

/// A success recorded by `owner` for each of `claimed`.
pub fn succeeded(claimed: &[ClaimedDelivery], owner: &str) -> Vec<AttemptRecord> {
    claimed
        .iter()
        .map(|c| {
            record(
                c,
                Some(owner),
                DeliveryStatus::Succeeded,
                WebhookHealth::Healthy,
            )
        })
        .collect()
}
