//! One contract for every store: the same tests run against SQLite and PostgreSQL.

mod common;

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use common::fixtures::{claim, events, record, succeeded, webhook};
use common::postgres::TestDatabase;
use hookcast::domain::audit::{AuditEntry, AuditFilter};
use hookcast::domain::auth::AuthConfig;
use hookcast::domain::choices::{DisabledReason, Language};
use hookcast::domain::delivery::DeliveryStatus;
use hookcast::domain::ids::WebhookId;
use hookcast::domain::secret::Secret;
use hookcast::domain::token::{self, Scope, Scopes, TokenHash};
use hookcast::domain::webhook::Webhook;
use hookcast::domain::webhook_name::WebhookName;
use hookcast::store::{
    AttemptRecord, ClaimedDelivery, DeliveryFilter, HandOff, PgStore, Sealer, Slots, SqliteStore,
    Store, StoreError, WebhookHealth,
};
use serde_json::json;

type Backend = (Arc<dyn Store>, Box<dyn Any + Send>);

async fn sqlite() -> Option<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let sealer = Sealer::load_or_create(None, &dir.path().join("secret.key")).unwrap();
    let url = format!("sqlite://{}", dir.path().join("hookcast.db").display());
    let store = SqliteStore::open(&url, Arc::new(sealer), false)
        .await
        .unwrap();
    Some((Arc::new(store), Box::new(dir)))
}

async fn postgres() -> Option<Backend> {
    let database = TestDatabase::create().await?;
    let sealer = Sealer::from_base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").unwrap();
    let store = PgStore::open(&database.url, Arc::new(sealer), false, None)
        .await
        .unwrap();
    Some((Arc::new(store), Box::new(database)))
}

/// Runs each contract test once per backend.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite_store {
            $(#[tokio::test] async fn $name() { if let Some((store, _guard)) = super::sqlite().await { super::$name(store).await } })*
        }
        mod postgres_store {
            $(#[tokio::test] async fn $name() { if let Some((store, _guard)) = super::postgres().await { super::$name(store).await } })*
        }
    };
}

contract!(
    webhooks_round_trip_with_sealed_secrets,
    names_are_unique,
    events_fan_out_to_enabled_subscribers_once_per_idempotency_key,
    an_expired_claim_is_taken_over_and_the_old_owner_cannot_record,
    claims_respect_per_webhook_room,
    disabling_parks_deliveries_and_enabling_resumes_them,
    failing_past_the_window_disables_once,
    many_failures_in_one_batch_start_the_clock_once_and_disable_once,
    retry_replay_and_the_log,
    retention_deletes_old_succeeded_deliveries_in_batches,
    handed_off_deliveries_are_stored_claimed_and_the_rest_queued,
    tokens_are_kept_as_hashes_and_revoked_once,
    the_audit_trail_lists_newest_first_by_target,
    a_change_and_its_audit_entry_are_stored_together,
    results_for_a_deleted_webhook_are_dropped_and_the_rest_recorded,
);

/// Two webhooks subscribed to `dr.host.disconnected`, then `count` such events: a
/// delivery for each webhook per event, all due.
async fn two_subscribers_with_events(
    store: &Arc<dyn Store>,
    names: [&str; 2],
    count: usize,
) -> (Webhook, Webhook) {
    let [first, second] = names.map(|name| webhook(name, "dr.host.disconnected", AuthConfig::None));
    store.insert_webhook(&first, None).await.unwrap();
    store.insert_webhook(&second, None).await.unwrap();
    store
        .insert_events(&events(count, None), Utc::now())
        .await
        .unwrap();
    (first, second)
}

async fn webhooks_round_trip_with_sealed_secrets(store: Arc<dyn Store>) {
    let mut stored = webhook(
        "ops",
        "dr.host.disconnected",
        AuthConfig::Bearer {
            token: Secret::new("tok-1"),
        },
    );
    stored.spec.tls = hookcast::domain::tls::TlsOptions {
        ca_bundle: Some("-----BEGIN CERTIFICATE-----\n…".into()),
        dangerously_skip_certificate_verification: true,
    };
    store.insert_webhook(&stored, None).await.unwrap();
    assert_eq!(
        store.get_webhook(&stored.id).await.unwrap().unwrap(),
        stored
    );
    let mut changed = stored.clone();
    changed.spec.language = Language::EnUs;
    changed.set_enabled(false, Utc::now());
    store.update_webhook(&changed, None).await.unwrap();
    let read = store.get_webhook(&changed.id).await.unwrap().unwrap();
    assert_eq!(read.spec.language, Language::EnUs);
    assert_eq!(read.disabled_reason, Some(DisabledReason::Manual));
    assert!(
        matches!(read.spec.auth, AuthConfig::Bearer { ref token } if token.expose() == "tok-1")
    );
    assert_eq!(store.list_webhooks().await.unwrap().len(), 1);
    assert!(store.delete_webhook(&changed.id, None).await.unwrap());
    assert!(!store.delete_webhook(&changed.id, None).await.unwrap());
    assert!(store.get_webhook(&changed.id).await.unwrap().is_none());
    let ghost = webhook("ghost", "dr.user.login", AuthConfig::None);
    assert!(matches!(
        store.update_webhook(&ghost, None).await,
        Err(StoreError::NotFound)
    ));
}

