//! Issue 17 item 4: a 1,000,000-user migration on on-demand DynamoDB,
//! simulated. 100,000 synthetic users in realistic tenant sizes (one
//! customer of 20,000, four of 5,000, thirty of 1,000, a hundred of 200,
//! four hundred of 25) go through the domain calls `migrate-batch` makes:
//! `import` in events of 1,000, `apply-chunks`, then every chunk applied by
//! 40 concurrent workers — what `MigrateStateMachine` does. The store
//! behind (the in-memory one) answers each request after 5 ms (in-region
//! DynamoDB; requests issued together wait together) and counts, per
//! partition key, the write units on-demand DynamoDB bills (a write of up
//! to 1 KB is one; each item of a transaction two).
//!
//! The capacity model then bounds each phase three ways and takes the
//! largest: the simulated time (latency and concurrency), the table's write
//! rate (4,000 write units a second for a new on-demand table, or a warm
//! throughput), and the busiest partition key at 1,000 write units a second
//! (before DynamoDB splits it). Every figure is extrapolated ×10 to
//! 1,000,000 users (the largest customer then has 200,000). The run checks
//! that every record was migrated once.
//!
//! `cargo bench --bench migration_scale`; `-- --quick` for 10,000 users.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};
use tobira::clock::Timestamp;
use tobira::store::{Item, Key, Query, Store, StoreError, Write};
use tobira::{App, Config, Ctx};
use tobira_test_kit::MemoryStore;

#[allow(dead_code)]
mod support;
use support::start;

