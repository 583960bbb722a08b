//! Prometheus metrics, served as text at `/metrics`.
//!
//! Counters and the attempt-time histogram are kept as things happen; the queue
//! gauges are read from the database when scraped, so every node of a cluster shows
//! the same, true queue rather than its own share.

use chrono::Utc;
use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use crate::domain::delivery::{DeliveryStatus, ErrorKind};
use crate::domain::event_type::EventType;
use crate::store::{Accepted, Store, StoreError};

pub struct Metrics {
    registry: Registry,
    events_ingested: IntCounterVec,
    deliveries: IntCounterVec,
    deliveries_taken: IntCounterVec,
    attempt_seconds: Histogram,
    ssrf_refusals: IntCounter,
    webhooks_auto_disabled: IntCounter,
    queue_depth: IntGauge,
    oldest_due_age: Gauge,
    webhooks_disabled: IntGauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let events_ingested = IntCounterVec::new(
            Opts::new(
                "hookcast_events_ingested_total",
                "Events and alarms accepted (not counting repeated idempotency keys)",
            ),
            &["type", "kind"],
        )
        .expect("valid metric");
        let deliveries = IntCounterVec::new(
            Opts::new(
                "hookcast_deliveries_total",
                "Delivery attempts by webhook and the state they left the delivery in: \
                 succeeded, retrying or failed",
            ),
            &["webhook_id", "outcome"],
        )
        .expect("valid metric");
        let deliveries_taken = IntCounterVec::new(
            Opts::new(
                "hookcast_deliveries_taken_total",
                "Deliveries this node took on to attempt: handed over by the ingest path \
                 as they were stored (via=\"ingest\") or claimed from the queue \
                 (via=\"claim\")",
            ),
            &["via"],
        )
        .expect("valid metric");
        let attempt_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "hookcast_attempt_duration_seconds",
                "Time of one delivery attempt, from connecting to the end of the answer",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
        )
        .expect("valid metric");
        let ssrf_refusals = IntCounter::new(
            "hookcast_ssrf_refusals_total",
            "Attempts refused because the target address is internal (the SSRF guard)",
        )
        .expect("valid metric");
        let webhooks_auto_disabled = IntCounter::new(
            "hookcast_webhooks_auto_disabled_total",
            "Webhooks this node disabled after failing too long",
        )
        .expect("valid metric");
        let queue_depth = IntGauge::new(
            "hookcast_queue_depth",
            "Deliveries not finished: pending, retrying or in flight",
        )
        .expect("valid metric");
        let oldest_due_age = Gauge::new(
            "hookcast_queue_oldest_due_age_seconds",
            "How long the earliest due delivery has been due (0 when none is)",
        )
        .expect("valid metric");
        let webhooks_disabled =
            IntGauge::new("hookcast_webhooks_disabled", "Webhooks currently disabled")
                .expect("valid metric");
        for collector in [
            Box::new(events_ingested.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(deliveries.clone()),
            Box::new(deliveries_taken.clone()),
            Box::new(attempt_seconds.clone()),
            Box::new(ssrf_refusals.clone()),
            Box::new(webhooks_auto_disabled.clone()),
            Box::new(queue_depth.clone()),
            Box::new(oldest_due_age.clone()),
            Box::new(webhooks_disabled.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric names are unique");
        }
        Metrics {
            registry,
            events_ingested,
            deliveries,
            deliveries_taken,
            attempt_seconds,
            ssrf_refusals,
            webhooks_auto_disabled,
            queue_depth,
            oldest_due_age,
            webhooks_disabled,
        }
    }

    /// Counts accepted events by type, leaving out repeated idempotency keys.
    pub fn events_accepted(&self, types: &[Option<&EventType>], accepted: &[Accepted]) {
        for (event_type, accepted) in types.iter().zip(accepted) {
            if let (Some(t), false) = (event_type, accepted.duplicate) {
                self.events_ingested
                    .with_label_values(&[t.code.as_str(), t.kind.as_str()])
                    .inc();
            }
        }
    }

    /// Counts deliveries taken on `via` the ingest hand-off or a claim.
    pub fn deliveries_taken(&self, via: &str, count: usize) {
        if count > 0 {
            self.deliveries_taken
                .with_label_values(&[via])
                .inc_by(count as u64);
        }
    }

    pub fn attempt_finished(
        &self,
        webhook_id: &str,
        next: DeliveryStatus,
        error: Option<ErrorKind>,
        duration_ms: u64,
    ) {
        self.deliveries
            .with_label_values(&[webhook_id, next.as_str()])
            .inc();
        self.attempt_seconds.observe(duration_ms as f64 / 1000.0);
        if error == Some(ErrorKind::Blocked) {
            self.ssrf_refusals.inc();
        }
    }

    pub fn webhook_auto_disabled(&self) {
        self.webhooks_auto_disabled.inc();
    }

    /// The text exposition, with the queue gauges read from `store` now.
    pub async fn render(&self, store: &dyn Store) -> Result<String, StoreError> {
        let stats = store.queue_stats().await?;
        self.queue_depth.set(stats.depth as i64);
        self.webhooks_disabled.set(stats.disabled_webhooks as i64);
        let age = stats
            .oldest_due
            .map(|due| (Utc::now() - due).num_milliseconds().max(0) as f64 / 1000.0)
            .unwrap_or(0.0);
        self.oldest_due_age.set(age);
        let mut text = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut text)
            .expect("text encoding writes to memory");
        Ok(String::from_utf8(text).expect("the text format is UTF-8"))
    }
}
