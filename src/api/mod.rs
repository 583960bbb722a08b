//! The HTTP interface: `/api/v1` (token required), health probes.

mod alertmanager;
mod audit;
mod auth;
mod deliveries;
mod event_types;
mod events;
mod health;
mod json_body;
mod openapi;
mod pagination;
mod problem;
mod request_id;
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
use axum::http::header;
use axum::middleware;
use axum::routing::get;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Only the health probes: what a `worker` node serves.
pub fn health_router(state: AppState) -> Router {
    health_routes().split_for_parts().0.with_state(state)
}

pub fn router(state: AppState) -> Router {
    let document = openapi_json();
    let (v1, _) = documented_routes().split_for_parts();
    let v1 = v1
        .fallback(|| async { ApiError::NotFound("API route") })
        .layer(axum::extract::DefaultBodyLimit::max(
            json_body::MAX_BODY_BYTES,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));

    Router::new()
        // The API's description needs no token: it holds nothing secret.
        .route(
            "/api/v1/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], document) }),
        )
        .nest("/api/v1", v1)
        .merge(crate::console::router())
        .merge(health_routes().split_for_parts().0)
        .with_state(state)
        .layer(request_trace())
        .layer(middleware::from_fn(request_id::assign))
}

/// Method, path, request id and status of every request; never other headers or
/// bodies, which carry tokens and secrets.
fn request_trace() -> TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    impl Fn(&axum::http::Request<axum::body::Body>) -> tracing::Span + Clone,
> {
    TraceLayer::new_for_http()
        .make_span_with(|request: &axum::http::Request<axum::body::Body>| {
            let id = request
                .headers()
                .get(request_id::HEADER)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("");
            tracing::info_span!(
                "request",
                method = %request.method(),
                uri = %request.uri().path(),
                request_id = %id,
            )
        })
        .on_response(DefaultOnResponse::new().level(Level::INFO))
}

/// The OpenAPI document as served, pretty-printed; `hookcast openapi` prints it and
/// the committed `openapi.json` must equal it.
pub fn openapi_json() -> String {
    let routes = OpenApiRouter::<AppState>::new()
        .nest("/api/v1", documented_routes())
        .merge(health_routes());
    let document = openapi::complete(routes.into_openapi());
    let mut document = serde_json::to_value(document).expect("the OpenAPI document is plain data");
    openapi::list_catalog_codes(&mut document);
    let mut text = serde_json::to_string_pretty(&document).expect("JSON values print");
    text.push('\n');
    text
}

fn health_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
}

/// Every `/api/v1` route, each registered with its OpenAPI operation; paths relative
/// to `/api/v1`.
fn documented_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(
            webhooks::get,
            webhooks::replace,
            webhooks::patch,
            webhooks::delete
        ))
        .routes(routes!(webhook_actions::test_form))
        .routes(routes!(webhook_actions::preview))
        .routes(routes!(webhooks::enable))
        .routes(routes!(webhooks::disable))
        .routes(routes!(webhook_actions::test_webhook))
        .routes(routes!(webhook_actions::replay))
        .routes(routes!(event_types::list))
        .routes(routes!(events::list, events::publish))
        .routes(routes!(events::publish_batch))
        .routes(routes!(events::get))
        .routes(routes!(alertmanager::ingest))
        .routes(routes!(deliveries::list))
        .routes(routes!(deliveries::get))
        .routes(routes!(deliveries::retry))
        .routes(routes!(stats::webhooks))
        .routes(routes!(stats::attempts_per_minute))
        .routes(routes!(stats::info))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(audit::list))
}
