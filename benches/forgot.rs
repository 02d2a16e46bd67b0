//! "Forgot password" (RST-1, RST-2): does the answer's timing tell a match
//! from no match?
//!
//! Every request goes through the real `reset-password` handler — a JSON
//! `POST /api/password/forgot` handed to `tobira_local::call_function`, as
//! API Gateway hands it to the Lambda — so the timed work includes parsing,
//! `App::forgot_password`, the answer floor (`web::paced` with
//! `Config::forgot_floor`) and building the one answer, `202 {"next":"mail"}`.
//! Four cases:
//!
//! - (a) an active user with the right e-mail: a password link is made and
//!   mailed, the user's RST-2 counter cleared;
//! - (b) an active user with a wrong e-mail: a failure counted on the login ID;
//! - (c) a login ID nobody has: a failure counted on that login ID too;
//! - (d) well-formed JSON with a login ID that is not one (it has spaces):
//!   only the audit record.
//!
//! Each case runs through the handler under four settings: the floor at 0
//! (the cost of the work) and at the default 500 ms, each with the mail
//! going straight to the local outbox (a row in the SQLite store) and with a
//! modelled mail service that takes 80 ms per send (a `Mailer` adapter below
//! that sleeps, then forwards to the outbox). Without the floor the mail call
//! alone would give a match away; with it the answer comes at the floor
//! whatever happened. A fifth setting times `App::forgot_password` alone, the
//! domain call the handler wraps, for the raw cost without the handler: with
//! the floor at 0, `web::paced` still awaits tokio's timer, whose deadlines
//! are rounded up to the next millisecond (about 1.1 ms per answer here).
//!
//! The store sits behind a wrapper that counts each entry's store requests
//! (the same calls the domain makes against DynamoDB).
//!
//! RST-2 blocks a login ID for 20 minutes after 5 failed entries, whether or
//! not it exists; a blocked entry does less work, so the benchmark must never
//! reach a block. (c) uses a new unknown login ID every time (as someone
//! probing for accounts would). (b) goes round a pool of users sized so that
//! none gets more than `max_failures − 1` (4) wrong entries in the whole run.
//! A matching entry mails at most one link a minute per user (a second one
//! within the minute is answered alike but mails nothing and writes less), so
//! (a) uses every user of its pool once: the pool has one user per (a)
//! request of the run. Each match clears that user's RST-2 counter. The end
//! checks every (b) user's counter and that no entry was blocked or "too
//! soon". RST-3 (no reset for 24 h after a completed one) never applies: no
//! link is used.
//!
//! The cases are interleaved one request at a time, in an order that rotates
//! every iteration; each round runs every setting, so drift hits all alike.
//! Every answer is checked (status and body the same for all, one mail for
//! (a) and none otherwise); a wrong one stops the benchmark.
//!
//! `cargo bench --bench forgot` (about 2 min 20 s: 28 rounds; 224 requests
//! per case and setting without the floor, 28 with it);
//! `cargo bench --bench forgot -- --quick` (4 rounds, about 22 s).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use tobira::delivery::{DeliveryError, Mail, Mailer};
use tobira::ids::LoginId;
use tobira::model::keys;
use tobira::reset::Forgot;
use tobira::softlock::LockState;
use tobira::store::get_as;
use tobira::{App, Config, Ctx};
use tobira_web::web::{Body, LocalPeer, Request, Response};

#[allow(dead_code)]
mod support;
use support::{ms, p_slower, start, stats, Counting, Counts, Stats, TENANT};

/// The modelled mail service's time per send.
const MAIL_DELAY: Duration = Duration::from_millis(80);

// ------------------------------------------------------------------ mailer

/// The mail port with an optional delay per send (a modelled mail service
/// such as SES: one HTTPS call), in front of the local outbox. Counts sends.
struct Delayed {
    inner: Arc<dyn Mailer>,
    delay: Duration,
    sent: Arc<AtomicU64>,
}

#[async_trait]
impl Mailer for Delayed {
    async fn send(&self, mail: &Mail) -> Result<(), DeliveryError> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        self.sent.fetch_add(1, Ordering::SeqCst);
        self.inner.send(mail).await
    }
}

// ------------------------------------------------------------------- cases

#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    Match,
    WrongEmail,
    Unknown,
    Nonsense,
}

const CASES: [Case; 4] = [Case::Match, Case::WrongEmail, Case::Unknown, Case::Nonsense];
/// The reference for the differences.
const UNKNOWN: usize = 2;

