//! Liveness and readiness probes and the Prometheus metrics (no token needed: they
//! hold counts, never secrets or contents).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::state::AppState;

/// The process is up and serving HTTP.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "The process is up", body = serde_json::Value)))]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The database answers: the node can do useful work.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, description = "The database answers and its schema is current", body = serde_json::Value), (status = 503, description = "Not ready", body = serde_json::Value)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.store.schema_is_current().await {
        Ok(true) => (StatusCode::OK, Json(json!({"status": "ready"}))),
        Ok(false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "reason": "database migrations not applied"})),
        ),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "reason": "database not reachable"})),
            )
        }
    }
}

/// Prometheus text format, version 0.0.4.
#[utoipa::path(get, path = "/metrics", tag = "health", responses((status = 200, description = "Counters, the attempt-time histogram and the queue gauges in Prometheus text format", content_type = "text/plain; version=0.0.4", body = String), (status = 503, description = "The database is not reachable", body = serde_json::Value)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    match state.metrics.render(state.store.as_ref()).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(error) => {
            tracing::warn!(%error, "cannot read the queue for /metrics");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "reason": "database not reachable"})),
            )
                .into_response()
        }
    }
}
