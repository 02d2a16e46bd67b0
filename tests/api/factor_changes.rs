//! Changing second factors (SET-4, MFA-1, MFA-8, AUD-1): the first factor
//! ends every other enrolment session; a factor change from a signed-in
//! session needs a fresh proof of the password and mails a notice.

use std::time::Duration;

use serde_json::json;

use crate::mfa_support::{full_user, mail_code, sms_code, totp_code, Client, PW};
use crate::support::{body_text, form_req, hidden, Harness};

/// Failures on the user's sign-in counter (LOG-2).
async fn failures(h: &Harness, login: &str) -> u32 {
    let id = h.user(login).await.id;
    let key = tobira::model::keys::lock("login", &id);
    tobira::store::get_as::<tobira::softlock::LockState>(h.app.store.as_ref(), &key, h.app.now())
        .await
        .unwrap()
        .map_or(0, |(s, _)| s.failures)
}

/// Mails to `to` that are not one-time codes, newest last.
async fn notices(h: &Harness, to: &str) -> Vec<tobira::delivery::Mail> {
    h.mails()
        .await
        .into_iter()
        .filter(|m| m.to == to && m.subject.contains("2段階認証"))
        .collect()
}

// SET-4, MFA-1
#[tokio::test]
async fn set_4_the_first_factor_ends_every_other_enrolment_session() {
    let h = Harness::new();
    let login = "two.tabs@example.com";
    h.active_user(login, PW).await;
    let mut a = Client::new(&h);
    let mut b = Client::new(&h);
    assert_eq!(a.login(login, PW).await.1["next"], "enroll");
    assert_eq!(b.login(login, PW).await.1["next"], "enroll");
    // B starts an SMS number and an authenticator before A finishes.
    let (s, _) = b.sms_enrol("9011112222", "81").await;
    assert_eq!(s, 202);
    let (s, b_setup) = b.totp_setup(json!({})).await;
    assert_eq!(s, 200);
    let b_secret = b_setup["secret"].as_str().unwrap().to_string();
    // A enrols TOTP and acknowledges the codes: no further proof, even
    // minutes later (SET-4: the password opened this session).
    h.advance(Duration::from_secs(20 * 60));
    let (s, a_setup) = a.totp_setup(json!({})).await;
    assert_eq!(s, 200);
    let a_secret = a_setup["secret"].as_str().unwrap().to_string();
    let (s, done) = a.totp_confirm(&totp_code(&h, &a_secret, 0)).await;
    assert_eq!(
        (s, done["next"].as_str()),
        (200, Some("confirm_recovery_codes"))
    );
    let (s, _) = a
        .post("/api/mfa/recovery/ack", json!({ "recorded": true }))
        .await;
    assert_eq!(s, 200);
    // B's session is over: no SMS number, no e-mail, no authenticator.
    let sms = sms_code(&h, "+819011112222");
    for (path, body) in [
        ("/api/otp/sms/verify", json!({ "code": sms })),
        (
            "/api/mfa/totp/confirm",
            json!({ "code": totp_code(&h, &b_secret, 0) }),
        ),
        ("/api/mfa/totp", json!({})),
        ("/api/otp/email", json!({ "purpose": "enroll" })),
        (
            "/api/otp/sms",
            json!({ "purpose": "enroll", "phone": "9033334444", "country": "81" }),
        ),
    ] {
        let (s, r) = b.post(path, body).await;
        assert!(matches!(s, 401 | 403), "{path}: {s} {r}");
    }
    let u = h.user(login).await;
    assert_eq!(u.methods, ["totp"]);
    assert_eq!(u.sms_phone, None);
    // B signs in again: the challenge asks the factor B does not have.
    let mut b = Client::new(&h);
    h.advance(Duration::from_secs(30));
    let (_, r) = b.login(login, PW).await;
    assert_eq!(r, json!({ "next": "mfa", "methods": ["totp"] }));
    let (s, _) = b.post("/api/otp/sms", json!({ "purpose": "login" })).await;
    assert_eq!(s, 400, "no SMS number is enrolled");
    let (s, _) = b.mfa("totp", &totp_code(&h, &b_secret, 0)).await;
    assert_eq!(s, 401, "B's secret was never written");
    // A's authenticator still works.
    let (s, r) = b.mfa("totp", &totp_code(&h, &a_secret, 0)).await;
    assert_eq!((s, r["next"].as_str()), (200, Some("terms")), "{r}");
    // The user is told (MFA-8), and the audit says other sessions ended (AUD-1).
    let n = notices(&h, login).await;
    assert_eq!(n.len(), 1, "{n:?}");
    assert!(n[0].text.contains("認証アプリ"), "{}", n[0].text);
    assert!(!n[0].text.contains(&a_secret));
    let tenant = u.tenant_id.as_str().to_string();
    assert!(h
        .audit_kinds(&tenant)
        .await
        .contains(&"mfa.enrolled".to_string()));
}

