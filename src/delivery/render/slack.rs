//! Slack incoming webhook: a fallback text and one mrkdwn section.

use serde_json::{Value, json};

use super::Facts;
use super::text::{escape_slack, labels, limit_chars, severity_emoji};
use crate::domain::mentions::Mentions;

/// Slack's limit for a section's text.
const SECTION_CHARS: usize = 3000;

pub fn body(facts: &Facts<'_>, mentions: &Mentions) -> Value {
    let l = labels(facts.language);
    let mut section = format!(
        "{} *{}*\n{}\n*{}*: {}  *{}*: {}  *{}*: {}",
        severity_emoji(facts.severity, facts.outcome),
        escape_slack(&facts.title),
        escape_slack(&facts.text),
        l.source,
        escape_slack(&facts.event.source),
        l.severity,
        facts.severity_label,
        l.time,
        facts.time,
    );
    let mut tags: Vec<String> = mentions
        .user_ids
        .iter()
        .map(|id| format!("<@{id}>"))
        .collect();
    if mentions.all {
        tags.insert(0, "<!channel>".into());
    }
    if !tags.is_empty() {
        section = format!("{}\n{section}", tags.join(" "));
    }
    json!({
        "text": limit_chars(&format!("{}: {}", facts.title, facts.text), SECTION_CHARS),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": limit_chars(&section, SECTION_CHARS)}}],
    })
}
