//! The request body of a delivery, for each format: the generic Standard Webhooks
//! envelope and each chat platform's own shape (see the platform files). Every
//! format shows the event's localized title and message.

mod dingtalk;
mod discord;
mod feishu;
mod json;
mod slack;
mod teams;
mod telegram;
mod template;
pub mod text;
mod wecom;

use serde_json::Value;
use url::Url;

use super::messages::{Message, compose, severity_name};
use crate::domain::body_template::BodyTemplate;
use crate::domain::catalog::Catalog;
use crate::domain::choices::{Format, Language};
use crate::domain::event::{Event, Outcome};
use crate::domain::event_type::Severity;
use crate::domain::ids::WebhookId;
use crate::domain::mentions::Mentions;
use crate::domain::time_zone::DisplayZone;

/// Who the body is for.
pub struct Recipient<'a> {
    /// `None` for an unsaved webhook (the form's Send Test).
    pub id: Option<&'a WebhookId>,
    pub name: &'a str,
    pub language: Language,
    pub format: Format,
    /// The target: Telegram takes its `chat_id` from the URL's query.
    pub url: &'a Url,
    /// The body template, for format `template`.
    pub template: Option<&'a BodyTemplate>,
    /// Who to @mention where the platform supports it.
    pub mentions: &'a Mentions,
}

/// A rendered body: JSON for every built-in format, text of the operator's content
/// type for `template`.
#[derive(Debug, Clone, PartialEq)]
pub enum RenderedBody {
    /// JSON already written out: the generic envelope.
    Encoded(Vec<u8>),
    /// A chat platform's JSON, still open to the fields its signature adds.
    Json(Value),
    Text {
        content: String,
        content_type: String,
    },
}

/// What every format shows, worked out once.
pub struct Facts<'a> {
    pub event: &'a Event,
    pub language: Language,
    pub title: String,
    pub text: String,
    pub severity: Severity,
    pub severity_label: &'static str,
    pub outcome: Outcome,
    /// `2026-11-27 13:00:00 (UTC+08:00)`
    pub time: String,
}

pub fn render(
    event: &Event,
    recipient: &Recipient<'_>,
    catalog: &Catalog,
    zone: &DisplayZone,
) -> Result<RenderedBody, String> {
    let Message { title, text, time } = compose(event, catalog, recipient.language, zone);
    let facts = Facts {
        event,
        language: recipient.language,
        title,
        text,
        severity: event.severity,
        severity_label: severity_name(event.severity, recipient.language),
        outcome: event.outcome,
        time,
    };
    if recipient.format == Format::Template {
        let template = recipient
            .template
            .ok_or("format `template` needs a template")?;
        return Ok(RenderedBody::Text {
            content: template::render(template, &facts, recipient, zone)?,
            content_type: template.content_type().to_string(),
        });
    }
    Ok(render_facts(&facts, recipient))
}

/// The body for facts already worked out.
pub fn render_facts(facts: &Facts<'_>, recipient: &Recipient<'_>) -> RenderedBody {
    let platform = match recipient.format {
        // A template is rendered by `render`; as facts alone, the envelope.
        Format::Json | Format::Template => {
            return RenderedBody::Encoded(json::envelope(facts, recipient));
        }
        Format::Feishu => feishu::body(facts, recipient.mentions),
        Format::Dingtalk => dingtalk::body(facts, recipient.mentions),
        Format::Wecom => wecom::body(facts, recipient.mentions),
        Format::Slack => slack::body(facts, recipient.mentions),
        Format::Discord => discord::body(facts, recipient.mentions),
        Format::Teams => teams::body(facts),
        Format::Telegram => telegram::body(facts, recipient.url),
    };
    RenderedBody::Json(platform)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::Map;

    use super::*;
    use crate::domain::event_type::{EventKind, EventTypeCode};
    use crate::domain::ids::EventId;

    /// A 10,000-character Chinese message through every platform: each stays within
    /// its limit, cut on a character boundary.
    #[test]
    fn a_long_chinese_message_is_cut_to_each_platform_limit() {
        let event = Event {
            id: EventId::generate(),
            event_type: EventTypeCode::parse("dr.host.disconnected").unwrap(),
            kind: EventKind::Event,
            severity: Severity::Critical,
            outcome: Outcome::Failure,
            source: "web-01".into(),
            occurred_at: Utc::now(),
            received_at: Utc::now(),
            attributes: Map::new(),
            idempotency_key: None,
        };
        let text = "主机失联告警".repeat(1667)[..30_000].to_string(); // 10,000 characters
        assert_eq!(text.chars().count(), 10_000);
        let facts = Facts {
            event: &event,
            language: Language::ZhCn,
            title: "主机失联".into(),
            text,
            severity: Severity::Critical,
            severity_label: "严重",
            outcome: Outcome::Failure,
            time: "2026-11-27 13:00:00 (UTC+08:00)".into(),
        };
        let url = Url::parse("https://api.telegram.org/bot1:x/sendMessage?chat_id=42").unwrap();
        let body = |format| {
            let rendered = render_facts(
                &facts,
                &Recipient {
                    id: None,
                    name: "w",
                    language: Language::ZhCn,
                    format,
                    url: &url,
                    template: None,
                    mentions: &Mentions::default(),
                },
            );
            let RenderedBody::Json(platform) = rendered else {
                panic!("{format:?} is a platform's JSON: {rendered:?}")
            };
            platform
        };
        let bytes = |v: &Value| v.as_str().unwrap().len();
        let chars = |v: &Value| v.as_str().unwrap().chars().count();
        let cut = |v: &Value| v.as_str().unwrap().contains('…');

        let feishu = body(Format::Feishu);
        assert!(serde_json::to_vec(&feishu).unwrap().len() < 30 * 1024);
        assert!(cut(&feishu["card"]["elements"][0]["content"]));
        let dingtalk = body(Format::Dingtalk);
        assert!(bytes(&dingtalk["markdown"]["text"]) <= 20_000);
        let wecom = body(Format::Wecom);
        assert!(bytes(&wecom["markdown"]["content"]) <= 4096);
        assert!(cut(&wecom["markdown"]["content"]));
        let slack = body(Format::Slack);
        assert!(chars(&slack["blocks"][0]["text"]["text"]) <= 3000);
        assert!(chars(&slack["text"]) <= 3000);
        let discord = body(Format::Discord);
        assert!(chars(&discord["content"]) <= 2000);
        assert!(chars(&discord["embeds"][0]["description"]) <= 4096);
        assert!(cut(&discord["embeds"][0]["description"]));
        let teams = body(Format::Teams);
        assert!(serde_json::to_vec(&teams).unwrap().len() < 28 * 1024);
        let telegram = body(Format::Telegram);
        assert!(chars(&telegram["text"]) <= 4096);
        assert_eq!(telegram["chat_id"], "42");
    }
}
