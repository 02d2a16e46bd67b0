//! Filing support cases (CASE-1, CASE-2, MIG-13): what a signed-in user
//! files, what is refused, case numbers under parallel creation.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tobira::cases::ListQuery;
use tobira::{App, Config};
use tobira_local::sqlite::SqliteStore;
use tobira_web::i18n::Lang;

use crate::cases_support::*;
use crate::mfa_support::Client;
use crate::support::{body_text, ctx, test_config, Harness};

// CASE-1, CASE-2
#[tokio::test]
async fn case_1_a_signed_in_user_files_inquiries_and_work_requests_in_their_tenant() {
    let h = Harness::new();
    let mut c = signed_in(&h, "file@example.com", TENANT_A, "ecid9000000001").await;
    // The tenant is never a request field.
    let mut with_tenant = new_case("請求書");
    with_tenant["tenant_id"] = json!(TENANT_B);
    let (s, b) = c.post("/api/cases", with_tenant).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_json")));
    let (id, number) = create(&mut c, "請求書の再発行について").await;
    assert_eq!(number, "CS0000001");
    let mut work = new_case("月次レポートの送付先変更");
    work["kind"] = json!("work_request");
    work["category"] = json!("作業依頼");
    let (s, b) = c.post("/api/cases", work).await;
    assert_eq!((s, b["number"].as_str()), (201, Some("CS0000002")));
    let (s, d) = get_json(&mut c, &format!("/api/cases/{id}")).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["tenant_id"], TENANT_A);
    assert_eq!(d["number"], "CS0000001");
    assert_eq!(d["status"], "new");
    assert_eq!(d["kind"], "inquiry");
    assert_eq!(d["category"], "サービスについて");
    assert_eq!(d["comments"], json!([]));
    // Not signed in, or only half signed in: refused.
    let (s, _) = Client::new(&h).post("/api/cases", new_case("x")).await;
    assert_eq!(s, 401);
    let mut half = Client::at_challenge(&h, "file@example.com").await;
    let (s, _) = half.post("/api/cases", new_case("x")).await;
    assert_eq!(s, 403);
    assert!(h
        .audit_kinds(TENANT_A)
        .await
        .contains(&"case.created".to_string()));
}

// CASE-1: bad input is refused with a clear error and writes nothing.
#[tokio::test]
async fn case_1_bad_input_is_refused_and_changes_nothing() {
    let mut config = test_config();
    config.cases.subject_max = 10;
    config.cases.body_max = 50;
    let h = Harness::with_config(config);
    let mut c = signed_in(&h, "bad@example.com", TENANT_A, "ecid9000000001").await;
    let (id, _) = create(&mut c, "ok").await;
    let before = h.memory.snapshot();
    let mails = h.mails().await.len();
    let field = |k: &str, v: Value| {
        let mut b = new_case("件名");
        b[k] = v;
        b
    };
    let cases = [
        (field("subject", json!("")), "empty"),
        (field("subject", json!("   ")), "empty"),
        (field("subject", json!("あ".repeat(11))), "too_long"),
        (field("subject", json!("a\u{7}b")), "control_characters"),
        (field("body", json!("")), "empty"),
        (field("body", json!("x".repeat(51))), "too_long"),
        (
            field("category", json!("存在しないカテゴリ")),
            "unknown_category",
        ),
        (field("category", json!("")), "unknown_category"),
        (field("kind", json!("complaint")), "invalid_kind"),
        (field("kind", json!(1)), "invalid_json"),
        (
            json!({ "kind": "inquiry", "category": "その他", "subject": "s" }),
            "invalid_json",
        ),
    ];
    for (body, code) in cases {
        let (s, b) = c.post("/api/cases", body.clone()).await;
        assert_eq!((s, b["error"].as_str()), (400, Some(code)), "{body}");
        assert!(!b["message"].as_str().unwrap().is_empty());
    }
    // The limit is the configured one, and the message says it.
    let (_, b) = c
        .post("/api/cases", field("subject", json!("あ".repeat(11))))
        .await;
    assert!(b["message"].as_str().unwrap().contains("10"), "{b}");
    // Exactly at the limits is fine (checked after the refusals).
    for (body, code) in [
        (json!({ "body": "" }), "empty"),
        (json!({ "body": "x".repeat(51) }), "too_long"),
    ] {
        let (s, b) = c.post(&format!("/api/cases/{id}/comments"), body).await;
        assert_eq!((s, b["error"].as_str()), (400, Some(code)));
    }
    let (s, b) = c
        .post(&format!("/api/cases/{id}/close"), json!({ "x": 1 }))
        .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_json")));
    let (s, b) = get_json(&mut c, "/api/cases?filter=everything").await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_filter")));
    let (s, b) = get_json(&mut c, "/api/cases?cursor=not-a-cursor").await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_cursor")));
    let long_q = "q".repeat(101);
    let (s, b) = get_json(&mut c, &format!("/api/cases?q={long_q}")).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("too_long")));
    assert_eq!(
        h.memory.snapshot(),
        before,
        "a refused request wrote nothing"
    );
    assert_eq!(h.mails().await.len(), mails);
    // At the limits: accepted.
    let (s, _) = c
        .post(
            "/api/cases",
            json!({ "kind": "inquiry", "category": "その他", "subject": "あ".repeat(10), "body": "x".repeat(50) }),
        )
        .await;
    assert_eq!(s, 201);
}

