//! The pages of the steps after the password (LOG-4, SET-4, MFA, TOS-1),
//! which several functions answer with: a code form posts to one function
//! and is shown again by another. Each view reads the session, checks its
//! stage (SES-2) and renders; a session at another stage is sent where it
//! belongs.

use crate::call::Call;
use crate::errors;
use crate::i18n::t;
use crate::pages::{self, Frame};
use crate::web::{self, Request, Response};
use tobira::app::App;
use tobira::error::Error;
use tobira::mfa::{Channel, Enrolled, Method, Signed};
use tobira::session::Stage;

/// Where a session at `stage` continues.
pub fn stage_path(stage: Stage) -> &'static str {
    match stage {
        Stage::Enroll => "/enroll",
        Stage::Mfa => "/login/mfa",
        Stage::Terms => "/terms",
        Stage::Full => "/",
    }
}

/// The session cookie of a request.
pub fn session_cookie(app: &App, req: &Request) -> Option<String> {
    web::named_cookie(req, &app.config, "session")
}

/// A page with the CSRF token and the request's language.
pub fn frame_page(
    app: &App,
    req: &Request,
    status: u16,
    render: impl FnOnce(&Frame<'_>) -> String,
) -> Response {
    let lang = web::lang_of(req);
    page(app, req, status, |csrf| {
        render(&Frame {
            lang,
            req,
            brand: &app.config.brand,
            csrf,
            documents: &app.config.documents,
        })
    })
}

/// A page, or the page again with the refusal of its form (or query):
/// the refusal's status and words; none: 200 and no error.
pub fn form_page(
    app: &App,
    req: &Request,
    refusal: Option<&Error>,
    render: impl FnOnce(&Frame<'_>, Option<&str>) -> String,
) -> Response {
    let status = refusal.map_or(200, errors::status);
    let error = refusal.map(|e| errors::error_message(e, web::lang_of(req)));
    frame_page(app, req, status, |f| {
        crate::a11y::mark_refusal(render(f, error.as_deref()), refusal)
    })
}

/// A page's answer to an error it does not show: 404 for what the user
/// may not see (or that is not there), otherwise [`Call::refuse`]'s.
pub fn not_shown(app: &App, call: &Call<'_>, e: &Error) -> Response {
    match e {
        Error::NotFound => errors::not_found(app, call.req),
        e => call.refuse(app, e),
    }
}

/// A page route's answer to a session error: sign in, or go to the page
/// of the stage the session is at (SES-2).
pub async fn session_refused(app: &App, req: &Request, e: &Error) -> Response {
    match e {
        Error::NotSignedIn => web::redirect("/login"),
        Error::Forbidden => match session_cookie(app, req) {
            Some(c) => match app.session(&c).await {
                Ok(s) if s.recovery_ack_pending => web::redirect("/login"),
                Ok(s) => web::redirect(stage_path(s.stage)),
                Err(_) => web::redirect("/login"),
            },
            None => web::redirect("/login"),
        },
        other => errors::error_page(app, req, other),
    }
}

/// Messages a redirect may ask the next page to show (`?notice=` / `?error=`),
/// by a fixed list: nothing from the URL is ever shown as is.
pub const FLASHES: &[(&str, &str)] = &[
    ("sent", "code.sent"),
    ("called", "voice.called"),
    ("too_soon", "code.too_soon"),
    ("cap", "code.cap"),
    ("enrolled", "login.enrolled"),
    ("added", "dashboard.method_added"),
    ("forgotten", "dashboard.devices_forgotten"),
    ("passkey_renamed", "passkey.renamed"),
    ("passkey_removed", "passkey.removed"),
    ("unavailable", "error.unavailable"),
    ("invalid", "error.invalid"),
    ("expired", "code.expired"),
    ("locked", "mfa.locked"),
    ("reset", "login.reset_done"),
    ("password_changed", "password.changed"),
    ("signed_out", "login.signed_out"),
    ("reauth", "mfa.reauth_required"),
    ("password_wrong", "mfa.reauth_wrong"),
    ("case_created", "notice.case_created"),
    ("case_commented", "notice.case_commented"),
    ("case_closed", "notice.case_closed"),
    ("case_accepted", "notice.case_accepted"),
    ("case_rejected", "notice.case_rejected"),
    ("attachment_added", "notice.attachment_added"),
    // ADM-1..4, ADM-7: what an admin did to a user.
    ("user_created", "admin.notice_created"),
    ("user_saved", "admin.notice_saved"),
    ("user_disabled", "admin.notice_disabled"),
    ("user_enabled", "admin.notice_enabled"),
    ("user_unlocked", "admin.notice_unlocked"),
    ("factors_reset", "admin.notice_factors_reset"),
    ("setup_resent", "admin.notice_setup_resent"),
    ("identity_corrected", "admin.notice_identity_corrected"),
];

/// The cookie that carries the login ID from a password just set to the
/// sign-in page, so that the field is filled in (10 minutes; only plain
/// login IDs, which need no escaping in a cookie).
const LOGIN_HINT: &str = "login-hint";

/// A login ID that travels in a cookie as it is.
fn plain_login(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 254
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@._+-".contains(c))
}

/// `r` with the login-ID hint for the sign-in page.
pub fn with_login_hint(app: &App, mut r: Response, login_id: &str) -> Response {
    if plain_login(login_id) {
        web::set_cookie(&mut r, &app.config, LOGIN_HINT, login_id, Some(600));
    }
    r
}

/// The login ID a password just set left for the sign-in page.
pub fn login_hint(app: &App, req: &Request) -> Option<String> {
    web::named_cookie(req, &app.config, LOGIN_HINT).filter(|v| plain_login(v))
}

/// The text of a redirect's message (a word of [`FLASHES`]).
pub fn flash(req: &Request, name: &str) -> Option<&'static str> {
    let word = web::query_param(req, name)?;
    let (_, key) = FLASHES.iter().find(|(w, _)| *w == word)?;
    Some(t(web::lang_of(req), key))
}

/// Where a page's "send a code" goes next: the page that takes the code
/// (`back`), or, when an enrolment could not send, its start (`start`).
pub async fn after_send(
    app: &App,
    req: &Request,
    result: Result<tobira::mfa::CodeSent, Error>,
    purpose: tobira::mfa::Purpose,
    (back, notice): (&str, &str),
    start: &str,
) -> Response {
    match result {
        Ok(_) => web::redirect(&with_query(back, "notice", notice)),
        Err(e @ (Error::NotSignedIn | Error::Forbidden)) => session_refused(app, req, &e).await,
        Err(e)
            if purpose == tobira::mfa::Purpose::Enroll && !matches!(e, Error::Throttled { .. }) =>
        {
            web::redirect(&with_query(start, "error", send_error_word(app, &e)))
        }
        Err(e) => web::redirect(&with_query(back, "error", send_error_word(app, &e))),
    }
}

/// A form that confirms a new e-mail or SMS method: the recovery codes or
/// the dashboard; a wrong code shows the code page again.
pub async fn code_method_answer(
    app: &App,
    req: &Request,
    channel: Channel,
    result: Result<Enrolled, Error>,
) -> Response {
    match result {
        Ok(done) => enrolled(app, req, &done),
        Err(e @ (Error::InvalidCode | Error::CodeAlreadyUsed { .. } | Error::Invalid { .. })) => {
            let msg = errors::error_message(&e, web::lang_of(req));
            enroll_code(app, req, channel, errors::status(&e), Some(&msg)).await
        }
        Err(e) => refused_or_locked(app, req, &e).await,
    }
}

/// A code form's answer to a lock (LOG-2: back to sign-in, the half
/// session is over) or to a session error.
pub async fn refused_or_locked(app: &App, req: &Request, e: &Error) -> Response {
    match e {
        Error::Throttled { .. } => without_session(app, web::redirect("/login?notice=locked")),
        // MFA-5: the page that showed the codes, reloaded (its form sent
        // again): they were shown once; say so, and how to get new ones.
        Error::Forbidden if awaits_codes_ack(app, req).await => frame_page(app, req, 200, |f| {
            let once = t(f.lang, "recovery.shown_once");
            pages::recovery(f, &[], true, Some(once))
        }),
        other => session_refused(app, req, other).await,
    }
}

/// Whether the browser's session has seen its first recovery codes and not
/// yet confirmed having recorded them (MFA-5).
async fn awaits_codes_ack(app: &App, req: &Request) -> bool {
    let token = session_cookie(app, req);
    let stages = [Stage::Enroll, Stage::Full];
    (app.signed(token.as_deref(), &stages).await).is_ok_and(|s| s.session.recovery_ack_pending)
}

/// `path` with one more query parameter (`value` is a fixed word).
pub fn with_query(path: &str, name: &str, value: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{name}={value}")
}

/// The `?error=` word for a failed send.
pub fn send_error_word(app: &App, e: &Error) -> &'static str {
    match e {
        Error::Throttled { retry_after_s }
            if retry_after_s.unwrap_or(0) > app.config.otp.resend_after.as_secs() =>
        {
            "cap"
        }
        Error::Throttled { .. } => "too_soon",
        Error::Unavailable { .. } => "unavailable",
        Error::Refused {
            code: "reauth_required",
            ..
        } => "reauth",
        Error::InvalidCredentials => "password_wrong",
        _ => "invalid",
    }
}

