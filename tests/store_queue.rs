//! The delivery queue at the store level: claims, leases, per-webhook room, the
//! owner guard on recording.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use hookcast::domain::catalog::Catalog;
use hookcast::domain::delivery::{Attempt, DeliveryStatus, LoggedRequest};
use hookcast::domain::event::EventInput;
use hookcast::domain::ids::AttemptId;
use hookcast::domain::webhook::Webhook;
use hookcast::store::{AttemptRecord, ClaimRequest, Sealer, SqliteStore, Store, WebhookHealth};
use serde_json::json;

async fn store(dir: &std::path::Path) -> SqliteStore {
    let sealer = Sealer::load_or_create(None, &dir.join("secret.key")).unwrap();
    let url = format!("sqlite://{}", dir.join("hookcast.db").display());
    SqliteStore::open(&url, Arc::new(sealer), false)
        .await
        .unwrap()
}

/// A webhook built through the same validation as the API.
fn webhook(name: &str) -> Webhook {
    let spec = hookcast::domain::webhook::WebhookSpec {
        name: hookcast::domain::webhook_name::WebhookName::parse(name).unwrap(),
        kind: hookcast::domain::choices::WebhookKind::Events,
        url: hookcast::domain::target_url::TargetUrl::parse("https://example.com/hook").unwrap(),
        language: hookcast::domain::choices::Language::EnUs,
        auth: hookcast::domain::auth::AuthConfig::None,
        format: hookcast::domain::choices::Format::Json,
        enabled: true,
        event_types: {
            let mut errors = hookcast::domain::validation::FieldErrors::default();
            hookcast::domain::webhook::EventTypeSet::parse(
                &["dr.host.disconnected".to_string()],
                hookcast::domain::choices::WebhookKind::Events,
                Catalog::builtin(),
                &mut errors,
            )
            .unwrap()
        },
        headers: Default::default(),
        timeout: None,
        template: None,
        time_zone: None,
        mentions: Default::default(),
    };
    Webhook::new(spec, Utc::now())
}

fn events(n: usize) -> Vec<hookcast::domain::event::Event> {
    (0..n)
        .map(|i| {
            let input: EventInput = serde_json::from_value(
                json!({"type": "dr.host.disconnected", "source": format!("h{i}"), "result": "failure"}),
            )
            .unwrap();
            input.into_event(Catalog::builtin(), Utc::now(), "").unwrap()
        })
        .collect()
}

fn request(owner: &str, lease: Duration, per_webhook: usize) -> ClaimRequest {
    ClaimRequest {
        now: Utc::now(),
        limit: 100,
        owner: owner.into(),
        lease,
        per_webhook,
        webhook_room: Vec::new(),
    }
}

fn success(claimed: &hookcast::store::ClaimedDelivery, owner: Option<&str>) -> AttemptRecord {
    AttemptRecord {
        attempt: Attempt {
            id: AttemptId::generate(),
            delivery_id: claimed.delivery.id.clone(),
            number: 1,
            started_at: Utc::now(),
            duration_ms: 1,
            request: LoggedRequest {
                method: "POST".into(),
                url: "https://example.com/hook".into(),
                headers: vec![],
                body: "{}".into(),
            },
            response_status: Some(200),
            response_headers: vec![],
            response_body: Some(String::new()),
            error_kind: None,
            error_message: None,
        },
        webhook_id: claimed.webhook.id.clone(),
        owner: owner.map(str::to_string),
        status: DeliveryStatus::Succeeded,
        next_attempt_at: None,
        last_error: None,
        health: WebhookHealth::Healthy,
    }
}

#[tokio::test]
async fn an_expired_claim_is_taken_over_and_the_old_owner_cannot_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    store.insert_webhook(&webhook("w")).await.unwrap();
    store.insert_events(&events(1), Utc::now()).await.unwrap();

    let first = store
        .claim_due(&request("a", Duration::from_millis(50), 10))
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert!(
        store
            .claim_due(&request("b", Duration::from_secs(60), 10))
            .await
            .unwrap()
            .is_empty(),
        "held by a"
    );
    tokio::time::sleep(Duration::from_millis(80)).await;
    let second = store
        .claim_due(&request("b", Duration::from_secs(60), 10))
        .await
        .unwrap();
    assert_eq!(second.len(), 1, "the expired claim is free again");
    assert_eq!(second[0].delivery.id, first[0].delivery.id);

    // The stale owner's result is logged as an attempt but does not change the state.
    store
        .record_attempts(&[success(&first[0], Some("a"))], Utc::now())
        .await
        .unwrap();
    let (delivery, attempts) = store
        .get_delivery(&first[0].delivery.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivery.status, DeliveryStatus::Pending);
    assert_eq!(attempts.len(), 1);
    store
        .record_attempts(&[success(&second[0], Some("b"))], Utc::now())
        .await
        .unwrap();
    let (delivery, _) = store
        .get_delivery(&first[0].delivery.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivery.status, DeliveryStatus::Succeeded);
    assert_eq!(
        store.next_due_at().await.unwrap(),
        None,
        "nothing left to do"
    );
}

#[tokio::test]
async fn claims_respect_per_webhook_room() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let busy = webhook("busy");
    let other = webhook("other");
    store.insert_webhook(&busy).await.unwrap();
    store.insert_webhook(&other).await.unwrap();
    store.insert_events(&events(10), Utc::now()).await.unwrap();

    let claimed = store
        .claim_due(&request("a", Duration::from_secs(60), 3))
        .await
        .unwrap();
    let count = |id| claimed.iter().filter(|c| c.webhook.id == id).count();
    assert_eq!((count(busy.id.clone()), count(other.id.clone())), (3, 3));

    // No room left for `busy`: only `other` gets more.
    let mut next = request("a", Duration::from_secs(60), 3);
    next.webhook_room = vec![(busy.id.clone(), 0)];
    let more = store.claim_due(&next).await.unwrap();
    assert!(more.iter().all(|c| c.webhook.id == other.id));
    assert_eq!(more.len(), 3);

    // Releasing makes every claim due again at once.
    assert_eq!(
        store.release_claims(Some("a"), Utc::now()).await.unwrap(),
        9
    );
    assert_eq!(
        store
            .claim_due(&request("c", Duration::from_secs(60), 100))
            .await
            .unwrap()
            .len(),
        20
    );
}
