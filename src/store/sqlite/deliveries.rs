//! The delivery queue in SQLite: claim, record, release, and the delivery log.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;
use sqlx::Row;

use super::events::insert_event_row;
use super::{Durability, SqliteStore};
use crate::domain::choices::DisabledReason;
use crate::domain::delivery::{Attempt, Delivery};
use crate::domain::event::Event;
use crate::domain::ids::{DeliveryId, WebhookId};
use crate::store::delivery_codec::{self, AttemptRow};
use crate::store::event_codec::from_millis;
use crate::store::health::{HealthChange, health_changes};
use crate::store::{
    AttemptRecord, AttemptSummary, ClaimRequest, ClaimedDelivery, DeliveryFilter, DisabledWebhook,
    StoreError, WebhookHealth,
};

/// `next_attempt_at` for a delivery that should be due at `?`: parked (NULL) while its
/// webhook is disabled.
const DUE_UNLESS_DISABLED: &str = "CASE WHEN (SELECT enabled FROM webhooks WHERE webhooks.id = deliveries.webhook_id) = 1 THEN ? ELSE NULL END";

const DELIVERY_COLUMNS: &str = "id, event_id, webhook_id, status, attempts, next_attempt_at, last_error, created_at, updated_at";

impl SqliteStore {
    pub(super) async fn claim_due(
        &self,
        request: &ClaimRequest,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let now = request.now.timestamp_millis();
        let lease_end = now + request.lease.as_millis() as i64;
        let room: serde_json::Map<String, serde_json::Value> = request
            .webhook_room
            .iter()
            .map(|(id, room)| (id.to_string(), serde_json::Value::from(*room)))
            .collect();
        // Per webhook with room, its earliest due deliveries, found through the index
        // on (webhook_id, next_attempt_at) and bounded by the due time of the
        // `deepest`-th one (the largest room), so no webhook costs more than that;
        // then at most its room of each, the earliest overall first. A webhook out of
        // room is never looked at, however many deliveries it has waiting. A claimed
        // delivery's due time becomes its lease's end: it is due again only if the
        // claim is never finished.
        let deepest = request
            .webhook_room
            .iter()
            .map(|(_, room)| *room)
            .chain([request.per_webhook])
            .max()
            .unwrap_or(1)
            .max(1);
        let turn = self.write_turn.after_others("claim").await;
        let claimed = sqlx::query(
            "WITH room(webhook_id, room) AS MATERIALIZED (SELECT key, value FROM json_each(?1)), \
             open AS (SELECT w.id AS webhook_id, COALESCE(room.room, ?4) AS room \
                      FROM webhooks w LEFT JOIN room ON room.webhook_id = w.id), \
             bound AS MATERIALIZED (SELECT webhook_id, room, \
                       MIN(?2, COALESCE((SELECT d.next_attempt_at FROM deliveries d \
                                         WHERE d.webhook_id = open.webhook_id AND d.next_attempt_at IS NOT NULL \
                                         ORDER BY d.next_attempt_at LIMIT 1 OFFSET ?7), ?2)) AS until \
                       FROM open WHERE room > 0), \
             due AS (SELECT d.id, d.webhook_id, d.next_attempt_at, bound.room FROM bound \
                     CROSS JOIN deliveries d WHERE d.webhook_id = bound.webhook_id \
                      AND d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= bound.until), \
             ranked AS (SELECT id, next_attempt_at, room, \
                        ROW_NUMBER() OVER (PARTITION BY webhook_id ORDER BY next_attempt_at, id) AS rn \
                        FROM due) \
             UPDATE deliveries SET next_attempt_at = ?5, lease_until = ?5, lease_owner = ?6 \
             WHERE id IN (SELECT id FROM ranked WHERE rn <= room ORDER BY next_attempt_at LIMIT ?3) \
             RETURNING id, event_id, webhook_id, status, attempts, next_attempt_at, last_error, created_at, updated_at",
        )
        .bind(serde_json::Value::Object(room).to_string())
        .bind(now)
        .bind(request.limit as i64)
        .bind(request.per_webhook as i64)
        .bind(lease_end)
        .bind(&request.owner)
        .bind(deepest as i64 - 1)
        .fetch_all(&self.writer)
        .await?;
        drop(turn);
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let deliveries = claimed
            .iter()
            .map(|row| delivery_codec::decode_delivery(super::rows::read_delivery(row)?))
            .collect::<Result<Vec<_>, StoreError>>()?;

        let mut conn = self.pool.acquire().await?;
        let event_ids = delivery_codec::distinct(deliveries.iter().map(|d| d.event_id.as_str()));
        let webhook_ids =
            delivery_codec::distinct(deliveries.iter().map(|d| d.webhook_id.as_str()));
        let events = Self::events_by_ids(&mut conn, &event_ids).await?;
        let webhooks = self.webhooks_by_ids(&mut conn, &webhook_ids).await?;
        delivery_codec::assemble_claimed(deliveries, events, webhooks)
    }

