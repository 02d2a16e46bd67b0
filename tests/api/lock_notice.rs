//! LOG-5: the owner of an account hears about its lock (LOG-2) and about a
//! reset block (RST-2), once per lock; the answers stay as LOG-3 demands.

use std::time::Duration;

use tobira::Error;

use crate::mfa_support::{totp_code, totp_user, Client, PW};
use crate::reset_support::{forgot, mails};
use crate::support::{test_config, Harness};

const LOCK_SUBJECT: &str = "サインインの一時停止のお知らせ";
const RESET_BLOCK_SUBJECT: &str = "パスワード再設定の一時停止のお知らせ";

// LOG-5
#[tokio::test]
async fn log_5_a_lock_mails_the_owner_once_with_when_it_lifts_and_the_answer_stays() {
    let h = Harness::new();
    let login = "locked.owner@example.com";
    h.active_user(login, PW).await;
    for i in 1..=7 {
        let e = h.login(login, "Wrong-Pass1").await.unwrap_err();
        assert_eq!(
            e,
            Error::InvalidCredentials,
            "attempt {i}: LOG-3's one answer"
        );
        let e = h.login("nobody.here@example.com", "Wrong-Pass1").await;
        assert_eq!(e.unwrap_err(), Error::InvalidCredentials);
        // Mailed by the fifth failure, and only once while the lock lasts.
        let sent = mails(&h, login, LOCK_SUBJECT).await.len();
        assert_eq!(sent, usize::from(i >= 5), "after attempt {i}");
    }
    let mail = mails(&h, login, LOCK_SUBJECT).await.pop().unwrap();
    // When it lifts (T0 + 20 minutes in the user's zone) and how to reset.
    assert!(mail.text.contains("2026-11-21 21:20 JST"), "{}", mail.text);
    assert!(
        mail.text
            .contains("https://portal.example.com/password/forgot"),
        "{}",
        mail.text
    );
    assert!(!mail.text.contains("Wrong-Pass1"), "MSG-2: nothing typed");
    // Nobody holds the unknown login ID: nobody is mailed for its lock.
    assert!(h
        .mails()
        .await
        .iter()
        .all(|m| m.to == login || !m.subject.contains(LOCK_SUBJECT)));
    // A new lock after the first lifted is a new notice.
    h.advance(Duration::from_secs(20 * 60));
    for _ in 0..5 {
        let _ = h.login(login, "Wrong-Pass1").await;
    }
    assert_eq!(mails(&h, login, LOCK_SUBJECT).await.len(), 2);
}

// LOG-5
#[tokio::test]
async fn log_5_wrong_codes_that_lock_mail_the_owner_too() {
    let h = Harness::new();
    let login = "code.lock@example.com";
    let (secret, _) = totp_user(&h, login).await;
    let mut c = Client::at_challenge(&h, login).await;
    let right = totp_code(&h, &secret, 0);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        assert_eq!(c.mfa("totp", wrong).await.0, 401);
    }
    assert_eq!(mails(&h, login, LOCK_SUBJECT).await.len(), 1);
    assert_eq!(Client::new(&h).login(login, PW).await.0, 401);
    assert_eq!(
        mails(&h, login, LOCK_SUBJECT).await.len(),
        1,
        "once per lock"
    );
}

// LOG-5 (RST-2)
#[tokio::test]
async fn log_5_a_reset_block_mails_the_owner_once() {
    let h = Harness::new();
    let login = "reset.block@example.com";
    h.active_user(login, PW).await;
    for _ in 0..7 {
        assert_eq!(forgot(&h, login, "guess@example.com").await.0, 202);
    }
    let sent = mails(&h, login, RESET_BLOCK_SUBJECT).await;
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].text.contains("2026-11-21 21:20 JST"),
        "{}",
        sent[0].text
    );
    assert!(sent[0].text.contains("/password/forgot"));
}

// LOG-5, LOG-3
#[tokio::test]
async fn log_5_the_attempt_that_locks_takes_the_floor_held_or_not_and_a_mail_fault_delays_the_notice(
) {
    let mut config = test_config();
    config.lock_notice_floor = Duration::from_millis(300);
    let h = Harness::with_config(config);
    let login = "floor@example.com";
    h.active_user(login, PW).await;
    h.outbox.set_failing(true);
    for who in [login, "ghost.floor@example.com"] {
        for _ in 0..4 {
            let _ = h.login(who, "Wrong-Pass1").await;
        }
        #[allow(clippy::disallowed_methods)] // the wall time of one answer
        let start = std::time::Instant::now();
        assert_eq!(
            h.login(who, "Wrong-Pass1").await.unwrap_err(),
            Error::InvalidCredentials
        );
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(300), "{who}: {took:?}");
    }
    // The mail service failed: the lock stands and the notice waits in the
    // outbox, sent once the service is back (issue 17 item 5).
    let tenant = h.user(login).await.tenant_id;
    let kinds = h.audit_kinds(tenant.as_str()).await;
    assert!(
        kinds.contains(&"account.lock_notice".to_string()),
        "{kinds:?}"
    );
    assert_eq!(mails(&h, login, LOCK_SUBJECT).await.len(), 0);
    // One record of the notice whether or not anyone was mailed (LOG-3:
    // the same store requests): "none" for the unknown login ID.
    let anonymous = h.audit_kinds("-").await;
    assert!(
        anonymous.contains(&"account.lock_notice".to_string()),
        "{anonymous:?}"
    );
    h.outbox.set_failing(false);
    assert!(h.login(login, PW).await.is_err(), "still locked");
    h.advance(Duration::from_secs(30));
    assert_eq!(
        mails(&h, login, LOCK_SUBJECT).await.len(),
        1,
        "delivered later"
    );
}
