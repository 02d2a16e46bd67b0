//! Password reset, recovery and policy (RST-1..5, PW-2, PW-3, PW-5), through
//! the reset-password function's real handler.

use std::time::Duration;

use serde_json::{json, Value};
use tobira::ids::Password;

use crate::mfa_support::{full_client, full_user, totp_code, Client, PW};
use crate::support::{
    body_json, body_text, ctx, form_req, get, hidden, json_req, test_config, Harness, Jar,
};

const NEW_PW: &str = "Kumo-Tori-Ame7";

/// Every mail to `to` whose subject contains `subject`.
fn mails(h: &Harness, to: &str, subject: &str) -> Vec<tobira::delivery::Mail> {
    h.outbox
        .mails()
        .into_iter()
        .filter(|m| m.to == to && m.subject.contains(subject))
        .collect()
}

async fn forgot(h: &Harness, login: &str, email: &str) -> (u16, String) {
    let body = json!({ "login_id": login, "email": email }).to_string();
    let r = h
        .send(json_req("POST", "/api/password/forgot", &body))
        .await;
    (r.status().as_u16(), body_text(&r))
}

async fn reset(h: &Harness, token: &str, pw: &str) -> (u16, Value) {
    let body = json!({ "token": token, "password": pw }).to_string();
    let r = h.send(json_req("POST", "/api/password/reset", &body)).await;
    (r.status().as_u16(), body_json(&r))
}

const RESET_SUBJECT: &str = "パスワード再設定のご案内";

// RST-1
#[tokio::test]
async fn rst_1_forgot_password_mails_a_reset_link_and_the_answer_is_identical() {
    let h = Harness::new();
    h.active_user("forgot@example.com", PW).await;
    h.active_user("other@example.com", PW).await;
    let before = h.outbox.mails().len();
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
    let sent = &h.outbox.mails()[before..];
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
    let link = h.mailed_link("other@example.com", "/password/reset");
    let token = h.link_token("other@example.com", "/password/reset");
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
    h.active_user("once@example.com", PW).await;
    forgot(&h, "once@example.com", "once@example.com").await;
    let first = h.link_token("once@example.com", "/password/reset");
    // At most one link a minute: nobody can flood the mailbox or keep
    // voiding the newest link.
    forgot(&h, "once@example.com", "once@example.com").await;
    assert_eq!(mails(&h, "once@example.com", RESET_SUBJECT).len(), 1);
    // A minute later a newer link voids the older one.
    h.advance(Duration::from_secs(60));
    forgot(&h, "once@example.com", "once@example.com").await;
    assert_eq!(mails(&h, "once@example.com", RESET_SUBJECT).len(), 2);
    let token = h.link_token("once@example.com", "/password/reset");
    assert_ne!(first, token);
    assert_eq!(reset(&h, &first, NEW_PW).await.1["error"], "invalid_token");
    assert_eq!(reset(&h, &token, NEW_PW).await.0, 200);
    assert_eq!(
        reset(&h, &token, "Other-Kumo-88").await.1["error"],
        "invalid_token"
    );
    // Expiry is checked in code (the store's TTL deletion is lazy).
    let h = Harness::new();
    h.active_user("late@example.com", PW).await;
    forgot(&h, "late@example.com", "late@example.com").await;
    let token = h.link_token("late@example.com", "/password/reset");
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
    assert!(mails(&h, "block@example.com", RESET_SUBJECT).is_empty());
    h.advance(Duration::from_secs(19 * 60));
    forgot(&h, "block@example.com", "block@example.com").await;
    assert!(mails(&h, "block@example.com", RESET_SUBJECT).is_empty());
    h.advance(Duration::from_secs(61));
    forgot(&h, "block@example.com", "block@example.com").await;
    assert_eq!(mails(&h, "block@example.com", RESET_SUBJECT).len(), 1);
    // A match clears the count: four more wrong entries do not block.
    h.advance(Duration::from_secs(60));
    for _ in 0..4 {
        forgot(&h, "block@example.com", "guess@example.com").await;
    }
    forgot(&h, "block@example.com", "block@example.com").await;
    assert_eq!(mails(&h, "block@example.com", RESET_SUBJECT).len(), 2);
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
    h.active_user("daily@example.com", PW).await;
    forgot(&h, "daily@example.com", "daily@example.com").await;
    let token = h.link_token("daily@example.com", "/password/reset");
    // Asking again before using the link is fine (the newest link counts).
    assert_eq!(reset(&h, &token, NEW_PW).await.0, 200);
    h.advance(Duration::from_secs(23 * 3600));
    let answer = forgot(&h, "daily@example.com", "daily@example.com").await;
    assert_eq!(answer.0, 202);
    assert_eq!(mails(&h, "daily@example.com", RESET_SUBJECT).len(), 1);
    let kinds = h.audit_kinds("econ9000000001").await;
    assert!(
        kinds.contains(&"password.forgot_cooldown".to_string()),
        "{kinds:?}"
    );
    h.advance(Duration::from_secs(3600));
    forgot(&h, "daily@example.com", "daily@example.com").await;
    assert_eq!(mails(&h, "daily@example.com", RESET_SUBJECT).len(), 2);
}

