//! The HTTP interface: `/api/v1` (token required), health probes.

mod audit;
mod auth;
mod deliveries;
mod event_types;
mod events;
mod health;
mod json_body;
mod pagination;
mod problem;
mod state;
mod stats;
mod tokens;
mod webhook_actions;
mod webhook_input;
mod webhook_view;
mod webhooks;

pub use problem::ApiError;
pub use state::AppState;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

/// Only the health probes: what a `worker` node serves.
pub fn health_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .with_state(state)
}

pub fn router(state: AppState) -> Router {
    let v1 = Router::new()
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route(
            "/webhooks/{id}",
            get(webhooks::get)
                .put(webhooks::replace)
                .patch(webhooks::patch)
                .delete(webhooks::delete),
        )
        .route("/webhooks/test", post(webhook_actions::test_form))
        .route("/webhooks/preview", post(webhook_actions::preview))
        .route("/webhooks/{id}/enable", post(webhooks::enable))
        .route("/webhooks/{id}/disable", post(webhooks::disable))
        .route("/webhooks/{id}/test", post(webhook_actions::test_webhook))
        .route("/webhooks/{id}/replay", post(webhook_actions::replay))
        .route("/event-types", get(event_types::list))
        .route("/events", get(events::list).post(events::publish))
        .route("/events/batch", post(events::publish_batch))
        .route("/events/{id}", get(events::get))
        .route("/deliveries", get(deliveries::list))
        .route("/deliveries/{id}", get(deliveries::get))
        .route("/deliveries/{id}/retry", post(deliveries::retry))
        .route("/stats/webhooks", get(stats::webhooks))
        .route(
            "/stats/attempts-per-minute",
            get(stats::attempts_per_minute),
        )
        .route("/info", get(stats::info))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", axum::routing::delete(tokens::revoke))
        .route("/audit", get(audit::list))
        .fallback(|| async { ApiError::NotFound("API route") })
        .layer(axum::extract::DefaultBodyLimit::max(
            json_body::MAX_BODY_BYTES,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));

    Router::new()
        .nest("/api/v1", v1)
        .merge(crate::console::router())
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .with_state(state)
        // Method, path and status of every request; never headers or bodies, which
        // carry tokens and secrets.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}
