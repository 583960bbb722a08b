//! A write transaction run start to end on the calling thread, for the hot writers,
//! on a connection of their own.
//!
//! sqlx runs each statement on the connection's own thread and sends the result back
//! to the task that asked; the next statement starts only once that task has been
//! polled again. With the tokio workers busy serving HTTP, the end-to-end benchmark's
//! write turns were held 75 % of the time while the connection's thread was busy 34 %:
//! more than half of every turn was the writer waiting between statements, and every
//! other writer waited with it.
//!
//! Here the whole transaction runs on the task's own thread, through rusqlite (the
//! ecosystem's synchronous SQLite binding) on a connection this store opens for it
//! and keeps. It used to borrow sqlx's writer connection for each turn instead
//! (`lock_handle`), which cost a round trip to that connection's thread (two thread
//! wake-ups before the turn could start) and, as each turn wrapped the handle anew,
//! parsing and planning every statement again: at 500 events/s on a 2-core VM, 70 us
//! (p50) to 640 us (p99) to borrow the handle, and a one-event ingest turn's work
//! went from 255 to 171 us (p50) once its statements were kept (BENCHMARKS.md, the
//! twenty-second pass).
//!
//! Ingest and attempt results run here. The claim stays on sqlx's writer: it is one
//! statement, and run on the calling thread it made more, smaller claims and cost
//! more CPU per delivery end to end (BENCHMARKS.md, the twelfth and twenty-second
//! passes). SQLite drops a connection's page cache when another connection has
//! written, so each turn after a claim reads its pages again from the operating
//! system's cache. A turn holds the tokio worker for as long as SQLite works on it
//! (15-20 us a row in the store benchmark, so a few milliseconds for the largest
//! batches).

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use super::{Durability, SqliteStore, checkpoint};
use crate::store::StoreError;

/// Statements the hot writers keep prepared (ingest's and the results', with room to
/// spare).
const KEPT_STATEMENTS: usize = 32;

/// The hot writers' connection. The mutex is only ever taken inside the write turn,
/// so it never waits; it is there because a connection may be used by one thread at
/// a time.
pub(super) struct TurnConnection(Mutex<Connection>);

impl TurnConnection {
    /// Opens the database file (already created and migrated) with the settings of
    /// sqlx's writer, whose commits only write the log (see [`super::wal_flush`]).
    pub(super) fn open(file: &Path) -> Result<TurnConnection, StoreError> {
        let conn = Connection::open_with_flags(
            file,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
             PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; \
             PRAGMA wal_autocheckpoint = {};",
            checkpoint::SAFETY_NET_PAGES
        ))?;
        conn.set_prepared_statement_cache_capacity(KEPT_STATEMENTS);
        Ok(TurnConnection(Mutex::new(conn)))
    }
}

impl SqliteStore {
    /// Runs `work` as one write transaction in this process's write turn, committing
    /// if it returns `Ok`; durable commits are on disk before this returns.
    pub(super) async fn write_whole<T>(
        &self,
        durability: Durability,
        work: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let (turn, flush) = self.take_turn(durability).await;
        let out = {
            // Never waits: every holder holds the write turn too. A panic in an
            // earlier turn rolled its transaction back as it unwound.
            let mut conn = self
                .turn_conn
                .0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = work(&tx)?;
            tx.commit()?;
            out
        };
        let commit = flush.map(|flush| (flush, flush.committed()));
        drop(turn);
        if let Some((flush, commit)) = commit {
            flush.flush(commit).await.map_err(sqlx::Error::Io)?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;
    use std::sync::Arc;

    use chrono::Utc;

    use super::*;
    use crate::domain::catalog::Catalog;
    use crate::domain::event::{Event, EventInput};
    use crate::store::Sealer;

    fn event(n: usize) -> Event {
        let input: EventInput = serde_json::from_value(serde_json::json!({
            "type": "dr.host.disconnected", "source": format!("h{n}"), "result": "failure"
        }))
        .unwrap();
        input
            .into_event(Catalog::builtin(), Utc::now(), "")
            .unwrap()
    }

    /// How many times the statement with this text, still prepared on the hot
    /// writers' connection, has run; None if no such statement is prepared.
    fn runs_of(store: &SqliteStore, sql: &str) -> Option<i32> {
        let conn = store.turn_conn.0.lock().unwrap();
        // SAFETY: the handle is only read, while the connection is locked; the
        // statements walked belong to it and stay prepared meanwhile.
        unsafe {
            let db = conn.handle();
            let mut stmt = libsqlite3_sys::sqlite3_next_stmt(db, std::ptr::null_mut());
            while !stmt.is_null() {
                let text = CStr::from_ptr(libsqlite3_sys::sqlite3_sql(stmt));
                if text.to_str() == Ok(sql) {
                    return Some(libsqlite3_sys::sqlite3_stmt_status(
                        stmt,
                        libsqlite3_sys::SQLITE_STMTSTATUS_RUN,
                        0,
                    ));
                }
                stmt = libsqlite3_sys::sqlite3_next_stmt(db, stmt);
            }
        }
        None
    }

    #[tokio::test]
    async fn ingest_turns_run_one_kept_statement_instead_of_preparing_each_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::super::tests::open(dir.path(), true).await;
        for n in 0..20 {
            store
                .insert_events(&[event(n)], Utc::now(), None)
                .await
                .unwrap();
        }
        assert_eq!(
            runs_of(&store, super::super::events::INSERT_EVENT),
            Some(20),
            "the events' insert is prepared once and run by every turn"
        );
        let stored = store
            .list_events(&crate::store::EventFilter {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(stored.len(), 20);
    }

    #[tokio::test]
    async fn an_in_memory_database_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let sealer = Sealer::load_or_create(None, &dir.path().join("secret.key")).unwrap();
        let Err(error) = SqliteStore::open("sqlite::memory:", Arc::new(sealer), true).await else {
            panic!("an in-memory database has no file for the hot writers' connection");
        };
        let message = error.to_string();
        assert!(
            message.contains("needs a database file") && message.contains("sqlite::memory:"),
            "{message}"
        );
    }
}
