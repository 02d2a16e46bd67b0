//! Every sample event in `events/` replayed through its function's handler,
//! exactly as Lambda would deliver it (API Gateway HTTP API v2 payloads,
//! EventBridge and ops events for migrate-batch).

use serde_json::Value;

use crate::support::Harness;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/events");

/// Expected status on an empty store, per HTTP event file.
const HTTP: &[(&str, &str, u16)] = &[
    ("login", "post-login.json", 401),
    ("login", "get-login-page.json", 200),
    ("login", "get-me.json", 401),
    ("login", "post-login-mfa.json", 401),
    ("login", "post-terms-accept.json", 401),
    // MFA-10: a passwordless begin reads nothing and answers the options;
    // an assertion of no ceremony signs nobody in.
    ("login", "post-passkey-begin.json", 200),
    ("login", "post-passkey-finish.json", 401),
    ("enroll-totp", "post-passkey-register-begin.json", 401),
    ("send-mail-otp", "post-otp-email.json", 401),
    ("sms-otp", "post-otp-sms.json", 401),
    ("sms-otp", "post-otp-sms-verify.json", 401),
    ("sms-otp", "post-otp-voice.json", 401),
    ("enroll-totp", "post-mfa-totp.json", 401),
    ("enroll-totp", "post-mfa-totp-confirm.json", 401),
    ("verify-identity", "post-setup-verify.json", 400),
    ("verify-identity", "post-setup-resend.json", 202),
    ("verify-identity", "get-setup-page.json", 400),
    ("verify-identity", "get-setup-identity.json", 401),
    ("verify-identity", "post-setup-identity.json", 401),
    ("verify-identity", "get-claim-page.json", 200),
    ("verify-identity", "post-claim.json", 401),
    ("verify-identity", "post-claim-register.json", 401),
    ("enroll-totp", "get-enroll.json", 303),
    ("reset-password", "post-forgot.json", 202),
    ("reset-password", "post-reset.json", 400),
    ("reset-password", "post-change.json", 401),
    ("reset-password", "get-forgot-page.json", 200),
    ("reset-password", "get-reset-page.json", 400),
    ("create-case", "post-case.json", 401),
    ("create-case", "get-cases.json", 401),
    ("create-case", "get-case.json", 401),
    ("create-case", "post-case-comment.json", 401),
    ("create-case", "post-case-close.json", 401),
    ("create-case", "get-cases-page.json", 303),
    // CASE-6: S3's redirect after an upload, without the Strict session
    // cookie: the page that sends the browser on from the portal's origin.
    ("create-case", "get-attachment-confirm.json", 200),
    ("manage-users", "get-admin-users.json", 401),
    ("manage-users", "post-admin-user-disable.json", 401),
    // API Gateway's $default route: a known path with another method.
    ("login", "default-route-put-api-login.json", 405),
];

fn files() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in std::fs::read_dir(ROOT).unwrap() {
        let dir = f.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json") {
                out.push((
                    dir.file_name().unwrap().to_string_lossy().into(),
                    p.file_name().unwrap().to_string_lossy().into(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn every_function_has_a_sample_event() {
    let have: Vec<String> = files().into_iter().map(|(f, _)| f).collect();
    for f in tobira_web::routes::FUNCTIONS {
        assert!(have.iter().any(|h| h == f), "no sample event for {f}");
    }
}

#[tokio::test]
async fn http_events_replay_through_their_handlers() {
    for (function, file) in files().into_iter().filter(|(f, _)| f != "migrate-batch") {
        let h = Harness::new();
        let event = std::fs::read_to_string(format!("{ROOT}/{function}/{file}")).unwrap();
        let parsed: Value = serde_json::from_str(&event).unwrap();
        assert_eq!(parsed["version"], "2.0", "{file} is an HTTP API v2 payload");
        let answer = tobira_local::invoke(&h.app, &function, &event)
            .await
            .unwrap_or_else(|e| panic!("{function}/{file}: {e}"));
        let status = answer["statusCode"].as_u64().unwrap() as u16;
        let expected = HTTP
            .iter()
            .find(|(f, n, _)| *f == function && *n == file)
            .map_or(404, |(_, _, s)| *s);
        assert_eq!(status, expected, "{function}/{file}: {answer}");
        // The route the event names is the function's.
        let route_key = parsed["routeKey"].as_str().unwrap();
        if route_key == "$default" {
            assert_eq!(function, tobira_web::routes::FALLBACK, "{file}");
            let allow = answer["headers"]["allow"].as_str().unwrap_or_default();
            assert_eq!(allow, "POST", "{file}: {answer}");
            continue;
        }
        let (method, path) = route_key.split_once(' ').unwrap();
        let live = tobira_web::routes::ROUTES
            .iter()
            .any(|r| r.method == method && r.path == path && r.function == function);
        assert!(live, "{route_key} is not a route of {function}");
    }
}

#[tokio::test]
async fn migrate_batch_events_replay_in_order() {
    let h = Harness::new();
    let run = |name: &str| {
        let text = std::fs::read_to_string(format!("{ROOT}/migrate-batch/{name}")).unwrap();
        let app = h.app.clone();
        async move {
            tobira_local::invoke(&app, "migrate-batch", &text)
                .await
                .unwrap()
        }
    };
    assert_eq!(run("scheduled.json").await["counts"]["migrated"], 0);
    for file in ["stream.json", "deliver-notices.json"] {
        let r = run(file).await;
        assert_eq!(
            (r["action"].as_str(), r["sent"].as_u64()),
            (Some("deliver-notices"), Some(0)),
            "{file}"
        );
    }
    assert_eq!(
        run("dead-notices.json").await["notices"],
        serde_json::json!([])
    );
    assert_eq!(run("continue.json").await["action"], "continue");
    assert_eq!(run("import.json").await["counts"]["staged"], 2);
    assert_eq!(
        run("plan.json").await["records"].as_array().unwrap().len(),
        2
    );
    assert_eq!(run("apply-dry-run.json").await["dry_run"], true);
    assert_eq!(run("status.json").await["counts"]["pending"], 2);
    // Two records, in one chunk across both tenants.
    let chunks = run("apply-chunks.json").await;
    assert_eq!(
        chunks["chunks"].as_array().map(Vec::len),
        Some(1),
        "{chunks}"
    );
    assert_eq!(chunks["chunks"][0]["span"], true);
    let applied = run("apply.json").await;
    assert_eq!(applied["records"].as_array().unwrap().len(), 2);
    assert_eq!(run("send-setup-links.json").await["sent"], 2);
    assert_eq!(h.mails().await.len(), 2);
    assert_eq!(run("status.json").await["counts"]["migrated"], 2);
    // ADM-3, ADM-7 from the console, on the users just migrated (pending).
    for (file, status) in [
        ("user-disable.json", "disabled"),
        ("user-enable.json", "pending"),
        ("user-unlock.json", "pending"),
        ("user-reset-factors.json", "pending"),
    ] {
        assert_eq!(run(file).await["status"], status, "{file}");
    }
    // The desk's events name a case number: none exists on this store.
    for file in [
        "case-update.json",
        "case-decision.json",
        "case-monthly-report.json",
        "case-attach.json",
    ] {
        let text = std::fs::read_to_string(format!("{ROOT}/migrate-batch/{file}")).unwrap();
        let err = tobira_local::invoke(&h.app, "migrate-batch", &text)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not_found"), "{file}: {err}");
    }
}
