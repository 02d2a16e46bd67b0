//! Work requests the support desk accepts or declines (CASE-7, seed 002
//! 4.7: 受理・不受理): a pure decision over CASE-3's statuses.

use serde::{Deserialize, Serialize};

use super::{transition, Kind, Move, Status};
use crate::i18n::{t, Lang};

/// CASE-7: the desk's answer to a work request (受理・不受理).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Accepted,
    Declined,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Declined => "declined",
        }
    }
    pub fn label(self, lang: Lang) -> &'static str {
        t(lang, &format!("case.decision.{}", self.as_str()))
    }
}

/// CASE-7: a work request waits for the desk's decision while it is new
/// and undecided (work requests filed before decisions existed and already
/// moved on are not held back).
pub fn awaits_decision(kind: Kind, status: Status, decision: Option<Decision>) -> bool {
    kind == Kind::WorkRequest && decision.is_none() && status == Status::New
}

// home of CASE-7
/// CASE-7 over CASE-3: the status after `m` for a case of this kind and
/// decision. Only a work request waiting for it is accepted (→ in
/// progress) or declined (→ closed); until then the desk sets no status
/// (it accepts or declines), while the customer may comment or withdraw it.
pub fn decide(
    kind: Kind,
    status: Status,
    decision: Option<Decision>,
    m: Move,
) -> std::result::Result<Status, &'static str> {
    let waiting = awaits_decision(kind, status, decision);
    match m {
        Move::Decide(_) if decision.is_some() => Err("work_request_decided"),
        Move::Decide(_) if status == Status::Closed => Err("case_closed"),
        Move::Decide(_) if kind != Kind::WorkRequest => Err("not_a_work_request"),
        // A work request of before decisions existed, already moved on.
        Move::Decide(_) if !waiting => Err("work_request_decided"),
        Move::Decide(Decision::Accepted) => Ok(Status::InProgress),
        Move::Decide(Decision::Declined) => Ok(Status::Closed),
        Move::Desk(_) if waiting => Err("work_request_undecided"),
        m => transition(status, m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    // CASE-7: only a work request waiting for it is decided; until then the
    // desk sets no status, and the customer may still comment or withdraw.
    #[test]
    fn case_7_decisions() {
        use Decision::*;
        use Kind::*;
        let d = |kind, status, decision, m| decide(kind, status, decision, m);
        assert_eq!(
            d(WorkRequest, New, None, Move::Decide(Accepted)),
            Ok(InProgress)
        );
        assert_eq!(
            d(WorkRequest, New, None, Move::Decide(Declined)),
            Ok(Closed)
        );
        assert_eq!(
            d(Inquiry, New, None, Move::Decide(Accepted)),
            Err("not_a_work_request")
        );
        for decided in [Accepted, Declined] {
            assert_eq!(
                d(
                    WorkRequest,
                    InProgress,
                    Some(decided),
                    Move::Decide(Declined)
                ),
                Err("work_request_decided")
            );
        }
        // Withdrawn by the customer before the desk decided.
        assert_eq!(
            d(WorkRequest, Closed, None, Move::Decide(Accepted)),
            Err("case_closed")
        );
        // A replayed decision is a decision again, not a closed case.
        assert_eq!(
            d(WorkRequest, Closed, Some(Declined), Move::Decide(Declined)),
            Err("work_request_decided")
        );
        assert_eq!(
            d(WorkRequest, New, None, Move::Desk(InProgress)),
            Err("work_request_undecided")
        );
        assert_eq!(
            d(WorkRequest, New, None, Move::Desk(Resolved)),
            Err("work_request_undecided")
        );
        assert_eq!(d(WorkRequest, New, None, Move::Comment), Ok(New));
        assert_eq!(d(WorkRequest, New, None, Move::Close), Ok(Closed));
        // Once accepted, CASE-3 as for any case; an inquiry never waits.
        assert_eq!(
            d(
                WorkRequest,
                InProgress,
                Some(Accepted),
                Move::Desk(Resolved)
            ),
            Ok(Resolved)
        );
        assert_eq!(
            d(Inquiry, New, None, Move::Desk(InProgress)),
            Ok(InProgress)
        );
        // A work request of before (no decision, already moved on) is not held.
        assert_eq!(
            d(WorkRequest, InProgress, None, Move::Desk(Resolved)),
            Ok(Resolved)
        );
    }
}
