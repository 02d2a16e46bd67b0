//! Passwords set through a link or changed (RST-4, ADM-1, PW-2, PW-3,
//! PW-5): admin-created users, the policy, changing it when signed in.

use std::time::Duration;

use serde_json::json;

use crate::mfa_support::{full_client, full_user, Client, PW};
use crate::reset_support::*;
use crate::support::{body_text, ctx, form_req, get, hidden, Harness, Jar};

// RST-4
#[tokio::test]
async fn rst_4_admin_created_users_set_their_first_password_through_the_same_path() {
    let h = Harness::new();
    let new = admin_made();
    let (id, _) = h.app.create_user(&new, &ctx()).await.unwrap();
    // The same e-mail cannot be a second login ID.
    let again = h.app.create_user(&new, &ctx()).await.unwrap_err();
    assert_eq!(again.code(), "login_taken");
    // The registration mail: login ID, link, expiry (72 h, as setup links).
    let m = mails(&h, "made@example.com", "account has been created").await;
    assert_eq!(m.len(), 1);
    assert!(m[0].text.contains("made@example.com") && m[0].text.contains("JST"));
    let lost = h.link_token("made@example.com", "/password/reset").await;
    // Pending users cannot sign in yet.
    let mut c = Client::new(&h);
    assert_eq!(c.login("made@example.com", NEW_PW).await.0, 401);
    // Lost mail: "forgot password" with login ID and e-mail sends a new link.
    h.advance(Duration::from_secs(60));
    let token = reset_link(&h, "made@example.com").await;
    assert_ne!(token, lost);
    assert_eq!(reset(&h, &lost, NEW_PW).await.1["error"], "invalid_token");
    // PW-3 applies to the first password too: the user's name is refused.
    let (s, b) = reset(&h, &token, "Made-Admin-2024").await;
    assert_eq!((s, b["error"].as_str()), (400, Some("weak_password")));
    assert!(
        b["unmet"].as_array().unwrap().contains(&json!("personal")),
        "{b}"
    );
    assert_eq!(reset(&h, &token, NEW_PW).await.0, 200);
    let (user, _) = h.app.user(&id).await.unwrap().unwrap();
    assert_eq!(user.state, tobira::model::UserState::Active);
    assert!(
        user.reset_done_at.is_none(),
        "a first password is not a reset (RST-3)"
    );
    // Signs in, straight to the method the admin chose (SET-4).
    let (s, b) = c.login("made@example.com", NEW_PW).await;
    assert_eq!((s, b["next"].as_str()), (200, Some("enroll")), "{b}");
    assert_eq!(b["enroll_method"], "totp", "{b}");
}

// ADM-1 (the domain call; the admin pages come with issue 15)
#[tokio::test]
async fn adm_1_a_created_user_needs_its_required_fields_and_bad_input_writes_nothing() {
    use tobira::admin::NewUser;
    let h = Harness::new();
    let good = NewUser {
        phone: "03-1234-5678",
        lang: tobira_web::i18n::Lang::Ja,
        method: Some("email"),
        role: tobira::model::Role::Admin,
        ..admin_made()
    };
    let before = h.memory.snapshot();
    for (bad, code) in [
        (
            NewUser {
                email: "no-at-sign",
                ..good
            },
            "invalid_email",
        ),
        (NewUser { name: " ", ..good }, "invalid_name"),
        (
            NewUser {
                phone: "12",
                ..good
            },
            "invalid_phone",
        ),
        (
            NewUser {
                method: Some("sms"),
                ..good
            },
            "invalid_method",
        ),
        (
            NewUser {
                tenant_id: "",
                ..good
            },
            "invalid_tenant_id",
        ),
    ] {
        let e = h.app.create_user(&bad, &ctx()).await.unwrap_err();
        assert_eq!(e.code(), code);
    }
    assert_eq!(h.memory.snapshot(), before, "a refusal writes nothing");
    assert!(h.mails().await.is_empty());
    // Every required field given: pending, login ID = e-mail, the chosen
    // method and role kept, the phone by its digits.
    let (id, _) = h.app.create_user(&good, &ctx()).await.unwrap();
    let (u, _) = h.app.user(&id).await.unwrap().unwrap();
    assert_eq!(u.state, tobira::model::UserState::PendingSetup);
    assert_eq!(u.login_id.as_str(), "made@example.com");
    assert_eq!(u.preset_method.as_deref(), Some("email"));
    assert_eq!(u.role, tobira::model::Role::Admin);
    assert_eq!(u.phone, "0312345678");
    assert_eq!(h.mails().await.len(), 1);
}

// PW-3
#[tokio::test]
async fn pw_3_weak_passwords_are_refused_with_every_unmet_rule_and_nothing_is_used_up() {
    let h = Harness::new();
    let token = user_with_reset_link(&h, "weak.user@example.com").await;
    for (pw, rule) in [
        ("Aaaaaaaa1", "repeated"),
        ("Abcdefgh1", "sequence"),
        ("Password1", "common"),
        ("Government7", "dictionary"),
        ("Weak-User-2030", "personal"),
    ] {
        let (s, b) = reset(&h, &token, pw).await;
        assert_eq!(
            (s, b["error"].as_str()),
            (400, Some("weak_password")),
            "{pw}"
        );
        assert!(
            b["unmet"].as_array().unwrap().contains(&json!(rule)),
            "{pw}: {b}"
        );
    }
    // Several rules at once are all listed.
    let (_, b) = reset(&h, &token, "aaaa").await;
    assert_eq!(b["unmet"], json!(["length", "upper", "digit", "repeated"]));
    // The page shows the checklist with each unmet rule marked.
    let mut jar = Jar::default();
    let page = h
        .send(jar.apply(get(&format!("/password/reset?token={token}"))))
        .await;
    jar.take(&page);
    let html = body_text(&page);
    let csrf = hidden(&html, "csrf");
    let r = h
        .send(jar.apply(form_req(
            "/password/reset",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("password", "Password1"),
                ("password_confirm", "Password1"),
            ],
        )))
        .await;
    assert_eq!(r.status(), 400);
    let html = body_text(&r);
    let checklist = html
        .split("id=\"password-rules\"")
        .nth(1)
        .and_then(|rest| rest.split("</ul>").next())
        .expect("the checklist");
    let rules = tobira::password::all_rules(tobira::password::Preset::Default);
    assert_eq!(checklist.matches("<li").count(), rules.len(), "{checklist}");
    assert!(checklist.contains("data-unmet=\"common\""), "{checklist}");
    assert!(!html.contains("data-unmet=\"length\""));
    // Nothing was used up: the link still sets a strong password.
    assert_eq!(reset(&h, &token, NEW_PW).await.0, 200);
}

