//! What the tests of signing in share: a client with a cookie jar, users
//! with a second factor, the codes they are sent.

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
    /// A client signed in with the password `PW` of `login`, so at the
    /// second step (or the enrolment) unless its device is remembered.
    pub async fn at_challenge(h: &'a Harness, login: &str) -> Client<'a> {
        let mut c = Self::new(h);
        c.login(login, PW).await;
        c
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
    /// The second step of a sign-in (LOG-4): `method` and its code.
    pub async fn mfa(&mut self, method: &str, code: &str) -> (u16, Value) {
        self.post("/api/login/mfa", json!({ "method": method, "code": code }))
            .await
    }
    /// [`Client::mfa`], asking to remember this device (MFA-7).
    pub async fn mfa_remembering(&mut self, method: &str, code: &str) -> (u16, Value) {
        let body = json!({ "method": method, "code": code, "remember_device": true });
        self.post("/api/login/mfa", body).await
    }
    /// Ask for an e-mail code (MFA-3) for `purpose` (`login`, `enroll`).
    pub async fn otp_email(&mut self, purpose: &str) -> (u16, Value) {
        self.post("/api/otp/email", json!({ "purpose": purpose }))
            .await
    }
    /// Start setting up an authenticator (MFA-4); `body` may hold the password (MFA-8).
    pub async fn totp_setup(&mut self, body: Value) -> (u16, Value) {
        self.post("/api/mfa/totp", body).await
    }
    /// Confirm the authenticator set up with its first `code` (MFA-4).
    pub async fn totp_confirm(&mut self, code: &str) -> (u16, Value) {
        self.post("/api/mfa/totp/confirm", json!({ "code": code }))
            .await
    }
    /// Enrol e-mail codes with the `code` mailed (MFA-3).
    pub async fn email_confirm(&mut self, code: &str) -> (u16, Value) {
        self.post("/api/mfa/email", json!({ "code": code })).await
    }
    /// Enrol the SMS number `phone` of `country` (MFA-6): the code is sent.
    pub async fn sms_enrol(&mut self, phone: &str, country: &str) -> (u16, Value) {
        let body = json!({ "purpose": "enroll", "phone": phone, "country": country });
        self.post("/api/otp/sms", body).await
    }
    /// Accept the terms of use (TOS-1) of `version`.
    pub async fn accept_terms(&mut self, version: &str) -> (u16, Value) {
        self.post("/api/terms/accept", json!({ "version": version }))
            .await
    }
    /// `GET /api/me`'s body.
    /// `method path` as the JSON client (a GET, or a POST of `body`): the
    /// status and the body.
    pub async fn call(&mut self, method: &str, path: &str, body: Value) -> (u16, Value) {
        if method == "GET" {
            let r = self.get(path).await;
            (r.status().as_u16(), body_json(&r))
        } else {
            self.post(path, body).await
        }
    }
    /// [`Client::call`], which must answer `status` with the error `code`.
    pub async fn refused(
        &mut self,
        method: &str,
        path: &str,
        body: Value,
        status: u16,
        code: &str,
    ) {
        let (s, e) = self.call(method, path, body).await;
        assert_eq!(
            (s, e["error"].as_str()),
            (status, Some(code)),
            "{method} {path}: {e}"
        );
    }
    pub async fn me(&mut self) -> Value {
        body_json(&self.get("/api/me").await)
    }
}

/// The newest e-mail code sent to `to`.
pub async fn mail_code(h: &Harness, to: &str) -> String {
    six_digits_in(&h.newest_mail(to, "ワンタイムパスワード").await.text)
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

/// The code of the newest call to `to` (MFA-9): the first six digits it
/// reads out, one by one.
pub fn voice_code(h: &Harness, to: &str) -> String {
    let call = h
        .outbox
        .calls()
        .into_iter()
        .rev()
        .find(|c| c.to == to)
        .expect("a call");
    call.text
        .chars()
        .filter(char::is_ascii_digit)
        .take(6)
        .collect()
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

/// A new TOTP user (see [`totp_user`]) signed in to the full stage; and its secret.
pub async fn full_user<'a>(h: &'a Harness, login: &str) -> (Client<'a>, String) {
    let (secret, _) = totp_user(h, login).await;
    (full_client(h, login, &secret).await, secret)
}

/// Signed in to the full stage with TOTP (terms accepted).
pub async fn full_client<'a>(h: &'a Harness, login: &str, secret: &str) -> Client<'a> {
    let mut c = Client::new(h);
    assert_eq!(c.login(login, PW).await.1["next"], "mfa");
    let (s, b) = c.mfa("totp", &totp_code(h, secret, 0)).await;
    assert_eq!(s, 200, "{b}");
    if b["next"] == "terms" {
        let (s, _) = c.accept_terms("2024-07").await;
        assert_eq!(s, 200);
    }
    h.advance(Duration::from_secs(30));
    c
}

/// A user with e-mail as its only method, signed in to the challenge.
pub async fn email_user(h: &Harness, login: &str) {
    h.active_user(login, PW).await;
    let mut c = Client::at_challenge(h, login).await;
    let (s, b) = c.otp_email("enroll").await;
    assert_eq!(s, 202, "{b}");
    let code = mail_code(h, login).await;
    let (s, b) = c.post("/api/mfa/email", json!({ "code": code })).await;
    assert_eq!(
        (s, b["next"].as_str()),
        (200, Some("confirm_recovery_codes"))
    );
    c.post("/api/mfa/recovery/ack", json!({ "recorded": true }))
        .await;
}

/// [`email_user`] `login`, and a new sign-in of theirs at the challenge.
pub async fn email_challenge<'a>(h: &'a Harness, login: &str) -> Client<'a> {
    email_user(h, login).await;
    Client::at_challenge(h, login).await
}
