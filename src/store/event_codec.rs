//! Event ↔ row, shared by every backend.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::StoreError;
use crate::domain::event::{Event, Outcome};
use crate::domain::event_type::{EventKind, EventTypeCode, Severity};
use crate::domain::ids::EventId;

/// The columns of the `events` table.
pub struct EventRow {
    pub id: String,
    pub event_type: String,
    pub kind: String,
    pub severity: String,
    pub outcome: String,
    pub source: String,
    pub occurred_at: i64,
    pub received_at: i64,
    pub attributes: String,
    pub idempotency_key: Option<String>,
}

pub fn encode(event: &Event) -> EventRow {
    EventRow {
        id: event.id.to_string(),
        event_type: event.event_type.to_string(),
        kind: event.kind.as_str().to_string(),
        severity: event.severity.as_str().to_string(),
        outcome: event.outcome.as_str().to_string(),
        source: event.source.clone(),
        occurred_at: event.occurred_at.timestamp_millis(),
        received_at: event.received_at.timestamp_millis(),
        attributes: Value::Object(event.attributes.clone()).to_string(),
        idempotency_key: event.idempotency_key.clone(),
    }
}

pub fn decode(row: EventRow) -> Result<Event, StoreError> {
    let corrupt = |what: &str, message: String| {
        StoreError::Corrupt(format!("event {}: {what}: {message}", row.id))
    };
    let attributes: Map<String, Value> =
        serde_json::from_str(&row.attributes).map_err(|e| corrupt("attributes", e.to_string()))?;
    Ok(Event {
        id: EventId::parse(&row.id).map_err(|e| corrupt("id", e))?,
        event_type: EventTypeCode::parse(&row.event_type).map_err(|e| corrupt("type", e))?,
        kind: EventKind::parse(&row.kind).map_err(|e| corrupt("kind", e))?,
        severity: Severity::parse(&row.severity).map_err(|e| corrupt("severity", e))?,
        outcome: Outcome::parse(&row.outcome).map_err(|e| corrupt("outcome", e))?,
        source: row.source.clone(),
        occurred_at: from_millis(row.occurred_at),
        received_at: from_millis(row.received_at),
        attributes,
        idempotency_key: row.idempotency_key.clone(),
    })
}

pub fn from_millis(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}
