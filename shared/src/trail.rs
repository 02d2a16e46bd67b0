//! AUD-1 / ADM-6: where audit records and sign-in events are stored (a
//! leaf: the keys, the shards, which audit kinds are sign-ins).
//!
//! A sign-in event (a password or second-factor attempt, or one refused
//! because the account is locked) of a known user is two items, written in
//! the transaction of the attempt itself:
//!
//! - `SIGNIN#T#<tenant>#<YYYY-MM>`: the tenant's month, which is the audit
//!   record of the event (AUD-1): an admin's month of the tenant is one query;
//! - `SIGNIN#U#<user>#<YYYY-MM>`: the user's copy: one user's month is one
//!   query, and never reads the rest of the tenant.
//!
//! An attempt on a login ID nobody holds has no tenant: its record and copy
//! go to one of [`SHARDS`] partitions of the day (`AUDIT#-#<day>#<n>`,
//! `SIGNIN#-#<day>#<n>`), so that a password-spraying attack spreads its
//! writes instead of heating one partition, and so that a known and an
//! unknown login ID write the same number of items (LOG-3). Sort keys run
//! newest first (`<9999999999999 − ms>#<ULID>`). Months are UTC months.

use crate::clock::Timestamp;

/// The partitions a day's records of no tenant are spread over.
pub const SHARDS: u8 = 16;

/// The audit kinds that are sign-in events, with the history's event and
/// outcome for each. A lock that an attempt starts is an account event
/// (audited as `login.locked`); the attempts refused while it holds show it.
const EVENTS: &[(&str, &str, &str)] = &[
    ("login.password_ok", "password", "success"),
    ("login.failure", "password", "failure"),
    ("login.refused_locked", "password", "locked"),
    ("mfa.success", "second_factor", "success"),
    ("mfa.failure", "second_factor", "failure"),
    ("mfa.refused_locked", "second_factor", "locked"),
    // MFA-10: both steps at once with a passkey.
    ("login.passkey_ok", "passkey", "success"),
    ("login.passkey_failure", "passkey", "failure"),
    ("login.passkey_refused_locked", "passkey", "locked"),
];

/// The history's event and outcome of an audit kind, if it is a sign-in.
pub fn event_of(kind: &str) -> Option<(&'static str, &'static str)> {
    EVENTS
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map(|(_, e, o)| (*e, *o))
}

/// `YYYY-MM` (UTC) of a time: the month partitions.
pub fn month(at: Timestamp) -> String {
    utc(at).format("%Y-%m").to_string()
}

/// `YYYY-MM-DD` (UTC) of a time: the day partitions of records of no tenant.
pub fn day(at: Timestamp) -> String {
    utc(at).format("%Y-%m-%d").to_string()
}

fn utc(at: Timestamp) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(at.millis()).unwrap_or_default()
}

/// Newest first: the sort key of an event at `at` with id `id`.
pub(crate) fn sort_key(at: Timestamp, id: &str) -> String {
    format!("{:013}#{id}", newest_first(at))
}

const LAST_MS: i64 = 9_999_999_999_999;

pub(crate) fn newest_first(at: Timestamp) -> i64 {
    (LAST_MS - at.millis()).clamp(0, LAST_MS)
}
