//! MFA-10: passwordless sign-in with a discoverable passkey (user verified):
//! both steps at once, never past a lock, a disabled account or the terms;
//! a new session; every assertion once, however many copies arrive; and
//! nothing that tells who exists.

use std::time::Duration;

use serde_json::json;

use crate::mfa_support::{Client, PW};
use crate::passkey_support::{passkey_user, phone};
use crate::support::{json_req, test_config, Harness};

// MFA-10, SES-1
#[tokio::test]
async fn mfa_10_passwordless_sign_in_satisfies_both_steps_with_a_new_session() {
    let h = Harness::new();
    let mut auth = phone();
    passkey_user(&h, "nopw@example.com", &mut auth).await;
    let mut fresh = Client::new(&h);
    let (s, options) = fresh.post("/api/login/passkey/begin", json!({})).await;
    assert_eq!(s, 200, "{options}");
    assert_eq!(options["publicKey"]["userVerification"], "required");
    assert!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "any discoverable credential: {options}"
    );
    let assertion = auth.assert(&options).unwrap();
    let (s, b) = fresh.post("/api/login/passkey/finish", assertion).await;
    assert_eq!((s, b["next"].as_str()), (200, Some("done")), "{b}");
    let me = fresh.me().await;
    assert_eq!(me["stage"], "full", "{me}");
    assert_eq!(me["user"]["login_id"], "nopw@example.com");
    assert!(fresh.session().is_some(), "SES-1: a session of its own");
    let kinds = h.audit_kinds("econ9000000001").await;
    assert!(kinds.iter().any(|k| k == "login.passkey_ok"), "{kinds:?}");
}

// MFA-10, TOS-1
#[tokio::test]
async fn mfa_10_passwordless_never_skips_the_terms() {
    let h = Harness::new();
    let mut auth = phone();
    passkey_user(&h, "terms.pk@example.com", &mut auth).await;
    let mut config = test_config();
    config.documents.terms_version = "2026-12".into();
    let h2 = Harness::over(config, h.memory.clone(), h.memory.clone());
    let mut c = Client::new(&h2);
    let (s, b) = c.passkey_sign_in(&mut auth).await;
    assert_eq!((s, b["next"].as_str()), (200, Some("terms")), "{b}");
    assert_eq!(b["terms_version"], "2026-12");
    assert_eq!(c.me().await["stage"], "terms");
}

// MFA-10, ADM-3, LOG-2
#[tokio::test]
async fn mfa_10_passwordless_never_skips_a_lock_or_a_disabled_account() {
    let h = Harness::new();
    let mut auth = phone();
    passkey_user(&h, "locked.pk@example.com", &mut auth).await;
    for _ in 0..5 {
        Client::new(&h)
            .login("locked.pk@example.com", "Wrong-Pass1")
            .await;
    }
    let (s, b) = Client::new(&h).passkey_sign_in(&mut auth).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (401, Some("invalid_credentials")),
        "{b}"
    );
    h.advance(Duration::from_secs(20 * 60));
    assert_eq!(Client::new(&h).passkey_sign_in(&mut auth).await.0, 200);

    let mut other = phone();
    passkey_user(&h, "disabled.pk@example.com", &mut other).await;
    let mut u = h.user("disabled.pk@example.com").await;
    let (_, version) = h.find_user("disabled.pk@example.com").await.unwrap();
    let ctx = crate::support::ctx();
    let made = tobira::account::Made::by(&ctx);
    let applied = h
        .app
        .apply_change(&mut u, version, tobira::account::Change::Disabled, made);
    h.app
        .store
        .write(applied.writes, h.app.now())
        .await
        .unwrap();
    let (s, b) = Client::new(&h).passkey_sign_in(&mut other).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (401, Some("invalid_credentials")),
        "{b}"
    );
}