async fn names_are_unique(store: Arc<dyn Store>) {
    store
        .insert_webhook(&webhook("ops", "dr.user.login", AuthConfig::None), None)
        .await
        .unwrap();
    let twin = webhook("ops", "dr.user.login", AuthConfig::None);
    assert!(matches!(
        store.insert_webhook(&twin, None).await,
        Err(StoreError::NameTaken)
    ));
    let mut other = webhook("dev", "dr.user.login", AuthConfig::None);
    store.insert_webhook(&other, None).await.unwrap();
    other.spec.name = WebhookName::parse("ops").unwrap();
    assert!(matches!(
        store.update_webhook(&other, None).await,
        Err(StoreError::NameTaken)
    ));
}

async fn events_fan_out_to_enabled_subscribers_once_per_idempotency_key(store: Arc<dyn Store>) {
    store
        .insert_webhook(
            &webhook("a", "dr.host.disconnected", AuthConfig::None),
            None,
        )
        .await
        .unwrap();
    store
        .insert_webhook(
            &webhook("b", "dr.host.disconnected", AuthConfig::None),
            None,
        )
        .await
        .unwrap();
    store
        .insert_webhook(&webhook("other", "dr.user.login", AuthConfig::None), None)
        .await
        .unwrap();
    let mut off = webhook("off", "dr.host.disconnected", AuthConfig::None);
    off.set_enabled(false, Utc::now());
    store.insert_webhook(&off, None).await.unwrap();

    let accepted = store
        .insert_events(&events(3, None), Utc::now())
        .await
        .unwrap();
    assert!(accepted.iter().all(|a| a.deliveries == 2 && !a.duplicate));
    let first = store
        .insert_events(&events(1, Some("k-1")), Utc::now())
        .await
        .unwrap();
    let again = store
        .insert_events(&events(1, Some("k-1")), Utc::now())
        .await
        .unwrap();
    assert_eq!(again[0].event_id, first[0].event_id);
    assert!(again[0].duplicate);
    assert_eq!(again[0].deliveries, 2);
    let all = DeliveryFilter {
        limit: 100,
        ..Default::default()
    };
    assert_eq!(store.list_deliveries(&all).await.unwrap().len(), 8);
    let event = store.get_event(&first[0].event_id).await.unwrap().unwrap();
    assert_eq!(event.idempotency_key.as_deref(), Some("k-1"));
}

async fn an_expired_claim_is_taken_over_and_the_old_owner_cannot_record(store: Arc<dyn Store>) {
    store
        .insert_webhook(
            &webhook("w", "dr.host.disconnected", AuthConfig::None),
            None,
        )
        .await
        .unwrap();
    store
        .insert_events(&events(1, None), Utc::now())
        .await
        .unwrap();
    let first = store
        .claim_due(&claim("a", Duration::from_millis(50), 10))
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert!(
        store
            .claim_due(&claim("b", Duration::from_secs(60), 10))
            .await
            .unwrap()
            .is_empty(),
        "held by a"
    );
    tokio::time::sleep(Duration::from_millis(80)).await;
    let second = store
        .claim_due(&claim("b", Duration::from_secs(60), 10))
        .await
        .unwrap();
    assert_eq!(second.len(), 1, "the expired claim is free again");
    assert_eq!(second[0].delivery.id, first[0].delivery.id);

    let done = |c: &ClaimedDelivery, owner| {
        record(
            c,
            Some(owner),
            DeliveryStatus::Succeeded,
            WebhookHealth::Healthy,
        )
    };
    store
        .record_attempts(&[done(&first[0], "a")], Utc::now())
        .await
        .unwrap();
    let (delivery, attempts) = store
        .get_delivery(&first[0].delivery.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        delivery.status,
        DeliveryStatus::Pending,
        "the stale owner changes nothing"
    );
    assert_eq!(attempts.len(), 1, "but its attempt is logged");
    store
        .record_attempts(&[done(&second[0], "b")], Utc::now())
        .await
        .unwrap();
    let (delivery, attempts) = store
        .get_delivery(&first[0].delivery.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivery.status, DeliveryStatus::Succeeded);
    assert_eq!(attempts[1].response_body.as_deref(), Some("answer"));
    assert_eq!(
        store.next_due_at().await.unwrap(),
        None,
        "nothing left to do"
    );
}

