//! Group commit for ingest: events posted at the same moment by different clients are
//! stored in one transaction, so they share one fsync instead of paying one each.
//!
//! Each request still gets its 202 only after its own events (and their deliveries)
//! are committed. A committer task takes whatever requests are waiting (up to
//! [`MAX_EVENTS_PER_COMMIT`] events), commits them together and answers each. If the
//! shared transaction fails, each request is retried alone, so one request's problem
//! never becomes another's.

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::domain::event::Event;
use crate::store::{Accepted, Store, StoreError};

pub const MAX_EVENTS_PER_COMMIT: usize = 2000;

struct Job {
    events: Vec<Event>,
    reply: oneshot::Sender<Result<Vec<Accepted>, StoreError>>,
}

#[derive(Clone)]
pub struct IngestQueue {
    jobs: mpsc::Sender<Job>,
}

impl IngestQueue {
    /// Starts `committers` committer tasks; they end when every queue handle is
    /// dropped. One suits SQLite (a single writer); PostgreSQL commits several
    /// transactions at once.
    pub fn start(store: Arc<dyn Store>, committers: usize) -> IngestQueue {
        let (jobs, receiver) = mpsc::channel(4096);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..committers.max(1) {
            tokio::spawn(commit_loop(store.clone(), receiver.clone()));
        }
        IngestQueue { jobs }
    }

    /// Stores the events (with the requests waiting beside them); returns when committed.
    pub async fn submit(&self, events: Vec<Event>) -> Result<Vec<Accepted>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { events, reply })
            .await
            .map_err(|_| StoreError::Corrupt("the ingest committer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Corrupt("the ingest committer has stopped".into()))?
    }
}

async fn commit_loop(store: Arc<dyn Store>, jobs: Arc<Mutex<mpsc::Receiver<Job>>>) {
    loop {
        // Gather a group while holding the queue, commit it after letting go.
        let mut group = {
            let mut jobs = jobs.lock().await;
            let Some(first) = jobs.recv().await else {
                return;
            };
            let mut count = first.events.len();
            let mut group = vec![first];
            while count < MAX_EVENTS_PER_COMMIT {
                match jobs.try_recv() {
                    Ok(job) => {
                        count += job.events.len();
                        group.push(job);
                    }
                    Err(_) => break,
                }
            }
            group
        };
        if group.len() == 1 {
            let job = group.pop().expect("one job");
            let result = store.insert_events(&job.events, Utc::now()).await;
            let _ = job.reply.send(result);
            continue;
        }
        let all: Vec<Event> = group
            .iter()
            .flat_map(|job| job.events.iter().cloned())
            .collect();
        match store.insert_events(&all, Utc::now()).await {
            Ok(mut accepted) => {
                for job in group {
                    let rest = accepted.split_off(job.events.len());
                    let _ = job.reply.send(Ok(std::mem::replace(&mut accepted, rest)));
                }
            }
            Err(_) => {
                for job in group {
                    let result = store.insert_events(&job.events, Utc::now()).await;
                    let _ = job.reply.send(result);
                }
            }
        }
    }
}
