//! Extra HTTP headers an operator adds to every request of a webhook.

use std::collections::BTreeMap;

use axum::http::{HeaderName, HeaderValue};
use serde::Serialize;

use super::auth::AuthConfig;
use super::validation::FieldErrors;

pub const MAX_HEADERS: usize = 32;
pub const MAX_HEADER_VALUE_BYTES: usize = 4096;

/// Why hookcast must own a header itself, or `None` when an operator may set it.
/// Hop-by-hop headers describe one connection, framing headers must match the body,
/// and the `webhook-*` headers carry the delivery id and signature.
pub fn reserved_reason(name: &str) -> Option<&'static str> {
    match name.to_ascii_lowercase().as_str() {
        "connection"
        | "keep-alive"
        | "proxy-connection"
        | "te"
        | "trailer"
        | "transfer-encoding"
        | "upgrade"
        | "proxy-authenticate"
        | "proxy-authorization" => Some("is a hop-by-hop header"),
        "host" | "content-length" | "content-type" | "expect" => {
            Some("is set by hookcast for each request")
        }
        "webhook-id" | "webhook-timestamp" | "webhook-signature" => {
            Some("carries the delivery id and signature")
        }
        _ => None,
    }
}

/// Validates a header name for use on the wire.
pub fn parse_header_name(raw: &str) -> Result<String, String> {
    HeaderName::from_bytes(raw.as_bytes())
        .map_err(|_| "is not a valid HTTP header name".to_string())?;
    if let Some(reason) = reserved_reason(raw) {
        return Err(format!("`{raw}` cannot be set: it {reason}"));
    }
    Ok(raw.to_string())
}

/// Validates a header value: visible text, no CR or LF (which would let a value
/// smuggle in another header), at most 4 KiB.
pub fn parse_header_value(raw: &str) -> Result<String, String> {
    if raw.len() > MAX_HEADER_VALUE_BYTES {
        return Err(format!("must be at most {MAX_HEADER_VALUE_BYTES} bytes"));
    }
    if raw.contains(['\r', '\n']) {
        return Err("must not contain CR or LF".into());
    }
    HeaderValue::from_str(raw).map_err(|_| "must not contain control characters".to_string())?;
    Ok(raw.to_string())
}

/// Header name → value, as the operator spelled the names; unique ignoring case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CustomHeaders(BTreeMap<String, String>);

impl CustomHeaders {
    /// Checks every entry against the rules above and against the header the chosen
    /// auth type writes (two writers of `Authorization` would be ambiguous).
    pub fn parse(
        raw: BTreeMap<String, String>,
        auth: Option<&AuthConfig>,
        errors: &mut FieldErrors,
    ) -> CustomHeaders {
        if raw.len() > MAX_HEADERS {
            errors.push(
                "headers",
                format!("at most {MAX_HEADERS} headers are allowed"),
            );
        }
        let auth_header = auth.and_then(AuthConfig::header_name);
        let mut seen = std::collections::HashSet::new();
        let mut headers = BTreeMap::new();
        for (name, value) in raw {
            let field = format!("headers.{name}");
            let Some(valid_name) = errors.check(&field, parse_header_name(&name)) else {
                continue;
            };
            if auth_header.is_some_and(|h| h.eq_ignore_ascii_case(&name)) {
                errors.push(&field, format!("`{name}` is already set by the auth type"));
                continue;
            }
            if !seen.insert(name.to_ascii_lowercase()) {
                errors.push(&field, "is given twice (header names ignore case)");
                continue;
            }
            if let Some(valid_value) = errors.check(&field, parse_header_value(&value)) {
                headers.insert(valid_name, valid_value);
            }
        }
        CustomHeaders(headers)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::Secret;

    fn parse(pairs: &[(&str, &str)], auth: &AuthConfig) -> (CustomHeaders, Vec<String>) {
        let raw = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut errors = FieldErrors::default();
        let headers = CustomHeaders::parse(raw, Some(auth), &mut errors);
        let fields = errors.into_vec().into_iter().map(|e| e.field).collect();
        (headers, fields)
    }

    #[test]
    fn ordinary_headers_pass() {
        let (headers, errors) = parse(&[("X-Env", "prod"), ("User-Agent", "x")], &AuthConfig::None);
        assert!(errors.is_empty());
        assert_eq!(headers.iter().count(), 2);
    }

    #[test]
    fn reserved_invalid_and_injected_headers_are_named() {
        let (_, errors) = parse(
            &[
                ("Host", "evil"),
                ("Transfer-Encoding", "chunked"),
                ("bad name", "x"),
                ("X-Split", "a\r\nX-Injected: b"),
                ("Webhook-Signature", "v1,x"),
            ],
            &AuthConfig::None,
        );
        assert_eq!(
            errors,
            [
                "headers.Host",
                "headers.Transfer-Encoding",
                "headers.Webhook-Signature",
                "headers.X-Split",
                "headers.bad name",
            ]
        );
    }

    #[test]
    fn the_auth_header_belongs_to_the_auth_type() {
        let bearer = AuthConfig::Bearer {
            token: Secret::new("t"),
        };
        assert_eq!(
            parse(&[("authorization", "x")], &bearer).1,
            ["headers.authorization"]
        );
        assert!(
            parse(&[("authorization", "x")], &AuthConfig::None)
                .1
                .is_empty()
        );
        let api_key = AuthConfig::ApiKey {
            header: "X-Api-Key".into(),
            value: Secret::new("v"),
        };
        assert_eq!(
            parse(&[("x-api-key", "x")], &api_key).1,
            ["headers.x-api-key"]
        );
    }
}