// SET-4
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn set_4_two_parallel_first_enrolments_exactly_one_wins() {
    let h = Harness::new();
    for i in 0..8 {
        let login = format!("race{i}@example.com");
        let ecid = format!("ecid{}", 9_100_000_000u64 + i);
        h.active_user_in(&login, PW, "econ9000000001", &ecid).await;
        let mut a = Client::new(&h);
        let mut b = Client::new(&h);
        a.login(&login, PW).await;
        b.login(&login, PW).await;
        let (_, sa) = a.totp_setup(json!({})).await;
        let (_, sb) = b.totp_setup(json!({})).await;
        let (ca, cb) = (
            totp_code(&h, sa["secret"].as_str().unwrap(), 0),
            totp_code(&h, sb["secret"].as_str().unwrap(), 0),
        );
        let ((s1, r1), (s2, r2)) = tokio::join!(a.totp_confirm(&ca), b.totp_confirm(&cb),);
        let wins = [s1, s2].iter().filter(|s| **s == 200).count();
        assert_eq!(wins, 1, "{s1} {r1} / {s2} {r2}");
        // The winner's secret is the one that verifies.
        let winner = if s1 == 200 { &sa } else { &sb };
        h.advance(Duration::from_secs(30));
        let mut c = Client::at_challenge(&h, &login).await;
        let code = totp_code(&h, winner["secret"].as_str().unwrap(), 0);
        let (s, r) = c.mfa("totp", &code).await;
        assert_eq!(s, 200, "{r}");
    }
}

// MFA-8, LOG-2, AUD-1, MSG-2
#[tokio::test]
async fn mfa_8_a_factor_change_from_a_stale_session_needs_the_password_and_sends_a_notice() {
    let h = Harness::new();
    let login = "stale@example.com";
    let (mut c, secret) = full_user(&h, login).await;
    // Past the window (TOBIRA_REAUTH_MINUTES, 5) but well within the idle timeout.
    h.advance(Duration::from_secs(6 * 60));
    let before = h.user(login).await;
    let (mails, sms) = (h.mails().await.len(), h.outbox.sms().len());
    let sms_body = |pw: Option<&str>| json!({ "purpose": "enroll", "phone": "9000000000", "country": "81", "password": pw });
    // Without the password: refused, nothing sent, nothing changed.
    for (path, body) in [
        ("/api/mfa/totp", json!({})),
        ("/api/otp/email", json!({ "purpose": "enroll" })),
        ("/api/otp/sms", sms_body(None)),
    ] {
        let (s, r) = c.post(path, body).await;
        assert_eq!(
            (s, r["error"].as_str()),
            (403, Some("reauth_required")),
            "{path} {r}"
        );
    }
    // With a wrong one: refused and counted on the sign-in counter (LOG-2).
    for (path, body) in [
        ("/api/mfa/totp", json!({ "password": "Wrong-Pass1" })),
        (
            "/api/otp/email",
            json!({ "purpose": "enroll", "password": "Wrong-Pass1" }),
        ),
        ("/api/otp/sms", sms_body(Some("Wrong-Pass1"))),
    ] {
        let (s, r) = c.post(path, body).await;
        assert_eq!(
            (s, r["error"].as_str()),
            (401, Some("invalid_credentials")),
            "{path} {r}"
        );
    }
    assert_eq!(failures(&h, login).await, 3);
    assert_eq!(h.mails().await.len(), mails);
    assert_eq!(h.outbox.sms().len(), sms);
    let after = h.user(login).await;
    assert_eq!(after.methods, before.methods);
    assert_eq!(after.device_epoch, before.device_epoch);
    let (s, _) = c.totp_confirm(&totp_code(&h, &secret, 0)).await;
    assert_eq!(s, 400, "no secret was issued");
    // With the right one: the SMS number is sent its code and, proved, added.
    let (s, r) = c.post("/api/otp/sms", sms_body(Some(PW))).await;
    assert_eq!(s, 202, "{r}");
    assert_eq!(
        failures(&h, login).await,
        0,
        "a right password clears the count"
    );
    let code = sms_code(&h, "+819000000000");
    let (s, r) = c.post("/api/otp/sms/verify", json!({ "code": code })).await;
    assert_eq!((s, r["next"].as_str()), (200, Some("done")), "{r}");
    assert_eq!(h.user(login).await.methods, ["totp", "sms"]);
    let n = notices(&h, login).await;
    let added = n.last().expect("a notice");
    assert!(added.subject.contains("追加"), "{}", added.subject);
    assert!(added.text.contains("SMS") && added.text.contains("+81****0000"));
    assert!(!added.text.contains(&code) && !added.text.contains("+819000000000"));
    // The password was just confirmed: e-mail is added without it.
    let (s, _) = c.otp_email("enroll").await;
    assert_eq!(s, 202);
    let code = mail_code(&h, login).await;
    let (s, _) = c.email_confirm(&code).await;
    assert_eq!(s, 200);
    assert!(notices(&h, login)
        .await
        .last()
        .unwrap()
        .text
        .contains("メール"));
    // Later, replacing the authenticator asks again; the notice holds no secret.
    h.advance(Duration::from_secs(6 * 60));
    let (s, _) = c.totp_setup(json!({})).await;
    assert_eq!(s, 403);
    let (s, setup) = c.totp_setup(json!({ "password": PW })).await;
    assert_eq!(s, 200);
    let fresh = setup["secret"].as_str().unwrap().to_string();
    let (s, r) = c.totp_confirm(&totp_code(&h, &fresh, 0)).await;
    assert_eq!((s, r["next"].as_str()), (200, Some("done")), "{r}");
    let replaced = notices(&h, login).await.pop().unwrap();
    assert!(replaced.subject.contains("変更"), "{}", replaced.subject);
    assert!(replaced.text.contains("認証アプリ"));
    assert!(!replaced.text.contains(&fresh) && !replaced.html.contains(&fresh));
    assert_eq!(notices(&h, login).await.len(), n.len() + 2);
    // AUD-1: every refusal and change is recorded.
    let kinds = h.audit_kinds(before.tenant_id.as_str()).await;
    for k in ["mfa.reauth_required", "mfa.reauth_refused", "mfa.reauth"] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
    assert_eq!(kinds.iter().filter(|k| *k == "mfa.enrolled").count(), 4);
}