/// LOG-4 / MFA-8: the challenge for `method` (default: the first enrolled).
pub async fn challenge(
    app: &App,
    req: &Request,
    status: u16,
    method: Option<&str>,
    error: Option<&str>,
) -> Response {
    let token = session_cookie(app, req);
    let s = match app.signed(token.as_deref(), &[Stage::Mfa]).await {
        Ok(s) => s,
        Err(e) => return session_refused(app, req, &e).await,
    };
    let first = s.user.methods.first().map_or("recovery", String::as_str);
    let method = match method {
        Some("recovery") => "recovery",
        Some(m) if s.user.methods.iter().any(|x| x == m) => m,
        _ => first,
    };
    let channel = Method::parse(method).and_then(Channel::of);
    let status_of = match channel {
        Some(ch) => match app.otp_status(&s, ch).await {
            Ok(st) => st,
            Err(e) => return errors::error_page(app, req, &e),
        },
        None => None,
    };
    let destination = match channel {
        Some(Channel::Email) => s.user.email.as_str().to_string(),
        Some(ch) => ch
            .number(&s.user)
            .map(tobira::ids::Phone::masked)
            .unwrap_or_default(),
        None => String::new(),
    };
    let notice = flash(req, "notice");
    let flashed_error = flash(req, "error");
    let c = pages::Challenge {
        method,
        destination,
        code_live: status_of.is_some(),
        resend_in_s: status_of.map_or(0, |x| x.resend_in_s),
        enrolled: &s.user.methods,
        remember_hours: app.config.remember_device.as_secs() / 3600,
        error: error.or(flashed_error),
        notice,
    };
    frame_page(app, req, status, |f| pages::mfa(f, &c))
}

