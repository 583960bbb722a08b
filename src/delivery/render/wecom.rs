//! WeCom group robot: markdown, at most 4,096 bytes of content.

use serde_json::{Value, json};

use super::Facts;
use super::text::{escape_markdown, labels, limit_bytes};

const CONTENT_BYTES: usize = 4096;

pub fn body(facts: &Facts<'_>) -> Value {
    let l = labels(facts.language);
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
