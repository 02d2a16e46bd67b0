//! Support cases (CASE-1, CASE-2, CASE-4): creations per second against the
//! embedded SQLite store, one at a time and from concurrent tasks, and the
//! cost of reading the list as the tenant fills up.
//!
//! What is timed is `App::create_case` alone, the domain call behind
//! `POST /api/cases` (no handler, no session check). One creation is: the
//! checks of the category and the text, one atomic `Store::increment` of the
//! case counter (the number), one atomic write of 4 items (the case, its
//! list entry, the portal-wide number reference, the audit record), then the
//! notice mail to the filer (CASE-5): one read of the user and one row in the
//! local outbox, a table in the same SQLite file. No password hash runs.
//!
//! The store is a SQLite file in a temporary directory (WAL journal,
//! `synchronous = NORMAL`), as the local portal opens it, behind two
//! wrappers: `support::Counting` counts every store request (the same calls
//! the domain makes against DynamoDB), and `Clocked` below adds up the time
//! spent in each kind of request and in the mailer, so that a creation's
//! time can be split into counter, write, user read, mail row and the rest.
//! The WAL header's checkpoint sequence number, read before and after each
//! phase, counts the checkpoints (SQLite's automatic one, after ~1,000 pages
//! of WAL, copies them into the database file and syncs both: the only
//! fsyncs at `synchronous = NORMAL`), to set against the slow creations.
//!
//! All cases go into one tenant, filed by 16 active users (migrated legacy
//! records with a password, as SET-3 leaves them; MIG-13 lets them file since
//! the local configuration opens no migration window). In order:
//!
//! 1. 20 warm-up creations, then sequential creations on a current-thread
//!    runtime until the tenant holds the first size (1,000; `--quick` 200),
//!    each timed; the same up to the second size (5,000);
//! 2. at each size, reads, interleaved: the first and second list pages, a
//!    keyword that three cases hold (the walk reads every list entry), a
//!    keyword that every case holds (it stops at the first page), and a
//!    case's detail;
//! 3. before the last fill, concurrent creations on a multi-thread runtime
//!    with 2 worker threads (the machine's cores): 1, 4 and 16 tasks, 4,000
//!    creations a round (`--quick` 192); creations/s is from the round's wall
//!    time. Every await in a creation is ready at once (the SQLite adapter
//!    works synchronously on one connection behind a mutex), so a task keeps
//!    its thread until it is done: at most two creations run at a time,
//!    whatever the number of tasks;
//! 4. sequential creations up to the last size (20,000; `--quick` 1,000),
//!    and the reads again.
//!
//! Every answer is checked, and a wrong one stops the benchmark: numbers are
//! `CS` + 7 digits, unique, and those of each phase are exactly the next ones
//! (in order, when sequential); ids are unique ULIDs; every creation left
//! exactly one mail in the outbox, to its filer, naming its number; every
//! list page is exactly the expected cases in the expected order (newest
//! first, from the ids' time), every detail the expected case.
//!
//! `cargo bench --bench cases` (20,000 creations; about 10 s);
//! `cargo bench --bench cases -- --quick` (1,000 creations, under a second
//! once built).

use std::collections::{HashMap, HashSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tobira::cases::{CasePage, Created, Kind, ListQuery, NewCase};
use tobira::clock::Timestamp;
use tobira::delivery::{DeliveryError, Mail, Mailer};
use tobira::ids::LoginId;
use tobira::model::User;
use tobira::store::{Item, Key, Query, Store, StoreError, Write};
use tobira::{App, Ctx};
use tobira_local::sqlite::Outbox;

#[allow(dead_code)]
mod support;
use support::{add, ms, percentile, start, Counting, Counts};

/// Users filing cases (one per task in the widest round).
const USERS: usize = 16;
/// Concurrent tasks per round of phase 3.
const TASKS: [usize; 3] = [1, 4, 16];
/// Worker threads of the multi-thread runtime.
const WORKERS: usize = 2;
/// The keyword three cases hold (indices [`PLANTED`] of the run).
const KEYWORD: &str = "ルーター交換";
const PLANTED: [usize; 3] = [1, 2, 3];
/// A keyword every case holds (in the subject, in upper case: search folds).
const EVERYWHERE: &str = "vpn";
const BODY: &str = "本日 9 時ごろから、拠点間 VPN の接続が数分おきに切れます。\
監視画面ではトンネルの再確立が繰り返し記録されています。設定は変更していません。\
原因の調査と対応をお願いします。\n\
影響: 本社と大阪拠点の間のファイル共有、社内システムへのアクセス。\n\
連絡先: 情報システム部 (内線 1234)";

// ------------------------------------------------------------ time spent

/// Calls, time and calls over 1 ms of one kind of request.
#[derive(Default)]
struct Clock {
    calls: AtomicU64,
    nanos: AtomicU64,
    slow: AtomicU64,
}

/// What a [`Clock`] counted.
#[derive(Clone, Copy, Default)]
struct Tally {
    calls: u64,
    time: Duration,
    slow: u64,
}

impl Clock {
    fn add(&self, d: Duration) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.nanos.fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
        if d > Duration::from_millis(1) {
            self.slow.fetch_add(1, Ordering::Relaxed);
        }
    }
    fn take(&self) -> Tally {
        Tally {
            calls: self.calls.swap(0, Ordering::SeqCst),
            time: Duration::from_nanos(self.nanos.swap(0, Ordering::SeqCst)),
            slow: self.slow.swap(0, Ordering::SeqCst),
        }
    }
}

