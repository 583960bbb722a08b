//! Health at a glance: per-webhook success rate and median latency, and attempts per
//! minute by outcome, for the console's charts.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use chrono::{Duration, DurationRound, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::problem::ApiError;
use super::state::AppState;
use super::webhook_view::timestamp;

/// Attempts read for statistics at most; beyond that the figures describe the newest.
const SAMPLE_LIMIT: usize = 200_000;

/// `GET /api/v1/stats/webhooks`: the last 24 hours, per webhook.
#[utoipa::path(get, path = "/stats/webhooks", tag = "stats", responses((status = 200, description = "Per webhook over 24 hours: attempts, success rate, latency", body = serde_json::Value)))]
pub async fn webhooks(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let since = Utc::now() - Duration::hours(24);
    let attempts = state.store.attempt_summaries(since, SAMPLE_LIMIT).await?;
    let mut per_webhook: BTreeMap<String, (u64, Vec<u64>)> = BTreeMap::new();
    for attempt in &attempts {
        let entry = per_webhook
            .entry(attempt.webhook_id.to_string())
            .or_default();
        entry.1.push(attempt.duration_ms);
        if attempt.delivered {
            entry.0 += 1;
        }
    }
    let items: Vec<Value> = per_webhook
        .into_iter()
        .map(|(webhook_id, (delivered, mut durations))| {
            durations.sort_unstable();
            let total = durations.len() as u64;
            json!({
                "webhook_id": webhook_id,
                "attempts": total,
                "delivered": delivered,
                "success_rate": delivered as f64 / total as f64,
                "median_latency_ms": durations[durations.len() / 2],
            })
        })
        .collect();
    Ok(Json(json!({"window_hours": 24, "items": items})))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MinutesQuery {
    /// How many minutes back, 60 by default.
    #[param(minimum = 1, maximum = 1440)]
    minutes: Option<i64>,
}

/// `GET /api/v1/stats/attempts-per-minute?minutes=60`: delivered and failed attempts
/// per minute, oldest first, every minute present.
#[utoipa::path(get, path = "/stats/attempts-per-minute", tag = "stats", params(MinutesQuery), responses((status = 200, description = "`{buckets: [{minute, delivered, failed}]}`", body = serde_json::Value)))]
pub async fn attempts_per_minute(
    State(state): State<AppState>,
    Query(query): Query<MinutesQuery>,
) -> Result<Json<Value>, ApiError> {
    let minutes = query.minutes.unwrap_or(60);
    if !(1..=1440).contains(&minutes) {
        return Err(ApiError::invalid("minutes", "must be between 1 and 1440"));
    }
    let now = Utc::now()
        .duration_trunc(Duration::minutes(1))
        .unwrap_or_else(|_| Utc::now());
    let first = now - Duration::minutes(minutes - 1);
    let attempts = state.store.attempt_summaries(first, SAMPLE_LIMIT).await?;
    let mut buckets: Vec<(u64, u64)> = vec![(0, 0); minutes as usize];
    for attempt in attempts {
        let index = (attempt.started_at - first).num_minutes();
        if let Some(bucket) = usize::try_from(index).ok().and_then(|i| buckets.get_mut(i)) {
            if attempt.delivered {
                bucket.0 += 1;
            } else {
                bucket.1 += 1;
            }
        }
    }
    let buckets: Vec<Value> = buckets
        .into_iter()
        .enumerate()
        .map(|(i, (delivered, failed))| {
            json!({"minute": timestamp(first + Duration::minutes(i as i64)), "delivered": delivered, "failed": failed})
        })
        .collect();
    Ok(Json(json!({ "buckets": buckets })))
}

/// `GET /api/v1/info`: what the console shows in its header.
#[utoipa::path(get, path = "/info", tag = "stats", responses((status = 200, description = "Version and display time zone", body = serde_json::Value)))]
pub async fn info(State(state): State<AppState>) -> Json<Value> {
    let zone = &state.delivery.time_zone;
    Json(json!({
        "version": crate::VERSION,
        "time_zone": zone.label(),
        "time_zone_offset_minutes": zone.offset_seconds() / 60,
    }))
}
