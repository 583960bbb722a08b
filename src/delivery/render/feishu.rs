//! Feishu / Lark bot: an interactive card, header coloured by severity.

use serde_json::{Value, json};

use super::Facts;
use super::text::{escape_markdown, feishu_template, labels, limit_bytes, limit_chars};
use crate::domain::mentions::Mentions;

/// The whole request must stay under Feishu's 30 KB; the message gets most of it.
const MESSAGE_BYTES: usize = 20_000;

pub fn body(facts: &Facts<'_>, mentions: &Mentions) -> Value {
    let l = labels(facts.language);
    let mut content = format!(
        "{}\n**{}**: {}\n**{}**: {}\n**{}**: {}",
        escape_markdown(&limit_bytes(&facts.text, MESSAGE_BYTES)),
        l.source,
        escape_markdown(&facts.event.source),
        l.severity,
        facts.severity_label,
        l.time,
        facts.time,
    );
    // Feishu cards mention with <at> tags: `all`, or a user's open_id.
    if !mentions.is_empty() {
        content.push('\n');
        if mentions.all {
            content.push_str("<at id=all></at>");
        }
        for id in &mentions.user_ids {
            content.push_str(&format!("<at id={id}></at>"));
        }
    }
    json!({
        "msg_type": "interactive",
        "card": {
            "header": {
                "title": {"tag": "plain_text", "content": limit_chars(&facts.title, 100)},
                "template": feishu_template(facts.severity, facts.outcome),
            },
            "elements": [{"tag": "markdown", "content": content}],
        },
    })
}
