//! Filing a case (CASE-1, CASE-2) where the user files (MIG-13).

use super::*;

impl App {
    // home of MIG-13
    /// MIG-13: refuses a user who files cases elsewhere — while the split is
    /// on, users who came from the legacy system file there. The refusal
    /// says where.
    pub async fn check_filing_place(&self, user: &User) -> Result<()> {
        let split = match self.config.cases.filing_split {
            FilingSplit::Never => false,
            FilingSplit::Always => true,
            FilingSplit::DuringWindow => self.window_open().await?,
        };
        if split && user.ecid.is_some() {
            // The answer names the legacy system's page when one is configured.
            let refused = Error::refused("file_in_legacy_system");
            return Err(match self.config.cases.legacy_url.as_deref() {
                Some(url) => refused.with("place", url),
                None => refused,
            });
        }
        Ok(())
    }

    // home of CASE-1
    /// CASE-1 / CASE-2: file a case in the user's tenant. Everything is
    /// checked before anything is written; then a number from the counter,
    /// and the case, its list entry, its number and the audit record in one
    /// atomic write, with the notice mail's outbox item (CASE-5).
    pub async fn create_case(&self, user: &User, new: &NewCase<'_>, ctx: &Ctx) -> Result<Created> {
        let p = &self.config.cases;
        if !p.categories.iter().any(|c| c.id() == new.category) {
            return Err(Error::invalid("unknown_category"));
        }
        let subject = text(new.subject, p.subject_max, false, "subject")?;
        let body = text(new.body, p.body_max, true, "body")?;
        if user.state != UserState::Active {
            return Err(Error::Forbidden);
        }
        self.check_filing_place(user).await?;

        let counter = keys::case_counter();
        // A number already taken (the start was lowered below numbers in
        // use) is skipped: the number item's condition refuses it.
        for _ in 0..8 {
            let n = self.store.increment(&counter, self.now()).await?;
            let number = number_for(n + p.number_start - 1);
            let now = self.now();
            let id = new_ulid(self.rng.as_ref(), now).to_string();
            let case = Case {
                id: id.clone(),
                number: number.clone(),
                tenant_id: user.tenant_id.clone(),
                kind: new.kind,
                category: new.category.to_string(),
                subject: subject.clone(),
                body: body.clone(),
                status: Status::New,
                created_by: user.id.clone(),
                created_by_name: user.name.as_str().to_string(),
                created_at: now,
                updated_at: now,
                comment_count: 0,
                decision: None,
                monthly_report: false,
            };
            let reference = NumberRef {
                tenant_id: user.tenant_id.clone(),
                id: id.clone(),
            };
            let mut writes = vec![
                Write::put(keys::case(&case.tenant_id, &id), &case, None, Cond::Absent),
                self.entry_write(&case, Cond::Absent),
                Write::put(keys::case_number(&number), &reference, None, Cond::Absent),
                self.audit(
                    ctx,
                    "case.created",
                    Some((&user.id, &user.tenant_id)),
                    Some(number.clone()),
                ),
            ];
            writes.extend(self.case_notice(user, &case, super::update::Notice::Created));
            match self.store.write(writes, now).await {
                Ok(()) => {
                    return Ok(Created { id, number });
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Unavailable { what: "store" })
    }

    pub(super) fn entry_write(&self, case: &Case, cond: Cond) -> Write {
        let entry = Entry {
            summary: summary(case),
            text: entry_text(&case.subject, &case.body),
        };
        Write::put(
            keys::case_entry(&case.tenant_id, case.updated_at, &case.id),
            &entry,
            None,
            cond,
        )
    }
}
