//! A published event or alarm, validated against the catalog.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::catalog::Catalog;
use super::event_type::{EventKind, EventTypeCode, Severity};
use super::ids::EventId;
use super::validation::{FieldError, FieldErrors};

pub const MAX_SOURCE_CHARS: usize = 256;
pub const MAX_IDEMPOTENCY_KEY_BYTES: usize = 256;
pub const MAX_ATTRIBUTES_BYTES: usize = 64 * 1024;
pub const MAX_ATTRIBUTES_DEPTH: usize = 16;

/// How it turned out: a `result` for events, a `status` for alarms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Firing,
    Resolved,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Firing => "firing",
            Outcome::Resolved => "resolved",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "success" => Ok(Outcome::Success),
            "failure" => Ok(Outcome::Failure),
            "firing" => Ok(Outcome::Firing),
            "resolved" => Ok(Outcome::Resolved),
            other => Err(format!("unknown outcome `{other}`")),
        }
    }

    pub fn kind(self) -> EventKind {
        match self {
            Outcome::Success | Outcome::Failure => EventKind::Event,
            Outcome::Firing | Outcome::Resolved => EventKind::Alarm,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: EventId,
    pub event_type: EventTypeCode,
    pub kind: EventKind,
    pub severity: Severity,
    pub outcome: Outcome,
    /// The host or resource it concerns.
    pub source: String,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub attributes: Map<String, Value>,
    pub idempotency_key: Option<String>,
}

/// An event as a producer posts it.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// A code from `GET /event-types`.
    #[serde(rename = "type")]
    #[schema(example = "dr.host.disconnected")]
    pub event_type: Option<String>,
    /// The host or resource it concerns.
    #[schema(example = "web-01")]
    pub source: Option<String>,
    /// Defaults to the type's severity.
    #[schema(value_type = Option<super::event_type::Severity>)]
    pub severity: Option<String>,
    /// Events: `success` or `failure`.
    #[schema(example = "failure")]
    pub result: Option<String>,
    /// Alarms: `firing` or `resolved`.
    #[schema(example = "firing")]
    pub status: Option<String>,
    /// RFC 3339; defaults to the time it is received.
    #[schema(example = "2026-11-27T08:00:00Z")]
    pub occurred_at: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<Map<String, Value>>,
    pub idempotency_key: Option<String>,
}

impl EventInput {
    /// Validates against the catalog. `prefix` is put before field names (`events[3].`
    /// in a batch). Types hookcast sends itself (the test message) are refused.
    pub fn into_event(
        self,
        catalog: &Catalog,
        now: DateTime<Utc>,
        prefix: &str,
    ) -> Result<Event, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let field = |name: &str| format!("{prefix}{name}");

        let event_type = match self.event_type.as_deref() {
            None => {
                errors.push(field("type"), "is required");
                None
            }
            Some(code) => match catalog.get(code) {
                Some(t) if t.subscribable => Some(t),
                Some(_) => {
                    errors.push(
                        field("type"),
                        format!("`{code}` is sent by hookcast itself"),
                    );
                    None
                }
                None => {
                    errors.push(field("type"), format!("`{code}` is not a known event type"));
                    None
                }
            },
        };
        let source = match self.source.as_deref().map(str::trim) {
            None | Some("") => {
                errors.push(
                    field("source"),
                    "is required (the host or resource the event is about)",
                );
                None
            }
            Some(s) if s.chars().count() > MAX_SOURCE_CHARS => {
                errors.push(
                    field("source"),
                    format!("must be at most {MAX_SOURCE_CHARS} characters"),
                );
                None
            }
            Some(s) if s.chars().any(char::is_control) => {
                errors.push(field("source"), "must not contain control characters");
                None
            }
            Some(s) => Some(s.to_string()),
        };
        let severity = match self.severity.as_deref() {
            Some(raw) => errors.check(&field("severity"), Severity::parse(raw)),
            None => event_type.map(|t| t.default_severity),
        };
        let outcome = event_type.and_then(|t| match t.kind {
            EventKind::Event => {
                if self.status.is_some() {
                    errors.push(field("status"), "is for alarms; events have a `result`");
                }
                match self.result.as_deref() {
                    Some("success") => Some(Outcome::Success),
                    Some("failure") => Some(Outcome::Failure),
                    Some(other) => {
                        errors.push(
                            field("result"),
                            format!("must be `success` or `failure`, not `{other}`"),
                        );
                        None
                    }
                    None => {
                        errors.push(
                            field("result"),
                            "is required for events (`success` or `failure`)",
                        );
                        None
                    }
                }
            }
            EventKind::Alarm => {
                if self.result.is_some() {
                    errors.push(field("result"), "is for events; alarms have a `status`");
                }
                match self.status.as_deref() {
                    Some("firing") => Some(Outcome::Firing),
                    Some("resolved") => Some(Outcome::Resolved),
                    Some(other) => {
                        errors.push(
                            field("status"),
                            format!("must be `firing` or `resolved`, not `{other}`"),
                        );
                        None
                    }
                    None => {
                        errors.push(
                            field("status"),
                            "is required for alarms (`firing` or `resolved`)",
                        );
                        None
                    }
                }
            }
        });
        let occurred_at = match self.occurred_at.as_deref() {
            None => Some(now),
            Some(raw) => errors.check(
                &field("occurred_at"),
                DateTime::parse_from_rfc3339(raw)
                    .map(|t| t.to_utc())
                    .map_err(|_| {
                        format!("`{raw}` is not an RFC 3339 time like 2026-11-27T05:00:00Z")
                    }),
            ),
        };
        let attributes = self.attributes.unwrap_or_default();
        if let Err(message) = check_attributes(&attributes) {
            errors.push(field("attributes"), message);
        }
        let idempotency_key = match self.idempotency_key {
            Some(key) if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_BYTES => {
                errors.push(
                    field("idempotency_key"),
                    format!("must be 1 to {MAX_IDEMPOTENCY_KEY_BYTES} bytes"),
                );
                None
            }
            other => other,
        };

