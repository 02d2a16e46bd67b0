//! Issue 17 item 2: the sign-in as it runs against DynamoDB — every store
//! request waits a fixed 5 ms (in-region DynamoDB), requests issued together
//! wait together — next to one bare argon2id verification. Reports p50/p90
//! per flow and the ratio of a sign-in to argon2 + 3 round trips (the
//! minimal: the login ID, the user and the counter at once, the counter's
//! write; the goal is ≤ 1.1).
//!
//! The store is the embedded SQLite store behind a wrapper that sleeps
//! 5 ms (tokio's timer: each sleep ends on the next millisecond, so a
//! request costs 5–6 ms here) before each request, and the counting store
//! (`tobira_test_kit::Counting`) for the rounds. One sign-in at a time.
//!
//! `cargo bench --bench latency` (40 of each, interleaved);
//! `cargo bench --bench latency -- --quick` (8 of each).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tobira::clock::Timestamp;
use tobira::ids::Password;
use tobira::store::{Item, Key, Query, Store, StoreError, Write};
use tobira::App;

#[allow(dead_code)]
mod support;
use support::{ms, start, stats, Counting, Counts};

const ROUND_TRIP: Duration = Duration::from_millis(5);
const USER: &str = "latency.user@example.co.jp";
const NOBODY: &str = "nobody.latency@example.co.jp";

/// The store port with 5 ms before every request (asleep, so requests
/// issued together overlap).
struct Distant {
    inner: Arc<dyn Store>,
}

#[async_trait]
impl Store for Distant {
    async fn get(&self, key: &Key, now: Timestamp) -> Result<Option<Item>, StoreError> {
        tokio::time::sleep(ROUND_TRIP).await;
        self.inner.get(key, now).await
    }
    async fn get_many(
        &self,
        keys: &[Key],
        now: Timestamp,
    ) -> Result<Vec<Option<Item>>, StoreError> {
        tokio::time::sleep(ROUND_TRIP).await;
        self.inner.get_many(keys, now).await
    }
    async fn query(&self, q: &Query, now: Timestamp) -> Result<Vec<Item>, StoreError> {
        tokio::time::sleep(ROUND_TRIP).await;
        self.inner.query(q, now).await
    }
    async fn write(&self, writes: Vec<Write>, now: Timestamp) -> Result<(), StoreError> {
        tokio::time::sleep(ROUND_TRIP).await;
        self.inner.write(writes, now).await
    }
    async fn increment(&self, key: &Key, now: Timestamp) -> Result<u64, StoreError> {
        tokio::time::sleep(ROUND_TRIP).await;
        self.inner.increment(key, now).await
    }
}

const FLOWS: [&str; 4] = [
    "bare argon2id verification",
    "sign-in, right password",
    "sign-in, wrong password",
    "sign-in, login ID nobody holds",
];

fn main() {
    let n = if support::quick() { 8 } else { 40 };
    let dir = support::temp_dir("latency");
    let rt = support::runtime();
    let (samples, rounds) = rt.block_on(async {
        let raw = support::local(&dir).app;
        let ctx = support::ctx("latency");
        let (pw, hash) = support::active_users(&raw, &ctx, &[USER]).await;
        let wrong = Password::parse("Tobira-Door43").expect("valid");
        let counts = Arc::new(Counts::default());
        let app = App {
            store: Arc::new(Counting {
                inner: Arc::new(Distant {
                    inner: raw.store.clone(),
                }),
                counts: counts.clone(),
            }),
            ..raw.clone()
        };
        let mut samples = vec![Vec::new(); FLOWS.len()];
        let mut rounds = vec![0u64; FLOWS.len()];
        for i in 0..=n {
            for k in 0..FLOWS.len() {
                let f = (i + k) % FLOWS.len();
                counts.take_depth();
                let t = start();
                match f {
                    0 => {
                        let ok = tobira::password::verify_off_thread(&hash, &pw).await;
                        assert!(ok);
                    }
                    1 => {
                        app.login(USER, &pw, &ctx).await.expect("signed in");
                    }
                    2 => {
                        app.login(USER, &wrong, &ctx).await.unwrap_err();
                    }
                    _ => {
                        app.login(NOBODY, &wrong, &ctx).await.unwrap_err();
                    }
                }
                let took = t.elapsed();
                if i > 0 {
                    samples[f].push(took);
                    rounds[f] = counts.take_depth();
                }
            }
        }
        (samples, rounds)
    });
    let throughput = throughput(&dir, n);
    let _ = std::fs::remove_dir_all(&dir);
    let s: Vec<_> = samples.iter().map(|x| stats(x)).collect();
    let floor = ms(s[0].median) + 3.0 * ms(ROUND_TRIP);
    println!("latency bench: {n} of each, interleaved; 5 ms per store request (sleeps end on the next ms)\n");
    println!("| flow | sequential store requests | p50 ms | p90 ms | p50 / (argon2 + 3 × 5 ms) |");
    println!("|---|---:|---:|---:|---:|");
    for (f, name) in FLOWS.iter().enumerate() {
        let ratio = if f == 0 {
            String::from("—")
        } else {
            format!("{:.2}", ms(s[f].median) / floor)
        };
        println!(
            "| {name} | {} | {:.1} | {:.1} | {ratio} |",
            if f == 0 {
                "0".to_string()
            } else {
                rounds[f].to_string()
            },
            ms(s[f].median),
            ms(s[f].p90),
        );
    }
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    println!(
        "\n{} at once on {cores} cores (multi-threaded runtime, argon2 on the blocking pool): {:.1} sign-ins/s ({:.1} per core), bare argon2id {:.1}/s ({:.1} per core): {:.0} % of the argon2 limit\n",
        throughput.0,
        throughput.1,
        throughput.1 / cores as f64,
        throughput.2,
        throughput.2 / cores as f64,
        100.0 * throughput.1 / throughput.2,
    );
}

/// Issue 17 item 6: sign-ins per second with `n` at once on a runtime with
/// a worker per core (the local portal's shape), against the same number of
/// bare verifications at once: (n, sign-ins/s, verifications/s).
fn throughput(dir: &std::path::Path, n: usize) -> (usize, f64, f64) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let raw = support::local(dir).app;
        let ctx = support::ctx("latency");
        let pw = Password::parse("Tobira-Door42").expect("valid");
        let hash = tobira::password::hash(&pw, raw.rng.as_ref());
        let app = App {
            store: Arc::new(Distant {
                inner: raw.store.clone(),
            }),
            ..raw.clone()
        };
        let wrong = Password::parse("Tobira-Door43").expect("valid");
        // Wrong passwords for a login ID nobody holds: no lock to reach.
        let t = start();
        let mut tasks = Vec::new();
        for i in 0..n {
            let (app, ctx, wrong) = (app.clone(), ctx.clone(), wrong.clone());
            tasks.push(tokio::spawn(async move {
                let login = format!("nobody{i}@example.co.jp");
                app.login(&login, &wrong, &ctx).await.unwrap_err();
            }));
        }
        for t in tasks {
            t.await.expect("sign-in task");
        }
        let sign_ins = n as f64 / t.elapsed().as_secs_f64();
        let t = start();
        let mut tasks = Vec::new();
        for _ in 0..n {
            let (hash, pw) = (hash.clone(), pw.clone());
            tasks.push(tokio::spawn(async move {
                tobira::password::verify_off_thread(&hash, &pw).await;
            }));
        }
        for t in tasks {
            t.await.expect("verification task");
        }
        let bare = n as f64 / t.elapsed().as_secs_f64();
        (n, sign_ins, bare)
    })
}