async fn claims_respect_per_webhook_room(store: Arc<dyn Store>) {
    let (busy, other) = two_subscribers_with_events(&store, ["busy", "other"], 10).await;

    let claimed = store
        .claim_due(&claim("a", Duration::from_secs(60), 3))
        .await
        .unwrap();
    let count =
        |claimed: &[ClaimedDelivery], id| claimed.iter().filter(|c| c.webhook.id == id).count();
    assert_eq!(
        (
            count(&claimed, busy.id.clone()),
            count(&claimed, other.id.clone())
        ),
        (3, 3)
    );
    let mut next = claim("a", Duration::from_secs(60), 3);
    next.webhook_room = vec![(busy.id.clone(), 0)];
    let more = store.claim_due(&next).await.unwrap();
    assert_eq!((count(&more, busy.id.clone()), more.len()), (0, 3));

    // Two claimers at once never get the same delivery.
    let (x, y) = (
        claim("x", Duration::from_secs(60), 100),
        claim("y", Duration::from_secs(60), 100),
    );
    let (left, right) = tokio::join!(store.claim_due(&x), store.claim_due(&y));
    let (left, right) = (left.unwrap(), right.unwrap());
    assert_eq!(
        left.len() + right.len(),
        11,
        "everything not yet claimed, once"
    );
    assert!(
        left.iter()
            .all(|l| right.iter().all(|r| r.delivery.id != l.delivery.id))
    );

    assert_eq!(
        store.release_claims(Some("a"), Utc::now()).await.unwrap(),
        9
    );
    assert_eq!(
        store
            .claim_due(&claim("c", Duration::from_secs(60), 100))
            .await
            .unwrap()
            .len(),
        9
    );
}

async fn disabling_parks_deliveries_and_enabling_resumes_them(store: Arc<dyn Store>) {
    let mut hook = webhook("w", "dr.host.disconnected", AuthConfig::None);
    store.insert_webhook(&hook, None).await.unwrap();
    store
        .insert_events(&events(2, None), Utc::now())
        .await
        .unwrap();
    hook.set_enabled(false, Utc::now());
    store.update_webhook(&hook, None).await.unwrap();
    assert_eq!(store.next_due_at().await.unwrap(), None, "parked");
    assert!(
        store
            .claim_due(&claim("a", Duration::from_secs(60), 10))
            .await
            .unwrap()
            .is_empty()
    );
    hook.set_enabled(true, Utc::now());
    store.update_webhook(&hook, None).await.unwrap();
    assert_eq!(
        store
            .claim_due(&claim("a", Duration::from_secs(60), 10))
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn failing_past_the_window_disables_once(store: Arc<dyn Store>) {
    store
        .insert_webhook(
            &webhook("w", "dr.host.disconnected", AuthConfig::None),
            None,
        )
        .await
        .unwrap();
    store
        .insert_events(&events(2, None), Utc::now())
        .await
        .unwrap();
    let claimed = store
        .claim_due(&claim("a", Duration::from_secs(60), 10))
        .await
        .unwrap();
    let window_open = WebhookHealth::Failing {
        disable_if_failing_since: Utc::now() - chrono::Duration::hours(1),
    };
    let disabled = store
        .record_attempts(
            &[record(
                &claimed[0],
                Some("a"),
                DeliveryStatus::Retrying,
                window_open,
            )],
            Utc::now(),
        )
        .await
        .unwrap();
    assert!(disabled.is_empty(), "the failing clock just started");
    tokio::time::sleep(Duration::from_millis(5)).await;
    let window_passed = WebhookHealth::Failing {
        disable_if_failing_since: Utc::now(),
    };
    let disabled = store
        .record_attempts(
            &[record(
                &claimed[1],
                Some("a"),
                DeliveryStatus::Retrying,
                window_passed,
            )],
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].reason, DisabledReason::Failing);
    assert!(disabled[0].failing_since.is_some());
    let hook = store
        .get_webhook(&claimed[0].webhook.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hook.disabled_reason, Some(DisabledReason::Failing));
    assert_eq!(
        store.next_due_at().await.unwrap(),
        None,
        "its deliveries are parked"
    );
}

async fn many_failures_in_one_batch_start_the_clock_once_and_disable_once(store: Arc<dyn Store>) {
    store
        .insert_webhook(
            &webhook("w", "dr.host.disconnected", AuthConfig::None),
            None,
        )
        .await
        .unwrap();
    store
        .insert_events(&events(6, None), Utc::now())
        .await
        .unwrap();
    let claimed = store
        .claim_due(&claim("a", Duration::from_secs(60), 10))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 6);
    let failed = |claimed: &[ClaimedDelivery], windows: &[chrono::DateTime<Utc>]| {
        claimed
            .iter()
            .zip(windows)
            .map(|(c, window)| {
                record(
                    c,
                    Some("a"),
                    DeliveryStatus::Retrying,
                    WebhookHealth::Failing {
                        disable_if_failing_since: *window,
                    },
                )
            })
            .collect::<Vec<_>>()
    };
    let clock_started = Utc::now();
    let hour_ago = clock_started - chrono::Duration::hours(1);
    let disabled = store
        .record_attempts(&failed(&claimed[..3], &[hour_ago; 3]), clock_started)
        .await
        .unwrap();
    assert!(disabled.is_empty(), "the failing clock just started");
    tokio::time::sleep(Duration::from_millis(5)).await;
    // The latest failure's window has passed, the others' have not: the webhook is
    // disabled, once, and its clock still reads the first batch's time.
    let now = Utc::now();
    let disabled = store
        .record_attempts(&failed(&claimed[3..], &[hour_ago, now, hour_ago]), now)
        .await
        .unwrap();
    assert_eq!(disabled.len(), 1, "{disabled:?}");
    assert_eq!(disabled[0].reason, DisabledReason::Failing);
    assert_eq!(
        disabled[0].failing_since.map(|t| t.timestamp_millis()),
        Some(clock_started.timestamp_millis())
    );
}

