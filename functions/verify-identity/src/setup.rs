//! SET-1..3: the setup link's page, the identity check, the first password
//! and new setup links.

use serde::Deserialize;
use tobira::{App, Error};
use tobira_web::call::Call;
use tobira_web::errors;
use tobira_web::i18n::t;
use tobira_web::or_refuse;
use tobira_web::pages::IdentityForm;
use tobira_web::views;
use tobira_web::web::{self, Response};

/// SET-2 → SET-3: the proof of identity, for the password step.
const GRANT: &str = "grant";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyInput {
    token: String,
    email: String,
    name: String,
    phone: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordInput {
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResendInput {
    login_id: String,
    email: String,
}

fn identity_page(
    app: &App,
    call: &Call<'_>,
    status: u16,
    form: &IdentityForm<'_>,
    error: Option<&str>,
) -> Response {
    views::frame_page(app, call.req, status, |f| {
        tobira_web::pages::setup(f, form, error)
    })
}

/// SET-1: the page a setup link opens.
pub async fn link_page(app: &App, call: &Call<'_>) -> Response {
    let token = web::query_param(call.req, "token").unwrap_or_default();
    match app.check_setup_token(&token).await {
        Ok(()) => {
            let form = IdentityForm {
                token: &token,
                email: "",
                name: "",
                phone: "",
            };
            identity_page(app, call, 200, &form, None)
        }
        Err(e) => call.refuse(app, &e),
    }
}

/// SET-2: the identity check; its grant is a short-lived cookie.
pub async fn verify(app: &App, call: &Call<'_>) -> Response {
    let f: VerifyInput = or_refuse!(app, call, call.input(app));
    let result = app
        .verify_identity(&f.token, &f.email, &f.name, &f.phone, &call.ctx)
        .await;
    let mut r = match (&result, call.is_json()) {
        (Ok(_), true) => web::json(
            200,
            &serde_json::json!({ "next": "password", "expires_in_s": app.config.grant_ttl.as_secs() }),
        ),
        (Ok(_), false) => web::redirect("/setup/password"),
        (Err(e @ (Error::IdentityMismatch | Error::Throttled { .. })), false) => {
            let form = IdentityForm {
                token: &f.token,
                email: &f.email,
                name: &f.name,
                phone: &f.phone,
            };
            let msg = errors::error_message(e, call.lang);
            let r = identity_page(app, call, errors::status(e), &form, Some(&msg));
            return errors::with_retry_after(r, e);
        }
        (Err(e), _) => return call.refuse(app, e),
    };
    if let Ok(grant) = result {
        let ttl = app.config.grant_ttl.as_secs();
        web::set_cookie(&mut r, &app.config, GRANT, &grant.0, Some(ttl));
    }
    r
}

fn grant_expired(app: &App, call: &Call<'_>) -> Response {
    let lang = call.lang;
    let body = tobira_web::pages::message(
        lang,
        call.req,
        &app.config.brand,
        t(lang, "password.title"),
        t(lang, "password.grant_expired"),
    );
    web::html(401, body)
}

pub async fn password_page(app: &App, call: &Call<'_>) -> Response {
    let grant = web::named_cookie(call.req, &app.config, GRANT).unwrap_or_default();
    match app.check_grant(&grant).await {
        Ok(login) => {
            views::new_password_page(app, call.req, 200, None, Some(login.as_str()), &[], None)
        }
        Err(Error::NotSignedIn) => grant_expired(app, call),
        Err(e) => call.refuse(app, &e),
    }
}

/// SET-3: the first password (the page also asks for it twice).
pub async fn set_password(app: &App, call: &Call<'_>) -> Response {
    let (f, confirmed) = or_refuse!(
        app,
        call,
        call.input_confirmed(app, |f: &PasswordInput| &f.password)
    );
    let lang = call.lang;
    let grant = web::named_cookie(call.req, &app.config, GRANT);
    // The form again names the account (the grant may have ended meanwhile).
    let login = match (&grant, call.is_json()) {
        (Some(g), false) => app.check_grant(g).await.ok(),
        _ => None,
    };
    let login = login.as_ref().map(|l| l.as_str());
    if !confirmed {
        return views::new_password_page(
            app,
            call.req,
            400,
            None,
            login,
            &[],
            Some("password.mismatch"),
        );
    }
    let result = app
        .set_first_password(grant.as_deref(), &f.password, &call.ctx)
        .await;
    let done = match (result, call.is_json()) {
        (Ok(_), true) => web::json(200, &serde_json::json!({ "next": "login" })),
        (Ok(login), false) => {
            views::with_login_hint(app, web::redirect("/login?setup=done"), login.as_str())
        }
        (Err(e), true) => return errors::error_response(&e, lang),
        (Err(Error::WeakPassword { unmet }), false) => {
            return views::new_password_page(
                app,
                call.req,
                400,
                None,
                login,
                &unmet,
                Some("password.weak"),
            )
        }
        (Err(Error::NotSignedIn), false) => return grant_expired(app, call),
        (Err(e), false) => return call.refuse(app, &e),
    };
    let mut done = done;
    web::set_cookie(&mut done, &app.config, GRANT, "", Some(0));
    done
}

/// SET-1: a new setup link, one answer at one pace whatever matched (as RST-1).
pub async fn resend(app: &App, call: &Call<'_>) -> Response {
    let result = async {
        let b: ResendInput = call.input(app)?;
        web::paced(
            app.config.forgot_floor,
            app.resend_setup_link(&b.login_id, &b.email, &call.ctx),
        )
        .await?;
        Ok((202, serde_json::json!({})))
    }
    .await;
    errors::api(result, call.lang)
}
