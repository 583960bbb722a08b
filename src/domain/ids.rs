//! Prefixed, time-ordered identifiers (`wh_…`): the prefix says what an id names, the
//! ULID body sorts by creation time.

use std::fmt;

use serde::Serialize;

/// Identifier of a webhook, `wh_` followed by a lowercase ULID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct WebhookId(String);

const WEBHOOK_PREFIX: &str = "wh_";

impl WebhookId {
    pub fn generate() -> Self {
        WebhookId(format!(
            "{WEBHOOK_PREFIX}{}",
            ulid::Ulid::generate().to_string().to_lowercase()
        ))
    }

    /// Accepts what [`WebhookId::generate`] makes, nothing else.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let body = raw
            .strip_prefix(WEBHOOK_PREFIX)
            .ok_or_else(|| format!("must start with `{WEBHOOK_PREFIX}`"))?;
        ulid::Ulid::from_string(body).map_err(|_| "is not a webhook id".to_string())?;
        Ok(WebhookId(raw.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WebhookId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back() {
        let id = WebhookId::generate();
        assert!(id.as_str().starts_with("wh_"));
        assert_eq!(WebhookId::parse(id.as_str()).unwrap(), id);
    }

    #[test]
    fn foreign_strings_are_refused() {
        assert!(WebhookId::parse("evt_01hzzzzzzzzzzzzzzzzzzzzzzz").is_err());
        assert!(WebhookId::parse("wh_not-a-ulid").is_err());
        assert!(WebhookId::parse("").is_err());
    }
}