/// Concurrent workers: the template's `MigrateConcurrency` at its most
/// (`TOBIRA_BENCH_WORKERS` for another figure).
fn workers() -> usize {
    std::env::var("TOBIRA_BENCH_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}
/// One store request, as in-region DynamoDB answers it.
const LATENCY: Duration = Duration::from_millis(5);
/// Records per apply chunk (the template's `MigrateChunkRecords`).
const CHUNK: usize = 500;
/// What DynamoDB gives one partition key before it splits it.
const PARTITION_WRU: f64 = 1_000.0;

/// Tenant sizes: (how many tenants, users each).
const TENANTS: [(usize, usize); 5] = [(1, 20_000), (4, 5_000), (30, 1_000), (100, 200), (400, 25)];

/// The store with a fixed latency and the write units of each partition.
struct Simulated {
    inner: Arc<dyn Store>,
    wru: Mutex<HashMap<String, u64>>,
    requests: AtomicU64,
}

fn units(bytes: usize, per: usize) -> u64 {
    bytes.div_ceil(per).max(1) as u64
}

impl Simulated {
    async fn wait(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(LATENCY).await;
    }
    fn count(&self, writes: &[Write]) {
        let size = |w: &Write| match w {
            Write::Put { key, data, .. } => key.pk.len() + key.sk.len() + data.len() + 40,
            _ => 0,
        };
        let single = writes.len() == 1 && !matches!(writes[0], Write::Check { .. });
        let mut by = self.wru.lock().unwrap();
        for w in writes {
            let u = if single { 1 } else { 2 } * units(size(w), 1024);
            *by.entry(w.key().pk.clone()).or_default() += u;
        }
    }
    /// What the phase `name`, begun at `began`, did; counting starts again.
    fn phase(&self, name: &'static str, began: std::time::Instant) -> Phase {
        let by = std::mem::take(&mut *self.wru.lock().unwrap());
        let wru = by.values().sum();
        let (hottest_pk, hottest) = by.into_iter().max_by_key(|(_, u)| *u).unwrap_or_default();
        Phase {
            name,
            seconds: began.elapsed().as_secs_f64(),
            requests: self.requests.swap(0, Ordering::Relaxed),
            wru,
            hottest,
            hottest_pk,
        }
    }
}

#[async_trait]
impl Store for Simulated {
    async fn get(&self, key: &Key, now: Timestamp) -> Result<Option<Item>, StoreError> {
        self.wait().await;
        self.inner.get(key, now).await
    }
    async fn get_many(
        &self,
        keys: &[Key],
        now: Timestamp,
    ) -> Result<Vec<Option<Item>>, StoreError> {
        self.wait().await;
        self.inner.get_many(keys, now).await
    }
    async fn query(&self, q: &Query, now: Timestamp) -> Result<Vec<Item>, StoreError> {
        self.wait().await;
        self.inner.query(q, now).await
    }
    async fn write(&self, writes: Vec<Write>, now: Timestamp) -> Result<(), StoreError> {
        self.wait().await;
        self.count(&writes);
        self.inner.write(writes, now).await
    }
    async fn increment(&self, key: &Key, now: Timestamp) -> Result<u64, StoreError> {
        self.wait().await;
        self.count(&[Write::Check {
            key: key.clone(),
            cond: tobira::store::Cond::Any,
        }]);
        self.inner.increment(key, now).await
    }
}

fn synthetic(scale: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut i = 0usize;
    for (t, (count, size)) in TENANTS.iter().enumerate() {
        for c in 0..*count {
            let tenant = format!("econ{t}{c:08}");
            for _ in 0..size / scale {
                let login = if i % 50 == 1 {
                    format!("user{}@example.com", i - 1)
                } else {
                    format!("user{i}@example.com")
                };
                out.push(json!({
                    "login_id": login,
                    "ecid": format!("ecid{i:010}"),
                    "email": format!("user{i}@example.com"),
                    "name": format!("利用者 {i}"),
                    "phone": format!("090-{:04}-{:04}", i % 10_000, (i / 7) % 10_000),
                    "tenant_id": tenant,
                    "role": if i.is_multiple_of(20) { "admin" } else { "general" },
                }));
                i += 1;
            }
        }
    }
    out
}

/// Run `work` on `WORKERS` tasks that take items from one queue.
async fn fan_out<T, F, Fut>(items: Vec<T>, work: F)
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let queue = Arc::new(Mutex::new(items));
    let work = Arc::new(work);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..workers() {
        let (queue, work) = (queue.clone(), work.clone());
        set.spawn(async move {
            loop {
                let next = queue.lock().unwrap().pop();
                let Some(item) = next else { break };
                work(item).await;
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("a worker");
    }
}

struct Phase {
    name: &'static str,
    seconds: f64,
    requests: u64,
    wru: u64,
    hottest: u64,
    hottest_pk: String,
}

impl Phase {
    /// Seconds for `factor` times the work at `table_wru` a second.
    fn bound(&self, factor: f64, table_wru: f64) -> (f64, f64, f64) {
        (
            self.seconds * factor,
            self.wru as f64 * factor / table_wru,
            self.hottest as f64 * factor / PARTITION_WRU,
        )
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let scale = if support::quick() { 10 } else { 1 };
    let sim = Arc::new(Simulated {
        inner: Arc::new(MemoryStore::default()),
        wru: Mutex::default(),
        requests: AtomicU64::new(0),
    });
    let local = tobira_local::Local::with_store(
        Arc::new(tobira_local::sqlite::SqliteStore::in_memory()),
        Config::local("https://portal.example.com"),
        std::env::temp_dir().join("tobira-bench-files"),
    );
    let app = App {
        store: sim.clone(),
        ..local.app.clone()
    };
    let records = synthetic(scale);
    let n = records.len();
    let ctx = Ctx::system("bench");

    let mut phases = Vec::new();
    let t = start();
    let events: Vec<Vec<Value>> = records.chunks(1_000).map(<[Value]>::to_vec).collect();
    let (a, c) = (app.clone(), ctx.clone());
    fan_out(events, move |event| {
        let (app, ctx) = (a.clone(), c.clone());
        async move {
            app.import(&event, &ctx).await.expect("import");
        }
    })
    .await;
    phases.push(sim.phase("import", t));

    let t = start();
    let chunks = app.apply_chunks(None, CHUNK).await.expect("chunks");
    phases.push(sim.phase("apply-chunks", t));
    let chunk_count = chunks.len();

    let t = start();
    let (a, c) = (app.clone(), ctx.clone());
    fan_out(chunks, move |chunk| {
        let (app, ctx) = (a.clone(), c.clone());
        async move {
            let opts = chunk.options().expect("a chunk");
            app.apply(&opts, &ctx).await.expect("apply");
        }
    })
    .await;
    phases.push(sim.phase("apply", t));

    let status = app.migration_status().await.expect("status");
    let counts = &status["counts"];
    assert_eq!(counts["pending"], 0, "nothing left: {status}");
    assert_eq!(counts["total"].as_u64(), Some(n as u64), "{status}");
    let migrated = counts["migrated"].as_u64().unwrap_or(0);
    assert_eq!(migrated as usize, n, "every record migrated once: {status}");

    let factor = 1_000_000.0 / n as f64;
    println!(
        "migration simulation: {n} users, {} tenants, {} workers, {} ms a request, \
         {chunk_count} chunks of {CHUNK}",
        TENANTS.iter().map(|(c, _)| c).sum::<usize>(),
        workers(),
        LATENCY.as_millis()
    );
    println!("  phase          sim s  requests/user  WRU/user  hottest pk (WRU/user of all)");
    for p in &phases {
        println!(
            "  {:<12} {:>7.1} {:>14.2} {:>9.2}  {} ({:.3})",
            p.name,
            p.seconds,
            p.requests as f64 / n as f64,
            p.wru as f64 / n as f64,
            p.hottest_pk,
            p.hottest as f64 / n as f64,
        );
    }
    for table in [4_000.0, 30_000.0, 40_000.0] {
        println!("  1,000,000 users at {table:.0} WRU/s for the table:");
        let mut total = 0.0;
        for p in &phases {
            let (sim_s, table_s, part_s) = p.bound(factor, table);
            let s = sim_s.max(table_s).max(part_s);
            total += s;
            println!(
                "    {:<12} latency {:>7.0} s  table {:>7.0} s  partition {:>7.0} s  -> {:>7.0} s",
                p.name, sim_s, table_s, part_s, s
            );
        }
        println!("    total {:.0} s = {:.1} min", total, total / 60.0);
    }
}
