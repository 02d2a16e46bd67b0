//! Lockout as a pure state function (after kanidm's `softlock`): no store, no
//! clock, just the state before, the time and the policy in; the state after
//! out. The store applies the result with a conditional write, so parallel
//! attempts cannot slip past the count (LOG-2, SET-2).
//!
//! An attempt is counted *before* the secret is checked ("reserve, then
//! verify"): the counter bounds how many checks can run at all, even when all
//! of them are in flight at once. A success clears the counter.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockPolicy {
    pub max_failures: u32,
    pub lock_for: Duration,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockState {
    /// Attempts since the last success (the one being made included).
    pub failures: u32,
    /// Set when `failures` reached the policy's maximum.
    pub locked_until: Option<Timestamp>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Go ahead and check the secret; store this state first.
    Allowed { next: LockState, locks: bool },
    /// Refused without checking anything.
    Locked { until: Timestamp },
}

impl LockState {
    pub fn is_locked(&self, now: Timestamp) -> bool {
        matches!(self.locked_until, Some(u) if now < u)
    }

    /// When the stored item may vanish: the end of the lock. While failures
    /// are only counted, the store keeps them a day after the last attempt
    /// (`app::COUNTER_TTL`), alike for every subject (LOG-3).
    pub fn expires_at(&self) -> Option<Timestamp> {
        self.locked_until
    }
}

// home of LOG-2
/// Reserve one attempt. A lock whose time has passed lifts by itself and the
/// count starts again.
pub fn begin(state: Option<LockState>, now: Timestamp, policy: LockPolicy) -> Attempt {
    let mut s = state.unwrap_or_default();
    if let Some(until) = s.locked_until {
        if now < until {
            return Attempt::Locked { until };
        }
        s = LockState::default();
    }
    let failures = s.failures.saturating_add(1);
    let locks = failures >= policy.max_failures;
    Attempt::Allowed {
        next: LockState {
            failures,
            locked_until: locks.then(|| now.plus(policy.lock_for)),
        },
        locks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: LockPolicy = LockPolicy {
        max_failures: 5,
        lock_for: Duration::from_secs(20 * 60),
    };

    fn run(n: u32, now: Timestamp) -> Option<LockState> {
        let mut s = None;
        for _ in 0..n {
            match begin(s, now, P) {
                Attempt::Allowed { next, .. } => s = Some(next),
                Attempt::Locked { .. } => break,
            }
        }
        s
    }

    // LOG-2
    #[test]
    fn log_2_fifth_failure_locks_for_twenty_minutes() {
        let t0 = Timestamp::from_secs(1_000);
        let s = run(4, t0).unwrap();
        assert_eq!(s.failures, 4);
        assert!(!s.is_locked(t0));
        let Attempt::Allowed { next, locks } = begin(Some(s), t0, P) else {
            panic!("5th attempt must be allowed")
        };
        assert!(locks);
        assert_eq!(next.locked_until, Some(t0.plus(P.lock_for)));
        assert_eq!(
            begin(Some(next), t0, P),
            Attempt::Locked {
                until: t0.plus(P.lock_for)
            }
        );
        let just_before = t0.plus(P.lock_for - Duration::from_millis(1));
        assert!(matches!(
            begin(Some(next), just_before, P),
            Attempt::Locked { .. }
        ));
    }

    // LOG-2
    #[test]
    fn log_2_lock_lifts_by_itself_and_count_restarts() {
        let t0 = Timestamp::from_secs(1_000);
        let locked = run(5, t0).unwrap();
        let later = t0.plus(P.lock_for);
        let Attempt::Allowed { next, locks } = begin(Some(locked), later, P) else {
            panic!("lock must lift")
        };
        assert!(!locks);
        assert_eq!(next.failures, 1);
        assert_eq!(next.expires_at(), None);
    }
}
