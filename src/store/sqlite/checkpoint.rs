//! Write-ahead-log checkpoints off the commit path.
//!
//! By default SQLite checkpoints inside whichever commit pushes the log past 1,000
//! pages, so that one writer (holding everyone's write turn) also copies the log into
//! the database and, with fsync on, waits for the disk: a stall of several
//! milliseconds every few thousand deliveries, visible in the latency tail. The
//! connections here only checkpoint automatically past a much larger log (a safety
//! net), and this task runs a passive checkpoint twice a second, beside the writers
//! rather than inside one of them.

use std::time::Duration;

use sqlx::SqlitePool;

/// Pages the log may grow to before a commit checkpoints by itself.
pub(super) const SAFETY_NET_PAGES: &str = "20000";

const INTERVAL: Duration = Duration::from_millis(500);

/// Runs until the pool is closed.
pub(super) async fn run(pool: SqlitePool) {
    loop {
        tokio::time::sleep(INTERVAL).await;
        if pool.is_closed() {
            return;
        }
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::debug!(%error, "background checkpoint failed; the next one retries");
        }
    }
}
