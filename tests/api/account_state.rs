//! Account state has one home (`tobira::account`): the behaviour the one
//! policy table brought where the use cases used to decide for themselves
//! (PW-5, MFA-7, MFA-8, SET-3). The table itself is the unit test
//! `account::tests::account_state_table`.

use std::time::Duration;

use serde_json::{json, Value};
use tobira::error::Error;
use tobira::ids::Password;
use tobira::reset::Forgot;

use crate::mfa_support::{full_client, full_user, mail_code, totp_code, Client, PW};
use crate::support::{ctx, record, Harness};

const NEW_PW: &str = "Kumo-Tori-Ame7";

async fn change(c: &mut Client<'_>, current: &str, new: &str) -> (u16, Value) {
    c.post(
        "/api/password/change",
        json!({ "current_password": current, "new_password": new }),
    )
    .await
}

// PW-5, MFA-7, RST-1
#[tokio::test]
async fn pw_5_a_change_forgets_remembered_devices_and_voids_a_password_link() {
    let h = Harness::new();
    let login = "careful@example.com";
    let (mut c, secret) = full_user(&h, login).await;
    // A second browser that remembered its device.
    let mut remembered = Client::at_challenge(&h, login).await;
    let (s, _) = remembered
        .mfa_remembering("totp", &totp_code(&h, &secret, 0))
        .await;
    assert_eq!(s, 200);
    // Someone asked for a password link, which is still unused.
    let forgot = Forgot {
        login_id: login,
        email: login,
        ..Forgot::default()
    };
    h.app.forgot_password(&forgot, &ctx()).await.unwrap();
    let link = h.link_token(login, "/password/reset").await;
    h.app.check_reset_token(&link).await.unwrap();
    h.advance(Duration::from_secs(30));
    assert_eq!(change(&mut c, PW, NEW_PW).await.0, 204);
    // This session carries on; the other ended.
    assert_eq!(c.get("/api/me").await.status(), 200);
    assert_eq!(remembered.get("/api/me").await.status(), 401);
    // The link that could have set the password again is void.
    assert_eq!(
        h.app
            .reset_password(&link, &Password::parse("Other-Kumo-88").unwrap(), &ctx())
            .await,
        Err(Error::InvalidToken)
    );
    // The remembered device no longer skips the second factor.
    let (s, b) = remembered.login(login, NEW_PW).await;
    assert_eq!((s, b["next"].as_str()), (200, Some("mfa")), "{b}");
    // The notice says so.
    let notice = h
        .mails()
        .await
        .into_iter()
        .rfind(|m| m.to == login && m.subject.contains("パスワード変更"))
        .expect("the notice");
    assert!(
        notice.text.contains("この端末を記憶する"),
        "{}",
        notice.text
    );
    assert!(!notice.text.contains(NEW_PW));
}

// PW-5, MFA-8
#[tokio::test]
async fn pw_5_mfa_8_a_change_renews_the_proof_of_the_session_that_made_it() {
    let h = Harness::new();
    let login = "proved@example.com";
    let (mut c, _) = full_user(&h, login).await;
    // Past the window of MFA-8: a factor change asks the password again.
    h.advance(Duration::from_secs(6 * 60));
    let (s, r) = c.totp_setup(json!({})).await;
    assert_eq!((s, r["error"].as_str()), (403, Some("reauth_required")));
    // Changing the password gives the current one: a proof, now.
    assert_eq!(change(&mut c, PW, NEW_PW).await.0, 204);
    let (s, r) = c.totp_setup(json!({})).await;
    assert_eq!(s, 200, "{r}");
    // It lasts as long as any proof does.
    h.advance(Duration::from_secs(6 * 60));
    let (s, _) = c.totp_setup(json!({})).await;
    assert_eq!(s, 403);
}

// MFA-8, MFA-7
#[tokio::test]
async fn mfa_8_replacing_a_factor_ends_every_other_session_adding_one_does_not() {
    let h = Harness::new();
    let login = "replace@example.com";
    let (mut a, secret) = full_user(&h, login).await;
    let mut b = full_client(&h, login, &secret).await;
    // Adding e-mail codes: the other session carries on.
    let (s, _) = a.otp_email("enroll").await;
    assert_eq!(s, 202);
    let code = mail_code(&h, login).await;
    let (s, r) = a.email_confirm(&code).await;
    assert_eq!((s, r["next"].as_str()), (200, Some("done")), "{r}");
    assert_eq!(b.get("/api/me").await.status(), 200);
    // Setting the authenticator up again: every other session ends.
    let (s, setup) = a.totp_setup(json!({})).await;
    assert_eq!(s, 200);
    let fresh = setup["secret"].as_str().unwrap().to_string();
    let (s, r) = a.totp_confirm(&totp_code(&h, &fresh, 0)).await;
    assert_eq!((s, r["next"].as_str()), (200, Some("done")), "{r}");
    assert_eq!(a.get("/api/me").await.status(), 200);
    assert_eq!(b.get("/api/me").await.status(), 401);
    // The notice says so, and the old authenticator no longer signs in.
    let notice = h
        .mails()
        .await
        .into_iter()
        .rfind(|m| m.to == login && m.subject.contains("2段階認証の方法変更"))
        .expect("the notice");
    assert!(notice.text.contains("サインアウト"), "{}", notice.text);
    h.advance(Duration::from_secs(30));
    let mut c = Client::at_challenge(&h, login).await;
    let (s, _) = c.mfa("totp", &totp_code(&h, &secret, 0)).await;
    assert_eq!(s, 401);
}

