//! The PostgreSQL store: any number of `hookcast serve` processes share one database.
//!
//! Nodes claim due deliveries with `FOR UPDATE SKIP LOCKED` and a lease (the claim moves
//! the delivery's due time to the lease's end, so a dead node's work comes due again by
//! itself), and wake each other with `NOTIFY hookcast_work` when new work is committed.

mod deliveries;
mod events;
mod subscribers;
mod webhooks;

mod rows {
    use sqlx::Row as _;
    crate::store::row_readers::row_readers!(sqlx::postgres::PgRow, sqlx::Error, try_get);
}

mod access {
    crate::store::access_sql::access_sql!(sqlx::PgPool, sqlx::PgConnection, sqlx::postgres::PgRow);
}

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use sqlx::{Connection, Executor, SqlSafeStr};
use tokio::sync::Notify;

use super::{
    AttemptRecord, AttemptSummary, ClaimRequest, ClaimedDelivery, DeliveryFilter, DisabledWebhook,
    EventFilter, HandOff, Inserted, Sealer, Store, StoreError,
};
use crate::domain::audit::{AuditEntry, AuditFilter};
use crate::domain::delivery::{Attempt, Delivery};
use crate::domain::event::Event;
use crate::domain::ids::{DeliveryId, EventId, TokenId, WebhookId};
use crate::domain::token::ApiToken;
use crate::domain::webhook::Webhook;

/// The channel nodes use to say "new work is due".
pub const WORK_CHANNEL: &str = "hookcast_work";

/// The schema, embedded in the binary; applied on start and by `hookcast migrate`.
pub fn migrator() -> Migrator {
    let migration = |version, description: &'static str, sql: &'static str| {
        Migration::new(
            version,
            Cow::Borrowed(description),
            MigrationType::Simple,
            sql.into_sql_str(),
            false,
        )
    };
    Migrator::with_migrations(vec![
        migration(
            1,
            "init",
            include_str!("../../../migrations/postgres/0001_init.sql"),
        ),
        migration(
            2,
            "due by webhook",
            include_str!("../../../migrations/postgres/0002_due_by_webhook.sql"),
        ),
        migration(
            3,
            "tokens and audit",
            include_str!("../../../migrations/postgres/0003_tokens_and_audit.sql"),
        ),
        migration(
            4,
            "webhook tls",
            include_str!("../../../migrations/postgres/0004_webhook_tls.sql"),
        ),
        migration(
            5,
            "one due index",
            include_str!("../../../migrations/postgres/0005_one_due_index.sql"),
        ),
        migration(
            6,
            "byte order ids",
            include_str!("../../../migrations/postgres/0006_byte_order_ids.sql"),
        ),
        migration(
            7,
            "succeeded index",
            include_str!("../../../migrations/postgres/0007_succeeded_index.sql"),
        ),
        migration(
            8,
            "store checks references",
            include_str!("../../../migrations/postgres/0008_store_checks_references.sql"),
        ),
        migration(
            9,
            "webhook generation",
            include_str!("../../../migrations/postgres/0009_webhook_generation.sql"),
        ),
        migration(
            10,
            "keyed events index",
            include_str!("../../../migrations/postgres/0010_keyed_events_index.sql"),
        ),
    ])
}

pub struct PgStore {
    pool: PgPool,
    /// Ingest's own connections, one per ingest committer, planning with generic plans
    /// (see [`ingest_options`]).
    ingest_pool: PgPool,
    /// The dispatcher's connections for claims and results (see [`queue_options`]).
    queue_pool: PgPool,
    sealer: Arc<Sealer>,
    /// The subscribers ingest last read, until a webhook changes.
    subscribers: subscribers::SubscriberCache,
}

impl PgStore {
    /// Connects, applies migrations, and (with `wake`) listens for other nodes' work.
    ///
    /// Without `fsync`, commits use `synchronous_commit = off`: a crash of PostgreSQL
    /// itself may lose the last moments of commits (never a hookcast crash).
    pub async fn open(
        url: &str,
        sealer: Arc<Sealer>,
        fsync: bool,
        wake: Option<Arc<Notify>>,
    ) -> Result<PgStore, StoreError> {
        let options = connect_options(url)?;
        let ingest_pool =
            pool_options(INGEST_COMMITTERS, fsync).connect_lazy_with(ingest_options(&options));
        // One claim and one batch of results at a time (the dispatcher's claim loop and
        // its recorder).
        let queue_pool = pool_options(2, fsync).connect_lazy_with(queue_options(&options));
        let pool = pool_options(16, fsync).connect_with(options).await?;
        migrator().run(&pool).await?;
        if let Some(wake) = wake {
            tokio::spawn(listen_for_work(pool.clone(), wake));
        }
        Ok(PgStore {
            pool,
            ingest_pool,
            queue_pool,
            sealer,
            subscribers: Default::default(),
        })
    }
}

