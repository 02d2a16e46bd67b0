//! Two-step verification and the complete sign-in (SET-4, LOG-2, LOG-4,
//! MFA-1..8, TOS-1, SES-1, SES-2), through the functions' real handlers.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{body_json, get, json_req, Harness, Jar};

pub const PW: &str = "Tobira-Door42";

/// A browser or API client: a cookie jar in front of the harness.
pub struct Client<'a> {
    pub h: &'a Harness,
    pub jar: Jar,
}

impl<'a> Client<'a> {
    pub fn new(h: &'a Harness) -> Self {
        Self {
            h,
            jar: Jar::default(),
        }
    }
    pub async fn post(&mut self, path: &str, body: Value) -> (u16, Value) {
        let req = json_req("POST", path, &body.to_string());
        let r = self.h.send(self.jar.apply(req)).await;
        self.jar.take(&r);
        (r.status().as_u16(), body_json(&r))
    }
    pub async fn get(&mut self, path: &str) -> tobira_web::web::Response {
        let r = self.h.send(self.jar.apply(get(path))).await;
        self.jar.take(&r);
        r
    }
    pub fn session(&self) -> Option<String> {
        self.jar.get("__Host-tobira-session").cloned()
    }
    pub async fn login(&mut self, login: &str, pw: &str) -> (u16, Value) {
        self.post("/api/login", json!({ "login_id": login, "password": pw }))
            .await
    }
}

/// The newest e-mail code sent to `to`.
pub fn mail_code(h: &Harness, to: &str) -> String {
    let m = h
        .outbox
        .mails()
        .into_iter()
        .rev()
        .find(|m| m.to == to && m.subject.contains("ワンタイムパスワード"))
        .expect("an OTP mail");
    six_digits_in(&m.text)
}

/// The newest SMS code sent to `to`.
pub fn sms_code(h: &Harness, to: &str) -> String {
    let s = h
        .outbox
        .sms()
        .into_iter()
        .rev()
        .find(|s| s.to == to)
        .expect("an SMS");
    six_digits_in(&s.text)
}

fn six_digits_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a six-digit code")
        .to_string()
}

/// The TOTP code for `secret` at the harness clock, `offset` steps away.
pub fn totp_code(h: &Harness, secret: &str, offset: i64) -> String {
    let t = tobira::mfa::totp::totp(secret, "tobira", "x").unwrap();
    let secs = (h.app.now().millis() / 1000 + offset * 30) as u64;
    t.generate(secs).to_string()
}

/// An active user who has enrolled TOTP (and acknowledged the codes); its
/// secret and recovery codes.
pub async fn totp_user(h: &Harness, login: &str) -> (String, Vec<String>) {
    h.active_user(login, PW).await;
    totp_enrol(h, login).await
}

/// The first sign-in of an active user without a factor: TOTP enrolled,
/// recovery codes acknowledged. The secret and the codes.
pub async fn totp_enrol(h: &Harness, login: &str) -> (String, Vec<String>) {
    let mut c = Client::new(h);
    assert_eq!(c.login(login, PW).await.1["next"], "enroll");
    let (s, setup) = c.post("/api/mfa/totp", json!({})).await;
    assert_eq!(s, 200, "{setup}");
    let secret = setup["secret"].as_str().unwrap().to_string();
    let (s, done) = c
        .post(
            "/api/mfa/totp/confirm",
            json!({ "code": totp_code(h, &secret, 0) }),
        )
        .await;
    assert_eq!(s, 200, "{done}");
    let codes: Vec<String> = serde_json::from_value(done["recovery_codes"].clone()).unwrap();
    let (s, _) = c
        .post("/api/mfa/recovery/ack", json!({ "recorded": true }))
        .await;
    assert_eq!(s, 200);
    // The enrolment used this time step (MFA-4): the next sign-in waits for the next.
    h.advance(Duration::from_secs(30));
    (secret, codes)
}

