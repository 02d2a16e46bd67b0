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

mod portal;
mod run;
mod window;

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
                other => {
                    return Err(Error::invalid(
                        "invalid_role",
                        format!("role must be admin or general, not {other:?}"),
                    ))
                }
            },
            preset_method: match self.mfa_method.as_deref() {
                None => None,
                Some(m) => Some(crate::mfa::Method::parse(m).ok_or_else(|| {
                    Error::invalid(
                        "invalid_mfa_method",
                        format!("mfa_method must be totp, email or sms, not {m:?}"),
                    )
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
}

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
    fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Staged => self.staged += 1,
            Outcome::Migrated => self.migrated += 1,
            Outcome::Renamed => self.renamed += 1,
            Outcome::PhoneNormalised => self.phone_normalised += 1,
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
        self.counts.add(r.outcome);
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
        }
    }
}

fn rejected(raw: &Value, reason: String) -> RecordReport {
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
    }
}

/// What applying one record would do.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    login: LoginId,
    renamed: bool,
    phone_after: String,
}

impl App {
    /// Stage records for migration. A malformed record is rejected with its
    /// reason and does not stop the batch.
    pub async fn import(&self, records: &[Value], ctx: &Ctx) -> Result<Report> {
        let mut report = Report::new("import", false);
        report.complete = true;
        if !records.is_empty() {
            // Tell the apply checkpoint that the staged set changes, before
            // it does (MIG-10): a finished pass then runs again.
            self.mark_import(ctx).await?;
        }
        for raw in records {
            let parsed = serde_json::from_value::<LegacyRecord>(raw.clone())
                .map_err(|e| e.to_string())
                .and_then(|r| r.validate().map(|v| (r, v)).map_err(|e| e.to_string()));
            let (record, valid) = match parsed {
                Ok(x) => x,
                Err(reason) => {
                    report.push(rejected(raw, reason));
                    continue;
                }
            };
            report.push(self.stage(record, &valid, ctx).await?);
        }
        Ok(report)
    }

