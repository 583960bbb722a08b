//! Webhook ↔ row, shared by every backend: what is stored in which column, and how
//! a row becomes a valid domain value again (re-parsed, so damage is reported rather
//! than trusted).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Sealer, StoreError};
use crate::domain::auth::AuthConfig;
use crate::domain::body_template::BodyTemplate;
use crate::domain::choices::{DisabledReason, Format, Language, WebhookKind};
use crate::domain::event_type::EventTypeCode;
use crate::domain::headers::CustomHeaders;
use crate::domain::ids::WebhookId;
use crate::domain::mentions::Mentions;
use crate::domain::secret::Secret;
use crate::domain::target_url::TargetUrl;
use crate::domain::time_zone::DisplayZone;
use crate::domain::tls::TlsOptions;
use crate::domain::validation::FieldErrors;
use crate::domain::webhook::{EventTypeSet, TimeoutSeconds, Webhook, WebhookSpec};
use crate::domain::webhook_name::WebhookName;

/// The columns of the `webhooks` table.
pub struct WebhookRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub url: String,
    pub language: String,
    pub auth_type: String,
    pub auth_sealed: String,
    pub format: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub headers: String,
    pub timeout_seconds: Option<i64>,
    pub template_body: Option<String>,
    pub template_content_type: Option<String>,
    pub time_zone: Option<String>,
    pub mentions: Option<String>,
    pub tls: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The auth configuration as it is sealed: the whole object, secrets included, so
/// nothing about the credentials is readable without the key.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum SealedAuth {
    None,
    Basic { username: String, password: String },
    Bearer { token: String },
    ApiKey { header: String, value: String },
    Hmac { secret: String },
    DingtalkSign { secret: String },
    FeishuSign { secret: String },
}

impl From<&AuthConfig> for SealedAuth {
    fn from(auth: &AuthConfig) -> Self {
        let plain = |s: &Secret| s.expose().to_string();
        match auth {
            AuthConfig::None => SealedAuth::None,
            AuthConfig::Basic { username, password } => SealedAuth::Basic {
                username: username.clone(),
                password: plain(password),
            },
            AuthConfig::Bearer { token } => SealedAuth::Bearer {
                token: plain(token),
            },
            AuthConfig::ApiKey { header, value } => SealedAuth::ApiKey {
                header: header.clone(),
                value: plain(value),
            },
            AuthConfig::Hmac { secret } => SealedAuth::Hmac {
                secret: plain(secret),
            },
            AuthConfig::DingtalkSign { secret } => SealedAuth::DingtalkSign {
                secret: plain(secret),
            },
            AuthConfig::FeishuSign { secret } => SealedAuth::FeishuSign {
                secret: plain(secret),
            },
        }
    }
}

impl From<SealedAuth> for AuthConfig {
    fn from(sealed: SealedAuth) -> Self {
        match sealed {
            SealedAuth::None => AuthConfig::None,
            SealedAuth::Basic { username, password } => AuthConfig::Basic {
                username,
                password: Secret::new(password),
            },
            SealedAuth::Bearer { token } => AuthConfig::Bearer {
                token: Secret::new(token),
            },
            SealedAuth::ApiKey { header, value } => AuthConfig::ApiKey {
                header,
                value: Secret::new(value),
            },
            SealedAuth::Hmac { secret } => AuthConfig::Hmac {
                secret: Secret::new(secret),
            },
            SealedAuth::DingtalkSign { secret } => AuthConfig::DingtalkSign {
                secret: Secret::new(secret),
            },
            SealedAuth::FeishuSign { secret } => AuthConfig::FeishuSign {
                secret: Secret::new(secret),
            },
        }
    }
}

