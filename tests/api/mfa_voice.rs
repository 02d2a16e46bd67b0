//! MFA-9: one-time codes read out in a phone call (seed 001 方法1), with
//! the rules of MFA-3 and the number of MFA-6: enrolled by proving the
//! number, used at the challenge, "call again" after 30 s, an hourly cap of
//! its own, five wrong entries, LOG-2, and a deployment that places no
//! calls.

use std::time::Duration;

use serde_json::json;

use crate::mfa_support::{full_client, totp_user, voice_code, Client, PW};
use crate::support::{test_config, Harness};

const LANDLINE: &str = "+81312345678";

/// `login` enrols voice codes on `03-1234-5678` from a full session (MFA-8:
/// the password was just given), and is signed in again at the challenge.
async fn voice_user<'a>(h: &'a Harness, login: &str) -> Client<'a> {
    let (secret, _) = totp_user(h, login).await;
    let mut full = full_client(h, login, &secret).await;
    let body =
        json!({ "purpose": "enroll", "phone": "03-1234-5678", "country": "81", "password": PW });
    let (s, b) = full.post("/api/otp/voice", body).await;
    assert_eq!(s, 202, "{b}");
    let code = voice_code(h, LANDLINE);
    let (s, b) = full
        .post("/api/otp/voice/verify", json!({ "code": code }))
        .await;
    assert_eq!((s, b["next"].as_str()), (200, Some("done")), "{b}");
    Client::at_challenge(h, login).await
}

// MFA-9, MFA-6, MFA-8
#[tokio::test]
async fn mfa_9_a_number_proved_by_a_call_becomes_a_method_and_signs_in() {
    let h = Harness::new();
    let mut c = voice_user(&h, "voice@example.com").await;
    let user = h.user("voice@example.com").await;
    assert!(
        user.methods.iter().any(|m| m == "voice"),
        "{:?}",
        user.methods
    );
    assert_eq!(
        user.voice_phone.as_deref(),
        Some(LANDLINE),
        "E.164, a landline"
    );
    assert_eq!(user.sms_phone, None, "the SMS number is apart");
    // MFA-8: the notice names the method and the number, masked.
    let notice = h.newest_mail("voice@example.com", "音声通話").await;
    assert!(notice.text.contains("+81****5678"), "{}", notice.text);
    assert!(!notice.text.contains(LANDLINE));

    // The challenge: the call reads the code in the user's language.
    let (s, b) = c
        .post("/api/otp/voice", json!({ "purpose": "login" }))
        .await;
    assert_eq!(
        (s, &b),
        (202, &json!({ "expires_in_s": 300, "resend_after_s": 30 }))
    );
    let call = h.outbox.calls().pop().unwrap();
    assert_eq!(
        (call.to.as_str(), call.lang),
        (LANDLINE, tobira::i18n::Lang::Ja)
    );
    let code = voice_code(&h, LANDLINE);
    assert!(
        call.ssml.contains("<say-as interpret-as=\"digits\">"),
        "{}",
        call.ssml
    );
    assert!(
        !call.ssml.contains(&code),
        "digit by digit, never as one number"
    );
    // MFA-3: stored hashed.
    assert!(
        h.memory.snapshot().iter().all(|i| !i.data.contains(&code)),
        "the code is stored in clear"
    );
    // Nothing of it by SMS.
    assert!(h.outbox.sms().is_empty());
    let (s, b) = c.mfa("voice", &code).await;
    assert_eq!((s, b["next"].as_str()), (200, Some("done")), "{b}");
    // Single use.
    let mut again = Client::at_challenge(&h, "voice@example.com").await;
    assert_eq!(again.mfa("voice", &code).await.0, 401);
}

