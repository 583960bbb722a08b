//! Events in PostgreSQL: ingest (event + deliveries in one transaction, then NOTIFY)
//! and reads.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::rows::read_event;
use super::{PgStore, WORK_CHANNEL};
use crate::domain::event::Event;
use crate::domain::ids::EventId;
use crate::domain::webhook::Webhook;
use crate::store::event_codec;
use crate::store::fan_out::FanOut;
use crate::store::{Accepted, EventFilter, HandOff, Inserted, StoreError};

impl PgStore {
    pub(super) async fn insert_events(
        &self,
        events: &[Event],
        now: DateTime<Utc>,
        hand_off: Option<HandOff<'_>>,
    ) -> Result<Inserted, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut subscribers: HashMap<String, Vec<Arc<Webhook>>> = HashMap::new();
        let mut accepted = Vec::with_capacity(events.len());
        let mut plain: Vec<&Event> = Vec::new();
        let mut fan_out = FanOut::new(now, hand_off);
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
        // Multi-row inserts rather than one statement (one round trip) per row.
        for chunk in plain.chunks(500) {
            let mut insert = QueryBuilder::<Postgres>::new(
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
        for chunk in fan_out.rows.chunks(1000) {
            let mut insert = QueryBuilder::<Postgres>::new(
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
        if fan_out.queued > 0 {
            // Delivered to listening nodes when (and only if) the transaction commits.
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(WORK_CHANNEL)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(fan_out.finish(accepted))
    }

    /// The enabled webhooks subscribed to `code`, in id order.
    async fn subscribers(
        &self,
        conn: &mut PgConnection,
        code: &str,
    ) -> Result<Vec<Arc<Webhook>>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT w.id FROM webhook_event_types t JOIN webhooks w ON w.id = t.webhook_id \
             WHERE t.event_type = $1 AND w.enabled ORDER BY w.id",
        )
        .bind(code)
        .fetch_all(&mut *conn)
        .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut webhooks = self.webhooks_by_ids(conn, &ids).await?;
        Ok(ids
            .iter()
            .filter_map(|id| webhooks.remove(id).map(Arc::new))
            .collect())
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
