//! MIG-1..7 on the sample legacy export, through `migrate-batch` events.

use serde_json::{json, Value};
use tobira::model::{keys, LoginRef, User, UserState};
use tobira::store::get_as;

use tobira::migration::ApplyOptions;

use crate::support::{apply_all, ctx, record, sample_records, Harness};

async fn user_by_login(h: &Harness, login: &str) -> Option<User> {
    h.find_user(login).await.map(|(u, _)| u)
}

async fn invoke(h: &Harness, event: Value) -> Value {
    tobira_migrate_batch::handle(&h.app, event).await.unwrap()
}

/// Stages the sample export through an `import` event.
async fn import_sample(h: &Harness) -> Value {
    invoke(
        h,
        json!({ "action": "import", "records": sample_records() }),
    )
    .await
}

/// Stages the sample export and applies it; returns the apply report.
async fn import_and_apply(h: &Harness) -> Value {
    import_sample(h).await;
    invoke(h, json!({ "action": "apply" })).await
}

fn line<'a>(report: &'a Value, ecid: &str) -> &'a Value {
    report["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ecid"] == ecid)
        .unwrap()
}

// MIG-1
#[tokio::test]
async fn mig_1_import_stages_every_sample_record() {
    let h = Harness::new();
    let r = import_sample(&h).await;
    assert_eq!(r["counts"]["staged"], 13);
    assert_eq!(r["counts"]["rejected"], 0);
    let status = invoke(&h, json!({ "action": "status" })).await;
    assert_eq!(status["counts"]["pending"], 13);
}

// MIG-2, MIG-4, MIG-6
#[tokio::test]
async fn mig_2_mig_4_mig_6_email_and_name_copied_exactly_user_pending_setup() {
    let h = Harness::new();
    import_and_apply(&h).await;
    let taro = user_by_login(&h, "taro.yamada@example.co.jp")
        .await
        .unwrap();
    assert_eq!(taro.name.as_str(), "山田　太郎"); // MIG-4: full-width space kept
    let hanako = user_by_login(&h, "hanako.sato@example.co.jp")
        .await
        .unwrap();
    assert_eq!(hanako.name.as_str(), "佐藤 花子"); // half-width kept
    let mixed = user_by_login(&h, "mixed.case@example.com").await.unwrap();
    assert_eq!(mixed.email.as_str(), "Mixed.Case@Example.com"); // MIG-2: unchanged
    assert_eq!(mixed.login_id.as_str(), "Mixed.Case@Example.com");
    for u in [&taro, &hanako, &mixed] {
        assert_eq!(u.state, UserState::PendingSetup); // MIG-6
        assert!(u.password_hash.is_none());
        assert!(u.methods.is_empty());
    }
    // MIG-6: a pending user cannot sign in.
    let pw = tobira::ids::Password::parse("Anything-1").unwrap();
    assert_eq!(
        h.app
            .login("taro.yamada@example.co.jp", &pw, &ctx())
            .await
            .unwrap_err(),
        tobira::Error::InvalidCredentials
    );
}

// MIG-3, MIG-7
#[tokio::test]
async fn mig_3_collision_renames_with_ecid_and_mig_7_one_user_per_contract() {
    let h = Harness::new();
    let r = import_and_apply(&h).await;
    // ecid…06 sorts first and keeps the plain ID; ecid…07 is renamed.
    assert_eq!(
        line(&r, "ecid1000000006")["final_login_id"],
        "shared@example.com"
    );
    assert_eq!(line(&r, "ecid1000000007")["outcome"], "renamed");
    assert_eq!(
        line(&r, "ecid1000000007")["final_login_id"],
        "shared@example.com_ecid1000000007"
    );
    let a = user_by_login(&h, "shared@example.com").await.unwrap();
    let b = user_by_login(&h, "SHARED@example.com_ecid1000000007")
        .await
        .unwrap();
    assert_ne!(a.id, b.id); // MIG-7: two portal users
    assert_eq!(a.tenant_id.as_str(), "econ1000000001");
    assert_eq!(b.tenant_id.as_str(), "econ2000000001");
    assert_eq!(r["counts"]["renamed"], 1);
    assert_eq!(r["counts"]["rejected"], 0);
}

