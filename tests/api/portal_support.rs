//! What the tests of the portal's routes (MIG-11, CLM-1..3, RST-4) share:
//! the legacy portal's key, the window, request builders.

use serde_json::{json, Value};
use tobira::ids::LoginId;
use tobira::session::Stage;
use tobira::Config;
use tobira_web::web::{Request, Response};

use crate::support::{body_json, json_req, Harness};

/// The legacy portal's key (its SHA-256 is what the deployment is given).
pub const PORTAL_KEY: &str = "legacy-portal-key-for-the-tests-4f1c9a";

pub const TARO: &str = "taro.yamada@example.co.jp";

pub const BCRYPT_SID: &str = "ca1234567890";

pub const BCRYPT_PW: &str = "Legacy-Pass1";

/// The window contains T0 (2026-11-21) and the legacy portal has a key.
pub fn window_config() -> Config {
    let mut c = crate::support::test_config();
    c.migration_window = Some(("2026-11-01".into(), "2026-11-30".into()));
    c.legacy_portal_key_sha256 = Some(tobira::random::token_hash(PORTAL_KEY));
    c
}

pub fn with_cookie(mut req: Request, cookie: &str) -> Request {
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    req
}

pub fn claim_req(service_id: &str, password: &str) -> Request {
    json_req(
        "POST",
        "/api/claim",
        &json!({ "service_id": service_id, "password": password }).to_string(),
    )
}

pub fn reset_req(token: &str, password: &str) -> Request {
    json_req(
        "POST",
        "/api/password/reset",
        &json!({ "token": token, "password": password }).to_string(),
    )
}

pub fn login_req(login_id: &str, password: &str) -> Request {
    json_req(
        "POST",
        "/api/login",
        &json!({ "login_id": login_id, "password": password }).to_string(),
    )
}

/// A session cookie at `stage` for an existing user, as sign-in would set it.
pub async fn session_cookie(h: &Harness, login: &str, stage: Stage) -> String {
    let (user, _) = h
        .app
        .user_by_login(&LoginId::parse(login).unwrap())
        .await
        .unwrap()
        .expect("the user exists");
    let (token, write) = h.app.new_session(&user, stage);
    h.app.store.write(vec![write], h.app.now()).await.unwrap();
    format!("__Host-tobira-session={token}")
}

pub fn status_and_body(r: &Response) -> (u16, Value) {
    (r.status().as_u16(), body_json(r))
}
