//! Turns a rendered body into the exact HTTP request: standard headers, the operator's
//! headers, authentication or signature. Also produces the logged copy, with secrets
//! replaced by the mask.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use ring::hmac;
use serde_json::Value;
use url::Url;

use super::render::RenderedBody;
use crate::domain::auth::{AuthConfig, HMAC_SECRET_PREFIX};
use crate::domain::delivery::{LoggedRequest, STORED_BODY_LIMIT};
use crate::domain::secret::MASK;
use crate::domain::webhook::WebhookSpec;

/// A request ready to send, and how it appears in the attempt log.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub logged: LoggedRequest,
}

/// The parts of a [`PreparedRequest`] that go on the wire.
pub struct Outgoing {
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl PreparedRequest {
    /// What to send, and what to log of it.
    pub fn split(self) -> (Outgoing, LoggedRequest) {
        let PreparedRequest {
            url,
            headers,
            body,
            logged,
        } = self;
        (Outgoing { url, headers, body }, logged)
    }
}

/// Standard Webhooks signature: `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")),
/// where the key is the base64 part of the `whsec_` secret.
pub fn standard_webhooks_signature(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, String> {
    let encoded = secret.strip_prefix(HMAC_SECRET_PREFIX).unwrap_or(secret);
    let key_bytes = STANDARD
        .decode(encoded)
        .map_err(|_| "the signing secret is not base64".to_string())?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key_bytes);
    let mut message = Vec::with_capacity(id.len() + body.len() + 24);
    message.extend_from_slice(id.as_bytes());
    message.push(b'.');
    message.extend_from_slice(timestamp.to_string().as_bytes());
    message.push(b'.');
    message.extend_from_slice(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(hmac::sign(&key, &message).as_ref())
    ))
}

/// DingTalk: base64(HMAC-SHA256(key = secret, message = "{ms}\n{secret}")).
pub fn dingtalk_signature(secret: &str, timestamp_ms: i64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let message = format!("{timestamp_ms}\n{secret}");
    STANDARD.encode(hmac::sign(&key, message.as_bytes()).as_ref())
}

/// Feishu: base64(HMAC-SHA256(key = "{seconds}\n{secret}", message = "")).
pub fn feishu_signature(secret: &str, timestamp_s: i64) -> String {
    let key = hmac::Key::new(
        hmac::HMAC_SHA256,
        format!("{timestamp_s}\n{secret}").as_bytes(),
    );
    STANDARD.encode(hmac::sign(&key, b"").as_ref())
}

