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

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app::{App, Ctx};
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::ids::{Ecid, Email, LoginId, PersonName, TenantId};
use crate::model::{keys, LoginRef, Role, User, UserState};
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
}

impl LegacyRecord {
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
    /// Pending records left after this run (apply).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u64>,
}

impl Report {
    fn new(action: &str, dry_run: bool) -> Self {
        Self {
            action: action.into(),
            dry_run,
            ..Self::default()
        }
    }
    fn push(&mut self, r: RecordReport) {
        self.counts.add(r.outcome);
        self.records.push(r);
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
struct Plan {
    login: LoginId,
    renamed: bool,
    phone_after: String,
}

/// Results of `send-setup-links`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkReport {
    pub action: String,
    pub sent: u64,
    pub skipped: u64,
    pub failed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

impl App {
    /// Stage records for migration. A malformed record is rejected with its
    /// reason and does not stop the batch.
    pub async fn import(&self, records: &[Value], ctx: &Ctx) -> Result<Report> {
        let mut report = Report::new("import", false);
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

    /// Every staged record, in a fixed order (tenant, then ecid).
    async fn staged_records(&self) -> Result<Vec<(Staged, u64)>> {
        let mut out = Vec::new();
        let tenants = self.query_all(keys::STAGED_TENANTS, "").await?;
        for t in tenants {
            for item in self
                .query_all(&keys::staged_partition(&t.key.sk), "")
                .await?
            {
                out.push((item.parse::<Staged>()?, item.version));
            }
        }
        Ok(out)
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

    /// MIG-3: the login ID a valid record gets, or why it gets none.
    async fn plan(&self, v: &ValidRecord) -> Result<std::result::Result<Plan, String>> {
        let now = self.now();
        let first = self
            .store
            .query(
                &Query {
                    pk: keys::claimants(&v.login_id.key()),
                    sk_prefix: String::new(),
                    after: None,
                    limit: 1,
                },
                now,
            )
            .await?;
        let mine = keys::claimant_sk(&v.tenant_id, &v.ecid);
        let winner = first.first().is_none_or(|i| i.key.sk == mine);
        let renamed_id = LoginId::parse(&format!("{}_{}", v.login_id.as_str(), v.ecid.as_str()));
        let taken = |l: &LoginId| {
            let key = keys::login(l);
            async move { self.store.get(&key, now).await.map(|i| i.is_some()) }
        };
        let phone_after = phone::normalise_legacy(&v.phone, &self.config.default_phone);
        if winner && !taken(&v.login_id).await? {
            return Ok(Ok(Plan {
                login: v.login_id.clone(),
                renamed: false,
                phone_after,
            }));
        }
        let renamed = match renamed_id {
            Ok(l) => l,
            Err(e) => return Ok(Err(format!("renamed login ID is invalid: {e}"))),
        };
        if taken(&renamed).await? {
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
                if p.phone_after != phone_before {
                    r.phone_before = Some(phone_before);
                    r.phone_after = Some(p.phone_after.clone());
                }
                r.outcome = if p.renamed {
                    Outcome::Renamed
                } else if r.phone_after.is_some() {
                    Outcome::PhoneNormalised
                } else {
                    Outcome::Migrated
                };
            }
        }
        r
    }

    /// MIG-2..8: create users for staged records, at most `max` of them.
    /// With `dry_run`, the full report and nothing written (MIG-9).
    pub async fn apply(&self, dry_run: bool, max: Option<usize>, ctx: &Ctx) -> Result<Report> {
        let mut report = Report::new(if dry_run { "plan" } else { "apply" }, dry_run);
        let max = max.unwrap_or(usize::MAX);
        let mut remaining = 0u64;
        for (staged, _) in self.staged_records().await? {
            if staged.status != StagedStatus::Staged {
                if staged.status == StagedStatus::Migrated && dry_run {
                    report.push(RecordReport {
                        ecid: staged.record.ecid.clone(),
                        tenant_id: staged.record.tenant_id.clone(),
                        login_id: staged.record.login_id.clone(),
                        outcome: Outcome::AlreadyMigrated,
                        final_login_id: staged.final_login_id.clone(),
                        phone_before: None,
                        phone_after: None,
                        reason: None,
                    });
                }
                continue;
            }
            if report.records.len() >= max {
                remaining += 1;
                continue;
            }
            let line = if dry_run {
                self.plan_one(&staged).await?
            } else {
                self.apply_one(&staged, ctx).await?
            };
            report.push(line);
        }
        report.remaining = Some(remaining);
        Ok(report)
    }

    async fn plan_one(&self, staged: &Staged) -> Result<RecordReport> {
        let plan = match staged.record.validate() {
            Ok(v) => self.plan(&v).await?,
            Err(e) => Err(e.to_string()),
        };
        Ok(Self::report_for(staged, &plan))
    }

    async fn apply_one(&self, staged: &Staged, ctx: &Ctx) -> Result<RecordReport> {
        let v = match staged.record.validate() {
            Ok(v) => v,
            Err(e) => return Ok(Self::report_for(staged, &Err(e.to_string()))),
        };
        let key = keys::staged(&v.tenant_id, &v.ecid);
        for round in 0..5 {
            let now = self.now();
            // Re-read: a parallel or earlier run may have done it already.
            let Some((current, ver)) = get_as::<Staged>(self.store.as_ref(), &key, now).await?
            else {
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
                    vec![
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
                        self.audit(
                            ctx,
                            "migration.user_created",
                            Some((&user.id, &user.tenant_id)),
                            Some(format!("{:?}", line.outcome)),
                        ),
                    ]
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
            id: new_ulid(self.rng.as_ref(), now).to_string(),
            tenant_id: v.tenant_id.clone(),
            parent_tenant_id: v.parent_tenant_id.clone(),
            login_id: p.login.clone(),
            email: v.email.clone(),
            name: v.name.clone(),
            phone: p.phone_after.clone(),
            role: v.role,
            state: UserState::PendingSetup,
            lang: Lang::Ja,
            password_hash: None,
            methods: Vec::new(),
            ecid: Some(v.ecid.clone()),
            legacy_login_id: Some(r.login_id.clone()),
            legacy_password_hash: r.password_hash.clone(),
            service_ids: r.service_ids.clone(),
            setup_token_hash: None,
            setup_sent_at: None,
            password_set_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// SET-1 for migrated users: mail a setup link to every pending user who
    /// has not been sent one (or to all pending with `resend`). Stops at the
    /// first delivery fault; a re-run continues where it stopped.
    pub async fn send_setup_links(
        &self,
        tenant: Option<&TenantId>,
        resend: bool,
        ctx: &Ctx,
    ) -> Result<LinkReport> {
        let mut report = LinkReport {
            action: "send-setup-links".into(),
            ..LinkReport::default()
        };
        let tenants: Vec<String> = match tenant {
            Some(t) => vec![t.as_str().to_string()],
            None => self
                .query_all(keys::STAGED_TENANTS, "")
                .await?
                .into_iter()
                .map(|i| i.key.sk)
                .collect(),
        };
        for t in tenants {
            let Ok(tid) = TenantId::parse(&t) else {
                continue;
            };
            for member in self.query_all(&keys::tenant_members(&tid), "USER#").await? {
                let user_id = member.key.sk.trim_start_matches("USER#");
                let Some((user, _)) = self.user(user_id).await? else {
                    continue;
                };
                if user.state != UserState::PendingSetup
                    || (user.setup_sent_at.is_some() && !resend)
                {
                    report.skipped += 1;
                    continue;
                }
                match self.send_setup_link(user_id, ctx).await {
                    Ok(()) => report.sent += 1,
                    Err(e @ Error::Unavailable { .. }) => {
                        report.failed += 1;
                        report.stopped = Some(e.to_string());
                        return Ok(report);
                    }
                    Err(_) => report.skipped += 1,
                }
            }
        }
        Ok(report)
    }

    /// Counts of staged records by status.
    pub async fn migration_status(&self) -> Result<serde_json::Value> {
        let (mut staged, mut migrated, mut rejected) = (0u64, 0u64, 0u64);
        for (s, _) in self.staged_records().await? {
            match s.status {
                StagedStatus::Staged => staged += 1,
                StagedStatus::Migrated => migrated += 1,
                StagedStatus::Rejected => rejected += 1,
            }
        }
        Ok(serde_json::json!({
            "action": "status",
            "counts": { "pending": staged, "migrated": migrated, "rejected": rejected, "total": staged + migrated + rejected },
        }))
    }
}
