//! Work requests the desk accepts or declines (CASE-7) and the cases that
//! deliver its monthly reports (CASE-8), on the embedded store and on
//! DynamoDB, through the desk's `case-update` event as operators send it.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tobira::cases::{Author, Decision, Filter, Kind, ListQuery, NewCase, Status, StatusChange};
use tobira::model::User;
use tobira_local::sqlite::SqliteStore;
use tobira_web::i18n::Lang;

use crate::cases_support::*;
use crate::support::{ctx, Harness};

fn work_request(subject: &str) -> NewCase<'_> {
    NewCase {
        kind: Kind::WorkRequest,
        category: "作業依頼",
        subject,
        body: "検知ポリシーを変更してください。",
    }
}

/// The desk's event; the report, or the refusal's (HTTP status, code).
async fn event(h: &Harness, e: Value) -> Result<Value, (u16, String)> {
    tobira_migrate_batch::handle(&h.app, e)
        .await
        .map_err(|e| (tobira_web::errors::status(&e), e.code().to_string()))
}

fn update(number: &str, fields: Value) -> Value {
    let mut e = json!({ "action": "case-update", "number": number });
    e.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    e
}

async fn case_7_on(h: Harness) {
    let ja = member(&h.app, "request-ja@example.com", TENANT_A, false, Lang::Ja).await;
    let en = member(&h.app, "request-en@example.com", TENANT_A, false, Lang::En).await;
    let declined = h
        .app
        .create_case(&ja, &work_request("ポリシー変更"), &ctx())
        .await
        .unwrap();
    let n = declined.number.as_str();
    // Waiting for the decision: the desk sets no status.
    for status in ["in_progress", "resolved", "closed"] {
        let r = event(&h, update(n, json!({ "status": status }))).await;
        assert_eq!(r, Err((409, "work_request_undecided".into())), "{status}");
    }
    // Bad input: 400 and nothing changes.
    for (fields, code) in [
        (json!({ "decision": "decline" }), "empty"),
        (json!({ "decision": "decline", "reason": " \n" }), "empty"),
        (
            json!({ "decision": "accept", "reason": "x" }),
            "reason_without_decline",
        ),
        (json!({ "reason": "x" }), "reason_without_decline"),
        (
            json!({ "decision": "accept", "status": "in_progress" }),
            "status_with_decision",
        ),
        (
            json!({ "decision": "decline", "reason": "x", "comment": "y" }),
            "comment_with_reason",
        ),
        (json!({ "decision": "maybe" }), "invalid_event"),
    ] {
        let r = event(&h, update(n, fields.clone())).await;
        assert_eq!(r, Err((400, code.to_string())), "{fields}");
    }
    let d = h.app.case_detail(&ja, &declined.id).await.unwrap();
    assert_eq!((d.case.status, d.case.decision), (Status::New, None));
    assert!(d.thread.is_empty());
    assert_eq!(
        mails_about(&h, n).await.len(),
        1,
        "only the filing's notice"
    );
    // Declined with a reason: closed, the reason in the thread, the filer
    // mailed in Japanese (the reason stays behind sign-in).
    let reason = "対象の機器が契約に含まれていません。";
    let r = event(
        &h,
        update(n, json!({ "decision": "decline", "reason": reason })),
    )
    .await
    .unwrap();
    assert_eq!(
        (r["status"].as_str(), r["decision"].as_str()),
        (Some("closed"), Some("declined"))
    );
    let d = h.app.case_detail(&ja, &declined.id).await.unwrap();
    assert_eq!(
        (d.case.status, d.case.decision),
        (Status::Closed, Some(Decision::Declined))
    );
    assert_eq!(d.thread.len(), 1);
    assert_eq!(
        (d.thread[0].by, d.thread[0].body.as_str()),
        (Author::Support, reason)
    );
    assert_eq!(
        d.thread[0].status_change,
        Some(StatusChange {
            from: Status::New,
            to: Status::Closed
        })
    );
    let mails = h.mails().await;
    let mail = mails.iter().rfind(|m| m.subject.contains(n)).unwrap();
    assert_eq!(mail.to, "request-ja@example.com");
    assert_eq!(
        mail.subject,
        format!("tobira [{n}] 作業依頼を受理できませんでした")
    );
    assert!(mail.text.contains("ポリシー変更"), "{}", mail.text);
    assert!(!mail.text.contains(reason), "{}", mail.text);
    assert!(
        !mail.text.contains("検知ポリシー"),
        "the body stays behind sign-in"
    );
    // Decided once: a replay or another decision is refused as decided, and
    // a declined request never reopens.
    for fields in [
        json!({ "decision": "decline", "reason": reason }),
        json!({ "decision": "accept" }),
    ] {
        let r = event(&h, update(n, fields)).await;
        assert_eq!(r, Err((409, "work_request_decided".into())));
    }
    let r = event(&h, update(n, json!({ "status": "in_progress" }))).await;
    assert_eq!(r, Err((409, "case_closed".into())));
    assert_eq!(mails_about(&h, n).await.len(), 2, "no mail for a refusal");
    // Accepted: a case in progress; the English filer is mailed in English.
    let accepted = h
        .app
        .create_case(&en, &work_request("Policy change"), &ctx())
        .await
        .unwrap();
    let n2 = accepted.number.as_str();
    let r = event(
        &h,
        update(n2, json!({ "decision": "accept", "comment": "承ります。" })),
    )
    .await
    .unwrap();
    assert_eq!(r["status"], "in_progress");
    assert_eq!(
        mails_about(&h, n2).await,
        [
            format!("tobira [{n2}] We have received your case"),
            format!("tobira [{n2}] We have accepted your work request"),
        ]
    );
    let r = event(
        &h,
        update(n2, json!({ "decision": "decline", "reason": "x" })),
    )
    .await;
    assert_eq!(r, Err((409, "work_request_decided".into())));
    // From here, CASE-3 as for any case.
    let r = event(&h, update(n2, json!({ "status": "resolved" }))).await;
    assert_eq!(r.unwrap()["status"], "resolved");
    // An inquiry is never accepted or declined.
    let inq = h
        .app
        .create_case(&en, &inquiry("q", "b"), &ctx())
        .await
        .unwrap();
    let r = event(&h, update(&inq.number, json!({ "decision": "accept" }))).await;
    assert_eq!(r, Err((409, "not_a_work_request".into())));
    // The decisions are in the tenant's audit trail.
    let events = h.audit_events(TENANT_A).await;
    let details: Vec<String> = events
        .iter()
        .filter(|e| e.kind == "case.status")
        .filter_map(|e| e.detail.clone())
        .collect();
    assert!(
        details.contains(&format!("{n} new→closed declined")),
        "{details:?}"
    );
    assert!(
        details.contains(&format!("{n2} new→in_progress accepted")),
        "{details:?}"
    );
    // Ten decisions at once on one request: exactly one is taken.
    let racing = h
        .app
        .create_case(&ja, &work_request("race"), &ctx())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (app, n) = (h.app.clone(), racing.number.clone());
        let fields = if i % 2 == 0 {
            json!({ "decision": "accept" })
        } else {
            json!({ "decision": "decline", "reason": format!("reason {i}") })
        };
        tasks.push(tokio::spawn(async move {
            tobira_migrate_batch::handle(&app, update(&n, fields)).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert!(
                matches!(e.code(), "work_request_decided" | "case_closed"),
                "{}",
                e.code()
            ),
        }
    }
    assert_eq!(ok, 1);
    let d = h.app.case_detail(&ja, &racing.id).await.unwrap();
    assert_eq!(d.thread.len(), 1, "one decision's entry");
    assert!(d.thread[0].status_change.is_some());
    assert!(d.case.decision.is_some());
    assert_eq!(mails_about(&h, &racing.number).await.len(), 2);
    // Withdrawn by the filer while it waited: the desk cannot decide it.
    let withdrawn = h
        .app
        .create_case(&ja, &work_request("withdrawn"), &ctx())
        .await
        .unwrap();
    let closed = h
        .app
        .move_case(&ja, &withdrawn.id, tobira::cases::Move::Close, None, &ctx())
        .await
        .unwrap();
    assert_eq!(closed, Status::Closed);
    let r = event(
        &h,
        update(&withdrawn.number, json!({ "decision": "accept" })),
    )
    .await;
    assert_eq!(r, Err((409, "case_closed".into())));
    let d = h.app.case_detail(&ja, &withdrawn.id).await.unwrap();
    assert_eq!(d.case.decision, None);
}

// CASE-7
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn case_7_the_desk_accepts_or_declines_a_work_request_on_the_embedded_store() {
    case_7_on(harness_over(Arc::new(SqliteStore::in_memory()))).await;
}

// CASE-7
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn case_7_the_desk_accepts_or_declines_a_work_request_on_dynamodb() {
    case_7_on(on_dynamodb().await).await;
}

async fn numbers_in(h: &Harness, u: &User, filter: Filter) -> Vec<String> {
    let q = ListQuery {
        filter,
        ..Default::default()
    };
    numbers(&list(h, u, q).await)
}

async fn case_8_on(h: Harness) {
    let u = member(&h.app, "reports@example.com", TENANT_A, false, Lang::Ja).await;
    let other = member(&h.app, "reports-b@example.com", TENANT_B, false, Lang::Ja).await;
    let mut made = Vec::new();
    for s in ["2026年10月分", "問い合わせ", "2026年11月分"] {
        made.push(
            h.app
                .create_case(&u, &inquiry(s, "b"), &ctx())
                .await
                .unwrap()
                .number,
        );
    }
    let theirs = h
        .app
        .create_case(&other, &inquiry("B社 11月分", "b"), &ctx())
        .await
        .unwrap();
    assert!(numbers_in(&h, &u, Filter::MonthlyReport).await.is_empty());
    // The desk marks the report deliveries (its own tenant's for B).
    for n in [&made[0], &made[2], &theirs.number] {
        h.advance(Duration::from_secs(1));
        let r = event(&h, update(n, json!({ "monthly_report": true }))).await;
        assert_eq!(r.unwrap()["monthly_report"], true);
    }
    let r = event(&h, update(&made[1], json!({ "monthly_report": "yes" }))).await;
    assert_eq!(r.map_err(|e| e.0), Err(400));
    // Newest update first, only this tenant's, beside "action needed".
    assert_eq!(
        numbers_in(&h, &u, Filter::MonthlyReport).await,
        [made[2].clone(), made[0].clone()]
    );
    assert_eq!(numbers_in(&h, &u, Filter::All).await.len(), 3);
    h.advance(Duration::from_secs(1));
    event(&h, update(&made[2], json!({ "status": "resolved" })))
        .await
        .unwrap();
    assert_eq!(
        numbers_in(&h, &u, Filter::ActionNeeded).await,
        [made[2].clone()]
    );
    let theirs_now = numbers_in(&h, &other, Filter::MonthlyReport).await;
    assert_eq!(theirs_now, [theirs.number]);
    // The mark comes off again, and the list follows.
    h.advance(Duration::from_secs(1));
    event(&h, update(&made[0], json!({ "monthly_report": false })))
        .await
        .unwrap();
    assert_eq!(
        numbers_in(&h, &u, Filter::MonthlyReport).await,
        [made[2].clone()]
    );
    // A replay of a mark writes nothing: the case keeps its place.
    let before = numbers_in(&h, &u, Filter::All).await;
    h.advance(Duration::from_secs(1));
    let r = event(&h, update(&made[0], json!({ "monthly_report": false })))
        .await
        .unwrap();
    assert_eq!(r["monthly_report"], false);
    assert_eq!(numbers_in(&h, &u, Filter::All).await, before);
    // A case in the report delivery category is a report without the mark
    // (seed 002 4.8); the filter and a keyword together.
    h.advance(Duration::from_secs(1));
    let delivery = NewCase {
        category: tobira::config::REPORT_DELIVERY_CATEGORY,
        ..inquiry("2026年12月分", "b")
    };
    let delivered = h
        .app
        .create_case(&u, &delivery, &ctx())
        .await
        .unwrap()
        .number;
    assert_eq!(
        numbers_in(&h, &u, Filter::MonthlyReport).await,
        [delivered.clone(), made[2].clone()]
    );
    let q = ListQuery {
        filter: Filter::MonthlyReport,
        q: Some("12月"),
        ..Default::default()
    };
    assert_eq!(numbers(&list(&h, &u, q).await), [delivered]);
    let kinds = h.audit_kinds(TENANT_A).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "case.monthly_report").count(),
        3
    );
}