/// Forwards `NOTIFY hookcast_work` to the local dispatcher; reconnects after an
/// outage (and wakes the dispatcher then, in case something was missed).
async fn listen_for_work(pool: PgPool, wake: Arc<Notify>) {
    loop {
        match PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if listener.listen(WORK_CHANNEL).await.is_ok() {
                    wake.notify_one();
                    while listener.recv().await.is_ok() {
                        wake.notify_one();
                    }
                }
            }
            Err(error) => tracing::debug!(%error, "cannot listen for work; retrying"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[async_trait]
impl Store for PgStore {
    async fn schema_is_current(&self) -> Result<bool, StoreError> {
        let applied = sqlx::query_scalar(crate::store::SCHEMA_VERSION_SQL)
            .fetch_one(&self.pool)
            .await?;
        Ok(crate::store::covers(applied, &migrator()))
    }

    async fn insert_webhook(
        &self,
        webhook: &Webhook,
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError> {
        PgStore::insert_webhook(self, webhook, audit).await
    }

    async fn update_webhook(
        &self,
        webhook: &Webhook,
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError> {
        PgStore::update_webhook(self, webhook, audit).await
    }

    async fn get_webhook(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        PgStore::get_webhook(self, id).await
    }

    async fn list_webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        PgStore::list_webhooks(self).await
    }

    async fn delete_webhook(
        &self,
        id: &WebhookId,
        audit: Option<&AuditEntry>,
    ) -> Result<bool, StoreError> {
        PgStore::delete_webhook(self, id, audit).await
    }

    async fn insert_events_handing_off(
        &self,
        events: &[Event],
        now: DateTime<Utc>,
        hand_off: Option<HandOff<'_>>,
    ) -> Result<Inserted, StoreError> {
        PgStore::insert_events(self, events, now, hand_off).await
    }

    async fn warm_ingest(&self) -> Result<(), StoreError> {
        PgStore::warm_ingest(self).await
    }

    async fn get_event(&self, id: &EventId) -> Result<Option<Event>, StoreError> {
        PgStore::get_event(self, id).await
    }

    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<Event>, StoreError> {
        PgStore::list_events(self, filter).await
    }

    async fn claim_due(&self, request: &ClaimRequest) -> Result<Vec<ClaimedDelivery>, StoreError> {
        PgStore::claim_due(self, request).await
    }

    async fn next_due_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        PgStore::next_due_at(self).await
    }

    async fn queue_stats(&self) -> Result<crate::store::QueueStats, StoreError> {
        let row = sqlx::query_as(crate::store::QUEUE_STATS_SQL)
            .fetch_one(&self.pool)
            .await?;
        Ok(crate::store::QueueStats::from_row(row))
    }

    async fn record_attempts(
        &self,
        records: &[AttemptRecord],
        now: DateTime<Utc>,
    ) -> Result<Vec<DisabledWebhook>, StoreError> {
        PgStore::record_attempts(self, records, now).await
    }

    async fn release_claims(
        &self,
        owner: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        PgStore::release_claims(self, owner, now).await
    }

    async fn insert_test_delivery(
        &self,
        event: &Event,
        webhook_id: &WebhookId,
        now: DateTime<Utc>,
    ) -> Result<Delivery, StoreError> {
        PgStore::insert_test_delivery(self, event, webhook_id, now).await
    }

    async fn list_deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<Delivery>, StoreError> {
        PgStore::list_deliveries(self, filter).await
    }

    async fn get_delivery(
        &self,
        id: &DeliveryId,
    ) -> Result<Option<(Delivery, Vec<Attempt>)>, StoreError> {
        PgStore::get_delivery(self, id).await
    }

    async fn attempt_summaries(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<AttemptSummary>, StoreError> {
        PgStore::attempt_summaries(self, since, limit).await
    }

    async fn delete_expired(&self, before: DateTime<Utc>, batch: usize) -> Result<u64, StoreError> {
        PgStore::delete_expired(self, before, batch).await
    }

    async fn retry_delivery(
        &self,
        id: &DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<Delivery, StoreError> {
        PgStore::retry_delivery(self, id, now).await
    }

    async fn replay_failed(
        &self,
        webhook_id: &WebhookId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        PgStore::replay_failed(self, webhook_id, since, until, now).await
    }

    async fn insert_token(
        &self,
        token: &ApiToken,
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        access::insert_token(&mut tx, token).await?;
        if let Some(entry) = audit {
            access::insert_audit(&mut tx, entry).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn list_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        access::list_tokens(&self.pool).await
    }

    async fn revoke_token(
        &self,
        id: &TokenId,
        now: DateTime<Utc>,
        audit: Option<&AuditEntry>,
    ) -> Result<Option<ApiToken>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let found = access::revoke_token(&mut tx, id, now).await?;
        if let (Some((_, true)), Some(entry)) = (&found, audit) {
            access::insert_audit(&mut tx, entry).await?;
        }
        tx.commit().await?;
        Ok(found.map(|(token, _)| token))
    }

    async fn insert_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        access::insert_audit(&mut conn, entry).await
    }

    async fn reseal_secrets(&self) -> Result<u64, StoreError> {
        access::reseal_secrets(&self.pool, &self.sealer).await
    }

    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        access::list_audit(&self.pool, filter).await
    }
}

/// How every connection of a node starts.
fn connect_options(url: &str) -> Result<PgConnectOptions, StoreError> {
    Ok(PgConnectOptions::from_str(url)?
        .application_name("hookcast")
        // The queue's working set is in memory: a random page costs about what a
        // sequential one does. At the default (4.0) the planner joined a batch of
        // 256 attempt results to a 26,000-row deliveries table by hashing a seq
        // scan of all of it (15 ms) rather than by 256 index probes (4 ms). This
        // removed every such plan from the bench's end-to-end and drain lines;
        // their numbers did not move beyond the noise in three alternating rounds.
        .options([("random_page_cost", "1.1")]))
}

/// How many ingest commits run at once on PostgreSQL: each committer takes what
/// requests have queued and stores it in one statement, on a connection of its own.
pub const INGEST_COMMITTERS: u32 = 4;

/// The ingest pool's connections plan with generic plans. Ingest runs the same two
/// statements over and over (read the subscribers, write events and deliveries), and
/// PostgreSQL otherwise plans the subscribers' read anew for every batch: its estimate
/// for `event_type = ANY($1)` with the actual array always beats the generic one, so
/// the plan cache keeps choosing a custom plan. That planning took 0.23 ms of the
/// 0.27 ms the read cost in the server (its execution 0.04 ms). With generic plans, in
/// two alternating pairs of bench runs, ingest one event per request went from 9,137
/// and 8,860 to 11,633 and 11,991 events/s, and the p50 at 500 events/s from 1.29 and
/// 1.33 ms to 1.03 and 1.09 ms (BENCHMARKS.md, the eighteenth pass).
///
/// Only here: other statements filter with `$n IS NULL OR column = $n`, which only a
/// custom plan (seeing the actual value) can answer from an index.
fn ingest_options(options: &PgConnectOptions) -> PgConnectOptions {
    options
        .clone()
        .application_name("hookcast-ingest")
        .options([("plan_cache_mode", "force_generic_plan")])
}

/// The queue pool's sessions commit without waiting for the WAL to reach the disk,
/// like the SQLite store's relaxed writes: claims and attempt results are
/// bookkeeping, and a crash of PostgreSQL forgetting the last fraction of a second of
/// them only means those deliveries are sent again (the promise is at least once).
/// PostgreSQL writes its WAL in order, so every later durable commit (an accepted
/// event) flushes these too; a hookcast crash loses nothing.
///
/// Set for the session rather than per transaction (`SET LOCAL`), a claim is one
/// statement committing alone: three round trips fewer (BEGIN, SET, COMMIT) per
/// claim, and one fewer per batch of results (BENCHMARKS.md, the twenty-first pass).
fn queue_options(options: &PgConnectOptions) -> PgConnectOptions {
    options
        .clone()
        .application_name("hookcast-queue")
        .options([("synchronous_commit", "off")])
}

/// A pool of at most `max_connections`, with what every pool shares: quick failure in
/// an outage, no ping before each use, and `synchronous_commit = off` without `fsync`.
fn pool_options(max_connections: u32, fsync: bool) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        // An outage answers 503 quickly instead of hanging requests.
        .acquire_timeout(Duration::from_secs(3))
        // By default the pool pings a connection before every use: one more round
        // trip (0.11 ms on loopback) for every statement.
        // A connection used within the last second is taken to be alive (as
        // HikariCP does); one idle for longer is still pinged, so a connection an
        // outage broke is replaced rather than handed out.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > Duration::from_secs(1) {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if !fsync {
                    conn.execute("SET synchronous_commit = off").await?;
                }
                Ok(())
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingest_connections_plan_generically_and_keep_the_shared_options() {
        let shared = connect_options("postgres://hookcast@127.0.0.1/hookcast").unwrap();
        let ingest = ingest_options(&shared);
        assert_eq!(ingest.get_application_name(), Some("hookcast-ingest"));
        assert_eq!(
            ingest.get_options(),
            Some("-c random_page_cost=1.1 -c plan_cache_mode=force_generic_plan")
        );
        assert_eq!(
            shared.get_options(),
            Some("-c random_page_cost=1.1"),
            "the other connections keep custom plans"
        );
    }

    #[test]
    fn queue_connections_commit_without_waiting_for_the_wal() {
        let shared = connect_options("postgres://hookcast@127.0.0.1/hookcast").unwrap();
        let queue = queue_options(&shared);
        assert_eq!(queue.get_application_name(), Some("hookcast-queue"));
        assert_eq!(
            queue.get_options(),
            Some("-c random_page_cost=1.1 -c synchronous_commit=off")
        );
        assert_eq!(shared.get_options(), Some("-c random_page_cost=1.1"));
    }
}
