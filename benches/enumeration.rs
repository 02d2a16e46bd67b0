//! Can the time of an answer tell who exists? (LOG-3, CLM-1, SET-1, RST-1)
//!
//! The flows that must not tell who exists — sign-in, claiming a legacy
//! account, the setup link's resend, "forgot password" — are timed per
//! class of entry, against the embedded SQLite store behind a wrapper that
//! adds a fixed delay to every store request: 5 ms, about a DynamoDB round
//! trip in the same region (and 0 ms, the store alone, for the claim). On
//! DynamoDB a class that makes one request more than another answers about
//! one round trip later; this shows that none does, and that the classes
//! do the same hashing work.
//!
//! Classes per flow (each one request at a time, interleaved in an order
//! that rotates every iteration, so drift hits all alike):
//!
//! - sign-in (`App::login`): unknown login ID, wrong password, locked,
//!   disabled, pending setup — one argon2 verification each (a dummy where
//!   there is no hash to check);
//! - claim (`App::claim`, CLM-1): unknown service ID, a holder with a wrong
//!   password in each legacy format (bcrypt cost 10, SHA-512 crypt, argon2id
//!   — the demo export's), known and set up (the *right* legacy password: no
//!   credential any more), blocked — the same verifications each: one per
//!   reference hash (`TOBIRA_CLAIM_REFERENCE_HASHES`), a claimable holder's
//!   own hash taking the place of the one of its format;
//! - resend (`App::resend_setup_link`, SET-1): a match (mails a link), unknown,
//!   wrong e-mail, set up;
//! - forgot (`App::forgot_password`, RST-1): a match (mails a link), unknown,
//!   wrong e-mail — the handler also holds every answer to a floor
//!   (`benches/forgot.rs`); here the domain call alone, without it.
//!
//! Between requests, outside the timing, each class is put back as it was
//! (a counter that must not reach a lock is deleted; a block that must hold
//! is renewed; a matching resend gets a user who was not mailed within the
//! minute), so each class stays what it is for the whole run.
//!
//! Figures: per class the median (p10–p90) and the store requests per
//! entry, and the chance that an entry of the class is slower than one of
//! the flow's first class (0.5: the time tells nothing).
//!
//! `cargo bench --bench enumeration` (about 1 min);
//! `cargo bench --bench enumeration -- --quick` (about 15 s).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use tobira::clock::Timestamp;
use tobira::ids::{LoginId, Password};
use tobira::model::{keys, UserState};
use tobira::reset::Forgot;
use tobira::store::{Cond, Item, Key, Query, Store, StoreError, Write};
use tobira::{App, Ctx};

#[allow(dead_code)]
mod support;
use support::{add, ms, p_slower, start, stats, Counting, Counts};

/// A DynamoDB request in the same region, as modelled here.
const ROUND_TRIP: Duration = Duration::from_millis(5);
const LEGACY_PW: &str = "Legacy-Pass1";
const BCRYPT_10: &str = "$2b$10$NP4IfkwP/znCBdI2HUh1/O6lphHI6GnKLDoqHAwowlilLsvkPVUsa";
/// The demo export's other formats (password `Legacy-Pass2`, `-Pass3`).
const SHA512: &str = "$6$u0DV3EOpyNvUVc3x$I4bI/Bbxx5SXaGtPyJMZpwlBUp4X7t0m0NnfOIN.tLPgHMaPfR2AXz2mG.wd5idt7gWLYXYcBxl6yDq7DJSyJ.";
const ARGON2ID: &str = "$argon2id$v=19$m=19456,t=2,p=1$fWvuugGFZA+vm0H3U2A+2g$cJNkE6yP0QrjK0TjDqIHUDA9Uk71HkNZazG8YrOeJgA";
/// The claim's service IDs per class and their holders' legacy hashes:
/// bcrypt, SHA-512 crypt, argon2id (wrong password), set up, blocked.
const SIDS: [(&str, &str); 5] = [
    ("cb0000000001", BCRYPT_10),
    ("cb0000000004", SHA512),
    ("cb0000000005", ARGON2ID),
    ("cb0000000002", BCRYPT_10),
    ("cb0000000003", BCRYPT_10),
];

