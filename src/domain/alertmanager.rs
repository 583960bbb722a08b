//! Prometheus Alertmanager's webhook payload (version 4) as hookcast alarms.
//!
//! Each alert becomes one alarm: its labels become attributes, the `severity` label
//! the severity, firing/resolved the status, the `instance` label the source. The
//! type comes from a rule naming the alert (`alertname` → catalog type), else it is
//! the generic `alarm.prometheus`. Alertmanager sends a group again whenever any
//! alert in it changes; the idempotency key (fingerprint, status, start) makes each
//! alert's firing and its resolution one alarm each, however often they are sent.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::catalog::{Catalog, PROMETHEUS_ALERT_CODE};
use super::event::EventInput;
use super::event_type::EventKind;

/// What Alertmanager posts. Fields hookcast does not use are accepted and ignored,
/// so a newer Alertmanager adding some does not break the bridge.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// `4`: the only version Alertmanager has sent so far.
    pub version: String,
    #[serde(default)]
    pub alerts: Vec<Alert>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// `firing` or `resolved`.
    pub status: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// RFC 3339.
    pub starts_at: Option<String>,
    /// RFC 3339; `0001-01-01T00:00:00Z` while firing.
    pub ends_at: Option<String>,
    #[serde(default)]
    pub generator_url: Option<String>,
    #[serde(default)]
    pub fingerprint: Option<String>,
}

/// `alertname` → catalog type, from the `alertmanager_types` setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeRules(BTreeMap<String, String>);

impl TypeRules {
    /// `HostDiskFull=alarm.host.root_disk_usage,HostDown=alarm.host.process`: each
    /// type must be an alarm type of the catalog.
    pub fn parse(raw: &str, catalog: &Catalog) -> Result<TypeRules, String> {
        let mut rules = BTreeMap::new();
        for rule in raw.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            let (alertname, code) = rule
                .split_once('=')
                .map(|(a, c)| (a.trim(), c.trim()))
                .filter(|(a, c)| !a.is_empty() && !c.is_empty())
                .ok_or_else(|| format!("`{rule}` is not alertname=type"))?;
            match catalog.get(code) {
                Some(t) if t.kind == EventKind::Alarm && t.subscribable => {}
                Some(_) => return Err(format!("`{code}` is not an alarm type")),
                None => return Err(format!("`{code}` is not a known event type")),
            }
            rules.insert(alertname.to_string(), code.to_string());
        }
        Ok(TypeRules(rules))
    }

    pub fn type_of(&self, alertname: Option<&str>) -> &str {
        alertname
            .and_then(|name| self.0.get(name))
            .map(String::as_str)
            .unwrap_or(PROMETHEUS_ALERT_CODE)
    }
}

/// Prometheus' usual severities in hookcast's four; an unknown one leaves the type's
/// own severity.
fn severity(label: &str) -> Option<&'static str> {
    Some(match label.to_ascii_lowercase().as_str() {
        "info" | "informational" | "none" | "low" => "info",
        "warning" | "warn" | "major" | "medium" => "major",
        "critical" | "error" | "high" => "critical",
        "emergency" | "page" | "fatal" | "disaster" => "emergency",
        _ => return None,
    })
}

