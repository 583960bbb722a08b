//! Small closed sets of choices: webhook kind, language, message format.
//!
//! Each parses from exactly the strings the API documents and serializes back to them.

use serde::Serialize;

use super::event_type::EventKind;

/// What a webhook subscribes to: the page's "Type" (Events / Alarms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookKind {
    Events,
    Alarms,
}

impl WebhookKind {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "events" => Ok(WebhookKind::Events),
            "alarms" => Ok(WebhookKind::Alarms),
            other => Err(format!("must be `events` or `alarms`, not `{other}`")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookKind::Events => "events",
            WebhookKind::Alarms => "alarms",
        }
    }

    /// The kind of event type a webhook of this kind may subscribe to.
    pub fn event_kind(self) -> EventKind {
        match self {
            WebhookKind::Events => EventKind::Event,
            WebhookKind::Alarms => EventKind::Alarm,
        }
    }
}

/// The language messages are rendered in: the page's "Alarm Message Language".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub enum Language {
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en-US")]
    EnUs,
}

impl Language {
    /// Case-insensitive, so `zh-cn` is understood; always stored as `zh-CN` / `en-US`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.eq_ignore_ascii_case("zh-CN") {
            Ok(Language::ZhCn)
        } else if raw.eq_ignore_ascii_case("en-US") {
            Ok(Language::EnUs)
        } else {
            Err(format!("must be `zh-CN` or `en-US`, not `{raw}`"))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::ZhCn => "zh-CN",
            Language::EnUs => "en-US",
        }
    }
}

/// The body shape a webhook sends: the generic JSON envelope or a chat platform's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Json,
    Feishu,
    Dingtalk,
    Wecom,
    Slack,
    Discord,
    Teams,
    Telegram,
    /// The operator's own body template.
    Template,
}

impl Format {
    pub const ALL: [Format; 9] = [
        Format::Json,
        Format::Feishu,
        Format::Dingtalk,
        Format::Wecom,
        Format::Slack,
        Format::Discord,
        Format::Teams,
        Format::Telegram,
        Format::Template,
    ];

    pub fn parse(raw: &str) -> Result<Self, String> {
        Format::ALL
            .into_iter()
            .find(|format| format.as_str() == raw)
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
                format!("must be one of {}, not `{raw}`", names.join(", "))
            })
    }

    /// The chat platform a URL belongs to, judged by its host; `json` for any other.
    pub fn suggested_for(url: &url::Url) -> Format {
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        let is = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
        if is("open.feishu.cn") || is("open.larksuite.com") {
            Format::Feishu
        } else if is("oapi.dingtalk.com") {
            Format::Dingtalk
        } else if is("qyapi.weixin.qq.com") {
            Format::Wecom
        } else if is("hooks.slack.com") {
            Format::Slack
        } else if is("discord.com") || is("discordapp.com") {
            Format::Discord
        } else if is("api.telegram.org") {
            Format::Telegram
        } else if is("logic.azure.com") || is("webhook.office.com") || is("powerplatform.com") {
            Format::Teams
        } else {
            Format::Json
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Feishu => "feishu",
            Format::Dingtalk => "dingtalk",
            Format::Wecom => "wecom",
            Format::Slack => "slack",
            Format::Discord => "discord",
            Format::Teams => "teams",
            Format::Telegram => "telegram",
            Format::Template => "template",
        }
    }
}

/// Why a webhook is not enabled; shown in the list's Status column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisabledReason {
    /// An operator turned it off.
    Manual,
    /// Deliveries kept failing for the configured window.
    Failing,
    /// The receiver answered 410 Gone.
    Gone,
}

impl DisabledReason {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "manual" => Ok(DisabledReason::Manual),
            "failing" => Ok(DisabledReason::Failing),
            "gone" => Ok(DisabledReason::Gone),
            other => Err(format!("unknown disabled reason `{other}`")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DisabledReason::Manual => "manual",
            DisabledReason::Failing => "failing",
            DisabledReason::Gone => "gone",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_choice_round_trips_through_its_string() {
        for kind in [WebhookKind::Events, WebhookKind::Alarms] {
            assert_eq!(WebhookKind::parse(kind.as_str()).unwrap(), kind);
        }
        for language in [Language::ZhCn, Language::EnUs] {
            assert_eq!(Language::parse(language.as_str()).unwrap(), language);
        }
        for format in Format::ALL {
            assert_eq!(Format::parse(format.as_str()).unwrap(), format);
            let json = serde_json::to_string(&format).unwrap();
            assert_eq!(json, format!("\"{}\"", format.as_str()));
        }
        for reason in [
            DisabledReason::Manual,
            DisabledReason::Failing,
            DisabledReason::Gone,
        ] {
            assert_eq!(DisabledReason::parse(reason.as_str()).unwrap(), reason);
        }
    }

    #[test]
    fn the_format_is_suggested_by_the_host() {
        let suggest = |raw: &str| Format::suggested_for(&url::Url::parse(raw).unwrap());
        assert_eq!(
            suggest("https://open.feishu.cn/open-apis/bot/v2/hook/x"),
            Format::Feishu
        );
        assert_eq!(
            suggest("https://open.larksuite.com/open-apis/bot/v2/hook/x"),
            Format::Feishu
        );
        assert_eq!(
            suggest("https://oapi.dingtalk.com/robot/send?access_token=x"),
            Format::Dingtalk
        );
        assert_eq!(
            suggest("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x"),
            Format::Wecom
        );
        assert_eq!(
            suggest("https://hooks.slack.com/services/T/B/X"),
            Format::Slack
        );
        assert_eq!(
            suggest("https://discord.com/api/webhooks/1/x"),
            Format::Discord
        );
        assert_eq!(
            suggest("https://api.telegram.org/bot1:x/sendMessage"),
            Format::Telegram
        );
        assert_eq!(
            suggest("https://prod-01.westus.logic.azure.com/workflows/x"),
            Format::Teams
        );
        assert_eq!(suggest("https://example.com/hook"), Format::Json);
        assert_eq!(suggest("https://notfeishu.cn.example.com/"), Format::Json);
    }

    #[test]
    fn language_is_case_insensitive_but_canonical() {
        assert_eq!(Language::parse("ZH-cn").unwrap().as_str(), "zh-CN");
        assert!(Language::parse("chinese").unwrap_err().contains("zh-CN"));
    }

    #[test]
    fn errors_list_the_choices() {
        assert!(Format::parse("xml").unwrap_err().contains("feishu"));
        assert!(WebhookKind::parse("alerts").unwrap_err().contains("alarms"));
    }
}
