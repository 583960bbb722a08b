//! Events in PostgreSQL: ingest (event + deliveries in one transaction, then NOTIFY)
//! and reads.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::rows::read_event;
use super::{INGEST_COMMITTERS, PgStore, WORK_CHANNEL};
use crate::domain::event::Event;
use crate::domain::ids::EventId;
use crate::store::fan_out::{FanOut, NewDelivery};
use crate::store::{Accepted, EventFilter, HandOff, Inserted, StoreError};
use crate::store::{delivery_codec, event_codec};

impl PgStore {
    /// Stores events and their deliveries. Without idempotency keys that takes one
    /// round trip while the kept subscribers are current (`subscribers.rs`): one
    /// statement that writes the events, the deliveries and the wake-up and commits
    /// alone; reading the subscribers, when needed, goes before it. A transaction around
    /// them would not make the read more current (under READ COMMITTED each statement
    /// reads its own snapshot); it would only add BEGIN and COMMIT. A loopback round trip
    /// cost 0.11 ms where a committed one-row insert cost 0.27 ms (BENCHMARKS.md, the
    /// thirteenth pass).
    pub(super) async fn insert_events(
        &self,
        events: &[Event],
        now: DateTime<Utc>,
        hand_off: Option<HandOff<'_>>,
    ) -> Result<Inserted, StoreError> {
        if events.iter().any(|event| event.idempotency_key.is_some()) {
            return self.insert_keyed_events(events, now, hand_off).await;
        }
        let mut conn = self.ingest_pool.acquire().await?;
        let subscribers = self.subscribers.of(&mut conn, events, &self.sealer).await?;
        let mut fan_out = FanOut::new(now, hand_off);
        let accepted = events
            .iter()
            .map(|event| Accepted {
                event_id: event.id.clone(),
                deliveries: fan_out.add(event, subscribers.of(event)),
                duplicate: false,
            })
            .collect();
        let rows = events.iter().map(event_codec::encode).collect();
        let (wake, generation) = (fan_out.queued > 0, subscribers.generation);
        self.write_events(&mut conn, rows, &fan_out.rows, wake, generation, now)
            .await?;
        Ok(fan_out.finish(accepted))
    }

