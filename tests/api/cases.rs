//! Support cases (CASE-1..5, MIG-13): the API and pages of `create-case`,
//! the desk's `case-update` event, and the store-level guarantees (numbers,
//! tenant isolation) on the embedded store and on DynamoDB.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tobira::cases::{CasePage, Kind, ListQuery, Move, NewCase, Status};
use tobira::ids::{Ecid, Email, LoginId, PersonName, TenantId};
use tobira::model::{keys, User, UserState};
use tobira::store::{Cond, Store, Write};
use tobira::{App, Config};
use tobira_local::sqlite::SqliteStore;
use tobira_test_kit::MemoryStore;
use tobira_web::i18n::Lang;

use crate::mfa_support::{full_client, totp_enrol, Client, PW};
use crate::support::{body_json, body_text, ctx, form_req, hidden, test_config, Harness};

const TENANT_A: &str = "econ9000000001";
const TENANT_B: &str = "econ9000000002";
const CASE_ID: &str = "01JDQ3ZV8K9M2N4P6R8T0V2X4Y";

fn new_case(subject: &str) -> Value {
    json!({
        "kind": "inquiry",
        "category": "サービスについて",
        "subject": subject,
        "body": "先月分の請求書を再発行していただけますか。",
    })
}

/// An active member of `tenant` written straight into the store (for the
/// domain-level tests that run on DynamoDB as well).
async fn member(app: &App, login: &str, tenant: &str, legacy: bool, lang: Lang) -> User {
    let now = app.now();
    let mut u = User::pending(
        format!(
            "U{}",
            login.len() * 1000 + login.bytes().map(usize::from).sum::<usize>()
        ),
        TenantId::parse(tenant).unwrap(),
        LoginId::parse(login).unwrap(),
        Email::parse(login).unwrap(),
        PersonName::parse("Case Tester").unwrap(),
        now,
    );
    u.state = UserState::Active;
    u.lang = lang;
    if legacy {
        u.ecid = Some(Ecid::parse("ecid9000000042").unwrap());
    }
    app.store
        .write(
            vec![Write::put(keys::user(&u.id), &u, None, Cond::Absent)],
            now,
        )
        .await
        .unwrap();
    u
}

/// A signed-in (full session) client of a new user in `tenant`.
async fn signed_in<'a>(h: &'a Harness, login: &str, tenant: &str, ecid: &str) -> Client<'a> {
    h.active_user_in(login, PW, tenant, ecid).await;
    let (secret, _) = totp_enrol(h, login).await;
    full_client(h, login, &secret).await
}

async fn create(c: &mut Client<'_>, subject: &str) -> (String, String) {
    let (s, b) = c.post("/api/cases", new_case(subject)).await;
    assert_eq!(s, 201, "{b}");
    (
        b["id"].as_str().unwrap().to_string(),
        b["number"].as_str().unwrap().to_string(),
    )
}

async fn status_of(c: &mut Client<'_>, id: &str) -> Value {
    get_json(c, &format!("/api/cases/{id}")).await.1["status"].clone()
}

async fn list(h: &Harness, u: &User, q: ListQuery<'_>) -> CasePage {
    h.app.list_cases(u, &q, Lang::Ja).await.unwrap()
}

fn numbers(p: &CasePage) -> Vec<String> {
    p.items.iter().map(|i| i.number.clone()).collect()
}

async fn get_json(c: &mut Client<'_>, path: &str) -> (u16, Value) {
    let r = c.get(path).await;
    (r.status().as_u16(), body_json(&r))
}

/// The desk's event, as an operator invokes migrate-batch.
async fn desk(h: &Harness, number: &str, status: Option<&str>, comment: Option<&str>) -> Value {
    let mut e = json!({ "action": "case-update", "number": number });
    if let Some(s) = status {
        e["status"] = json!(s);
    }
    if let Some(c) = comment {
        e["comment"] = json!(c);
    }
    tobira_migrate_batch::handle(&h.app, e).await.unwrap()
}

fn mails_about(h: &Harness, number: &str) -> Vec<String> {
    h.outbox
        .mails()
        .into_iter()
        .filter(|m| m.subject.contains(number))
        .map(|m| m.subject)
        .collect()
}

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
    let mails = h.outbox.mails().len();
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
    assert_eq!(h.outbox.mails().len(), mails);
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
            let new = NewCase {
                kind: Kind::Inquiry,
                category: "その他",
                subject: &subject,
                body: "body",
            };
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
        let page = app.list_cases(&user, &q, Lang::En).await.unwrap();
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

