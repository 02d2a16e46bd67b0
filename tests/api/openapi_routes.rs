//! `docs/openapi.json` is held to the code: it lists exactly the live `/api/`
//! routes of `tobira_web::routes::ROUTES` (no more, no less), names the function
//! that serves each, documents every status each handler answers, refuses
//! unknown request fields and names the cookies each route reads.
//!
//! Self-contained: reads the file, no server, no network.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use tobira_web::routes::ROUTES;

use crate::openapi_support::{
    doc, keys, live_api_routes, operations, resolve, show, strings, Op, DOC,
};

/// Statuses each live `/api/` route can answer, read from its handler: a
/// line per route, `METHOD path status...` (`#` starts a comment). Every
/// live route must be listed here, so a new route needs its statuses stated.
/// Every `POST` may answer 403 `forbidden` to a cross-site request (SES-3).
const EXPECTED_STATUSES: &str = "
POST /api/login                      200 400 401 403 503
# Every stage may read `/api/me`, so it never answers 403; 400 is an
# unknown `?lang=` (as on every route).
GET  /api/me                         200 400 401 503
POST /api/logout                     204 400 403 503
POST /api/setup/verify               200 400 403 429 503
POST /api/setup/password             200 400 401 403 503
POST /api/setup/resend               202 400 403 503
# MIG-11: the legacy portal's key, the window, a migrated user.
GET  /api/setup/identity             200 400 401 404 409 503
POST /api/setup/identity             202 400 401 403 404 409 503
POST /api/claim                      200 400 401 403 409 429 503
POST /api/claim/register             202 400 401 403 409 503
# RST-1..4: one answer whatever matched (a mail fault included).
POST /api/password/forgot            202 400 403 503
POST /api/password/reset             200 400 403 503
# PW-5: `full` only; a wrong current password is `invalid_credentials`
# (LOG-2/LOG-3); 409 when the user or session changed meanwhile.
POST /api/password/change            204 400 401 403 409 503
# LOG-4, MFA-3..5, 7: a session at `mfa` only (SES-2); `invalid_code`
# and `not_signed_in` (401), a locked user (429, LOG-2).
POST /api/login/mfa                  200 400 401 403 429 503
# MFA-10: no lookup at the begin (400 only for a user at the second step
# without passkeys); every refusal at the finish is 401.
POST /api/login/passkey/begin        200 400 403 409 503
POST /api/login/passkey/finish       200 400 401 403 409 429 503
POST /api/passkeys/register/begin    200 400 401 403 409 503
POST /api/passkeys/register/finish   200 400 401 403 409 503
GET  /api/passkeys                   200 400 401 403 503
POST /api/passkeys/{id}/rename       200 400 401 403 404 409 503
POST /api/passkeys/{id}/remove       200 400 401 403 404 409 503
# TOS-1: `terms_changed`, or the user or session changed meanwhile (409).
POST /api/terms/accept               200 400 401 403 409 503
# MFA-7: `full` only; 409 when the user record changed meanwhile.
POST /api/devices/forget             204 400 401 403 409 503
# MFA-2 (409 `email_otp_not_first`), MFA-3 (429: resend too soon, hourly cap).
POST /api/otp/email                  202 400 401 403 409 429 503
# MFA-6: the number's refusals are 400.
POST /api/otp/sms                    202 400 401 403 429 503
# The enrolments: `invalid_code` (401), a locked user (429, LOG-2), the
# account changed meanwhile (409 `conflict`).
POST /api/otp/sms/verify             200 400 401 403 409 429 503
# MFA-9: as SMS; 409 `method_unavailable` where calls are off.
POST /api/otp/voice                  202 400 401 403 409 429 503
POST /api/otp/voice/verify           200 400 401 403 409 429 503
POST /api/mfa/totp                   200 400 401 403 503
POST /api/mfa/totp/confirm           200 400 401 403 409 429 503
POST /api/mfa/email                  200 400 401 403 409 429 503
# MFA-5: a wrong password or a locked user is `invalid_credentials` (LOG-3).
POST /api/mfa/recovery/regenerate    200 400 401 403 503
# MFA-5 / SET-4: 409 when the session ended meanwhile.
POST /api/mfa/recovery/ack           200 400 401 403 409 503
# CASE-1..5: `full` only; MIG-13's `file_in_legacy_system` is 403; a
# case of another tenant is 404; CASE-3's refused moves are 409.
POST /api/cases                      201 400 401 403 503
GET  /api/cases                      200 400 401 403 503
GET  /api/cases/{id}                 200 400 401 403 404 503
POST /api/cases/{id}/comments        201 400 401 403 404 409 503
POST /api/cases/{id}/close           200 400 401 403 404 409 503
POST /api/cases/{id}/accept          200 400 401 403 404 409 503
POST /api/cases/{id}/reject          200 400 401 403 404 409 503
POST /api/cases/{id}/uploads     201 400 401 403 404 409 503
POST /api/cases/{id}/attachments 201 400 401 403 404 409 503
GET  /api/cases/{id}/attachments/{file} 200 400 401 403 404 503
# ADM-3, ADM-5, ADM-7: `full` and the admin role (403); a user of another
# tenant is 404; ADM-3's refusals are 409.
GET  /api/admin/users                200 400 401 403 404 503
POST /api/admin/users                201 400 401 403 409 503
GET  /api/admin/users/{id}           200 400 401 403 404 503
POST /api/admin/users/{id}           200 400 401 403 404 409 503
POST /api/admin/users/{id}/disable   200 400 401 403 404 409 503
POST /api/admin/users/{id}/enable    200 400 401 403 404 409 503
POST /api/admin/users/{id}/unlock    200 400 401 403 404 409 503
POST /api/admin/users/{id}/reset-factors 200 400 401 403 404 409 503
POST /api/admin/users/{id}/resend-setup  200 400 401 403 404 409 503
POST /api/admin/users/{id}/identity  200 400 401 403 404 409 503
# ADM-6: one's own history (any full session) and the admin's view.
GET  /api/admin/sign-ins             200 400 401 403 404 503
GET  /api/me/sign-ins                200 400 401 403 503
";

