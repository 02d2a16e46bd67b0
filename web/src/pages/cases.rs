//! Support case pages (CASE-1..5, MIG-13): the list, the new case, a case.

use super::{page, render, Frame, Head};
use crate::i18n::t;
use tobira::cases::Filter;

/// A case as a line of the list.
struct CaseLine<'a> {
    id: &'a str,
    number: &'a str,
    subject: &'a str,
    status: &'static str,
    status_label: &'static str,
    action: bool,
    category: &'a str,
    kind_label: &'static str,
    updated: String,
    created_by: &'a str,
    /// CASE-7: the decision's key and label, once the desk decided.
    decision: Option<(&'static str, &'static str)>,
    /// CASE-8: a delivery of the desk's monthly reports.
    monthly_report: bool,
}

page! {
    CasesPage "cases/cases.html" {
    items: Vec<CaseLine<'a>>,
    /// The filter's parameter (`all` for none).
    filter: &'static str,
    /// CASE-4, CASE-8: (id, href, label, current) of each filter.
    filters: Vec<(String, String, &'static str, bool)>,
    q: &'a str,
    next_href: Option<String>,
    paged: bool,
    first_href: String,
    refused: Option<&'a str>,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    }
}

/// CASE-4: what the list page shows and how it was asked for.
pub struct CaseList<'a> {
    pub page: &'a tobira::cases::CasePage,
    /// The categories' labels in the page's language.
    pub policy: &'a tobira::config::CasePolicy,
    pub filter: Filter,
    pub q: &'a str,
    pub paged: bool,
    /// MIG-13: why this user files elsewhere (instead of "new case").
    pub refused: Option<&'a str>,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// `/cases` with the filter, keyword and (optionally) a cursor.
pub fn cases_href(filter: Filter, q: &str, cursor: Option<&str>) -> String {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if filter != Filter::All {
        pairs.push(("filter", filter.as_str()));
    }
    if !q.is_empty() {
        pairs.push(("q", q));
    }
    if let Some(c) = cursor {
        pairs.push(("cursor", c));
    }
    match serde_urlencoded::to_string(&pairs) {
        Ok(qs) if !qs.is_empty() => format!("/cases?{qs}"),
        _ => "/cases".into(),
    }
}

pub fn cases(f: &Frame<'_>, l: &CaseList<'_>) -> String {
    let lang = f.lang;
    render(&CasesPage {
        head: f.head("cases.title"),
        items: l
            .page
            .items
            .iter()
            .map(|c| CaseLine {
                id: &c.id,
                number: &c.number,
                subject: &c.subject,
                status: c.status.as_str(),
                status_label: c.status.label(lang),
                action: c.status.action_needed(),
                category: l.policy.category_label(&c.category, lang),
                kind_label: c.kind.label(lang),
                updated: c.updated_at.jst(),
                created_by: &c.created_by_name,
                decision: c.decision.map(|d| (d.as_str(), d.label(lang))),
                monthly_report: c.monthly_report,
            })
            .collect(),
        filter: l.filter.as_str(),
        filters: Filter::ALL
            .into_iter()
            .map(|f| {
                let id = format!("filter-{}", f.as_str().replace('_', "-"));
                let label = t(lang, &format!("cases.{}", f.as_str()));
                (id, cases_href(f, "", None), label, f == l.filter)
            })
            .collect(),
        q: l.q,
        next_href: l
            .page
            .next_cursor
            .as_deref()
            .map(|c| cases_href(l.filter, l.q, Some(c))),
        paged: l.paged,
        first_href: cases_href(l.filter, l.q, None),
        refused: l.refused,
        notice: l.notice,
        error: l.error,
    })
}

page! {
    CaseNewPage "cases/case_new.html" {
    csrf: &'a str,
    /// value, label, checked
    kinds: Vec<(&'static str, &'static str, bool)>,
    /// value, label, selected
    categories: Vec<(&'a str, &'a str, bool)>,
    subject: &'a str,
    body: &'a str,
    subject_max: usize,
    body_max: usize,
    limits: String,
    refused: Option<&'a str>,
    /// Only a link when the refusal names one (MIG-13).
    legacy_url: Option<&'a str>,
    error: Option<&'a str>,
    }
}

/// CASE-1: what the new-case form holds (empty, or as sent when refused).
#[derive(Default)]
pub struct CaseForm<'a> {
    pub kind: &'a str,
    pub category: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

pub fn case_new(
    f: &Frame<'_>,
    policy: &tobira::config::CasePolicy,
    form: &CaseForm<'_>,
    refused: Option<&str>,
    error: Option<&str>,
) -> String {
    use tobira::cases::Kind;
    let lang = f.lang;
    let kind = if form.kind.is_empty() {
        Kind::Inquiry.as_str()
    } else {
        form.kind
    };
    render(&CaseNewPage {
        head: f.head("cases.new"),
        csrf: f.csrf,
        kinds: Kind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label(lang), k.as_str() == kind))
            .collect(),
        categories: policy
            .categories
            .iter()
            .map(|c| (c.id(), c.label(lang), c.id() == form.category))
            .collect(),
        subject: form.subject,
        body: form.body,
        subject_max: policy.subject_max,
        body_max: policy.body_max,
        limits: t(lang, "case.limits")
            .replace("{subject}", &policy.subject_max.to_string())
            .replace("{body}", &policy.body_max.to_string()),
        legacy_url: refused
            .and(policy.legacy_url.as_deref())
            .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        refused,
        error,
    })
}

