//! `json`: the Standard Webhooks envelope of the design.

use chrono::SecondsFormat;
use serde_json::{Value, json};

use super::{Facts, Recipient};
use crate::domain::event::Outcome;

pub fn envelope(facts: &Facts<'_>, recipient: &Recipient<'_>) -> Value {
    let event = facts.event;
    let mut data = json!({
        "event_id": event.id,
        "kind": event.kind,
        "severity": event.severity,
        "source": event.source,
        "language": recipient.language,
        "title": facts.title,
        "message": facts.text,
        "attributes": event.attributes,
        "webhook": {"id": recipient.id, "name": recipient.name},
    });
    let key = match event.outcome {
        Outcome::Success | Outcome::Failure => "result",
        Outcome::Firing | Outcome::Resolved => "status",
    };
    data[key] = Value::from(event.outcome.as_str());
    json!({
        "type": event.event_type,
        "timestamp": event.occurred_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "data": data,
    })
}
