//! Discord webhook: a short content line and an embed coloured by severity; only the
//! configured mentions can ping anyone (`allowed_mentions`).

use serde_json::{Value, json};

use super::Facts;
use super::text::{escape_markdown, labels, limit_chars, severity_emoji, severity_rgb};
use crate::domain::mentions::Mentions;

pub fn body(facts: &Facts<'_>, mentions: &Mentions) -> Value {
    let l = labels(facts.language);
    // Only the configured people are pinged; everything else in the text stays inert.
    let mut tags: Vec<String> = mentions
        .user_ids
        .iter()
        .map(|id| format!("<@{id}>"))
        .collect();
    if mentions.all {
        tags.insert(0, "@everyone".into());
    }
    let mut allowed = json!({"parse": if mentions.all { vec!["everyone"] } else { vec![] }});
    if !mentions.user_ids.is_empty() {
        allowed["users"] = json!(mentions.user_ids);
    }
    let prefix = if tags.is_empty() {
        String::new()
    } else {
        format!("{} ", tags.join(" "))
    };
    json!({
        "content": limit_chars(
            &format!("{prefix}{} {}", severity_emoji(facts.severity, facts.outcome), escape_markdown(&facts.title)),
            2000,
        ),
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
        "allowed_mentions": allowed,
    })
}
