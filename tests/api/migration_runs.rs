//! Whole migration runs: MIG-3 order independence (a property over random
//! orders, chunkings, tenants-first applies and concurrent runs, and once on
//! DynamoDB), MIG-8 fault injection, MIG-9 plan pages, MIG-10 checkpoint and
//! time budget, MIG-12 closing the window, CLM-3/CLM-4 linking.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tobira::migration::{ApplyOptions, Outcome};
use tobira::model::UserState;
use tobira::store::Store;
use tobira::Config;
use tobira_test_kit::MemoryStore;

use crate::support::{apply_all, ctx, record, sample_records, Harness};

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

// MIG-9
#[tokio::test]
async fn mig_9_plan_lists_every_record_with_login_phone_and_reason_in_pages() {
    let h = Harness::new();
    let mut recs = sample_records();
    recs.push(json!({"login_id": "broken"})); // rejected at import
    let imported = h.app.import(&recs, &ctx()).await.unwrap();
    assert_eq!(imported.counts.rejected, 1);
    assert!(imported.records.last().unwrap().reason.is_some());
    let before = h.memory.snapshot();
    let mut lines = Vec::new();
    let mut after = None;
    loop {
        let r = tobira_migrate_batch::handle(
            &h.app,
            json!({ "action": "plan", "max_records": 5, "after": after }),
        )
        .await
        .unwrap();
        lines.extend(r["records"].as_array().unwrap().clone());
        assert!(r["counts"].is_object());
        if r["complete"] == true {
            break;
        }
        after = Some(r["next"].as_str().unwrap().to_string());
    }
    assert_eq!(lines.len(), 13, "every staged record once");
    let by = |e: &str| lines.iter().find(|l| l["ecid"] == e).unwrap().clone();
    let renamed = by("ecid1000000007");
    assert_eq!(renamed["outcome"], "renamed");
    assert_eq!(
        renamed["final_login_id"],
        "shared@example.com_ecid1000000007"
    );
    let phone = by("ecid1000000005");
    assert_eq!(phone["outcome"], "phone_normalised");
    assert_eq!(phone["phone_before"], "０９０－１２３４－５６７８");
    assert_eq!(phone["phone_after"], "09012345678");
    assert_eq!(
        by("ecid1000000001")["final_login_id"],
        "taro.yamada@example.co.jp"
    );
    assert_eq!(h.memory.snapshot(), before, "a plan writes nothing");
    assert!(h.outbox.mails().is_empty());
}

// MIG-10
#[tokio::test]
async fn mig_10_time_budget_checkpoint_and_status() {
    let mut config = crate::support::test_config();
    config.migrate_budget = Duration::from_secs(20);
    config.migrate_chunk = 1_000;
    let h = Harness::with_config(config);
    h.app.import(&sample_records(), &ctx()).await.unwrap();
    // Every clock reading moves one second: the budget runs out mid-way.
    h.clock.set_tick(Duration::from_secs(1));
    let first = h.app.continue_migration(&ctx()).await.unwrap();
    let done_first = first["records"].as_array().unwrap().len();
    assert!(done_first > 0 && done_first < 13, "{first}");
    assert_eq!(first["complete"], false);
    let status = h.app.migration_status().await.unwrap();
    assert_eq!(status["checkpoint"]["apply_after"], first["next"]);
    assert_eq!(status["counts"]["migrated"], done_first as u64);
    assert_eq!(status["counts"]["pending"], 13 - done_first as u64);
    // The next runs go on from the checkpoint: nobody twice, nobody lost.
    let mut total = done_first;
    for _ in 0..20 {
        let r = h.app.continue_migration(&ctx()).await.unwrap();
        total += r["records"].as_array().unwrap().len();
        if r["complete"] == true {
            break;
        }
    }
    h.clock.set_tick(Duration::ZERO);
    assert_eq!(total, 13);
    let status = h.app.migration_status().await.unwrap();
    assert_eq!(status["counts"]["migrated"], 13);
    assert_eq!(status["checkpoint"]["pass_complete"], true);
    assert_eq!(status["complete"], true);
    // Nothing pending: the schedule does nothing ...
    let idle = h.app.continue_migration(&ctx()).await.unwrap();
    assert!(idle["records"].as_array().unwrap().is_empty());
    // ... until an import brings more.
    h.app
        .import(
            &[record("late@example.com", "ecid77", "econ1000000001")],
            &ctx(),
        )
        .await
        .unwrap();
    let late = h.app.continue_migration(&ctx()).await.unwrap();
    assert_eq!(late["records"].as_array().unwrap().len(), 1);
}

