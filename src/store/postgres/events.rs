//! Events in PostgreSQL: ingest (event + deliveries in one transaction, then NOTIFY)
//! and reads.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::rows::read_event;
use super::{PgStore, WORK_CHANNEL};
use crate::domain::event::Event;
use crate::domain::ids::{DeliveryId, EventId};
use crate::store::event_codec;
use crate::store::{Accepted, EventFilter, StoreError};

impl PgStore {
    pub(super) async fn insert_events(
        &self,
        events: &[Event],
        now: DateTime<Utc>,
    ) -> Result<Vec<Accepted>, StoreError> {
        let now_ms = now.timestamp_millis();
        let mut tx = self.pool.begin().await?;
        let mut subscribers: HashMap<String, Vec<String>> = HashMap::new();
        let mut accepted = Vec::with_capacity(events.len());
        let mut created = 0;
        for event in events {
            if let Some(key) = &event.idempotency_key {
                // Another node may insert the same key at the same moment: the unique
                // index decides, and the loser answers with the winner's event.
                let inserted = insert_event_row(&mut tx, event, true).await?;
                if !inserted {
                    let first: String =
                        sqlx::query_scalar("SELECT id FROM events WHERE idempotency_key = $1")
                            .bind(key)
                            .fetch_one(&mut *tx)
                            .await?;
                    let count: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE event_id = $1")
                            .bind(&first)
                            .fetch_one(&mut *tx)
                            .await?;
                    accepted.push(Accepted {
                        event_id: EventId::parse(&first).map_err(StoreError::Corrupt)?,
                        deliveries: count as u32,
                        duplicate: true,
                    });
                    continue;
                }
            } else {
                insert_event_row(&mut tx, event, false).await?;
            }
            let code = event.event_type.as_str();
            if !subscribers.contains_key(code) {
                let ids: Vec<String> = sqlx::query_scalar(
                    "SELECT w.id FROM webhook_event_types t JOIN webhooks w ON w.id = t.webhook_id \
                     WHERE t.event_type = $1 AND w.enabled ORDER BY w.id",
                )
                .bind(code)
                .fetch_all(&mut *tx)
                .await?;
                subscribers.insert(code.to_string(), ids);
            }
            let webhook_ids = &subscribers[code];
            if !webhook_ids.is_empty() {
                let ids: Vec<String> = webhook_ids
                    .iter()
                    .map(|_| DeliveryId::generate().to_string())
                    .collect();
                sqlx::query(
                    "INSERT INTO deliveries (id, event_id, webhook_id, status, attempts, next_attempt_at, created_at, updated_at) \
                     SELECT d, $2, w, 'pending', 0, $3, $3, $3 FROM unnest($1::text[], $4::text[]) AS t(d, w)",
                )
                .bind(&ids)
                .bind(event.id.as_str())
                .bind(now_ms)
                .bind(webhook_ids)
                .execute(&mut *tx)
                .await?;
                created += ids.len();
            }
            accepted.push(Accepted {
                event_id: event.id.clone(),
                deliveries: webhook_ids.len() as u32,
                duplicate: false,
            });
        }
        if created > 0 {
            // Delivered to listening nodes when (and only if) the transaction commits.
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(WORK_CHANNEL)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(accepted)
    }

    pub(super) async fn get_event(&self, id: &EventId) -> Result<Option<Event>, StoreError> {
        let row = sqlx::query("SELECT * FROM events WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            read_event(&row)
                .map_err(StoreError::from)
                .and_then(event_codec::decode)
        })
        .transpose()
    }

    pub(super) async fn list_events(&self, filter: &EventFilter) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM events WHERE ($1::text IS NULL OR type = $1) AND ($2::text IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(filter.event_type.as_deref())
        .bind(filter.before.as_ref().map(|id| id.as_str()))
        .bind(filter.limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                read_event(row)
                    .map_err(StoreError::from)
                    .and_then(event_codec::decode)
            })
            .collect()
    }

    pub(super) async fn events_by_ids(
        conn: &mut PgConnection,
        ids: &[String],
    ) -> Result<HashMap<String, Event>, StoreError> {
        let rows = sqlx::query("SELECT * FROM events WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(&mut *conn)
            .await?;
        rows.iter()
            .map(|row| {
                let event = event_codec::decode(read_event(row)?)?;
                Ok((event.id.to_string(), event))
            })
            .collect()
    }
}

/// Inserts the event; with `keyed`, a row with the same idempotency key makes this a
/// no-op that returns false.
pub(super) async fn insert_event_row(
    conn: &mut PgConnection,
    event: &Event,
    keyed: bool,
) -> Result<bool, StoreError> {
    let row = event_codec::encode(event);
    let sql = if keyed {
        "INSERT INTO events (id, type, kind, severity, outcome, source, occurred_at, received_at, attributes, \
         idempotency_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (idempotency_key) DO NOTHING"
    } else {
        "INSERT INTO events (id, type, kind, severity, outcome, source, occurred_at, received_at, attributes, \
         idempotency_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    };
    let done = sqlx::query(sql)
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
    Ok(done.rows_affected() == 1)
}