/// Signed in to the full stage with TOTP (terms accepted).
pub async fn full_client<'a>(h: &'a Harness, login: &str, secret: &str) -> Client<'a> {
    let mut c = Client::new(h);
    assert_eq!(c.login(login, PW).await.1["next"], "mfa");
    let (s, b) = c
        .post(
            "/api/login/mfa",
            json!({ "method": "totp", "code": totp_code(h, secret, 0) }),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    if b["next"] == "terms" {
        let (s, _) = c
            .post("/api/terms/accept", json!({ "version": "2024-07" }))
            .await;
        assert_eq!(s, 200);
    }
    h.advance(Duration::from_secs(30));
    c
}

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
    let (_, setup) = c.post("/api/mfa/totp", json!({})).await;
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
    let (s, b) = c
        .post("/api/mfa/totp/confirm", json!({ "code": "000000" }))
        .await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_code")));
    let (s, done) = c
        .post(
            "/api/mfa/totp/confirm",
            json!({ "code": totp_code(&h, secret, 0) }),
        )
        .await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["next"], "confirm_recovery_codes");
    let codes = done["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    // Until "I have recorded these", the session can do nothing else.
    let (s, _) = c.post("/api/mfa/totp", json!({})).await;
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
    let (s, b) = c
        .post(
            "/api/login/mfa",
            json!({ "method": "totp", "code": totp_code(&h, secret, 0) }),
        )
        .await;
    assert_eq!((s, b["next"].as_str()), (200, Some("terms")));
    let (_, me) = {
        let r = c.get("/api/me").await;
        (r.status(), body_json(&r))
    };
    assert_eq!(me["stage"], "terms");
    let (s, b) = c
        .post("/api/terms/accept", json!({ "version": "2024-07" }))
        .await;
    assert_eq!((s, b["next"].as_str()), (200, Some("done")));
    let me = body_json(&c.get("/api/me").await);
    assert_eq!(me["stage"], "full");
    assert_eq!(me["methods"], json!(["totp"]));
    // TOS-1: version and time recorded.
    let (u, _) = h
        .app
        .user_by_login(&tobira::ids::LoginId::parse("first@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
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
    let mut a = Client::new(&h);
    a.login("step@example.com", PW).await;
    // The previous step's code still works (one step of skew)...
    let prev = totp_code(&h, &secret, -1);
    let (s, _) = a
        .post("/api/login/mfa", json!({ "method": "totp", "code": prev }))
        .await;
    assert_eq!(s, 200);
    // ...once: another sign-in in the same step cannot reuse it, nor an older one.
    let mut b = Client::new(&h);
    b.login("step@example.com", PW).await;
    for code in [prev, totp_code(&h, &secret, -2)] {
        let (s, r) = b
            .post("/api/login/mfa", json!({ "method": "totp", "code": code }))
            .await;
        assert_eq!((s, r["error"].as_str()), (401, Some("invalid_code")));
    }
    // Two steps away is too far.
    let (s, _) = b
        .post(
            "/api/login/mfa",
            json!({ "method": "totp", "code": totp_code(&h, &secret, 2) }),
        )
        .await;
    assert_eq!(s, 401);
    let (s, _) = b
        .post(
            "/api/login/mfa",
            json!({ "method": "totp", "code": totp_code(&h, &secret, 0) }),
        )
        .await;
    assert_eq!(s, 200);
}

/// A user with e-mail as its only method, signed in to the challenge.
async fn email_user(h: &Harness, login: &str) {
    h.active_user(login, PW).await;
    let mut c = Client::new(h);
    c.login(login, PW).await;
    let (s, b) = c
        .post("/api/otp/email", json!({ "purpose": "enroll" }))
        .await;
    assert_eq!(s, 202, "{b}");
    let code = mail_code(h, login);
    let (s, b) = c.post("/api/mfa/email", json!({ "code": code })).await;
    assert_eq!(
        (s, b["next"].as_str()),
        (200, Some("confirm_recovery_codes"))
    );
    c.post("/api/mfa/recovery/ack", json!({ "recorded": true }))
        .await;
}

// MFA-3
#[tokio::test]
async fn mfa_3_email_codes_six_digits_hashed_single_use_five_minutes() {
    let h = Harness::new();
    email_user(&h, "mail@example.com").await;
    let mut c = Client::new(&h);
    c.login("mail@example.com", PW).await;
    let (s, b) = c
        .post("/api/otp/email", json!({ "purpose": "login" }))
        .await;
    assert_eq!(s, 202);
    assert_eq!(b, json!({ "expires_in_s": 300, "resend_after_s": 30 }));
    let mail = h.outbox.mails().pop().unwrap();
    assert_eq!(mail.subject, "tobira メールワンタイムパスワード"); // MSG-1
    let code = mail_code(&h, "mail@example.com");
    assert_eq!(code.len(), 6);
    // Stored hashed: no item holds the code.
    assert!(
        h.memory.snapshot().iter().all(|i| !i.data.contains(&code)),
        "the code is stored in clear"
    );
    // Valid 5 minutes, not a moment longer.
    h.advance(Duration::from_secs(300));
    let (s, _) = c
        .post("/api/login/mfa", json!({ "method": "email", "code": code }))
        .await;
    assert_eq!(s, 401);
    // A fresh code works once.
    c.post("/api/otp/email", json!({ "purpose": "login" }))
        .await;
    let code = mail_code(&h, "mail@example.com");
    h.advance(Duration::from_secs(299));
    let (s, b) = c
        .post("/api/login/mfa", json!({ "method": "email", "code": code }))
        .await;
    assert_eq!((s, b["next"].as_str()), (200, Some("terms")), "{b}");
    let mut again = Client::new(&h);
    again.login("mail@example.com", PW).await;
    let (s, _) = again
        .post("/api/login/mfa", json!({ "method": "email", "code": code }))
        .await;
    assert_eq!(s, 401, "single use, and tied to its own sign-in");
}

// MFA-3
#[tokio::test]
async fn mfa_3_resend_after_30_s_and_an_hourly_cap() {
    let h = Harness::new();
    email_user(&h, "resend@example.com").await;
    let mut c = Client::new(&h);
    c.login("resend@example.com", PW).await;
    let (s, _) = c
        .post("/api/otp/email", json!({ "purpose": "login" }))
        .await;
    assert_eq!(s, 202);
    let first = mail_code(&h, "resend@example.com");
    h.advance(Duration::from_secs(29));
    let (s, b) = c
        .post("/api/otp/email", json!({ "purpose": "login" }))
        .await;
    assert_eq!((s, b["retry_after_s"].as_u64()), (429, Some(1)));
    h.advance(Duration::from_secs(1));
    let (s, _) = c
        .post("/api/otp/email", json!({ "purpose": "login" }))
        .await;
    assert_eq!(s, 202);
    // A new code voids the one before it.
    let (s, _) = c
        .post(
            "/api/login/mfa",
            json!({ "method": "email", "code": first }),
        )
        .await;
    assert_eq!(s, 401);
    // Sends per hour are capped (5 by default; one went to the enrolment).
    let mut sent = 3; // enrolment, first, second
    loop {
        h.advance(Duration::from_secs(30));
        let (s, b) = c
            .post("/api/otp/email", json!({ "purpose": "login" }))
            .await;
        if s == 429 {
            assert!(b["retry_after_s"].as_u64().unwrap() > 30, "{b}");
            break;
        }
        assert_eq!(s, 202);
        sent += 1;
    }
    assert_eq!(sent, 5);
}

// MFA-3, LOG-2
#[tokio::test]
async fn mfa_3_five_wrong_entries_end_a_code_and_count_towards_the_lock() {
    let h = Harness::new();
    email_user(&h, "wrong@example.com").await;
    let mut c = Client::new(&h);
    c.login("wrong@example.com", PW).await;
    c.post("/api/otp/email", json!({ "purpose": "login" }))
        .await;
    let code = mail_code(&h, "wrong@example.com");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..4 {
        let (s, _) = c
            .post(
                "/api/login/mfa",
                json!({ "method": "email", "code": wrong }),
            )
            .await;
        assert_eq!(s, 401);
    }
    // The fifth failure locks the user (LOG-2) and ends the half session.
    let (s, _) = c
        .post(
            "/api/login/mfa",
            json!({ "method": "email", "code": wrong }),
        )
        .await;
    assert_eq!(s, 401);
    let (s, _) = c
        .post("/api/login/mfa", json!({ "method": "email", "code": code }))
        .await;
    assert_eq!(s, 401, "the session ended with the lock");
    let (s, _) = Client::new(&h).login("wrong@example.com", PW).await;
    assert_eq!(s, 401, "locked: even the right password is refused");
    h.advance(Duration::from_secs(20 * 60));
    let (s, _) = Client::new(&h).login("wrong@example.com", PW).await;
    assert_eq!(s, 200);
}

// LOG-2
#[tokio::test]
async fn log_2_the_password_alone_does_not_reset_the_count_of_code_failures() {
    let h = Harness::new();
    let (secret, _) = totp_user(&h, "reset.count@example.com").await;
    let bad = |c: &str| {
        if c == "000000" {
            "111111".to_string()
        } else {
            "000000".to_string()
        }
    };
    let mut c = Client::new(&h);
    c.login("reset.count@example.com", PW).await;
    for _ in 0..4 {
        let code = bad(&totp_code(&h, &secret, 0));
        assert_eq!(
            c.post("/api/login/mfa", json!({ "method": "totp", "code": code }))
                .await
                .0,
            401
        );
    }
    // Signing in with the password again does not wipe the four failures.
    let mut d = Client::new(&h);
    assert_eq!(d.login("reset.count@example.com", PW).await.0, 200);
    let code = bad(&totp_code(&h, &secret, 0));
    d.post("/api/login/mfa", json!({ "method": "totp", "code": code }))
        .await;
    assert_eq!(
        Client::new(&h).login("reset.count@example.com", PW).await.0,
        401,
        "five code failures in a row lock"
    );
    // A completed sign-in resets the count.
    h.advance(Duration::from_secs(20 * 60));
    full_client(&h, "reset.count@example.com", &secret).await;
    let mut e = Client::new(&h);
    e.login("reset.count@example.com", PW).await;
    for _ in 0..4 {
        let code = bad(&totp_code(&h, &secret, 0));
        e.post("/api/login/mfa", json!({ "method": "totp", "code": code }))
            .await;
    }
    assert_eq!(
        Client::new(&h).login("reset.count@example.com", PW).await.0,
        200
    );
}

// MFA-6, MFA-8
#[tokio::test]
async fn mfa_6_sms_number_is_proved_before_use_and_kept_as_e164() {
    let h = Harness::new();
    let (secret, _) = totp_user(&h, "sms@example.com").await;
    let mut c = full_client(&h, "sms@example.com", &secret).await;
    // Hyphens or the leading 0 are refused with a clear error; nothing is sent.
    let (s, b) = c
        .post(
            "/api/otp/sms",
            json!({ "purpose": "enroll", "phone": "090-0000-0000", "country": "81" }),
        )
        .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_phone")));
    let (s, b) = c
        .post(
            "/api/otp/sms",
            json!({ "purpose": "enroll", "phone": "09000000000", "country": "81" }),
        )
        .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("phone_leading_zero")));
    assert!(h.outbox.sms().is_empty());
    let (s, _) = c
        .post(
            "/api/otp/sms",
            json!({ "purpose": "enroll", "phone": "9000000000", "country": "81" }),
        )
        .await;
    assert_eq!(s, 202);
    let sms = h.outbox.sms().pop().unwrap();
    assert_eq!(sms.to, "+819000000000");
    assert!(sms.text.is_ascii() && sms.text.len() <= 160, "{}", sms.text);
    // Not a method until the code proves the number.
    let me = body_json(&c.get("/api/me").await);
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
    let me = body_json(&c.get("/api/me").await);
    assert_eq!(me["methods"], json!(["totp", "sms"]));
    // MFA-8: at the challenge, pick SMS instead of TOTP.
    let mut d = Client::new(&h);
    let (_, b) = d.login("sms@example.com", PW).await;
    assert_eq!(b["methods"], json!(["totp", "sms"]));
    let (s, _) = d.post("/api/otp/sms", json!({ "purpose": "login" })).await;
    assert_eq!(s, 202);
    let (s, b) = d
        .post(
            "/api/login/mfa",
            json!({ "method": "sms", "code": sms_code(&h, "+819000000000") }),
        )
        .await;
    assert_eq!((s, b["next"].as_str()), (200, Some("done")));
}

