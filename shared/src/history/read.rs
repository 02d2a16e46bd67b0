//! ADM-6: reading the sign-in history — one's own, or an admin's view of
//! the tenant (or of one user of it or of a child tenant) — a page at a
//! time, newest first, in the viewer's time zone.

use chrono::{Duration as Days, NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;

use crate::app::{App, AuditEvent};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::model::{keys, User};
use crate::store::Query;
use crate::trail::{event_of, month, sort_key};

/// Rows per page of the list (the CSV download asks for more per call).
pub const PAGE_SIZE: usize = 50;
/// The most rows one call returns.
const MAX_LIMIT: usize = 1000;
/// The default range: the last 30 days; the longest: a year.
const DEFAULT_DAYS: i64 = 30;
const MAX_DAYS: i64 = 366;

/// What the viewer asks for. Dates are `YYYY-MM-DD` in the viewer's time
/// zone, both included.
#[derive(Clone, Copy, Debug, Default)]
pub struct HistoryQuery<'a> {
    /// Admins only: one user of the tenant (or of a child tenant).
    pub user_id: Option<&'a str>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub cursor: Option<&'a str>,
    /// Rows wanted (0: [`PAGE_SIZE`]).
    pub limit: usize,
}

/// One sign-in event as the viewer sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignInRow {
    /// RFC 3339 with the viewer's offset (`2026-12-01T19:34:05+09:00`).
    pub time: String,
    /// The same time for people: `2026-12-01 19:34:05`.
    #[serde(skip)]
    pub local_time: String,
    pub user_id: Option<String>,
    pub login_id: Option<String>,
    /// `password` or `second_factor`.
    pub event: &'static str,
    /// `success`, `failure` or `locked` (refused: the account was locked).
    pub outcome: &'static str,
    pub ip: String,
    pub user_agent: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HistoryPage {
    pub items: Vec<SignInRow>,
    pub next_cursor: Option<String>,
    /// The zone the times are in (the viewer's, ADM-1; else Japan's).
    pub time_zone: String,
    /// The range shown, as dates in that zone.
    pub from: String,
    pub to: String,
}

/// The viewer's zone: their profile's (ADM-1), else Japan's.
pub fn zone_of(viewer: &User) -> Tz {
    viewer
        .profile
        .time_zone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or(chrono_tz::Asia::Tokyo)
}

/// The first and last millisecond of the range, and its dates.
struct Range {
    start: Timestamp,
    end: Timestamp,
    from: NaiveDate,
    to: NaiveDate,
}

/// A date of the years 2000 to 9999 (nothing older is stored; chrono's
/// own extremes would overflow the day arithmetic).
fn date(v: Option<&str>, field: &'static str) -> Result<Option<NaiveDate>> {
    use chrono::Datelike;
    let bad = || Error::invalid("invalid_date").with("field", field);
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) if (2000..=9999).contains(&d.year()) => Ok(Some(d)),
            _ => Err(bad()),
        },
    }
}

/// The first instant of the day `d` in `tz`. A zone may skip its midnight
/// (a DST gap) or a whole day (Pacific/Apia, 2011-12-30): the day then
/// starts at the first local hour that exists — the next day's, at worst.
fn midnight(tz: Tz, d: NaiveDate) -> Timestamp {
    let local = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    let at = (0..=48)
        .find_map(|h| tz.from_local_datetime(&(local + Days::hours(h))).earliest())
        .map_or(local.and_utc().timestamp_millis(), |t| t.timestamp_millis());
    Timestamp::from_millis(at)
}

fn range(tz: Tz, now: Timestamp, q: &HistoryQuery<'_>) -> Result<Range> {
    let today = chrono::DateTime::from_timestamp_millis(now.millis())
        .unwrap_or_default()
        .with_timezone(&tz)
        .date_naive();
    let to = date(q.to, "to")?.unwrap_or(today);
    let from = date(q.from, "from")?.unwrap_or(to - Days::days(DEFAULT_DAYS - 1));
    let days = (to - from).num_days();
    if days < 0 {
        return Err(Error::invalid("invalid_date_range").with("field", "from"));
    }
    if days >= MAX_DAYS {
        return Err(Error::invalid("invalid_date_range").with("max", MAX_DAYS));
    }
    let end = midnight(tz, to + Days::days(1)).millis() - 1;
    Ok(Range {
        start: midnight(tz, from),
        end: Timestamp::from_millis(end),
        from,
        to,
    })
}

