//! The store alone: CPU time per delivery for each step of its life (ingest with its
//! fan-out, claim, recording the result), with no HTTP around it. The end-to-end line
//! of `throughput` moves by ±20 % with a shared machine's load; the CPU spent on the
//! same store work moves far less, so small changes to a store can be compared here
//! first.
//!
//! Run: `cargo bench --bench store` (HOOKCAST_BENCH_SCALE=0.1 for a quick look);
//! BENCH_STORES=sqlite (or postgres) runs one store. On PostgreSQL the CPU counted is
//! this process's and the PostgreSQL server's (every `postgres` process on the
//! machine), each printed, since most of the work happens there; the server is
//! HOOKCAST_TEST_POSTGRES_URL (default the local one), a fresh database per round.

#[path = "common/process.rs"]
mod process;

#[allow(dead_code)]
#[path = "../tests/common/postgres.rs"]
mod postgres;

#[allow(dead_code)]
#[path = "../tests/common/fixtures.rs"]
mod fixtures;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use hookcast::domain::auth::AuthConfig;
use hookcast::domain::catalog::Catalog;
use hookcast::domain::delivery::{Attempt, DeliveryStatus, LoggedRequest};
use hookcast::domain::event::{Event, EventInput};
use hookcast::domain::ids::AttemptId;
use hookcast::store::{
    AttemptRecord, ClaimRequest, ClaimedDelivery, PgStore, Sealer, SqliteStore, Store,
    WebhookHealth,
};
use serde_json::json;

/// The server's allocator (src/main.rs), so the Rust side costs here what it costs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Webhooks subscribed to the one event type: deliveries per event (one, as in the
/// end-to-end and backlog lines of `throughput`).
const WEBHOOKS: usize = 1;
/// Events per ingest transaction (the ingest committer's group size under load).
const INGEST_BATCH: usize = 100;
/// A claim's limits as `throughput` sets them (256 in flight, 128 per webhook).
const CLAIM_LIMIT: usize = 256;
const PER_WEBHOOK: usize = 128;
/// Results batches take whatever finished since the last one: under load in
/// `throughput` from one to a couple of hundred, about a hundred on average. Each size
/// is a different SQL text, so varying it here counts the statement preparation the
/// server pays too.
const RESULTS_BATCH_MAX: usize = 192;

/// Results batch sizes in 1..=RESULTS_BATCH_MAX, the same sequence every round.
fn results_batches(total: usize) -> Vec<usize> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut sizes = Vec::new();
    let mut left = total;
    while left > 0 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let size = ((state >> 33) as usize % RESULTS_BATCH_MAX + 1).min(left);
        sizes.push(size);
        left -= size;
    }
    sizes
}

fn events(n: usize, round: usize) -> Vec<Event> {
    (0..n)
        .map(|i| {
            let body = json!({
                "type": "dr.host.disconnected",
                "source": format!("host-{round}-{i}"),
                "result": "failure",
                "severity": "major",
                "attributes": {"ip": "10.0.0.7", "site": "rack 12"},
            });
            let input: EventInput = serde_json::from_value(body).unwrap();
            input
                .into_event(Catalog::builtin(), Utc::now(), "")
                .unwrap()
        })
        .collect()
}

