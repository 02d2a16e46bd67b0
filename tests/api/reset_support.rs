//! What the tests of password resets (RST-1..5, PW-2..5) share.

use serde_json::{json, Value};

use crate::support::{body_json, body_text, json_req, Harness};

pub const NEW_PW: &str = "Kumo-Tori-Ame7";

/// Every mail to `to` whose subject contains `subject`.
pub fn mails(h: &Harness, to: &str, subject: &str) -> Vec<tobira::delivery::Mail> {
    h.outbox
        .mails()
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

pub async fn reset(h: &Harness, token: &str, pw: &str) -> (u16, Value) {
    let body = json!({ "token": token, "password": pw }).to_string();
    let r = h.send(json_req("POST", "/api/password/reset", &body)).await;
    (r.status().as_u16(), body_json(&r))
}
