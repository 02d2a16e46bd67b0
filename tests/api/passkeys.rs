//! MFA-10: enrolling passkeys and security keys — as the first factor
//! (SET-4) and from the dashboard (MFA-8) — listing, renaming, removing,
//! and using one as the second step after the password.

use std::time::Duration;

use serde_json::json;

use crate::mfa_support::{full_client, totp_user, Client, PW};
use crate::passkey_support::{passkey_user, phone, security_key};
use crate::support::Harness;

// MFA-10, SET-4, MFA-5, MFA-1
#[tokio::test]
async fn mfa_10_a_passkey_as_the_first_factor_then_the_second_step() {
    let h = Harness::new();
    h.active_user("first.pk@example.com", PW).await;
    let mut auth = phone();
    let mut c = Client::new(&h);
    assert_eq!(
        c.login("first.pk@example.com", PW).await.1["next"],
        "enroll"
    );
    let (s, options) = c
        .post(
            "/api/passkeys/register/begin",
            json!({ "name": "My phone" }),
        )
        .await;
    assert_eq!(s, 200, "{options}");
    let pk = &options["publicKey"];
    assert_eq!(pk["rp"]["id"], "portal.example.com");
    assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "preferred");
    assert!(pk["challenge"].as_str().unwrap().len() >= 43, "{pk}");
    let credential = auth.register(&options);
    let (s, b) = c
        .post("/api/passkeys/register/finish", credential.clone())
        .await;
    assert_eq!(
        (s, b["next"].as_str()),
        (200, Some("confirm_recovery_codes")),
        "{b}"
    );
    assert_eq!(b["recovery_codes"].as_array().unwrap().len(), 10);
    // The same response again registers nothing (the ceremony is over).
    let (s, b) = c.post("/api/passkeys/register/finish", credential).await;
    assert!(matches!(s, 400 | 403), "{s} {b}");
    c.post("/api/mfa/recovery/ack", json!({ "recorded": true }))
        .await;
    let user = h.user("first.pk@example.com").await;
    assert_eq!(user.methods, vec!["passkey"]);
    assert_eq!(user.passkeys.len(), 1);
    assert_eq!(user.passkeys[0].name, "My phone");
    assert_eq!(user.passkeys[0].discoverable, Some(true));
    // The notice names the method (MFA-8).
    h.assert_mailed("first.pk@example.com", "パスキー").await;

    // The next sign-in: the password, then the passkey (LOG-4).
    let mut c = Client::at_challenge(&h, "first.pk@example.com").await;
    let before = c.session();
    let (s, options) = c.post("/api/login/passkey/begin", json!({})).await;
    assert_eq!(s, 200, "{options}");
    let allowed = options["publicKey"]["allowCredentials"].as_array().unwrap();
    assert_eq!(allowed.len(), 1, "the user's own credentials: {options}");
    let assertion = auth.assert(&options).unwrap();
    let (s, b) = c.post("/api/login/passkey/finish", assertion.clone()).await;
    assert_eq!((s, b["next"].as_str()), (200, Some("terms")), "{b}");
    assert_ne!(c.session(), before, "SES-1: a new session");
    // A replay of the assertion signs nobody in.
    let mut d = Client::at_challenge(&h, "first.pk@example.com").await;
    assert_eq!(d.post("/api/login/passkey/finish", assertion).await.0, 401);
    // The counter moved on and the use is recorded.
    let user = h.user("first.pk@example.com").await;
    assert!(user.passkeys[0].last_used_at.is_some());
}