    /// Opens every ingest connection and runs ingest's write once on each, storing
    /// nothing (no rows, so no transaction id and no WAL to flush), so the first events
    /// after a start pay neither for connecting nor for a new PostgreSQL backend's first
    /// preparing and planning of the statement. Before this, per-event timings of the
    /// bench's latency and isolation lines showed the first five to nine events of
    /// each fresh node at 5-22 ms; after it, none of the first fifty over 4 ms
    /// (BENCHMARKS.md, the twentieth pass). The isolation line's p99 allows 25.
    pub(super) async fn warm_ingest(&self) -> Result<(), StoreError> {
        let mut connections = Vec::with_capacity(INGEST_COMMITTERS as usize);
        // Each held while the next is taken, so the pool opens them all.
        for _ in 0..INGEST_COMMITTERS {
            connections.push(self.ingest_pool.acquire().await?);
        }
        let generation: i64 = sqlx::query_scalar("SELECT value FROM webhook_generation")
            .fetch_one(&mut *connections[0])
            .await?;
        for conn in &mut connections {
            match self
                .write_events(conn, Vec::new(), &[], false, generation, Utc::now())
                .await
            {
                // A webhook changed meanwhile: the statement ran all the same.
                Ok(()) | Err(StoreError::SubscriberGone) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// The same with idempotency keys, in a transaction: a keyed event is inserted on
    /// its own first, and if its key is taken, answered with the first event's id.
    async fn insert_keyed_events(
        &self,
        events: &[Event],
        now: DateTime<Utc>,
        hand_off: Option<HandOff<'_>>,
    ) -> Result<Inserted, StoreError> {
        let mut tx = self.ingest_pool.begin().await?;
        let subscribers = self.subscribers.of(&mut tx, events, &self.sealer).await?;
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
            accepted.push(Accepted {
                event_id: event.id.clone(),
                deliveries: fan_out.add(event, subscribers.of(event)),
                duplicate: false,
            });
        }
        let rows = plain.into_iter().map(event_codec::encode).collect();
        let (wake, generation) = (fan_out.queued > 0, subscribers.generation);
        self.write_events(&mut tx, rows, &fan_out.rows, wake, generation, now)
            .await?;
        tx.commit().await?;
        Ok(fan_out.finish(accepted))
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

impl PgStore {
    /// Writes the events, their deliveries and (with `wake`) the wake-up in one
    /// statement. Each column goes as one array, so the statement's text is the same
    /// for any number of rows and is prepared once per connection.
    ///
    /// The statement writes nothing ([`StoreError::SubscriberGone`], and the kept
    /// subscribers are forgotten) if the webhooks changed since the subscribers were
    /// read: if the webhook generation has moved, or if a webhook fanned out to is
    /// gone or disabled (migration 0009). It locks those webhooks (`FOR KEY SHARE`,
    /// once each), which holds off their deletion until it commits. This does once per
    /// statement what foreign keys did once per delivery (migration 0008).
    async fn write_events(
        &self,
        conn: &mut PgConnection,
        rows: Vec<event_codec::EventRow>,
        deliveries: &[NewDelivery],
        wake: bool,
        generation: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let webhook_ids =
            delivery_codec::distinct(deliveries.iter().map(|d| d.webhook_id.as_str()));
        let current: bool = sqlx::query_scalar(
            "WITH live AS ( \
               SELECT id FROM webhooks WHERE id = ANY($19::text[]) AND enabled FOR KEY SHARE \
             ), complete AS ( \
               SELECT count(*) = cardinality($19::text[]) \
                      AND (SELECT value FROM webhook_generation) = $20 AS ok FROM live \
             ), new_events AS ( \
               INSERT INTO events (id, type, kind, severity, outcome, source, occurred_at, received_at, attributes) \
               SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
                                    $7::bigint[], $8::bigint[], $9::text[]) \
               WHERE (SELECT ok FROM complete) \
             ), new_deliveries AS ( \
               INSERT INTO deliveries (id, event_id, webhook_id, status, attempts, next_attempt_at, \
                                       lease_owner, lease_until, created_at, updated_at) \
               SELECT id, event_id, webhook_id, 'pending', 0, next_attempt_at, lease_owner, lease_until, $16, $16 \
               FROM UNNEST($10::text[], $11::text[], $12::text[], $13::bigint[], $14::text[], $15::bigint[]) \
                    AS d (id, event_id, webhook_id, next_attempt_at, lease_owner, lease_until) \
               WHERE (SELECT ok FROM complete) \
             ) \
             SELECT ok FROM complete, \
               LATERAL (SELECT CASE WHEN $18 AND ok THEN pg_notify($17, '') END) AS wake",
        )
        .bind(rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.event_type.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.severity.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.outcome.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.source.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.occurred_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.received_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.attributes.as_str()).collect::<Vec<_>>())
        .bind(deliveries.iter().map(|d| d.id.as_str()).collect::<Vec<_>>())
        .bind(deliveries.iter().map(|d| d.event_id.as_str()).collect::<Vec<_>>())
        .bind(deliveries.iter().map(|d| d.webhook_id.as_str()).collect::<Vec<_>>())
        .bind(deliveries.iter().map(|d| d.next_attempt_at).collect::<Vec<_>>())
        .bind(deliveries.iter().map(|d| d.lease_owner.as_deref()).collect::<Vec<_>>())
        .bind(deliveries.iter().map(|d| d.lease_until).collect::<Vec<_>>())
        .bind(now.timestamp_millis())
        .bind(WORK_CHANNEL)
        .bind(wake)
        .bind(webhook_ids)
        .bind(generation)
        .fetch_one(&mut *conn)
        .await?;
        if current {
            Ok(())
        } else {
            self.subscribers.forget();
            Err(StoreError::SubscriberGone)
        }
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
         idempotency_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"
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
