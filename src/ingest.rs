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
use tokio::sync::{Mutex, Notify, mpsc, oneshot};

use crate::delivery::dispatcher::DispatchHandle;
use crate::domain::event::Event;
use crate::store::{Accepted, HandOff, Store, StoreError};

pub const MAX_EVENTS_PER_COMMIT: usize = 2000;

struct Job {
    events: Vec<Event>,
    reply: oneshot::Sender<Result<Vec<Accepted>, StoreError>>,
}

#[derive(Clone)]
pub struct IngestQueue {
    jobs: mpsc::Sender<Job>,
}

/// Where committed deliveries go: straight to this node's dispatcher while it has
/// room, otherwise to the queue (and `wake` tells the claim loop).
#[derive(Clone)]
pub struct Committer {
    pub store: Arc<dyn Store>,
    pub dispatch: Option<DispatchHandle>,
    pub wake: Arc<Notify>,
}

impl IngestQueue {
    /// Starts `committers` committer tasks; they end when every queue handle is
    /// dropped. One suits SQLite (a single writer); PostgreSQL commits several
    /// transactions at once.
    pub fn start(committer: Committer, committers: usize) -> IngestQueue {
        let (jobs, receiver) = mpsc::channel(4096);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..committers.max(1) {
            tokio::spawn(commit_loop(committer.clone(), receiver.clone()));
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

/// Tries at storing one group while the webhooks it fans out to are changing.
const TRIES_WHILE_SUBSCRIBERS_CHANGE: usize = 3;

impl Committer {
    /// Stores the events. Webhooks changed between reading the subscribers and writing
    /// the deliveries make the store write nothing (PostgreSQL, [`StoreError::SubscriberGone`]);
    /// the next try reads the subscribers again, as if the events had arrived after
    /// the change.
    async fn commit(&self, events: &[Event]) -> Result<Vec<Accepted>, StoreError> {
        let mut tries = 1;
        loop {
            match self.commit_once(events).await {
                Err(StoreError::SubscriberGone) if tries < TRIES_WHILE_SUBSCRIBERS_CHANGE => {
                    tries += 1;
                }
                result => return result,
            }
        }
    }

    /// One transaction; then the handed-over deliveries start.
    async fn commit_once(&self, events: &[Event]) -> Result<Vec<Accepted>, StoreError> {
        let now = Utc::now();
        let mut reservation = self.dispatch.as_ref().and_then(DispatchHandle::reserve);
        let hand_off = match (&self.dispatch, reservation.as_mut()) {
            (Some(dispatch), Some(slots)) => Some(HandOff {
                owner: dispatch.owner(),
                lease_until: dispatch.lease_until(now),
                slots,
            }),
            _ => None,
        };
        // On failure the reservation is dropped, giving its slots back.
        let inserted = self
            .store
            .insert_events_handing_off(events, now, hand_off)
            .await?;
        if let (Some(dispatch), Some(reservation)) = (&self.dispatch, reservation) {
            dispatch.start(reservation, inserted.claimed);
            if inserted.queued > 0 {
                dispatch.queued();
            }
        } else if inserted.queued > 0 {
            self.wake.notify_one();
        }
        Ok(inserted.accepted)
    }
}

async fn commit_loop(committer: Committer, jobs: Arc<Mutex<mpsc::Receiver<Job>>>) {
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
            let result = committer.commit(&job.events).await;
            let _ = job.reply.send(result);
            continue;
        }
        let all: Vec<Event> = group
            .iter()
            .flat_map(|job| job.events.iter().cloned())
            .collect();
        match committer.commit(&all).await {
            Ok(mut accepted) => {
                for job in group {
                    let rest = accepted.split_off(job.events.len());
                    let _ = job.reply.send(Ok(std::mem::replace(&mut accepted, rest)));
                }
            }
            Err(_) => {
                for job in group {
                    let result = committer.commit(&job.events).await;
                    let _ = job.reply.send(result);
                }
            }
        }
    }
}
