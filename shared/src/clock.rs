//! Time is a parameter. The domain never reads the system clock (see
//! `clippy.toml`): it asks a [`Clock`], and tests hand it a manual one
//! (`tobira_test_kit::ManualClock`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }
    pub const fn from_secs(s: i64) -> Self {
        Self(s * 1000)
    }
    pub const fn millis(self) -> i64 {
        self.0
    }
    /// Whole seconds, rounded up: what a DynamoDB TTL attribute holds.
    pub const fn secs_ceil(self) -> i64 {
        (self.0 + 999).div_euclid(1000)
    }
    pub fn plus(self, d: Duration) -> Self {
        Self(self.0.saturating_add(d.as_millis() as i64))
    }
    /// Time from `self` until `later`, zero if `later` is not later.
    pub fn until(self, later: Timestamp) -> Duration {
        Duration::from_millis(later.0.saturating_sub(self.0).max(0) as u64)
    }
    /// RFC 3339 in UTC, e.g. `2026-11-21T12:00:00Z`.
    pub fn rfc3339(self) -> String {
        self.to_chrono().format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
    /// Japan Standard Time for mails to users, e.g. `2026-11-24 21:00 JST`.
    pub fn jst(self) -> String {
        let jst = chrono::FixedOffset::east_opt(9 * 3600).expect("valid offset");
        self.to_chrono()
            .with_timezone(&jst)
            .format("%Y-%m-%d %H:%M JST")
            .to_string()
    }
    /// The time in an IANA zone (`Asia/Tokyo`; an unknown name: Japan's),
    /// e.g. `2026-11-24 21:00 JST`: what a viewer is shown (ADM-1).
    pub fn in_zone(self, zone: &str) -> String {
        let tz = zone.parse().unwrap_or(chrono_tz::Asia::Tokyo);
        self.to_chrono()
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
    }
    /// The calendar date in JST (`YYYY-MM-DD`), for migration windows.
    pub fn jst_date(self) -> String {
        let jst = chrono::FixedOffset::east_opt(9 * 3600).expect("valid offset");
        self.to_chrono()
            .with_timezone(&jst)
            .format("%Y-%m-%d")
            .to_string()
    }
    fn to_chrono(self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp_millis(self.0).unwrap_or_default()
    }
}

/// A source of the current time.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The real clock: used only at the edges (Lambda `main`, the local server).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place that may read the system clock
    fn now(&self) -> Timestamp {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(d.as_millis() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_rounds() {
        let t = Timestamp::from_millis(1_700_000_000_001);
        assert_eq!(t.secs_ceil(), 1_700_000_001);
        assert_eq!(Timestamp::from_secs(5).secs_ceil(), 5);
        assert_eq!(Timestamp::from_secs(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp::from_secs(0).jst(), "1970-01-01 09:00 JST");
        assert_eq!(t.until(Timestamp::from_secs(1)), Duration::ZERO);
    }
}
