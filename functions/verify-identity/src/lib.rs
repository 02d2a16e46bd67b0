//! The `verify-identity` function: the setup link's page, the identity check
//! (SET-2), the first password (SET-3) and new setup links (SET-1).

use serde::Deserialize;
use tobira::i18n::t;
use tobira::ids::Password;
use tobira::pages::IdentityForm;
use tobira::web::{self, Csrf, Request, Response};
use tobira::{App, Error};

const GRANT: &str = "grant";

pub async fn handle(app: &App, req: Request) -> Response {
    match (req.method().as_str(), req.uri().path()) {
        ("GET", "/setup") => setup_page(app, &req).await,
        ("POST", "/setup/verify") => verify_form(app, &req).await,
        ("GET", "/setup/password") => password_page(app, &req).await,
        ("POST", "/setup/password") => password_form(app, &req).await,
        ("POST", "/api/setup/verify") => api_verify(app, &req).await,
        ("POST", "/api/setup/password") => api_password(app, &req).await,
        ("POST", "/api/setup/resend") => api_resend(app, &req).await,
        _ => web::not_found(app, &req),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    token: String,
    email: String,
    name: String,
    phone: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyForm {
    csrf: String,
    token: String,
    email: String,
    name: String,
    phone: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordForm {
    csrf: String,
    password: String,
    password_confirm: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResendBody {
    login_id: String,
    email: String,
}

fn page(app: &App, req: &Request, status: u16, render: impl FnOnce(&str) -> String) -> Response {
    let csrf = Csrf::for_page(app, req);
    let mut r = web::html(status, render(&csrf.token));
    csrf.attach(app, &mut r);
    web::remember_lang(req, &mut r);
    r
}

fn identity_page(
    app: &App,
    req: &Request,
    status: u16,
    form: &IdentityForm<'_>,
    error: Option<&str>,
) -> Response {
    let lang = web::lang_of(req);
    page(app, req, status, |csrf| {
        tobira::pages::setup(lang, req, &app.config.brand, csrf, form, error)
    })
}

async fn setup_page(app: &App, req: &Request) -> Response {
    let token = web::query_param(req, "token").unwrap_or_default();
    match app.check_setup_token(&token).await {
        Ok(()) => {
            let form = IdentityForm {
                token: &token,
                email: "",
                name: "",
                phone: "",
            };
            identity_page(app, req, 200, &form, None)
        }
        Err(e) => web::error_page(app, req, &e),
    }
}

async fn verify_form(app: &App, req: &Request) -> Response {
    let f: VerifyForm = match web::checked_form(app, req, |f: &VerifyForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    let ctx = web::ctx(req);
    match app
        .verify_identity(&f.token, &f.email, &f.name, &f.phone, &ctx)
        .await
    {
        Ok(grant) => {
            let mut r = web::redirect("/setup/password");
            web::set_cookie(
                &mut r,
                &app.config,
                GRANT,
                &grant.0,
                Some(app.config.grant_ttl.as_secs()),
            );
            r
        }
        Err(e @ (Error::IdentityMismatch | Error::Throttled { .. })) => {
            let form = IdentityForm {
                token: &f.token,
                email: &f.email,
                name: &f.name,
                phone: &f.phone,
            };
            let mut r = identity_page(
                app,
                req,
                e.status(),
                &form,
                Some(&web::error_message(&e, ctx.lang)),
            );
            if let Some(s) = e.retry_after_s() {
                r.headers_mut().insert(http_retry_after(), s.into());
            }
            r
        }
        Err(e) => web::error_page(app, req, &e),
    }
}

fn http_retry_after() -> lambda_http::http::header::HeaderName {
    lambda_http::http::header::RETRY_AFTER
}

fn password_form_page(
    app: &App,
    req: &Request,
    status: u16,
    unmet: &[&str],
    error: Option<&str>,
) -> Response {
    let lang = web::lang_of(req);
    page(app, req, status, |csrf| {
        tobira::pages::password(
            lang,
            req,
            &app.config.brand,
            csrf,
            app.config.password_preset,
            unmet,
            error,
        )
    })
}

fn grant_expired(app: &App, req: &Request) -> Response {
    let lang = web::lang_of(req);
    let body = tobira::pages::message(
        lang,
        req,
        &app.config.brand,
        t(lang, "password.title"),
        t(lang, "password.grant_expired"),
    );
    web::html(401, body)
}

async fn password_page(app: &App, req: &Request) -> Response {
    let grant = web::named_cookie(req, &app.config, GRANT).unwrap_or_default();
    match app.check_grant(&grant).await {
        Ok(()) => password_form_page(app, req, 200, &[], None),
        Err(Error::NotSignedIn) => grant_expired(app, req),
        Err(e) => web::error_page(app, req, &e),
    }
}

async fn password_form(app: &App, req: &Request) -> Response {
    let f: PasswordForm = match web::checked_form(app, req, |f: &PasswordForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    let lang = web::lang_of(req);
    if f.password != f.password_confirm {
        return password_form_page(app, req, 400, &[], Some(t(lang, "password.mismatch")));
    }
    let grant = web::named_cookie(req, &app.config, GRANT).unwrap_or_default();
    let result = match Password::parse(&f.password) {
        Ok(pw) => app.set_initial_password(&grant, &pw, &web::ctx(req)).await,
        Err(_) => Err(Error::WeakPassword {
            unmet: vec!["length"],
        }),
    };
    match result {
        Ok(()) => {
            let mut r = web::redirect("/login?setup=done");
            web::set_cookie(&mut r, &app.config, GRANT, "", Some(0));
            r
        }
        Err(Error::WeakPassword { unmet }) => {
            password_form_page(app, req, 400, &unmet, Some(t(lang, "password.weak")))
        }
        Err(Error::NotSignedIn) => grant_expired(app, req),
        Err(e) => web::error_page(app, req, &e),
    }
}

async fn api_verify(app: &App, req: &Request) -> Response {
    let ctx = web::ctx(req);
    let result = async {
        let b: VerifyBody = web::json_body(req)?;
        app.verify_identity(&b.token, &b.email, &b.name, &b.phone, &ctx)
            .await
    }
    .await;
    match result {
        Ok(grant) => {
            let mut r = web::json(
                200,
                &serde_json::json!({ "next": "password", "expires_in_s": app.config.grant_ttl.as_secs() }),
            );
            web::set_cookie(
                &mut r,
                &app.config,
                GRANT,
                &grant.0,
                Some(app.config.grant_ttl.as_secs()),
            );
            r
        }
        Err(e) => web::error_response(&e, ctx.lang),
    }
}

async fn api_password(app: &App, req: &Request) -> Response {
    let ctx = web::ctx(req);
    let result = async {
        let b: PasswordBody = web::json_body(req)?;
        let pw = Password::parse(&b.password).map_err(|_| Error::WeakPassword {
            unmet: vec!["length"],
        })?;
        let grant = web::named_cookie(req, &app.config, GRANT).ok_or(Error::NotSignedIn)?;
        app.set_initial_password(&grant, &pw, &ctx).await
    }
    .await;
    match result {
        Ok(()) => {
            let mut r = web::json(200, &serde_json::json!({ "next": "login" }));
            web::set_cookie(&mut r, &app.config, GRANT, "", Some(0));
            r
        }
        Err(e) => web::error_response(&e, ctx.lang),
    }
}

async fn api_resend(app: &App, req: &Request) -> Response {
    let ctx = web::ctx(req);
    let result = async {
        let b: ResendBody = web::json_body(req)?;
        app.resend_setup_link(&b.login_id, &b.email, &ctx).await?;
        Ok((202, serde_json::json!({})))
    }
    .await;
    web::api(result, ctx.lang)
}
