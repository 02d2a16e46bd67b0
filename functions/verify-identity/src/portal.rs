//! MIG-11: the legacy portal reads and corrects a migrated user's identity
//! during the window, with its key as `Authorization: Bearer <key>`.

use tobira::migration::IdentityUpdate;
use tobira::{App, Error};
use tobira_web::call::Call;
use tobira_web::errors;
use tobira_web::web::{self, Response};

/// The key of `Authorization: Bearer <key>` (any other scheme: none).
fn bearer<'r>(call: &Call<'r>) -> Option<&'r str> {
    web::header(call.req, "authorization")
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key)
}

/// An API answer for the legacy portal; a 401 says which scheme to use.
fn answer(result: Result<(u16, serde_json::Value), Error>, call: &Call<'_>) -> Response {
    let unauthorized = matches!(result, Err(Error::InvalidCredentials));
    let mut r = errors::api(result, call.lang);
    if unauthorized {
        r.headers_mut().insert(
            lambda_http::http::header::WWW_AUTHENTICATE,
            lambda_http::http::HeaderValue::from_static("Bearer"),
        );
    }
    r
}

pub async fn show(app: &App, call: &Call<'_>) -> Response {
    let login_id = web::query_param(call.req, "login_id");
    let result = app
        .portal_identity(bearer(call), login_id.as_deref())
        .await
        .map(|view| (200, serde_json::to_value(view).expect("serialises")));
    answer(result, call)
}

pub async fn correct(app: &App, call: &Call<'_>) -> Response {
    let upd = web::json_body::<IdentityUpdate>(call.req);
    let result = app
        .portal_correct_identity(bearer(call), upd, &call.ctx)
        .await
        .map(|()| (202, serde_json::json!({ "sent": true })));
    answer(result, call)
}