/// Time spent in the store, by request, and in the mailer.
#[derive(Default)]
struct Spent {
    increment: Clock,
    write: Clock,
    get: Clock,
    query: Clock,
    mail: Clock,
}

impl Spent {
    /// Increment, write, get, query, mail.
    fn take(&self) -> [Tally; 5] {
        [
            self.increment.take(),
            self.write.take(),
            self.get.take(),
            self.query.take(),
            self.mail.take(),
        ]
    }
}

/// The store port with the time of every request added up.
struct Clocked {
    inner: Arc<dyn Store>,
    spent: Arc<Spent>,
}

#[async_trait]
impl Store for Clocked {
    async fn get(&self, key: &Key, now: Timestamp) -> Result<Option<Item>, StoreError> {
        let t = start();
        let r = self.inner.get(key, now).await;
        self.spent.get.add(t.elapsed());
        r
    }
    async fn query(&self, q: &Query, now: Timestamp) -> Result<Vec<Item>, StoreError> {
        let t = start();
        let r = self.inner.query(q, now).await;
        self.spent.query.add(t.elapsed());
        r
    }
    async fn write(&self, writes: Vec<Write>, now: Timestamp) -> Result<(), StoreError> {
        let t = start();
        let r = self.inner.write(writes, now).await;
        self.spent.write.add(t.elapsed());
        r
    }
    async fn increment(&self, key: &Key, now: Timestamp) -> Result<u64, StoreError> {
        let t = start();
        let r = self.inner.increment(key, now).await;
        self.spent.increment.add(t.elapsed());
        r
    }
}

/// The mail port (the local outbox) with the time of every send added up.
struct ClockedMailer {
    inner: Arc<dyn Mailer>,
    spent: Arc<Spent>,
}

#[async_trait]
impl Mailer for ClockedMailer {
    async fn send(&self, mail: &Mail) -> Result<(), DeliveryError> {
        let t = start();
        let r = self.inner.send(mail).await;
        self.spent.mail.add(t.elapsed());
        r
    }
}

// -------------------------------------------------------------- creations

/// One creation: which case of the run, by which user, and the answer.
struct Made {
    i: usize,
    user: usize,
    created: Created,
}

/// The `i`-th case of the run: kinds alternate, categories go round the
/// configured ones, three cases hold [`KEYWORD`].
fn content(i: usize, categories: &[String]) -> (Kind, String, String, String) {
    let kind = if i.is_multiple_of(2) {
        Kind::Inquiry
    } else {
        Kind::WorkRequest
    };
    let category = categories[i % categories.len()].clone();
    let subject = format!("VPN 接続が数分おきに切れる (bench #{i})");
    let body = if PLANTED.contains(&i) {
        format!("{BODY}\n{KEYWORD}の予定があれば教えてください。")
    } else {
        BODY.to_string()
    };
    (kind, category, subject, body)
}

/// Create the `i`-th case as `user`; the time of `App::create_case` alone.
async fn create(app: &App, user: &User, i: usize, ctx: &Ctx) -> (Duration, Created) {
    let (kind, category, subject, body) = content(i, &app.config.cases.categories);
    let new = NewCase {
        kind,
        category: &category,
        subject: &subject,
        body: &body,
    };
    let t = start();
    let r = app.create_case(user, &new, ctx).await;
    let elapsed = t.elapsed();
    let created = r.unwrap_or_else(|e| panic!("create case #{i}: {e:?}"));
    (elapsed, created)
}

