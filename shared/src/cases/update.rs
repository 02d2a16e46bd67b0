//! A case's life after filing (CASE-3, CASE-5, CASE-7, CASE-8): read,
//! comment, move, the desk's updates and decisions, and the notice mail of
//! each.

use super::attachments::Registered;
use super::*;

/// CASE-3, CASE-7, CASE-8: what the support desk's `case-update` asks.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeskUpdate<'a> {
    /// A new status (not with a decision).
    pub status: Option<Status>,
    /// The desk's comment.
    pub comment: Option<&'a str>,
    /// CASE-7: accept or decline a work request waiting for it.
    pub decision: Option<Decision>,
    /// CASE-7: why a work request is declined (required then, and only then).
    pub reason: Option<&'a str>,
    /// CASE-8: mark (or unmark) the case as a delivery of monthly reports.
    pub monthly_report: Option<bool>,
    /// CASE-6: a file the desk put in the store, for the thread.
    pub attach: Option<DeskFile<'a>>,
}

/// One update of a case: the move, the desk's report mark, the file.
#[derive(Clone, Copy, Debug)]
pub(super) struct Update<'a> {
    pub m: Move,
    pub monthly_report: Option<bool>,
    pub attach: Option<&'a Registered>,
}

impl From<Move> for Update<'_> {
    fn from(m: Move) -> Self {
        Update {
            m,
            monthly_report: None,
            attach: None,
        }
    }
}

/// Which notice a change sends the filer.
#[derive(Clone, Copy, Debug)]
pub(super) enum Notice {
    Created,
    Status,
    Decided(Decision),
}

impl App {
    /// The case in this tenant's partition, and its version.
    pub(super) async fn tenant_case(&self, tenant: &TenantId, id: &str) -> Result<(Case, u64)> {
        if !is_id(id) {
            return Err(Error::NotFound);
        }
        get_as::<Case>(self.store.as_ref(), &keys::case(tenant, id), self.now())
            .await?
            .ok_or(Error::NotFound)
    }

    /// A case of the user's tenant with its comments; 404 for any other.
    pub async fn case_detail(&self, user: &User, id: &str) -> Result<CaseDetail> {
        let (case, _) = self.tenant_case(&user.tenant_id, id).await?;
        let thread = self
            .query_partition(&keys::cases(&user.tenant_id), &keys::case_comments(id))
            .await?
            .iter()
            .map(Item::parse)
            .collect::<Result<Vec<Comment>, _>>()?;
        Ok(CaseDetail { case, thread })
    }

    /// CASE-5: a customer's comment. On a closed case it is refused (a
    /// closed case never reopens: file a new one); an answer to "awaiting
    /// customer" puts the case back in progress.
    pub async fn comment_case(
        &self,
        user: &User,
        id: &str,
        body: &str,
        ctx: &Ctx,
    ) -> Result<Comment> {
        let body = text(body, self.config.cases.body_max, true, "comment")?;
        let author = (Author::Customer, user.name.as_str().to_string());
        let (_, comment) = self
            .update_case(
                &user.tenant_id,
                id,
                Move::Comment.into(),
                Some((author, &body)),
                Some(user),
                ctx,
            )
            .await?;
        Ok(comment.expect("a comment was written"))
    }

    /// CASE-3: the customer closes, accepts or rejects; the new status. A
    /// rejection says why (`reason`, required): it goes into the thread
    /// with the change of status, for the desk to work on.
    pub async fn move_case(
        &self,
        user: &User,
        id: &str,
        m: Move,
        reason: Option<&str>,
        ctx: &Ctx,
    ) -> Result<Status> {
        let reason = match (m, reason) {
            (Move::Reject, r) => Some(text(
                r.unwrap_or(""),
                self.config.cases.body_max,
                true,
                "reason",
            )?),
            (Move::Close | Move::Accept, _) => None,
            _ => return Err(Error::Forbidden),
        };
        let author = (Author::Customer, user.name.as_str().to_string());
        let comment = reason.as_deref().map(|r| (author, r));
        let (case, _) = self
            .update_case(&user.tenant_id, id, m.into(), comment, Some(user), ctx)
            .await?;
        Ok(case.status)
    }

