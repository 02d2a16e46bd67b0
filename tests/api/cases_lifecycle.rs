//! A support case's life (CASE-3, CASE-5): its moves, the desk's
//! `case-update` event, comments and notices, faults.

use serde_json::{json, Value};
use tobira::cases::{Decision, DeskUpdate, Kind, ListQuery, Move, NewCase, Status};
use tobira_web::i18n::Lang;

use crate::cases_support::*;
use crate::mfa_support::Client;
use crate::support::{ctx, Harness};

async fn status_of(c: &mut Client<'_>, id: &str) -> Value {
    get_json(c, &format!("/api/cases/{id}")).await.1["status"].clone()
}

/// A move's body: a rejection says why.
fn body(what: &str) -> Value {
    match what {
        "reject" => json!({ "reason": "まだ直っていません" }),
        _ => json!({}),
    }
}

// CASE-3 (issue 16): a rejection says why, and every change of status is
// an entry of the thread, with the words that came with it or on its own.
#[tokio::test]
async fn case_3_a_rejection_says_why_and_the_thread_shows_every_change_of_status() {
    let h = Harness::new();
    let mut c = signed_in(&h, "why@example.com", TENANT_A, "ecid9000000003").await;
    let (id, number) = create(&mut c, "why").await;
    desk(&h, &number, Some("in_progress"), None).await;
    desk(&h, &number, Some("resolved"), Some("直しました")).await;
    let reject = format!("/api/cases/{id}/reject");
    // No reason, a blank one, or another field: 400, and nothing moves.
    for (bad, code) in [
        (json!({}), "empty"),
        (json!({ "reason": "  \n " }), "empty"),
        (json!({ "why": "x" }), "invalid_json"),
    ] {
        let (s, b) = c.post(&reject, bad.clone()).await;
        assert_eq!((s, b["error"].as_str()), (400, Some(code)), "{bad}");
    }
    let (_, before) = get_json(&mut c, &format!("/api/cases/{id}")).await;
    assert_eq!(before["status"], "resolved");
    assert_eq!(before["comments"].as_array().unwrap().len(), 2);
    let (s, b) = c
        .post(&reject, json!({ "reason": "夜間にまた再起動しました" }))
        .await;
    assert_eq!((s, b["status"].as_str()), (200, Some("in_progress")));
    let (s, b) = c.post(&format!("/api/cases/{id}/close"), json!({})).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("closed")));
    let (_, after) = get_json(&mut c, &format!("/api/cases/{id}")).await;
    let thread: Vec<(String, String, Value)> = after["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let by = e["by"].as_str().unwrap().to_string();
            let body = e["body"].as_str().unwrap().to_string();
            (by, body, e["status_change"].clone())
        })
        .collect();
    let change = |from: &str, to: &str| json!({ "from": from, "to": to });
    assert_eq!(
        thread,
        vec![
            ("support".into(), "".into(), change("new", "in_progress")),
            (
                "support".into(),
                "直しました".into(),
                change("in_progress", "resolved")
            ),
            (
                "customer".into(),
                "夜間にまた再起動しました".into(),
                change("resolved", "in_progress")
            ),
            (
                "customer".into(),
                "".into(),
                change("in_progress", "closed")
            ),
        ]
    );
    // A status entry is not a comment: the comment count is the words.
    assert_eq!(after["comment_count"], 2);
}

