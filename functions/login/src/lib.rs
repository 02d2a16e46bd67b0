//! The `login` function: the sign-in page and `POST /api/login` (LOG-1..4),
//! `GET /api/me`, sign-out.

use serde::{Deserialize, Serialize};
use tobira::i18n::t;
use tobira::session::Stage;
use tobira::web::{self, Csrf, Request, Response};
use tobira::{App, Error};

pub async fn handle(app: &App, req: Request) -> Response {
    match (req.method().as_str(), req.uri().path()) {
        ("GET", "/") => web::redirect("/login"),
        ("GET", "/login") => {
            let lang = web::lang_of(&req);
            let notice = web::query_param(&req, "setup")
                .filter(|v| v == "done")
                .map(|_| t(lang, "login.setup_done"));
            login_page(app, &req, 200, None, notice, "")
        }
        ("POST", "/login") => login_form(app, &req).await,
        ("POST", "/logout") => logout_form(app, &req).await,
        ("POST", "/api/login") => api_login(app, &req).await,
        ("GET", "/api/me") => api_me(app, &req).await,
        ("POST", "/api/logout") => api_logout(app, &req).await,
        _ => web::not_found(app, &req),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    login_id: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginForm {
    csrf: String,
    login_id: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CsrfForm {
    csrf: String,
}

#[derive(Serialize)]
struct Next {
    next: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    methods: Vec<String>,
}

fn login_page(
    app: &App,
    req: &Request,
    status: u16,
    error: Option<&str>,
    notice: Option<&str>,
    login_id: &str,
) -> Response {
    let lang = web::lang_of(req);
    let csrf = Csrf::for_page(app, req);
    let mut r = web::html(
        status,
        tobira::pages::login(
            lang,
            req,
            &app.config.brand,
            &csrf.token,
            error,
            notice,
            login_id,
        ),
    );
    csrf.attach(app, &mut r);
    web::remember_lang(req, &mut r);
    r
}

fn stage_page(stage: Stage) -> &'static str {
    match stage {
        Stage::Enroll => "/enroll",
        Stage::Mfa => "/login/mfa",
        Stage::Terms => "/terms",
        Stage::Full => "/",
    }
}

fn with_session(app: &App, mut r: Response, session: &str) -> Response {
    web::set_cookie(
        &mut r,
        &app.config,
        "session",
        session,
        Some(app.config.session_absolute.as_secs()),
    );
    r
}

async fn login_form(app: &App, req: &Request) -> Response {
    let form: LoginForm = match web::checked_form(app, req, |f: &LoginForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    let ctx = web::ctx(req);
    let result = match tobira::ids::Password::parse(&form.password) {
        Ok(pw) => app.login(&form.login_id, &pw, &ctx).await,
        Err(_) => Err(Error::InvalidCredentials),
    };
    match result {
        Ok(s) => with_session(app, web::redirect(stage_page(s.stage)), &s.session),
        Err(e @ Error::InvalidCredentials) => login_page(
            app,
            req,
            401,
            Some(&web::error_message(&e, ctx.lang)),
            None,
            &form.login_id,
        ),
        Err(e) => web::error_page(app, req, &e),
    }
}

async fn api_login(app: &App, req: &Request) -> Response {
    let ctx = web::ctx(req);
    let result = async {
        let body: LoginBody = web::json_body(req)?;
        let pw =
            tobira::ids::Password::parse(&body.password).map_err(|_| Error::InvalidCredentials)?;
        app.login(&body.login_id, &pw, &ctx).await
    }
    .await;
    match result {
        Ok(s) => {
            let next = Next {
                next: s.stage.next(),
                methods: s.methods,
            };
            with_session(app, web::json(200, &next), &s.session)
        }
        Err(e) => web::error_response(&e, ctx.lang),
    }
}

async fn api_me(app: &App, req: &Request) -> Response {
    let lang = web::lang_of(req);
    let result = async {
        let cookie = web::named_cookie(req, &app.config, "session");
        let s = app.session_at(cookie.as_deref(), &[Stage::Mfa, Stage::Enroll, Stage::Terms, Stage::Full]).await?;
        let (user, _) = app.user(&s.user_id).await?.ok_or(Error::NotSignedIn)?;
        Ok((
            200,
            serde_json::json!({
                "user": {
                    "id": user.id, "login_id": user.login_id, "name": user.name, "email": user.email,
                    "role": user.role, "lang": user.lang,
                },
                "tenant": { "id": user.tenant_id, "parent_id": user.parent_tenant_id },
                "methods": user.methods,
                "stage": s.stage,
            }),
        ))
    }
    .await;
    web::api(result, lang)
}

fn cleared(app: &App, mut r: Response) -> Response {
    web::set_cookie(&mut r, &app.config, "session", "", Some(0));
    r
}

async fn api_logout(app: &App, req: &Request) -> Response {
    let ctx = web::ctx(req);
    if let Err(e) = web::empty_body(req) {
        return web::error_response(&e, ctx.lang);
    }
    if let Some(token) = web::named_cookie(req, &app.config, "session") {
        if let Err(e) = app.logout(&token, &ctx).await {
            return web::error_response(&e, ctx.lang);
        }
    }
    cleared(app, web::no_content())
}

async fn logout_form(app: &App, req: &Request) -> Response {
    if let Err(e) = web::checked_form(app, req, |f: &CsrfForm| &f.csrf) {
        return web::error_page(app, req, &e);
    }
    if let Some(token) = web::named_cookie(req, &app.config, "session") {
        if let Err(e) = app.logout(&token, &web::ctx(req)).await {
            return web::error_page(app, req, &e);
        }
    }
    cleared(app, web::redirect("/login"))
}
