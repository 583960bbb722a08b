//! A credential held in memory: it cannot be printed or serialized by accident.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// What reads show in place of a stored secret. Sending it back in an update means
/// "keep the stored value", so a client may round-trip what it read.
pub const MASK: &str = "********";

/// A password, token, API-key value or signing secret.
///
/// `Debug` prints a placeholder and there is deliberately no `Display` or `Serialize`:
/// the only way to the plaintext is [`Secret::expose`], which is easy to audit.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The plaintext, for the few places that must use it (sealing, signing, sending).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Secrets arrive in request bodies; they leave only through `expose`.
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(secret.expose(), "hunter2");
    }
}
