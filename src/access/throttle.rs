//! Slows down repeated failed authentication from one address.
//!
//! The first [`FREE_FAILURES`] failures in a [`WINDOW`] cost nothing (a mistyped
//! token); each one after waits twice as long as the one before, up to [`MAX_DELAY`].

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const FREE_FAILURES: u32 = 5;
pub const WINDOW: Duration = Duration::from_secs(60);
pub const FIRST_DELAY: Duration = Duration::from_millis(100);
pub const MAX_DELAY: Duration = Duration::from_secs(5);
/// Addresses remembered at most; past it the oldest windows are dropped, so a flood
/// from many addresses cannot grow the map without bound.
const MAX_ADDRESSES: usize = 10_000;

#[derive(Default)]
pub struct FailureThrottle {
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl FailureThrottle {
    /// Records a failure from `client` at `now`; returns how long to wait before answering.
    pub fn failed(&self, client: IpAddr, now: Instant) -> Duration {
        let mut failures = self.failures.lock().expect("throttle lock");
        if failures.len() >= MAX_ADDRESSES {
            failures.retain(|_, (since, _)| now.duration_since(*since) < WINDOW);
        }
        let entry = failures.entry(client).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        let over = entry.1.saturating_sub(FREE_FAILURES);
        if over == 0 {
            return Duration::ZERO;
        }
        FIRST_DELAY
            .saturating_mul(2u32.saturating_pow(over - 1))
            .min(MAX_DELAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_past_the_free_ones_wait_longer_each_time_until_the_window_ends() {
        let throttle = FailureThrottle::default();
        let client = IpAddr::from([192, 0, 2, 1]);
        let start = Instant::now();
        for _ in 0..FREE_FAILURES {
            assert_eq!(throttle.failed(client, start), Duration::ZERO);
        }
        assert_eq!(throttle.failed(client, start), FIRST_DELAY);
        assert_eq!(throttle.failed(client, start), FIRST_DELAY * 2);
        for _ in 0..20 {
            throttle.failed(client, start);
        }
        assert_eq!(throttle.failed(client, start), MAX_DELAY);
        // Another address is not affected; the window's end forgives.
        assert_eq!(
            throttle.failed(IpAddr::from([192, 0, 2, 2]), start),
            Duration::ZERO
        );
        assert_eq!(throttle.failed(client, start + WINDOW), Duration::ZERO);
    }
}
