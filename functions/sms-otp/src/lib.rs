//! The `sms-otp` function: SMS one-time passwords for the sign-in challenge,
//! and proving a mobile number before it becomes a method (MFA-3, MFA-6).

use serde::Deserialize;
use tobira::ids::Phone;
use tobira::mfa::{Channel, Purpose};
use tobira::views::{self, session_cookie};
use tobira::web::{self, Request, Response};
use tobira::{App, Error};

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
        ("POST", "/otp/sms") => send_form(app, &req).await,
        ("POST", "/otp/sms/verify") => verify_form(app, &req).await,
        ("POST", "/api/otp/sms") => api_send(app, &req).await,
        ("POST", "/api/otp/sms/verify") => api_verify(app, &req).await,
        _ => web::not_found(app, &req),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    purpose: String,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    country: Option<String>,
    /// MFA-8: adding the method from a signed-in session, when the last
    /// proof is not fresh.
    #[serde(default)]
    password: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendForm {
    csrf: String,
    purpose: String,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    country: Option<String>,
    /// MFA-8: adding the method from a signed-in session, when the last
    /// proof is not fresh.
    #[serde(default)]
    password: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeForm {
    csrf: String,
    code: String,
}

/// MFA-6: the number to prove, when enrolling.
fn phone_of(
    purpose: Purpose,
    phone: Option<&str>,
    country: Option<&str>,
) -> Result<Option<Phone>, Error> {
    match (purpose, phone) {
        (Purpose::Enroll, Some(p)) => Phone::parse(p, country).map(Some),
        (Purpose::Enroll, None) => Err(Error::invalid(
            "phone_required",
            "enter the mobile number to prove",
        )),
        (Purpose::Login, None) => Ok(None),
        (Purpose::Login, Some(_)) => Err(Error::invalid(
            "unexpected_phone",
            "a sign-in code goes to the enrolled number; leave phone out",
        )),
    }
}

async fn api_send(app: &App, req: &Request) -> Response {
    let lang = web::lang_of(req);
    let token = session_cookie(app, req);
    let result = async {
        let body: SendBody = web::json_body(req)?;
        let purpose = Purpose::parse(&body.purpose)?;
        let phone = phone_of(purpose, body.phone.as_deref(), body.country.as_deref())?;
        let sent = app
            .send_code(
                token.as_deref(),
                Channel::Sms,
                purpose,
                phone,
                body.password.as_deref(),
                &web::ctx(req),
            )
            .await?;
        Ok((202, sent))
    }
    .await;
    web::api(result, lang)
}

async fn send_form(app: &App, req: &Request) -> Response {
    let form: SendForm = match web::checked_form(app, req, |f: &SendForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    let Ok(purpose) = Purpose::parse(&form.purpose) else {
        return web::error_page(app, req, &Error::invalid("invalid_purpose", "purpose"));
    };
    let phone = match phone_of(purpose, form.phone.as_deref(), form.country.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            // The number as typed comes back with what is wrong with it.
            let msg = web::error_message(&e, web::lang_of(req));
            let country = form.country.as_deref().unwrap_or("81");
            let typed = form.phone.as_deref().unwrap_or("");
            return views::enroll_sms(app, req, 400, country, typed, Some(&msg)).await;
        }
    };
    let back = match purpose {
        Purpose::Login => "/login/mfa?method=sms",
        Purpose::Enroll => "/enroll/sms/verify",
    };
    let token = session_cookie(app, req);
    let sent = app
        .send_code(
            token.as_deref(),
            Channel::Sms,
            purpose,
            phone,
            form.password.as_deref(),
            &web::ctx(req),
        )
        .await;
    views::after_send(app, req, sent, purpose, back, "/enroll/sms").await
}

async fn verify_form(app: &App, req: &Request) -> Response {
    let form: CodeForm = match web::checked_form(app, req, |f: &CodeForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    let token = session_cookie(app, req);
    let result = app
        .confirm_sms_method(token.as_deref(), &form.code, &web::ctx(req))
        .await;
    views::code_method_answer(app, req, Channel::Sms, result).await
}

async fn api_verify(app: &App, req: &Request) -> Response {
    let lang = web::lang_of(req);
    let token = session_cookie(app, req);
    let result = async {
        let body: CodeBody = web::json_body(req)?;
        let done = app
            .confirm_sms_method(token.as_deref(), &body.code, &web::ctx(req))
            .await?;
        Ok((200, done.to_json()))
    }
    .await;
    views::clear_if_ended(app, req, web::api(result, lang)).await
}
