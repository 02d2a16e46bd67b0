//! Web routes of MIG-11, CLM-1..3 and RST-4 (pages and JSON API), through
//! the functions' real handlers.

use std::time::Duration;

use serde_json::{json, Value};
use tobira::ids::LoginId;
use tobira::session::Stage;
use tobira::Config;
use tobira_web::web::{Request, Response};

use crate::support::{
    body_json, body_text, ctx, form_req, get, hidden, json_req, sample_records, Harness, Jar,
};

/// The legacy portal's key (its SHA-256 is what the deployment is given).
const PORTAL_KEY: &str = "legacy-portal-key-for-the-tests-4f1c9a";
const TARO: &str = "taro.yamada@example.co.jp";
const BCRYPT_SID: &str = "ca1234567890";
const BCRYPT_PW: &str = "Legacy-Pass1";

/// The window contains T0 (2026-11-21) and the legacy portal has a key.
fn window_config() -> Config {
    let mut c = crate::support::test_config();
    c.migration_window = Some(("2026-11-01".into(), "2026-11-30".into()));
    c.legacy_portal_key_sha256 = Some(tobira::random::token_hash(PORTAL_KEY));
    c
}

fn bearer(mut req: Request, value: &str) -> Request {
    req.headers_mut()
        .insert("authorization", value.parse().unwrap());
    req
}

fn with_cookie(mut req: Request, cookie: &str) -> Request {
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    req
}

fn show(login_id: &str) -> Request {
    get(&format!("/api/setup/identity?login_id={login_id}"))
}

fn correct(body: &Value) -> Request {
    json_req("POST", "/api/setup/identity", &body.to_string())
}

fn claim_req(service_id: &str, password: &str) -> Request {
    json_req(
        "POST",
        "/api/claim",
        &json!({ "service_id": service_id, "password": password }).to_string(),
    )
}

fn register_req(email: &str, terms: bool, privacy: bool) -> Request {
    json_req(
        "POST",
        "/api/claim/register",
        &json!({ "email": email, "accept_terms": terms, "accept_privacy": privacy }).to_string(),
    )
}

fn forgot_req(body: &Value) -> Request {
    json_req("POST", "/api/password/forgot", &body.to_string())
}

fn reset_req(token: &str, password: &str) -> Request {
    json_req(
        "POST",
        "/api/password/reset",
        &json!({ "token": token, "password": password }).to_string(),
    )
}

fn login_req(login_id: &str, password: &str) -> Request {
    json_req(
        "POST",
        "/api/login",
        &json!({ "login_id": login_id, "password": password }).to_string(),
    )
}

/// A session cookie at `stage` for an existing user, as sign-in would set it.
async fn session_cookie(h: &Harness, login: &str, stage: Stage) -> String {
    let (user, _) = h
        .app
        .user_by_login(&LoginId::parse(login).unwrap())
        .await
        .unwrap()
        .expect("the user exists");
    let (token, write) = h.app.new_session(&user, stage);
    h.app.store.write(vec![write], h.app.now()).await.unwrap();
    format!("__Host-tobira-session={token}")
}