pub fn encode(webhook: &Webhook, sealer: &Sealer) -> WebhookRow {
    let spec = &webhook.spec;
    let sealed_json =
        serde_json::to_vec(&SealedAuth::from(&spec.auth)).expect("auth serializes to JSON");
    WebhookRow {
        id: webhook.id.to_string(),
        name: spec.name.to_string(),
        kind: spec.kind.as_str().to_string(),
        url: spec.url.as_str().to_string(),
        language: spec.language.as_str().to_string(),
        auth_type: spec.auth.auth_type().as_str().to_string(),
        auth_sealed: sealer.seal(&sealed_json, webhook.id.as_str()),
        format: spec.format.as_str().to_string(),
        enabled: spec.enabled,
        disabled_reason: webhook.disabled_reason.map(|r| r.as_str().to_string()),
        headers: serde_json::to_string(&spec.headers).expect("headers serialize to JSON"),
        timeout_seconds: spec.timeout.map(|t| i64::from(t.get())),
        template_body: spec.template.as_ref().map(|t| t.source().to_string()),
        template_content_type: spec.template.as_ref().map(|t| t.content_type().to_string()),
        time_zone: spec.time_zone.map(|z| z.label()),
        mentions: (!spec.mentions.is_empty())
            .then(|| serde_json::to_string(&spec.mentions).expect("mentions serialize")),
        tls: (!spec.tls.is_default())
            .then(|| serde_json::to_string(&spec.tls).expect("TLS options serialize")),
        created_at: webhook.created_at.timestamp_millis(),
        updated_at: webhook.updated_at.timestamp_millis(),
    }
}

pub fn event_type_strings(webhook: &Webhook) -> impl Iterator<Item = (i64, &str)> {
    webhook
        .spec
        .event_types
        .codes()
        .iter()
        .enumerate()
        .map(|(position, code)| (position as i64, code.as_str()))
}

pub fn decode(
    row: WebhookRow,
    event_types: Vec<String>,
    sealer: &Sealer,
) -> Result<Webhook, StoreError> {
    let id = row.id.clone();
    let corrupt = |what: &str, message: String| {
        StoreError::Corrupt(format!("webhook {id}: {what}: {message}"))
    };

    let sealed_json = sealer.open(&row.auth_sealed, &row.id)?;
    let auth: AuthConfig = serde_json::from_slice::<SealedAuth>(&sealed_json)
        .map_err(|e| corrupt("auth", e.to_string()))?
        .into();
    let header_map: BTreeMap<String, String> =
        serde_json::from_str(&row.headers).map_err(|e| corrupt("headers", e.to_string()))?;
    let mut header_errors = FieldErrors::default();
    let headers = CustomHeaders::parse(header_map, Some(&auth), &mut header_errors);
    if let Some(error) = header_errors.into_vec().into_iter().next() {
        return Err(corrupt(&error.field, error.message));
    }
    let codes = event_types
        .iter()
        .map(|code| EventTypeCode::parse(code))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| corrupt("event_types", e))?;

    let spec = WebhookSpec {
        name: WebhookName::parse(&row.name).map_err(|e| corrupt("name", e))?,
        kind: WebhookKind::parse(&row.kind).map_err(|e| corrupt("kind", e))?,
        url: TargetUrl::parse(&row.url).map_err(|e| corrupt("url", e))?,
        language: Language::parse(&row.language).map_err(|e| corrupt("language", e))?,
        auth,
        format: Format::parse(&row.format).map_err(|e| corrupt("format", e))?,
        enabled: row.enabled,
        event_types: EventTypeSet::from_stored(codes),
        headers,
        timeout: row
            .timeout_seconds
            .map(TimeoutSeconds::parse)
            .transpose()
            .map_err(|e| corrupt("timeout_seconds", e))?,
        template: match &row.template_body {
            Some(body) => Some(
                BodyTemplate::parse(body, row.template_content_type.as_deref())
                    .map_err(|(field, message)| corrupt(field, message))?,
            ),
            None => None,
        },
        time_zone: row
            .time_zone
            .as_deref()
            .map(DisplayZone::parse)
            .transpose()
            .map_err(|e| corrupt("time_zone", e))?,
        mentions: match &row.mentions {
            Some(json) => {
                serde_json::from_str(json).map_err(|e| corrupt("mentions", e.to_string()))?
            }
            None => Mentions::default(),
        },
        tls: match &row.tls {
            Some(json) => serde_json::from_str(json).map_err(|e| corrupt("tls", e.to_string()))?,
            None => TlsOptions::default(),
        },
    };
    Ok(Webhook {
        id: WebhookId::parse(&row.id).map_err(|e| corrupt("id", e))?,
        spec,
        disabled_reason: row
            .disabled_reason
            .as_deref()
            .map(DisabledReason::parse)
            .transpose()
            .map_err(|e| corrupt("disabled_reason", e))?,
        created_at: from_millis(row.created_at),
        updated_at: from_millis(row.updated_at),
    })
}

fn from_millis(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}
