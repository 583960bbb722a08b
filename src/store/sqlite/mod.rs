//! The embedded SQLite store: one file in the data directory, WAL mode.
//!
//! SQLite serves one node: at start-up every claim left by a previous process is
//! released at once, because no other process can be holding it.

mod allocator;
mod checkpoint;
mod deliveries;
mod events;
mod wal_flush;
mod webhooks;
mod whole_turn;
mod write_turn;

pub use allocator::route_sqlite_allocations_to_mimalloc;

mod rows {
    use sqlx::Row as _;
    crate::store::row_readers::row_readers!(sqlx::sqlite::SqliteRow, sqlx::Error, try_get);
}

/// The same readers for rows read inside a whole write turn (see [`whole_turn`]).
mod turn_rows {
    #![allow(dead_code)] // generated for every table; whole turns read some of them
    crate::store::row_readers::row_readers!(rusqlite::Row<'_>, rusqlite::Error, get);
}

mod access {
    crate::store::access_sql::access_sql!(
        sqlx::SqlitePool,
        sqlx::SqliteConnection,
        sqlx::sqlite::SqliteRow
    );
}

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqlSafeStr, SqlitePool};

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
use wal_flush::WalFlush;
use whole_turn::TurnConnection;
use write_turn::{WriteTurns, WriteTx};

/// The schema, embedded in the binary and applied on start.
fn migrator() -> Migrator {
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
            "webhooks",
            include_str!("../../../migrations/sqlite/0001_webhooks.sql"),
        ),
        migration(
            2,
            "delivery",
            include_str!("../../../migrations/sqlite/0002_delivery.sql"),
        ),
        migration(
            3,
            "templates and zones",
            include_str!("../../../migrations/sqlite/0003_templates_and_zones.sql"),
        ),
        migration(
            4,
            "retention indexes",
            include_str!("../../../migrations/sqlite/0004_retention_indexes.sql"),
        ),
        migration(
            5,
            "due by webhook",
            include_str!("../../../migrations/sqlite/0005_due_by_webhook.sql"),
        ),
        migration(
            6,
            "tokens and audit",
            include_str!("../../../migrations/sqlite/0006_tokens_and_audit.sql"),
        ),
        migration(
            7,
            "webhook tls",
            include_str!("../../../migrations/sqlite/0007_webhook_tls.sql"),
        ),
        migration(
            8,
            "one due index",
            include_str!("../../../migrations/sqlite/0008_one_due_index.sql"),
        ),
        migration(
            9,
            "succeeded index",
            include_str!("../../../migrations/sqlite/0009_succeeded_index.sql"),
        ),
    ])
}

/// Rows a query's connection thread may send ahead of the task reading them. A claim
/// returns its deliveries from the UPDATE, in the write turn; at sqlx's default of 50
/// the thread stopped every 50 rows until the task had caught up (a sleep and a wake-up
/// each time, on a 2-core machine), and a claim held the writer 14 us per delivery
/// instead of 9. 1,024 is the most one claim takes with the default limits (256 in
/// flight, four rounds each); it is also all that waits in memory for any query.
const ROW_BUFFER: usize = 1024;