struct CommentLine<'a> {
    by: &'static str,
    who: &'a str,
    at: String,
    body: &'a str,
    /// CASE-3: ("Status: Resolved → In progress", from, to), when the
    /// entry moved the case.
    change: Option<(String, &'static str, &'static str)>,
    /// CASE-6: the entry's files: (link, name, size).
    files: Vec<(String, &'a str, String)>,
}

/// CASE-6: the case page's upload form: the store's action and fields,
/// and what it takes.
pub struct AttachForm<'a> {
    pub ticket: &'a tobira::cases::UploadTicket,
    /// The `accept` list of the file input (`.pdf,.png,…`).
    pub accept: String,
    pub hint: String,
}

/// Bytes as a person reads them (1 KB = 1,000 bytes, as S3 and browsers say).
pub fn size_label(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1000.0;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

page! {
    CasePage "cases/case.html" {
    csrf: &'a str,
    id: &'a str,
    number: &'a str,
    subject: &'a str,
    status: &'static str,
    status_label: &'static str,
    action: bool,
    kind_label: &'static str,
    category: &'a str,
    created_by: &'a str,
    created: String,
    updated: String,
    /// CASE-7: the decision's key and label; "waiting for the desk's
    /// decision" while a work request waits for it.
    decision: Option<(&'static str, &'static str)>,
    awaits_decision: bool,
    /// CASE-8: a delivery of the desk's monthly reports.
    monthly_report: bool,
    body: &'a str,
    thread: Vec<CommentLine<'a>>,
    body_max: usize,
    reason_max: usize,
    can_comment: bool,
    attach: Option<AttachForm<'a>>,
    can_close: bool,
    can_resolve: bool,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    }
}

/// CASE-3 / CASE-5: a case with its comments and what the customer may do.
pub fn case(
    f: &Frame<'_>,
    d: &tobira::cases::CaseDetail,
    policy: &tobira::config::CasePolicy,
    attach: Option<AttachForm<'_>>,
    notice: Option<&str>,
    error: Option<&str>,
) -> String {
    use tobira::cases::{awaits_decision, transition, Author, Move};
    let lang = f.lang;
    let c = &d.case;
    render(&CasePage {
        head: Head::new(lang, f.req, f.brand, &c.number),
        csrf: f.csrf,
        id: &c.id,
        number: &c.number,
        subject: &c.subject,
        status: c.status.as_str(),
        status_label: c.status.label(lang),
        action: c.status.action_needed(),
        kind_label: c.kind.label(lang),
        category: policy.category_label(&c.category, lang),
        created_by: &c.created_by_name,
        created: c.created_at.jst(),
        updated: c.updated_at.jst(),
        decision: c.decision.map(|d| (d.as_str(), d.label(lang))),
        awaits_decision: awaits_decision(c.kind, c.status, c.decision),
        monthly_report: c.monthly_report,
        body: &c.body,
        thread: d
            .thread
            .iter()
            .map(|m| CommentLine {
                by: match m.by {
                    Author::Customer => "customer",
                    Author::Support => "support",
                },
                who: match m.by {
                    Author::Customer => &m.name,
                    Author::Support => t(lang, "case.support"),
                },
                at: m.created_at.jst(),
                body: &m.body,
                change: m.status_change.map(|ch| {
                    let text = t(lang, "case.status_changed")
                        .replace("{from}", ch.from.label(lang))
                        .replace("{to}", ch.to.label(lang));
                    (text, ch.from.as_str(), ch.to.as_str())
                }),
                files: m
                    .attachments
                    .iter()
                    .map(|a| {
                        let href = format!("/cases/{}/attachments/{}", c.id, a.id);
                        (
                            href,
                            a.name.as_str(),
                            a.size.map(size_label).unwrap_or_default(),
                        )
                    })
                    .collect(),
            })
            .collect(),
        body_max: policy.body_max,
        reason_max: policy.body_max,
        can_comment: transition(c.status, Move::Comment).is_ok(),
        attach,
        can_close: transition(c.status, Move::Close).is_ok(),
        can_resolve: transition(c.status, Move::Accept).is_ok(),
        notice,
        error,
    })
}