// MIG-3
#[tokio::test]
async fn mig_3_same_login_ids_whatever_the_apply_chunking() {
    let recs = vec![
        record("dup@example.com", "ecid3", "econA"),
        record("DUP@example.com", "ecid1", "econB"),
        record("dup@Example.com", "ecid2", "econC"),
        record("solo@example.com", "ecid9", "econA"),
    ];
    let mut outcomes = Vec::new();
    for chunk in [None, Some(1), Some(2)] {
        let h = Harness::new();
        let mut reversed = recs.clone();
        if chunk.is_some() {
            reversed.reverse();
        }
        h.app.import(&reversed, &ctx()).await.unwrap();
        let opts = ApplyOptions {
            max_records: chunk,
            ..ApplyOptions::default()
        };
        while !h.app.apply(&opts, &ctx()).await.unwrap().complete {}
        let mut ids = Vec::new();
        for (ecid, login) in [
            ("ecid1", "DUP@example.com"),
            ("ecid2", "dup@Example.com"),
            ("ecid3", "dup@example.com"),
        ] {
            let plain = login.to_string();
            let renamed = format!("{login}_{ecid}");
            let kept_plain = user_by_login(&h, &plain)
                .await
                .is_some_and(|u| u.ecid.as_ref().unwrap().as_str() == ecid);
            let got_renamed = user_by_login(&h, &renamed).await.is_some();
            ids.push((ecid, kept_plain, got_renamed));
        }
        outcomes.push(ids);
    }
    assert_eq!(outcomes[0], outcomes[1]);
    assert_eq!(outcomes[0], outcomes[2]);
    assert!(outcomes[0][0].1, "ecid1 sorts first and keeps the plain ID");
}

// MIG-3
#[tokio::test]
async fn mig_3_existing_portal_user_keeps_the_id_and_a_still_colliding_rename_is_rejected() {
    let h = Harness::new();
    h.stage(&[("taken@example.com", "ecid1", "econA")]).await;
    apply_all(&h.app).await;
    // A second contract brings the same ID and an ID that equals the rename.
    let r = h
        .stage(&[
            ("taken@example.com", "ecid2", "econB"),
            ("other@example.com", "ecid5", "econB"),
        ])
        .await;
    assert_eq!(r.counts.staged, 2);
    h.stage(&[("x@example.com_ecid7", "ecid6", "econC")]).await;
    h.stage(&[
        ("x@example.com", "ecid7", "econD"),
        ("x@example.com", "ecid0", "econE"),
    ])
    .await;
    let r = apply_all(&h.app).await;
    let by = |e: &str| r.records.iter().find(|l| l.ecid == e).unwrap().clone();
    assert_eq!(
        by("ecid2").final_login_id.as_deref(),
        Some("taken@example.com_ecid2")
    );
    // ecid7 loses x@example.com to ecid0 and its rename is ecid6's plain ID.
    let l7 = by("ecid7");
    assert_eq!(l7.outcome, tobira::migration::Outcome::Rejected);
    assert!(l7.reason.unwrap().contains("taken"));
    // Nothing was overwritten.
    let orig = user_by_login(&h, "taken@example.com").await.unwrap();
    assert_eq!(orig.ecid.unwrap().as_str(), "ecid1");
}

// MIG-5
#[tokio::test]
async fn mig_5_phone_every_branch_listed_in_the_report() {
    let h = Harness::new();
    let r = import_and_apply(&h).await;
    let phone = |e: &str| {
        (
            line(&r, e)["phone_before"].clone(),
            line(&r, e)["phone_after"].clone(),
        )
    };
    assert_eq!(
        phone("ecid1000000001"),
        (json!("0312345678"), json!("0312345678"))
    ); // digits: unchanged
    assert_eq!(
        phone("ecid1000000002"),
        (json!("03-1234-5679"), json!("0312345679"))
    );
    assert_eq!(phone("ecid1000000003"), (json!(""), json!("0312345678"))); // empty → default
    assert_eq!(phone("ecid1000000004"), (json!("12"), json!("0312345678"))); // too short
    assert_eq!(
        phone("ecid1000000005"),
        (json!("０９０－１２３４－５６７８"), json!("09012345678"))
    );
    assert_eq!(
        phone("ecid1000000008"),
        (json!("+81 90 1111 2222"), json!("819011112222"))
    );
    assert_eq!(phone("ecid1000000013").1, json!("0312345678")); // too long
    assert_eq!(line(&r, "ecid1000000009")["outcome"], "migrated"); // 0123: 4 digits kept
    assert_eq!(line(&r, "ecid1000000002")["outcome"], "phone_normalised");
    let u = user_by_login(&h, "saburo@example.co.jp").await.unwrap();
    assert_eq!(u.phone, "09012345678");
}

