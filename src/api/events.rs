//! `/api/v1/events`: publish one or many, read one, list.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::json_body::JsonBody;
use super::pagination;
use super::problem::ApiError;
use super::state::AppState;
use super::webhook_view::timestamp;
use crate::domain::event::{Event, EventInput, Outcome};
use crate::domain::event_type::EventType;
use crate::domain::ids::EventId;
use crate::store::{Accepted, EventFilter};

pub const MAX_BATCH: usize = 1000;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    /// 1 to 1,000 events, stored together or not at all.
    events: Vec<EventInput>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only events of this type.
    #[serde(rename = "type")]
    event_type: Option<String>,
    cursor: Option<String>,
    /// Page size, 50 by default.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
}

fn accepted_view(accepted: &Accepted) -> Value {
    json!({"id": accepted.event_id, "deliveries": accepted.deliveries, "duplicate": accepted.duplicate})
}

/// The catalog entries of `events`, kept for the metrics while the events themselves
/// go to the store.
fn types_of(state: &AppState, events: &[Event]) -> Vec<Option<&'static EventType>> {
    events
        .iter()
        .map(|event| state.catalog.get(event.event_type.as_str()))
        .collect()
}

/// A list of inputs (a batch, an Alertmanager notification) validated as one: every
/// problem of every item, named `<list>[i].<field>`, or all the events. `list` names
/// the list in the problem when it is empty or too long.
pub fn validate_all(
    state: &AppState,
    list: &str,
    inputs: Vec<EventInput>,
) -> Result<Vec<Event>, ApiError> {
    if inputs.is_empty() || inputs.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            list,
            format!("must hold 1 to {MAX_BATCH} items"),
        ));
    }
    let now = Utc::now();
    let mut events = Vec::with_capacity(inputs.len());
    let mut errors = Vec::new();
    for (index, input) in inputs.into_iter().enumerate() {
        match input.into_event(state.catalog, now, &format!("{list}[{index}].")) {
            Ok(event) => events.push(event),
            Err(mut problems) => errors.append(&mut problems),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(events)
}

/// Stores `events` with their deliveries (all or none) and answers 202 with one item
/// per event.
pub async fn accept_all(
    state: &AppState,
    events: Vec<Event>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let types = types_of(state, &events);
    let accepted = state.ingest.submit(events).await?;
    state.metrics.events_accepted(&types, &accepted);
    let items: Vec<Value> = accepted.iter().map(accepted_view).collect();
    Ok((StatusCode::ACCEPTED, Json(json!({ "items": items }))))
}

/// 202 only after the event and all its deliveries are committed.
#[utoipa::path(post, path = "/events", tag = "events", request_body = EventInput, responses((status = 202, description = "Stored with its deliveries: `{id, deliveries, duplicate}`", body = serde_json::Value)))]
pub async fn publish(
    State(state): State<AppState>,
    JsonBody(input): JsonBody<EventInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let now = Utc::now();
    let event = input
        .into_event(state.catalog, now, "")
        .map_err(ApiError::Validation)?;
    let types = types_of(&state, std::slice::from_ref(&event));
    let accepted = state.ingest.submit(vec![event]).await?;
    state.metrics.events_accepted(&types, &accepted);
    Ok((StatusCode::ACCEPTED, Json(accepted_view(&accepted[0]))))
}

/// All or nothing: one invalid event refuses the whole batch, naming `events[i].field`.
#[utoipa::path(post, path = "/events/batch", tag = "events", request_body = Batch, responses((status = 202, description = "All stored: `{\"items\": [{id, deliveries, duplicate}]}`", body = serde_json::Value)))]
pub async fn publish_batch(
    State(state): State<AppState>,
    JsonBody(batch): JsonBody<Batch>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let events = validate_all(&state, "events", batch.events)?;
    accept_all(&state, events).await
}

#[utoipa::path(get, path = "/events/{id}", tag = "events", params(("id" = String, Path, description = "event id")), responses((status = 200, description = "The event", body = serde_json::Value)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = EventId::parse(&id).map_err(|_| ApiError::NotFound("event"))?;
    let event = state
        .store
        .get_event(&id)
        .await?
        .ok_or(ApiError::NotFound("event"))?;
    Ok(Json(event_view(&event)))
}

#[utoipa::path(get, path = "/events", tag = "events", params(ListQuery), responses((status = 200, description = "`{items, next_cursor}`, newest first", body = serde_json::Value)))]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = pagination::limit(query.limit)?;
    let before = query
        .cursor
        .as_deref()
        .map(EventId::parse)
        .transpose()
        .map_err(|message| ApiError::invalid("cursor", message))?;
    let events = state
        .store
        .list_events(&EventFilter {
            event_type: query.event_type,
            before,
            limit,
        })
        .await?;
    let ids: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();
    let items: Vec<Value> = events.iter().map(event_view).collect();
    Ok(Json(
        json!({"items": items, "next_cursor": pagination::next_cursor(&ids, limit)}),
    ))
}

pub fn event_view(event: &Event) -> Value {
    let mut view = json!({
        "id": event.id,
        "type": event.event_type,
        "kind": event.kind,
        "severity": event.severity,
        "source": event.source,
        "occurred_at": timestamp(event.occurred_at),
        "received_at": timestamp(event.received_at),
        "attributes": event.attributes,
        "idempotency_key": event.idempotency_key,
    });
    let key = match event.outcome {
        Outcome::Success | Outcome::Failure => "result",
        Outcome::Firing | Outcome::Resolved => "status",
    };
    view[key] = Value::from(event.outcome.as_str());
    view
}