// MFA-10, MFA-8
#[tokio::test]
async fn mfa_10_adding_a_passkey_needs_a_fresh_proof_and_mails_a_notice() {
    let h = Harness::new();
    let (secret, _) = totp_user(&h, "add.pk@example.com").await;
    let mut c = full_client(&h, "add.pk@example.com", &secret).await;
    // The password given at sign-in is stale after five minutes.
    h.advance(Duration::from_secs(6 * 60));
    c.refused(
        "POST",
        "/api/passkeys/register/begin",
        json!({}),
        403,
        "reauth_required",
    )
    .await;
    c.refused(
        "POST",
        "/api/passkeys/register/begin",
        json!({ "password": "Wrong-Pass1" }),
        401,
        "invalid_credentials",
    )
    .await;
    let mut auth = phone();
    let (s, b) = c
        .passkey_register(&mut auth, json!({ "password": PW }))
        .await;
    assert_eq!((s, b["next"].as_str()), (200, Some("done")), "{b}");
    // A second passkey is added beside the first, never in its place.
    let mut key = security_key();
    let (s, _) = c
        .passkey_register(&mut key, json!({ "name": "YubiKey" }))
        .await;
    assert_eq!(s, 200);
    let (s, list) = c.call("GET", "/api/passkeys", json!(null)).await;
    assert_eq!(s, 200);
    let list = list["passkeys"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["name"], "パスキー 1");
    assert_eq!(list[1]["name"], "YubiKey");
    assert_eq!(list[1]["discoverable"], false);
    for p in &list {
        assert!(
            p.get("credential").is_none() && p.get("public_key").is_none(),
            "{p}"
        );
    }
    let mail = h.newest_mail("add.pk@example.com", "追加").await;
    assert!(mail.text.contains("パスキー"), "{}", mail.text);
    let user = h.user("add.pk@example.com").await;
    assert_eq!(user.methods, vec!["totp", "passkey"]);
}

