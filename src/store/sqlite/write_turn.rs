//! One writer at a time, queued in the process rather than at SQLite's lock.
//!
//! SQLite allows one write transaction at a time. When two pooled connections both
//! want it, the loser's busy handler sleeps and polls (1, 2, 5, 10 … 100 ms), which
//! showed up as tens of milliseconds in the latency tail under load. Taking turns on a
//! tokio mutex first means a writer waits exactly as long as the one before it and is
//! woken the moment it finishes.

use std::ops::{Deref, DerefMut};

use sqlx::{Sqlite, SqliteConnection, Transaction};
use tokio::sync::MutexGuard;

/// A write transaction holding this process's write turn until it ends.
pub(super) struct WriteTx<'a> {
    // Declared first so it drops (rolls back) before the turn is handed on.
    tx: Transaction<'static, Sqlite>,
    _turn: MutexGuard<'a, ()>,
}

impl<'a> WriteTx<'a> {
    pub(super) fn new(tx: Transaction<'static, Sqlite>, turn: MutexGuard<'a, ()>) -> Self {
        WriteTx { tx, _turn: turn }
    }

    pub(super) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl Deref for WriteTx<'_> {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}
