//! The creations: what each case holds, the ledger that checks every
//! answer, the phases and the benchmark's state.

use super::*;

/// One creation: which case of the run, by which user, and the answer.
pub(crate) struct Made {
    pub(crate) i: usize,
    pub(crate) user: usize,
    pub(crate) created: Created,
}

/// The `i`-th case of the run: kinds alternate, categories go round the
/// configured ones, three cases hold [`KEYWORD`].
pub(crate) fn content(
    i: usize,
    categories: &[tobira::config::Category],
) -> (Kind, String, String, String) {
    let kind = if i.is_multiple_of(2) {
        Kind::Inquiry
    } else {
        Kind::WorkRequest
    };
    let category = categories[i % categories.len()].id().to_string();
    let subject = format!("VPN 接続が数分おきに切れる (bench #{i})");
    let body = if PLANTED.contains(&i) {
        format!("{BODY}\n{KEYWORD}の予定があれば教えてください。")
    } else {
        BODY.to_string()
    };
    (kind, category, subject, body)
}

/// Create the `i`-th case as `user`; the time of `App::create_case` alone.
pub(crate) async fn create(app: &App, user: &User, i: usize, ctx: &Ctx) -> (Duration, Created) {
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
pub(crate) fn number_of(number: &str) -> u64 {
    let digits = number.strip_prefix("CS").unwrap_or("");
    assert!(
        digits.len() == 7 && digits.bytes().all(|b| b.is_ascii_digit()),
        "case number {number:?}"
    );
    digits.parse().expect("digits")
}

/// Every creation of the run, and what was checked so far.
pub(crate) struct Ledger {
    pub(crate) made: Vec<Made>,
    pub(crate) ids: HashSet<String>,
    pub(crate) numbers: HashSet<u64>,
    /// The highest number so far (the counter's start, less one, at first).
    pub(crate) last: u64,
    /// Outbox rows already accounted for.
    pub(crate) mails: usize,
}

impl Ledger {
    /// Check one phase's creations (in the order they were answered) and
    /// the outbox rows they left, then keep them.
    pub(crate) fn check(
        &mut self,
        new: Vec<Made>,
        sequential: bool,
        users: &[User],
        outbox: &Outbox,
    ) {
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
    pub(crate) fn list_order(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.made.iter().map(|m| m.created.id.as_str()).collect();
        // Crockford base32 sorts as the time it encodes.
        ids.sort_by(|a, b| b[..10].cmp(&a[..10]).then(a.cmp(b)));
        ids
    }
}

/// A phase of creations, for the report.
pub(crate) struct Phase {
    pub(crate) label: String,
    pub(crate) tasks: usize,
    /// The most tasks between their first poll and their end at one time.
    pub(crate) at_once: usize,
    pub(crate) tenant: usize,
    pub(crate) wall: Duration,
    pub(crate) samples: Vec<Duration>,
    /// WAL restarts during the phase, each after a complete checkpoint.
    pub(crate) checkpoints: u32,
    pub(crate) calls: [u64; 4],
    pub(crate) spent: [Tally; 5],
}

/// The WAL header's checkpoint sequence number (bytes 12..16, big-endian):
/// it goes up by one each time the WAL starts again from its beginning,
/// which it does after a complete checkpoint.
pub(crate) fn wal_restarts(db: &Path) -> u32 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let mut header = [0u8; 16];
    std::fs::File::open(&wal)
        .and_then(|mut f| f.read_exact(&mut header))
        .expect("WAL header");
    u32::from_be_bytes([header[12], header[13], header[14], header[15]])
}

/// The most of these (start, end) spans that overlap at one time.
pub(crate) fn most_at_once(spans: &[(Duration, Duration)]) -> usize {
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

pub(crate) struct Bench {
    pub(crate) app: App,
    pub(crate) ctx: Ctx,
    pub(crate) users: Vec<User>,
    pub(crate) outbox: Arc<Outbox>,
    pub(crate) counts: Arc<Counts>,
    pub(crate) spent: Arc<Spent>,
    pub(crate) ledger: Ledger,
    /// The store's file (its WAL beside it).
    pub(crate) db: PathBuf,
}

impl Bench {
    /// Sequential creations until the tenant holds `size` cases.
    pub(crate) async fn fill(&mut self, size: usize, label: &str) -> Phase {
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
    pub(crate) fn concurrent(
        &mut self,
        mt: &tokio::runtime::Runtime,
        tasks: usize,
        n: usize,
    ) -> Phase {
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
