//! Support cases (CASE-1..8, MIG-13): customers file inquiries and
//! work requests, follow them through the support desk's statuses, comment,
//! and close or accept them; the desk accepts or declines a work request
//! and marks the cases that deliver its monthly reports.
//!
//! Storage: one partition per tenant (`model::keys::cases`) holds each case,
//! a list entry per case sorted newest update first, and the comments. The
//! tenant always comes from the signed-in user, never from a request, and
//! every read names it in the partition key: another tenant's case ID finds
//! nothing (404). Numbers (`CS0000001`) come from the store's atomic
//! counter, and a portal-wide number item guards their uniqueness.
//!
//! A case's status moves only by [`transition`], a pure function of the
//! current status and the move (CASE-3); a move is one conditional write of
//! the case, its list entry and its audit record (optimistic concurrency on
//! the case's version, retried on a lost race and decided again).

mod attachments;
mod file;
mod list;
mod requests;
mod update;

pub use attachments::{Attachment, Confirmation, DeskFile, UploadTicket};
pub use list::Filter;
pub use requests::{awaits_decision, decide, Decision};
pub use update::DeskUpdate;

use serde::{Deserialize, Serialize};

use crate::app::{App, Ctx};
use crate::clock::Timestamp;
use crate::config::FilingSplit;
use crate::error::{Error, Result};
use crate::i18n::{t, Lang};
use crate::ids::TenantId;
use crate::messages::{case_mail, CaseEvent, CaseFacts};
use crate::model::{keys, User, UserState};
use crate::random::new_ulid;
use crate::store::{get_as, Cond, Item, Query, StoreError, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Inquiry,
    WorkRequest,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Inquiry, Kind::WorkRequest];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inquiry => "inquiry",
            Self::WorkRequest => "work_request",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn label(self, lang: Lang) -> &'static str {
        t(lang, &format!("case.kind.{}", self.as_str()))
    }
}

/// CASE-3: new → in progress → awaiting customer → resolved (awaiting
/// close) → closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    InProgress,
    AwaitingCustomer,
    Resolved,
    Closed,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::New,
        Status::InProgress,
        Status::AwaitingCustomer,
        Status::Resolved,
        Status::Closed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::InProgress => "in_progress",
            Self::AwaitingCustomer => "awaiting_customer",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn label(self, lang: Lang) -> &'static str {
        t(lang, &format!("case.status.{}", self.as_str()))
    }
    /// CASE-4: "action needed" — the customer is asked to answer or to
    /// accept the resolution.
    pub fn action_needed(self) -> bool {
        matches!(self, Self::AwaitingCustomer | Self::Resolved)
    }
}

/// What may move a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    /// The customer closes an open case (a resolved one is accepted or rejected).
    Close,
    /// The customer accepts the resolution.
    Accept,
    /// The customer rejects the resolution: the desk works on.
    Reject,
    /// The customer comments: an answer to "awaiting customer" puts the
    /// case back in the desk's hands.
    Comment,
    /// The support desk sets a status.
    Desk(Status),
    /// CASE-7: the support desk accepts or declines a work request.
    Decide(Decision),
}

// home of CASE-3
/// CASE-3 as a pure function: the status after `m`, or the code of the
/// refusal (409). A closed case never reopens. A decision (CASE-7) needs
/// the case's kind: [`decide`] takes it.
pub fn transition(current: Status, m: Move) -> std::result::Result<Status, &'static str> {
    use Status::*;
    match (current, m) {
        (Closed, _) => Err("case_closed"),
        (Resolved, Move::Close) => Err("case_resolved"),
        (_, Move::Close) => Ok(Closed),
        (Resolved, Move::Accept) => Ok(Closed),
        (Resolved, Move::Reject) => Ok(InProgress),
        (_, Move::Accept | Move::Reject) => Err("case_not_resolved"),
        (AwaitingCustomer, Move::Comment) => Ok(InProgress),
        (s, Move::Comment) => Ok(s),
        (_, Move::Desk(New)) => Err("case_status_invalid"),
        (s, Move::Desk(to)) if s == to => Err("case_status_unchanged"),
        (_, Move::Desk(to)) => Ok(to),
        (_, Move::Decide(_)) => Err("work_request_decided"),
    }
}

