//! What a receiver's answer means, per format. Chat platforms answer 200 with an
//! error code in the body: a bad token, signature or keyword is permanent, a rate
//! limit is retried after the platform's delay.

use std::time::Duration;

use serde_json::Value;

use crate::domain::choices::Format;
use crate::domain::delivery::Verdict;

/// The verdict and, when the platform refused, its code and message in words.
pub fn judge(
    format: Format,
    status: u16,
    body: &str,
    retry_after: Option<Duration>,
) -> (Verdict, Option<String>) {
    let json: Option<Value> = serde_json::from_str(body).ok();
    let number = |key: &str| {
        json.as_ref()
            .and_then(|j| j.get(key))
            .and_then(Value::as_i64)
    };
    let text = |key: &str| {
        json.as_ref()
            .and_then(|j| j.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    // Discord and Telegram put the delay in the body of a 429.
    let body_retry_after = json
        .as_ref()
        .and_then(|j| {
            j.get("retry_after")
                .or_else(|| j.get("parameters").and_then(|p| p.get("retry_after")))
        })
        .and_then(Value::as_f64)
        .map(Duration::from_secs_f64);
    let retry_after = retry_after.or(body_retry_after);

    if !(200..300).contains(&status) {
        let verdict = Verdict::for_status(status, retry_after);
        let detail = match format {
            Format::Telegram if !text("description").is_empty() => {
                Some(format!("Telegram error {status}: {}", text("description")))
            }
            Format::Slack | Format::Discord if !body.trim().is_empty() && body.len() < 200 => {
                Some(format!(
                    "{} answered HTTP {status}: {}",
                    platform_name(format),
                    body.trim()
                ))
            }
            _ => None,
        };
        return (verdict, detail);
    }
    let refused = |code: i64, message: String, retryable: bool| {
        let verdict = if retryable {
            Verdict::Retry { retry_after }
        } else {
            Verdict::Permanent
        };
        (
            verdict,
            Some(format!("{} error {code}: {message}", platform_name(format))),
        )
    };
    match format {
        // Older Feishu replies say `StatusCode`; a body without a code is not Feishu's
        // refusal (a relay in between, say), and the 200 stands.
        Format::Feishu => match number("code").or_else(|| number("StatusCode")) {
            Some(0) | None => (Verdict::Delivered, None),
            Some(code) => {
                let message = if json.as_ref().and_then(|j| j.get("msg")).is_some() {
                    text("msg")
                } else {
                    text("StatusMessage")
                };
                refused(code, message, code == 11232)
            }
        },
        Format::Dingtalk => match number("errcode") {
            Some(0) | None => (Verdict::Delivered, None),
            // 130101: sending too fast.
            Some(code) => refused(code, text("errmsg"), code == 130101),
        },
        Format::Wecom => match number("errcode") {
            Some(0) | None => (Verdict::Delivered, None),
            // 45009: rate limited.
            Some(code) => refused(code, text("errmsg"), code == 45009),
        },
        Format::Telegram => match json
            .as_ref()
            .and_then(|j| j.get("ok"))
            .and_then(Value::as_bool)
        {
            Some(false) => {
                let code = number("error_code").unwrap_or(0);
                refused(code, text("description"), code == 429)
            }
            _ => (Verdict::Delivered, None),
        },
        Format::Json | Format::Template | Format::Slack | Format::Discord | Format::Teams => {
            (Verdict::Delivered, None)
        }
    }
}

fn platform_name(format: Format) -> &'static str {
    match format {
        Format::Feishu => "Feishu",
        Format::Dingtalk => "DingTalk",
        Format::Wecom => "WeCom",
        Format::Slack => "Slack",
        Format::Discord => "Discord",
        Format::Teams => "Teams",
        Format::Telegram => "Telegram",
        Format::Json | Format::Template => "the receiver",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feishu_error_in_a_200_is_permanent_and_named() {
        let (verdict, detail) = judge(
            Format::Feishu,
            200,
            r#"{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}"#,
            None,
        );
        assert_eq!(verdict, Verdict::Permanent);
        assert_eq!(
            detail.unwrap(),
            "Feishu error 19021: sign match fail or timestamp is not within one hour from current time"
        );
        assert_eq!(
            judge(Format::Feishu, 200, r#"{"code":0,"msg":"success"}"#, None).0,
            Verdict::Delivered
        );
        assert_eq!(
            judge(Format::Feishu, 200, r#"{"StatusCode":0}"#, None).0,
            Verdict::Delivered
        );
    }

    #[test]
    fn dingtalk_and_wecom_codes() {
        assert_eq!(
            judge(
                Format::Dingtalk,
                200,
                r#"{"errcode":0,"errmsg":"ok"}"#,
                None
            )
            .0,
            Verdict::Delivered
        );
        let (verdict, detail) = judge(
            Format::Dingtalk,
            200,
            r#"{"errcode":310000,"errmsg":"keywords not in content"}"#,
            None,
        );
        assert_eq!(verdict, Verdict::Permanent);
        assert!(detail.unwrap().contains("310000"));
        assert!(matches!(
            judge(
                Format::Dingtalk,
                200,
                r#"{"errcode":130101,"errmsg":"send too fast"}"#,
                None
            )
            .0,
            Verdict::Retry { .. }
        ));
        assert!(matches!(
            judge(
                Format::Wecom,
                200,
                r#"{"errcode":45009,"errmsg":"freq limit"}"#,
                None
            )
            .0,
            Verdict::Retry { .. }
        ));
        assert_eq!(
            judge(
                Format::Wecom,
                200,
                r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#,
                None
            )
            .0,
            Verdict::Permanent
        );
    }

    #[test]
    fn telegram_and_discord_delays_come_from_the_body() {
        let (verdict, _) = judge(
            Format::Telegram,
            429,
            r#"{"ok":false,"error_code":429,"description":"Too Many Requests","parameters":{"retry_after":7}}"#,
            None,
        );
        assert_eq!(
            verdict,
            Verdict::Retry {
                retry_after: Some(Duration::from_secs(7))
            }
        );
        let (verdict, _) = judge(
            Format::Discord,
            429,
            r#"{"message":"rate limited","retry_after":1.5}"#,
            None,
        );
        assert_eq!(
            verdict,
            Verdict::Retry {
                retry_after: Some(Duration::from_millis(1500))
            }
        );
        let (verdict, detail) = judge(
            Format::Telegram,
            400,
            r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
            None,
        );
        assert_eq!(verdict, Verdict::Permanent);
        assert_eq!(
            detail.unwrap(),
            "Telegram error 400: Bad Request: chat not found"
        );
    }
}