// RST-4
#[tokio::test]
async fn rst_4_admin_created_users_set_their_first_password_through_the_same_path() {
    use tobira::admin::NewUser;
    let h = Harness::new();
    let new = NewUser {
        tenant_id: "econ9000000002",
        name: "Admin Made",
        email: "made@example.com",
        phone: "090-1234-5678",
        lang: tobira_web::i18n::Lang::En,
        method: Some("totp"),
        role: tobira::model::Role::General,
    };
    let id = h.app.create_user(&new, &ctx()).await.unwrap();
    // The same e-mail cannot be a second login ID.
    let again = h.app.create_user(&new, &ctx()).await.unwrap_err();
    assert_eq!(again.code(), "login_taken");
    // The registration mail: login ID, link, expiry (72 h, as setup links).
    let m = mails(&h, "made@example.com", "account has been created");
    assert_eq!(m.len(), 1);
    assert!(m[0].text.contains("made@example.com") && m[0].text.contains("JST"));
    let lost = h.link_token("made@example.com", "/password/reset");
    // Pending users cannot sign in yet.
    let mut c = Client::new(&h);
    assert_eq!(c.login("made@example.com", NEW_PW).await.0, 401);
    // Lost mail: "forgot password" with login ID and e-mail sends a new link.
    h.advance(Duration::from_secs(60));
    forgot(&h, "made@example.com", "made@example.com").await;
    let token = h.link_token("made@example.com", "/password/reset");
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
        tenant_id: "econ9000000002",
        name: "Admin Made",
        email: "made@example.com",
        phone: "03-1234-5678",
        lang: tobira_web::i18n::Lang::Ja,
        method: Some("email"),
        role: tobira::model::Role::Admin,
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
    assert!(h.outbox.mails().is_empty());
    // Every required field given: pending, login ID = e-mail, the chosen
    // method and role kept, the phone by its digits.
    let id = h.app.create_user(&good, &ctx()).await.unwrap();
    let (u, _) = h.app.user(&id).await.unwrap().unwrap();
    assert_eq!(u.state, tobira::model::UserState::PendingSetup);
    assert_eq!(u.login_id.as_str(), "made@example.com");
    assert_eq!(u.preset_method.as_deref(), Some("email"));
    assert_eq!(u.role, tobira::model::Role::Admin);
    assert_eq!(u.phone, "0312345678");
    assert_eq!(h.outbox.mails().len(), 1);
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
    forgot(&h, "ended@example.com", "ended@example.com").await;
    let token = h.link_token("ended@example.com", "/password/reset");
    // Before the reset nothing has changed.
    assert_eq!(signed_in.get("/api/me").await.status(), 200);
    assert_eq!(reset(&h, &token, NEW_PW).await.0, 200);
    // Every session ended, on every route.
    assert_eq!(signed_in.get("/api/me").await.status(), 401);
    assert_eq!(remembered.get("/api/me").await.status(), 401);
    let r = signed_in.get("/").await;
    assert_eq!(r.headers()["location"], "/login");
    // The notice.
    let notice = mails(&h, "ended@example.com", "パスワード再設定完了");
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
    h.active_user("race@example.com", PW).await;
    forgot(&h, "race@example.com", "race@example.com").await;
    let token = h.link_token("race@example.com", "/password/reset");
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
        mails(&h, "race@example.com", "パスワード再設定完了").len(),
        1
    );
}

// PW-3
#[tokio::test]
async fn pw_3_weak_passwords_are_refused_with_every_unmet_rule_and_nothing_is_used_up() {
    let h = Harness::new();
    h.active_user("weak.user@example.com", PW).await;
    forgot(&h, "weak.user@example.com", "weak.user@example.com").await;
    let token = h.link_token("weak.user@example.com", "/password/reset");
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
    forgot(&h, "preset@example.com", "preset@example.com").await;
    let token = h.link_token("preset@example.com", "/password/reset");
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
        mails(&h, "change@example.com", "パスワード変更のお知らせ").len(),
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
    assert!(html.contains("name=\"current_password\"") && !html.contains("<script"));
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
    let first = h.setup_token("pending@example.com");
    let setup_mails = |h: &Harness| {
        h.outbox
            .mails()
            .iter()
            .filter(|m| m.to == "pending@example.com" && m.text.contains("/setup?token="))
            .count()
    };
    assert_eq!(setup_mails(&h), 1);
    // Within a minute of the last one: nothing new.
    forgot(&h, "pending@example.com", "pending@example.com").await;
    assert_eq!(setup_mails(&h), 1);
    h.advance(Duration::from_secs(60));
    let answer = forgot(&h, "pending@example.com", "pending@example.com").await;
    assert_eq!(
        answer,
        forgot(&h, "pending@example.com", "wrong@example.com").await
    );
    assert_eq!(setup_mails(&h), 2, "the setup link again, not a reset link");
    assert_ne!(h.setup_token("pending@example.com"), first);
    assert!(mails(&h, "pending@example.com", RESET_SUBJECT).is_empty());
}