/// The case record (`C#<id>` in the tenant's partition).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub id: String,
    pub number: String,
    pub tenant_id: TenantId,
    pub kind: Kind,
    pub category: String,
    pub subject: String,
    pub body: String,
    pub status: Status,
    /// The user who filed it: notices go to them (CASE-5).
    pub created_by: String,
    pub created_by_name: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub comment_count: u32,
    /// CASE-7: the desk's decision on a work request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// CASE-8: the desk marked this case as a delivery of its reports.
    #[serde(default)]
    pub monthly_report: bool,
}

/// A line of the case list (the API's `items`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub id: String,
    pub number: String,
    pub kind: Kind,
    pub category: String,
    pub subject: String,
    pub status: Status,
    pub created_by_name: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    #[serde(default)]
    pub monthly_report: bool,
}

/// The list entry (`U#…` in the tenant's partition): the summary and the
/// folded text of subject and body that keyword search reads.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Entry {
    #[serde(flatten)]
    summary: CaseSummary,
    text: String,
}

/// Who wrote a comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    Customer,
    Support,
}

/// An entry of a case's thread: a comment, a change of status, or both
/// (a rejection with its reason).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub id: String,
    pub by: Author,
    /// The customer's name; empty for the support desk.
    pub name: String,
    /// Empty for an entry that only records a change of status.
    pub body: String,
    pub created_at: Timestamp,
    /// CASE-3: the change of status this entry records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_change: Option<StatusChange>,
    /// CASE-6: the files this entry carries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// A case's status before and after a move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub from: Status,
    pub to: Status,
}

/// `CASENO#<number>`: the portal-wide number → the case.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct NumberRef {
    tenant_id: TenantId,
    id: String,
}

/// CASE-1: what a customer files.
#[derive(Clone, Copy, Debug)]
pub struct NewCase<'a> {
    pub kind: Kind,
    pub category: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Created {
    pub id: String,
    pub number: String,
}

/// CASE-4: a page of the list.
#[derive(Clone, Debug, Default)]
pub struct ListQuery<'a> {
    pub filter: Filter,
    /// Keyword(s) in subject, body or comments.
    pub q: Option<&'a str>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<&'a str>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CasePage {
    pub items: Vec<CaseSummary>,
    pub next_cursor: Option<String>,
}

/// A case with its comments, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: Case,
    #[serde(rename = "comments")]
    pub thread: Vec<Comment>,
}

/// Cases per list page.
pub const PAGE_SIZE: usize = 20;
/// Longest keyword query, in characters.
pub const QUERY_MAX: usize = 100;
/// Items read per store query while walking a list.
const BATCH: usize = 100;

pub use crate::directory::fold;

fn entry_text(subject: &str, body: &str) -> String {
    fold(&format!("{subject}\n{body}"))
}

// home of CASE-2
/// `CS` + 7 digits (more only after 9,999,999 cases).
pub fn number_for(n: u64) -> String {
    format!("CS{n:07}")
}

/// A number as operators and customers type it (`cs0030377` too).
pub fn parse_number(s: &str) -> Option<String> {
    let s = s.trim();
    let digits = s.get(2..)?;
    (s.len() >= 9
        && s[..2].eq_ignore_ascii_case("CS")
        && s.len() <= 12
        && digits.bytes().all(|b| b.is_ascii_digit()))
    .then(|| format!("CS{digits}"))
}

/// Case and comment IDs are ULIDs; anything else names no case.
fn is_id(s: &str) -> bool {
    s.len() == 26 && s.parse::<ulid::Ulid>().is_ok()
}

