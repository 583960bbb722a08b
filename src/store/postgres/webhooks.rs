//! Webhooks in PostgreSQL.

use std::collections::HashMap;

use sqlx::{PgConnection, Postgres, Row, Transaction};

use super::PgStore;
use super::rows::read_webhook;
use crate::domain::audit::AuditEntry;
use crate::domain::ids::WebhookId;
use crate::domain::webhook::Webhook;
use crate::store::StoreError;
use crate::store::webhook_codec;

/// A unique-constraint failure on insert or update can only be the name.
fn name_conflict(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::NameTaken,
        _ => StoreError::Database(error),
    }
}

impl PgStore {
    /// Subscriptions of the given webhooks (all when `ids` is `None`), by webhook id.
    async fn event_types_of(
        conn: &mut PgConnection,
        ids: Option<&[String]>,
    ) -> Result<HashMap<String, Vec<String>>, StoreError> {
        let rows = sqlx::query(
            "SELECT webhook_id, event_type FROM webhook_event_types \
             WHERE $1::text[] IS NULL OR webhook_id = ANY($1) ORDER BY webhook_id, position",
        )
        .bind(ids)
        .fetch_all(&mut *conn)
        .await?;
        let mut by_webhook: HashMap<String, Vec<String>> = HashMap::new();
        for row in rows {
            by_webhook
                .entry(row.try_get("webhook_id")?)
                .or_default()
                .push(row.try_get("event_type")?);
        }
        Ok(by_webhook)
    }

