//! Persistence. [`Store`] speaks in domain types; each backend implements it over its
//! own SQL and migrations (SQLite today). Secrets are sealed before they reach SQL.
//!
//! The delivery queue lives in the same database as the events, so an event and its
//! deliveries are committed together: nothing acknowledged can be lost between a
//! database and a separate queue.

mod access_sql;
mod delivery_codec;
mod event_codec;
mod fan_out;
mod health;
mod postgres;
mod row_readers;
pub mod sealing;
mod sqlite;
mod webhook_codec;

pub use fan_out::{HandOff, Inserted, Slots};
pub use postgres::{PgStore, migrator as postgres_migrator};
pub use sealing::{SealError, Sealer};
pub use sqlite::{SqliteStore, route_sqlite_allocations_to_mimalloc};

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::domain::audit::{AuditEntry, AuditFilter};
use crate::domain::choices::DisabledReason;
use crate::domain::delivery::{Attempt, Delivery, DeliveryStatus};
use crate::domain::event::Event;
use crate::domain::ids::{DeliveryId, EventId, TokenId, WebhookId};
use crate::domain::token::ApiToken;
use crate::domain::webhook::Webhook;

/// Opens the store the URL names: `postgres://…` (several nodes) or `sqlite://…`
/// (one node). `wake` is notified when another node commits new work.
pub async fn open(
    url: &str,
    sealer: Arc<Sealer>,
    fsync: bool,
    wake: Arc<Notify>,
) -> Result<Arc<dyn Store>, StoreError> {
    if is_postgres(url) {
        Ok(Arc::new(
            PgStore::open(url, sealer, fsync, Some(wake)).await?,
        ))
    } else {
        Ok(Arc::new(SqliteStore::open(url, sealer, fsync).await?))
    }
}

pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// How many ingest commits the store named by `url` takes at once: SQLite has one
/// writer; PostgreSQL commits several transactions together, each on its own
/// connection.
pub fn ingest_committers(url: &str) -> usize {
    if is_postgres(url) {
        postgres::INGEST_COMMITTERS as usize
    } else {
        1
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("another webhook already has this name")]
    NameTaken,
    #[error("another token already has this name")]
    TokenNameTaken,
    #[error("no such record")]
    NotFound,
    #[error("the delivery is being attempted right now")]
    InFlight,
    /// The webhooks changed while the events were being stored (one they fan out to
    /// was deleted or disabled; on PostgreSQL, any change since the subscribers were
    /// read): nothing was stored, and storing them again fans out to the webhooks as
    /// they are now.
    #[error("the subscribed webhooks changed while the events were being stored")]
    SubscriberGone,
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// From a SQLite write turn run on the task's thread (see the SQLite store).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The answer to one published event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub event_id: EventId,
    /// Deliveries created (or, for a repeated idempotency key, created the first time).
    pub deliveries: u32,
    /// True when the idempotency key was seen before and nothing new was stored.
    pub duplicate: bool,
}

/// What a dispatcher asks for.
#[derive(Debug, Clone)]
pub struct ClaimRequest {
    pub now: DateTime<Utc>,
    pub limit: usize,
    /// Identifies this process's claims.
    pub owner: String,
    /// How long the claim holds; an unfinished claim is free again after it.
    pub lease: Duration,
    /// At most this many per webhook in this claim…
    pub per_webhook: usize,
    /// …and at most this many for these webhooks (0 = skip them entirely).
    pub webhook_room: Vec<(WebhookId, usize)>,
}

/// A claimed delivery with what is needed to send it.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub delivery: Delivery,
    pub event: Arc<Event>,
    pub webhook: Arc<Webhook>,
}

/// What an attempt means for the webhook's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookHealth {
    /// A test send: no effect.
    Unchanged,
    /// Delivered: the webhook is healthy again.
    Healthy,
    /// Failed: start the failing clock if it is not running; disable the webhook when
    /// it has run since before `disable_if_failing_since`.
    Failing {
        disable_if_failing_since: DateTime<Utc>,
    },
    /// 410 Gone: disable now.
    Gone,
}

/// One attempt and the delivery's next state, recorded together.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub attempt: Attempt,
    pub webhook_id: WebhookId,
    /// The claim this attempt ran under; `None` for a synchronous test send.
    pub owner: Option<String>,
    pub status: DeliveryStatus,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub health: WebhookHealth,
}

