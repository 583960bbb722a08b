//! Delivery and attempt ↔ row, shared by every backend.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use super::event_codec::from_millis;
use super::{ClaimedDelivery, StoreError};
use crate::domain::delivery::{Attempt, Delivery, DeliveryStatus, ErrorKind, LoggedRequest};
use crate::domain::event::Event;
use crate::domain::ids::{AttemptId, DeliveryId, EventId, WebhookId};
use crate::domain::webhook::Webhook;

/// The columns of the `deliveries` table a reader needs.
pub struct DeliveryRow {
    pub id: String,
    pub event_id: String,
    pub webhook_id: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub fn decode_delivery(row: DeliveryRow) -> Result<Delivery, StoreError> {
    let corrupt = |what: &str, message: String| {
        StoreError::Corrupt(format!("delivery {}: {what}: {message}", row.id))
    };
    Ok(Delivery {
        id: DeliveryId::parse(&row.id).map_err(|e| corrupt("id", e))?,
        event_id: EventId::parse(&row.event_id).map_err(|e| corrupt("event_id", e))?,
        webhook_id: WebhookId::parse(&row.webhook_id).map_err(|e| corrupt("webhook_id", e))?,
        status: DeliveryStatus::parse(&row.status).map_err(|e| corrupt("status", e))?,
        attempts: u32::try_from(row.attempts).map_err(|e| corrupt("attempts", e.to_string()))?,
        next_attempt_at: row.next_attempt_at.map(from_millis),
        last_error: row.last_error.clone(),
        created_at: from_millis(row.created_at),
        updated_at: from_millis(row.updated_at),
    })
}

/// The columns of the `attempts` table.
pub struct AttemptRow {
    pub id: String,
    pub delivery_id: String,
    pub number: i64,
    pub started_at: i64,
    pub duration_ms: i64,
    pub request: String,
    pub response_status: Option<i64>,
    pub response_headers: Option<String>,
    pub response_body: Option<String>,
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
}

pub fn encode_attempt(attempt: &Attempt) -> AttemptRow {
    AttemptRow {
        id: attempt.id.to_string(),
        delivery_id: attempt.delivery_id.to_string(),
        number: i64::from(attempt.number),
        started_at: attempt.started_at.timestamp_millis(),
        duration_ms: attempt.duration_ms as i64,
        request: serde_json::to_string(&attempt.request).expect("requests serialize"),
        response_status: attempt.response_status.map(i64::from),
        response_headers: Some(
            serde_json::to_string(&attempt.response_headers).expect("headers serialize"),
        ),
        response_body: attempt.response_body.clone(),
        error_kind: attempt.error_kind.map(|k| k.as_str().to_string()),
        error_message: attempt.error_message.clone(),
    }
}

pub fn decode_attempt(row: AttemptRow) -> Result<Attempt, StoreError> {
    let corrupt = |what: &str, message: String| {
        StoreError::Corrupt(format!("attempt {}: {what}: {message}", row.id))
    };
    let request: LoggedRequest =
        serde_json::from_str(&row.request).map_err(|e| corrupt("request", e.to_string()))?;
    let response_headers: Vec<(String, String)> = match &row.response_headers {
        Some(json) => {
            serde_json::from_str(json).map_err(|e| corrupt("response_headers", e.to_string()))?
        }
        None => Vec::new(),
    };
    Ok(Attempt {
        id: AttemptId::parse(&row.id).map_err(|e| corrupt("id", e))?,
        delivery_id: DeliveryId::parse(&row.delivery_id).map_err(|e| corrupt("delivery_id", e))?,
        number: u32::try_from(row.number).map_err(|e| corrupt("number", e.to_string()))?,
        started_at: from_millis(row.started_at),
        duration_ms: u64::try_from(row.duration_ms).unwrap_or(0),
        request,
        response_status: row.response_status.and_then(|s| u16::try_from(s).ok()),
        response_headers,
        response_body: row.response_body.clone(),
        error_kind: row
            .error_kind
            .as_deref()
            .map(ErrorKind::parse)
            .transpose()
            .map_err(|e| corrupt("error_kind", e))?,
        error_message: row.error_message.clone(),
    })
}

/// Each id once, for a lookup of the events or webhooks of many deliveries (a claim is
/// mostly many deliveries of a few webhooks).
pub fn distinct<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    ids.collect::<BTreeSet<&str>>().into_iter().collect()
}

/// Puts claimed deliveries together with their events and webhooks (each shared, as
/// many deliveries of one batch point at the same ones).
pub fn assemble_claimed(
    deliveries: Vec<Delivery>,
    events: HashMap<String, Event>,
    webhooks: HashMap<String, Webhook>,
) -> Result<Vec<ClaimedDelivery>, StoreError> {
    let events: HashMap<String, Arc<Event>> = events
        .into_iter()
        .map(|(id, e)| (id, Arc::new(e)))
        .collect();
    let webhooks: HashMap<String, Arc<Webhook>> = webhooks
        .into_iter()
        .map(|(id, w)| (id, Arc::new(w)))
        .collect();
    deliveries
        .into_iter()
        .map(|delivery| {
            let missing =
                |what: &str| StoreError::Corrupt(format!("delivery {} has no {what}", delivery.id));
            Ok(ClaimedDelivery {
                event: events
                    .get(delivery.event_id.as_str())
                    .cloned()
                    .ok_or_else(|| missing("event"))?,
                webhook: webhooks
                    .get(delivery.webhook_id.as_str())
                    .cloned()
                    .ok_or_else(|| missing("webhook"))?,
                delivery,
            })
        })
        .collect()
}