/// The store port with a fixed delay before every request.
struct Delayed {
    inner: Arc<dyn Store>,
    delay: Duration,
}

impl Delayed {
    /// The thread sleeps: tokio's timer rounds every deadline up to the
    /// next millisecond, which would turn a difference of microseconds in
    /// the work before a request into one of up to a millisecond. One
    /// request runs at a time here, so blocking the runtime costs nothing.
    async fn wait(&self) {
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
    }
}

#[async_trait]
impl Store for Delayed {
    async fn get(&self, key: &Key, now: Timestamp) -> Result<Option<Item>, StoreError> {
        self.wait().await;
        self.inner.get(key, now).await
    }
    async fn query(&self, q: &Query, now: Timestamp) -> Result<Vec<Item>, StoreError> {
        self.wait().await;
        self.inner.query(q, now).await
    }
    async fn write(&self, writes: Vec<Write>, now: Timestamp) -> Result<(), StoreError> {
        self.wait().await;
        self.inner.write(writes, now).await
    }
    async fn increment(&self, key: &Key, now: Timestamp) -> Result<u64, StoreError> {
        self.wait().await;
        self.inner.increment(key, now).await
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    Login,
    Claim,
    Resend,
    Forgot,
}

impl Flow {
    fn classes(self) -> &'static [&'static str] {
        match self {
            Flow::Login => &[
                "unknown login ID",
                "wrong password",
                "locked",
                "disabled",
                "pending setup",
            ],
            Flow::Claim => &[
                "unknown service ID",
                "bcrypt holder, wrong password",
                "SHA-512 crypt holder, wrong password",
                "argon2id holder, wrong password",
                "set up, right legacy password",
                "blocked",
            ],
            Flow::Resend => &[
                "unknown login ID",
                "match (mails)",
                "wrong e-mail",
                "set up",
            ],
            Flow::Forgot => &["unknown login ID", "match (mails)", "wrong e-mail"],
        }
    }
    fn name(self) -> &'static str {
        match self {
            Flow::Login => "sign-in",
            Flow::Claim => "claim",
            Flow::Resend => "setup resend",
            Flow::Forgot => "forgot password",
        }
    }
}

/// The apps: the raw store (for putting classes back) and the timed one.
struct World {
    raw: App,
    timed: App,
    counts: Arc<Counts>,
    ctx: Ctx,
    /// Entries so far (fresh unknown IDs).
    n: usize,
    /// The resend's matches so far (a fresh pending user each).
    matches: usize,
}

fn pw(s: &str) -> Password {
    Password::parse(s).expect("valid password")
}

impl World {
    async fn user_id(&self, login: &str) -> String {
        let l = LoginId::parse(login).expect("login ID");
        self.raw.user_by_login(&l).await.unwrap().unwrap().0.id
    }

    async fn delete(&self, key: Key) {
        let w = Write::Delete {
            key,
            cond: Cond::Any,
        };
        self.raw.store.write(vec![w], self.raw.now()).await.unwrap();
    }

    async fn locked(&self, key: Key) -> bool {
        let now = self.raw.now();
        tobira::store::get_as::<tobira::softlock::LockState>(self.raw.store.as_ref(), &key, now)
            .await
            .unwrap()
            .is_some_and(|(s, _)| s.is_locked(now))
    }

