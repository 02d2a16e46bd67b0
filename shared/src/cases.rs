//! Support cases (CASE-1..5, MIG-13): customers file inquiries and work
//! requests, follow them through the support desk's statuses, comment, and
//! close or accept them.
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
}

// home of CASE-3
/// CASE-3 as a pure function: the status after `m`, or the code of the
/// refusal (409). A closed case never reopens.
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub id: String,
    pub by: Author,
    /// The customer's name; empty for the support desk.
    pub name: String,
    pub body: String,
    pub created_at: Timestamp,
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
    /// Only cases waiting for the customer (awaiting customer, resolved).
    pub action_needed: bool,
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

/// Text as search compares it: full-width ASCII and the ideographic space
/// folded to their ASCII forms, lower case (so `ＡＢＣ` finds `abc`).
pub fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

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

/// The page cursor is the last entry's sort key, without the prefix and
/// with `.` for `#` so that it travels in a URL as it is.
fn cursor_of(sk: &str) -> String {
    sk.trim_start_matches(keys::CASE_ENTRIES).replace('#', ".")
}

fn sk_of_cursor(c: &str, lang: Lang) -> Result<String> {
    let ok = c.len() == 40
        && c.as_bytes()[13] == b'.'
        && c[..13].bytes().all(|b| b.is_ascii_digit())
        && is_id(&c[14..]);
    if !ok {
        return Err(Error::invalid("invalid_cursor", t(lang, "case.err.cursor")));
    }
    Ok(format!("{}{}", keys::CASE_ENTRIES, c.replace('.', "#")))
}

fn conflict(code: &'static str, lang: Lang) -> Error {
    Error::Conflict {
        code,
        message: t(lang, &format!("case.err.{code}")).to_string(),
    }
}

/// Text a customer wrote: trimmed, not empty, at most `max` characters, no
/// control characters but (in multi-line text) line breaks and tabs.
fn text(
    value: &str,
    max: usize,
    multiline: bool,
    field: &'static str,
    lang: Lang,
) -> Result<String> {
    let v = value.trim();
    let code = |c: &'static str| Error::invalid(c, t(lang, &format!("case.err.{c}.{field}")));
    if v.is_empty() {
        return Err(code("empty"));
    }
    if v.chars().count() > max {
        return Err(Error::invalid(
            "too_long",
            t(lang, &format!("case.err.too_long.{field}")).replace("{max}", &max.to_string()),
        ));
    }
    let bad = |c: char| c.is_control() && !(multiline && matches!(c, '\n' | '\t' | '\r'));
    if v.chars().any(bad) {
        return Err(code("control_characters"));
    }
    Ok(v.replace("\r\n", "\n"))
}

impl App {
    // home of MIG-13
    /// MIG-13: refuses a user who files cases elsewhere — while the split is
    /// on, users who came from the legacy system file there. The refusal
    /// says where.
    pub async fn check_filing_place(&self, user: &User, lang: Lang) -> Result<()> {
        let split = match self.config.cases.filing_split {
            FilingSplit::Never => false,
            FilingSplit::Always => true,
            FilingSplit::DuringWindow => self.window_open().await?,
        };
        if split && user.ecid.is_some() {
            let place = self
                .config
                .cases
                .legacy_url
                .as_deref()
                .unwrap_or(t(lang, "case.legacy_place"));
            return Err(Error::Refused {
                code: "file_in_legacy_system",
                message: t(lang, "case.err.file_in_legacy_system").replace("{place}", place),
            });
        }
        Ok(())
    }

