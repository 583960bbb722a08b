//! The dispatcher: claims due deliveries, runs their attempts concurrently within a
//! global and a per-webhook bound, records the results in batches.
//!
//! Wakes at once when the API commits new work (a [`Notify`]), otherwise sleeps until
//! the next delivery is due. A slow receiver fills only its own per-webhook slots; the
//! claim skips webhooks without room, so the others keep flowing.

use crate::metrics::Metrics;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::attempt::{AttemptContext, make_attempt};
use super::decide::next_state;
use super::sender::Sender;
use super::system_events::{webhook_disabled_audit, webhook_disabled_event};
use crate::config::DeliverySettings;
use crate::domain::catalog::Catalog;
use crate::domain::ids::WebhookId;
use crate::domain::webhook::Webhook;
use crate::store::{AttemptRecord, ClaimRequest, ClaimedDelivery, Slots, Store};

/// Extra lease time beyond an attempt's deadline, for recording its result.
const LEASE_MARGIN: Duration = Duration::from_secs(10);
/// Longest sleep between looks at the queue when nothing is known to be due.
const MAX_IDLE: Duration = Duration::from_secs(30);
/// How long shutdown waits for attempts in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
/// Results recorded in one transaction at most.
const RECORD_BATCH: usize = 512;
/// How long a batch of results short of [`RECORD_BATCH`] waits for more before it is
/// recorded. Every write turn costs its commit (the log pages it rewrites) however
/// few rows it has; recording whatever had finished at once made, with SQLite's whole
/// write turns, about 380 results turns per 50,000 deliveries end to end, and this
/// wait brings it to about 250 (BENCHMARKS.md, the twelfth pass). Nothing waits on
/// it: the slot is free once the result is queued, and the endpoint already has the
/// delivery.
const RECORD_LINGER: Duration = Duration::from_millis(1);
/// Rounds of a webhook's slots that may be claimed at once: the slots themselves and
/// up to three rounds waiting for them. With two (and a claim per quarter round), the
/// end-to-end benchmark delivered about a quarter less (4,000-4,400 against
/// 5,300/s): each claim is a write turn, and a deeper buffer lets a claim wait for
/// half a round of freed slots and still never leave a slot idle.
const MAX_ROUNDS: usize = 4;

pub struct Dispatcher {
    core: Arc<Core>,
    results: mpsc::Receiver<AttemptRecord>,
}

/// What the claim loop and the ingest hand-offs share.
struct Core {
    store: Arc<dyn Store>,
    sender: Arc<Sender>,
    settings: DeliverySettings,
    catalog: &'static Catalog,
    metrics: Arc<Metrics>,
    /// Notified by the API after it commits due deliveries, and by finished attempts
    /// while work waits for room.
    wake: Arc<Notify>,
    /// Names this process's claims.
    owner: String,
    slots: Mutex<InFlight>,
    attempts: TaskTracker,
    /// Taken away at shutdown, so the recorder ends once the last attempt is in.
    /// Bounded: when recording falls behind (a slow or absent database), attempts
    /// wait instead of piling results up in memory, and a crash can repeat at most
    /// the attempts in flight, queued here, and in the batch being written.
    results: Mutex<Option<mpsc::Sender<AttemptRecord>>>,
}

/// Attempts in flight, per webhook and in total.
#[derive(Default)]
struct InFlight {
    total: usize,
    per_webhook: HashMap<WebhookId, usize>,
    /// Shutting down: no more hand-offs.
    closed: bool,
    /// Due work may be waiting for room, so freed slots should wake the claim loop.
    backlog: bool,
    /// Attempts finished since the last claim. The claim loop is woken once a batch
    /// of them is done rather than for each one: a claim is a database write, and
    /// claiming one delivery per finished attempt made claims the bottleneck.
    freed_since_claim: usize,
    /// Claimed ahead (or handed over by the ingest path), waiting for a slot of their
    /// webhook: a finished attempt starts the next one at once instead of leaving its
    /// slot idle for a claim's round trip to the database. At most `MAX_ROUNDS - 1`
    /// more rounds per webhook, and only as many as its deadline lets a delivery wait
    /// and still finish within its lease.
    ready: HashMap<WebhookId, VecDeque<ClaimedDelivery>>,
    /// Rounds each webhook with deliveries held may hold (see `ready`), from its
    /// deadline; one for a webhook not seen yet.
    rounds: HashMap<WebhookId, usize>,
    /// Places in `ready` promised to deliveries the ingest path is storing claimed by
    /// this node: they join `ready` once their transaction commits.
    promised: HashMap<WebhookId, usize>,
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