/// The UTC months the range touches, newest first.
fn months(r: &Range) -> Vec<String> {
    let (first, mut m) = (month(r.start), month(r.end));
    let mut out = vec![m.clone()];
    while m > first {
        m = previous_month(&m);
        out.push(m.clone());
    }
    out
}

fn previous_month(m: &str) -> String {
    let (y, mo) = m.split_once('-').unwrap_or(("1970", "01"));
    let (y, mo): (i32, u32) = (y.parse().unwrap_or(1970), mo.parse().unwrap_or(1));
    if mo <= 1 {
        format!("{:04}-12", y - 1)
    } else {
        format!("{y:04}-{:02}", mo - 1)
    }
}

/// A cursor is `<YYYY-MM>.<sort key>` of the last row shown; anything else
/// (a month outside the range, a row after its end) is refused.
fn parse_cursor<'c>(c: &'c str, months: &[String], end: &str) -> Result<(usize, &'c str)> {
    let bad = || Error::invalid("invalid_cursor");
    let (m, sk) = c.split_once('.').ok_or_else(bad)?;
    let i = months.iter().position(|x| x == m).ok_or_else(bad)?;
    let (n, id) = sk.split_once('#').ok_or_else(bad)?;
    let ok = n.len() == 13
        && sk >= end
        && n.bytes().all(|b| b.is_ascii_digit())
        && id.len() == 26
        && id.bytes().all(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok((i, sk))
    } else {
        Err(bad())
    }
}

fn row(e: AuditEvent, tz: Tz) -> Option<SignInRow> {
    let (event, outcome) = event_of(&e.kind)?;
    let at = chrono::DateTime::from_timestamp_millis(e.at.millis())?.with_timezone(&tz);
    Some(SignInRow {
        time: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        local_time: at.format("%Y-%m-%d %H:%M:%S").to_string(),
        user_id: e.user_id,
        login_id: e.login_id,
        event,
        outcome,
        ip: e.ip,
        user_agent: e.user_agent,
    })
}

impl App {
    /// ADM-6: the signed-in user's own sign-ins.
    pub async fn my_sign_ins(&self, me: &User, q: &HistoryQuery<'_>) -> Result<HistoryPage> {
        let id = me.id.clone();
        self.sign_ins(me, q, move |m| keys::sign_ins_of_user(&id, m))
            .await
    }

