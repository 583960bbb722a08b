//! Deliveries (one per event and webhook) and their attempts (one per HTTP try).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{AttemptId, DeliveryId, EventId, WebhookId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not tried yet (or put back by a manual retry).
    Pending,
    /// Tried, failed, and scheduled to be tried again.
    Retrying,
    Succeeded,
    /// Permanent error or retries exhausted.
    Failed,
}

impl DeliveryStatus {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "pending" => Ok(DeliveryStatus::Pending),
            "retrying" => Ok(DeliveryStatus::Retrying),
            "succeeded" => Ok(DeliveryStatus::Succeeded),
            "failed" => Ok(DeliveryStatus::Failed),
            other => Err(format!(
                "must be pending, retrying, succeeded or failed, not `{other}`"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Retrying => "retrying",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub event_id: EventId,
    pub webhook_id: WebhookId,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// When the next try is due; `None` once final (or while the webhook is disabled).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What kind of thing went wrong with an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The host name did not resolve.
    Dns,
    /// No TCP connection (refused, unreachable, reset).
    Connect,
    Tls,
    /// The attempt's deadline passed.
    Timeout,
    /// The SSRF guard refused the address.
    Blocked,
    /// The receiver answered with a non-success HTTP status.
    HttpStatus,
    /// A chat platform answered 200 with an error code in the body.
    Platform,
    /// The request could not be built (for example a header the receiver's URL cannot carry).
    Request,
}

impl ErrorKind {
    pub fn parse(raw: &str) -> Result<Self, String> {
        Ok(match raw {
            "dns" => ErrorKind::Dns,
            "connect" => ErrorKind::Connect,
            "tls" => ErrorKind::Tls,
            "timeout" => ErrorKind::Timeout,
            "blocked" => ErrorKind::Blocked,
            "http_status" => ErrorKind::HttpStatus,
            "platform" => ErrorKind::Platform,
            "request" => ErrorKind::Request,
            other => return Err(format!("unknown error kind `{other}`")),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Dns => "dns",
            ErrorKind::Connect => "connect",
            ErrorKind::Tls => "tls",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Blocked => "blocked",
            ErrorKind::HttpStatus => "http_status",
            ErrorKind::Platform => "platform",
            ErrorKind::Request => "request",
        }
    }
}

/// The request as it is logged: secrets replaced by the mask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// One HTTP try and what came of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id: AttemptId,
    pub delivery_id: DeliveryId,
    /// 1 for the first try.
    pub number: u32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub request: LoggedRequest,
    pub response_status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
    /// At most [`STORED_BODY_LIMIT`] bytes of the response body.
    pub response_body: Option<String>,
    pub error_kind: Option<ErrorKind>,
    pub error_message: Option<String>,
}

/// Bytes of a response body read from a receiver; the rest is not read.
pub const READ_BODY_LIMIT: usize = 64 * 1024;
/// Bytes of a response (or request) body kept in the attempt log.
pub const STORED_BODY_LIMIT: usize = 16 * 1024;

/// What an attempt's result means for the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// Worth trying again; the receiver may have said when.
    Retry {
        retry_after: Option<Duration>,
    },
    /// Trying again would fail the same way.
    Permanent,
    /// 410 Gone: permanent, and the webhook is disabled.
    Gone,
}

impl Verdict {
    /// The rule for an HTTP status: 2xx delivered; 408, 425, 429 and 5xx retried; 410
    /// gone; every other 3xx and 4xx permanent.
    pub fn for_status(status: u16, retry_after: Option<Duration>) -> Verdict {
        match status {
            200..=299 => Verdict::Delivered,
            410 => Verdict::Gone,
            408 | 425 | 429 | 500..=599 => Verdict::Retry { retry_after },
            _ => Verdict::Permanent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_verdicts() {
        assert_eq!(Verdict::for_status(204, None), Verdict::Delivered);
        assert_eq!(Verdict::for_status(301, None), Verdict::Permanent);
        assert_eq!(Verdict::for_status(400, None), Verdict::Permanent);
        assert_eq!(Verdict::for_status(410, None), Verdict::Gone);
        for retried in [408, 425, 429, 500, 503] {
            assert!(
                matches!(Verdict::for_status(retried, None), Verdict::Retry { .. }),
                "{retried}"
            );
        }
    }

    #[test]
    fn names_round_trip() {
        for status in ["pending", "retrying", "succeeded", "failed"] {
            assert_eq!(DeliveryStatus::parse(status).unwrap().as_str(), status);
        }
        for kind in [
            "dns",
            "connect",
            "tls",
            "timeout",
            "blocked",
            "http_status",
            "platform",
            "request",
        ] {
            assert_eq!(ErrorKind::parse(kind).unwrap().as_str(), kind);
        }
    }
}
