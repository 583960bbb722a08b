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
    loaded: Option<Instant>,
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
            }),
            throttle: FailureThrottle::default(),
        }
    }

    /// The caller a presented token stands for, `None` if it stands for nobody.
    /// Every known hash is compared, each in constant time, so the time taken says
    /// nothing about which token (or how much of one) matched.
    pub async fn authenticate(&self, presented: &str) -> Result<Option<Caller>, StoreError> {
        let hash = TokenHash::of(presented);
        let tokens = self.tokens().await?;
        let mut found = None;
        if self.bootstrap.matches(&hash) {
            found = Some(Caller {
                name: BOOTSTRAP_NAME.to_string(),
                scopes: Scopes::admin(),
            });
        }
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
        let tokens: Vec<Known> = self
            .store
            .list_tokens()
            .await?
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
        Ok(cache.tokens.clone())
    }
}