fn status_and_body(r: &Response) -> (u16, Value) {
    (r.status().as_u16(), body_json(r))
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

// ------------------------------------------------------------------ MIG-11

// MIG-11
#[tokio::test]
async fn mig_11_legacy_portal_key_required_and_session_refused() {
    let h = Harness::with_config(window_config());
    h.migrate(&sample_records()).await;
    h.active_user("customer@example.com", "Tobira-Door42").await;
    let session = session_cookie(&h, "customer@example.com", Stage::Full).await;
    let before = h.memory.snapshot();
    let mails = h.outbox.mails().len();
    let update = json!({ "login_id": TARO, "name": "山田 太郎" });

    let refused: Vec<(&str, Request)> = vec![
        ("no credential", show(TARO)),
        ("a wrong key", bearer(show(TARO), "Bearer not-the-key")),
        (
            "the key in another scheme",
            bearer(show(TARO), &format!("Basic {PORTAL_KEY}")),
        ),
        (
            "the key's hash instead of the key",
            bearer(
                show(TARO),
                &format!("Bearer {}", tobira::random::token_hash(PORTAL_KEY)),
            ),
        ),
        ("an empty bearer", bearer(show(TARO), "Bearer ")),
        ("a signed-in customer", with_cookie(show(TARO), &session)),
        ("POST without a key", correct(&update)),
        (
            "POST with a customer session",
            with_cookie(correct(&update), &session),
        ),
        (
            "POST with a wrong key",
            bearer(correct(&update), "Bearer not-the-key"),
        ),
    ];
    for (what, req) in refused {
        let r = h.send(req).await;
        assert_eq!(r.status(), 401, "{what}");
        assert_eq!(body_json(&r)["error"], "invalid_credentials", "{what}");
        assert_eq!(r.headers()["www-authenticate"], "Bearer", "{what}");
    }
    assert_eq!(
        h.memory.snapshot(),
        before,
        "a refused call changes nothing"
    );
    assert_eq!(h.outbox.mails().len(), mails, "and sends nothing");

    // The right key opens it.
    let r = h
        .send(bearer(show(TARO), &format!("Bearer {PORTAL_KEY}")))
        .await;
    assert_eq!(r.status(), 200, "{}", body_text(&r));
    assert_eq!(body_json(&r)["login_id"], TARO);

    // No key configured: nothing is accepted, not even the right key.
    let mut config = window_config();
    config.legacy_portal_key_sha256 = None;
    let closed = Harness::with_config(config);
    closed.migrate(&sample_records()).await;
    let r = closed
        .send(bearer(show(TARO), &format!("Bearer {PORTAL_KEY}")))
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(body_json(&r)["error"], "invalid_credentials");
}

// MIG-11
#[tokio::test]
async fn mig_11_identity_shown_corrected_and_setup_link_sent() {
    let h = Harness::with_config(window_config());
    h.migrate(&sample_records()).await;
    let key = format!("Bearer {PORTAL_KEY}");
    let old_token = h.setup_token(TARO);

    // Shown: exactly as registered.
    let r = h
        .send(bearer(show("Taro.Yamada@example.co.jp"), &key))
        .await;
    assert_eq!(r.status(), 200, "{}", body_text(&r));
    assert_eq!(
        body_json(&r),
        json!({
            "login_id": TARO, "email": TARO, "name": "山田　太郎", "phone": "0312345678",
            "tenant_id": "econ1000000001", "state": "pending_setup", "setup_link_sent": true,
        })
    );
    let r = h.send(bearer(show("nobody@example.co.jp"), &key)).await;
    assert_eq!(r.status(), 404);
    let r = h.send(bearer(get("/api/setup/identity"), &key)).await;
    assert_eq!(r.status(), 400, "login_id is required");

    // Bad input is refused before anything is written.
    let before = h.memory.snapshot();
    for bad in [
        json!({ "login_id": TARO, "email": "not-an-address" }),
        json!({ "login_id": TARO, "phone": "12" }),
        json!({ "login_id": TARO, "nickname": "taro" }),
    ] {
        let r = h.send(bearer(correct(&bad), &key)).await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    assert_eq!(h.memory.snapshot(), before);

    // Corrected, and a new setup link mailed to the corrected address.
    let r = h
        .send(bearer(
            correct(&json!({
                "login_id": TARO,
                "email": "taro.new@example.co.jp",
                "name": "山田 太郎",
                "phone": "03-9999-0000",
            })),
            &key,
        ))
        .await;
    assert_eq!(status_and_body(&r), (202, json!({ "sent": true })));
    let new_token = h.setup_token("taro.new@example.co.jp");
    assert_ne!(new_token, old_token);

    let r = h.send(bearer(show(TARO), &key)).await;
    let view = body_json(&r);
    assert_eq!(view["email"], "taro.new@example.co.jp");
    assert_eq!(view["name"], "山田 太郎");
    assert_eq!(view["phone"], "0399990000");

    // The old link is void; the new one passes the identity check with the
    // corrected details.
    let r = h.send(get(&format!("/setup?token={old_token}"))).await;
    assert_eq!(r.status(), 400);
    let r = h
        .send(json_req(
            "POST",
            "/api/setup/verify",
            &json!({
                "token": new_token, "email": "taro.new@example.co.jp",
                "name": "山田 太郎", "phone": "0399990000",
            })
            .to_string(),
        ))
        .await;
    assert_eq!(r.status(), 200, "{}", body_text(&r));
}

// MIG-11
#[tokio::test]
async fn mig_11_outside_window_refused_with_clear_error() {
    let key = format!("Bearer {PORTAL_KEY}");
    let update = json!({ "login_id": TARO, "name": "山田 太郎" });

    let mut past = window_config();
    past.migration_window = Some(("2026-10-01".into(), "2026-10-31".into()));
    let mut none = window_config();
    none.migration_window = None;
    for (what, config) in [("a past window", past), ("no window", none)] {
        let h = Harness::with_config(config);
        h.migrate(&sample_records()).await;
        let before = h.memory.snapshot();
        let mails = h.outbox.mails().len();
        for req in [bearer(show(TARO), &key), bearer(correct(&update), &key)] {
            let r = h.send(req).await;
            assert_eq!(r.status(), 409, "{what}");
            let b = body_json(&r);
            assert_eq!(b["error"], "window_closed", "{what}");
            assert!(
                b["message"].as_str().unwrap().contains("window"),
                "{what}: the message says why: {b}"
            );
        }
        assert_eq!(h.memory.snapshot(), before, "{what}: nothing written");
        assert_eq!(h.outbox.mails().len(), mails, "{what}: nothing sent");
    }

    // Within the dates but closed by `close-window` (MIG-12).
    let h = Harness::with_config(window_config());
    h.migrate(&sample_records()).await;
    assert_eq!(h.send(bearer(show(TARO), &key)).await.status(), 200);
    h.app.close_window(false, &ctx()).await.unwrap();
    let mails = h.outbox.mails().len();
    let r = h.send(bearer(correct(&update), &key)).await;
    assert_eq!(r.status(), 409);
    assert_eq!(body_json(&r)["error"], "window_closed");
    assert_eq!(h.outbox.mails().len(), mails);
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
    h.link_token("claimed.owner@example.jp", "/password/reset");

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
    let mails = h.outbox.mails().len();
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
    assert_eq!(h.outbox.mails().len(), mails, "nothing sent");

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
    let token = h.link_token("New.Owner@example.jp", "/password/reset");

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

// CLM-1, CLM-2
#[tokio::test]
async fn clm_1_pages_claim_and_register_work_without_javascript() {
    let h = Harness::new();
    h.migrate(&sample_records()).await;
    let mut jar = Jar::default();

    let r = h.send(get("/claim")).await;
    assert_eq!(r.status(), 200);
    let html = body_text(&r);
    assert!(!html.contains("<script"));
    assert!(html.contains("action=\"/claim\""));
    assert!(html.contains("サービスID"));
    jar.take(&r);
    let csrf = hidden(&html, "csrf");

    // Without the CSRF cookie: refused.
    let fields = [
        ("csrf", csrf.as_str()),
        ("service_id", BCRYPT_SID),
        ("password", BCRYPT_PW),
    ];
    assert_eq!(h.send(form_req("/claim", &fields)).await.status(), 403);

    let wrong = [
        ("csrf", csrf.as_str()),
        ("service_id", BCRYPT_SID),
        ("password", "Wrong-Pass1"),
    ];
    let r = h.send(jar.apply(form_req("/claim", &wrong))).await;
    assert_eq!(r.status(), 401);
    assert!(body_text(&r).contains("id=\"form-error\""));

    let r = h.send(jar.apply(form_req("/claim", &fields))).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/claim/register");
    jar.take(&r);
    assert!(jar.get("__Host-tobira-claim").is_some());

    let r = h.send(jar.apply(get("/claim/register?lang=en"))).await;
    assert_eq!(r.status(), 200);
    let html = body_text(&r);
    assert!(html.contains("name=\"accept_terms\""));
    assert!(html.contains("name=\"accept_privacy\""));
    assert!(html.contains("terms of use"));

    // Unticked boxes are absent from the post: refused, nothing written.
    let before = h.memory.snapshot();
    let r = h
        .send(jar.apply(form_req(
            "/claim/register",
            &[
                ("csrf", csrf.as_str()),
                ("email", "page.owner@example.jp"),
                ("accept_terms", "yes"),
            ],
        )))
        .await;
    assert_eq!(r.status(), 400);
    assert!(body_text(&r).contains("id=\"form-error\""));
    assert_eq!(h.memory.snapshot(), before);

    let r = h
        .send(jar.apply(form_req(
            "/claim/register",
            &[
                ("csrf", csrf.as_str()),
                ("email", "page.owner@example.jp"),
                ("accept_terms", "yes"),
                ("accept_privacy", "yes"),
            ],
        )))
        .await;
    assert_eq!(r.status(), 200);
    assert!(body_text(&r).contains("id=\"message\""));
    jar.take(&r);
    assert!(jar.get("__Host-tobira-claim").is_none());
    h.link_token("page.owner@example.jp", "/password/reset");

    // Without a claim the registration page says to start again.
    assert_eq!(h.send(get("/claim/register")).await.status(), 401);
}

// ------------------------------------------------------------------ RST-4

// RST-4
#[tokio::test]
async fn rst_4_identity_entry_after_window_mails_link_and_answer_is_identical() {
    let h = Harness::with_config(window_config());
    h.migrate(&sample_records()).await;
    h.app.close_window(false, &ctx()).await.unwrap();
    let notices = h.outbox.mails().len();
    assert!(h
        .outbox
        .mails()
        .iter()
        .any(|m| m.to == TARO && m.text.contains("/password/forgot")));

    let matching = json!({
        "login_id": "Taro.Yamada@example.co.jp", "email": "TARO.YAMADA@example.co.jp",
        "name": "山田　太郎", "phone": "03-1234-5678",
    });
    let answer = status_and_body(&h.send(forgot_req(&matching)).await);
    assert_eq!(answer, (202, json!({ "next": "mail" })));
    let token = h.link_token(TARO, "/password/reset");
    assert_eq!(
        h.outbox.mails().len(),
        notices + 1,
        "one mail, to the match"
    );

    for other in [
        json!({ "login_id": TARO, "email": TARO, "name": "山田 太郎", "phone": "0312345678" }),
        json!({ "login_id": TARO, "email": TARO, "name": "山田　太郎", "phone": "0312345679" }),
        json!({ "login_id": TARO, "email": "other@example.co.jp", "name": "山田　太郎", "phone": "0312345678" }),
        json!({ "login_id": TARO, "email": TARO }),
        json!({ "login_id": "nobody@example.co.jp", "email": "nobody@example.co.jp", "name": "x", "phone": "0312345678" }),
        json!({ "login_id": " ", "email": "x" }),
    ] {
        let r = h.send(forgot_req(&other)).await;
        assert_eq!(status_and_body(&r), answer, "{other}");
    }
    assert_eq!(
        h.outbox.mails().len(),
        notices + 1,
        "no mail for a mismatch"
    );

    // The link's page: a form, no referrer.
    let r = h.send(get(&format!("/password/reset?token={token}"))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    let html = body_text(&r);
    assert!(html.contains("action=\"/password/reset\""));
    assert_eq!(hidden(&html, "token"), token);
    let r = h.send(get("/password/reset?token=not-a-token")).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");

    // The link sets the first password, once; then sign-in works.
    let r = h.send(reset_req(&token, "Tobira-Door42")).await;
    assert_eq!(status_and_body(&r), (200, json!({ "next": "login" })));
    assert_eq!(
        h.send(reset_req(&token, "Tobira-Door42")).await.status(),
        400
    );
    let r = h.send(login_req(TARO, "Tobira-Door42")).await;
    assert_eq!(r.status(), 200, "{}", body_text(&r));
}

// RST-4
#[tokio::test]
async fn rst_4_pages_forgot_and_reset_work_without_javascript() {
    let h = Harness::with_config(window_config());
    h.migrate(&sample_records()).await;
    h.app.close_window(false, &ctx()).await.unwrap();
    let mut jar = Jar::default();

    // The sign-in page leads here, in both languages.
    let html = body_text(&h.send(get("/login")).await);
    assert!(html.contains("href=\"/password/forgot\""));
    assert!(html.contains("初めての方・パスワードをお忘れの方"));
    assert!(html.contains("href=\"/claim\""));
    let html = body_text(&h.send(get("/login?lang=en")).await);
    assert!(html.contains("First time or forgot your password"));

    let r = h.send(get("/password/forgot")).await;
    assert_eq!(r.status(), 200);
    let html = body_text(&r);
    assert!(!html.contains("<script"));
    assert!(html.contains("action=\"/password/forgot\""));
    for field in ["login_id", "email", "name", "phone"] {
        assert!(html.contains(&format!("name=\"{field}\"")), "{field}");
    }
    assert!(html.contains("移行期間"), "explains who it is for");
    jar.take(&r);
    let csrf = hidden(&html, "csrf");

    let entry = |name: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("login_id", TARO.to_string()),
            ("email", TARO.to_string()),
            ("name", name.to_string()),
            ("phone", "03-1234-5678".to_string()),
        ]
    };
    let form = |fields: &[(&str, String)]| {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        form_req("/password/forgot", &pairs)
    };
    assert_eq!(h.send(form(&entry("山田　太郎"))).await.status(), 403);

    let mails = h.outbox.mails().len();
    let wrong = h.send(jar.apply(form(&entry("山田 太郎")))).await;
    let right = h.send(jar.apply(form(&entry("山田　太郎")))).await;
    assert_eq!(right.status(), 200);
    assert_eq!(wrong.status(), right.status());
    assert_eq!(
        body_text(&wrong),
        body_text(&right),
        "the same page either way"
    );
    assert_eq!(h.outbox.mails().len(), mails + 1);
    let token = h.link_token(TARO, "/password/reset");

    let r = h
        .send(jar.apply(get(&format!("/password/reset?token={token}"))))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    let post = |pw: &str, confirm: &str| {
        jar.apply(form_req(
            "/password/reset",
            &[
                ("csrf", csrf.as_str()),
                ("token", token.as_str()),
                ("password", pw),
                ("password_confirm", confirm),
            ],
        ))
    };
    let r = h.send(post("Tobira-Door42", "Tobira-Door43")).await;
    assert_eq!(r.status(), 400);
    assert!(body_text(&r).contains("id=\"form-error\""));
    let r = h.send(post("abc", "abc")).await;
    assert_eq!(r.status(), 400);
    let html = body_text(&r);
    for code in ["length", "upper", "digit"] {
        assert!(html.contains(&format!("data-unmet=\"{code}\"")), "{code}");
    }
    assert_eq!(hidden(&html, "token"), token, "the form keeps the link");
    let r = h.send(post("Tobira-Door42", "Tobira-Door42")).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login?setup=done");

    // Signed in through the page: to the second-factor choice.
    let r = h
        .send(jar.apply(form_req(
            "/login",
            &[
                ("csrf", csrf.as_str()),
                ("login_id", TARO),
                ("password", "Tobira-Door42"),
            ],
        )))
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/enroll");
}
