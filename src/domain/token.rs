//! API tokens: what each may do (its scopes) and how it is kept (only a hash).
//!
//! A token is 32 random bytes, shown once when made. The store keeps its SHA-256: a
//! slow password hash would add nothing for a random 256-bit value (nobody can guess
//! one to test against the hash) and would cost every API request its time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::ids::TokenId;
use super::secret::Secret;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Everything.
    Admin,
    /// Publish events and alarms, nothing else.
    Publish,
    /// Read everything except tokens; change nothing.
    Read,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Admin, Scope::Publish, Scope::Read];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Admin => "admin",
            Scope::Publish => "publish",
            Scope::Read => "read",
        }
    }

    pub fn parse(raw: &str) -> Result<Scope, String> {
        Scope::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| format!("`{raw}` is not a scope (admin, publish or read)"))
    }
}

/// The scopes a token holds; `admin` implies the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// At least one scope, each once, in a fixed order.
    pub fn new(mut scopes: Vec<Scope>) -> Result<Scopes, String> {
        if scopes.is_empty() {
            return Err("must name at least one scope (admin, publish or read)".into());
        }
        scopes.sort();
        scopes.dedup();
        Ok(Scopes(scopes))
    }

    pub fn admin() -> Scopes {
        Scopes(vec![Scope::Admin])
    }

    pub fn allows(&self, needed: Scope) -> bool {
        self.0.contains(&Scope::Admin) || self.0.contains(&needed)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    /// `admin,read`: how the store keeps them.
    pub fn to_list(&self) -> String {
        self.0
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn from_list(list: &str) -> Result<Scopes, String> {
        Scopes::new(
            list.split(',')
                .filter(|s| !s.is_empty())
                .map(Scope::parse)
                .collect::<Result<_, _>>()?,
        )
    }
}

/// A token's record, as stored and listed; never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: TokenId,
    pub name: String,
    pub scopes: Scopes,
    /// The first characters of the token, to tell tokens apart in a list.
    pub prefix: String,
    #[serde(skip)]
    pub hash: TokenHash,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// SHA-256 of a token.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenHash(pub [u8; 32]);

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHash(…)")
    }
}

impl TokenHash {
    pub fn of(token: &str) -> TokenHash {
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(digest.as_ref());
        TokenHash(bytes)
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(hex: &str) -> Result<TokenHash, String> {
        if hex.len() != 64 {
            return Err("a token hash is 64 hex digits".into());
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16)
                .map_err(|_| "a token hash is 64 hex digits".to_string())?;
        }
        Ok(TokenHash(bytes))
    }

    /// Compares in constant time: how long it takes says nothing about how much matched.
    pub fn matches(&self, other: &TokenHash) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(self.0.ct_eq(&other.0))
    }
}

/// A name for a token: 1 to 100 characters, no control characters.
pub fn check_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.chars().count() > 100 {
        return Err("must be at most 100 characters".into());
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(name.to_string())
}

/// A new token and its record; the token is shown once and then only its hash is kept.
pub fn issue(
    name: String,
    scopes: Scopes,
    created_by: String,
    now: DateTime<Utc>,
) -> (Secret, ApiToken) {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let token = format!("hct_{}", URL_SAFE_NO_PAD.encode(bytes));
    let record = ApiToken {
        id: TokenId::generate(),
        name,
        scopes,
        prefix: token[..12].to_string(),
        hash: TokenHash::of(&token),
        created_at: now,
        created_by,
        revoked_at: None,
    };
    (Secret::new(token), record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_allows_everything_and_others_only_themselves() {
        let admin = Scopes::admin();
        assert!(Scope::ALL.iter().all(|s| admin.allows(*s)));
        let publish = Scopes::new(vec![Scope::Publish]).unwrap();
        assert!(publish.allows(Scope::Publish));
        assert!(!publish.allows(Scope::Read));
        assert!(!publish.allows(Scope::Admin));
    }

    #[test]
    fn scopes_round_trip_through_their_list() {
        let scopes = Scopes::new(vec![Scope::Read, Scope::Publish, Scope::Read]).unwrap();
        assert_eq!(scopes.to_list(), "publish,read");
        assert_eq!(Scopes::from_list("publish,read").unwrap(), scopes);
        assert!(Scopes::from_list("").is_err());
        assert!(Scopes::from_list("root").unwrap_err().contains("root"));
    }

    #[test]
    fn an_issued_token_matches_its_hash_and_no_other() {
        let (token, record) = issue("ci".into(), Scopes::admin(), "admin".into(), Utc::now());
        assert!(token.expose().starts_with("hct_"));
        assert!(record.hash.matches(&TokenHash::of(token.expose())));
        assert!(!record.hash.matches(&TokenHash::of("hct_other")));
        assert_eq!(
            TokenHash::from_hex(&record.hash.to_hex()).unwrap(),
            record.hash
        );
        assert!(token.expose().starts_with(&record.prefix));
    }
}