// MFA-2
#[tokio::test]
async fn mfa_2_email_otp_only_after_another_method_when_configured() {
    let mut config = crate::support::test_config();
    config.email_otp_needs_other_method = true;
    let h = Harness::with_config(config);
    h.active_user("second@example.com", PW).await;
    let mut c = Client::new(&h);
    c.login("second@example.com", PW).await;
    let (s, b) = c
        .post("/api/otp/email", json!({ "purpose": "enroll" }))
        .await;
    assert_eq!((s, b["error"].as_str()), (409, Some("email_otp_not_first")));
    assert!(h
        .outbox
        .mails()
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
    assert_eq!(
        n.post("/api/terms/accept", json!({ "version": "2024-07" }))
            .await
            .0,
        403
    );
    // ...and no route removes a factor: only enrolment routes touch them.
    for r in tobira_web::routes::ROUTES {
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
    let mut a = Client::new(&h);
    a.login("recover@example.com", PW).await;
    let typed = codes[0].to_lowercase().replace('-', " ");
    let (s, _) = a
        .post(
            "/api/login/mfa",
            json!({ "method": "recovery", "code": typed }),
        )
        .await;
    assert_eq!(s, 200, "in place of the factor, forgiving case and spaces");
    let mut b = Client::new(&h);
    b.login("recover@example.com", PW).await;
    let (s, _) = b
        .post(
            "/api/login/mfa",
            json!({ "method": "recovery", "code": codes[0] }),
        )
        .await;
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
    let mut d = Client::new(&h);
    d.login("recover@example.com", PW).await;
    let (s, _) = d
        .post(
            "/api/login/mfa",
            json!({ "method": "recovery", "code": codes[1] }),
        )
        .await;
    assert_eq!(s, 401, "old set void");
    let (s, _) = d
        .post(
            "/api/login/mfa",
            json!({ "method": "recovery", "code": fresh[9] }),
        )
        .await;
    assert_eq!(s, 200);
}

async fn remembered<'a>(h: &'a Harness, login: &str, secret: &str) -> Client<'a> {
    let mut c = Client::new(h);
    c.login(login, PW).await;
    let (s, _) = c
        .post(
            "/api/login/mfa",
            json!({ "method": "totp", "code": totp_code(h, secret, 0), "remember_device": true }),
        )
        .await;
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
    full.post("/api/otp/email", json!({ "purpose": "enroll" }))
        .await;
    let code = mail_code(&h, "revoke@example.com");
    assert_eq!(
        full.post("/api/mfa/email", json!({ "code": code })).await.0,
        200
    );
    assert_eq!(c.login("revoke@example.com", PW).await.1["next"], "mfa");
    // A password reset.
    let mut c = remembered(&h, "revoke@example.com", &secret).await;
    assert_ne!(c.login("revoke@example.com", PW).await.1["next"], "mfa");
    let (user, _) = h
        .app
        .user_by_login(&tobira::ids::LoginId::parse("revoke@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    h.app
        .send_password_link(&user.id, "reset", &crate::support::ctx())
        .await
        .unwrap();
    let mail = h.outbox.mails().pop().unwrap();
    let at = mail.text.find("token=").unwrap() + 6;
    let token = mail.text[at..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
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
        body_json(&c.get("/api/me").await)["stage"],
        "full",
        "accepted once, not asked again"
    );
    // A new version.
    let mut config = (*h.app.config).clone();
    config.terms_version = "2026-12".into();
    let h2 = Harness::over(config, h.memory.clone(), h.memory.clone());
    h2.clock.set(h.app.now());
    let mut c = Client::new(&h2);
    c.login("terms@example.com", PW).await;
    let (_, b) = c
        .post(
            "/api/login/mfa",
            json!({ "method": "totp", "code": totp_code(&h2, &secret, 0) }),
        )
        .await;
    assert_eq!(b["next"], "terms");
    let (s, b) = c
        .post("/api/terms/accept", json!({ "version": "2024-07" }))
        .await;
    assert_eq!((s, b["error"].as_str()), (409, Some("terms_changed")));
    let (s, _) = c
        .post("/api/terms/accept", json!({ "version": "2026-12" }))
        .await;
    assert_eq!(s, 200);
}

// SES-1
#[tokio::test]
async fn ses_1_rotated_at_sign_in_idle_and_absolute_timeouts_and_sign_out() {
    let h = Harness::new();
    let (secret, _) = totp_user(&h, "ses@example.com").await;
    let mut c = Client::new(&h);
    c.login("ses@example.com", PW).await;
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
    let mut c = Client::new(&h);
    c.login("stage@example.com", PW).await;
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
    c.post(
        "/api/login/mfa",
        json!({ "method": "totp", "code": totp_code(&h, &secret, 0) }),
    )
    .await;
    for (path, body) in &full_only[..2] {
        assert_eq!(c.post(path, body.clone()).await.0, 403, "{path}");
    }
    let (s, _) = c
        .post(
            "/api/login/mfa",
            json!({ "method": "recovery", "code": "x" }),
        )
        .await;
    assert_eq!(s, 403, "the challenge is behind it");
    assert_eq!(c.get("/").await.headers()["location"], "/terms");
    // Enrolment stage: no challenge, no dashboard.
    h.active_user("stage2@example.com", PW).await;
    let mut e = Client::new(&h);
    e.login("stage2@example.com", PW).await;
    assert_eq!(
        e.post(
            "/api/login/mfa",
            json!({ "method": "totp", "code": "123456" })
        )
        .await
        .0,
        403
    );
    assert_eq!(e.get("/").await.headers()["location"], "/enroll");
    // No session at all.
    let mut n = Client::new(&h);
    for (path, body) in full_only {
        assert_eq!(n.post(path, body.clone()).await.0, 401, "{path}");
    }
}

// SET-4
#[tokio::test]
async fn set_4_choice_skipped_when_an_admin_preset_the_method() {
    let h = Harness::new();
    let mut rec = crate::support::record("preset@example.com", "ecid5550001", "econ555");
    rec["mfa_method"] = json!("totp");
    h.migrate(&[rec]).await;
    let token = h.setup_token("preset@example.com");
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

/// One `POST /api/login/mfa` with a session cookie, straight to the function.
async fn submit(app: tobira::App, cookie: String, body: String) -> u16 {
    let mut req = json_req("POST", "/api/login/mfa", &body);
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    tobira_local::call_function(&app, "login", req)
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// 50 submissions at once of one valid proof: exactly one signs in.
async fn race(h: &Harness, login: &str, method: &str, code: &str, send: Option<&str>) -> usize {
    let mut c = Client::new(h);
    c.login(login, PW).await;
    if let Some(path) = send {
        let (s, _) = c.post(path, json!({ "purpose": "login" })).await;
        assert_eq!(s, 202);
    }
    let code = if code.is_empty() {
        match method {
            "email" => mail_code(h, login),
            _ => sms_code(h, "+819000000000"),
        }
    } else {
        code.to_string()
    };
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let app = h.app.clone();
        let cookie = c.jar.header();
        let body = json!({ "method": method, "code": code }).to_string();
        tasks.push(tokio::spawn(submit(app, cookie, body)));
    }
    let mut ok = 0;
    for t in tasks {
        let s = t.await.unwrap();
        assert!(matches!(s, 200 | 401 | 403 | 409 | 429), "{s}");
        ok += usize::from(s == 200);
    }
    ok
}

// MFA-3, MFA-4, MFA-5
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mfa_3_4_5_fifty_parallel_submissions_of_one_valid_code_sign_in_once() {
    let h = Harness::new();
    let (secret, codes) = totp_user(&h, "race@example.com").await;
    // TOTP.
    let code = totp_code(&h, &secret, 0);
    assert_eq!(race(&h, "race@example.com", "totp", &code, None).await, 1);
    // Recovery code.
    assert_eq!(
        race(&h, "race@example.com", "recovery", &codes[3], None).await,
        1
    );
    // SMS and e-mail: enrol both, then race.
    h.advance(Duration::from_secs(30));
    let mut full = full_client(&h, "race@example.com", &secret).await;
    full.post(
        "/api/otp/sms",
        json!({ "purpose": "enroll", "phone": "+819000000000" }),
    )
    .await;
    let c = sms_code(&h, "+819000000000");
    assert_eq!(
        full.post("/api/otp/sms/verify", json!({ "code": c }))
            .await
            .0,
        200
    );
    full.post("/api/otp/email", json!({ "purpose": "enroll" }))
        .await;
    let c = mail_code(&h, "race@example.com");
    assert_eq!(
        full.post("/api/mfa/email", json!({ "code": c })).await.0,
        200
    );
    assert_eq!(
        race(&h, "race@example.com", "sms", "", Some("/api/otp/sms")).await,
        1
    );
    assert_eq!(
        race(&h, "race@example.com", "email", "", Some("/api/otp/email")).await,
        1
    );
}

// MFA-3, LOG-2
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mfa_3_log_2_fifty_parallel_wrong_codes_never_exceed_the_limits() {
    let h = Harness::new();
    email_user(&h, "many@example.com").await;
    let mut c = Client::new(&h);
    c.login("many@example.com", PW).await;
    c.post("/api/otp/email", json!({ "purpose": "login" }))
        .await;
    let code = mail_code(&h, "many@example.com");
    let mut tasks = Vec::new();
    for i in 0..50 {
        let app = h.app.clone();
        let cookie = c.jar.header();
        let guess = format!("{:06}", (code.parse::<u32>().unwrap() + 1 + i) % 1_000_000);
        let body = json!({ "method": "email", "code": guess }).to_string();
        tasks.push(tokio::spawn(submit(app, cookie, body)));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let user_tenant = "AUDIT#econ9000000001";
    let audit = h.app.query_all(user_tenant, "").await.unwrap();
    let checked = audit
        .iter()
        .filter(|i| i.data.contains("\"mfa.failure\"") || i.data.contains("\"mfa.success\""))
        .count();
    assert!(checked <= 5, "{checked} codes were checked (5 at most)");
    // The right code comes too late: the user is locked.
    let (s, _) = c
        .post("/api/login/mfa", json!({ "method": "email", "code": code }))
        .await;
    assert_ne!(s, 200);
    assert_eq!(
        Client::new(&h).login("many@example.com", PW).await.0,
        401,
        "the user is locked"
    );
}

// AUD-1, MSG-2
#[tokio::test]
async fn aud_1_msg_2_codes_sent_verified_failed_and_factors_enrolled_are_recorded_without_secrets()
{
    let h = Harness::new();
    let (secret, codes) = totp_user(&h, "trail@example.com").await;
    let mut c = Client::new(&h);
    c.login("trail@example.com", PW).await;
    c.post(
        "/api/login/mfa",
        json!({ "method": "totp", "code": "000000" }),
    )
    .await;
    let code = totp_code(&h, &secret, 0);
    c.post(
        "/api/login/mfa",
        json!({ "method": "totp", "code": code.clone() }),
    )
    .await;
    c.post("/api/terms/accept", json!({ "version": "2024-07" }))
        .await;
    c.post("/api/otp/email", json!({ "purpose": "enroll" }))
        .await;
    let mail = mail_code(&h, "trail@example.com");
    c.post("/api/mfa/email", json!({ "code": mail.clone() }))
        .await;
    let events: Vec<tobira::app::AuditEvent> = h
        .app
        .query_all("AUDIT#econ9000000001", "")
        .await
        .unwrap()
        .iter()
        .map(|i| i.parse().unwrap())
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    for k in [
        "mfa.totp_secret_issued",
        "mfa.enrolled",
        "mfa.recovery_acknowledged",
        "mfa.failure",
        "mfa.success",
        "terms.accepted",
        "otp.sent",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let all = format!("{events:?}");
    for s in [
        secret.as_str(),
        code.as_str(),
        mail.as_str(),
        codes[0].as_str(),
    ] {
        assert!(!all.contains(s), "a secret leaked into the audit trail");
    }
}

// MFA-3 (fails closed)
#[tokio::test]
async fn mfa_3_a_mail_fault_answers_503_and_withdraws_the_code() {
    let h = Harness::new();
    email_user(&h, "fault@example.com").await;
    let mut c = Client::new(&h);
    c.login("fault@example.com", PW).await;
    h.outbox.set_failing(true);
    let (s, b) = c
        .post("/api/otp/email", json!({ "purpose": "login" }))
        .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (503, Some("temporarily_unavailable"))
    );
    // Nobody got that code, so asking again is not "too soon".
    h.outbox.set_failing(false);
    let (s, _) = c
        .post("/api/otp/email", json!({ "purpose": "login" }))
        .await;
    assert_eq!(s, 202);
    let code = mail_code(&h, "fault@example.com");
    let (s, _) = c
        .post("/api/login/mfa", json!({ "method": "email", "code": code }))
        .await;
    assert_eq!(s, 200);
}

// SES-2
#[tokio::test]
async fn ses_2_every_signed_in_api_route_refuses_a_password_only_session() {
    let h = Harness::new();
    let (secret, _) = totp_user(&h, "every@example.com").await;
    let mut c = Client::new(&h);
    c.login("every@example.com", PW).await;
    // What a password-only session may do: its own step, and who it is.
    let own_step = [
        "/api/login",
        "/api/login/mfa",
        "/api/otp/email",
        "/api/otp/sms",
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
        "/api/cases/{id}/reject": {},
    });
    let (mut posted, mut got) = (0, 0);
    for r in tobira_web::routes::ROUTES {
        if !r.path.starts_with("/api/") || own_step.contains(&r.path) || public(r.path) {
            continue;
        }
        let path = r.path.replace("{id}", "01JDQ3ZV8K9M2N4P6R8T0V2X4Y");
        let (s, b) = if r.method == "GET" {
            got += 1;
            let resp = c.get(&path).await;
            (resp.status().as_u16(), body_json(&resp))
        } else {
            posted += 1;
            let body = bodies
                .get(r.path)
                .unwrap_or_else(|| panic!("no body for {}", r.path));
            c.post(&path, body.clone()).await
        };
        assert_eq!(
            (s, b["error"].as_str()),
            (403, Some("forbidden")),
            "{} {}",
            r.method,
            r.path
        );
    }
    assert_eq!(posted, bodies.as_object().unwrap().len());
    assert_eq!(got, 2, "GET /api/cases and /api/cases/{{id}}");
    assert_eq!(body_json(&c.get("/api/me").await)["stage"], "mfa");
}
