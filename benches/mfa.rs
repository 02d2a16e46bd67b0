//! Second-factor verification throughput against the embedded SQLite store:
//! e-mail codes (MFA-3) and TOTP (MFA-4), right and wrong codes.
//!
//! What is timed is `App::verify_second_factor` alone — the challenge after
//! the password (LOG-4) — on a session already at the `mfa` stage. The
//! sign-in session and (for e-mail) the code are prepared right before, and
//! not timed: every success ends its session and uses its code up, so each
//! verification needs fresh ones. The password (argon2id) is not part of
//! these figures; `benches/login.rs` measures it.
//!
//! The store is a SQLite file in a temporary directory (WAL journal,
//! `synchronous = NORMAL`), as the local portal opens it, behind a wrapper
//! that counts every store request of the timed call: the domain makes the
//! same calls whatever store is behind the port, so the counts are the
//! DynamoDB requests per verification. Mail goes to an in-memory outbox
//! (the code is read from it); the clock is a `ManualClock`, moved on 30 s
//! after every user has had one TOTP sign-in, so a new time step is there to
//! accept (MFA-4: each step once per user).
//!
//! The four cases are interleaved one operation at a time, in an order that
//! rotates every iteration, so drift and a busy neighbour hit all of them
//! alike. Every iteration has one successful verification per factor, which
//! clears that user's sign-in counter, so the wrong codes never lock anyone
//! (LOG-2); users rotate, at most two failures in a row reach one user.
//!
//! The mean (and so ops/s) includes the store's tail: about one operation in
//! a hundred takes 1–40 ms, which is SQLite's automatic WAL checkpoint (every
//! ~1,000 pages of WAL, copied into the database file and synced) landing in
//! that operation's commit. The median is the cost without it.
//!
//! `cargo bench --bench mfa` (10,000 of each case after a warm-up);
//! `cargo bench --bench mfa -- --quick` (200 of each).

use std::sync::Arc;
use std::time::Duration;

use tobira::clock::{Clock, SystemClock};
use tobira::ids::{LoginId, Password};
use tobira::mfa::{Channel, Method, Proof, Purpose};
use tobira::model::User;
use tobira::random::OsRandom;
use tobira::session::Stage;
use tobira::{App, Ctx, Error};
use tobira_test_kit::ManualClock;
use tobira_test_kit::MemoryOutbox;
use totp_rs::{Builder, Secret, Totp};

#[allow(dead_code)]
mod support;
use support::{add, percentile, start, Counting, Counts};

/// Users per factor; the iterations go round them.
const USERS: usize = 20;

// ------------------------------------------------------------------- cases

#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    EmailOk,
    EmailWrong,
    TotpOk,
    TotpWrong,
}

const CASES: [Case; 4] = [
    Case::EmailOk,
    Case::EmailWrong,
    Case::TotpOk,
    Case::TotpWrong,
];

impl Case {
    fn label(self) -> &'static str {
        match self {
            Case::EmailOk => "e-mail code: right",
            Case::EmailWrong => "e-mail code: wrong",
            Case::TotpOk => "TOTP: right",
            Case::TotpWrong => "TOTP: wrong",
        }
    }
    fn method(self) -> Method {
        match self {
            Case::EmailOk | Case::EmailWrong => Method::Email,
            Case::TotpOk | Case::TotpWrong => Method::Totp,
        }
    }
    fn right(self) -> bool {
        matches!(self, Case::EmailOk | Case::TotpOk)
    }
}

/// One prepared verification: a session at `mfa` and the code to enter.
struct Prepared {
    case: Case,
    session: String,
    code: String,
}

#[derive(Default, Clone)]
struct Samples {
    times: Vec<Duration>,
    calls: [u64; 4],
}

