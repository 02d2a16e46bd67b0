//! The `send-mail-otp` function: e-mail one-time passwords for the sign-in
//! challenge and for enrolling e-mail as a method (MFA-2, MFA-3, MSG-1).

use serde::Deserialize;
use tobira::mfa::{Channel, Purpose};
use tobira::views::{self, session_cookie};
use tobira::web::{self, Request, Response};
use tobira::App;

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
        ("POST", "/otp/email") => send_form(app, &req).await,
        ("POST", "/api/otp/email") => api_send(app, &req).await,
        _ => web::not_found(app, &req),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    purpose: String,
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
    password: Option<String>,
}

async fn api_send(app: &App, req: &Request) -> Response {
    let lang = web::lang_of(req);
    let token = session_cookie(app, req);
    let result = async {
        let body: SendBody = web::json_body(req)?;
        let purpose = Purpose::parse(&body.purpose)?;
        let sent = app
            .send_code(
                token.as_deref(),
                Channel::Email,
                purpose,
                None,
                body.password.as_deref(),
                &web::ctx(req),
            )
            .await?;
        Ok((202, sent))
    }
    .await;
    web::api(result, lang)
}

/// The page's "send a code" button: back to the page that takes the code.
async fn send_form(app: &App, req: &Request) -> Response {
    let form: SendForm = match web::checked_form(app, req, |f: &SendForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    let Ok(purpose) = Purpose::parse(&form.purpose) else {
        return web::error_page(
            app,
            req,
            &tobira::Error::invalid("invalid_purpose", "purpose"),
        );
    };
    let back = match purpose {
        Purpose::Login => "/login/mfa?method=email",
        Purpose::Enroll => "/enroll/email",
    };
    let token = session_cookie(app, req);
    let sent = app
        .send_code(
            token.as_deref(),
            Channel::Email,
            purpose,
            None,
            form.password.as_deref(),
            &web::ctx(req),
        )
        .await;
    views::after_send(app, req, sent, purpose, back, "/enroll").await
}
