//! HTTP at the edge, shared by every function: strict request parsing, the
//! one mapping from [`Error`] to a response, cookies, CSRF and page headers.

use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, LOCATION, RETRY_AFTER, SET_COOKIE};
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use lambda_http::{Body, Request};

use crate::app::{App, Ctx};
use crate::config::Config;
pub use crate::csrf::{cross_site_refusal, Csrf};
use crate::error::Error;
use crate::i18n::{t, Lang};

pub type Response = http::Response<Body>;

/// Largest request body accepted (JSON or form).
pub const MAX_BODY: usize = 16 * 1024;

/// The peer address when running behind the local server (no API Gateway).
#[derive(Clone, Copy, Debug)]
pub struct LocalPeer(pub std::net::SocketAddr);

pub fn source_ip(req: &Request) -> String {
    if let Some(RequestContext::ApiGatewayV2(c)) = req.extensions().get::<RequestContext>() {
        if let Some(ip) = &c.http.source_ip {
            return ip.clone();
        }
    }
    req.extensions()
        .get::<LocalPeer>()
        .map_or_else(|| "-".into(), |p| p.0.ip().to_string())
}

pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// A query-string parameter (first occurrence).
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    if let Some(v) = req
        .query_string_parameters_ref()
        .and_then(|q| q.first(name))
    {
        return Some(v.to_string());
    }
    let q = req.uri().query()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

pub fn cookie(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub const LANG_COOKIE: &str = "tobira-lang";

/// `?lang=`, then the language cookie, then `Accept-Language`.
pub fn lang_of(req: &Request) -> Lang {
    query_param(req, "lang")
        .and_then(|l| Lang::parse(&l))
        .or_else(|| cookie(req, LANG_COOKIE).and_then(|l| Lang::parse(&l)))
        .unwrap_or_else(|| {
            header(req, "accept-language").map_or(Lang::Ja, Lang::from_accept_language)
        })
}

pub fn ctx(req: &Request) -> Ctx {
    Ctx {
        ip: source_ip(req),
        user_agent: header(req, "user-agent").unwrap_or("-").to_string(),
        lang: lang_of(req),
    }
}

fn body_bytes(req: &Request) -> &[u8] {
    req.body().as_ref()
}

pub fn content_type_is(req: &Request, expected: &str) -> bool {
    header(req, "content-type")
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(expected))
}

