//! HTTP at the edge, shared by every function: strict request parsing, the
//! one mapping from [`Error`] to a response, cookies, CSRF and page headers.

use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use lambda_http::{Body, Request};

use crate::i18n::Lang;
use tobira::app::Ctx;
use tobira::config::Config;
use tobira::error::Error;

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

/// The body of a request that must be of `content_type`, at most
/// [`MAX_BODY`] bytes.
fn body_of<'r>(req: &'r Request, content_type: &str) -> Result<&'r [u8], Error> {
    if !content_type_is(req, content_type) {
        return Err(Error::invalid("unsupported_content_type").with("type", content_type));
    }
    let body = body_bytes(req);
    if body.len() > MAX_BODY {
        return Err(Error::invalid("body_too_large").with("max", MAX_BODY));
    }
    Ok(body)
}

/// A JSON body: `application/json`, at most [`MAX_BODY`] bytes, no unknown
/// or duplicate fields, right types (the target type says which).
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, Error> {
    let body = body_of(req, "application/json")?;
    // Every body of the API is an object: serde would also read a struct
    // from an array of its fields (`[null, null]`), which no client sends.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Error::invalid("invalid_json").detail("the body is one JSON object"));
    }
    serde_json::from_slice(body).map_err(|e| Error::invalid("invalid_json").detail(e))
}

/// A form body (`application/x-www-form-urlencoded`), as strictly as JSON.
pub fn form_body<T: DeserializeOwned>(req: &Request) -> Result<T, Error> {
    serde_urlencoded::from_bytes(body_of(req, "application/x-www-form-urlencoded")?)
        .map_err(|e| Error::invalid("invalid_form").detail(e))
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
    // Never taken for a script or a page (`script-src 'self'` trusts this origin).
    r.headers_mut().insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

pub fn no_content() -> Response {
    let mut r = Response::new(Body::Empty);
    *r.status_mut() = http::StatusCode::NO_CONTENT;
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
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

/// An HTML page with the headers every page gets: no caching, no framing, no
/// script but the portal's own, no referrer (pages can carry tokens in their
/// URL). The script may call the portal's own API (`connect-src 'self'`:
/// the passkey ceremonies, MFA-10), no other origin.
pub fn html(status: u16, body: String) -> Response {
    // WCAG 3.3.1: a refused form's fields say so (once; `a11y`).
    let body = crate::a11y::mark_errors(&body, crate::a11y::Marks::FormAfterMessage);
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
            "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    r
}

/// CASE-6: a page whose form posts a file straight to the file store:
/// its CSP lets forms and the upload script (`connect-src`) reach the
/// store's origin (`None`: the store is the portal's own origin).
pub fn allow_file_store(r: &mut Response, origin: Option<&str>) {
    let Some(csp) = r
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
    else {
        return; // not a page: nothing to widen
    };
    let extra = origin
        .filter(|o| o.starts_with("https://") || o.starts_with("http://"))
        .filter(|o| {
            o.bytes()
                .all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
        })
        .map(|o| format!(" {o}"))
        .unwrap_or_default();
    let csp = csp
        .replace("form-action 'self'", &format!("form-action 'self'{extra}"))
        .replace("connect-src 'self'", &format!("connect-src 'self'{extra}"));
    if let Ok(v) = HeaderValue::from_str(&csp) {
        r.headers_mut().insert("content-security-policy", v);
    }
}

/// The portal's one script (progressive enhancement: show a password, the
/// live password checklist), `GET /static/tobira.js`. Pages load it from
/// this origin only (`script-src 'self'`, no inline script); every page
/// works without it.
pub const SCRIPT: &str = include_str!("../static/tobira.js");

pub fn script() -> Response {
    let mut r = Response::new(Body::Text(SCRIPT.to_string()));
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
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

/// `/api/...` answers JSON; everything else is a page.
pub fn is_api(req: &Request) -> bool {
    req.uri().path().starts_with("/api/")
}

pub use tobira::messages::escape;

/// An answer handed to `lambda_http` as it is. Every body tobira makes is
/// already UTF-8 text or empty ([`json`], [`html`], [`redirect`]), so
/// `lambda_http`'s own conversion of a `Response<B>` — which parses the
/// `Content-Type` and decodes the body by its charset with `encoding_rs`,
/// about 160 KB in every binary — has nothing to do and is not linked.
/// An empty body goes out as `""`, as that conversion would send it.
pub struct LambdaAnswer(pub Response);

impl lambda_http::IntoResponse for LambdaAnswer {
    fn into_response(
        self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>> {
        let (parts, body) = self.0.into_parts();
        let body = match body {
            Body::Empty => Body::Text(String::new()),
            other => other,
        };
        Box::pin(std::future::ready(Response::from_parts(parts, body)))
    }
}

#[cfg(test)]
mod lambda_answer_tests {
    use super::*;
    use lambda_http::IntoResponse;

    #[tokio::test]
    async fn the_answer_goes_out_unchanged_and_empty_is_empty_text() {
        let page = html(409, "<p>日本語</p>".into());
        let (want_parts, _) = html(409, "<p>日本語</p>".into()).into_parts();
        let out = LambdaAnswer(page).into_response().await;
        assert_eq!(out.status(), want_parts.status);
        assert_eq!(out.headers(), &want_parts.headers);
        assert_eq!(out.body(), &Body::Text("<p>日本語</p>".into()));
        let out = LambdaAnswer(no_content()).into_response().await;
        assert_eq!(out.status(), 204);
        assert_eq!(out.body(), &Body::Text(String::new()));
    }
}
