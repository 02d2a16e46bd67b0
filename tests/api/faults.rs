//! Faults fail closed and lose nothing: a store or mail outage answers 503
//! (with Retry-After), and a retry after the outage completes the work.

use crate::support::{body_json, ctx, json_req, record, Harness};
use tobira::migration::ApplyOptions;

#[tokio::test]
async fn store_down_answers_503_and_nothing_is_lost() {
    let h = Harness::new();
    h.active_user("fault@example.com", "Tobira-Door42").await;
    let attempt = || {
        h.send(json_req(
            "POST",
            "/api/login",
            r#"{"login_id":"fault@example.com","password":"Tobira-Door42"}"#,
        ))
    };
    h.faulty.set_down(true);
    let r = attempt().await;
    assert_eq!(r.status(), 503);
    assert_eq!(body_json(&r)["error"], "temporarily_unavailable");
    assert!(r.headers().get("retry-after").is_some());
    // Reads work but writes fail: the attempt cannot be counted, so no password is checked (fail closed).
    h.faulty.set_down(false);
    h.faulty.set_writes_down(true);
    let r = attempt().await;
    assert_eq!(r.status(), 503);
    h.faulty.set_writes_down(false);
    let r = attempt().await;
    assert_eq!(r.status(), 200);
}

// SET-1 (issue 17 item 5): a mail fault delays setup links and loses none.
#[tokio::test]
async fn set_1_a_mail_fault_delays_the_setup_links_and_loses_none() {
    let h = Harness::new();
    h.stage(&[
        ("m1@example.com", "ecid1", "t1"),
        ("m2@example.com", "ecid2", "t1"),
    ])
    .await;
    crate::support::apply_all(&h.app).await;
    h.outbox.set_failing(true);
    let r = h.app.send_setup_links(None, false, &ctx()).await.unwrap();
    assert_eq!((r.sent, r.failed), (2, 0), "both links are in the outbox");
    let d = h.deliver().await;
    assert_eq!((d.sent, d.retrying), (0, 2));
    assert!(h.outbox.mails().is_empty());
    let r = h.app.send_setup_links(None, false, &ctx()).await.unwrap();
    assert_eq!((r.sent, r.skipped), (0, 2), "nobody is queued twice");
    // The service is back; the next try (30 s on) mails both, once.
    h.outbox.set_failing(false);
    h.advance(std::time::Duration::from_secs(30));
    assert_eq!(h.deliver().await.sent, 2, "nobody was lost to the outage");
    h.advance(std::time::Duration::from_secs(3600));
    assert_eq!(
        h.deliver().await,
        Default::default(),
        "and nobody is mailed twice"
    );
    for login in ["m1@example.com", "m2@example.com"] {
        let token = h.setup_token(login).await;
        assert!(
            h.app.check_setup_token(&token).await.is_ok(),
            "{login}: the link works"
        );
    }
    // The public resend answers at once whatever the mail service does;
    // the link follows when it is back.
    h.advance(std::time::Duration::from_secs(120));
    h.outbox.set_failing(true);
    let resend = json_req(
        "POST",
        "/api/setup/resend",
        r#"{"login_id":"m1@example.com","email":"m1@example.com"}"#,
    );
    let before = h.outbox.mails().len();
    assert_eq!(h.send(resend).await.status(), 202);
    h.outbox.set_failing(false);
    assert_eq!(h.outbox.mails().len(), before, "not sent yet");
    h.advance(std::time::Duration::from_secs(30));
    assert_eq!(h.mails().await.len(), before + 1, "the link is sent");
}

// MIG-8
#[tokio::test]
async fn mig_8_store_faults_during_apply_converge_without_duplicates() {
    let recs: Vec<_> = (0..20)
        .map(|i| record(&format!("u{i}@example.com"), &format!("ecid{i:03}"), "t1"))
        .collect();
    let h = Harness::new();
    h.app.import(&recs, &ctx()).await.unwrap();
    h.faulty.fail_every(13);
    for _ in 0..300 {
        if let Ok(r) = h.app.apply(&ApplyOptions::default(), &ctx()).await {
            if r.complete {
                break;
            }
        }
    }
    h.faulty.fail_every(0);
    let r = h.app.apply(&ApplyOptions::default(), &ctx()).await.unwrap();
    assert!(r.records.is_empty() && r.complete, "all applied: {r:?}");
    let members = h.app.query_all("TENANT#t1", "USER#").await.unwrap();
    assert_eq!(members.len(), 20, "every record became exactly one user");
}