    /// A page of the partitions `partition(month)` over the range, newest
    /// first: one query per month it touches (more only when a month holds
    /// more than the page).
    pub(crate) async fn sign_ins(
        &self,
        viewer: &User,
        q: &HistoryQuery<'_>,
        partition: impl Fn(&str) -> String,
    ) -> Result<HistoryPage> {
        let tz = zone_of(viewer);
        let now = self.now();
        let r = range(tz, now, q)?;
        let limit = match q.limit {
            0 => PAGE_SIZE,
            n => n.min(MAX_LIMIT),
        };
        let months = months(&r);
        // Everything at or before the range's last millisecond.
        let end = sort_key(r.end, "").replace('#', "!");
        let (first, mut after) = match q.cursor.filter(|c| !c.is_empty()) {
            Some(c) => {
                let (i, sk) = parse_cursor(c, &months, &end)?;
                (i, Some(sk.to_string()))
            }
            None => (0, Some(end.clone())),
        };
        let mut rows: Vec<(usize, String, SignInRow)> = Vec::new();
        'months: for (i, m) in months.iter().enumerate().skip(first) {
            loop {
                let want = limit + 1 - rows.len();
                let query = Query {
                    pk: partition(m),
                    sk_prefix: String::new(),
                    after: after.take(),
                    limit: want,
                };
                let batch = self.store.query(&query, now).await?;
                let n = batch.len();
                let last = batch.last().map(|it| it.key.sk.clone());
                for item in batch {
                    let e: AuditEvent = item.parse()?;
                    if e.at < r.start {
                        break 'months;
                    }
                    if let Some(row) = row(e, tz) {
                        rows.push((i, item.key.sk, row));
                    }
                }
                if rows.len() > limit {
                    break 'months;
                }
                if n < want {
                    break;
                }
                after = last;
            }
        }
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|(i, sk, _)| format!("{}.{sk}", months[*i]))
        } else {
            None
        };
        Ok(HistoryPage {
            items: rows.into_iter().map(|(_, _, r)| r).collect(),
            next_cursor,
            time_zone: tz.name().to_string(),
            from: r.from.to_string(),
            to: r.to.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{Asia::Tokyo, Pacific::Apia, UTC};

    /// The range `from`..=`to` as a viewer in `tz` asks for it.
    fn between(tz: Tz, from: Option<&str>, to: Option<&str>) -> Result<Range> {
        let q = HistoryQuery {
            from,
            to,
            ..Default::default()
        };
        range(tz, Timestamp::from_millis(0), &q)
    }

    /// The first instant of a range, in UTC.
    fn starts(r: &Range) -> String {
        Timestamp::from_millis(r.start.millis()).rfc3339()
    }

    #[test]
    fn months_run_newest_first_across_a_year() {
        let r = between(UTC, Some("2025-11-15"), Some("2026-02-01")).unwrap();
        assert_eq!(months(&r), ["2026-02", "2026-01", "2025-12", "2025-11"]);
    }

    #[test]
    fn a_range_is_whole_days_of_the_viewers_zone() {
        let r = between(Tokyo, Some("2026-12-01"), Some("2026-12-01")).unwrap();
        // 2026-12-01 00:00 JST is 2026-11-30 15:00 UTC.
        assert_eq!(starts(&r), "2026-11-30T15:00:00Z");
        assert_eq!(r.end.millis() - r.start.millis(), 24 * 3600 * 1000 - 1);
        // ... so the day touches two UTC months.
        assert_eq!(months(&r), ["2026-12", "2026-11"]);
    }

    #[test]
    fn bad_dates_and_ranges_are_refused() {
        let at = |from, to| between(UTC, from, to).err().map(|e| e.code());
        assert_eq!(at(Some("2026-13-01"), None), Some("invalid_date"));
        assert_eq!(
            at(Some("2026-12-02"), Some("2026-12-01")),
            Some("invalid_date_range")
        );
        assert_eq!(
            at(Some("2024-01-01"), Some("2026-12-01")),
            Some("invalid_date_range")
        );
        assert_eq!(at(Some("2026-11-01"), Some("2026-12-01")), None);
        // chrono's extremes, and years before anything was stored.
        assert_eq!(at(None, Some("+262142-12-31")), Some("invalid_date"));
        assert_eq!(at(Some("1969-12-31"), None), Some("invalid_date"));
    }

    #[test]
    fn a_day_a_zone_skips_starts_when_the_zone_resumes() {
        // Samoa skipped 2011-12-30: the range of that day is one query of a
        // month, not every month since 1970.
        let r = between(Apia, Some("2011-12-30"), Some("2012-01-05")).unwrap();
        assert_eq!(starts(&r), "2011-12-30T10:00:00Z");
        assert_eq!(months(&r), ["2012-01", "2011-12"]);
    }

    #[test]
    fn cursors_name_a_month_of_the_range_and_a_sort_key() {
        let months = vec!["2026-12".to_string(), "2026-11".to_string()];
        let sk = format!("{:013}#{}", 42, "01ARZ3NDEKTSV4RRFFQ69G5FAV");
        let cursor = format!("2026-11.{sk}");
        assert_eq!(parse_cursor(&cursor, &months, "").unwrap().0, 1);
        // A row after the range's end (newer rows sort first) is no cursor.
        let end = format!("{:013}!", 43);
        let e = parse_cursor(&cursor, &months, &end).unwrap_err();
        assert_eq!(e.code(), "invalid_cursor");
        for bad in [
            "",
            "2026-11",
            "2026-10.x",
            "2026-11.123#abc",
            &format!("2025-01.{sk}"),
        ] {
            assert_eq!(
                parse_cursor(bad, &months, "").unwrap_err().code(),
                "invalid_cursor"
            );
        }
    }
}
