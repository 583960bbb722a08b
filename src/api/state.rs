//! What every handler can reach.

use std::sync::Arc;

use crate::domain::catalog::Catalog;
use crate::domain::secret::Secret;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// The token that grants full access to the API.
    pub admin_token: Arc<Secret>,
    pub catalog: &'static Catalog,
}