/// The number's digits, checking the form `CS` + 7 digits.
fn number_of(number: &str) -> u64 {
    let digits = number.strip_prefix("CS").unwrap_or("");
    assert!(
        digits.len() == 7 && digits.bytes().all(|b| b.is_ascii_digit()),
        "case number {number:?}"
    );
    digits.parse().expect("digits")
}

/// Every creation of the run, and what was checked so far.
struct Ledger {
    made: Vec<Made>,
    ids: HashSet<String>,
    numbers: HashSet<u64>,
    /// The highest number so far (the counter's start, less one, at first).
    last: u64,
    /// Outbox rows already accounted for.
    mails: usize,
}

impl Ledger {
    /// Check one phase's creations (in the order they were answered) and
    /// the outbox rows they left, then keep them.
    fn check(&mut self, new: Vec<Made>, sequential: bool, users: &[User], outbox: &Outbox) {
        let mut numbers = Vec::with_capacity(new.len());
        for m in &new {
            let n = number_of(&m.created.number);
            assert!(self.numbers.insert(n), "number {} twice", m.created.number);
            assert!(
                m.created.id.len() == 26 && self.ids.insert(m.created.id.clone()),
                "id {:?} malformed or twice",
                m.created.id
            );
            numbers.push(n);
        }
        if sequential {
            let expected: Vec<u64> = (self.last + 1..=self.last + new.len() as u64).collect();
            assert_eq!(numbers, expected, "sequential numbers not consecutive");
        } else {
            numbers.sort_unstable();
            let gaps = numbers.windows(2).filter(|w| w[1] != w[0] + 1).count();
            assert!(
                numbers.first() == Some(&(self.last + 1)) && gaps == 0,
                "concurrent numbers: first {:?} after {}, {gaps} gap(s)",
                numbers.first(),
                self.last
            );
        }
        self.last += new.len() as u64;

        // One mail per creation, to its filer, naming its number.
        let mut expected: HashMap<&str, &str> = new
            .iter()
            .map(|m| (m.created.number.as_str(), users[m.user].email.as_str()))
            .collect();
        let rows = outbox.list();
        let fresh = &rows[self.mails..];
        assert_eq!(
            fresh.len(),
            new.len(),
            "outbox rows for {} creations",
            new.len()
        );
        for row in fresh {
            let number = row
                .subject
                .split_once('[')
                .and_then(|(_, rest)| rest.split_once(']'))
                .map(|(n, _)| n)
                .unwrap_or_else(|| panic!("no case number in {:?}", row.subject));
            let to = expected
                .remove(number)
                .unwrap_or_else(|| panic!("mail for {number}: no such creation, or twice"));
            assert_eq!((row.channel.as_str(), row.to.as_str()), ("email", to));
        }
        assert!(expected.is_empty());
        self.mails = rows.len();
        self.made.extend(new);
    }

    /// The ids in list order: newest first by the id's time (a case's
    /// `updated_at` is its ULID's time until it changes), then as the list
    /// key sorts equal times (the id, ascending).
    fn list_order(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.made.iter().map(|m| m.created.id.as_str()).collect();
        // Crockford base32 sorts as the time it encodes.
        ids.sort_by(|a, b| b[..10].cmp(&a[..10]).then(a.cmp(b)));
        ids
    }
}

/// A phase of creations, for the report.
struct Phase {
    label: String,
    tasks: usize,
    /// The most tasks between their first poll and their end at one time.
    at_once: usize,
    tenant: usize,
    wall: Duration,
    samples: Vec<Duration>,
    /// WAL restarts during the phase, each after a complete checkpoint.
    checkpoints: u32,
    calls: [u64; 4],
    spent: [Tally; 5],
}

/// The WAL header's checkpoint sequence number (bytes 12..16, big-endian):
/// it goes up by one each time the WAL starts again from its beginning,
/// which it does after a complete checkpoint.
fn wal_restarts(db: &Path) -> u32 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let mut header = [0u8; 16];
    std::fs::File::open(&wal)
        .and_then(|mut f| f.read_exact(&mut header))
        .expect("WAL header");
    u32::from_be_bytes([header[12], header[13], header[14], header[15]])
}