pub struct SqliteStore {
    /// Reads, and the few writes made outside a write transaction (fsync'd in the
    /// commit when fsync is on).
    pool: SqlitePool,
    /// The connection of the claims and the rarer write transactions (operators'
    /// changes, retention), one at a time in their turn. It commits without waiting
    /// for the disk; durable commits wait for `flush` after their turn instead (see
    /// [`Durability`]).
    writer: SqlitePool,
    /// The connection of the hot writers, ingest and results (see [`whole_turn`]),
    /// in the same turns.
    turn_conn: TurnConnection,
    /// Present when fsync is on.
    flush: Option<WalFlush>,
    sealer: Arc<Sealer>,
    /// Taken by every write (see [`write_turn`]).
    write_turn: WriteTurns,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` and applies migrations.
    ///
    /// With `fsync`, every commit is on disk before it is acknowledged (survives power
    /// loss); without, a commit survives a crash of the process but the last ones may
    /// be lost if the machine loses power.
    pub async fn open(
        url: &str,
        sealer: Arc<Sealer>,
        fsync: bool,
    ) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(if fsync {
                SqliteSynchronous::Full
            } else {
                SqliteSynchronous::Normal
            })
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("wal_autocheckpoint", checkpoint::SAFETY_NET_PAGES)
            // Multi-row statements inside a transaction keep a statement journal (to
            // undo just that statement); past 64 KiB it spills to a temporary file,
            // which showed as file writes and page zeroing in the profile. In memory
            // it costs a copy of each page the statement changes, bounded by the
            // batch sizes (a few hundred rows).
            .pragma("temp_store", "memory")
            .row_buffer_size(ROW_BUFFER);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await?;
        migrator().run(&pool).await?;
        // The hot writers' own connection opens the file by name, so the store needs
        // one (SQLite's in-memory databases are one per connection).
        let file = std::fs::canonicalize(options.get_filename()).map_err(|error| {
            sqlx::Error::Configuration(
                format!("the SQLite store needs a database file ({error}): {url}").into(),
            )
        })?;
        let flush = fsync.then(|| WalFlush::new(&file));
        // Both writers' commits only write the log; with fsync on, the flush after
        // the turn puts it on disk.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.synchronous(SqliteSynchronous::Normal))
            .await?;
        let turn_conn = TurnConnection::open(&file)?;
        let store = SqliteStore {
            pool,
            writer,
            turn_conn,
            flush,
            sealer,
            write_turn: WriteTurns::default(),
        };
        store.release_claims(None, Utc::now()).await?;
        tokio::spawn(checkpoint::run(store.pool.clone()));
        Ok(store)
    }

    /// A write transaction, in this process's turn; it takes SQLite's write lock at
    /// once, so two writers never deadlock upgrading read locks.
    async fn begin_write(&self, durability: Durability) -> Result<WriteTx<'_>, StoreError> {
        let (turn, flush) = self.take_turn(durability).await;
        let tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTx::new(tx, turn, flush))
    }

    /// This process's write turn, and the flush a durable commit waits for after it.
    async fn take_turn(&self, durability: Durability) -> (write_turn::Turn<'_>, Option<&WalFlush>) {
        match durability {
            Durability::Durable => (self.write_turn.first().await, self.flush.as_ref()),
            Durability::Relaxed(writer) => (self.write_turn.after_others(writer).await, None),
        }
    }
}

/// Whether a commit waits for the disk (with fsync on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Durability {
    /// On disk before the commit returns: accepted events, webhooks, operator actions.
    /// The disk is waited for after the turn is handed on ([`WalFlush`]).
    Durable,
    /// Survives the process crashing but maybe not the machine losing power: claims
    /// and attempt results. Losing one only means the delivery is sent again (the
    /// promise is at least once), and the next durable commit writes it to disk too,
    /// since the write-ahead log is flushed in order. Names the writer, for the
    /// write turn's timings.
    Relaxed(&'static str),
}

/// A list bound as one JSON parameter, for `IN (SELECT value FROM json_each(?))`.
fn json_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    serde_json::Value::from(items.into_iter().collect::<Vec<_>>()).to_string()
}

#[async_trait]
impl Store for SqliteStore {
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
        SqliteStore::insert_webhook(self, webhook, audit).await
    }

    async fn update_webhook(
        &self,
        webhook: &Webhook,
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError> {
        SqliteStore::update_webhook(self, webhook, audit).await
    }

    async fn get_webhook(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        SqliteStore::get_webhook(self, id).await
    }

    async fn list_webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        SqliteStore::list_webhooks(self).await
    }

    async fn delete_webhook(
        &self,
        id: &WebhookId,
        audit: Option<&AuditEntry>,
    ) -> Result<bool, StoreError> {
        SqliteStore::delete_webhook(self, id, audit).await
    }

    async fn insert_events_handing_off(
        &self,
        events: &[Event],
        now: DateTime<Utc>,
        hand_off: Option<HandOff<'_>>,
    ) -> Result<Inserted, StoreError> {
        SqliteStore::insert_events(self, events, now, hand_off).await
    }

    async fn get_event(&self, id: &EventId) -> Result<Option<Event>, StoreError> {
        SqliteStore::get_event(self, id).await
    }

    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<Event>, StoreError> {
        SqliteStore::list_events(self, filter).await
    }

    async fn claim_due(&self, request: &ClaimRequest) -> Result<Vec<ClaimedDelivery>, StoreError> {
        SqliteStore::claim_due(self, request).await
    }

    async fn next_due_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        SqliteStore::next_due_at(self).await
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
        SqliteStore::record_attempts(self, records, now).await
    }

    async fn release_claims(
        &self,
        owner: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        SqliteStore::release_claims(self, owner, now).await
    }

    async fn insert_test_delivery(
        &self,
        event: &Event,
        webhook_id: &WebhookId,
        now: DateTime<Utc>,
    ) -> Result<Delivery, StoreError> {
        SqliteStore::insert_test_delivery(self, event, webhook_id, now).await
    }

    async fn list_deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<Delivery>, StoreError> {
        SqliteStore::list_deliveries(self, filter).await
    }

    async fn get_delivery(
        &self,
        id: &DeliveryId,
    ) -> Result<Option<(Delivery, Vec<Attempt>)>, StoreError> {
        SqliteStore::get_delivery(self, id).await
    }

    async fn attempt_summaries(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<AttemptSummary>, StoreError> {
        SqliteStore::attempt_summaries(self, since, limit).await
    }

    async fn delete_expired(&self, before: DateTime<Utc>, batch: usize) -> Result<u64, StoreError> {
        SqliteStore::delete_expired(self, before, batch).await
    }

    async fn retry_delivery(
        &self,
        id: &DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<Delivery, StoreError> {
        SqliteStore::retry_delivery(self, id, now).await
    }

    async fn replay_failed(
        &self,
        webhook_id: &WebhookId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        SqliteStore::replay_failed(self, webhook_id, since, until, now).await
    }

    async fn insert_token(
        &self,
        token: &ApiToken,
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write(Durability::Durable).await?;
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
        let mut tx = self.begin_write(Durability::Durable).await?;
        let found = access::revoke_token(&mut tx, id, now).await?;
        if let (Some((_, true)), Some(entry)) = (&found, audit) {
            access::insert_audit(&mut tx, entry).await?;
        }
        tx.commit().await?;
        Ok(found.map(|(token, _)| token))
    }

    async fn insert_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut tx = self.begin_write(Durability::Durable).await?;
        access::insert_audit(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reseal_secrets(&self) -> Result<u64, StoreError> {
        let _turn = self.write_turn.first().await;
        access::reseal_secrets(&self.pool, &self.sealer).await
    }

    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        access::list_audit(&self.pool, filter).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store on a fresh database file in `dir` (shared by the submodules' tests).
    pub(super) async fn open(dir: &std::path::Path, fsync: bool) -> SqliteStore {
        let sealer = Sealer::load_or_create(None, &dir.join("secret.key")).unwrap();
        let url = format!("sqlite://{}", dir.join("hookcast.db").display());
        SqliteStore::open(&url, Arc::new(sealer), fsync)
            .await
            .unwrap()
    }

    fn entry(n: usize) -> AuditEntry {
        AuditEntry::new(
            "ops",
            "webhook.update",
            "webhook",
            "wh",
            None,
            Some(n.into()),
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn durable_commits_wait_for_a_flush_of_the_log_shared_by_concurrent_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(open(dir.path(), true).await);
        let flush = || store.flush.as_ref().expect("fsync on, a file").syncs();
        store.insert_audit(&entry(0)).await.unwrap();
        assert_eq!(flush(), 1, "a durable commit is flushed before it returns");

        let writers: Vec<_> = (1..=32)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move { store.insert_audit(&entry(n)).await })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap().unwrap();
        }
        let grouped = flush() - 1;
        assert!(
            (1..=32).contains(&grouped),
            "one flush per commit at most: {grouped}"
        );
        let listed = store
            .list_audit(&AuditFilter {
                limit: 100,
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(listed.len(), 33);

        // Bookkeeping (here, a retention sweep) commits without waiting for the disk.
        let before = flush();
        store.delete_expired(Utc::now(), 100).await.unwrap();
        assert_eq!(flush(), before);
    }

    #[tokio::test]
    async fn without_fsync_nothing_is_flushed() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path(), false).await;
        assert!(store.flush.is_none());
        store.insert_audit(&entry(0)).await.unwrap();
    }
}
