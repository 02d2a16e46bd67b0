//! Property tests of the migration (MIG-3, MIG-8): login IDs do not depend
//! on order, chunking, tenants-first applies, concurrency (once on DynamoDB)
//! or store faults; a rerun keeps set-up users.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};
use tobira::migration::{ApplyOptions, Outcome};
use tobira::model::UserState;
use tobira::store::Store;
use tobira_test_kit::MemoryStore;

use crate::support::{apply_all, ctx, record, Harness};

/// A small deterministic generator for the property tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

/// Records with every kind of collision MIG-3 names, plus noise.
fn colliding_records() -> Vec<Value> {
    let mut v = vec![
        // Three claimants of one ID in three cases; ecid1 sorts first.
        record("dup@example.com", "ecid3", "econA"),
        record("DUP@example.com", "ecid1", "econB"),
        record("dup@Example.com", "ecid2", "econC"),
        // One legacy user under two more contracts: the same rename twice.
        record("dup@example.com", "ecid1", "econD"),
        record("dup@example.com", "ecid1", "econE"),
        // A rename that is another record's plain ID.
        record("x@example.com_ecid7", "ecid6", "econC"),
        record("x@example.com", "ecid7", "econD"),
        record("x@example.com", "ecid0", "econE"),
        // Held by a user from an earlier migration (see `earlier`).
        record("pre@example.com", "ecid5", "econA"),
    ];
    for i in 0..24u32 {
        let login = format!("u{}@example.com", i % 9);
        v.push(record(
            &login,
            &format!("ecid{}", 100 + i),
            ["econA", "econB", "econC"][i as usize % 3],
        ));
    }
    v
}

/// A user that exists before the migration under test.
fn earlier() -> Vec<Value> {
    vec![record("pre@example.com", "ecid9", "econZ")]
}

/// (tenant, ecid) → final login ID or "rejected".
async fn outcome_map(h: &Harness) -> BTreeMap<(String, String), String> {
    let opts = ApplyOptions {
        dry_run: true,
        max_records: Some(100_000),
        ..ApplyOptions::default()
    };
    let plan = h.app.apply(&opts, &ctx()).await.unwrap();
    assert!(plan.complete);
    plan.records
        .into_iter()
        .map(|l| {
            let v = match l.outcome {
                Outcome::AlreadyMigrated => l.final_login_id.unwrap(),
                Outcome::Rejected => "rejected".to_string(),
                other => panic!("still pending: {other:?} {}/{}", l.tenant_id, l.ecid),
            };
            ((l.tenant_id, l.ecid), v)
        })
        .collect()
}

/// Every user has exactly one login ID item and one membership, and every
/// migrated record exactly one user: no duplicate, nothing lost.
fn assert_consistent(memory: &MemoryStore, expected_users: usize) {
    let items = memory.snapshot();
    let users: Vec<_> = items
        .iter()
        .filter(|i| i.key.pk.starts_with("USER#"))
        .collect();
    assert_eq!(users.len(), expected_users, "one user per migrated record");
    let logins: Vec<_> = items
        .iter()
        .filter(|i| i.key.pk.starts_with("LOGIN#"))
        .collect();
    assert_eq!(logins.len(), users.len(), "one login ID per user");
    for u in &users {
        let id = u.key.pk.trim_start_matches("USER#");
        assert_eq!(
            logins.iter().filter(|l| l.data.contains(id)).count(),
            1,
            "user {id} has one login ID"
        );
        assert_eq!(
            items
                .iter()
                .filter(|i| i.key.pk.starts_with("TENANT#") && i.key.sk == format!("USER#{id}"))
                .count(),
            1,
            "user {id} is in one tenant"
        );
    }
}

async fn reference() -> BTreeMap<(String, String), String> {
    let h = Harness::new();
    h.app.import(&earlier(), &ctx()).await.unwrap();
    apply_all(&h.app).await;
    h.app.import(&colliding_records(), &ctx()).await.unwrap();
    apply_all(&h.app).await;
    outcome_map(&h).await
}

