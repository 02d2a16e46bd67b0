//! ADM-6: the sign-in history page — one's own, or an admin's view of the
//! tenant (or of one user) — with its CSV download.

use super::{page, render, Frame};
use crate::csv::{event_label, outcome_label};

/// One sign-in as a line of the table.
struct Line<'a> {
    time: &'a str,
    login_id: &'a str,
    event: &'static str,
    outcome: &'a str,
    outcome_label: &'static str,
    ip: &'a str,
    user_agent: &'a str,
}

page! {
    SignInsPage "history/sign_ins.html" {
    admin: bool,
    action: &'static str,
    rows: Vec<Line<'a>>,
    from: &'a str,
    to: &'a str,
    user_id: &'a str,
    zone: &'a str,
    next_href: Option<String>,
    first_href: Option<String>,
    csv_href: String,
    error: Option<&'a str>,
    }
}

/// What the history page shows and how it was asked for.
pub struct SignInsView<'a> {
    /// The admin's view (`/admin/sign-ins`), else one's own (`/sign-ins`).
    pub admin: bool,
    pub page: &'a tobira::history::HistoryPage,
    /// The range and user as asked (shown again when refused).
    pub from: &'a str,
    pub to: &'a str,
    pub user_id: &'a str,
    pub paged: bool,
    pub error: Option<&'a str>,
}

impl SignInsView<'_> {
    fn path(&self, api: bool) -> &'static str {
        match (self.admin, api) {
            (true, false) => "/admin/sign-ins",
            (true, true) => "/api/admin/sign-ins",
            (false, false) => "/sign-ins",
            (false, true) => "/api/me/sign-ins",
        }
    }

    /// The page (or, with `format`, the API) with the range, the user and
    /// a cursor.
    pub fn href(&self, api: bool, cursor: Option<&str>, format: Option<&str>) -> String {
        let mut pairs: Vec<(&str, &str)> = vec![("from", self.from), ("to", self.to)];
        if self.admin && !self.user_id.is_empty() {
            pairs.push(("user_id", self.user_id));
        }
        if let Some(c) = cursor {
            pairs.push(("cursor", c));
        }
        if let Some(f) = format {
            pairs.push(("format", f));
        }
        let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("{}?{qs}", self.path(api))
    }
}

pub fn sign_ins(f: &Frame<'_>, v: &SignInsView<'_>) -> String {
    let lang = f.lang;
    render(&SignInsPage {
        head: f.head(if v.admin {
            "history.tenant_title"
        } else {
            "history.title"
        }),
        admin: v.admin,
        action: v.path(false),
        rows: v
            .page
            .items
            .iter()
            .map(|r| Line {
                time: &r.local_time,
                login_id: r.login_id.as_deref().unwrap_or(""),
                event: event_label(lang, r.event),
                outcome: r.outcome,
                outcome_label: outcome_label(lang, r.outcome),
                ip: &r.ip,
                user_agent: &r.user_agent,
            })
            .collect(),
        from: v.from,
        to: v.to,
        user_id: v.user_id,
        zone: &v.page.time_zone,
        next_href: v
            .page
            .next_cursor
            .as_deref()
            .map(|c| v.href(false, Some(c), None)),
        first_href: v.paged.then(|| v.href(false, None, None)),
        csv_href: v.href(true, None, Some("csv")),
        error: v.error,
    })
}
