//! PostgreSQL keeps deliveries and attempts pointing at rows that exist without foreign
//! keys (migration 0008): these tests race the store against a deletion held open on
//! another connection, and look for rows left behind.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use common::TestApp;
use common::fixtures::{claim, events, succeeded, webhook};
use common::postgres::TestDatabase;
use hookcast::domain::auth::AuthConfig;
use hookcast::domain::webhook::Webhook;
use hookcast::store::{AttemptRecord, ClaimedDelivery, PgStore, Sealer, Store, StoreError};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::{Connection, PgConnection};

/// A store on a fresh database, a plain connection beside it, and two webhooks
/// subscribed to the fixtures' events.
async fn store_and_connection() -> Option<(TestDatabase, Arc<dyn Store>, PgConnection, [Webhook; 2])>
{
    let database = TestDatabase::create().await?;
    let sealer = Sealer::from_base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").unwrap();
    let store: Arc<dyn Store> = Arc::new(
        PgStore::open(&database.url, Arc::new(sealer), false, None)
            .await
            .unwrap(),
    );
    let hooks =
        ["kept", "gone"].map(|name| webhook(name, "dr.host.disconnected", AuthConfig::None));
    for hook in &hooks {
        store.insert_webhook(hook, None).await.unwrap();
    }
    let conn = PgConnection::connect(&database.url).await.unwrap();
    Some((database, store, conn, hooks))
}

/// Stores `events` events (a delivery to each webhook apiece) and claims them all.
async fn stored_and_claimed(store: &Arc<dyn Store>, events_stored: usize) -> Vec<ClaimedDelivery> {
    store
        .insert_events(&events(events_stored, None), Utc::now())
        .await
        .unwrap();
    store
        .claim_due(&claim("a", Duration::from_secs(60), 10))
        .await
        .unwrap()
}

/// Waits (up to 10 s) until a session of this database waits for a row lock.
async fn until_someone_waits_for_a_lock(conn: &mut PgConnection) {
    for _ in 0..200 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no session came to wait for the lock held");
}

async fn count(conn: &mut PgConnection, sql: &str, id: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .unwrap()
}

/// Events stored while a webhook they fan out to is being deleted: the store writes
/// nothing and says why (the ingest committer then tries again), rather than leaving
/// deliveries to a webhook that no longer exists.
#[tokio::test]
async fn an_ingest_racing_a_webhook_deletion_stores_nothing_for_it() {
    let Some((database, store, mut deleter, [kept, gone])) = store_and_connection().await else {
        return;
    };
    let mut tx = deleter.begin().await.unwrap();
    sqlx::query("DELETE FROM webhooks WHERE id = $1")
        .bind(gone.id.as_str())
        .execute(&mut *tx)
        .await
        .unwrap();
    // The deletion is not committed: the ingest still reads both subscribers, then
    // waits for the webhook's row.
    let batch = events(3, None);
    let ingest = tokio::spawn({
        let (store, batch) = (store.clone(), batch.clone());
        async move { store.insert_events(&batch, Utc::now()).await }
    });
    let mut watcher = PgConnection::connect(&database.url).await.unwrap();
    until_someone_waits_for_a_lock(&mut watcher).await;
    tx.commit().await.unwrap();
    let result = ingest.await.unwrap();
    assert!(
        matches!(result, Err(StoreError::SubscriberGone)),
        "{result:?}"
    );
    for sql in [
        "SELECT count(*) FROM deliveries WHERE webhook_id = $1",
        "SELECT count(*) FROM events WHERE id = $1",
    ] {
        let id = if sql.contains("webhook_id") {
            gone.id.as_str()
        } else {
            batch[0].id.as_str()
        };
        assert_eq!(count(&mut watcher, sql, id).await, 0, "{sql}");
    }

    // Stored again, the events fan out to the webhook left.
    let stored = store.insert_events(&batch, Utc::now()).await.unwrap();
    assert!(stored.iter().all(|accepted| accepted.deliveries == 1));
    let sql = "SELECT count(*) FROM deliveries WHERE webhook_id = $1";
    assert_eq!(count(&mut watcher, sql, kept.id.as_str()).await, 3);
}

/// A result recorded while its delivery is being deleted waits for the deletion and
/// is then dropped: no attempt is left pointing at nothing. The other results of the
/// batch are recorded.
#[tokio::test]
async fn a_result_racing_its_deliverys_deletion_is_dropped() {
    let Some((database, store, mut deleter, [_kept, gone])) = store_and_connection().await else {
        return;
    };
    let claimed = stored_and_claimed(&store, 2).await;
    assert_eq!(claimed.len(), 4);
    let doomed = claimed.iter().find(|c| c.webhook.id == gone.id).unwrap();

    let mut tx = deleter.begin().await.unwrap();
    sqlx::query("DELETE FROM deliveries WHERE id = $1")
        .bind(doomed.delivery.id.as_str())
        .execute(&mut *tx)
        .await
        .unwrap();
    let records: Vec<AttemptRecord> = succeeded(&claimed, "a");
    let recording = tokio::spawn({
        let store = store.clone();
        async move { store.record_attempts(&records, Utc::now()).await }
    });
    let mut watcher = PgConnection::connect(&database.url).await.unwrap();
    until_someone_waits_for_a_lock(&mut watcher).await;
    tx.commit().await.unwrap();
    recording.await.unwrap().unwrap();

    let attempts = "SELECT count(*) FROM attempts WHERE delivery_id = $1";
    assert_eq!(
        count(&mut watcher, attempts, doomed.delivery.id.as_str()).await,
        0
    );
    for other in claimed
        .iter()
        .filter(|c| c.delivery.id != doomed.delivery.id)
    {
        assert_eq!(
            count(&mut watcher, attempts, other.delivery.id.as_str()).await,
            1
        );
    }
}

