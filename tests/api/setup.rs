//! SET-1..3: the setup link, the identity check, the first password.

use std::time::Duration;

use tobira::ids::Password;
use tobira::model::SETUP_LINKS_MAX;
use tobira::setup::GrantToken;
use tobira::Error;

use crate::support::{ctx, record, Harness};

fn pw(s: &str) -> Password {
    Password::parse(s).unwrap()
}

async fn one_user(h: &Harness) -> String {
    let mut r = record("user@example.com", "ecid1", "econ1");
    r["name"] = "山田　太郎".into();
    r["phone"] = "03-1234-5678".into();
    h.migrate(&[r]).await;
    h.setup_token("user@example.com").await
}

/// The identity check (SET-2) with these answers.
async fn verify(
    h: &Harness,
    token: &str,
    email: &str,
    name: &str,
    phone: &str,
) -> Result<GrantToken, Error> {
    h.app
        .verify_identity(token, email, name, phone, &ctx())
        .await
}

/// The identity check with the registered answers.
async fn verify_right(h: &Harness, token: &str) -> Result<GrantToken, Error> {
    verify(h, token, "user@example.com", "山田　太郎", "0312345678").await
}

/// A "send the link again" request (SET-1); always the same Ok.
async fn resend(h: &Harness, login: &str, email: &str) {
    h.app.resend_setup_link(login, email, &ctx()).await.unwrap();
}

/// The identity check and the first password (SET-2, SET-3) through `token`.
async fn set_up_with(h: &Harness, token: &str) {
    let grant = verify(h, token, "user@example.com", "山田　太郎", "03-1234-5678")
        .await
        .unwrap();
    let pw = tobira::ids::Password::parse("Tobira-Door42").unwrap();
    h.app
        .set_initial_password(&grant.0, &pw, &ctx())
        .await
        .unwrap();
}

// SET-1
#[tokio::test]
async fn set_1_setup_mail_has_single_use_link_with_its_expiry() {
    let h = Harness::new();
    let token = one_user(&h).await;
    let mail = h.mails().await.pop().unwrap();
    assert_eq!(mail.subject, "tobira 初期設定のお知らせ"); // MSG-1 seed subject
    assert!(
        mail.text
            .contains(&format!("https://portal.example.com/setup?token={token}")),
        "link from configuration"
    );
    assert!(
        mail.text.contains("2026-11-24 21:00 JST"),
        "states the expiry (72 h): {}",
        mail.text
    );
    assert!(token.len() >= 43, "at least 256 bits");
    // Stored hashed: the token itself is nowhere in the store.
    let dump = format!("{:?}", h.memory.snapshot());
    assert!(!dump.contains(&token));
    // Expires: after 72 h the link is refused.
    h.advance(Duration::from_secs(72 * 3600));
    assert_eq!(
        h.app.check_setup_token(&token).await,
        Err(Error::InvalidToken)
    );
}

// SET-1
#[tokio::test]
async fn set_1_a_resend_keeps_earlier_links_and_answers_the_same_either_way() {
    let h = Harness::new();
    let old = one_user(&h).await;
    h.advance(Duration::from_secs(120));
    // Wrong e-mail, unknown user: nothing sent, same Ok.
    resend(&h, "user@example.com", "wrong@example.com").await;
    resend(&h, "nobody@example.com", "user@example.com").await;
    assert_eq!(h.mails().await.len(), 1);
    resend(&h, "USER@example.com", "User@Example.com").await;
    assert_eq!(h.mails().await.len(), 2);
    let new = h.setup_token("user@example.com").await;
    assert_ne!(new, old);
    // SET-1: whoever asked, the link the user may be about to use still works.
    h.app.check_setup_token(&old).await.unwrap();
    h.app.check_setup_token(&new).await.unwrap();
    // Using one (SET-3) ends them all.
    set_up_with(&h, &old).await;
    for t in [&old, &new] {
        assert_eq!(h.app.check_setup_token(t).await, Err(Error::InvalidToken));
    }
}

