//! How a webhook authenticates or signs its requests: the page's "Auth Type".

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use super::headers::{parse_header_name, parse_header_value};
use super::secret::{MASK, Secret};
use super::validation::FieldErrors;

/// Standard Webhooks secrets are `whsec_` + base64 of 24 to 64 random bytes.
pub const HMAC_SECRET_PREFIX: &str = "whsec_";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    None,
    Basic,
    Bearer,
    ApiKey,
    Hmac,
    DingtalkSign,
    FeishuSign,
}

impl AuthType {
    pub const ALL: [AuthType; 7] = [
        AuthType::None,
        AuthType::Basic,
        AuthType::Bearer,
        AuthType::ApiKey,
        AuthType::Hmac,
        AuthType::DingtalkSign,
        AuthType::FeishuSign,
    ];

    pub fn parse(raw: &str) -> Result<Self, String> {
        AuthType::ALL
            .into_iter()
            .find(|t| t.as_str() == raw)
            .ok_or_else(|| {
                let names: Vec<&str> = AuthType::ALL.iter().map(|t| t.as_str()).collect();
                format!("must be one of {}, not `{raw}`", names.join(", "))
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::None => "none",
            AuthType::Basic => "basic",
            AuthType::Bearer => "bearer",
            AuthType::ApiKey => "api_key",
            AuthType::Hmac => "hmac",
            AuthType::DingtalkSign => "dingtalk_sign",
            AuthType::FeishuSign => "feishu_sign",
        }
    }

    /// The input fields this type uses; any other field is a mistake worth naming.
    fn fields(self) -> &'static [&'static str] {
        match self {
            AuthType::None => &[],
            AuthType::Basic => &["username", "password"],
            AuthType::Bearer => &["token"],
            AuthType::ApiKey => &["header", "value"],
            AuthType::Hmac | AuthType::DingtalkSign | AuthType::FeishuSign => &["secret"],
        }
    }
}

/// A complete, valid auth configuration with its secrets in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthConfig {
    None,
    Basic { username: String, password: Secret },
    Bearer { token: Secret },
    ApiKey { header: String, value: Secret },
    Hmac { secret: Secret },
    DingtalkSign { secret: Secret },
    FeishuSign { secret: Secret },
}

/// The `auth` object as a client sends it. Secret fields may be left out (or sent
/// back as the mask) on update to keep the stored value.
#[derive(Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthInput {
    /// `none`, `basic`, `bearer`, `api_key` or `hmac`.
    #[serde(rename = "type")]
    pub auth_type: Option<String>,
    pub username: Option<String>,
    #[schema(value_type = Option<String>)]
    pub password: Option<Secret>,
    #[schema(value_type = Option<String>)]
    pub token: Option<Secret>,
    pub header: Option<String>,
    #[schema(value_type = Option<String>)]
    pub value: Option<Secret>,
    #[schema(value_type = Option<String>)]
    pub secret: Option<Secret>,
}

impl AuthInput {
    fn present_fields(&self) -> impl Iterator<Item = &'static str> {
        [
            ("username", self.username.is_some()),
            ("password", self.password.is_some()),
            ("token", self.token.is_some()),
            ("header", self.header.is_some()),
            ("value", self.value.is_some()),
            ("secret", self.secret.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
    }
}

/// The result of validating an [`AuthInput`].
#[derive(Debug)]
pub struct ResolvedAuth {
    pub config: AuthConfig,
    /// True when hookcast generated the HMAC secret: the create response shows it once.
    pub generated_secret: bool,
}

impl AuthConfig {
    pub fn auth_type(&self) -> AuthType {
        match self {
            AuthConfig::None => AuthType::None,
            AuthConfig::Basic { .. } => AuthType::Basic,
            AuthConfig::Bearer { .. } => AuthType::Bearer,
            AuthConfig::ApiKey { .. } => AuthType::ApiKey,
            AuthConfig::Hmac { .. } => AuthType::Hmac,
            AuthConfig::DingtalkSign { .. } => AuthType::DingtalkSign,
            AuthConfig::FeishuSign { .. } => AuthType::FeishuSign,
        }
    }

    /// The request header this auth type writes, if any.
    pub fn header_name(&self) -> Option<&str> {
        match self {
            AuthConfig::Basic { .. } | AuthConfig::Bearer { .. } => Some("authorization"),
            AuthConfig::ApiKey { header, .. } => Some(header),
            _ => None,
        }
    }

