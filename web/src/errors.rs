//! THE mapping from a domain [`Error`] to an answer (after kanidm's
//! `https/errors.rs`): the status, the stable code, the message in the
//! user's language and `Retry-After`, as JSON for `/api/...` and as a page
//! for everything else. No other place turns an error into a status.

use std::sync::LazyLock;

use crate::i18n::{t, Lang};
use http::header::{HeaderValue, RETRY_AFTER};
use serde::Serialize;
use tobira::app::App;
use tobira::error::Error;
use tobira::i18n::Catalogue;

use crate::web::{html, is_api, json, lang_of, Request, Response};

/// The HTTP status of a domain error: decided here and nowhere else.
pub fn status(e: &Error) -> u16 {
    match e {
        Error::Invalid { .. }
        | Error::IdentityMismatch
        | Error::WeakPassword { .. }
        | Error::InvalidToken => 400,
        Error::InvalidCredentials
        | Error::InvalidCode
        | Error::CodeAlreadyUsed { .. }
        | Error::NotSignedIn => 401,
        Error::Forbidden | Error::Refused { .. } => 403,
        Error::NotFound => 404,
        Error::Conflict { .. } => 409,
        Error::Throttled { .. } => 429,
        Error::Unavailable { .. } => 503,
    }
}

/// The words of every coded error (`errors.tsv`: `code[.variant]`, ja, en).
static WORDS: LazyLock<Catalogue> =
    LazyLock::new(|| Catalogue::compiled(include_str!("errors.tsv")));

/// The human text of an error, in the caller's language: the domain gives
/// a code and facts, never words.
pub fn error_message(e: &Error, lang: Lang) -> String {
    let key = match e {
        Error::Invalid { .. } | Error::Conflict { .. } | Error::Refused { .. } => {
            return coded_message(e, lang)
        }
        Error::IdentityMismatch => "setup.mismatch",
        Error::WeakPassword { .. } => "password.weak",
        Error::InvalidToken => "setup.invalid_link",
        Error::InvalidCredentials => "login.failed",
        Error::InvalidCode => "mfa.invalid_code",
        Error::CodeAlreadyUsed { next_in_s } => {
            let text = t(lang, "mfa.code_already_used");
            return text.replace("{seconds}", &next_in_s.to_string());
        }
        Error::NotSignedIn => "error.signin_required",
        Error::Forbidden => "error.forbidden",
        Error::NotFound => "error.not_found",
        Error::Throttled { .. } => "setup.blocked",
        Error::Unavailable { .. } => "error.unavailable",
    };
    t(lang, key).to_string()
}

