//! The dispatcher: claims due deliveries, runs their attempts concurrently within a
//! global and a per-webhook bound, records the results in batches.
//!
//! Wakes at once when the API commits new work (a [`Notify`]), otherwise sleeps until
//! the next delivery is due. A slow receiver fills only its own per-webhook slots; the
//! claim skips webhooks without room, so the others keep flowing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::attempt::{AttemptContext, make_attempt};
use super::decide::next_state;
use super::sender::Sender;
use super::system_events::webhook_disabled_event;
use crate::config::DeliverySettings;
use crate::domain::catalog::Catalog;
use crate::domain::ids::WebhookId;
use crate::store::{AttemptRecord, ClaimRequest, ClaimedDelivery, Slots, Store};

/// Extra lease time beyond an attempt's deadline, for recording its result.
const LEASE_MARGIN: Duration = Duration::from_secs(10);
/// Longest sleep between looks at the queue when nothing is known to be due.
const MAX_IDLE: Duration = Duration::from_secs(30);
/// How long shutdown waits for attempts in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
/// Results recorded in one transaction at most.
const RECORD_BATCH: usize = 512;

pub struct Dispatcher {
    core: Arc<Core>,
    results: mpsc::UnboundedReceiver<AttemptRecord>,
}

/// What the claim loop and the ingest hand-offs share.
struct Core {
    store: Arc<dyn Store>,
    sender: Arc<Sender>,
    settings: DeliverySettings,
    catalog: &'static Catalog,
    /// Notified by the API after it commits due deliveries, and by finished attempts
    /// while work waits for room.
    wake: Arc<Notify>,
    /// Names this process's claims.
    owner: String,
    slots: Mutex<InFlight>,
    attempts: TaskTracker,
    /// Taken away at shutdown, so the recorder ends once the last attempt is in.
    results: Mutex<Option<mpsc::UnboundedSender<AttemptRecord>>>,
}

/// Attempts in flight, per webhook and in total.
#[derive(Default)]
struct InFlight {
    total: usize,
    per_webhook: HashMap<WebhookId, usize>,
    /// Shutting down: no more hand-offs.
    closed: bool,
    /// Due work may be waiting for room, so a freed slot should wake the claim loop.
    backlog: bool,
}

impl InFlight {
    fn take(&mut self, webhook: &WebhookId, settings: &DeliverySettings) -> bool {
        let busy = self.per_webhook.get(webhook).copied().unwrap_or(0);
        if self.closed
            || self.total >= settings.max_in_flight
            || busy >= settings.max_in_flight_per_webhook
        {
            return false;
        }
        self.total += 1;
        *self.per_webhook.entry(webhook.clone()).or_default() += 1;
        true
    }

    fn give_back(&mut self, webhook: &WebhookId) {
        self.total -= 1;
        if let Some(count) = self.per_webhook.get_mut(webhook) {
            *count -= 1;
            if *count == 0 {
                self.per_webhook.remove(webhook);
            }
        }
    }
}

/// Lets the ingest path hand new deliveries straight to this node's dispatcher.
#[derive(Clone)]
pub struct DispatchHandle {
    core: Arc<Core>,
}

/// Slots taken for deliveries being stored; given back unless they are started.
pub struct Reservation {
    core: Arc<Core>,
    taken: Vec<WebhookId>,
}

impl Slots for Reservation {
    fn try_take(&mut self, webhook: &WebhookId) -> bool {
        let taken = self
            .core
            .slots
            .lock()
            .expect("in-flight lock")
            .take(webhook, &self.core.settings);
        if taken {
            self.taken.push(webhook.clone());
        }
        taken
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.taken.is_empty() {
            return;
        }
        let mut slots = self.core.slots.lock().expect("in-flight lock");
        for webhook in self.taken.drain(..) {
            slots.give_back(&webhook);
        }
    }
}

impl DispatchHandle {
    /// Room for deliveries about to be stored, or `None` once shutting down.
    pub fn reserve(&self) -> Option<Reservation> {
        if self.core.slots.lock().expect("in-flight lock").closed {
            return None;
        }
        Some(Reservation {
            core: self.core.clone(),
            taken: Vec::new(),
        })
    }

    /// The claim deliveries handed over are stored under.
    pub fn owner(&self) -> &str {
        &self.core.owner
    }

    pub fn lease_until(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + self.core.lease()
    }

    /// Starts the attempts of deliveries stored claimed with `reservation`'s slots.
    pub fn start(&self, mut reservation: Reservation, claimed: Vec<ClaimedDelivery>) {
        debug_assert_eq!(reservation.taken.len(), claimed.len());
        // The slots now belong to the attempts, which give them back when done.
        reservation.taken.clear();
        for delivery in claimed {
            self.core.launch(delivery);
        }
    }

