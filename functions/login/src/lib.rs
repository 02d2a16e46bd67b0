//! The `login` function: sign-in (LOG-1..4), the second-factor challenge
//! (MFA-3..8), the terms (TOS-1), the dashboard, `GET /api/me`, remembered
//! devices and sign-out (SES-1, SES-2).

use serde::{Deserialize, Serialize};
use tobira::i18n::t;
use tobira::ids::Password;
use tobira::mfa::Proof;
use tobira::session::Stage;
use tobira::views::{self, session_cookie, with_device, with_session, without_session};
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
        ("GET", "/") => views::dashboard(app, &req, 200, None).await,
        ("GET", "/login") => {
            let lang = web::lang_of(&req);
            let notice = match web::query_param(&req, "setup").as_deref() {
                Some("done") => Some(t(lang, "login.setup_done")),
                _ => views::flash(&req, "notice"),
            };
            login_page(app, &req, 200, None, notice, "")
        }
        ("POST", "/login") => login_form(app, &req).await,
        ("POST", "/logout") => logout_form(app, &req).await,
        ("GET", "/login/mfa") => {
            let method = web::query_param(&req, "method");
            views::challenge(app, &req, 200, method.as_deref(), None).await
        }
        ("POST", "/login/mfa") => mfa_form(app, &req).await,
        ("GET", "/terms") => views::terms(app, &req, 200, None).await,
        ("POST", "/terms") => terms_form(app, &req).await,
        ("POST", "/devices/forget") => forget_form(app, &req).await,
        ("POST", "/api/login") => api_login(app, &req).await,
        ("POST", "/api/login/mfa") => api_mfa(app, &req).await,
        ("POST", "/api/terms/accept") => api_terms(app, &req).await,
        ("POST", "/api/devices/forget") => api_forget(app, &req).await,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MfaBody {
    method: String,
    code: String,
    #[serde(default)]
    remember_device: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MfaForm {
    csrf: String,
    method: String,
    code: String,
    #[serde(default)]
    remember_device: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TermsBody {
    version: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TermsForm {
    csrf: String,
    version: String,
    #[serde(default)]
    agree: Option<String>,
}

#[derive(Serialize)]
struct Next {
    next: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    methods: Vec<String>,
    /// SET-4: the method an admin chose, when enrolment is next.
    #[serde(skip_serializing_if = "Option::is_none")]
    enroll_method: Option<String>,
    /// TOS-1: the version to accept, when the terms are next.
    #[serde(skip_serializing_if = "Option::is_none")]
    terms_version: Option<String>,
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
    let brand = &app.config.brand;
    web::page(app, req, status, |csrf| {
        tobira::pages::login(lang, req, brand, csrf, error, notice, login_id)
    })
}

/// SES-1: a sign-in never continues an earlier session: it is ended.
async fn end_previous(app: &App, req: &Request) {
    if let Some(old) = session_cookie(app, req) {
        let _ = app.logout(&old, &web::ctx(req)).await;
    }
}

async fn sign_in(
    app: &App,
    req: &Request,
    login_id: &str,
    password: &str,
) -> Result<tobira::login::SignedIn, Error> {
    let pw = Password::parse(password).map_err(|_| Error::InvalidCredentials)?;
    let device = web::named_cookie(req, &app.config, "device");
    let signed = app
        .login_with_device(login_id, &pw, device.as_deref(), &web::ctx(req))
        .await?;
    end_previous(app, req).await;
    Ok(signed)
}

async fn login_form(app: &App, req: &Request) -> Response {
    let form: LoginForm = match web::checked_form(app, req, |f: &LoginForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    match sign_in(app, req, &form.login_id, &form.password).await {
        Ok(s) => with_session(app, web::redirect(views::stage_path(s.stage)), &s.session),
        Err(e @ Error::InvalidCredentials) => login_page(
            app,
            req,
            401,
            Some(&web::error_message(&e, web::lang_of(req))),
            None,
            &form.login_id,
        ),
        Err(e) => web::error_page(app, req, &e),
    }
}

async fn api_login(app: &App, req: &Request) -> Response {
    let lang = web::lang_of(req);
    let result = async {
        let body: LoginBody = web::json_body(req)?;
        sign_in(app, req, &body.login_id, &body.password).await
    }
    .await;
    match result {
        Ok(s) => {
            let next = Next {
                next: s.stage.next(),
                methods: if s.stage == Stage::Mfa {
                    s.methods
                } else {
                    Vec::new()
                },
                enroll_method: s.preset_method.filter(|_| s.stage == Stage::Enroll),
                terms_version: (s.stage == Stage::Terms).then(|| app.config.terms_version.clone()),
            };
            with_session(app, web::json(200, &next), &s.session)
        }
        Err(e) => web::error_response(&e, lang),
    }
}

async fn mfa_form(app: &App, req: &Request) -> Response {
    let form: MfaForm = match web::checked_form(app, req, |f: &MfaForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    let lang = web::lang_of(req);
    let token = session_cookie(app, req);
    let result = async {
        let proof = Proof::parse(&form.method)?;
        let remember = form.remember_device.as_deref() == Some("true");
        app.verify_second_factor(
            token.as_deref(),
            proof,
            &form.code,
            remember,
            &web::ctx(req),
        )
        .await
    }
    .await;
    match result {
        Ok(a) => {
            let r = with_session(app, web::redirect(views::stage_path(a.stage)), &a.session);
            with_device(app, r, a.device.as_deref())
        }
        Err(e @ (Error::InvalidCode | Error::Invalid { .. })) => {
            let msg = web::error_message(&e, lang);
            views::challenge(app, req, e.status(), Some(&form.method), Some(&msg)).await
        }
        Err(e) => views::refused_or_locked(app, req, &e).await,
    }
}

async fn api_mfa(app: &App, req: &Request) -> Response {
    let lang = web::lang_of(req);
    let token = session_cookie(app, req);
    let result = async {
        let body: MfaBody = web::json_body(req)?;
        let proof = Proof::parse(&body.method)?;
        app.verify_second_factor(
            token.as_deref(),
            proof,
            &body.code,
            body.remember_device,
            &web::ctx(req),
        )
        .await
    }
    .await;
    match result {
        Ok(a) => {
            let mut body = serde_json::json!({ "next": a.stage.next() });
            if a.stage == Stage::Terms {
                body["terms_version"] = serde_json::json!(app.config.terms_version);
            }
            let r = with_session(app, web::json(200, &body), &a.session);
            with_device(app, r, a.device.as_deref())
        }
        // A fifth failure ends the half session (LOG-2): so does its cookie.
        Err(e) => views::clear_if_ended(app, req, web::error_response(&e, lang)).await,
    }
}

async fn terms_form(app: &App, req: &Request) -> Response {
    let form: TermsForm = match web::checked_form(app, req, |f: &TermsForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    let lang = web::lang_of(req);
    if form.agree.as_deref() != Some("true") {
        return views::terms(app, req, 400, Some(t(lang, "terms.agree"))).await;
    }
    let token = session_cookie(app, req);
    match app
        .accept_terms(token.as_deref(), &form.version, &web::ctx(req))
        .await
    {
        Ok(()) => web::redirect("/"),
        Err(Error::Conflict { .. }) => {
            views::terms(app, req, 409, Some(t(lang, "terms.changed"))).await
        }
        Err(e) => views::session_refused(app, req, &e).await,
    }
}

async fn api_terms(app: &App, req: &Request) -> Response {
    let lang = web::lang_of(req);
    let token = session_cookie(app, req);
    let result = async {
        let body: TermsBody = web::json_body(req)?;
        app.accept_terms(token.as_deref(), &body.version, &web::ctx(req))
            .await?;
        Ok((200, serde_json::json!({ "next": "done" })))
    }
    .await;
    web::api(result, lang)
}

async fn forget_form(app: &App, req: &Request) -> Response {
    if let Err(e) = web::checked_form(app, req, |f: &CsrfForm| &f.csrf) {
        return web::error_page(app, req, &e);
    }
    let token = session_cookie(app, req);
    match app.forget_devices(token.as_deref(), &web::ctx(req)).await {
        Ok(()) => web::redirect("/?notice=forgotten"),
        Err(e) => views::session_refused(app, req, &e).await,
    }
}

async fn api_forget(app: &App, req: &Request) -> Response {
    let lang = web::lang_of(req);
    let token = session_cookie(app, req);
    let result = async {
        web::empty_body(req)?;
        app.forget_devices(token.as_deref(), &web::ctx(req)).await
    }
    .await;
    match result {
        Ok(()) => web::no_content(),
        Err(e) => web::error_response(&e, lang),
    }
}

async fn api_me(app: &App, req: &Request) -> Response {
    let lang = web::lang_of(req);
    let result = async {
        let cookie = session_cookie(app, req);
        let s = app
            .signed(
                cookie.as_deref(),
                &[Stage::Mfa, Stage::Enroll, Stage::Terms, Stage::Full],
            )
            .await?;
        let user = s.user;
        let stage = s.session.stage;
        if stage != Stage::Full {
            // SES-2: a half-signed-in session learns where sign-in stands
            // and what comes next, nothing personal (no name, e-mail, tenant).
            let next = Next {
                next: stage.next(),
                methods: if stage == Stage::Mfa {
                    user.methods.clone()
                } else {
                    Vec::new()
                },
                enroll_method: user.preset_method.clone().filter(|m| {
                    stage == Stage::Enroll
                        && tobira::mfa::Method::parse(m)
                            .is_some_and(|m| app.enrollable(&user).contains(&m))
                }),
                terms_version: (stage == Stage::Terms).then(|| app.config.terms_version.clone()),
            };
            let mut body = serde_json::to_value(next).expect("answers serialise");
            body["stage"] = serde_json::json!(stage);
            return Ok((200, body));
        }
        Ok((
            200,
            serde_json::json!({
                "user": {
                    "id": user.id, "login_id": user.login_id, "name": user.name, "email": user.email,
                    "role": user.role, "lang": user.lang,
                },
                "tenant": { "id": user.tenant_id, "parent_id": user.parent_tenant_id },
                "methods": user.methods,
                "stage": s.session.stage,
                "terms": {
                    "current_version": app.config.terms_version,
                    "accepted_version": user.terms.as_ref().map(|a| a.version.clone()),
                },
            }),
        ))
    }
    .await;
    web::api(result, lang)
}

async fn api_logout(app: &App, req: &Request) -> Response {
    let ctx = web::ctx(req);
    if let Err(e) = web::empty_body(req) {
        return web::error_response(&e, ctx.lang);
    }
    if let Some(token) = session_cookie(app, req) {
        if let Err(e) = app.logout(&token, &ctx).await {
            return web::error_response(&e, ctx.lang);
        }
    }
    without_session(app, web::no_content())
}

async fn logout_form(app: &App, req: &Request) -> Response {
    if let Err(e) = web::checked_form(app, req, |f: &CsrfForm| &f.csrf) {
        return web::error_page(app, req, &e);
    }
    if let Some(token) = session_cookie(app, req) {
        if let Err(e) = app.logout(&token, &web::ctx(req)).await {
            return web::error_page(app, req, &e);
        }
    }
    without_session(app, web::redirect("/login"))
}
