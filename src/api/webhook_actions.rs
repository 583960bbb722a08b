//! Send Test (an unsaved form), Send (a saved webhook), preview of the exact request,
//! and replay of failed deliveries.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::json_body::JsonBody;
use super::problem::ApiError;
use super::state::AppState;
use super::webhook_input::{Operation, WebhookInput};
use crate::delivery::attempt::build_request;
use crate::delivery::test_send::{TestResult, test_saved, test_unsaved};
use crate::domain::event::{Event, EventInput};
use crate::domain::event_type::EventKind;
use crate::domain::ids::{DeliveryId, WebhookId};
use crate::domain::validation::FieldError;
use crate::domain::webhook::WebhookSpec;

/// `POST /webhooks/test`: the form as it is, not saved.
#[utoipa::path(post, path = "/webhooks/test", tag = "webhooks", request_body(content = WebhookInput, description = "The form as it stands, not saved"), responses((status = 200, description = "What the receiver answered", body = TestResult)))]
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
#[utoipa::path(post, path = "/webhooks/{id}/test", tag = "webhooks", params(("id" = String, Path, description = "webhook id")), responses((status = 200, description = "What the receiver answered", body = TestResult)))]
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayWindow {
    since: String,
    until: Option<String>,
}

/// `POST /webhooks/{id}/replay`: failed deliveries created in the window go back to
/// pending.
#[utoipa::path(post, path = "/webhooks/{id}/replay", tag = "webhooks", params(("id" = String, Path, description = "webhook id")), request_body = ReplayWindow, responses((status = 200, description = "`{\"replayed\": n}`", body = serde_json::Value)))]
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

/// `POST /webhooks/preview`: a saved webhook (`webhook_id`) or an unsaved one
/// (`webhook`), and optionally the event to show (`event`, else a sample of the
/// webhook's first event type).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    webhook_id: Option<String>,
    webhook: Option<WebhookInput>,
    event: Option<EventInput>,
}

/// The exact request the webhook would send, secrets in headers and URL masked;
/// nothing is sent or stored.
#[utoipa::path(post, path = "/webhooks/preview", tag = "webhooks", request_body = PreviewRequest, responses((status = 200, description = "The request that would be sent, secrets masked", body = serde_json::Value)))]
pub async fn preview(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<PreviewRequest>,
) -> Result<Json<Value>, ApiError> {
    let (spec, webhook_id) = match (request.webhook_id, request.webhook) {
        (Some(raw), None) => {
            let id = WebhookId::parse(&raw).map_err(|_| ApiError::NotFound("webhook"))?;
            let webhook = state
                .store
                .get_webhook(&id)
                .await?
                .ok_or(ApiError::NotFound("webhook"))?;
            (webhook.spec, Some(id))
        }
        (None, Some(input)) => {
            let built = input
                .into_spec(Operation::Create, state.catalog)
                .map_err(ApiError::Validation)?;
            (built.spec, None)
        }
        _ => {
            return Err(ApiError::invalid(
                "webhook_id",
                "give either `webhook_id` or `webhook`",
            ));
        }
    };
    let now = Utc::now();
    let event = match request.event {
        Some(input) => input
            .into_event(state.catalog, now, "event.")
            .map_err(ApiError::Validation)?,
        None => sample_event(&spec, now)?,
    };
    let prepared = build_request(
        &state.attempt_context(),
        &spec,
        webhook_id.as_ref(),
        &event,
        &DeliveryId::generate(),
        now,
    )
    .map_err(|message| ApiError::invalid("webhook", message))?;
    let body: Value = serde_json::from_slice(&prepared.body).unwrap_or(Value::Null);
    Ok(Json(json!({
        "method": prepared.logged.method,
        "url": prepared.logged.url,
        "headers": prepared.logged.headers,
        "body": body,
    })))
}

/// An event of the webhook's first subscribed type, as a producer might send it.
fn sample_event(spec: &WebhookSpec, now: DateTime<Utc>) -> Result<Event, ApiError> {
    let code = spec.event_types.codes()[0].as_str();
    let alarm = spec.kind.event_kind() == EventKind::Alarm;
    let input: EventInput = serde_json::from_value(json!({
        "type": code,
        "source": "web-01",
        "result": if alarm { None } else { Some("failure") },
        "status": if alarm { Some("firing") } else { None },
        "attributes": {"sample": true},
    }))
    .expect("the sample is well-formed");
    input
        .into_event(crate::domain::catalog::Catalog::builtin(), now, "event.")
        .map_err(ApiError::Validation)
}
