//! The legacy portal's route (MIG-11): its key, the identity shown and
//! corrected, the setup link, the migration window.

use serde_json::{json, Value};
use tobira::session::Stage;
use tobira_web::web::Request;

use crate::portal_support::*;
use crate::support::{body_json, body_text, ctx, get, json_req, sample_records, Harness};

fn bearer(mut req: Request, value: &str) -> Request {
    req.headers_mut()
        .insert("authorization", value.parse().unwrap());
    req
}

fn show(login_id: &str) -> Request {
    get(&format!("/api/setup/identity?login_id={login_id}"))
}

fn correct(body: &Value) -> Request {
    json_req("POST", "/api/setup/identity", &body.to_string())
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
    let mails = h.mails().await.len();
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
    assert_eq!(h.mails().await.len(), mails, "and sends nothing");

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
    let old_token = h.setup_token(TARO).await;

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
    let new_token = h.setup_token("taro.new@example.co.jp").await;
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
        let mails = h.mails().await.len();
        let before = h.memory.snapshot();
        for req in [bearer(show(TARO), &key), bearer(correct(&update), &key)] {
            let r = h.send(req).await;
            assert_eq!(r.status(), 409, "{what}");
            let b = body_json(&r);
            assert_eq!(b["error"], "window_closed", "{what}");
            assert!(
                b["message"].as_str().unwrap().contains("移行期間は終了"),
                "{what}: the message says why: {b}"
            );
        }
        assert_eq!(h.memory.snapshot(), before, "{what}: nothing written");
        assert_eq!(h.mails().await.len(), mails, "{what}: nothing sent");
    }

    // Within the dates but closed by `close-window` (MIG-12).
    let h = Harness::with_config(window_config());
    h.migrate(&sample_records()).await;
    assert_eq!(h.send(bearer(show(TARO), &key)).await.status(), 200);
    h.app.close_window(false, &ctx()).await.unwrap();
    let mails = h.mails().await.len();
    let r = h.send(bearer(correct(&update), &key)).await;
    assert_eq!(r.status(), 409);
    assert_eq!(body_json(&r)["error"], "window_closed");
    assert_eq!(h.mails().await.len(), mails);
}
