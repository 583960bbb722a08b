//! When to try a delivery again: a pure function of the schedule, the attempt number,
//! what went wrong and what the receiver asked for.

use std::time::Duration;

use super::duration_text::{format_duration, parse_duration};

/// Svix / Standard Webhooks: after the immediate first try, 5 s, 5 min, 30 min, 2 h,
/// 5 h, 10 h, 10 h.
pub const DEFAULT_RETRY_SCHEDULE: &str = "5s,5m,30m,2h,5h,10h,10h";

/// The longest `Retry-After` hookcast will wait; a larger one is cut to this so a
/// receiver cannot park a delivery for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Delays before the 2nd, 3rd, … attempt. Its length is the number of retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl RetrySchedule {
    /// Comma-separated durations, e.g. `5s,5m,30m`; empty means "never retry".
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.trim().is_empty() {
            return Ok(RetrySchedule(Vec::new()));
        }
        raw.split(',')
            .map(parse_duration)
            .collect::<Result<Vec<_>, _>>()
            .map(RetrySchedule)
    }

    pub fn delays(&self) -> &[Duration] {
        &self.0
    }

    /// The delay after attempt number `attempts_made` (1-based) failed, or `None`
    /// when the schedule is exhausted. `jitter` is in [-1, 1] and moves the delay by up
    /// to ±20 %; `retry_after` (the receiver's own request) is honoured up to
    /// [`MAX_RETRY_AFTER`] when longer than the schedule's delay.
    pub fn delay_after(
        &self,
        attempts_made: u32,
        jitter: f64,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let index = usize::try_from(attempts_made).ok()?.checked_sub(1)?;
        let base = *self.0.get(index)?;
        let jittered = base.mul_f64(1.0 + 0.2 * jitter.clamp(-1.0, 1.0));
        Some(match retry_after {
            Some(asked) => jittered.max(asked.min(MAX_RETRY_AFTER)),
            None => jittered,
        })
    }

    /// Total number of attempts, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.0.len() as u32 + 1
    }
}

impl Default for RetrySchedule {
    fn default() -> Self {
        RetrySchedule::parse(DEFAULT_RETRY_SCHEDULE).expect("the default schedule is valid")
    }
}

impl std::fmt::Display for RetrySchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|d| format_duration(*d)).collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_standard_webhooks_schedule() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.to_string(), DEFAULT_RETRY_SCHEDULE);
        assert_eq!(schedule.max_attempts(), 8);
        assert_eq!(
            schedule.delay_after(1, 0.0, None),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            schedule.delay_after(7, 0.0, None),
            Some(Duration::from_secs(36_000))
        );
        assert_eq!(
            schedule.delay_after(8, 0.0, None),
            None,
            "exhausted after 8 attempts"
        );
        assert_eq!(schedule.delay_after(0, 0.0, None), None);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let schedule = RetrySchedule::parse("100s").unwrap();
        assert_eq!(
            schedule.delay_after(1, 1.0, None),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            schedule.delay_after(1, -1.0, None),
            Some(Duration::from_secs(80))
        );
        assert_eq!(
            schedule.delay_after(1, 7.0, None),
            Some(Duration::from_secs(120))
        );
    }

    #[test]
    fn retry_after_is_honoured_within_bounds() {
        let schedule = RetrySchedule::parse("1s").unwrap();
        let asked = Some(Duration::from_secs(30));
        assert_eq!(
            schedule.delay_after(1, 0.0, asked),
            Some(Duration::from_secs(30))
        );
        let greedy = Some(Duration::from_secs(86_400));
        assert_eq!(schedule.delay_after(1, 0.0, greedy), Some(MAX_RETRY_AFTER));
        let short = Some(Duration::from_millis(10));
        assert_eq!(
            schedule.delay_after(1, 0.0, short),
            Some(Duration::from_secs(1))
        );
    }

    #[test]
    fn bad_schedules_are_refused() {
        assert!(RetrySchedule::parse("5s,,5m").is_err());
        assert!(RetrySchedule::parse("5 minutes").is_err());
        assert_eq!(RetrySchedule::parse("").unwrap().max_attempts(), 1);
    }
}