struct Bench {
    app: App,
    ctx: Ctx,
    clock: Arc<ManualClock>,
    outbox: Arc<MemoryOutbox>,
    counts: Arc<Counts>,
    email_users: Vec<User>,
    totp_users: Vec<(User, Totp)>,
    /// `send_code` of the prepared e-mail sessions (a reference, not a case).
    sends: Samples,
}

impl Bench {
    /// A session at the `mfa` stage, as `App::login` creates it after the
    /// right password for a user with a factor (without the argon2id).
    async fn mfa_session(&self, user: &User) -> String {
        let (token, w) = self.app.new_session(user, Stage::Mfa);
        self.app
            .store
            .write(vec![w], self.app.now())
            .await
            .expect("store the session");
        token
    }

    /// The code of the last mail in the outbox.
    fn mailed_code(&self) -> String {
        let mail = self
            .outbox
            .mails
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .expect("a mail was sent");
        code_in(&mail.text)
    }

    /// A fresh session and the code for one operation of `case`, by the
    /// `i`-th user of its factor (nothing here is timed but `send_code`,
    /// which is kept apart).
    async fn prepare(&mut self, case: Case, i: usize) -> Prepared {
        let (session, code) = match case.method() {
            Method::Email => {
                let user = self.email_users[i % self.email_users.len()].clone();
                let session = self.mfa_session(&user).await;
                self.counts.take();
                let t = start();
                self.app
                    .send_code(
                        Some(&session),
                        Channel::Email,
                        Purpose::Login,
                        None,
                        None,
                        &self.ctx,
                    )
                    .await
                    .expect("send the e-mail code");
                self.sends.times.push(t.elapsed());
                add(&mut self.sends.calls, self.counts.take());
                let code = self.mailed_code();
                let code = if case.right() {
                    code
                } else {
                    // Six digits, not the code sent.
                    let n: u32 = code.parse().expect("digits");
                    format!("{:06}", (n + 1) % 1_000_000)
                };
                (session, code)
            }
            _ => {
                let (user, totp) = self.totp_users[i % self.totp_users.len()].clone();
                let session = self.mfa_session(&user).await;
                let secs = (self.app.now().millis() / 1000) as u64;
                let right = totp.generate(secs).to_string();
                let code = if case.right() {
                    right
                } else {
                    // Six digits matching no step of the window (one step of skew).
                    let mut n: u32 = right.parse().expect("digits");
                    loop {
                        n = (n + 1) % 1_000_000;
                        let c = format!("{n:06}");
                        if totp.check(&c, secs).is_none() {
                            break c;
                        }
                    }
                };
                (session, code)
            }
        };
        Prepared {
            case,
            session,
            code,
        }
    }

    /// Time one verification, check its outcome, count its store requests.
    async fn once(&self, p: &Prepared) -> (Duration, [u64; 4]) {
        self.counts.take();
        let t = start();
        let r = self
            .app
            .verify_second_factor(
                Some(&p.session),
                Proof::Factor(p.case.method()),
                &p.code,
                false,
                &self.ctx,
            )
            .await;
        let elapsed = t.elapsed();
        let calls = self.counts.take();
        match (p.case.right(), r) {
            (true, Ok(a)) => assert!(
                matches!(a.stage, Stage::Terms | Stage::Full),
                "{}: stage {:?}",
                p.case.label(),
                a.stage
            ),
            (false, Err(Error::InvalidCode)) => {}
            (_, other) => panic!("{}: unexpected {other:?}", p.case.label()),
        }
        (elapsed, calls)
    }
}

/// The six digits after "ワンタイムパスワード: " / "Your one-time password: ".
fn code_in(text: &str) -> String {
    for marker in ["ワンタイムパスワード: ", "one-time password: "] {
        if let Some(i) = text.find(marker) {
            let code: String = text[i + marker.len()..].chars().take(6).collect();
            assert!(
                code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
                "no code in {text:?}"
            );
            return code;
        }
    }
    panic!("no code in {text:?}")
}

// ------------------------------------------------------------------- setup

