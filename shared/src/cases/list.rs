//! The tenant's cases, a page at a time (CASE-4): filter, search, cursor.

use super::*;

impl App {
    // home of CASE-4
    /// CASE-4: one page of the tenant's cases, newest update first,
    /// optionally only those needing action and those whose number,
    /// subject, body or comments hold the keyword.
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
                let wanted = (!q.action_needed || e.summary.status.action_needed())
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
