//! The claim, identity-entry and reset journeys (CLM-1, RST-4) as pages
//! and through the API after the window, without JavaScript.

use serde_json::{json, Value};
use tobira_web::web::Request;

use crate::portal_support::*;
use crate::support::{
    body_text, csrf_form, ctx, get, hidden, json_req, sample_records, Harness, Jar,
};

fn forgot_req(body: &Value) -> Request {
    json_req("POST", "/api/password/forgot", &body.to_string())
}

// CLM-1, CLM-2
#[tokio::test]
async fn clm_1_pages_claim_and_register_work_without_javascript() {
    let h = Harness::new();
    h.migrate(&sample_records()).await;
    let mut jar = Jar::default();

    let r = h.send(get("/claim")).await;
    assert_eq!(r.status(), 200);
    let html = body_text(&r);
    assert!(crate::support::only_portal_script(&html));
    assert!(html.contains("action=\"/claim\""));
    assert!(html.contains("サービスID"));
    jar.take(&r);
    let csrf = hidden(&html, "csrf");

    // Without the CSRF cookie: refused.
    let fields = [("service_id", BCRYPT_SID), ("password", BCRYPT_PW)];
    assert_eq!(
        h.send(csrf_form("/claim", &csrf, &fields)).await.status(),
        403
    );

    let wrong = [("service_id", BCRYPT_SID), ("password", "Wrong-Pass1")];
    let r = h.send(jar.form("/claim", &csrf, &wrong)).await;
    assert_eq!(r.status(), 401);
    assert!(body_text(&r).contains("id=\"form-error\""));

    let r = h.send(jar.form("/claim", &csrf, &fields)).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/claim/register");
    jar.take(&r);
    assert!(jar.get("__Host-tobira-claim").is_some());

    let r = h.send(jar.apply(get("/claim/register?lang=en"))).await;
    assert_eq!(r.status(), 200);
    let html = body_text(&r);
    assert!(html.contains("name=\"accept_terms\""));
    assert!(html.contains("name=\"accept_privacy\""));
    assert!(html.contains("terms of use"));

    // Unticked boxes are absent from the post: refused, nothing written.
    let before = h.memory.snapshot();
    let register = [
        ("email", "page.owner@example.jp"),
        ("accept_terms", "yes"),
        ("accept_privacy", "yes"),
    ];
    let r = h
        .send(jar.form("/claim/register", &csrf, &register[..2]))
        .await;
    assert_eq!(r.status(), 400);
    assert!(body_text(&r).contains("id=\"form-error\""));
    assert_eq!(h.memory.snapshot(), before);

    let r = h.send(jar.form("/claim/register", &csrf, &register)).await;
    assert_eq!(r.status(), 200);
    assert!(body_text(&r).contains("id=\"message\""));
    jar.take(&r);
    assert!(jar.get("__Host-tobira-claim").is_none());
    h.link_token("page.owner@example.jp", "/password/reset")
        .await;

    // Without a claim the registration page says to start again.
    assert_eq!(h.send(get("/claim/register")).await.status(), 401);
}

// ------------------------------------------------------------------ RST-4

