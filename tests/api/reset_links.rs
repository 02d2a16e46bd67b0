//! Password reset links (RST-1..3, RST-5, SET-1), through the
//! reset-password function's real handler.

use std::time::Duration;

use tobira::ids::Password;

use crate::mfa_support::{full_user, totp_code, Client, PW};
use crate::reset_support::*;
use crate::support::{ctx, get, json_req, test_config, Harness};

const RESET_SUBJECT: &str = "パスワード再設定のご案内";

// RST-1
#[tokio::test]
async fn rst_1_forgot_password_mails_a_reset_link_and_the_answer_is_identical() {
    let h = Harness::new();
    h.active_user("forgot@example.com", PW).await;
    h.active_user("other@example.com", PW).await;
    let before = h.mails().await.len();
    // Every kind of entry gets the same status and the same body.
    let answers = [
        forgot(&h, "FORGOT@example.com", "forgot@EXAMPLE.com").await, // match
        forgot(&h, "other@example.com", "forgot@example.com").await,  // wrong e-mail
        forgot(&h, "nobody@example.com", "nobody@example.com").await, // unknown
        forgot(&h, "not a login id!", "x").await,                     // nonsense
    ];
    for a in &answers {
        assert_eq!(a, &answers[0]);
    }
    assert_eq!(answers[0].0, 202);
    // Only the match was mailed, a reset link with its expiry.
    let sent = &h.mails().await[before..];
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to, "forgot@example.com");
    assert!(
        sent[0].subject.contains(RESET_SUBJECT),
        "{}",
        sent[0].subject
    );
    assert!(sent[0].text.contains("JST"), "the mail states the expiry");
    // The link is built from the configured base URL, never the Host header.
    let mut req = json_req(
        "POST",
        "/api/password/forgot",
        r#"{"login_id":"other@example.com","email":"other@example.com"}"#,
    );
    req.headers_mut()
        .insert("host", "evil.example".parse().unwrap());
    req.headers_mut()
        .insert("x-forwarded-host", "evil.example".parse().unwrap());
    assert_eq!(h.send(req).await.status(), 202);
    let link = h.mailed_link("other@example.com", "/password/reset").await;
    let token = h.link_token("other@example.com", "/password/reset").await;
    assert!(
        link.starts_with("https://portal.example.com/password/reset?token="),
        "{link}"
    );
    // At least 128 bits (here 256, base64url), stored only as a hash.
    assert!(token.len() >= 43, "{token}");
    let dump = format!("{:?}", h.memory.snapshot());
    assert!(!dump.contains(&token), "the token is stored hashed");
    // The page that carries the token sends no referrer.
    let r = h.send(get(&format!("/password/reset?token={token}"))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    // The new password works; the old one does not.
    let (s, b) = reset(&h, &token, NEW_PW).await;
    assert_eq!((s, b["next"].as_str()), (200, Some("login")));
    let mut c = Client::new(&h);
    assert_eq!(c.login("other@example.com", PW).await.0, 401);
    assert_eq!(c.login("other@example.com", NEW_PW).await.0, 200);
}

// RST-1
#[tokio::test]
async fn rst_1_reset_link_is_single_use_and_expires_in_an_hour() {
    let h = Harness::new();
    let first = user_with_reset_link(&h, "once@example.com").await;
    // At most one link a minute: nobody can flood the mailbox or keep
    // voiding the newest link.
    forgot(&h, "once@example.com", "once@example.com").await;
    assert_eq!(mails(&h, "once@example.com", RESET_SUBJECT).await.len(), 1);
    // A minute later a newer link voids the older one.
    h.advance(Duration::from_secs(60));
    forgot(&h, "once@example.com", "once@example.com").await;
    assert_eq!(mails(&h, "once@example.com", RESET_SUBJECT).await.len(), 2);
    let token = h.link_token("once@example.com", "/password/reset").await;
    assert_ne!(first, token);
    assert_eq!(reset(&h, &first, NEW_PW).await.1["error"], "invalid_token");
    assert_eq!(reset(&h, &token, NEW_PW).await.0, 200);
    assert_eq!(
        reset(&h, &token, "Other-Kumo-88").await.1["error"],
        "invalid_token"
    );
    // Expiry is checked in code (the store's TTL deletion is lazy).
    let h = Harness::new();
    let token = user_with_reset_link(&h, "late@example.com").await;
    h.advance(Duration::from_secs(61 * 60));
    let r = h.send(get(&format!("/password/reset?token={token}"))).await;
    assert_eq!(r.status(), 400);
    assert_eq!(reset(&h, &token, NEW_PW).await.1["error"], "invalid_token");
}

