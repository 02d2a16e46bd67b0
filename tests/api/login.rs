//! LOG-1..4: sign-in, lockout, one answer for every failure.

use std::time::Duration;

use tobira::ids::Password;
use tobira::session::Stage;
use tobira::Error;

use crate::support::{body_json, ctx, json_req, Harness};

fn pw(s: &str) -> Password {
    Password::parse(s).unwrap()
}

// LOG-1, LOG-4
#[tokio::test]
async fn log_1_login_id_is_case_insensitive_log_4_no_factor_goes_to_enrolment() {
    let h = Harness::new();
    h.active_user("mixed.user@example.com", "Tobira-Door42")
        .await;
    let s = h
        .login("MIXED.User@Example.COM", "Tobira-Door42")
        .await
        .unwrap();
    assert_eq!(s.stage, Stage::Enroll);
    let session = h.app.session(&s.session).await.unwrap();
    assert_eq!(session.stage, Stage::Enroll);
}

// LOG-2
#[tokio::test]
async fn log_2_five_failures_lock_for_twenty_minutes_and_success_resets() {
    let h = Harness::new();
    let login = "lock@example.com";
    h.active_user(login, "Tobira-Door42").await;
    // Four failures and then a success, twice: success resets the count.
    for _ in 0..2 {
        for _ in 0..4 {
            assert!(h.login(login, "Wrong-Pass1").await.is_err());
        }
        h.login(login, "Tobira-Door42").await.unwrap();
    }
    for _ in 0..5 {
        assert!(h.login(login, "Wrong-Pass1").await.is_err());
    }
    // Locked: even the right password fails, with the same answer.
    assert_eq!(
        h.login(login, "Tobira-Door42").await.unwrap_err(),
        Error::InvalidCredentials
    );
    h.advance(Duration::from_secs(20 * 60 - 1));
    assert!(h.login(login, "Tobira-Door42").await.is_err());
    h.advance(Duration::from_secs(1));
    h.login(login, "Tobira-Door42").await.unwrap(); // lifts by itself
}

