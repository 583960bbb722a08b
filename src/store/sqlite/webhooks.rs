//! Webhooks in SQLite.

use std::collections::HashMap;

use sqlx::{Row, SqliteConnection};

use super::{Durability, SqliteStore};
use crate::domain::audit::AuditEntry;
use crate::domain::ids::WebhookId;
use crate::domain::webhook::Webhook;
use crate::store::StoreError;
use crate::store::webhook_codec;

impl SqliteStore {
    /// Subscriptions by webhook id: of one webhook, or of all when `id` is `None`.
    async fn event_types_of(
        conn: &mut SqliteConnection,
        id: Option<&str>,
    ) -> Result<HashMap<String, Vec<String>>, StoreError> {
        let rows = match id {
            Some(id) => {
                sqlx::query(
                    "SELECT webhook_id, event_type FROM webhook_event_types WHERE webhook_id = ? ORDER BY position",
                )
                .bind(id)
                .fetch_all(&mut *conn)
                .await?
            }
            None => {
                sqlx::query("SELECT webhook_id, event_type FROM webhook_event_types ORDER BY webhook_id, position")
                    .fetch_all(&mut *conn)
                    .await?
            }
        };
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
        conn: &mut SqliteConnection,
        webhook: &Webhook,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM webhook_event_types WHERE webhook_id = ?")
            .bind(webhook.id.as_str())
            .execute(&mut *conn)
            .await?;
        for (position, code) in webhook_codec::event_type_strings(webhook) {
            sqlx::query("INSERT INTO webhook_event_types (webhook_id, event_type, position) VALUES (?, ?, ?)")
                .bind(webhook.id.as_str())
                .bind(code)
                .bind(position)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// Webhooks by id, for claimed deliveries.
    pub(super) async fn webhooks_by_ids(
        &self,
        conn: &mut SqliteConnection,
        ids: &[&str],
    ) -> Result<HashMap<String, Webhook>, StoreError> {
        let list = super::json_list(ids.iter().copied());
        let rows =
            sqlx::query("SELECT * FROM webhooks WHERE id IN (SELECT value FROM json_each(?))")
                .bind(&list)
                .fetch_all(&mut *conn)
                .await?;
        let subscriptions = sqlx::query(
            "SELECT webhook_id, event_type FROM webhook_event_types \
             WHERE webhook_id IN (SELECT value FROM json_each(?)) ORDER BY webhook_id, position",
        )
        .bind(&list)
        .fetch_all(&mut *conn)
        .await?;
        let mut event_types: HashMap<String, Vec<String>> = HashMap::new();
        for row in subscriptions {
            event_types
                .entry(row.try_get("webhook_id")?)
                .or_default()
                .push(row.try_get("event_type")?);
        }
        rows.iter()
            .map(|row| {
                let row = super::rows::read_webhook(row)?;
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
        let mut tx = self.begin_write(Durability::Durable).await?;
        sqlx::query(
            "INSERT INTO webhooks (id, name, kind, url, language, auth_type, auth_sealed, format, enabled, \
             disabled_reason, headers, timeout_seconds, template_body, template_content_type, time_zone, \
             mentions, created_at, updated_at, tls) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        Ok(())
    }

    pub(super) async fn update_webhook(
        &self,
        webhook: &Webhook,
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError> {
        let row = webhook_codec::encode(webhook, &self.sealer);
        let mut tx = self.begin_write(Durability::Durable).await?;
        let updated = sqlx::query(
            "UPDATE webhooks SET name = ?, kind = ?, url = ?, language = ?, auth_type = ?, auth_sealed = ?, \
             format = ?, enabled = ?, disabled_reason = ?, headers = ?, timeout_seconds = ?, template_body = ?, \
             template_content_type = ?, time_zone = ?, mentions = ?, updated_at = ?, tls = ? \
             WHERE id = ?",
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
            "UPDATE deliveries SET next_attempt_at = ? WHERE webhook_id = ? \
             AND status IN ('pending', 'retrying') AND next_attempt_at IS NULL AND lease_owner IS NULL"
        } else {
            "UPDATE deliveries SET next_attempt_at = NULL WHERE ? IS NOT NULL AND webhook_id = ? \
             AND status IN ('pending', 'retrying') AND lease_owner IS NULL"
        };
        sqlx::query(parking)
            .bind(row.updated_at)
            .bind(&row.id)
            .execute(&mut *tx)
            .await?;
        if let Some(entry) = audit {
            super::access::insert_audit(&mut tx, entry).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn get_webhook(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        // One read transaction: the row and its subscriptions come from one snapshot.
        let mut tx = self.pool.begin().await?;
        let Some(row) = sqlx::query("SELECT * FROM webhooks WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        let mut event_types = Self::event_types_of(&mut tx, Some(id.as_str())).await?;
        let codes = event_types.remove(id.as_str()).unwrap_or_default();
        webhook_codec::decode(super::rows::read_webhook(&row)?, codes, &self.sealer).map(Some)
    }

    pub(super) async fn list_webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query("SELECT * FROM webhooks ORDER BY created_at, id")
            .fetch_all(&mut *tx)
            .await?;
        let mut event_types = Self::event_types_of(&mut tx, None).await?;
        rows.iter()
            .map(|row| {
                let row = super::rows::read_webhook(row)?;
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
        let mut tx = self.begin_write(Durability::Durable).await?;
        let deleted = sqlx::query("DELETE FROM webhooks WHERE id = ?")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() > 0
            && let Some(entry) = audit
        {
            super::access::insert_audit(&mut tx, entry).await?;
        }
        tx.commit().await?;
        Ok(deleted.rows_affected() > 0)
    }
}

/// A unique-constraint failure on insert or update can only be the name.
pub(super) fn name_conflict(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::NameTaken,
        _ => StoreError::Database(error),
    }
}