// SET-3, RST-4
#[tokio::test]
async fn set_3_the_first_password_voids_the_users_password_link() {
    // No window configured: a migrated user may also ask RST-4's identity
    // entry, which mails a password link beside the setup link.
    let h = Harness::new();
    let login = "both@example.com";
    h.migrate(&[record(login, "ecid7100000001", "t1")]).await;
    let setup = h.setup_token(login).await;
    let entry = Forgot {
        login_id: login,
        email: login,
        name: Some("Test User"),
        phone: Some("03-1234-5678"),
    };
    h.app.forgot_password(&entry, &ctx()).await.unwrap();
    let link = h.link_token(login, "/password/reset").await;
    h.app.check_reset_token(&link).await.unwrap();
    // The user sets up with the setup link.
    let grant = h
        .app
        .verify_identity(&setup, login, "Test User", "0312345678", &ctx())
        .await
        .unwrap();
    let pw = Password::parse(PW).unwrap();
    h.app
        .set_initial_password(&grant.0, &pw, &ctx())
        .await
        .unwrap();
    // The password link is void: it cannot set the password of the
    // account now set up, silently and without a notice.
    assert_eq!(
        h.app.check_reset_token(&link).await,
        Err(Error::InvalidToken)
    );
    let other = Password::parse("Other-Kumo-88").unwrap();
    assert_eq!(
        h.app.reset_password(&link, &other, &ctx()).await,
        Err(Error::InvalidToken)
    );
    let mut c = Client::new(&h);
    assert_eq!(c.login(login, PW).await.1["next"], "enroll");
}

/// Apply `change` to the user behind `login` and write it, as a use case
/// does (its notice among the writes).
async fn apply(h: &Harness, login: &str, change: tobira::account::Change<'_>) {
    let (mut user, v) = h.find_user(login).await.unwrap();
    let c = ctx();
    let applied = h
        .app
        .apply_change(&mut user, v, change, tobira::account::Made::by(&c));
    h.app
        .store
        .write(applied.writes, h.app.now())
        .await
        .unwrap();
}

// ADM-7, MFA-5, MFA-7 (the admin's call comes with issue 15)
#[tokio::test]
async fn a_factors_reset_ends_everything_and_the_next_sign_in_enrols_again() {
    let h = Harness::new();
    let login = "lost.phone@example.com";
    let (mut c, _) = full_user(&h, login).await;
    apply(&h, login, tobira::account::Change::FactorsReset).await;
    assert_eq!(c.get("/api/me").await.status(), 401);
    let id = h.user(login).await.id;
    assert_eq!(h.app.recovery_codes_left(&id).await.unwrap(), 0);
    let mut c = Client::new(&h);
    assert_eq!(c.login(login, PW).await.1["next"], "enroll");
    // The old authenticator's secret is gone with the methods.
    let totp = tobira::model::keys::totp(&id);
    assert!(h.app.store.get(&totp, h.app.now()).await.unwrap().is_none());
    h.assert_mailed(login, "2段階認証のリセット").await;
    assert!(h
        .audit_kinds("econ9000000001")
        .await
        .contains(&"mfa.factors_reset".to_string()));
}

// ADM-3 (the admin's call comes with issue 15)
#[tokio::test]
async fn enabling_a_disabled_account_revives_no_session() {
    let h = Harness::new();
    let login = "paused@example.com";
    let (mut c, _) = full_user(&h, login).await;
    apply(&h, login, tobira::account::Change::Disabled).await;
    assert_eq!(c.get("/api/me").await.status(), 401);
    assert_eq!(Client::new(&h).login(login, PW).await.0, 401);
    apply(&h, login, tobira::account::Change::Enabled).await;
    assert_eq!(c.get("/api/me").await.status(), 401, "ended for good");
    let (s, b) = Client::new(&h).login(login, PW).await;
    assert_eq!((s, b["next"].as_str()), (200, Some("mfa")), "{b}");
}
