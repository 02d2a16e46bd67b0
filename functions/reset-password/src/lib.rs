//! The `reset-password` function: "forgot password" (RST-1..3; RST-4's
//! identity entry for migrated users after the window and the first
//! password of admin-created users), setting the password with the mailed
//! link (RST-5; CLM-2's link too), and changing it when signed in (PW-5).
//! One handler per use case serves the page and the JSON client
//! (`tobira_web::call`).

use serde::Deserialize;
use tobira::reset::{Forgot, LinkUsed};
use tobira::session::Stage;
use tobira::{App, Error};
use tobira_web::call::Call;
use tobira_web::errors;
use tobira_web::i18n::t;
use tobira_web::or_refuse;
use tobira_web::views;
use tobira_web::web::{self, Response};

tobira_web::handler!(routes);

/// The function's routes: one handler per use case, page and JSON alike.
async fn routes(app: &App, call: &Call<'_>) -> Response {
    let req = call.req;
    match (req.method().as_str(), req.uri().path()) {
        ("GET", "/password/forgot") => forgot_page(app, call),
        ("POST", "/password/forgot" | "/api/password/forgot") => forgot(app, call).await,
        ("GET", "/password/reset") => reset_page(app, call).await,
        ("POST", "/password/reset" | "/api/password/reset") => reset(app, call).await,
        ("GET", "/password/change") => change_page(app, call, 200, &[], None).await,
        ("POST", "/password/change" | "/api/password/change") => change(app, call).await,
        _ => errors::not_found(app, req),
    }
}

/// RST-1 / RST-4: the page always sends the identity fields, maybe empty.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForgotInput {
    login_id: String,
    email: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetInput {
    token: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeInput {
    current_password: String,
    new_password: String,
}

/// The change page's form (its password field is the shared `password`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangePage {
    current_password: String,
    password: String,
}

fn forgot_page(app: &App, call: &Call<'_>) -> Response {
    views::frame_page(app, call.req, 200, |f| tobira_web::pages::forgot(f, None))
}

/// RST-1: one answer at one pace, whatever matched.
async fn forgot(app: &App, call: &Call<'_>) -> Response {
    let f: ForgotInput = or_refuse!(app, call, call.input(app));
    let json = call.is_json();
    let entry = Forgot {
        login_id: &f.login_id,
        email: &f.email,
        name: typed(f.name.as_deref(), json),
        // SET-2 / RST-4: an empty phone is an answer (the legacy phone
        // MIG-5 replaced may have been empty), not a field left out.
        phone: f.phone.as_deref(),
    };
    let result = web::paced(
        app.config.forgot_floor,
        app.forgot_password(&entry, &call.ctx),
    )
    .await;
    match (result, call.is_json()) {
        (Ok(()), true) => web::json(202, &serde_json::json!({ "next": "mail" })),
        (Ok(()), false) => views::message_page(
            app,
            call.req,
            200,
            t(call.lang, "forgot.sent_title"),
            t(call.lang, "forgot.sent"),
        ),
        (Err(e), _) => call.refuse(app, &e),
    }
}

/// A page's empty identity field is one left out.
fn typed(value: Option<&str>, json: bool) -> Option<&str> {
    value.filter(|v| json || !v.is_empty())
}

fn invalid_link(app: &App, call: &Call<'_>) -> Response {
    views::message_page(
        app,
        call.req,
        errors::status(&Error::InvalidToken),
        t(call.lang, "password.title"),
        t(call.lang, "reset.invalid_link"),
    )
}

async fn reset_page(app: &App, call: &Call<'_>) -> Response {
    let token = web::query_param(call.req, "token").unwrap_or_default();
    match app.check_reset_token(&token).await {
        Ok(login) => {
            let login = Some(login.as_str());
            views::new_password_page(app, call.req, 200, Some(&token), login, &[], None)
        }
        Err(Error::InvalidToken) => invalid_link(app, call),
        Err(e) => call.refuse(app, &e),
    }
}

