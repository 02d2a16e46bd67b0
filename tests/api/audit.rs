//! AUD-1: every authentication event recorded with time, user, tenant,
//! source IP and user agent, and no secret.

use crate::support::{assert_audited, ctx, Harness};

// AUD-1, MSG-2
#[tokio::test]
async fn aud_1_msg_2_each_step_of_the_journey_is_recorded_without_secrets() {
    let h = Harness::new();
    h.active_user("audit@example.com", "Tobira-Door42").await;
    let pw = |s: &str| tobira::ids::Password::parse(s).unwrap();
    let _ = h
        .app
        .login("audit@example.com", &pw("Wrong-Pass1"), &ctx())
        .await;
    let s = h
        .app
        .login("audit@example.com", &pw("Tobira-Door42"), &ctx())
        .await
        .unwrap();
    h.app.logout(&s.session, &ctx()).await.unwrap();
    let token = h.setup_token("audit@example.com").await;

    let events = h.audit_events("econ9000000001").await;
    let login = events.iter().find(|e| e.kind == "login.failure").unwrap();
    assert_eq!(login.ip, "192.0.2.10");
    assert_eq!(login.user_agent, "tests/1.0");
    assert_eq!(login.tenant_id.as_ref().unwrap().as_str(), "econ9000000001");
    assert!(login.user_id.is_some());
    // Unknown users are recorded too (no tenant).
    let _ = h.app.login("ghost@example.com", &pw("x"), &ctx()).await;
    let anonymous = h.audit_events("-").await;
    assert_eq!(
        anonymous
            .iter()
            .filter(|e| e.detail.as_deref() == Some("unknown login id"))
            .count(),
        1
    );
    // No secret anywhere in the audit trail.
    let expected = [
        "migration.user_created",
        "setup.link_issued",
        "setup.link_sent",
        "setup.identity_verified",
        "password.set",
        "login.failure",
        "login.password_ok",
        "session.logout",
    ];
    let secrets = ["Tobira-Door42", "Wrong-Pass1", &token, &s.session];
    assert_audited(&events, &expected, &secrets);
}
