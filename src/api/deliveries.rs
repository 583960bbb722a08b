//! `/api/v1/deliveries`: the delivery log, one delivery with its attempts, manual retry.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::pagination;
use super::problem::ApiError;
use super::state::AppState;
use super::webhook_view::timestamp;
use crate::domain::delivery::{Attempt, Delivery, DeliveryStatus};
use crate::domain::ids::{DeliveryId, EventId, WebhookId};
use crate::domain::validation::{FieldError, FieldErrors};
use crate::store::{DeliveryFilter, StoreError};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    webhook_id: Option<String>,
    event_id: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
    /// Page size, 50 by default.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
    /// RFC 3339: only deliveries created since then.
    since: Option<String>,
}

#[utoipa::path(get, path = "/deliveries", tag = "deliveries", params(ListQuery), responses((status = 200, description = "`{items, next_cursor}`, newest first", body = serde_json::Value)))]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let mut errors = FieldErrors::default();
    let webhook_id = query
        .webhook_id
        .as_deref()
        .and_then(|raw| errors.check("webhook_id", WebhookId::parse(raw)));
    let event_id = query
        .event_id
        .as_deref()
        .and_then(|raw| errors.check("event_id", EventId::parse(raw)));
    let status = query
        .status
        .as_deref()
        .and_then(|raw| errors.check("status", DeliveryStatus::parse(raw)));
    let before = query
        .cursor
        .as_deref()
        .and_then(|raw| errors.check("cursor", DeliveryId::parse(raw)));
    let since = query.since.as_deref().and_then(|raw| {
        errors.check(
            "since",
            chrono::DateTime::parse_from_rfc3339(raw)
                .map(|t| t.to_utc())
                .map_err(|_| format!("`{raw}` is not an RFC 3339 time")),
        )
    });
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors.into_vec()));
    }
    let limit = pagination::limit(query.limit)?;
    let deliveries = state
        .store
        .list_deliveries(&DeliveryFilter {
            webhook_id,
            event_id,
            status,
            before,
            since,
            limit,
        })
        .await?;
    let ids: Vec<String> = deliveries.iter().map(|d| d.id.to_string()).collect();
    let items: Vec<Value> = deliveries.iter().map(delivery_view).collect();
    Ok(Json(
        json!({"items": items, "next_cursor": pagination::next_cursor(&ids, limit)}),
    ))
}

#[utoipa::path(get, path = "/deliveries/{id}", tag = "deliveries", params(("id" = String, Path, description = "delivery id")), responses((status = 200, description = "The delivery with every attempt", body = serde_json::Value)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = DeliveryId::parse(&id).map_err(|_| ApiError::NotFound("delivery"))?;
    let (delivery, attempts) = state
        .store
        .get_delivery(&id)
        .await?
        .ok_or(ApiError::NotFound("delivery"))?;
    let mut view = delivery_view(&delivery);
    view["attempts"] = attempts.iter().map(attempt_view).collect();
    Ok(Json(view))
}

#[utoipa::path(post, path = "/deliveries/{id}/retry", tag = "deliveries", params(("id" = String, Path, description = "delivery id")), responses((status = 200, description = "Due again now", body = serde_json::Value), (status = 409, description = "Not failed", body = crate::api::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn retry(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = DeliveryId::parse(&id).map_err(|_| ApiError::NotFound("delivery"))?;
    let delivery = match state.store.retry_delivery(&id, Utc::now()).await {
        Ok(delivery) => delivery,
        Err(StoreError::NotFound) => return Err(ApiError::NotFound("delivery")),
        Err(StoreError::InFlight) => {
            return Err(ApiError::Conflict(FieldError::new(
                "id",
                "the delivery is being attempted right now",
            )));
        }
        Err(other) => return Err(other.into()),
    };
    state.wake.notify_one();
    Ok(Json(delivery_view(&delivery)))
}

pub fn delivery_view(delivery: &Delivery) -> Value {
    json!({
        "id": delivery.id,
        "event_id": delivery.event_id,
        "webhook_id": delivery.webhook_id,
        "status": delivery.status,
        "attempt_count": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at.map(timestamp),
        "last_error": delivery.last_error,
        "created_at": timestamp(delivery.created_at),
        "updated_at": timestamp(delivery.updated_at),
    })
}

fn attempt_view(attempt: &Attempt) -> Value {
    let headers = |pairs: &[(String, String)]| -> Value {
        pairs.iter().map(|(n, v)| json!([n, v])).collect()
    };
    json!({
        "id": attempt.id,
        "number": attempt.number,
        "started_at": timestamp(attempt.started_at),
        "duration_ms": attempt.duration_ms,
        "request": {
            "method": attempt.request.method,
            "url": attempt.request.url,
            "headers": headers(&attempt.request.headers),
            "body": attempt.request.body,
        },
        "response": attempt.response_status.map(|status| json!({
            "status": status,
            "headers": headers(&attempt.response_headers),
            "body": attempt.response_body,
        })),
        "error": attempt.error_kind.map(|kind| json!({
            "kind": kind,
            "message": attempt.error_message,
        })),
    })
}
