//! Enrolling the second factor and what it is for (SET-4, LOG-4, MFA-1,
//! MFA-2, MFA-4..6, TOS-1), through the functions' real handlers.

use std::time::Duration;

use serde_json::json;

use crate::mfa_support::{
    email_user, full_client, full_user, sms_code, totp_code, totp_user, Client, PW,
};
use crate::support::{body_json, Harness};

// SET-4, LOG-4, MFA-4, MFA-5, TOS-1
#[tokio::test]
async fn set_4_first_sign_in_enrols_shows_codes_signs_in_again_and_accepts_terms() {
    let h = Harness::new();
    h.active_user("first@example.com", PW).await;
    let mut c = Client::new(&h);
    // Password → no factor yet → enrolment (LOG-4).
    let (s, b) = c.login("first@example.com", PW).await;
    assert_eq!((s, b["next"].as_str()), (200, Some("enroll")));
    // MFA-4: a 160-bit secret as QR code, URI and text.
    let (_, setup) = c.totp_setup(json!({})).await;
    let secret = setup["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    let uri = setup["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/tobira:first%40example.com?"),
        "{uri}"
    );
    // SHA-1, 6 digits and 30 s are the URI defaults every authenticator assumes.
    assert!(
        uri.contains("issuer=tobira") && uri.contains(&format!("secret={secret}")),
        "{uri}"
    );
    for p in ["algorithm=", "digits=", "period="] {
        assert!(
            !uri.contains(p) || uri.contains("algorithm=SHA1"),
            "{p} in {uri}"
        );
    }
    assert!(setup["qr_svg"].as_str().unwrap().starts_with("<svg"));
    // A wrong code does not enrol.
    let (s, b) = c.totp_confirm("000000").await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_code")));
    let (s, done) = c.totp_confirm(&totp_code(&h, secret, 0)).await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["next"], "confirm_recovery_codes");
    let codes = done["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    // Until "I have recorded these", the session can do nothing else.
    let (s, _) = c.totp_setup(json!({})).await;
    assert_eq!(s, 403);
    let (s, b) = c
        .post("/api/mfa/recovery/ack", json!({ "recorded": true }))
        .await;
    assert_eq!((s, b["next"].as_str()), (200, Some("login")));
    assert!(c.session().is_none(), "the enrolment session is over");
    // Sign in again with the new factor (SET-4), then the terms (TOS-1).
    h.advance(Duration::from_secs(30));
    let (_, b) = c.login("first@example.com", PW).await;
    assert_eq!(b, json!({ "next": "mfa", "methods": ["totp"] }));
    let (s, b) = c.mfa("totp", &totp_code(&h, secret, 0)).await;
    assert_eq!((s, b["next"].as_str()), (200, Some("terms")));
    let (_, me) = {
        let r = c.get("/api/me").await;
        (r.status(), body_json(&r))
    };
    assert_eq!(me["stage"], "terms");
    let (s, b) = c.accept_terms("2024-07").await;
    assert_eq!((s, b["next"].as_str()), (200, Some("done")));
    let me = c.me().await;
    assert_eq!(me["stage"], "full");
    assert_eq!(me["methods"], json!(["totp"]));
    // TOS-1: version and time recorded.
    let u = h.user("first@example.com").await;
    let terms = u.terms.unwrap();
    assert_eq!(terms.version, "2024-07");
    assert_eq!(terms.at, h.app.now());
    // The dashboard.
    let r = c.get("/").await;
    assert_eq!(r.status(), 200);
    assert!(crate::support::body_text(&r).contains("first@example.com"));
}

// MFA-4
#[tokio::test]
async fn mfa_4_a_time_step_is_accepted_once_with_one_step_of_skew() {
    let h = Harness::new();
    let (secret, _) = totp_user(&h, "step@example.com").await;
    // (The enrolment used the step before this one.)
    h.advance(Duration::from_secs(30));
    let mut a = Client::at_challenge(&h, "step@example.com").await;
    // The previous step's code still works (one step of skew)...
    let prev = totp_code(&h, &secret, -1);
    let (s, _) = a.mfa("totp", &prev).await;
    assert_eq!(s, 200);
    // ...once: another sign-in in the same step cannot reuse it, nor an older one.
    let mut b = Client::at_challenge(&h, "step@example.com").await;
    // (A used step's code says so, to tell the user to wait: the next test.)
    for (code, error) in [
        (prev, "code_already_used"),
        (totp_code(&h, &secret, -2), "invalid_code"),
    ] {
        let (s, r) = b.mfa("totp", &code).await;
        assert_eq!((s, r["error"].as_str()), (401, Some(error)));
    }
    // Two steps away is too far.
    let (s, _) = b.mfa("totp", &totp_code(&h, &secret, 2)).await;
    assert_eq!(s, 401);
    let (s, _) = b.mfa("totp", &totp_code(&h, &secret, 0)).await;
    assert_eq!(s, 200);
}