// RST-1
#[tokio::test(start_paused = true)]
async fn rst_1_every_answer_is_paced_to_the_configured_floor() {
    let mut config = test_config();
    config.forgot_floor = Duration::from_millis(500);
    let h = Harness::with_config(config);
    h.active_user("paced@example.com", PW).await;
    for (login, email) in [
        ("paced@example.com", "paced@example.com"),
        ("paced@example.com", "wrong@example.com"),
        ("nobody@example.com", "nobody@example.com"),
    ] {
        // Tokio's paused clock: the test measures the floor, not the machine.
        #[allow(clippy::disallowed_methods)]
        let start = tokio::time::Instant::now();
        assert_eq!(forgot(&h, login, email).await.0, 202);
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(500) && took < Duration::from_millis(600),
            "{login}/{email}: {took:?}"
        );
    }
}

// RST-2
#[tokio::test]
async fn rst_2_five_wrong_entries_block_resets_for_20_minutes() {
    let h = Harness::new();
    h.active_user("block@example.com", PW).await;
    for _ in 0..5 {
        assert_eq!(
            forgot(&h, "block@example.com", "guess@example.com").await.0,
            202
        );
    }
    // Blocked: the right e-mail sends nothing, and the answer is the same.
    let answer = forgot(&h, "block@example.com", "block@example.com").await;
    assert_eq!(
        answer,
        forgot(&h, "nobody@example.com", "x@example.com").await
    );
    assert!(mails(&h, "block@example.com", RESET_SUBJECT)
        .await
        .is_empty());
    h.advance(Duration::from_secs(19 * 60));
    forgot(&h, "block@example.com", "block@example.com").await;
    assert!(mails(&h, "block@example.com", RESET_SUBJECT)
        .await
        .is_empty());
    h.advance(Duration::from_secs(61));
    forgot(&h, "block@example.com", "block@example.com").await;
    assert_eq!(mails(&h, "block@example.com", RESET_SUBJECT).await.len(), 1);
    // A match clears the count: four more wrong entries do not block.
    h.advance(Duration::from_secs(60));
    for _ in 0..4 {
        forgot(&h, "block@example.com", "guess@example.com").await;
    }
    forgot(&h, "block@example.com", "block@example.com").await;
    assert_eq!(mails(&h, "block@example.com", RESET_SUBJECT).await.len(), 2);
    // Unknown login IDs are counted alike, so blocking tells nothing.
    for _ in 0..6 {
        forgot(&h, "ghost@example.com", "ghost@example.com").await;
    }
    let kinds = h.audit_kinds("-").await;
    assert!(
        kinds.contains(&"password.forgot_blocked".to_string()),
        "{kinds:?}"
    );
}

// RST-3
#[tokio::test]
async fn rst_3_no_reset_for_24_hours_after_a_completed_one() {
    let h = Harness::new();
    let token = user_with_reset_link(&h, "daily@example.com").await;
    // Asking again before using the link is fine (the newest link counts).
    assert_eq!(reset(&h, &token, NEW_PW).await.0, 200);
    h.advance(Duration::from_secs(23 * 3600));
    let answer = forgot(&h, "daily@example.com", "daily@example.com").await;
    assert_eq!(answer.0, 202);
    assert_eq!(mails(&h, "daily@example.com", RESET_SUBJECT).await.len(), 1);
    let kinds = h.audit_kinds("econ9000000001").await;
    assert!(
        kinds.contains(&"password.forgot_cooldown".to_string()),
        "{kinds:?}"
    );
    h.advance(Duration::from_secs(3600));
    forgot(&h, "daily@example.com", "daily@example.com").await;
    assert_eq!(mails(&h, "daily@example.com", RESET_SUBJECT).await.len(), 2);
}