// CASE-8
#[tokio::test]
async fn case_8_monthly_report_filter_on_the_embedded_store() {
    case_8_on(harness_over(Arc::new(SqliteStore::in_memory()))).await;
}

// CASE-8
#[tokio::test]
async fn case_8_monthly_report_filter_on_dynamodb() {
    case_8_on(on_dynamodb().await).await;
}

// CASE-8, CASE-7: the API's filter and the pages.
#[tokio::test]
async fn case_8_the_api_and_the_list_page_filter_monthly_reports() {
    let h = Harness::new();
    let mut c = signed_in(&h, "report-page@example.com", TENANT_A, "ecid9000000011").await;
    let (_, report) = create(&mut c, "2026年11月 月次レポート").await;
    let (_, plain) = create(&mut c, "ふつうの問い合わせ").await;
    event(&h, update(&report, json!({ "monthly_report": true })))
        .await
        .unwrap();
    let (s, b) = get_json(&mut c, "/api/cases?filter=monthly_report").await;
    assert_eq!(s, 200);
    let items = b["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (
            items[0]["number"].as_str(),
            items[0]["monthly_report"].as_bool()
        ),
        (Some(report.as_str()), Some(true))
    );
    let (s, b) = get_json(&mut c, "/api/cases?filter=reports").await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_filter")));
    // Customers set neither the mark nor a decision.
    for extra in [
        json!({ "monthly_report": true }),
        json!({ "decision": "accepted" }),
    ] {
        let mut body = new_case("自分で印を付ける");
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (s, b) = c.post("/api/cases", body).await;
        assert_eq!(
            (s, b["error"].as_str()),
            (400, Some("invalid_json")),
            "{extra}"
        );
    }
    let html = body_of(&mut c, "/cases?filter=monthly_report").await;
    assert!(html.contains(&report) && !html.contains(&plain), "{html}");
    assert!(html.contains(
        r#"<strong id="filter-monthly-report" aria-current="page">月次レポート</strong>"#
    ));
    assert!(html.contains(r#"<a href="/cases?filter=action_needed" id="filter-action-needed">"#));
    assert!(html.contains(r#"<input type="hidden" name="filter" value="monthly_report">"#));
    // A work request waiting for the desk says so; once declined, the page
    // shows the decision.
    let (s, b) = c
        .post(
            "/api/cases",
            json!({ "kind": "work_request", "category": "作業依頼", "subject": "設定変更", "body": "b" }),
        )
        .await;
    assert_eq!(s, 201);
    let (id, number) = (b["id"].as_str().unwrap(), b["number"].as_str().unwrap());
    let page = body_of(&mut c, &format!("/cases/{id}")).await;
    assert!(page.contains(r#"id="awaits-decision""#), "{page}");
    event(
        &h,
        update(
            number,
            json!({ "decision": "decline", "reason": "契約外です" }),
        ),
    )
    .await
    .unwrap();
    let page = body_of(&mut c, &format!("/cases/{id}")).await;
    assert!(!page.contains(r#"id="awaits-decision""#));
    assert!(
        page.contains(r#"<td id="case-decision" data-decision="declined">不受理</td>"#),
        "{page}"
    );
    let (_, d) = get_json(&mut c, &format!("/api/cases/{id}")).await;
    assert_eq!(
        (d["decision"].as_str(), d["status"].as_str()),
        (Some("declined"), Some("closed"))
    );
}

async fn body_of(c: &mut crate::mfa_support::Client<'_>, path: &str) -> String {
    let r = c.get(path).await;
    crate::support::body_text(&r)
}
