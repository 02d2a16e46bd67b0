//! SES-2 as the route table states it: every route names the session
//! stages it serves (`tobira_web::routes::Access`), and a session at any
//! other stage is refused — 403 `forbidden` from the JSON API; a page (a
//! GET or a form post) never serves it either, but sends the session on to
//! its own step (303) or refuses it (403).

use serde_json::{json, Value};
use tobira::session::Stage;
use tobira_web::routes::{Access, ROUTES};

use crate::mfa_support::{totp_user, PW};
use crate::portal_support::{session_cookie, with_cookie};
use crate::support::{csrf_form, get, json_req, Harness};

const STAGES: [Stage; 4] = [Stage::Mfa, Stage::Enroll, Stage::Terms, Stage::Full];
const CASE: &str = "01JDQ3ZV8K9M2N4P6R8T0V2X4Y";

/// The fields each page's form post parses (besides its CSRF token), so
/// that what answers is the stage check.
fn fields(path: &str) -> Vec<(&'static str, &'static str)> {
    match path {
        "/login/mfa" => vec![("method", "totp"), ("code", "123456")],
        "/terms" => vec![("version", "2024-07"), ("agree", "true")],
        "/otp/email" | "/otp/sms" | "/otp/voice" => vec![("purpose", "login")],
        "/otp/sms/verify" | "/otp/voice/verify" | "/enroll/totp/confirm" | "/enroll/email" => {
            vec![("code", "123456")]
        }
        "/enroll/passkey" | "/login/passkey" => vec![("credential", "{}")],
        "/passkeys/{id}/rename" => vec![("name", "n")],
        "/enroll/recovery/ack" => vec![("recorded", "true")],
        "/mfa/recovery/regenerate" => vec![("password", PW)],
        "/password/change" => vec![
            ("current_password", PW),
            ("password", "Kumo-Tori-Ame7"),
            ("password_confirm", "Kumo-Tori-Ame7"),
        ],
        "/cases/new" => vec![
            ("kind", "inquiry"),
            ("category", "その他"),
            ("subject", "s"),
            ("body", "b"),
        ],
        "/cases/{id}/comments" => vec![("body", "b")],
        _ => vec![],
    }
}

/// A body each POST route parses, so that what answers is the stage check.
fn body(path: &str) -> Value {
    match path {
        "/api/login/mfa" => json!({ "method": "totp", "code": "123456" }),
        "/api/terms/accept" => json!({ "version": "2024-07" }),
        "/api/otp/email" => json!({ "purpose": "login" }),
        "/api/otp/sms" | "/api/otp/voice" => json!({ "purpose": "login" }),
        "/api/otp/sms/verify"
        | "/api/otp/voice/verify"
        | "/api/mfa/totp/confirm"
        | "/api/mfa/email" => {
            json!({ "code": "123456" })
        }
        "/api/mfa/recovery/regenerate" => json!({ "password": PW }),
        "/api/mfa/recovery/ack" => json!({ "recorded": true }),
        "/api/password/change" => {
            json!({ "current_password": PW, "new_password": "Kumo-Tori-Ame7" })
        }
        "/api/cases" => {
            json!({ "kind": "inquiry", "category": "その他", "subject": "s", "body": "b" })
        }
        "/api/cases/{id}/comments" => json!({ "body": "b" }),
        "/api/passkeys/{id}/rename" => json!({ "name": "n" }),
        "/api/passkeys/register/finish" => {
            json!({ "id": "x", "rawId": "x", "type": "public-key", "response": {} })
        }
        _ => json!({}),
    }
}

// SES-2
#[tokio::test]
async fn ses_2_every_route_refuses_the_stages_the_route_table_does_not_name() {
    let h = Harness::new();
    totp_user(&h, "stages@example.com").await;
    let mut refused = 0;
    for stage in STAGES {
        for r in ROUTES {
            if r.access.serves(stage) {
                continue;
            }
            let Access::Stages(_) = r.access else {
                unreachable!("an open route serves every stage")
            };
            // A fresh session for every request: a refusal may end it.
            let cookie = session_cookie(&h, "stages@example.com", stage).await;
            let path = r.path.replace("{id}", CASE);
            let req = match (r.method, path.starts_with("/api/")) {
                ("GET", _) => get(&path),
                ("POST", true) => json_req("POST", &path, &body(r.path).to_string()),
                // A page's form post, with the token this session's pages carry.
                _ => {
                    let page = with_cookie(get("/"), &cookie);
                    let csrf = tobira_web::csrf::Csrf::for_page(&h.app, &page).token;
                    csrf_form(&path, &csrf, &fields(r.path))
                }
            };
            let resp = h.send(with_cookie(req, &cookie)).await;
            let status = resp.status().as_u16();
            if path.starts_with("/api/") {
                assert_eq!(status, 403, "{} {} at {stage:?}", r.method, r.path);
            } else {
                assert!(
                    status == 303 || status == 403,
                    "{} {} at {stage:?} answered {status}",
                    r.method,
                    r.path
                );
            }
            refused += 1;
        }
    }
    assert!(refused > 100, "only {refused} refusals checked");
}

// SES-2: the table agrees with what the API document says of the stages.
#[test]
fn ses_2_the_route_table_names_stages_for_every_signed_in_route() {
    let open: Vec<&str> = ROUTES
        .iter()
        .filter(|r| r.access == Access::Open && r.path.starts_with("/api/"))
        .map(|r| r.path)
        .collect();
    assert_eq!(
        open,
        [
            "/api/login",
            "/api/logout",
            "/api/setup/verify",
            "/api/setup/password",
            "/api/setup/resend",
            "/api/setup/identity",
            "/api/setup/identity",
            "/api/claim",
            "/api/claim/register",
            // MFA-10: the second step with a passkey, or passwordless.
            "/api/login/passkey/begin",
            "/api/login/passkey/finish",
            "/api/password/forgot",
            "/api/password/reset",
        ]
    );
}