// RST-5, MFA-7
#[tokio::test]
async fn rst_5_a_reset_ends_every_session_and_device_sends_a_notice_and_asks_the_factor() {
    let h = Harness::new();
    let (mut signed_in, secret) = full_user(&h, "ended@example.com").await;
    assert_eq!(signed_in.get("/api/me").await.status(), 200);
    // A second browser that remembered its device.
    let mut remembered = Client::at_challenge(&h, "ended@example.com").await;
    let (s, _) = remembered
        .mfa_remembering("totp", &totp_code(&h, &secret, 0))
        .await;
    assert_eq!(s, 200);
    h.advance(Duration::from_secs(30));
    let token = reset_link(&h, "ended@example.com").await;
    // Before the reset nothing has changed.
    assert_eq!(signed_in.get("/api/me").await.status(), 200);
    assert_eq!(reset(&h, &token, NEW_PW).await.0, 200);
    // Every session ended, on every route.
    assert_eq!(signed_in.get("/api/me").await.status(), 401);
    assert_eq!(remembered.get("/api/me").await.status(), 401);
    let r = signed_in.get("/").await;
    assert_eq!(r.headers()["location"], "/login");
    // The notice.
    let notice = mails(&h, "ended@example.com", "パスワード再設定完了").await;
    assert_eq!(notice.len(), 1);
    assert!(!notice[0].text.contains(NEW_PW), "no secret in the notice");
    // The remembered device no longer skips the second factor.
    let (s, b) = remembered.login("ended@example.com", NEW_PW).await;
    assert_eq!((s, b["next"].as_str()), (200, Some("mfa")), "{b}");
    let kinds = h.audit_kinds("econ9000000001").await;
    assert!(kinds.contains(&"password.reset".to_string()), "{kinds:?}");
}

// RST-1, RST-5
#[tokio::test]
async fn rst_1_fifty_concurrent_resets_with_one_token_exactly_one_succeeds() {
    let h = Harness::new();
    let token = user_with_reset_link(&h, "race@example.com").await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let app = h.app.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let pw = Password::parse(&format!("Kumo-Tori-Ame{i:02}")).unwrap();
            app.reset_password(&token, &pw, &ctx()).await
        }));
    }
    let mut ok = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(_) => ok.push(i),
            Err(e) => assert_eq!(e, tobira::Error::InvalidToken),
        }
    }
    assert_eq!(ok.len(), 1, "{ok:?}");
    let winner = format!("Kumo-Tori-Ame{:02}", ok[0]);
    let mut c = Client::new(&h);
    assert_eq!(c.login("race@example.com", &winner).await.0, 200);
    assert_eq!(
        mails(&h, "race@example.com", "パスワード再設定完了")
            .await
            .len(),
        1
    );
}

// SET-1, RST-1
#[tokio::test]
async fn set_1_forgot_password_during_the_window_mails_the_setup_link_again() {
    let mut config = test_config();
    config.migration_window = Some(("2026-01-01".into(), "2099-12-31".into()));
    let h = Harness::with_config(config);
    h.migrate(&[crate::support::record(
        "pending@example.com",
        "ecid7000000001",
        "t1",
    )])
    .await;
    let first = h.setup_token("pending@example.com").await;
    let setup_mails = |h: &Harness| {
        let mails = h.outbox.mails();
        mails
            .iter()
            .filter(|m| m.to == "pending@example.com" && m.text.contains("/setup?token="))
            .count()
    };
    h.deliver().await;
    assert_eq!(setup_mails(&h), 1);
    // Within a minute of the last one: nothing new.
    forgot(&h, "pending@example.com", "pending@example.com").await;
    h.deliver().await;
    assert_eq!(setup_mails(&h), 1);
    h.advance(Duration::from_secs(60));
    let answer = forgot(&h, "pending@example.com", "pending@example.com").await;
    assert_eq!(
        answer,
        forgot(&h, "pending@example.com", "wrong@example.com").await
    );
    h.deliver().await;
    assert_eq!(setup_mails(&h), 2, "the setup link again, not a reset link");
    assert_ne!(h.setup_token("pending@example.com").await, first);
    assert!(mails(&h, "pending@example.com", RESET_SUBJECT)
        .await
        .is_empty());
}
