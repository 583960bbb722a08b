//! The human-readable title and message of an event, in the webhook's language, with
//! times in the configured zone. Every format shows these.

use crate::domain::catalog::{Catalog, TEST_EVENT_CODE};
use crate::domain::choices::Language;
use crate::domain::event::{Event, Outcome};
use crate::domain::event_type::Severity;
use crate::domain::time_zone::DisplayZone;

pub const WEBHOOK_DISABLED_CODE: &str = "hookcast.webhook.disabled";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub title: String,
    pub text: String,
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

pub fn compose(
    event: &Event,
    catalog: &Catalog,
    language: Language,
    zone: &DisplayZone,
) -> Message {
    let code = event.event_type.as_str();
    let name = catalog
        .get(code)
        .map(|t| match language {
            Language::ZhCn => t.name.zh,
            Language::EnUs => t.name.en,
        })
        .unwrap_or(code);
    let time = format!("{} ({})", zone.format(event.occurred_at), zone.label());
    let attribute = |key: &str| {
        event
            .attributes
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let source = &event.source;
    let severity = severity_name(event.severity, language);

    let text = match (code, language) {
        (TEST_EVENT_CODE, Language::ZhCn) => format!(
            "这是一条来自 hookcast 的测试消息，发往 WebHook「{}」。收到即表示配置可用。时间：{time}",
            attribute("webhook_name")
        ),
        (TEST_EVENT_CODE, Language::EnUs) => format!(
            "This is a test message from hookcast to the webhook \"{}\". If you can read it, the configuration works. Sent at {time}.",
            attribute("webhook_name")
        ),
        (WEBHOOK_DISABLED_CODE, Language::ZhCn) => format!(
            "WebHook「{}」已于 {time} 被自动禁用，原因：{}。修复接收端后请在控制台重新启用。",
            attribute("webhook_name"),
            match attribute("reason").as_str() {
                "gone" => "接收端返回 410（已不存在）",
                _ => "投递持续失败",
            }
        ),
        (WEBHOOK_DISABLED_CODE, Language::EnUs) => format!(
            "The webhook \"{}\" was disabled automatically at {time}: {}. Enable it again once the receiver is fixed.",
            attribute("webhook_name"),
            match attribute("reason").as_str() {
                "gone" => "the receiver answered 410 Gone",
                _ => "its deliveries kept failing",
            }
        ),
        (_, Language::ZhCn) => match event.outcome {
            Outcome::Success => format!("{source} 于 {time} {name}，结果：成功"),
            Outcome::Failure => format!("{source} 于 {time} {name}，结果：失败"),
            Outcome::Firing => format!("{source} 于 {time} 触发告警「{name}」，级别：{severity}"),
            Outcome::Resolved => format!("{source} 的告警「{name}」已于 {time} 恢复"),
        },
        (_, Language::EnUs) => match event.outcome {
            Outcome::Success => format!("{name} on {source} succeeded at {time}."),
            Outcome::Failure => format!("{name} on {source} failed at {time}."),
            Outcome::Firing => {
                format!("{name} alarm firing on {source} at {time}, severity {severity}.")
            }
            Outcome::Resolved => format!("{name} alarm on {source} resolved at {time}."),
        },
    };
    let title = match (event.outcome, language) {
        (Outcome::Resolved, Language::ZhCn) => format!("{name}（已恢复）"),
        (Outcome::Resolved, Language::EnUs) => format!("{name} (resolved)"),
        _ => name.to_string(),
    };
    Message { title, text }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use serde_json::Map;

    use super::*;
    use crate::domain::event_type::{EventKind, EventTypeCode};
    use crate::domain::ids::EventId;

    fn event(code: &str, outcome: Outcome) -> Event {
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
            attributes: Map::new(),
            idempotency_key: None,
        }
    }

    #[test]
    fn chinese_messages_are_chinese_with_local_time() {
        let message = compose(
            &event("dr.host.disconnected", Outcome::Failure),
            Catalog::builtin(),
            Language::ZhCn,
            &DisplayZone::default(),
        );
        assert_eq!(message.title, "主机失联");
        assert_eq!(
            message.text,
            "web-01 于 2026-11-27 13:00:00 (UTC+08:00) 主机失联，结果：失败"
        );
    }

    #[test]
    fn alarms_show_status_and_severity() {
        let zone = DisplayZone::parse("UTC").unwrap();
        let firing = compose(
            &event("alarm.host.root_disk_usage", Outcome::Firing),
            Catalog::builtin(),
            Language::EnUs,
            &zone,
        );
        assert_eq!(
            firing.text,
            "Host root disk usage alarm firing on web-01 at 2026-11-27 05:00:00 (UTC+00:00), severity critical."
        );
        let resolved = compose(
            &event("alarm.host.root_disk_usage", Outcome::Resolved),
            Catalog::builtin(),
            Language::ZhCn,
            &zone,
        );
        assert_eq!(resolved.title, "主机根磁盘使用率（已恢复）");
        assert_eq!(EventKind::Alarm, Outcome::Resolved.kind());
    }
}