    /// The next delivery for `webhook`'s slot, keeping the slot.
    fn next_ready(&mut self, webhook: &WebhookId) -> Option<ClaimedDelivery> {
        let queue = self.ready.get_mut(webhook)?;
        let next = queue.pop_front();
        if queue.is_empty() {
            self.ready.remove(webhook);
        }
        next
    }

    /// Promises `webhook` a place among the deliveries ready for a slot, for one being
    /// stored: only while no due work is known to wait in the queue (it would be
    /// overtaken), within the room of all webhooks together and within `rounds` of
    /// the webhook's slots, as a claim would.
    fn promise(&mut self, webhook: &WebhookId, rounds: usize, settings: &DeliverySettings) -> bool {
        if self.closed
            || self.backlog
            || self.held_total() >= room_total(settings)
            || self.held(webhook) >= settings.max_in_flight_per_webhook * rounds
        {
            return false;
        }
        *self.promised.entry(webhook.clone()).or_default() += 1;
        true
    }

    fn unpromise(&mut self, webhook: &WebhookId) {
        if let Some(count) = self.promised.get_mut(webhook) {
            *count -= 1;
            if *count == 0 {
                self.promised.remove(webhook);
            }
        }
    }

    /// Takes on a claimed delivery: returned with a slot taken, to start now, or
    /// queued among the ready ones when its webhook or all slots are busy.
    fn admit(
        &mut self,
        delivery: ClaimedDelivery,
        rounds: usize,
        settings: &DeliverySettings,
    ) -> Option<ClaimedDelivery> {
        let webhook_id = delivery.webhook.id.clone();
        self.rounds.insert(webhook_id.clone(), rounds);
        if self.take(&webhook_id, settings) {
            return Some(delivery);
        }
        self.ready
            .entry(webhook_id)
            .or_default()
            .push_back(delivery);
        None
    }

    /// A waiting delivery of any webhook that now has room, with a slot taken for it.
    fn any_ready(&mut self, settings: &DeliverySettings) -> Option<ClaimedDelivery> {
        let webhook = self
            .ready
            .keys()
            .find(|id| {
                self.per_webhook.get(*id).copied().unwrap_or(0) < settings.max_in_flight_per_webhook
            })?
            .clone();
        if !self.take(&webhook, settings) {
            return None;
        }
        self.next_ready(&webhook)
    }

    /// Attempts in flight and deliveries ready or promised, of all webhooks.
    fn held_total(&self) -> usize {
        self.total
            + self.ready.values().map(VecDeque::len).sum::<usize>()
            + self.promised.values().sum::<usize>()
    }

    /// Attempts in flight and deliveries ready or promised for `webhook`.
    fn held(&self, webhook: &WebhookId) -> usize {
        self.per_webhook.get(webhook).copied().unwrap_or(0)
            + self.ready.get(webhook).map_or(0, VecDeque::len)
            + self.promised.get(webhook).copied().unwrap_or(0)
    }

    /// How many `webhook` may hold: as many rounds of its slots as its deadline allows.
    fn capacity(&self, webhook: &WebhookId, per_webhook: usize) -> usize {
        per_webhook * self.rounds.get(webhook).copied().unwrap_or(1)
    }

    fn give_back(&mut self, webhook: &WebhookId) {
        self.total -= 1;
        if let Some(count) = self.per_webhook.get_mut(webhook) {
            *count -= 1;
            if *count == 0 {
                self.per_webhook.remove(webhook);
                if !self.ready.contains_key(webhook) {
                    self.rounds.remove(webhook);
                }
            }
        }
    }
}

/// Lets the ingest path hand new deliveries straight to this node's dispatcher.
#[derive(Clone)]
pub struct DispatchHandle {
    core: Arc<Core>,
}

/// Room taken for deliveries being stored; given back unless they are started.
pub struct Reservation {
    core: Arc<Core>,
    /// In the order taken: a slot, or a place promised among the ready deliveries.
    taken: Vec<(WebhookId, Room)>,
}

/// Where a reservation put a delivery being stored.
#[derive(Clone, Copy)]
enum Room {
    Slot,
    Ready,
}