    /// CASE-3, CASE-7, CASE-8 for the support desk (an operator event):
    /// set a status, or accept or decline a work request, and/or add the
    /// desk's comment, and/or mark the case as a report delivery — on the
    /// case with this number.
    pub async fn desk_update(
        &self,
        number: &str,
        u: &DeskUpdate<'_>,
        ctx: &Ctx,
    ) -> Result<CaseSummary> {
        let number = parse_number(number).ok_or_else(|| Error::invalid("invalid_case_number"))?;
        let declines = u.decision == Some(Decision::Declined);
        if u.status.is_some() && u.decision.is_some() {
            return Err(Error::invalid("status_with_decision"));
        }
        if u.reason.is_some() && !declines {
            return Err(Error::invalid("reason_without_decline"));
        }
        if declines && u.comment.is_some() {
            return Err(Error::invalid("comment_with_reason"));
        }
        let max = self.config.cases.body_max;
        let comment = match u.comment {
            Some(c) => Some(text(c, max, true, "comment")?),
            None => None,
        };
        let reason = match declines {
            true => Some(text(u.reason.unwrap_or(""), max, true, "decline_reason")?),
            false => None,
        };
        let nothing = u.status.is_none() && u.decision.is_none() && u.monthly_report.is_none();
        if nothing && comment.is_none() && u.attach.is_none() {
            return Err(Error::invalid("nothing_to_do"));
        }
        let (r, _) =
            get_as::<NumberRef>(self.store.as_ref(), &keys::case_number(&number), self.now())
                .await?
                .ok_or(Error::NotFound)?;
        let m = match (u.status, u.decision) {
            (Some(s), _) => Move::Desk(s),
            (None, Some(d)) => Move::Decide(d),
            (None, None) => Move::Comment,
        };
        let file = match &u.attach {
            Some(f) => Some(self.desk_file(&r.tenant_id, &r.id, f)?),
            None => None,
        };
        let update = Update {
            m,
            monthly_report: u.monthly_report,
            attach: file.as_ref(),
        };
        // A file without a comment is an entry of its own.
        let comment = comment.or_else(|| file.as_ref().map(|_| String::new()));
        let desk = reason
            .or(comment)
            .map(|c| ((Author::Support, String::new()), c));
        let desk = desk.as_ref().map(|(a, c)| (a.clone(), c.as_str()));
        let (case, _) = self
            .update_case(&r.tenant_id, &r.id, update, desk, None, ctx)
            .await?;
        Ok(summary(&case))
    }