    /// Put a class back as it was before its entry (untimed).
    async fn restore(&mut self, flow: Flow, class: usize) {
        match (flow, class) {
            (Flow::Login, 1 | 3 | 4) => {
                let login = [
                    "",
                    "known@bench.jp",
                    "",
                    "disabled@bench.jp",
                    "pending@bench.jp",
                ][class];
                let id = self.user_id(login).await;
                self.delete(keys::lock("login", &id)).await;
            }
            (Flow::Login, 2) => {
                // Keep the user locked: five wrong passwords if it lifted.
                let id = self.user_id("locked@bench.jp").await;
                if self.locked(keys::lock("login", &id)).await {
                    return;
                }
                for _ in 0..5 {
                    let _ = self
                        .raw
                        .login("locked@bench.jp", &pw("Wrong-Pass1"), &self.ctx)
                        .await;
                }
            }
            (Flow::Claim, 1..=4) => {
                self.delete(keys::lock("claim", SIDS[class - 1].0)).await;
            }
            (Flow::Claim, 5) => {
                if self.locked(keys::lock("claim", SIDS[4].0)).await {
                    return;
                }
                for _ in 0..3 {
                    let _ = self
                        .raw
                        .claim(SIDS[4].0, &pw("Wrong-Pass9"), None, &self.ctx)
                        .await;
                }
            }
            (Flow::Forgot, 1 | 2) => {
                let l = LoginId::parse("known@bench.jp").unwrap();
                self.delete(keys::lock("reset", &l.key())).await;
                // One link a minute: forget when the last one went.
                let (mut u, v) = self.raw.user_by_login(&l).await.unwrap().unwrap();
                u.reset_sent_at = None;
                let w = Write::put(keys::user(&u.id), &u, None, Cond::Version(v));
                self.raw.store.write(vec![w], self.raw.now()).await.unwrap();
            }
            _ => {}
        }
    }

    /// One timed entry of `class`; its time and store requests.
    async fn entry(&mut self, flow: Flow, class: usize) -> (Duration, [u64; 4]) {
        self.n += 1;
        let n = self.n;
        self.counts.take();
        let t = start();
        match flow {
            Flow::Login => {
                let (login, password) = match class {
                    0 => (format!("nobody.{n}@bench.jp"), "Tobira-Door42"),
                    1 => ("known@bench.jp".into(), "Wrong-Pass1"),
                    2 => ("locked@bench.jp".into(), "Tobira-Door42"),
                    3 => ("disabled@bench.jp".into(), "Tobira-Door42"),
                    _ => ("pending@bench.jp".into(), "Tobira-Door42"),
                };
                let e = self
                    .timed
                    .login(&login, &pw(password), &self.ctx)
                    .await
                    .unwrap_err();
                assert_eq!(e, tobira::Error::InvalidCredentials);
            }
            Flow::Claim => {
                let (sid, password) = match class {
                    0 => (format!("zz{n:010}"), LEGACY_PW),
                    1..=3 => (SIDS[class - 1].0.to_string(), "Wrong-Pass9"),
                    _ => (SIDS[class - 1].0.to_string(), LEGACY_PW),
                };
                let e = self
                    .timed
                    .claim(&sid, &pw(password), None, &self.ctx)
                    .await
                    .unwrap_err();
                assert!(
                    matches!(
                        (class, &e),
                        (5, tobira::Error::Throttled { .. })
                            | (0..=4, tobira::Error::InvalidCredentials)
                    ),
                    "claim class {class}: {e:?}"
                );
            }
            Flow::Resend => {
                let (login, email) = match class {
                    0 => (
                        format!("nobody.{n}@bench.jp"),
                        format!("nobody.{n}@bench.jp"),
                    ),
                    1 => {
                        self.matches += 1;
                        let m = format!("resend.{}@bench.jp", self.matches);
                        (m.clone(), m)
                    }
                    2 => ("pending@bench.jp".into(), "wrong@bench.jp".into()),
                    _ => ("known@bench.jp".into(), "known@bench.jp".into()),
                };
                self.timed
                    .resend_setup_link(&login, &email, &self.ctx)
                    .await
                    .unwrap();
            }
            Flow::Forgot => {
                let (login, email) = match class {
                    0 => (
                        format!("nobody.{n}@bench.jp"),
                        "nobody@bench.jp".to_string(),
                    ),
                    1 => ("known@bench.jp".into(), "known@bench.jp".into()),
                    _ => ("known@bench.jp".into(), "wrong@bench.jp".into()),
                };
                let f = Forgot {
                    login_id: &login,
                    email: &email,
                    ..Forgot::default()
                };
                self.timed.forgot_password(&f, &self.ctx).await.unwrap();
            }
        }
        let d = t.elapsed();
        (d, self.counts.take())
    }
}