/// The routes of [`EXPECTED_STATUSES`] with their statuses.
fn expected_statuses() -> BTreeMap<Op, Vec<&'static str>> {
    EXPECTED_STATUSES
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut words = l.split_whitespace();
            let mut next = || words.next().expect("METHOD path status...");
            let op = (next().to_string(), next().to_string());
            (op, words.collect())
        })
        .collect()
}

/// Request fields a handler accepts but does not require (`Option` in its
/// body type); every other documented field must be required.
const OPTIONAL_FIELDS: &[(&str, &str, &[&str])] = &[
    // CASE-6: the client's size and ETag are checked when given; a note is optional.
    (
        "POST",
        "/api/cases/{id}/attachments",
        &["size", "etag", "note"],
    ),
    // MIG-11: an absent field keeps the registered value.
    ("POST", "/api/setup/identity", &["email", "name", "phone"]),
    // RST-1's entry has login ID and e-mail; RST-4's adds name and phone.
    ("POST", "/api/password/forgot", &["name", "phone"]),
    // TOS-1: the privacy policy's version is checked only when given.
    (
        "POST",
        "/api/claim/register",
        &["terms_version", "privacy_version"],
    ),
    ("POST", "/api/terms/accept", &["privacy_version"]),
    // MFA-7: not remembering is the default.
    ("POST", "/api/login/mfa", &["remember_device"]),
    // MFA-6: the number only when enrolling; `country` with a national number.
    ("POST", "/api/otp/sms", &["phone", "country", "password"]),
    ("POST", "/api/otp/voice", &["phone", "country", "password"]),
    // MFA-10: the begins may be empty; a browser's credential has optional parts.
    (
        "POST",
        "/api/login/passkey/begin",
        &["login_id", "passwordless"],
    ),
    (
        "POST",
        "/api/passkeys/register/begin",
        &["name", "password"],
    ),
    ("POST", "/api/passkeys/{id}/remove", &["password"]),
    (
        "POST",
        "/api/login/passkey/finish",
        &[
            "authenticatorAttachment",
            "clientExtensionResults",
            "remember_device",
        ],
    ),
    (
        "POST",
        "/api/passkeys/register/finish",
        &["authenticatorAttachment", "clientExtensionResults"],
    ),
    // MFA-8: the password again only when the last proof is not fresh.
    ("POST", "/api/otp/email", &["password"]),
    ("POST", "/api/mfa/totp", &["password"]),
    // ADM-1: the fields not marked required; ADM-2: the policy's login ID.
    (
        "POST",
        "/api/admin/users",
        &["title", "mobile", "group", "comment", "login_id"],
    ),
    // ADM-4: a correction names only what changes.
    (
        "POST",
        "/api/admin/users/{id}/identity",
        &["email", "name", "phone"],
    ),
    // ADM-1 / ADM-2: an edit names only what changes.
    (
        "POST",
        "/api/admin/users/{id}",
        &[
            "name",
            "phone",
            "lang",
            "role",
            "mfa_method",
            "title",
            "mobile",
            "time_zone",
            "group",
            "comment",
            "login_id",
        ],
    ),
];