    /// Deliveries were stored due, for the claim loop.
    pub fn queued(&self) {
        self.core.slots.lock().expect("in-flight lock").backlog = true;
        self.core.wake.notify_one();
    }
}

impl Dispatcher {
    pub fn new(
        store: Arc<dyn Store>,
        sender: Arc<Sender>,
        settings: DeliverySettings,
        catalog: &'static Catalog,
        wake: Arc<Notify>,
    ) -> Dispatcher {
        let (results, receiver) = mpsc::unbounded_channel::<AttemptRecord>();
        let core = Core {
            store,
            sender,
            settings,
            catalog,
            wake,
            owner: format!("node-{}", ulid::Ulid::generate().to_string().to_lowercase()),
            slots: Mutex::new(InFlight {
                // Whatever a previous process left due is waiting.
                backlog: true,
                ..InFlight::default()
            }),
            attempts: TaskTracker::new(),
            results: Mutex::new(Some(results)),
        };
        Dispatcher {
            core: Arc::new(core),
            results: receiver,
        }
    }

    pub fn handle(&self) -> DispatchHandle {
        DispatchHandle {
            core: self.core.clone(),
        }
    }

    /// Runs until `shutdown`; then stops claiming, waits (bounded) for attempts in
    /// flight, records their results and releases whatever is left unfinished.
    pub async fn run(self, shutdown: CancellationToken) {
        let Dispatcher { core, results } = self;
        let recorder = tokio::spawn(core.clone().record_results(results));

        while !shutdown.is_cancelled() {
            // Claim in batches: while most slots are busy, wait for a quarter of them
            // to free up instead of claiming one or two at a time (each claim is a
            // write to the database).
            let (busy, free) = {
                let slots = core.slots.lock().expect("in-flight lock");
                (
                    slots.total,
                    core.settings.max_in_flight.saturating_sub(slots.total),
                )
            };
            if busy > 0 && free < core.settings.max_in_flight.div_ceil(4) {
                tokio::select! {
                    () = core.wake.notified() => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = shutdown.cancelled() => {}
                }
                continue;
            }
            let claimed = core.claim().await;
            let claimed_any = !claimed.is_empty();
            for delivery in claimed {
                core.launch(delivery);
            }
            if claimed_any {
                continue; // there may be more due right now
            }
            let pause = core.pause_until_next_due().await;
            tokio::select! {
                () = core.wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
                () = shutdown.cancelled() => {}
            }
        }

        core.slots.lock().expect("in-flight lock").closed = true;
        core.results.lock().expect("results lock").take();
        core.attempts.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, core.attempts.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "attempts still in flight after the shutdown grace period; they will be retried"
            );
        }
        let _ = recorder.await;
        match core
            .store
            .release_claims(Some(&core.owner), Utc::now())
            .await
        {
            Ok(0) => {}
            Ok(released) => tracing::info!(released, "released unfinished deliveries"),
            Err(error) => {
                tracing::warn!(%error, "cannot release claims; they expire by themselves")
            }
        }
    }
}

impl Core {
    /// Runs one claimed delivery's attempt; its slot is already counted.
    fn launch(self: &Arc<Self>, delivery: ClaimedDelivery) {
        let results = self.results.lock().expect("results lock").clone();
        let Some(results) = results else {
            // Stopped: the delivery stays claimed and is released with the rest.
            self.slots
                .lock()
                .expect("in-flight lock")
                .give_back(&delivery.webhook.id);
            return;
        };
        let core = self.clone();
        self.attempts.spawn(async move {
            let webhook_id = delivery.webhook.id.clone();
            let record = core.attempt(delivery).await;
            let _ = results.send(record);
            let mut slots = core.slots.lock().expect("in-flight lock");
            slots.give_back(&webhook_id);
            let backlog = slots.backlog;
            drop(slots);
            if backlog {
                core.wake.notify_one();
            }
        });
    }

    fn lease(&self) -> Duration {
        self.longest_deadline() + LEASE_MARGIN
    }