/// The alarm an alert stands for, as if a producer had posted it; it is validated
/// like any other (attribute limits, the type, the status).
pub fn to_event_input(alert: &Alert, rules: &TypeRules) -> EventInput {
    let labels = &alert.labels;
    let alertname = labels.get("alertname").map(String::as_str);
    let source = labels
        .get("instance")
        .or_else(|| labels.get("job"))
        .cloned()
        .or_else(|| alertname.map(str::to_string))
        .unwrap_or_else(|| "prometheus".to_string());
    let mut attributes: Map<String, Value> = labels
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    // A rule's `value` and `threshold` annotations read as the alarm's measured value,
    // as a producer would send them.
    for key in ["value", "threshold"] {
        if let Some(v) = alert.annotations.get(key) {
            attributes
                .entry(key.to_string())
                .or_insert_with(|| Value::String(v.clone()));
        }
    }
    if !alert.annotations.is_empty() {
        attributes.insert(
            "annotations".into(),
            Value::Object(
                alert
                    .annotations
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ),
        );
    }
    if let Some(url) = alert.generator_url.as_ref().filter(|u| !u.is_empty()) {
        attributes.insert("generator_url".into(), Value::String(url.clone()));
    }
    let resolved = alert.status == "resolved";
    let occurred_at = if resolved {
        alert.ends_at.clone()
    } else {
        alert.starts_at.clone()
    };
    let idempotency_key = alert.fingerprint.as_ref().map(|fingerprint| {
        format!(
            "alertmanager:{fingerprint}:{}:{}",
            alert.status,
            alert.starts_at.as_deref().unwrap_or("")
        )
    });
    EventInput {
        event_type: Some(rules.type_of(alertname).to_string()),
        source: Some(source),
        severity: labels
            .get("severity")
            .and_then(|s| severity(s))
            .map(str::to_string),
        result: None,
        status: Some(alert.status.clone()),
        occurred_at,
        attributes: Some(attributes),
        idempotency_key,
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;
    use crate::domain::event::Outcome;
    use crate::domain::event_type::Severity;

    fn alert(value: Value) -> Alert {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn an_alert_becomes_an_alarm_with_its_labels() {
        let catalog = Catalog::builtin();
        let rules = TypeRules::parse("RootDiskFull=alarm.host.root_disk_usage", catalog).unwrap();
        let firing = alert(json!({
            "status": "firing",
            "labels": {"alertname": "RootDiskFull", "instance": "db-1:9100", "severity": "warning", "mount": "/"},
            "annotations": {"summary": "root disk 91 %", "value": "91%", "threshold": "80%"},
            "startsAt": "2026-11-27T08:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": "a1b2c3"
        }));
        let event = to_event_input(&firing, &rules)
            .into_event(catalog, Utc::now(), "")
            .unwrap();
        assert_eq!(event.event_type.as_str(), "alarm.host.root_disk_usage");
        assert_eq!(event.source, "db-1:9100");
        assert_eq!(event.severity, Severity::Major);
        assert_eq!(event.outcome, Outcome::Firing);
        assert_eq!(event.attributes["mount"], "/");
        assert_eq!(event.attributes["value"], "91%");
        assert_eq!(event.attributes["annotations"]["summary"], "root disk 91 %");
        assert_eq!(event.occurred_at.to_rfc3339(), "2026-11-27T08:00:00+00:00");
        assert_eq!(
            event.idempotency_key.as_deref(),
            Some("alertmanager:a1b2c3:firing:2026-11-27T08:00:00Z")
        );

        let resolved = alert(json!({
            "status": "resolved",
            "labels": {"alertname": "SomethingElse", "job": "node"},
            "startsAt": "2026-11-27T08:00:00Z",
            "endsAt": "2026-11-27T08:05:00Z",
            "fingerprint": "ffff"
        }));
        let event = to_event_input(&resolved, &rules)
            .into_event(catalog, Utc::now(), "")
            .unwrap();
        assert_eq!(event.event_type.as_str(), PROMETHEUS_ALERT_CODE);
        assert_eq!(event.source, "node");
        assert_eq!(event.outcome, Outcome::Resolved);
        assert_eq!(event.severity, Severity::Major, "the type's own");
        assert_eq!(event.occurred_at.to_rfc3339(), "2026-11-27T08:05:00+00:00");
    }

    #[test]
    fn rules_name_alarm_types_of_the_catalog() {
        let catalog = Catalog::builtin();
        assert!(TypeRules::parse("", catalog).unwrap().0.is_empty());
        for bad in [
            "NoEquals",
            "=alarm.host.cpu_usage",
            "X=alarm.nope",
            "X=dr.host.disconnected",
        ] {
            assert!(TypeRules::parse(bad, catalog).is_err(), "{bad}");
        }
        let rules =
            TypeRules::parse(" A = alarm.host.cpu_usage , B=alarm.prometheus", catalog).unwrap();
        assert_eq!(rules.type_of(Some("A")), "alarm.host.cpu_usage");
        assert_eq!(rules.type_of(Some("C")), PROMETHEUS_ALERT_CODE);
        assert_eq!(rules.type_of(None), PROMETHEUS_ALERT_CODE);
    }

    #[test]
    fn prometheus_severities_map_to_four() {
        assert_eq!(severity("warning"), Some("major"));
        assert_eq!(severity("CRITICAL"), Some("critical"));
        assert_eq!(severity("page"), Some("emergency"));
        assert_eq!(severity("info"), Some("info"));
        assert_eq!(severity("p3"), None);
    }
}