/// A webhook that recording an attempt disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisabledWebhook {
    pub id: WebhookId,
    pub name: String,
    pub reason: DisabledReason,
    pub failing_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub webhook_id: Option<WebhookId>,
    pub event_id: Option<EventId>,
    pub status: Option<DeliveryStatus>,
    /// Only deliveries older than this one (the cursor).
    pub before: Option<DeliveryId>,
    /// Only deliveries created at or after this time.
    pub since: Option<DateTime<Utc>>,
    pub limit: usize,
}

/// One attempt, reduced to what health statistics need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptSummary {
    pub webhook_id: WebhookId,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub delivered: bool,
}

/// What `/metrics` shows of the queue, read when it is scraped.
#[derive(Debug, Clone, Default)]
pub struct QueueStats {
    /// Deliveries not finished yet: pending, retrying or in flight.
    pub depth: u64,
    /// When the earliest of them is (or was) due.
    pub oldest_due: Option<DateTime<Utc>>,
    pub disabled_webhooks: u64,
}

impl QueueStats {
    /// From the row of [`QUEUE_STATS_SQL`]: count, earliest due (ms), disabled.
    pub(crate) fn from_row((depth, oldest, disabled): (i64, Option<i64>, i64)) -> QueueStats {
        QueueStats {
            depth: depth.max(0) as u64,
            oldest_due: oldest.and_then(DateTime::from_timestamp_millis),
            disabled_webhooks: disabled.max(0) as u64,
        }
    }
}

/// Whether the newest applied migration, `applied`, is at least the newest `known`.
pub(crate) fn covers(applied: i64, known: &sqlx::migrate::Migrator) -> bool {
    applied >= known.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The newest migration applied; sqlx keeps the list in the same table on both.
pub(crate) const SCHEMA_VERSION_SQL: &str =
    "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success";

/// The earliest due time of all waiting deliveries, found webhook by webhook through
/// the index on (webhook_id, next_attempt_at): one short index probe per webhook,
/// however many deliveries wait. An index on next_attempt_at alone would answer it in
/// one probe, but every ingest, claim and result paid to keep that second index.
macro_rules! earliest_due_sql {
    () => {
        "SELECT MIN(next_at) FROM (SELECT (SELECT d.next_attempt_at FROM deliveries d \
         WHERE d.webhook_id = w.id AND d.next_attempt_at IS NOT NULL \
         ORDER BY d.next_attempt_at LIMIT 1) AS next_at FROM webhooks w) AS firsts"
    };
}

/// See [`earliest_due_sql`]; the same on both databases.
pub(crate) const NEXT_DUE_SQL: &str = earliest_due_sql!();

/// Waiting deliveries, the earliest due time, disabled webhooks. The same on both
/// databases (`enabled` is 0/1 on SQLite, a boolean on PostgreSQL; `NOT` reads both).
/// The count walks the partial index of waiting deliveries only.
pub(crate) const QUEUE_STATS_SQL: &str = concat!(
    "SELECT (SELECT COUNT(*) FROM deliveries WHERE next_attempt_at IS NOT NULL), (",
    earliest_due_sql!(),
    "), (SELECT COUNT(*) FROM webhooks WHERE NOT enabled)"
);

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub event_type: Option<String>,
    pub before: Option<EventId>,
    pub limit: usize,
}

