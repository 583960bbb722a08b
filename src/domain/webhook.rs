//! The webhook: what the "Configure WebHook Service" drawer holds, plus its state.

use chrono::{DateTime, SubsecRound, Utc};

use super::auth::AuthConfig;
use super::body_template::BodyTemplate;
use super::catalog::Catalog;
use super::choices::{DisabledReason, Format, Language, WebhookKind};
use super::event_type::EventTypeCode;
use super::headers::CustomHeaders;
use super::ids::WebhookId;
use super::mentions::Mentions;
use super::target_url::TargetUrl;
use super::time_zone::DisplayZone;
use super::tls::TlsOptions;
use super::validation::FieldErrors;
use super::webhook_name::WebhookName;

pub const MAX_EVENT_TYPES: usize = 1000;

/// Per-webhook deadline for one delivery attempt, 1 to 60 seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeoutSeconds(u16);

impl TimeoutSeconds {
    pub fn parse(raw: i64) -> Result<Self, String> {
        match u16::try_from(raw) {
            Ok(seconds @ 1..=60) => Ok(TimeoutSeconds(seconds)),
            _ => Err(format!("must be between 1 and 60 seconds (got {raw})")),
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

/// The subscribed event types: non-empty, known, subscribable and of the webhook's
/// kind, without repeats, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTypeSet(Vec<EventTypeCode>);

impl EventTypeSet {
    pub fn parse(
        raw: &[String],
        kind: WebhookKind,
        catalog: &Catalog,
        errors: &mut FieldErrors,
    ) -> Option<Self> {
        if raw.is_empty() {
            errors.push("event_types", "must name at least one event type");
            return None;
        }
        if raw.len() > MAX_EVENT_TYPES {
            errors.push(
                "event_types",
                format!("must name at most {MAX_EVENT_TYPES} event types"),
            );
            return None;
        }
        let before = errors.len();
        let mut codes: Vec<EventTypeCode> = Vec::with_capacity(raw.len());
        for (index, code) in raw.iter().enumerate() {
            let field = format!("event_types[{index}]");
            let Some(event_type) = catalog.get(code) else {
                errors.push(field, format!("`{code}` is not a known event type"));
                continue;
            };
            if !event_type.subscribable {
                errors.push(
                    field,
                    format!("`{code}` is sent by hookcast itself and cannot be subscribed to"),
                );
            } else if event_type.kind != kind.event_kind() {
                errors.push(
                    field,
                    format!(
                        "`{code}` is an {} type; a webhook of kind `{}` takes {} types",
                        event_type.kind.as_str(),
                        kind.as_str(),
                        kind.event_kind().as_str()
                    ),
                );
            } else if !codes.contains(&event_type.code) {
                codes.push(event_type.code.clone());
            }
        }
        (errors.len() == before).then_some(EventTypeSet(codes))
    }

    /// For values read back from storage, which were validated when written.
    pub fn from_stored(codes: Vec<EventTypeCode>) -> Self {
        EventTypeSet(codes)
    }

    pub fn codes(&self) -> &[EventTypeCode] {
        &self.0
    }
}

/// Everything an operator sets on a webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSpec {
    pub name: WebhookName,
    pub kind: WebhookKind,
    pub url: TargetUrl,
    pub language: Language,
    pub auth: AuthConfig,
    pub format: Format,
    pub enabled: bool,
    pub event_types: EventTypeSet,
    pub headers: CustomHeaders,
    pub timeout: Option<TimeoutSeconds>,
    /// The body template; present exactly when the format is `template`.
    pub template: Option<BodyTemplate>,
    /// Times in this webhook's messages; `None` = the server's setting.
    pub time_zone: Option<DisplayZone>,
    /// Who chat messages notify.
    pub mentions: Mentions,
    /// How the receiver's certificate is checked.
    pub tls: TlsOptions,
}

/// A stored webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: WebhookId,
    pub spec: WebhookSpec,
    /// Why it is disabled; `None` while enabled.
    pub disabled_reason: Option<DisabledReason>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Webhook {
    pub fn new(spec: WebhookSpec, now: DateTime<Utc>) -> Self {
        // Stores keep milliseconds; so does the value, so it reads back equal.
        let now = now.trunc_subsecs(3);
        let disabled_reason = (!spec.enabled).then_some(DisabledReason::Manual);
        Webhook {
            id: WebhookId::generate(),
            spec,
            disabled_reason,
            created_at: now,
            updated_at: now,
        }
    }

    /// Replaces the operator's settings, keeping id and creation time. Turning the
    /// webhook off by hand records `manual`; leaving it off keeps the original reason.
    pub fn replace_spec(&mut self, spec: WebhookSpec, now: DateTime<Utc>) {
        self.disabled_reason = match (spec.enabled, self.disabled_reason) {
            (true, _) => None,
            (false, Some(reason)) => Some(reason),
            (false, None) => Some(DisabledReason::Manual),
        };
        self.spec = spec;
        self.updated_at = now.trunc_subsecs(3);
    }

    pub fn set_enabled(&mut self, enabled: bool, now: DateTime<Utc>) {
        let mut spec = self.spec.clone();
        spec.enabled = enabled;
        if !enabled {
            // An explicit "Disable" is a manual decision, whatever came before.
            self.disabled_reason = Some(DisabledReason::Manual);
        }
        self.replace_spec(spec, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(codes: &[&str], kind: WebhookKind) -> Result<Vec<String>, Vec<String>> {
        let raw: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
        let mut errors = FieldErrors::default();
        match EventTypeSet::parse(&raw, kind, Catalog::builtin(), &mut errors) {
            Some(set) => Ok(set.codes().iter().map(|c| c.to_string()).collect()),
            None => Err(errors.into_vec().into_iter().map(|e| e.field).collect()),
        }
    }

    #[test]
    fn event_types_must_exist_and_match_the_kind() {
        assert_eq!(
            parse(
                &["dr.host.disconnected", "dr.host.disconnected"],
                WebhookKind::Events
            )
            .unwrap(),
            ["dr.host.disconnected"]
        );
        assert_eq!(
            parse(&[], WebhookKind::Events).unwrap_err(),
            ["event_types"]
        );
        assert_eq!(
            parse(
                &["dr.host.disconnected", "nope.nope", "alarm.host.cpu_usage"],
                WebhookKind::Events
            )
            .unwrap_err(),
            ["event_types[1]", "event_types[2]"]
        );
        assert_eq!(
            parse(&["dr.host.disconnected"], WebhookKind::Alarms).unwrap_err(),
            ["event_types[0]"]
        );
        assert_eq!(
            parse(&["hookcast.test"], WebhookKind::Events).unwrap_err(),
            ["event_types[0]"]
        );
    }

    #[test]
    fn timeout_is_bounded() {
        assert_eq!(TimeoutSeconds::parse(15).unwrap().get(), 15);
        for bad in [0, -1, 61, 100_000] {
            assert!(TimeoutSeconds::parse(bad).is_err());
        }
    }
}
