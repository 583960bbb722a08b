//! What a batch of attempt results asks of the webhooks' health, shared by both stores.

use super::{AttemptRecord, WebhookHealth};

/// One change to one webhook's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthChange<'a> {
    /// Start the webhook's failing clock if it is not running; disable the webhook if
    /// the clock has run since before `disable_if_failing_since` (unix ms).
    Failing {
        webhook: &'a str,
        disable_if_failing_since: i64,
    },
    /// Disable the webhook now (it answered 410 Gone).
    Gone { webhook: &'a str },
}

/// The failures and gones in a batch, one per webhook and kind, in the order they first
/// appear. A webhook that timed out on a hundred deliveries of one batch needs its
/// failing clock started and its window checked once, against the latest failure's
/// window, not a hundred times: on PostgreSQL each is a round trip inside the results
/// transaction, and each rewrite of the webhook's row leaves a dead row version until
/// vacuum. (No bench line moved with this; it saves work, see BENCHMARKS.md.)
pub fn health_changes(records: &[AttemptRecord]) -> Vec<HealthChange<'_>> {
    let mut changes: Vec<HealthChange<'_>> = Vec::new();
    for record in records {
        let webhook = record.webhook_id.as_str();
        match record.health {
            WebhookHealth::Unchanged | WebhookHealth::Healthy => {}
            WebhookHealth::Failing {
                disable_if_failing_since,
            } => {
                let threshold = disable_if_failing_since.timestamp_millis();
                let seen = changes.iter_mut().find_map(|change| match change {
                    HealthChange::Failing {
                        webhook: w,
                        disable_if_failing_since,
                    } if *w == webhook => Some(disable_if_failing_since),
                    _ => None,
                });
                match seen {
                    Some(latest) => *latest = (*latest).max(threshold),
                    None => changes.push(HealthChange::Failing {
                        webhook,
                        disable_if_failing_since: threshold,
                    }),
                }
            }
            WebhookHealth::Gone => {
                let change = HealthChange::Gone { webhook };
                if !changes.contains(&change) {
                    changes.push(change);
                }
            }
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::domain::delivery::{Attempt, DeliveryStatus, LoggedRequest};
    use crate::domain::ids::{AttemptId, DeliveryId, WebhookId};

    fn record(webhook: &WebhookId, health: WebhookHealth) -> AttemptRecord {
        AttemptRecord {
            attempt: Attempt {
                id: AttemptId::generate(),
                delivery_id: DeliveryId::generate(),
                number: 1,
                started_at: Utc::now(),
                duration_ms: 1,
                request: LoggedRequest {
                    method: "POST".into(),
                    url: "http://127.0.0.1/".into(),
                    headers: Vec::new(),
                    body: String::new(),
                },
                response_status: None,
                response_headers: Vec::new(),
                response_body: None,
                error_kind: None,
                error_message: None,
            },
            webhook_id: webhook.clone(),
            owner: None,
            status: DeliveryStatus::Retrying,
            next_attempt_at: None,
            last_error: None,
            health,
        }
    }

    fn failing(ms: i64) -> WebhookHealth {
        WebhookHealth::Failing {
            disable_if_failing_since: DateTime::from_timestamp_millis(ms).unwrap(),
        }
    }

    #[test]
    fn one_change_per_webhook_and_kind_with_the_latest_window_in_first_seen_order() {
        let (a, b) = (WebhookId::generate(), WebhookId::generate());
        let records = vec![
            record(&b, failing(1_000)),
            record(&a, WebhookHealth::Healthy),
            record(&a, failing(3_000)),
            record(&b, failing(5_000)),
            record(&a, WebhookHealth::Gone),
            record(&b, failing(2_000)),
            record(&a, WebhookHealth::Gone),
            record(&a, WebhookHealth::Unchanged),
        ];
        assert_eq!(
            health_changes(&records),
            vec![
                HealthChange::Failing {
                    webhook: b.as_str(),
                    disable_if_failing_since: 5_000
                },
                HealthChange::Failing {
                    webhook: a.as_str(),
                    disable_if_failing_since: 3_000
                },
                HealthChange::Gone {
                    webhook: a.as_str()
                },
            ]
        );
    }

    #[test]
    fn healthy_and_test_sends_change_nothing_here() {
        let a = WebhookId::generate();
        let records = vec![
            record(&a, WebhookHealth::Healthy),
            record(&a, WebhookHealth::Unchanged),
        ];
        assert!(health_changes(&records).is_empty());
    }
}