/// Who may see an enrolment page: a session enrolling its first method
/// (until its recovery codes are acknowledged: then sign in again) or a
/// signed-in one adding a method; anyone else is sent on.
async fn enrolling(app: &App, req: &Request) -> Result<Signed, Box<Response>> {
    let token = session_cookie(app, req);
    match app
        .signed(token.as_deref(), &[Stage::Enroll, Stage::Full])
        .await
    {
        Ok(s) if !s.session.recovery_ack_pending => Ok(s),
        Ok(_) => Err(Box::new(web::redirect("/login"))),
        Err(e) => Err(Box::new(session_refused(app, req, &e).await)),
    }
}

/// SET-4 / MFA-2 / MFA-8: the choice of method, or straight to the one an
/// admin preset. A signed-in user whose password is not fresh is asked for
/// it in each method's form (MFA-8).
pub async fn enroll_choice(app: &App, req: &Request, status: u16, error: Option<&str>) -> Response {
    let s = match enrolling(app, req).await {
        Ok(s) => s,
        Err(refused) => return *refused,
    };
    let adding = s.session.stage == Stage::Full;
    let mut methods = app.enrollable(&s.user);
    let mut shown = error.or(flash(req, "error"));
    if !adding && error.is_none() {
        match s.user.preset_method.as_deref().and_then(Method::parse) {
            Some(Method::Sms) => return web::redirect("/enroll/sms"),
            Some(Method::Voice) => return web::redirect("/enroll/voice"),
            Some(m @ (Method::Totp | Method::Email)) if methods.contains(&m) => {
                // A POST starts these (it changes state): the page offers
                // that one method only.
                methods = vec![m];
                shown = None;
            }
            _ => {}
        }
    }
    let page = pages::EnrollChoice {
        login_id: s.user.login_id.as_str(),
        methods: &methods,
        enrolled: &s.user.methods,
        adding,
        ask_password: app.needs_reauth(&s),
        error: shown,
    };
    frame_page(app, req, status, |f| pages::enroll(f, &page))
}

