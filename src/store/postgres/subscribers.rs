//! Which enabled webhooks each event type fans out to, kept between ingests.
//!
//! Reading them was one of ingest's two round trips per commit: on the bench's one
//! event per request, 45 µs of PostgreSQL's time per commit of about five events, and
//! the round trip in front of every 202. The copy here is labelled with the webhook
//! generation it was read at (migration 0009); ingest's write checks that label against
//! the table and writes nothing if any webhook changed since, on this node or another
//! ([`StoreError::SubscriberGone`]). The copy is then forgotten and read again, so a
//! commit never fans out from subscribers older than what a fresh read would give.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::{PgConnection, Row as _};

use super::rows::read_webhook;
use crate::domain::event::Event;
use crate::domain::webhook::Webhook;
use crate::store::{Sealer, StoreError, webhook_codec};

/// The subscribers of some event types, as of one webhook generation.
pub(super) struct Subscribers {
    pub generation: i64,
    /// Every type asked about so far at this generation, with or without subscribers;
    /// each list in webhook id order. Event types come from the catalog, so this stays
    /// as small as it is.
    by_type: HashMap<String, Vec<Arc<Webhook>>>,
}

impl Subscribers {
    pub fn of(&self, event: &Event) -> &[Arc<Webhook>] {
        self.by_type
            .get(event.event_type.as_str())
            .map_or(&[], Vec::as_slice)
    }

    fn knows(&self, codes: &[&str]) -> bool {
        codes.iter().all(|code| self.by_type.contains_key(*code))
    }
}

#[derive(Default)]
pub(super) struct SubscriberCache {
    // A std mutex: held only to clone or swap an `Arc`, never across an await.
    latest: Mutex<Option<Arc<Subscribers>>>,
}

impl SubscriberCache {
    /// The subscribers of every event's type: from the copy if it knows them all,
    /// otherwise read (the generation first, so a change that lands between the two
    /// reads leaves the copy labelled older than it is, and the write refuses it).
    pub async fn of(
        &self,
        conn: &mut PgConnection,
        events: &[Event],
        sealer: &Sealer,
    ) -> Result<Arc<Subscribers>, StoreError> {
        let mut codes: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        if let Some(known) = self.latest().filter(|known| known.knows(&codes)) {
            return Ok(known);
        }
        let generation: i64 = sqlx::query_scalar("SELECT value FROM webhook_generation")
            .fetch_one(&mut *conn)
            .await?;
        let mut by_type = read(conn, &codes, sealer).await?;
        let mut latest = self.latest.lock().expect("subscriber cache lock");
        if let Some(known) = latest.as_ref() {
            if known.generation > generation {
                // Another commit already read a newer generation: keep that one.
                return Ok(Arc::new(Subscribers {
                    generation,
                    by_type,
                }));
            }
            if known.generation == generation {
                for (code, webhooks) in &known.by_type {
                    by_type
                        .entry(code.clone())
                        .or_insert_with(|| webhooks.clone());
                }
            }
        }
        let fresh = Arc::new(Subscribers {
            generation,
            by_type,
        });
        *latest = Some(fresh.clone());
        Ok(fresh)
    }

    /// Drops the copy: a write found the webhooks changed since it was read.
    pub fn forget(&self) {
        *self.latest.lock().expect("subscriber cache lock") = None;
    }

    fn latest(&self) -> Option<Arc<Subscribers>> {
        self.latest.lock().expect("subscriber cache lock").clone()
    }
}

/// The enabled webhooks subscribed to any of `codes`, in one query; every code gets an
/// entry, empty when nothing subscribes to it.
async fn read(
    conn: &mut PgConnection,
    codes: &[&str],
    sealer: &Sealer,
) -> Result<HashMap<String, Vec<Arc<Webhook>>>, StoreError> {
    let rows = sqlx::query(
        "SELECT w.*, ARRAY(SELECT t.event_type FROM webhook_event_types t \
         WHERE t.webhook_id = w.id ORDER BY t.position) AS event_types \
         FROM webhooks w WHERE w.enabled AND w.id IN \
         (SELECT webhook_id FROM webhook_event_types WHERE event_type = ANY($1)) \
         ORDER BY w.id",
    )
    .bind(codes)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_type: HashMap<String, Vec<Arc<Webhook>>> = codes
        .iter()
        .map(|code| (code.to_string(), Vec::new()))
        .collect();
    for row in &rows {
        let event_types: Vec<String> = row.try_get("event_types")?;
        let webhook = Arc::new(webhook_codec::decode(
            read_webhook(row)?,
            event_types.clone(),
            sealer,
        )?);
        for code in event_types {
            if let Some(subscribers) = by_type.get_mut(&code) {
                subscribers.push(webhook.clone());
            }
        }
    }
    Ok(by_type)
}
