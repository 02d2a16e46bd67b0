//! Bad input answers 400 with the API error body and changes nothing.

use crate::support::{body_json, json_req, Harness};

#[tokio::test]
async fn bad_json_unknown_fields_wrong_types_oversize_and_content_type_are_400_and_change_nothing()
{
    let h = Harness::new();
    h.active_user("bad@example.com", "Tobira-Door42").await;
    let before = h.memory.snapshot();
    let big = format!(r#"{{"login_id":"{}","password":"x"}}"#, "a".repeat(20_000));
    const JSON: &str = "application/json";
    // Malformed, unknown or repeated fields, wrong types, missing fields.
    let invalid_json = [
        ("/api/login", "{not json"),
        (
            "/api/login",
            r#"{"login_id":"a","password":"b","admin":true}"#,
        ),
        ("/api/login", r#"{"login_id":1,"password":"b"}"#),
        // A struct's fields as an array: serde would read it; no client sends it.
        ("/api/login", r#"["a@example.com","b"]"#),
        ("/api/login/passkey/begin", "[null, null]"),
        (
            "/api/login",
            r#"{"login_id":"a","login_id":"b","password":"c"}"#,
        ),
        ("/api/login", r#"{"login_id":"a"}"#),
        (
            "/api/setup/verify",
            r#"{"token":"t","email":"e","name":"n"}"#,
        ),
        ("/api/setup/password", r#"{"password":["x"]}"#),
        ("/api/setup/resend", "[]"),
    ];
    let mut cases: Vec<(&str, &str, String, &str)> = invalid_json
        .into_iter()
        .map(|(path, body)| (path, JSON, body.to_string(), "invalid_json"))
        .collect();
    let login = r#"{"login_id":"a","password":"b"}"#;
    cases.extend([
        ("/api/login", JSON, big, "body_too_large"),
        (
            "/api/login",
            "text/plain",
            login.into(),
            "unsupported_content_type",
        ),
        (
            "/api/login",
            "application/x-www-form-urlencoded",
            "login_id=a&password=b".into(),
            "unsupported_content_type",
        ),
    ]);
    for (path, ct, body, code) in cases {
        let mut req = json_req("POST", path, &body);
        req.headers_mut()
            .insert("content-type", ct.parse().unwrap());
        let r = h.send(req).await;
        assert_eq!(
            r.status(),
            400,
            "{path} {ct} {}",
            &body[..body.len().min(60)]
        );
        let b = body_json(&r);
        assert_eq!(b["error"], code, "{b}");
        assert!(b["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Audit aside (none was written for refused requests), the store is as it was.
    assert_eq!(h.memory.snapshot(), before);
}

#[tokio::test]
async fn unknown_api_route_is_404_with_the_error_body() {
    let h = Harness::new();
    let r = tobira_local::call_function(&h.app, "login", json_req("POST", "/api/nothing", "{}"))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(body_json(&r)["error"], "not_found");
}

/// Every path of the route table with each method it does not serve: every
/// function's handler and the local portal answer 405 with `Allow` naming
/// the methods the table serves there (the JSON error body under `/api/`, a
/// page elsewhere), never 404; the methods it serves still reach the handler.
#[tokio::test]
async fn undeclared_method_on_a_known_path_is_405_with_allow() {
    use tobira_web::routes::{function_for_path, matches, ROUTES};
    let h = Harness::new();
    let dir = std::env::temp_dir().join(format!("tobira-405-{}", std::process::id()));
    let local = tobira_local::Local::open(&dir, crate::support::test_config()).unwrap();
    let mut problems = Vec::new();
    let mut paths: Vec<String> = ROUTES
        .iter()
        .map(|r| r.path.replace("{id}", "01ABC"))
        .collect();
    paths.sort();
    paths.dedup();
    let mut checked = 0;
    for path in &paths {
        let mut allowed: Vec<&str> = ROUTES
            .iter()
            .filter(|r| matches(r.path, path))
            .map(|r| r.method)
            .collect();
        allowed.sort_unstable();
        allowed.dedup();
        let allow = allowed.join(", ");
        let function = function_for_path(path).unwrap();
        for method in [
            "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE",
        ] {
            let req = || json_req(method, &format!("{path}?lang=en"), "{}");
            let by_function = tobira_local::call_function(&h.app, function, req())
                .await
                .unwrap();
            let by_portal = tobira_local::dispatch(&local, req()).await;
            if allowed.contains(&method) {
                for (who, r) in [(function, &by_function), ("portal", &by_portal)] {
                    if r.status() == 405 {
                        problems.push(format!("{who}: {method} {path} is served, answered 405"));
                    }
                }
                continue;
            }
            checked += 1;
            for (who, r) in [(function, by_function), ("portal", by_portal)] {
                let got_allow = r.headers().get("allow").and_then(|v| v.to_str().ok());
                let content_type = r
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok());
                let ok = r.status() == 405
                    && got_allow == Some(allow.as_str())
                    && if path.starts_with("/api/") {
                        content_type == Some("application/json")
                            && body_json(&r)["error"] == "method_not_allowed"
                            && body_json(&r)["message"] == "This URL does not accept this method."
                    } else {
                        content_type.is_some_and(|c| c.starts_with("text/html"))
                    };
                if !ok {
                    problems.push(format!(
                        "{who}: {method} {path}: {} Allow {got_allow:?} ({content_type:?}), want 405 Allow {allow:?}",
                        r.status()
                    ));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        checked > 400,
        "only {checked} undeclared methods were tried"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// An API call's `?lang=` that names no language is refused (400
/// `invalid_lang`) in the language the caller gets without it, by every
/// function; the forms `Lang::parse` knows pass, and pages ignore a bad one.
#[tokio::test]
async fn unknown_lang_on_an_api_call_is_400_in_the_callers_language() {
    let h = Harness::new();
    let calls = [
        ("GET", "/api/me"),
        ("POST", "/api/login"),
        ("POST", "/api/setup/resend"),
        ("POST", "/api/otp/email"),
        ("POST", "/api/otp/sms"),
        ("POST", "/api/mfa/totp"),
        ("POST", "/api/password/forgot"),
        ("GET", "/api/cases"),
        ("GET", "/api/admin/users"),
    ];
    let mut functions = std::collections::BTreeSet::new();
    for (method, path) in calls {
        functions.insert(tobira_web::routes::function_for(method, path).unwrap());
        for (accept, message) in [
            (None, "lang には ja か en を指定してください。"),
            (Some("en-US,en;q=0.9"), "lang must be ja or en."),
        ] {
            for bad in ["fr", "", "AAA", "en-XX"] {
                let mut req = json_req(method, &format!("{path}?lang={bad}"), "{}");
                if let Some(a) = accept {
                    req.headers_mut()
                        .insert("accept-language", a.parse().unwrap());
                }
                let r = h.send(req).await;
                let b = body_json(&r);
                assert_eq!(
                    (
                        r.status().as_u16(),
                        b["error"].as_str(),
                        b["message"].as_str()
                    ),
                    (400, Some("invalid_lang"), Some(message)),
                    "{method} {path}?lang={bad} ({accept:?})"
                );
            }
        }
        for good in ["ja", "en", "EN", "ja-JP", "en-gb"] {
            let r = h
                .send(json_req(method, &format!("{path}?lang={good}"), "{}"))
                .await;
            assert_ne!(
                body_json(&r)["error"],
                "invalid_lang",
                "{method} {path}?lang={good}"
            );
        }
    }
    assert_eq!(
        functions.len(),
        tobira_web::routes::FUNCTIONS.len() - 1,
        "every HTTP function is asked"
    );
    let page = h.send(crate::support::get("/login?lang=fr")).await;
    assert_eq!(page.status(), 200);
}