fn login_id(kind: &str, i: usize) -> String {
    format!("bench.{kind}.{i}@example.co.jp")
}

/// Sign in with the password: a session at `stage`.
async fn login(app: &App, id: &str, pw: &Password, ctx: &Ctx, stage: Stage) -> String {
    let s = app.login(id, pw, ctx).await.expect("login");
    assert_eq!(s.stage, stage, "{id}");
    s.session
}

/// The user of a login ID, as stored now.
async fn user(app: &App, id: &str) -> User {
    app.user_by_login(&LoginId::parse(id).expect("login ID"))
        .await
        .expect("store")
        .expect("user")
        .0
}

async fn setup(dir: &std::path::Path, counts: Arc<Counts>) -> Bench {
    let sqlite = support::open_store(dir);
    let mut config = support::config();
    // MFA-3 caps codes per user and hour (5 by default); the benchmark sends
    // thousands to a handful of users. The cap is still counted (a read and
    // a conditional write per send), never reached.
    config.otp.sends_per_hour = 1_000_000;
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let outbox = Arc::new(MemoryOutbox::default());
    let app = App {
        config: Arc::new(config),
        store: Arc::new(Counting {
            inner: sqlite,
            counts: counts.clone(),
        }),
        mailer: outbox.clone(),
        sms: outbox.clone(),
        voice: outbox.clone(),
        files: Arc::new(tobira::files::Unwired),
        ceremonies: Arc::new(tobira::webauthn::Unwired),
        clock: clock.clone(),
        rng: Arc::new(OsRandom),
    };
    let ctx = support::ctx("mfa");

    let ids: Vec<(String, bool)> = (0..USERS)
        .map(|i| (login_id("email", i), true))
        .chain((0..USERS).map(|i| (login_id("totp", i), false)))
        .collect();
    let logins: Vec<&str> = ids.iter().map(|(id, _)| id.as_str()).collect();
    let (pw, _) = support::active_users(&app, &ctx, &logins).await;

    let mut b = Bench {
        app,
        ctx,
        clock,
        outbox,
        counts,
        email_users: Vec::new(),
        totp_users: Vec::new(),
        sends: Samples::default(),
    };

    // Enrolment, the first factor of each user: sign in (stage `enroll`),
    // prove the factor, acknowledge the recovery codes, sign in again
    // (stage `mfa` now).
    for (id, email) in &ids {
        let token = login(&b.app, id, &pw, &b.ctx, Stage::Enroll).await;
        let enrolled = if *email {
            b.app
                .send_code(
                    Some(&token),
                    Channel::Email,
                    Purpose::Enroll,
                    None,
                    None,
                    &b.ctx,
                )
                .await
                .expect("send the enrolment code");
            let code = b.mailed_code();
            b.app
                .confirm_email_method(Some(&token), &code, &b.ctx)
                .await
                .expect("confirm e-mail")
        } else {
            let setup = b
                .app
                .begin_totp(Some(&token), None, &b.ctx)
                .await
                .expect("begin TOTP");
            let totp = Builder::new()
                .with_secret(Secret::try_from_base32(&setup.secret).expect("base32 secret"))
                .build()
                .expect("RFC 6238 parameters");
            let secs = (b.app.now().millis() / 1000) as u64;
            let code = totp.generate(secs).to_string();
            let e = b
                .app
                .confirm_totp(Some(&token), &code, &b.ctx)
                .await
                .expect("confirm TOTP");
            let user = user(&b.app, id).await;
            b.totp_users.push((user, totp));
            e
        };
        assert_eq!(enrolled.next, "confirm_recovery_codes");
        assert!(enrolled.recovery_codes.is_some());
        b.app
            .acknowledge_recovery_codes(Some(&token), &b.ctx)
            .await
            .expect("acknowledge recovery codes");
        login(&b.app, id, &pw, &b.ctx, Stage::Mfa).await;
        if *email {
            let user = user(&b.app, id).await;
            assert_eq!(user.methods, vec!["email".to_string()]);
            b.email_users.push(user);
        }
    }
    // The enrolment used the current TOTP step of every user.
    b.clock.advance(Duration::from_secs(30));
    b
}

