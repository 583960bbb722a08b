//! A JSON body extractor whose errors name the offending field.
//!
//! axum's own `Json` answers bad input with plain text; clients of this API get
//! problem+json with the JSON path of the field (`auth.password`, `headers.X-A`).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use super::problem::ApiError;

/// The largest request body the API reads (1 MiB); a longer one is answered 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json")
                    || mime.to_ascii_lowercase().ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::TooLarge(MAX_BODY_BYTES)
                } else {
                    ApiError::MalformedBody(rejection.body_text())
                }
            })?;
        parse(&bytes).map(JsonBody)
    }
}

/// Syntax errors are 400 (not JSON); type and unknown-field errors are 422 naming
/// the path.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." {
                    "body".to_string()
                } else {
                    path
                };
                ApiError::invalid(field, strip_position(&inner.to_string()))
            }
            _ => ApiError::MalformedBody(inner.to_string()),
        }
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::MalformedBody(e.to_string()))?;
    Ok(value)
}

/// serde_json appends " at line 1 column 42"; the field path already says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: Option<String>,
        headers: Option<BTreeMap<String, String>>,
    }

    fn field_of(error: ApiError) -> String {
        match error {
            ApiError::Validation(errors) => errors[0].field.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn type_errors_name_the_path() {
        let error = parse::<Sample>(br#"{"headers":{"X-A":5}}"#).unwrap_err();
        assert_eq!(field_of(error), "headers.X-A");
        let error = parse::<Sample>(br#"{"name":42}"#).unwrap_err();
        assert_eq!(field_of(error), "name");
    }

    #[test]
    fn unknown_fields_are_named() {
        let ApiError::Validation(errors) = parse::<Sample>(br#"{"nmae":"x"}"#).unwrap_err() else {
            panic!("expected validation error")
        };
        assert!(errors[0].message.contains("nmae"), "{:?}", errors);
    }

    #[test]
    fn broken_json_is_a_malformed_body() {
        assert!(matches!(
            parse::<Sample>(b"{\"name\":"),
            Err(ApiError::MalformedBody(_))
        ));
        assert!(matches!(
            parse::<Sample>(b"{} trailing"),
            Err(ApiError::MalformedBody(_))
        ));
    }
}
