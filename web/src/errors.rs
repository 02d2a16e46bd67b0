//! THE mapping from a domain [`Error`] to an answer (after kanidm's
//! `https/errors.rs`): the status, the stable code, the message in the
//! user's language and `Retry-After`, as JSON for `/api/...` and as a page
//! for everything else. No other place turns an error into a status.

use crate::i18n::{t, Lang};
use http::header::{HeaderValue, RETRY_AFTER};
use serde::Serialize;
use tobira::app::App;
use tobira::error::Error;

use crate::web::{html, is_api, json, lang_of, Request, Response};

/// The HTTP status of a domain error: decided here and nowhere else.
pub fn status(e: &Error) -> u16 {
    match e {
        Error::Invalid { .. }
        | Error::IdentityMismatch
        | Error::WeakPassword { .. }
        | Error::InvalidToken => 400,
        Error::InvalidCredentials | Error::InvalidCode | Error::NotSignedIn => 401,
        Error::Forbidden | Error::Refused { .. } => 403,
        Error::NotFound => 404,
        Error::Conflict { .. } => 409,
        Error::Throttled { .. } => 429,
        Error::Unavailable { .. } => 503,
    }
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
    with_retry_after(json(status(e), &body), e)
}

/// `Retry-After` on any answer to `e`, where the error may say it.
pub fn with_retry_after(mut r: Response, e: &Error) -> Response {
    if let Some(s) = e.retry_after_s() {
        r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(s));
    }
    r
}

/// The API answer for a domain result.
pub fn api<T: Serialize>(result: Result<(u16, T), Error>, lang: Lang) -> Response {
    match result {
        Ok((status, v)) => json(status, &v),
        Err(e) => error_response(&e, lang),
    }
}

/// The API's 405 (the caller adds `Allow`): an answer of the edge, not a
/// domain error.
pub fn method_not_allowed(lang: Lang) -> Response {
    let text = t(lang, "error.method_not_allowed");
    json(
        405,
        &serde_json::json!({ "error": "method_not_allowed", "message": text }),
    )
}

/// 404, or 405 with `Allow` when the route table serves the path with
/// other methods (`routes::allowed_methods`). Neither is a domain error.
pub fn not_found(app: &App, req: &Request) -> Response {
    let lang = lang_of(req);
    let allowed = crate::routes::allowed_methods(req.uri().path());
    if !allowed.is_empty() && !allowed.contains(&req.method().as_str()) {
        let text = t(lang, "error.method_not_allowed");
        let mut r = if is_api(req) {
            method_not_allowed(lang)
        } else {
            let title = t(lang, "error.title");
            html(
                405,
                crate::pages::message(lang, req, &app.config.brand, title, text),
            )
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
    with_retry_after(html(status(e), body), e)
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

    // One test per status: the whole mapping lives in `status` and `Error::code`.
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
}