// LOG-2
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn log_2_parallel_attempts_cannot_get_past_the_count() {
    let h = Harness::new();
    h.active_user("race@example.com", "Tobira-Door42").await;
    // 50 parallel guesses, one of them right: at most five passwords are checked.
    let mut tasks = Vec::new();
    for i in 0..50 {
        let app = h.app.clone();
        let guess = if i == 49 {
            "Tobira-Door42".to_string()
        } else {
            format!("Wrong-Pass{i}")
        };
        tasks.push(tokio::spawn(async move {
            app.login("race@example.com", &pw(&guess), &ctx())
                .await
                .is_ok()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let audit = h.audit_events("econ9000000001").await;
    let checked = audit
        .iter()
        .filter(|e| e.kind == "login.password_ok" || e.detail.as_deref() == Some("wrong password"))
        .count();
    assert!(checked <= 5, "{checked} passwords were checked");
}

// LOG-3
#[tokio::test]
async fn log_3_every_failure_gets_the_same_answer() {
    let h = Harness::new();
    h.active_user("known@example.com", "Tobira-Door42").await;
    h.migrate(&[crate::support::record(
        "pending@example.com",
        "ecid77",
        "econ7",
    )])
    .await;
    for _ in 0..5 {
        let _ = h.login("locked@example.com", "x").await;
    }
    h.active_user("locked.user@example.com", "Tobira-Door42")
        .await;
    for _ in 0..5 {
        let _ = h.login("locked.user@example.com", "Wrong-Pass1").await;
    }
    let cases = [
        ("nobody@example.com", "Tobira-Door42"),      // unknown
        ("known@example.com", "Wrong-Pass1"),         // wrong password
        ("pending@example.com", "Tobira-Door42"),     // pending setup
        ("locked.user@example.com", "Tobira-Door42"), // locked
        ("has space", "Tobira-Door42"),               // not even a login ID
    ];
    let mut bodies = Vec::new();
    for (login, password) in cases {
        let body = serde_json::json!({ "login_id": login, "password": password }).to_string();
        let r = h.send(json_req("POST", "/api/login", &body)).await;
        assert_eq!(r.status(), 401, "{login}");
        assert!(
            r.headers().get("retry-after").is_none(),
            "no hint that an account exists"
        );
        assert!(r.headers().get("set-cookie").is_none());
        bodies.push(body_json(&r));
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    assert_eq!(bodies[0]["error"], "invalid_credentials");
}

// LOG-1, SES-1
#[tokio::test]
async fn log_1_ses_1_api_login_sets_a_host_only_secure_session_cookie() {
    let h = Harness::new();
    h.active_user("cookie@example.com", "Tobira-Door42").await;
    let body = r#"{"login_id":"cookie@example.com","password":"Tobira-Door42"}"#;
    let r = h.send(json_req("POST", "/api/login", body)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(body_json(&r)["next"], "enroll");
    let c = r.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(c.starts_with("__Host-tobira-session="), "{c}");
    for attr in ["Path=/", "HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(c.contains(attr), "{attr} in {c}");
    }
}

// LOG-2, AUD-1
#[tokio::test]
async fn log_2_right_password_after_four_failures_never_locks_a_user_with_a_factor() {
    let h = Harness::new();
    h.active_user("factor@example.com", "Tobira-Door42").await;
    let l = tobira::ids::LoginId::parse("factor@example.com").unwrap();
    let (mut u, v) = h.app.user_by_login(&l).await.unwrap().unwrap();
    u.methods = vec!["email".into()];
    let w = tobira::store::Write::put(
        tobira::model::keys::user(&u.id),
        &u,
        None,
        tobira::store::Cond::Version(v),
    );
    h.app.store.write(vec![w], h.app.now()).await.unwrap();
    let login = "factor@example.com";
    for _ in 0..4 {
        let e = h.login(login, "Wrong-Pass1").await.unwrap_err();
        assert_eq!(e, Error::InvalidCredentials);
    }
    // The fifth attempt, with the right password: the second factor next;
    // not locked: the right password works again at once.
    for _ in 0..2 {
        let s = h.login(login, "Tobira-Door42").await.unwrap();
        assert_eq!(s.stage, Stage::Mfa);
    }
    let kinds = h.audit_kinds("econ9000000001").await;
    assert!(!kinds.iter().any(|k| k == "login.locked"), "{kinds:?}");
    // Four failures are still counted: one more wrong password locks, and
    // that lock is recorded (AUD-1).
    let _ = h.login(login, "Wrong-Pass1").await;
    let e = h.login(login, "Tobira-Door42").await.unwrap_err();
    assert_eq!(e, Error::InvalidCredentials);
    let kinds = h.audit_kinds("econ9000000001").await;
    assert_eq!(kinds.iter().filter(|k| *k == "login.locked").count(), 1);
}

// LOG-2, PW-5: at four failures, the right current password reserves the
// fifth attempt (which would lock); when the change then loses a race, the
// attempt goes back with its lock.
#[tokio::test]
async fn log_2_a_right_password_in_a_lost_race_leaves_no_lock() {
    use crate::mfa_support::{full_client, totp_user, PW};
    let memory = std::sync::Arc::new(tobira_test_kit::MemoryStore::default());
    let store = std::sync::Arc::new(crate::uniform::Recording::new(memory.clone()));
    let h = Harness::over(crate::support::test_config(), store.clone(), memory);
    let login = "racer@example.com";
    let (secret, _) = totp_user(&h, login).await;
    let c = full_client(&h, login, &secret).await;
    let token = c.session().unwrap();
    for _ in 0..4 {
        let _ = h.login(login, "Wrong-Pass1").await;
    }
    store.conflict_next();
    assert!(h
        .app
        .change_password(Some(&token), PW, "Fresh-Harbor93", &ctx())
        .await
        .is_err());
    let r = h.login(login, PW).await;
    assert!(r.is_ok(), "the right password was refused: {r:?}");
}