// MFA-6, MFA-8
#[tokio::test]
async fn mfa_6_sms_number_is_proved_before_use_and_kept_as_e164() {
    let h = Harness::new();
    let (mut c, _) = full_user(&h, "sms@example.com").await;
    // What is not a number is refused with a clear error; nothing is sent.
    let (s, b) = c.sms_enrol("090-0000-000x", "81").await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_phone")));
    let (s, b) = c.sms_enrol("0090000000", "81").await;
    assert_eq!((s, b["error"].as_str()), (400, Some("phone_leading_zero")));
    assert!(h.outbox.sms().is_empty());
    // What Japanese users type is taken: hyphens, the trunk 0, full width.
    let (s, _) = c.sms_enrol("０９０－００００－００００", "81").await;
    assert_eq!(s, 202);
    let sms = h.outbox.sms().pop().unwrap();
    assert_eq!(sms.to, "+819000000000");
    assert!(sms.text.is_ascii() && sms.text.len() <= 160, "{}", sms.text);
    // Not a method until the code proves the number.
    let me = c.me().await;
    assert_eq!(me["methods"], json!(["totp"]));
    let (s, b) = c
        .post(
            "/api/otp/sms/verify",
            json!({ "code": sms_code(&h, "+819000000000") }),
        )
        .await;
    assert_eq!((s, b["next"].as_str()), (200, Some("done")), "{b}");
    assert!(
        b.get("recovery_codes").is_none(),
        "codes come with the first factor only"
    );
    let me = c.me().await;
    assert_eq!(me["methods"], json!(["totp", "sms"]));
    // MFA-8: at the challenge, pick SMS instead of TOTP.
    let mut d = Client::new(&h);
    let (_, b) = d.login("sms@example.com", PW).await;
    assert_eq!(b["methods"], json!(["totp", "sms"]));
    let (s, _) = d.post("/api/otp/sms", json!({ "purpose": "login" })).await;
    assert_eq!(s, 202);
    let (s, b) = d.mfa("sms", &sms_code(&h, "+819000000000")).await;
    assert_eq!((s, b["next"].as_str()), (200, Some("done")));
}

// MFA-2
#[tokio::test]
async fn mfa_2_email_otp_only_after_another_method_when_configured() {
    let mut config = crate::support::test_config();
    config.email_otp_needs_other_method = true;
    let h = Harness::with_config(config);
    h.active_user("second@example.com", PW).await;
    let mut c = Client::at_challenge(&h, "second@example.com").await;
    let (s, b) = c.otp_email("enroll").await;
    assert_eq!((s, b["error"].as_str()), (409, Some("email_otp_not_first")));
    assert!(h
        .mails()
        .await
        .iter()
        .all(|m| !m.subject.contains("ワンタイム")));
    let r = c.get("/enroll").await;
    let page = crate::support::body_text(&r);
    assert!(!page.contains("data-method=\"email\"") && page.contains("data-method=\"totp\""));
    // Default (seeds 000, 003, 004): e-mail may be the only method.
    let h = Harness::new();
    email_user(&h, "only.mail@example.com").await;
    let (_, b) = Client::new(&h).login("only.mail@example.com", PW).await;
    assert_eq!(b["methods"], json!(["email"]));
}

// MFA-1
#[tokio::test]
async fn mfa_1_a_second_factor_is_mandatory_and_cannot_be_turned_off() {
    let h = Harness::new();
    let (secret, _) = totp_user(&h, "mandatory@example.com").await;
    // Every sign-in of a user with a factor goes through the challenge...
    for _ in 0..3 {
        let (_, b) = Client::new(&h).login("mandatory@example.com", PW).await;
        assert_eq!(b["next"], "mfa");
    }
    // ...a user without one cannot get past enrolment...
    h.active_user("none@example.com", PW).await;
    let mut n = Client::new(&h);
    assert_eq!(n.login("none@example.com", PW).await.1["next"], "enroll");
    assert_eq!(n.get("/").await.status(), 303);
    assert_eq!(n.get("/api/me").await.status(), 200);
    assert_eq!(n.accept_terms("2024-07").await.0, 403);
    // ...and no route removes a factor: only enrolment routes touch them.
    // (An admin's routes and pages act on another user: ADM-7's reset makes that
    // user enrol again at the next sign-in, proved in admin_actions.rs. One
    // passkey of several may go, never the last factor: MFA-10, proved in
    // passkeys.rs.)
    let passkey_remove = |p: &str| p.ends_with("passkeys/{id}/remove");
    for r in tobira_web::routes::ROUTES.iter().filter(|r| {
        !r.path.starts_with("/api/admin/")
            && !r.path.starts_with("/admin/")
            && !passkey_remove(r.path)
    }) {
        assert!(
            !["DELETE", "PUT", "PATCH"].contains(&r.method)
                && !r.path.contains("disable")
                && !r.path.contains("remove"),
            "{r:?}"
        );
    }
    let c = full_client(&h, "mandatory@example.com", &secret).await;
    assert!(c.session().is_some());
}

