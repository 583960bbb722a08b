//! Events in SQLite: ingest (event + deliveries in one transaction) and reads.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;
use sqlx::SqliteConnection;

use super::{Durability, SqliteStore, json_list, turn_rows};
use crate::domain::event::Event;
use crate::domain::ids::EventId;
use crate::domain::webhook::Webhook;
use crate::store::event_codec::{self, EventRow};
use crate::store::fan_out::FanOut;
use crate::store::webhook_codec;
use crate::store::{Accepted, EventFilter, HandOff, Inserted, Sealer, StoreError};

impl SqliteStore {
    pub(super) async fn insert_events(
        &self,
        events: &[Event],
        now: DateTime<Utc>,
        hand_off: Option<HandOff<'_>>,
    ) -> Result<Inserted, StoreError> {
        let started = std::time::Instant::now();
        // Encoded before taking the write turn, which every other writer waits for.
        let rows: Vec<EventRow> = events.iter().map(event_codec::encode).collect();
        let now_ms = now.timestamp_millis();
        let inserted = self.write_whole(Durability::Durable, |tx| {
            let turn_us = started.elapsed().as_micros() as u64;
            // Subscribers of each type, looked up once per batch.
            let mut subscribers: HashMap<&str, Vec<Arc<Webhook>>> = HashMap::new();
            let mut accepted = Vec::with_capacity(events.len());
            let mut fan_out = FanOut::new(now, hand_off);
            let mut insert_event = tx.prepare_cached(INSERT_EVENT)?;
            for (event, row) in events.iter().zip(&rows) {
                if let Some(key) = &event.idempotency_key
                    && let Some(first) = tx
                        .query_row(
                            "SELECT id FROM events WHERE idempotency_key = ?",
                            [key],
                            |row| row.get::<_, String>(0),
                        )
                        .optional()?
                {
                    let count: i64 = tx.query_row(
                        "SELECT COUNT(*) FROM deliveries WHERE event_id = ?",
                        [&first],
                        |row| row.get(0),
                    )?;
                    accepted.push(Accepted {
                        event_id: EventId::parse(&first).map_err(StoreError::Corrupt)?,
                        deliveries: count as u32,
                        duplicate: true,
                    });
                    continue;
                }
                // Written at once, so a later duplicate in the same batch finds it.
                insert_event.execute(event_params(row))?;
                let code = event.event_type.as_str();
                if !subscribers.contains_key(code) {
                    subscribers.insert(code, subscribers_of(tx, code, &self.sealer)?);
                }
                accepted.push(Accepted {
                    event_id: event.id.clone(),
                    deliveries: fan_out.add(event, &subscribers[code]),
                    duplicate: false,
                });
            }
            let mut insert_delivery = tx.prepare_cached(
                "INSERT INTO deliveries (id, event_id, webhook_id, status, attempts, next_attempt_at, \
                 lease_owner, lease_until, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?5, ?6, ?7, ?7)",
            )?;
            for row in &fan_out.rows {
                insert_delivery.execute(rusqlite::params![
                    row.id,
                    row.event_id,
                    row.webhook_id,
                    row.next_attempt_at,
                    row.lease_owner,
                    row.lease_until,
                    now_ms,
                ])?;
            }
            tracing::debug!(events = events.len(), turn_us, "events inserted");
            Ok(fan_out.finish(accepted))
        });
        let inserted = inserted.await?;
        tracing::debug!(
            events = events.len(),
            took_us = started.elapsed().as_micros() as u64,
            "events committed"
        );
        Ok(inserted)
    }

    pub(super) async fn get_event(&self, id: &EventId) -> Result<Option<Event>, StoreError> {
        let row = sqlx::query("SELECT * FROM events WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            super::rows::read_event(&row)
                .map_err(StoreError::from)
                .and_then(event_codec::decode)
        })
        .transpose()
    }

    pub(super) async fn list_events(&self, filter: &EventFilter) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM events WHERE (?1 IS NULL OR type = ?1) AND (?2 IS NULL OR id < ?2) \
             ORDER BY id DESC LIMIT ?3",
        )
        .bind(filter.event_type.as_deref())
        .bind(filter.before.as_ref().map(|id| id.as_str()))
        .bind(filter.limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                super::rows::read_event(row)
                    .map_err(StoreError::from)
                    .and_then(event_codec::decode)
            })
            .collect()
    }

    /// Events by id, for claimed deliveries.
    pub(super) async fn events_by_ids(
        conn: &mut SqliteConnection,
        ids: &[&str],
    ) -> Result<HashMap<String, Event>, StoreError> {
        let rows = sqlx::query("SELECT * FROM events WHERE id IN (SELECT value FROM json_each(?))")
            .bind(json_list(ids.iter().copied()))
            .fetch_all(&mut *conn)
            .await?;
        rows.iter()
            .map(|row| {
                let event = event_codec::decode(super::rows::read_event(row)?)?;
                Ok((event.id.to_string(), event))
            })
            .collect()
    }
}

/// The enabled webhooks subscribed to `code`, in id order, read in the write turn so
/// that a delivery is never created for a webhook deleted or disabled meanwhile.
fn subscribers_of(
    tx: &rusqlite::Transaction<'_>,
    code: &str,
    sealer: &Sealer,
) -> Result<Vec<Arc<Webhook>>, StoreError> {
    let mut event_types: HashMap<String, Vec<String>> = HashMap::new();
    let mut subscriptions = tx.prepare_cached(
        "SELECT webhook_id, event_type FROM webhook_event_types \
         WHERE webhook_id IN (SELECT webhook_id FROM webhook_event_types WHERE event_type = ?) \
         ORDER BY webhook_id, position",
    )?;
    let mut rows = subscriptions.query([code])?;
    while let Some(row) = rows.next()? {
        event_types
            .entry(row.get(0)?)
            .or_default()
            .push(row.get(1)?);
    }
    let mut webhooks = tx.prepare_cached(
        "SELECT * FROM webhooks WHERE enabled = 1 \
         AND id IN (SELECT webhook_id FROM webhook_event_types WHERE event_type = ?) ORDER BY id",
    )?;
    let mut rows = webhooks.query([code])?;
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        let row = turn_rows::read_webhook(row)?;
        let codes = event_types.remove(&row.id).unwrap_or_default();
        found.push(Arc::new(webhook_codec::decode(row, codes, sealer)?));
    }
    Ok(found)
}

pub(super) const INSERT_EVENT: &str = "INSERT INTO events (id, type, kind, severity, outcome, source, occurred_at, \
     received_at, attributes, idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// An event row's values, in [`INSERT_EVENT`]'s order.
fn event_params(row: &EventRow) -> impl rusqlite::Params + '_ {
    (
        &row.id,
        &row.event_type,
        &row.kind,
        &row.severity,
        &row.outcome,
        &row.source,
        row.occurred_at,
        row.received_at,
        &row.attributes,
        &row.idempotency_key,
    )
}

/// Inserts one event in a whole write turn.
pub(super) fn insert_event_row(
    tx: &rusqlite::Transaction<'_>,
    event: &Event,
) -> Result<(), StoreError> {
    tx.execute(INSERT_EVENT, event_params(&event_codec::encode(event)))?;
    Ok(())
}
