//! Bearer-token authentication for everything under `/api/v1`.
//!
//! A layer rather than a per-handler extractor so that no route, including one added
//! later or an unknown path, can be reached without a token.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use subtle::ConstantTimeEq;

use super::problem::ApiError;
use super::state::AppState;

pub async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then_some(token.trim())
        });
    let expected = state.admin_token.expose().as_bytes();
    // Constant-time comparison: the time taken must not reveal how much matched.
    match presented {
        Some(token) if bool::from(token.as_bytes().ct_eq(expected)) => Ok(next.run(request).await),
        _ => Err(ApiError::Unauthorized),
    }
}