async fn retry_replay_and_the_log(store: Arc<dyn Store>) {
    let hook = webhook("w", "dr.host.disconnected", AuthConfig::None);
    store.insert_webhook(&hook, None).await.unwrap();
    store
        .insert_events(&events(3, None), Utc::now())
        .await
        .unwrap();
    let claimed = store
        .claim_due(&claim("a", Duration::from_secs(60), 10))
        .await
        .unwrap();
    let failed: Vec<AttemptRecord> = claimed
        .iter()
        .map(|c| {
            record(
                c,
                Some("a"),
                DeliveryStatus::Failed,
                WebhookHealth::Unchanged,
            )
        })
        .collect();
    store.record_attempts(&failed, Utc::now()).await.unwrap();
    let failed_filter = DeliveryFilter {
        status: Some(DeliveryStatus::Failed),
        limit: 10,
        ..Default::default()
    };
    let listed = store.list_deliveries(&failed_filter).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let page = store
        .list_deliveries(&DeliveryFilter {
            before: Some(listed[0].id.clone()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.len(), 2, "the cursor skips what was seen");

    let retried = store
        .retry_delivery(&listed[0].id, Utc::now())
        .await
        .unwrap();
    assert_eq!(retried.status, DeliveryStatus::Pending);
    let replayed = store
        .replay_failed(
            &hook.id,
            Utc::now() - chrono::Duration::hours(1),
            Utc::now(),
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(replayed, 2);
    assert_eq!(
        store
            .claim_due(&claim("b", Duration::from_secs(60), 10))
            .await
            .unwrap()
            .len(),
        3
    );
    let summaries = store
        .attempt_summaries(Utc::now() - chrono::Duration::hours(1), 100)
        .await
        .unwrap();
    assert_eq!(summaries.len(), 3);
}

async fn retention_deletes_old_succeeded_deliveries_in_batches(store: Arc<dyn Store>) {
    store
        .insert_webhook(
            &webhook("w", "dr.host.disconnected", AuthConfig::None),
            None,
        )
        .await
        .unwrap();
    store
        .insert_events(&events(5, None), Utc::now())
        .await
        .unwrap();
    let claimed = store
        .claim_due(&claim("a", Duration::from_secs(60), 10))
        .await
        .unwrap();
    let mut records: Vec<AttemptRecord> = claimed[..4]
        .iter()
        .map(|c| {
            record(
                c,
                Some("a"),
                DeliveryStatus::Succeeded,
                WebhookHealth::Healthy,
            )
        })
        .collect();
    records.push(record(
        &claimed[4],
        Some("a"),
        DeliveryStatus::Failed,
        WebhookHealth::Unchanged,
    ));
    store.record_attempts(&records, Utc::now()).await.unwrap();

    let all = DeliveryFilter {
        limit: 100,
        ..Default::default()
    };
    // Nothing is old enough yet.
    assert_eq!(
        store
            .delete_expired(Utc::now() - chrono::Duration::days(1), 3)
            .await
            .unwrap(),
        0
    );
    let later = Utc::now() + chrono::Duration::seconds(1);
    assert_eq!(
        store.delete_expired(later, 3).await.unwrap(),
        3,
        "one batch"
    );
    assert_eq!(store.delete_expired(later, 3).await.unwrap(), 1, "the rest");
    assert_eq!(store.delete_expired(later, 3).await.unwrap(), 0);
    let left = store.list_deliveries(&all).await.unwrap();
    assert_eq!(left.len(), 1, "the failed one stays");
    assert_eq!(left[0].status, DeliveryStatus::Failed);
    assert!(
        store.get_event(&left[0].event_id).await.unwrap().is_some(),
        "and so does its event"
    );
}

/// Room for `left` deliveries, whatever the webhook.
struct Room {
    left: usize,
    taken: Vec<WebhookId>,
}

impl Slots for Room {
    fn try_take(&mut self, webhook: &Webhook) -> bool {
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        self.taken.push(webhook.id.clone());
        true
    }
}

async fn handed_off_deliveries_are_stored_claimed_and_the_rest_queued(store: Arc<dyn Store>) {
    let target = webhook("w", "dr.host.disconnected", AuthConfig::None);
    store.insert_webhook(&target, None).await.unwrap();
    let mut room = Room {
        left: 2,
        taken: Vec::new(),
    };
    let sent = events(3, None);
    let lease_until = Utc::now() + chrono::Duration::milliseconds(300);
    let inserted = store
        .insert_events_handing_off(
            &sent,
            Utc::now(),
            Some(HandOff {
                owner: "node-a",
                lease_until,
                slots: &mut room,
            }),
        )
        .await
        .unwrap();
    assert_eq!(inserted.accepted.len(), 3);
    assert_eq!(room.taken, vec![target.id.clone(), target.id.clone()]);
    assert_eq!(inserted.claimed.len(), 2, "one per slot taken");
    assert_eq!(inserted.queued, 1, "no room for the third");
    for (handed, event) in inserted.claimed.iter().zip(&sent) {
        assert_eq!(handed.event.id, event.id);
        assert_eq!(handed.delivery.event_id, event.id);
        assert_eq!(handed.webhook.id, target.id);
        assert_eq!(handed.webhook.spec.url, target.spec.url);
        assert_eq!(handed.delivery.attempts, 0);
    }

    // Only the queued one is claimable while the lease holds…
    let queued = store
        .claim_due(&claim("node-b", Duration::from_secs(60), 10))
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].event.id, sent[2].id);

    // …and the owner records its handed-off attempts like claimed ones.
    let done = record(
        &inserted.claimed[0],
        Some("node-a"),
        DeliveryStatus::Succeeded,
        WebhookHealth::Healthy,
    );
    store.record_attempts(&[done], Utc::now()).await.unwrap();
    let (delivery, _) = store
        .get_delivery(&inserted.claimed[0].delivery.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivery.status, DeliveryStatus::Succeeded);

    // If the owner dies, an unfinished hand-off is due again when its lease ends.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let taken_over = store
        .claim_due(&claim("node-b", Duration::from_secs(60), 10))
        .await
        .unwrap();
    assert_eq!(taken_over.len(), 1);
    assert_eq!(taken_over[0].delivery.id, inserted.claimed[1].delivery.id);
}

async fn tokens_are_kept_as_hashes_and_revoked_once(store: Arc<dyn Store>) {
    let publish = Scopes::new(vec![Scope::Publish]).unwrap();
    let (secret, record) = token::issue("ci".into(), publish.clone(), "admin".into(), Utc::now());
    store.insert_token(&record, None).await.unwrap();
    let (_, same_name) = token::issue("ci".into(), Scopes::admin(), "admin".into(), Utc::now());
    assert!(matches!(
        store.insert_token(&same_name, None).await,
        Err(StoreError::TokenNameTaken)
    ));

    let listed = store.list_tokens().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].scopes, publish);
    assert!(listed[0].hash.matches(&TokenHash::of(secret.expose())));
    assert_eq!(listed[0].revoked_at, None);

    let now = Utc::now();
    let before = store
        .revoke_token(&record.id, now, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before.revoked_at, None, "returned as it was");
    let revoked = store.list_tokens().await.unwrap();
    assert_eq!(
        revoked[0].revoked_at.map(|t| t.timestamp_millis()),
        Some(now.timestamp_millis())
    );
    // Revoking again keeps the first time.
    let again = store
        .revoke_token(&record.id, now + chrono::Duration::seconds(5), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        again.revoked_at.map(|t| t.timestamp_millis()),
        Some(now.timestamp_millis())
    );
    let unknown = hookcast::domain::ids::TokenId::generate();
    assert!(
        store
            .revoke_token(&unknown, now, None)
            .await
            .unwrap()
            .is_none()
    );
}

