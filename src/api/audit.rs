//! `/api/v1/audit`: the trail of changes, newest first; and the helper handlers use
//! to make its entries (the store writes each with its change).

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::Caller;
use super::pagination;
use super::problem::ApiError;
use super::state::AppState;
use crate::domain::audit::{AuditEntry, AuditFilter};
use crate::domain::ids::AuditId;

/// The trail's entry for a change by `caller` (`action` is `kind.verb`).
pub fn entry(
    caller: &Caller,
    action: &str,
    target_id: &str,
    before: Option<Value>,
    after: Option<Value>,
) -> AuditEntry {
    let kind = action.split('.').next().unwrap_or(action);
    AuditEntry::new(&caller.name, action, kind, target_id, before, after)
}

/// An API view as JSON for the trail (views mask every secret).
pub fn view_of(view: &impl Serialize) -> Option<Value> {
    serde_json::to_value(view).ok()
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    target_id: Option<String>,
    cursor: Option<String>,
    /// Page size, 50 by default.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/audit", tag = "audit", params(ListQuery), responses((status = 200, description = "`{items, next_cursor}`, newest first", body = serde_json::Value)))]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = pagination::limit(query.limit)?;
    let before = query
        .cursor
        .as_deref()
        .map(AuditId::parse)
        .transpose()
        .map_err(|message| ApiError::invalid("cursor", message))?;
    let entries = state
        .store
        .list_audit(&AuditFilter {
            target_id: query.target_id,
            before,
            limit,
        })
        .await?;
    let ids: Vec<String> = entries.iter().map(|e| e.id.to_string()).collect();
    let items: Vec<Value> = entries.iter().map(entry_view).collect();
    Ok(Json(
        json!({"items": items, "next_cursor": pagination::next_cursor(&ids, limit)}),
    ))
}

fn entry_view(entry: &AuditEntry) -> Value {
    json!({
        "id": entry.id,
        "at": super::webhook_view::timestamp(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "target_kind": entry.target_kind,
        "target_id": entry.target_id,
        "before": entry.before,
        "after": entry.after,
    })
}
