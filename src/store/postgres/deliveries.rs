//! The delivery queue in PostgreSQL: claims with `FOR UPDATE SKIP LOCKED` so nodes
//! never take the same delivery, records, releases, and the delivery log.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, Row, Transaction};

use super::PgStore;
use super::events::insert_event_row;
use super::rows::{read_attempt, read_delivery};
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

/// `next_attempt_at` for a delivery that should be due at `$n`: parked (NULL) while
/// its webhook is disabled.
fn due_unless_disabled(placeholder: &str) -> String {
    format!(
        "CASE WHEN (SELECT enabled FROM webhooks WHERE webhooks.id = deliveries.webhook_id) THEN {placeholder}::bigint ELSE NULL END"
    )
}

const DELIVERY_COLUMNS: &str = "id, event_id, webhook_id, status, attempts, next_attempt_at, last_error, created_at, updated_at";

impl PgStore {
    pub(super) async fn claim_due(
        &self,
        request: &ClaimRequest,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let now = request.now.timestamp_millis();
        let lease_end = now + request.lease.as_millis() as i64;
        let room_ids: Vec<String> = request
            .webhook_room
            .iter()
            .map(|(id, _)| id.to_string())
            .collect();
        let room_sizes: Vec<i64> = request
            .webhook_room
            .iter()
            .map(|(_, room)| *room as i64)
            .collect();
        // Per webhook with room, its earliest due deliveries up to its room (through
        // the index on (webhook_id, next_attempt_at)), then the earliest overall: a
        // webhook out of room is never looked at, however many deliveries it has
        // waiting. Rows another node is claiming right now are skipped, not waited for.
        // The chosen rows are updated by their ctid (locked, so it cannot move): a TID
        // scan whatever the statistics say. Joined back by id instead, the planner at
        // times hashed a seq scan of the whole table: 27 of 463 claims in the
        // 100,000-delivery drain, 34 ms each against 5.5 ms.
        let mut conn = self.queue_pool.acquire().await?;
        let claimed = sqlx::query(
            "WITH room AS (SELECT * FROM unnest($1::text[], $2::bigint[]) AS r(webhook_id, room)), \
             open AS (SELECT w.id AS webhook_id, COALESCE(room.room, $5) AS room \
                      FROM webhooks w LEFT JOIN room ON room.webhook_id = w.id), \
             due AS (SELECT d.ctid, d.next_attempt_at FROM open CROSS JOIN LATERAL \
                       (SELECT ctid, next_attempt_at FROM deliveries \
                        WHERE webhook_id = open.webhook_id AND next_attempt_at IS NOT NULL \
                          AND next_attempt_at <= $3 \
                        ORDER BY next_attempt_at LIMIT open.room FOR UPDATE SKIP LOCKED) d \
                     WHERE open.room > 0), \
             chosen AS (SELECT ctid FROM due ORDER BY next_attempt_at LIMIT $4) \
             UPDATE deliveries d SET next_attempt_at = $6, lease_until = $6, lease_owner = $7 \
             WHERE d.ctid = ANY(ARRAY(SELECT ctid FROM chosen)) \
             RETURNING d.id, d.event_id, d.webhook_id, d.status, d.attempts, d.next_attempt_at, d.last_error, \
                       d.created_at, d.updated_at",
        )
        .bind(&room_ids)
        .bind(&room_sizes)
        .bind(now)
        .bind(request.limit as i64)
        .bind(request.per_webhook as i64)
        .bind(lease_end)
        .bind(&request.owner)
        .fetch_all(&mut *conn)
        .await?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let deliveries = claimed
            .iter()
            .map(|row| delivery_codec::decode_delivery(read_delivery(row)?))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let event_ids: Vec<String> =
            delivery_codec::distinct(deliveries.iter().map(|d| d.event_id.as_str()))
                .into_iter()
                .map(str::to_string)
                .collect();
        let webhook_ids: Vec<String> =
            delivery_codec::distinct(deliveries.iter().map(|d| d.webhook_id.as_str()))
                .into_iter()
                .map(str::to_string)
                .collect();
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
        let mut disabled = Vec::new();
        // Two statements per batch, whatever its size, rather than two per record: each
        // statement is a round trip to the server. The deliveries first: updating a row
        // locks it until this commits, so that deleting it (or its webhook) meanwhile
        // waits and then finds its attempt (migration 0008: no foreign key). Their
        // attempts are then written without another lock on them. Before, each attempt
        // took a `FOR KEY SHARE` lock on its delivery before the update locked it
        // again: a heap write and a WAL record per delivery, 2.7 µs of PostgreSQL's
        // time each (BENCHMARKS.md, the twenty-first pass).
        let mut tx = self.queue_pool.begin().await?;
        let update = format!(
            "UPDATE deliveries SET status = v.status, attempts = v.attempts, last_error = v.last_error, \
             updated_at = $7, lease_owner = NULL, lease_until = NULL, \
             next_attempt_at = CASE WHEN v.next_at IS NULL THEN NULL ELSE {} END \
             FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::text[]) \
                  AS v(id, status, attempts, last_error, next_at, owner) \
             WHERE deliveries.id = v.id AND deliveries.lease_owner IS NOT DISTINCT FROM v.owner \
             RETURNING deliveries.id",
            // Final states (no next time) need no look at the webhook.
            due_unless_disabled("v.next_at")
        );
        let updated: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(update))
            .bind(
                records
                    .iter()
                    .map(|r| r.attempt.delivery_id.to_string())
                    .collect::<Vec<_>>(),
            )
            .bind(
                records
                    .iter()
                    .map(|r| r.status.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                records
                    .iter()
                    .map(|r| i64::from(r.attempt.number))
                    .collect::<Vec<_>>(),
            )
            .bind(
                records
                    .iter()
                    .map(|r| r.last_error.clone())
                    .collect::<Vec<_>>(),
            )
            .bind(
                records
                    .iter()
                    .map(|r| r.next_attempt_at.map(|t| t.timestamp_millis()))
                    .collect::<Vec<_>>(),
            )
            .bind(records.iter().map(|r| r.owner.clone()).collect::<Vec<_>>())
            .bind(now_ms)
            .fetch_all(&mut *tx)
            .await?;
        let updated: HashSet<&str> = updated.iter().map(String::as_str).collect();
        let (held, loose): (Vec<AttemptRow>, Vec<AttemptRow>) = records
            .iter()
            .map(|r| delivery_codec::encode_attempt(&r.attempt))
            .partition(|row| updated.contains(row.delivery_id.as_str()));
        insert_attempts(&mut tx, &held, Guard::Held).await?;
        if !loose.is_empty() {
            tracing::warn!(
                lost = loose.len(),
                "claims expired (or their webhook was deleted) before their attempts were recorded"
            );
            insert_attempts(&mut tx, &loose, Guard::LockEach).await?;
        }
        // Healthy webhooks in one statement; failures (rarer) one by one.
        let healthy: Vec<&str> = records
            .iter()
            .filter(|r| r.health == WebhookHealth::Healthy)
            .map(|r| r.webhook_id.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !healthy.is_empty() {
            sqlx::query(
                "UPDATE webhooks SET failing_since = NULL WHERE failing_since IS NOT NULL AND id = ANY($1)",
            )
            .bind(healthy)
            .execute(&mut *tx)
            .await?;
        }
        for change in health_changes(records) {
            let newly_disabled = match change {
                HealthChange::Failing {
                    webhook,
                    disable_if_failing_since,
                } => {
                    // Only a clock that is not running is written: a no-op update would
                    // still leave a new row version behind.
                    sqlx::query(
                        "UPDATE webhooks SET failing_since = $1 WHERE id = $2 AND failing_since IS NULL",
                    )
                    .bind(now_ms)
                    .bind(webhook)
                    .execute(&mut *tx)
                    .await?;
                    disable(
                        &mut tx,
                        webhook,
                        DisabledReason::Failing,
                        Some(disable_if_failing_since),
                        now_ms,
                    )
                    .await?
                }
                HealthChange::Gone { webhook } => {
                    disable(&mut tx, webhook, DisabledReason::Gone, None, now_ms).await?
                }
            };
            disabled.extend(newly_disabled);
        }
        tx.commit().await?;
        Ok(disabled)
    }

    pub(super) async fn release_claims(
        &self,
        owner: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let sql = format!(
            "UPDATE deliveries SET lease_owner = NULL, lease_until = NULL, next_attempt_at = {} \
             WHERE lease_owner IS NOT NULL AND ($2::text IS NULL OR lease_owner = $2)",
            due_unless_disabled("$1")
        );
        let released = sqlx::query(sqlx::AssertSqlSafe(sql))
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
        let mut tx = self.pool.begin().await?;
        insert_event_row(&mut tx, event, false).await?;
        // The webhook stays until this commits (migration 0008: no foreign key).
        let inserted = sqlx::query(
            "INSERT INTO deliveries (id, event_id, webhook_id, status, attempts, next_attempt_at, created_at, updated_at) \
             SELECT $1, $2, $3, 'pending', 0, NULL, $4, $4 \
             WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = $3 FOR KEY SHARE)",
        )
        .bind(id.as_str())
        .bind(event.id.as_str())
        .bind(webhook_id.as_str())
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(self.get_delivery(&id).await?.ok_or(StoreError::NotFound)?.0)
    }

    pub(super) async fn list_deliveries(
        &self,
        filter: &DeliveryFilter,
    ) -> Result<Vec<Delivery>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries \
             WHERE ($1::text IS NULL OR webhook_id = $1) AND ($2::text IS NULL OR event_id = $2) \
               AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR id < $4) \
               AND ($6::bigint IS NULL OR created_at >= $6) \
             ORDER BY id DESC LIMIT $5"
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
            .map(|row| delivery_codec::decode_delivery(read_delivery(row)?))
            .collect()
    }

    pub(super) async fn get_delivery(
        &self,
        id: &DeliveryId,
    ) -> Result<Option<(Delivery, Vec<Attempt>)>, StoreError> {
        let sql = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1");
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let delivery = delivery_codec::decode_delivery(read_delivery(&row)?)?;
        let attempts = sqlx::query(
            "SELECT * FROM attempts WHERE delivery_id = $1 ORDER BY number, started_at",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| delivery_codec::decode_attempt(read_attempt(row)?))
        .collect::<Result<Vec<_>, _>>()?;
        Ok(Some((delivery, attempts)))
    }

    pub(super) async fn delete_expired(
        &self,
        before: DateTime<Utc>,
        batch: usize,
    ) -> Result<u64, StoreError> {
        let before = before.timestamp_millis();
        let mut tx = self.pool.begin().await?;
        // SKIP LOCKED: rows another node is cleaning (or delivering) are left alone.
        let deleted: Vec<String> = sqlx::query_scalar(
            "DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE status = 'succeeded' \
             AND updated_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING id",
        )
        .bind(before)
        .bind(batch as i64)
        .fetch_all(&mut *tx)
        .await?;
        delete_attempts_of(&mut tx, &deleted).await?;
        sqlx::query(
            "UPDATE attempts SET response_body = NULL, request = jsonb_set(request::jsonb, '{body}', '\"\"')::text \
             WHERE id IN (SELECT id FROM attempts WHERE started_at < $1 AND response_body IS NOT NULL \
             LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(before)
        .bind(batch as i64)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM events WHERE id IN (SELECT id FROM events e WHERE received_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(before)
        .bind(batch as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(deleted.len() as u64)
    }

    pub(super) async fn attempt_summaries(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<AttemptSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.webhook_id, a.started_at, a.duration_ms, a.error_kind IS NULL AS delivered \
             FROM attempts a JOIN deliveries d ON d.id = a.delivery_id \
             WHERE a.started_at >= $1 ORDER BY a.started_at DESC LIMIT $2",
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

    pub(super) async fn retry_delivery(
        &self,
        id: &DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<Delivery, StoreError> {
        let mut tx = self.pool.begin().await?;
        let owner: Option<Option<String>> =
            sqlx::query_scalar("SELECT lease_owner FROM deliveries WHERE id = $1 FOR UPDATE")
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        match owner {
            None => return Err(StoreError::NotFound),
            Some(Some(_)) => return Err(StoreError::InFlight),
            Some(None) => {}
        }
        let sql = format!(
            "UPDATE deliveries SET status = 'pending', updated_at = $1, next_attempt_at = {} WHERE id = $2",
            due_unless_disabled("$1")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now.timestamp_millis())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        notify(&mut tx).await?;
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
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "UPDATE deliveries SET status = 'pending', updated_at = $1, next_attempt_at = {} \
             WHERE webhook_id = $2 AND status = 'failed' AND created_at >= $3 AND created_at <= $4",
            due_unless_disabled("$1")
        );
        let replayed = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now.timestamp_millis())
            .bind(webhook_id.as_str())
            .bind(since.timestamp_millis())
            .bind(until.timestamp_millis())
            .execute(&mut *tx)
            .await?;
        notify(&mut tx).await?;
        tx.commit().await?;
        Ok(replayed.rows_affected())
    }
}

/// Wakes the other nodes when the transaction commits.
async fn notify(tx: &mut Transaction<'static, Postgres>) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(super::WORK_CHANNEL)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Disables an enabled webhook (when `failing_before` is given: only if it has been
/// failing since before then) and parks its waiting deliveries.
async fn disable(
    tx: &mut Transaction<'static, Postgres>,
    id: &str,
    reason: DisabledReason,
    failing_before: Option<i64>,
    now_ms: i64,
) -> Result<Option<DisabledWebhook>, StoreError> {
    let row = sqlx::query(
        "UPDATE webhooks SET enabled = FALSE, disabled_reason = $1, updated_at = $2 \
         WHERE id = $3 AND enabled AND ($4::bigint IS NULL OR failing_since <= $4) \
         RETURNING name, failing_since",
    )
    .bind(reason.as_str())
    .bind(now_ms)
    .bind(id)
    .bind(failing_before)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    sqlx::query(
        "UPDATE deliveries SET next_attempt_at = NULL WHERE webhook_id = $1 \
         AND status IN ('pending', 'retrying') AND lease_owner IS NULL",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let failing_since: Option<i64> = row.try_get("failing_since")?;
    Ok(Some(DisabledWebhook {
        id: WebhookId::parse(id).map_err(StoreError::Corrupt)?,
        name: row.try_get("name")?,
        reason,
        failing_since: failing_since.map(from_millis),
    }))
}

/// Deletes the attempts of deliveries this transaction has just deleted. A statement
/// of its own, after theirs: it reads a newer snapshot, which holds every attempt
/// committed by those that had the deliveries locked (migration 0008).
async fn delete_attempts_of(
    tx: &mut PgConnection,
    deliveries: &[String],
) -> Result<(), StoreError> {
    if !deliveries.is_empty() {
        sqlx::query("DELETE FROM attempts WHERE delivery_id = ANY($1)")
            .bind(deliveries)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// Whether the deliveries of attempts being written are already locked by this
/// transaction.
enum Guard {
    /// Updated by it, so they stay until it commits.
    Held,
    /// Not updated (their claim expired and was taken over, or they were deleted): each
    /// is locked against deletion as its attempt is written, and the attempts of those
    /// already gone are dropped: a batch failing on them would be retried forever and
    /// hold up every result behind it.
    LockEach,
}

/// Writes attempts in one statement, whatever their number.
async fn insert_attempts(
    tx: &mut Transaction<'_, Postgres>,
    rows: &[AttemptRow],
    guard: Guard,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&AttemptRow) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let condition = match guard {
        Guard::Held => "",
        Guard::LockEach => {
            " WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.id = v.delivery_id FOR KEY SHARE)"
        }
    };
    let sql = format!(
        "INSERT INTO attempts (id, delivery_id, number, started_at, duration_ms, request, response_status, \
         response_headers, response_body, error_kind, error_message) \
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], \
         $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[]) \
         AS v(id, delivery_id, number, started_at, duration_ms, request, response_status, \
              response_headers, response_body, error_kind, error_message){condition}"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(column(|r| Some(r.id.clone())))
        .bind(column(|r| Some(r.delivery_id.clone())))
        .bind(rows.iter().map(|r| r.number).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.started_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.duration_ms).collect::<Vec<_>>())
        .bind(column(|r| Some(r.request.clone())))
        .bind(rows.iter().map(|r| r.response_status).collect::<Vec<_>>())
        .bind(column(|r| r.response_headers.clone()))
        .bind(column(|r| r.response_body.clone()))
        .bind(column(|r| r.error_kind.clone()))
        .bind(column(|r| r.error_message.clone()))
        .execute(&mut **tx)
        .await?;
    Ok(())
}
