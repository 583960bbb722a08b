//! `json`: the Standard Webhooks envelope of the design.
//!
//! Written straight to bytes from borrowed fields: it is the body of nearly every
//! generic webhook's delivery, and building a `serde_json::Value` first copied the
//! event's attributes and every string into a tree only to write it out again. The
//! fields are declared in sorted order, the order a `Value` object writes its keys,
//! so the bytes are those the tree gave.

use chrono::SecondsFormat;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Facts, Recipient};
use crate::domain::choices::Language;
use crate::domain::event::Outcome;
use crate::domain::event_type::{EventKind, EventTypeCode, Severity};
use crate::domain::ids::{EventId, WebhookId};

#[derive(Serialize)]
struct Envelope<'a> {
    data: Data<'a>,
    timestamp: String,
    #[serde(rename = "type")]
    event_type: &'a EventTypeCode,
}

/// Keys in sorted order (see the module's note).
#[derive(Serialize)]
struct Data<'a> {
    attributes: &'a Map<String, Value>,
    event_id: &'a EventId,
    kind: EventKind,
    language: Language,
    message: &'a str,
    /// Events: `success` or `failure`.
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'static str>,
    severity: Severity,
    source: &'a str,
    /// Alarms: `firing` or `resolved`.
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    title: &'a str,
    webhook: WebhookRef<'a>,
}

#[derive(Serialize)]
struct WebhookRef<'a> {
    id: Option<&'a WebhookId>,
    name: &'a str,
}

/// The envelope as JSON bytes.
pub fn envelope(facts: &Facts<'_>, recipient: &Recipient<'_>) -> Vec<u8> {
    let event = facts.event;
    let outcome = event.outcome.as_str();
    let (result, status) = match event.outcome {
        Outcome::Success | Outcome::Failure => (Some(outcome), None),
        Outcome::Firing | Outcome::Resolved => (None, Some(outcome)),
    };
    let envelope = Envelope {
        data: Data {
            attributes: &event.attributes,
            event_id: &event.id,
            kind: event.kind,
            language: recipient.language,
            message: &facts.text,
            result,
            severity: event.severity,
            source: &event.source,
            status,
            title: &facts.title,
            webhook: WebhookRef {
                id: recipient.id,
                name: recipient.name,
            },
        },
        timestamp: event.occurred_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        event_type: &event.event_type,
    };
    serde_json::to_vec(&envelope).expect("the envelope serializes")
}
