//! Discord webhook: a short content line and an embed coloured by severity; nobody is
//! pinged by accident (`allowed_mentions` is empty).

use serde_json::{Value, json};

use super::Facts;
use super::text::{escape_markdown, labels, limit_chars, severity_emoji, severity_rgb};

pub fn body(facts: &Facts<'_>) -> Value {
    let l = labels(facts.language);
    json!({
        "content": limit_chars(&format!("{} {}", severity_emoji(facts.severity, facts.outcome), escape_markdown(&facts.title)), 2000),
        "embeds": [{
            "title": limit_chars(&facts.title, 256),
            "description": limit_chars(&escape_markdown(&facts.text), 4096),
            "color": severity_rgb(facts.severity, facts.outcome),
            "fields": [
                {"name": l.source, "value": limit_chars(&facts.event.source, 1024), "inline": true},
                {"name": l.severity, "value": facts.severity_label, "inline": true},
                {"name": l.time, "value": facts.time, "inline": true},
            ],
        }],
        "allowed_mentions": {"parse": []},
    })
}