/// Builds the request for one attempt. `message_id` goes out as `webhook-id`.
pub fn prepare(
    spec: &WebhookSpec,
    message_id: &str,
    body: RenderedBody,
    now: DateTime<Utc>,
) -> Result<PreparedRequest, String> {
    let timestamp = now.timestamp();
    let mut url = spec.url.url().clone();
    let mut body = body;
    let mut headers = HeaderMap::new();
    let mut masked: Vec<&'static str> = Vec::new();
    let put = |headers: &mut HeaderMap, name: &str, value: &str| -> Result<(), String> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("bad header name `{name}`"))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("the value of `{name}` cannot be sent"))?;
        headers.insert(name, value);
        Ok(())
    };

    for (name, value) in spec.headers.iter() {
        put(&mut headers, name, value)?;
    }
    match &spec.auth {
        AuthConfig::None | AuthConfig::Hmac { .. } => {}
        AuthConfig::Basic { username, password } => {
            let credentials = STANDARD.encode(format!("{username}:{}", password.expose()));
            put(
                &mut headers,
                "authorization",
                &format!("Basic {credentials}"),
            )?;
            masked.push("authorization");
        }
        AuthConfig::Bearer { token } => {
            put(
                &mut headers,
                "authorization",
                &format!("Bearer {}", token.expose()),
            )?;
            masked.push("authorization");
        }
        AuthConfig::ApiKey { header, value } => {
            put(&mut headers, header, value.expose())?;
        }
        AuthConfig::DingtalkSign { secret } => {
            let timestamp_ms = now.timestamp_millis();
            let signature = dingtalk_signature(secret.expose(), timestamp_ms);
            url.query_pairs_mut()
                .append_pair("timestamp", &timestamp_ms.to_string())
                .append_pair("sign", &signature);
        }
        AuthConfig::FeishuSign { secret } => {
            // Feishu reads the signature from the top level of its JSON body. An
            // envelope (a generic webhook signed the Feishu way) is opened up for it.
            if let RenderedBody::Encoded(bytes) = &body {
                body = RenderedBody::Json(
                    serde_json::from_slice(bytes).expect("an encoded body is JSON"),
                );
            }
            if let RenderedBody::Json(Value::Object(map)) = &mut body {
                map.insert("timestamp".into(), Value::from(timestamp.to_string()));
                map.insert(
                    "sign".into(),
                    Value::from(feishu_signature(secret.expose(), timestamp)),
                );
            }
        }
    }
    let (body, content_type) = match body {
        RenderedBody::Encoded(bytes) => (bytes, "application/json".to_string()),
        RenderedBody::Json(value) => (
            serde_json::to_vec(&value).expect("JSON values serialize"),
            "application/json".to_string(),
        ),
        RenderedBody::Text {
            content,
            content_type,
        } => (content.into_bytes(), content_type),
    };
    put(&mut headers, "content-type", &content_type)?;
    put(
        &mut headers,
        "user-agent",
        concat!("hookcast/", env!("CARGO_PKG_VERSION")),
    )?;
    put(&mut headers, "webhook-id", message_id)?;
    put(&mut headers, "webhook-timestamp", &timestamp.to_string())?;
    if let AuthConfig::Hmac { secret } = &spec.auth {
        let signature = standard_webhooks_signature(secret.expose(), message_id, timestamp, &body)?;
        put(&mut headers, "webhook-signature", &signature)?;
    }

    let api_key_header = match &spec.auth {
        AuthConfig::ApiKey { header, .. } => Some(header.to_ascii_lowercase()),
        _ => None,
    };
    let logged_headers = headers
        .iter()
        .map(|(name, value)| {
            let shown = if masked.contains(&name.as_str()) {
                let scheme = value.to_str().unwrap_or("").split(' ').next().unwrap_or("");
                format!("{scheme} {MASK}")
            } else if api_key_header.as_deref() == Some(name.as_str()) {
                MASK.to_string()
            } else {
                value.to_str().unwrap_or("<binary>").to_string()
            };
            (name.as_str().to_string(), shown)
        })
        .collect();
    let logged = LoggedRequest {
        method: "POST".into(),
        url: redact_url(&url),
        headers: logged_headers,
        body: truncate_utf8(&String::from_utf8_lossy(&body), STORED_BODY_LIMIT),
    };
    Ok(PreparedRequest {
        url,
        headers,
        body,
        logged,
    })
}

/// The URL as logged: credentials carried in URLs (Telegram's bot token, DingTalk's
/// `access_token`, WeCom's `key`) are masked.
pub fn redact_url(url: &Url) -> String {
    // Most URLs carry neither (every delivery logs its URL): shown as they are.
    if url.query().is_none() && !url.path().contains("/bot") {
        return url.to_string();
    }
    let mut shown = url.clone();
    if let Some(segments) = url.path_segments() {
        let masked: Vec<String> = segments
            .map(|s| {
                if s.starts_with("bot") && s.contains(':') {
                    format!("bot{MASK}")
                } else {
                    s.to_string()
                }
            })
            .collect();
        shown.set_path(&masked.join("/"));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let secret = matches!(k.as_ref(), "access_token" | "key" | "token");
                (
                    k.into_owned(),
                    if secret {
                        MASK.to_string()
                    } else {
                        v.into_owned()
                    },
                )
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    shown.to_string()
}

/// At most `limit` bytes, cut on a character boundary.
pub fn truncate_utf8(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_webhooks_test_vector_passes() {
        let signature = standard_webhooks_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn credentials_in_urls_are_masked_in_the_log() {
        let url = |raw: &str| redact_url(&Url::parse(raw).unwrap());
        assert_eq!(
            url("https://api.telegram.org/bot123456:ABC-def/sendMessage?chat_id=42"),
            "https://api.telegram.org/bot********/sendMessage?chat_id=42"
        );
        assert_eq!(
            url("https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1&sign=x"),
            "https://oapi.dingtalk.com/robot/send?access_token=********&timestamp=1&sign=x"
        );
        assert_eq!(url("https://example.com/hook"), "https://example.com/hook");
    }

    #[test]
    fn truncation_never_splits_a_character() {
        assert_eq!(truncate_utf8("主机失联", 7), "主机");
        assert_eq!(truncate_utf8("abc", 7), "abc");
    }
}
