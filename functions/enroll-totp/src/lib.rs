//! The `enroll-totp` function: the choice of second factor after the first
//! password sign-in (SET-4), TOTP enrolment (MFA-4), confirming e-mail
//! codes as a method (MFA-2/3), and recovery codes (MFA-5). One handler per
//! use case serves the page and the JSON client (`tobira_web::call`).
//! Passkeys and security keys (MFA-10) are in `passkeys`.

mod passkeys;

use serde::Deserialize;
use tobira::mfa::Channel;
use tobira::{App, Error};
use tobira_web::call::Call;
use tobira_web::codes;
use tobira_web::errors;
use tobira_web::i18n::t;
use tobira_web::or_refuse;
use tobira_web::pages;
use tobira_web::views::{self, frame_page, without_session};
use tobira_web::web::{self, Response};

tobira_web::handler!(routes);

/// The function's routes: one handler per use case, page and JSON alike.
async fn routes(app: &App, call: &Call<'_>) -> Response {
    let req = call.req;
    let path = req.uri().path();
    // MFA-10: `/api/passkeys/{id}/rename` and `/remove`, and the
    // dashboard's forms `/passkeys/{id}/rename` and `/remove`.
    let api = path.starts_with("/api/");
    if let Some((id, action)) = path
        .strip_prefix(if api { "/api/passkeys/" } else { "/passkeys/" })
        .and_then(|rest| rest.split_once('/'))
        .filter(|(id, _)| !id.is_empty() && *id != "register")
    {
        return match (req.method().as_str(), action, api) {
            ("POST", "rename", true) => passkeys::rename(app, call, id).await,
            ("POST", "remove", true) => passkeys::remove(app, call, id).await,
            ("POST", "rename", false) => passkeys::page_change(app, call, id, false).await,
            ("POST", "remove", false) => passkeys::page_change(app, call, id, true).await,
            _ => errors::not_found(app, req),
        };
    }
    match (req.method().as_str(), path) {
        ("POST", "/api/passkeys/register/begin") => passkeys::begin(app, call).await,
        ("POST", "/api/passkeys/register/finish") => passkeys::finish(app, call).await,
        ("GET", "/api/passkeys") => passkeys::list(app, call).await,
        ("POST", "/enroll/passkey") => passkeys::page(app, call).await,
        ("GET", "/enroll") => views::enroll_choice(app, req, 200, None).await,
        ("POST", "/enroll/totp" | "/api/mfa/totp") => totp_begin(app, call).await,
        ("POST", "/enroll/totp/confirm" | "/api/mfa/totp/confirm") => totp_confirm(app, call).await,
        ("GET", "/enroll/email") => views::enroll_code(app, req, Channel::Email, 200, None).await,
        ("POST", "/enroll/email" | "/api/mfa/email") => {
            codes::confirm(app, call, Channel::Email).await
        }
        ("GET", "/enroll/sms") => {
            views::enroll_phone(app, req, Channel::Sms, 200, "81", "", None).await
        }
        ("GET", "/enroll/sms/verify") => {
            views::enroll_code(app, req, Channel::Sms, 200, None).await
        }
        ("GET", "/enroll/voice") => {
            views::enroll_phone(app, req, Channel::Voice, 200, "81", "", None).await
        }
        ("GET", "/enroll/voice/verify") => {
            views::enroll_code(app, req, Channel::Voice, 200, None).await
        }
        ("POST", "/enroll/recovery/ack" | "/api/mfa/recovery/ack") => ack(app, call).await,
        ("POST", "/mfa/recovery/regenerate" | "/api/mfa/recovery/regenerate") => {
            regenerate(app, call).await
        }
        _ => errors::not_found(app, req),
    }
}

/// MFA-8: starting a method; the password when the last proof is not fresh.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct BeginInput {
    #[serde(default)]
    password: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeInput {
    code: String,
}

/// MFA-5: the page's box, the JSON client's `recorded: true`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AckInput {
    #[serde(default)]
    recorded: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordInput {
    password: String,
}