/// The most of these (start, end) spans that overlap at one time.
fn most_at_once(spans: &[(Duration, Duration)]) -> usize {
    let mut events: Vec<(Duration, i32)> =
        spans.iter().flat_map(|&(a, b)| [(a, 1), (b, -1)]).collect();
    // At the same time an end comes before a start.
    events.sort();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, e) in events {
        now += e;
        most = most.max(now);
    }
    most as usize
}

struct Bench {
    app: App,
    ctx: Ctx,
    users: Vec<User>,
    outbox: Arc<Outbox>,
    counts: Arc<Counts>,
    spent: Arc<Spent>,
    ledger: Ledger,
    /// The store's file (its WAL beside it).
    db: PathBuf,
}

impl Bench {
    /// Sequential creations until the tenant holds `size` cases.
    async fn fill(&mut self, size: usize, label: &str) -> Phase {
        let first = self.ledger.made.len();
        let wal = wal_restarts(&self.db);
        assert!(size > first);
        self.counts.take();
        self.spent.take();
        let mut samples = Vec::with_capacity(size - first);
        let mut made = Vec::with_capacity(size - first);
        let t = start();
        for i in first..size {
            let user = i % self.users.len();
            let (d, created) = create(&self.app, &self.users[user], i, &self.ctx).await;
            samples.push(d);
            made.push(Made { i, user, created });
        }
        let wall = t.elapsed();
        let phase = Phase {
            label: label.to_string(),
            tasks: 1,
            at_once: 1,
            tenant: size,
            wall,
            samples,
            checkpoints: wal_restarts(&self.db) - wal,
            calls: self.counts.take(),
            spent: self.spent.take(),
        };
        self.ledger.check(made, true, &self.users, &self.outbox);
        phase
    }

    /// `tasks` tasks creating `n` cases together on the multi-thread runtime.
    fn concurrent(&mut self, mt: &tokio::runtime::Runtime, tasks: usize, n: usize) -> Phase {
        assert!(n.is_multiple_of(tasks));
        let base = self.ledger.made.len();
        let wal = wal_restarts(&self.db);
        self.counts.take();
        self.spent.take();
        let (wall, answers, at_once) = mt.block_on(async {
            let t = start();
            let handles: Vec<_> = (0..tasks)
                .map(|k| {
                    let app = self.app.clone();
                    let ctx = self.ctx.clone();
                    let u = k % self.users.len();
                    let user = self.users[u].clone();
                    tokio::spawn(async move {
                        let begun = t.elapsed();
                        let mut out = Vec::with_capacity(n / tasks);
                        for j in 0..n / tasks {
                            let i = base + k + j * tasks;
                            let (d, created) = create(&app, &user, i, &ctx).await;
                            out.push((
                                d,
                                Made {
                                    i,
                                    user: u,
                                    created,
                                },
                            ));
                        }
                        (out, begun, t.elapsed())
                    })
                })
                .collect();
            let mut all = Vec::with_capacity(n);
            let mut spans = Vec::with_capacity(tasks);
            for h in handles {
                let (out, begun, ended) = h.await.expect("creating task");
                all.extend(out);
                spans.push((begun, ended));
            }
            (t.elapsed(), all, most_at_once(&spans))
        });
        let (samples, mut made): (Vec<Duration>, Vec<Made>) = answers.into_iter().unzip();
        made.sort_by_key(|m| m.i);
        let phase = Phase {
            label: format!("{WORKERS} worker threads, {tasks} task(s)"),
            tasks,
            at_once,
            tenant: base + n,
            wall,
            samples,
            checkpoints: wal_restarts(&self.db) - wal,
            calls: self.counts.take(),
            spent: self.spent.take(),
        };
        self.ledger.check(made, false, &self.users, &self.outbox);
        phase
    }
}

// ------------------------------------------------------------------ reads

#[derive(Clone, Copy, PartialEq, Eq)]
enum Read {
    FirstPage,
    SecondPage,
    Keyword,
    Everywhere,
    Detail,
}

const READS: [Read; 5] = [
    Read::FirstPage,
    Read::SecondPage,
    Read::Keyword,
    Read::Everywhere,
    Read::Detail,
];

