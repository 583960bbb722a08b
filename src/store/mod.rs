//! Persistence. [`Store`] speaks in domain types; each backend implements it over its
//! own SQL and migrations (SQLite today). Secrets are sealed before they reach SQL.

mod sealing;
mod sqlite;
mod webhook_codec;

pub use sealing::{SealError, Sealer};
pub use sqlite::SqliteStore;

use async_trait::async_trait;

use crate::domain::ids::WebhookId;
use crate::domain::webhook::Webhook;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("another webhook already has this name")]
    NameTaken,
    #[error("no such record")]
    NotFound,
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Succeeds when the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Stores a new webhook and its subscriptions in one transaction.
    /// [`StoreError::NameTaken`] when the name is in use.
    async fn insert_webhook(&self, webhook: &Webhook) -> Result<(), StoreError>;

    /// Replaces a stored webhook (matched by id) and its subscriptions.
    async fn update_webhook(&self, webhook: &Webhook) -> Result<(), StoreError>;

    async fn get_webhook(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError>;

    /// All webhooks, oldest first.
    async fn list_webhooks(&self) -> Result<Vec<Webhook>, StoreError>;

    /// True when a webhook was deleted.
    async fn delete_webhook(&self, id: &WebhookId) -> Result<bool, StoreError>;
}
