//! Remembered devices (MFA-7) and the terms of use (TOS-1).

use std::time::Duration;

use serde_json::json;

use crate::mfa_support::{full_client, mail_code, totp_code, totp_user, Client, PW};
use crate::support::Harness;

async fn remembered<'a>(h: &'a Harness, login: &str, secret: &str) -> Client<'a> {
    let mut c = Client::at_challenge(h, login).await;
    let (s, _) = c.mfa_remembering("totp", &totp_code(h, secret, 0)).await;
    assert_eq!(s, 200);
    h.advance(Duration::from_secs(30));
    let device = c
        .jar
        .get("__Host-tobira-device")
        .cloned()
        .expect("device cookie");
    let mut fresh = Client::new(h);
    fresh.jar.0.insert("__Host-tobira-device".into(), device);
    fresh
}

// MFA-7
#[tokio::test]
async fn mfa_7_a_remembered_device_skips_only_the_second_factor() {
    let h = Harness::new();
    let (secret, _) = totp_user(&h, "device@example.com").await;
    let mut c = remembered(&h, "device@example.com", &secret).await;
    let (s, b) = c.login("device@example.com", PW).await;
    assert_eq!((s, b["next"].as_str()), (200, Some("terms")), "{b}");
    // Never the password...
    let (s, _) = c.login("device@example.com", "Wrong-Pass1").await;
    assert_eq!(s, 401);
    // ...nor a lock.
    for _ in 0..5 {
        c.login("device@example.com", "Wrong-Pass1").await;
    }
    let (s, _) = c.login("device@example.com", PW).await;
    assert_eq!(s, 401);
    h.advance(Duration::from_secs(20 * 60));
    assert_eq!(c.login("device@example.com", PW).await.1["next"], "terms");
    // Lasts 30 days by default.
    h.advance(Duration::from_secs(30 * 24 * 3600));
    assert_eq!(c.login("device@example.com", PW).await.1["next"], "mfa");
}

// MFA-7
#[tokio::test]
async fn mfa_7_revoked_by_a_factor_change_a_reset_or_the_user() {
    let h = Harness::new();
    let (secret, _) = totp_user(&h, "revoke@example.com").await;
    // The user forgets every device.
    let mut c = remembered(&h, "revoke@example.com", &secret).await;
    assert_ne!(c.login("revoke@example.com", PW).await.1["next"], "mfa");
    let mut full = full_client(&h, "revoke@example.com", &secret).await;
    let r = full.post("/api/devices/forget", json!({})).await;
    assert_eq!(r.0, 204);
    assert_eq!(c.login("revoke@example.com", PW).await.1["next"], "mfa");
    // A factor change (another method enrolled).
    let mut c = remembered(&h, "revoke@example.com", &secret).await;
    assert_ne!(c.login("revoke@example.com", PW).await.1["next"], "mfa");
    let mut full = full_client(&h, "revoke@example.com", &secret).await;
    full.otp_email("enroll").await;
    let code = mail_code(&h, "revoke@example.com").await;
    assert_eq!(full.email_confirm(&code).await.0, 200);
    assert_eq!(c.login("revoke@example.com", PW).await.1["next"], "mfa");
    // A password reset.
    let mut c = remembered(&h, "revoke@example.com", &secret).await;
    assert_ne!(c.login("revoke@example.com", PW).await.1["next"], "mfa");
    let user = h.user("revoke@example.com").await;
    h.app
        .send_password_link(&user.id, "reset", &crate::support::ctx())
        .await
        .unwrap();
    let token = h.link_token("revoke@example.com", "/password/reset").await;
    h.app
        .reset_password(
            &token,
            &tobira::ids::Password::parse("Another-Door77").unwrap(),
            &crate::support::ctx(),
        )
        .await
        .unwrap();
    assert_eq!(
        c.login("revoke@example.com", "Another-Door77").await.1["next"],
        "mfa"
    );
}

// TOS-1
#[tokio::test]
async fn tos_1_terms_again_when_the_version_changes() {
    let h = Harness::new();
    let (secret, _) = totp_user(&h, "terms@example.com").await;
    full_client(&h, "terms@example.com", &secret).await;
    let mut c = full_client(&h, "terms@example.com", &secret).await;
    assert_eq!(
        c.me().await["stage"],
        "full",
        "accepted once, not asked again"
    );
    // A new version.
    let mut config = (*h.app.config).clone();
    config.documents.terms_version = "2026-12".into();
    let h2 = Harness::over(config, h.memory.clone(), h.memory.clone());
    h2.clock.set(h.app.now());
    let mut c = Client::at_challenge(&h2, "terms@example.com").await;
    let (_, b) = c.mfa("totp", &totp_code(&h2, &secret, 0)).await;
    assert_eq!(b["next"], "terms");
    let (s, b) = c.accept_terms("2024-07").await;
    assert_eq!((s, b["error"].as_str()), (409, Some("terms_changed")));
    let (s, _) = c.accept_terms("2026-12").await;
    assert_eq!(s, 200);
}
