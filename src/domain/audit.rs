//! The audit trail: who changed what, when, with the value before and after.
//!
//! `before` and `after` are the API's own views of the record, which show every
//! secret as the mask, so the trail never holds a credential.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::ids::AuditId;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: AuditId,
    pub at: DateTime<Utc>,
    /// The name of the token that made the change.
    pub actor: String,
    /// `webhook.create`, `webhook.update`, `webhook.delete`, `webhook.enable`,
    /// `webhook.disable`, `token.create`, `token.revoke`.
    pub action: String,
    /// `webhook` or `token`.
    pub target_kind: String,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl AuditEntry {
    pub fn new(
        actor: &str,
        action: &str,
        target_kind: &str,
        target_id: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> AuditEntry {
        AuditEntry {
            id: AuditId::generate(),
            at: Utc::now(),
            actor: actor.to_string(),
            action: action.to_string(),
            target_kind: target_kind.to_string(),
            target_id: target_id.to_string(),
            before,
            after,
        }
    }
}

/// Which entries to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub target_id: Option<String>,
    /// Only entries older than this one (the cursor).
    pub before: Option<AuditId>,
    pub limit: usize,
}