/// Import in random batches and order, then apply in random chunks: by
/// tenant, from the checkpoint, two at once; with faults when asked.
async fn random_run(h: &Harness, rng: &mut Rng, faults: bool) {
    h.app.import(&earlier(), &ctx()).await.unwrap();
    apply_all(&h.app).await;
    let mut recs = colliding_records();
    rng.shuffle(&mut recs);
    if faults {
        h.faulty.fail_randomly(rng.next(), 150, rng.below(2) == 0);
    }
    let mut rest = &recs[..];
    while !rest.is_empty() {
        let n = 1 + rng.below(rest.len());
        while h.app.import(&rest[..n], &ctx()).await.is_err() {}
        rest = &rest[n..];
    }
    let tenants = ["econA", "econB", "econC", "econD", "econE"];
    let mut done = false;
    for _ in 0..2_000 {
        let max = Some(1 + rng.below(6));
        let by_tenant = ApplyOptions {
            max_records: max,
            tenant: Some(tobira::ids::TenantId::parse(tenants[rng.below(5)]).unwrap()),
            ..ApplyOptions::default()
        };
        let from_checkpoint = ApplyOptions {
            max_records: max,
            ..ApplyOptions::default()
        };
        match rng.below(3) {
            0 => {
                let _ = h.app.apply(&by_tenant, &ctx()).await;
            }
            1 => {
                if let Ok(r) = h.app.apply(&from_checkpoint, &ctx()).await {
                    done = r.complete;
                }
            }
            _ => {
                let (c1, c2) = (ctx(), ctx());
                let (a, _) = tokio::join!(
                    h.app.apply(&from_checkpoint, &c1),
                    h.app.apply(&by_tenant, &c2)
                );
                done = a.is_ok_and(|r| r.complete);
            }
        }
        if done {
            break;
        }
    }
    h.faulty.fail_randomly(0, 0, false);
    apply_all(&h.app).await;
}

// MIG-3
#[tokio::test]
async fn mig_3_property_login_ids_do_not_depend_on_order_chunking_or_concurrency() {
    let want = reference().await;
    // The rules, on the reference: first claimant keeps the plain ID ...
    let at = |t: &str, e: &str| want[&(t.to_string(), e.to_string())].as_str();
    assert_eq!(at("econB", "ecid1"), "DUP@example.com");
    assert_eq!(at("econC", "ecid2"), "dup@Example.com_ecid2");
    assert_eq!(at("econA", "ecid3"), "dup@example.com_ecid3");
    // ... one legacy user under more contracts: the first gets the rename.
    assert_eq!(at("econD", "ecid1"), "dup@example.com_ecid1");
    assert_eq!(at("econE", "ecid1"), "rejected");
    // A rename that is another record's plain ID is never given.
    assert_eq!(at("econC", "ecid6"), "x@example.com_ecid7");
    assert_eq!(at("econE", "ecid0"), "x@example.com");
    assert_eq!(at("econD", "ecid7"), "rejected");
    // An ID held from before is never overwritten.
    assert_eq!(at("econZ", "ecid9"), "pre@example.com");
    assert_eq!(at("econA", "ecid5"), "pre@example.com_ecid5");
    let users = want.values().filter(|v| *v != "rejected").count();
    for seed in 1..=24u64 {
        let h = Harness::new();
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        random_run(&h, &mut rng, false).await;
        assert_eq!(outcome_map(&h).await, want, "seed {seed}");
        assert_consistent(&h.memory, users);
    }
}

// MIG-3
#[tokio::test]
async fn mig_3_property_holds_on_dynamodb() {
    let want = reference().await;
    let store: Arc<dyn Store> = Arc::new(crate::support::dynamo_store().await);
    let h = Harness::over(
        crate::support::test_config(),
        store,
        Arc::new(MemoryStore::default()),
    );
    let mut rng = Rng(7);
    random_run(&h, &mut rng, false).await;
    assert_eq!(outcome_map(&h).await, want);
}

