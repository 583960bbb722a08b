//! The webhook JSON the API returns. Secrets are masked; the one exception is an HMAC
//! secret hookcast generated, shown once in the create response.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::domain::auth::AuthConfig;
use crate::domain::choices::{DisabledReason, Format, Language, WebhookKind};
use crate::domain::mentions::Mentions;
use crate::domain::secret::MASK;
use crate::domain::tls::TlsOptions;
use crate::domain::webhook::Webhook;

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Webhook)]
pub struct WebhookView {
    pub id: String,
    pub name: String,
    pub kind: WebhookKind,
    pub url: String,
    pub language: Language,
    /// `{"type": ...}` and the fields of that type, secrets masked.
    pub auth: Value,
    pub format: Format,
    pub enabled: bool,
    /// `enabled` or `disabled`, for lists; `disabled_reason` says why.
    pub status: &'static str,
    pub disabled_reason: Option<DisabledReason>,
    pub event_types: Vec<String>,
    pub headers: BTreeMap<String, String>,
    pub timeout_seconds: Option<u16>,
    #[schema(value_type = Option<Object>)]
    pub template: Option<Value>,
    pub time_zone: Option<String>,
    pub mentions: Mentions,
    pub tls: TlsOptions,
    pub created_at: String,
    pub updated_at: String,
}

/// Whether the generated HMAC secret may be shown (only right after creating it).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SecretDisplay {
    Masked,
    RevealGenerated,
}

impl WebhookView {
    pub fn new(webhook: &Webhook, display: SecretDisplay) -> Self {
        let spec = &webhook.spec;
        WebhookView {
            id: webhook.id.to_string(),
            name: spec.name.to_string(),
            kind: spec.kind,
            url: spec.url.as_str().to_string(),
            language: spec.language,
            auth: auth_view(&spec.auth, display),
            format: spec.format,
            enabled: spec.enabled,
            status: if spec.enabled { "enabled" } else { "disabled" },
            disabled_reason: webhook.disabled_reason,
            event_types: spec
                .event_types
                .codes()
                .iter()
                .map(|c| c.to_string())
                .collect(),
            headers: spec.headers.to_map(),
            timeout_seconds: spec.timeout.map(|t| t.get()),
            template: spec
                .template
                .as_ref()
                .map(|t| json!({"body": t.source(), "content_type": t.content_type()})),
            time_zone: spec.time_zone.map(|z| z.label()),
            mentions: spec.mentions.clone(),
            tls: spec.tls.clone(),
            created_at: timestamp(webhook.created_at),
            updated_at: timestamp(webhook.updated_at),
        }
    }
}

pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn auth_view(auth: &AuthConfig, display: SecretDisplay) -> Value {
    let kind = auth.auth_type().as_str();
    match auth {
        AuthConfig::None => json!({"type": kind}),
        AuthConfig::Basic { username, .. } => {
            json!({"type": kind, "username": username, "password": MASK})
        }
        AuthConfig::Bearer { .. } => json!({"type": kind, "token": MASK}),
        AuthConfig::ApiKey { header, .. } => json!({"type": kind, "header": header, "value": MASK}),
        AuthConfig::Hmac { secret } if display == SecretDisplay::RevealGenerated => {
            json!({"type": kind, "secret": secret.expose()})
        }
        AuthConfig::Hmac { .. }
        | AuthConfig::DingtalkSign { .. }
        | AuthConfig::FeishuSign { .. } => {
            json!({"type": kind, "secret": MASK})
        }
    }
}
