//! Events in SQLite: ingest (event + deliveries in one transaction) and reads.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use super::{Durability, SqliteStore, json_list};
use crate::domain::event::Event;
use crate::domain::ids::EventId;
use crate::domain::webhook::Webhook;
use crate::store::event_codec;
use crate::store::fan_out::FanOut;
use crate::store::{Accepted, EventFilter, HandOff, Inserted, StoreError};

impl SqliteStore {
    pub(super) async fn insert_events(
        &self,
        events: &[Event],
        now: DateTime<Utc>,
        hand_off: Option<HandOff<'_>>,
    ) -> Result<Inserted, StoreError> {
        let started = std::time::Instant::now();
        let mut tx = self.begin_write(Durability::Durable).await?;
        let turn_us = started.elapsed().as_micros() as u64;
        // Subscribers of each type, looked up once per batch.
        let mut subscribers: HashMap<String, Vec<Arc<Webhook>>> = HashMap::new();
        let mut accepted = Vec::with_capacity(events.len());
        let mut plain: Vec<&Event> = Vec::new();
        let mut fan_out = FanOut::new(now, hand_off);
        for event in events {
            if let Some(key) = &event.idempotency_key
                && let Some(first) = sqlx::query("SELECT id FROM events WHERE idempotency_key = ?")
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await?
            {
                let id: String = first.try_get("id")?;
                let count: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE event_id = ?")
                        .bind(&id)
                        .fetch_one(&mut *tx)
                        .await?;
                accepted.push(Accepted {
                    event_id: EventId::parse(&id).map_err(StoreError::Corrupt)?,
                    deliveries: count as u32,
                    duplicate: true,
                });
                continue;
            }
            // Keyed events are written at once (a later duplicate in the same batch
            // must find them); the others are written together below.
            if event.idempotency_key.is_some() {
                insert_event_row(&mut tx, event).await?;
            } else {
                plain.push(event);
            }
            let code = event.event_type.as_str();
            if !subscribers.contains_key(code) {
                let found = self.subscribers(&mut tx, code).await?;
                subscribers.insert(code.to_string(), found);
            }
            accepted.push(Accepted {
                event_id: event.id.clone(),
                deliveries: fan_out.add(event, &subscribers[code]),
                duplicate: false,
            });
        }
        // Multi-row inserts: one statement per few hundred rows, not one per row (each
        // statement is a round trip to SQLite's connection thread).
        for chunk in plain.chunks(300) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO events (id, type, kind, severity, outcome, source, occurred_at, received_at, \
                 attributes, idempotency_key) ",
            );
            insert.push_values(chunk, |mut values, event| {
                let row = event_codec::encode(event);
                values
                    .push_bind(row.id)
                    .push_bind(row.event_type)
                    .push_bind(row.kind)
                    .push_bind(row.severity)
                    .push_bind(row.outcome)
                    .push_bind(row.source)
                    .push_bind(row.occurred_at)
                    .push_bind(row.received_at)
                    .push_bind(row.attributes)
                    .push_bind(row.idempotency_key);
            });
            insert.build().execute(&mut *tx).await?;
        }
        let now_ms = now.timestamp_millis();
        for chunk in fan_out.rows.chunks(300) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO deliveries (id, event_id, webhook_id, status, attempts, next_attempt_at, \
                 lease_owner, lease_until, created_at, updated_at) ",
            );
            insert.push_values(chunk, |mut values, row| {
                values
                    .push_bind(row.id.as_str())
                    .push_bind(row.event_id.as_str())
                    .push_bind(row.webhook_id.as_str())
                    .push_bind("pending")
                    .push_bind(0_i64)
                    .push_bind(row.next_attempt_at)
                    .push_bind(row.lease_owner.as_deref())
                    .push_bind(row.lease_until)
                    .push_bind(now_ms)
                    .push_bind(now_ms);
            });
            insert.build().execute(&mut *tx).await?;
        }
        let commit_started = std::time::Instant::now();
        tx.commit().await?;
        tracing::debug!(
            events = events.len(),
            turn_us,
            commit_us = commit_started.elapsed().as_micros() as u64,
            took_us = started.elapsed().as_micros() as u64,
            "events inserted"
        );
        Ok(fan_out.finish(accepted))
    }

    /// The enabled webhooks subscribed to `code`, in id order.
    async fn subscribers(
        &self,
        conn: &mut SqliteConnection,
        code: &str,
    ) -> Result<Vec<Arc<Webhook>>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT w.id FROM webhook_event_types t JOIN webhooks w ON w.id = t.webhook_id \
             WHERE t.event_type = ? AND w.enabled = 1 ORDER BY w.id",
        )
        .bind(code)
        .fetch_all(&mut *conn)
        .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let mut webhooks = self.webhooks_by_ids(conn, &id_refs).await?;
        Ok(ids
            .iter()
            .filter_map(|id| webhooks.remove(id).map(Arc::new))
            .collect())
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

pub(super) async fn insert_event_row(
    conn: &mut SqliteConnection,
    event: &Event,
) -> Result<(), StoreError> {
    let row = event_codec::encode(event);
    sqlx::query(
        "INSERT INTO events (id, type, kind, severity, outcome, source, occurred_at, received_at, attributes, \
         idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&row.id)
    .bind(&row.event_type)
    .bind(&row.kind)
    .bind(&row.severity)
    .bind(&row.outcome)
    .bind(&row.source)
    .bind(row.occurred_at)
    .bind(row.received_at)
    .bind(&row.attributes)
    .bind(&row.idempotency_key)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