#[test]
fn openapi_lists_every_live_api_route_and_nothing_else() {
    let doc = doc();
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1.")),
        "{DOC}: must be OpenAPI 3.1, found {}",
        doc["openapi"]
    );
    let documented = operations(&doc);
    let live = live_api_routes();
    assert!(!live.is_empty(), "ROUTES has no /api/ routes");
    let documented: BTreeSet<&Op> = documented.keys().collect();
    let live: BTreeSet<&Op> = live.keys().collect();
    let undocumented: BTreeSet<&Op> = live.difference(&documented).copied().collect();
    let not_live: BTreeSet<&Op> = documented.difference(&live).copied().collect();
    assert!(
        undocumented.is_empty() && not_live.is_empty(),
        "{DOC} and ROUTES (/api/ routes) differ.\n\
         Live in ROUTES but not documented:\n{}\n\
         Documented but not live in ROUTES:\n{}",
        show(&undocumented),
        show(&not_live),
    );
}

#[test]
fn openapi_operations_name_their_function() {
    let doc = doc();
    let live = live_api_routes();
    let mut wrong = Vec::new();
    for (op, operation) in operations(&doc) {
        let named = operation["x-tobira-function"].as_str();
        let expected = live.get(&op).copied();
        if named.is_none() || named != expected {
            wrong.push(format!(
                "  {} {}: x-tobira-function is {:?}, ROUTES says {:?}",
                op.0, op.1, named, expected
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{DOC}: operations name the wrong function:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn openapi_documents_every_status_the_api_returns() {
    let doc = doc();
    let ops = operations(&doc);
    let live = live_api_routes();
    let expected = expected_statuses();
    let mut problems = Vec::new();
    for op in live.keys() {
        if !expected.contains_key(op) {
            problems.push(format!(
                "  {} {}: live, but this test does not say which statuses it answers",
                op.0, op.1
            ));
        }
    }
    for (op, statuses) in &expected {
        let Some(operation) = ops.get(op) else {
            problems.push(format!("  {} {}: not documented", op.0, op.1));
            continue;
        };
        let responses = operation["responses"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let missing: Vec<&str> = statuses
            .iter()
            .copied()
            .filter(|s| !responses.contains_key(*s))
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "  {} {}: statuses {missing:?} are not documented (documented: {:?})",
                op.0,
                op.1,
                responses.keys().collect::<Vec<_>>()
            ));
        }
        for (status, response) in &responses {
            let response = resolve(&doc, response);
            let json = &response["content"]["application/json"]["schema"];
            let retry_after = response["headers"]
                .as_object()
                .is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case("retry-after")));
            match status.as_str() {
                "204" if !response["content"].is_null() => {
                    problems.push(format!("  {} {} 204: must have no body", op.0, op.1))
                }
                "204" => {}
                s if json.is_null() => problems.push(format!(
                    "  {} {} {s}: no application/json body schema",
                    op.0, op.1
                )),
                "429" | "503" if !retry_after => problems.push(format!(
                    "  {} {} {status}: the Retry-After header is not documented",
                    op.0, op.1
                )),
                _ => {}
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{DOC}: statuses the API answers are not documented:\n{}",
        problems.join("\n")
    );
}

#[test]
fn openapi_request_bodies_refuse_unknown_fields() {
    // The handlers parse with `deny_unknown_fields`; only the fields of
    // `OPTIONAL_FIELDS` may be left out.
    let doc = doc();
    let mut problems = Vec::new();
    for ((method, path), op) in operations(&doc) {
        if op["requestBody"].is_null() {
            continue;
        }
        let body = resolve(&doc, &op["requestBody"]);
        let schema = resolve(&doc, &body["content"]["application/json"]["schema"]);
        if schema["additionalProperties"] != Value::Bool(false) {
            problems.push(format!(
                "  {method} {path}: additionalProperties is not false"
            ));
        }
        let props = keys(&schema["properties"]);
        let required = strings(&schema["required"]);
        let optional: BTreeSet<&str> = OPTIONAL_FIELDS
            .iter()
            .find(|(m, p, _)| *m == method && *p == path)
            .map(|(_, _, f)| f.iter().copied().collect())
            .unwrap_or_default();
        let expected: BTreeSet<&str> = required.union(&optional).copied().collect();
        if props != expected || !required.is_disjoint(&optional) {
            problems.push(format!(
                "  {method} {path}: properties {props:?} but required {required:?} and optional {optional:?}"
            ));
        }
    }
    assert!(problems.is_empty(), "{DOC}:\n{}", problems.join("\n"));
}

#[test]
fn openapi_cookies_are_the_session_and_grant_cookies() {
    let doc = doc();
    let schemes = &doc["components"]["securitySchemes"];
    for (scheme, cookie) in [
        ("session", "__Host-tobira-session"),
        ("grant", "__Host-tobira-grant"),
        ("claim", "__Host-tobira-claim"),
    ] {
        let s = &schemes[scheme];
        assert_eq!(
            s["type"], "apiKey",
            "{DOC}: {scheme} must be an apiKey scheme"
        );
        assert_eq!(s["in"], "cookie", "{DOC}: {scheme} must be a cookie");
        assert_eq!(s["name"], cookie, "{DOC}: {scheme} cookie name");
    }
    let ops = operations(&doc);
    let needs = |m: &str, p: &str, scheme: &str| {
        let op = ops
            .get(&(m.to_string(), p.to_string()))
            .unwrap_or_else(|| panic!("{DOC}: {m} {p} is not documented"));
        let any = op["security"]
            .as_array()
            .is_some_and(|reqs| reqs.iter().any(|r| r.get(scheme).is_some()));
        assert!(
            any,
            "{DOC}: {m} {p} must name the `{scheme}` cookie in `security`"
        );
    };
    needs("GET", "/api/me", "session");
    needs("POST", "/api/logout", "session");
    needs("POST", "/api/setup/password", "grant");
    needs("POST", "/api/claim/register", "claim");
    // SES-2: every step after the password is reached by its session.
    for p in [
        "/api/login/mfa",
        "/api/terms/accept",
        "/api/devices/forget",
        "/api/otp/email",
        "/api/otp/sms",
        "/api/otp/sms/verify",
        "/api/otp/voice",
        "/api/otp/voice/verify",
        "/api/mfa/totp",
        "/api/mfa/totp/confirm",
        "/api/mfa/email",
        "/api/mfa/recovery/regenerate",
        "/api/mfa/recovery/ack",
        "/api/password/change",
    ] {
        needs("POST", p, "session");
    }
    // CASE-1..5: every case route.
    for r in ROUTES.iter().filter(|r| r.path.starts_with("/api/cases")) {
        needs(r.method, r.path, "session");
    }
    // MFA-7: a remembered device is presented at sign-in.
    assert_eq!(schemes["device"]["type"], "apiKey");
    assert_eq!(schemes["device"]["in"], "cookie");
    assert_eq!(schemes["device"]["name"], "__Host-tobira-device");
    needs("POST", "/api/login", "device");
    // MIG-11: the legacy portal's bearer key, never a cookie.
    assert_eq!(schemes["legacyPortal"]["type"], "http");
    assert_eq!(schemes["legacyPortal"]["scheme"], "bearer");
    for m in ["GET", "POST"] {
        needs(m, "/api/setup/identity", "legacyPortal");
    }
}