fn harness_over(store: Arc<dyn Store>) -> Harness {
    Harness::over(test_config(), store, Arc::new(MemoryStore::default()))
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
    let new = NewCase {
        kind: Kind::Inquiry,
        category: "その他",
        subject: "s",
        body: "b",
    };
    let c = h.app.create_case(&u, &new, &ctx()).await.unwrap();
    assert_eq!(c.number, "CS0030400");
}

/// Two tenants on one store: nothing of one is reachable from the other.
async fn tenants_are_isolated(app: &App) {
    let a = member(app, "a@example.com", "econ9000000201", false, Lang::Ja).await;
    let b = member(app, "b@example.com", "econ9000000202", false, Lang::Ja).await;
    let new = NewCase {
        kind: Kind::Inquiry,
        category: "その他",
        subject: "secret plans",
        body: "only for tenant A",
    };
    let ca = app.create_case(&a, &new, &ctx()).await.unwrap();
    let cb = app.create_case(&b, &new, &ctx()).await.unwrap();
    assert_eq!(app.case_detail(&a, &ca.id).await.unwrap().case.id, ca.id);
    // B names A's case: 404 for every read and every change.
    assert_eq!(
        app.case_detail(&b, &ca.id).await.unwrap_err(),
        tobira::Error::NotFound
    );
    assert_eq!(
        app.comment_case(&b, &ca.id, "hi", &ctx())
            .await
            .unwrap_err(),
        tobira::Error::NotFound
    );
    for m in [Move::Close, Move::Accept, Move::Reject] {
        assert_eq!(
            app.move_case(&b, &ca.id, m, &ctx()).await.unwrap_err(),
            tobira::Error::NotFound
        );
    }
    // Lists and searches show only the own tenant's cases.
    for q in [None, Some("secret")] {
        let query = ListQuery {
            q,
            ..Default::default()
        };
        let la = app.list_cases(&a, &query, Lang::Ja).await.unwrap();
        let lb = app.list_cases(&b, &query, Lang::Ja).await.unwrap();
        assert_eq!(la.items.iter().map(|i| &i.id).collect::<Vec<_>>(), [&ca.id]);
        assert_eq!(lb.items.iter().map(|i| &i.id).collect::<Vec<_>>(), [&cb.id]);
    }
    // A's case is untouched.
    let d = app.case_detail(&a, &ca.id).await.unwrap();
    assert_eq!((d.case.status, d.thread.len()), (Status::New, 0));
}

// CASE-4
#[tokio::test]
async fn case_4_another_tenants_case_is_404_on_the_embedded_store() {
    let h = harness_over(Arc::new(SqliteStore::in_memory()));
    tenants_are_isolated(&h.app).await;
}

// CASE-4
#[tokio::test]
async fn case_4_another_tenants_case_is_404_on_dynamodb() {
    let h = harness_over(Arc::new(crate::support::dynamo_store().await));
    tenants_are_isolated(&h.app).await;
}

// CASE-4 through the API: the session's tenant, whatever the request says.
#[tokio::test]
async fn case_4_api_answers_404_for_another_tenants_case() {
    let h = Harness::new();
    let mut a = signed_in(&h, "alice@example.com", TENANT_A, "ecid9000000001").await;
    let mut b = signed_in(&h, "bob@example.com", TENANT_B, "ecid9000000002").await;
    let (id, _) = create(&mut a, "A only").await;
    let (s, body) = get_json(&mut b, &format!("/api/cases/{id}")).await;
    assert_eq!((s, body["error"].as_str()), (404, Some("not_found")));
    let (s, _) = b
        .post(&format!("/api/cases/{id}/comments"), json!({ "body": "x" }))
        .await;
    assert_eq!(s, 404);
    let (s, _) = b.post(&format!("/api/cases/{id}/close"), json!({})).await;
    assert_eq!(s, 404);
    let (_, list) = get_json(&mut b, "/api/cases").await;
    assert_eq!(list["items"], json!([]));
    // A malformed ID is no case either.
    let (s, _) = get_json(&mut a, "/api/cases/not-an-id").await;
    assert_eq!(s, 404);
    let (s, _) = get_json(&mut a, &format!("/api/cases/{CASE_ID}")).await;
    assert_eq!(s, 404);
    let (s, d) = get_json(&mut a, &format!("/api/cases/{id}")).await;
    assert_eq!((s, d["status"].as_str()), (200, Some("new")));
}

