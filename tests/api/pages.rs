//! The pages of the journey (SES-3): forms that post, CSRF, Japanese and
//! English, security headers; and the stage model (SES-2) on /enroll.

use crate::support::{body_text, csrf_form, get, hidden, Harness, Jar};

// SES-3
#[tokio::test]
async fn ses_3_pages_walk_setup_to_enrolment_with_csrf_in_both_languages() {
    let h = Harness::new();
    let mut rec = crate::support::record("page@example.com", "ecid1", "econ1");
    rec["name"] = "山田　太郎".into();
    h.migrate(&[rec]).await;
    let token = h.setup_token("page@example.com").await;
    let mut jar = Jar::default();

    // The setup page: Japanese by default, English on request, no referrer.
    let r = h.send(get(&format!("/setup?token={token}"))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    // Issue 16 item 12: scripts from the portal itself only, none inline.
    assert!(csp.contains("script-src 'self';"), "{csp}");
    let html = body_text(&r);
    assert!(html.contains("ご本人確認"), "Japanese by default");
    jar.take(&r);
    let csrf = hidden(&html, "csrf");
    let mut en = get(&format!("/setup?token={token}"));
    en.headers_mut()
        .insert("accept-language", "en-US,en;q=0.9".parse().unwrap());
    assert!(body_text(&h.send(en).await).contains("confirm your identity"));

    // A post without the CSRF cookie is refused and changes nothing.
    let identity = |name| {
        [
            ("token", token.as_str()),
            ("email", "page@example.com"),
            ("name", name),
            ("phone", "0312345678"),
        ]
    };
    let fields = identity("山田　太郎");
    let r = h.send(csrf_form("/setup/verify", &csrf, &fields)).await;
    assert_eq!(r.status(), 403);

    // Wrong name: the form again, with an error that names no field.
    let wrong = identity("山田 太郎");
    let r = h.send(jar.form("/setup/verify", &csrf, &wrong)).await;
    assert_eq!(r.status(), 400);
    assert!(body_text(&r).contains("id=\"form-error\""));

    let r = h.send(jar.form("/setup/verify", &csrf, &fields)).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/setup/password");
    jar.take(&r);
    assert!(jar.get("__Host-tobira-grant").is_some());

    // Weak password: the checklist marks each unmet rule.
    let r = h.send(jar.apply(get("/setup/password"))).await;
    assert_eq!(r.status(), 200);
    let password = |pw| [("password", pw), ("password_confirm", pw)];
    let r = h
        .send(jar.form("/setup/password", &csrf, &password("abc")))
        .await;
    assert_eq!(r.status(), 400);
    let html = body_text(&r);
    for code in ["length", "upper", "digit"] {
        assert!(
            html.contains(&format!("data-unmet=\"{code}\"")),
            "{code} unmarked"
        );
    }
    let good = password("Tobira-Door42");
    let r = h.send(jar.form("/setup/password", &csrf, &good)).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login?setup=done");
    jar.take(&r);

    // Sign in through the page: to the methods page.
    let r = h.send(jar.apply(get("/login?setup=done"))).await;
    assert!(body_text(&r).contains("パスワードを設定しました"));
    let login = [
        ("login_id", "PAGE@example.com"),
        ("password", "Tobira-Door42"),
    ];
    let r = h.send(jar.form("/login", &csrf, &login)).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/enroll");
    jar.take(&r);
    let r = h.send(jar.apply(get("/enroll"))).await;
    assert_eq!(r.status(), 200);
    assert!(body_text(&r).contains("id=\"enroll-methods\""));
    assert!(body_text(&r).contains("page@example.com"));
    // The session has its own form token (SES-3): the page's sign-out form.
    let session_csrf = hidden(&body_text(&r), "csrf");
    assert_ne!(session_csrf, csrf);

    // SES-2 / sign-out: no session, no methods page.
    let r = h.send(jar.form("/logout", &csrf, &[])).await;
    assert_eq!(r.status(), 403, "the token from before sign-in");
    let r = h.send(jar.form("/logout", &session_csrf, &[])).await;
    assert_eq!(r.status(), 303);
    // Sign-out confirms.
    assert_eq!(r.headers()["location"], "/login?notice=signed_out");
    jar.take(&r);
    let said = body_text(&h.send(jar.apply(get("/login?notice=signed_out"))).await);
    assert!(said.contains("サインアウトしました。"), "{said}");

    let r = h.send(jar.apply(get("/enroll"))).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
}

// SES-3
#[tokio::test]
async fn ses_3_login_page_failure_is_the_same_message_for_everyone() {
    let h = Harness::new();
    let mut jar = Jar::default();
    let r = h.send(get("/login?lang=en")).await;
    jar.take(&r);
    let csrf = hidden(&body_text(&r), "csrf");
    let fields = [("login_id", "nobody@example.com"), ("password", "x")];
    let r = h.send(jar.form("/login", &csrf, &fields)).await;
    assert_eq!(r.status(), 401);
    assert!(body_text(&r).contains("The login ID or password is incorrect."));
}

// Issue 16 item 12: the portal's one script, from its own origin; pages
// load it and carry no inline script.
#[tokio::test]
async fn the_portals_script_is_served_from_its_own_origin_and_pages_load_nothing_else() {
    let h = Harness::new();
    let r = h.send(get("/static/tobira.js")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let js = body_text(&r);
    assert!(js.contains("password-rules") && js.contains("aria-pressed"));
    let r = h.send(get("/login")).await;
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .unwrap();
    assert_eq!(
        script_src, "script-src 'self'",
        "no inline script, no other origin"
    );
    let html = body_text(&r);
    assert!(html.contains("<script src=\"/static/tobira.js\" defer></script>"));
    assert!(crate::support::only_portal_script(&html));
    // What `script-src 'self'` could load is never sniffed as a script.
    let r = h.send(get("/api/me")).await;
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
}