// CASE-3: a full thread never takes the customer's way to reject away (the
// reason is part of the move, not a comment the cap counts).
#[tokio::test]
async fn case_3_a_full_thread_still_takes_a_rejection() {
    let mut config = crate::support::test_config();
    config.cases.comments_max = 1;
    let h = Harness::with_config(config);
    let mut c = signed_in(&h, "full@example.com", TENANT_A, "ecid9000000004").await;
    let (id, number) = create(&mut c, "full").await;
    let (s, _) = c
        .post(
            &format!("/api/cases/{id}/comments"),
            json!({ "body": "one" }),
        )
        .await;
    assert_eq!(s, 201);
    let (s, b) = c
        .post(
            &format!("/api/cases/{id}/comments"),
            json!({ "body": "two" }),
        )
        .await;
    assert_eq!((s, b["error"].as_str()), (409, Some("case_comments_full")));
    desk(&h, &number, Some("resolved"), None).await;
    let (s, b) = c
        .post(&format!("/api/cases/{id}/reject"), body("reject"))
        .await;
    assert_eq!((s, b["status"].as_str()), (200, Some("in_progress")));
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
        let (s, b) = c.post(&post(what), body(what)).await;
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
    let (s, b) = c.post(&post("reject"), body("reject")).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("in_progress")));
    desk(&h, &number, Some("resolved"), None).await;
    let (s, b) = c.post(&post("accept"), json!({})).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("closed")));
    // A closed case never reopens: not by the customer, not by the desk.
    for what in ["close", "accept", "reject"] {
        let (s, b) = c.post(&post(what), body(what)).await;
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
    let new = inquiry("race", "b");
    let c = h.app.create_case(&u, &new, &ctx()).await.unwrap();
    h.app
        .desk_update(&c.number, &set_status(Status::Resolved, None), &ctx())
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
            app.move_case(&u, &id, m, Some("not solved"), &ctx()).await
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
    // CASE-7: the work request is accepted first.
    let accept = DeskUpdate {
        decision: Some(Decision::Accepted),
        ..Default::default()
    };
    let mails = h.mails().await;
    let created = mails.last().unwrap();
    assert_eq!(created.to, "english@example.com");
    assert!(
        created.subject.contains("We have received your case"),
        "{}",
        created.subject
    );
    assert!(created.text.contains(&c.number) && created.text.contains("Policy change"));
    // CASE-1 (issue 16): the category in the reader's language.
    assert!(created.text.contains("Work request"), "{}", created.text);
    assert!(!created.text.contains("作業依頼"), "{}", created.text);
    assert!(created
        .text
        .contains(&format!("https://portal.example.com/cases/{}", c.id)));
    // The body is not in the mail (behind sign-in).
    assert!(!created.text.contains("detection policy"));
    // A comment without a status change mails nothing; the desk's status change does.
    let before = h.mails().await.len();
    let comment = h
        .app
        .comment_case(&ja, &c.id, "同じ件で追記します", &ctx())
        .await
        .unwrap();
    assert_eq!(comment.name, "Case Tester");
    assert_eq!(h.mails().await.len(), before);
    h.app.desk_update(&c.number, &accept, &ctx()).await.unwrap();
    h.app
        .desk_update(
            &c.number,
            &set_status(Status::AwaitingCustomer, Some("Which policy?")),
            &ctx(),
        )
        .await
        .unwrap();
    let last = h.mails().await.last().unwrap().clone();
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
            // CASE-7: the acceptance, an entry of its own.
            (tobira::cases::Author::Support, ""),
            (tobira::cases::Author::Support, "Which policy?"),
        ]
    );
    assert_eq!(d.case.comment_count, 2);
    // A Japanese user's case: Japanese notices.
    let cj = h.app.create_case(&ja, &new, &ctx()).await.unwrap();
    h.deliver().await;
    h.app
        .desk_update(&cj.number, &accept, &ctx())
        .await
        .unwrap();
    h.app
        .desk_update(&cj.number, &set_status(Status::Resolved, None), &ctx())
        .await
        .unwrap();
    assert_eq!(
        mails_about(&h, &cj.number).await,
        [
            format!("tobira [{}] ケースを受け付けました", cj.number),
            format!("tobira [{}] 作業依頼を受理しました", cj.number),
            format!(
                "tobira [{}] ケースの状況が「解決済み（クローズ待ち）」になりました",
                cj.number
            ),
        ]
    );
    h.app
        .move_case(&ja, &cj.id, Move::Accept, None, &ctx())
        .await
        .unwrap();
    assert_eq!(mails_about(&h, &cj.number).await.len(), 4);
    // Two acceptances, three status changes and two creations: seven notices.
    assert_eq!(
        h.mails()
            .await
            .iter()
            .filter(|m| m.subject.contains("[CS"))
            .count(),
        7
    );
}

// CASE-5: a mail fault loses neither the case nor its notice (it is sent
// at the next try); a store fault writes nothing.
#[tokio::test]
async fn case_5_faults_fail_closed_and_lose_nothing() {
    let h = Harness::new();
    let u = member(&h.app, "fault@example.com", TENANT_A, false, Lang::Ja).await;
    let new = inquiry("fault", "b");
    h.outbox.set_failing(true);
    let c = h.app.create_case(&u, &new, &ctx()).await.unwrap();
    assert_eq!(h.deliver().await.retrying, 1);
    h.outbox.set_failing(false);
    assert_eq!(
        h.app.case_detail(&u, &c.id).await.unwrap().case.number,
        c.number
    );
    h.advance(std::time::Duration::from_secs(30));
    assert_eq!(
        mails_about(&h, &c.number).await.len(),
        1,
        "the notice went out"
    );
    // The store down: 503 and nothing written.
    let before = h.memory.snapshot();
    h.faulty.set_down(true);
    let e = h.app.create_case(&u, &new, &ctx()).await.unwrap_err();
    assert_eq!(tobira_web::errors::status(&e), 503);
    let e = h
        .app
        .move_case(&u, &c.id, Move::Close, None, &ctx())
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
    let all = h.app.list_cases(&u, &ListQuery::default()).await.unwrap();
    assert_eq!(all.items.len(), 1);
}
