//! CLM-1..3: claiming a legacy account by service ID and its legacy
//! password, then registering it (a new account) or linking it (to the
//! signed-in account).

use serde::Deserialize;
use tobira::claim::Claimed;
use tobira::{App, Error};
use tobira_web::call::Call;
use tobira_web::errors;
use tobira_web::i18n::t;
use tobira_web::or_refuse;
use tobira_web::pages::ClaimRegisterForm;
use tobira_web::views;
use tobira_web::web::{self, Response};

/// CLM-1 → CLM-2: the proven legacy account, for the registration step.
const CLAIM: &str = "claim";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimInput {
    service_id: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterInput {
    email: String,
    accept_terms: bool,
    accept_privacy: bool,
    /// The versions the client showed (the page sends them); when given,
    /// they must be the current ones (409 `terms_changed`).
    #[serde(default)]
    terms_version: Option<String>,
    #[serde(default)]
    privacy_version: Option<String>,
}

/// The page's registration form: unticked checkboxes are simply absent.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterEmail {
    email: String,
    /// The versions the page showed (a page from before they were sent
    /// has none: then the current ones are recorded, as before).
    #[serde(default)]
    terms_version: Option<String>,
    #[serde(default)]
    privacy_version: Option<String>,
}

fn with_claim_cookie(app: &App, mut r: Response, grant: &str) -> Response {
    let ttl = app.config.grant_ttl.as_secs();
    web::set_cookie(&mut r, &app.config, CLAIM, grant, Some(ttl));
    r
}

fn clear_claim_cookie(app: &App, mut r: Response) -> Response {
    web::set_cookie(&mut r, &app.config, CLAIM, "", Some(0));
    r
}

pub fn page(
    app: &App,
    call: &Call<'_>,
    status: u16,
    error: Option<&str>,
    service_id: &str,
) -> Response {
    views::frame_page(app, call.req, status, |f| {
        tobira_web::pages::claim(f, error, service_id)
    })
}

/// CLM-1: prove the legacy account; CLM-3: with a full session, link it.
pub async fn claim(app: &App, call: &Call<'_>) -> Response {
    let f: ClaimInput = or_refuse!(app, call, call.input(app));
    let lang = call.lang;
    let result = app
        .claim_with_cookie(&f.service_id, &f.password, call.session(), &call.ctx)
        .await;
    match (result, call.is_json()) {
        (Ok(Claimed::Register { grant }), true) => {
            let body = serde_json::json!({
                "next": "register",
                "expires_in_s": app.config.grant_ttl.as_secs(),
            });
            with_claim_cookie(app, web::json(200, &body), &grant)
        }
        (Ok(Claimed::Register { grant }), false) => {
            with_claim_cookie(app, web::redirect("/claim/register"), &grant)
        }
        (Ok(Claimed::Linked { service_ids }), true) => web::json(
            200,
            &serde_json::json!({ "next": "done", "service_ids": service_ids }),
        ),
        (Ok(Claimed::Linked { service_ids }), false) => {
            let text = format!("{}{}", t(lang, "claim.linked"), service_ids.join(", "));
            views::message_page(app, call.req, 200, t(lang, "claim.linked_title"), &text)
        }
        (Err(e), true) => errors::error_response(&e, lang),
        (Err(e @ Error::InvalidCredentials), false) => page(
            app,
            call,
            errors::status(&e),
            Some(t(lang, "claim.failed")),
            &f.service_id,
        ),
        (Err(e @ Error::Throttled { .. }), false) => {
            let r = page(
                app,
                call,
                errors::status(&e),
                Some(t(lang, "claim.blocked")),
                &f.service_id,
            );
            errors::with_retry_after(r, &e)
        }
        (Err(e @ Error::Invalid { .. }), false) => page(
            app,
            call,
            errors::status(&e),
            Some(&errors::error_message(&e, lang)),
            &f.service_id,
        ),
        (Err(e), false) => call.refuse(app, &e),
    }
}

fn register_form_page(
    app: &App,
    call: &Call<'_>,
    status: u16,
    form: &ClaimRegisterForm<'_>,
    error: Option<&str>,
) -> Response {
    views::frame_page(app, call.req, status, |f| {
        tobira_web::pages::claim_register(f, form, error)
    })
}

fn claim_expired(app: &App, call: &Call<'_>, status: u16) -> Response {
    let lang = call.lang;
    let r = views::message_page(
        app,
        call.req,
        status,
        t(lang, "claim_register.title"),
        t(lang, "claim_register.expired"),
    );
    clear_claim_cookie(app, r)
}

/// The form needs the claim cookie; whether it is still valid is checked
/// when the form is posted (the grant is single-use and short-lived).
pub fn register_page(app: &App, call: &Call<'_>) -> Response {
    if web::named_cookie(call.req, &app.config, CLAIM).is_none() {
        return claim_expired(app, call, 401);
    }
    let form = ClaimRegisterForm {
        email: "",
        accept_terms: false,
        accept_privacy: false,
    };
    register_form_page(app, call, 200, &form, None)
}

/// The input of the registration: the JSON client says both acceptances;
/// a page's form leaves an unticked box out.
fn register_input(app: &App, call: &Call<'_>) -> Result<RegisterInput, Error> {
    if call.is_json() {
        return call.input(app);
    }
    let (f, page) = call.input_with::<RegisterEmail>(app, &["accept_terms", "accept_privacy"])?;
    Ok(RegisterInput {
        email: f.email,
        accept_terms: page.get("accept_terms").is_some(),
        accept_privacy: page.get("accept_privacy").is_some(),
        terms_version: f.terms_version,
        privacy_version: f.privacy_version,
    })
}

/// CLM-2: register the claimed account with an e-mail address and the
/// terms and privacy policy accepted; the setup link goes there.
pub async fn register(app: &App, call: &Call<'_>) -> Response {
    let f = or_refuse!(app, call, register_input(app, call));
    let lang = call.lang;
    let grant = web::named_cookie(call.req, &app.config, CLAIM);
    let shown = app.consented_to_current(f.terms_version.as_deref(), f.privacy_version.as_deref());
    let result = match (grant.as_deref(), shown) {
        (_, Err(e)) => Err(e),
        (Some(grant), Ok(())) => {
            app.claim_register(grant, &f.email, f.accept_terms, f.accept_privacy, &call.ctx)
                .await
        }
        (None, Ok(())) => Err(Error::NotSignedIn),
    };
    let form = ClaimRegisterForm {
        email: &f.email,
        accept_terms: f.accept_terms,
        accept_privacy: f.accept_privacy,
    };
    match (result, call.is_json()) {
        (Ok(()), true) => {
            clear_claim_cookie(app, web::json(202, &serde_json::json!({ "next": "mail" })))
        }
        (Ok(()), false) => clear_claim_cookie(
            app,
            views::message_page(
                app,
                call.req,
                200,
                t(lang, "forgot.sent_title"),
                t(lang, "claim_register.sent"),
            ),
        ),
        (Err(e), true) => errors::error_response(&e, lang),
        (Err(Error::Invalid { code, .. }), false) => {
            let key = if code == "terms_not_accepted" {
                "claim_register.terms_required"
            } else {
                "claim_register.invalid_email"
            };
            register_form_page(app, call, 400, &form, Some(t(lang, key)))
        }
        (Err(Error::Conflict { .. }), false) => {
            register_form_page(app, call, 409, &form, Some(t(lang, "terms.changed")))
        }
        (Err(e @ (Error::NotSignedIn | Error::InvalidToken)), false) => {
            claim_expired(app, call, errors::status(&e))
        }
        (Err(e), false) => call.refuse(app, &e),
    }
}
