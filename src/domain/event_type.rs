//! Event types: what a platform can publish and a webhook can subscribe to.

use std::fmt;

use serde::Serialize;

/// Whether a type is a one-off event (with a success/failure result) or an alarm
/// (with a firing/resolved status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Event,
    Alarm,
}

impl EventKind {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "event" => Ok(EventKind::Event),
            "alarm" => Ok(EventKind::Alarm),
            other => Err(format!("must be `event` or `alarm`, not `{other}`")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Event => "event",
            EventKind::Alarm => "alarm",
        }
    }
}

/// How urgent an event or alarm is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Major,
    Critical,
    Emergency,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Info,
        Severity::Major,
        Severity::Critical,
        Severity::Emergency,
    ];

    pub fn parse(raw: &str) -> Result<Self, String> {
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| format!("must be one of info, major, critical, emergency, not `{raw}`"))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Major => "major",
            Severity::Critical => "critical",
            Severity::Emergency => "emergency",
        }
    }
}

/// A dotted, lowercase code such as `dr.host.disconnected`: 2 to 8 segments of
/// `[a-z0-9_]`, at most 128 bytes. Codes are stable: producers and subscriptions name
/// them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct EventTypeCode(String);

impl EventTypeCode {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > 128 {
            return Err("must be 1 to 128 bytes".into());
        }
        let segments: Vec<&str> = raw.split('.').collect();
        if !(2..=8).contains(&segments.len()) {
            return Err(format!("`{raw}` must have 2 to 8 dot-separated parts"));
        }
        let valid_segment = |s: &&str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        if !segments.iter().all(valid_segment) {
            return Err(format!(
                "`{raw}` may only use lowercase letters, digits and `_` between dots"
            ));
        }
        Ok(EventTypeCode(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventTypeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A text in both languages hookcast speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Localized {
    #[serde(rename = "en-US")]
    pub en: &'static str,
    #[serde(rename = "zh-CN")]
    pub zh: &'static str,
}

/// A node of the console's event tree (category or group).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TreeNode {
    pub id: &'static str,
    pub name: Localized,
}

/// One entry of the catalog.
#[derive(Debug, Clone, Serialize)]
pub struct EventType {
    pub code: EventTypeCode,
    pub kind: EventKind,
    pub category: TreeNode,
    pub group: TreeNode,
    pub name: Localized,
    pub default_severity: Severity,
    /// False for types hookcast sends on its own account (the test message): a
    /// webhook cannot subscribe to them.
    pub subscribable: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_dotted_lowercase() {
        assert!(EventTypeCode::parse("dr.host.disconnected").is_ok());
        assert!(EventTypeCode::parse("alarm.host.cpu_usage").is_ok());
        for bad in [
            "",
            "single",
            "Dr.host",
            "dr..host",
            "dr.host.",
            "dr.host-x",
            "a.b.c.d.e.f.g.h.i",
        ] {
            assert!(EventTypeCode::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
