//! One attempt, start to finish: render, sign, send, and judge the answer. Pure of
//! storage: the caller records what this returns.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::platform_reply::judge;
use super::render::{Recipient, render};
use super::sender::{Answer, Sender};
use super::sign::{PreparedRequest, prepare};
use crate::domain::catalog::Catalog;
use crate::domain::delivery::{Attempt, ErrorKind, LoggedRequest, Verdict};
use crate::domain::event::Event;
use crate::domain::ids::{AttemptId, DeliveryId, WebhookId};
use crate::domain::time_zone::DisplayZone;
use crate::domain::webhook::WebhookSpec;

/// What the attempt needs besides the webhook and event.
pub struct AttemptContext<'a> {
    pub sender: &'a Sender,
    pub catalog: &'a Catalog,
    pub zone: &'a DisplayZone,
    pub default_timeout: Duration,
}

pub struct AttemptOutcome {
    pub attempt: Attempt,
    pub verdict: Verdict,
    /// One line for lists and the delivery's `last_error`; `None` when delivered.
    pub summary: Option<String>,
}

/// The exact request an attempt sends (also what a preview shows).
pub fn build_request(
    context: &AttemptContext<'_>,
    spec: &WebhookSpec,
    webhook_id: Option<&WebhookId>,
    event: &Event,
    delivery_id: &DeliveryId,
    now: DateTime<Utc>,
) -> Result<PreparedRequest, String> {
    let recipient = Recipient {
        id: webhook_id,
        name: spec.name.as_str(),
        language: spec.language,
        format: spec.format,
        url: spec.url.url(),
        template: spec.template.as_ref(),
        mentions: &spec.mentions,
    };
    let zone = spec.time_zone.as_ref().unwrap_or(context.zone);
    let body = render(event, &recipient, context.catalog, zone)?;
    prepare(spec, delivery_id.as_str(), body, now)
}

pub async fn make_attempt(
    context: &AttemptContext<'_>,
    spec: &WebhookSpec,
    webhook_id: Option<&WebhookId>,
    event: &Event,
    delivery_id: &DeliveryId,
    number: u32,
) -> AttemptOutcome {
    let started_at = Utc::now();
    let deadline = spec
        .timeout
        .map(|t| Duration::from_secs(u64::from(t.get())))
        .unwrap_or(context.default_timeout);
    let mut attempt = Attempt {
        id: AttemptId::generate(),
        delivery_id: delivery_id.clone(),
        number,
        started_at,
        duration_ms: 0,
        request: LoggedRequest {
            method: "POST".into(),
            url: spec.url.as_str().to_string(),
            headers: Vec::new(),
            body: String::new(),
        },
        response_status: None,
        response_headers: Vec::new(),
        response_body: None,
        error_kind: None,
        error_message: None,
    };
    let request = match build_request(context, spec, webhook_id, event, delivery_id, started_at) {
        Ok(request) => request,
        Err(message) => {
            attempt.error_kind = Some(ErrorKind::Request);
            attempt.error_message = Some(message.clone());
            return AttemptOutcome {
                attempt,
                verdict: Verdict::Permanent,
                summary: Some(message),
            };
        }
    };
    let (outgoing, logged) = request.split();
    attempt.request = logged;
    let sent = context.sender.send(outgoing, &spec.tls, deadline).await;
    attempt.duration_ms = sent.duration.as_millis() as u64;
    let (verdict, summary) = match sent.result {
        Ok(Answer {
            status,
            headers,
            body,
            retry_after,
        }) => {
            attempt.response_headers = headers;
            let (verdict, platform_error) = judge(spec.format, status, &body, retry_after);
            attempt.response_status = Some(status);
            let summary = (verdict != Verdict::Delivered).then(|| {
                let (kind, message) = match platform_error {
                    // A 200 that carries the platform's refusal.
                    Some(message) if (200..300).contains(&status) => (ErrorKind::Platform, message),
                    Some(message) => (ErrorKind::HttpStatus, message),
                    None => (
                        ErrorKind::HttpStatus,
                        format!("the receiver answered HTTP {status}"),
                    ),
                };
                attempt.error_kind = Some(kind);
                attempt.error_message = Some(message.clone());
                message
            });
            attempt.response_body = Some(body);
            (verdict, summary)
        }
        Err(failure) => {
            attempt.error_kind = Some(failure.kind);
            attempt.error_message = Some(failure.message.clone());
            // A refused address stays refused; everything else on the way may heal.
            let verdict = match failure.kind {
                ErrorKind::Blocked | ErrorKind::Request => Verdict::Permanent,
                _ => Verdict::Retry { retry_after: None },
            };
            (verdict, Some(failure.message))
        }
    };
    AttemptOutcome {
        attempt,
        verdict,
        summary,
    }
}