// CASE-3: the whole lifecycle, with 409 for every move the status forbids.
#[tokio::test]
async fn case_3_lifecycle_new_in_progress_awaiting_resolved_closed() {
    let h = Harness::new();
    let mut c = signed_in(&h, "life@example.com", TENANT_A, "ecid9000000001").await;
    let (id, number) = create(&mut c, "lifecycle").await;
    let post = |what: &str| format!("/api/cases/{id}/{what}");
    // Accept and reject only on a resolved case.
    for what in ["accept", "reject"] {
        let (s, b) = c.post(&post(what), json!({})).await;
        assert_eq!((s, b["error"].as_str()), (409, Some("case_not_resolved")));
    }
    // The desk: new → in progress → awaiting customer.
    assert_eq!(
        desk(&h, &number, Some("in_progress"), None).await["status"],
        "in_progress"
    );
    let r = desk(
        &h,
        &number,
        Some("awaiting_customer"),
        Some("ログを送ってください"),
    )
    .await;
    assert_eq!(r["status"], "awaiting_customer");
    assert_eq!(status_of(&mut c, &id).await, "awaiting_customer");
    // The customer's answer hands it back to the desk.
    let (s, _) = c
        .post(&post("comments"), json!({ "body": "添付します" }))
        .await;
    assert_eq!(s, 201);
    assert_eq!(status_of(&mut c, &id).await, "in_progress");
    // Resolved: close is refused (accept or reject it), reject → in progress.
    desk(&h, &number, Some("resolved"), None).await;
    let (s, b) = c.post(&post("close"), json!({})).await;
    assert_eq!((s, b["error"].as_str()), (409, Some("case_resolved")));
    let (s, b) = c.post(&post("reject"), json!({})).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("in_progress")));
    desk(&h, &number, Some("resolved"), None).await;
    let (s, b) = c.post(&post("accept"), json!({})).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("closed")));
    // A closed case never reopens: not by the customer, not by the desk.
    for what in ["close", "accept", "reject"] {
        let (s, b) = c.post(&post(what), json!({})).await;
        assert_eq!(
            (s, b["error"].as_str()),
            (409, Some("case_closed")),
            "{what}"
        );
    }
    let (s, b) = c
        .post(&post("comments"), json!({ "body": "もう一度" }))
        .await;
    assert_eq!((s, b["error"].as_str()), (409, Some("case_closed")));
    let e = tobira_migrate_batch::handle(
        &h.app,
        json!({ "action": "case-update", "number": number, "status": "in_progress" }),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (tobira_web::errors::status(&e), e.code()),
        (409, "case_closed")
    );
    assert_eq!(status_of(&mut c, &id).await, "closed");
    // The customer may close a case that is not resolved.
    let (other, _) = create(&mut c, "closing early").await;
    let (s, b) = c
        .post(&format!("/api/cases/{other}/close"), json!({}))
        .await;
    assert_eq!((s, b["status"].as_str()), (200, Some("closed")));
    // The desk cannot set "new", nor the status a case has.
    let (_, n3) = create(&mut c, "third").await;
    for (st, code) in [("new", "case_status_invalid"), ("in_progress", "")] {
        let r = tobira_migrate_batch::handle(
            &h.app,
            json!({ "action": "case-update", "number": n3, "status": st }),
        )
        .await;
        match code {
            "" => assert_eq!(r.unwrap()["status"], "in_progress"),
            code => assert_eq!(r.unwrap_err().code(), code),
        }
    }
    let e = tobira_migrate_batch::handle(
        &h.app,
        json!({ "action": "case-update", "number": n3, "status": "in_progress" }),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "case_status_unchanged");
    let kinds = h.audit_kinds(TENANT_A).await;
    assert!(kinds.iter().filter(|k| *k == "case.status").count() >= 8);
}

