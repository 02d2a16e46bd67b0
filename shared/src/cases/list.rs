//! The tenant's cases, a page at a time (CASE-4): filter, search, cursor.

use super::*;

/// CASE-4, CASE-8: which cases a list shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Filter {
    #[default]
    All,
    /// CASE-4: waiting for the customer (awaiting customer, resolved).
    ActionNeeded,
    /// CASE-8: the cases that deliver the desk's monthly reports: those in
    /// the report delivery category (seed 002 4.8) and those the desk marked.
    MonthlyReport,
}

impl Filter {
    pub const ALL: [Filter; 3] = [Filter::All, Filter::ActionNeeded, Filter::MonthlyReport];
    /// The `filter` parameter (`all` is also what an absent one means).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::ActionNeeded => "action_needed",
            Self::MonthlyReport => "monthly_report",
        }
    }
    /// An absent or empty parameter is every case; an unknown one is refused.
    pub fn parse(s: Option<&str>) -> Result<Self> {
        match s.filter(|s| !s.is_empty()) {
            None => Ok(Self::All),
            Some(s) => Self::ALL
                .into_iter()
                .find(|f| f.as_str() == s)
                .ok_or_else(|| Error::invalid("invalid_filter")),
        }
    }
    // home of CASE-8
    /// Whether a case is in this list (CASE-4, CASE-8).
    pub fn keeps(self, c: &CaseSummary) -> bool {
        match self {
            Self::All => true,
            Self::ActionNeeded => c.status.action_needed(),
            Self::MonthlyReport => {
                c.monthly_report || c.category == crate::config::REPORT_DELIVERY_CATEGORY
            }
        }
    }
}

impl App {
    // home of CASE-4
    /// CASE-4: one page of the tenant's cases, newest update first,
    /// optionally only those of a filter (needing action, CASE-8's monthly
    /// reports) and those whose number, subject, body or comments hold the
    /// keyword.
    pub async fn list_cases(&self, user: &User, q: &ListQuery<'_>) -> Result<CasePage> {
        let tenant = &user.tenant_id;
        let keyword = crate::directory::search_term(q.q, QUERY_MAX)?;
        let mut after = match q.cursor.filter(|c| !c.is_empty()) {
            Some(c) => Some(sk_of_cursor(c)?),
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
                let wanted = q.filter.keeps(&e.summary)
                    && keyword.as_ref().is_none_or(|k| {
                        e.text.contains(k.as_str())
                            || fold(&e.summary.number).contains(k.as_str())
                            || commented.contains(&e.summary.id)
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
}

/// The page cursor is the last entry's sort key, without the prefix and
/// with `.` for `#` so that it travels in a URL as it is.
pub(super) fn cursor_of(sk: &str) -> String {
    sk.trim_start_matches(keys::CASE_ENTRIES).replace('#', ".")
}

pub(super) fn sk_of_cursor(c: &str) -> Result<String> {
    let ok = c.len() == 40
        && c.as_bytes()[13] == b'.'
        && c[..13].bytes().all(|b| b.is_ascii_digit())
        && is_id(&c[14..]);
    if !ok {
        return Err(Error::invalid("invalid_cursor"));
    }
    Ok(format!("{}{}", keys::CASE_ENTRIES, c.replace('.', "#")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_8_filter_parse_and_keep() {
        assert_eq!(Filter::parse(None).unwrap(), Filter::All);
        assert_eq!(Filter::parse(Some("")).unwrap(), Filter::All);
        assert_eq!(Filter::parse(Some("all")).unwrap(), Filter::All);
        assert_eq!(
            Filter::parse(Some("monthly_report")).unwrap(),
            Filter::MonthlyReport
        );
        assert!(Filter::parse(Some("report")).is_err());
    }

    #[test]
    fn case_8_the_report_category_or_the_desks_mark() {
        let at = Timestamp::from_millis(0);
        let line = |category: &str, monthly_report| CaseSummary {
            id: String::new(),
            number: "CS0000001".into(),
            kind: Kind::Inquiry,
            category: category.into(),
            subject: String::new(),
            status: Status::New,
            created_by_name: String::new(),
            created_at: at,
            updated_at: at,
            decision: None,
            monthly_report,
        };
        let f = Filter::MonthlyReport;
        assert!(f.keeps(&line(crate::config::REPORT_DELIVERY_CATEGORY, false)));
        assert!(f.keeps(&line("その他", true)));
        assert!(!f.keeps(&line("月次レポートについて", false)));
        assert!(Filter::All.keeps(&line("その他", false)));
    }

    // Cases and list entries written before CASE-7 and CASE-8 still read.
    #[test]
    fn case_7_case_8_records_of_before_read_as_undecided_and_unmarked() {
        let old = r#"{"id":"01JDQ3ZV8K9M2N4P6R8T0V2X4Y","number":"CS0000001",
            "kind":"work_request","category":"作業依頼","subject":"s",
            "status":"in_progress","created_by_name":"n","created_at":1,
            "updated_at":2,"text":"s"}"#;
        let e: Entry = serde_json::from_str(old).unwrap();
        assert_eq!(
            (e.summary.decision, e.summary.monthly_report),
            (None, false)
        );
    }
}
