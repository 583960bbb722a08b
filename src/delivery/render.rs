//! The request body of a delivery.
//!
//! `json` is the Standard Webhooks envelope of the design. The chat platforms' own
//! bodies are not written yet: until they are, a webhook with a platform format
//! receives the same envelope.

use chrono::SecondsFormat;
use serde_json::{Value, json};

use super::messages::{Message, compose};
use crate::domain::catalog::Catalog;
use crate::domain::choices::Language;
use crate::domain::event::{Event, Outcome};
use crate::domain::ids::WebhookId;
use crate::domain::time_zone::DisplayZone;

/// Who the body is for.
pub struct Recipient<'a> {
    /// `None` for an unsaved webhook (the form's Send Test).
    pub id: Option<&'a WebhookId>,
    pub name: &'a str,
    pub language: Language,
}

pub fn json_envelope(
    event: &Event,
    recipient: &Recipient<'_>,
    catalog: &Catalog,
    zone: &DisplayZone,
) -> Value {
    let Message { title, text } = compose(event, catalog, recipient.language, zone);
    let mut data = json!({
        "event_id": event.id,
        "kind": event.kind,
        "severity": event.severity,
        "source": event.source,
        "language": recipient.language,
        "title": title,
        "message": text,
        "attributes": event.attributes,
        "webhook": {"id": recipient.id, "name": recipient.name},
    });
    let (key, value) = match event.outcome {
        Outcome::Success | Outcome::Failure => ("result", event.outcome.as_str()),
        Outcome::Firing | Outcome::Resolved => ("status", event.outcome.as_str()),
    };
    data[key] = Value::from(value);
    json!({
        "type": event.event_type,
        "timestamp": event.occurred_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "data": data,
    })
}
