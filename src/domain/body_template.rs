//! A user's own request body (format `template`): a minijinja template compiled when
//! saved, so a syntax error is refused with its line rather than found at 3 a.m.

use axum::http::HeaderValue;

pub const MAX_TEMPLATE_BYTES: usize = 64 * 1024;
/// A rendered body larger than this is refused (a loop gone wrong).
pub const MAX_OUTPUT_BYTES: usize = 256 * 1024;
/// Instructions a render may run; a runaway template is stopped, not left spinning.
pub const RENDER_FUEL: u64 = 200_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyTemplate {
    source: String,
    content_type: String,
}

impl BodyTemplate {
    /// `Err((field, message))`, the field being `template.body` or
    /// `template.content_type`.
    pub fn parse(source: &str, content_type: Option<&str>) -> Result<Self, (&'static str, String)> {
        if source.trim().is_empty() {
            return Err(("template.body", "must not be empty".into()));
        }
        if source.len() > MAX_TEMPLATE_BYTES {
            return Err((
                "template.body",
                format!("must be at most {MAX_TEMPLATE_BYTES} bytes"),
            ));
        }
        let env = minijinja::Environment::new();
        if let Err(error) = env.template_from_str(source) {
            return Err(("template.body", describe(&error)));
        }
        let content_type = content_type.unwrap_or("application/json").trim();
        let valid = content_type.contains('/')
            && HeaderValue::from_str(content_type).is_ok()
            && content_type.len() <= 256;
        if !valid {
            return Err((
                "template.content_type",
                format!("`{content_type}` is not a media type like application/json"),
            ));
        }
        Ok(BodyTemplate {
            source: source.to_string(),
            content_type: content_type.to_string(),
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn content_type(&self) -> &str {
        &self.content_type
    }
}

/// "line 3: unexpected end of input, expected end of block" — where and what.
pub fn describe(error: &minijinja::Error) -> String {
    let what = error
        .detail()
        .map(str::to_string)
        .unwrap_or_else(|| error.kind().to_string());
    match error.line() {
        Some(line) => format!("line {line}: {what}"),
        None => what,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syntax_error_names_its_line() {
        let (field, message) =
            BodyTemplate::parse("{\n  \"a\": {{ title }},\n  {% if x %}\n}", None).unwrap_err();
        assert_eq!(field, "template.body");
        assert!(message.starts_with("line "), "{message}");
        assert!(BodyTemplate::parse("{\"title\": {{ title|tojson }}}", None).is_ok());
        assert_eq!(
            BodyTemplate::parse("x", Some("nonsense")).unwrap_err().0,
            "template.content_type"
        );
    }
}
