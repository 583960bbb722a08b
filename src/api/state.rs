//! What every handler can reach.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::access::Access;
use crate::config::DeliverySettings;
use crate::delivery::attempt::AttemptContext;
use crate::delivery::sender::Sender;
use crate::domain::alertmanager::TypeRules;
use crate::domain::catalog::Catalog;
use crate::ingest::IngestQueue;
use crate::metrics::Metrics;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Which tokens may do what.
    pub access: Arc<Access>,
    pub catalog: &'static Catalog,
    /// Tells the dispatcher that new deliveries were committed.
    pub wake: Arc<Notify>,
    /// For the synchronous test sends.
    pub sender: Arc<Sender>,
    pub delivery: Arc<DeliverySettings>,
    /// Commits concurrent ingests together.
    pub ingest: IngestQueue,
    pub metrics: Arc<Metrics>,
    /// Which type each Alertmanager alert becomes.
    pub alert_rules: Arc<TypeRules>,
}

impl AppState {
    pub fn attempt_context(&self) -> AttemptContext<'_> {
        AttemptContext {
            sender: &self.sender,
            catalog: self.catalog,
            zone: &self.delivery.time_zone,
            default_timeout: self.delivery.default_timeout,
        }
    }
}
