//! Text helpers shared by the platform bodies: limits cut on character boundaries,
//! escaping per markup language, severity shown as colour or emoji.

use crate::domain::choices::Language;
use crate::domain::event::Outcome;
use crate::domain::event_type::Severity;

const ELLIPSIS: char = '…';

/// At most `max` characters; a cut text ends with "…" (counted in `max`).
pub fn limit_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push(ELLIPSIS);
    cut
}

/// At most `max` bytes of UTF-8, never splitting a character; a cut text ends with "…".
pub fn limit_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let budget = max.saturating_sub(ELLIPSIS.len_utf8());
    let mut end = budget.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut cut = text[..end].to_string();
    cut.push(ELLIPSIS);
    cut
}

/// Slack mrkdwn: only `&`, `<` and `>` are special.
pub fn escape_slack(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Telegram's HTML parse mode.
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Markdown (Feishu, DingTalk, WeCom, Discord): a backslash before the characters that
/// start emphasis, code, links or tags, so an event's text is shown as written. With
/// `[` and `]` escaped no link can form, so parentheses stay as they are (the simpler
/// platform renderers would show a backslash before them).
pub fn escape_markdown(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '*' | '_' | '~' | '`' | '[' | ']' | '<') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// An emoji for people skimming a chat.
pub fn severity_emoji(severity: Severity, outcome: Outcome) -> &'static str {
    if outcome == Outcome::Resolved || outcome == Outcome::Success {
        return "✅";
    }
    match severity {
        Severity::Info => "ℹ️",
        Severity::Major => "⚠️",
        Severity::Critical => "🔴",
        Severity::Emergency => "🚨",
    }
}

/// RGB colour as an integer (Discord), by severity; green once resolved.
pub fn severity_rgb(severity: Severity, outcome: Outcome) -> u32 {
    if outcome == Outcome::Resolved || outcome == Outcome::Success {
        return 0x2ecc71;
    }
    match severity {
        Severity::Info => 0x3498db,
        Severity::Major => 0xe67e22,
        Severity::Critical => 0xe74c3c,
        Severity::Emergency => 0x992d22,
    }
}

/// Feishu card header template colour.
pub fn feishu_template(severity: Severity, outcome: Outcome) -> &'static str {
    if outcome == Outcome::Resolved || outcome == Outcome::Success {
        return "green";
    }
    match severity {
        Severity::Info => "blue",
        Severity::Major => "orange",
        Severity::Critical => "red",
        Severity::Emergency => "carmine",
    }
}

/// Field labels in the message's language.
pub struct Labels {
    pub source: &'static str,
    pub severity: &'static str,
    pub time: &'static str,
    pub event_type: &'static str,
}

pub fn labels(language: Language) -> Labels {
    match language {
        Language::ZhCn => Labels {
            source: "来源",
            severity: "级别",
            time: "时间",
            event_type: "事件类型",
        },
        Language::EnUs => Labels {
            source: "Source",
            severity: "Severity",
            time: "Time",
            event_type: "Event type",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_never_split_a_character() {
        let chinese = "主机失联".repeat(2500); // 10,000 characters, 30,000 bytes
        let bytes = limit_bytes(&chinese, 4096);
        assert!(bytes.len() <= 4096);
        assert!(bytes.ends_with('…'));
        assert!(std::str::from_utf8(bytes.as_bytes()).is_ok());
        let chars = limit_chars(&chinese, 2000);
        assert_eq!(chars.chars().count(), 2000);
        assert_eq!(limit_chars("short", 10), "short");
        assert_eq!(limit_bytes("short", 10), "short");
    }

    #[test]
    fn escaping_neutralises_markup() {
        assert_eq!(escape_slack("<@here> & co"), "&lt;@here&gt; &amp; co");
        assert_eq!(
            escape_html("<b>\"x\"</b>"),
            "&lt;b&gt;&quot;x&quot;&lt;/b&gt;"
        );
        assert_eq!(
            escape_markdown("*bold* [link](x)"),
            "\\*bold\\* \\[link\\](x)"
        );
    }
}