impl Read {
    fn label(self) -> String {
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
struct Reads {
    tenant: usize,
    samples: Vec<Vec<Duration>>,
    calls: Vec<[u64; 4]>,
}

fn page_ids(page: &CasePage) -> Vec<&str> {
    page.items.iter().map(|s| s.id.as_str()).collect()
}

/// `rounds` of every read, interleaved in a rotating order, after one
/// round of warm-up; every answer checked against the ledger.
async fn reads(b: &Bench, rounds: usize) -> Reads {
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
    let lang = b.ctx.lang;
    let first = b
        .app
        .list_cases(user, &ListQuery::default(), lang)
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
                        action_needed: false,
                        q: match read {
                            Read::Keyword => Some(KEYWORD),
                            Read::Everywhere => Some(EVERYWHERE),
                            _ => None,
                        },
                        cursor: (read == Read::SecondPage).then_some(cursor.as_str()),
                    };
                    t = start();
                    let page = b.app.list_cases(user, &q, lang).await;
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

// ----------------------------------------------------------------- report

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn creation_rows(phases: &[Phase]) {
    println!(
        "{:<38} {:>5} {:>7} {:>6} {:>7} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>5} {:>5}",
        "creations",
        "tasks",
        "at once",
        "n",
        "tenant",
        "per s",
        "mean",
        "p10",
        "p50",
        "p90",
        "p99",
        "max ms",
        ">1ms",
        "ckpt"
    );
    for p in phases {
        let mut t = p.samples.clone();
        t.sort();
        let n = t.len();
        let mean = t.iter().sum::<Duration>() / n as u32;
        println!(
            "{:<38} {:>5} {:>7} {:>6} {:>7} {:>8.0} {:>7.1} {:>7.1} {:>7.1} {:>7.1} {:>7.1} {:>7.2} {:>5} {:>5}",
            p.label,
            p.tasks,
            p.at_once,
            n,
            p.tenant,
            n as f64 / p.wall.as_secs_f64(),
            us(mean),
            us(percentile(&t, 0.1)),
            us(percentile(&t, 0.5)),
            us(percentile(&t, 0.9)),
            us(percentile(&t, 0.99)),
            ms(t[n - 1]),
            t.iter().filter(|d| **d > Duration::from_millis(1)).count(),
            p.checkpoints,
        );
    }
}

/// Where a sequential creation's time goes (concurrent phases overlap),
/// and which calls took over 1 ms.
fn spent_rows(phases: &[Phase]) {
    println!(
        "{:<38} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "time per creation (mean us)",
        "increment",
        "write",
        "get user",
        "mail row",
        "the rest",
        "total"
    );
    let sequential: Vec<&Phase> = phases
        .iter()
        .filter(|p| p.label.starts_with("sequential"))
        .collect();
    for p in &sequential {
        let n = p.samples.len() as f64;
        let total: Duration = p.samples.iter().sum();
        let per = |d: Duration| us(d) / n;
        let store: Duration = p.spent.iter().map(|s| s.time).sum();
        println!(
            "{:<38} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            p.label,
            per(p.spent[0].time),
            per(p.spent[1].time),
            per(p.spent[2].time + p.spent[3].time),
            per(p.spent[4].time),
            per(total.saturating_sub(store)),
            per(total),
        );
    }
    println!(
        "{:<38} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "calls over 1 ms (all phases)",
        "increment",
        "write",
        "get user",
        "mail row",
        "",
        "creation"
    );
    let mut slow = [0u64; 5];
    let mut slow_creations = 0;
    let mut n = 0;
    for p in phases {
        for (s, t) in slow.iter_mut().zip(p.spent) {
            *s += t.slow;
        }
        slow_creations += p
            .samples
            .iter()
            .filter(|d| **d > Duration::from_millis(1))
            .count();
        n += p.samples.len();
    }
    println!(
        "{:<38} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        format!("of {n} creations"),
        slow[0],
        slow[1],
        slow[2] + slow[3],
        slow[4],
        "",
        slow_creations
    );
}

fn main() {
    let quick = support::quick();
    let (warmup, sizes, per_round, rounds): (usize, &[usize], usize, usize) = if quick {
        (20, &[200, 1_000], 192, 10)
    } else {
        (20, &[1_000, 5_000, 20_000], 4_000, 50)
    };

    let dir = support::temp_dir("cases");
    let rt = support::runtime();
    let mt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .expect("multi-thread tokio runtime");
    let t_all = start();
    let local = support::local(&dir);
    let counts = Arc::new(Counts::default());
    let spent = Arc::new(Spent::default());
    let app = App {
        store: Arc::new(Counting {
            inner: Arc::new(Clocked {
                inner: local.app.store.clone(),
                spent: spent.clone(),
            }),
            counts: counts.clone(),
        }),
        mailer: Arc::new(ClockedMailer {
            inner: local.outbox.clone(),
            spent: spent.clone(),
        }),
        ..local.app.clone()
    };
    let ctx = support::ctx("cases");
    let number_start = app.config.cases.number_start;

    let mut b = rt.block_on(async {
        let ids: Vec<String> = (0..USERS)
            .map(|k| format!("bench.case.{k}@example.co.jp"))
            .collect();
        support::active_users(&app, &ctx, &ids).await;
        let mut users = Vec::new();
        for id in &ids {
            let (user, _) = app
                .user_by_login(&LoginId::parse(id).expect("login ID"))
                .await
                .expect("store")
                .expect("user");
            assert!(user.ecid.is_some(), "a migrated user");
            users.push(user);
        }
        Bench {
            app: app.clone(),
            ctx: ctx.clone(),
            users,
            outbox: local.outbox.clone(),
            db: dir.join("tobira.db"),
            counts: counts.clone(),
            spent: spent.clone(),
            ledger: Ledger {
                made: Vec::new(),
                ids: HashSet::new(),
                numbers: HashSet::new(),
                last: number_start - 1,
                mails: local.outbox.list().len(),
            },
        }
    });

    let mut phases = Vec::new();
    let mut read_sets = Vec::new();
    rt.block_on(b.fill(warmup, "warm-up"));
    for (s, &size) in sizes.iter().enumerate() {
        // The concurrent rounds come before the last fill.
        if s + 1 == sizes.len() {
            for tasks in TASKS {
                phases.push(b.concurrent(&mt, tasks, per_round));
            }
        }
        let from = b.ledger.made.len();
        let label = format!("sequential, tenant {from}..{size}");
        phases.push(rt.block_on(b.fill(size, &label)));
        read_sets.push(rt.block_on(reads(&b, rounds)));
    }
    let whole = t_all.elapsed();
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "cases bench: {} creations in one tenant by {USERS} users{}",
        b.ledger.made.len(),
        if quick { " (--quick)" } else { "" }
    );
    println!("store: SQLite file, WAL, synchronous = NORMAL (tobira_local::sqlite::SqliteStore::open), temp dir;");
    println!("       mail: the local outbox, a row in the same file");
    println!("timed: App::create_case alone (counter increment, 4-item atomic write, user read, outbox row);");
    println!("       sequential on a current-thread runtime; concurrent: tasks on a {WORKERS}-thread runtime");
    println!(
        "per s: creations / wall time of the phase; mean .. p99 in microseconds per creation;"
    );
    println!("at once: the most tasks started and not yet finished at one time; >1ms: creations over 1 ms;");
    println!("ckpt: WAL restarts after a complete checkpoint (the WAL header's checkpoint sequence number)");
    println!("checked: numbers CS+7 digits, unique and consecutive; ids unique; one mail per creation to its filer\n");
    creation_rows(&phases);

    println!();
    spent_rows(&phases);
    let mut calls = [0u64; 4];
    let mut n = 0u64;
    let mut mails = 0u64;
    for p in &phases {
        add(&mut calls, p.calls);
        n += p.samples.len() as u64;
        mails += p.spent[4].calls;
    }
    let per = |x: u64| x as f64 / n as f64;
    println!(
        "\nstore requests per creation (the same against DynamoDB): get {:.2}  query {:.2}  write {:.2}  items {:.2};  mails {:.2}",
        per(calls[0]),
        per(calls[1]),
        per(calls[2]),
        per(calls[3]),
        per(mails),
    );

    println!(
        "\nreads: {rounds} of each at each size, interleaved, after one warm-up round; store requests per call"
    );
    println!(
        "{:<30} {:>7} {:>5} {:>10} {:>8} {:>8} {:>6} {:>6}",
        "read", "tenant", "n", "median ms", "p10 ms", "p90 ms", "get", "query"
    );
    for (k, read) in READS.iter().enumerate() {
        for r in &read_sets {
            let st = support::stats(&r.samples[k]);
            let n = r.samples[k].len();
            println!(
                "{:<30} {:>7} {:>5} {:>10.3} {:>8.3} {:>8.3} {:>6.1} {:>6.1}",
                read.label(),
                r.tenant,
                n,
                ms(st.median),
                ms(st.p10),
                ms(st.p90),
                r.calls[k][0] as f64 / n as f64,
                r.calls[k][1] as f64 / n as f64,
            );
        }
    }
    println!("whole run incl. setup: {:.1} s", whole.as_secs_f64());
}
