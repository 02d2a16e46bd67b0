//! The `verify-identity` function: the setup link's page, the identity check
//! (SET-2), the first password (SET-3) and new setup links (SET-1); the
//! legacy portal's identity correction during the window (MIG-11); claiming
//! legacy accounts by service ID (CLM-1..3).

use serde::Deserialize;
use tobira::claim::Claimed;
use tobira::i18n::t;
use tobira::ids::Password;
use tobira::migration::IdentityUpdate;
use tobira::pages::{ClaimRegisterForm, IdentityForm};
use tobira::random::{ct_eq, token_hash};
use tobira::session::{Session, Stage};
use tobira::web::{self, Request, Response};
use tobira::{App, Error};

const GRANT: &str = "grant";
/// CLM-1 → CLM-2: the proven legacy account, for the registration step.
const CLAIM: &str = "claim";

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
        ("GET", "/setup") => setup_page(app, &req).await,
        ("POST", "/setup/verify") => verify_form(app, &req).await,
        ("GET", "/setup/password") => password_page(app, &req).await,
        ("POST", "/setup/password") => password_form(app, &req).await,
        ("POST", "/api/setup/verify") => api_verify(app, &req).await,
        ("POST", "/api/setup/password") => api_password(app, &req).await,
        ("POST", "/api/setup/resend") => api_resend(app, &req).await,
        ("GET", "/api/setup/identity") => api_identity_show(app, &req).await,
        ("POST", "/api/setup/identity") => api_identity_correct(app, &req).await,
        ("GET", "/claim") => claim_page(app, &req, 200, None, ""),
        ("POST", "/claim") => claim_form(app, &req).await,
        ("GET", "/claim/register") => claim_register_page(app, &req),
        ("POST", "/claim/register") => claim_register_form(app, &req).await,
        ("POST", "/api/claim") => api_claim(app, &req).await,
        ("POST", "/api/claim/register") => api_claim_register(app, &req).await,
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