// MFA-9, MFA-3
#[tokio::test]
async fn mfa_9_call_again_after_30_s_valid_5_minutes_and_an_hourly_cap_of_its_own() {
    let h = Harness::new();
    let mut c = voice_user(&h, "again@example.com").await;
    let (s, _) = c
        .post("/api/otp/voice", json!({ "purpose": "login" }))
        .await;
    assert_eq!(s, 202);
    let first = voice_code(&h, LANDLINE);
    h.advance(Duration::from_secs(29));
    let (s, b) = c
        .post("/api/otp/voice", json!({ "purpose": "login" }))
        .await;
    assert_eq!((s, b["retry_after_s"].as_u64()), (429, Some(1)), "{b}");
    h.advance(Duration::from_secs(1));
    let (s, _) = c
        .post("/api/otp/voice", json!({ "purpose": "login" }))
        .await;
    assert_eq!(s, 202, "call again");
    let second = voice_code(&h, LANDLINE);
    if first != second {
        assert_eq!(
            c.mfa("voice", &first).await.0,
            401,
            "a new call voids the code before"
        );
    }
    // Valid five minutes, not a moment longer.
    h.advance(Duration::from_secs(300));
    assert_eq!(c.mfa("voice", &second).await.0, 401);
    // Five calls an hour (one went to the enrolment), counted apart from SMS.
    let mut calls = 3;
    loop {
        h.advance(Duration::from_secs(30));
        let (s, b) = c
            .post("/api/otp/voice", json!({ "purpose": "login" }))
            .await;
        if s == 429 {
            assert!(b["retry_after_s"].as_u64().unwrap() > 30, "{b}");
            break;
        }
        assert_eq!(s, 202, "{b}");
        calls += 1;
    }
    assert_eq!(calls, 5);
    assert_eq!(h.outbox.calls().len(), 5);
}

// MFA-9, LOG-2
#[tokio::test]
async fn mfa_9_five_wrong_entries_end_the_code_and_lock_the_user() {
    let h = Harness::new();
    let mut c = voice_user(&h, "wrong.voice@example.com").await;
    c.post("/api/otp/voice", json!({ "purpose": "login" }))
        .await;
    let code = voice_code(&h, LANDLINE);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_eq!(c.mfa("voice", wrong).await.0, 401);
    }
    assert_eq!(
        c.mfa("voice", &code).await.0,
        401,
        "the lock ended the session"
    );
    let (s, _) = Client::new(&h).login("wrong.voice@example.com", PW).await;
    assert_eq!(s, 401, "locked (LOG-2)");
}

// MFA-9 (fails closed)
#[tokio::test]
async fn mfa_9_a_call_that_cannot_be_placed_answers_503_and_withdraws_the_code() {
    let h = Harness::new();
    let mut c = voice_user(&h, "fault.voice@example.com").await;
    h.outbox.set_failing(true);
    let (s, b) = c
        .post("/api/otp/voice", json!({ "purpose": "login" }))
        .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (503, Some("temporarily_unavailable"))
    );
    h.outbox.set_failing(false);
    let (s, _) = c
        .post("/api/otp/voice", json!({ "purpose": "login" }))
        .await;
    assert_eq!(s, 202, "nobody heard the first code: no wait");
    let code = voice_code(&h, LANDLINE);
    assert_eq!(c.mfa("voice", &code).await.0, 200);
}

// MFA-9, MFA-6
#[tokio::test]
async fn mfa_9_the_number_is_read_as_for_sms_and_a_sign_in_call_takes_none() {
    let h = Harness::new();
    let mut c = voice_user(&h, "numbers@example.com").await;
    c.refused(
        "POST",
        "/api/otp/voice",
        json!({ "purpose": "login", "phone": "0312345678", "country": "81" }),
        400,
        "unexpected_phone",
    )
    .await;
    let (secret, _) = totp_user(&h, "numbers2@example.com").await;
    let mut full = full_client(&h, "numbers2@example.com", &secret).await;
    for (body, code) in [
        (
            json!({ "purpose": "enroll", "password": PW }),
            "phone_required",
        ),
        (
            json!({ "purpose": "enroll", "phone": "03-1234", "country": "81", "password": PW }),
            "invalid_phone",
        ),
    ] {
        full.refused("POST", "/api/otp/voice", body, 400, code)
            .await;
    }
    assert!(h.outbox.calls().iter().all(|c| c.to == LANDLINE));
    // Voice is not SMS: a voice user has no SMS to ask for.
    c.refused(
        "POST",
        "/api/otp/sms",
        json!({ "purpose": "login" }),
        400,
        "method_not_enrolled",
    )
    .await;
}