/// A successful attempt the size of a real one: a JSON body of ~450 bytes, the
/// standard headers, a short answer.
fn success(claimed: &ClaimedDelivery) -> AttemptRecord {
    let body = format!(
        "{{\"type\":\"dr.host.disconnected\",\"timestamp\":\"2026-11-28T10:00:00Z\",\"data\":{{\"id\":\"{}\",\"source\":\"host-1\",\"severity\":\"major\",\"result\":\"failure\",\"attributes\":{{\"ip\":\"10.0.0.7\",\"site\":\"rack 12\"}},\"title\":\"Host disconnected\",\"text\":\"Host host-1 disconnected from the platform at 2026-11-28 10:00:00 (UTC); result: failure.\"}}}}",
        claimed.event.id
    );
    let id = claimed.delivery.id.to_string();
    AttemptRecord {
        attempt: Attempt {
            id: AttemptId::generate(),
            delivery_id: claimed.delivery.id.clone(),
            number: claimed.delivery.attempts + 1,
            started_at: Utc::now(),
            duration_ms: 1,
            request: LoggedRequest {
                method: "POST".into(),
                url: claimed.webhook.spec.url.url().to_string(),
                headers: vec![
                    ("content-type".into(), "application/json".into()),
                    ("user-agent".into(), "hookcast/0.1".into()),
                    ("webhook-id".into(), id),
                    ("webhook-timestamp".into(), "1795860000".into()),
                ],
                body,
            },
            response_status: Some(200),
            response_headers: vec![
                ("content-length".into(), "2".into()),
                ("date".into(), "Sat, 28 Nov 2026 10:00:00 GMT".into()),
            ],
            response_body: Some("ok".into()),
            error_kind: None,
            error_message: None,
        },
        webhook_id: claimed.webhook.id.clone(),
        owner: Some("bench".into()),
        status: DeliveryStatus::Succeeded,
        next_attempt_at: None,
        last_error: None,
        health: WebhookHealth::Healthy,
    }
}

/// One step's cost per delivery: CPU µs of this process, of the PostgreSQL server
/// (zero on SQLite), and deliveries per second of wall time.
#[derive(Clone, Copy)]
struct Step {
    cpu_here: f64,
    cpu_server: f64,
    rate: f64,
}

/// Runs `step` and measures it.
async fn measure<F: std::future::Future<Output = usize>>(backend: Backend, step: F) -> Step {
    // A PostgreSQL server idling beside an SQLite round is not counted.
    let server_cpu = || match backend {
        Backend::Sqlite => Duration::ZERO,
        Backend::Postgres => process::cpu_time_of_command("postgres"),
    };
    let (here, server) = (process::cpu_time("self"), server_cpu());
    let wall = Instant::now();
    let deliveries = step.await;
    let here = (process::cpu_time("self") - here).as_secs_f64();
    let server = (server_cpu() - server).as_secs_f64();
    let wall = wall.elapsed().as_secs_f64();
    Step {
        cpu_here: here * 1e6 / deliveries as f64,
        cpu_server: server * 1e6 / deliveries as f64,
        rate: deliveries as f64 / wall.max(1e-9),
    }
}

#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// One round on a new database: ingest, claim everything, record every result.
async fn round(backend: Backend, events_total: usize) -> [Step; 3] {
    let dir = tempfile::tempdir().unwrap();
    let sealer = Arc::new(Sealer::load_or_create(None, &dir.path().join("secret.key")).unwrap());
    // Durable, as served: the 202 waits for the disk.
    let (store, _database): (Arc<dyn Store>, Option<postgres::TestDatabase>) = match backend {
        Backend::Sqlite => {
            let url = format!("sqlite://{}", dir.path().join("hookcast.db").display());
            let store = SqliteStore::open(&url, sealer, true).await.unwrap();
            (Arc::new(store), None)
        }
        Backend::Postgres => {
            let database = postgres::TestDatabase::create()
                .await
                .expect("PostgreSQL for the store bench");
            let store = PgStore::open(&database.url, sealer, true, None)
                .await
                .unwrap();
            (Arc::new(store), Some(database))
        }
    };
    for i in 0..WEBHOOKS {
        let webhook = fixtures::webhook(
            &format!("bench-{i}"),
            "dr.host.disconnected",
            AuthConfig::None,
        );
        store.insert_webhook(&webhook, None).await.unwrap();
    }
    let batches: Vec<Vec<Event>> = (0..events_total / INGEST_BATCH)
        .map(|round| events(INGEST_BATCH, round))
        .collect();

    let ingest = measure(backend, async {
        for batch in &batches {
            store.insert_events(batch, Utc::now()).await.unwrap();
        }
        batches.len() * INGEST_BATCH * WEBHOOKS
    })
    .await;

    let mut claimed: Vec<ClaimedDelivery> = Vec::new();
    let claim = measure(backend, async {
        loop {
            let request = ClaimRequest {
                now: Utc::now(),
                limit: CLAIM_LIMIT,
                owner: "bench".into(),
                lease: Duration::from_secs(600),
                per_webhook: PER_WEBHOOK,
                webhook_room: Vec::new(),
            };
            let batch = store.claim_due(&request).await.unwrap();
            if batch.is_empty() {
                break;
            }
            claimed.extend(batch);
        }
        claimed.len()
    })
    .await;
    assert_eq!(
        claimed.len(),
        events_total / INGEST_BATCH * INGEST_BATCH * WEBHOOKS
    );

    let mut rest = claimed.as_slice();
    let records: Vec<Vec<AttemptRecord>> = results_batches(claimed.len())
        .into_iter()
        .map(|size| {
            let (chunk, after) = rest.split_at(size);
            rest = after;
            chunk.iter().map(success).collect()
        })
        .collect();
    let results = measure(backend, async {
        for chunk in &records {
            store.record_attempts(chunk, Utc::now()).await.unwrap();
        }
        claimed.len()
    })
    .await;
    // Every result was recorded (a claim lost on the way would leave work queued).
    let left = store.queue_stats().await.unwrap().depth;
    assert_eq!(
        left, 0,
        "deliveries left unfinished after recording every result"
    );
    // The store goes before its database (whose drop ends any connection left open).
    drop(store);
    [ingest, claim, results]
}

