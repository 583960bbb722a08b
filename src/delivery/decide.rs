//! What happens to a delivery after an attempt: a pure function, so every rule is
//! tested without a network or a database.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::delivery::{DeliveryStatus, Verdict};
use crate::domain::retry::RetrySchedule;
use crate::store::WebhookHealth;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextState {
    pub status: DeliveryStatus,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub health: WebhookHealth,
}

/// `attempts_made` counts the attempt just finished; `jitter` is in [-1, 1].
pub fn next_state(
    verdict: Verdict,
    attempts_made: u32,
    schedule: &RetrySchedule,
    jitter: f64,
    now: DateTime<Utc>,
    disable_after: Duration,
) -> NextState {
    let failing = WebhookHealth::Failing {
        disable_if_failing_since: now
            - chrono::Duration::from_std(disable_after).unwrap_or(chrono::Duration::MAX),
    };
    let failed = NextState {
        status: DeliveryStatus::Failed,
        next_attempt_at: None,
        health: failing,
    };
    match verdict {
        Verdict::Delivered => NextState {
            status: DeliveryStatus::Succeeded,
            next_attempt_at: None,
            health: WebhookHealth::Healthy,
        },
        Verdict::Gone => NextState {
            health: WebhookHealth::Gone,
            ..failed
        },
        Verdict::Permanent => failed,
        Verdict::Retry { retry_after } => {
            match schedule.delay_after(attempts_made, jitter, retry_after) {
                Some(delay) => NextState {
                    status: DeliveryStatus::Retrying,
                    next_attempt_at: Some(
                        now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX),
                    ),
                    health: failing,
                },
                None => failed,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> RetrySchedule {
        RetrySchedule::parse("1s,2s").unwrap()
    }

    #[test]
    fn success_ends_it_and_heals_the_webhook() {
        let now = Utc::now();
        let next = next_state(
            Verdict::Delivered,
            1,
            &schedule(),
            0.0,
            now,
            Duration::from_secs(60),
        );
        assert_eq!(next.status, DeliveryStatus::Succeeded);
        assert_eq!(next.health, WebhookHealth::Healthy);
    }

    #[test]
    fn retries_follow_the_schedule_then_fail() {
        let now = Utc::now();
        let retry = Verdict::Retry { retry_after: None };
        let first = next_state(retry, 1, &schedule(), 0.0, now, Duration::from_secs(60));
        assert_eq!(first.status, DeliveryStatus::Retrying);
        assert_eq!(
            first.next_attempt_at,
            Some(now + chrono::Duration::seconds(1))
        );
        let last = next_state(retry, 3, &schedule(), 0.0, now, Duration::from_secs(60));
        assert_eq!(last.status, DeliveryStatus::Failed);
        assert_eq!(
            last.health,
            WebhookHealth::Failing {
                disable_if_failing_since: now - chrono::Duration::seconds(60)
            }
        );
    }

    #[test]
    fn permanent_and_gone_are_not_retried() {
        let now = Utc::now();
        let permanent = next_state(
            Verdict::Permanent,
            1,
            &schedule(),
            0.0,
            now,
            Duration::from_secs(60),
        );
        assert_eq!(
            (permanent.status, permanent.next_attempt_at),
            (DeliveryStatus::Failed, None)
        );
        let gone = next_state(
            Verdict::Gone,
            1,
            &schedule(),
            0.0,
            now,
            Duration::from_secs(60),
        );
        assert_eq!(gone.health, WebhookHealth::Gone);
    }
}
