//! CLM-1..3: a legacy password stops being a credential the moment its
//! account has a portal password or a factor; linking takes only accounts
//! never set up, and tells the address of every account it merges.

use serde_json::json;
use tobira::ids::{LoginId, Password};
use tobira::model::{keys, User, UserState};
use tobira::session::{Session, Stage};
use tobira::store::{Cond, Write};
use tobira::Error;

use crate::support::{body_json, ctx, json_req, sample_records, Harness};
use crate::uniform::set_up_legacy;

const SID: &str = "ca1234567890";
const LEGACY_PW: &str = "Legacy-Pass1";
const HOLDER: &str = "legacy.bcrypt@example.jp";

fn pw(s: &str) -> Password {
    Password::parse(s).unwrap()
}

async fn user(h: &Harness, login: &str) -> User {
    let l = LoginId::parse(login).unwrap();
    h.app.user_by_login(&l).await.unwrap().unwrap().0
}

fn full_session(u: &User, h: &Harness) -> Session {
    Session {
        user_id: u.id.clone(),
        tenant_id: u.tenant_id.clone(),
        stage: Stage::Full,
        created_at: h.app.now(),
        last_seen: h.app.now(),
        recovery_ack_pending: false,
        epoch: u.session_epoch,
        password_at: None,
    }
}

/// The holder of `SID` (tenant econ2000000001) sets a portal password and
/// enrols a factor; an attacker signed in under another tenant knows the
/// legacy password.
async fn set_up_holder_and_attacker() -> (Harness, User) {
    let h = Harness::new();
    h.migrate(&sample_records()).await;
    set_up_legacy(&h, HOLDER).await;
    let holder = user(&h, HOLDER).await;
    let mut with_factor = holder.clone();
    with_factor.methods = vec!["totp".into()];
    let l = LoginId::parse(HOLDER).unwrap();
    let (_, v) = h.app.user_by_login(&l).await.unwrap().unwrap();
    let w = Write::put(keys::user(&holder.id), &with_factor, None, Cond::Version(v));
    h.app.store.write(vec![w], h.app.now()).await.unwrap();
    h.active_user("attacker@example.com", "Sturdy-Gate58").await;
    let attacker = user(&h, "attacker@example.com").await;
    (h, attacker)
}

// CLM-1, CLM-3
#[tokio::test]
async fn clm_1_clm_3_a_set_up_account_cannot_be_taken_over_with_its_legacy_password() {
    let (h, attacker) = set_up_holder_and_attacker().await;
    let before = user(&h, HOLDER).await;
    let s = full_session(&attacker, &h);
    let e = h
        .app
        .claim(SID, &pw(LEGACY_PW), Some(&s), &ctx())
        .await
        .unwrap_err();
    assert_eq!(e, Error::InvalidCredentials);
    let after = user(&h, HOLDER).await;
    assert_eq!(after.state, UserState::Active);
    assert_eq!(after.merged_into, None);
    assert_eq!(after.legacy_password_hash, before.legacy_password_hash);
    let attacker = user(&h, "attacker@example.com").await;
    assert!(!attacker.service_ids.iter().any(|s| s == SID));
    assert!(attacker.linked_tenants.is_empty());
    // Nor without a session: no grant to register an e-mail.
    let e = h
        .app
        .claim(SID, &pw(LEGACY_PW), None, &ctx())
        .await
        .unwrap_err();
    assert_eq!(e, Error::InvalidCredentials);
}

// CLM-1
#[tokio::test]
async fn clm_1_right_and_wrong_legacy_password_of_a_set_up_account_answer_alike() {
    let (h, attacker) = set_up_holder_and_attacker().await;
    let claim = |password: &str| {
        json_req(
            "POST",
            "/api/claim",
            &json!({ "service_id": SID, "password": password }).to_string(),
        )
    };
    let right = h.send(claim(LEGACY_PW)).await;
    let wrong = h.send(claim("Wrong-Pass1")).await;
    assert_eq!(right.status(), 401);
    assert_eq!(right.status(), wrong.status());
    assert_eq!(body_json(&right), body_json(&wrong));
    assert!(right.headers().get("set-cookie").is_none());
    // With a session, at the domain: the same error either way.
    let s = full_session(&attacker, &h);
    // The counter of the two claims above is forgotten a day later.
    h.advance(std::time::Duration::from_secs(25 * 3600));
    let right = h.app.claim(SID, &pw(LEGACY_PW), Some(&s), &ctx()).await;
    let wrong = h.app.claim(SID, &pw("Wrong-Pass1"), Some(&s), &ctx()).await;
    assert_eq!(right.unwrap_err(), Error::InvalidCredentials);
    assert_eq!(wrong.unwrap_err(), Error::InvalidCredentials);
}

// CLM-3, CLM-4
#[tokio::test]
async fn clm_3_bulk_linking_refuses_an_account_that_was_set_up() {
    let (h, _) = set_up_holder_and_attacker().await;
    h.active_user("owner@example.com", "Sturdy-Gate58").await;
    let event = json!({
        "action": "link-services",
        "login_id": "owner@example.com",
        "service_ids": [SID, "ca1234567893"],
    });
    let r = tobira_migrate_batch::handle(&h.app, event).await.unwrap();
    assert_eq!(
        (r["linked"].as_u64(), r["rejected"].as_u64()),
        (Some(1), Some(1)),
        "{r}"
    );
    assert_eq!(user(&h, HOLDER).await.state, UserState::Active);
    // The merged account (the argon2 sample) was told, at its own address.
    h.assert_mailed("legacy.argon@example.jp", "ca1234567893")
        .await;
}

// SET-1, CLM-2
#[tokio::test]
async fn set_1_clm_2_registering_a_claim_ends_the_links_mailed_to_the_old_address() {
    let h = Harness::new();
    h.migrate(&sample_records()).await;
    let old = "legacy.sha512@example.jp";
    let old_token = h.setup_token(old).await;
    let tobira::claim::Claimed::Register { grant } = h
        .app
        .claim("ca1234567891", &pw("Legacy-Pass2"), None, &ctx())
        .await
        .unwrap()
    else {
        panic!("a grant to register")
    };
    h.app
        .claim_register(&grant, "new.owner@example.org", true, true, &ctx())
        .await
        .unwrap();
    assert_eq!(
        h.app.check_setup_token(&old_token).await,
        Err(Error::InvalidToken)
    );
    // CLM-2: registered, the account is no longer claimed with the legacy
    // password (another claimant could re-register it elsewhere); its owner
    // asks "forgot password" with the new address for another link.
    let e = h
        .app
        .claim("ca1234567891", &pw("Legacy-Pass2"), None, &ctx())
        .await
        .unwrap_err();
    assert_eq!(e, Error::InvalidCredentials);
}
