//! The migration's jobs on `App` (MIG-8..10): `apply` in bounded chunks,
//! `send-setup-links`, the scheduled `continue` from the checkpoint, and
//! `status`. The walk, the checkpoint and the budget are `run.rs`.

use serde::Serialize;

use crate::app::{App, Ctx};
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::model::{keys, UserState};
use crate::random::new_ulid;
use crate::store::{get_as, Cond, StoreError, Write};

use super::{Outcome, RecordReport, Report, Staged, StagedStatus};

use super::run::*;

impl App {
    pub(crate) async fn mark_import(&self, ctx: &Ctx) -> Result<()> {
        let now = self.now();
        let marker = new_ulid(self.rng.as_ref(), now).to_string();
        self.store
            .write(
                vec![
                    Write::put(
                        keys::migration_state("IMPORT"),
                        &serde_json::json!({ "marker": marker }),
                        None,
                        Cond::Any,
                    ),
                    self.audit(ctx, "migration.import", None, None),
                ],
                now,
            )
            .await?;
        Ok(())
    }

    async fn import_marker(&self) -> Result<Option<String>> {
        let v = get_as::<serde_json::Value>(
            self.store.as_ref(),
            &keys::migration_state("IMPORT"),
            self.now(),
        )
        .await?;
        Ok(v.and_then(|(v, _)| v.get("marker").and_then(|m| m.as_str()).map(String::from)))
    }

    async fn state<T: serde::de::DeserializeOwned + Default>(
        &self,
        name: &str,
    ) -> Result<(T, Option<u64>)> {
        Ok(get_as::<T>(
            self.store.as_ref(),
            &keys::migration_state(name),
            self.now(),
        )
        .await?
        .map_or((T::default(), None), |(c, v)| (c, Some(v))))
    }

