//! Retention: a background job that deletes succeeded deliveries (and the bodies of
//! attempts) older than `retention_days`, in small batches with pauses between them,
//! so delivery never waits behind a long delete.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::store::Store;

const BATCH: usize = 500;
const PAUSE_BETWEEN_BATCHES: Duration = Duration::from_millis(200);
const INTERVAL: Duration = Duration::from_secs(600);

pub async fn run(store: Arc<dyn Store>, retention_days: u32, shutdown: CancellationToken) {
    loop {
        let before = Utc::now() - chrono::Duration::days(i64::from(retention_days));
        let mut total = 0;
        loop {
            match store.delete_expired(before, BATCH).await {
                Ok(deleted) => {
                    total += deleted;
                    if deleted < BATCH as u64 {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "retention paused: cannot delete old deliveries");
                    break;
                }
            }
            tokio::select! {
                () = tokio::time::sleep(PAUSE_BETWEEN_BATCHES) => {}
                () = shutdown.cancelled() => return,
            }
        }
        if total > 0 {
            tracing::info!(
                deleted = total,
                retention_days,
                "deleted old succeeded deliveries"
            );
        }
        tokio::select! {
            () = tokio::time::sleep(INTERVAL) => {}
            () = shutdown.cancelled() => return,
        }
    }
}
