//! The time zone messages show times in. The reference portal shows UTC+08:00.

use chrono::{DateTime, FixedOffset, Utc};

/// A fixed UTC offset, written `UTC+08:00`, `+08:00`, `-05:30` or `UTC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisplayZone(FixedOffset);

pub const DEFAULT_TIME_ZONE: &str = "UTC+08:00";

impl DisplayZone {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        let offset = text.strip_prefix("UTC").unwrap_or(text);
        if offset.is_empty() {
            return Ok(DisplayZone(FixedOffset::east_opt(0).expect("zero offset")));
        }
        let bad = || format!("`{raw}` is not a UTC offset like UTC+08:00");
        let (sign, rest) = match offset.as_bytes()[0] {
            b'+' => (1, &offset[1..]),
            b'-' => (-1, &offset[1..]),
            _ => return Err(bad()),
        };
        let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
        let hours: i32 = hours.parse().map_err(|_| bad())?;
        let minutes: i32 = minutes.parse().map_err(|_| bad())?;
        if hours > 14 || minutes > 59 {
            return Err(bad());
        }
        FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
            .map(DisplayZone)
            .ok_or_else(bad)
    }

    /// `2026-11-27 13:00:00`
    pub fn format(&self, at: DateTime<Utc>) -> String {
        // Written out rather than through format_with's strftime pattern, which is
        // parsed anew on every call: every message shows a time, and the pattern's
        // parsing was most of a time's cost in the delivery profile.
        use chrono::{Datelike, Timelike};
        let local = at.with_timezone(&self.0);
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            local.year(),
            local.month(),
            local.day(),
            local.hour(),
            local.minute(),
            local.second()
        )
    }

    /// `2026-11-27 13:00:00 (UTC+08:00)`: the time every message shows.
    pub fn format_labelled(&self, at: DateTime<Utc>) -> String {
        format!("{} ({})", self.format(at), self.label())
    }

    /// With a strftime pattern; an invalid pattern shows as written instead of failing.
    pub fn format_with(&self, at: DateTime<Utc>, pattern: &str) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let local = at.with_timezone(&self.0);
        if write!(out, "{}", local.format(pattern)).is_err() {
            return pattern.to_string();
        }
        out
    }

    /// Seconds east of UTC.
    pub fn offset_seconds(&self) -> i32 {
        self.0.local_minus_utc()
    }

    /// `UTC+08:00`
    pub fn label(&self) -> String {
        let seconds = self.0.local_minus_utc();
        let sign = if seconds < 0 { '-' } else { '+' };
        let seconds = seconds.abs();
        format!("UTC{sign}{:02}:{:02}", seconds / 3600, seconds % 3600 / 60)
    }
}

impl Default for DisplayZone {
    fn default() -> Self {
        DisplayZone::parse(DEFAULT_TIME_ZONE).expect("valid default")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_the_zone() {
        let at = DateTime::parse_from_rfc3339("2026-11-27T05:00:00Z")
            .unwrap()
            .to_utc();
        let zone = DisplayZone::default();
        assert_eq!(zone.format(at), "2026-11-27 13:00:00");
        assert_eq!(zone.label(), "UTC+08:00");
        assert_eq!(DisplayZone::parse("UTC").unwrap().label(), "UTC+00:00");
        assert_eq!(
            DisplayZone::parse("-05:30").unwrap().format(at),
            "2026-11-26 23:30:00"
        );
        for bad in ["CST", "+25:00", "UTC+8:99", "8"] {
            assert!(DisplayZone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_written_out_format_is_the_strftime_one() {
        let start = DateTime::parse_from_rfc3339("1999-12-31T23:59:58Z")
            .unwrap()
            .to_utc();
        for zone in ["+08:00", "-05:30", "UTC", "+14:00"] {
            let zone = DisplayZone::parse(zone).unwrap();
            // Across midnight, month, year and leap-day boundaries in each zone.
            for step in 0..2_000_i64 {
                let at = start + chrono::Duration::seconds(step * 86_413 + step % 7);
                assert_eq!(zone.format(at), zone.format_with(at, "%Y-%m-%d %H:%M:%S"));
            }
        }
    }
}
