//! Claiming a legacy account (CLM-1..3) through the API: the check, its
//! limits, registering, linking from a full session.

use std::time::Duration;

use serde_json::json;
use tobira::session::Stage;
use tobira_web::web::{Request, Response};

use crate::portal_support::*;
use crate::support::{
    body_json, body_text, form_req, get, hidden, json_req, sample_records, Harness, Jar,
};

fn register_req(email: &str, terms: bool, privacy: bool) -> Request {
    json_req(
        "POST",
        "/api/claim/register",
        &json!({ "email": email, "accept_terms": terms, "accept_privacy": privacy }).to_string(),
    )
}

fn retry_after(r: &Response) -> Option<String> {
    r.headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string())
}

/// `POST /api/claim` with the bcrypt sample: 200 `next: register` and the
/// claim cookie in the jar.
async fn claimed(h: &Harness) -> Jar {
    let mut jar = Jar::default();
    let r = h.send(claim_req(BCRYPT_SID, BCRYPT_PW)).await;
    assert_eq!(r.status(), 200, "{}", body_text(&r));
    jar.take(&r);
    jar
}

// ------------------------------------------------------------------ CLM

// CLM-1
#[tokio::test]
async fn clm_1_claim_api_bcrypt_sample_then_register() {
    let h = Harness::new();
    h.migrate(&sample_records()).await;

    let r = h.send(claim_req(BCRYPT_SID, BCRYPT_PW)).await;
    assert_eq!(r.status(), 200, "{}", body_text(&r));
    let b = body_json(&r);
    assert_eq!(b["next"], "register");
    assert!(b["expires_in_s"].as_u64().unwrap() > 0);
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set.starts_with("__Host-tobira-claim="), "{set}");
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(set.contains(attr), "{set} lacks {attr}");
    }
    let mut jar = Jar::default();
    jar.take(&r);

    let r = h
        .send(jar.apply(register_req("claimed.owner@example.jp", true, true)))
        .await;
    assert_eq!(status_and_body(&r), (202, json!({ "next": "mail" })));
    jar.take(&r);
    assert!(jar.get("__Host-tobira-claim").is_none(), "cookie cleared");
    h.link_token("claimed.owner@example.jp", "/password/reset")
        .await;

    // The claim is used up.
    let r = h
        .send(with_cookie(
            register_req("claimed.owner@example.jp", true, true),
            &format!(
                "__Host-tobira-claim={}",
                set.split(['=', ';']).nth(1).unwrap()
            ),
        ))
        .await;
    assert_eq!(r.status(), 401);
    // Without any claim: 401 too.
    let r = h.send(register_req("x@example.jp", true, true)).await;
    assert_eq!(status_and_body(&r).0, 401);
    assert_eq!(body_json(&r)["error"], "not_signed_in");
}

// CLM-1
#[tokio::test]
async fn clm_1_three_failures_block_ten_minutes() {
    let h = Harness::new();
    h.migrate(&sample_records()).await;
    for _ in 0..3 {
        let r = h.send(claim_req(BCRYPT_SID, "Wrong-Pass1")).await;
        assert_eq!(r.status(), 401);
    }
    // Blocked, even with the right password; the block may say how long.
    let r = h.send(claim_req(BCRYPT_SID, BCRYPT_PW)).await;
    assert_eq!(r.status(), 429);
    assert_eq!(body_json(&r)["error"], "too_many_attempts");
    assert_eq!(retry_after(&r).as_deref(), Some("600"));
    assert_eq!(body_json(&r)["retry_after_s"], 600);

    h.advance(Duration::from_secs(9 * 60));
    assert_eq!(h.send(claim_req(BCRYPT_SID, BCRYPT_PW)).await.status(), 429);
    h.advance(Duration::from_secs(60));
    let r = h.send(claim_req(BCRYPT_SID, BCRYPT_PW)).await;
    assert_eq!(r.status(), 200, "{}", body_text(&r));
    assert_eq!(body_json(&r)["next"], "register");
}

// CLM-1
#[tokio::test]
async fn clm_1_unknown_service_id_and_wrong_password_answer_alike() {
    let h = Harness::new();
    h.migrate(&sample_records()).await;
    let unknown = h.send(claim_req("zz0000000000", BCRYPT_PW)).await;
    let wrong = h.send(claim_req(BCRYPT_SID, "Wrong-Pass1")).await;
    let empty = h.send(claim_req(BCRYPT_SID, "")).await;
    assert_eq!(status_and_body(&unknown).0, 401);
    assert_eq!(status_and_body(&unknown), status_and_body(&wrong));
    assert_eq!(status_and_body(&unknown), status_and_body(&empty));
    assert!(unknown.headers().get("set-cookie").is_none());
    assert!(wrong.headers().get("set-cookie").is_none());

    // The block, too, looks the same for both.
    for _ in 0..2 {
        h.send(claim_req("zz0000000000", BCRYPT_PW)).await;
        h.send(claim_req(BCRYPT_SID, "Wrong-Pass1")).await;
    }
    let unknown = h.send(claim_req("zz0000000000", BCRYPT_PW)).await;
    let wrong = h.send(claim_req(BCRYPT_SID, "Wrong-Pass1")).await;
    assert_eq!(status_and_body(&unknown).0, 429);
    assert_eq!(status_and_body(&unknown), status_and_body(&wrong));
    assert_eq!(retry_after(&unknown), retry_after(&wrong));
}

