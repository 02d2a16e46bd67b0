//! Migration throughput (issue 3): synthetic legacy users imported and
//! applied into the embedded SQLite store (a file in a temporary directory,
//! WAL journal, wired as the local portal wires it), through the same
//! domain calls `migrate-batch` makes — import in events of 1,000 records,
//! apply from the checkpoint in chunks of 1,000.
//!
//! Every store call is counted on the way (a counting wrapper around the
//! store port): the domain makes the same calls whatever store is behind
//! the port, so the counts are the DynamoDB requests per migrated user, and
//! the items per atomic write give its write units (a transactional write
//! costs 2 WCU per item of up to 1 KB).
//!
//! `cargo bench --bench migration` (100,000 users);
//! `TOBIRA_BENCH_USERS=10000 cargo bench --bench migration` for a shorter run.

use std::sync::Arc;

use serde_json::{json, Value};
use tobira::migration::ApplyOptions;
use tobira::{Config, Ctx};
use tobira_local::Local;

#[allow(dead_code)]
mod support;
use support::{start, Counting, Counts};

/// Synthetic legacy users: 500 contracts, one in 50 login IDs shared with
/// the previous record under another contract (MIG-3/MIG-7), phones in the
/// MIG-5 shapes.
fn synthetic(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let login = if i % 50 == 1 {
                format!("user{}@example.com", i - 1)
            } else {
                format!("user{i}@example.com")
            };
            let phone = match i % 4 {
                0 => format!("03{:08}", i % 100_000_000),
                1 => format!("090-{:04}-{:04}", i % 10_000, (i / 7) % 10_000),
                2 => String::new(),
                _ => "+81 90 1234 5678".to_string(),
            };
            json!({
                "login_id": login,
                "ecid": format!("ecid{:010}", i),
                "email": format!("user{i}@example.com"),
                "name": format!("利用者 {i}"),
                "phone": phone,
                "tenant_id": format!("econ{:010}", i % 500),
                "role": if i % 20 == 0 { "admin" } else { "general" },
            })
        })
        .collect()
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn per(x: u64, n: usize) -> f64 {
    x as f64 / n as f64
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("TOBIRA_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = support::temp_dir("migration");
    let local = Local::with_store(
        support::open_store(&dir),
        Config::local("https://portal.example.com"),
        dir.join("files"),
    );
    let counts = Arc::new(Counts::default());
    let mut app = local.app.clone();
    app.store = Arc::new(Counting {
        inner: app.store.clone(),
        counts: counts.clone(),
    });
    let ctx = Ctx::system("bench");
    let records = synthetic(n);

    let t = start();
    let mut staged = 0;
    for chunk in records.chunks(1_000) {
        staged += app.import(chunk, &ctx).await.expect("import").counts.staged;
    }
    let import_s = t.elapsed().as_secs_f64();
    let import_calls = counts.take();
    assert_eq!(staged as usize, n, "every record staged");

    let t = start();
    let opts = ApplyOptions {
        max_records: Some(1_000),
        ..ApplyOptions::default()
    };
    let (mut users, mut renamed, mut chunks) = (0u64, 0u64, 0u64);
    loop {
        let r = app.apply(&opts, &ctx).await.expect("apply");
        chunks += 1;
        users += r.counts.migrated;
        renamed += r.counts.renamed;
        if r.complete {
            break;
        }
    }
    let apply_s = t.elapsed().as_secs_f64();
    let apply_calls = counts.take();
    assert_eq!(users as usize, n, "every record migrated");

    println!("migration benchmark: {n} synthetic users into the embedded SQLite store");
    println!(
        "  import: {:>8.1} s  {:>8.0} records/s",
        import_s,
        n as f64 / import_s
    );
    println!(
        "  apply:  {:>8.1} s  {:>8.0} users/s  ({chunks} chunks, {renamed} renamed)",
        apply_s,
        n as f64 / apply_s
    );
    println!(
        "  total:  {:>8.1} s  {:>8.0} users/s end to end",
        import_s + apply_s,
        n as f64 / (import_s + apply_s)
    );
    println!("  store requests per migrated user (the same against DynamoDB):");
    for (phase, c) in [("import", import_calls), ("apply", apply_calls)] {
        println!(
            "    {phase:<6} get {:.2}  query {:.3}  atomic writes {:.2}  items written {:.2}",
            per(c[0], n),
            per(c[1], n),
            per(c[2], n),
            per(c[3], n)
        );
    }
    let reqs = per(
        import_calls[..3].iter().sum::<u64>() + apply_calls[..3].iter().sum::<u64>(),
        n,
    );
    let items = per(import_calls[3] + apply_calls[3], n);
    println!(
        "    total  {reqs:.2} requests, {items:.2} items written ({:.1} WCU as transactions)",
        2.0 * items
    );
    println!("  peak RSS: {:.0} MiB", peak_rss_mib());
    let _ = std::fs::remove_dir_all(&dir);
}
