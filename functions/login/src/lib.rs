//! The `login` function: sign-in (LOG-1..4), the second-factor challenge
//! (MFA-3..8), the terms (TOS-1), the dashboard, `GET /api/me`, remembered
//! devices and sign-out (SES-1, SES-2), and passkeys at sign-in (MFA-10,
//! `passkey`). One handler per use case serves the page and the JSON
//! client (`tobira_web::call`).

mod passkey;

use serde::{Deserialize, Serialize};
use tobira::config::Document;
use tobira::login::SignIn;
use tobira::mfa::Proof;
use tobira::session::Stage;
use tobira::{App, Error};
use tobira_web::call::Call;
use tobira_web::errors;
use tobira_web::i18n::t;
use tobira_web::or_refuse;
use tobira_web::pages;
use tobira_web::views::{self, with_device, with_session, without_session};
use tobira_web::web::{self, Response};

tobira_web::handler!(routes);

/// The function's routes: one handler per use case, page and JSON alike.
async fn routes(app: &App, call: &Call<'_>) -> Response {
    let req = call.req;
    match (req.method().as_str(), req.uri().path()) {
        ("GET", "/") => views::dashboard(app, req, 200, None).await,
        ("GET", "/login") => {
            let notice = match web::query_param(req, "setup").as_deref() {
                Some("done") => Some(t(call.lang, "login.setup_done")),
                _ => views::flash(req, "notice"),
            };
            let hint = views::login_hint(app, req).unwrap_or_default();
            login_page(app, call, 200, None, notice, &hint)
        }
        ("POST", "/login" | "/api/login") => login(app, call).await,
        ("GET", "/login/mfa") => {
            let method = web::query_param(req, "method");
            views::challenge(app, req, 200, method.as_deref(), None).await
        }
        ("POST", "/login/mfa" | "/api/login/mfa") => second_factor(app, call).await,
        ("POST", "/api/login/passkey/begin") => passkey::begin(app, call).await,
        ("POST", "/api/login/passkey/finish") => passkey::finish(app, call).await,
        ("POST", "/login/passkey") => passkey::page(app, call).await,
        ("GET", "/terms") => views::terms(app, req, 200, None).await,
        ("GET", "/static/tobira.js") => web::script(),
        ("GET", "/legal/terms") => legal(app, call, Document::Terms),
        ("GET", "/legal/privacy") => legal(app, call, Document::Privacy),
        ("POST", "/terms" | "/api/terms/accept") => terms(app, call).await,
        ("POST", "/devices/forget" | "/api/devices/forget") => forget(app, call).await,
        ("GET", "/api/me") => me(app, call).await,
        ("POST", "/logout" | "/api/logout") => logout(app, call).await,
        _ => errors::not_found(app, req),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginInput {
    login_id: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MfaInput {
    method: String,
    code: String,
    /// MFA-7; the page's checkbox sends `true`.
    #[serde(default)]
    remember_device: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TermsInput {
    version: String,
    /// The privacy policy's version the page showed (the JSON client may
    /// leave it out: then the current one is recorded).
    #[serde(default)]
    privacy_version: Option<String>,
}

#[derive(Serialize)]
struct Next {
    next: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    methods: Vec<String>,
    /// SET-4: the method an admin chose, when enrolment is next.
    #[serde(skip_serializing_if = "Option::is_none")]
    enroll_method: Option<String>,
    /// TOS-1: the versions to accept, when the terms are next.
    #[serde(skip_serializing_if = "Option::is_none")]
    terms_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    privacy_version: Option<String>,
}

fn login_page(
    app: &App,
    call: &Call<'_>,
    status: u16,
    error: Option<&str>,
    notice: Option<&str>,
    login_id: &str,
) -> Response {
    views::frame_page(app, call.req, status, |f| {
        let lock = &app.config.login_lock;
        let rule = (lock.max_failures, lock.lock_for.as_secs() / 60);
        let passwordless = app.config.factors.passwordless;
        tobira_web::pages::login(f, error, notice, login_id, rule, passwordless)
    })
}

/// LOG-1..4: the password step.
async fn login(app: &App, call: &Call<'_>) -> Response {
    let input: LoginInput = or_refuse!(app, call, call.input(app));
    let device = web::named_cookie(call.req, &app.config, "device");
    let sign_in = SignIn {
        login_id: &input.login_id,
        password: &input.password,
        device: device.as_deref(),
        previous: call.session(),
    };
    match (app.sign_in(sign_in, &call.ctx).await, call.is_json()) {
        (Ok(s), true) => {
            let next = Next {
                next: s.stage.next(),
                methods: if s.stage == Stage::Mfa {
                    s.methods
                } else {
                    Vec::new()
                },
                enroll_method: s.preset_method.filter(|_| s.stage == Stage::Enroll),
                terms_version: (s.stage == Stage::Terms)
                    .then(|| app.config.documents.terms_version.clone()),
                privacy_version: (s.stage == Stage::Terms)
                    .then(|| app.config.documents.privacy_version.clone()),
            };
            with_session(app, web::json(200, &next), &s.session)
        }
        (Ok(s), false) => with_session(app, web::redirect(views::stage_path(s.stage)), &s.session),
        (Err(e @ Error::InvalidCredentials), false) => {
            let msg = errors::error_message(&e, call.lang);
            login_page(app, call, 401, Some(&msg), None, &input.login_id)
        }
        (Err(e), _) => call.refuse(app, &e),
    }
}

/// MFA-3..7: the second step.
async fn second_factor(app: &App, call: &Call<'_>) -> Response {
    let input: MfaInput = or_refuse!(app, call, call.input(app));
    let result = match Proof::parse(&input.method) {
        Ok(proof) => {
            app.verify_second_factor(
                call.session(),
                proof,
                &input.code,
                input.remember_device,
                &call.ctx,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match (result, call.is_json()) {
        (Ok(a), _) => advanced(app, call, &a),
        // A fifth failure ends the half session (LOG-2): so does its cookie.
        (Err(e), true) => {
            views::clear_if_ended(app, call.req, errors::error_response(&e, call.lang)).await
        }
        (
            Err(e @ (Error::InvalidCode | Error::CodeAlreadyUsed { .. } | Error::Invalid { .. })),
            false,
        ) => {
            let msg = errors::error_message(&e, call.lang);
            let status = errors::status(&e);
            views::challenge(app, call.req, status, Some(&input.method), Some(&msg)).await
        }
        (Err(e), false) => views::refused_or_locked(app, call.req, &e).await,
    }
}

/// The answer to a step that signed in further (a second factor, a
/// passkey): `next` (and the terms' versions when they are next), or the
/// next stage's page; the new session's cookie (SES-1) and a remembered
/// device's (MFA-7).
fn advanced(app: &App, call: &Call<'_>, a: &tobira::mfa::Advanced) -> Response {
    let r = if call.is_json() {
        let mut body = serde_json::json!({ "next": a.stage.next() });
        if a.stage == Stage::Terms {
            let docs = &app.config.documents;
            body["terms_version"] = serde_json::json!(docs.terms_version);
            body["privacy_version"] = serde_json::json!(docs.privacy_version);
        }
        web::json(200, &body)
    } else {
        web::redirect(views::stage_path(a.stage))
    };
    with_device(app, with_session(app, r, &a.session), a.device.as_deref())
}

/// TOS-1: accepting the current terms (the page asks for a ticked box).
async fn terms(app: &App, call: &Call<'_>) -> Response {
    let (input, page) = or_refuse!(app, call, call.input_with::<TermsInput>(app, &["agree"]));
    if !call.is_json() && !page.ticked("agree") {
        return views::terms(app, call.req, 400, Some(t(call.lang, "terms.agree"))).await;
    }
    let result = app
        .accept_terms(
            call.session(),
            &input.version,
            input.privacy_version.as_deref(),
            &call.ctx,
        )
        .await;
    match (result, call.is_json()) {
        (result, true) => errors::api(
            result.map(|()| (200, serde_json::json!({ "next": "done" }))),
            call.lang,
        ),
        (Ok(()), false) => web::redirect("/"),
        (Err(Error::Conflict { .. }), false) => {
            views::terms(app, call.req, 409, Some(t(call.lang, "terms.changed"))).await
        }
        (Err(e), false) => views::session_refused(app, call.req, &e).await,
    }
}

/// TOS-1, CLM-2: the portal's own page of a document (anyone may read it).
fn legal(app: &App, call: &Call<'_>, doc: Document) -> Response {
    views::frame_page(app, call.req, 200, |f| pages::legal(f, doc))
}

/// MFA-7: forgetting every remembered device.
async fn forget(app: &App, call: &Call<'_>) -> Response {
    or_refuse!(app, call, call.no_input(app));
    match (
        app.forget_devices(call.session(), &call.ctx).await,
        call.is_json(),
    ) {
        (Ok(()), true) => web::no_content(),
        (Ok(()), false) => web::redirect("/?notice=forgotten"),
        (Err(e), true) => errors::error_response(&e, call.lang),
        (Err(e), false) => views::session_refused(app, call.req, &e).await,
    }
}

/// SES-2: who is signed in, or only where a half sign-in stands.
async fn me(app: &App, call: &Call<'_>) -> Response {
    let result = async {
        let s = app
            .signed(
                call.session(),
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
                terms_version: (stage == Stage::Terms).then(|| app.config.documents.terms_version.clone()),
                privacy_version: (stage == Stage::Terms)
                    .then(|| app.config.documents.privacy_version.clone()),
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
                    "current_version": app.config.documents.terms_version,
                    "accepted_version": user.terms.as_ref().map(|a| a.version.clone()),
                },
                "privacy": {
                    "current_version": app.config.documents.privacy_version,
                    "accepted_version": user.privacy.as_ref().map(|a| a.version.clone()),
                },
            }),
        ))
    }
    .await;
    errors::api(result, call.lang)
}

/// SES-1: sign-out ends the session and its cookie.
async fn logout(app: &App, call: &Call<'_>) -> Response {
    or_refuse!(app, call, call.no_input(app));
    if let Some(token) = call.session() {
        if let Err(e) = app.logout(token, &call.ctx).await {
            return call.refuse(app, &e);
        }
    }
    let done = if call.is_json() {
        web::no_content()
    } else {
        web::redirect("/login?notice=signed_out")
    };
    without_session(app, done)
}
