//! DingTalk robot: markdown, severity as an emoji in the heading.

use serde_json::{Value, json};

use super::Facts;
use super::text::{escape_markdown, labels, limit_bytes, limit_chars, severity_emoji};
use crate::domain::mentions::Mentions;

/// DingTalk refuses messages over 20,000 bytes.
const MESSAGE_BYTES: usize = 18_000;

pub fn body(facts: &Facts<'_>, mentions: &Mentions) -> Value {
    let l = labels(facts.language);
    let mut text = format!(
        "#### {} {}\n\n{}\n\n- {}: {}\n- {}: {}\n- {}: {}",
        severity_emoji(facts.severity, facts.outcome),
        escape_markdown(&facts.title),
        escape_markdown(&limit_bytes(&facts.text, MESSAGE_BYTES)),
        l.source,
        escape_markdown(&facts.event.source),
        l.severity,
        facts.severity_label,
        l.time,
        facts.time,
    );
    // A mention only fires when `@<mobile>` (or `@<userId>`) also appears in the text.
    let tags: Vec<String> = mentions
        .mobiles
        .iter()
        .chain(&mentions.user_ids)
        .map(|who| format!("@{who}"))
        .collect();
    if !tags.is_empty() {
        text.push_str("\n\n");
        text.push_str(&tags.join(" "));
    }
    json!({
        "msgtype": "markdown",
        "markdown": {"title": limit_chars(&facts.title, 64), "text": text},
        "at": {"atMobiles": mentions.mobiles, "atUserIds": mentions.user_ids, "isAtAll": mentions.all},
    })
}
