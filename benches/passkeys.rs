//! Passkey assertion verification (MFA-10) against the embedded SQLite
//! store: as the second step after the password, passwordless, and a
//! refused assertion (no user verification); and the adapter's signature
//! check alone, without the store.
//!
//! What is timed is `App::finish_passkey_sign_in` alone: reading the
//! response, taking the ceremony's state, the user (passwordless: found by
//! the credential's user handle), the LOG-2 counter, the ECDSA P-256
//! verification by webauthn-rs, and the one conditional write that ends the
//! ceremony, moves the credential's counter on and signs in. The ceremony's
//! begin (a write) and the software authenticator's signing
//! (`tobira_test_kit::authenticator`) are prepared right before and not
//! timed; the begin is reported apart as a reference.
//!
//! The store is a SQLite file in a temporary directory, as the local portal
//! opens it, behind a wrapper that counts every store request of the timed
//! call: the domain makes the same calls whatever store is behind the port,
//! so the counts are the DynamoDB requests per assertion.
//!
//! The cases are interleaved one operation at a time, in an order that
//! rotates every iteration. Users rotate; each iteration has successes for
//! every user it touches, which clear the sign-in counter, so the refused
//! assertions never lock anyone (LOG-2).
//!
//! `cargo bench --bench passkeys` (5,000 of each case after a warm-up);
//! `cargo bench --bench passkeys -- --quick` (200 of each).

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tobira::clock::{Clock, SystemClock};
use tobira::config::RelyingParty;
use tobira::random::OsRandom;
use tobira::session::Stage;
use tobira::webauthn::Ceremonies;
use tobira::{App, Ctx, Error};
use tobira_test_kit::authenticator::SoftAuthenticator;
use tobira_test_kit::{ManualClock, MemoryOutbox};

#[allow(dead_code)]
mod support;
use support::{add, percentile, start, Counting, Counts};

/// Users; the iterations go round them.
const USERS: usize = 20;
const ORIGIN: &str = "https://portal.example.com";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    SecondStep,
    Passwordless,
    Refused,
}

const CASES: [Case; 3] = [Case::SecondStep, Case::Passwordless, Case::Refused];

impl Case {
    fn label(self) -> &'static str {
        match self {
            Case::SecondStep => "second step: right",
            Case::Passwordless => "passwordless: right",
            Case::Refused => "second step: no UV",
        }
    }
}

#[derive(Default, Clone)]
struct Samples {
    times: Vec<Duration>,
    calls: [u64; 4],
}

struct Prepared {
    case: Case,
    session: Option<String>,
    assertion: Value,
}

struct Bench {
    app: App,
    ctx: Ctx,
    counts: Arc<Counts>,
    users: Vec<(tobira::model::User, SoftAuthenticator)>,
    begins: Samples,
}

impl Bench {
    async fn prepare(&mut self, case: Case, i: usize) -> Prepared {
        let (user, auth) = &mut self.users[i % USERS];
        let session = match case {
            Case::Passwordless => None,
            _ => {
                let (token, w) = self.app.new_session(user, Stage::Mfa);
                self.app
                    .store
                    .write(vec![w], self.app.now())
                    .await
                    .expect("session");
                Some(token)
            }
        };
        self.counts.take();
        let t = start();
        let options = self
            .app
            .begin_passkey_sign_in(session.as_deref(), None, false)
            .await
            .expect("begin");
        self.begins.times.push(t.elapsed());
        add(&mut self.begins.calls, self.counts.take());
        let assertion = if case == Case::Refused {
            auth.clone().user_verifying(false).assert(&options)
        } else {
            auth.assert(&options)
        }
        .expect("an assertion");
        Prepared {
            case,
            session,
            assertion,
        }
    }

    async fn once(&self, p: &Prepared) -> (Duration, [u64; 4]) {
        self.counts.take();
        let t = start();
        let r = self
            .app
            .finish_passkey_sign_in(p.session.as_deref(), &p.assertion, false, &self.ctx)
            .await;
        let elapsed = t.elapsed();
        let calls = self.counts.take();
        match (p.case, r) {
            (Case::Refused, Err(Error::InvalidCredentials)) => {}
            (Case::SecondStep | Case::Passwordless, Ok(a)) => {
                assert!(matches!(a.stage, Stage::Terms | Stage::Full))
            }
            (case, other) => panic!("{}: unexpected {other:?}", case.label()),
        }
        (elapsed, calls)
    }
}