    /// One move of a case: read, decide with [`transition`], write the case
    /// (on its version), move its list entry, add the comment and the audit
    /// record — all or nothing; a lost race reads and decides again. `user`
    /// is the customer who moves it, `None` for the support desk.
    pub(super) async fn update_case(
        &self,
        tenant: &TenantId,
        id: &str,
        update: Update<'_>,
        comment: Option<((Author, String), &str)>,
        user: Option<&User>,
        ctx: &Ctx,
    ) -> Result<(Case, Option<Comment>)> {
        let m = update.m;
        for round in 0..16u32 {
            let (old, version) = self.tenant_case(tenant, id).await?;
            // CASE-6: a file is put on a case once (a replayed confirmation).
            if let Some(r) = update.attach {
                let key = keys::case_attachment(tenant, id, &r.attachment.id);
                let known = get_as::<Registered>(self.store.as_ref(), &key, self.now()).await?;
                if let Some((k, _)) = known {
                    return Err(Error::conflict(match k.key == r.key {
                        true => "attachment_already_added",
                        false => "attachment_form_used",
                    }));
                }
            }
            // The desk's comment without a status is not the customer's
            // answer: it leaves the status as it is.
            let status = match (m, user) {
                (Move::Comment, None) => Ok(old.status),
                _ => decide(old.kind, old.status, old.decision, m),
            }
            .map_err(Error::conflict)?;
            // A rejection's or a decline's reason is part of the move, never
            // blocked by the cap (the customer could otherwise only accept).
            let reason = matches!(m, Move::Reject | Move::Decide(Decision::Declined));
            let capped = comment.is_some() && !reason;
            if capped && old.comment_count >= self.config.cases.comments_max {
                return Err(Error::conflict("case_comments_full"));
            }
            let now = self.now().max(old.updated_at);
            let mut case = old.clone();
            case.status = status;
            case.updated_at = now;
            if let Move::Decide(d) = m {
                case.decision = Some(d);
            }
            if let Some(mark) = update.monthly_report {
                case.monthly_report = mark;
            }
            // The desk's mark as it was (a replay): nothing to write, and the
            // case keeps its place in the lists.
            let unchanged = comment.is_none() && status == old.status;
            if unchanged && case.monthly_report == old.monthly_report && m == Move::Comment {
                return Ok((old, None));
            }
            // The desk's changes go to the tenant's audit trail too (user `-`).
            let who = Some(user.map_or(("-", tenant), |u| (u.id.as_str(), &u.tenant_id)));
            let mut extra = Vec::new();
            let mut written = None;
            // CASE-3: every change of status is an entry of the thread, with
            // the words that came with it (a rejection's reason, the desk's
            // comment) or on its own.
            let change = (status != old.status).then_some(StatusChange {
                from: old.status,
                to: status,
            });
            let entry_id = new_ulid(self.rng.as_ref(), now).to_string();
            if let Some(((by, name), body)) = &comment {
                case.comment_count += 1;
                let c = Comment {
                    id: entry_id,
                    by: *by,
                    name: name.clone(),
                    body: body.to_string(),
                    created_at: now,
                    status_change: change,
                    attachments: update
                        .attach
                        .map(|r| r.attachment.clone())
                        .into_iter()
                        .collect(),
                };
                extra.push(Write::put(
                    keys::case_comment(tenant, id, case.comment_count),
                    &c,
                    None,
                    Cond::Absent,
                ));
                extra.push(self.audit(ctx, "case.commented", who, Some(case.number.clone())));
                if let Some(r) = update.attach {
                    let key = keys::case_attachment(tenant, id, &r.attachment.id);
                    extra.push(Write::put(key, r, None, Cond::Absent));
                    let detail = format!("{} {}", case.number, r.attachment.id);
                    extra.push(self.audit(ctx, "case.attached", who, Some(detail)));
                }
                written = Some(c);
            } else if let Some(change) = change {
                let (by, name) = match user {
                    Some(u) => (Author::Customer, u.name.as_str().to_string()),
                    None => (Author::Support, String::new()),
                };
                let key = keys::case_status_entry(tenant, id, case.comment_count, &entry_id);
                let entry = Comment {
                    id: entry_id,
                    by,
                    name,
                    body: String::new(),
                    created_at: now,
                    status_change: Some(change),
                    attachments: Vec::new(),
                };
                extra.push(Write::put(key, &entry, None, Cond::Absent));
            }
            if case.monthly_report != old.monthly_report {
                let detail = format!("{} {}", case.number, case.monthly_report);
                extra.push(self.audit(ctx, "case.monthly_report", who, Some(detail)));
            }
            if status != old.status {
                extra.push(self.audit_case_status(ctx, who, &case, old.status));
                // CASE-5, CASE-7: the filer hears of it, in the same write.
                let filer = match user.filter(|u| u.id == case.created_by) {
                    Some(u) => Some(u.clone()),
                    None => self.user(&case.created_by).await?.map(|(u, _)| u),
                };
                let notice = match m {
                    Move::Decide(d) => Notice::Decided(d),
                    _ => Notice::Status,
                };
                extra.extend(filer.and_then(|f| self.case_notice(&f, &case, notice)));
            }
            let mut writes = vec![Write::put(
                keys::case(tenant, id),
                &case,
                None,
                Cond::Version(version),
            )];
            let old_entry = keys::case_entry(tenant, old.updated_at, id);
            if old_entry == keys::case_entry(tenant, now, id) {
                writes.push(self.entry_write(&case, Cond::Exists));
            } else {
                writes.push(Write::Delete {
                    key: old_entry,
                    cond: Cond::Exists,
                });
                writes.push(self.entry_write(&case, Cond::Absent));
            }
            writes.extend(extra);
            match self.store.write(writes, now).await {
                Ok(()) => {
                    return Ok((case, written));
                }
                Err(e) => self.lost_race(round, e).await?,
            }
        }
        Err(Error::Unavailable { what: "store" })
    }

    fn audit_case_status(
        &self,
        ctx: &Ctx,
        who: Option<(&str, &TenantId)>,
        case: &Case,
        from: Status,
    ) -> Write {
        let mut detail = format!("{} {}→{}", case.number, from.as_str(), case.status.as_str());
        if let Some(d) = case.decision.filter(|_| from == Status::New) {
            detail = format!("{detail} {}", d.as_str());
        }
        self.audit(ctx, "case.status", who, Some(detail))
    }

    // home of CASE-5
    /// CASE-5, CASE-7: the notice to `filer`, who filed the case, in their
    /// language: an outbox item for the write that changes the case. Only
    /// an active account is mailed.
    pub(super) fn case_notice(&self, filer: &User, case: &Case, what: Notice) -> Option<Write> {
        if filer.state != UserState::Active {
            return None;
        }
        let lang = filer.lang;
        let (event, kind) = match what {
            Notice::Created => (CaseEvent::Created, "case.created"),
            Notice::Status => (CaseEvent::Status(case.status.label(lang)), "case.status"),
            Notice::Decided(Decision::Accepted) => (CaseEvent::Accepted, "case.accepted"),
            Notice::Decided(Decision::Declined) => (CaseEvent::Declined, "case.declined"),
        };
        let link = format!("{}/cases/{}", self.config.base_url, case.id);
        let mail = case_mail(
            &self.config.brand,
            lang,
            filer.email.as_str(),
            event,
            &CaseFacts {
                name: filer.name.as_str(),
                number: &case.number,
                subject: &case.subject,
                category: self.config.cases.category_label(&case.category, lang),
                link: &link,
            },
        );
        Some(self.notice(kind, mail, Some((&filer.id, &filer.tenant_id))))
    }
}
