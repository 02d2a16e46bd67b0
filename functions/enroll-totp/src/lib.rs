//! The `enroll-totp` function: the choice of second factor after the first
//! password sign-in (SET-4), TOTP enrolment (MFA-4), confirming e-mail
//! codes as a method (MFA-2/3), and recovery codes (MFA-5).

use serde::Deserialize;
use tobira::mfa::Channel;
use tobira::views::{self, frame_page, session_cookie, without_session};
use tobira::web::{self, Request, Response};
use tobira::{pages, App, Error};

pub async fn handle(app: &App, req: Request) -> Response {
    // SES-3: a state-changing request from another site goes no further.
    if let Some(refused) = web::cross_site_refusal(app, &req) {
        return refused;
    }
    // An API call's unknown `?lang=` is refused, not ignored.
    if let Some(refused) = web::lang_refusal(&req) {
        return refused;
    }
    match (req.method().as_str(), req.uri().path()) {
        ("GET", "/enroll") => views::enroll_choice(app, &req, 200, None).await,
        ("POST", "/enroll/totp") => totp_begin_form(app, &req).await,
        ("POST", "/enroll/totp/confirm") => totp_confirm_form(app, &req).await,
        ("GET", "/enroll/email") => views::enroll_code(app, &req, Channel::Email, 200, None).await,
        ("POST", "/enroll/email") => email_confirm_form(app, &req).await,
        ("GET", "/enroll/sms") => sms_page(app, &req).await,
        ("GET", "/enroll/sms/verify") => {
            views::enroll_code(app, &req, Channel::Sms, 200, None).await
        }
        ("POST", "/enroll/recovery/ack") => ack_form(app, &req).await,
        ("POST", "/mfa/recovery/regenerate") => regenerate_form(app, &req).await,
        ("POST", "/api/mfa/totp") => api_totp_begin(app, &req).await,
        ("POST", "/api/mfa/totp/confirm") => api_confirm(app, &req, Confirm::Totp).await,
        ("POST", "/api/mfa/email") => api_confirm(app, &req, Confirm::Email).await,
        ("POST", "/api/mfa/recovery/regenerate") => api_regenerate(app, &req).await,
        ("POST", "/api/mfa/recovery/ack") => api_ack(app, &req).await,
        _ => web::not_found(app, &req),
    }
}

