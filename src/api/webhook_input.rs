//! The webhook JSON a client sends, and its translation into a valid [`WebhookSpec`].

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};

use crate::domain::auth::{AuthConfig, AuthInput};
use crate::domain::body_template::BodyTemplate;
use crate::domain::catalog::Catalog;
use crate::domain::choices::{Format, Language, WebhookKind};
use crate::domain::headers::CustomHeaders;
use crate::domain::mentions::Mentions;
use crate::domain::target_url::TargetUrl;
use crate::domain::time_zone::DisplayZone;
use crate::domain::tls::TlsOptions;
use crate::domain::validation::{FieldError, FieldErrors};
use crate::domain::webhook::{EventTypeSet, TimeoutSeconds, WebhookSpec};
use crate::domain::webhook_name::WebhookName;

/// Every field is optional here; which ones are required depends on the operation.
/// Read-only fields (`id`, `status`, timestamps…) are accepted and ignored, so a client
/// can send back what it read.
#[derive(Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    #[schema(example = "ops-feishu", min_length = 1, max_length = 64)]
    name: Option<String>,
    #[schema(value_type = Option<WebhookKind>)]
    kind: Option<String>,
    /// An absolute http or https URL (the pattern is the common shape, for clients;
    /// any URL the server can parse is taken).
    #[schema(
        example = "https://hooks.example.com/notify",
        pattern = "^https?://[a-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9/_.-]*)?$",
        max_length = 2048
    )]
    url: Option<String>,
    #[schema(value_type = Option<Language>)]
    language: Option<String>,
    auth: Option<AuthInput>,
    #[schema(value_type = Option<Format>)]
    format: Option<String>,
    enabled: Option<bool>,
    /// Codes from `GET /event-types`.
    #[schema(example = json!(["dr.host.disconnected", "alarm.host.root_disk_usage"]))]
    event_types: Option<Vec<String>>,
    headers: Option<BTreeMap<String, String>>,
    /// Absent: unchanged (PATCH) or default; `null`: default; a number: that many seconds.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    timeout_seconds: Option<Option<i64>>,
    /// For format `template`: `{"body": "...", "content_type": "application/json"}`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<TemplateInput>)]
    template: Option<Option<TemplateInput>>,
    /// `UTC+08:00` and the like; `null` = the server's setting.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    time_zone: Option<Option<String>>,
    /// `{"all": false, "user_ids": [], "mobiles": []}`; `null` = nobody.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Mentions>)]
    mentions: Option<Option<Mentions>>,
    /// `{"ca_bundle": "<PEM>", "dangerously_skip_certificate_verification": false}`;
    /// `null` = the defaults (system roots, verification on).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<TlsOptions>)]
    tls: Option<Option<TlsOptions>>,
    #[serde(default, rename = "id")]
    #[schema(ignore)]
    _id: IgnoredAny,
    #[serde(default, rename = "status")]
    #[schema(ignore)]
    _status: IgnoredAny,
    #[serde(default, rename = "disabled_reason")]
    #[schema(ignore)]
    _disabled_reason: IgnoredAny,
    #[serde(default, rename = "created_at")]
    #[schema(ignore)]
    _created_at: IgnoredAny,
    #[serde(default, rename = "updated_at")]
    #[schema(ignore)]
    _updated_at: IgnoredAny,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    body: String,
    content_type: Option<String>,
}

