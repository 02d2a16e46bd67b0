//! SES-3 (issue 13, item 9): cross-site requests are refused, on the JSON
//! API as on the pages, and a page's CSRF token is one the server issued
//! for this session (or this browser before sign-in), never one the client
//! chose.

use std::time::Duration;

use serde_json::json;

use crate::mfa_support::{full_client, totp_code, totp_user, Client, PW};
use crate::support::{body_json, body_text, form_req, get, hidden, json_req, Harness, Jar};
use tobira_web::web::{Body, Request};

const ELSEWHERE: &str = "https://evil.example";
const PORTAL: &str = "https://portal.example.com";

fn with(mut req: Request, headers: &[(&'static str, &str)]) -> Request {
    for (k, v) in headers {
        req.headers_mut().insert(*k, v.parse().unwrap());
    }
    req
}

/// A body-less `POST` with the given content type (or none).
fn bare_post(path: &str, content_type: Option<&str>) -> Request {
    let mut b = http::Request::builder().method("POST").uri(path);
    if let Some(ct) = content_type {
        b = b.header("content-type", ct);
    }
    b.body(Body::Empty).unwrap()
}

/// The CSRF field of the page at `path`, as a browser with `jar` sees it.
async fn token_of(h: &Harness, jar: &mut Jar, path: &str) -> String {
    let r = h.send(jar.apply(get(path))).await;
    assert_eq!(r.status(), 200, "{path}");
    jar.take(&r);
    hidden(&body_text(&r), "csrf")
}

#[tokio::test]
async fn ses_3_cross_site_json_api_posts_are_refused() {
    let h = Harness::new();
    let (secret, _) = totp_user(&h, "api@example.com").await;
    let c = full_client(&h, "api@example.com", &secret).await;
    let forget = || c.jar.apply(json_req("POST", "/api/devices/forget", "{}"));

    for headers in [
        vec![("origin", ELSEWHERE)],
        vec![("origin", "null"), ("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", PORTAL), ("sec-fetch-site", "cross-site")],
    ] {
        let r = h.send(with(forget(), &headers)).await;
        assert_eq!(r.status(), 403, "{headers:?}");
        assert_eq!(body_json(&r)["error"], "forbidden");
    }
    // Before sign-in too: a login from another site is not even tried.
    let login = json_req(
        "POST",
        "/api/login",
        &json!({ "login_id": "api@example.com", "password": PW }).to_string(),
    );
    let r = h.send(with(login, &[("origin", ELSEWHERE)])).await;
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("set-cookie").is_none());

    // Body-less posts must still say JSON: a form or `text/plain` (what a
    // cross-site form or simple `fetch` can send) is refused.
    for path in ["/api/devices/forget", "/api/mfa/totp", "/api/logout"] {
        for ct in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            None,
        ] {
            let r = h.send(c.jar.apply(bare_post(path, ct))).await;
            assert_eq!(r.status(), 400, "{path} {ct:?}");
            assert_eq!(body_json(&r)["error"], "unsupported_content_type");
        }
    }
    assert!(c.session().is_some(), "still signed in");

    // The portal's own origin, a typed URL (`none`) and a client that sends
    // neither header all pass.
    // `Origin: null` is what a browser sends for any form post from a page
    // with `Referrer-Policy: no-referrer` (ours): `Sec-Fetch-Site` decides.
    for headers in [
        vec![("origin", PORTAL), ("sec-fetch-site", "same-origin")],
        vec![("origin", "null"), ("sec-fetch-site", "same-origin")],
        vec![("sec-fetch-site", "none")],
        vec![],
    ] {
        let r = h.send(with(forget(), &headers)).await;
        assert_eq!(r.status(), 204, "{headers:?}");
    }
    let r = h
        .send(
            c.jar
                .apply(bare_post("/api/devices/forget", Some("application/json"))),
        )
        .await;
    assert_eq!(r.status(), 204, "an empty JSON body");
}

#[tokio::test]
async fn ses_3_cross_site_page_posts_are_refused() {
    let h = Harness::new();
    h.active_user("page@example.com", PW).await;
    let mut jar = Jar::default();
    let csrf = token_of(&h, &mut jar, "/login").await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("login_id", "page@example.com"),
        ("password", PW),
    ];
    for headers in [
        vec![("origin", ELSEWHERE)],
        vec![("sec-fetch-site", "cross-site")],
    ] {
        let r = h
            .send(with(jar.apply(form_req("/login", &fields)), &headers))
            .await;
        assert_eq!(r.status(), 403, "{headers:?}");
        assert!(body_text(&r).contains("<html"), "a page, not JSON");
        assert!(r.headers().get("set-cookie").is_none(), "not signed in");
    }
    let same = [("origin", PORTAL), ("sec-fetch-site", "same-origin")];
    let r = h
        .send(with(jar.apply(form_req("/login", &fields)), &same))
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/enroll");
}