impl Case {
    fn label(self) -> &'static str {
        match self {
            Case::Match => "(a) active user, right e-mail",
            Case::WrongEmail => "(b) active user, wrong e-mail",
            Case::Unknown => "(c) unknown login ID",
            Case::Nonsense => "(d) nonsense (login ID w/ spaces)",
        }
    }
}

/// One way of running the handler: the answer floor and the mail service.
struct Setting {
    label: String,
    short: String,
    app: App,
    /// `App::forgot_password` alone instead of the handler (a reference).
    direct: bool,
    /// Iterations (of all four cases) per round.
    per_round: usize,
    samples: Vec<Vec<Duration>>,
    /// Rotation of the case order.
    n: usize,
}

struct Bench {
    ctx: Ctx,
    counts: Arc<Counts>,
    /// Per case: store requests (get, query, write, items) and entries.
    calls: [([u64; 4], u64); 4],
    match_users: Vec<String>,
    wrong_users: Vec<String>,
    sent: Arc<AtomicU64>,
    /// Operations of (a), (b) and (c) so far (picks the user / unknown ID).
    next: [usize; 3],
    answer: Option<(u16, Vec<u8>)>,
}

/// The request as the local server hands it to the function.
fn forgot_request(login_id: &str, email: &str, ua: &str) -> Request {
    let body = json!({ "login_id": login_id, "email": email }).to_string();
    http::Request::builder()
        .method("POST")
        .uri("/api/password/forgot")
        .header("content-type", "application/json")
        .header("user-agent", ua)
        .extension(LocalPeer(([127, 0, 0, 1], 50_000).into()))
        .body(Body::Text(body))
        .expect("request")
}

impl Bench {
    /// The login ID and e-mail of the next operation of `case`.
    fn entry(&mut self, case: Case) -> (String, String) {
        match case {
            Case::Match => {
                // Each user once: a second match within a minute mails nothing.
                let u = &self.match_users[self.next[0]];
                self.next[0] += 1;
                (u.clone(), u.clone())
            }
            Case::WrongEmail => {
                let u = &self.wrong_users[self.next[1] % self.wrong_users.len()];
                self.next[1] += 1;
                (u.clone(), "someone.else@example.com".to_string())
            }
            Case::Unknown => {
                // A new one every time: never blocked by RST-2.
                let id = format!("nobody.{}@example.co.jp", self.next[2]);
                self.next[2] += 1;
                (id.clone(), id)
            }
            Case::Nonsense => ("no such login".into(), "not an e-mail".into()),
        }
    }

    /// Run one operation, check its outcome, return its time. Only the
    /// handler call (or the domain call) is timed, not building the request.
    async fn once(&mut self, s: &Setting, case: Case) -> Duration {
        let (id, email) = self.entry(case);
        let sent = self.sent.load(Ordering::SeqCst);
        self.counts.take();
        let elapsed = if s.direct {
            let f = Forgot {
                login_id: &id,
                email: &email,
                name: None,
                phone: None,
            };
            let t = start();
            let r = s.app.forgot_password(&f, &self.ctx).await;
            let elapsed = t.elapsed();
            assert!(r.is_ok(), "{}: {r:?}", case.label());
            elapsed
        } else {
            let req = forgot_request(&id, &email, &self.ctx.user_agent);
            let t = start();
            let resp = tobira_local::call_function(&s.app, "reset-password", req)
                .await
                .expect("reset-password is a function");
            let elapsed = t.elapsed();
            self.check_answer(case, &resp);
            elapsed
        };
        let calls = self.counts.take();
        let c = &mut self.calls[CASES.iter().position(|k| *k == case).expect("a case")];
        support::add(&mut c.0, calls);
        c.1 += 1;
        let mails = self.sent.load(Ordering::SeqCst) - sent;
        let expected = u64::from(case == Case::Match);
        assert_eq!(mails, expected, "{}: {mails} mail(s) sent", case.label());
        elapsed
    }

    /// The one answer, whatever matched: 202 and the same body every time.
    fn check_answer(&mut self, case: Case, resp: &Response) {
        let answer = (resp.status().as_u16(), resp.body().as_ref().to_vec());
        assert_eq!(
            answer.0,
            202,
            "{}: {}",
            case.label(),
            String::from_utf8_lossy(&answer.1)
        );
        match &self.answer {
            None => self.answer = Some(answer),
            Some(first) => assert_eq!(first, &answer, "{}: another answer", case.label()),
        }
    }
}

// ------------------------------------------------------------------- setup

