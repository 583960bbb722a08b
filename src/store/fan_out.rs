//! Fan-out at ingest: the deliveries an event creates, and which of them go straight
//! to this node's dispatcher.
//!
//! A delivery the dispatcher has room for is stored already claimed by it (with a
//! lease, exactly as if it had been claimed from the queue a moment later) and handed
//! over in memory, so it is attempted as soon as the transaction commits: no wake-up,
//! no claim query, no reading back the event and webhook just written. One that finds
//! no room is stored due now and waits in the queue. Either way it is in the database
//! before the producer's 202, so a crash loses nothing: an unfinished claim is due
//! again when its lease ends.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::event_codec::from_millis;
use super::{Accepted, ClaimedDelivery};
use crate::domain::delivery::{Delivery, DeliveryStatus};
use crate::domain::event::Event;
use crate::domain::ids::DeliveryId;
use crate::domain::webhook::Webhook;

/// Room in a dispatcher, asked for one delivery at a time while events are stored.
pub trait Slots: Send {
    /// Takes room for one delivery to `webhook`; false when there is none.
    fn try_take(&mut self, webhook: &Webhook) -> bool;
}

/// Where deliveries may be handed over, and the claim they are stored under.
pub struct HandOff<'a> {
    pub owner: &'a str,
    pub lease_until: DateTime<Utc>,
    pub slots: &'a mut dyn Slots,
}

/// What storing a group of events did.
#[derive(Debug, Default)]
pub struct Inserted {
    pub accepted: Vec<Accepted>,
    /// Stored claimed by the hand-off's owner: one per slot taken, to attempt now.
    pub claimed: Vec<ClaimedDelivery>,
    /// Stored due now, for any dispatcher to claim.
    pub queued: usize,
}

/// One delivery row to insert.
pub struct NewDelivery {
    pub id: String,
    pub event_id: String,
    pub webhook_id: String,
    pub next_attempt_at: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
}

/// The deliveries of a group of events, built up event by event.
pub struct FanOut<'a> {
    hand_off: Option<HandOff<'a>>,
    now_ms: i64,
    pub rows: Vec<NewDelivery>,
    pub claimed: Vec<ClaimedDelivery>,
    pub queued: usize,
}

impl<'a> FanOut<'a> {
    pub fn new(now: DateTime<Utc>, hand_off: Option<HandOff<'a>>) -> FanOut<'a> {
        FanOut {
            hand_off,
            now_ms: now.timestamp_millis(),
            rows: Vec::new(),
            claimed: Vec::new(),
            queued: 0,
        }
    }

    /// Adds one delivery of `event` per webhook; returns how many.
    pub fn add(&mut self, event: &Event, webhooks: &[Arc<Webhook>]) -> u32 {
        let mut shared_event: Option<Arc<Event>> = None;
        for webhook in webhooks {
            let id = DeliveryId::generate();
            let claim = self.hand_off.as_mut().and_then(|hand_off| {
                hand_off.slots.try_take(webhook).then(|| {
                    (
                        hand_off.owner.to_string(),
                        hand_off.lease_until.timestamp_millis(),
                    )
                })
            });
            let next_attempt_at = claim.as_ref().map_or(self.now_ms, |(_, until)| *until);
            if claim.is_some() {
                let now = from_millis(self.now_ms);
                let event = shared_event
                    .get_or_insert_with(|| Arc::new(event.clone()))
                    .clone();
                self.claimed.push(ClaimedDelivery {
                    delivery: Delivery {
                        id: id.clone(),
                        event_id: event.id.clone(),
                        webhook_id: webhook.id.clone(),
                        status: DeliveryStatus::Pending,
                        attempts: 0,
                        next_attempt_at: Some(from_millis(next_attempt_at)),
                        last_error: None,
                        created_at: now,
                        updated_at: now,
                    },
                    event,
                    webhook: webhook.clone(),
                });
            } else {
                self.queued += 1;
            }
            let (lease_owner, lease_until) = claim.unzip();
            self.rows.push(NewDelivery {
                id: id.to_string(),
                event_id: event.id.to_string(),
                webhook_id: webhook.id.to_string(),
                next_attempt_at,
                lease_owner,
                lease_until,
            });
        }
        webhooks.len() as u32
    }

    pub fn finish(self, accepted: Vec<Accepted>) -> Inserted {
        Inserted {
            accepted,
            claimed: self.claimed,
            queued: self.queued,
        }
    }
}