    pub(super) async fn next_due_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let next: Option<i64> = sqlx::query_scalar(crate::store::NEXT_DUE_SQL)
            .fetch_one(&self.pool)
            .await?;
        Ok(next.map(from_millis))
    }

    pub(super) async fn record_attempts(
        &self,
        records: &[AttemptRecord],
        now: DateTime<Utc>,
    ) -> Result<Vec<DisabledWebhook>, StoreError> {
        let now_ms = now.timestamp_millis();
        // Encoded before taking the write turn, which every other writer waits for.
        let attempts: Vec<AttemptRow> = records
            .iter()
            .map(|record| delivery_codec::encode_attempt(&record.attempt))
            .collect();
        let healthy: BTreeSet<&str> = records
            .iter()
            .filter(|r| r.health == WebhookHealth::Healthy)
            .map(|r| r.webhook_id.as_str())
            .collect();
        self.write_whole(Durability::Relaxed("results"), |tx| {
            // One statement per row, each prepared once per batch: on this thread a
            // row costs its own work, with no round trip to batch away. The delivery
            // first: when this node still holds it, it exists, and its attempt is a
            // plain one-row insert (see INSERT_ATTEMPT).
            let mut update = tx.prepare_cached(FINISH_DELIVERY)?;
            let mut insert = tx.prepare_cached(INSERT_ATTEMPT)?;
            let mut exists = tx.prepare_cached(DELIVERY_EXISTS)?;
            let mut lost = 0;
            for (record, row) in records.iter().zip(&attempts) {
                let updated = update.execute(rusqlite::params![
                    row.delivery_id,
                    record.status.as_str(),
                    row.number,
                    record.last_error,
                    record.next_attempt_at.map(|t| t.timestamp_millis()),
                    record.owner,
                    now_ms,
                ])?;
                if updated == 0 {
                    lost += 1;
                    if !exists.exists([&row.delivery_id])? {
                        continue;
                    }
                }
                insert.execute(rusqlite::params![
                    row.id,
                    row.delivery_id,
                    row.number,
                    row.started_at,
                    row.duration_ms,
                    row.request,
                    row.response_status,
                    row.response_headers,
                    row.response_body,
                    row.error_kind,
                    row.error_message,
                ])?;
            }
            if lost > 0 {
                tracing::warn!(
                    lost,
                    "claims expired (or their webhook was deleted) before their attempts were recorded"
                );
            }
            // Healthy webhooks in one statement; failures (rarer) one by one.
            if !healthy.is_empty() {
                tx.execute(
                    "UPDATE webhooks SET failing_since = NULL \
                     WHERE failing_since IS NOT NULL AND id IN (SELECT value FROM json_each(?))",
                    [super::json_list(healthy.iter().copied())],
                )?;
            }
            let mut disabled = Vec::new();
            for change in health_changes(records) {
                let newly_disabled = match change {
                    HealthChange::Failing {
                        webhook,
                        disable_if_failing_since,
                    } => {
                        tx.execute(
                            "UPDATE webhooks SET failing_since = ? WHERE id = ? AND failing_since IS NULL",
                            rusqlite::params![now_ms, webhook],
                        )?;
                        disable(
                            tx,
                            webhook,
                            DisabledReason::Failing,
                            Some(disable_if_failing_since),
                            now_ms,
                        )?
                    }
                    HealthChange::Gone { webhook } => {
                        disable(tx, webhook, DisabledReason::Gone, None, now_ms)?
                    }
                };
                disabled.extend(newly_disabled);
            }
            Ok(disabled)
        })
        .await
    }

    pub(super) async fn release_claims(
        &self,
        owner: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let _turn = self.write_turn.first().await;
        let released = sqlx::query(
            "UPDATE deliveries SET lease_owner = NULL, lease_until = NULL, \
             next_attempt_at = CASE WHEN (SELECT enabled FROM webhooks WHERE webhooks.id = deliveries.webhook_id) = 1 \
                               THEN ?1 ELSE NULL END \
             WHERE lease_owner IS NOT NULL AND (?2 IS NULL OR lease_owner = ?2)",
        )
        .bind(now.timestamp_millis())
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(released.rows_affected())
    }

    pub(super) async fn insert_test_delivery(
        &self,
        event: &Event,
        webhook_id: &WebhookId,
        now: DateTime<Utc>,
    ) -> Result<Delivery, StoreError> {
        let now_ms = now.timestamp_millis();
        let id = DeliveryId::generate();
        self.write_whole(Durability::Durable, |tx| {
            insert_event_row(tx, event)?;
            tx.execute(
                "INSERT INTO deliveries (id, event_id, webhook_id, status, attempts, next_attempt_at, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, 'pending', 0, NULL, ?4, ?4)",
                rusqlite::params![id.as_str(), event.id.as_str(), webhook_id.as_str(), now_ms],
            )?;
            Ok(())
        })
        .await?;
        Ok(self.get_delivery(&id).await?.ok_or(StoreError::NotFound)?.0)
    }

    pub(super) async fn list_deliveries(
        &self,
        filter: &DeliveryFilter,
    ) -> Result<Vec<Delivery>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries \
             WHERE (?1 IS NULL OR webhook_id = ?1) AND (?2 IS NULL OR event_id = ?2) \
               AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR id < ?4) \
               AND (?6 IS NULL OR created_at >= ?6) \
             ORDER BY id DESC LIMIT ?5"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(filter.webhook_id.as_ref().map(|id| id.as_str()))
            .bind(filter.event_id.as_ref().map(|id| id.as_str()))
            .bind(filter.status.map(|s| s.as_str()))
            .bind(filter.before.as_ref().map(|id| id.as_str()))
            .bind(filter.limit as i64)
            .bind(filter.since.map(|t| t.timestamp_millis()))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| delivery_codec::decode_delivery(super::rows::read_delivery(row)?))
            .collect()
    }

    pub(super) async fn delete_expired(
        &self,
        before: DateTime<Utc>,
        batch: usize,
    ) -> Result<u64, StoreError> {
        let before = before.timestamp_millis();
        let mut tx = self.begin_write(Durability::Relaxed("retention")).await?;
        let deleted = sqlx::query(
            "DELETE FROM deliveries WHERE id IN \
             (SELECT id FROM deliveries WHERE status = 'succeeded' AND updated_at < ? LIMIT ?)",
        )
        .bind(before)
        .bind(batch as i64)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "UPDATE attempts SET response_body = NULL, request = json_set(request, '$.body', '') WHERE id IN \
             (SELECT id FROM attempts WHERE started_at < ? AND response_body IS NOT NULL LIMIT ?)",
        )
        .bind(before)
        .bind(batch as i64)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM events WHERE id IN (SELECT id FROM events e WHERE received_at < ? \
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) LIMIT ?)",
        )
        .bind(before)
        .bind(batch as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(deleted)
    }

    pub(super) async fn attempt_summaries(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<AttemptSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.webhook_id, a.started_at, a.duration_ms, a.error_kind IS NULL AS delivered \
             FROM attempts a JOIN deliveries d ON d.id = a.delivery_id \
             WHERE a.started_at >= ? ORDER BY a.started_at DESC LIMIT ?",
        )
        .bind(since.timestamp_millis())
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let webhook_id: String = row.try_get("webhook_id")?;
                let duration: i64 = row.try_get("duration_ms")?;
                Ok(AttemptSummary {
                    webhook_id: WebhookId::parse(&webhook_id).map_err(StoreError::Corrupt)?,
                    started_at: from_millis(row.try_get("started_at")?),
                    duration_ms: u64::try_from(duration).unwrap_or(0),
                    delivered: row.try_get("delivered")?,
                })
            })
            .collect()
    }

    pub(super) async fn get_delivery(
        &self,
        id: &DeliveryId,
    ) -> Result<Option<(Delivery, Vec<Attempt>)>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let sql = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?");
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        let delivery = delivery_codec::decode_delivery(super::rows::read_delivery(&row)?)?;
        let attempts =
            sqlx::query("SELECT * FROM attempts WHERE delivery_id = ? ORDER BY number, started_at")
                .bind(id.as_str())
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|row| delivery_codec::decode_attempt(super::rows::read_attempt(row)?))
                .collect::<Result<Vec<_>, _>>()?;
        Ok(Some((delivery, attempts)))
    }

    pub(super) async fn retry_delivery(
        &self,
        id: &DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<Delivery, StoreError> {
        let mut tx = self.begin_write(Durability::Durable).await?;
        let owner: Option<Option<String>> =
            sqlx::query_scalar("SELECT lease_owner FROM deliveries WHERE id = ?")
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        match owner {
            None => return Err(StoreError::NotFound),
            Some(Some(_)) => return Err(StoreError::InFlight),
            Some(None) => {}
        }
        let sql = format!(
            "UPDATE deliveries SET status = 'pending', updated_at = ?, next_attempt_at = {DUE_UNLESS_DISABLED} \
             WHERE id = ?"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now.timestamp_millis())
            .bind(now.timestamp_millis())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(self.get_delivery(id).await?.ok_or(StoreError::NotFound)?.0)
    }

    pub(super) async fn replay_failed(
        &self,
        webhook_id: &WebhookId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let sql = format!(
            "UPDATE deliveries SET status = 'pending', updated_at = ?, next_attempt_at = {DUE_UNLESS_DISABLED} \
             WHERE webhook_id = ? AND status = 'failed' AND created_at >= ? AND created_at <= ?"
        );
        let _turn = self.write_turn.first().await;
        let replayed = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now.timestamp_millis())
            .bind(now.timestamp_millis())
            .bind(webhook_id.as_str())
            .bind(since.timestamp_millis())
            .bind(until.timestamp_millis())
            .execute(&self.pool)
            .await?;
        Ok(replayed.rows_affected())
    }
}

