//! The migration's jobs (MIG-9, MIG-10, MIG-12): the plan's pages, the time
//! budget and its checkpoints, the mail jobs, closing the window.

use std::time::Duration;

use serde_json::{json, Value};
use tobira::Config;

use crate::support::{apply_all, ctx, record, sample_records, Harness};

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
    assert!(h.mails().await.is_empty());
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
    assert_eq!(h.mails().await.len(), 13, "each user mailed once");
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
    let setup_mails = h.mails().await.len();
    let old_token = h.setup_token("hanako.sato@example.co.jp").await;
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
    let mails_before = h.mails().await.len();

    let r = tobira_migrate_batch::handle(&h.app, json!({"action": "close-window"}))
        .await
        .unwrap();
    assert_eq!(r["sent"], 13, "{r}");
    assert!(!h.app.window_open().await.unwrap());
    let notices: Vec<_> = h.mails().await[mails_before..].to_vec();
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
    let before = h.mails().await.len();
    h.outbox.set_failing(true);
    let r = h.app.close_window(false, &ctx()).await.unwrap();
    assert_eq!((r.sent, r.failed, r.complete), (0, 1, false));
    h.outbox.set_failing(false);
    let r = h.app.continue_migration(&ctx()).await.unwrap();
    assert_eq!(r["job"]["sent"], 13, "{r}");
    assert_eq!(h.mails().await.len() - before, 13);
}

// MIG-8, MIG-9 (issue 16 item 10): an import's `batch` scopes `apply` and
// its dry run; `after` only pages a run of one tenant or batch.
#[tokio::test]
async fn mig_9_a_batch_scopes_the_apply_and_its_plan() {
    let h = Harness::new();
    let recs = sample_records();
    let run = |event: Value| tobira_migrate_batch::handle(&h.app, event);
    run(json!({ "action": "import", "records": &recs[..3], "batch": "first" }))
        .await
        .unwrap();
    run(json!({ "action": "import", "records": &recs[3..5], "batch": "second" }))
        .await
        .unwrap();
    let plan = run(json!({ "action": "apply", "dry_run": true, "batch": "second" }))
        .await
        .unwrap();
    let planned: Vec<&str> = plan["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ecid"].as_str().unwrap())
        .collect();
    assert_eq!(planned, ["ecid1000000004", "ecid1000000005"]);
    let e = run(json!({ "action": "apply", "after": "econ1000000001/ecid1000000001" }))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_event");
    let applied = run(json!({ "action": "apply", "batch": "second" }))
        .await
        .unwrap();
    assert_eq!(applied["counts"]["migrated"], 2);
    assert!(applied["complete"].as_bool().unwrap());
    let status = run(json!({ "action": "status" })).await.unwrap();
    assert_eq!(status["counts"]["pending"], 3, "the first batch waits");
    let e = run(json!({ "action": "import", "records": [], "batch": "no spaces" }))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_event");
}
