//! Request ids: every answer carries `x-request-id`, and every log line written while
//! serving the request names it, so a client's report can be found in the log.
//!
//! A client's own id is kept when it is short and plain (letters, digits, `-`, `_`,
//! `.`, at most 64), so ids can follow a request through a proxy; anything else is
//! replaced, so nobody can write arbitrary text into the log. Written here rather than
//! with tower-http's request-id layers because those keep any incoming value as is.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

pub const HEADER: &str = "x-request-id";
const MAX_LEN: usize = 64;

pub async fn assign(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .filter(|value| acceptable(value.as_bytes()))
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&ulid::Ulid::generate().to_string())
                .expect("a ULID is a valid header value")
        });
    request.headers_mut().insert(HEADER, id.clone());
    let mut response = next.run(request).await;
    response.headers_mut().insert(HEADER, id);
    response
}

fn acceptable(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn only_short_plain_ids_are_kept() {
        assert!(acceptable(b"01JD0Z8Q5S7K2M3N4P5Q6R7S8T"));
        assert!(acceptable(b"lb-7f3a.2_x"));
        assert!(!acceptable(b""));
        assert!(!acceptable(b"a b"));
        assert!(!acceptable(b"x\"}{\"injected\":1"));
        assert!(!acceptable("é".as_bytes()));
        assert!(!acceptable(&[b'a'; 65]));
    }
}