// MFA-10, LOG-3
#[tokio::test]
async fn mfa_10_beginning_tells_nobody_who_exists() {
    let (h, _, counts) = crate::cases_support::counted();
    let mut auth = phone();
    passkey_user(&h, "known.pk@example.com", &mut auth).await;
    // The outbox's sender waits: only what the begin does is counted.
    h.hold_notices
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let mut shapes = Vec::new();
    for login in ["known.pk@example.com", "nobody@example.com", ""] {
        counts.take();
        let (s, options) = Client::new(&h)
            .post("/api/login/passkey/begin", json!({ "login_id": login }))
            .await;
        assert_eq!(s, 200, "{options}");
        let mut shape = options.clone();
        shape["publicKey"]["challenge"] = json!("-");
        // No read at all: one write, the ceremony's.
        shapes.push((shape, counts.take()));
    }
    assert_eq!(shapes[0].1, [0, 0, 1, 1], "no read, one write: {shapes:?}");
    assert!(shapes.windows(2).all(|w| w[0] == w[1]), "{shapes:?}");
    // A login ID typed must name the credential's user.
    let mut c = Client::new(&h);
    let assertion = c
        .passkey_assertion(&mut auth, json!({ "login_id": "nobody@example.com" }))
        .await;
    assert_eq!(c.post("/api/login/passkey/finish", assertion).await.0, 401);
    let mut c = Client::new(&h);
    let assertion = c
        .passkey_assertion(&mut auth, json!({ "login_id": "Known.PK@example.com" }))
        .await;
    assert_eq!(c.post("/api/login/passkey/finish", assertion).await.0, 200);
}

// MFA-10 (configuration)
#[tokio::test]
async fn mfa_10_a_deployment_without_passwordless_sign_in_asks_for_the_password() {
    let mut config = test_config();
    config.factors.passwordless = false;
    let h = Harness::with_config(config);
    let mut auth = phone();
    passkey_user(&h, "pw.only@example.com", &mut auth).await;
    Client::new(&h)
        .refused(
            "POST",
            "/api/login/passkey/begin",
            json!({}),
            409,
            "method_unavailable",
        )
        .await;
    // As the second step it still works.
    let mut c = Client::at_challenge(&h, "pw.only@example.com").await;
    assert_eq!(c.passkey_sign_in(&mut auth).await.0, 200);
    // And a deployment without passkeys offers none.
    let mut config = test_config();
    config.factors.passkeys = false;
    let off = Harness::with_config(config);
    let (secret, _) = crate::mfa_support::totp_user(&off, "off@example.com").await;
    let mut c = crate::mfa_support::full_client(&off, "off@example.com", &secret).await;
    c.refused(
        "POST",
        "/api/passkeys/register/begin",
        json!({ "password": PW }),
        409,
        "method_unavailable",
    )
    .await;
}

/// One `POST /api/login/passkey/finish` of `body`, straight to the function.
async fn submit(app: tobira::App, cookie: Option<String>, body: String) -> u16 {
    let mut req = json_req("POST", "/api/login/passkey/finish", &body);
    if let Some(c) = cookie {
        req.headers_mut().insert("cookie", c.parse().unwrap());
    }
    tobira_local::call_function(&app, "login", req)
        .await
        .unwrap()
        .status()
        .as_u16()
}

// MFA-10
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mfa_10_fifty_parallel_submissions_of_one_assertion_sign_in_once() {
    let h = Harness::new();
    let mut auth = phone();
    passkey_user(&h, "race.pk@example.com", &mut auth).await;
    // Passwordless, and as the second step.
    for second_step in [false, true] {
        let mut c = if second_step {
            Client::at_challenge(&h, "race.pk@example.com").await
        } else {
            Client::new(&h)
        };
        let assertion = c.passkey_assertion(&mut auth, json!({})).await.to_string();
        let cookie = second_step.then(|| c.jar.header());
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (app, cookie, body) = (h.app.clone(), cookie.clone(), assertion.clone());
            tasks.push(tokio::spawn(submit(app, cookie, body)));
        }
        let mut ok = 0;
        for t in tasks {
            let s = t.await.unwrap();
            assert!(matches!(s, 200 | 401 | 403 | 429), "{s}");
            ok += usize::from(s == 200);
        }
        assert_eq!(ok, 1, "second step: {second_step}");
        // The copies that lost left the user able to sign in.
        h.advance(Duration::from_secs(20 * 60));
    }
}