/// Disables an enabled webhook (when `failing_before` is given: only if it has been
/// failing since before then) and parks its waiting deliveries.
fn disable(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    reason: DisabledReason,
    failing_before: Option<i64>,
    now_ms: i64,
) -> Result<Option<DisabledWebhook>, StoreError> {
    let row = tx
        .query_row(
            "UPDATE webhooks SET enabled = 0, disabled_reason = ?1, updated_at = ?2 \
             WHERE id = ?3 AND enabled = 1 AND (?4 IS NULL OR failing_since <= ?4) \
             RETURNING name, failing_since",
            rusqlite::params![reason.as_str(), now_ms, id, failing_before],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, Option<i64>>(1)?)),
        )
        .optional()?;
    let Some((name, failing_since)) = row else {
        return Ok(None);
    };
    tx.execute(
        "UPDATE deliveries SET next_attempt_at = NULL WHERE webhook_id = ? \
         AND status IN ('pending', 'retrying') AND lease_owner IS NULL",
        [id],
    )?;
    Ok(Some(DisabledWebhook {
        id: WebhookId::parse(id).map_err(StoreError::Corrupt)?,
        name,
        reason,
        failing_since: failing_since.map(from_millis),
    }))
}

/// An attempt's row, written only where its delivery still exists: one deleted
/// meanwhile (with its webhook) would fail the foreign key, and a batch failing on it
/// would be retried forever and hold up every result behind it. A one-row `VALUES`
/// insert rather than `INSERT ... SELECT ... WHERE EXISTS`: SQLite gives a statement
/// that may write several rows a statement journal, a copy of every page it touches
/// (1.6 % of the server's CPU end to end, all of it here).
const INSERT_ATTEMPT: &str = "INSERT INTO attempts (id, delivery_id, number, started_at, duration_ms, request, \
     response_status, response_headers, response_body, error_kind, error_message) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

/// Whether a delivery whose claim this node lost still exists.
const DELIVERY_EXISTS: &str = "SELECT 1 FROM deliveries WHERE id = ?1";

/// A delivery's next state after an attempt, where this node still holds its claim;
/// due again only if its webhook is still enabled.
const FINISH_DELIVERY: &str = "UPDATE deliveries SET status = ?2, attempts = ?3, last_error = ?4, \
     updated_at = ?7, lease_owner = NULL, lease_until = NULL, \
     next_attempt_at = CASE WHEN ?5 IS NULL THEN NULL \
     WHEN (SELECT enabled FROM webhooks WHERE webhooks.id = deliveries.webhook_id) = 1 \
     THEN ?5 ELSE NULL END \
     WHERE id = ?1 AND lease_owner IS ?6";
