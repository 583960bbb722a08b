//! `POST /api/v1/ingest/alertmanager`: Prometheus Alertmanager's webhook receiver.
//! Point a `webhook_configs` entry at it with a `publish` token as the bearer.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;

use super::events::{accept_all, validate_all};
use super::json_body::JsonBody;
use super::problem::ApiError;
use super::state::AppState;
use crate::domain::alertmanager::{Notification, to_event_input};

/// Every alert of the notification as one alarm, all stored together or none.
#[utoipa::path(post, path = "/ingest/alertmanager", tag = "events", request_body(content = Notification, description = "Alertmanager's webhook payload, version 4"), responses((status = 202, description = "Stored: `{\"items\": [{id, deliveries, duplicate}]}`, one per alert", body = serde_json::Value)))]
pub async fn ingest(
    State(state): State<AppState>,
    JsonBody(notification): JsonBody<Notification>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if notification.version != "4" {
        return Err(ApiError::invalid(
            "version",
            format!("must be 4, not `{}`", notification.version),
        ));
    }
    let inputs = notification
        .alerts
        .iter()
        .map(|alert| to_event_input(alert, &state.alert_rules))
        .collect();
    let events = validate_all(&state, "alerts", inputs)?;
    accept_all(&state, events).await
}