async fn setup(dir: &std::path::Path, counts: Arc<Counts>) -> Bench {
    let sqlite = support::open_store(dir);
    let mut config = support::config();
    config.factors.passkeys = true;
    config.factors.passwordless = true;
    config.factors.relying_party = Some(RelyingParty {
        id: "portal.example.com".into(),
        origin: ORIGIN.into(),
    });
    let ceremonies = tobira_passkeys::from_config(&config).expect("relying party");
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
        ceremonies,
        clock: Arc::new(ManualClock::new(SystemClock.now())),
        rng: Arc::new(OsRandom),
    };
    let ctx = support::ctx("passkeys");
    let ids: Vec<String> = (0..USERS)
        .map(|i| format!("bench.passkey.{i}@example.co.jp"))
        .collect();
    let (pw, _) = support::active_users(&app, &ctx, &ids).await;
    let mut users = Vec::new();
    for id in &ids {
        // SET-4: the passkey as the first factor.
        let s = app.login(id, &pw, &ctx).await.expect("login");
        assert_eq!(s.stage, Stage::Enroll);
        let token = Some(s.session.as_str());
        let options = app
            .begin_passkey_registration(token, None, None, &ctx)
            .await
            .expect("begin registration");
        let mut auth = SoftAuthenticator::new(ORIGIN);
        let credential = auth.register(&options);
        let done = app
            .finish_passkey_registration(token, &credential, &ctx)
            .await
            .expect("register");
        assert_eq!(done.next, "confirm_recovery_codes");
        app.acknowledge_recovery_codes(token, &ctx)
            .await
            .expect("acknowledge");
        let login = tobira::ids::LoginId::parse(id).expect("login ID");
        let user = app
            .user_by_login(&login)
            .await
            .expect("store")
            .expect("user")
            .0;
        users.push((user, auth));
    }
    Bench {
        app,
        ctx,
        counts,
        users,
        begins: Samples::default(),
    }
}

/// The adapter alone: one assertion, checked again and again against its
/// state and credential (no store, no ceremony taken).
fn verify_only(n: usize) -> Samples {
    let w = tobira_passkeys::WebAuthn::new("portal.example.com", ORIGIN, "bench").expect("rp");
    let mut auth = SoftAuthenticator::new(ORIGIN);
    let reg = w
        .start_registration(&[7; 16], "u", "U", &[])
        .expect("start registration");
    let credential = auth.register(&reg.options);
    let registered = w
        .finish_registration(&credential, &reg.state)
        .expect("register");
    let started = w
        .start_assertion(std::slice::from_ref(&registered.credential))
        .expect("start assertion");
    let assertion = auth.assert(&started.options).expect("assertion");
    let mut s = Samples::default();
    for _ in 0..n {
        let t = start();
        let v = w
            .finish_assertion(&assertion, &started.state, &registered.credential)
            .expect("verifies");
        s.times.push(t.elapsed());
        assert!(v.user_verified);
    }
    s
}

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
    println!(
        "{:<26} {:>6} {:>7.0} {:>7.1} {:>6.1} {:>6.1} {:>6.1} {:>7.2}   {:>4.1} {:>4.1} {:>5.1} {:>5.1}",
        label,
        n,
        n as f64 / total.as_secs_f64(),
        us(mean),
        us(percentile(&t, 0.5)),
        us(percentile(&t, 0.9)),
        us(percentile(&t, 0.99)),
        us(t[n - 1]) / 1e3,
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
        (2 * USERS, 5_000)
    };
    let dir = support::temp_dir("passkeys");
    let rt = support::runtime();
    let wall = start();
    let (samples, begins) = rt.block_on(async {
        let counts = Arc::new(Counts::default());
        let mut b = setup(&dir, counts).await;
        let mut samples: Vec<Samples> = vec![Samples::default(); CASES.len()];
        for it in 0..warmup + n {
            let mut prepared = Vec::with_capacity(CASES.len());
            for k in 0..CASES.len() {
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
                b.begins = Samples::default();
            }
        }
        (samples, b.begins)
    });
    let verify = verify_only(n);
    let wall = wall.elapsed();
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "passkeys bench: {n} assertions per case, interleaved, after {warmup} warm-up iteration(s){}",
        if quick { " (--quick)" } else { "" }
    );
    println!("store: SQLite file, WAL (tobira_local::sqlite::SqliteStore::open), temp dir");
    println!("timed: App::finish_passkey_sign_in alone, one at a time; ES256 (P-256) credentials,");
    println!("       signature counter on; {USERS} users; ops/s = n / total time; times in microseconds\n");
    println!(
        "{:<26} {:>6} {:>7} {:>7} {:>6} {:>6} {:>6} {:>7}   {:>4} {:>4} {:>5} {:>5}",
        "case", "n", "ops/s", "mean", "p50", "p90", "p99", "max ms", "get", "qry", "write", "items"
    );
    for (i, case) in CASES.iter().enumerate() {
        row(case.label(), &samples[i]);
    }
    println!();
    row("(ref) begin (any case)", &begins);
    row("(ref) webauthn-rs verify", &verify);
    println!(
        "\nstore requests per operation (get, query, atomic write, items written): the same against DynamoDB"
    );
    println!("whole run incl. setup: {:.1} s", wall.as_secs_f64());
}