/// Migrate and activate `matching` users for (a) and `wrong` for (b).
async fn users(app: &App, ctx: &Ctx, matching: usize, wrong: usize) -> (Vec<String>, Vec<String>) {
    let match_users: Vec<String> = (0..matching)
        .map(|i| format!("bench.match.{i}@example.co.jp"))
        .collect();
    let wrong_users: Vec<String> = (0..wrong)
        .map(|i| format!("bench.wrong.{i}@example.co.jp"))
        .collect();
    let ids: Vec<&String> = match_users.iter().chain(&wrong_users).collect();
    support::active_users(app, ctx, &ids).await;
    (match_users, wrong_users)
}

// ----------------------------------------------------------------- figures

fn main() {
    let quick = support::quick();
    // Iterations of the four cases: per round without the floor (cheap),
    // one per round with it (2 s each at 500 ms).
    let (warmup, rounds, unfloored) = if quick { (1, 4, 4) } else { (1, 28, 8) };

    // The floor as the code's default sets it (TOBIRA_FORGOT_MIN_MILLIS unset).
    let default_floor = Config::from_lookup(|_| None, false)
        .expect("default configuration")
        .forgot_floor;
    assert!(!default_floor.is_zero(), "the default floor is 0");

    let dir = support::temp_dir("forgot");
    let rt = support::runtime();
    let (settings, calls, whole) = rt.block_on(async {
        let t_all = start();
        let local = support::local(&dir);
        let counts = Arc::new(Counts::default());
        let base = App {
            store: Arc::new(Counting {
                inner: local.app.store.clone(),
                counts: counts.clone(),
            }),
            ..local.app.clone()
        };
        let ctx = support::ctx("forgot");
        let policy = base.config.reset_lock;
        assert!(policy.max_failures >= 2, "RST-2 limit {policy:?}");

        let sent = Arc::new(AtomicU64::new(0));
        // (domain call alone, floor, mail delay, iterations per round)
        let variants = [
            (true, Duration::ZERO, Duration::ZERO, unfloored),
            (false, Duration::ZERO, Duration::ZERO, unfloored),
            (false, Duration::ZERO, MAIL_DELAY, unfloored),
            (false, default_floor, Duration::ZERO, 1),
            (false, default_floor, MAIL_DELAY, 1),
        ];
        let mut settings: Vec<Setting> = variants
            .iter()
            .map(|&(direct, floor, delay, per_round)| {
                let mut config = (*base.config).clone();
                config.forgot_floor = floor;
                let mailer = Arc::new(Delayed {
                    inner: local.outbox.clone(),
                    delay,
                    sent: sent.clone(),
                });
                let mail = if delay.is_zero() {
                    "local outbox".to_string()
                } else {
                    format!("mail +{} ms", delay.as_millis())
                };
                let (label, short) = if direct {
                    (
                        format!("App::forgot_password alone (no handler, no floor), {mail}"),
                        format!("domain call alone, {mail}"),
                    )
                } else {
                    (
                        format!("handler, floor {} ms, {mail}", floor.as_millis()),
                        format!("handler, floor {} ms, {mail}", floor.as_millis()),
                    )
                };
                Setting {
                    label,
                    short,
                    direct,
                    app: App {
                        config: Arc::new(config),
                        mailer,
                        ..base.clone()
                    },
                    per_round,
                    samples: vec![Vec::new(); CASES.len()],
                    n: 0,
                }
            })
            .collect();

        // Requests of each case in the whole run. (a): one user each (one
        // link a minute per user); (b): spread so that no user gets more
        // than max_failures - 1 of them (RST-2).
        let per_case: usize = settings
            .iter()
            .map(|s| warmup + rounds * s.per_round)
            .sum();
        let per_user = policy.max_failures as usize - 1;
        let pool = per_case.div_ceil(per_user);
        let (match_users, wrong_users) = users(&base, &ctx, per_case, pool).await;
        let mut b = Bench {
            ctx: ctx.clone(),
            counts,
            calls: [([0; 4], 0); 4],
            match_users,
            wrong_users,
            sent,
            next: [0; 3],
            answer: None,
        };

        for s in &settings {
            for i in 0..warmup * CASES.len() {
                b.once(s, CASES[i % CASES.len()]).await;
            }
        }
        for _ in 0..rounds {
            for s in settings.iter_mut() {
                for _ in 0..s.per_round {
                    // Rotate the order each iteration.
                    for k in 0..CASES.len() {
                        let idx = (s.n + k) % CASES.len();
                        let d = b.once(s, CASES[idx]).await;
                        s.samples[idx].push(d);
                    }
                    s.n += 1;
                }
            }
        }

        // RST-2 was never reached: no (b) user is blocked or near it, and
        // no entry was answered as blocked.
        let now = base.now();
        let mut most = 0;
        for id in &b.wrong_users {
            let login = LoginId::parse(id).expect("valid login ID");
            let key = keys::lock("reset", &login.key());
            let state = get_as::<LockState>(base.store.as_ref(), &key, now)
                .await
                .expect("store")
                .map(|(s, _)| s)
                .unwrap_or_default();
            assert!(state.locked_until.is_none(), "{id} was blocked");
            most = most.max(state.failures);
        }
        assert!(most < policy.max_failures, "{most} failures");
        let mut kinds = std::collections::BTreeMap::<String, usize>::new();
        for tenant in [Some(TENANT), None] {
            for e in tobira_test_kit::audit_trail(&base, tenant, 2).await {
                *kinds.entry(e.kind).or_default() += 1;
            }
        }
        for kind in [
            "password.forgot_blocked",
            "password.forgot_too_soon",
            "password.link_mail_failed",
        ] {
            assert_eq!(kinds.get(kind), None, "{kinds:?}");
        }
        assert_eq!(b.next[0], per_case, "(a) requests");
        println!(
            "checked: {per_case} users for (a), one request each; {pool} for (b), at most {most} wrong entries on one (block at {});\naudit: {}",
            policy.max_failures,
            kinds
                .iter()
                .filter(|(k, _)| k.starts_with("password."))
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        (settings, b.calls, t_all.elapsed())
    });
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "forgot bench: {rounds} rounds; per round and setting {unfloored} iteration(s) of the four cases without the floor, 1 with it;\n\
         cases interleaved in a rotating order, after {warmup} warm-up iteration(s) per setting{}",
        if quick { " (--quick)" } else { "" }
    );
    println!("timed: tobira_local::call_function(app, \"reset-password\", POST /api/password/forgot), the Lambda handler;");
    println!("       for reference, App::forgot_password alone (what the handler wraps)");
    println!("store: SQLite file, WAL (tobira_local::sqlite::SqliteStore::open), temp dir; mail: the local outbox");
    println!("every answer 202 {{\"next\":\"mail\"}}, a mail for (a) only (checked)");
    println!("P(> (c)): chance that an answer of this case is slower than one of (c), over all pairs (0.50: the time tells nothing)");
    let mut summary = Vec::new();
    for s in &settings {
        println!("\n{}", s.label);
        println!(
            "{:<34} {:>5} {:>10} {:>9} {:>9} {:>14} {:>10}",
            "case", "n", "median ms", "p10 ms", "p90 ms", "-median (c) ms", "P(> (c))"
        );
        let st: Vec<Stats> = s.samples.iter().map(|x| stats(x)).collect();
        let reference = &st[UNKNOWN];
        for (i, case) in CASES.iter().enumerate() {
            let slower = p_slower(&s.samples[i], &s.samples[UNKNOWN]);
            println!(
                "{:<34} {:>5} {:>10.3} {:>9.3} {:>9.3} {:>+14.3} {:>10.2}",
                case.label(),
                s.samples[i].len(),
                ms(st[i].median),
                ms(st[i].p10),
                ms(st[i].p90),
                ms(st[i].median) - ms(reference.median),
                slower,
            );
        }
        summary.push((
            s.short.clone(),
            ms(st[0].median) - ms(reference.median),
            p_slower(&s.samples[0], &s.samples[UNKNOWN]),
            ms(st[1].median) - ms(reference.median),
            p_slower(&s.samples[1], &s.samples[UNKNOWN]),
        ));
    }
    println!("\nmatch vs no match: difference of medians and P(> (c))");
    println!(
        "  {:<38} {:>21} {:>21}",
        "", "(a) right e-mail", "(b) wrong e-mail"
    );
    for (label, a, pa, b, pb) in summary {
        println!("  {label:<38} {a:>+10.3} ms  {pa:>6.2} {b:>+10.3} ms  {pb:>6.2}");
    }
    println!(
        "\nstore requests per entry, all settings (mean; the same calls against DynamoDB), plus the mail for (a):"
    );
    println!(
        "{:<34} {:>6} {:>6} {:>6} {:>6}",
        "case", "get", "query", "write", "items"
    );
    for (case, (c, n)) in CASES.iter().zip(calls) {
        let per = |x: u64| x as f64 / n as f64;
        println!(
            "{:<34} {:>6.2} {:>6.2} {:>6.2} {:>6.2}",
            case.label(),
            per(c[0]),
            per(c[1]),
            per(c[2]),
            per(c[3])
        );
    }
    println!("whole run incl. setup: {:.1} s", whole.as_secs_f64());
}