        match (event_type, source, severity, outcome, occurred_at) {
            (Some(t), Some(source), Some(severity), Some(outcome), Some(occurred_at))
                if errors.is_empty() =>
            {
                Ok(Event {
                    id: EventId::generate(),
                    event_type: t.code.clone(),
                    kind: t.kind,
                    severity,
                    outcome,
                    source,
                    occurred_at,
                    received_at: now,
                    attributes,
                    idempotency_key,
                })
            }
            _ => Err(errors.into_vec()),
        }
    }
}

fn check_attributes(attributes: &Map<String, Value>) -> Result<(), String> {
    fn depth(value: &Value) -> usize {
        match value {
            Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
            Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }
    let size = serde_json::to_vec(attributes)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_ATTRIBUTES_BYTES {
        return Err(format!(
            "must be at most {MAX_ATTRIBUTES_BYTES} bytes of JSON (got {size})"
        ));
    }
    if attributes.values().map(depth).max().unwrap_or(0) >= MAX_ATTRIBUTES_DEPTH {
        return Err(format!(
            "must nest at most {MAX_ATTRIBUTES_DEPTH} levels deep"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(body: Value) -> Result<Event, Vec<String>> {
        let input: EventInput = serde_json::from_value(body).unwrap();
        input
            .into_event(Catalog::builtin(), Utc::now(), "")
            .map_err(|errors| errors.into_iter().map(|e| e.field).collect())
    }

    #[test]
    fn an_event_takes_its_defaults_from_the_catalog() {
        let event =
            parse(json!({"type": "dr.host.disconnected", "source": "web-01", "result": "failure"}))
                .unwrap();
        assert_eq!(event.kind, EventKind::Event);
        assert_eq!(event.severity, Severity::Critical);
        assert_eq!(event.outcome, Outcome::Failure);
        assert!(event.id.as_str().starts_with("evt_"));
    }

    #[test]
    fn events_need_a_result_and_alarms_a_status() {
        assert_eq!(
            parse(json!({"type": "dr.host.disconnected", "source": "s"})).unwrap_err(),
            ["result"]
        );
        assert_eq!(
            parse(json!({"type": "alarm.host.cpu_usage", "source": "s", "result": "success"}))
                .unwrap_err(),
            ["result", "status"]
        );
        assert!(
            parse(json!({"type": "alarm.host.cpu_usage", "source": "s", "status": "firing"}))
                .is_ok()
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        let deep = (0..20).fold(json!(1), |inner, _| json!([inner]));
        assert_eq!(
            parse(
                json!({"type": "no.such", "severity": "loud", "occurred_at": "yesterday",
                          "attributes": {"x": deep}, "idempotency_key": ""})
            )
            .unwrap_err(),
            [
                "type",
                "source",
                "severity",
                "occurred_at",
                "attributes",
                "idempotency_key"
            ]
        );
        assert_eq!(
            parse(json!({"type": "hookcast.test", "source": "s", "result": "success"}))
                .unwrap_err(),
            ["type"]
        );
    }
}
