//! The webhook's display name: what operators see in the list and pick in the CLI.

use std::fmt;

use serde::Serialize;

pub const MAX_NAME_CHARS: usize = 64;

/// 1 to 64 characters after trimming, no control characters. Uniqueness is the
/// store's job (it needs every other name to decide).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct WebhookName(String);

impl WebhookName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars == 0 {
            return Err("must not be empty".into());
        }
        if chars > MAX_NAME_CHARS {
            return Err(format!(
                "must be at most {MAX_NAME_CHARS} characters (got {chars})"
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(WebhookName(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WebhookName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_chinese_names_by_characters_not_bytes() {
        let name = "飞书告警".repeat(16); // 64 characters, 192 bytes
        assert!(WebhookName::parse(&name).is_ok());
        assert!(WebhookName::parse(&format!("{name}x")).is_err());
    }

    #[test]
    fn trims_and_refuses_blank_or_control() {
        assert_eq!(WebhookName::parse("  test ").unwrap().as_str(), "test");
        assert!(WebhookName::parse("   ").is_err());
        assert!(WebhookName::parse("a\nb").is_err());
    }
}
