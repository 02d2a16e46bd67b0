//! Time is a parameter. The domain never reads the system clock (see
//! `clippy.toml`): it asks a [`Clock`], and tests hand it a [`ManualClock`].

use std::sync::atomic::{AtomicI64, Ordering};
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

/// A clock that moves only when told to: tests of lock windows, expiry, TOTP steps.
/// Optionally it also ticks forward on every reading (time budgets).
#[derive(Debug)]
pub struct ManualClock(AtomicI64, AtomicI64);

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self(AtomicI64::new(start.0), AtomicI64::new(0))
    }
    pub fn advance(&self, d: Duration) {
        self.0.fetch_add(d.as_millis() as i64, Ordering::SeqCst);
    }
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.0, Ordering::SeqCst);
    }
    /// Move forward by `d` every time the clock is read (zero: stand still).
    pub fn set_tick(&self, d: Duration) {
        self.1.store(d.as_millis() as i64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        let tick = self.1.load(Ordering::SeqCst);
        Timestamp(self.0.fetch_add(tick, Ordering::SeqCst))
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

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(Timestamp::from_secs(10));
        assert_eq!(c.now(), Timestamp::from_secs(10));
        c.advance(Duration::from_secs(5));
        assert_eq!(c.now(), Timestamp::from_secs(15));
    }
}