// MIG-8
#[tokio::test]
async fn mig_8_rerun_never_duplicates_and_reports_already_migrated() {
    let h = Harness::new();
    import_and_apply(&h).await;
    let again = import_sample(&h).await;
    assert_eq!(again["counts"]["already_migrated"], 13);
    let r = invoke(&h, json!({ "action": "apply" })).await;
    assert_eq!(r["records"].as_array().unwrap().len(), 0);
    let members = h
        .app
        .query_all(
            &keys::tenant_members(&tobira::ids::TenantId::parse("econ1000000001").unwrap()),
            "USER#",
        )
        .await
        .unwrap();
    assert_eq!(members.len(), 6);
    let r: Option<(LoginRef, u64)> = get_as(
        h.app.store.as_ref(),
        &keys::login(&tobira::ids::LoginId::parse("jiro@example.co.jp").unwrap()),
        h.app.now(),
    )
    .await
    .unwrap();
    assert!(r.is_some());
}

// MIG-9
#[tokio::test]
async fn mig_9_dry_run_reports_everything_and_writes_nothing() {
    let h = Harness::new();
    import_sample(&h).await;
    let before = h.memory.snapshot();
    let plan = invoke(&h, json!({ "action": "plan" })).await;
    let dry = invoke(&h, json!({ "action": "apply", "dry_run": true })).await;
    assert_eq!(plan["records"].as_array().unwrap().len(), 13);
    assert_eq!(dry["counts"], plan["counts"]);
    assert_eq!(h.memory.snapshot(), before, "a dry run writes nothing");
    assert!(h.mails().await.is_empty());
}

// MIG-1
#[tokio::test]
async fn mig_1_malformed_records_are_rejected_with_reason_and_do_not_stop_the_batch() {
    let h = Harness::new();
    let recs = vec![
        json!({ "login_id": "a@example.com", "ecid": "ecid1", "email": "not-an-email", "name": "A", "tenant_id": "t1", "role": "general" }),
        json!({ "login_id": "b@example.com", "ecid": "ecid2", "email": "b@example.com", "name": "B", "tenant_id": "t1", "role": "boss" }),
        json!({ "login_id": "c@example.com", "ecid": "ecid3", "email": "c@example.com", "name": "C", "tenant_id": "t1", "role": "general", "extra": 1 }),
        json!("not an object"),
        record("ok@example.com", "ecid4", "t1"),
    ];
    let r = h.app.import(&recs, &ctx()).await.unwrap();
    assert_eq!(r.counts.rejected, 4);
    assert_eq!(r.counts.staged, 1);
    assert!(r.records.iter().filter(|l| l.reason.is_some()).all(|l| !l
        .reason
        .as_ref()
        .unwrap()
        .is_empty()));
}

// MIG-10
#[tokio::test]
async fn mig_10_malformed_event_is_refused_and_changes_nothing() {
    let h = Harness::new();
    for bad in [
        json!({}),
        json!({ "action": "explode" }),
        json!({ "action": "apply", "dry_run": "yes" }),
        json!({ "action": "status", "x": 1 }),
    ] {
        let e = tobira_migrate_batch::handle(&h.app, bad.clone())
            .await
            .unwrap_err();
        assert_eq!(e.code(), "invalid_event", "{bad}");
    }
    assert!(h.memory.snapshot().is_empty());
}

// MIG-10
#[tokio::test]
async fn mig_10_scheduled_event_continues_in_bounded_chunks() {
    let mut config = crate::support::test_config();
    config.migrate_chunk = 5;
    let h = Harness::with_config(config);
    import_sample(&h).await;
    let scheduled: Value =
        serde_json::from_str(include_str!("../../events/migrate-batch/scheduled.json")).unwrap();
    let r = invoke(&h, scheduled.clone()).await;
    assert_eq!(r["records"].as_array().unwrap().len(), 5);
    assert_eq!(r["complete"], false);
    assert!(r["next"].is_string(), "{r}");
    invoke(&h, scheduled.clone()).await;
    let r = invoke(&h, scheduled).await;
    assert_eq!(r["records"].as_array().unwrap().len(), 3);
    assert_eq!(r["complete"], true);
    assert_eq!(
        invoke(&h, json!({ "action": "status" })).await["counts"]["migrated"],
        13
    );
}

// MIG-10
#[tokio::test]
async fn mig_10_zero_max_records_is_refused_not_looped() {
    let h = Harness::new();
    for bad in [
        json!({ "action": "plan", "max_records": 0 }),
        json!({ "action": "apply", "max_records": 0 }),
    ] {
        let e = tobira_migrate_batch::handle(&h.app, bad).await.unwrap_err();
        assert_eq!(e.code(), "invalid_event");
    }
    assert!(h.memory.snapshot().is_empty());
}
