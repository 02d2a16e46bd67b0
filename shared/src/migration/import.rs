//! Staging legacy records (MIG-1, MIG-7): `import`.

use super::*;

impl App {
    /// Stage records for migration. A malformed record is rejected with its
    /// reason and does not stop the batch.
    pub async fn import(&self, records: &[Value], ctx: &Ctx) -> Result<Report> {
        self.import_batch(records, None, ctx).await
    }

    /// `import`, each staged record tagged with `batch` (an operator's run,
    /// so that its `apply` takes only what this file staged).
    pub async fn import_batch(
        &self,
        records: &[Value],
        batch: Option<&str>,
        ctx: &Ctx,
    ) -> Result<Report> {
        let mut report = Report::new("import", false);
        report.complete = true;
        if !records.is_empty() {
            // Tell the apply checkpoint that the staged set changes, before
            // it does (MIG-10): a finished pass then runs again.
            self.mark_import(ctx).await?;
        }
        // The tenants this event listed already (`MIGTENANTS`, one partition
        // for every tenant): written with a tenant's first record of the
        // event, not with every record, so that parallel imports do not all
        // write one partition key (issue 17 item 4).
        let mut indexed = std::collections::HashSet::new();
        for raw in records {
            let parsed = serde_json::from_value::<LegacyRecord>(raw.clone())
                .map_err(|e| (e.to_string(), None))
                .and_then(|r| {
                    r.validate()
                        .map(|v| (r, v))
                        .map_err(|e| (e.to_string(), Some(e)))
                });
            let (record, valid) = match parsed {
                Ok(x) => x,
                Err((reason, error)) => {
                    report.push(rejected(raw, reason, error));
                    continue;
                }
            };
            report.push(self.stage(record, &valid, batch, &mut indexed, ctx).await?);
        }
        Ok(report)
    }

    // home of MIG-7
    async fn stage(
        &self,
        record: LegacyRecord,
        v: &ValidRecord,
        batch: Option<&str>,
        indexed: &mut std::collections::HashSet<String>,
        ctx: &Ctx,
    ) -> Result<RecordReport> {
        let key = keys::staged(&v.tenant_id, &v.ecid);
        let index = !indexed.contains(v.tenant_id.as_str());
        let base = RecordReport {
            ecid: record.ecid.clone(),
            tenant_id: record.tenant_id.clone(),
            login_id: record.login_id.clone(),
            outcome: Outcome::Staged,
            final_login_id: None,
            phone_before: None,
            phone_after: None,
            reason: None,
            error: None,
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
                            let mut writes = self.stage_writes(
                                &record,
                                v,
                                batch,
                                (&key, Cond::Version(*ver)),
                                index,
                                ctx,
                            );
                            writes.push(Write::Delete {
                                key: keys::claimant(&old.login_id, &old.tenant_id, &old.ecid),
                                cond: Cond::Any,
                            });
                            match self.store.write(writes, now).await {
                                Ok(()) => {
                                    indexed.insert(v.tenant_id.as_str().to_string());
                                    return Ok(base);
                                }
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
            let writes = self.stage_writes(&record, v, batch, (&key, cond), index, ctx);
            match self.store.write(writes, now).await {
                Ok(()) => {
                    indexed.insert(v.tenant_id.as_str().to_string());
                    return Ok(base);
                }
                Err(e) => self.lost_race(round, e).await?,
            }
        }
        Err(Error::Unavailable { what: "store" })
    }

    fn stage_writes(
        &self,
        record: &LegacyRecord,
        v: &ValidRecord,
        batch: Option<&str>,
        (key, cond): (&crate::store::Key, Cond),
        index: bool,
        ctx: &Ctx,
    ) -> Vec<Write> {
        let staged = Staged {
            record: record.clone(),
            status: StagedStatus::Staged,
            user_id: None,
            final_login_id: None,
            reason: None,
            batch: batch.map(String::from),
        };
        let mut writes = vec![
            Write::put(key.clone(), &staged, None, cond),
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
        ];
        if index {
            writes.push(Write::put(
                keys::staged_tenant(&v.tenant_id),
                &serde_json::json!({}),
                None,
                Cond::Any,
            ));
        }
        writes
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
}