/// Text a customer wrote: trimmed, not empty, at most `max` characters, no
/// control characters but (in multi-line text) line breaks and tabs.
fn text(value: &str, max: usize, multiline: bool, field: &'static str) -> Result<String> {
    let v = value.trim();
    let code = |c: &'static str| Error::invalid(c).with("field", field);
    if v.is_empty() {
        return Err(code("empty"));
    }
    if v.chars().count() > max {
        return Err(code("too_long").with("max", max));
    }
    let bad = |c: char| c.is_control() && !(multiline && matches!(c, '\n' | '\t' | '\r'));
    if v.chars().any(bad) {
        return Err(code("control_characters"));
    }
    Ok(v.replace("\r\n", "\n"))
}

fn summary(case: &Case) -> CaseSummary {
    CaseSummary {
        id: case.id.clone(),
        number: case.number.clone(),
        kind: case.kind,
        category: case.category.clone(),
        subject: case.subject.clone(),
        status: case.status,
        created_by_name: case.created_by_name.clone(),
        created_at: case.created_at,
        updated_at: case.updated_at,
        decision: case.decision,
        monthly_report: case.monthly_report,
    }
}

#[cfg(test)]
mod tests {
    use super::list::{cursor_of, sk_of_cursor};
    use super::*;
    use Status::*;

    // CASE-3: every status and move.
    #[test]
    fn case_3_transitions() {
        assert_eq!(transition(New, Move::Close), Ok(Closed));
        assert_eq!(transition(InProgress, Move::Close), Ok(Closed));
        assert_eq!(transition(AwaitingCustomer, Move::Close), Ok(Closed));
        assert_eq!(transition(Resolved, Move::Close), Err("case_resolved"));
        assert_eq!(transition(Resolved, Move::Accept), Ok(Closed));
        assert_eq!(transition(Resolved, Move::Reject), Ok(InProgress));
        for s in [New, InProgress, AwaitingCustomer] {
            assert_eq!(transition(s, Move::Accept), Err("case_not_resolved"));
            assert_eq!(transition(s, Move::Reject), Err("case_not_resolved"));
        }
        assert_eq!(transition(AwaitingCustomer, Move::Comment), Ok(InProgress));
        assert_eq!(transition(New, Move::Comment), Ok(New));
        assert_eq!(transition(Resolved, Move::Comment), Ok(Resolved));
        assert_eq!(transition(New, Move::Desk(InProgress)), Ok(InProgress));
        assert_eq!(
            transition(InProgress, Move::Desk(AwaitingCustomer)),
            Ok(AwaitingCustomer)
        );
        assert_eq!(
            transition(AwaitingCustomer, Move::Desk(Resolved)),
            Ok(Resolved)
        );
        assert_eq!(transition(Resolved, Move::Desk(InProgress)), Ok(InProgress));
        assert_eq!(
            transition(InProgress, Move::Desk(New)),
            Err("case_status_invalid")
        );
        assert_eq!(
            transition(InProgress, Move::Desk(InProgress)),
            Err("case_status_unchanged")
        );
        // A closed case never reopens, whoever asks.
        for m in [
            Move::Close,
            Move::Accept,
            Move::Reject,
            Move::Comment,
            Move::Desk(InProgress),
            Move::Desk(Resolved),
        ] {
            assert_eq!(transition(Closed, m), Err("case_closed"));
        }
    }

    #[test]
    fn case_2_numbers() {
        assert_eq!(number_for(30377), "CS0030377");
        assert_eq!(number_for(1), "CS0000001");
        assert_eq!(parse_number("cs0030377").as_deref(), Some("CS0030377"));
        assert_eq!(parse_number("CS12"), None);
        assert_eq!(parse_number("CSabcdefg"), None);
    }

    #[test]
    fn case_4_search_folds_width_and_case() {
        assert_eq!(fold("ＡＢＣ　Def"), "abc def");
        assert!(entry_text("アラート", "ＶＰＮ が落ちた").contains(&fold("vpn")));
    }

    #[test]
    fn case_4_cursor_round_trip_and_refusal() {
        let sk = format!("U#0001234567890#{}", ulid::Ulid::nil());
        let c = cursor_of(&sk);
        assert_eq!(sk_of_cursor(&c).unwrap(), sk);
        assert!(sk_of_cursor("U#x").is_err());
        assert!(sk_of_cursor(&c.replace('0', "#")).is_err());
    }
}
