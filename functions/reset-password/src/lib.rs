//! The `reset-password` function: "forgot password" (RST-1..3; RST-4's
//! identity entry for migrated users after the window and the first
//! password of admin-created users), setting the password with the mailed
//! link (RST-5; CLM-2's link too), and changing it when signed in (PW-5).

use serde::Deserialize;
use tobira::i18n::t;
use tobira::ids::Password;
use tobira::reset::{Forgot, LinkUsed};
use tobira::session::Stage;
use tobira::views;
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
        ("GET", "/password/forgot") => forgot_page(app, &req),
        ("POST", "/password/forgot") => forgot_form(app, &req).await,
        ("GET", "/password/reset") => reset_page(app, &req).await,
        ("POST", "/password/reset") => reset_form(app, &req).await,
        ("POST", "/api/password/forgot") => api_forgot(app, &req).await,
        ("POST", "/api/password/reset") => api_reset(app, &req).await,
        ("GET", "/password/change") => change_page(app, &req, 200, &[], None).await,
        ("POST", "/password/change") => change_form(app, &req).await,
        ("POST", "/api/password/change") => api_change(app, &req).await,
        _ => web::not_found(app, &req),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForgotBody {
    login_id: String,
    email: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForgotForm {
    csrf: String,
    login_id: String,
    email: String,
    name: String,
    phone: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetBody {
    token: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetForm {
    csrf: String,
    token: String,
    password: String,
    password_confirm: String,
}

/// RST-1: one answer at one pace, whatever matched.
async fn forgot(app: &App, req: &Request, f: &Forgot<'_>) -> Result<(), Error> {
    web::paced(
        app.config.forgot_floor,
        app.forgot_password(f, &web::ctx(req)),
    )
    .await
}

fn forgot_page(app: &App, req: &Request) -> Response {
    let lang = web::lang_of(req);
    web::page(app, req, 200, |csrf| {
        tobira::pages::forgot(lang, req, &app.config.brand, csrf, None)
    })
}

async fn forgot_form(app: &App, req: &Request) -> Response {
    let f: ForgotForm = match web::checked_form(app, req, |f: &ForgotForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    let entry = Forgot {
        login_id: &f.login_id,
        email: &f.email,
        name: Some(f.name.as_str()).filter(|n| !n.is_empty()),
        phone: Some(f.phone.as_str()).filter(|p| !p.is_empty()),
    };
    match forgot(app, req, &entry).await {
        Ok(()) => {
            let lang = web::lang_of(req);
            web::message_page(
                app,
                req,
                200,
                t(lang, "forgot.sent_title"),
                t(lang, "forgot.sent"),
            )
        }
        Err(e) => web::error_page(app, req, &e),
    }
}

async fn api_forgot(app: &App, req: &Request) -> Response {
    let lang = web::lang_of(req);
    let result = async {
        let b: ForgotBody = web::json_body(req)?;
        let entry = Forgot {
            login_id: &b.login_id,
            email: &b.email,
            name: b.name.as_deref(),
            phone: b.phone.as_deref(),
        };
        forgot(app, req, &entry).await?;
        // RST-1 / RST-4: the one answer, whatever matched.
        Ok((202, serde_json::json!({ "next": "mail" })))
    }
    .await;
    web::api(result, lang)
}

fn invalid_link(app: &App, req: &Request) -> Response {
    let lang = web::lang_of(req);
    web::message_page(
        app,
        req,
        Error::InvalidToken.status(),
        t(lang, "password.title"),
        t(lang, "reset.invalid_link"),
    )
}

/// The password form for a link. Like every page it carries
/// `Referrer-Policy: no-referrer`: its URL holds the link's token.
fn reset_form_page(
    app: &App,
    req: &Request,
    status: u16,
    token: &str,
    unmet: &[&str],
    error: Option<&str>,
) -> Response {
    let lang = web::lang_of(req);
    web::page(app, req, status, |csrf| {
        tobira::pages::password_reset(lang, req, &app.config, csrf, token, unmet, error)
    })
}

async fn reset_page(app: &App, req: &Request) -> Response {
    let token = web::query_param(req, "token").unwrap_or_default();
    match app.check_reset_token(&token).await {
        Ok(()) => reset_form_page(app, req, 200, &token, &[], None),
        Err(Error::InvalidToken) => invalid_link(app, req),
        Err(e) => web::error_page(app, req, &e),
    }
}

/// A password that cannot even be parsed (empty, over 1024 bytes) breaks
/// the length rule.
fn parse_new_password(s: &str) -> Result<Password, Error> {
    Password::parse(s).map_err(|_| Error::WeakPassword {
        unmet: vec!["length"],
    })
}

async fn reset_form(app: &App, req: &Request) -> Response {
    let f: ResetForm = match web::checked_form(app, req, |f: &ResetForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    let lang = web::lang_of(req);
    if f.password != f.password_confirm {
        return reset_form_page(
            app,
            req,
            400,
            &f.token,
            &[],
            Some(t(lang, "password.mismatch")),
        );
    }
    let result = match parse_new_password(&f.password) {
        Ok(pw) => app.reset_password(&f.token, &pw, &web::ctx(req)).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(LinkUsed::Reset) => web::redirect("/login?notice=reset"),
        Ok(LinkUsed::FirstPassword) => web::redirect("/login?setup=done"),
        Err(Error::WeakPassword { unmet }) => reset_form_page(
            app,
            req,
            400,
            &f.token,
            &unmet,
            Some(t(lang, "password.weak")),
        ),
        Err(Error::InvalidToken) => invalid_link(app, req),
        Err(e) => web::error_page(app, req, &e),
    }
}

async fn api_reset(app: &App, req: &Request) -> Response {
    let ctx = web::ctx(req);
    let result = async {
        let b: ResetBody = web::json_body(req)?;
        let pw = parse_new_password(&b.password)?;
        app.reset_password(&b.token, &pw, &ctx).await?;
        Ok((200, serde_json::json!({ "next": "login" })))
    }
    .await;
    web::api(result, ctx.lang)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    current_password: String,
    new_password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeForm {
    csrf: String,
    current_password: String,
    password: String,
    password_confirm: String,
}

/// PW-5: the change form, for a signed-in session only (SES-2).
async fn change_page(
    app: &App,
    req: &Request,
    status: u16,
    unmet: &[&str],
    error: Option<&str>,
) -> Response {
    let token = views::session_cookie(app, req);
    if let Err(e) = app.signed(token.as_deref(), &[Stage::Full]).await {
        return views::session_refused(app, req, &e).await;
    }
    views::frame_page(app, req, status, |f| {
        tobira::pages::password_change(f, app.config.password_preset, unmet, error)
    })
}

async fn change_form(app: &App, req: &Request) -> Response {
    let f: ChangeForm = match web::checked_form(app, req, |f: &ChangeForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    let lang = web::lang_of(req);
    if f.password != f.password_confirm {
        return change_page(app, req, 400, &[], Some(t(lang, "password.mismatch"))).await;
    }
    let token = views::session_cookie(app, req);
    let result = app
        .change_password(
            token.as_deref(),
            &f.current_password,
            &f.password,
            &web::ctx(req),
        )
        .await;
    match result {
        Ok(()) => web::redirect("/?notice=password_changed"),
        Err(Error::WeakPassword { unmet }) => {
            change_page(app, req, 400, &unmet, Some(t(lang, "password.weak"))).await
        }
        Err(Error::InvalidCredentials) => {
            let r = change_page(app, req, 401, &[], Some(t(lang, "password.wrong_current"))).await;
            views::clear_if_ended(app, req, r).await
        }
        Err(e) => views::session_refused(app, req, &e).await,
    }
}

async fn api_change(app: &App, req: &Request) -> Response {
    let ctx = web::ctx(req);
    let token = views::session_cookie(app, req);
    let result = async {
        let b: ChangeBody = web::json_body(req)?;
        app.change_password(token.as_deref(), &b.current_password, &b.new_password, &ctx)
            .await
    }
    .await;
    match result {
        Ok(()) => web::no_content(),
        Err(e) => web::error_response(&e, ctx.lang),
    }
}