    /// Claims as much due work as there is room for.
    async fn claim(&self) -> Vec<ClaimedDelivery> {
        let per_webhook = self.settings.max_in_flight_per_webhook;
        let (free, webhook_room) = {
            let slots = self.slots.lock().expect("in-flight lock");
            let room = slots
                .per_webhook
                .iter()
                .map(|(id, busy)| (id.clone(), per_webhook.saturating_sub(*busy)))
                .collect::<Vec<_>>();
            (
                self.settings.max_in_flight.saturating_sub(slots.total),
                room,
            )
        };
        if free == 0 {
            return Vec::new();
        }
        // Some webhook's due deliveries may be left behind for lack of room.
        let crowded = webhook_room.iter().any(|(_, room)| *room == 0);
        let request = ClaimRequest {
            now: Utc::now(),
            limit: free,
            owner: self.owner.clone(),
            lease: self.lease(),
            per_webhook,
            webhook_room,
        };
        match self.store.claim_due(&request).await {
            Ok(claimed) => {
                let mut slots = self.slots.lock().expect("in-flight lock");
                for delivery in &claimed {
                    slots.total += 1;
                    *slots
                        .per_webhook
                        .entry(delivery.webhook.id.clone())
                        .or_default() += 1;
                }
                slots.backlog = crowded || claimed.len() == free;
                claimed
            }
            Err(error) => {
                tracing::warn!(%error, "cannot claim deliveries; trying again shortly");
                tokio::time::sleep(Duration::from_secs(1)).await;
                Vec::new()
            }
        }
    }

    /// The claim must outlast any attempt: the longest deadline a webhook may set.
    fn longest_deadline(&self) -> Duration {
        self.settings.default_timeout.max(Duration::from_secs(60))
    }

    async fn pause_until_next_due(&self) -> Duration {
        match self.store.next_due_at().await {
            Ok(Some(next)) => {
                match (next - Utc::now()).to_std() {
                    Ok(wait) if !wait.is_zero() => wait.min(MAX_IDLE),
                    // Due already, yet nothing was claimable: every such delivery
                    // waits for a slot, and a freed slot notifies. The bound is a
                    // safety net.
                    _ => Duration::from_secs(1),
                }
            }
            Ok(None) => MAX_IDLE,
            Err(error) => {
                tracing::warn!(%error, "cannot read the queue");
                Duration::from_secs(1)
            }
        }
    }

    async fn attempt(&self, claimed: ClaimedDelivery) -> AttemptRecord {
        let ClaimedDelivery {
            delivery,
            event,
            webhook,
        } = claimed;
        let context = AttemptContext {
            sender: &self.sender,
            catalog: self.catalog,
            zone: &self.settings.time_zone,
            default_timeout: self.settings.default_timeout,
        };
        let number = delivery.attempts + 1;
        let outcome = make_attempt(
            &context,
            &webhook.spec,
            Some(&webhook.id),
            &event,
            &delivery.id,
            number,
        )
        .await;
        let jitter = rand::random::<f64>() * 2.0 - 1.0;
        let next = next_state(
            outcome.verdict,
            number,
            &self.settings.retry_schedule,
            jitter,
            Utc::now(),
            self.settings.disable_after,
        );
        tracing::info!(
            delivery_id = %delivery.id,
            event_id = %event.id,
            webhook_id = %webhook.id,
            attempt = number,
            status = ?outcome.attempt.response_status,
            error = outcome.summary.as_deref().unwrap_or(""),
            next = next.status.as_str(),
            "attempt finished"
        );
        AttemptRecord {
            attempt: outcome.attempt,
            webhook_id: webhook.id.clone(),
            owner: Some(self.owner.clone()),
            status: next.status,
            next_attempt_at: next.next_attempt_at,
            last_error: outcome.summary,
            health: next.health,
        }
    }

    /// Records results in batches: one transaction for everything that finished
    /// while the previous batch was being written.
    async fn record_results(self: Arc<Self>, mut receiver: mpsc::UnboundedReceiver<AttemptRecord>) {
        let mut batch = Vec::with_capacity(RECORD_BATCH);
        while receiver.recv_many(&mut batch, RECORD_BATCH).await > 0 {
            let mut delay = Duration::from_millis(100);
            // Retries change when the claim loop should look next.
            let mut rescheduled = batch.iter().any(|r| r.next_attempt_at.is_some());
            loop {
                match self.store.record_attempts(&batch, Utc::now()).await {
                    Ok(disabled) => {
                        rescheduled |= !disabled.is_empty();
                        for webhook in disabled {
                            tracing::warn!(webhook_id = %webhook.id, reason = webhook.reason.as_str(), "webhook disabled automatically");
                            let event = webhook_disabled_event(&webhook);
                            if let Err(error) = self.store.insert_events(&[event], Utc::now()).await
                            {
                                tracing::error!(%error, "cannot publish hookcast.webhook.disabled");
                            }
                        }
                        break;
                    }
                    Err(error) => {
                        // The deliveries stay claimed until recorded or their lease
                        // ends, so nothing is lost while the database is away.
                        tracing::warn!(%error, "cannot record attempts; retrying");
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(Duration::from_secs(5));
                        if delay == Duration::from_secs(5) && receiver.is_closed() {
                            break;
                        }
                    }
                }
            }
            batch.clear();
            if rescheduled {
                self.wake.notify_one();
            }
        }
    }
}
