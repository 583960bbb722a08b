//! How long the disk took to flush while a line ran: the floor under any latency
//! that waits for a durable commit.
//!
//! Every event's 202 waits for an fsync. On a virtual disk a single flush has taken
//! over 400 ms now and then, on an idle machine (BENCHMARKS.md, the nineteenth pass):
//! one such stall in a 10 s line at 500 events/s holds up about 1 % of the events,
//! which is the p99. This watch flushes a small file of its own beside the line, ten
//! times a second, so the table shows whether the disk stalled meanwhile.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const BLOCK: usize = 4096;
/// Blocks written over in turn: the file never grows, so a flush is the data and the
/// disk's cache, not the file system's journal.
const BLOCKS: u64 = 64;
const EVERY: Duration = Duration::from_millis(100);

pub struct DiskWatch {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<Duration>>,
}

impl DiskWatch {
    /// Starts flushing a file in `dir` (on the disk under test) until [`DiskWatch::stop`].
    pub fn start(dir: &Path) -> DiskWatch {
        let path = dir.join("disk-watch");
        let mut file = File::create(&path).expect("a file for the disk watch");
        file.write_all(&vec![0; BLOCK * BLOCKS as usize]).unwrap();
        file.sync_all().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let block = [7u8; BLOCK];
            let mut flushes = Vec::new();
            let mut n = 0;
            while !stopped.load(Ordering::Relaxed) {
                file.write_all_at(&block, (n % BLOCKS) * BLOCK as u64)
                    .unwrap();
                let started = Instant::now();
                file.sync_data().unwrap();
                flushes.push(started.elapsed());
                n += 1;
                std::thread::sleep(EVERY);
            }
            let _ = std::fs::remove_file(&path);
            flushes
        });
        DiskWatch { stop, thread }
    }

    /// The flushes made, sorted.
    pub fn stop(self) -> Vec<Duration> {
        self.stop.store(true, Ordering::Relaxed);
        let mut flushes = self.thread.join().expect("the disk watch");
        flushes.sort();
        flushes
    }
}