// MFA-10, MFA-8, MFA-1
#[tokio::test]
async fn mfa_10_rename_and_remove_but_never_the_last_factor() {
    let h = Harness::new();
    let mut auth = phone();
    let secret = passkey_user(&h, "edit.pk@example.com", &mut auth).await;
    let mut c = full_client(&h, "edit.pk@example.com", &secret).await;
    let id = h.user("edit.pk@example.com").await.passkeys[0].id.clone();
    let (s, b) = c
        .post(
            &format!("/api/passkeys/{id}/rename"),
            json!({ "name": "  Work laptop " }),
        )
        .await;
    assert_eq!(
        (s, b["passkeys"][0]["name"].as_str()),
        (200, Some("Work laptop")),
        "{b}"
    );
    for (name, code) in [("", "empty"), ("a\u{7}b", "control_characters")] {
        c.refused(
            "POST",
            &format!("/api/passkeys/{id}/rename"),
            json!({ "name": name }),
            400,
            code,
        )
        .await;
    }
    c.refused(
        "POST",
        "/api/passkeys/nope/rename",
        json!({ "name": "x" }),
        404,
        "not_found",
    )
    .await;
    // Another session of the same user, which removing a factor ends.
    let mut other = full_client(&h, "edit.pk@example.com", &secret).await;
    let (s, b) = c
        .post(
            &format!("/api/passkeys/{id}/remove"),
            json!({ "password": PW }),
        )
        .await;
    assert_eq!(
        (s, b["passkeys"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{b}"
    );
    let user = h.user("edit.pk@example.com").await;
    assert_eq!(
        user.methods,
        vec!["totp"],
        "the method goes with its last passkey"
    );
    assert_eq!(other.call("GET", "/api/passkeys", json!(null)).await.0, 401);
    assert_eq!(c.call("GET", "/api/passkeys", json!(null)).await.0, 200);
    h.assert_mailed("edit.pk@example.com", "削除").await;
    // The removed passkey no longer signs in.
    let mut d = Client::at_challenge(&h, "edit.pk@example.com").await;
    d.refused(
        "POST",
        "/api/login/passkey/begin",
        json!({}),
        400,
        "method_not_enrolled",
    )
    .await;

    // A user whose only factor is one passkey keeps it.
    h.active_user("sole.passkey@example.com", PW).await;
    let mut only = phone();
    let mut e = Client::new(&h);
    e.login("sole.passkey@example.com", PW).await;
    e.passkey_register(&mut only, json!({})).await;
    e.post("/api/mfa/recovery/ack", json!({ "recorded": true }))
        .await;
    let mut e = Client::at_challenge(&h, "sole.passkey@example.com").await;
    assert_eq!(e.passkey_sign_in(&mut only).await.0, 200);
    e.accept_terms("2024-07").await;
    let id = h.user("sole.passkey@example.com").await.passkeys[0]
        .id
        .clone();
    e.refused(
        "POST",
        &format!("/api/passkeys/{id}/remove"),
        json!({}),
        409,
        "last_factor",
    )
    .await;
    assert_eq!(h.user("sole.passkey@example.com").await.passkeys.len(), 1);
}

// MFA-10 (security keys: the same ceremony)
#[tokio::test]
async fn mfa_10_a_security_key_that_keeps_no_credential_works_as_the_second_factor() {
    let h = Harness::new();
    let mut key = security_key();
    passkey_user(&h, "key@example.com", &mut key).await;
    assert_eq!(
        h.user("key@example.com").await.passkeys[0].discoverable,
        Some(false)
    );
    let mut c = Client::at_challenge(&h, "key@example.com").await;
    let (s, b) = c.passkey_sign_in(&mut key).await;
    assert_eq!((s, b["next"].as_str()), (200, Some("done")), "{b}");
    // It cannot sign in without the password: it names no user.
    let mut d = Client::new(&h);
    let (s, options) = d.post("/api/login/passkey/begin", json!({})).await;
    assert_eq!(s, 200);
    assert!(
        key.assert(&options).is_none(),
        "nothing to offer without the user's list"
    );
}

// MFA-10, LOG-2
#[tokio::test]
async fn mfa_10_a_failed_assertion_counts_towards_the_lock_and_ends_its_ceremony() {
    let h = Harness::new();
    let mut auth = phone();
    let secret = passkey_user(&h, "fail.pk@example.com", &mut auth).await;
    // An authenticator without user verification is refused (MFA-10).
    let mut lazy = auth.clone().user_verifying(false);
    let mut c = Client::at_challenge(&h, "fail.pk@example.com").await;
    for _ in 0..4 {
        let (s, b) = c.passkey_sign_in(&mut lazy).await;
        assert_eq!(
            (s, b["error"].as_str()),
            (401, Some("invalid_credentials")),
            "{b}"
        );
    }
    // Someone else's passkey proves nothing either: the fifth failure locks.
    let mut stranger = phone();
    passkey_user(&h, "stranger@example.com", &mut stranger).await;
    let (s, options) = c.post("/api/login/passkey/begin", json!({})).await;
    assert_eq!(s, 200);
    let mut forged = stranger.clone();
    assert!(
        forged.assert(&options).is_none(),
        "not among the allowed credentials"
    );
    let assertion = lazy.assert(&options).unwrap();
    assert_eq!(c.post("/api/login/passkey/finish", assertion).await.0, 401);
    let (s, _) = Client::new(&h).login("fail.pk@example.com", PW).await;
    assert_eq!(s, 401, "locked (LOG-2)");
    h.advance(Duration::from_secs(20 * 60));
    let mut d = Client::at_challenge(&h, "fail.pk@example.com").await;
    assert_eq!(d.passkey_sign_in(&mut auth).await.0, 200);
    let _ = secret;
}

// MFA-10 (the signature counter)
#[tokio::test]
async fn mfa_10_a_cloned_authenticator_whose_counter_goes_back_is_refused() {
    let h = Harness::new();
    let mut auth = phone();
    passkey_user(&h, "clone.pk@example.com", &mut auth).await;
    let mut clone = auth.clone();
    let mut c = Client::at_challenge(&h, "clone.pk@example.com").await;
    assert_eq!(c.passkey_sign_in(&mut auth).await.0, 200);
    let mut d = Client::at_challenge(&h, "clone.pk@example.com").await;
    assert_eq!(d.passkey_sign_in(&mut auth).await.0, 200);
    // The clone signs counter 1: the store holds 2.
    let mut e = Client::at_challenge(&h, "clone.pk@example.com").await;
    let (s, b) = e.passkey_sign_in(&mut clone).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (401, Some("invalid_credentials")),
        "{b}"
    );
    // The failure is on the user's record of sign-ins (ADM-6, AUD-1).
    let events = h.audit_events("econ9000000001").await;
    let failure = events.iter().rev().find(|e| e.kind == "mfa.failure");
    assert_eq!(failure.and_then(|e| e.detail.as_deref()), Some("passkey"));
}

// MFA-10, ADM-7
#[tokio::test]
async fn mfa_10_a_factor_reset_removes_every_passkey() {
    let h = Harness::new();
    let mut auth = phone();
    passkey_user(&h, "reset.pk@example.com", &mut auth).await;
    let mut u = h.user("reset.pk@example.com").await;
    let ctx = crate::support::ctx();
    let made = tobira::account::Made::by(&ctx);
    let (_, version) = h.find_user("reset.pk@example.com").await.unwrap();
    let applied = h
        .app
        .apply_change(&mut u, version, tobira::account::Change::FactorsReset, made);
    h.app
        .store
        .write(applied.writes, h.app.now())
        .await
        .unwrap();
    let user = h.user("reset.pk@example.com").await;
    assert!(user.passkeys.is_empty() && user.methods.is_empty());
    let mut c = Client::new(&h);
    let assertion = c.passkey_assertion(&mut auth, json!({})).await;
    assert_eq!(c.post("/api/login/passkey/finish", assertion).await.0, 401);
}

// MFA-10: ten passkeys at most, however many ceremonies run at once.
#[tokio::test]
async fn mfa_10_the_cap_holds_for_ceremonies_begun_together() {
    let h = Harness::new();
    let mut auth = phone();
    let secret = passkey_user(&h, "many.pk@example.com", &mut auth).await;
    let mut c = full_client(&h, "many.pk@example.com", &secret).await;
    for _ in 1..9 {
        let mut a = phone();
        assert_eq!(c.passkey_register(&mut a, json!({})).await.0, 200);
    }
    let (s1, o1) = c.post("/api/passkeys/register/begin", json!({})).await;
    let (s2, o2) = c.post("/api/passkeys/register/begin", json!({})).await;
    assert_eq!((s1, s2), (200, 200));
    let (mut a, mut b) = (phone(), phone());
    let (r1, r2) = (a.register(&o1), b.register(&o2));
    assert_eq!(c.post("/api/passkeys/register/finish", r1).await.0, 200);
    c.refused(
        "POST",
        "/api/passkeys/register/finish",
        r2,
        409,
        "passkeys_full",
    )
    .await;
    assert_eq!(h.user("many.pk@example.com").await.passkeys.len(), 10);
}

// MFA-10, MFA-2: where e-mail codes may not stand alone, the last passkey
// beside them stays.
#[tokio::test]
async fn mfa_10_removing_a_passkey_never_leaves_email_alone_where_it_may_not_be() {
    let mut config = crate::support::test_config();
    config.email_otp_needs_other_method = true;
    let h = Harness::with_config(config);
    h.active_user("mail.pk@example.com", PW).await;
    let mut auth = phone();
    let mut c = Client::new(&h);
    c.login("mail.pk@example.com", PW).await;
    c.passkey_register(&mut auth, json!({})).await;
    c.post("/api/mfa/recovery/ack", json!({ "recorded": true }))
        .await;
    let mut c = Client::at_challenge(&h, "mail.pk@example.com").await;
    assert_eq!(c.passkey_sign_in(&mut auth).await.0, 200);
    c.accept_terms("2024-07").await;
    let (s, _) = c
        .post(
            "/api/otp/email",
            json!({ "purpose": "enroll", "password": PW }),
        )
        .await;
    assert_eq!(s, 202);
    let code = crate::mfa_support::mail_code(&h, "mail.pk@example.com").await;
    assert_eq!(c.email_confirm(&code).await.0, 200);
    let id = h.user("mail.pk@example.com").await.passkeys[0].id.clone();
    c.refused(
        "POST",
        &format!("/api/passkeys/{id}/remove"),
        json!({ "password": PW }),
        409,
        "last_factor",
    )
    .await;
}