// MFA-10, MFA-8: a passwordless sign-in gave no password: a factor change
// asks for it.
#[tokio::test]
async fn mfa_10_a_passwordless_session_is_no_fresh_proof_for_a_factor_change() {
    let h = Harness::new();
    let mut auth = phone();
    passkey_user(&h, "proof.pk@example.com", &mut auth).await;
    let mut c = Client::new(&h);
    assert_eq!(c.passkey_sign_in(&mut auth).await.0, 200);
    c.refused("POST", "/api/mfa/totp", json!({}), 403, "reauth_required")
        .await;
    c.refused(
        "POST",
        "/api/passkeys/register/begin",
        json!({}),
        403,
        "reauth_required",
    )
    .await;
    let (s, _) = c.post("/api/mfa/totp", json!({ "password": PW })).await;
    assert_eq!(s, 200, "the password proves it");
}

// MFA-10, LOG-2, LOG-3: a made-up credential that names a user's handle is
// no attempt on that user: nobody is locked out by it.
#[tokio::test]
async fn mfa_10_a_forged_credential_naming_a_user_locks_nobody() {
    let h = Harness::new();
    let mut auth = phone();
    passkey_user(&h, "victim.pk@example.com", &mut auth).await;
    // The victim's user handle, as any assertion of theirs carries it.
    let mut peek = auth.clone();
    let seen = Client::new(&h)
        .passkey_assertion(&mut peek, json!({}))
        .await;
    let handle = seen["response"]["userHandle"].as_str().unwrap().to_string();
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    for _ in 0..7 {
        let mut c = Client::new(&h);
        let (s, options) = c.post("/api/login/passkey/begin", json!({})).await;
        assert_eq!(s, 200);
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        let client_data = json!({
            "type": "webauthn.get", "challenge": challenge, "origin": "https://portal.example.com"
        });
        let forged = json!({
            "id": b64(b"made up"), "rawId": b64(b"made up"), "type": "public-key",
            "response": {
                "clientDataJSON": b64(client_data.to_string().as_bytes()),
                "authenticatorData": b64(&[0; 37]), "signature": b64(&[1; 70]),
                "userHandle": handle,
            },
        });
        let (s, b) = c.post("/api/login/passkey/finish", forged).await;
        assert_eq!((s, b["error"].as_str()), (401, Some("invalid_credentials")));
    }
    let (s, _) = Client::new(&h).login("victim.pk@example.com", PW).await;
    assert_eq!(s, 200, "not locked");
    assert_eq!(Client::new(&h).passkey_sign_in(&mut auth).await.0, 200);
}

// MFA-10, SES-1: the sign-in page's button is passwordless even when the
// browser still holds a half-signed-in session of someone else.
#[tokio::test]
async fn mfa_10_the_sign_in_pages_button_is_passwordless_whatever_session_is_held() {
    let h = Harness::new();
    let mut mine = phone();
    passkey_user(&h, "me.pk@example.com", &mut mine).await;
    let mut theirs = phone();
    passkey_user(&h, "them.pk@example.com", &mut theirs).await;
    let mut c = Client::at_challenge(&h, "them.pk@example.com").await;
    let old = c.session();
    let (s, options) = c
        .post("/api/login/passkey/begin", json!({ "passwordless": true }))
        .await;
    assert_eq!(s, 200);
    assert!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "nobody's credentials listed: {options}"
    );
    let assertion = mine.assert(&options).unwrap();
    let (s, b) = c.post("/api/login/passkey/finish", assertion).await;
    assert_eq!((s, b["next"].as_str()), (200, Some("done")), "{b}");
    assert_ne!(c.session(), old);
    assert_eq!(c.me().await["user"]["login_id"], "me.pk@example.com");
}
