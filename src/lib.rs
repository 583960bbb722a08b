//! hookcast: a self-hosted WebHook notification service.
//!
//! Data flows one way: [`api`] → [`store`] → delivery (to come) → attempt log.
//!
//! - [`config`]: settings from defaults, a TOML file and `HOOKCAST_*` variables.
//! - [`domain`]: validated types (webhook, auth, event-type catalog, …).
//! - [`store`]: persistence behind one trait; SQLite in the data directory, with
//!   secrets sealed by a key kept beside it.
//! - [`api`]: the JSON API under `/api/v1` and the health probes.
//! - [`metrics`]: counters and gauges for Prometheus at `/metrics`.
//! - [`server`]: wires the parts together and runs until shutdown.
//! - [`cli`]: the `hookcast webhook …` / `hookcast event-types` client commands.

pub mod access;
pub mod admin_token;
pub mod api;
pub mod cli;
pub mod config;
pub mod console;
pub mod delivery;
pub mod domain;
mod fs_util;
pub mod ingest;
pub mod key_rotation;
pub mod metrics;
pub mod retention;
pub mod server;
pub mod store;

/// Sent as `user-agent: hookcast/<version>`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Installs the process-wide TLS crypto provider (ring). reqwest is built without a
/// default provider so that only one is compiled in; call this before building a
/// client. Safe to call more than once.
pub fn init_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
