//! Support cases (CASE-1, CASE-2, CASE-4): creations per second against the
//! embedded SQLite store, one at a time and from concurrent tasks, and the
//! cost of reading the list as the tenant fills up.
//!
//! What is timed is `App::create_case` alone, the domain call behind
//! `POST /api/cases` (no handler, no session check). One creation is: the
//! checks of the category and the text, one atomic `Store::increment` of the
//! case counter (the number), one atomic write of 4 items (the case, its
//! list entry, the portal-wide number reference, the audit record), then the
//! notice mail to the filer (CASE-5): one read of the user and one row in the
//! local outbox, a table in the same SQLite file. No password hash runs.
//!
//! The store is a SQLite file in a temporary directory (WAL journal,
//! `synchronous = NORMAL`), as the local portal opens it, behind two
//! wrappers: `support::Counting` counts every store request (the same calls
//! the domain makes against DynamoDB), and `Clocked` below adds up the time
//! spent in each kind of request and in the mailer, so that a creation's
//! time can be split into counter, write, user read, mail row and the rest.
//! The WAL header's checkpoint sequence number, read before and after each
//! phase, counts the checkpoints (SQLite's automatic one, after ~1,000 pages
//! of WAL, copies them into the database file and syncs both: the only
//! fsyncs at `synchronous = NORMAL`), to set against the slow creations.
//!
//! All cases go into one tenant, filed by 16 active users (migrated legacy
//! records with a password, as SET-3 leaves them; MIG-13 lets them file since
//! the local configuration opens no migration window). In order:
//!
//! 1. 20 warm-up creations, then sequential creations on a current-thread
//!    runtime until the tenant holds the first size (1,000; `--quick` 200),
//!    each timed; the same up to the second size (5,000);
//! 2. at each size, reads, interleaved: the first and second list pages, a
//!    keyword that three cases hold (the walk reads every list entry), a
//!    keyword that every case holds (it stops at the first page), and a
//!    case's detail;
//! 3. before the last fill, concurrent creations on a multi-thread runtime
//!    with 2 worker threads (the machine's cores): 1, 4 and 16 tasks, 4,000
//!    creations a round (`--quick` 192); creations/s is from the round's wall
//!    time. Every await in a creation is ready at once (the SQLite adapter
//!    works synchronously on one connection behind a mutex), so a task keeps
//!    its thread until it is done: at most two creations run at a time,
//!    whatever the number of tasks;
//! 4. sequential creations up to the last size (20,000; `--quick` 1,000),
//!    and the reads again.
//!
//! Every answer is checked, and a wrong one stops the benchmark: numbers are
//! `CS` + 7 digits, unique, and those of each phase are exactly the next ones
//! (in order, when sequential); ids are unique ULIDs; every creation left
//! exactly one mail in the outbox, to its filer, naming its number; every
//! list page is exactly the expected cases in the expected order (newest
//! first, from the ids' time), every detail the expected case.
//!
//! `cargo bench --bench cases` (20,000 creations; about 10 s);
//! `cargo bench --bench cases -- --quick` (1,000 creations, under a second
//! once built).