fn identity_page(
    app: &App,
    req: &Request,
    status: u16,
    form: &IdentityForm<'_>,
    error: Option<&str>,
) -> Response {
    let lang = web::lang_of(req);
    web::page(app, req, status, |csrf| {
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
    web::page(app, req, status, |csrf| {
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
        // SET-1: one answer at one pace, whatever matched (as RST-1).
        web::paced(
            app.config.forgot_floor,
            app.resend_setup_link(&b.login_id, &b.email, &ctx),
        )
        .await?;
        Ok((202, serde_json::json!({})))
    }
    .await;
    web::api(result, ctx.lang)
}

// ------------------------------------------------------------------ MIG-11

/// MIG-11: the legacy portal authenticates with `Authorization: Bearer <key>`,
/// the key whose SHA-256 (hex) is configured. No key configured, no header,
/// another scheme or another key: 401. A customer session never counts.
fn legacy_portal(app: &App, req: &Request) -> Result<(), Error> {
    let expected = app
        .config
        .legacy_portal_key_sha256
        .as_deref()
        .ok_or(Error::InvalidCredentials)?;
    let key = web::header(req, "authorization")
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim())
        .filter(|key| !key.is_empty())
        .ok_or(Error::InvalidCredentials)?;
    if ct_eq(token_hash(key).as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(Error::InvalidCredentials)
    }
}

/// An API answer for the legacy portal; a 401 says which scheme to use.
fn portal_answer(result: Result<(u16, serde_json::Value), Error>, req: &Request) -> Response {
    let unauthorized = matches!(result, Err(Error::InvalidCredentials));
    let mut r = web::api(result, web::lang_of(req));
    if unauthorized {
        r.headers_mut().insert(
            lambda_http::http::header::WWW_AUTHENTICATE,
            lambda_http::http::HeaderValue::from_static("Bearer"),
        );
    }
    r
}

async fn api_identity_show(app: &App, req: &Request) -> Response {
    let result = async {
        legacy_portal(app, req)?;
        let login_id = web::query_param(req, "login_id")
            .ok_or_else(|| Error::invalid("invalid_login_id", "the query needs login_id"))?;
        let view = app.legacy_identity(&login_id).await?;
        Ok((200, serde_json::to_value(view).expect("serialises")))
    }
    .await;
    portal_answer(result, req)
}

async fn api_identity_correct(app: &App, req: &Request) -> Response {
    let ctx = web::ctx(req);
    let result = async {
        legacy_portal(app, req)?;
        let upd: IdentityUpdate = web::json_body(req)?;
        app.correct_identity(&upd, &ctx).await?;
        Ok((202, serde_json::json!({ "sent": true })))
    }
    .await;
    portal_answer(result, req)
}

// ------------------------------------------------------------------ CLM-1..3

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimBody {
    service_id: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimForm {
    csrf: String,
    service_id: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimRegisterBody {
    email: String,
    accept_terms: bool,
    accept_privacy: bool,
}

/// Unticked checkboxes are simply absent from a form post.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimRegisterPost {
    csrf: String,
    email: String,
    #[serde(default)]
    accept_terms: Option<String>,
    #[serde(default)]
    accept_privacy: Option<String>,
}

/// CLM-3: a full session links to the signed-in account; anything else
/// (no cookie, expired, half signed in) claims as a new registration. A
/// store fault is not taken for "signed out".
async fn full_session(app: &App, req: &Request) -> Result<Option<Session>, Error> {
    let cookie = web::named_cookie(req, &app.config, "session");
    match app.session_at(cookie.as_deref(), &[Stage::Full]).await {
        Ok(s) => Ok(Some(s)),
        Err(e @ Error::Unavailable { .. }) => Err(e),
        Err(_) => Ok(None),
    }
}

/// CLM-1: an unusable password is one more wrong password (same answer).
async fn do_claim(
    app: &App,
    req: &Request,
    service_id: &str,
    password: &str,
) -> Result<Claimed, Error> {
    let ctx = web::ctx(req);
    let signed_in = full_session(app, req).await?;
    let pw = Password::parse(password).map_err(|_| Error::InvalidCredentials)?;
    app.claim(service_id, &pw, signed_in.as_ref(), &ctx).await
}

fn with_claim_cookie(app: &App, mut r: Response, grant: &str) -> Response {
    web::set_cookie(
        &mut r,
        &app.config,
        CLAIM,
        grant,
        Some(app.config.grant_ttl.as_secs()),
    );
    r
}

fn clear_claim_cookie(app: &App, mut r: Response) -> Response {
    web::set_cookie(&mut r, &app.config, CLAIM, "", Some(0));
    r
}

async fn api_claim(app: &App, req: &Request) -> Response {
    let lang = web::lang_of(req);
    let result = async {
        let b: ClaimBody = web::json_body(req)?;
        do_claim(app, req, &b.service_id, &b.password).await
    }
    .await;
    match result {
        Ok(Claimed::Register { grant }) => {
            let body = serde_json::json!({
                "next": "register",
                "expires_in_s": app.config.grant_ttl.as_secs(),
            });
            with_claim_cookie(app, web::json(200, &body), &grant)
        }
        Ok(Claimed::Linked { service_ids }) => web::json(
            200,
            &serde_json::json!({ "next": "done", "service_ids": service_ids }),
        ),
        Err(e) => web::error_response(&e, lang),
    }
}

async fn api_claim_register(app: &App, req: &Request) -> Response {
    let ctx = web::ctx(req);
    let result = async {
        let b: ClaimRegisterBody = web::json_body(req)?;
        let grant = web::named_cookie(req, &app.config, CLAIM).ok_or(Error::NotSignedIn)?;
        app.claim_register(&grant, &b.email, b.accept_terms, b.accept_privacy, &ctx)
            .await
    }
    .await;
    match result {
        Ok(()) => clear_claim_cookie(app, web::json(202, &serde_json::json!({ "next": "mail" }))),
        Err(e) => web::error_response(&e, ctx.lang),
    }
}

fn claim_page(
    app: &App,
    req: &Request,
    status: u16,
    error: Option<&str>,
    service_id: &str,
) -> Response {
    let lang = web::lang_of(req);
    web::page(app, req, status, |csrf| {
        tobira::pages::claim(lang, req, &app.config.brand, csrf, error, service_id)
    })
}

async fn claim_form(app: &App, req: &Request) -> Response {
    let f: ClaimForm = match web::checked_form(app, req, |f: &ClaimForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    let lang = web::lang_of(req);
    match do_claim(app, req, &f.service_id, &f.password).await {
        Ok(Claimed::Register { grant }) => {
            with_claim_cookie(app, web::redirect("/claim/register"), &grant)
        }
        Ok(Claimed::Linked { service_ids }) => {
            let text = format!("{}{}", t(lang, "claim.linked"), service_ids.join(", "));
            web::message_page(app, req, 200, t(lang, "claim.linked_title"), &text)
        }
        Err(Error::InvalidCredentials) => {
            claim_page(app, req, 401, Some(t(lang, "claim.failed")), &f.service_id)
        }
        Err(e @ Error::Throttled { .. }) => {
            let mut r = claim_page(
                app,
                req,
                e.status(),
                Some(t(lang, "claim.blocked")),
                &f.service_id,
            );
            if let Some(s) = e.retry_after_s() {
                r.headers_mut().insert(http_retry_after(), s.into());
            }
            r
        }
        Err(e @ Error::Invalid { .. }) => claim_page(
            app,
            req,
            e.status(),
            Some(&web::error_message(&e, lang)),
            &f.service_id,
        ),
        Err(e) => web::error_page(app, req, &e),
    }
}

fn claim_register_form_page(
    app: &App,
    req: &Request,
    status: u16,
    form: &ClaimRegisterForm<'_>,
    error: Option<&str>,
) -> Response {
    let lang = web::lang_of(req);
    web::page(app, req, status, |csrf| {
        tobira::pages::claim_register(lang, req, &app.config.brand, csrf, form, error)
    })
}

fn claim_expired(app: &App, req: &Request, status: u16) -> Response {
    let lang = web::lang_of(req);
    let r = web::message_page(
        app,
        req,
        status,
        t(lang, "claim_register.title"),
        t(lang, "claim_register.expired"),
    );
    clear_claim_cookie(app, r)
}

/// The form needs the claim cookie; whether it is still valid is checked
/// when the form is posted (the grant is single-use and short-lived).
fn claim_register_page(app: &App, req: &Request) -> Response {
    if web::named_cookie(req, &app.config, CLAIM).is_none() {
        return claim_expired(app, req, 401);
    }
    let form = ClaimRegisterForm {
        email: "",
        accept_terms: false,
        accept_privacy: false,
    };
    claim_register_form_page(app, req, 200, &form, None)
}

async fn claim_register_form(app: &App, req: &Request) -> Response {
    let f: ClaimRegisterPost = match web::checked_form(app, req, |f: &ClaimRegisterPost| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    let lang = web::lang_of(req);
    let Some(grant) = web::named_cookie(req, &app.config, CLAIM) else {
        return claim_expired(app, req, 401);
    };
    let form = ClaimRegisterForm {
        email: &f.email,
        accept_terms: f.accept_terms.is_some(),
        accept_privacy: f.accept_privacy.is_some(),
    };
    let result = app
        .claim_register(
            &grant,
            &f.email,
            form.accept_terms,
            form.accept_privacy,
            &web::ctx(req),
        )
        .await;
    match result {
        Ok(()) => clear_claim_cookie(
            app,
            web::message_page(
                app,
                req,
                200,
                t(lang, "forgot.sent_title"),
                t(lang, "claim_register.sent"),
            ),
        ),
        Err(Error::Invalid { code, .. }) => {
            let key = if code == "terms_not_accepted" {
                "claim_register.terms_required"
            } else {
                "claim_register.invalid_email"
            };
            claim_register_form_page(app, req, 400, &form, Some(t(lang, key)))
        }
        Err(e @ (Error::NotSignedIn | Error::InvalidToken)) => claim_expired(app, req, e.status()),
        Err(e) => web::error_page(app, req, &e),
    }
}