// PW-2
#[tokio::test]
async fn pw_2_the_preset_is_chosen_by_configuration() {
    let config = tobira::Config::from_lookup(
        |k| match k {
            "TOBIRA_PASSWORD_PRESET" => Some("seed002".into()),
            "TOBIRA_FORGOT_MIN_MILLIS" => Some("0".into()),
            _ => None,
        },
        false,
    )
    .unwrap();
    let h = Harness::with_config(config);
    h.active_user("preset@example.com", "Kumo-Tori-Ame7!").await;
    let token = reset_link(&h, "preset@example.com").await;
    // Seed 002: 12-40 characters with a symbol from !@#$%&*?+-=.
    let (_, b) = reset(&h, &token, "Kumo^Tori7").await;
    assert_eq!(b["unmet"], json!(["length", "symbol", "characters"]), "{b}");
    let page = body_text(&h.send(get(&format!("/password/reset?token={token}"))).await);
    assert!(page.contains("12〜40"), "the checklist shows the preset");
    assert_eq!(reset(&h, &token, "Kumo+Tori+Ame7").await.0, 200);
}

// PW-5
#[tokio::test]
async fn pw_5_change_password_when_signed_in_needs_the_current_one() {
    let h = Harness::new();
    let (mut c, secret) = full_user(&h, "change@example.com").await;
    let mut other = full_client(&h, "change@example.com", &secret).await;
    let change = |cur: &str, new: &str| json!({ "current_password": cur, "new_password": new });
    // Not signed in, or only half: refused.
    let (s, _) = Client::new(&h)
        .post("/api/password/change", change(PW, NEW_PW))
        .await;
    assert_eq!(s, 401);
    // A weak new password: every unmet rule, nothing changed, nothing counted.
    let (s, b) = c
        .post("/api/password/change", change(PW, "Password1"))
        .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("weak_password")));
    assert!(b["unmet"].as_array().unwrap().contains(&json!("common")));
    // A wrong current password counts towards the lock (LOG-2).
    let (s, b) = c
        .post("/api/password/change", change("Wrong-Pass1", NEW_PW))
        .await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_credentials")));
    let (s, b) = c.post("/api/password/change", change(PW, NEW_PW)).await;
    assert_eq!(s, 204, "{b}");
    // This session carries on, the other one ended; a notice was sent.
    assert_eq!(c.get("/api/me").await.status(), 200);
    assert_eq!(other.get("/api/me").await.status(), 401);
    assert_eq!(
        mails(&h, "change@example.com", "パスワード変更のお知らせ")
            .await
            .len(),
        1
    );
    let mut fresh = Client::new(&h);
    assert_eq!(fresh.login("change@example.com", PW).await.0, 401);
    let (s, b) = fresh.login("change@example.com", NEW_PW).await;
    assert_eq!((s, b["next"].as_str()), (200, Some("mfa")));
    // Five wrong current passwords lock the user like five wrong sign-ins.
    for _ in 0..5 {
        c.post(
            "/api/password/change",
            change("Wrong-Pass1", "Other-Kumo-88"),
        )
        .await;
    }
    let (s, _) = c
        .post("/api/password/change", change(NEW_PW, "Other-Kumo-88"))
        .await;
    assert_eq!(s, 401, "locked: even the right password is refused");
    let kinds = h.audit_kinds("econ9000000001").await;
    assert!(kinds.contains(&"password.changed".to_string()));
    assert!(kinds.contains(&"password.change_refused".to_string()));
}

// PW-5
#[tokio::test]
async fn pw_5_change_password_page_works_without_javascript() {
    let h = Harness::new();
    let (mut c, _) = full_user(&h, "page@example.com").await;
    let page = c.get("/password/change").await;
    assert_eq!(page.status(), 200);
    let html = body_text(&page);
    assert!(
        html.contains("name=\"current_password\"") && crate::support::only_portal_script(&html)
    );
    let csrf = hidden(&html, "csrf");
    let post = |fields: &[(&str, &str)]| c.jar.apply(form_req("/password/change", fields));
    let r = h
        .send(post(&[
            ("csrf", &csrf),
            ("current_password", PW),
            ("password", NEW_PW),
            ("password_confirm", "Different-1"),
        ]))
        .await;
    assert_eq!(r.status(), 400);
    let r = h
        .send(post(&[
            ("csrf", &csrf),
            ("current_password", PW),
            ("password", NEW_PW),
            ("password_confirm", NEW_PW),
        ]))
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/?notice=password_changed");
    assert_eq!(c.get("/api/me").await.status(), 200);
    // Without a full session the page sends the visitor to sign in.
    let r = h.send(get("/password/change")).await;
    assert_eq!(r.headers()["location"], "/login");
}
