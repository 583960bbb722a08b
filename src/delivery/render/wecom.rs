//! WeCom group robot: markdown, at most 4,096 bytes of content.

use serde_json::{Value, json};

use super::Facts;
use super::text::{escape_markdown, labels, limit_bytes};
use crate::domain::mentions::Mentions;

const CONTENT_BYTES: usize = 4096;

/// WeCom mentions only work in text messages (at most 2,048 bytes).
const TEXT_BYTES: usize = 2048;

pub fn body(facts: &Facts<'_>, mentions: &Mentions) -> Value {
    let l = labels(facts.language);
    if !mentions.is_empty() {
        let facts_line = format!(
            "\n{}: {}  {}: {}  {}: {}",
            l.source, facts.event.source, l.severity, facts.severity_label, l.time, facts.time
        );
        let head = format!("{}\n", facts.title);
        let room = TEXT_BYTES.saturating_sub(head.len() + facts_line.len());
        let content = format!("{head}{}{facts_line}", limit_bytes(&facts.text, room));
        let mut users = mentions.user_ids.clone();
        if mentions.all {
            users.push("@all".into());
        }
        return json!({"msgtype": "text", "text": {
            "content": limit_bytes(&content, TEXT_BYTES),
            "mentioned_list": users,
            "mentioned_mobile_list": mentions.mobiles,
        }});
    }
    let colour = if facts.severity >= crate::domain::event_type::Severity::Critical {
        "warning"
    } else {
        "info"
    };
    let footer = format!(
        "\n> {}: {}\n> {}: <font color=\"{colour}\">{}</font>\n> {}: {}",
        l.source,
        escape_markdown(&facts.event.source),
        l.severity,
        facts.severity_label,
        l.time,
        facts.time,
    );
    let head = format!("### {}\n", escape_markdown(&facts.title));
    // The message gets what the heading and the facts leave of the limit.
    let room = CONTENT_BYTES.saturating_sub(head.len() + footer.len());
    let content = format!(
        "{head}{}{footer}",
        limit_bytes(&escape_markdown(&facts.text), room)
    );
    json!({"msgtype": "markdown", "markdown": {"content": limit_bytes(&content, CONTENT_BYTES)}})
}
