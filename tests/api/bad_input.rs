//! Bad input answers 400 with the API error body and changes nothing.

use crate::support::{body_json, json_req, Harness};

#[tokio::test]
async fn bad_json_unknown_fields_wrong_types_oversize_and_content_type_are_400_and_change_nothing()
{
    let h = Harness::new();
    h.active_user("bad@example.com", "Tobira-Door42").await;
    let before = h.memory.snapshot();
    let big = format!(r#"{{"login_id":"{}","password":"x"}}"#, "a".repeat(20_000));
    let cases: Vec<(&str, &str, String, &str)> = vec![
        (
            "/api/login",
            "application/json",
            "{not json".into(),
            "invalid_json",
        ),
        (
            "/api/login",
            "application/json",
            r#"{"login_id":"a","password":"b","admin":true}"#.into(),
            "invalid_json",
        ),
        (
            "/api/login",
            "application/json",
            r#"{"login_id":1,"password":"b"}"#.into(),
            "invalid_json",
        ),
        (
            "/api/login",
            "application/json",
            r#"{"login_id":"a","login_id":"b","password":"c"}"#.into(),
            "invalid_json",
        ),
        (
            "/api/login",
            "application/json",
            r#"{"login_id":"a"}"#.into(),
            "invalid_json",
        ),
        ("/api/login", "application/json", big, "body_too_large"),
        (
            "/api/login",
            "text/plain",
            r#"{"login_id":"a","password":"b"}"#.into(),
            "unsupported_content_type",
        ),
        (
            "/api/login",
            "application/x-www-form-urlencoded",
            "login_id=a&password=b".into(),
            "unsupported_content_type",
        ),
        (
            "/api/setup/verify",
            "application/json",
            r#"{"token":"t","email":"e","name":"n"}"#.into(),
            "invalid_json",
        ),
        (
            "/api/setup/password",
            "application/json",
            r#"{"password":["x"]}"#.into(),
            "invalid_json",
        ),
        (
            "/api/setup/resend",
            "application/json",
            r#"[]"#.into(),
            "invalid_json",
        ),
    ];
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
