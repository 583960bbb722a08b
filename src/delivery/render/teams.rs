//! Microsoft Teams (Workflows webhook): an Adaptive Card.

use serde_json::{Value, json};

use super::Facts;
use super::text::{labels, limit_bytes, severity_emoji};

/// Teams cards must stay under 28 KB.
const MESSAGE_BYTES: usize = 20_000;

pub fn body(facts: &Facts<'_>) -> Value {
    let l = labels(facts.language);
    let attention = facts.severity >= crate::domain::event_type::Severity::Critical
        && facts.outcome != crate::domain::event::Outcome::Resolved;
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {"type": "TextBlock", "text": format!("{} {}", severity_emoji(facts.severity, facts.outcome), facts.title),
                     "weight": "Bolder", "size": "Medium", "wrap": true,
                     "color": if attention { "Attention" } else { "Default" }},
                    {"type": "TextBlock", "text": limit_bytes(&facts.text, MESSAGE_BYTES), "wrap": true},
                    {"type": "FactSet", "facts": [
                        {"title": l.source, "value": facts.event.source},
                        {"title": l.severity, "value": facts.severity_label},
                        {"title": l.time, "value": facts.time},
                    ]},
                ],
            },
        }],
    })
}