// RST-4
#[tokio::test]
async fn rst_4_identity_entry_after_window_mails_link_and_answer_is_identical() {
    let h = Harness::with_config(window_config());
    h.migrate(&sample_records()).await;
    h.app.close_window(false, &ctx()).await.unwrap();
    let notices = h.mails().await.len();
    h.assert_mailed(TARO, "/password/forgot").await;

    let matching = json!({
        "login_id": "Taro.Yamada@example.co.jp", "email": "TARO.YAMADA@example.co.jp",
        "name": "山田　太郎", "phone": "03-1234-5678",
    });
    let answer = status_and_body(&h.send(forgot_req(&matching)).await);
    assert_eq!(answer, (202, json!({ "next": "mail" })));
    let token = h.link_token(TARO, "/password/reset").await;
    assert_eq!(h.mails().await.len(), notices + 1, "one mail, to the match");

    for other in [
        json!({ "login_id": TARO, "email": TARO, "name": "山田 太郎", "phone": "0312345678" }),
        json!({ "login_id": TARO, "email": TARO, "name": "山田　太郎", "phone": "0312345679" }),
        json!({ "login_id": TARO, "email": "other@example.co.jp", "name": "山田　太郎", "phone": "0312345678" }),
        json!({ "login_id": TARO, "email": TARO }),
        json!({ "login_id": "nobody@example.co.jp", "email": "nobody@example.co.jp", "name": "x", "phone": "0312345678" }),
        json!({ "login_id": " ", "email": "x" }),
    ] {
        let r = h.send(forgot_req(&other)).await;
        assert_eq!(status_and_body(&r), answer, "{other}");
    }
    assert_eq!(h.mails().await.len(), notices + 1, "no mail for a mismatch");

    // The link's page: a form, no referrer.
    let r = h.send(get(&format!("/password/reset?token={token}"))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    let html = body_text(&r);
    assert!(html.contains("action=\"/password/reset\""));
    assert_eq!(hidden(&html, "token"), token);
    let r = h.send(get("/password/reset?token=not-a-token")).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");

    // The link sets the first password, once; then sign-in works.
    let r = h.send(reset_req(&token, "Tobira-Door42")).await;
    assert_eq!(status_and_body(&r), (200, json!({ "next": "login" })));
    assert_eq!(
        h.send(reset_req(&token, "Tobira-Door42")).await.status(),
        400
    );
    let r = h.send(login_req(TARO, "Tobira-Door42")).await;
    assert_eq!(r.status(), 200, "{}", body_text(&r));
}

// RST-4
#[tokio::test]
async fn rst_4_pages_forgot_and_reset_work_without_javascript() {
    let h = Harness::with_config(window_config());
    h.migrate(&sample_records()).await;
    h.app.close_window(false, &ctx()).await.unwrap();
    let mut jar = Jar::default();

    // The sign-in page leads here, in both languages.
    let html = body_text(&h.send(get("/login")).await);
    assert!(html.contains("href=\"/password/forgot\""));
    assert!(html.contains("初めての方・パスワードをお忘れの方"));
    assert!(html.contains("href=\"/claim\""));
    let html = body_text(&h.send(get("/login?lang=en")).await);
    assert!(html.contains("First time or forgot your password"));

    let r = h.send(get("/password/forgot")).await;
    assert_eq!(r.status(), 200);
    let html = body_text(&r);
    assert!(crate::support::only_portal_script(&html));
    assert!(html.contains("action=\"/password/forgot\""));
    for field in ["login_id", "email", "name", "phone"] {
        assert!(html.contains(&format!("name=\"{field}\"")), "{field}");
    }
    assert!(html.contains("移行期間"), "explains who it is for");
    jar.take(&r);
    let csrf = hidden(&html, "csrf");

    let entry = |name| {
        [
            ("login_id", TARO),
            ("email", TARO),
            ("name", name),
            ("phone", "03-1234-5678"),
        ]
    };
    let form = |name| csrf_form("/password/forgot", &csrf, &entry(name));
    assert_eq!(h.send(form("山田　太郎")).await.status(), 403);

    let mails = h.mails().await.len();
    let wrong = h.send(jar.apply(form("山田 太郎"))).await;
    let right = h.send(jar.apply(form("山田　太郎"))).await;
    assert_eq!(right.status(), 200);
    assert_eq!(wrong.status(), right.status());
    assert_eq!(
        body_text(&wrong),
        body_text(&right),
        "the same page either way"
    );
    assert_eq!(h.mails().await.len(), mails + 1);
    let token = h.link_token(TARO, "/password/reset").await;

    let r = h
        .send(jar.apply(get(&format!("/password/reset?token={token}"))))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    let post = |pw: &str, confirm: &str| {
        let fields = [
            ("token", token.as_str()),
            ("password", pw),
            ("password_confirm", confirm),
        ];
        jar.form("/password/reset", &csrf, &fields)
    };
    let r = h.send(post("Tobira-Door42", "Tobira-Door43")).await;
    assert_eq!(r.status(), 400);
    assert!(body_text(&r).contains("id=\"form-error\""));
    let r = h.send(post("abc", "abc")).await;
    assert_eq!(r.status(), 400);
    let html = body_text(&r);
    for code in ["length", "upper", "digit"] {
        assert!(html.contains(&format!("data-unmet=\"{code}\"")), "{code}");
    }
    assert_eq!(hidden(&html, "token"), token, "the form keeps the link");
    let r = h.send(post("Tobira-Door42", "Tobira-Door42")).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login?setup=done");

    // Signed in through the page: to the second-factor choice.
    let login = [("login_id", TARO), ("password", "Tobira-Door42")];
    let r = h.send(jar.form("/login", &csrf, &login)).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/enroll");
}