    /// Save a state item if nobody else moved it meanwhile. Losing this race
    /// is harmless: the other run's state stands, and whatever this run did
    /// is done (every record's write is its own) and found done next time.
    async fn save_state<T: Serialize>(
        &self,
        name: &str,
        state: &T,
        version: Option<u64>,
    ) -> Result<()> {
        let now = self.now();
        let cond = version.map_or(Cond::Absent, Cond::Version);
        let w = Write::put(keys::migration_state(name), state, None, cond);
        match self.store.write(vec![w], now).await {
            Ok(()) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// MIG-2..10: create users for staged records. Without a tenant, from
    /// the checkpoint, within `max_records` and the time budget; the schedule
    /// calls it until `complete`. With `dry_run`, the full report of every
    /// record and nothing written (MIG-9), paged by `after`.
    pub async fn apply(&self, opts: &ApplyOptions, ctx: &Ctx) -> Result<Report> {
        if opts.dry_run {
            return self.plan_all(opts).await;
        }
        let budget = Budget::new(self, opts.max_records);
        let mut report = Report::new("apply", false);
        // One tenant's or one batch's run walks on from `after`, not from
        // the schedule's checkpoint, and leaves the checkpoint alone.
        let checkpointed = opts.tenant.is_none() && opts.batch.is_none() && !opts.span;
        if checkpointed && opts.after.is_some() {
            return Err(Error::invalid("invalid_event")
                .detail("after goes with tenant_id or batch; a run over every tenant goes on from the checkpoint"));
        }
        let (mut cp, version) = if checkpointed {
            self.state::<Checkpoint>("CHECKPOINT").await?
        } else {
            let cp = Checkpoint {
                apply_after: opts.after.clone(),
                ..Checkpoint::default()
            };
            (cp, None)
        };
        let marker = self.import_marker().await?;
        if checkpointed && cp.apply_after.is_none() {
            if marker.is_some() && cp.done_import == marker {
                report.complete = true;
                return Ok(report);
            }
            cp.pass_import = marker.clone();
        }
        let mut walk = Walker::new(
            self,
            keys::staged_partition,
            "",
            opts.tenant.as_ref(),
            cp.apply_after.as_ref(),
        )
        .await?;
        let mut last = cp.apply_after.clone();
        let mut reached_end = true;
        while let Some((pos, item)) = walk.next(self).await? {
            let staged: Staged = item.parse()?;
            let ours = opts.batch.is_none() || staged.batch == opts.batch;
            if staged.status == StagedStatus::Staged && ours {
                if !budget.allows(self, report.records.len()) {
                    reached_end = false;
                    break;
                }
                report.push(self.apply_one(&staged, item.version, ctx).await?);
            }
            last = Some(pos);
        }
        report.complete = reached_end;
        if reached_end {
            cp.apply_after = None;
            if !checkpointed || self.import_marker().await? == cp.pass_import {
                cp.done_import = cp.pass_import.clone();
            } else {
                report.complete = false; // imported meanwhile: one more pass
            }
        } else {
            cp.apply_after = last;
            report.next = cp.apply_after.as_ref().map(Pos::render);
        }
        tracing::info!(
            action = "apply",
            records = report.records.len(),
            migrated = report.counts.migrated,
            renamed = report.counts.renamed,
            phone_normalised = report.counts.phone_normalised,
            already_migrated = report.counts.already_migrated,
            rejected = report.counts.rejected,
            complete = report.complete,
            checkpoint = report.next.as_deref().unwrap_or("-"),
            "migration chunk"
        );
        if checkpointed {
            cp.runs += 1;
            cp.updated_at = Some(self.now());
            self.save_state("CHECKPOINT", &cp, version).await?;
        }
        Ok(report)
    }

    // home of MIG-9
    /// MIG-9: what `apply` would do for every staged record, page by page.
    async fn plan_all(&self, opts: &ApplyOptions) -> Result<Report> {
        let budget = Budget::new(self, Some(opts.max_records.unwrap_or(5_000)));
        let mut report = Report::new("plan", true);
        let mut walk = Walker::new(
            self,
            keys::staged_partition,
            "",
            opts.tenant.as_ref(),
            opts.after.as_ref(),
        )
        .await?;
        let mut last = None;
        report.complete = true;
        while let Some((pos, item)) = walk.next(self).await? {
            if !budget.allows(self, report.records.len()) {
                report.complete = false;
                report.next = last.as_ref().map(Pos::render);
                break;
            }
            let staged: Staged = item.parse()?;
            if opts.batch.is_some() && staged.batch != opts.batch {
                last = Some(pos);
                continue;
            }
            let line = match staged.status {
                StagedStatus::Staged => self.plan_one(&staged).await?,
                StagedStatus::Migrated => RecordReport {
                    outcome: Outcome::AlreadyMigrated,
                    final_login_id: staged.final_login_id.clone(),
                    ..RecordReport::of(&staged)
                },
                StagedStatus::Rejected => RecordReport {
                    outcome: Outcome::Rejected,
                    reason: staged.reason.clone(),
                    ..RecordReport::of(&staged)
                },
            };
            report.push(line);
            last = Some(pos);
        }
        Ok(report)
    }

    /// SET-1 for migrated users: mail a setup link to every pending user
    /// not yet sent one (or to every pending user with `resend`), within the
    /// time budget; the schedule continues the job (MIG-10). Stops at the
    /// first delivery fault; a re-run goes on from there.
    pub async fn send_setup_links(
        &self,
        tenant: Option<&TenantId>,
        resend: bool,
        ctx: &Ctx,
    ) -> Result<MailReport> {
        let job = Job::SendSetupLinks {
            tenant_id: tenant.map(|t| t.as_str().to_string()),
            resend,
        };
        self.start_job(job, false, ctx).await
    }

    /// Start (or restart) a mail job from the beginning and run a chunk.
    pub(crate) async fn start_job(&self, job: Job, dry_run: bool, ctx: &Ctx) -> Result<MailReport> {
        if dry_run {
            return self.run_job(&job, None, true, ctx).await.map(|(r, _)| r);
        }
        let (mut st, version) = self.state::<JobState>("JOB").await?;
        let (report, after) = self.run_job(&job, None, false, ctx).await?;
        st.job = (!report.complete).then_some(job);
        st.after = after;
        st.runs += 1;
        st.updated_at = Some(self.now());
        self.save_state("JOB", &st, version).await?;
        Ok(report)
    }

    /// The next chunk of the job under way, if any.
    async fn continue_job(&self, ctx: &Ctx) -> Result<Option<MailReport>> {
        let (mut st, version) = self.state::<JobState>("JOB").await?;
        let Some(job) = st.job.clone() else {
            return Ok(None);
        };
        let (report, after) = self.run_job(&job, st.after.as_ref(), false, ctx).await?;
        if report.complete {
            st.job = None;
            st.after = None;
        } else {
            st.after = after.or(st.after);
        }
        st.runs += 1;
        st.updated_at = Some(self.now());
        self.save_state("JOB", &st, version).await?;
        Ok(Some(report))
    }

    async fn run_job(
        &self,
        job: &Job,
        from: Option<&Pos>,
        dry_run: bool,
        ctx: &Ctx,
    ) -> Result<(MailReport, Option<Pos>)> {
        let (action, tenant, resend) = match job {
            Job::SendSetupLinks { tenant_id, resend } => (
                "send-setup-links",
                tenant_id.as_deref().map(TenantId::parse).transpose()?,
                *resend,
            ),
            Job::CloseWindow {} => ("close-window", None, false),
        };
        let mut report = MailReport {
            action: action.into(),
            dry_run,
            ..MailReport::default()
        };
        let budget = Budget::new(self, None);
        let mut walk = Walker::new(self, members_partition, "USER#", tenant.as_ref(), from).await?;
        let mut last = from.cloned();
        while let Some((pos, item)) = walk.next(self).await? {
            if !budget.allows(self, 0) {
                return Ok((report, last));
            }
            let user_id = item.key.sk.trim_start_matches("USER#").to_string();
            let Some((user, _)) = self.user(&user_id).await? else {
                last = Some(pos);
                continue;
            };
            let due = user.state == UserState::PendingSetup
                && match job {
                    Job::SendSetupLinks { .. } => {
                        (user.setup_sent_at.is_none() || resend) && user.closure_notice_at.is_none()
                    }
                    Job::CloseWindow {} => user.closure_notice_at.is_none(),
                };
            if !due {
                report.skipped += 1;
                last = Some(pos);
                continue;
            }
            if dry_run {
                report.would_send.push(NoticeLine {
                    tenant_id: user.tenant_id.as_str().into(),
                    login_id: user.login_id.as_str().into(),
                    renamed: user.is_renamed(),
                });
                last = Some(pos);
                continue;
            }
            let sent = match job {
                Job::SendSetupLinks { .. } => self.send_setup_link(&user_id, ctx).await,
                Job::CloseWindow {} => self.send_closure_notice(&user_id, ctx).await,
            };
            match sent {
                Ok(()) => report.sent += 1,
                Err(e @ Error::Unavailable { .. }) => {
                    report.failed += 1;
                    report.stopped = Some(e.to_string());
                    return Ok((report, last));
                }
                // Set up or noticed meanwhile: nothing to send.
                Err(_) => report.skipped += 1,
            }
            last = Some(pos);
        }
        report.complete = true;
        tracing::info!(
            action,
            sent = report.sent,
            skipped = report.skipped,
            failed = report.failed,
            complete = report.complete,
            "migration mail chunk"
        );
        Ok((report, None))
    }

    // home of MIG-10
    /// MIG-10, the schedule: the next apply chunk; once nothing is pending,
    /// the next chunk of the mail job under way.
    pub async fn continue_migration(&self, ctx: &Ctx) -> Result<serde_json::Value> {
        let opts = ApplyOptions {
            max_records: Some(self.config.migrate_chunk),
            ..ApplyOptions::default()
        };
        let applied = self.apply(&opts, ctx).await?;
        let job = if applied.complete {
            self.continue_job(ctx).await?
        } else {
            None
        };
        let mut out = serde_json::to_value(&applied).expect("reports serialise");
        out["action"] = "continue".into();
        if let Some(j) = job {
            out["job"] = serde_json::to_value(j).expect("reports serialise");
        }
        Ok(out)
    }

    /// Counts of staged records by status, the checkpoint and the window.
    pub async fn migration_status(&self) -> Result<serde_json::Value> {
        let (mut pending, mut migrated, mut rejected) = (0u64, 0u64, 0u64);
        let mut walk = Walker::new(self, keys::staged_partition, "", None, None).await?;
        while let Some((_, item)) = walk.next(self).await? {
            match item.parse::<Staged>()?.status {
                StagedStatus::Staged => pending += 1,
                StagedStatus::Migrated => migrated += 1,
                StagedStatus::Rejected => rejected += 1,
            }
        }
        let (cp, _) = self.state::<Checkpoint>("CHECKPOINT").await?;
        let (job, _) = self.state::<JobState>("JOB").await?;
        let marker = self.import_marker().await?;
        Ok(serde_json::json!({
            "action": "status",
            "counts": {
                "pending": pending, "migrated": migrated, "rejected": rejected,
                "total": pending + migrated + rejected,
            },
            "complete": pending == 0 && cp.apply_after.is_none() && job.job.is_none(),
            "checkpoint": {
                "apply_after": cp.apply_after.as_ref().map(Pos::render),
                "pass_complete": marker.is_some() && cp.done_import == marker,
                "runs": cp.runs,
                "updated_at": cp.updated_at.map(|t| t.rfc3339()),
            },
            "job": {
                "pending": job.job,
                "after": job.after.as_ref().map(Pos::render),
                "runs": job.runs,
                "updated_at": job.updated_at.map(|t| t.rfc3339()),
            },
            "window": self.window_state().await?,
        }))
    }
}
