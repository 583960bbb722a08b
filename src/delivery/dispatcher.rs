//! The dispatcher: claims due deliveries, runs their attempts concurrently within a
//! global and a per-webhook bound, records the results in batches.
//!
//! Wakes at once when the API commits new work (a [`Notify`]), otherwise sleeps until
//! the next delivery is due. A slow receiver fills only its own per-webhook slots; the
//! claim skips webhooks without room, so the others keep flowing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
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
use crate::store::{AttemptRecord, ClaimRequest, ClaimedDelivery, Store};

/// Extra lease time beyond an attempt's deadline, for recording its result.
const LEASE_MARGIN: Duration = Duration::from_secs(10);
/// Longest sleep between looks at the queue when nothing is known to be due.
const MAX_IDLE: Duration = Duration::from_secs(30);
/// How long shutdown waits for attempts in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
/// Results recorded in one transaction at most.
const RECORD_BATCH: usize = 512;

pub struct Dispatcher {
    store: Arc<dyn Store>,
    sender: Arc<Sender>,
    settings: DeliverySettings,
    catalog: &'static Catalog,
    /// Notified by the API after it commits new deliveries, and by finished attempts.
    wake: Arc<Notify>,
    /// Names this process's claims.
    owner: String,
}

/// Attempts in flight, per webhook and in total.
#[derive(Default)]
struct InFlight {
    total: usize,
    per_webhook: HashMap<WebhookId, usize>,
}

impl Dispatcher {
    pub fn new(
        store: Arc<dyn Store>,
        sender: Arc<Sender>,
        settings: DeliverySettings,
        catalog: &'static Catalog,
        wake: Arc<Notify>,
    ) -> Dispatcher {
        Dispatcher {
            store,
            sender,
            settings,
            catalog,
            wake,
            owner: format!("node-{}", ulid::Ulid::generate().to_string().to_lowercase()),
        }
    }

    /// Runs until `shutdown`; then stops claiming, waits (bounded) for attempts in
    /// flight, records their results and releases whatever is left unfinished.
    pub async fn run(self, shutdown: CancellationToken) {
        let this = Arc::new(self);
        let in_flight = Arc::new(Mutex::new(InFlight::default()));
        let attempts = TaskTracker::new();
        let (results, receiver) = mpsc::unbounded_channel::<AttemptRecord>();
        let recorder = tokio::spawn(this.clone().record_results(receiver));

        while !shutdown.is_cancelled() {
            // Claim in batches: while most slots are busy, wait for a quarter of them
            // to free up instead of claiming one or two at a time (each claim is a
            // write to the database).
            let (busy, free) = {
                let slots = in_flight.lock().expect("in-flight lock");
                (
                    slots.total,
                    this.settings.max_in_flight.saturating_sub(slots.total),
                )
            };
            if busy > 0 && free < this.settings.max_in_flight.div_ceil(4) {
                tokio::select! {
                    () = this.wake.notified() => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = shutdown.cancelled() => {}
                }
                continue;
            }
            let claimed = this.claim(&in_flight).await;
            let claimed_any = !claimed.is_empty();
            for delivery in claimed {
                let this = this.clone();
                let in_flight = in_flight.clone();
                let results = results.clone();
                attempts.spawn(async move {
                    let webhook_id = delivery.webhook.id.clone();
                    let record = this.attempt(delivery).await;
                    let _ = results.send(record);
                    let mut slots = in_flight.lock().expect("in-flight lock");
                    slots.total -= 1;
                    if let Some(count) = slots.per_webhook.get_mut(&webhook_id) {
                        *count -= 1;
                        if *count == 0 {
                            slots.per_webhook.remove(&webhook_id);
                        }
                    }
                    drop(slots);
                    this.wake.notify_one();
                });
            }
            if claimed_any {
                continue; // there may be more due right now
            }
            let pause = this.pause_until_next_due().await;
            tokio::select! {
                () = this.wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
                () = shutdown.cancelled() => {}
            }
        }

        attempts.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, attempts.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "attempts still in flight after the shutdown grace period; they will be retried"
            );
        }
        drop(results);
        let _ = recorder.await;
        match this
            .store
            .release_claims(Some(&this.owner), Utc::now())
            .await
        {
            Ok(0) => {}
            Ok(released) => tracing::info!(released, "released unfinished deliveries"),
            Err(error) => {
                tracing::warn!(%error, "cannot release claims; they expire by themselves")
            }
        }
    }

    /// Claims as much due work as there is room for.
    async fn claim(&self, in_flight: &Mutex<InFlight>) -> Vec<ClaimedDelivery> {
        let per_webhook = self.settings.max_in_flight_per_webhook;
        let (free, webhook_room) = {
            let slots = in_flight.lock().expect("in-flight lock");
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
        let lease = self.longest_deadline() + LEASE_MARGIN;
        let request = ClaimRequest {
            now: Utc::now(),
            limit: free,
            owner: self.owner.clone(),
            lease,
            per_webhook,
            webhook_room,
        };
        match self.store.claim_due(&request).await {
            Ok(claimed) => {
                let mut slots = in_flight.lock().expect("in-flight lock");
                for delivery in &claimed {
                    slots.total += 1;
                    *slots
                        .per_webhook
                        .entry(delivery.webhook.id.clone())
                        .or_default() += 1;
                }
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
            loop {
                match self.store.record_attempts(&batch, Utc::now()).await {
                    Ok(disabled) => {
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
            self.wake.notify_one();
        }
    }
}
