//! Telegram bot `sendMessage`: HTML, at most 4,096 characters. The chat is named by
//! the URL's `chat_id` query parameter.

use serde_json::{Value, json};
use url::Url;

use super::Facts;
use super::text::{escape_html, labels, limit_chars, severity_emoji};

const TEXT_CHARS: usize = 4096;

pub fn body(facts: &Facts<'_>, url: &Url) -> Value {
    let l = labels(facts.language);
    let head = format!(
        "{} <b>{}</b>\n",
        severity_emoji(facts.severity, facts.outcome),
        escape_html(&facts.title)
    );
    let footer = format!(
        "\n\n{}: {}\n{}: {}\n{}: {}",
        l.source,
        escape_html(&facts.event.source),
        l.severity,
        facts.severity_label,
        l.time,
        facts.time,
    );
    // Cut the message before escaping, so no entity is cut in half; escaping can only
    // lengthen it, so shorten until the whole fits.
    let mut room = TEXT_CHARS.saturating_sub(head.chars().count() + footer.chars().count());
    let text = loop {
        let candidate = escape_html(&limit_chars(&facts.text, room));
        if candidate.chars().count() <= room || room == 0 {
            break candidate;
        }
        room -= candidate.chars().count() - room;
    };
    let mut body = json!({"text": format!("{head}{text}{footer}"), "parse_mode": "HTML"});
    if let Some((_, chat)) = url.query_pairs().find(|(key, _)| key == "chat_id") {
        body["chat_id"] = Value::from(chat.into_owned());
    }
    body
}
