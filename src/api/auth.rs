//! Bearer-token authentication and scopes for everything under `/api/v1`.
//!
//! A layer rather than a per-handler extractor so that no route, including one added
//! later or an unknown path, can be reached without a token. The layer also decides
//! the scope a request needs from its method and path, so a handler cannot forget
//! to check it.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;

use super::problem::ApiError;
use super::state::AppState;
use crate::domain::token::Scope;

pub use crate::access::Caller;

pub async fn require_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
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
    let Some(presented) = presented else {
        return Err(ApiError::Unauthorized);
    };
    let Some(caller) = state.access.authenticate(presented).await? else {
        // A wrong token is slowed down after a few from the same address, so guessing
        // (already hopeless against 256 random bits) cannot even be tried quickly.
        // A missing one is a client not set up yet, not a guess.
        state.access.failed_from(client).await;
        return Err(ApiError::Unauthorized);
    };
    let needed = needed_scope(request.method(), request.uri().path());
    if !caller.scopes.allows(needed) {
        return Err(ApiError::Forbidden(needed));
    }
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

/// The scope a request needs: publishing needs `publish`, reading needs `read`, and
/// everything else (changes, test sends, tokens) needs `admin`.
pub fn needed_scope(method: &Method, path: &str) -> Scope {
    // Inside the nested router the prefix is already gone; outside it is not.
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    if path == "/tokens" || path.starts_with("/tokens/") {
        return Scope::Admin;
    }
    match *method {
        Method::POST if matches!(path, "/events" | "/events/batch") => Scope::Publish,
        Method::POST if path.starts_with("/ingest/") => Scope::Publish,
        // A preview renders a message and sends nothing.
        Method::POST if path == "/webhooks/preview" => Scope::Read,
        Method::GET | Method::HEAD => Scope::Read,
        _ => Scope::Admin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishing_reading_and_changing_need_their_scopes() {
        assert_eq!(needed_scope(&Method::POST, "/events"), Scope::Publish);
        assert_eq!(
            needed_scope(&Method::POST, "/api/v1/events/batch"),
            Scope::Publish
        );
        assert_eq!(needed_scope(&Method::GET, "/events"), Scope::Read);
        assert_eq!(needed_scope(&Method::GET, "/webhooks/wh_1"), Scope::Read);
        assert_eq!(needed_scope(&Method::POST, "/webhooks"), Scope::Admin);
        assert_eq!(needed_scope(&Method::DELETE, "/webhooks/x"), Scope::Admin);
        assert_eq!(
            needed_scope(&Method::POST, "/webhooks/x/test"),
            Scope::Admin
        );
        assert_eq!(needed_scope(&Method::GET, "/tokens"), Scope::Admin);
        assert_eq!(
            needed_scope(&Method::POST, "/webhooks/preview"),
            Scope::Read
        );
    }
}