/// Changes made by an operator take an `audit` entry, written in the same transaction
/// as the change: a change is never stored without its entry in the trail.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Whether every migration this binary knows is applied (another node may have
    /// applied newer ones too); an error when the database does not answer.
    async fn schema_is_current(&self) -> Result<bool, StoreError>;

    /// Stores a new webhook and its subscriptions in one transaction.
    /// [`StoreError::NameTaken`] when the name is in use.
    async fn insert_webhook(
        &self,
        webhook: &Webhook,
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError>;

    /// Replaces a stored webhook (matched by id) and its subscriptions. Disabling parks
    /// its waiting deliveries; enabling makes them due again.
    async fn update_webhook(
        &self,
        webhook: &Webhook,
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError>;

    async fn get_webhook(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError>;

    /// All webhooks, oldest first.
    async fn list_webhooks(&self) -> Result<Vec<Webhook>, StoreError>;

    /// True when a webhook was deleted (with its deliveries).
    async fn delete_webhook(
        &self,
        id: &WebhookId,
        audit: Option<&AuditEntry>,
    ) -> Result<bool, StoreError>;

    /// Stores events and one delivery per enabled webhook subscribed to each type,
    /// all in one transaction. A repeated idempotency key stores nothing and answers
    /// with the first event. Deliveries `hand_off` has room for are stored claimed by
    /// its owner and returned, to be attempted at once; the others are due now.
    async fn insert_events_handing_off(
        &self,
        events: &[Event],
        now: DateTime<Utc>,
        hand_off: Option<HandOff<'_>>,
    ) -> Result<Inserted, StoreError>;

    /// [`Store::insert_events_handing_off`] without a hand-off: every delivery is due now.
    async fn insert_events(
        &self,
        events: &[Event],
        now: DateTime<Utc>,
    ) -> Result<Vec<Accepted>, StoreError> {
        Ok(self
            .insert_events_handing_off(events, now, None)
            .await?
            .accepted)
    }

    /// Readies what storing events needs before the first of them arrives (a node that
    /// takes API traffic calls it on start). Nothing to do by default.
    async fn warm_ingest(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn get_event(&self, id: &EventId) -> Result<Option<Event>, StoreError>;

    /// Newest first.
    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<Event>, StoreError>;

    /// Claims due deliveries, oldest due first, within the per-webhook limits.
    async fn claim_due(&self, request: &ClaimRequest) -> Result<Vec<ClaimedDelivery>, StoreError>;

    /// When the earliest waiting delivery is due (claimed ones count at their lease's end).
    async fn next_due_at(&self) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// Queue depth, the oldest due time and the disabled webhooks, for `/metrics`.
    async fn queue_stats(&self) -> Result<QueueStats, StoreError>;

    /// Records attempts and the resulting states; returns webhooks this disabled.
    async fn record_attempts(
        &self,
        records: &[AttemptRecord],
        now: DateTime<Utc>,
    ) -> Result<Vec<DisabledWebhook>, StoreError>;

    /// Makes `owner`'s unfinished claims due now (graceful shutdown); with `None`,
    /// every claim (start-up of a single-node store, whose previous process is gone).
    async fn release_claims(
        &self,
        owner: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Stores a test event and its one delivery, not due: the caller attempts it
    /// synchronously and records the attempt.
    async fn insert_test_delivery(
        &self,
        event: &Event,
        webhook_id: &WebhookId,
        now: DateTime<Utc>,
    ) -> Result<Delivery, StoreError>;

    /// Newest first.
    async fn list_deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<Delivery>, StoreError>;

    async fn get_delivery(
        &self,
        id: &DeliveryId,
    ) -> Result<Option<(Delivery, Vec<Attempt>)>, StoreError>;

    /// Attempts started since `since` (at most `limit`, newest first), for health
    /// statistics. Test sends are included: they are attempts like any other.
    async fn attempt_summaries(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<AttemptSummary>, StoreError>;

    /// Puts a delivery back to pending, due now. [`StoreError::InFlight`] while it is
    /// being attempted.
    async fn retry_delivery(
        &self,
        id: &DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<Delivery, StoreError>;

    /// Retention, one batch: deletes at most `batch` succeeded deliveries last
    /// updated before `before` (with their attempts), clears the bodies of older
    /// attempts, and deletes old events no delivery refers to. Returns the number of
    /// deliveries deleted.
    async fn delete_expired(&self, before: DateTime<Utc>, batch: usize) -> Result<u64, StoreError>;

    /// [`StoreError::TokenNameTaken`] when the name is in use.
    async fn insert_token(
        &self,
        token: &ApiToken,
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError>;

    /// Every token, revoked ones too, oldest first.
    async fn list_tokens(&self) -> Result<Vec<ApiToken>, StoreError>;

    /// Revokes the token; returns it as it was, `None` if there is no such token.
    /// `audit` is recorded if this call revoked it (it was active).
    async fn revoke_token(
        &self,
        id: &TokenId,
        now: DateTime<Utc>,
        audit: Option<&AuditEntry>,
    ) -> Result<Option<ApiToken>, StoreError>;

    async fn insert_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// Seals every stored secret again with the current key (after a key rotation);
    /// returns how many were sealed with another.
    async fn reseal_secrets(&self) -> Result<u64, StoreError>;

    /// Newest first.
    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError>;

    /// Puts the webhook's failed deliveries created in [since, until] back to pending.
    async fn replay_failed(
        &self,
        webhook_id: &WebhookId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}
