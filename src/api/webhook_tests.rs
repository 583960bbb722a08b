//! Send Test (an unsaved form), Send (a saved webhook) and replay of failed deliveries.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::json_body::JsonBody;
use super::problem::ApiError;
use super::state::AppState;
use super::webhook_input::{Operation, WebhookInput};
use crate::delivery::test_send::{TestResult, test_saved, test_unsaved};
use crate::domain::ids::WebhookId;
use crate::domain::validation::FieldError;

/// `POST /webhooks/test`: the form as it is, not saved.
pub async fn test_form(
    State(state): State<AppState>,
    JsonBody(input): JsonBody<WebhookInput>,
) -> Result<Json<TestResult>, ApiError> {
    let built = input
        .into_spec(Operation::Create, state.catalog)
        .map_err(ApiError::Validation)?;
    Ok(Json(
        test_unsaved(&state.attempt_context(), &built.spec).await,
    ))
}

/// `POST /webhooks/{id}/test`: the row's "Send", recorded in the delivery log.
pub async fn test_webhook(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TestResult>, ApiError> {
    let id = WebhookId::parse(&id).map_err(|_| ApiError::NotFound("webhook"))?;
    let webhook = state
        .store
        .get_webhook(&id)
        .await?
        .ok_or(ApiError::NotFound("webhook"))?;
    Ok(Json(
        test_saved(&state.attempt_context(), state.store.as_ref(), &webhook).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayWindow {
    since: String,
    until: Option<String>,
}

/// `POST /webhooks/{id}/replay`: failed deliveries created in the window go back to
/// pending.
pub async fn replay(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(window): JsonBody<ReplayWindow>,
) -> Result<Json<Value>, ApiError> {
    let id = WebhookId::parse(&id).map_err(|_| ApiError::NotFound("webhook"))?;
    state
        .store
        .get_webhook(&id)
        .await?
        .ok_or(ApiError::NotFound("webhook"))?;
    let parse = |field: &str, raw: &str| {
        DateTime::parse_from_rfc3339(raw)
            .map(|t| t.to_utc())
            .map_err(|_| FieldError::new(field, format!("`{raw}` is not an RFC 3339 time")))
    };
    let since = parse("since", &window.since).map_err(|e| ApiError::Validation(vec![e]))?;
    let until = match window.until.as_deref() {
        Some(raw) => parse("until", raw).map_err(|e| ApiError::Validation(vec![e]))?,
        None => Utc::now(),
    };
    if until < since {
        return Err(ApiError::invalid("until", "must not be before `since`"));
    }
    let replayed = state
        .store
        .replay_failed(&id, since, until, Utc::now())
        .await?;
    state.wake.notify_one();
    Ok(Json(json!({ "replayed": replayed })))
}
