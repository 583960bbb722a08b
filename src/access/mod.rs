//! Who may call the API: the bootstrap admin token from the settings, and the tokens
//! made through the API, each with its scopes.
//!
//! Active tokens are read from the store into memory (their hashes only) and read
//! again at most [`TOKEN_CACHE_TTL`] later, so checking a token costs no query; a
//! token made or revoked on this node counts at once, on other nodes within the TTL.

mod throttle;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::RwLock;

use crate::domain::secret::Secret;
use crate::domain::token::{Scopes, TokenHash};
use crate::store::{Store, StoreError};
pub use throttle::FailureThrottle;

/// How long another node's token changes may take to count here.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(5);

/// The name the bootstrap admin token acts under in the audit trail.
pub const BOOTSTRAP_NAME: &str = "admin (bootstrap)";

/// Who is calling: the token's name and scopes.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub scopes: Scopes,
}

struct Known {
    hash: TokenHash,
    caller: Caller,
}

struct Cache {
    tokens: Arc<Vec<Known>>,
    /// When `tokens` were read; `None` once they should be read again.
    loaded: Option<Instant>,
    /// Whether `tokens` were ever read (they may stand in while the database is away).
    read_once: bool,
}

pub struct Access {
    store: Arc<dyn Store>,
    bootstrap: TokenHash,
    cache: RwLock<Cache>,
    throttle: FailureThrottle,
}

impl Access {
    pub fn new(store: Arc<dyn Store>, bootstrap: &Secret) -> Access {
        Access {
            store,
            bootstrap: TokenHash::of(bootstrap.expose()),
            cache: RwLock::new(Cache {
                tokens: Arc::new(Vec::new()),
                loaded: None,
                read_once: false,
            }),
            throttle: FailureThrottle::default(),
        }
    }

    /// The caller a presented token stands for, `None` if it stands for nobody.
    /// Every known hash is compared, each in constant time, so the time taken says
    /// nothing about which token (or how much of one) matched.
    pub async fn authenticate(&self, presented: &str) -> Result<Option<Caller>, StoreError> {
        let hash = TokenHash::of(presented);
        // The bootstrap token needs no database: an operator can still get in (and
        // read /readyz's reasons) while it is away.
        if self.bootstrap.matches(&hash) {
            return Ok(Some(Caller {
                name: BOOTSTRAP_NAME.to_string(),
                scopes: Scopes::admin(),
            }));
        }
        let tokens = self.tokens().await?;
        let mut found = None;
        for known in tokens.iter() {
            if known.hash.matches(&hash) {
                found = Some(known.caller.clone());
            }
        }
        Ok(found)
    }

    /// Notes a failed authentication from `client`, waiting as long as the throttle says.
    pub async fn failed_from(&self, client: IpAddr) {
        let delay = self.throttle.failed(client, Instant::now());
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }

    /// Reads the tokens again on the next check (after a change on this node).
    pub async fn forget(&self) {
        self.cache.write().await.loaded = None;
    }

    async fn tokens(&self) -> Result<Arc<Vec<Known>>, StoreError> {
        {
            let cache = self.cache.read().await;
            if cache
                .loaded
                .is_some_and(|at| at.elapsed() < TOKEN_CACHE_TTL)
            {
                return Ok(cache.tokens.clone());
            }
        }
        let mut cache = self.cache.write().await;
        if cache
            .loaded
            .is_some_and(|at| at.elapsed() < TOKEN_CACHE_TTL)
        {
            return Ok(cache.tokens.clone());
        }
        let listed = match self.store.list_tokens().await {
            Ok(listed) => listed,
            // The database is away: the tokens read last still stand (a revocation
            // made meanwhile counts once it is back), rather than refusing everyone.
            Err(error) if cache.read_once => {
                tracing::warn!(%error, "cannot read the API tokens; using the ones read last");
                cache.loaded = Some(Instant::now());
                return Ok(cache.tokens.clone());
            }
            Err(error) => return Err(error),
        };
        let tokens: Vec<Known> = listed
            .into_iter()
            .filter(|t| t.revoked_at.is_none())
            .map(|t| Known {
                hash: t.hash,
                caller: Caller {
                    name: t.name,
                    scopes: t.scopes,
                },
            })
            .collect();
        cache.tokens = Arc::new(tokens);
        cache.loaded = Some(Instant::now());
        cache.read_once = true;
        Ok(cache.tokens.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::token::{self, Scope};
    use crate::store::{Sealer, SqliteStore};
    use sqlx::Connection;

    #[tokio::test]
    async fn tokens_read_last_stand_while_the_database_is_away() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("hookcast.db").display());
        let sealer = Sealer::load_or_create(None, &dir.path().join("secret.key")).unwrap();
        let store = Arc::new(
            SqliteStore::open(&url, Arc::new(sealer), false)
                .await
                .unwrap(),
        );
        let scopes = Scopes::new(vec![Scope::Publish]).unwrap();
        let (secret, record) =
            token::issue("ci".into(), scopes, "admin".into(), chrono::Utc::now());
        store.insert_token(&record, None).await.unwrap();
        let access = Access::new(store.clone(), &Secret::new("bootstrap"));
        let caller = access.authenticate(secret.expose()).await.unwrap().unwrap();
        assert_eq!(caller.name, "ci");

        // Make reading the tokens fail, as an unreachable database does.
        let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("DROP TABLE api_tokens")
            .execute(&mut other)
            .await
            .unwrap();
        access.forget().await;
        let caller = access.authenticate(secret.expose()).await.unwrap().unwrap();
        assert_eq!(caller.name, "ci", "the tokens read last");
        assert!(access.authenticate("hct_other").await.unwrap().is_none());
        let admin = access.authenticate("bootstrap").await.unwrap().unwrap();
        assert_eq!(admin.name, BOOTSTRAP_NAME);

        // Never read: the failure is reported, except for the bootstrap token.
        let fresh = Access::new(store, &Secret::new("bootstrap"));
        assert!(fresh.authenticate(secret.expose()).await.is_err());
        assert!(fresh.authenticate("bootstrap").await.unwrap().is_some());
    }
}