    // home of CASE-1
    /// CASE-1 / CASE-2: file a case in the user's tenant. Everything is
    /// checked before anything is written; then a number from the counter,
    /// and the case, its list entry, its number and the audit record in one
    /// atomic write. The notice mail follows (CASE-5).
    pub async fn create_case(&self, user: &User, new: &NewCase<'_>, ctx: &Ctx) -> Result<Created> {
        let lang = ctx.lang;
        let p = &self.config.cases;
        if !p.categories.iter().any(|c| c == new.category) {
            return Err(Error::invalid(
                "unknown_category",
                t(lang, "case.err.unknown_category"),
            ));
        }
        let subject = text(new.subject, p.subject_max, false, "subject", lang)?;
        let body = text(new.body, p.body_max, true, "body", lang)?;
        if user.state != UserState::Active {
            return Err(Error::Forbidden);
        }
        self.check_filing_place(user, lang).await?;

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
            };
            let reference = NumberRef {
                tenant_id: user.tenant_id.clone(),
                id: id.clone(),
            };
            let writes = vec![
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
            match self.store.write(writes, now).await {
                Ok(()) => {
                    self.case_notice(&case, true, ctx).await;
                    return Ok(Created { id, number });
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Unavailable { what: "store" })
    }

    fn entry_write(&self, case: &Case, cond: Cond) -> Write {
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

    // home of CASE-4
    /// CASE-4: one page of the tenant's cases, newest update first,
    /// optionally only those needing action and those whose subject, body
    /// or comments hold the keyword.
    pub async fn list_cases(&self, user: &User, q: &ListQuery<'_>, lang: Lang) -> Result<CasePage> {
        let tenant = &user.tenant_id;
        let keyword = match q.q.map(str::trim).filter(|k| !k.is_empty()) {
            Some(k) if k.chars().count() > QUERY_MAX => {
                return Err(Error::invalid("too_long", t(lang, "case.err.query")));
            }
            Some(k) => Some(fold(k)),
            None => None,
        };
        let mut after = match q.cursor.filter(|c| !c.is_empty()) {
            Some(c) => Some(sk_of_cursor(c, lang)?),
            None => None,
        };
        let now = self.now();
        // Cases whose comments hold the keyword.
        let commented: std::collections::HashSet<String> = match &keyword {
            Some(k) => self
                .query_partition(&keys::cases(tenant), keys::CASE_COMMENTS)
                .await?
                .iter()
                .filter_map(|i| {
                    let c: Comment = i.parse().ok()?;
                    fold(&c.body)
                        .contains(k.as_str())
                        .then(|| i.key.sk[keys::CASE_COMMENTS.len()..][..26].to_string())
                })
                .collect(),
            None => Default::default(),
        };
        let mut found: Vec<(String, CaseSummary)> = Vec::new();
        'walk: loop {
            let batch = self
                .store
                .query(
                    &Query {
                        pk: keys::cases(tenant),
                        sk_prefix: keys::CASE_ENTRIES.into(),
                        after: after.clone(),
                        limit: BATCH,
                    },
                    now,
                )
                .await?;
            for item in &batch {
                let e: Entry = item.parse()?;
                let wanted = (!q.action_needed || e.summary.status.action_needed())
                    && keyword.as_ref().is_none_or(|k| {
                        e.text.contains(k.as_str()) || commented.contains(&e.summary.id)
                    });
                if wanted {
                    found.push((item.key.sk.clone(), e.summary));
                    if found.len() > PAGE_SIZE {
                        break 'walk;
                    }
                }
            }
            match batch.last() {
                Some(last) if batch.len() == BATCH => after = Some(last.key.sk.clone()),
                _ => break,
            }
        }
        let next_cursor = if found.len() > PAGE_SIZE {
            found.truncate(PAGE_SIZE);
            found.last().map(|(sk, _)| cursor_of(sk))
        } else {
            None
        };
        Ok(CasePage {
            items: found.into_iter().map(|(_, s)| s).collect(),
            next_cursor,
        })
    }

    /// Every live item of a partition under a prefix.
    async fn query_partition(&self, pk: &str, prefix: &str) -> Result<Vec<Item>> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let batch = self
                .store
                .query(
                    &Query {
                        pk: pk.to_string(),
                        sk_prefix: prefix.to_string(),
                        after,
                        limit: 1000,
                    },
                    self.now(),
                )
                .await?;
            let more = batch.len() == 1000;
            after = batch.last().map(|i| i.key.sk.clone());
            out.extend(batch);
            if !more {
                return Ok(out);
            }
        }
    }

    /// The case in this tenant's partition, and its version.
    async fn tenant_case(&self, tenant: &TenantId, id: &str) -> Result<(Case, u64)> {
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
        let body = text(body, self.config.cases.body_max, true, "comment", ctx.lang)?;
        let author = (Author::Customer, user.name.as_str().to_string());
        let (_, comment) = self
            .update_case(
                &user.tenant_id,
                id,
                Move::Comment,
                Some((author, &body)),
                Some(user),
                ctx,
            )
            .await?;
        Ok(comment.expect("a comment was written"))
    }

    /// CASE-3: the customer closes, accepts or rejects; the new status.
    pub async fn move_case(&self, user: &User, id: &str, m: Move, ctx: &Ctx) -> Result<Status> {
        if !matches!(m, Move::Close | Move::Accept | Move::Reject) {
            return Err(Error::Forbidden);
        }
        let (case, _) = self
            .update_case(&user.tenant_id, id, m, None, Some(user), ctx)
            .await?;
        Ok(case.status)
    }

    /// CASE-3 for the support desk (an operator event): set a status
    /// and/or add the desk's comment to the case with this number.
    pub async fn desk_update(
        &self,
        number: &str,
        status: Option<Status>,
        comment: Option<&str>,
        ctx: &Ctx,
    ) -> Result<CaseSummary> {
        let lang = ctx.lang;
        let number = parse_number(number).ok_or_else(|| {
            Error::invalid("invalid_case_number", "a case number is CS and 7 digits")
        })?;
        let comment = match comment {
            Some(c) => Some(text(c, self.config.cases.body_max, true, "comment", lang)?),
            None => None,
        };
        if status.is_none() && comment.is_none() {
            return Err(Error::invalid(
                "nothing_to_do",
                "give a status, a comment or both",
            ));
        }
        let (r, _) =
            get_as::<NumberRef>(self.store.as_ref(), &keys::case_number(&number), self.now())
                .await?
                .ok_or(Error::NotFound)?;
        let m = match status {
            Some(s) => Move::Desk(s),
            None => Move::Comment,
        };
        let desk = comment
            .as_deref()
            .map(|c| ((Author::Support, String::new()), c));
        let (case, _) = self
            .update_case(&r.tenant_id, &r.id, m, desk, None, ctx)
            .await?;
        Ok(summary(&case))
    }

    /// One move of a case: read, decide with [`transition`], write the case
    /// (on its version), move its list entry, add the comment and the audit
    /// record — all or nothing; a lost race reads and decides again. `user`
    /// is the customer who moves it, `None` for the support desk.
    async fn update_case(
        &self,
        tenant: &TenantId,
        id: &str,
        m: Move,
        comment: Option<((Author, String), &str)>,
        user: Option<&User>,
        ctx: &Ctx,
    ) -> Result<(Case, Option<Comment>)> {
        let lang = ctx.lang;
        for round in 0..16u32 {
            let (old, version) = self.tenant_case(tenant, id).await?;
            // The desk's comment without a status is not the customer's
            // answer: it leaves the status as it is.
            let status = match (m, user) {
                (Move::Comment, None) => Ok(old.status),
                _ => transition(old.status, m),
            }
            .map_err(|code| conflict(code, lang))?;
            if comment.is_some() && old.comment_count >= self.config.cases.comments_max {
                return Err(conflict("case_comments_full", lang));
            }
            let now = self.now().max(old.updated_at);
            let mut case = old.clone();
            case.status = status;
            case.updated_at = now;
            // The desk's changes go to the tenant's audit trail too (user `-`).
            let who = Some(user.map_or(("-", tenant), |u| (u.id.as_str(), &u.tenant_id)));
            let mut extra = Vec::new();
            let mut written = None;
            if let Some(((by, name), body)) = &comment {
                case.comment_count += 1;
                let c = Comment {
                    id: new_ulid(self.rng.as_ref(), now).to_string(),
                    by: *by,
                    name: name.clone(),
                    body: body.to_string(),
                    created_at: now,
                };
                extra.push(Write::put(
                    keys::case_comment(tenant, id, case.comment_count),
                    &c,
                    None,
                    Cond::Absent,
                ));
                extra.push(self.audit(ctx, "case.commented", who, Some(case.number.clone())));
                written = Some(c);
            }
            if status != old.status {
                extra.push(self.audit_case_status(ctx, who, &case, old.status));
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
                    if status != old.status {
                        self.case_notice(&case, false, ctx).await;
                    }
                    return Ok((case, written));
                }
                Err(StoreError::Conflict) => self.back_off(round).await,
                Err(e) => return Err(e.into()),
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
        let detail = format!("{} {}→{}", case.number, from.as_str(), case.status.as_str());
        self.audit(ctx, "case.status", who, Some(detail))
    }

    // home of CASE-5
    /// CASE-5: mail the user who filed the case, in their language. A mail
    /// fault does not undo the case's change; it is recorded.
    async fn case_notice(&self, case: &Case, created: bool, ctx: &Ctx) {
        let user = match self.user(&case.created_by).await {
            Ok(Some((u, _))) if u.state == UserState::Active => u,
            Ok(_) => return,
            Err(e) => {
                tracing::error!(error = %e, case = %case.number, "case notice: user unreadable");
                return;
            }
        };
        let lang = user.lang;
        let event = if created {
            CaseEvent::Created
        } else {
            CaseEvent::Status(case.status.label(lang))
        };
        let link = format!("{}/cases/{}", self.config.base_url, case.id);
        let mail = case_mail(
            &self.config.brand,
            lang,
            user.email.as_str(),
            event,
            &CaseFacts {
                name: user.name.as_str(),
                number: &case.number,
                subject: &case.subject,
                category: &case.category,
                link: &link,
            },
        );
        if let Err(e) = self.mailer.send(&mail).await {
            tracing::error!(error = %e, case = %case.number, "case notice not sent");
            let _ = self
                .record(
                    ctx,
                    "case.notice_failed",
                    Some((&user.id, &user.tenant_id)),
                    Some(case.number.clone()),
                )
                .await;
        }
    }
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
    }
}

#[cfg(test)]
mod tests {
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
        assert_eq!(sk_of_cursor(&c, Lang::En).unwrap(), sk);
        assert!(sk_of_cursor("U#x", Lang::En).is_err());
        assert!(sk_of_cursor(&c.replace('0', "#"), Lang::En).is_err());
    }
}