/// The users and legacy accounts of every class; `resend_users` pending
/// users for the resend's matches (one each: one link a minute).
async fn setup(app: &App, ctx: &Ctx, resend_users: usize) {
    support::active_users(
        app,
        ctx,
        &["known@bench.jp", "locked@bench.jp", "disabled@bench.jp"],
    )
    .await;
    let mut records = vec![support::legacy("pending@bench.jp", 100)];
    for i in 0..resend_users {
        records.push(support::legacy(
            &format!("resend.{}@bench.jp", i + 1),
            1000 + i,
        ));
    }
    for (i, (sid, hash)) in SIDS.iter().enumerate() {
        let mut r = support::legacy(&format!("legacy.{i}@bench.jp"), 200 + i);
        r["password_hash"] = json!(hash);
        r["service_ids"] = json!([sid]);
        records.push(r);
    }
    support::migrate(app, ctx, &records).await;
    // Disabled; the second legacy account set up (it has a password).
    for (login, state) in [
        ("disabled@bench.jp", UserState::Disabled),
        ("legacy.3@bench.jp", UserState::Active),
    ] {
        let l = LoginId::parse(login).unwrap();
        let (mut u, v) = app.user_by_login(&l).await.unwrap().unwrap();
        u.state = state;
        if state == UserState::Active {
            u.password_hash = Some(tobira::password::hash(
                &pw("Portal-Gate58"),
                app.rng.as_ref(),
            ));
        }
        let w = Write::put(keys::user(&u.id), &u, None, Cond::Version(v));
        app.store.write(vec![w], app.now()).await.unwrap();
    }
}

fn main() {
    let quick = support::quick();
    let iterations = if quick { 8 } else { 30 };
    let dir = support::temp_dir("enumeration");
    let rt = support::runtime();
    rt.block_on(async {
        let t_all = start();
        let local = support::local(&dir);
        let ctx = support::ctx("enumeration");
        let raw = local.app.clone();
        // The resend's matches: Resend runs `iterations` times at 5 ms.
        setup(&raw, &ctx, iterations + 2).await;
        println!("# Classes of entry that must not tell who exists\n");
        for (flow, delay) in [
            (Flow::Login, ROUND_TRIP),
            (Flow::Claim, ROUND_TRIP),
            (Flow::Claim, Duration::ZERO),
            (Flow::Resend, ROUND_TRIP),
            (Flow::Forgot, ROUND_TRIP),
        ] {
            let counts = Arc::new(Counts::default());
            let timed = App {
                store: Arc::new(Counting {
                    inner: Arc::new(Delayed {
                        inner: raw.store.clone(),
                        delay,
                    }),
                    counts: counts.clone(),
                }),
                ..raw.clone()
            };
            let mut w = World {
                raw: raw.clone(),
                timed,
                counts,
                ctx: ctx.clone(),
                n: 0,
                matches: 0,
            };
            let classes = flow.classes();
            for c in 0..classes.len() {
                w.restore(flow, c).await;
            }
            let mut samples = vec![Vec::new(); classes.len()];
            let mut calls = vec![[0u64; 4]; classes.len()];
            for it in 0..=iterations {
                for k in 0..classes.len() {
                    let c = (it + k) % classes.len();
                    let (d, req) = w.entry(flow, c).await;
                    w.restore(flow, c).await;
                    if it > 0 {
                        samples[c].push(d);
                        add(&mut calls[c], req);
                    }
                }
            }
            println!(
                "## {} — {} ms per store request, {iterations} entries per class\n",
                flow.name(),
                delay.as_millis()
            );
            println!("| class | median ms | p10–p90 ms | gets / queries / writes (items) per entry | P(slower than {}) |", classes[0]);
            println!("|---|---:|---:|---|---:|");
            for (c, label) in classes.iter().enumerate() {
                let s = stats(&samples[c]);
                let k = samples[c].len() as f64;
                let per = |i: usize| calls[c][i] as f64 / k;
                println!(
                    "| {label} | {:.1} | {:.1}–{:.1} | {:.0} / {:.0} / {:.0} ({:.1}) | {:.2} |",
                    ms(s.median),
                    ms(s.p10),
                    ms(s.p90),
                    per(0),
                    per(1),
                    per(2),
                    per(3),
                    p_slower(&samples[c], &samples[0]),
                );
            }
            println!();
        }
        println!("whole run: {:.1} s", t_all.elapsed().as_secs_f64());
    });
    let _ = std::fs::remove_dir_all(&dir);
}