#[tokio::test]
async fn ses_3_a_csrf_cookie_the_client_chose_is_not_adopted() {
    let h = Harness::new();
    h.active_user("chosen@example.com", PW).await;
    // The attacker's value, planted as the cookie and sent as the field
    // (double submit): refused, and no page adopts it.
    let chosen = "A".repeat(43);
    let forged_mac = format!("{chosen}.{}", "B".repeat(43));
    for value in [chosen.as_str(), forged_mac.as_str()] {
        let mut jar = Jar::default();
        jar.0.insert("__Host-tobira-csrf".into(), value.into());
        let fields = [
            ("csrf", value),
            ("login_id", "chosen@example.com"),
            ("password", PW),
        ];
        let r = h.send(jar.apply(form_req("/login", &fields))).await;
        assert_eq!(r.status(), 403, "{value}");
        let page_token = token_of(&h, &mut jar, "/login").await;
        assert_ne!(page_token, value, "the page issues its own token");
        assert_ne!(jar.get("__Host-tobira-csrf").unwrap(), value);
        // The token the server issued works.
        let fields = [
            ("csrf", page_token.as_str()),
            ("login_id", "chosen@example.com"),
            ("password", PW),
        ];
        let r = h.send(jar.apply(form_req("/login", &fields))).await;
        assert_eq!(r.status(), 303);
    }
}

/// `c` signs in to the full stage with TOTP (terms accepted).
async fn sign_in_full(c: &mut Client<'_>, login: &str, secret: &str) {
    assert_eq!(c.login(login, PW).await.1["next"], "mfa");
    let code = totp_code(c.h, secret, 0);
    let (s, b) = c.mfa("totp", &code).await;
    assert_eq!(s, 200, "{b}");
    if b["next"] == "terms" {
        let (s, _) = c.accept_terms("2024-07").await;
        assert_eq!(s, 200);
    }
    c.h.advance(Duration::from_secs(30));
}

#[tokio::test]
async fn ses_3_a_sessions_csrf_token_does_not_work_with_another_session() {
    let h = Harness::new();
    let (secret_a, _) = totp_user(&h, "a@example.com").await;
    let (secret_b, _) = totp_user(&h, "bee@example.com").await;
    let forget =
        |jar: &Jar, token: &str| jar.apply(form_req("/devices/forget", &[("csrf", token)]));

    // One browser: A signs in, reads the dashboard's token and signs out;
    // B signs in on the same browser. A's token does not work for B.
    let mut c = Client::new(&h);
    sign_in_full(&mut c, "a@example.com", &secret_a).await;
    let token_a = token_of(&h, &mut c.jar, "/").await;
    assert_eq!(c.post("/api/logout", json!({})).await.0, 204);
    sign_in_full(&mut c, "bee@example.com", &secret_b).await;
    let r = h.send(forget(&c.jar, &token_a)).await;
    assert_eq!(r.status(), 403, "A's token in B's session");
    let token_b = token_of(&h, &mut c.jar, "/").await;
    assert_ne!(token_b, token_a);

    // Another browser, another session of B: B's first token does not work.
    let mut d = Client::new(&h);
    sign_in_full(&mut d, "bee@example.com", &secret_b).await;
    let r = h.send(forget(&d.jar, &token_b)).await;
    assert_eq!(r.status(), 403, "one session's token in another session");

    // Each session's own token works.
    let r = h.send(forget(&c.jar, &token_b)).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/?notice=forgotten");
    let token_d = token_of(&h, &mut d.jar, "/").await;
    assert_eq!(h.send(forget(&d.jar, &token_d)).await.status(), 303);
}

// SES-3: locally, `/_dev/invoke` runs operators' events (link-services can
// merge accounts): a page of another site open in the developer's browser
// must not run them.
#[tokio::test]
async fn ses_3_dev_invoke_refuses_a_cross_site_post() {
    let dir = std::env::temp_dir().join(format!("tobira-dev-invoke-{}", std::process::id()));
    let local = tobira_local::Local::open(&dir, crate::support::test_config()).unwrap();
    let post = |origin: Option<&str>, site: Option<&str>| {
        let mut b = http::Request::builder()
            .method("POST")
            .uri("/_dev/invoke/migrate-batch")
            .header("content-type", "text/plain");
        if let Some(o) = origin {
            b = b.header("origin", o);
        }
        if let Some(s) = site {
            b = b.header("sec-fetch-site", s);
        }
        b.body(tobira_web::web::Body::Text(r#"{"action":"status"}"#.into()))
            .unwrap()
    };
    let cross = tobira_local::dispatch(&local, post(Some("https://evil.example"), None)).await;
    let site = tobira_local::dispatch(&local, post(None, Some("cross-site"))).await;
    // curl and the CLI send neither header.
    let curl = tobira_local::dispatch(&local, post(None, None)).await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(cross.status(), 403);
    assert_eq!(site.status(), 403);
    assert_eq!(curl.status(), 200);
}