// MIG-10
#[tokio::test]
async fn mig_10_mail_job_runs_within_the_budget_and_the_schedule_finishes_it() {
    let mut config = crate::support::test_config();
    config.migrate_budget = Duration::from_secs(30);
    let h = Harness::with_config(config);
    h.app.import(&sample_records(), &ctx()).await.unwrap();
    apply_all(&h.app).await;
    h.clock.set_tick(Duration::from_secs(1));
    let first = h.app.send_setup_links(None, false, &ctx()).await.unwrap();
    assert!(!first.complete && first.sent > 0, "{first:?}");
    let mut sent = first.sent;
    for _ in 0..20 {
        let r = h.app.continue_migration(&ctx()).await.unwrap();
        sent += r["job"]["sent"].as_u64().unwrap_or(0);
        if r["job"]["complete"] == true {
            break;
        }
    }
    h.clock.set_tick(Duration::ZERO);
    assert_eq!(sent, 13);
    assert_eq!(h.outbox.mails().len(), 13, "each user mailed once");
    let status = h.app.migration_status().await.unwrap();
    assert_eq!(status["job"]["pending"], Value::Null);
}

fn window_config() -> Config {
    let mut c = crate::support::test_config();
    c.migration_window = Some(("2026-11-01".into(), "2026-12-31".into()));
    c
}