/// MFA-6 / MFA-9 / MFA-8: the page that takes the number to prove by SMS
/// or a call (the password too, when a signed-in user's is not fresh).
pub async fn enroll_phone(
    app: &App,
    req: &Request,
    channel: Channel,
    status: u16,
    country: &str,
    typed: &str,
    error: Option<&str>,
) -> Response {
    let token = session_cookie(app, req);
    match app
        .signed(token.as_deref(), &[Stage::Enroll, Stage::Full])
        .await
    {
        Ok(s) if !s.session.recovery_ack_pending => {
            let ask_password = app.needs_reauth(&s);
            let error = error.or(flash(req, "error"));
            frame_page(app, req, status, |f| {
                pages::enroll_phone(f, channel, country, typed, ask_password, error)
            })
        }
        Ok(_) => web::redirect("/login"),
        Err(e) => session_refused(app, req, &e).await,
    }
}

/// MFA-3 / MFA-6: the page that takes the code proving a new e-mail or SMS
/// method.
pub async fn enroll_code(
    app: &App,
    req: &Request,
    channel: Channel,
    status: u16,
    error: Option<&str>,
) -> Response {
    let s = match enrolling(app, req).await {
        Ok(s) => s,
        Err(refused) => return *refused,
    };
    let live = match app.otp_status(&s, channel).await {
        Ok(x) => x,
        Err(e) => return errors::error_page(app, req, &e),
    };
    let Some(live) = live.filter(|l| l.purpose == tobira::mfa::Purpose::Enroll) else {
        // No code was sent (or it expired): start again, saying why when
        // this answers a refused send or code (the message is not lost).
        let start = match channel {
            Channel::Email => "/enroll",
            Channel::Sms => "/enroll/sms",
            Channel::Voice => "/enroll/voice",
        };
        let word = match web::query_param(req, "error") {
            Some(w) if flash(req, "error").is_some() => Some(w),
            _ if error.is_some() => Some("expired".to_string()),
            _ => None,
        };
        return match word {
            Some(w) => web::redirect(&with_query(start, "error", &w)),
            None => web::redirect(start),
        };
    };
    let (destination, resend_fields) = match channel {
        Channel::Email => (s.user.email.as_str().to_string(), Vec::new()),
        Channel::Sms | Channel::Voice => {
            let phone = live.phone.clone().unwrap_or_default();
            (tobira::ids::Phone::masked(&phone), vec![("phone", phone)])
        }
    };
    let notice = flash(req, "notice");
    let error = error.or(flash(req, "error"));
    let c = pages::EnrolCode {
        channel,
        destination,
        resend_in_s: live.resend_in_s,
        resend_fields,
        error,
        notice,
    };
    frame_page(app, req, status, |f| pages::enroll_code(f, &c))
}

/// After a confirmed method: the first one's recovery codes (shown once),
/// or back to the dashboard.
pub fn enrolled(app: &App, req: &Request, e: &Enrolled) -> Response {
    match &e.recovery_codes {
        Some(codes) => frame_page(app, req, 200, |f| pages::recovery(f, codes, true, None)),
        None => web::redirect("/?notice=added"),
    }
}