/// `err.<code>.<field or reason>`, else `<code>`, with `{fact}` filled in;
/// a code without words says "check what you entered" (a test keeps every
/// code in `errors.tsv`).
fn coded_message(e: &Error, lang: Lang) -> String {
    let code = e.code();
    let text = ["field", "reason"]
        .iter()
        .filter_map(|f| e.fact(f))
        .find_map(|v| WORDS.get(lang, &format!("{code}.{v}")))
        .or_else(|| WORDS.get(lang, code))
        .unwrap_or_else(|| t(lang, "error.invalid"));
    let mut text = text.to_string();
    if text.contains("{place}") && e.fact("place").is_none() {
        text = text.replace("{place}", t(lang, "case.legacy_place"));
    }
    for (name, value) in e.facts().into_iter().flat_map(|f| f.iter()) {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

/// For operators (an ops event's refusal, `tobira invoke`): the English
/// words and the parser's own detail.
pub fn ops_message(e: &Error) -> String {
    if *e == Error::NotFound {
        // Not a page: the event named something that does not exist.
        return "Not found: no case has the event's `number` (CS and 7 digits), or no user has its `login_id`.".into();
    }
    match e.fact("detail") {
        Some(d) => {
            let words = error_message(e, Lang::En);
            format!("{} ({d}).", words.trim_end_matches('.'))
        }
        None => error_message(e, Lang::En),
    }
}

/// THE mapping from an error to an API answer: status, stable code, message,
/// extra fields and `Retry-After`.
pub fn error_response(e: &Error, lang: Lang) -> Response {
    let mut body = serde_json::json!({ "error": e.code(), "message": error_message(e, lang) });
    if let Some(detail) = e.fact("detail") {
        body["detail"] = serde_json::json!(detail);
    }
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
            status_of(Error::invalid("invalid_json")),
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
            status_of(Error::refused("file_in_legacy_system")),
            (403, "file_in_legacy_system".into(), None)
        );
    }
    #[test]
    fn maps_404() {
        assert_eq!(status_of(Error::NotFound), (404, "not_found".into(), None));
    }
    #[test]
    fn maps_409() {
        assert_eq!(status_of(Error::conflict("not_pending")).0, 409);
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

    /// The codes every part of tobira makes: the API's list (`x-tobira-codes`
    /// of docs/openapi.json) and every code constructed in the source.
    fn every_code() -> std::collections::BTreeSet<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root.join("docs/openapi.json")).unwrap())
                .unwrap();
        let mut codes: std::collections::BTreeSet<String> = doc["components"]["schemas"]["Error"]
            ["x-tobira-codes"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let makers = [
            "Error::invalid(\"",
            "Error::conflict(\"",
            "Error::refused(\"",
            "lost_race_is(\"",
            "plain_id(s, \"",
            "bad(\"",
            "code(\"",
            "=> Err(\"case_",
        ];
        let mut dirs = vec![
            root.join("shared/src"),
            root.join("web/src"),
            root.join("src"),
        ];
        dirs.extend(
            std::fs::read_dir(root.join("functions"))
                .unwrap()
                .map(|d| d.unwrap().path().join("src")),
        );
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|x| x != "rs") {
                    continue;
                }
                let src = std::fs::read_to_string(&path).unwrap();
                for maker in makers {
                    for rest in src.split(maker).skip(1) {
                        let code = &rest[..rest.find('"').unwrap()];
                        let code = if maker.ends_with("case_") {
                            format!("case_{code}")
                        } else {
                            code.to_string()
                        };
                        if !code.is_empty()
                            && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                        {
                            codes.insert(code);
                        }
                    }
                }
            }
        }
        codes
    }

    /// Codes whose words are the fixed variants' own (`error_message`).
    const FIXED: [&str; 12] = [
        "identity_mismatch",
        "weak_password",
        "invalid_token",
        "invalid_credentials",
        "invalid_code",
        "code_already_used",
        "not_signed_in",
        "forbidden",
        "not_found",
        "method_not_allowed",
        "too_many_attempts",
        "temporarily_unavailable",
    ];

    // The domain says codes and facts; every one has words in both languages.
    #[test]
    fn every_error_code_has_words_in_japanese_and_english() {
        let codes = every_code();
        assert!(codes.len() > 60, "found only {codes:?}");
        let mut problems = Vec::new();
        for code in codes.iter().filter(|c| !FIXED.contains(&c.as_str())) {
            let code: &'static str = Box::leak(code.clone().into_boxed_str());
            let e = Error::invalid(code)
                .with("max", 7)
                .with("version", "v9")
                .with("type", "t/x")
                .with("types", ".pdf")
                .with("countries", "81");
            let ja = error_message(&e, Lang::Ja);
            let en = error_message(&e, Lang::En);
            for (lang, text) in [("ja", &ja), ("en", &en)] {
                if text == code
                    || text == t(Lang::Ja, "error.invalid")
                    || text == t(Lang::En, "error.invalid")
                {
                    problems.push(format!("{code}: no {lang} words in errors.tsv"));
                }
                if text.contains('{') {
                    problems.push(format!("{code}: {lang} words keep a placeholder: {text}"));
                }
            }
            if ja == en || ja.is_ascii() {
                problems.push(format!("{code}: the Japanese words are not Japanese: {ja}"));
            }
        }
        // And no words for a code nothing makes.
        for line in include_str!("errors.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
        {
            let key = line.split('\t').next().unwrap();
            let code = key.split('.').next().unwrap();
            if !codes.contains(code) {
                problems.push(format!("errors.tsv: `{key}` is for a code nothing makes"));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        for fixed in FIXED.iter().filter(|c| **c != "method_not_allowed") {
            assert!(
                codes.contains(*fixed),
                "{fixed} is not an API code any more"
            );
        }
    }

    #[test]
    fn facts_fill_the_words_and_pick_the_variant() {
        let e = Error::invalid("too_long")
            .with("field", "subject")
            .with("max", 200);
        assert_eq!(
            error_message(&e, Lang::En),
            "A subject has at most 200 characters."
        );
        assert!(error_message(&e, Lang::Ja).starts_with("件名は 200 文字"));
        let e = Error::invalid("invalid_phone").with("reason", "not_digits");
        assert!(error_message(&e, Lang::Ja).contains("数字で入力"));
        // A variant without words of its own falls back to the code's.
        let e = Error::invalid("invalid_phone").with("reason", "unheard_of");
        assert_eq!(
            error_message(&e, Lang::En),
            "The phone number is not valid."
        );
        // MIG-13's refusal names the configured place, else the legacy portal.
        let e = Error::refused("file_in_legacy_system");
        assert!(error_message(&e, Lang::Ja).contains("旧ポータルのお問い合わせ窓口"));
        let e = e.with("place", "https://legacy.example/cases");
        assert!(error_message(&e, Lang::En).contains("at https://legacy.example/cases."));
        // A parser's detail is the API's `detail` and the operators' suffix,
        // never part of the translated message.
        let e = Error::invalid("invalid_json").detail("expected value at line 1");
        assert_eq!(
            ops_message(&e),
            "The request body is not valid JSON for this call (expected value at line 1)."
        );
        let body: serde_json::Value =
            serde_json::from_slice(error_response(&e, Lang::Ja).body().as_ref()).unwrap();
        assert_eq!(body["detail"], "expected value at line 1");
        assert!(!body["message"].as_str().unwrap().contains("line 1"));
    }
}