// MIG-12
#[tokio::test]
async fn mig_12_close_window_dry_run_then_notices_with_name_phone_and_ecid() {
    let h = Harness::with_config(window_config());
    h.migrate(&sample_records()).await;
    let setup_mails = h.outbox.mails().len();
    let old_token = h.setup_token("hanako.sato@example.co.jp");
    h.active_user("done@example.com", "Sturdy-Gate58").await;
    assert!(h.app.window_open().await.unwrap());

    let before = h.memory.snapshot();
    let dry =
        tobira_migrate_batch::handle(&h.app, json!({"action": "close-window", "dry_run": true}))
            .await
            .unwrap();
    assert_eq!(dry["would_send"].as_array().unwrap().len(), 13, "{dry}");
    assert!(dry["would_send"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["login_id"] == "shared@example.com_ecid1000000007" && l["renamed"] == true));
    assert_eq!(h.memory.snapshot(), before, "a dry run writes nothing");
    let mails_before = h.outbox.mails().len();

    let r = tobira_migrate_batch::handle(&h.app, json!({"action": "close-window"}))
        .await
        .unwrap();
    assert_eq!(r["sent"], 13, "{r}");
    assert!(!h.app.window_open().await.unwrap());
    let notices: Vec<_> = h.outbox.mails()[mails_before..].to_vec();
    assert_eq!(notices.len(), 13);
    assert!(mails_before > setup_mails);
    let hanako = notices
        .iter()
        .find(|m| m.to == "hanako.sato@example.co.jp")
        .unwrap();
    assert!(hanako.text.contains("佐藤 花子"));
    assert!(hanako.text.contains("0312345679"));
    assert!(
        !hanako.text.contains("ecid1000000002"),
        "not renamed: no ecid"
    );
    assert!(hanako
        .text
        .contains("https://portal.example.com/password/forgot"));
    let renamed = notices
        .iter()
        .find(|m| m.text.contains("shared@example.com_ecid1000000007"))
        .unwrap();
    assert!(renamed.text.contains("ecid1000000007"));
    // The active user got nothing; setup links ended with the window.
    assert!(!notices.iter().any(|m| m.to == "done@example.com"));
    assert_eq!(
        h.app.check_setup_token(&old_token).await.unwrap_err(),
        tobira::Error::InvalidToken
    );
    // A re-run sends nothing twice.
    let again = tobira_migrate_batch::handle(&h.app, json!({"action": "close-window"}))
        .await
        .unwrap();
    assert_eq!(again["sent"], 0);
    // And the legacy portal's route is closed.
    let e = h
        .app
        .correct_identity(
            &tobira::migration::IdentityUpdate {
                login_id: "hanako.sato@example.co.jp".into(),
                ..Default::default()
            },
            &ctx(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "window_closed");
}

// MIG-12
#[tokio::test]
async fn mig_12_mail_fault_stops_the_notices_and_a_rerun_finishes_without_loss() {
    let h = Harness::with_config(window_config());
    h.migrate(&sample_records()).await;
    let before = h.outbox.mails().len();
    h.outbox.set_failing(true);
    let r = h.app.close_window(false, &ctx()).await.unwrap();
    assert_eq!((r.sent, r.failed, r.complete), (0, 1, false));
    h.outbox.set_failing(false);
    let r = h.app.continue_migration(&ctx()).await.unwrap();
    assert_eq!(r["job"]["sent"], 13, "{r}");
    assert_eq!(h.outbox.mails().len() - before, 13);
}

fn session_for(h: &Harness, user: &tobira::model::User) -> tobira::session::Session {
    let _ = h;
    tobira::session::Session {
        user_id: user.id.clone(),
        tenant_id: user.tenant_id.clone(),
        stage: tobira::session::Stage::Full,
        created_at: h.app.now(),
        last_seen: h.app.now(),
        recovery_ack_pending: false,
        epoch: user.session_epoch,
        password_at: None,
    }
}

// CLM-1
#[tokio::test]
async fn clm_1_every_legacy_format_verifies_and_is_upgraded_to_argon2id() {
    let h = Harness::new();
    h.migrate(&sample_records()).await;
    for (sid, pw, login) in [
        ("ca1234567890", "Legacy-Pass1", "legacy.bcrypt@example.jp"),
        ("CA1234567892", "Legacy-Pass2", "legacy.sha512@example.jp"),
        ("ca1234567893", "Legacy-Pass3", "legacy.argon@example.jp"),
    ] {
        let wrong = tobira::ids::Password::parse("Legacy-Wrong9").unwrap();
        assert_eq!(
            h.app.claim(sid, &wrong, None, &ctx()).await.unwrap_err(),
            tobira::Error::InvalidCredentials
        );
        let pw = tobira::ids::Password::parse(pw).unwrap();
        let claimed = h.app.claim(sid, &pw, None, &ctx()).await.unwrap();
        assert!(matches!(claimed, tobira::claim::Claimed::Register { .. }));
        let l = tobira::ids::LoginId::parse(login).unwrap();
        let (u, _) = h.app.user_by_login(&l).await.unwrap().unwrap();
        let stored = u.legacy_password_hash.unwrap();
        assert!(tobira::password::is_current(&stored), "{login}: upgraded");
        assert!(tobira::legacy_hash::verify(&stored, pw.expose()));
    }
}

// CLM-3
#[tokio::test]
async fn clm_3_signed_in_user_links_another_legacy_account_and_sees_its_contract() {
    let h = Harness::new();
    h.migrate(&sample_records()).await;
    h.active_user("owner@example.com", "Sturdy-Gate58").await;
    let owner_login = tobira::ids::LoginId::parse("owner@example.com").unwrap();
    let (owner, _) = h.app.user_by_login(&owner_login).await.unwrap().unwrap();
    let s = session_for(&h, &owner);
    let pw = tobira::ids::Password::parse("Legacy-Pass2").unwrap();
    let linked = h
        .app
        .claim("ca1234567891", &pw, Some(&s), &ctx())
        .await
        .unwrap();
    let tobira::claim::Claimed::Linked { service_ids } = linked else {
        panic!("linked expected");
    };
    assert!(service_ids.contains(&"ca1234567891".to_string()));
    assert!(service_ids.contains(&"ca1234567892".to_string()));
    let (owner, _) = h.app.user_by_login(&owner_login).await.unwrap().unwrap();
    assert_eq!(owner.linked_tenants[0].as_str(), "econ2000000001");
    // The legacy account is merged: it can be claimed no more.
    let legacy = tobira::ids::LoginId::parse("legacy.sha512@example.jp").unwrap();
    let (l, _) = h.app.user_by_login(&legacy).await.unwrap().unwrap();
    assert_eq!(l.state, UserState::Disabled);
    assert_eq!(l.merged_into.as_deref(), Some(owner.id.as_str()));
    // A merged account's legacy password is no credential: the answer of a
    // wrong password (CLM-1).
    assert_eq!(
        h.app
            .claim("ca1234567892", &pw, None, &ctx())
            .await
            .unwrap_err(),
        tobira::Error::InvalidCredentials
    );
    // CLM-3: the merged account's address is told where it went.
    let notice = h
        .outbox
        .mails()
        .into_iter()
        .rfind(|m| m.to == "legacy.sha512@example.jp")
        .expect("a link notice");
    assert!(notice.text.contains("owner@example.com"), "{}", notice.text);
    assert!(notice.text.contains("ca1234567891"), "{}", notice.text);
}

// CLM-4
#[tokio::test]
async fn clm_4_link_services_event_links_in_bulk_and_is_idempotent() {
    let h = Harness::new();
    h.migrate(&sample_records()).await;
    h.active_user("owner@example.com", "Sturdy-Gate58").await;
    let event = json!({
        "action": "link-services",
        "login_id": "owner@example.com",
        "service_ids": ["ca1234567890", "ca1234567892", "ca1234567893", "ca0000000000", "bad id!"],
    });
    let r = tobira_migrate_batch::handle(&h.app, event.clone())
        .await
        .unwrap();
    assert_eq!(
        (
            r["linked"].as_u64(),
            r["not_found"].as_u64(),
            r["rejected"].as_u64()
        ),
        (Some(3), Some(1), Some(1)),
        "{r}"
    );
    let owner_login = tobira::ids::LoginId::parse("owner@example.com").unwrap();
    let (owner, _) = h.app.user_by_login(&owner_login).await.unwrap().unwrap();
    for sid in [
        "ca1234567890",
        "ca1234567891",
        "ca1234567892",
        "ca1234567893",
    ] {
        assert!(owner.service_ids.iter().any(|s| s == sid), "{sid}");
    }
    let again = tobira_migrate_batch::handle(&h.app, event).await.unwrap();
    assert_eq!(again["linked"], 0);
    assert_eq!(again["already_linked"], 3);
    // A malformed event changes nothing.
    let before = h.memory.snapshot();
    let e = tobira_migrate_batch::handle(
        &h.app,
        json!({"action": "link-services", "login_id": "owner@example.com"}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "invalid_event");
    assert_eq!(h.memory.snapshot(), before);
}