// SET-1
#[tokio::test]
async fn set_1_a_third_party_resending_every_minute_cannot_void_the_users_link() {
    let h = Harness::new();
    let first = one_user(&h).await;
    // Someone who knows the login ID and e-mail asks again and again.
    for _ in 0..20 {
        h.advance(Duration::from_secs(61));
        for _ in 0..2 {
            resend(&h, "user@example.com", "user@example.com").await;
        }
    }
    // At most one link a minute, and no new link while five are valid:
    // the user has them all, and none is ever voided by a resend.
    assert_eq!(h.mails().await.len(), SETUP_LINKS_MAX);
    h.app.check_setup_token(&first).await.unwrap();
    h.app
        .check_setup_token(&h.setup_token("user@example.com").await)
        .await
        .unwrap();
    // Once the first links expire, a resend makes a new one again.
    h.advance(Duration::from_secs(72 * 3600));
    resend(&h, "user@example.com", "user@example.com").await;
    assert_eq!(h.mails().await.len(), SETUP_LINKS_MAX + 1);
    set_up_with(&h, &h.setup_token("user@example.com").await).await;
    assert_eq!(
        h.app.check_setup_token(&first).await,
        Err(Error::InvalidToken)
    );
}

// SET-2
#[tokio::test]
async fn set_2_identity_matches_email_any_case_name_exactly_phone_by_digits() {
    let h = Harness::new();
    let token = one_user(&h).await;
    for (email, name, phone) in [
        // Half-width space instead of the registered full-width one: refused.
        ("user@example.com", "山田 太郎", "0312345678"),
        ("user@example.com", "山田　太郎", "0312345679"),
        ("other@example.com", "山田　太郎", "0312345678"),
    ] {
        assert_eq!(
            verify(&h, &token, email, name, phone).await.unwrap_err(),
            Error::IdentityMismatch,
            "the answer never says which field"
        );
    }
    verify(
        &h,
        &token,
        "USER@Example.com",
        "山田　太郎",
        "０３-１２３４-５６７８",
    )
    .await
    .unwrap();
}

// SET-2
#[tokio::test]
async fn set_2_five_failures_block_for_twenty_minutes() {
    let h = Harness::new();
    let token = one_user(&h).await;
    for _ in 0..5 {
        let e = verify(&h, &token, "user@example.com", "x", "0")
            .await
            .unwrap_err();
        assert_eq!(e, Error::IdentityMismatch);
    }
    // Blocked, even with the right answers.
    let e = verify_right(&h, &token).await.unwrap_err();
    assert_eq!(
        e,
        Error::Throttled {
            retry_after_s: Some(20 * 60)
        }
    );
    h.advance(Duration::from_secs(20 * 60 - 1));
    assert!(matches!(
        verify_right(&h, &token).await,
        Err(Error::Throttled { .. })
    ));
    h.advance(Duration::from_secs(1));
    verify_right(&h, &token).await.unwrap();
}

