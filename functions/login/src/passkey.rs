//! MFA-10 at the edge: signing in with a passkey or a security key, for the
//! portal's script and the JSON client alike. `begin` answers the WebAuthn
//! request options; `finish` takes the assertion as the browser returns it
//! (`PublicKeyCredential.toJSON()`), with `remember_device` at the second
//! step.

use serde::Deserialize;
use tobira::{App, Error};
use tobira_web::call::Call;
use tobira_web::credential::{BrowserCredential, CredentialForm};
use tobira_web::errors;
use tobira_web::or_refuse;
use tobira_web::views;
use tobira_web::web::{self, Response};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct BeginInput {
    /// Passwordless: the login ID, if the user typed one (else any
    /// discoverable credential of this portal).
    #[serde(default)]
    login_id: Option<String>,
    /// The sign-in page's passwordless button: never the second step of a
    /// session the browser still holds.
    #[serde(default)]
    passwordless: bool,
}

/// `POST /api/login/passkey/begin`: the request options (`publicKey`).
pub async fn begin(app: &App, call: &Call<'_>) -> Response {
    let input = if web::empty_body(call.req).is_ok() {
        Ok(BeginInput::default())
    } else {
        call.input::<BeginInput>(app)
    };
    let input = or_refuse!(app, call, input);
    let options = app
        .begin_passkey_sign_in(
            call.session(),
            input.login_id.as_deref(),
            input.passwordless,
        )
        .await;
    errors::api(options.map(|o| (200, o)), call.lang)
}

/// `POST /api/login/passkey/finish`: `next` as `POST /api/login/mfa`
/// answers, with the new session's cookie.
pub async fn finish(app: &App, call: &Call<'_>) -> Response {
    let body: BrowserCredential = or_refuse!(app, call, call.input(app));
    let (credential, remember) = body.into_parts();
    match app
        .finish_passkey_sign_in(call.session(), &credential, remember, &call.ctx)
        .await
    {
        Ok(a) => crate::advanced(app, call, &a),
        // A fifth failure ends the half session (LOG-2): so does its cookie.
        Err(e) => views::clear_if_ended(app, call.req, errors::error_response(&e, call.lang)).await,
    }
}

/// `POST /login/passkey`: the page's form, which the portal's script
/// filled with the browser's assertion: the next stage's page, or the page
/// the ceremony began on with what went wrong (the challenge, or the
/// sign-in page).
pub async fn page(app: &App, call: &Call<'_>) -> Response {
    let form: CredentialForm = or_refuse!(app, call, call.input(app));
    let (credential, remember) = form.into_parts();
    let result = match credential {
        Some(c) => {
            app.finish_passkey_sign_in(call.session(), &c, remember, &call.ctx)
                .await
        }
        None => Err(Error::InvalidCredentials),
    };
    match result {
        Ok(a) => crate::advanced(app, call, &a),
        Err(e @ Error::InvalidCredentials) => {
            let msg = errors::error_message(&e, call.lang);
            let stages = [tobira::session::Stage::Mfa];
            if app.signed(call.session(), &stages).await.is_ok() {
                views::challenge(app, call.req, 401, Some("passkey"), Some(&msg)).await
            } else {
                crate::login_page(app, call, 401, Some(&msg), None, "")
            }
        }
        Err(e) => views::refused_or_locked(app, call.req, &e).await,
    }
}