async fn the_audit_trail_lists_newest_first_by_target(store: Arc<dyn Store>) {
    let mut ids = Vec::new();
    for (n, target) in ["wh_a", "wh_b", "wh_a"].iter().enumerate() {
        let entry = AuditEntry::new(
            "ops",
            "webhook.update",
            "webhook",
            target,
            Some(json!({"n": n})),
            Some(json!({"n": n + 1, "auth": {"password": "********"}})),
        );
        store.insert_audit(&entry).await.unwrap();
        ids.push(entry.id);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let all = store
        .list_audit(&AuditFilter {
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
        vec![ids[2].clone(), ids[1].clone(), ids[0].clone()]
    );
    assert_eq!(all[0].before, Some(json!({"n": 2})));
    assert_eq!(all[0].actor, "ops");
    let only_a = store
        .list_audit(&AuditFilter {
            target_id: Some("wh_a".into()),
            before: Some(ids[2].clone()),
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(only_a.len(), 1);
    assert_eq!(only_a[0].id, ids[0]);
}

async fn a_change_and_its_audit_entry_are_stored_together(store: Arc<dyn Store>) {
    let audit = |action: &str, target: &str| {
        AuditEntry::new("ops", action, "webhook", target, None, Some(json!({})))
    };
    let first = webhook("ops", "dr.user.login", AuthConfig::None);
    let created = audit("webhook.create", first.id.as_str());
    store.insert_webhook(&first, Some(&created)).await.unwrap();

    // A change that fails leaves no entry behind.
    let twin = webhook("ops", "dr.user.login", AuthConfig::None);
    let refused = audit("webhook.create", twin.id.as_str());
    assert!(matches!(
        store.insert_webhook(&twin, Some(&refused)).await,
        Err(StoreError::NameTaken)
    ));
    let ghost = webhook("ghost", "dr.user.login", AuthConfig::None);
    assert!(
        !store
            .delete_webhook(&ghost.id, Some(&audit("webhook.delete", ghost.id.as_str())))
            .await
            .unwrap()
    );
    let deleted = audit("webhook.delete", first.id.as_str());
    assert!(
        store
            .delete_webhook(&first.id, Some(&deleted))
            .await
            .unwrap()
    );

    // Revoking twice records once.
    let (_, token) = token::issue("ci".into(), Scopes::admin(), "ops".into(), Utc::now());
    store.insert_token(&token, None).await.unwrap();
    for _ in 0..2 {
        let revoked = AuditEntry::new(
            "ops",
            "token.revoke",
            "token",
            token.id.as_str(),
            None,
            None,
        );
        store
            .revoke_token(&token.id, Utc::now(), Some(&revoked))
            .await
            .unwrap();
    }

    let trail = store
        .list_audit(&AuditFilter {
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let ids: Vec<_> = trail.iter().map(|e| e.id.clone()).collect();
    assert!(
        ids.contains(&created.id) && ids.contains(&deleted.id),
        "{trail:?}"
    );
    assert!(!ids.contains(&refused.id), "a refused change left an entry");
    assert_eq!(trail.len(), 3, "{trail:?}");
}

/// A webhook deleted while its attempts are in flight: their results have nothing
/// left to belong to and are dropped; the other results of the same batch are recorded
/// (a batch that failed on them would be retried forever and hold up every result).
async fn results_for_a_deleted_webhook_are_dropped_and_the_rest_recorded(store: Arc<dyn Store>) {
    let (_kept, gone) = two_subscribers_with_events(&store, ["kept", "gone"], 2).await;
    let claimed = store
        .claim_due(&claim("a", Duration::from_secs(60), 10))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 4);
    assert!(store.delete_webhook(&gone.id, None).await.unwrap());

    let records: Vec<AttemptRecord> = succeeded(&claimed, "a");
    store.record_attempts(&records, Utc::now()).await.unwrap();
    for c in &claimed {
        let found = store.get_delivery(&c.delivery.id).await.unwrap();
        if c.webhook.id == gone.id {
            assert!(found.is_none(), "deleted with its webhook");
        } else {
            let (delivery, attempts) = found.expect("the kept webhook's delivery");
            assert_eq!(delivery.status, DeliveryStatus::Succeeded);
            assert_eq!(attempts.len(), 1);
        }
    }
}

/// A PostgreSQL store on a fresh database, its guard, and a plain connection to the
/// same database.
async fn postgres_and_connection()
-> Option<(Arc<dyn Store>, Box<dyn Any + Send>, sqlx::PgConnection)> {
    let (store, guard) = postgres().await?;
    let database = guard.downcast_ref::<TestDatabase>().unwrap();
    let conn = <sqlx::PgConnection as sqlx::Connection>::connect(&database.url)
        .await
        .unwrap();
    Some((store, guard, conn))
}

/// A fresh PostgreSQL database with hookcast's schema, and a plain connection to it
/// (kept alive by the guard).
async fn migrated_postgres() -> Option<(Box<dyn Any + Send>, sqlx::PgConnection)> {
    let (_store, guard, conn) = postgres_and_connection().await?;
    Some((guard, conn))
}

/// Events without an idempotency key (nearly all) add nothing to the index of keys
/// (which still refuses a key taken twice: the contract test of idempotency keys).
#[tokio::test]
async fn postgres_events_without_a_key_leave_the_key_index_empty() {
    let Some((store, _guard, mut conn)) = postgres_and_connection().await else {
        return;
    };
    for _ in 0..30 {
        store
            .insert_events(&events(100, None), Utc::now())
            .await
            .unwrap();
    }
    store
        .insert_events(&events(1, Some("k-1")), Utc::now())
        .await
        .unwrap();
    // Every index on the key, and its size: a metapage and one leaf page holding the
    // one key. Three thousand NULL entries would fill more than one leaf page, even
    // deduplicated (6 bytes each).
    let indexes: Vec<(String, i64)> = sqlx::query_as(
        "SELECT i.indexname::text, pg_relation_size(i.indexname::regclass) FROM pg_indexes i \
         WHERE i.tablename = 'events' AND i.indexdef LIKE '%(idempotency_key)%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        indexes,
        [("events_by_idempotency_key".to_string(), 2 * 8192)]
    );
}

/// Events fanned out on one node, each `ingest` retried as the ingest committer
/// retries it; returns how many deliveries each event got.
async fn deliveries_per_event(store: &PgStore, count: usize) -> Vec<u32> {
    for _ in 0..3 {
        match store.insert_events(&events(count, None), Utc::now()).await {
            Ok(accepted) => return accepted.iter().map(|a| a.deliveries).collect(),
            Err(StoreError::SubscriberGone) => continue,
            Err(error) => panic!("ingest failed: {error}"),
        }
    }
    panic!("ingest kept finding the webhooks changed with nothing changing them");
}

/// PostgreSQL nodes keep the subscribers they read (migration 0009); whatever another
/// node changes about the webhooks, the next event fans out as a fresh read would.
#[tokio::test]
async fn postgres_ingest_fans_out_to_webhooks_as_another_node_left_them() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let open = || async {
        let sealer = Sealer::from_base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").unwrap();
        PgStore::open(&database.url, Arc::new(sealer), false, None)
            .await
            .unwrap()
    };
    let (admin, ingest) = (open().await, open().await);
    let mut first = webhook("first", "dr.host.disconnected", AuthConfig::None);
    admin.insert_webhook(&first, None).await.unwrap();
    assert_eq!(deliveries_per_event(&ingest, 2).await, [1, 1]);

    let mut second = webhook("second", "dr.host.disconnected", AuthConfig::None);
    admin.insert_webhook(&second, None).await.unwrap();
    assert_eq!(
        deliveries_per_event(&ingest, 1).await,
        [2],
        "a new subscriber"
    );

    first.spec.event_types = webhook("x", "dr.user.logout", AuthConfig::None)
        .spec
        .event_types;
    admin.update_webhook(&first, None).await.unwrap();
    assert_eq!(
        deliveries_per_event(&ingest, 1).await,
        [1],
        "an unsubscribed type"
    );

    second.set_enabled(false, Utc::now());
    admin.update_webhook(&second, None).await.unwrap();
    assert_eq!(deliveries_per_event(&ingest, 1).await, [0], "disabled");

    second.set_enabled(true, Utc::now());
    admin.update_webhook(&second, None).await.unwrap();
    assert_eq!(deliveries_per_event(&ingest, 1).await, [1], "enabled again");

    // Recording results: the failing clock leaves the generation alone; disabling
    // (410 Gone) leaves it too, and the write notices the webhook is disabled.
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&database.url)
        .await
        .unwrap();
    let before: i64 = sqlx::query_scalar("SELECT value FROM webhook_generation")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let claimed = admin
        .claim_due(&claim("a", Duration::from_secs(60), 10))
        .await
        .unwrap();
    let of_second: Vec<_> = claimed
        .iter()
        .filter(|c| c.webhook.id == second.id)
        .collect();
    assert_eq!(of_second.len(), 3, "three events fanned out to the second");
    let failing = WebhookHealth::Failing {
        disable_if_failing_since: Utc::now() - chrono::Duration::hours(1),
    };
    let results = [
        record(of_second[0], Some("a"), DeliveryStatus::Retrying, failing),
        record(
            of_second[1],
            Some("a"),
            DeliveryStatus::Failed,
            WebhookHealth::Gone,
        ),
    ];
    let disabled = admin.record_attempts(&results, Utc::now()).await.unwrap();
    assert_eq!(disabled.len(), 1, "gone");
    let after: i64 = sqlx::query_scalar("SELECT value FROM webhook_generation")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        after, before,
        "health bookkeeping is not a change ingest reads"
    );
    assert!(
        matches!(
            ingest.insert_events(&events(1, None), Utc::now()).await,
            Err(StoreError::SubscriberGone)
        ),
        "the kept copy still has the second enabled; the write must refuse it"
    );
    assert_eq!(
        deliveries_per_event(&ingest, 1).await,
        [0],
        "disabled when gone"
    );

    admin.delete_webhook(&second.id, None).await.unwrap();
    first.spec.event_types = second.spec.event_types.clone();
    admin.update_webhook(&first, None).await.unwrap();
    assert_eq!(
        deliveries_per_event(&ingest, 1).await,
        [1],
        "subscribed again"
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM deliveries WHERE webhook_id = $1")
        .bind(first.id.as_str())
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored, 4, "two, then one with the second, then this one");
}

/// Recording results never waits for the webhook generation's row lock (migration
/// 0009), which a webhook change holds until it commits, while it may wait for
/// deliveries the recording holds: a change held open on one webhook does not hold up
/// a result that disables another.
#[tokio::test]
async fn postgres_a_result_disables_a_webhook_while_another_is_being_changed() {
    let Some((store, guard)) = postgres().await else {
        return;
    };
    let database = guard.downcast_ref::<TestDatabase>().unwrap();
    let (gone, other) = two_subscribers_with_events(&store, ["gone", "other"], 1).await;
    let claimed = store
        .claim_due(&claim("a", Duration::from_secs(60), 10))
        .await
        .unwrap();
    let of_gone = claimed.iter().find(|c| c.webhook.id == gone.id).unwrap();
    let mut held = <sqlx::PgConnection as sqlx::Connection>::connect(&database.url)
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut held).await.unwrap();
    sqlx::query("UPDATE webhooks SET url = url || '?changed' WHERE id = $1")
        .bind(other.id.as_str())
        .execute(&mut held)
        .await
        .unwrap();
    let result = record(
        of_gone,
        Some("a"),
        DeliveryStatus::Failed,
        WebhookHealth::Gone,
    );
    let disabled = tokio::time::timeout(
        Duration::from_secs(5),
        store.record_attempts(&[result], Utc::now()),
    )
    .await
    .expect("recording waited for the other webhook's change")
    .unwrap();
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].id, gone.id);
    sqlx::query("ROLLBACK").execute(&mut held).await.unwrap();
}

