//! Errors as `application/problem+json` (RFC 9457), with a list of field errors for
//! validation problems. Unexpected failures are logged with their cause and answered
//! with a generic message: internals (and anything secret in them) stay in the log.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::token::Scope;
use crate::domain::validation::FieldError;
use crate::store::StoreError;

#[derive(Debug)]
pub enum ApiError {
    /// No or wrong bearer token.
    Unauthorized,
    /// A valid token without the scope the route needs.
    Forbidden(Scope),
    /// The body is longer than the limit (bytes).
    TooLarge(usize),
    /// The addressed resource does not exist.
    NotFound(&'static str),
    /// The body is not JSON at all.
    MalformedBody(String),
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The body is JSON but fields are invalid.
    Validation(Vec<FieldError>),
    /// The request conflicts with stored state (a taken name).
    Conflict(FieldError),
    /// The database is unreachable right now.
    Unavailable,
    /// Anything else: a bug or damaged data.
    Internal(String),
}

/// The body of every error answer; also the `Problem` schema of the OpenAPI document.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub struct ProblemBody {
    /// A `urn:hookcast:problem:…` name of the kind of problem.
    #[serde(rename = "type")]
    problem_type: &'static str,
    title: &'static str,
    /// The HTTP status, repeated.
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    /// For validation problems: each field that is wrong and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NameTaken => ApiError::Conflict(FieldError::new(
                "name",
                "another webhook already has this name",
            )),
            StoreError::TokenNameTaken => ApiError::Conflict(FieldError::new(
                "name",
                "another token already has this name",
            )),
            StoreError::NotFound => ApiError::NotFound("webhook"),
            StoreError::Database(error) if database_unavailable(&error) => ApiError::Unavailable,
            // Only after the ingest committer's own tries: publishing again will do.
            StoreError::SubscriberGone => ApiError::Unavailable,
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// The database is away (restarting, unreachable, refusing connections), as opposed
/// to a query that is wrong: the client should try again shortly.
fn database_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE classes 08 (connection exception), 53 (insufficient resources) and
        // 57 (operator intervention: shutdown, restart).
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || code.starts_with("53") || code.starts_with("57")
        }),
        _ => false,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, problem_type, title, detail, errors) = match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "urn:hookcast:problem:unauthorized",
                "Unauthorized",
                Some("send `Authorization: Bearer <token>` with a valid API token".to_string()),
                vec![],
            ),
            ApiError::Forbidden(scope) => (
                StatusCode::FORBIDDEN,
                "urn:hookcast:problem:forbidden",
                "Forbidden",
                Some(format!(
                    "this token lacks the `{}` scope this request needs",
                    scope.as_str()
                )),
                vec![],
            ),
            ApiError::TooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "urn:hookcast:problem:too-large",
                "The request body is too large",
                Some(format!("send at most {limit} bytes")),
                vec![],
            ),
            ApiError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                "urn:hookcast:problem:not-found",
                "Not found",
                Some(format!("no such {what}")),
                vec![],
            ),
            ApiError::MalformedBody(message) => (
                StatusCode::BAD_REQUEST,
                "urn:hookcast:problem:malformed-body",
                "The request body is not valid JSON",
                Some(message),
                vec![],
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "urn:hookcast:problem:unsupported-media-type",
                "Unsupported media type",
                Some("send the body as `content-type: application/json`".to_string()),
                vec![],
            ),
            ApiError::Validation(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "urn:hookcast:problem:validation",
                "Some fields are not valid",
                Some(summary(&errors)),
                errors,
            ),
            ApiError::Conflict(error) => (
                StatusCode::CONFLICT,
                "urn:hookcast:problem:conflict",
                "Conflict",
                Some(summary(std::slice::from_ref(&error))),
                vec![error],
            ),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "urn:hookcast:problem:unavailable",
                "The database is not reachable; try again shortly",
                None,
                vec![],
            ),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "urn:hookcast:problem:internal",
                    "Internal error",
                    Some("the error was logged on the server".to_string()),
                    vec![],
                )
            }
        };
        let body = ProblemBody {
            problem_type,
            title,
            status: status.as_u16(),
            detail,
            errors,
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"hookcast\""),
            );
        }
        response
    }
}

/// "name: must not be empty; url: …" — the errors in one line for simple clients.
fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}
