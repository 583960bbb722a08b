//! The human-readable title and message of an event, in the webhook's language, with
//! times in the webhook's zone. Every format shows these.
//!
//! Each catalog type has a message template per language: the state events of the
//! product page (a host disconnected, a login) have their own wording; every other
//! event reads as an operation that succeeded or failed, every alarm as firing or
//! resolved with its measured value when the producer sends one. Placeholders are
//! `{source}`, `{time}`, `{name}`, `{severity}` and `{detail}` (attribute-based).

use crate::domain::catalog::{Catalog, PROMETHEUS_ALERT_CODE, TEST_EVENT_CODE};
use crate::domain::choices::Language;
use crate::domain::event::{Event, Outcome};
use crate::domain::event_type::Severity;
use crate::domain::time_zone::DisplayZone;

pub const WEBHOOK_DISABLED_CODE: &str = "hookcast.webhook.disabled";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub title: String,
    pub text: String,
    /// When it happened in the webhook's zone, `2026-11-27 13:00:00 (UTC+08:00)`: the
    /// text's `{time}`, kept for the formats that show it apart.
    pub time: String,
}

pub fn severity_name(severity: Severity, language: Language) -> &'static str {
    match (language, severity) {
        (Language::ZhCn, Severity::Info) => "提示",
        (Language::ZhCn, Severity::Major) => "重要",
        (Language::ZhCn, Severity::Critical) => "严重",
        (Language::ZhCn, Severity::Emergency) => "紧急",
        (Language::EnUs, s) => s.as_str(),
    }
}

/// (Chinese, English) templates.
type Template = (&'static str, &'static str);

/// Types whose wording is their own, by outcome.
fn specific(code: &str, outcome: Outcome) -> Option<Template> {
    Some(match (code, outcome) {
        ("dr.host.disconnected", _) => (
            "主机 {source} 于 {time} 失联",
            "Host {source} disconnected at {time}",
        ),
        ("dr.host.connection_recovered", _) => (
            "主机 {source} 于 {time} 恢复连接",
            "Host {source} reconnected at {time}",
        ),
        ("dr.host.recovery_timeout", _) => (
            "主机 {source} 于 {time} 恢复超时",
            "Host {source} recovery timed out at {time}",
        ),
        ("dr.user.login", Outcome::Success) => (
            "用户 {source} 于 {time} 登录成功{detail}",
            "User {source} logged in at {time}{detail}",
        ),
        ("dr.user.login", _) => (
            "用户 {source} 于 {time} 登录失败{detail}",
            "Login failed for user {source} at {time}{detail}",
        ),
        ("dr.user.logout", _) => (
            "用户 {source} 于 {time} 退出登录",
            "User {source} logged out at {time}",
        ),
        (TEST_EVENT_CODE, _) => (
            "这是一条来自 hookcast 的测试消息，发往 WebHook「{webhook}」。收到即表示配置可用。时间：{time}",
            "This is a test message from hookcast to the webhook \"{webhook}\". If you can read it, the configuration works. Sent at {time}.",
        ),
        (WEBHOOK_DISABLED_CODE, _) => (
            "WebHook「{webhook}」已于 {time} 被自动禁用，原因：{detail}。修复接收端后请在控制台重新启用。",
            "The webhook \"{webhook}\" was disabled automatically at {time}: {detail}. Enable it again once the receiver is fixed.",
        ),
        _ => return None,
    })
}

/// Every other type, by outcome.
fn generic(outcome: Outcome) -> Template {
    match outcome {
        Outcome::Success => (
            "{source}：{name}成功，时间：{time}",
            "{name} on {source} succeeded at {time}.",
        ),
        Outcome::Failure => (
            "{source}：{name}失败，时间：{time}",
            "{name} on {source} failed at {time}.",
        ),
        Outcome::Firing => (
            "{source} 触发告警「{name}」，级别：{severity}{detail}，时间：{time}",
            "{name} alarm firing on {source}, severity {severity}{detail}, at {time}.",
        ),
        Outcome::Resolved => (
            "{source} 的告警「{name}」已于 {time} 恢复{detail}",
            "{name} alarm on {source} resolved at {time}{detail}.",
        ),
    }
}

