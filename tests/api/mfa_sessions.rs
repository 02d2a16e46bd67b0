//! Sessions (SES-1, SES-2): rotated, timed out, ended; a half-signed-in
//! session reaches only its own step.

use std::time::Duration;

use serde_json::{json, Value};

use crate::mfa_support::{full_client, totp_code, totp_user, Client, PW};
use crate::support::{json_req, Harness};

// SES-1
#[tokio::test]
async fn ses_1_rotated_at_sign_in_idle_and_absolute_timeouts_and_sign_out() {
    let h = Harness::new();
    let (secret, _) = totp_user(&h, "ses@example.com").await;
    let mut c = Client::at_challenge(&h, "ses@example.com").await;
    let half = c.session().unwrap();
    let body = json!({ "method": "totp", "code": totp_code(&h, &secret, 0) });
    let r = h
        .send(
            c.jar
                .apply(json_req("POST", "/api/login/mfa", &body.to_string())),
        )
        .await;
    c.jar.take(&r);
    let set = r.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(set.starts_with("__Host-tobira-session="), "{set}");
    for attr in ["Path=/", "HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(set.contains(attr), "{attr} in {set}");
    }
    let full = c.session().unwrap();
    assert_ne!(half, full, "a new session at sign-in");
    assert!(h.app.session(&half).await.is_err(), "the old one is gone");
    h.advance(Duration::from_secs(30));
    // A new password sign-in ends the session the browser had before.
    let before = c.session().unwrap();
    c.login("ses@example.com", PW).await;
    assert!(h.app.session(&before).await.is_err());
    // Idle timeout (30 min).
    let c = full_client(&h, "ses@example.com", &secret).await;
    let token = c.session().unwrap();
    h.advance(Duration::from_secs(29 * 60));
    assert!(h.app.session(&token).await.is_ok());
    h.advance(Duration::from_secs(29 * 60));
    assert!(
        h.app.session(&token).await.is_ok(),
        "use renews the idle time"
    );
    h.advance(Duration::from_secs(30 * 60));
    assert!(h.app.session(&token).await.is_err(), "idle for 30 minutes");
    // Absolute timeout (12 h) however busy.
    h.advance(Duration::from_secs(3600));
    let c = full_client(&h, "ses@example.com", &secret).await;
    let token = c.session().unwrap();
    for _ in 0..(12 * 60 / 20 - 1) {
        h.advance(Duration::from_secs(20 * 60));
        assert!(h.app.session(&token).await.is_ok());
    }
    h.advance(Duration::from_secs(20 * 60));
    assert!(h.app.session(&token).await.is_err(), "12 hours at most");
    // Sign-out ends it.
    let mut c = full_client(&h, "ses@example.com", &secret).await;
    let token = c.session().unwrap();
    assert_eq!(c.post("/api/logout", json!({})).await.0, 204);
    assert!(c.session().is_none());
    assert!(h.app.session(&token).await.is_err());
}

// SES-2
#[tokio::test]
async fn ses_2_a_half_signed_in_session_reaches_only_its_own_step() {
    let h = Harness::new();
    let (secret, _) = totp_user(&h, "stage@example.com").await;
    let full_only: &[(&str, Value)] = &[
        ("/api/mfa/recovery/regenerate", json!({ "password": PW })),
        ("/api/devices/forget", json!({})),
        ("/api/terms/accept", json!({ "version": "2024-07" })),
        ("/api/mfa/totp", json!({})),
        ("/api/otp/email", json!({ "purpose": "enroll" })),
    ];
    // Password only (stage mfa).
    let mut c = Client::at_challenge(&h, "stage@example.com").await;
    for (path, body) in full_only {
        let (s, b) = c.post(path, body.clone()).await;
        assert_eq!((s, b["error"].as_str()), (403, Some("forbidden")), "{path}");
    }
    for page in ["/", "/terms", "/enroll"] {
        let r = c.get(page).await;
        assert_eq!(r.status(), 303, "{page}");
        assert_eq!(r.headers()["location"], "/login/mfa", "{page}");
    }
    // Terms stage: only the terms.
    c.mfa("totp", &totp_code(&h, &secret, 0)).await;
    for (path, body) in &full_only[..2] {
        assert_eq!(c.post(path, body.clone()).await.0, 403, "{path}");
    }
    let (s, _) = c.mfa("recovery", "x").await;
    assert_eq!(s, 403, "the challenge is behind it");
    assert_eq!(c.get("/").await.headers()["location"], "/terms");
    // Enrolment stage: no challenge, no dashboard.
    h.active_user("stage2@example.com", PW).await;
    let mut e = Client::at_challenge(&h, "stage2@example.com").await;
    assert_eq!(e.mfa("totp", "123456").await.0, 403);
    assert_eq!(e.get("/").await.headers()["location"], "/enroll");
    // No session at all.
    let mut n = Client::new(&h);
    for (path, body) in full_only {
        assert_eq!(n.post(path, body.clone()).await.0, 401, "{path}");
    }
}