    /// The stored secret of the given field, when `self` is of the same type.
    fn secret_of(&self, auth_type: AuthType) -> Option<&Secret> {
        if self.auth_type() != auth_type {
            return None;
        }
        match self {
            AuthConfig::None => None,
            AuthConfig::Basic { password, .. } => Some(password),
            AuthConfig::Bearer { token } => Some(token),
            AuthConfig::ApiKey { value, .. } => Some(value),
            AuthConfig::Hmac { secret }
            | AuthConfig::DingtalkSign { secret }
            | AuthConfig::FeishuSign { secret } => Some(secret),
        }
    }

    /// Validates client input. `previous` is the stored configuration on update:
    /// a secret that is left out, or sent back masked, keeps its stored value when the
    /// type is unchanged. Problems are recorded under `auth.<field>`.
    pub fn from_input(
        input: AuthInput,
        previous: Option<&AuthConfig>,
        errors: &mut FieldErrors,
    ) -> Option<ResolvedAuth> {
        let Some(raw_type) = input.auth_type.as_deref() else {
            errors.push("auth.type", "is required");
            return None;
        };
        let auth_type = errors.check("auth.type", AuthType::parse(raw_type))?;
        let before = errors.len();
        for field in input.present_fields() {
            if !auth_type.fields().contains(&field) {
                errors.push(
                    format!("auth.{field}"),
                    format!("is not used by auth type `{}`", auth_type.as_str()),
                );
            }
        }

        let kept = previous.and_then(|p| p.secret_of(auth_type)).cloned();
        let mut generated_secret = false;
        let mut secret_field =
            |field: &str, given: Option<Secret>, errors: &mut FieldErrors| match given
                .filter(|s| s.expose() != MASK)
                .or(kept.clone())
            {
                Some(secret) => Some(secret),
                None if auth_type == AuthType::Hmac => {
                    generated_secret = true;
                    Some(generate_hmac_secret())
                }
                None => {
                    errors.push(format!("auth.{field}"), "is required");
                    None
                }
            };

        let config = match auth_type {
            AuthType::None => Some(AuthConfig::None),
            AuthType::Basic => {
                let username = match input.username.as_deref() {
                    None => {
                        errors.push("auth.username", "is required");
                        None
                    }
                    Some(raw) => errors.check("auth.username", parse_username(raw)),
                };
                let password = secret_field("password", input.password, errors)
                    .and_then(|s| errors.check("auth.password", check_token_text(s, 1024)));
                Some(AuthConfig::Basic {
                    username: username?,
                    password: password?,
                })
            }
            AuthType::Bearer => {
                let token = secret_field("token", input.token, errors)
                    .and_then(|s| errors.check("auth.token", check_token_text(s, 4096)));
                Some(AuthConfig::Bearer { token: token? })
            }
            AuthType::ApiKey => {
                let header = match input.header.as_deref() {
                    None => {
                        errors.push("auth.header", "is required");
                        None
                    }
                    Some(raw) => errors.check("auth.header", parse_header_name(raw)),
                };
                let value = secret_field("value", input.value, errors).and_then(|s| {
                    errors.check(
                        "auth.value",
                        parse_header_value(s.expose()).and_then(|_| check_token_text(s, 4096)),
                    )
                });
                Some(AuthConfig::ApiKey {
                    header: header?,
                    value: value?,
                })
            }
            AuthType::Hmac => {
                let secret = secret_field("secret", input.secret, errors)
                    .and_then(|s| errors.check("auth.secret", check_hmac_secret(s)));
                Some(AuthConfig::Hmac { secret: secret? })
            }
            AuthType::DingtalkSign => {
                let secret = secret_field("secret", input.secret, errors)
                    .and_then(|s| errors.check("auth.secret", check_dingtalk_secret(s)));
                Some(AuthConfig::DingtalkSign { secret: secret? })
            }
            AuthType::FeishuSign => {
                let secret = secret_field("secret", input.secret, errors)
                    .and_then(|s| errors.check("auth.secret", check_token_text(s, 256)));
                Some(AuthConfig::FeishuSign { secret: secret? })
            }
        }?;
        if errors.len() != before {
            return None;
        }
        Some(ResolvedAuth {
            config,
            generated_secret,
        })
    }
}

/// A fresh Standard Webhooks secret: 32 random bytes.
pub fn generate_hmac_secret() -> Secret {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    Secret::new(format!("{HMAC_SECRET_PREFIX}{}", STANDARD.encode(bytes)))
}

fn parse_username(raw: &str) -> Result<String, String> {
    if raw.is_empty() || raw.len() > 256 {
        return Err("must be 1 to 256 bytes".into());
    }
    if raw.contains(':') {
        return Err("must not contain `:` (it separates user name and password)".into());
    }
    if raw.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(raw.to_string())
}

/// Tokens and passwords travel in headers: non-empty, bounded, no control characters.
fn check_token_text(secret: Secret, max_bytes: usize) -> Result<Secret, String> {
    let text = secret.expose();
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    if text.len() > max_bytes {
        return Err(format!("must be at most {max_bytes} bytes"));
    }
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(secret)
}

fn check_hmac_secret(secret: Secret) -> Result<Secret, String> {
    let body = secret
        .expose()
        .strip_prefix(HMAC_SECRET_PREFIX)
        .ok_or_else(|| format!("must start with `{HMAC_SECRET_PREFIX}`"))?;
    let key = STANDARD
        .decode(body)
        .map_err(|_| format!("must be `{HMAC_SECRET_PREFIX}` followed by base64"))?;
    if !(24..=64).contains(&key.len()) {
        return Err(format!(
            "must encode 24 to 64 bytes of key (got {})",
            key.len()
        ));
    }
    Ok(secret)
}

fn check_dingtalk_secret(secret: Secret) -> Result<Secret, String> {
    let text = secret.expose();
    if !text.starts_with("SEC") {
        return Err("must start with `SEC` (DingTalk's signing secret)".into());
    }
    if text.len() > 256 || !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("must be at most 256 letters and digits".into());
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> AuthInput {
        serde_json::from_value(json).unwrap()
    }

    fn resolve(
        json: serde_json::Value,
        previous: Option<&AuthConfig>,
    ) -> Result<ResolvedAuth, Vec<String>> {
        let mut errors = FieldErrors::default();
        let resolved = AuthConfig::from_input(input(json), previous, &mut errors);
        match resolved {
            Some(r) if errors.is_empty() => Ok(r),
            _ => Err(errors.into_vec().into_iter().map(|e| e.field).collect()),
        }
    }

    #[test]
    fn the_standard_webhooks_test_secret_is_accepted() {
        let r = resolve(
            serde_json::json!({"type":"hmac","secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}),
            None,
        )
        .unwrap();
        assert!(!r.generated_secret);
    }

    #[test]
    fn an_omitted_hmac_secret_is_generated() {
        let r = resolve(serde_json::json!({"type":"hmac"}), None).unwrap();
        assert!(r.generated_secret);
        let AuthConfig::Hmac { secret } = r.config else {
            panic!("not hmac")
        };
        assert!(check_hmac_secret(secret).is_ok());
    }

    #[test]
    fn missing_and_foreign_fields_are_named() {
        assert_eq!(
            resolve(serde_json::json!({"type":"basic"}), None).unwrap_err(),
            ["auth.username", "auth.password"]
        );
        assert_eq!(
            resolve(
                serde_json::json!({"type":"bearer","token":"t","secret":"s"}),
                None
            )
            .unwrap_err(),
            ["auth.secret"]
        );
        assert_eq!(
            resolve(serde_json::json!({"type":"oauth"}), None).unwrap_err(),
            ["auth.type"]
        );
        assert_eq!(
            resolve(
                serde_json::json!({"type":"dingtalk_sign","secret":"abc"}),
                None
            )
            .unwrap_err(),
            ["auth.secret"]
        );
    }

    #[test]
    fn omitted_or_masked_secrets_keep_the_stored_value() {
        let stored = AuthConfig::Basic {
            username: "ops".into(),
            password: Secret::new("s3cret"),
        };
        for json in [
            serde_json::json!({"type":"basic","username":"ops2"}),
            serde_json::json!({"type":"basic","username":"ops2","password":MASK}),
        ] {
            let r = resolve(json, Some(&stored)).unwrap();
            assert_eq!(
                r.config,
                AuthConfig::Basic {
                    username: "ops2".into(),
                    password: Secret::new("s3cret")
                }
            );
        }
        // A different type does not inherit the old secret.
        assert_eq!(
            resolve(serde_json::json!({"type":"bearer"}), Some(&stored)).unwrap_err(),
            ["auth.token"]
        );
    }
}
