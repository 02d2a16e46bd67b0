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

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tobira::adapters::sqlite::SqliteStore;
use tobira::i18n::Lang;
use tobira::ids::{LoginId, Password};
use tobira::model::{keys, UserState};
use tobira::store::{Cond, Write};
use tobira::{App, Config, Ctx, Error};
use tobira_local::Local;

const PASSWORD: &str = "Tobira-Door42";
const WRONG: &str = "Tobira-Door43";
const USER: &str = "bench.user@example.co.jp";
const LOCKED_USER: &str = "bench.locked@example.co.jp";
const UNKNOWN_USER: &str = "nobody.here@example.co.jp";

/// A benchmark measures wall time: the one reason to read the clock here.
#[allow(clippy::disallowed_methods)]
fn start() -> Instant {
    Instant::now()
}

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

/// A fresh directory under the system's temporary directory.
fn temp_dir() -> PathBuf {
    let base = std::env::temp_dir();
    for n in 0u32.. {
        let dir = base.join(format!("tobira-bench-login-{}-{n}", std::process::id()));
        if std::fs::create_dir(&dir).is_ok() {
            return dir;
        }
    }
    unreachable!()
}

fn legacy(login_id: &str, ecid: &str, name: &str) -> serde_json::Value {
    json!({
        "login_id": login_id,
        "ecid": ecid,
        "email": login_id,
        "name": name,
        "phone": "0312345678",
        "tenant_id": "econ9000000001",
        "role": "general",
    })
}

/// Migrate a legacy record, then give the user a password and make it
/// active, as the first-login setup (SET-3) would.
async fn active_user(app: &App, login_id: &str, hash: &str) {
    let login = LoginId::parse(login_id).expect("valid login ID");
    let (mut user, v) = app
        .user_by_login(&login)
        .await
        .expect("store")
        .expect("migrated user");
    let now = app.now();
    user.state = UserState::Active;
    user.password_hash = Some(hash.to_string());
    user.password_set_at = Some(now);
    user.setup_token_hash = None;
    user.updated_at = now;
    app.store
        .write(
            vec![Write::put(
                keys::user(&user.id),
                &user,
                None,
                Cond::Version(v),
            )],
            now,
        )
        .await
        .expect("activate user");
}

async fn setup(dir: &std::path::Path) -> Bench {
    let store = Arc::new(SqliteStore::open(&dir.join("tobira.db")).expect("open sqlite store"));
    let local = Local::with_store(store, Config::local("http://127.0.0.1:3000"));
    let app = local.app;
    let ctx = Ctx {
        ip: "127.0.0.1".into(),
        user_agent: "benches/login.rs".into(),
        lang: Lang::En,
    };
    let records = [
        legacy(USER, "ecid9000000001", "Bench User"),
        legacy(LOCKED_USER, "ecid9000000002", "Bench Locked"),
    ];
    let imported = app.import(&records, &ctx).await.expect("import");
    assert_eq!(imported.counts.staged, 2, "import: {:?}", imported.counts);
    let applied = app
        .apply(&tobira::migration::ApplyOptions::default(), &ctx)
        .await
        .expect("apply");
    assert_eq!(
        applied.counts.migrated + applied.counts.phone_normalised,
        2,
        "apply: {:?}",
        applied.counts
    );

    let pw = Password::parse(PASSWORD).expect("valid password");
    let wrong = Password::parse(WRONG).expect("valid password");
    let hash = tobira::password::hash(&pw, app.rng.as_ref());
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    active_user(&app, USER, &hash).await;
    active_user(&app, LOCKED_USER, &hash).await;

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

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    // `cargo bench` passes `--bench`; anything but `--quick` is ignored.
    let quick = std::env::args().any(|a| a == "--quick");
    let (warmup, rounds, per_round) = if quick { (1, 3, 3) } else { (2, 10, 10) };

    let dir = temp_dir();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
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

    let stats: Vec<(Duration, Duration, Duration)> = samples
        .iter()
        .map(|s| {
            let mut s = s.clone();
            s.sort();
            (
                percentile(&s, 0.5),
                percentile(&s, 0.1),
                percentile(&s, 0.9),
            )
        })
        .collect();
    let bare = stats[0].0;
    let success = stats[1].0;
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
    println!("store: SQLite file, WAL (tobira::adapters::sqlite::SqliteStore::open), temp dir");
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
            ms(st.0),
            ms(st.1),
            ms(st.2),
            st.0.as_secs_f64() / bare.as_secs_f64(),
            st.0.as_secs_f64() / success.as_secs_f64(),
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
