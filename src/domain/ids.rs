//! Prefixed, time-ordered identifiers (`wh_…`, `evt_…`, `msg_…`): the prefix says what
//! an id names, the lowercase ULID body sorts by creation time, so "newest first" is
//! "largest id first".

/// The next ULID of this process, larger than every one before it, also within one
/// millisecond (where plain ULIDs fall in random order): ids made one after another
/// list in the order they were made, e.g. webhooks created in the same millisecond.
pub fn next_ulid() -> ulid::Ulid {
    static GENERATOR: std::sync::Mutex<ulid::Generator> =
        std::sync::Mutex::new(ulid::Generator::new());
    let mut generator = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    // Overflow takes 2^80 ids within one millisecond.
    generator
        .generate()
        .unwrap_or_else(|_| ulid::Ulid::generate())
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn generate() -> Self {
                $name(format!("{}{}", $prefix, $crate::domain::ids::next_ulid().to_string().to_lowercase()))
            }

            /// Accepts what `generate` makes, nothing else.
            pub fn parse(raw: &str) -> Result<Self, String> {
                let body = raw
                    .strip_prefix($prefix)
                    .ok_or_else(|| format!("must start with `{}`", $prefix))?;
                ulid::Ulid::from_string(body).map_err(|_| format!("is not {}", $what))?;
                Ok($name(raw.to_lowercase()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(
    /// A webhook.
    WebhookId, "wh_", "a webhook id"
);
prefixed_id!(
    /// A published event or alarm.
    EventId, "evt_", "an event id"
);
prefixed_id!(
    /// One (event, webhook) delivery; sent as `webhook-id` and unchanged across retries,
    /// so receivers can de-duplicate on it.
    DeliveryId, "msg_", "a delivery id"
);
prefixed_id!(
    /// One HTTP try of a delivery.
    AttemptId, "att_", "an attempt id"
);
prefixed_id!(
    /// An API token (its record, never the token itself).
    TokenId, "tok_", "a token id"
);
prefixed_id!(
    /// One entry of the audit trail.
    AuditId, "aud_", "an audit entry id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back() {
        let id = WebhookId::generate();
        assert!(id.as_str().starts_with("wh_"));
        assert_eq!(WebhookId::parse(id.as_str()).unwrap(), id);
        let delivery = DeliveryId::generate();
        assert!(delivery.as_str().starts_with("msg_"));
        assert_eq!(DeliveryId::parse(delivery.as_str()).unwrap(), delivery);
    }

    #[test]
    fn ids_made_in_a_row_sort_in_that_order() {
        let ids: Vec<WebhookId> = (0..10_000).map(|_| WebhookId::generate()).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn later_ids_sort_after_earlier_ones() {
        let first = EventId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(EventId::generate() > first);
    }

    #[test]
    fn foreign_strings_are_refused() {
        assert!(WebhookId::parse("evt_01hzzzzzzzzzzzzzzzzzzzzzzz").is_err());
        assert!(WebhookId::parse("wh_not-a-ulid").is_err());
        assert!(EventId::parse("").is_err());
    }
}