// CASE-3: parallel moves are decided one at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn case_3_parallel_accept_and_reject_one_wins() {
    let h = Harness::new();
    let u = member(&h.app, "race@example.com", TENANT_A, false, Lang::Ja).await;
    let new = NewCase {
        kind: Kind::Inquiry,
        category: "その他",
        subject: "race",
        body: "b",
    };
    let c = h.app.create_case(&u, &new, &ctx()).await.unwrap();
    h.app
        .desk_update(&c.number, Some(Status::Resolved), None, &ctx())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for n in 0..20 {
        let (app, u, id) = (h.app.clone(), u.clone(), c.id.clone());
        let m = if n % 2 == 0 {
            Move::Accept
        } else {
            Move::Reject
        };
        tasks.push(tokio::spawn(async move {
            app.move_case(&u, &id, m, &ctx()).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert_eq!(tobira_web::errors::status(&e), 409, "{e:?}"),
        }
    }
    // The first move leaves "resolved"; a reject's "in progress" still
    // refuses the others (accept/reject need "resolved"), a close is final.
    assert_eq!(ok, 1);
}

// CASE-4: action needed, newest update first, keyword search, pages.
#[tokio::test]
async fn case_4_filter_sort_search_and_cursor_pagination() {
    let h = Harness::new();
    let u = member(&h.app, "list@example.com", TENANT_A, false, Lang::Ja).await;
    let mut made = Vec::new();
    for n in 0..25 {
        let subject = format!("case {n:02}");
        let body = if n == 7 {
            "ＶＰＮ接続が切れる"
        } else {
            "本文"
        };
        let new = NewCase {
            kind: Kind::Inquiry,
            category: "その他",
            subject: &subject,
            body,
        };
        made.push(h.app.create_case(&u, &new, &ctx()).await.unwrap().number);
        h.advance(Duration::from_secs(1));
    }
    // Newest first, 20 a page, then the rest.
    let first = list(&h, &u, ListQuery::default()).await;
    assert_eq!(first.items.len(), 20);
    assert_eq!(first.items[0].number, made[24]);
    assert_eq!(first.items[19].number, made[5]);
    let second = list(
        &h,
        &u,
        ListQuery {
            cursor: first.next_cursor.as_deref(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        numbers(&second),
        made[..5].iter().rev().cloned().collect::<Vec<_>>()
    );
    assert_eq!(second.next_cursor, None);
    // An update moves a case to the top.
    let desk = |n: usize, s: Status, c: Option<&'static str>| {
        let (app, number) = (h.app.clone(), made[n].clone());
        async move { app.desk_update(&number, Some(s), c, &ctx()).await.unwrap() }
    };
    desk(3, Status::AwaitingCustomer, None).await;
    h.advance(Duration::from_secs(1));
    desk(10, Status::Resolved, None).await;
    h.advance(Duration::from_secs(1));
    desk(
        12,
        Status::InProgress,
        Some("調査中です。ファイアウォールの設定を確認しています。"),
    )
    .await;
    let top = list(&h, &u, ListQuery::default()).await;
    assert_eq!(
        numbers(&top)[..3],
        [made[12].clone(), made[10].clone(), made[3].clone()]
    );
    // Action needed: awaiting customer or resolved, newest first.
    let needed = ListQuery {
        action_needed: true,
        ..Default::default()
    };
    assert_eq!(
        numbers(&list(&h, &u, needed).await),
        [made[10].clone(), made[3].clone()]
    );
    // Keywords: subject, body (full-width folded), comments.
    let q = |k: &'static str| ListQuery {
        q: Some(k),
        ..Default::default()
    };
    assert_eq!(
        numbers(&list(&h, &u, q("CASE 07")).await),
        [made[7].clone()]
    );
    assert_eq!(numbers(&list(&h, &u, q("vpn")).await), [made[7].clone()]);
    assert_eq!(
        numbers(&list(&h, &u, q("ファイアウォール")).await),
        [made[12].clone()]
    );
    assert!(list(&h, &u, q("存在しない語")).await.items.is_empty());
    // Keyword and filter together.
    let both = ListQuery {
        q: Some("ファイアウォール"),
        action_needed: true,
        ..Default::default()
    };
    assert!(list(&h, &u, both).await.items.is_empty());
}

// CASE-5: comments, and a notice on creation and every status change, in
// the language of the user who filed the case.
#[tokio::test]
async fn case_5_comments_and_notices_in_the_users_language() {
    let h = Harness::new();
    let en = member(&h.app, "english@example.com", TENANT_A, false, Lang::En).await;
    let ja = member(&h.app, "japanese@example.com", TENANT_A, false, Lang::Ja).await;
    let new = NewCase {
        kind: Kind::WorkRequest,
        category: "作業依頼",
        subject: "Policy change",
        body: "Please change the detection policy.",
    };
    let c = h.app.create_case(&en, &new, &ctx()).await.unwrap();
    let mails = h.outbox.mails();
    let created = mails.last().unwrap();
    assert_eq!(created.to, "english@example.com");
    assert!(
        created.subject.contains("We have received your case"),
        "{}",
        created.subject
    );
    assert!(created.text.contains(&c.number) && created.text.contains("Policy change"));
    assert!(created
        .text
        .contains(&format!("https://portal.example.com/cases/{}", c.id)));
    // The body is not in the mail (behind sign-in).
    assert!(!created.text.contains("detection policy"));
    // A comment without a status change mails nothing; the desk's status change does.
    let before = h.outbox.mails().len();
    let comment = h
        .app
        .comment_case(&ja, &c.id, "同じ件で追記します", &ctx())
        .await
        .unwrap();
    assert_eq!(comment.name, "Case Tester");
    assert_eq!(h.outbox.mails().len(), before);
    h.app
        .desk_update(
            &c.number,
            Some(Status::AwaitingCustomer),
            Some("Which policy?"),
            &ctx(),
        )
        .await
        .unwrap();
    let last = h.outbox.mails().last().unwrap().clone();
    assert!(
        last.subject.contains("Awaiting your reply"),
        "{}",
        last.subject
    );
    // Comments in order, the desk's marked as such.
    let d = h.app.case_detail(&en, &c.id).await.unwrap();
    assert_eq!(
        d.thread
            .iter()
            .map(|m| (m.by, m.body.as_str()))
            .collect::<Vec<_>>(),
        [
            (tobira::cases::Author::Customer, "同じ件で追記します"),
            (tobira::cases::Author::Support, "Which policy?"),
        ]
    );
    assert_eq!(d.case.comment_count, 2);
    // A Japanese user's case: Japanese notices.
    let cj = h.app.create_case(&ja, &new, &ctx()).await.unwrap();
    h.app
        .desk_update(&cj.number, Some(Status::Resolved), None, &ctx())
        .await
        .unwrap();
    assert_eq!(
        mails_about(&h, &cj.number),
        [
            format!("tobira [{}] ケースを受け付けました", cj.number),
            format!(
                "tobira [{}] ケースの状況が「解決済み（クローズ待ち）」になりました",
                cj.number
            ),
        ]
    );
    h.app
        .move_case(&ja, &cj.id, Move::Accept, &ctx())
        .await
        .unwrap();
    assert_eq!(mails_about(&h, &cj.number).len(), 3);
    // Three status changes and two creations: five notices in all.
    assert_eq!(
        h.outbox
            .mails()
            .iter()
            .filter(|m| m.subject.contains("[CS"))
            .count(),
        5
    );
}

// CASE-5: a mail fault does not lose the case; a store fault writes nothing.
#[tokio::test]
async fn case_5_faults_fail_closed_and_lose_nothing() {
    let h = Harness::new();
    let u = member(&h.app, "fault@example.com", TENANT_A, false, Lang::Ja).await;
    let new = NewCase {
        kind: Kind::Inquiry,
        category: "その他",
        subject: "fault",
        body: "b",
    };
    h.outbox.set_failing(true);
    let c = h.app.create_case(&u, &new, &ctx()).await.unwrap();
    h.outbox.set_failing(false);
    assert_eq!(
        h.app.case_detail(&u, &c.id).await.unwrap().case.number,
        c.number
    );
    assert!(h
        .audit_kinds(TENANT_A)
        .await
        .contains(&"case.notice_failed".to_string()));
    // The store down: 503 and nothing written.
    let before = h.memory.snapshot();
    h.faulty.set_down(true);
    let e = h.app.create_case(&u, &new, &ctx()).await.unwrap_err();
    assert_eq!(tobira_web::errors::status(&e), 503);
    let e = h
        .app
        .move_case(&u, &c.id, Move::Close, &ctx())
        .await
        .unwrap_err();
    assert_eq!(tobira_web::errors::status(&e), 503);
    h.faulty.set_down(false);
    assert_eq!(h.memory.snapshot(), before);
    // Writes down after the number was taken: the case is not half made.
    h.faulty.set_writes_down(true);
    assert_eq!(
        tobira_web::errors::status(&h.app.create_case(&u, &new, &ctx()).await.unwrap_err()),
        503
    );
    h.faulty.set_writes_down(false);
    let all = h
        .app
        .list_cases(&u, &ListQuery::default(), Lang::Ja)
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1);
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
    let new = NewCase {
        kind: Kind::Inquiry,
        category: "その他",
        subject: "from portal",
        body: "b",
    };
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
    assert!(e.to_string().contains("legacy system"), "{e}");
    let never = Harness::with_config(window_config("never"));
    let u = member(&never.app, "never@example.com", TENANT_A, true, Lang::Ja).await;
    assert!(never.app.create_case(&u, &new, &ctx()).await.is_ok());
}