/// Tells a `null` apart from an absent field.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// What the input is applied to.
#[derive(Clone, Copy)]
pub enum Operation<'a> {
    /// POST: required fields must be present; the rest take defaults.
    Create,
    /// PUT: like create, except that secrets (and an omitted `auth`) keep the
    /// stored values.
    Replace(&'a WebhookSpec),
    /// PATCH: absent fields keep their stored values.
    Patch(&'a WebhookSpec),
}

pub struct BuiltSpec {
    pub spec: WebhookSpec,
    /// True when the HMAC secret was generated and must be shown once.
    pub generated_secret: bool,
}

impl WebhookInput {
    pub fn into_spec(
        self,
        operation: Operation<'_>,
        catalog: &Catalog,
    ) -> Result<BuiltSpec, Vec<FieldError>> {
        let (base, previous) = match operation {
            Operation::Create => (None, None),
            Operation::Replace(stored) => (None, Some(stored)),
            Operation::Patch(stored) => (Some(stored), Some(stored)),
        };
        let mut errors = FieldErrors::default();

        let name = match (self.name, base) {
            (Some(raw), _) => errors.check("name", WebhookName::parse(&raw)),
            (None, Some(b)) => Some(b.name.clone()),
            (None, None) => required(&mut errors, "name"),
        };
        let kind = match (self.kind, base) {
            (Some(raw), _) => errors.check("kind", WebhookKind::parse(&raw)),
            (None, Some(b)) => Some(b.kind),
            (None, None) => Some(WebhookKind::Events),
        };
        let url = match (self.url, base) {
            (Some(raw), _) => errors.check("url", TargetUrl::parse(&raw)),
            (None, Some(b)) => Some(b.url.clone()),
            (None, None) => required(&mut errors, "url"),
        };
        let language = match (self.language, base) {
            (Some(raw), _) => errors.check("language", Language::parse(&raw)),
            (None, Some(b)) => Some(b.language),
            (None, None) => Some(Language::EnUs),
        };
        let mut generated_secret = false;
        let auth = match (self.auth, previous) {
            (Some(input), _) => {
                AuthConfig::from_input(input, previous.map(|p| &p.auth), &mut errors).map(|r| {
                    generated_secret = r.generated_secret;
                    r.config
                })
            }
            (None, Some(p)) => Some(p.auth.clone()),
            (None, None) => Some(AuthConfig::None),
        };
        let format = match (self.format, base) {
            (Some(raw), _) => errors.check("format", Format::parse(&raw)),
            (None, Some(b)) => Some(b.format),
            // Not chosen: suggested from the URL (a Feishu bot URL gets `feishu`).
            (None, None) => Some(
                url.as_ref()
                    .map_or(Format::Json, |u| Format::suggested_for(u.url())),
            ),
        };
        let enabled = self.enabled.or(base.map(|b| b.enabled)).unwrap_or(true);
        let event_type_names = match (self.event_types, base) {
            (Some(list), _) => Some(list),
            (None, Some(b)) => Some(
                b.event_types
                    .codes()
                    .iter()
                    .map(|c| c.to_string())
                    .collect(),
            ),
            (None, None) => required(&mut errors, "event_types"),
        };
        // Subscriptions can only be checked against a valid kind.
        let event_types = match (event_type_names, kind) {
            (Some(names), Some(kind)) => EventTypeSet::parse(&names, kind, catalog, &mut errors),
            _ => None,
        };
        let headers = match (self.headers, base) {
            (Some(map), _) => Some(map),
            (None, Some(b)) => Some(b.headers.to_map()),
            (None, None) => Some(BTreeMap::new()),
        }
        .map(|map| CustomHeaders::parse(map, auth.as_ref(), &mut errors));
        let timeout = match (self.timeout_seconds, base) {
            (Some(Some(seconds)), _) => errors
                .check("timeout_seconds", TimeoutSeconds::parse(seconds))
                .map(Some),
            (Some(None), _) | (None, None) => Some(None),
            (None, Some(b)) => Some(b.timeout),
        };

        let template = match (self.template, base) {
            (Some(Some(input)), _) => {
                match BodyTemplate::parse(&input.body, input.content_type.as_deref()) {
                    Ok(template) => Some(Some(template)),
                    Err((field, message)) => {
                        errors.push(field, message);
                        None
                    }
                }
            }
            (Some(None), _) | (None, None) => Some(None),
            (None, Some(b)) => Some(b.template.clone()),
        };
        match (format, &template) {
            (Some(Format::Template), Some(None)) => {
                errors.push("template", "is required with format `template`");
            }
            (Some(format), Some(Some(_))) if format != Format::Template => {
                errors.push("template", "is only used with format `template`");
            }
            _ => {}
        }
        let time_zone = match (self.time_zone, base) {
            (Some(Some(raw)), _) => errors
                .check("time_zone", DisplayZone::parse(&raw))
                .map(Some),
            (Some(None), _) | (None, None) => Some(None),
            (None, Some(b)) => Some(b.time_zone),
        };

        let mentions = match (self.mentions, base) {
            (Some(Some(m)), _) => match m.validate() {
                Ok(m) => Some(m),
                Err((field, message)) => {
                    errors.push(field, message);
                    None
                }
            },
            (Some(None), _) | (None, None) => Some(Mentions::default()),
            (None, Some(b)) => Some(b.mentions.clone()),
        };

        let tls = match (self.tls, base) {
            (Some(Some(t)), _) => match t.validate() {
                Ok(t) => Some(t),
                Err((field, message)) => {
                    errors.push(field, message);
                    None
                }
            },
            (Some(None), _) | (None, None) => Some(TlsOptions::default()),
            (None, Some(b)) => Some(b.tls.clone()),
        };

        let built = (|| {
            Some(WebhookSpec {
                name: name?,
                kind: kind?,
                url: url?,
                language: language?,
                auth: auth?,
                format: format?,
                enabled,
                event_types: event_types?,
                headers: headers?,
                timeout: timeout?,
                template: template?,
                time_zone: time_zone?,
                mentions: mentions?,
                tls: tls?,
            })
        })();
        match built {
            Some(spec) if errors.is_empty() => Ok(BuiltSpec {
                spec,
                generated_secret,
            }),
            _ => Err(errors.into_vec()),
        }
    }
}

fn required<T>(errors: &mut FieldErrors, field: &str) -> Option<T> {
    errors.push(field, "is required");
    None
}
