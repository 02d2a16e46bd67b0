//! The reads at each size: list pages, keywords, a detail.

use super::*;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    FirstPage,
    SecondPage,
    Keyword,
    Everywhere,
    Detail,
}

pub(crate) const READS: [Read; 5] = [
    Read::FirstPage,
    Read::SecondPage,
    Read::Keyword,
    Read::Everywhere,
    Read::Detail,
];

impl Read {
    pub(crate) fn label(self) -> String {
        match self {
            Read::FirstPage => "list: first page (20 newest)".into(),
            Read::SecondPage => "list: second page (cursor)".into(),
            Read::Keyword => format!("search: q in {} cases", PLANTED.len()),
            Read::Everywhere => "search: q in every case".into(),
            Read::Detail => "case detail".into(),
        }
    }
}

/// The reads at one tenant size, for the report.
pub(crate) struct Reads {
    pub(crate) tenant: usize,
    pub(crate) samples: Vec<Vec<Duration>>,
    pub(crate) calls: Vec<[u64; 4]>,
}

pub(crate) fn page_ids(page: &CasePage) -> Vec<&str> {
    page.items.iter().map(|s| s.id.as_str()).collect()
}

/// `rounds` of every read, interleaved in a rotating order, after one
/// round of warm-up; every answer checked against the ledger.
pub(crate) async fn reads(b: &Bench, rounds: usize) -> Reads {
    let order = b.ledger.list_order();
    let planted: Vec<&str> = {
        let ids: HashSet<&str> = b
            .ledger
            .made
            .iter()
            .filter(|m| PLANTED.contains(&m.i))
            .map(|m| m.created.id.as_str())
            .collect();
        order
            .iter()
            .copied()
            .filter(|id| ids.contains(id))
            .collect()
    };
    assert_eq!(planted.len(), PLANTED.len());
    let user = &b.users[0];
    let first = b
        .app
        .list_cases(user, &ListQuery::default())
        .await
        .expect("first page");
    let cursor = first.next_cursor.clone().expect("a second page");

    let mut out = Reads {
        tenant: b.ledger.made.len(),
        samples: vec![Vec::new(); READS.len()],
        calls: vec![[0; 4]; READS.len()],
    };
    for round in 0..=rounds {
        for k in 0..READS.len() {
            let which = (round + k) % READS.len();
            let read = READS[which];
            b.counts.take();
            let t;
            let elapsed;
            match read {
                Read::Detail => {
                    let m = &b.ledger.made[(round * 7919) % b.ledger.made.len()];
                    t = start();
                    let d = b.app.case_detail(user, &m.created.id).await;
                    elapsed = t.elapsed();
                    let d = d.expect("case detail");
                    assert_eq!(d.case.number, m.created.number);
                    assert!(d.thread.is_empty());
                }
                _ => {
                    let q = ListQuery {
                        filter: tobira::cases::Filter::All,
                        q: match read {
                            Read::Keyword => Some(KEYWORD),
                            Read::Everywhere => Some(EVERYWHERE),
                            _ => None,
                        },
                        cursor: (read == Read::SecondPage).then_some(cursor.as_str()),
                    };
                    t = start();
                    let page = b.app.list_cases(user, &q).await;
                    elapsed = t.elapsed();
                    let page = page.expect("list cases");
                    let (expected, more): (&[&str], bool) = match read {
                        Read::FirstPage | Read::Everywhere => (&order[..20], true),
                        Read::SecondPage => (&order[20..40], order.len() > 40),
                        _ => (&planted, false),
                    };
                    assert_eq!(page_ids(&page), expected, "{}", read.label());
                    assert_eq!(page.next_cursor.is_some(), more, "{}", read.label());
                }
            }
            let calls = b.counts.take();
            if round > 0 {
                out.samples[which].push(elapsed);
                add(&mut out.calls[which], calls);
            }
        }
    }
    out
}
