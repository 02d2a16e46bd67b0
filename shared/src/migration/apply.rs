//! Applying one staged record (MIG-8): one atomic write, once.

use super::*;

impl App {
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
            // ADM-4's parent item is read beside the plan and written only
            // when it is new: the users of one child tenant, applied at once
            // by parallel chunks, do not all write the one item.
            let parent_key = v
                .parent_tenant_id
                .as_ref()
                .map(|_| keys::tenant_parent(&v.tenant_id));
            let (plan, parent_now) = tokio::join!(self.plan(&v), async {
                match &parent_key {
                    Some(k) => self.store.get(k, now).await.map(|i| i.map(|i| i.data)),
                    None => Ok(None),
                }
            });
            let (plan, parent_now) = (plan?, parent_now?);
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
                    let [user_put, entry_put] = crate::directory::user_writes(&user, Cond::Absent);
                    let mut writes = vec![
                        user_put,
                        entry_put,
                        Write::put(
                            keys::login(&p.login),
                            &LoginRef {
                                user_id: user.id.clone(),
                            },
                            None,
                            Cond::Absent,
                        ),
                        Write::put(key.clone(), &done, None, Cond::Version(ver)),
                    ];
                    // ADM-4: the contract's parent, for the parent's admins.
                    if let Some(parent) = &user.parent_tenant_id {
                        let want = serde_json::json!({ "parent": parent.as_str() }).to_string();
                        if parent_now.as_deref() != Some(want.as_str()) {
                            writes.push(Write::Put {
                                key: keys::tenant_parent(&user.tenant_id),
                                data: want,
                                expires_at: None,
                                cond: Cond::Any,
                            });
                        }
                    }
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
                Err(e) => self.lost_race(round, e).await?,
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
            legacy_phone: phone::replaced_legacy(&v.phone, &p.phone_after),
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