/// 100 creations at once on `app`: 100 different numbers, 1..=100.
async fn hundred_parallel_creations(app: &App, tenant: &str) {
    let user = member(app, "parallel@example.com", tenant, false, Lang::Ja).await;
    let mut tasks = Vec::new();
    for n in 0..100 {
        let app = app.clone();
        let user = user.clone();
        tasks.push(tokio::spawn(async move {
            let subject = format!("parallel {n}");
            let new = inquiry(&subject, "body");
            app.create_case(&user, &new, &ctx()).await
        }));
    }
    let mut numbers = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for t in tasks {
        let c = t.await.unwrap().expect("created");
        assert!(
            c.number.len() == 9 && c.number.starts_with("CS"),
            "{}",
            c.number
        );
        numbers.insert(c.number);
        ids.insert(c.id);
    }
    let expected: BTreeSet<String> = (1..=100).map(tobira::cases::number_for).collect();
    assert_eq!(numbers, expected, "no number twice, none lost");
    assert_eq!(ids.len(), 100);
    // Every case is listed once.
    let mut listed = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = ListQuery {
            cursor: cursor.as_deref(),
            ..Default::default()
        };
        let page = app.list_cases(&user, &q).await.unwrap();
        for i in &page.items {
            assert!(listed.insert(i.number.clone()), "{} twice", i.number);
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(listed, expected);
}

// CASE-2
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn case_2_no_duplicate_number_under_100_parallel_creations_embedded_store() {
    let h = harness_over(Arc::new(SqliteStore::in_memory()));
    hundred_parallel_creations(&h.app, TENANT_A).await;
}

// CASE-2
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn case_2_no_duplicate_number_under_100_parallel_creations_dynamodb() {
    let h = harness_over(Arc::new(crate::support::dynamo_store().await));
    hundred_parallel_creations(&h.app, "econ9000000101").await;
}

// CASE-2: numbers continue above the legacy system's.
#[tokio::test]
async fn case_2_numbers_start_where_configured() {
    let mut config = test_config();
    config.cases.number_start = 30_400;
    let h = Harness::with_config(config);
    let u = member(&h.app, "start@example.com", TENANT_A, false, Lang::Ja).await;
    let new = inquiry("s", "b");
    let c = h.app.create_case(&u, &new, &ctx()).await.unwrap();
    assert_eq!(c.number, "CS0030400");
}

fn window_config(split: &str) -> Config {
    let mut config = test_config();
    // Today (the test clock) is inside the window.
    let today = tobira::clock::Timestamp::from_millis(crate::support::T0.millis()).jst_date();
    config.migration_window = Some((today.clone(), today));
    config.cases.filing_split = match split {
        "always" => tobira::config::FilingSplit::Always,
        "never" => tobira::config::FilingSplit::Never,
        _ => tobira::config::FilingSplit::DuringWindow,
    };
    config.cases.legacy_url = Some("https://legacy.example.com/support".into());
    config
}

// MIG-13
#[tokio::test]
async fn mig_13_legacy_users_file_in_the_legacy_system_during_the_window() {
    let h = Harness::with_config(window_config("window"));
    let mut legacy = signed_in(&h, "legacy@example.com", TENANT_A, "ecid9000000001").await;
    let (s, b) = legacy.post("/api/cases", new_case("from legacy")).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (403, Some("file_in_legacy_system"))
    );
    assert!(b["message"]
        .as_str()
        .unwrap()
        .contains("https://legacy.example.com/support"));
    // The page says so instead of showing the form.
    let page = legacy.get("/cases/new").await;
    assert_eq!(page.status(), 403);
    let html = body_text(&page);
    assert!(
        html.contains("id=\"filing-refused\"")
            && html.contains("https://legacy.example.com/support")
    );
    assert!(!html.contains("id=\"submit-case\""));
    // They still follow the tenant's cases.
    let (s, _) = get_json(&mut legacy, "/api/cases").await;
    assert_eq!(s, 200);
    // A user created in the portal files here.
    let portal = member(&h.app, "portal@example.com", TENANT_A, false, Lang::Ja).await;
    let new = inquiry("from portal", "b");
    assert!(h.app.create_case(&portal, &new, &ctx()).await.is_ok());
    // After the window everyone files here; "always" keeps the split; "never" drops it.
    let after = Harness::with_config(window_config("window"));
    let u = member(&after.app, "late@example.com", TENANT_A, true, Lang::Ja).await;
    after.advance(Duration::from_secs(2 * 24 * 3600));
    assert!(after.app.create_case(&u, &new, &ctx()).await.is_ok());
    let always = Harness::with_config(window_config("always"));
    let u = member(&always.app, "always@example.com", TENANT_A, true, Lang::En).await;
    always.advance(Duration::from_secs(2 * 24 * 3600));
    let e = always
        .app
        .create_case(
            &u,
            &new,
            &tobira::Ctx {
                lang: Lang::En,
                ..ctx()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "file_in_legacy_system");
    let words = tobira_web::errors::error_message(&e, Lang::En);
    assert!(words.contains("legacy system"), "{words}");
    assert!(
        words.contains("https://legacy.example.com/support"),
        "{words}"
    );
    let never = Harness::with_config(window_config("never"));
    let u = member(&never.app, "never@example.com", TENANT_A, true, Lang::Ja).await;
    assert!(never.app.create_case(&u, &new, &ctx()).await.is_ok());
}
