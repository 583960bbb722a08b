//! `/api/v1/webhooks`: create, list, read, replace, patch, delete, enable, disable.

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::audit::{entry, view_of};
use super::auth::Caller;
use super::json_body::JsonBody;
use super::problem::ApiError;
use super::state::AppState;
use super::webhook_input::{Operation, WebhookInput};
use super::webhook_view::{SecretDisplay, WebhookView};
use crate::domain::choices::WebhookKind;
use crate::domain::ids::WebhookId;
use crate::domain::webhook::Webhook;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    kind: Option<String>,
    enabled: Option<bool>,
    /// Case-insensitive substring of the name.
    name: Option<String>,
}

#[utoipa::path(post, path = "/webhooks", tag = "webhooks", request_body = WebhookInput, responses((status = 201, description = "Created; `Location` names it. An HMAC secret hookcast generated is shown this once.", body = WebhookView)))]
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(input): JsonBody<WebhookInput>,
) -> Result<Response, ApiError> {
    let built = input
        .into_spec(Operation::Create, state.catalog)
        .map_err(ApiError::Validation)?;
    let webhook = Webhook::new(built.spec, Utc::now());
    let after = view_of(&WebhookView::new(&webhook, SecretDisplay::Masked));
    let audit = entry(&caller, "webhook.create", webhook.id.as_str(), None, after);
    state.store.insert_webhook(&webhook, Some(&audit)).await?;
    tracing::info!(webhook_id = %webhook.id, name = %webhook.spec.name, "webhook created");
    let display = if built.generated_secret {
        SecretDisplay::RevealGenerated
    } else {
        SecretDisplay::Masked
    };
    let location = format!("/api/v1/webhooks/{}", webhook.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(WebhookView::new(&webhook, display)),
    )
        .into_response())
}

#[utoipa::path(get, path = "/webhooks", tag = "webhooks", params(ListQuery), responses((status = 200, description = "`{\"items\": [Webhook]}`", body = serde_json::Value)))]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let kind = query
        .kind
        .as_deref()
        .map(WebhookKind::parse)
        .transpose()
        .map_err(|message| ApiError::invalid("kind", message))?;
    let name = query.name.map(|n| n.to_lowercase());
    let items: Vec<WebhookView> = state
        .store
        .list_webhooks()
        .await?
        .iter()
        .filter(|w| kind.is_none_or(|k| w.spec.kind == k))
        .filter(|w| query.enabled.is_none_or(|e| w.spec.enabled == e))
        .filter(|w| {
            name.as_deref()
                .is_none_or(|n| w.spec.name.as_str().to_lowercase().contains(n))
        })
        .map(|w| WebhookView::new(w, SecretDisplay::Masked))
        .collect();
    Ok(Json(json!({ "items": items })))
}

#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path, description = "webhook id")), responses((status = 200, description = "The webhook, secrets masked", body = WebhookView)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    let webhook = load(&state, &id).await?;
    Ok(Json(WebhookView::new(&webhook, SecretDisplay::Masked)))
}

#[utoipa::path(put, path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path, description = "webhook id")), request_body = WebhookInput, responses((status = 200, description = "Replaced; absent secrets are kept", body = WebhookView), (status = 409, description = "Another webhook has this name", body = crate::api::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn replace(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<WebhookInput>,
) -> Result<Json<WebhookView>, ApiError> {
    update(state, &caller, &id, input, |stored| {
        Operation::Replace(stored)
    })
    .await
}

#[utoipa::path(patch, path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path, description = "webhook id")), request_body = WebhookInput, responses((status = 200, description = "The fields given are changed", body = WebhookView), (status = 409, description = "Another webhook has this name", body = crate::api::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn patch(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<WebhookInput>,
) -> Result<Json<WebhookView>, ApiError> {
    update(state, &caller, &id, input, |stored| {
        Operation::Patch(stored)
    })
    .await
}

async fn update(
    state: AppState,
    caller: &Caller,
    id: &str,
    input: WebhookInput,
    operation: impl for<'a> FnOnce(&'a crate::domain::webhook::WebhookSpec) -> Operation<'a>,
) -> Result<Json<WebhookView>, ApiError> {
    let mut webhook = load(&state, id).await?;
    let before = view_of(&WebhookView::new(&webhook, SecretDisplay::Masked));
    let built = input
        .into_spec(operation(&webhook.spec), state.catalog)
        .map_err(ApiError::Validation)?;
    webhook.replace_spec(built.spec, Utc::now());
    let view = WebhookView::new(&webhook, SecretDisplay::Masked);
    let audit = entry(
        caller,
        "webhook.update",
        webhook.id.as_str(),
        before,
        view_of(&view),
    );
    state.store.update_webhook(&webhook, Some(&audit)).await?;
    state.wake.notify_one(); // enabling may have made parked deliveries due
    tracing::info!(webhook_id = %webhook.id, "webhook updated");
    Ok(Json(view))
}

#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path, description = "webhook id")), responses((status = 204, description = "Deleted with its pending deliveries")))]
pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let webhook = load(&state, &id).await?;
    let before = view_of(&WebhookView::new(&webhook, SecretDisplay::Masked));
    let audit = entry(&caller, "webhook.delete", webhook.id.as_str(), before, None);
    if state
        .store
        .delete_webhook(&webhook.id, Some(&audit))
        .await?
    {
        tracing::info!(webhook_id = %webhook.id, "webhook deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("webhook"))
    }
}

#[utoipa::path(post, path = "/webhooks/{id}/enable", tag = "webhooks", params(("id" = String, Path, description = "webhook id")), responses((status = 200, description = "Enabled", body = WebhookView)))]
pub async fn enable(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    set_enabled(state, &caller, &id, true).await
}

#[utoipa::path(post, path = "/webhooks/{id}/disable", tag = "webhooks", params(("id" = String, Path, description = "webhook id")), responses((status = 200, description = "Disabled; pending deliveries wait", body = WebhookView)))]
pub async fn disable(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    set_enabled(state, &caller, &id, false).await
}

async fn set_enabled(
    state: AppState,
    caller: &Caller,
    id: &str,
    enabled: bool,
) -> Result<Json<WebhookView>, ApiError> {
    let mut webhook = load(&state, id).await?;
    let before = view_of(&WebhookView::new(&webhook, SecretDisplay::Masked));
    webhook.set_enabled(enabled, Utc::now());
    let view = WebhookView::new(&webhook, SecretDisplay::Masked);
    let action = if enabled {
        "webhook.enable"
    } else {
        "webhook.disable"
    };
    let audit = entry(caller, action, webhook.id.as_str(), before, view_of(&view));
    state.store.update_webhook(&webhook, Some(&audit)).await?;
    state.wake.notify_one(); // enabling may have made parked deliveries due
    tracing::info!(webhook_id = %webhook.id, enabled, "webhook switched");
    Ok(Json(view))
}

/// A malformed id names no webhook: 404, like an unknown one.
fn parse_id(raw: &str) -> Result<WebhookId, ApiError> {
    WebhookId::parse(raw).map_err(|_| ApiError::NotFound("webhook"))
}

async fn load(state: &AppState, raw_id: &str) -> Result<Webhook, ApiError> {
    let id = parse_id(raw_id)?;
    state
        .store
        .get_webhook(&id)
        .await?
        .ok_or(ApiError::NotFound("webhook"))
}