// CLM-2
#[tokio::test]
async fn clm_2_terms_and_privacy_required() {
    let h = Harness::new();
    h.migrate(&sample_records()).await;
    let jar = claimed(&h).await;
    let before = h.memory.snapshot();
    let mails = h.mails().await.len();
    for (terms, privacy) in [(false, true), (true, false), (false, false)] {
        let r = h
            .send(jar.apply(register_req("claimed.owner@example.jp", terms, privacy)))
            .await;
        assert_eq!(r.status(), 400, "terms {terms}, privacy {privacy}");
        assert_eq!(body_json(&r)["error"], "terms_not_accepted");
    }
    // A body without the acceptances is refused as malformed.
    let r = h
        .send(jar.apply(json_req(
            "POST",
            "/api/claim/register",
            &json!({ "email": "claimed.owner@example.jp" }).to_string(),
        )))
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(h.memory.snapshot(), before, "nothing written");
    assert_eq!(h.mails().await.len(), mails, "nothing sent");

    // The claim still works once both are accepted.
    let r = h
        .send(jar.apply(register_req("claimed.owner@example.jp", true, true)))
        .await;
    assert_eq!(r.status(), 202);
}

// CLM-2
#[tokio::test]
async fn clm_2_register_mails_password_link_and_link_sets_password() {
    let h = Harness::new();
    h.migrate(&sample_records()).await;
    let jar = claimed(&h).await;
    let r = h
        .send(jar.apply(register_req("New.Owner@example.jp", true, true)))
        .await;
    assert_eq!(r.status(), 202);
    let token = h
        .link_token("New.Owner@example.jp", "/password/reset")
        .await;

    let r = h.send(reset_req(&token, "weakpass")).await;
    assert_eq!(r.status(), 400);
    let b = body_json(&r);
    assert_eq!(b["error"], "weak_password");
    assert!(b["unmet"].as_array().unwrap().contains(&json!("upper")));

    let r = h.send(reset_req(&token, "Tobira-Door42")).await;
    assert_eq!(status_and_body(&r), (200, json!({ "next": "login" })));
    let r = h.send(reset_req(&token, "Tobira-Door43")).await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        body_json(&r)["error"],
        "invalid_token",
        "the link works once"
    );

    // The new e-mail is the login ID (any case); the legacy ID is gone.
    let r = h
        .send(login_req("new.owner@example.jp", "Tobira-Door42"))
        .await;
    assert_eq!(r.status(), 200, "{}", body_text(&r));
    let r = h
        .send(login_req("legacy.bcrypt@example.jp", "Tobira-Door42"))
        .await;
    assert_eq!(r.status(), 401);
}

// CLM-3
#[tokio::test]
async fn clm_3_signed_in_claim_links_only_with_a_full_session() {
    let h = Harness::new();
    h.migrate(&sample_records()).await;
    h.active_user("owner@example.com", "Tobira-Door42").await;

    // A half-signed-in session does not link: it is a plain claim.
    let half = session_cookie(&h, "owner@example.com", Stage::Enroll).await;
    let r = h
        .send(with_cookie(claim_req(BCRYPT_SID, BCRYPT_PW), &half))
        .await;
    assert_eq!(body_json(&r)["next"], "register");

    let full = session_cookie(&h, "owner@example.com", Stage::Full).await;
    let r = h
        .send(with_cookie(claim_req(BCRYPT_SID, BCRYPT_PW), &full))
        .await;
    assert_eq!(r.status(), 200, "{}", body_text(&r));
    let b = body_json(&r);
    assert_eq!(b["next"], "done");
    assert!(b["service_ids"]
        .as_array()
        .unwrap()
        .contains(&json!(BCRYPT_SID)));
    assert!(r.headers().get("set-cookie").is_none(), "no claim cookie");

    // The page says so, too (another legacy account).
    let mut jar = Jar::default();
    let r = h.send(with_cookie(get("/claim?lang=en"), &full)).await;
    jar.take(&r);
    let csrf = hidden(&body_text(&r), "csrf");
    let cookies = format!("{full}; {}", jar.header());
    let r = h
        .send(with_cookie(
            form_req(
                "/claim",
                &[
                    ("csrf", &csrf),
                    ("service_id", "CA1234567893"),
                    ("password", "Legacy-Pass3"),
                ],
            ),
            &cookies,
        ))
        .await;
    assert_eq!(r.status(), 200);
    let html = body_text(&r);
    assert!(html.contains("Service ID linked"), "{html}");
    assert!(html.contains("ca1234567890, ca1234567893"), "{html}");
}
