//! A write transaction run start to end on the calling thread, for the hot writers.
//!
//! sqlx runs each statement on the connection's own thread and sends the result back
//! to the task that asked; the next statement starts only once that task has been
//! polled again. With the tokio workers busy serving HTTP, the end-to-end benchmark's
//! write turns were held 75 % of the time while the connection's thread was busy 34 %:
//! more than half of every turn was the writer waiting between statements, and every
//! other writer waited with it.
//!
//! Here the whole transaction runs on the task's own thread, on the same connection
//! (one writer, one write-ahead log, one set of pragmas): sqlx hands over its handle
//! for the length of the turn (`lock_handle`, one round trip), and rusqlite, the
//! ecosystem's synchronous SQLite binding, runs the statements through it. A turn
//! holds the tokio worker for as long as SQLite works on it (15-20 us a row in the
//! store benchmark, so a few milliseconds for the largest batches), which is less than
//! the turn used to be held in all.
//!
//! Ingest and attempt results run this way. The claim stays on sqlx: it is one
//! statement, and claiming faster only made more, smaller claims (BENCHMARKS.md, the
//! twelfth pass). Results turns pay only together with the dispatcher waiting a
//! moment to record them in larger batches.

use rusqlite::{Transaction, TransactionBehavior};

use super::{Durability, SqliteStore};
use crate::store::StoreError;

impl SqliteStore {
    /// Runs `work` as one write transaction in this process's write turn, committing
    /// if it returns `Ok`; durable commits are on disk before this returns.
    pub(super) async fn write_whole<T>(
        &self,
        durability: Durability,
        work: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let (turn, flush) = self.take_turn(durability).await;
        let mut conn = self.writer.acquire().await?;
        let mut handle = conn.lock_handle().await?;
        let out = {
            // SAFETY: sqlx's connection thread does nothing with the handle until
            // `handle` is dropped (it waits for the lock `lock_handle` took), no sqlx
            // statement is running on it (the connection is ours alone, between
            // queries), and the wrapper neither closes the handle nor outlives this
            // block. The transaction ends (commit, or rollback on drop) before the
            // handle is handed back.
            let db = unsafe { rusqlite::Connection::from_handle(handle.as_raw_handle().as_ptr()) }?;
            let tx = Transaction::new_unchecked(&db, TransactionBehavior::Immediate)?;
            let out = work(&tx)?;
            tx.commit()?;
            out
        };
        let commit = flush.map(|flush| (flush, flush.committed()));
        drop(handle);
        drop(conn);
        drop(turn);
        if let Some((flush, commit)) = commit {
            flush.flush(commit).await.map_err(sqlx::Error::Io)?;
        }
        Ok(out)
    }
}