/// A webhook deleted while a result of its delivery is being recorded: the deletion
/// waits for it and then deletes the attempt with the delivery.
#[tokio::test]
async fn a_webhook_deleted_while_a_result_is_recorded_takes_the_attempt_along() {
    let Some((database, store, mut recorder, [kept, gone])) = store_and_connection().await else {
        return;
    };
    let claimed = stored_and_claimed(&store, 1).await;
    let delivery = claimed.iter().find(|c| c.webhook.id == gone.id).unwrap();
    let delivery_id = delivery.delivery.id.as_str();

    // What recording a result does, held open: the delivery updated (so locked), its
    // attempt written.
    let mut tx = recorder.begin().await.unwrap();
    sqlx::query("UPDATE deliveries SET status = 'succeeded', next_attempt_at = NULL WHERE id = $1")
        .bind(delivery_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO attempts (id, delivery_id, number, started_at, duration_ms, request) \
         VALUES ('attempt-in-flight', $1, 1, 0, 1, '{}')",
    )
    .bind(delivery_id)
    .execute(&mut *tx)
    .await
    .unwrap();
    let deleting = tokio::spawn({
        let (store, id) = (store.clone(), gone.id.clone());
        async move { store.delete_webhook(&id, None).await }
    });
    let mut watcher = PgConnection::connect(&database.url).await.unwrap();
    until_someone_waits_for_a_lock(&mut watcher).await;
    tx.commit().await.unwrap();
    assert!(deleting.await.unwrap().unwrap());

    for (sql, id) in [
        (
            "SELECT count(*) FROM attempts WHERE delivery_id = $1",
            delivery_id,
        ),
        (
            "SELECT count(*) FROM deliveries WHERE webhook_id = $1",
            gone.id.as_str(),
        ),
    ] {
        assert_eq!(count(&mut watcher, sql, id).await, 0, "{sql}");
    }
    let sql = "SELECT count(*) FROM deliveries WHERE webhook_id = $1";
    assert_eq!(count(&mut watcher, sql, kept.id.as_str()).await, 1);
}

/// Retention deletes old succeeded deliveries with their attempts.
#[tokio::test]
async fn retention_takes_the_attempts_along() {
    let Some((_database, store, mut conn, _hooks)) = store_and_connection().await else {
        return;
    };
    let claimed = stored_and_claimed(&store, 3).await;
    let records: Vec<AttemptRecord> = succeeded(&claimed, "a");
    store.record_attempts(&records, Utc::now()).await.unwrap();
    let mut attempts_left = async || -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM attempts")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(attempts_left().await, 6);
    let later = Utc::now() + chrono::Duration::seconds(1);
    assert_eq!(store.delete_expired(later, 4).await.unwrap(), 4);
    assert_eq!(attempts_left().await, 2);
    assert_eq!(store.delete_expired(later, 4).await.unwrap(), 2);
    assert_eq!(attempts_left().await, 0);
}

/// Through the API: an event published while a webhook it fans out to is being
/// deleted is accepted (the ingest committer stores it again) with a delivery for
/// the webhook left only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_while_a_subscriber_is_deleted_fans_out_to_the_rest() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(
        dir.path(),
        &[
            ("HOOKCAST_DATABASE_URL", database.url.as_str()),
            ("HOOKCAST_ALLOWED_CIDRS", "127.0.0.0/8"),
        ],
    )
    .await;
    let mut ids = Vec::new();
    for name in ["kept", "gone"] {
        let created = app
            .post(
                "/api/v1/webhooks",
                json!({"name": name, "url": "http://127.0.0.1:9/hook", "event_types": ["dr.host.disconnected"]}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        ids.push(created.body["id"].as_str().unwrap().to_string());
    }
    let mut deleter = PgConnection::connect(&database.url).await.unwrap();
    let mut tx = deleter.begin().await.unwrap();
    sqlx::query("DELETE FROM webhooks WHERE id = $1")
        .bind(&ids[1])
        .execute(&mut *tx)
        .await
        .unwrap();
    let publishing = tokio::spawn({
        let (client, url) = (reqwest::Client::new(), app.url("/api/v1/events"));
        async move {
            let event =
                json!({"type": "dr.host.disconnected", "source": "web-01", "result": "failure"});
            common::reply(
                client
                    .post(url)
                    .bearer_auth(common::TOKEN)
                    .json(&event)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    });
    let mut watcher = PgConnection::connect(&database.url).await.unwrap();
    until_someone_waits_for_a_lock(&mut watcher).await;
    tx.commit().await.unwrap();
    let accepted = publishing.await.unwrap();
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.text);
    assert_eq!(accepted.body["deliveries"], 1);
    let sql = "SELECT count(*) FROM deliveries WHERE webhook_id = $1";
    assert_eq!(count(&mut watcher, sql, &ids[0]).await, 1);
    assert_eq!(count(&mut watcher, sql, &ids[1]).await, 0);
    app.stop().await;
}
