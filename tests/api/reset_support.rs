//! What the tests of password resets (RST-1..5, PW-2..5) share.

use serde_json::{json, Value};

use crate::mfa_support::PW;
use crate::support::{body_json, body_text, json_req, Harness};

pub const NEW_PW: &str = "Kumo-Tori-Ame7";

/// Every mail to `to` whose subject contains `subject`.
pub async fn mails(h: &Harness, to: &str, subject: &str) -> Vec<tobira::delivery::Mail> {
    h.mails()
        .await
        .into_iter()
        .filter(|m| m.to == to && m.subject.contains(subject))
        .collect()
}

pub async fn forgot(h: &Harness, login: &str, email: &str) -> (u16, String) {
    let body = json!({ "login_id": login, "email": email }).to_string();
    let r = h
        .send(json_req("POST", "/api/password/forgot", &body))
        .await;
    (r.status().as_u16(), body_text(&r))
}

/// `login` (its e-mail address too) asks for a password link through the
/// API; the link's token.
pub async fn reset_link(h: &Harness, login: &str) -> String {
    forgot(h, login, login).await;
    h.link_token(login, "/password/reset").await
}

/// An active user `login` with the password [`PW`] and a password link.
pub async fn user_with_reset_link(h: &Harness, login: &str) -> String {
    h.active_user(login, PW).await;
    reset_link(h, login).await
}

/// A user an administrator creates (ADM-1): tenant B, English, TOTP preset.
pub fn admin_made() -> tobira::admin::NewUser<'static> {
    tobira::admin::NewUser {
        tenant_id: "econ9000000002",
        name: "Admin Made",
        email: "made@example.com",
        phone: "090-1234-5678",
        lang: tobira_web::i18n::Lang::En,
        method: Some("totp"),
        role: tobira::model::Role::General,
        ..Default::default()
    }
}

pub async fn reset(h: &Harness, token: &str, pw: &str) -> (u16, Value) {
    let body = json!({ "token": token, "password": pw }).to_string();
    let r = h.send(json_req("POST", "/api/password/reset", &body)).await;
    (r.status().as_u16(), body_json(&r))
}
