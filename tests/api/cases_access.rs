//! Who sees which support case (CASE-4): tenant isolation on the embedded
//! store and on DynamoDB, the list's filter, sort, search and pages.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tobira::cases::{ListQuery, Move, Status};
use tobira::App;
use tobira_local::sqlite::SqliteStore;
use tobira_web::i18n::Lang;

use crate::cases_support::*;
use crate::support::{ctx, Harness};

const CASE_ID: &str = "01JDQ3ZV8K9M2N4P6R8T0V2X4Y";

/// Two tenants on one store: nothing of one is reachable from the other.
async fn tenants_are_isolated(app: &App) {
    let a = member(app, "a@example.com", "econ9000000201", false, Lang::Ja).await;
    let b = member(app, "b@example.com", "econ9000000202", false, Lang::Ja).await;
    let new = inquiry("secret plans", "only for tenant A");
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
            app.move_case(&b, &ca.id, m, Some("why"), &ctx())
                .await
                .unwrap_err(),
            tobira::Error::NotFound
        );
    }
    // Lists and searches show only the own tenant's cases.
    for q in [None, Some("secret")] {
        let query = ListQuery {
            q,
            ..Default::default()
        };
        let la = app.list_cases(&a, &query).await.unwrap();
        let lb = app.list_cases(&b, &query).await.unwrap();
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
        let new = inquiry(&subject, body);
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
        async move {
            app.desk_update(&number, &set_status(s, c), &ctx())
                .await
                .unwrap()
        }
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
        filter: tobira::cases::Filter::ActionNeeded,
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
    // And by its number, as printed or typed in lower case / full width.
    let number: &'static str = Box::leak(made[9].clone().into_boxed_str());
    assert_eq!(numbers(&list(&h, &u, q(number)).await), [made[9].clone()]);
    let typed: &'static str = Box::leak(number.to_lowercase().into_boxed_str());
    assert_eq!(numbers(&list(&h, &u, q(typed)).await), [made[9].clone()]);
    assert_eq!(
        numbers(&list(&h, &u, q("ファイアウォール")).await),
        [made[12].clone()]
    );
    assert!(list(&h, &u, q("存在しない語")).await.items.is_empty());
    // Keyword and filter together.
    let both = ListQuery {
        q: Some("ファイアウォール"),
        filter: tobira::cases::Filter::ActionNeeded,
        ..Default::default()
    };
    assert!(list(&h, &u, both).await.items.is_empty());
}