/// The signed-in home page.
pub async fn dashboard(app: &App, req: &Request, status: u16, error: Option<&str>) -> Response {
    let token = session_cookie(app, req);
    let s: Signed = match app.signed(token.as_deref(), &[Stage::Full]).await {
        Ok(s) => s,
        Err(e) => return session_refused(app, req, &e).await,
    };
    let left = match app.recovery_codes_left(&s.user.id).await {
        Ok(n) => n,
        Err(e) => return errors::error_page(app, req, &e),
    };
    let notice = flash(req, "notice");
    let d = pages::Dashboard {
        user: &s.user,
        recovery_left: left,
        ask_password: app.needs_reauth(&s),
        error,
        notice,
    };
    frame_page(app, req, status, |f| pages::dashboard(f, &d))
}

/// TOS-1: the terms page.
pub async fn terms(app: &App, req: &Request, status: u16, error: Option<&str>) -> Response {
    let token = session_cookie(app, req);
    if let Err(e) = app.signed(token.as_deref(), &[Stage::Terms]).await {
        return session_refused(app, req, &e).await;
    }
    frame_page(app, req, status, |f| pages::terms(f, error))
}

/// Set the session cookie (SES-1) on a response.
pub fn with_session(app: &App, mut r: Response, session: &str) -> Response {
    web::set_cookie(
        &mut r,
        &app.config,
        "session",
        session,
        Some(app.config.session_absolute.as_secs()),
    );
    r
}

/// Clear the session cookie.
pub fn without_session(app: &App, mut r: Response) -> Response {
    web::set_cookie(&mut r, &app.config, "session", "", Some(0));
    r
}

/// An API error answer that also clears the cookie of a session that is no
/// longer there (ended by a lock or a sign-out elsewhere).
pub async fn clear_if_ended(app: &App, req: &Request, r: Response) -> Response {
    if r.status().as_u16() < 400 {
        return r;
    }
    match session_cookie(app, req) {
        Some(c) if app.session(&c).await.is_err() => without_session(app, r),
        _ => r,
    }
}

/// MFA-7: the remembered device's cookie.
pub fn with_device(app: &App, mut r: Response, device: Option<&str>) -> Response {
    if let Some(d) = device {
        web::set_cookie(
            &mut r,
            &app.config,
            "device",
            d,
            Some(app.config.remember_device.as_secs()),
        );
    }
    r
}

/// A page with a fresh CSRF token (SES-3): `render` gets the token for the form.
pub fn page(
    app: &App,
    req: &Request,
    status: u16,
    render: impl FnOnce(&str) -> String,
) -> Response {
    let csrf = crate::csrf::Csrf::for_page(app, req);
    let mut r = web::html(status, render(&csrf.token));
    csrf.attach(app, &mut r);
    web::remember_lang(req, &mut r);
    r
}

/// A page that only says something (title and text).
pub fn message_page(app: &App, req: &Request, status: u16, title: &str, text: &str) -> Response {
    let lang = web::lang_of(req);
    let mut r = web::html(
        status,
        pages::message(lang, req, &app.config.brand, title, text),
    );
    web::remember_lang(req, &mut r);
    r
}

/// The new-password form (SET-3 after the identity check; RST-5, RST-4 and
/// CLM-2 with a link's `token`), with the rules still unmet and an error.
/// Like every page it carries `Referrer-Policy: no-referrer`: a link's
/// page has its token in the URL.
pub fn new_password_page(
    app: &App,
    req: &Request,
    status: u16,
    token: Option<&str>,
    username: Option<&str>,
    unmet: &[&str],
    error: Option<&'static str>,
) -> Response {
    let preset = app.config.password_preset;
    frame_page(app, req, status, |f| {
        let html = pages::new_password(
            f,
            preset,
            token,
            username,
            unmet,
            error.map(|k| t(f.lang, k)),
        );
        password_marks(html, error)
    })
}

/// A password form's refusal (an i18n key) with the field it blames
/// marked (WCAG 3.3.1, `a11y`).
pub fn password_marks(html: String, error_key: Option<&str>) -> String {
    let fields: &[&str] = match error_key {
        Some("password.mismatch") => &["password_confirm"],
        Some("password.weak") => &["password"],
        Some("password.wrong_current") => &["current_password"],
        Some(_) => &[],
        None => return html,
    };
    crate::a11y::mark_errors(&html, crate::a11y::Marks::Fields(fields))
}