/// Attribute-based detail: where a login came from, an alarm's measured value, why a
/// webhook was disabled.
fn detail(event: &Event, language: Language) -> String {
    let text = |key: &str| {
        event.attributes.get(key).and_then(|v| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let zh = language == Language::ZhCn;
    match event.event_type.as_str() {
        WEBHOOK_DISABLED_CODE => match (text("reason").as_deref(), zh) {
            (Some("gone"), true) => "接收端返回 410（已不存在）".into(),
            (Some("gone"), false) => "the receiver answered 410 Gone".into(),
            (_, true) => "投递持续失败".into(),
            (_, false) => "its deliveries kept failing".into(),
        },
        "dr.user.login" => match (text("ip"), zh) {
            (Some(ip), true) => format!("，来源 IP：{ip}"),
            (Some(ip), false) => format!(" from {ip}"),
            (None, _) => String::new(),
        },
        _ => {
            let measured = match (text("value"), text("threshold"), zh) {
                (Some(value), Some(threshold), true) => {
                    format!("，当前值 {value}（阈值 {threshold}）")
                }
                (Some(value), Some(threshold), false) => {
                    format!(", value {value} (threshold {threshold})")
                }
                (Some(value), None, true) => format!("，当前值 {value}"),
                (Some(value), None, false) => format!(", value {value}"),
                _ => String::new(),
            };
            // A Prometheus rule's own words, when the alert came through Alertmanager.
            let summary = event
                .attributes
                .get("annotations")
                .and_then(|a| a.get("summary"))
                .and_then(|s| s.as_str())
                .map(|s| {
                    if zh {
                        format!("，{s}")
                    } else {
                        format!(", {s}")
                    }
                })
                .unwrap_or_default();
            measured + &summary
        }
    }
}

/// `template` with each `{placeholder}` written by `value`, in one pass: a value is
/// never read for placeholders again (an event's source may contain `{time}`), and
/// one that the template does not use is never worked out.
fn fill(template: &str, mut value: impl FnMut(&str, &mut String)) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push_str(&rest[..open]);
        let placeholder = &rest[open + 1..open + close];
        if placeholder.contains('{') {
            // A lone brace before a placeholder: keep it, look again after it.
            out.push('{');
            rest = &rest[open + 1..];
            continue;
        }
        value(placeholder, &mut out);
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

pub fn compose(
    event: &Event,
    catalog: &Catalog,
    language: Language,
    zone: &DisplayZone,
) -> Message {
    let code = event.event_type.as_str();
    let alertname = event.attributes.get("alertname").and_then(|v| v.as_str());
    let name = match (code, alertname) {
        // The generic Prometheus type is named by the alert itself.
        (PROMETHEUS_ALERT_CODE, Some(alertname)) => alertname,
        _ => catalog
            .get(code)
            .map(|t| match language {
                Language::ZhCn => t.name.zh,
                Language::EnUs => t.name.en,
            })
            .unwrap_or(code),
    };
    let (zh, en) = specific(code, event.outcome).unwrap_or_else(|| generic(event.outcome));
    let template = if language == Language::ZhCn { zh } else { en };
    let webhook = event
        .attributes
        .get("webhook_name")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let time = zone.format_labelled(event.occurred_at);
    let text = fill(template, |placeholder, out| match placeholder {
        "source" => out.push_str(&event.source),
        "time" => out.push_str(&time),
        "name" => out.push_str(name),
        "severity" => out.push_str(severity_name(event.severity, language)),
        "webhook" => out.push_str(webhook),
        "detail" => out.push_str(&detail(event, language)),
        other => {
            out.push('{');
            out.push_str(other);
            out.push('}');
        }
    });
    let title = match (event.outcome, language) {
        (Outcome::Resolved, Language::ZhCn) => format!("{name}（已恢复）"),
        (Outcome::Resolved, Language::EnUs) => format!("{name} (resolved)"),
        _ => name.to_string(),
    };
    Message { title, text, time }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use serde_json::{Map, json};

    use super::*;
    use crate::domain::event_type::{EventKind, EventTypeCode};
    use crate::domain::ids::EventId;

    fn event(code: &str, outcome: Outcome, attributes: serde_json::Value) -> Event {
        let at = DateTime::parse_from_rfc3339("2026-11-27T05:00:00Z")
            .unwrap()
            .to_utc();
        Event {
            id: EventId::generate(),
            event_type: EventTypeCode::parse(code).unwrap(),
            kind: outcome.kind(),
            severity: Severity::Critical,
            outcome,
            source: "web-01".into(),
            occurred_at: at,
            received_at: at,
            attributes: attributes.as_object().cloned().unwrap_or_else(Map::new),
            idempotency_key: None,
        }
    }

    #[test]
    fn values_are_not_read_for_placeholders_again() {
        let mut sent = event("dr.host.disconnected", Outcome::Failure, json!({}));
        sent.source = "web-{time}-{detail}".into();
        let message = compose(
            &sent,
            Catalog::builtin(),
            Language::EnUs,
            &DisplayZone::parse("UTC").unwrap(),
        );
        assert!(
            message.text.contains("web-{time}-{detail}"),
            "{}",
            message.text
        );
        assert!(message.text.contains("2026-11-27 05:00:00 (UTC+00:00)"));
    }

    #[test]
    fn fill_keeps_what_is_not_a_placeholder() {
        let filled = fill("a {x} {b {y}} c { d", |name, out| {
            out.push_str(&name.to_uppercase())
        });
        assert_eq!(filled, "a X {b Y} c { d");
    }

    #[test]
    fn the_design_example_reads_as_written() {
        let message = compose(
            &event("dr.host.disconnected", Outcome::Failure, json!({})),
            Catalog::builtin(),
            Language::ZhCn,
            &DisplayZone::default(),
        );
        assert_eq!(message.title, "主机失联");
        assert_eq!(
            message.text,
            "主机 web-01 于 2026-11-27 13:00:00 (UTC+08:00) 失联"
        );
    }

    #[test]
    fn alarms_show_status_severity_and_measured_value() {
        let zone = DisplayZone::parse("UTC").unwrap();
        let firing = compose(
            &event(
                "alarm.host.root_disk_usage",
                Outcome::Firing,
                json!({"value": "86%", "threshold": "80%"}),
            ),
            Catalog::builtin(),
            Language::EnUs,
            &zone,
        );
        assert_eq!(
            firing.text,
            "Host root disk usage alarm firing on web-01, severity critical, value 86% (threshold 80%), at 2026-11-27 05:00:00 (UTC+00:00)."
        );
        let resolved = compose(
            &event("alarm.host.root_disk_usage", Outcome::Resolved, json!({})),
            Catalog::builtin(),
            Language::ZhCn,
            &zone,
        );
        assert_eq!(resolved.title, "主机根磁盘使用率（已恢复）");
        assert_eq!(
            resolved.text,
            "web-01 的告警「主机根磁盘使用率」已于 2026-11-27 05:00:00 (UTC+00:00) 恢复"
        );
        let login = compose(
            &event("dr.user.login", Outcome::Failure, json!({"ip": "10.0.0.8"})),
            Catalog::builtin(),
            Language::ZhCn,
            &zone,
        );
        assert_eq!(
            login.text,
            "用户 web-01 于 2026-11-27 05:00:00 (UTC+00:00) 登录失败，来源 IP：10.0.0.8"
        );
        assert_eq!(EventKind::Alarm, Outcome::Resolved.kind());
    }

    /// Every catalog type, every outcome of its kind, both languages: a message with
    /// the source and time filled in, and no English left in the Chinese one except
    /// names that stay in Latin letters.
    #[test]
    fn every_type_has_a_complete_message_in_both_languages() {
        const KEPT: &[&str] = &[
            "web-01",
            "UTC",
            "CPU",
            "RabbitMQ",
            "Linux",
            "Windows",
            "WebHook",
            "hookcast",
            "IP",
            "ops",
            "Prometheus",
        ];
        let zone = DisplayZone::default();
        for t in Catalog::builtin().all() {
            let outcomes = match t.kind {
                EventKind::Event => [Outcome::Success, Outcome::Failure],
                EventKind::Alarm => [Outcome::Firing, Outcome::Resolved],
            };
            for outcome in outcomes {
                let e = event(
                    t.code.as_str(),
                    outcome,
                    json!({"value": "90", "threshold": "80", "ip": "10.0.0.8", "webhook_name": "ops"}),
                );
                for language in [Language::ZhCn, Language::EnUs] {
                    let message = compose(&e, Catalog::builtin(), language, &zone);
                    assert!(!message.text.contains('{'), "{}: {}", t.code, message.text);
                    assert!(
                        message.text.contains("2026-11-27 13:00:00"),
                        "{}: {}",
                        t.code,
                        message.text
                    );
                    if language == Language::ZhCn {
                        let mut rest = format!("{} {}", message.title, message.text);
                        for kept in KEPT {
                            rest = rest.replace(kept, "");
                        }
                        assert!(
                            !rest.chars().any(|c| c.is_ascii_alphabetic()),
                            "{}: {}",
                            t.code,
                            message.text
                        );
                    }
                }
            }
        }
    }
}