    // home of MIG-7
    async fn stage(
        &self,
        record: LegacyRecord,
        v: &ValidRecord,
        ctx: &Ctx,
    ) -> Result<RecordReport> {
        let key = keys::staged(&v.tenant_id, &v.ecid);
        let base = RecordReport {
            ecid: record.ecid.clone(),
            tenant_id: record.tenant_id.clone(),
            login_id: record.login_id.clone(),
            outcome: Outcome::Staged,
            final_login_id: None,
            phone_before: None,
            phone_after: None,
            reason: None,
        };
        for round in 0..5 {
            let now = self.now();
            let existing = get_as::<Staged>(self.store.as_ref(), &key, now).await?;
            let cond = match &existing {
                Some((s, _)) if s.status == StagedStatus::Migrated => {
                    return Ok(RecordReport {
                        outcome: Outcome::AlreadyMigrated,
                        final_login_id: s.final_login_id.clone(),
                        ..base
                    });
                }
                Some((s, ver)) => {
                    if let Ok(old) = s.record.validate() {
                        if old.login_id.key() != v.login_id.key() {
                            // The login ID changed since the earlier import: the
                            // old claim goes in the same batch as the new one.
                            let mut writes =
                                self.stage_writes(&record, v, &key, Cond::Version(*ver), ctx);
                            writes.push(Write::Delete {
                                key: keys::claimant(&old.login_id, &old.tenant_id, &old.ecid),
                                cond: Cond::Any,
                            });
                            match self.store.write(writes, now).await {
                                Ok(()) => return Ok(base),
                                Err(StoreError::Conflict) => {
                                    self.back_off(round).await;
                                    continue;
                                }
                                Err(e) => return Err(e.into()),
                            }
                        }
                    }
                    Cond::Version(*ver)
                }
                None => Cond::Absent,
            };
            match self
                .store
                .write(self.stage_writes(&record, v, &key, cond, ctx), now)
                .await
            {
                Ok(()) => return Ok(base),
                Err(StoreError::Conflict) => self.back_off(round).await,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Unavailable { what: "store" })
    }

    fn stage_writes(
        &self,
        record: &LegacyRecord,
        v: &ValidRecord,
        key: &crate::store::Key,
        cond: Cond,
        ctx: &Ctx,
    ) -> Vec<Write> {
        let staged = Staged {
            record: record.clone(),
            status: StagedStatus::Staged,
            user_id: None,
            final_login_id: None,
            reason: None,
        };
        vec![
            Write::put(key.clone(), &staged, None, cond),
            Write::put(
                keys::staged_tenant(&v.tenant_id),
                &serde_json::json!({}),
                None,
                Cond::Any,
            ),
            Write::put(
                keys::claimant(&v.login_id, &v.tenant_id, &v.ecid),
                &serde_json::json!({}),
                None,
                Cond::Any,
            ),
            self.audit(
                ctx,
                "migration.staged",
                None,
                Some(format!("{}/{}", v.tenant_id.as_str(), v.ecid.as_str())),
            ),
        ]
    }

    /// Every live item of a partition (paged).
    pub async fn query_all(&self, pk: &str, prefix: &str) -> Result<Vec<crate::store::Item>> {
        let mut out: Vec<crate::store::Item> = Vec::new();
        loop {
            let q = Query {
                pk: pk.to_string(),
                sk_prefix: prefix.to_string(),
                after: out.last().map(|i| i.key.sk.clone()),
                limit: 500,
            };
            let page = self.store.query(&q, self.now()).await?;
            let done = page.len() < q.limit;
            out.extend(page);
            if done {
                return Ok(out);
            }
        }
    }

    // home of MIG-3
    /// MIG-3: the login ID a valid record gets, or why it gets none. The
    /// answer is a function of the staged set (the claimant index) and of
    /// users that came from elsewhere, never of the order records are applied:
    /// - the claimant that sorts first (ecid, then tenant) keeps the plain ID,
    ///   unless a user from elsewhere already has it;
    /// - every other claimant gets `<loginId>_<ecid>`; several records with
    ///   one ecid under one login ID (one legacy user under several contracts)
    ///   would rename alike, so only the first of them (by tenant) gets it;
    /// - a renamed ID that some staged record wants as its plain ID, or that a
    ///   user from elsewhere has, is never given: that record is rejected.
    pub(crate) async fn plan(&self, v: &ValidRecord) -> Result<std::result::Result<Plan, String>> {
        let claimants = self
            .query_all(&keys::claimants(&v.login_id.key()), "")
            .await?;
        let mine = keys::claimant_sk(&v.tenant_id, &v.ecid);
        let phone_after = phone::normalise_legacy(&v.phone, &self.config.default_phone);
        let first = claimants.first().map(|i| i.key.sk.clone());
        // Does the first claimant keep (or already hold) the plain ID?
        let plain_to_first = match self.login_owner(&v.login_id).await? {
            None => true,
            Some(owner) => owner
                .ecid
                .as_ref()
                .is_some_and(|e| Some(keys::claimant_sk(&owner.tenant_id, e)) == first),
        };
        let is_first = first.as_deref().is_none_or(|f| f == mine);
        if is_first && plain_to_first {
            return Ok(Ok(Plan {
                login: v.login_id.clone(),
                renamed: false,
                phone_after,
            }));
        }
        let renamed = match LoginId::parse(&format!("{}_{}", v.login_id.as_str(), v.ecid.as_str()))
        {
            Ok(l) => l,
            Err(e) => return Ok(Err(format!("renamed login ID is invalid: {e}"))),
        };
        let same_ecid = format!("{}#", v.ecid.as_str());
        let rival = claimants
            .iter()
            .enumerate()
            .filter(|(i, _)| !(*i == 0 && plain_to_first))
            .map(|(_, c)| &c.key.sk)
            .find(|sk| sk.starts_with(&same_ecid));
        if let Some(sk) = rival.filter(|sk| **sk != mine) {
            let tenant = sk.split_once('#').map_or("", |(_, t)| t);
            return Ok(Err(format!(
                "renamed login ID {renamed} goes to the same legacy user under contract {tenant}"
            )));
        }
        let wanted = self
            .store
            .query(
                &Query {
                    pk: keys::claimants(&renamed.key()),
                    sk_prefix: String::new(),
                    after: None,
                    limit: 1,
                },
                self.now(),
            )
            .await?;
        if !wanted.is_empty() {
            return Ok(Err(format!(
                "login ID {} is taken and its renamed form {} is another record's login ID",
                v.login_id, renamed
            )));
        }
        if self.login_owner(&renamed).await?.is_some() {
            return Ok(Err(format!(
                "login ID {} and its renamed form {} are both taken",
                v.login_id, renamed
            )));
        }
        Ok(Ok(Plan {
            login: renamed,
            renamed: true,
            phone_after,
        }))
    }

    /// The user who holds a login ID, if any.
    pub async fn login_owner(&self, login: &LoginId) -> Result<Option<User>> {
        let now = self.now();
        let Some((r, _)) =
            get_as::<LoginRef>(self.store.as_ref(), &keys::login(login), now).await?
        else {
            return Ok(None);
        };
        Ok(self.user(&r.user_id).await?.map(|(u, _)| u))
    }

    fn report_for(s: &Staged, plan: &std::result::Result<Plan, String>) -> RecordReport {
        let phone_before = s.record.phone.clone().unwrap_or_default();
        let mut r = RecordReport {
            ecid: s.record.ecid.clone(),
            tenant_id: s.record.tenant_id.clone(),
            login_id: s.record.login_id.clone(),
            outcome: Outcome::Migrated,
            final_login_id: None,
            phone_before: None,
            phone_after: None,
            reason: None,
        };
        match plan {
            Err(reason) => {
                r.outcome = Outcome::Rejected;
                r.reason = Some(reason.clone());
            }
            Ok(p) => {
                r.final_login_id = Some(p.login.as_str().to_string());
                let phone_changed = p.phone_after != phone_before;
                r.phone_before = Some(phone_before);
                r.phone_after = Some(p.phone_after.clone());
                r.outcome = if p.renamed {
                    Outcome::Renamed
                } else if phone_changed {
                    Outcome::PhoneNormalised
                } else {
                    Outcome::Migrated
                };
            }
        }
        r
    }

    pub(crate) async fn plan_one(&self, staged: &Staged) -> Result<RecordReport> {
        let plan = match staged.record.validate() {
            Ok(v) => self.plan(&v).await?,
            Err(e) => Err(e.to_string()),
        };
        Ok(Self::report_for(staged, &plan))
    }

    // home of MIG-8
    /// Apply one staged record, as read at `version`.
    pub(crate) async fn apply_one(
        &self,
        staged: &Staged,
        version: u64,
        ctx: &Ctx,
    ) -> Result<RecordReport> {
        let v = match staged.record.validate() {
            Ok(v) => v,
            Err(e) => return Ok(Self::report_for(staged, &Err(e.to_string()))),
        };
        let key = keys::staged(&v.tenant_id, &v.ecid);
        let mut known = Some((staged.clone(), version));
        for round in 0..5 {
            let now = self.now();
            // After a lost race, re-read: a parallel run may have done it.
            let fresh = match known.take() {
                Some(k) => Some(k),
                None => get_as::<Staged>(self.store.as_ref(), &key, now).await?,
            };
            let Some((current, ver)) = fresh else {
                return Ok(Self::report_for(
                    staged,
                    &Err("staged record vanished".into()),
                ));
            };
            if current.status == StagedStatus::Migrated {
                let mut r = Self::report_for(&current, &Err(String::new()));
                r.outcome = Outcome::AlreadyMigrated;
                r.reason = None;
                r.final_login_id = current.final_login_id.clone();
                return Ok(r);
            }
            let plan = self.plan(&v).await?;
            let line = Self::report_for(&current, &plan);
            let writes = match &plan {
                Err(reason) => {
                    let done = Staged {
                        status: StagedStatus::Rejected,
                        reason: Some(reason.clone()),
                        ..current.clone()
                    };
                    vec![
                        Write::put(key.clone(), &done, None, Cond::Version(ver)),
                        self.audit(
                            ctx,
                            "migration.rejected",
                            None,
                            Some(format!(
                                "{}/{}: {reason}",
                                v.tenant_id.as_str(),
                                v.ecid.as_str()
                            )),
                        ),
                    ]
                }
                Ok(p) => {
                    let user = self.user_from(&current.record, &v, p, now);
                    let done = Staged {
                        status: StagedStatus::Migrated,
                        user_id: Some(user.id.clone()),
                        final_login_id: Some(p.login.as_str().to_string()),
                        ..current.clone()
                    };
                    let mut writes = vec![
                        Write::put(keys::user(&user.id), &user, None, Cond::Absent),
                        Write::put(
                            keys::login(&p.login),
                            &LoginRef {
                                user_id: user.id.clone(),
                            },
                            None,
                            Cond::Absent,
                        ),
                        Write::put(
                            keys::tenant_member(&v.tenant_id, &user.id),
                            &serde_json::json!({}),
                            None,
                            Cond::Absent,
                        ),
                        Write::put(key.clone(), &done, None, Cond::Version(ver)),
                    ];
                    // CLM: every legacy service ID finds this user.
                    let mut sids: Vec<String> = current
                        .record
                        .service_ids
                        .iter()
                        .filter_map(|s| crate::claim::parse_service_id(s).ok())
                        .collect();
                    sids.sort();
                    sids.dedup();
                    for sid in sids {
                        writes.push(Write::put(
                            keys::service(&sid, &user.id),
                            &serde_json::json!({}),
                            None,
                            Cond::Absent,
                        ));
                    }
                    writes.push(self.audit(
                        ctx,
                        "migration.user_created",
                        Some((&user.id, &user.tenant_id)),
                        Some(format!("{:?}", line.outcome)),
                    ));
                    writes
                }
            };
            match self.store.write(writes, now).await {
                Ok(()) => return Ok(line),
                // Someone took the login ID or did this record meanwhile: look again.
                Err(StoreError::Conflict) => self.back_off(round).await,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Unavailable { what: "store" })
    }

    fn user_from(
        &self,
        r: &LegacyRecord,
        v: &ValidRecord,
        p: &Plan,
        now: crate::clock::Timestamp,
    ) -> User {
        User {
            parent_tenant_id: v.parent_tenant_id.clone(),
            phone: p.phone_after.clone(),
            role: v.role,
            ecid: Some(v.ecid.clone()),
            legacy_login_id: Some(r.login_id.clone()),
            legacy_password_hash: r.password_hash.clone(),
            service_ids: r.service_ids.clone(),
            preset_method: v.preset_method.map(|m| m.as_str().to_string()),
            ..User::pending(
                new_ulid(self.rng.as_ref(), now).to_string(),
                v.tenant_id.clone(),
                p.login.clone(),
                v.email.clone(),
                v.name.clone(),
                now,
            )
        }
    }
}