/// A JSON body: `application/json`, at most [`MAX_BODY`] bytes, no unknown
/// or duplicate fields, right types (the target type says which).
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, Error> {
    if !content_type_is(req, "application/json") {
        return Err(Error::invalid(
            "unsupported_content_type",
            "Content-Type must be application/json",
        ));
    }
    let body = body_bytes(req);
    if body.len() > MAX_BODY {
        return Err(Error::invalid(
            "body_too_large",
            format!("request body is larger than {MAX_BODY} bytes"),
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| Error::invalid("invalid_json", format!("invalid request body: {e}")))
}

/// A form body (`application/x-www-form-urlencoded`), as strictly as JSON.
pub fn form_body<T: DeserializeOwned>(req: &Request) -> Result<T, Error> {
    if !content_type_is(req, "application/x-www-form-urlencoded") {
        return Err(Error::invalid(
            "unsupported_content_type",
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    let body = body_bytes(req);
    if body.len() > MAX_BODY {
        return Err(Error::invalid(
            "body_too_large",
            format!("request body is larger than {MAX_BODY} bytes"),
        ));
    }
    serde_urlencoded::from_bytes(body)
        .map_err(|e| Error::invalid("invalid_form", format!("invalid form: {e}")))
}

/// A body-less API call must come without a body (or an empty JSON object).
pub fn empty_body(req: &Request) -> Result<(), Error> {
    let body = body_bytes(req);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    json_body::<EmptyObject>(req).map(|_| ())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EmptyObject {}

pub fn json<T: Serialize>(status: u16, value: &T) -> Response {
    let body = serde_json::to_string(value).expect("responses serialise");
    let mut r = Response::new(Body::Text(body));
    *r.status_mut() = http::StatusCode::from_u16(status).expect("valid status");
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

pub fn no_content() -> Response {
    let mut r = Response::new(Body::Empty);
    *r.status_mut() = http::StatusCode::NO_CONTENT;
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The human text of an error, in the caller's language.
pub fn error_message(e: &Error, lang: Lang) -> String {
    let key = match e {
        Error::Invalid { message, .. }
        | Error::Conflict { message, .. }
        | Error::Refused { message, .. } => return message.clone(),
        Error::IdentityMismatch => "setup.mismatch",
        Error::WeakPassword { .. } => "password.weak",
        Error::InvalidToken => "setup.invalid_link",
        Error::InvalidCredentials => "login.failed",
        Error::InvalidCode => "mfa.invalid_code",
        Error::NotSignedIn => "error.signin_required",
        Error::Forbidden => "error.forbidden",
        Error::NotFound => "error.not_found",
        Error::MethodNotAllowed => "error.method_not_allowed",
        Error::Throttled { .. } => "setup.blocked",
        Error::Unavailable { .. } => "error.unavailable",
    };
    t(lang, key).to_string()
}

/// THE mapping from an error to an API answer: status, stable code, message,
/// extra fields and `Retry-After`.
pub fn error_response(e: &Error, lang: Lang) -> Response {
    let mut body = serde_json::json!({ "error": e.code(), "message": error_message(e, lang) });
    if let Error::WeakPassword { unmet } = e {
        body["unmet"] = serde_json::json!(unmet);
    }
    if let Some(s) = e.retry_after_s() {
        body["retry_after_s"] = serde_json::json!(s);
    }
    let mut r = json(e.status(), &body);
    if let Some(s) = e.retry_after_s() {
        r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(s));
    }
    r
}

/// RST-1 / SET-1: run `work` and answer no sooner than `floor` after the
/// request arrived, so that a mailed link (one call to the mail service)
/// and no link take the same time as seen from outside. The floor is a
/// property of the answer, not of the domain: the edge reads the clock.
pub async fn paced<T>(floor: std::time::Duration, work: impl std::future::Future<Output = T>) -> T {
    if floor.is_zero() {
        return work.await;
    }
    #[allow(clippy::disallowed_methods)] // wall time of this answer, at the edge
    let deadline = tokio::time::Instant::now() + floor;
    let out = work.await;
    tokio::time::sleep_until(deadline).await;
    out
}

/// The API answer for a domain result.
pub fn api<T: Serialize>(result: Result<(u16, T), Error>, lang: Lang) -> Response {
    match result {
        Ok((status, v)) => json(status, &v),
        Err(e) => error_response(&e, lang),
    }
}

/// An HTML page with the headers every page gets: no caching, no framing, no
/// scripts, no referrer (pages can carry tokens in their URL).
pub fn html(status: u16, body: String) -> Response {
    let mut r = Response::new(Body::Text(body));
    *r.status_mut() = http::StatusCode::from_u16(status).expect("valid status");
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    r
}

pub fn redirect(location: &str) -> Response {
    let mut r = Response::new(Body::Empty);
    *r.status_mut() = http::StatusCode::SEE_OTHER;
    r.headers_mut().insert(
        LOCATION,
        HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/")),
    );
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `__Host-tobira-<base>` when cookies are `Secure` (SES-1), else `tobira-<base>`.
pub fn cookie_name(config: &Config, base: &str) -> String {
    if config.cookie_secure {
        format!("__Host-tobira-{base}")
    } else {
        format!("tobira-{base}")
    }
}

// home of SES-1
/// Add a `Set-Cookie`: HttpOnly, SameSite=Strict, Path=/, Secure per config.
/// `max_age` 0 clears it; `None` makes a browser-session cookie.
pub fn set_cookie(
    r: &mut Response,
    config: &Config,
    base: &str,
    value: &str,
    max_age: Option<u64>,
) {
    let mut c = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Strict",
        cookie_name(config, base),
        value
    );
    if config.cookie_secure {
        c.push_str("; Secure");
    }
    if let Some(a) = max_age {
        c.push_str(&format!("; Max-Age={a}"));
    }
    if let Ok(v) = HeaderValue::from_str(&c) {
        r.headers_mut().append(SET_COOKIE, v);
    }
}

pub fn named_cookie(req: &Request, config: &Config, base: &str) -> Option<String> {
    cookie(req, &cookie_name(config, base))
}

/// Remember an explicit `?lang=` choice (not a secret; readable by pages).
pub fn remember_lang(req: &Request, r: &mut Response) {
    if let Some(l) = query_param(req, "lang").and_then(|l| Lang::parse(&l)) {
        let v = format!(
            "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000",
            l.code()
        );
        if let Ok(v) = HeaderValue::from_str(&v) {
            r.headers_mut().append(SET_COOKIE, v);
        }
    }
}

/// A page with a fresh CSRF token (SES-3): `render` gets the token for the form.
pub fn page(
    app: &App,
    req: &Request,
    status: u16,
    render: impl FnOnce(&str) -> String,
) -> Response {
    let csrf = Csrf::for_page(app, req);
    let mut r = html(status, render(&csrf.token));
    csrf.attach(app, &mut r);
    remember_lang(req, &mut r);
    r
}

/// A page that only says something (title and text).
pub fn message_page(app: &App, req: &Request, status: u16, title: &str, text: &str) -> Response {
    let lang = lang_of(req);
    let mut r = html(
        status,
        crate::pages::message(lang, req, &app.config.brand, title, text),
    );
    remember_lang(req, &mut r);
    r
}

/// A page's form post: parsed strictly, and refused unless its CSRF field
/// is the token the server issued for this session (or pre-sign-in cookie).
pub fn checked_form<T: DeserializeOwned>(
    app: &App,
    req: &Request,
    csrf: impl Fn(&T) -> &str,
) -> Result<T, Error> {
    let form = form_body(req)?;
    Csrf::check(app, req, csrf(&form))?;
    Ok(form)
}

/// `/api/...` answers JSON; everything else is a page.
pub fn is_api(req: &Request) -> bool {
    req.uri().path().starts_with("/api/")
}

/// 404, or 405 with `Allow` when the route table serves the path with
/// other methods (`routes::allowed_methods`).
pub fn not_found(app: &App, req: &Request) -> Response {
    let lang = lang_of(req);
    let allowed = crate::routes::allowed_methods(req.uri().path());
    if !allowed.is_empty() && !allowed.contains(&req.method().as_str()) {
        let e = Error::MethodNotAllowed;
        let mut r = if is_api(req) {
            error_response(&e, lang)
        } else {
            error_page(app, req, &e)
        };
        let allow = HeaderValue::from_str(&allowed.join(", ")).expect("methods are ASCII");
        r.headers_mut().insert(http::header::ALLOW, allow);
        return r;
    }
    if is_api(req) {
        error_response(&Error::NotFound, lang)
    } else {
        html(
            404,
            crate::pages::message(
                lang,
                req,
                &app.config.brand,
                t(lang, "error.title"),
                t(lang, "error.not_found"),
            ),
        )
    }
}

/// An API call's `?lang=` that names no language we have: 400
/// `invalid_lang`, in the language the caller gets without it.
pub fn lang_refusal(req: &Request) -> Option<Response> {
    let asked = query_param(req, "lang")?;
    if !is_api(req) || Lang::parse(&asked).is_some() {
        return None;
    }
    let lang = lang_of(req);
    let e = Error::invalid("invalid_lang", t(lang, "error.invalid_lang"));
    Some(error_response(&e, lang))
}

/// A page for an error that has no better page of its own.
pub fn error_page(app: &App, req: &Request, e: &Error) -> Response {
    let lang = lang_of(req);
    let body = crate::pages::message(
        lang,
        req,
        &app.config.brand,
        t(lang, "error.title"),
        &error_message(e, lang),
    );
    let mut r = html(e.status(), body);
    if let Some(s) = e.retry_after_s() {
        r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(s));
    }
    r
}

/// HTML escaping for text built outside templates (mail bodies).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(e: Error) -> (u16, String, Option<String>) {
        let r = error_response(&e, Lang::En);
        let retry = r
            .headers()
            .get(RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_string());
        let body: serde_json::Value = serde_json::from_slice(r.body().as_ref()).unwrap();
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        (
            r.status().as_u16(),
            body["error"].as_str().unwrap().to_string(),
            retry,
        )
    }

    // One test per status: the whole mapping lives in `Error::status`/`code`.
    #[test]
    fn maps_400() {
        assert_eq!(
            status_of(Error::invalid("invalid_json", "x")),
            (400, "invalid_json".into(), None)
        );
        assert_eq!(status_of(Error::IdentityMismatch).0, 400);
        assert_eq!(status_of(Error::InvalidToken).1, "invalid_token");
        let r = error_response(
            &Error::WeakPassword {
                unmet: vec!["length", "digit"],
            },
            Lang::Ja,
        );
        let body: serde_json::Value = serde_json::from_slice(r.body().as_ref()).unwrap();
        assert_eq!(body["unmet"], serde_json::json!(["length", "digit"]));
    }
    #[test]
    fn maps_401() {
        assert_eq!(
            status_of(Error::InvalidCredentials),
            (401, "invalid_credentials".into(), None)
        );
        assert_eq!(
            status_of(Error::NotSignedIn),
            (401, "not_signed_in".into(), None)
        );
    }
    #[test]
    fn maps_403() {
        assert_eq!(status_of(Error::Forbidden), (403, "forbidden".into(), None));
        assert_eq!(
            status_of(Error::Refused {
                code: "file_in_legacy_system",
                message: "x".into()
            }),
            (403, "file_in_legacy_system".into(), None)
        );
    }
    #[test]
    fn maps_404() {
        assert_eq!(status_of(Error::NotFound), (404, "not_found".into(), None));
    }
    #[test]
    fn maps_409() {
        assert_eq!(
            status_of(Error::Conflict {
                code: "not_pending",
                message: "m".into()
            })
            .0,
            409
        );
    }
    #[test]
    fn maps_429_with_retry_after() {
        assert_eq!(
            status_of(Error::Throttled {
                retry_after_s: Some(60)
            }),
            (429, "too_many_attempts".into(), Some("60".into()))
        );
        assert_eq!(
            status_of(Error::Throttled {
                retry_after_s: None
            })
            .2,
            None
        );
    }
    #[test]
    fn maps_503_with_retry_after() {
        assert_eq!(
            status_of(Error::Unavailable { what: "store" }),
            (503, "temporarily_unavailable".into(), Some("5".into()))
        );
    }

    #[test]
    fn escapes_html() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
