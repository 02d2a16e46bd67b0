//! What the benchmarks share: the clock, the command line, a temporary
//! directory with the embedded SQLite store, a store wrapper that counts
//! requests, active users to sign in with, and the order statistics.
//!
//! Included by every bench as `mod support;` (a file under `benches/support/`
//! is no bench target of its own). Not every bench uses every item, hence
//! the `#[allow(dead_code)]` on each include.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tobira::ids::{LoginId, Password};
use tobira::model::{keys, UserState};
use tobira::store::{Cond, Write};
use tobira::{App, Config, Ctx};
use tobira_local::sqlite::SqliteStore;
use tobira_local::Local;
use tobira_web::i18n::Lang;

/// The password of every benchmark user.
const PASSWORD: &str = "Tobira-Door42";
/// The contract of every benchmark user.
pub const TENANT: &str = "econ9000000001";

/// A benchmark measures wall time: the one reason to read the clock here.
#[allow(clippy::disallowed_methods)]
pub fn start() -> Instant {
    Instant::now()
}

/// `--quick` on the command line (`cargo bench --bench NAME -- --quick`).
/// `cargo bench` passes `--bench`; anything but `--quick` is ignored.
pub fn quick() -> bool {
    std::env::args().any(|a| a == "--quick")
}

/// A single-threaded tokio runtime: one operation at a time.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

// ------------------------------------------------------------------- store

/// A fresh directory under the system's temporary directory.
pub fn temp_dir(bench: &str) -> PathBuf {
    let base = std::env::temp_dir();
    for n in 0u32.. {
        let dir = base.join(format!("tobira-bench-{bench}-{}-{n}", std::process::id()));
        if std::fs::create_dir(&dir).is_ok() {
            return dir;
        }
    }
    unreachable!()
}

/// The embedded SQLite store in `dir`, as the local portal opens it (a
/// file, WAL journal).
pub fn open_store(dir: &Path) -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open(&dir.join("tobira.db")).expect("open sqlite store"))
}

/// The local portal's configuration.
pub fn config() -> Config {
    Config::local("http://127.0.0.1:3000")
}

/// The local portal on the SQLite store in `dir`, wired as
/// `tobira_local` wires it.
pub fn local(dir: &Path) -> Local {
    Local::with_store(open_store(dir), config(), dir.join("files"))
}

/// Who asks: the local machine, in English, the bench as user agent.
pub fn ctx(bench: &str) -> Ctx {
    Ctx {
        ip: "127.0.0.1".into(),
        user_agent: format!("benches/{bench}.rs"),
        lang: Lang::En,
    }
}

// ---------------------------------------------------------------- counting

#[allow(unused_imports)] // not every bench counts
pub use tobira_test_kit::{Counting, Counts};

/// Add counts from [`Counts::take`] to a sum.
pub fn add(into: &mut [u64; 4], c: [u64; 4]) {
    for (a, b) in into.iter_mut().zip(c) {
        *a += b;
    }
}

// ------------------------------------------------------------------- users

/// The `n`-th legacy record of a benchmark, its e-mail the login ID.
pub fn legacy(login_id: &str, n: usize) -> serde_json::Value {
    json!({
        "login_id": login_id,
        "ecid": format!("ecid{:010}", 9_000_000_000u64 + n as u64),
        "email": login_id,
        "name": format!("Bench User {n}"),
        "phone": "0312345678",
        "tenant_id": TENANT,
        "role": "general",
    })
}

/// Give a migrated user a password and make it active, as the first-login
/// setup (SET-3) would.
pub async fn active_user(app: &App, login_id: &str, hash: &str) {
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

/// Import legacy records and apply them all (`import`, `apply`): every
/// record becomes a user pending setup.
pub async fn migrate(app: &App, ctx: &Ctx, records: &[serde_json::Value]) {
    let imported = app.import(records, ctx).await.expect("import");
    assert_eq!(
        imported.counts.staged as usize,
        records.len(),
        "import: {:?}",
        imported.counts
    );
    let mut migrated = 0;
    for _ in 0..1000 {
        let r = app
            .apply(&tobira::migration::ApplyOptions::default(), ctx)
            .await
            .expect("apply");
        migrated += r.counts.migrated as usize;
        if r.complete {
            break;
        }
    }
    assert_eq!(migrated, records.len(), "apply");
}

/// Import a legacy record for each login ID, apply them all, then make
/// every user active with the one password (argon2id,
/// `tobira::password::hash`). Returns the password and its PHC hash.
pub async fn active_users<S: AsRef<str>>(app: &App, ctx: &Ctx, ids: &[S]) -> (Password, String) {
    let records: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| legacy(id.as_ref(), n))
        .collect();
    migrate(app, ctx, &records).await;
    let pw = Password::parse(PASSWORD).expect("valid password");
    let hash = tobira::password::hash(&pw, app.rng.as_ref());
    for id in ids {
        active_user(app, id.as_ref(), &hash).await;
    }
    (pw, hash)
}

// ------------------------------------------------------------------ figures

/// The `p`-quantile (0 to 1) of sorted samples, nearest rank.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Median, p10 and p90 of a case's samples.
#[derive(Clone, Copy)]
pub struct Stats {
    pub median: Duration,
    pub p10: Duration,
    pub p90: Duration,
}

pub fn stats(s: &[Duration]) -> Stats {
    let mut s = s.to_vec();
    s.sort();
    Stats {
        median: percentile(&s, 0.5),
        p10: percentile(&s, 0.1),
        p90: percentile(&s, 0.9),
    }
}

/// The chance that a sample of `x` is slower than one of `y`, over all
/// pairs, ties counting half (the Mann-Whitney U over the pairs, i.e. the
/// area under the ROC curve of telling `x` from `y` by time): 0.5 when the
/// time tells nothing, 1.0 when every `x` is slower than every `y`.
pub fn p_slower(x: &[Duration], y: &[Duration]) -> f64 {
    let mut wins = 0.0;
    for a in x {
        for b in y {
            wins += match a.cmp(b) {
                std::cmp::Ordering::Greater => 1.0,
                std::cmp::Ordering::Equal => 0.5,
                std::cmp::Ordering::Less => 0.0,
            };
        }
    }
    wins / (x.len() * y.len()) as f64
}
