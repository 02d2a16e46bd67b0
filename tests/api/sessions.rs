//! Sessions at the edge: what a half-signed-in session may read (SES-2)
//! and links built from a request's path (SES-3).

use std::time::Duration;

use serde_json::{json, Value};

use crate::mfa_support::{totp_code, totp_user, Client, PW};
use crate::support::{body_json, Harness};

/// The personal fields a full session's `/api/me` carries.
fn personal(me: &Value, login: &str) -> Vec<String> {
    let text = me.to_string();
    let mut found: Vec<String> = ["user", "tenant", "name", "email", "login_id"]
        .into_iter()
        .filter(|k| me.get(k).is_some())
        .map(String::from)
        .collect();
    for needle in [login, "Test User", "econ9000000001"] {
        if text.contains(needle) {
            found.push(needle.to_string());
        }
    }
    found
}

// SES-2 (issue 13, item 10)
#[tokio::test]
async fn ses_2_half_signed_in_sessions_read_only_their_stage_and_next_step() {
    let h = Harness::new();
    // Stage `enroll`: a password and no factor yet.
    h.active_user("enrol@example.com", PW).await;
    let mut c = Client::new(&h);
    assert_eq!(c.login("enrol@example.com", PW).await.1["next"], "enroll");
    let r = c.get("/api/me").await;
    assert_eq!(r.status(), 200);
    let me = body_json(&r);
    assert_eq!(me, json!({ "stage": "enroll", "next": "enroll" }));

    // Stage `mfa`: a password and a factor to prove.
    let (secret, _) = totp_user(&h, "half@example.com").await;
    let mut c = Client::new(&h);
    assert_eq!(c.login("half@example.com", PW).await.1["next"], "mfa");
    let me = c.me().await;
    assert_eq!(
        me,
        json!({ "stage": "mfa", "next": "mfa", "methods": ["totp"] })
    );
    assert!(personal(&me, "half@example.com").is_empty(), "{me}");

    // Stage `terms`: the factor proved, the terms not yet accepted.
    let (s, b) = c.mfa("totp", &totp_code(&h, &secret, 0)).await;
    assert_eq!((s, b["next"].as_str()), (200, Some("terms")), "{b}");
    let me = c.me().await;
    assert_eq!(
        me,
        json!({ "stage": "terms", "next": "terms", "terms_version": "2024-07", "privacy_version": "2024-07" })
    );

    // A full session reads the user, the tenant and the methods.
    let (s, _) = c.accept_terms("2024-07").await;
    assert_eq!(s, 200);
    h.advance(Duration::from_secs(1));
    let me = c.me().await;
    assert_eq!(me["stage"], "full");
    assert_eq!(me["user"]["login_id"], "half@example.com");
    assert_eq!(me["tenant"]["id"], "econ9000000001");
    assert_eq!(me["methods"], json!(["totp"]));
}

/// Every link target in an answer: `href`, `action`, `Location`.
fn links(r: &tobira_web::web::Response) -> Vec<String> {
    let mut out: Vec<String> = r
        .headers()
        .get_all("location")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let html = crate::support::body_text(r);
    for attr in ["href=\"", "action=\"", "src=\""] {
        let mut rest = html.as_str();
        while let Some(at) = rest.find(attr) {
            rest = &rest[at + attr.len()..];
            let end = rest.find('"').unwrap();
            out.push(unescape(&rest[..end]));
            rest = &rest[end..];
        }
    }
    out
}

/// HTML character references as a browser reads them in an attribute.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';').map_or(rest.len(), |e| at + e);
        let name = &rest[at + 1..end];
        let c = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            _ => name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => out.push(c),
            None => out.push_str(&rest[at..=end.min(rest.len() - 1)]),
        }
        rest = &rest[(end + 1).min(rest.len())..];
    }
    out.push_str(rest);
    out
}

/// A link a browser resolves against the portal's own origin: a path with
/// exactly one leading `/`, or a query or fragment. What browsers ignore
/// (tabs, new lines) and `\` (read as `/`) must not hide a second slash.
fn same_origin(link: &str) -> bool {
    let seen: String = link
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    let seen = seen.trim_start_matches(|c: char| c <= ' ');
    seen.starts_with('?')
        || seen.starts_with('#')
        || (seen.starts_with('/') && !seen.starts_with("//"))
        || seen.starts_with("https://portal.example.com/")
}

// SES-3 (issue 13, item 7): no open redirect through a 404's links.
#[tokio::test]
async fn ses_3_open_redirect_a_404_links_only_to_the_portal() {
    let h = Harness::new();
    let dir = std::env::temp_dir().join(format!("tobira-open-redirect-{}", std::process::id()));
    let local = tobira_local::Local::open(&dir, crate::support::test_config()).unwrap();
    let paths = [
        "//evil.example/",
        "/\\evil.example/",
        "//evil.example/?lang=en",
        "/\\/evil.example/x?token=1",
        "///evil.example/",
        "//evil.example",
    ];
    for path in paths {
        let req = || {
            http::Request::builder()
                .method("GET")
                .uri(path)
                .body(tobira_web::web::Body::Empty)
                .unwrap()
        };
        let mut answers = vec![tobira_local::dispatch(&local, req()).await];
        for f in &tobira_web::routes::FUNCTIONS[..7] {
            answers.push(tobira_local::call_function(&h.app, f, req()).await.unwrap());
        }
        for r in answers {
            assert_eq!(r.status(), 404, "{path}");
            let found = links(&r);
            assert!(
                found.iter().any(|l| l.contains("lang=")),
                "{path}: no switch"
            );
            for l in found {
                assert!(same_origin(&l), "{path}: link {l:?} leaves the portal");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