/// Deliveries that fit take a slot; those that do not, a place among the ready ones,
/// as a claim would have put them a moment later: a fan-out wider than the slots is
/// handed over whole, with no claim to write and no event and webhooks to read back.
impl Slots for Reservation {
    fn try_take(&mut self, webhook: &Webhook) -> bool {
        let rounds = self.core.rounds_for(webhook);
        let mut slots = self.core.slots.lock().expect("in-flight lock");
        let room = if slots.take(&webhook.id, &self.core.settings) {
            Room::Slot
        } else if slots.promise(&webhook.id, rounds, &self.core.settings) {
            Room::Ready
        } else {
            return false;
        };
        self.taken.push((webhook.id.clone(), room));
        true
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.taken.is_empty() {
            return;
        }
        let mut slots = self.core.slots.lock().expect("in-flight lock");
        for (webhook, room) in self.taken.drain(..) {
            match room {
                Room::Slot => slots.give_back(&webhook),
                Room::Ready => slots.unpromise(&webhook),
            }
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

    /// Starts the attempts of deliveries stored claimed with `reservation`'s room, or
    /// queues them for a slot.
    pub fn start(&self, mut reservation: Reservation, claimed: Vec<ClaimedDelivery>) {
        debug_assert_eq!(reservation.taken.len(), claimed.len());
        // The room now belongs to the deliveries: slots to their attempts, which give
        // them back when done, promised places to the deliveries joining `ready`.
        let taken = std::mem::take(&mut reservation.taken);
        self.core.metrics.deliveries_taken("ingest", claimed.len());
        let mut start_now = Vec::with_capacity(claimed.len());
        {
            let mut slots = self.core.slots.lock().expect("in-flight lock");
            for ((webhook_id, room), delivery) in taken.iter().zip(claimed) {
                let rounds = self.core.rounds_for(&delivery.webhook);
                match room {
                    Room::Slot => {
                        slots.rounds.insert(webhook_id.clone(), rounds);
                        start_now.push(delivery);
                    }
                    // A slot may have come free since the place was promised.
                    Room::Ready => {
                        slots.unpromise(webhook_id);
                        start_now.extend(slots.admit(delivery, rounds, &self.core.settings));
                    }
                }
            }
        }
        for delivery in start_now {
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
        metrics: Arc<Metrics>,
        wake: Arc<Notify>,
    ) -> Dispatcher {
        let (results, receiver) = mpsc::channel::<AttemptRecord>(settings.max_in_flight.max(1));
        let core = Core {
            store,
            sender,
            settings,
            catalog,
            metrics,
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
            // Claim in batches: while most of the room (slots and the ready buffer) is
            // taken, wait for half a round of it to free up instead of claiming one or
            // two at a time (each claim is a write to the database).
            let (busy, free) = {
                let slots = core.slots.lock().expect("in-flight lock");
                let held = slots.held_total();
                (held, room_total(&core.settings).saturating_sub(held))
            };
            if busy > 0 && free < core.settings.max_in_flight.div_ceil(2) {
                tokio::select! {
                    () = core.wake.notified() => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = shutdown.cancelled() => {}
                }
                continue;
            }
            if core.claim().await {
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
    /// Runs one claimed delivery's attempt, then whatever waits for its slot; the
    /// slot is already counted.
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
            let mut delivery = delivery;
            loop {
                let webhook_id = delivery.webhook.id.clone();
                let record = core.attempt(delivery).await;
                let _ = results.send(record).await;
                let mut slots = core.slots.lock().expect("in-flight lock");
                slots.freed_since_claim += 1;
                // The same webhook's next keeps the slot; otherwise the slot goes
                // back, maybe to another webhook's (`take` refuses once closed, and
                // whatever is left stays claimed, to be released at shutdown).
                let next = if slots.closed {
                    None
                } else {
                    slots.next_ready(&webhook_id)
                };
                let next = next.or_else(|| {
                    slots.give_back(&webhook_id);
                    slots.any_ready(&core.settings)
                });
                let claim_now = slots.backlog && slots.freed_since_claim >= core.claim_batch();
                drop(slots);
                if claim_now {
                    core.wake.notify_one();
                }
                match next {
                    Some(next) => delivery = next,
                    None => break,
                }
            }
        });
    }

    /// How many freed slots make a claim worth its write: half a round of a
    /// webhook's slots (or of all slots, if fewer).
    fn claim_batch(&self) -> usize {
        self.settings
            .max_in_flight_per_webhook
            .min(self.settings.max_in_flight)
            .div_ceil(2)
    }

    fn lease(&self) -> Duration {
        self.longest_deadline() + LEASE_MARGIN
    }

    /// Claims as much due work as there is room for: a slot now, or a place among the
    /// deliveries ready for a slot. True when it filled all the room asked for, so more
    /// may be due. Claiming again at once after a partial claim would find nothing new
    /// and, with a webhook out of room, cost a scan past all its due deliveries.
    async fn claim(self: &Arc<Self>) -> bool {
        let per_webhook = self.settings.max_in_flight_per_webhook;
        let (free, webhook_room) = {
            let slots = self.slots.lock().expect("in-flight lock");
            let mut webhooks: HashSet<&WebhookId> = slots.per_webhook.keys().collect();
            webhooks.extend(slots.ready.keys());
            webhooks.extend(slots.promised.keys());
            let room = webhooks
                .into_iter()
                .map(|id| {
                    let room = slots
                        .capacity(id, per_webhook)
                        .saturating_sub(slots.held(id));
                    (id.clone(), room)
                })
                .collect::<Vec<_>>();
            (
                room_total(&self.settings).saturating_sub(slots.held_total()),
                room,
            )
        };
        if free == 0 {
            return false;
        }
        // Some webhook's due deliveries may be left behind for lack of room.
        let crowded = webhook_room.iter().any(|(_, room)| *room == 0);
        let offered: HashMap<WebhookId, usize> = webhook_room.iter().cloned().collect();
        let request = ClaimRequest {
            now: Utc::now(),
            limit: free,
            owner: self.owner.clone(),
            lease: self.lease(),
            // A webhook not seen yet gets one round: its deadline is not known.
            per_webhook,
            webhook_room,
        };
        let started = std::time::Instant::now();
        match self.store.claim_due(&request).await {
            Ok(claimed) => {
                tracing::debug!(
                    claimed = claimed.len(),
                    limit = free,
                    took_us = started.elapsed().as_micros() as u64,
                    "claim"
                );
                let count = claimed.len();
                self.metrics.deliveries_taken("claim", count);
                let mut start_now = Vec::new();
                let mut got: HashMap<WebhookId, usize> = HashMap::new();
                let mut slots = self.slots.lock().expect("in-flight lock");
                for delivery in claimed {
                    *got.entry(delivery.webhook.id.clone()).or_default() += 1;
                    let rounds = self.rounds_for(&delivery.webhook);
                    start_now.extend(slots.admit(delivery, rounds, &self.settings));
                }
                // A webhook that got all the room it was offered may have more due:
                // claim again at once if it has room left now (it was offered one
                // round before its deadline was known), else when slots free up.
                let mut more = count == free;
                let mut filled = false;
                for (webhook_id, got) in &got {
                    if *got < offered.get(webhook_id).copied().unwrap_or(per_webhook) {
                        continue;
                    }
                    if slots.held(webhook_id) < slots.capacity(webhook_id, per_webhook) {
                        more = true;
                    } else {
                        filled = true;
                    }
                }
                slots.backlog = crowded || filled || more;
                slots.freed_since_claim = 0;
                drop(slots);
                for delivery in start_now {
                    self.launch(delivery);
                }
                more
            }
            Err(error) => {
                tracing::warn!(%error, "cannot claim deliveries; trying again shortly");
                tokio::time::sleep(Duration::from_secs(1)).await;
                false
            }
        }
    }

    /// How long one attempt to `webhook` may take.
    fn deadline_of(&self, webhook: &Webhook) -> Duration {
        webhook
            .spec
            .timeout
            .map_or(self.settings.default_timeout, |t| {
                Duration::from_secs(u64::from(t.get()))
            })
    }

    /// Rounds of `webhook`'s slots worth claiming at once (see [`rounds_within`]).
    fn rounds_for(&self, webhook: &Webhook) -> usize {
        rounds_within(self.lease(), self.deadline_of(webhook))
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
        self.metrics.attempt_finished(
            webhook.id.as_str(),
            next.status,
            outcome.attempt.error_kind,
            outcome.attempt.duration_ms,
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
    /// while the previous batch was being written, and in the [`RECORD_LINGER`] after.
    async fn record_results(self: Arc<Self>, mut receiver: mpsc::Receiver<AttemptRecord>) {
        let most = RECORD_BATCH.min(self.settings.max_in_flight.max(1));
        let mut batch = Vec::with_capacity(most);
        while receiver.recv_many(&mut batch, most).await > 0 {
            if batch.len() < most {
                tokio::time::sleep(RECORD_LINGER).await;
                while batch.len() < most
                    && let Ok(record) = receiver.try_recv()
                {
                    batch.push(record);
                }
            }
            let mut delay = Duration::from_millis(100);
            // Retries change when the claim loop should look next.
            let mut rescheduled = batch.iter().any(|r| r.next_attempt_at.is_some());
            loop {
                let started = std::time::Instant::now();
                match self.store.record_attempts(&batch, Utc::now()).await {
                    Ok(disabled) => {
                        tracing::debug!(
                            recorded = batch.len(),
                            took_us = started.elapsed().as_micros() as u64,
                            "attempts recorded"
                        );
                        rescheduled |= !disabled.is_empty();
                        for webhook in disabled {
                            tracing::warn!(webhook_id = %webhook.id, reason = webhook.reason.as_str(), "webhook disabled automatically");
                            self.metrics.webhook_auto_disabled();
                            if let Err(error) = self
                                .store
                                .insert_audit(&webhook_disabled_audit(&webhook))
                                .await
                            {
                                tracing::error!(%error, "cannot record the disabling in the audit trail");
                            }
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

/// How many deliveries all webhooks together may hold: in flight, ready or promised.
fn room_total(settings: &DeliverySettings) -> usize {
    settings.max_in_flight * MAX_ROUNDS
}

/// Rounds of a webhook's slots a claim under `lease` may take for a webhook whose
/// attempts take at most `deadline`: the last delivery of the last round waits for
/// the rounds before it, then runs its own attempt, and all of it ends within the
/// lease (less the margin for recording the result).
fn rounds_within(lease: Duration, deadline: Duration) -> usize {
    let usable = lease.saturating_sub(LEASE_MARGIN).as_millis();
    let deadline = deadline.as_millis().max(1);
    usize::try_from(usable / deadline)
        .unwrap_or(MAX_ROUNDS)
        .clamp(1, MAX_ROUNDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(max_in_flight: usize, per_webhook: usize) -> DeliverySettings {
        DeliverySettings {
            max_in_flight,
            max_in_flight_per_webhook: per_webhook,
            ..DeliverySettings::default()
        }
    }

    #[test]
    fn deliveries_being_stored_are_promised_the_room_a_claim_would_get() {
        // Two slots, one per webhook: room for eight held in all.
        let settings = settings(2, 1);
        let mut slots = InFlight::default();
        let (a, b) = (WebhookId::generate(), WebhookId::generate());
        assert!(slots.take(&a, &settings));
        // Webhook a has its slot; two more rounds of it may wait (three rounds).
        assert!(slots.promise(&a, 3, &settings));
        assert!(slots.promise(&a, 3, &settings));
        assert!(
            !slots.promise(&a, 3, &settings),
            "a's three rounds are held"
        );
        assert_eq!(slots.held(&a), 3);
        assert!(slots.take(&b, &settings));
        for _ in 0..3 {
            assert!(slots.promise(&b, 4, &settings));
        }
        assert_eq!(slots.held_total(), 7);
        let c = WebhookId::generate();
        assert!(slots.promise(&c, 4, &settings));
        assert!(
            !slots.promise(&c, 4, &settings),
            "all webhooks together hold four rounds of the slots"
        );
        slots.unpromise(&c);
        assert_eq!(slots.held(&c), 0);
        assert!(!slots.promised.contains_key(&c), "nothing is kept for c");
    }

    #[test]
    fn nothing_is_promised_while_due_work_waits_in_the_queue_or_after_closing() {
        let settings = settings(1, 1);
        let webhook = WebhookId::generate();
        let mut slots = InFlight {
            backlog: true,
            ..InFlight::default()
        };
        assert!(slots.take(&webhook, &settings));
        assert!(
            !slots.promise(&webhook, 4, &settings),
            "a new delivery would overtake the ones waiting"
        );
        slots.backlog = false;
        assert!(slots.promise(&webhook, 4, &settings));
        slots.closed = true;
        assert!(!slots.promise(&webhook, 4, &settings));
    }

    #[test]
    fn a_claim_takes_only_the_rounds_that_finish_within_the_lease() {
        let lease = Duration::from_secs(60) + LEASE_MARGIN;
        let rounds = |seconds| rounds_within(lease, Duration::from_secs(seconds));
        // The default 15 s deadline: four rounds of 15 s fit in 60 s.
        assert_eq!(rounds(15), 4);
        assert_eq!(rounds(16), 3);
        assert_eq!(rounds(30), 2);
        assert_eq!(rounds(31), 1);
        // The longest deadline still gets its one round; a short one no more than four.
        assert_eq!(rounds(60), 1);
        assert_eq!(rounds(1), MAX_ROUNDS);
        assert_eq!(rounds_within(lease, Duration::ZERO), MAX_ROUNDS);
    }
}
