//! The HTTP interface: `/api/v1` (token required), health probes.

mod auth;
mod event_types;
mod health;
mod json_body;
mod problem;
mod state;
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
        .route("/webhooks/{id}/enable", post(webhooks::enable))
        .route("/webhooks/{id}/disable", post(webhooks::disable))
        .route("/event-types", get(event_types::list))
        .fallback(|| async { ApiError::NotFound("API route") })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));

    Router::new()
        .nest("/api/v1", v1)
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