// MFA-9
#[tokio::test]
async fn mfa_9_a_deployment_without_calls_offers_none_and_places_none() {
    let mut config = test_config();
    config.factors.voice = false;
    let h = Harness::with_config(config);
    let (secret, _) = totp_user(&h, "nocall@example.com").await;
    let mut full = full_client(&h, "nocall@example.com", &secret).await;
    let body =
        json!({ "purpose": "enroll", "phone": "0312345678", "country": "81", "password": PW });
    full.refused("POST", "/api/otp/voice", body, 409, "method_unavailable")
        .await;
    assert!(h.outbox.calls().is_empty());
    let page = crate::support::body_text(&full.get("/enroll").await);
    assert!(!page.contains("data-method=\"voice\""), "not offered");
    let on = Harness::new();
    let (secret, _) = totp_user(&on, "call@example.com").await;
    let mut full = full_client(&on, "call@example.com", &secret).await;
    let page = crate::support::body_text(&full.get("/enroll").await);
    assert!(
        page.contains("data-method=\"voice\""),
        "offered where calls are on"
    );
}

// MFA-9: the page journey without JavaScript: the challenge offers "Call
// me", then "Call again".
#[tokio::test]
async fn mfa_9_the_challenge_page_calls_and_calls_again() {
    let h = Harness::new();
    let mut c = voice_user(&h, "page.voice@example.com").await;
    let page = crate::support::body_text(&c.get("/login/mfa?method=voice").await);
    assert!(page.contains("+81****5678"), "{page}");
    assert!(page.contains("action=\"/otp/voice\""), "{page}");
    assert!(page.contains("電話をかける"), "{page}");
    c.post("/api/otp/voice", json!({ "purpose": "login" }))
        .await;
    let page = crate::support::body_text(&c.get("/login/mfa?method=voice").await);
    assert!(page.contains("もう一度電話する"), "{page}");
}

// MFA-9: calls go only to the countries the deployment calls, and one
// number gets at most five an hour whoever asks (no toll fraud, no
// harassment).
#[tokio::test]
async fn mfa_9_calls_only_to_allowed_countries_and_a_cap_per_number() {
    let h = Harness::new();
    let enrol = |phone: &str| json!({ "purpose": "enroll", "phone": phone, "country": "81", "password": PW });
    let mut users = Vec::new();
    for login in ["a.voice@example.com", "bb.voice@example.com"] {
        let (secret, _) = totp_user(&h, login).await;
        users.push(full_client(&h, login, &secret).await);
    }
    let (a, b) = users.split_at_mut(1);
    let (a, b) = (&mut a[0], &mut b[0]);
    a.refused(
        "POST",
        "/api/otp/voice",
        enrol("+1 202 555 0100"),
        400,
        "voice_country_not_allowed",
    )
    .await;
    assert!(h.outbox.calls().is_empty());
    let target = "03-9999-0000";
    let mut placed = 0;
    for round in 0..4 {
        for c in [&mut *a, &mut *b] {
            let (s, body) = c.post("/api/otp/voice", enrol(target)).await;
            if s == 202 {
                placed += 1;
            } else {
                assert_eq!(s, 429, "round {round}: {body}");
            }
        }
        h.advance(Duration::from_secs(31));
    }
    assert_eq!(placed, 5, "five calls an hour to one number");
}
