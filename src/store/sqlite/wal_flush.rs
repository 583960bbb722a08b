//! Durable commits flushed to disk after their write turn, and together.
//!
//! With `synchronous = FULL`, SQLite fsyncs the write-ahead log inside every commit,
//! while the commit holds the write turn: in the end-to-end benchmark an ingest batch
//! of 100 events held the turn about 2 ms for its commit, most of it waiting for the
//! disk, and every claim and result waited with it. Here write transactions commit
//! with `synchronous = NORMAL` (into the log, not yet on disk), hand the turn on, and
//! only then wait for [`WalFlush::flush`], which fsyncs the log once for every commit
//! made before it started. The caller answers (the 202) only after that.
//!
//! Why this is as safe as FULL: SQLite's log is written in order and recovered as a
//! prefix, so once the log file is on disk every commit written to it before the fsync
//! is too. If a checkpoint has meanwhile copied the log into the database and the log
//! restarted, NORMAL has already synced both (it syncs the log before a checkpoint and
//! the database after it). A commit that later commits build on (a claim of a delivery
//! not yet on disk, say) is lost with them on power loss, never without them; the
//! worst case is a delivery sent before the machine lost power and sent again after,
//! which the at-least-once promise allows (and its 202 was never sent).
//!
//! SQLite offers no hook to fsync outside its lock, so this is done here; the file is
//! opened per flush, so a log deleted and recreated (the last connection closing) is
//! never mistaken for the one on disk.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Mutex;

pub(super) struct WalFlush {
    database: PathBuf,
    wal: PathBuf,
    /// Durable commits made so far; a commit's number is its place in this count.
    commits: AtomicU64,
    /// The highest commit number known to be on disk; held while a flush runs, so
    /// commits that wait for it are covered by it or by the next one, not by one each.
    flushed: Mutex<u64>,
    /// How many fsyncs were made: the measure of grouping, and what tests look at.
    syncs: AtomicU64,
}

impl WalFlush {
    pub(super) fn new(database: &Path) -> WalFlush {
        let mut wal = database.as_os_str().to_owned();
        wal.push("-wal");
        WalFlush {
            database: database.to_path_buf(),
            wal: PathBuf::from(wal),
            commits: AtomicU64::new(0),
            flushed: Mutex::new(0),
            syncs: AtomicU64::new(0),
        }
    }

    /// Counts a commit that has just returned; its number, for [`WalFlush::flush`].
    pub(super) fn committed(&self) -> u64 {
        self.commits.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Returns once commit number `commit` is on disk.
    pub(super) async fn flush(&self, commit: u64) -> io::Result<()> {
        let mut flushed = self.flushed.lock().await;
        if *flushed >= commit {
            return Ok(());
        }
        // Every commit counted by now has returned, so its pages are in the log file
        // (the page cache) before the fsync below starts.
        let covered = self.commits.load(Ordering::SeqCst);
        let (database, wal) = (self.database.clone(), self.wal.clone());
        tokio::task::spawn_blocking(move || sync_log(&database, &wal))
            .await
            .map_err(io::Error::other)??;
        self.syncs.fetch_add(1, Ordering::Relaxed);
        *flushed = covered;
        Ok(())
    }

    #[cfg(test)]
    pub(super) fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }
}

/// Fsyncs the log; without a log (every connection closed, so SQLite checkpointed it
/// into the database and deleted it), the database file, which then holds everything.
fn sync_log(database: &Path, wal: &Path) -> io::Result<()> {
    match File::open(wal) {
        Ok(log) => log.sync_data(),
        Err(error) if error.kind() == io::ErrorKind::NotFound => File::open(database)?.sync_data(),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_fsync_covers_every_commit_made_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("hookcast.db");
        std::fs::write(&database, b"db").unwrap();
        std::fs::write(dir.path().join("hookcast.db-wal"), b"log").unwrap();
        let flush = WalFlush::new(&database);
        let first = flush.committed();
        let second = flush.committed();
        let third = flush.committed();
        flush.flush(third).await.unwrap();
        assert_eq!(flush.syncs(), 1);
        flush.flush(first).await.unwrap();
        flush.flush(second).await.unwrap();
        assert_eq!(flush.syncs(), 1, "earlier commits are already on disk");
        let fourth = flush.committed();
        flush.flush(fourth).await.unwrap();
        assert_eq!(flush.syncs(), 2, "a later commit needs its own fsync");
    }

    #[tokio::test]
    async fn without_a_log_the_database_file_is_synced() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("hookcast.db");
        let flush = WalFlush::new(&database);
        let commit = flush.committed();
        let missing = flush.flush(commit).await.unwrap_err();
        assert_eq!(
            missing.kind(),
            io::ErrorKind::NotFound,
            "neither file exists"
        );
        std::fs::write(&database, b"db").unwrap();
        flush.flush(commit).await.unwrap();
        assert_eq!(flush.syncs(), 1);
    }
}