// MFA-5
#[tokio::test]
async fn mfa_5_recovery_codes_work_once_and_regenerating_voids_the_old_set() {
    let h = Harness::new();
    let (secret, codes) = totp_user(&h, "recover@example.com").await;
    assert_eq!(codes.len(), 10);
    assert!(h
        .memory
        .snapshot()
        .iter()
        .all(|i| codes.iter().all(|c| !i.data.contains(c.as_str()))));
    let mut a = Client::at_challenge(&h, "recover@example.com").await;
    let typed = codes[0].to_lowercase().replace('-', " ");
    let (s, _) = a.mfa("recovery", &typed).await;
    assert_eq!(s, 200, "in place of the factor, forgiving case and spaces");
    let mut b = Client::at_challenge(&h, "recover@example.com").await;
    let (s, _) = b.mfa("recovery", &codes[0]).await;
    assert_eq!(s, 401, "a code works once");
    // Regenerate (password asked again): the old set is void.
    h.advance(Duration::from_secs(30));
    let mut c = full_client(&h, "recover@example.com", &secret).await;
    let (s, _) = c
        .post(
            "/api/mfa/recovery/regenerate",
            json!({ "password": "Wrong-Pass1" }),
        )
        .await;
    assert_eq!(s, 401);
    let (s, b2) = c
        .post("/api/mfa/recovery/regenerate", json!({ "password": PW }))
        .await;
    assert_eq!(s, 200);
    let fresh: Vec<String> = serde_json::from_value(b2["recovery_codes"].clone()).unwrap();
    assert_eq!(fresh.len(), 10);
    let mut d = Client::at_challenge(&h, "recover@example.com").await;
    let (s, _) = d.mfa("recovery", &codes[1]).await;
    assert_eq!(s, 401, "old set void");
    let (s, _) = d.mfa("recovery", &fresh[9]).await;
    assert_eq!(s, 200);
}

// SET-4
#[tokio::test]
async fn set_4_choice_skipped_when_an_admin_preset_the_method() {
    let h = Harness::new();
    let mut rec = crate::support::record("preset@example.com", "ecid5550001", "econ555");
    rec["mfa_method"] = json!("totp");
    h.migrate(&[rec]).await;
    let token = h.setup_token("preset@example.com").await;
    let grant = h
        .app
        .verify_identity(
            &token,
            "preset@example.com",
            "Test User",
            "0312345678",
            &crate::support::ctx(),
        )
        .await
        .unwrap();
    h.app
        .set_initial_password(
            &grant.0,
            &tobira::ids::Password::parse(PW).unwrap(),
            &crate::support::ctx(),
        )
        .await
        .unwrap();
    let mut c = Client::new(&h);
    let (_, b) = c.login("preset@example.com", PW).await;
    assert_eq!(b, json!({ "next": "enroll", "enroll_method": "totp" }));
    let page = crate::support::body_text(&c.get("/enroll").await);
    assert!(page.contains("data-method=\"totp\""));
    assert!(!page.contains("data-method=\"email\"") && !page.contains("data-method=\"sms\""));
    // A bad preset in the export is refused at import, with its reason.
    let mut bad = crate::support::record("bad.preset@example.com", "ecid5550002", "econ555");
    bad["mfa_method"] = json!("fax");
    let r = h.app.import(&[bad], &crate::support::ctx()).await.unwrap();
    assert_eq!(r.counts.rejected, 1);
}

// MFA-4
#[tokio::test]
async fn mfa_4_the_code_that_confirmed_enrolment_is_refused_and_says_when_the_next_comes() {
    let h = Harness::new();
    let login = "same.step@example.com";
    h.active_user(login, PW).await;
    let mut e = Client::new(&h);
    e.login(login, PW).await;
    let (_, setup) = e.post("/api/mfa/totp", json!({})).await;
    let secret = setup["secret"].as_str().unwrap().to_string();
    h.advance(Duration::from_secs(10));
    let used = totp_code(&h, &secret, 0);
    let (s, _) = e
        .post("/api/mfa/totp/confirm", json!({ "code": used }))
        .await;
    assert_eq!(s, 200);
    let (s, _) = e
        .post("/api/mfa/recovery/ack", json!({ "recorded": true }))
        .await;
    assert_eq!(s, 200);
    let next_in = 30 - (h.app.now().millis() / 1000) % 30;
    // SET-4: sign in again at once; the app still shows the code just used.
    let mut c = Client::at_challenge(&h, login).await;
    let (s, b) = c.mfa("totp", &used).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (401, Some("code_already_used")),
        "{b}"
    );
    assert_eq!(b["retry_after_s"], next_in, "when the next step begins");
    let msg = b["message"].as_str().unwrap();
    assert!(msg.contains(&format!("{next_in}")), "{msg}");
    // MFA-4 still holds: that step is never accepted again, even later.
    let (s, _) = c.mfa("totp", &used).await;
    assert_eq!(s, 401);
    // A wrong code is the plain refusal.
    let wrong = if used == "000000" { "111111" } else { "000000" };
    let (_, b) = c.mfa("totp", wrong).await;
    assert_eq!(b["error"], "invalid_code");
    // The next code signs in.
    let (s, b) = c.mfa("totp", &totp_code(&h, &secret, 1)).await;
    assert_eq!(s, 200, "{b}");
}
