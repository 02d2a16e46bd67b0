//! Moving legacy users in (MIG-1..8): records are first staged (`import`),
//! then turned into portal users (`apply`), then invited (`send-setup-links`).
//!
//! MIG-3: every staged record that wants a login ID is listed under that ID
//! (case-folded). The claimant that sorts first (by ecid, then tenant) keeps
//! the plain ID; every other claimant becomes `<loginId>_<ecid>`. So who keeps
//! the ID depends only on the staged set, not on the order or chunking of
//! `apply`. A record whose ID (plain or renamed) belongs to someone else is
//! renamed or rejected; nothing is ever overwritten.
//!
//! MIG-8: applying a record is one atomic write — the user, its login ID,
//! its tenant membership and the staged record's new status, conditioned on
//! the staged record's version — so a retry after any fault either finds the
//! record done or does it once.

mod apply;
mod fanout;
mod import;
mod job;
mod plan;
mod portal;
mod run;
mod window;

pub use fanout::Chunk;
pub use run::{ApplyOptions, Checkpoint, Job, JobState, MailReport, NoticeLine, Pos};
pub use window::{IdentityUpdate, IdentityView};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app::{App, Ctx};
use crate::error::{Error, Result};
use crate::ids::{Ecid, Email, LoginId, PersonName, TenantId};
use crate::model::{keys, LoginRef, Role, User};
use crate::phone;
use crate::random::new_ulid;
use crate::store::{get_as, Cond, Query, StoreError, Write};

/// MIG-1: one legacy record as exported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyRecord {
    pub login_id: String,
    pub ecid: String,
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    pub tenant_id: String,
    #[serde(default)]
    pub parent_tenant_id: Option<String>,
    pub role: String,
    #[serde(default)]
    pub password_hash: Option<String>,
    #[serde(default)]
    pub service_ids: Vec<String>,
    /// SET-4: a second-factor method the operator chose (`totp`, `email`,
    /// `sms`); the user's enrolment then skips the choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_method: Option<String>,
}

/// A legacy record that parsed: every field is well-formed.
#[derive(Clone, Debug)]
pub struct ValidRecord {
    pub login_id: LoginId,
    pub ecid: Ecid,
    pub email: Email,
    pub name: PersonName,
    pub phone: String,
    pub tenant_id: TenantId,
    pub parent_tenant_id: Option<TenantId>,
    pub role: Role,
    pub preset_method: Option<crate::mfa::Method>,
}

impl LegacyRecord {
    // home of MIG-1
    pub fn validate(&self) -> Result<ValidRecord> {
        Ok(ValidRecord {
            login_id: LoginId::parse(&self.login_id)?,
            ecid: Ecid::parse(&self.ecid)?,
            email: Email::parse(&self.email)?,
            name: PersonName::parse(&self.name)?,
            phone: self.phone.clone().unwrap_or_default(),
            tenant_id: TenantId::parse(&self.tenant_id)?,
            parent_tenant_id: self
                .parent_tenant_id
                .as_deref()
                .map(TenantId::parse)
                .transpose()?,
            role: match self.role.as_str() {
                "admin" => Role::Admin,
                "general" => Role::General,
                other => return Err(Error::invalid("invalid_role").detail(format!("{other:?}"))),
            },
            preset_method: match self.mfa_method.as_deref() {
                None => None,
                Some(m) => Some(crate::mfa::Method::parse(m).ok_or_else(|| {
                    Error::invalid("invalid_mfa_method").detail(format!("{m:?}"))
                })?),
            },
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StagedStatus {
    Staged,
    Migrated,
    Rejected,
}

/// A staged record (`MIG#<tenant>` / `<ecid>`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Staged {
    pub record: LegacyRecord,
    pub status: StagedStatus,
    pub user_id: Option<String>,
    pub final_login_id: Option<String>,
    pub reason: Option<String>,
    /// The import run that staged it last (an operator's file): `apply`
    /// with a batch applies only that run's records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Staged,
    Migrated,
    Renamed,
    PhoneNormalised,
    AlreadyMigrated,
    Rejected,
}

/// One line of a report (MIG-8, MIG-9).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordReport {
    pub ecid: String,
    pub tenant_id: String,
    pub login_id: String,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_login_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why a record was refused, as the domain says it (a code and its
    /// facts): the edge puts it in the operator's words (`reason`).
    #[serde(skip)]
    pub error: Option<Error>,
}

/// A report's figures. `migrated` counts every user the run created (or,
/// in a plan, would create); `renamed` and `phone_normalised` count those of
/// them whose login ID was renamed (MIG-3) or whose phone was replaced or
/// normalised (MIG-5), so one user may be in both.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub staged: u64,
    pub migrated: u64,
    pub renamed: u64,
    pub phone_normalised: u64,
    pub already_migrated: u64,
    pub rejected: u64,
}

impl Counts {
    fn add(&mut self, r: &RecordReport) {
        match r.outcome {
            Outcome::Staged => self.staged += 1,
            Outcome::Migrated | Outcome::Renamed | Outcome::PhoneNormalised => {
                self.migrated += 1;
                self.renamed += u64::from(r.outcome == Outcome::Renamed);
                self.phone_normalised += u64::from(r.phone_before != r.phone_after);
            }
            Outcome::AlreadyMigrated => self.already_migrated += 1,
            Outcome::Rejected => self.rejected += 1,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub action: String,
    pub dry_run: bool,
    pub counts: Counts,
    pub records: Vec<RecordReport>,
    /// Whether the run reached the end of its work (apply, plan); `false`
    /// when it stopped at `max_records` or the time budget (MIG-10).
    pub complete: bool,
    /// Where the next page or chunk starts (`<tenant>/<ecid>`), when not complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl Report {
    pub(crate) fn new(action: &str, dry_run: bool) -> Self {
        Self {
            action: action.into(),
            dry_run,
            ..Self::default()
        }
    }
    pub(crate) fn push(&mut self, r: RecordReport) {
        self.counts.add(&r);
        self.records.push(r);
    }
}

impl RecordReport {
    /// A line about a staged record, before its outcome is known.
    pub(crate) fn of(s: &Staged) -> Self {
        Self {
            ecid: s.record.ecid.clone(),
            tenant_id: s.record.tenant_id.clone(),
            login_id: s.record.login_id.clone(),
            outcome: Outcome::Staged,
            final_login_id: None,
            phone_before: None,
            phone_after: None,
            reason: None,
            error: None,
        }
    }
}

fn rejected(raw: &Value, reason: String, error: Option<Error>) -> RecordReport {
    let field = |k: &str| raw.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    RecordReport {
        ecid: field("ecid"),
        tenant_id: field("tenant_id"),
        login_id: field("login_id"),
        outcome: Outcome::Rejected,
        final_login_id: None,
        phone_before: None,
        phone_after: None,
        reason: Some(reason),
        error,
    }
}

/// What applying one record would do.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    login: LoginId,
    renamed: bool,
    phone_after: String,
}