// MIG-8
#[tokio::test]
async fn mig_8_random_store_faults_converge_to_the_fault_free_result() {
    let want = reference().await;
    let users = want.values().filter(|v| *v != "rejected").count();
    for seed in 1..=24u64 {
        let h = Harness::new();
        let mut rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
        random_run(&h, &mut rng, true).await;
        assert_eq!(outcome_map(&h).await, want, "seed {seed}");
        assert_consistent(&h.memory, users);
    }
}

// MIG-8
#[tokio::test]
async fn mig_8_rerun_never_overwrites_a_user_who_has_set_up() {
    let h = Harness::new();
    h.active_user("kept@example.com", "Sturdy-Gate58").await;
    let login = tobira::ids::LoginId::parse("kept@example.com").unwrap();
    let (before, _) = h.app.user_by_login(&login).await.unwrap().unwrap();
    // The same legacy record again, with other details, and a full re-run.
    let mut again = record(
        "kept@example.com",
        before.ecid.as_ref().unwrap().as_str(),
        before.tenant_id.as_str(),
    );
    again["email"] = json!("changed@example.com");
    again["name"] = json!("Someone Else");
    let r = h.app.import(&[again], &ctx()).await.unwrap();
    assert_eq!(r.counts.already_migrated, 1);
    let r = apply_all(&h.app).await;
    assert!(r.records.is_empty());
    let (after, _) = h.app.user_by_login(&login).await.unwrap().unwrap();
    assert_eq!(after.state, UserState::Active);
    assert_eq!(after.email.as_str(), "kept@example.com");
    assert_eq!(after.password_hash, before.password_hash);
    assert_eq!(after.updated_at, before.updated_at);
}

// MIG-3, MIG-8 (issue 17 item 4): the fan-out's chunks cover every pending
// record once; applied all at once, in any order, with store faults and a
// retry of every chunk (the state machine's Retry), they give the result
// of one sequential run.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mig_8_fanned_out_chunks_applied_at_once_give_the_sequential_result() {
    let want = reference().await;
    let users = want.values().filter(|v| *v != "rejected").count();
    for seed in 1..=16u64 {
        let h = Harness::new();
        let mut rng = Rng(seed.wrapping_mul(0xd134_2543_de82_ef95));
        h.app.import(&earlier(), &ctx()).await.unwrap();
        apply_all(&h.app).await;
        let mut recs = colliding_records();
        rng.shuffle(&mut recs);
        h.app.import(&recs, &ctx()).await.unwrap();
        let pending = h.app.migration_status().await.unwrap()["counts"]["pending"]
            .as_u64()
            .unwrap();
        let size = 1 + rng.below(4);
        let mut chunks = h.app.apply_chunks(None, size).await.unwrap();
        assert!(chunks.iter().all(|c| c.max_records == size));
        assert_eq!(chunks.len() as u64, pending.div_ceil(size as u64));
        rng.shuffle(&mut chunks);
        let faults = seed % 2 == 0;
        if faults {
            h.faulty.fail_randomly(rng.next(), 150, rng.below(2) == 0);
        }
        let mut set = tokio::task::JoinSet::new();
        for c in &chunks {
            let (app, opts) = (h.app.clone(), c.options().unwrap());
            set.spawn(async move { app.apply(&opts, &ctx()).await.map(|r| r.records.len()) });
        }
        let mut applied = 0;
        while let Some(r) = set.join_next().await {
            applied += r.unwrap().unwrap_or(0);
        }
        if faults {
            h.faulty.fail_randomly(0, 0, false);
            for c in &chunks {
                h.app.apply(&c.options().unwrap(), &ctx()).await.unwrap();
            }
        } else {
            assert_eq!(applied as u64, pending, "seed {seed}: every record once");
        }
        let left = h.app.migration_status().await.unwrap()["counts"]["pending"].clone();
        assert_eq!(left, 0, "seed {seed}: nothing left pending");
        assert_eq!(outcome_map(&h).await, want, "seed {seed}");
        assert_consistent(&h.memory, users);
    }
}