// SET-2
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn set_2_parallel_wrong_answers_never_exceed_the_limit() {
    let h = Harness::new();
    let token = one_user(&h).await;
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let app = h.app.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            app.verify_identity(&token, "user@example.com", "x", "0", &ctx())
                .await
        }));
    }
    let mut mismatches = 0;
    for t in tasks {
        match t.await.unwrap() {
            Err(Error::IdentityMismatch) => mismatches += 1,
            Err(Error::Throttled { .. }) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(mismatches, 5, "exactly five checks ran");
}

// SET-3
#[tokio::test]
async fn set_3_password_uses_the_link_up_only_then_and_only_once() {
    let h = Harness::new();
    let token = one_user(&h).await;
    let grant = verify_right(&h, &token).await.unwrap();
    // Link still valid after the identity check (used up only at the password).
    h.app.check_setup_token(&token).await.unwrap();
    // PW-1 / PW-3: weak password refused with every unmet rule; nothing used up.
    let e = h
        .app
        .set_initial_password(&grant.0, &pw("short"), &ctx())
        .await
        .unwrap_err();
    assert_eq!(
        e,
        Error::WeakPassword {
            unmet: vec!["length", "upper", "digit", "dictionary"]
        }
    );
    h.app
        .set_initial_password(&grant.0, &pw("Tobira-Door42"), &ctx())
        .await
        .unwrap();
    assert_eq!(
        h.app.check_setup_token(&token).await,
        Err(Error::InvalidToken)
    );
    assert_eq!(
        h.app
            .set_initial_password(&grant.0, &pw("Tobira-Door43"), &ctx())
            .await,
        Err(Error::NotSignedIn)
    );
    // PW-4: argon2id, never the password.
    let u = h.user("user@example.com").await;
    assert!(u
        .password_hash
        .unwrap()
        .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert!(!format!("{:?}", h.memory.snapshot()).contains("Tobira-Door42"));
}

// SET-3
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn set_3_parallel_password_submissions_with_one_grant_succeed_once() {
    let h = Harness::new();
    let token = one_user(&h).await;
    let grant = verify_right(&h, &token).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..10 {
        let app = h.app.clone();
        let g = grant.0.clone();
        tasks.push(tokio::spawn(async move {
            app.set_initial_password(&g, &pw(&format!("Tobira-Door4{i}")), &ctx())
                .await
        }));
    }
    let ok = futures_ok(tasks).await;
    assert_eq!(ok, 1);
}

async fn futures_ok<T>(tasks: Vec<tokio::task::JoinHandle<Result<T, Error>>>) -> usize {
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    ok
}

// SET-2
#[tokio::test]
async fn set_2_grant_expires() {
    let h = Harness::new();
    let token = one_user(&h).await;
    let grant = verify_right(&h, &token).await.unwrap();
    h.advance(Duration::from_secs(15 * 60));
    assert_eq!(
        h.app
            .set_initial_password(&grant.0, &pw("Tobira-Door42"), &ctx())
            .await,
        Err(Error::NotSignedIn)
    );
}

// SET-2
#[tokio::test]
async fn set_2_demo_users_whose_phone_mig_5_replaced_pass_with_the_legacy_phone() {
    let mut config = crate::support::test_config();
    config.migration_window = Some(("2026-11-01".into(), "2026-12-31".into()));
    let h = Harness::with_config(config);
    let records = crate::support::sample_records();
    h.migrate(&records).await;
    let mut replaced = 0;
    for r in &records {
        let (login, email) = (
            r["login_id"].as_str().unwrap(),
            r["email"].as_str().unwrap(),
        );
        if email == "shared@example.com" {
            continue; // two accounts, one mailbox: their phone is usable anyway
        }
        let legacy = r["phone"].as_str().unwrap();
        let user = h.user(login).await;
        let token = h.setup_token(email).await;
        let mail = h.newest_mail(email, "/setup?token=").await;
        let said = mail.text.contains("登録上の電話番号は変更されています");
        let digits_kept = tobira::phone::digits_of(legacy) == user.phone;
        // The mail says so exactly when MIG-5 replaced the legacy phone.
        assert_eq!(said, !digits_kept, "{login}: {}", mail.text);
        if !digits_kept {
            replaced += 1;
            // A wrong phone is still refused …
            let e = verify(&h, &token, email, user.name.as_str(), "0999999999")
                .await
                .unwrap_err();
            assert_eq!(e, Error::IdentityMismatch, "{login}");
        }
        // … and the phone the user knows passes: the legacy one as typed.
        verify(&h, &token, email, user.name.as_str(), legacy)
            .await
            .unwrap_or_else(|e| panic!("{login} with {legacy:?}: {e:?}"));
    }
    assert_eq!(replaced, 3, "'' , '12' and 33 digits");
    // An operator who confirms a new phone with the user ends the legacy one.
    let jiro = h.user("jiro@example.co.jp").await;
    h.app
        .correct_identity(
            &tobira::migration::IdentityUpdate {
                login_id: "jiro@example.co.jp".into(),
                phone: Some("0311112222".into()),
                ..Default::default()
            },
            &ctx(),
        )
        .await
        .unwrap();
    let token = h.setup_token("jiro@example.co.jp").await;
    let name = jiro.name.as_str();
    let e = verify(&h, &token, "jiro@example.co.jp", name, "12").await;
    assert_eq!(e.unwrap_err(), Error::IdentityMismatch);
    verify(&h, &token, "jiro@example.co.jp", name, "03-1111-2222")
        .await
        .unwrap();
}