/// The ingest connections as PostgreSQL sees them: the last statement of each.
async fn ingest_sessions(conn: &mut sqlx::PgConnection) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT query FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'hookcast-ingest'",
    )
    .fetch_all(conn)
    .await
    .unwrap()
}

/// A PostgreSQL store readies ingest before the first event: every ingest connection
/// open, and ingest's write run once on each (so prepared), with nothing stored.
#[tokio::test]
async fn postgres_ingest_is_ready_before_the_first_event() {
    let Some((store, guard, mut conn)) = postgres_and_connection().await else {
        return;
    };
    let database = guard.downcast_ref::<TestDatabase>().unwrap();
    assert!(
        ingest_sessions(&mut conn).await.is_empty(),
        "opened on demand"
    );
    store.warm_ingest().await.unwrap();
    let sessions = ingest_sessions(&mut conn).await;
    assert_eq!(
        sessions.len(),
        hookcast::store::ingest_committers(&database.url)
    );
    for last in &sessions {
        assert!(last.starts_with("WITH live AS"), "last ran: {last}");
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}

/// PostgreSQL compares identifiers byte by byte (migration 0006), not through the
/// database's language collation.
#[tokio::test]
async fn postgres_identifier_columns_compare_byte_by_byte() {
    let Some((_guard, mut conn)) = migrated_postgres().await else {
        return;
    };
    let columns: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, collation_name::text \
         FROM information_schema.columns \
         WHERE (table_name, column_name) IN (('webhooks', 'id'), \
               ('webhook_event_types', 'webhook_id'), ('webhook_event_types', 'event_type'), \
               ('events', 'id'), ('events', 'type'), ('deliveries', 'id'), \
               ('deliveries', 'event_id'), ('deliveries', 'webhook_id'), \
               ('deliveries', 'status'), ('attempts', 'id'), ('attempts', 'delivery_id')) \
         ORDER BY 1, 2",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(columns.len(), 11);
    for (table, column, collation) in columns {
        assert_eq!(collation.as_deref(), Some("C"), "{table}.{column}");
    }
}

/// Retention's search for succeeded deliveries (as `delete_expired` words it), and the
/// index every store must answer it with: one holding succeeded deliveries alone, so
/// storing, claiming and finishing any other delivery writes none of its entries.
const RETENTION_SEARCH: &str =
    "SELECT id FROM deliveries WHERE status = 'succeeded' AND updated_at < 1 LIMIT 10";

/// The deliveries' indexes besides their primary key's, in both stores.
const DELIVERY_INDEXES: [&str; 4] = [
    "deliveries_by_event",
    "deliveries_by_webhook",
    "deliveries_due_by_webhook",
    "deliveries_succeeded_by_update",
];

#[tokio::test]
async fn sqlite_retention_reads_the_succeeded_index_alone() {
    let (_store, guard) = sqlite().await.unwrap();
    let dir = guard.downcast_ref::<tempfile::TempDir>().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hookcast.db").display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "EXPLAIN QUERY PLAN {RETENTION_SEARCH}"
    )))
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let steps: Vec<&str> = plan.iter().map(|(_, _, _, step)| step.as_str()).collect();
    assert_eq!(
        steps,
        ["SEARCH deliveries USING INDEX deliveries_succeeded_by_update (updated_at<?)"]
    );
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries' \
         AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(indexes, DELIVERY_INDEXES);
}

#[tokio::test]
async fn postgres_retention_reads_the_succeeded_index_alone() {
    let Some((_guard, mut conn)) = migrated_postgres().await else {
        return;
    };
    // With the table empty the planner would rather scan it; this asks what it would
    // do with an index on hand.
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut conn)
        .await
        .unwrap();
    let plan: Vec<String> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN {RETENTION_SEARCH}")))
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert!(
        plan.iter()
            .any(|line| line.contains("deliveries_succeeded_by_update")),
        "{plan:#?}"
    );
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE tablename = 'deliveries' \
         AND indexname <> 'deliveries_pkey' ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(indexes, DELIVERY_INDEXES);
}
