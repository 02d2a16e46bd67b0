//! Legacy accounts claimed and linked (CLM-1, CLM-3, CLM-4): every legacy
//! password format, linking when signed in, the `link-services` event.

use serde_json::json;
use tobira::model::UserState;

use crate::support::{ctx, sample_records, Harness};

fn session_for(h: &Harness, user: &tobira::model::User) -> tobira::session::Session {
    let _ = h;
    tobira::session::Session {
        user_id: user.id.clone(),
        tenant_id: user.tenant_id.clone(),
        stage: tobira::session::Stage::Full,
        created_at: h.app.now(),
        last_seen: h.app.now(),
        recovery_ack_pending: false,
        epoch: user.session_epoch,
        password_at: None,
    }
}

// CLM-1
#[tokio::test]
async fn clm_1_every_legacy_format_verifies_and_is_upgraded_to_argon2id() {
    let h = Harness::new();
    h.migrate(&sample_records()).await;
    for (sid, pw, login) in [
        ("ca1234567890", "Legacy-Pass1", "legacy.bcrypt@example.jp"),
        ("CA1234567892", "Legacy-Pass2", "legacy.sha512@example.jp"),
        ("ca1234567893", "Legacy-Pass3", "legacy.argon@example.jp"),
    ] {
        let wrong = tobira::ids::Password::parse("Legacy-Wrong9").unwrap();
        assert_eq!(
            h.app.claim(sid, &wrong, None, &ctx()).await.unwrap_err(),
            tobira::Error::InvalidCredentials
        );
        let pw = tobira::ids::Password::parse(pw).unwrap();
        let claimed = h.app.claim(sid, &pw, None, &ctx()).await.unwrap();
        assert!(matches!(claimed, tobira::claim::Claimed::Register { .. }));
        let l = tobira::ids::LoginId::parse(login).unwrap();
        let (u, _) = h.app.user_by_login(&l).await.unwrap().unwrap();
        let stored = u.legacy_password_hash.unwrap();
        assert!(tobira::password::is_current(&stored), "{login}: upgraded");
        assert!(tobira::legacy_hash::verify(&stored, pw.expose()));
    }
}

// CLM-3
#[tokio::test]
async fn clm_3_signed_in_user_links_another_legacy_account_and_sees_its_contract() {
    let h = Harness::new();
    h.migrate(&sample_records()).await;
    h.active_user("owner@example.com", "Sturdy-Gate58").await;
    let owner_login = tobira::ids::LoginId::parse("owner@example.com").unwrap();
    let (owner, _) = h.app.user_by_login(&owner_login).await.unwrap().unwrap();
    let s = session_for(&h, &owner);
    let pw = tobira::ids::Password::parse("Legacy-Pass2").unwrap();
    let linked = h
        .app
        .claim("ca1234567891", &pw, Some(&s), &ctx())
        .await
        .unwrap();
    let tobira::claim::Claimed::Linked { service_ids } = linked else {
        panic!("linked expected");
    };
    assert!(service_ids.contains(&"ca1234567891".to_string()));
    assert!(service_ids.contains(&"ca1234567892".to_string()));
    let (owner, _) = h.app.user_by_login(&owner_login).await.unwrap().unwrap();
    assert_eq!(owner.linked_tenants[0].as_str(), "econ2000000001");
    // The legacy account is merged: it can be claimed no more.
    let legacy = tobira::ids::LoginId::parse("legacy.sha512@example.jp").unwrap();
    let (l, _) = h.app.user_by_login(&legacy).await.unwrap().unwrap();
    assert_eq!(l.state, UserState::Disabled);
    assert_eq!(l.merged_into.as_deref(), Some(owner.id.as_str()));
    // A merged account's legacy password is no credential: the answer of a
    // wrong password (CLM-1).
    assert_eq!(
        h.app
            .claim("ca1234567892", &pw, None, &ctx())
            .await
            .unwrap_err(),
        tobira::Error::InvalidCredentials
    );
    // CLM-3: the merged account's address is told where it went.
    let notice = h
        .mails()
        .await
        .into_iter()
        .rfind(|m| m.to == "legacy.sha512@example.jp")
        .expect("a link notice");
    assert!(notice.text.contains("owner@example.com"), "{}", notice.text);
    assert!(notice.text.contains("ca1234567891"), "{}", notice.text);
}

// CLM-4
#[tokio::test]
async fn clm_4_link_services_event_links_in_bulk_and_is_idempotent() {
    let h = Harness::new();
    h.migrate(&sample_records()).await;
    h.active_user("owner@example.com", "Sturdy-Gate58").await;
    let event = json!({
        "action": "link-services",
        "login_id": "owner@example.com",
        "service_ids": ["ca1234567890", "ca1234567892", "ca1234567893", "ca0000000000", "bad id!"],
    });
    let r = tobira_migrate_batch::handle(&h.app, event.clone())
        .await
        .unwrap();
    assert_eq!(
        (
            r["linked"].as_u64(),
            r["not_found"].as_u64(),
            r["rejected"].as_u64()
        ),
        (Some(3), Some(1), Some(1)),
        "{r}"
    );
    let owner_login = tobira::ids::LoginId::parse("owner@example.com").unwrap();
    let (owner, _) = h.app.user_by_login(&owner_login).await.unwrap().unwrap();
    for sid in [
        "ca1234567890",
        "ca1234567891",
        "ca1234567892",
        "ca1234567893",
    ] {
        assert!(owner.service_ids.iter().any(|s| s == sid), "{sid}");
    }
    let again = tobira_migrate_batch::handle(&h.app, event).await.unwrap();
    assert_eq!(again["linked"], 0);
    assert_eq!(again["already_linked"], 3);
    // A malformed event changes nothing.
    let before = h.memory.snapshot();
    let e = tobira_migrate_batch::handle(
        &h.app,
        json!({"action": "link-services", "login_id": "owner@example.com"}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "invalid_event");
    assert_eq!(h.memory.snapshot(), before);
}