/// MFA-4: a new secret to scan. The JSON client may send no body at all.
async fn totp_begin(app: &App, call: &Call<'_>) -> Response {
    let input = if call.is_json() && web::empty_body(call.req).is_ok() {
        Ok(BeginInput::default())
    } else {
        call.input::<BeginInput>(app)
    };
    let input = or_refuse!(app, call, input);
    let result = app
        .begin_totp(call.session(), input.password.as_deref(), &call.ctx)
        .await;
    match (result, call.is_json()) {
        (result, true) => errors::api(
            result.map(|s| (200, tobira_web::qr::totp_setup_json(&s))),
            call.lang,
        ),
        (Ok(setup), false) => {
            frame_page(app, call.req, 200, |f| pages::enroll_totp(f, &setup, None))
        }
        // MFA-8: the password is asked (again): back to the choice, saying why.
        (Err(e @ (Error::InvalidCredentials | Error::Refused { .. })), false) => {
            let msg = match &e {
                Error::InvalidCredentials => t(call.lang, "mfa.reauth_wrong").to_string(),
                other => errors::error_message(other, call.lang),
            };
            views::enroll_choice(app, call.req, errors::status(&e), Some(&msg)).await
        }
        (Err(e), false) => views::session_refused(app, call.req, &e).await,
    }
}

/// MFA-4: the first code from the authenticator makes TOTP a method.
async fn totp_confirm(app: &App, call: &Call<'_>) -> Response {
    let input: CodeInput = or_refuse!(app, call, call.input(app));
    let result = app
        .confirm_totp(call.session(), &input.code, &call.ctx)
        .await;
    match (result, call.is_json()) {
        (result, true) => {
            let answer = errors::api(result.map(|done| (200, done.to_json())), call.lang);
            views::clear_if_ended(app, call.req, answer).await
        }
        (Ok(done), false) => views::enrolled(app, call.req, &done),
        (
            Err(e @ (Error::InvalidCode | Error::CodeAlreadyUsed { .. } | Error::Invalid { .. })),
            false,
        ) => {
            let msg = errors::error_message(&e, call.lang);
            match app.pending_totp(call.session()).await {
                Ok(Some(setup)) => frame_page(app, call.req, errors::status(&e), |f| {
                    pages::enroll_totp(f, &setup, Some(&msg))
                }),
                Ok(None) => views::enroll_choice(app, call.req, 200, Some(&msg)).await,
                Err(e) => views::session_refused(app, call.req, &e).await,
            }
        }
        (Err(e), false) => views::refused_or_locked(app, call.req, &e).await,
    }
}

/// MFA-5 / SET-4: "I have recorded these" ends the enrolment session.
async fn ack(app: &App, call: &Call<'_>) -> Response {
    let input: AckInput = or_refuse!(app, call, call.input(app));
    let result = app
        .acknowledge_recorded(call.session(), input.recorded, &call.ctx)
        .await;
    match (result, call.is_json()) {
        (Ok(()), true) => {
            without_session(app, web::json(200, &serde_json::json!({ "next": "login" })))
        }
        (Ok(()), false) => without_session(app, web::redirect("/login?notice=enrolled")),
        (Err(e), true) => errors::error_response(&e, call.lang),
        // The checkbox is `required`; without it nothing happens.
        (Err(e @ Error::Invalid { .. }), false) => errors::error_page(app, call.req, &e),
        (Err(e), false) => views::session_refused(app, call.req, &e).await,
    }
}

/// MFA-5: a new set of recovery codes, with the password.
async fn regenerate(app: &App, call: &Call<'_>) -> Response {
    let input: PasswordInput = or_refuse!(app, call, call.input(app));
    let result = app
        .regenerate_recovery_codes(call.session(), &input.password, &call.ctx)
        .await;
    match (result, call.is_json()) {
        (result, true) => errors::api(
            result.map(|codes| (200, serde_json::json!({ "recovery_codes": codes }))),
            call.lang,
        ),
        (Ok(codes), false) => frame_page(app, call.req, 200, |f| {
            pages::recovery(f, &codes, false, None)
        }),
        (Err(e @ Error::InvalidCredentials), false) => {
            let msg = errors::error_message(&e, call.lang);
            views::dashboard(app, call.req, 401, Some(&msg)).await
        }
        (Err(e), false) => views::session_refused(app, call.req, &e).await,
    }
}
