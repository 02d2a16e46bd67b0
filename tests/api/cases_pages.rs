//! The support-case pages (CASE-1..5) without JavaScript.

use crate::cases_support::*;
use crate::support::{body_text, hidden, Harness, Jar};

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
    assert!(html.contains("id=\"no-cases\"") && crate::support::only_portal_script(&html));
    let form = c.get("/cases/new").await;
    let html = body_text(&form);
    assert!(html.contains("正常性確認依頼(利用開始時)") && html.contains("name=\"subject\""));
    let csrf = hidden(&html, "csrf");
    // A refused form keeps what was typed.
    let new_case = |kind, category, subject, body| {
        let fields = [
            ("kind", kind),
            ("category", category),
            ("subject", subject),
            ("body", body),
        ];
        c.jar.form("/cases/new", &csrf, &fields)
    };
    let r = h.send(new_case("inquiry", "その他", "件名あり", "")).await;
    assert_eq!(r.status(), 400);
    let html = body_text(&r);
    assert!(html.contains("id=\"form-error\"") && html.contains("value=\"件名あり\""));
    let body = "検知ポリシーを変更してください";
    let r = h
        .send(new_case("work_request", "作業依頼", "ポリシー変更", body))
        .await;
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.ends_with("?notice=case_created"), "{location}");
    let path = location.split('?').next().unwrap().to_string();
    let detail = body_text(&c.get(&location).await);
    assert!(detail.contains("CS0000001") && detail.contains("検知ポリシーを変更してください"));
    assert!(detail.contains("id=\"close-case\"") && !detail.contains("id=\"accept-case\""));
    let csrf = hidden(&detail, "csrf");
    let on_case = |jar: &Jar, action: &str, fields: &[(&str, &str)]| {
        jar.form(&format!("{path}/{action}"), &csrf, fields)
    };
    let r = h
        .send(on_case(&c.jar, "comments", &[("body", "補足です")]))
        .await;
    assert_eq!(r.status(), 303);
    let detail = body_text(&c.get(&path).await);
    assert!(detail.contains("補足です"));
    // The list finds it by keyword.
    let html = body_text(&c.get("/cases?q=%E8%A3%9C%E8%B6%B3").await);
    assert!(html.contains("data-number=\"CS0000001\""), "{html}");
    // Resolved: accept and reject instead of close (the work request is
    // accepted first, CASE-7).
    let accept =
        serde_json::json!({ "action": "case-update", "number": "CS0000001", "decision": "accept" });
    tobira_migrate_batch::handle(&h.app, accept).await.unwrap();
    desk(&h, "CS0000001", Some("resolved"), None).await;
    let detail = body_text(&c.get(&path).await);
    assert!(detail.contains("id=\"accept-case\"") && !detail.contains("id=\"close-case\""));
    let html = body_text(&c.get("/cases?filter=action_needed").await);
    assert!(html.contains("data-number=\"CS0000001\""));
    // Closing a resolved case through a stale form: 409 on the case page.
    let r = h.send(on_case(&c.jar, "close", &[])).await;
    assert_eq!(r.status(), 409);
    assert!(body_text(&r).contains("id=\"form-error\""));
    let r = h.send(on_case(&c.jar, "accept", &[])).await;
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
