//! What a password sign-in costs next to the argon2id verification inside it.
//!
//! The login step (`App::login`) against the embedded SQLite store — a file
//! in a temporary directory, WAL journal, wired exactly as the local portal
//! wires it (`tobira_local::Local::with_store`) — is timed against one bare
//! `tobira::password::verify` of the same PHC hash (argon2id, m = 19 MiB,
//! t = 2, p = 1). The goal: a successful login costs at most 1.1× the bare
//! verification, and every refusal (wrong password, unknown login ID, locked
//! account) costs about what a success costs (LOG-3).
//!
//! The cases are interleaved one operation at a time, in an order that
//! rotates every iteration, so clock-speed drift, a busy neighbour or a cache
//! that warms up shift all of them alike. Every operation is timed on its
//! own; the table gives the median (and p10/p90) over all of them, the
//! ratios median over median, and the paired column the median of (this
//! case − the bare verification of the same iteration): the store and
//! session cost of a login, which is far below the spread of argon2 itself.
//!
//! `cargo bench --bench login` (10 rounds × 10 of each case after a
//! warm-up); `cargo bench --bench login -- --quick` (3 rounds × 3).

use std::time::Duration;

use tobira::ids::Password;
use tobira::{App, Ctx, Error};

#[allow(dead_code)]
mod support;
use support::{ms, start, stats, Stats};

const WRONG: &str = "Tobira-Door43";
const USER: &str = "bench.user@example.co.jp";
const LOCKED_USER: &str = "bench.locked@example.co.jp";
const UNKNOWN_USER: &str = "nobody.here@example.co.jp";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    Bare,
    Success,
    WrongPassword,
    UnknownUser,
    Locked,
}

const CASES: [Case; 5] = [
    Case::Bare,
    Case::Success,
    Case::WrongPassword,
    Case::UnknownUser,
    Case::Locked,
];

impl Case {
    fn label(self) -> &'static str {
        match self {
            Case::Bare => "bare argon2id verify",
            Case::Success => "login: success",
            Case::WrongPassword => "login: wrong password",
            Case::UnknownUser => "login: unknown login ID",
            Case::Locked => "login: locked account",
        }
    }
}

struct Bench {
    app: App,
    ctx: Ctx,
    hash: String,
    pw: Password,
    wrong: Password,
}

impl Bench {
    /// Run one operation of a case, check its outcome, return its time.
    async fn once(&self, case: Case) -> Duration {
        let t = start();
        let outcome = match case {
            Case::Bare => {
                let ok = tobira::password::verify(&self.hash, &self.pw);
                let elapsed = t.elapsed();
                assert!(ok, "bare verification refused the right password");
                return elapsed;
            }
            Case::Success => self.app.login(USER, &self.pw, &self.ctx).await,
            Case::WrongPassword => self.app.login(USER, &self.wrong, &self.ctx).await,
            Case::UnknownUser => self.app.login(UNKNOWN_USER, &self.pw, &self.ctx).await,
            // The right password: a locked account refuses even that.
            Case::Locked => self.app.login(LOCKED_USER, &self.pw, &self.ctx).await,
        };
        let elapsed = t.elapsed();
        match (case, outcome) {
            (Case::Success, Ok(_)) => {}
            (Case::Success, Err(e)) => panic!("login failed: {e:?}"),
            (_, Err(Error::InvalidCredentials)) => {}
            (_, other) => panic!(
                "{}: expected InvalidCredentials, got {other:?}",
                case.label()
            ),
        }
        elapsed
    }
}

async fn setup(dir: &std::path::Path) -> Bench {
    let app = support::local(dir).app;
    let ctx = support::ctx("login");
    // Two legacy records imported and applied, then made active with the
    // same password hash.
    let (pw, hash) = support::active_users(&app, &ctx, &[USER, LOCKED_USER]).await;
    let wrong = Password::parse(WRONG).expect("valid password");
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );

    // LOG-2: lock the second account with wrong passwords (5 by default).
    for _ in 0..app.config.login_lock.max_failures {
        let r = app.login(LOCKED_USER, &wrong, &ctx).await;
        assert!(matches!(r, Err(Error::InvalidCredentials)), "{r:?}");
    }
    Bench {
        app,
        ctx,
        hash,
        pw,
        wrong,
    }
}

fn main() {
    let quick = support::quick();
    let (warmup, rounds, per_round) = if quick { (1, 3, 3) } else { (2, 10, 10) };

    let dir = support::temp_dir("login");
    let rt = support::runtime();
    let samples = rt.block_on(async {
        let b = setup(&dir).await;
        // The refusal paths' dummy hash is made on first use: warm-ups take it.
        for i in 0..warmup * CASES.len() {
            b.once(CASES[i % CASES.len()]).await;
        }
        let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); CASES.len()];
        let mut n = 0usize;
        for _ in 0..rounds {
            for _ in 0..per_round {
                // Rotate the order each iteration. Every iteration has one
                // success, which clears the wrong-password counter, so the
                // user is never locked by the benchmark itself (at most two
                // failures in a row, the limit is five).
                for k in 0..CASES.len() {
                    let idx = (n + k) % CASES.len();
                    samples[idx].push(b.once(CASES[idx]).await);
                }
                n += 1;
            }
        }
        samples
    });
    let _ = std::fs::remove_dir_all(&dir);

    let stats: Vec<Stats> = samples.iter().map(|s| stats(s)).collect();
    let bare = stats[0].median;
    let success = stats[1].median;
    // Paired: each case's time minus the bare verification of the same
    // iteration, median over iterations (signed, ms). Less noisy than the
    // difference of two medians for a cost this small next to argon2.
    let paired: Vec<f64> = samples
        .iter()
        .map(|s| {
            let mut d: Vec<f64> = s
                .iter()
                .zip(&samples[0])
                .map(|(x, b)| ms(*x) - ms(*b))
                .collect();
            d.sort_by(f64::total_cmp);
            d[d.len() / 2]
        })
        .collect();

    println!(
        "login bench: {rounds} rounds x {per_round} per case, interleaved, after {warmup} warm-up(s){}",
        if quick { " (--quick)" } else { "" }
    );
    println!("store: SQLite file, WAL (tobira_local::sqlite::SqliteStore::open), temp dir");
    println!("argon2id m=19456 KiB, t=2, p=1\n");
    println!(
        "{:<26} {:>5} {:>11} {:>9} {:>9} {:>7} {:>9} {:>16}",
        "case", "n", "median ms", "p10 ms", "p90 ms", "x bare", "x success", "paired -bare ms"
    );
    for (i, case) in CASES.iter().enumerate() {
        let st = stats[i];
        println!(
            "{:<26} {:>5} {:>11.2} {:>9.2} {:>9.2} {:>7.3} {:>9.3} {:>+16.3}",
            case.label(),
            samples[i].len(),
            ms(st.median),
            ms(st.p10),
            ms(st.p90),
            st.median.as_secs_f64() / bare.as_secs_f64(),
            st.median.as_secs_f64() / success.as_secs_f64(),
            paired[i],
        );
    }
    let ratio = success.as_secs_f64() / bare.as_secs_f64();
    let overhead = paired[1];
    println!(
        "\nlogin / bare argon2 = {ratio:.3} (store and session overhead, paired median {overhead:+.3} ms); goal <= 1.100: {}",
        if ratio <= 1.1 { "met" } else { "NOT met" }
    );
}