/// Five rounds on one store, and their medians.
async fn run_store(backend: Backend, events_total: usize) {
    let rounds = 5;
    let mut all: Vec<[Step; 3]> = Vec::new();
    for _ in 0..rounds {
        all.push(round(backend, events_total).await);
    }
    let (label, cpu_columns) = match backend {
        Backend::Sqlite => ("SQLite", "CPU of this process"),
        Backend::Postgres => (
            "PostgreSQL",
            "CPU of this process + of the PostgreSQL server",
        ),
    };
    println!(
        "{label} store alone: {events_total} events x {WEBHOOKS} webhooks per round, {rounds} rounds; \
         {cpu_columns} per delivery (median, min) and wall rate (median)"
    );
    for (i, step) in [
        "ingest, batches of 100 events",
        "claim, up to 128 per claim",
        "record results, 1-192 per batch",
    ]
    .iter()
    .enumerate()
    {
        let median_min = |of: fn(&Step) -> f64| {
            let mut values: Vec<f64> = all.iter().map(|r| of(&r[i])).collect();
            values.sort_by(f64::total_cmp);
            (values[values.len() / 2], values[0])
        };
        let (total, total_min) = median_min(|s| s.cpu_here + s.cpu_server);
        let (rate, _) = median_min(|s| s.rate);
        let split = match backend {
            Backend::Sqlite => String::new(),
            Backend::Postgres => {
                let (here, _) = median_min(|s| s.cpu_here);
                let (server, _) = median_min(|s| s.cpu_server);
                format!("  ({here:.1} here + {server:.1} in PostgreSQL)")
            }
        };
        println!(
            "{step:<32} {total:>6.1} µs CPU (min {total_min:>5.1})  {rate:>8.0} deliveries/s{split}"
        );
    }
}

#[tokio::main]
async fn main() {
    // As the server does, before SQLite is first used.
    assert!(
        hookcast::store::route_sqlite_allocations_to_mimalloc(),
        "SQLite takes mimalloc"
    );
    let scale: f64 = std::env::var("HOOKCAST_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let events_total =
        ((50_000.0 * scale) as usize).max(INGEST_BATCH) / INGEST_BATCH * INGEST_BATCH;
    let stores = std::env::var("BENCH_STORES").unwrap_or("sqlite,postgres".into());
    for (name, backend) in [("sqlite", Backend::Sqlite), ("postgres", Backend::Postgres)] {
        if stores.contains(name) {
            run_store(backend, events_total).await;
        }
    }
    println!(
        "peak RSS of this process: {:.0} MiB",
        process::peak_rss_mib("self")
    );
}
