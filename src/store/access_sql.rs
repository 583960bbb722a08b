//! Tokens, the audit trail and resealing secrets in SQL, the same statements on both backends (`$n`
//! parameters, each first used in order, read the same way by SQLite and
//! PostgreSQL). A macro over the pool and row types, like the row readers.

macro_rules! access_sql {
    ($pool:ty, $conn:ty, $row:ty) => {
        use chrono::{DateTime, TimeZone as _, Utc};
        use sqlx::Row as _;

        use crate::domain::audit::{AuditEntry, AuditFilter};
        use crate::domain::ids::{AuditId, TokenId};
        use crate::domain::token::{ApiToken, Scopes, TokenHash};
        use crate::store::StoreError;

        fn millis(at: i64) -> Result<DateTime<Utc>, StoreError> {
            Utc.timestamp_millis_opt(at)
                .single()
                .ok_or_else(|| StoreError::Corrupt(format!("time {at} is out of range")))
        }

        fn read_token(row: &$row) -> Result<ApiToken, StoreError> {
            let id: String = row.try_get("id")?;
            let scopes: String = row.try_get("scopes")?;
            let hash: String = row.try_get("hash")?;
            let revoked_at: Option<i64> = row.try_get("revoked_at")?;
            Ok(ApiToken {
                id: TokenId::parse(&id).map_err(StoreError::Corrupt)?,
                name: row.try_get("name")?,
                scopes: Scopes::from_list(&scopes).map_err(StoreError::Corrupt)?,
                prefix: row.try_get("prefix")?,
                hash: TokenHash::from_hex(&hash).map_err(StoreError::Corrupt)?,
                created_at: millis(row.try_get("created_at")?)?,
                created_by: row.try_get("created_by")?,
                revoked_at: revoked_at.map(millis).transpose()?,
            })
        }

        fn read_audit(row: &$row) -> Result<AuditEntry, StoreError> {
            let id: String = row.try_get("id")?;
            let json = |column: &str| -> Result<Option<serde_json::Value>, StoreError> {
                let text: Option<String> = row.try_get(column)?;
                text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(e.to_string())))
                    .transpose()
            };
            Ok(AuditEntry {
                id: AuditId::parse(&id).map_err(StoreError::Corrupt)?,
                at: millis(row.try_get("at")?)?,
                actor: row.try_get("actor")?,
                action: row.try_get("action")?,
                target_kind: row.try_get("target_kind")?,
                target_id: row.try_get("target_id")?,
                before: json("before")?,
                after: json("after")?,
            })
        }

        pub(super) async fn insert_token(conn: &mut $conn, token: &ApiToken) -> Result<(), StoreError> {
            let inserted = sqlx::query(
                "INSERT INTO api_tokens (id, name, scopes, prefix, hash, created_at, created_by, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
            )
            .bind(token.id.as_str())
            .bind(&token.name)
            .bind(token.scopes.to_list())
            .bind(&token.prefix)
            .bind(token.hash.to_hex())
            .bind(token.created_at.timestamp_millis())
            .bind(&token.created_by)
            .execute(&mut *conn)
            .await;
            match inserted {
                Ok(_) => Ok(()),
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::TokenNameTaken),
                Err(e) => Err(e.into()),
            }
        }

        pub(super) async fn list_tokens(pool: &$pool) -> Result<Vec<ApiToken>, StoreError> {
            sqlx::query("SELECT * FROM api_tokens ORDER BY id")
                .fetch_all(pool)
                .await?
                .iter()
                .map(read_token)
                .collect()
        }

        /// The token as it was; `None` if there is no such token. True in the pair when
        /// this call revoked it (it was active).
        pub(super) async fn revoke_token(
            conn: &mut $conn,
            id: &TokenId,
            now: DateTime<Utc>,
        ) -> Result<Option<(ApiToken, bool)>, StoreError> {
            let Some(row) = sqlx::query("SELECT * FROM api_tokens WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(&mut *conn)
                .await?
            else {
                return Ok(None);
            };
            let revoked = sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(now.timestamp_millis())
            .bind(id.as_str())
            .execute(&mut *conn)
            .await?;
            Ok(Some((read_token(&row)?, revoked.rows_affected() > 0)))
        }

        pub(super) async fn insert_audit(conn: &mut $conn, entry: &AuditEntry) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO audit_log (id, at, actor, action, target_kind, target_id, before, after) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(entry.id.as_str())
            .bind(entry.at.timestamp_millis())
            .bind(&entry.actor)
            .bind(&entry.action)
            .bind(&entry.target_kind)
            .bind(&entry.target_id)
            .bind(entry.before.as_ref().map(|v| v.to_string()))
            .bind(entry.after.as_ref().map(|v| v.to_string()))
            .execute(&mut *conn)
            .await?;
            Ok(())
        }

        /// Seals every stored secret again with the current key; returns how many
        /// changed. Compare-and-set per row, so a concurrent update is never undone.
        pub(super) async fn reseal_secrets(
            pool: &$pool,
            sealer: &crate::store::Sealer,
        ) -> Result<u64, StoreError> {
            let rows = sqlx::query("SELECT id, auth_sealed FROM webhooks")
                .fetch_all(pool)
                .await?;
            let mut resealed = 0;
            for row in rows {
                let id: String = row.try_get("id")?;
                let sealed: String = row.try_get("auth_sealed")?;
                if !sealer.needs_resealing(&sealed) {
                    continue;
                }
                let plain = sealer.open(&sealed, &id)?;
                let updated = sqlx::query(
                    "UPDATE webhooks SET auth_sealed = $1 WHERE id = $2 AND auth_sealed = $3",
                )
                .bind(sealer.seal(&plain, &id))
                .bind(&id)
                .bind(&sealed)
                .execute(pool)
                .await?;
                resealed += updated.rows_affected();
            }
            Ok(resealed)
        }

        pub(super) async fn list_audit(
            pool: &$pool,
            filter: &AuditFilter,
        ) -> Result<Vec<AuditEntry>, StoreError> {
            sqlx::query(
                "SELECT * FROM audit_log WHERE ($1 IS NULL OR target_id = $1) \
                 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
            )
            .bind(filter.target_id.as_deref())
            .bind(filter.before.as_ref().map(|id| id.as_str()))
            .bind(filter.limit as i64)
            .fetch_all(pool)
            .await?
            .iter()
            .map(read_audit)
            .collect()
        }
    };
}

pub(crate) use access_sql;