// MFA-8
#[tokio::test]
async fn mfa_8_within_the_window_after_sign_in_no_password_is_needed() {
    let h = Harness::new();
    let login = "fresh@example.com";
    let (mut c, _) = full_user(&h, login).await;
    h.advance(Duration::from_secs(4 * 60));
    let (s, r) = c.otp_email("enroll").await;
    assert_eq!(s, 202, "{r}");
    let code = mail_code(&h, login).await;
    assert_eq!(c.email_confirm(&code).await.0, 200);
    assert_eq!(h.user(login).await.methods, ["totp", "email"]);
    // The notice goes all the same, naming the method.
    let n = notices(&h, login).await.pop().expect("a notice");
    assert!(
        n.subject.contains("追加") && n.text.contains("メール"),
        "{}",
        n.text
    );
    assert!(!n.text.contains(&code));
}

// MFA-8, SES-3
#[tokio::test]
async fn mfa_8_the_enrolment_pages_ask_the_password_when_it_is_not_fresh() {
    let h = Harness::new();
    let login = "pages@example.com";
    let (mut c, _secret) = full_user(&h, login).await;
    let page = body_text(&c.get("/enroll").await);
    assert!(
        !page.contains("id=\"password-totp\""),
        "fresh: no password field"
    );
    h.advance(Duration::from_secs(6 * 60));
    let page = body_text(&c.get("/enroll").await);
    assert!(page.contains("id=\"reauth-hint\""));
    assert!(page.contains("id=\"password-totp\"") && page.contains("id=\"password-email\""));
    let sms_page = body_text(&c.get("/enroll/sms").await);
    assert!(sms_page.contains("id=\"password\""));
    let csrf = hidden(&page, "csrf");
    // No password: the choice again, saying why; no secret shown.
    let r = h
        .send(c.jar.apply(form_req("/enroll/totp", &[("csrf", &csrf)])))
        .await;
    assert_eq!(r.status(), 403);
    let html = body_text(&r);
    assert!(html.contains("id=\"form-error\"") && !html.contains("id=\"totp-secret\""));
    // A wrong one: the same, counted.
    let wrong = [("csrf", csrf.as_str()), ("password", "Wrong-Pass1")];
    let r = h.send(c.jar.apply(form_req("/enroll/totp", &wrong))).await;
    assert_eq!(r.status(), 401);
    assert_eq!(failures(&h, login).await, 1);
    // The e-mail form without it goes back to the choice with the reason.
    let r = h
        .send(c.jar.apply(form_req(
            "/otp/email",
            &[("csrf", &csrf), ("purpose", "enroll")],
        )))
        .await;
    assert_eq!(r.headers()["location"], "/enroll?error=reauth");
    // The right one shows the authenticator's secret.
    let right = [("csrf", csrf.as_str()), ("password", PW)];
    let r = h.send(c.jar.apply(form_req("/enroll/totp", &right))).await;
    assert_eq!(r.status(), 200);
    assert!(body_text(&r).contains("id=\"totp-secret\""));
    // English too.
    let r = c.get("/enroll?lang=en").await;
    assert!(
        !body_text(&r).contains("id=\"reauth-hint\""),
        "just confirmed"
    );
    h.advance(Duration::from_secs(6 * 60));
    let r = c.get("/enroll?lang=en").await;
    assert!(body_text(&r).contains("enter your password again"));
}
