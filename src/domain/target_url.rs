//! The URL a webhook delivers to.

use serde::Serialize;
use url::Url;

pub const MAX_URL_BYTES: usize = 2048;

/// An absolute `http` or `https` URL with a host, at most 2,048 bytes, without
/// embedded credentials (those belong in the auth settings, where they are encrypted).
///
/// The text is kept as the operator typed it so it reads back unchanged; the parsed
/// form is what the sender uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TargetUrl {
    raw: String,
    #[serde(skip)]
    parsed: Url,
}

impl TargetUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("must not be empty".into());
        }
        if raw.len() > MAX_URL_BYTES {
            return Err(format!(
                "must be at most {MAX_URL_BYTES} bytes (got {})",
                raw.len()
            ));
        }
        let parsed = Url::parse(raw).map_err(|e| format!("is not an absolute URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("must use http or https, not `{}`", parsed.scheme()));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err("must name a host".into());
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("must not contain a user name or password; use `auth` instead".into());
        }
        Ok(TargetUrl {
            raw: raw.to_string(),
            parsed,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn url(&self) -> &Url {
        &self.parsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_text_as_given() {
        let raw =
            "https://open.feishu.cn/open-apis/bot/v2/hook/2f9c1d0e-aaaa-bbbb-cccc-0123456789ab";
        assert_eq!(TargetUrl::parse(raw).unwrap().as_str(), raw);
        assert_eq!(
            TargetUrl::parse("http://example.com").unwrap().as_str(),
            "http://example.com"
        );
    }

    #[test]
    fn refuses_what_cannot_be_delivered_to() {
        for bad in [
            "",
            "example.com/hook",
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "file:///etc/passwd",
            "http://",
        ] {
            assert!(TargetUrl::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_BYTES));
        assert!(TargetUrl::parse(&long).unwrap_err().contains("2048"));
    }
}
