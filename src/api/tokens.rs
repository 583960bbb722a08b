//! `/api/v1/tokens`: make (shown once), list (never the token), revoke.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::audit::entry;
use super::auth::Caller;
use super::json_body::JsonBody;
use super::problem::ApiError;
use super::state::AppState;
use crate::domain::ids::TokenId;
use crate::domain::token::{self, ApiToken, Scope, Scopes};
use crate::domain::validation::FieldError;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    #[schema(example = "monitoring")]
    name: String,
    #[schema(value_type = Vec<Scope>)]
    scopes: Vec<String>,
}

#[utoipa::path(post, path = "/tokens", tag = "tokens", request_body = NewToken, responses((status = 201, description = "The token, shown this once", body = serde_json::Value), (status = 409, description = "Another token has this name", body = crate::api::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(input): JsonBody<NewToken>,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let name = token::check_name(&input.name)
        .map_err(|message| errors.push(FieldError::new("name", message)))
        .ok();
    let scopes = input
        .scopes
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            Scope::parse(raw).map_err(|message| FieldError::new(format!("scopes[{i}]"), message))
        })
        .collect::<Result<Vec<_>, _>>()
        .and_then(|scopes| Scopes::new(scopes).map_err(|m| FieldError::new("scopes", m)))
        .map_err(|error| errors.push(error))
        .ok();
    let (Some(name), Some(scopes)) = (name, scopes) else {
        return Err(ApiError::Validation(errors));
    };
    let (secret, record_) = token::issue(name, scopes, caller.name.clone(), Utc::now());
    let view = token_view(&record_);
    let audit = entry(
        &caller,
        "token.create",
        record_.id.as_str(),
        None,
        Some(view.clone()),
    );
    state.store.insert_token(&record_, Some(&audit)).await?;
    state.access.forget().await;
    tracing::info!(token_id = %record_.id, name = %record_.name, "token created");
    let mut shown = view;
    // The only time the token itself is ever shown.
    shown["token"] = Value::String(secret.expose().to_string());
    Ok((StatusCode::CREATED, Json(shown)).into_response())
}

#[utoipa::path(get, path = "/tokens", tag = "tokens", responses((status = 200, description = "`{items}`: names, scopes, dates; never the token", body = serde_json::Value)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let items: Vec<Value> = state
        .store
        .list_tokens()
        .await?
        .iter()
        .map(token_view)
        .collect();
    Ok(Json(json!({ "items": items })))
}

#[utoipa::path(delete, path = "/tokens/{id}", tag = "tokens", params(("id" = String, Path, description = "token id")), responses((status = 204, description = "Revoked")))]
pub async fn revoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = TokenId::parse(&id).map_err(|_| ApiError::NotFound("token"))?;
    let now = Utc::now();
    // The entry needs the token as it is; the store writes it only if this revokes it.
    let Some(current) = state
        .store
        .list_tokens()
        .await?
        .into_iter()
        .find(|t| t.id == id)
    else {
        return Err(ApiError::NotFound("token"));
    };
    let mut after = current.clone();
    after.revoked_at = Some(now);
    let audit = entry(
        &caller,
        "token.revoke",
        id.as_str(),
        Some(token_view(&current)),
        Some(token_view(&after)),
    );
    let Some(before) = state.store.revoke_token(&id, now, Some(&audit)).await? else {
        return Err(ApiError::NotFound("token"));
    };
    state.access.forget().await;
    if before.revoked_at.is_none() {
        tracing::info!(token_id = %id, "token revoked");
    }
    Ok(StatusCode::NO_CONTENT)
}

fn token_view(token: &ApiToken) -> Value {
    json!({
        "id": token.id,
        "name": token.name,
        "scopes": token.scopes,
        "prefix": token.prefix,
        "created_at": super::webhook_view::timestamp(token.created_at),
        "created_by": token.created_by,
        "revoked_at": token.revoked_at.map(super::webhook_view::timestamp),
    })
}