// ----------------------------------------------------------------- report

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn row(label: &str, s: &Samples) {
    let mut t = s.times.clone();
    t.sort();
    let n = t.len();
    let total: Duration = t.iter().sum();
    let mean = total / n as u32;
    let per = |x: u64| x as f64 / n as f64;
    let slow = t.iter().filter(|d| **d > Duration::from_millis(1)).count();
    println!(
        "{:<22} {:>6} {:>7.0} {:>7.1} {:>6.1} {:>6.1} {:>6.1} {:>7.2} {:>5}   {:>4.1} {:>4.1} {:>5.1} {:>5.1}",
        label,
        n,
        n as f64 / total.as_secs_f64(),
        us(mean),
        us(percentile(&t, 0.5)),
        us(percentile(&t, 0.9)),
        us(percentile(&t, 0.99)),
        us(t[n - 1]) / 1e3,
        slow,
        per(s.calls[0]),
        per(s.calls[1]),
        per(s.calls[2]),
        per(s.calls[3]),
    );
}

fn main() {
    let quick = support::quick();
    let (warmup, n) = if quick {
        (USERS, 200)
    } else {
        (2 * USERS, 10_000)
    };

    let dir = support::temp_dir("mfa");
    let rt = support::runtime();
    let wall = start();
    let (samples, sends) = rt.block_on(async {
        let counts = Arc::new(Counts::default());
        let mut b = setup(&dir, counts).await;
        let mut samples: Vec<Samples> = vec![Samples::default(); CASES.len()];
        for it in 0..warmup + n {
            // Every user has had one TOTP sign-in: a new time step.
            if it > 0 && it % USERS == 0 {
                b.clock.advance(Duration::from_secs(30));
            }
            let mut prepared = Vec::with_capacity(CASES.len());
            for k in 0..CASES.len() {
                // Rotate the order each iteration.
                let case = CASES[(it + k) % CASES.len()];
                prepared.push(b.prepare(case, it).await);
            }
            for p in &prepared {
                let (d, calls) = b.once(p).await;
                if it >= warmup {
                    let s = &mut samples[CASES.iter().position(|c| *c == p.case).unwrap()];
                    s.times.push(d);
                    add(&mut s.calls, calls);
                }
            }
            if it + 1 == warmup {
                b.sends = Samples::default();
            }
        }
        (samples, b.sends)
    });
    let wall = wall.elapsed();
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "mfa bench: {n} verifications per case, interleaved, after {warmup} warm-up iteration(s){}",
        if quick { " (--quick)" } else { "" }
    );
    println!("store: SQLite file, WAL (tobira_local::sqlite::SqliteStore::open), temp dir");
    println!(
        "timed: App::verify_second_factor alone, one at a time, on a fresh session at stage mfa;"
    );
    println!("       {USERS} users per factor; no argon2id in these figures");
    println!(
        "       ops/s = n / total time (one at a time); mean, p50, p90, p99 in microseconds\n"
    );
    println!(
        "{:<22} {:>6} {:>7} {:>7} {:>6} {:>6} {:>6} {:>7} {:>5}   {:>4} {:>4} {:>5} {:>5}",
        "case",
        "n",
        "ops/s",
        "mean",
        "p50",
        "p90",
        "p99",
        "max ms",
        ">1ms",
        "get",
        "qry",
        "write",
        "items"
    );
    for (i, case) in CASES.iter().enumerate() {
        row(case.label(), &samples[i]);
    }
    println!();
    row("(ref) send e-mail code", &sends);
    println!(
        "\nstore requests per operation (get, query, atomic write, items written): the same against DynamoDB"
    );
    println!("whole run incl. setup: {:.1} s", wall.as_secs_f64());
}