/// RST-5: the new password with the mailed link (the page asks twice).
async fn reset(app: &App, call: &Call<'_>) -> Response {
    let (f, confirmed) = or_refuse!(
        app,
        call,
        call.input_confirmed(app, |f: &ResetInput| &f.password)
    );
    let lang = call.lang;
    // The form again names the account (the link may have died meanwhile).
    let login = match call.is_json() {
        true => None,
        false => app.check_reset_token(&f.token).await.ok(),
    };
    let login = login.as_ref().map(|l| l.as_str());
    if !confirmed {
        let msg = "password.mismatch";
        return views::new_password_page(app, call.req, 400, Some(&f.token), login, &[], Some(msg));
    }
    let result = app.reset_with_link(&f.token, &f.password, &call.ctx).await;
    match (result, call.is_json()) {
        (Ok(_), true) => web::json(200, &serde_json::json!({ "next": "login" })),
        (Ok((used, login)), false) => {
            let to = match used {
                LinkUsed::Reset => "/login?notice=reset",
                LinkUsed::FirstPassword => "/login?setup=done",
            };
            views::with_login_hint(app, web::redirect(to), login.as_str())
        }
        (Err(e), true) => errors::error_response(&e, lang),
        (Err(Error::WeakPassword { unmet }), false) => {
            let msg = "password.weak";
            views::new_password_page(app, call.req, 400, Some(&f.token), login, &unmet, Some(msg))
        }
        (Err(Error::InvalidToken), false) => invalid_link(app, call),
        (Err(e), false) => call.refuse(app, &e),
    }
}

/// PW-5: the change form, for a signed-in session only (SES-2).
async fn change_page(
    app: &App,
    call: &Call<'_>,
    status: u16,
    unmet: &[&str],
    error: Option<&'static str>,
) -> Response {
    let s = match app.signed(call.session(), &[Stage::Full]).await {
        Ok(s) => s,
        Err(e) => return views::session_refused(app, call.req, &e).await,
    };
    let login = s.user.login_id.as_str();
    views::frame_page(app, call.req, status, |f| {
        let text = error.map(|k| t(f.lang, k));
        let html =
            tobira_web::pages::password_change(f, app.config.password_preset, login, unmet, text);
        views::password_marks(html, error)
    })
}

/// The change's input: the page's form names the new password `password`
/// (the shared form) and asks for it twice.
fn change_input(app: &App, call: &Call<'_>) -> Result<(ChangeInput, bool), Error> {
    if call.is_json() {
        return Ok((call.input(app)?, true));
    }
    let (f, confirmed) = call.input_confirmed(app, |f: &ChangePage| &f.password)?;
    let input = ChangeInput {
        current_password: f.current_password,
        new_password: f.password,
    };
    Ok((input, confirmed))
}

/// PW-5: a new password from a signed-in session, with the current one.
async fn change(app: &App, call: &Call<'_>) -> Response {
    let (f, confirmed) = or_refuse!(app, call, change_input(app, call));
    let lang = call.lang;
    if !confirmed {
        return change_page(app, call, 400, &[], Some("password.mismatch")).await;
    }
    let result = app
        .change_password(
            call.session(),
            &f.current_password,
            &f.new_password,
            &call.ctx,
        )
        .await;
    match (result, call.is_json()) {
        (Ok(()), true) => web::no_content(),
        (Ok(()), false) => web::redirect("/?notice=password_changed"),
        (Err(e), true) => errors::error_response(&e, lang),
        (Err(Error::WeakPassword { unmet }), false) => {
            change_page(app, call, 400, &unmet, Some("password.weak")).await
        }
        (Err(Error::InvalidCredentials), false) => {
            let r = change_page(app, call, 401, &[], Some("password.wrong_current")).await;
            views::clear_if_ended(app, call.req, r).await
        }
        (Err(e), false) => views::session_refused(app, call.req, &e).await,
    }
}
