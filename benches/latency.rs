//! Ingest-to-receipt latency at low load, on SQLite and on PostgreSQL.
//!
//! `cargo bench --bench latency` starts hookcast in-process with a local receiver,
//! publishes one event every 20 ms (50/s), and prints the latency from sending the
//! POST to the receiver getting the delivery: p50, p95, p99 and max.
//! PostgreSQL is taken from HOOKCAST_BENCH_POSTGRES_URL (default the local server);
//! a database `hookcast_bench_<id>` is created and dropped.

#[path = "../tests/common/receiver.rs"]
#[allow(dead_code)]
mod receiver;

use std::time::{Duration, Instant};

use hookcast::config::Settings;
use serde_json::json;
use sqlx::Connection;
use tokio_util::sync::CancellationToken;

const EVENTS: usize = 300;
const INTERVAL: Duration = Duration::from_millis(20);
const TOKEN: &str = "bench-token";

async fn measure(label: &str, database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let receiver = receiver::Receiver::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let data_dir = dir.path().display().to_string();
    let settings = Settings::load_from(None, |name| match name {
        "HOOKCAST_DATA_DIR" => Some(data_dir.clone()),
        "HOOKCAST_ADMIN_TOKEN" => Some(TOKEN.into()),
        "HOOKCAST_ALLOWED_CIDRS" => Some("127.0.0.0/8".into()),
        "HOOKCAST_DATABASE_URL" => database_url.clone(),
        _ => None,
    })
    .unwrap();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(hookcast::server::run(settings, listener, shutdown.clone()));
    let client = reqwest::Client::new();
    let base = format!("http://{address}/api/v1");
    for _ in 0..100 {
        if client
            .get(format!("http://{address}/readyz"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    client
        .post(format!("{base}/webhooks"))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "bench", "url": receiver.url(), "event_types": ["dr.host.disconnected"]}))
        .send()
        .await
        .unwrap();

    let mut sent = Vec::with_capacity(EVENTS);
    let mut next = Instant::now();
    for n in 0..EVENTS {
        tokio::time::sleep_until(next.into()).await;
        next += INTERVAL;
        let started = Instant::now();
        let reply = client
            .post(format!("{base}/events"))
            .bearer_auth(TOKEN)
            .json(&json!({"type": "dr.host.disconnected", "source": format!("h{n}"), "result": "failure"}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 202);
        sent.push(started);
    }
    let received = receiver.wait_for(EVENTS, Duration::from_secs(60)).await;
    let mut by_source = std::collections::HashMap::new();
    for request in &received {
        by_source
            .entry(
                request.json()["data"]["source"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
            .or_insert(request.at);
    }
    let mut latencies: Vec<Duration> = (0..EVENTS)
        .map(|n| by_source[&format!("h{n}")] - sent[n])
        .collect();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "{label:<11} {EVENTS} events at {}/s: p50 {:>6.2} ms  p95 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms",
        1000 / INTERVAL.as_millis(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
    );
    shutdown.cancel();
    server.await.unwrap().unwrap();
}

#[tokio::main]
async fn main() {
    hookcast::init_tls();
    measure("SQLite", None).await;
    let admin = std::env::var("HOOKCAST_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!(
        "hookcast_bench_{}",
        ulid::Ulid::generate().to_string().to_lowercase()
    );
    let mut conn = sqlx::postgres::PgConnection::connect(&admin)
        .await
        .expect("PostgreSQL for the benchmark");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(&admin)
        .to_string();
    measure("PostgreSQL", Some(format!("{base}/{name}"))).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
}
