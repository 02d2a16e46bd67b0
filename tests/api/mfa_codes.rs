//! One-time codes at sign-in (MFA-3..5, LOG-2, AUD-1, MSG-2): their life,
//! their limits, parallel submissions, the audit trail.

use std::time::Duration;

use serde_json::json;

use crate::mfa_support::{
    email_challenge, full_client, mail_code, sms_code, totp_code, totp_user, Client, PW,
};
use crate::support::{assert_audited, json_req, Harness};

// MFA-3
#[tokio::test]
async fn mfa_3_email_codes_six_digits_hashed_single_use_five_minutes() {
    let h = Harness::new();
    let mut c = email_challenge(&h, "mail@example.com").await;
    let (s, b) = c.otp_email("login").await;
    assert_eq!(s, 202);
    assert_eq!(b, json!({ "expires_in_s": 300, "resend_after_s": 30 }));
    let mail = h.mails().await.pop().unwrap();
    assert_eq!(mail.subject, "tobira メールワンタイムパスワード"); // MSG-1
    let code = mail_code(&h, "mail@example.com").await;
    assert_eq!(code.len(), 6);
    // Stored hashed: no item holds the code.
    assert!(
        h.memory.snapshot().iter().all(|i| !i.data.contains(&code)),
        "the code is stored in clear"
    );
    // Valid 5 minutes, not a moment longer.
    h.advance(Duration::from_secs(300));
    let (s, _) = c.mfa("email", &code).await;
    assert_eq!(s, 401);
    // A fresh code works once.
    c.otp_email("login").await;
    let code = mail_code(&h, "mail@example.com").await;
    h.advance(Duration::from_secs(299));
    let (s, b) = c.mfa("email", &code).await;
    assert_eq!((s, b["next"].as_str()), (200, Some("terms")), "{b}");
    let mut again = Client::at_challenge(&h, "mail@example.com").await;
    let (s, _) = again.mfa("email", &code).await;
    assert_eq!(s, 401, "single use, and tied to its own sign-in");
}

// MFA-3
#[tokio::test]
async fn mfa_3_resend_after_30_s_and_an_hourly_cap() {
    let h = Harness::new();
    let mut c = email_challenge(&h, "resend@example.com").await;
    let (s, _) = c.otp_email("login").await;
    assert_eq!(s, 202);
    let first = mail_code(&h, "resend@example.com").await;
    h.advance(Duration::from_secs(29));
    let (s, b) = c.otp_email("login").await;
    assert_eq!((s, b["retry_after_s"].as_u64()), (429, Some(1)));
    h.advance(Duration::from_secs(1));
    let (s, _) = c.otp_email("login").await;
    assert_eq!(s, 202);
    // A new code voids the one before it.
    let (s, _) = c.mfa("email", &first).await;
    assert_eq!(s, 401);
    // Sends per hour are capped (5 by default; one went to the enrolment).
    let mut sent = 3; // enrolment, first, second
    loop {
        h.advance(Duration::from_secs(30));
        let (s, b) = c.otp_email("login").await;
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
    let mut c = email_challenge(&h, "wrong@example.com").await;
    c.otp_email("login").await;
    let code = mail_code(&h, "wrong@example.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..4 {
        let (s, _) = c.mfa("email", wrong).await;
        assert_eq!(s, 401);
    }
    // The fifth failure locks the user (LOG-2) and ends the half session.
    let (s, _) = c.mfa("email", wrong).await;
    assert_eq!(s, 401);
    let (s, _) = c.mfa("email", &code).await;
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
    let mut c = Client::at_challenge(&h, "reset.count@example.com").await;
    for _ in 0..4 {
        let code = bad(&totp_code(&h, &secret, 0));
        assert_eq!(c.mfa("totp", &code).await.0, 401);
    }
    // Signing in with the password again does not wipe the four failures.
    let mut d = Client::new(&h);
    assert_eq!(d.login("reset.count@example.com", PW).await.0, 200);
    let code = bad(&totp_code(&h, &secret, 0));
    d.mfa("totp", &code).await;
    assert_eq!(
        Client::new(&h).login("reset.count@example.com", PW).await.0,
        401,
        "five code failures in a row lock"
    );
    // A completed sign-in resets the count.
    h.advance(Duration::from_secs(20 * 60));
    full_client(&h, "reset.count@example.com", &secret).await;
    let mut e = Client::at_challenge(&h, "reset.count@example.com").await;
    for _ in 0..4 {
        let code = bad(&totp_code(&h, &secret, 0));
        e.mfa("totp", &code).await;
    }
    assert_eq!(
        Client::new(&h).login("reset.count@example.com", PW).await.0,
        200
    );
}

// MFA-3 (fails closed)
#[tokio::test]
async fn mfa_3_a_mail_fault_answers_503_and_withdraws_the_code() {
    let h = Harness::new();
    let mut c = email_challenge(&h, "fault@example.com").await;
    h.outbox.set_failing(true);
    let (s, b) = c.otp_email("login").await;
    assert_eq!(
        (s, b["error"].as_str()),
        (503, Some("temporarily_unavailable"))
    );
    // Nobody got that code, so asking again is not "too soon".
    h.outbox.set_failing(false);
    let (s, _) = c.otp_email("login").await;
    assert_eq!(s, 202);
    let code = mail_code(&h, "fault@example.com").await;
    let (s, _) = c.mfa("email", &code).await;
    assert_eq!(s, 200);
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
    let mut c = Client::at_challenge(h, login).await;
    if let Some(path) = send {
        let (s, _) = c.post(path, json!({ "purpose": "login" })).await;
        assert_eq!(s, 202);
    }
    let code = if code.is_empty() {
        match method {
            "email" => mail_code(h, login).await,
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
    full.otp_email("enroll").await;
    let c = mail_code(&h, "race@example.com").await;
    assert_eq!(full.email_confirm(&c).await.0, 200);
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
    let mut c = email_challenge(&h, "many@example.com").await;
    c.otp_email("login").await;
    let code = mail_code(&h, "many@example.com").await;
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
    let audit = h.audit_events("econ9000000001").await;
    let checked = audit
        .iter()
        .filter(|e| e.kind == "mfa.failure" || e.kind == "mfa.success")
        .count();
    assert!(checked <= 5, "{checked} codes were checked (5 at most)");
    // The right code comes too late: the user is locked.
    let (s, _) = c.mfa("email", &code).await;
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
    let mut c = Client::at_challenge(&h, "trail@example.com").await;
    c.mfa("totp", "000000").await;
    let code = totp_code(&h, &secret, 0);
    c.mfa("totp", &code).await;
    c.accept_terms("2024-07").await;
    c.otp_email("enroll").await;
    let mail = mail_code(&h, "trail@example.com").await;
    c.email_confirm(&mail).await;
    let events = h.audit_events("econ9000000001").await;
    let expected = [
        "mfa.totp_secret_issued",
        "mfa.enrolled",
        "mfa.recovery_acknowledged",
        "mfa.failure",
        "mfa.success",
        "terms.accepted",
        "otp.sent",
    ];
    assert_audited(&events, &expected, &[&secret, &code, &mail, &codes[0]]);
}