/// MFA-8: starting a method; the password when the last proof is not fresh.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BeginForm {
    csrf: String,
    #[serde(default)]
    password: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct BeginBody {
    #[serde(default)]
    password: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeForm {
    csrf: String,
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AckForm {
    csrf: String,
    #[serde(default)]
    recorded: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AckBody {
    recorded: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordForm {
    csrf: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    password: String,
}

enum Confirm {
    Totp,
    Email,
}

async fn totp_begin_form(app: &App, req: &Request) -> Response {
    let form: BeginForm = match web::checked_form(app, req, |f: &BeginForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    let token = session_cookie(app, req);
    let result = app
        .begin_totp(token.as_deref(), form.password.as_deref(), &web::ctx(req))
        .await;
    match result {
        Ok(setup) => frame_page(app, req, 200, |f| pages::enroll_totp(f, &setup, None)),
        // MFA-8: the password is asked (again): back to the choice, saying why.
        Err(e @ (Error::InvalidCredentials | Error::Refused { .. })) => {
            let msg = match &e {
                Error::InvalidCredentials => {
                    tobira::i18n::t(web::lang_of(req), "mfa.reauth_wrong").to_string()
                }
                other => web::error_message(other, web::lang_of(req)),
            };
            views::enroll_choice(app, req, e.status(), Some(&msg)).await
        }
        Err(e) => views::session_refused(app, req, &e).await,
    }
}

async fn totp_confirm_form(app: &App, req: &Request) -> Response {
    let form: CodeForm = match web::checked_form(app, req, |f: &CodeForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    let token = session_cookie(app, req);
    match app
        .confirm_totp(token.as_deref(), &form.code, &web::ctx(req))
        .await
    {
        Ok(done) => views::enrolled(app, req, &done),
        Err(e @ (Error::InvalidCode | Error::Invalid { .. })) => {
            let msg = web::error_message(&e, web::lang_of(req));
            match app.pending_totp(token.as_deref()).await {
                Ok(Some(setup)) => frame_page(app, req, e.status(), |f| {
                    pages::enroll_totp(f, &setup, Some(&msg))
                }),
                Ok(None) => views::enroll_choice(app, req, 200, Some(&msg)).await,
                Err(e) => views::session_refused(app, req, &e).await,
            }
        }
        Err(e) => views::refused_or_locked(app, req, &e).await,
    }
}

async fn email_confirm_form(app: &App, req: &Request) -> Response {
    let form: CodeForm = match web::checked_form(app, req, |f: &CodeForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    let token = session_cookie(app, req);
    let result = app
        .confirm_email_method(token.as_deref(), &form.code, &web::ctx(req))
        .await;
    views::code_method_answer(app, req, Channel::Email, result).await
}

async fn sms_page(app: &App, req: &Request) -> Response {
    views::enroll_sms(app, req, 200, "81", "", None).await
}

async fn ack_form(app: &App, req: &Request) -> Response {
    let form: AckForm = match web::checked_form(app, req, |f: &AckForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    if form.recorded.as_deref() != Some("true") {
        // The checkbox is `required`; without it nothing happens.
        return web::error_page(
            app,
            req,
            &Error::invalid(
                "not_recorded",
                tobira::i18n::t(web::lang_of(req), "recovery.recorded"),
            ),
        );
    }
    let token = session_cookie(app, req);
    match app
        .acknowledge_recovery_codes(token.as_deref(), &web::ctx(req))
        .await
    {
        Ok(()) => without_session(app, web::redirect("/login?notice=enrolled")),
        Err(e) => views::session_refused(app, req, &e).await,
    }
}

async fn regenerate_form(app: &App, req: &Request) -> Response {
    let form: PasswordForm = match web::checked_form(app, req, |f: &PasswordForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    let token = session_cookie(app, req);
    let result = app
        .regenerate_recovery_codes(token.as_deref(), &form.password, &web::ctx(req))
        .await;
    match result {
        Ok(codes) => frame_page(app, req, 200, |f| pages::recovery(f, &codes, false, None)),
        Err(e @ Error::InvalidCredentials) => {
            let msg = web::error_message(&e, web::lang_of(req));
            views::dashboard(app, req, 401, Some(&msg)).await
        }
        Err(e) => views::session_refused(app, req, &e).await,
    }
}

async fn api_totp_begin(app: &App, req: &Request) -> Response {
    let lang = web::lang_of(req);
    let token = session_cookie(app, req);
    let result = async {
        // MFA-8: `{}` or no body, or `{"password"}` when the proof is not fresh.
        let body = if web::empty_body(req).is_ok() {
            BeginBody::default()
        } else {
            web::json_body::<BeginBody>(req)?
        };
        let s = app
            .begin_totp(token.as_deref(), body.password.as_deref(), &web::ctx(req))
            .await?;
        Ok((200, s))
    }
    .await;
    web::api(result, lang)
}

async fn api_confirm(app: &App, req: &Request, which: Confirm) -> Response {
    let lang = web::lang_of(req);
    let token = session_cookie(app, req);
    let result = async {
        let body: CodeBody = web::json_body(req)?;
        let ctx = web::ctx(req);
        let done = match which {
            Confirm::Totp => app.confirm_totp(token.as_deref(), &body.code, &ctx).await?,
            Confirm::Email => {
                app.confirm_email_method(token.as_deref(), &body.code, &ctx)
                    .await?
            }
        };
        Ok((200, done.to_json()))
    }
    .await;
    views::clear_if_ended(app, req, web::api(result, lang)).await
}

async fn api_regenerate(app: &App, req: &Request) -> Response {
    let lang = web::lang_of(req);
    let token = session_cookie(app, req);
    let result = async {
        let body: PasswordBody = web::json_body(req)?;
        let codes = app
            .regenerate_recovery_codes(token.as_deref(), &body.password, &web::ctx(req))
            .await?;
        Ok((200, serde_json::json!({ "recovery_codes": codes })))
    }
    .await;
    web::api(result, lang)
}

async fn api_ack(app: &App, req: &Request) -> Response {
    let lang = web::lang_of(req);
    let token = session_cookie(app, req);
    let result = async {
        let body: AckBody = web::json_body(req)?;
        if !body.recorded {
            return Err(Error::invalid(
                "not_recorded",
                "confirm that you have recorded the recovery codes (recorded: true)",
            ));
        }
        app.acknowledge_recovery_codes(token.as_deref(), &web::ctx(req))
            .await
    }
    .await;
    match result {
        Ok(()) => without_session(app, web::json(200, &serde_json::json!({ "next": "login" }))),
        Err(e) => web::error_response(&e, lang),
    }
}