// SES-2
#[tokio::test]
async fn ses_2_every_signed_in_api_route_refuses_a_password_only_session() {
    let h = Harness::new();
    let (secret, _) = totp_user(&h, "every@example.com").await;
    let mut c = Client::at_challenge(&h, "every@example.com").await;
    // What a password-only session may do: its own step, and who it is.
    let own_step = [
        "/api/login",
        "/api/login/mfa",
        "/api/otp/email",
        "/api/otp/sms",
        "/api/otp/voice",
        "/api/login/passkey/begin",
        "/api/login/passkey/finish",
        "/api/me",
        "/api/logout",
    ];
    // Routes for people who are not signed in at all (setup, claim, reset).
    let public = |p: &str| {
        p.starts_with("/api/setup/")
            || p.starts_with("/api/claim")
            || (p.starts_with("/api/password/") && p != "/api/password/change")
    };
    let bodies = json!({
        "/api/terms/accept": { "version": "2024-07" },
        "/api/devices/forget": {},
        "/api/otp/sms/verify": { "code": totp_code(&h, &secret, 0) },
        "/api/otp/voice/verify": { "code": totp_code(&h, &secret, 0) },
        "/api/passkeys/register/begin": {},
        "/api/passkeys/register/finish": { "id": "x", "rawId": "x", "type": "public-key", "response": {} },
        "/api/passkeys/{id}/rename": { "name": "x" },
        "/api/passkeys/{id}/remove": {},
        "/api/mfa/totp": {},
        "/api/mfa/totp/confirm": { "code": totp_code(&h, &secret, 0) },
        "/api/mfa/email": { "code": "123456" },
        "/api/mfa/recovery/regenerate": { "password": PW },
        "/api/mfa/recovery/ack": { "recorded": true },
        "/api/password/change": { "current_password": PW, "new_password": "Kumo-Tori-Ame7" },
        "/api/cases": { "kind": "inquiry", "category": "その他", "subject": "s", "body": "b" },
        "/api/cases/{id}/comments": { "body": "b" },
        "/api/cases/{id}/close": {},
        "/api/cases/{id}/accept": {},
        "/api/cases/{id}/reject": { "reason": "r" },
        "/api/admin/users": {
            "name": "n", "email": "n@example.com", "phone": "0312345678", "lang": "ja",
            "time_zone": "Asia/Tokyo", "mfa_method": "totp", "role": "general"
        },
        "/api/admin/users/{id}": { "title": "t" },
        "/api/admin/users/{id}/disable": {},
        "/api/admin/users/{id}/resend-setup": {},
        "/api/admin/users/{id}/identity": { "email": "a@example.com" },
        "/api/admin/users/{id}/enable": {},
        "/api/admin/users/{id}/unlock": {},
        "/api/admin/users/{id}/reset-factors": {},
        "/api/cases/{id}/uploads": {},
        "/api/cases/{id}/attachments": { "key": "att/x" },
    });
    let (mut posted, mut got) = (0, 0);
    for r in tobira_web::routes::ROUTES {
        if !r.path.starts_with("/api/") || own_step.contains(&r.path) || public(r.path) {
            continue;
        }
        let path = r.path.replace("{id}", "01JDQ3ZV8K9M2N4P6R8T0V2X4Y");
        let path = path.replace("{file}", "01JDQ3ZV8K9M2N4P6R8T0V2X4Z");
        let body = if r.method == "GET" {
            got += 1;
            Value::Null
        } else {
            posted += 1;
            let body = bodies.get(r.path);
            body.unwrap_or_else(|| panic!("no body for {}", r.path))
                .clone()
        };
        c.refused(r.method, &path, body, 403, "forbidden").await;
    }
    assert_eq!(posted, bodies.as_object().unwrap().len());
    assert_eq!(
        got, 8,
        "GET /api/cases, /api/cases/{{id}}, /api/cases/{{id}}/attachments/{{file}}, /api/admin/users, /api/admin/users/{{id}}, /api/admin/sign-ins, /api/me/sign-ins, /api/passkeys"
    );
    assert_eq!(c.me().await["stage"], "mfa");
}