// CASE-1, CASE-3, CASE-4, CASE-5: the pages, without JavaScript.
#[tokio::test]
async fn case_pages_list_new_detail_comment_and_close() {
    let h = Harness::new();
    // Not signed in: the pages send the visitor to sign in.
    let r = h.send(crate::support::get("/cases")).await;
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap()
        ),
        (303, "/login")
    );
    let mut c = signed_in(&h, "pages@example.com", TENANT_A, "ecid9000000001").await;
    let list = c.get("/cases").await;
    assert_eq!(list.status(), 200);
    let html = body_text(&list);
    assert!(html.contains("id=\"no-cases\"") && !html.contains("<script"));
    let form = c.get("/cases/new").await;
    let html = body_text(&form);
    assert!(html.contains("正常性確認依頼(利用開始時)") && html.contains("name=\"subject\""));
    let csrf = hidden(&html, "csrf");
    // A refused form keeps what was typed.
    let r = h
        .send(c.jar.apply(form_req(
            "/cases/new",
            &[
                ("csrf", &csrf),
                ("kind", "inquiry"),
                ("category", "その他"),
                ("subject", "件名あり"),
                ("body", ""),
            ],
        )))
        .await;
    assert_eq!(r.status(), 400);
    let html = body_text(&r);
    assert!(html.contains("id=\"form-error\"") && html.contains("value=\"件名あり\""));
    let r = h
        .send(c.jar.apply(form_req(
            "/cases/new",
            &[
                ("csrf", &csrf),
                ("kind", "work_request"),
                ("category", "作業依頼"),
                ("subject", "ポリシー変更"),
                ("body", "検知ポリシーを変更してください"),
            ],
        )))
        .await;
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.ends_with("?notice=case_created"), "{location}");
    let path = location.split('?').next().unwrap().to_string();
    let detail = body_text(&c.get(&location).await);
    assert!(detail.contains("CS0000001") && detail.contains("検知ポリシーを変更してください"));
    assert!(detail.contains("id=\"close-case\"") && !detail.contains("id=\"accept-case\""));
    let csrf = hidden(&detail, "csrf");
    let r = h
        .send(c.jar.apply(form_req(
            &format!("{path}/comments"),
            &[("csrf", &csrf), ("body", "補足です")],
        )))
        .await;
    assert_eq!(r.status(), 303);
    let detail = body_text(&c.get(&path).await);
    assert!(detail.contains("補足です"));
    // The list finds it by keyword.
    let html = body_text(&c.get("/cases?q=%E8%A3%9C%E8%B6%B3").await);
    assert!(html.contains("data-number=\"CS0000001\""), "{html}");
    // Resolved: accept and reject instead of close.
    desk(&h, "CS0000001", Some("resolved"), None).await;
    let detail = body_text(&c.get(&path).await);
    assert!(detail.contains("id=\"accept-case\"") && !detail.contains("id=\"close-case\""));
    let html = body_text(&c.get("/cases?filter=action_needed").await);
    assert!(html.contains("data-number=\"CS0000001\""));
    // Closing a resolved case through a stale form: 409 on the case page.
    let r = h
        .send(
            c.jar
                .apply(form_req(&format!("{path}/close"), &[("csrf", &csrf)])),
        )
        .await;
    assert_eq!(r.status(), 409);
    assert!(body_text(&r).contains("id=\"form-error\""));
    let r = h
        .send(
            c.jar
                .apply(form_req(&format!("{path}/accept"), &[("csrf", &csrf)])),
        )
        .await;
    assert_eq!(r.status(), 303);
    let detail = body_text(&c.get(&path).await);
    assert!(detail.contains("data-status=\"closed\"") && detail.contains("id=\"closed-note\""));
    assert!(!detail.contains("id=\"send-comment\""));
    // Another tenant's case page is 404.
    let mut other = signed_in(&h, "other@example.com", TENANT_B, "ecid9000000002").await;
    assert_eq!(other.get(&path).await.status(), 404);
    // The dashboard links to the cases.
    assert!(body_text(&c.get("/").await).contains("href=\"/cases\""));
}
