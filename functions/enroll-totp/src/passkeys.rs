//! MFA-10 at the edge: enrolling passkeys and security keys (the first
//! factor at SET-4, or a further one with a fresh proof, MFA-8), and the
//! signed-in user's list: rename, remove. JSON (the portal's script runs
//! the ceremony in the browser); the list's page forms are in `views`.

use serde::Deserialize;
use serde_json::{json, Value};
use tobira::mfa::PasskeyInfo;
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
    #[serde(default)]
    name: Option<String>,
    /// MFA-8: when the last proof is not fresh.
    #[serde(default)]
    password: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RenameInput {
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RemoveInput {
    #[serde(default)]
    password: Option<String>,
}

/// `POST /api/passkeys/register/begin`: the creation options (`publicKey`).
pub async fn begin(app: &App, call: &Call<'_>) -> Response {
    let input = if web::empty_body(call.req).is_ok() {
        Ok(BeginInput::default())
    } else {
        call.input::<BeginInput>(app)
    };
    let input = or_refuse!(app, call, input);
    let options = app
        .begin_passkey_registration(
            call.session(),
            input.name.as_deref(),
            input.password.as_deref(),
            &call.ctx,
        )
        .await;
    errors::api(options.map(|o| (200, o)), call.lang)
}

/// `POST /api/passkeys/register/finish`: the credential as the browser
/// returns it; `next` as the other enrolments answer.
pub async fn finish(app: &App, call: &Call<'_>) -> Response {
    let body: BrowserCredential = or_refuse!(app, call, call.input(app));
    let (credential, remember) = body.into_parts();
    if remember {
        let e = tobira::Error::invalid("invalid_json").detail("remember_device is for sign-in");
        return call.refuse(app, &e);
    }
    let done = app
        .finish_passkey_registration(call.session(), &credential, &call.ctx)
        .await;
    let answer = errors::api(done.map(|d| (200, d.to_json())), call.lang);
    views::clear_if_ended(app, call.req, answer).await
}

fn listed(r: Result<Vec<PasskeyInfo>, Error>) -> Result<(u16, Value), Error> {
    r.map(|list| (200, json!({ "passkeys": list })))
}

/// `GET /api/passkeys`.
pub async fn list(app: &App, call: &Call<'_>) -> Response {
    errors::api(listed(app.passkeys(call.session()).await), call.lang)
}

/// `POST /api/passkeys/{id}/rename`.
pub async fn rename(app: &App, call: &Call<'_>, id: &str) -> Response {
    let input: RenameInput = or_refuse!(app, call, call.input(app));
    let r = app
        .rename_passkey(call.session(), id, &input.name, &call.ctx)
        .await;
    errors::api(listed(r), call.lang)
}

/// `POST /api/passkeys/{id}/remove`: MFA-8's fresh proof (`password` when
/// the last one is stale).
pub async fn remove(app: &App, call: &Call<'_>, id: &str) -> Response {
    let input = if web::empty_body(call.req).is_ok() {
        Ok(RemoveInput::default())
    } else {
        call.input::<RemoveInput>(app)
    };
    let input = or_refuse!(app, call, input);
    let r = app
        .remove_passkey(call.session(), id, input.password.as_deref(), &call.ctx)
        .await;
    errors::api(listed(r), call.lang)
}

/// `POST /enroll/passkey`: the choice page's form, which the portal's
/// script filled with the new credential: the first factor's recovery
/// codes, or the dashboard; a refusal shows the choice again, saying so.
pub async fn page(app: &App, call: &Call<'_>) -> Response {
    let form: CredentialForm = or_refuse!(app, call, call.input(app));
    let result = match form.into_parts() {
        (Some(c), false) => {
            app.finish_passkey_registration(call.session(), &c, &call.ctx)
                .await
        }
        _ => Err(Error::invalid("passkey_refused")),
    };
    match result {
        Ok(done) => views::enrolled(app, call.req, &done),
        Err(e @ (Error::Invalid { .. } | Error::Conflict { .. })) => {
            let msg = errors::error_message(&e, call.lang);
            views::enroll_choice(app, call.req, errors::status(&e), Some(&msg)).await
        }
        Err(e) => views::refused_or_locked(app, call.req, &e).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RemoveForm {
    #[serde(default)]
    password: Option<String>,
}

/// `POST /passkeys/{id}/rename` and `/remove`: the dashboard's forms.
pub async fn page_change(app: &App, call: &Call<'_>, id: &str, remove: bool) -> Response {
    let result = if remove {
        let form: RemoveForm = or_refuse!(app, call, call.input(app));
        app.remove_passkey(call.session(), id, form.password.as_deref(), &call.ctx)
            .await
    } else {
        let form: RenameInput = or_refuse!(app, call, call.input(app));
        app.rename_passkey(call.session(), id, &form.name, &call.ctx)
            .await
    };
    match result {
        Ok(_) if remove => web::redirect("/?notice=passkey_removed"),
        Ok(_) => web::redirect("/?notice=passkey_renamed"),
        Err(e @ (Error::NotSignedIn | Error::Forbidden)) => {
            views::session_refused(app, call.req, &e).await
        }
        Err(e) => {
            let msg = errors::error_message(&e, call.lang);
            views::dashboard(app, call.req, errors::status(&e), Some(&msg)).await
        }
    }
}
