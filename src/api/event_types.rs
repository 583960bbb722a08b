//! `GET /api/v1/event-types[?kind=event|alarm]`: the catalog, for the console's tree
//! and for producers.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::problem::ApiError;
use super::state::AppState;
use crate::domain::event_type::EventKind;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventTypeQuery {
    kind: Option<String>,
}

#[utoipa::path(get, path = "/event-types", tag = "event_types", params(EventTypeQuery), responses((status = 200, description = "The catalog: `{items}`", body = serde_json::Value)))]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<EventTypeQuery>,
) -> Result<Json<Value>, ApiError> {
    let kind = query
        .kind
        .as_deref()
        .map(EventKind::parse)
        .transpose()
        .map_err(|message| ApiError::invalid("kind", message))?;
    let items: Vec<_> = state
        .catalog
        .all()
        .iter()
        .filter(|t| kind.is_none_or(|k| t.kind == k))
        .collect();
    Ok(Json(json!({ "items": items })))
}
