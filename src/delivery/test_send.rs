//! "Send Test" (an unsaved form) and "Send" (a saved webhook's row): one synchronous
//! attempt with a `hookcast.test` message, its outcome returned to the operator.

use chrono::Utc;
use serde::Serialize;

use super::attempt::{AttemptContext, make_attempt};
use super::system_events::test_event;
use crate::domain::delivery::{DeliveryStatus, Verdict};
use crate::domain::ids::DeliveryId;
use crate::domain::webhook::{Webhook, WebhookSpec};
use crate::store::{AttemptRecord, Store, StoreError, WebhookHealth};

/// What the operator sees.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TestResult {
    pub ok: bool,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<u16>,
    pub duration_ms: u64,
    /// The receiver's answer (capped).
    pub response: Option<String>,
    /// What went wrong, in words.
    pub error: Option<String>,
    /// The delivery in the log (saved webhooks only).
    pub delivery_id: Option<String>,
}

/// Tests an unsaved configuration: nothing is stored.
pub async fn test_unsaved(context: &AttemptContext<'_>, spec: &WebhookSpec) -> TestResult {
    let event = test_event(spec.name.as_str());
    let outcome = make_attempt(context, spec, None, &event, &DeliveryId::generate(), 1).await;
    result(&outcome.attempt, outcome.verdict, outcome.summary, None)
}

/// Tests a saved webhook and records the attempt in its delivery log.
pub async fn test_saved(
    context: &AttemptContext<'_>,
    store: &dyn Store,
    webhook: &Webhook,
) -> Result<TestResult, StoreError> {
    let event = test_event(webhook.spec.name.as_str());
    let delivery = store
        .insert_test_delivery(&event, &webhook.id, Utc::now())
        .await?;
    let outcome = make_attempt(
        context,
        &webhook.spec,
        Some(&webhook.id),
        &event,
        &delivery.id,
        1,
    )
    .await;
    let status = if outcome.verdict == Verdict::Delivered {
        DeliveryStatus::Succeeded
    } else {
        DeliveryStatus::Failed
    };
    let record = AttemptRecord {
        attempt: outcome.attempt.clone(),
        webhook_id: webhook.id.clone(),
        owner: None,
        status,
        next_attempt_at: None,
        last_error: outcome.summary.clone(),
        health: WebhookHealth::Unchanged,
    };
    store.record_attempts(&[record], Utc::now()).await?;
    Ok(result(
        &outcome.attempt,
        outcome.verdict,
        outcome.summary,
        Some(delivery.id.to_string()),
    ))
}

fn result(
    attempt: &crate::domain::delivery::Attempt,
    verdict: Verdict,
    summary: Option<String>,
    delivery_id: Option<String>,
) -> TestResult {
    TestResult {
        ok: verdict == Verdict::Delivered,
        status: attempt.response_status,
        duration_ms: attempt.duration_ms,
        response: attempt.response_body.clone(),
        error: summary,
        delivery_id,
    }
}