use std::collections::{HashMap, HashSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tobira::cases::{CasePage, Created, Kind, ListQuery, NewCase};
use tobira::clock::Timestamp;
use tobira::delivery::{DeliveryError, Mail, Mailer};
use tobira::ids::LoginId;
use tobira::model::User;
use tobira::store::{Item, Key, Query, Store, StoreError, Write};
use tobira::{App, Ctx};
use tobira_local::sqlite::Outbox;

#[allow(dead_code)]
mod support;
use support::{add, ms, percentile, start, Counting, Counts};

/// Users filing cases (one per task in the widest round).
const USERS: usize = 16;
/// Concurrent tasks per round of phase 3.
const TASKS: [usize; 3] = [1, 4, 16];
/// Worker threads of the multi-thread runtime.
const WORKERS: usize = 2;
/// The keyword three cases hold (indices [`PLANTED`] of the run).
const KEYWORD: &str = "ルーター交換";
const PLANTED: [usize; 3] = [1, 2, 3];
/// A keyword every case holds (in the subject, in upper case: search folds).
const EVERYWHERE: &str = "vpn";
const BODY: &str = "本日 9 時ごろから、拠点間 VPN の接続が数分おきに切れます。\
監視画面ではトンネルの再確立が繰り返し記録されています。設定は変更していません。\
原因の調査と対応をお願いします。\n\
影響: 本社と大阪拠点の間のファイル共有、社内システムへのアクセス。\n\
連絡先: 情報システム部 (内線 1234)";

#[path = "cases/clocked.rs"]
mod clocked;
#[path = "cases/creations.rs"]
mod creations;
#[path = "cases/reads.rs"]
mod reads;
#[path = "cases/report.rs"]
mod report;
use clocked::*;
use creations::*;
use reads::*;
use report::*;

fn main() {
    let quick = support::quick();
    let (warmup, sizes, per_round, rounds): (usize, &[usize], usize, usize) = if quick {
        (20, &[200, 1_000], 192, 10)
    } else {
        (20, &[1_000, 5_000, 20_000], 4_000, 50)
    };

    let dir = support::temp_dir("cases");
    let rt = support::runtime();
    let mt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .expect("multi-thread tokio runtime");
    let t_all = start();
    let local = support::local(&dir);
    let counts = Arc::new(Counts::default());
    let spent = Arc::new(Spent::default());
    let app = App {
        store: Arc::new(Counting {
            inner: Arc::new(Clocked {
                inner: local.app.store.clone(),
                spent: spent.clone(),
            }),
            counts: counts.clone(),
        }),
        mailer: Arc::new(ClockedMailer {
            inner: local.outbox.clone(),
            spent: spent.clone(),
        }),
        ..local.app.clone()
    };
    let ctx = support::ctx("cases");
    let number_start = app.config.cases.number_start;

    let mut b = rt.block_on(async {
        let ids: Vec<String> = (0..USERS)
            .map(|k| format!("bench.case.{k}@example.co.jp"))
            .collect();
        support::active_users(&app, &ctx, &ids).await;
        let mut users = Vec::new();
        for id in &ids {
            let (user, _) = app
                .user_by_login(&LoginId::parse(id).expect("login ID"))
                .await
                .expect("store")
                .expect("user");
            assert!(user.ecid.is_some(), "a migrated user");
            users.push(user);
        }
        Bench {
            app: app.clone(),
            ctx: ctx.clone(),
            users,
            outbox: local.outbox.clone(),
            db: dir.join("tobira.db"),
            counts: counts.clone(),
            spent: spent.clone(),
            ledger: Ledger {
                made: Vec::new(),
                ids: HashSet::new(),
                numbers: HashSet::new(),
                last: number_start - 1,
                mails: local.outbox.list().len(),
            },
        }
    });

    let mut phases = Vec::new();
    let mut read_sets = Vec::new();
    rt.block_on(b.fill(warmup, "warm-up"));
    for (s, &size) in sizes.iter().enumerate() {
        // The concurrent rounds come before the last fill.
        if s + 1 == sizes.len() {
            for tasks in TASKS {
                phases.push(b.concurrent(&mt, tasks, per_round));
            }
        }
        let from = b.ledger.made.len();
        let label = format!("sequential, tenant {from}..{size}");
        phases.push(rt.block_on(b.fill(size, &label)));
        read_sets.push(rt.block_on(reads(&b, rounds)));
    }
    let whole = t_all.elapsed();
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "cases bench: {} creations in one tenant by {USERS} users{}",
        b.ledger.made.len(),
        if quick { " (--quick)" } else { "" }
    );
    println!("store: SQLite file, WAL, synchronous = NORMAL (tobira_local::sqlite::SqliteStore::open), temp dir;");
    println!("       mail: the local outbox, a row in the same file");
    println!("timed: App::create_case alone (counter increment, 4-item atomic write, user read, outbox row);");
    println!("       sequential on a current-thread runtime; concurrent: tasks on a {WORKERS}-thread runtime");
    println!(
        "per s: creations / wall time of the phase; mean .. p99 in microseconds per creation;"
    );
    println!("at once: the most tasks started and not yet finished at one time; >1ms: creations over 1 ms;");
    println!("ckpt: WAL restarts after a complete checkpoint (the WAL header's checkpoint sequence number)");
    println!("checked: numbers CS+7 digits, unique and consecutive; ids unique; one mail per creation to its filer\n");
    creation_rows(&phases);

    println!();
    spent_rows(&phases);
    let mut calls = [0u64; 4];
    let mut n = 0u64;
    let mut mails = 0u64;
    for p in &phases {
        add(&mut calls, p.calls);
        n += p.samples.len() as u64;
        mails += p.spent[4].calls;
    }
    let per = |x: u64| x as f64 / n as f64;
    println!(
        "\nstore requests per creation (the same against DynamoDB): get {:.2}  query {:.2}  write {:.2}  items {:.2};  mails {:.2}",
        per(calls[0]),
        per(calls[1]),
        per(calls[2]),
        per(calls[3]),
        per(mails),
    );

    println!(
        "\nreads: {rounds} of each at each size, interleaved, after one warm-up round; store requests per call"
    );
    println!(
        "{:<30} {:>7} {:>5} {:>10} {:>8} {:>8} {:>6} {:>6}",
        "read", "tenant", "n", "median ms", "p10 ms", "p90 ms", "get", "query"
    );
    for (k, read) in READS.iter().enumerate() {
        for r in &read_sets {
            let st = support::stats(&r.samples[k]);
            let n = r.samples[k].len();
            println!(
                "{:<30} {:>7} {:>5} {:>10.3} {:>8.3} {:>8.3} {:>6.1} {:>6.1}",
                read.label(),
                r.tenant,
                n,
                ms(st.median),
                ms(st.p10),
                ms(st.p90),
                r.calls[k][0] as f64 / n as f64,
                r.calls[k][1] as f64 / n as f64,
            );
        }
    }
    println!("whole run incl. setup: {:.1} s", whole.as_secs_f64());
}