    async fn replace_event_types(
        tx: &mut Transaction<'_, Postgres>,
        webhook: &Webhook,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM webhook_event_types WHERE webhook_id = $1")
            .bind(webhook.id.as_str())
            .execute(&mut **tx)
            .await?;
        for (position, code) in webhook_codec::event_type_strings(webhook) {
            sqlx::query("INSERT INTO webhook_event_types (webhook_id, event_type, position) VALUES ($1, $2, $3)")
                .bind(webhook.id.as_str())
                .bind(code)
                .bind(position)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Webhooks by id, for claimed deliveries.
    pub(super) async fn webhooks_by_ids(
        &self,
        conn: &mut PgConnection,
        ids: &[String],
    ) -> Result<HashMap<String, Webhook>, StoreError> {
        let rows = sqlx::query("SELECT * FROM webhooks WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(&mut *conn)
            .await?;
        let mut event_types = Self::event_types_of(conn, Some(ids)).await?;
        rows.iter()
            .map(|row| {
                let row = read_webhook(row)?;
                let codes = event_types.remove(&row.id).unwrap_or_default();
                let webhook = webhook_codec::decode(row, codes, &self.sealer)?;
                Ok((webhook.id.to_string(), webhook))
            })
            .collect()
    }

    pub(super) async fn insert_webhook(
        &self,
        webhook: &Webhook,
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError> {
        let row = webhook_codec::encode(webhook, &self.sealer);
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO webhooks (id, name, kind, url, language, auth_type, auth_sealed, format, enabled, \
             disabled_reason, headers, timeout_seconds, template_body, template_content_type, time_zone, \
             mentions, created_at, updated_at, tls) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
        )
        .bind(&row.id)
        .bind(&row.name)
        .bind(&row.kind)
        .bind(&row.url)
        .bind(&row.language)
        .bind(&row.auth_type)
        .bind(&row.auth_sealed)
        .bind(&row.format)
        .bind(row.enabled)
        .bind(&row.disabled_reason)
        .bind(&row.headers)
        .bind(row.timeout_seconds)
        .bind(&row.template_body)
        .bind(&row.template_content_type)
        .bind(&row.time_zone)
        .bind(&row.mentions)
        .bind(row.created_at)
        .bind(row.updated_at)
        .bind(&row.tls)
        .execute(&mut *tx)
        .await
        .map_err(name_conflict)?;
        Self::replace_event_types(&mut tx, webhook).await?;
        if let Some(entry) = audit {
            super::access::insert_audit(&mut tx, entry).await?;
        }
        tx.commit().await?;
        // Not needed for correctness (ingest's write would refuse the copy), but it
        // spares that write.
        self.subscribers.forget();
        Ok(())
    }

    pub(super) async fn update_webhook(
        &self,
        webhook: &Webhook,
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError> {
        let row = webhook_codec::encode(webhook, &self.sealer);
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE webhooks SET name = $1, kind = $2, url = $3, language = $4, auth_type = $5, auth_sealed = $6, \
             format = $7, enabled = $8, disabled_reason = $9, headers = $10, timeout_seconds = $11, \
             template_body = $12, template_content_type = $13, time_zone = $14, mentions = $15, updated_at = $16, \
             tls = $17 WHERE id = $18",
        )
        .bind(&row.name)
        .bind(&row.kind)
        .bind(&row.url)
        .bind(&row.language)
        .bind(&row.auth_type)
        .bind(&row.auth_sealed)
        .bind(&row.format)
        .bind(row.enabled)
        .bind(&row.disabled_reason)
        .bind(&row.headers)
        .bind(row.timeout_seconds)
        .bind(&row.template_body)
        .bind(&row.template_content_type)
        .bind(&row.time_zone)
        .bind(&row.mentions)
        .bind(row.updated_at)
        .bind(&row.tls)
        .bind(&row.id)
        .execute(&mut *tx)
        .await
        .map_err(name_conflict)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Self::replace_event_types(&mut tx, webhook).await?;
        // Waiting deliveries follow the switch: parked while disabled, due again when
        // enabled. Claimed ones are parked when their attempt is recorded.
        let parking = if webhook.spec.enabled {
            "UPDATE deliveries SET next_attempt_at = $1 WHERE webhook_id = $2 \
             AND status IN ('pending', 'retrying') AND next_attempt_at IS NULL AND lease_owner IS NULL"
        } else {
            "UPDATE deliveries SET next_attempt_at = NULL WHERE $1::bigint IS NOT NULL AND webhook_id = $2 \
             AND status IN ('pending', 'retrying') AND lease_owner IS NULL"
        };
        sqlx::query(parking)
            .bind(row.updated_at)
            .bind(&row.id)
            .execute(&mut *tx)
            .await?;
        if webhook.spec.enabled {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(super::WORK_CHANNEL)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(entry) = audit {
            super::access::insert_audit(&mut tx, entry).await?;
        }
        tx.commit().await?;
        // Not needed for correctness (ingest's write would refuse the copy), but it
        // spares that write.
        self.subscribers.forget();
        Ok(())
    }

    pub(super) async fn get_webhook(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut found = self.webhooks_by_ids(&mut conn, &[id.to_string()]).await?;
        Ok(found.remove(id.as_str()))
    }

    pub(super) async fn list_webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        // One snapshot for the rows and their subscriptions.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await?;
        let rows = sqlx::query("SELECT * FROM webhooks ORDER BY created_at, id")
            .fetch_all(&mut *tx)
            .await?;
        let mut event_types = Self::event_types_of(&mut tx, None).await?;
        rows.iter()
            .map(|row| {
                let row = read_webhook(row)?;
                let codes = event_types.remove(&row.id).unwrap_or_default();
                webhook_codec::decode(row, codes, &self.sealer)
            })
            .collect()
    }

    pub(super) async fn delete_webhook(
        &self,
        id: &WebhookId,
        audit: Option<&AuditEntry>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let deleted = sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        // Then its deliveries and their attempts (migration 0008: no foreign keys), in
        // this order, each a statement of its own. Deleting the webhook waited for
        // ingests that had it locked, so their deliveries are committed; locking the
        // deliveries waits for results being recorded, so their attempts are too; and
        // each later statement reads a snapshot that holds what it waited for.
        for step in [
            "SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE webhook_id = $1 FOR UPDATE) AS locked",
            "DELETE FROM attempts USING deliveries d WHERE attempts.delivery_id = d.id AND d.webhook_id = $1",
            "DELETE FROM deliveries WHERE webhook_id = $1",
        ] {
            sqlx::query(step)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        if deleted.rows_affected() > 0
            && let Some(entry) = audit
        {
            super::access::insert_audit(&mut tx, entry).await?;
        }
        tx.commit().await?;
        self.subscribers.forget();
        Ok(deleted.rows_affected() > 0)
    }
}
