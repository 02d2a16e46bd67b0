//! `docs/openapi.json` is held to the code: it lists exactly the live `/api/`
//! routes of `tobira_web::routes::ROUTES` (no more, no less), names the function
//! that serves each, documents every status each handler answers, and its
//! `Error` schema describes the error bodies that `web::error_response`
//! actually produces for every `tobira::Error`.
//!
//!
//! Its `x-tobira-events` (the `migrate-batch` function) is held to
//! `tobira_migrate_batch`: the actions it documents are the ones the handler
//! accepts, and every report a realistic run produces matches the documented
//! answer schema (and uses every field the schema declares).
//!
//! Values are checked against the document's schemas by a JSON Schema 2020-12
//! validator, the `jsonschema` crate (OpenAPI 3.1's schemas are JSON Schema).
//!
//! Self-contained: reads the file, no server, no network.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use tobira::Error;
use tobira_web::i18n::{t, Lang};
use tobira_web::routes::ROUTES;
use tobira_web::web::{Body, Request};

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");

/// The HTTP methods an OpenAPI path item can hold.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Statuses each live `/api/` route can answer, read from its handler. Every
/// live route must be listed here, so a new route needs its statuses stated.
/// Every `POST` may answer 403 `forbidden` to a cross-site request (SES-3).
const EXPECTED_STATUSES: &[(&str, &str, &[&str])] = &[
    ("POST", "/api/login", &["200", "400", "401", "403", "503"]),
    // Every stage may read `/api/me`, so it never answers 403; 400 is an
    // unknown `?lang=` (as on every route).
    ("GET", "/api/me", &["200", "400", "401", "503"]),
    ("POST", "/api/logout", &["204", "400", "403", "503"]),
    (
        "POST",
        "/api/setup/verify",
        &["200", "400", "403", "429", "503"],
    ),
    (
        "POST",
        "/api/setup/password",
        &["200", "400", "401", "403", "503"],
    ),
    ("POST", "/api/setup/resend", &["202", "400", "403", "503"]),
    // MIG-11: the legacy portal's key, the window, a migrated user.
    (
        "GET",
        "/api/setup/identity",
        &["200", "400", "401", "404", "409", "503"],
    ),
    (
        "POST",
        "/api/setup/identity",
        &["202", "400", "401", "403", "404", "409", "503"],
    ),
    (
        "POST",
        "/api/claim",
        &["200", "400", "401", "403", "409", "429", "503"],
    ),
    (
        "POST",
        "/api/claim/register",
        &["202", "400", "401", "403", "503"],
    ),
    // RST-1..4: one answer whatever matched (a mail fault included).
    (
        "POST",
        "/api/password/forgot",
        &["202", "400", "403", "503"],
    ),
    ("POST", "/api/password/reset", &["200", "400", "403", "503"]),
    // PW-5: `full` only; a wrong current password is `invalid_credentials`
    // (LOG-2/LOG-3); 409 when the user or session changed meanwhile.
    (
        "POST",
        "/api/password/change",
        &["204", "400", "401", "403", "409", "503"],
    ),
    // LOG-4, MFA-3..5, 7: a session at `mfa` only (SES-2); `invalid_code`
    // and `not_signed_in` (401), a locked user (429, LOG-2).
    (
        "POST",
        "/api/login/mfa",
        &["200", "400", "401", "403", "429", "503"],
    ),
    // TOS-1: `terms_changed`, or the user or session changed meanwhile (409).
    (
        "POST",
        "/api/terms/accept",
        &["200", "400", "401", "403", "409", "503"],
    ),
    // MFA-7: `full` only; 409 when the user record changed meanwhile.
    (
        "POST",
        "/api/devices/forget",
        &["204", "400", "401", "403", "409", "503"],
    ),
    // MFA-2 (409 `email_otp_not_first`), MFA-3 (429: resend too soon, hourly cap).
    (
        "POST",
        "/api/otp/email",
        &["202", "400", "401", "403", "409", "429", "503"],
    ),
    // MFA-6: the number's refusals are 400.
    (
        "POST",
        "/api/otp/sms",
        &["202", "400", "401", "403", "429", "503"],
    ),
    // The enrolments: `invalid_code` (401), a locked user (429, LOG-2), the
    // account changed meanwhile (409 `conflict`).
    (
        "POST",
        "/api/otp/sms/verify",
        &["200", "400", "401", "403", "409", "429", "503"],
    ),
    (
        "POST",
        "/api/mfa/totp",
        &["200", "400", "401", "403", "503"],
    ),
    (
        "POST",
        "/api/mfa/totp/confirm",
        &["200", "400", "401", "403", "409", "429", "503"],
    ),
    (
        "POST",
        "/api/mfa/email",
        &["200", "400", "401", "403", "409", "429", "503"],
    ),
    // MFA-5: a wrong password or a locked user is `invalid_credentials` (LOG-3).
    (
        "POST",
        "/api/mfa/recovery/regenerate",
        &["200", "400", "401", "403", "503"],
    ),
    // MFA-5 / SET-4: 409 when the session ended meanwhile.
    (
        "POST",
        "/api/mfa/recovery/ack",
        &["200", "400", "401", "403", "409", "503"],
    ),
    // CASE-1..5: `full` only; MIG-13's `file_in_legacy_system` is 403; a
    // case of another tenant is 404; CASE-3's refused moves are 409.
    ("POST", "/api/cases", &["201", "400", "401", "403", "503"]),
    ("GET", "/api/cases", &["200", "400", "401", "403", "503"]),
    (
        "GET",
        "/api/cases/{id}",
        &["200", "400", "401", "403", "404", "503"],
    ),
    (
        "POST",
        "/api/cases/{id}/comments",
        &["201", "400", "401", "403", "404", "409", "503"],
    ),
    (
        "POST",
        "/api/cases/{id}/close",
        &["200", "400", "401", "403", "404", "409", "503"],
    ),
    (
        "POST",
        "/api/cases/{id}/accept",
        &["200", "400", "401", "403", "404", "409", "503"],
    ),
    (
        "POST",
        "/api/cases/{id}/reject",
        &["200", "400", "401", "403", "404", "409", "503"],
    ),
];

/// Request fields a handler accepts but does not require (`Option` in its
/// body type); every other documented field must be required.
const OPTIONAL_FIELDS: &[(&str, &str, &[&str])] = &[
    // MIG-11: an absent field keeps the registered value.
    ("POST", "/api/setup/identity", &["email", "name", "phone"]),
    // RST-1's entry has login ID and e-mail; RST-4's adds name and phone.
    ("POST", "/api/password/forgot", &["name", "phone"]),
    // MFA-7: not remembering is the default.
    ("POST", "/api/login/mfa", &["remember_device"]),
    // MFA-6: the number only when enrolling; `country` with a national number.
    ("POST", "/api/otp/sms", &["phone", "country", "password"]),
    // MFA-8: the password again only when the last proof is not fresh.
    ("POST", "/api/otp/email", &["password"]),
    ("POST", "/api/mfa/totp", &["password"]),
];

type Op = (String, String);

fn doc() -> Value {
    let text = std::fs::read_to_string(DOC).unwrap_or_else(|e| panic!("cannot read {DOC}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{DOC} is not valid JSON: {e}"))
}

/// Every operation of the document by (METHOD, path).
fn operations(doc: &Value) -> BTreeMap<Op, Value> {
    let paths = doc["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("{DOC}: `paths` must be an object"));
    let mut ops = BTreeMap::new();
    for (path, item) in paths {
        let item = item
            .as_object()
            .unwrap_or_else(|| panic!("{DOC}: path item {path} must be an object"));
        for (key, op) in item {
            if METHODS.contains(&key.as_str()) {
                ops.insert((key.to_ascii_uppercase(), path.clone()), op.clone());
            }
        }
    }
    ops
}

/// The live JSON API: the routes of `ROUTES` under `/api/`, with their function.
fn live_api_routes() -> BTreeMap<Op, &'static str> {
    ROUTES
        .iter()
        .filter(|r| r.path.starts_with("/api/"))
        .map(|r| ((r.method.to_string(), r.path.to_string()), r.function))
        .collect()
}

fn show(ops: &BTreeSet<&Op>) -> String {
    if ops.is_empty() {
        return "  (none)".into();
    }
    ops.iter()
        .map(|(m, p)| format!("  {m} {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Follow a local `$ref` (`#/components/...`), if `v` is one.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let target = r
                .strip_prefix('#')
                .and_then(|p| doc.pointer(p))
                .unwrap_or_else(|| panic!("{DOC}: unresolvable $ref {r}"));
            resolve(doc, target)
        }
        None => v,
    }
}

fn error_schema(doc: &Value) -> &Value {
    let s = &doc["components"]["schemas"]["Error"];
    assert!(s.is_object(), "{DOC}: components.schemas.Error is missing");
    s
}

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

/// The error a strict JSON body parse refuses `body` with.
fn body_error(content_type: Option<&str>, body: String) -> Error {
    let mut req = Request::new(Body::Text(body));
    if let Some(ct) = content_type {
        req.headers_mut()
            .insert("content-type", ct.parse().expect("valid header value"));
    }
    tobira_web::web::json_body::<Value>(&req).expect_err("the body must be refused")
}

/// One of every error the domain has, the request-parsing ones made by the
/// real parser, `weak_password` with every rule any preset can report unmet.
async fn every_error() -> Vec<Error> {
    use tobira::password::{all_rules, Preset};
    use tobira::store::StoreError;
    let mut rules = Vec::new();
    for preset in [Preset::Default, Preset::Seed003, Preset::Seed002] {
        for rule in all_rules(preset) {
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
    }
    let mut errors = vec![
        body_error(None, "{}".into()),
        body_error(
            Some("application/json"),
            " ".repeat(tobira_web::web::MAX_BODY + 1),
        ),
        body_error(Some("application/json"), "{".into()),
        // An API call's unknown `?lang=` (`Call::parse`).
        Error::invalid("invalid_lang", t(Lang::En, "error.invalid_lang")),
        Error::IdentityMismatch,
        Error::WeakPassword { unmet: rules },
        Error::InvalidToken,
        Error::InvalidCredentials,
        Error::NotSignedIn,
        Error::Forbidden,
        Error::NotFound,
        Error::from(StoreError::Conflict),
        // What `send_setup_link` answers when the user finished setup meanwhile.
        Error::Conflict {
            code: "not_pending",
            message: "the user has already set up".into(),
        },
        Error::Throttled {
            retry_after_s: Some(60),
        },
        Error::Throttled {
            retry_after_s: None,
        },
        Error::from(StoreError::Unavailable("test".into())),
        // The routes of MIG-11, CLM-1..3: the parsers' refusals, made by them.
        tobira::ids::LoginId::parse("").expect_err("empty login ID"),
        tobira::ids::Email::parse("no-at-sign").expect_err("not an address"),
        tobira::ids::PersonName::parse(" ").expect_err("blank name"),
        tobira::claim::parse_service_id("no spaces").expect_err("bad service ID"),
        Error::invalid("invalid_phone", "phone must have 4 to 32 digits"),
        Error::invalid(
            "terms_not_accepted",
            "accept the terms of use and the privacy policy to register",
        ),
        Error::Conflict {
            code: "window_closed",
            message: "the migration window is not open".into(),
        },
        Error::Conflict {
            code: "target_disabled",
            message: "the account to link to is disabled".into(),
        },
        Error::Conflict {
            code: "busy",
            message: "an account changed meanwhile; try again".into(),
        },
        // `migrate-batch` (`POST /_dev/invoke/migrate-batch`): its refusals,
        // made by its parsers.
        tobira_migrate_batch::parse_event(json!({ "action": "explode" }))
            .expect_err("unknown action"),
        tobira::ids::TenantId::parse("no spaces").expect_err("bad tenant ID"),
        tobira::migration::Pos::parse("no-slash").expect_err("bad cursor"),
        // Two-step verification (LOG-4, MFA-2..6, TOS-1): the parsers'
        // refusals made by them, the handlers' own by their codes.
        Error::InvalidCode,
        tobira::mfa::Proof::parse("password").expect_err("unknown method"),
        tobira::mfa::Purpose::parse("reset").expect_err("unknown purpose"),
        Error::invalid("method_not_enrolled", "sms is not one of your methods"),
        Error::invalid("phone_required", "enter the mobile number to prove"),
        Error::invalid(
            "unexpected_phone",
            "a sign-in code goes to the enrolled number; leave phone out",
        ),
        tobira::ids::Phone::parse("09012345678", Some("81")).expect_err("leading 0"),
        tobira::ids::Phone::parse("9012345678", Some("0081")).expect_err("bad country code"),
        Error::invalid(
            "no_totp_setup",
            "start the authenticator set-up first (POST /api/mfa/totp)",
        ),
        Error::invalid(
            "not_recorded",
            "confirm that you have recorded the recovery codes (recorded: true)",
        ),
        Error::Conflict {
            code: "terms_changed",
            message: "the current terms are version 2024-07; read and accept those".into(),
        },
        // MFA-8: a factor change from a session whose password is not fresh.
        tobira::mfa::reauth_required(Lang::En),
        Error::Conflict {
            code: "email_otp_not_first",
            message: "enrol an authenticator app or SMS first; e-mail codes can be added after"
                .into(),
        },
        // Support cases (CASE-1..5): the handler's own parsers' refusals by
        // their codes; the rest made by the domain in `case_errors`.
        Error::invalid("invalid_kind", t(Lang::En, "case.err.kind")),
        Error::invalid("invalid_filter", t(Lang::En, "case.err.filter")),
    ];
    errors.extend(case_errors().await);
    errors
}

/// The refusals of support cases (CASE-1..5, MIG-13) and of `migrate-batch`'s
/// `case-update`, made by the domain: a migrated user while the migration
/// window is open (MIG-13), then after it closed, on a case moved through
/// CASE-3.
async fn case_errors() -> Vec<Error> {
    use tobira::cases::{Kind, ListQuery, Move, NewCase, Status};
    let mut config = window_config();
    config.cases.comments_max = 1;
    let h = crate::support::Harness::with_config(config);
    let app = &h.app;
    let ctx = crate::support::ctx();
    h.active_user("cases@example.com", "Sturdy-Gate58").await;
    let login = tobira::ids::LoginId::parse("cases@example.com").expect("a login ID");
    let (user, _) = app
        .user_by_login(&login)
        .await
        .expect("the store answers")
        .expect("the user exists");
    fn new<'a>(category: &'a str, subject: &'a str, body: &'a str) -> NewCase<'a> {
        NewCase {
            kind: Kind::Inquiry,
            category,
            subject,
            body,
        }
    }
    let long = "x".repeat(app.config.cases.body_max + 1);
    let mut errors = Vec::new();
    for (what, case) in [
        ("unknown category", new("no such category", "s", "b")),
        ("empty subject", new("その他", " ", "b")),
        ("long body", new("その他", "s", &long)),
        ("control characters", new("その他", "a\u{7}b", "b")),
        // MIG-13: the window is open and the user came from the legacy system.
        ("a legacy user", new("その他", "s", "b")),
    ] {
        let e = app.create_case(&user, &case, &ctx).await;
        errors.push(e.expect_err(what));
    }
    let page = |q, cursor| ListQuery {
        action_needed: false,
        q: Some(q),
        cursor: Some(cursor),
    };
    let long_q = "x".repeat(tobira::cases::QUERY_MAX + 1);
    for (what, query) in [
        ("long keyword", page(long_q.as_str(), "")),
        ("bad cursor", page("", "no-cursor")),
    ] {
        let e = app.list_cases(&user, &query, Lang::En).await;
        errors.push(e.expect_err(what));
    }
    for (what, number, status, comment) in [
        ("bad number", "CS12", None, Some("c")),
        ("nothing to do", "CS0000001", None, None),
        ("unknown number", "CS0000001", Some(Status::Resolved), None),
    ] {
        let e = app.desk_update(number, status, comment, &ctx).await;
        errors.push(e.expect_err(what));
    }

    // After the window: the user files here, and the case moves (CASE-3).
    app.close_window(false, &ctx)
        .await
        .expect("the window closes");
    let case = app
        .create_case(&user, &new("その他", "s", "b"), &ctx)
        .await
        .expect("a case");
    let id = case.id.as_str();
    let customer = |m| app.move_case(&user, id, m, &ctx);
    let comment = |body| app.comment_case(&user, id, body, &ctx);
    let desk = |status| app.desk_update(&case.number, Some(status), None, &ctx);
    let mut refused = vec![customer(Move::Accept).await.map(drop)];
    comment("first").await.expect("a comment");
    refused.push(comment("second").await.map(drop));
    refused.push(desk(Status::New).await.map(drop));
    desk(Status::Resolved).await.expect("resolved");
    refused.push(desk(Status::Resolved).await.map(drop));
    refused.push(customer(Move::Close).await.map(drop));
    customer(Move::Accept).await.expect("accepted");
    refused.push(customer(Move::Reject).await.map(drop));
    errors.extend(refused.into_iter().map(|r| r.expect_err("a refused move")));
    errors
}

#[tokio::test]
async fn openapi_error_schema_matches_error_codes() {
    let doc = doc();
    let schema = error_schema(&doc);
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .unwrap_or_else(|| panic!("{DOC}: Error.required must be a list"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        required.contains("error") && required.contains("message"),
        "{DOC}: Error must require `error` and `message`, requires {required:?}"
    );
    assert_eq!(
        schema["additionalProperties"],
        Value::Bool(false),
        "{DOC}: Error must not allow undocumented fields"
    );
    let props = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{DOC}: Error.properties must be an object"));
    for field in ["error", "message"] {
        assert_eq!(
            props.get(field).map(|p| &p["type"]),
            Some(&Value::from("string")),
            "{DOC}: Error.{field} must be a string"
        );
    }
    let rule_enum: BTreeSet<&str> = resolve(&doc, &props["unmet"]["items"])["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{DOC}: Error.unmet.items must be an enum of rule codes"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let codes = schema["x-tobira-codes"]
        .as_object()
        .unwrap_or_else(|| panic!("{DOC}: Error.x-tobira-codes (code -> status) is missing"));

    let mut schemas = Schemas::new(&doc);
    let mut problems = Vec::new();
    let mut produced = BTreeSet::new();
    let mut rules_seen = BTreeSet::new();
    // Every domain error through the one mapping, and the edge's own 405
    // (a known path with a method it does not serve, `web::not_found`).
    let errors = every_error().await;
    let answers = errors
        .iter()
        .map(|e| (e.code(), tobira_web::web::error_response(e, Lang::En)))
        .chain([(
            "method_not_allowed",
            tobira_web::errors::method_not_allowed(Lang::En),
        )]);
    for (code, r) in answers {
        produced.insert(code.to_string());
        let status = r.status().as_u16();
        match codes.get(code).and_then(Value::as_u64) {
            Some(s) if s == u64::from(status) => {}
            other => problems.push(format!(
                "  code {code}: status {status} in the code, {other:?} in x-tobira-codes"
            )),
        }
        let body: Value = serde_json::from_slice(r.body().as_ref()).expect("error body is JSON");
        schemas.check(
            "/components/schemas/Error",
            &body,
            &format!("code {code}: body"),
            &mut problems,
            &mut BTreeSet::new(),
        );
        let body = body.as_object().expect("error body is an object");
        for key in body.keys() {
            if !props.contains_key(key) {
                problems.push(format!(
                    "  code {code}: body field `{key}` is not in the Error schema"
                ));
            }
        }
        for key in &required {
            if !body.contains_key(*key) {
                problems.push(format!("  code {code}: body lacks required `{key}`"));
            }
        }
        if body.get("error").and_then(Value::as_str) != Some(code) {
            problems.push(format!(
                "  code {code}: body says error {:?}",
                body.get("error")
            ));
        }
        if body
            .get("message")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            problems.push(format!("  code {code}: empty or missing message"));
        }
        if let Some(s) = body.get("retry_after_s") {
            if s.as_u64().is_none_or(|s| s < 1) {
                problems.push(format!(
                    "  code {code}: retry_after_s {s} is not an integer >= 1"
                ));
            }
        }
        for rule in body
            .get("unmet")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let rule = rule.as_str().unwrap_or_default().to_string();
            if !rule_enum.contains(rule.as_str()) {
                problems.push(format!(
                    "  code {code}: unmet rule `{rule}` is not in the schema's enum"
                ));
            }
            rules_seen.insert(rule);
        }
    }
    for code in codes.keys() {
        if !produced.contains(code) {
            problems.push(format!(
                "  x-tobira-codes lists `{code}`, which no error produces"
            ));
        }
    }
    for rule in &rule_enum {
        if !rules_seen.contains(*rule) {
            problems.push(format!(
                "  the unmet enum lists `{rule}`, which no preset reports"
            ));
        }
    }

    // Each operation's error answers: the Error schema, and only codes whose
    // status is the status they are documented under.
    for ((method, path), op) in operations(&doc) {
        let Some(responses) = op["responses"].as_object() else {
            continue;
        };
        for (status, response) in responses {
            if !status.starts_with('4') && !status.starts_with('5') {
                continue;
            }
            let response = resolve(&doc, response);
            let s = &response["content"]["application/json"]["schema"];
            if s["$ref"].as_str() != Some("#/components/schemas/Error") {
                problems.push(format!(
                    "  {method} {path} {status}: body is not the Error schema"
                ));
            }
            for code in s["properties"]["error"]["enum"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if codes
                    .get(code)
                    .and_then(Value::as_u64)
                    .map(|s| s.to_string())
                    .as_deref()
                    != Some(status.as_str())
                {
                    problems.push(format!(
                        "  {method} {path} {status}: code `{code}` has status {} in x-tobira-codes",
                        codes.get(code).map_or("(none)".into(), Value::to_string)
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{DOC}: the Error schema and the error codes disagree:\n{}",
        problems.join("\n")
    );
}

#[test]
fn openapi_documents_every_status_the_api_returns() {
    let doc = doc();
    let ops = operations(&doc);
    let live = live_api_routes();
    let expected: BTreeMap<Op, &[&str]> = EXPECTED_STATUSES
        .iter()
        .map(|(m, p, s)| ((m.to_string(), p.to_string()), *s))
        .collect();
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
        let props: BTreeSet<&str> = schema["properties"]
            .as_object()
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let required: BTreeSet<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
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

// ---------------------------------------------------------------------------
// `x-tobira-events`: the `migrate-batch` function.

/// The pointer (`/components/schemas/X`) of a local `$ref`.
fn ref_pointer(r: &str) -> String {
    let p = r
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("{DOC}: only local $refs are used, found {r}"));
    p.to_string()
}

/// The schema at `ptr`, following `$ref`s; and the pointer it was found at.
fn schema_at<'a>(doc: &'a Value, ptr: &str) -> (&'a Value, String) {
    let s = doc
        .pointer(ptr)
        .unwrap_or_else(|| panic!("{DOC}: nothing at {ptr}"));
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => schema_at(doc, &ref_pointer(r)),
        None => (s, ptr.to_string()),
    }
}

/// The document's schemas as a JSON Schema 2020-12 validator (the
/// `jsonschema` crate) sees them: one validator per schema pointer, each
/// built on a root that holds the document's `components` at the same place,
/// so every local `$ref` (`#/components/...`) resolves. OpenAPI's own
/// keywords (`discriminator`) are annotations to it; every format it knows is
/// asserted.
struct Schemas {
    components: Value,
    built: BTreeMap<String, jsonschema::Validator>,
}

impl Schemas {
    fn new(doc: &Value) -> Self {
        Self {
            components: doc["components"].clone(),
            built: BTreeMap::new(),
        }
    }

    fn validator(&mut self, ptr: &str) -> &jsonschema::Validator {
        let components = &self.components;
        self.built.entry(ptr.to_string()).or_insert_with(|| {
            let root = json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$ref": format!("#{ptr}"),
                "components": components,
            });
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .build(&root)
                .unwrap_or_else(|e| panic!("{DOC}: the schema at {ptr} does not compile: {e}"))
        })
    }

    /// Check `v` against the schema at `ptr`. Problems go to `problems` with
    /// `at` (where in the value); the pointer of every declared property `v`
    /// has goes to `seen`: the `.../properties/<name>` units of the
    /// evaluation's hierarchical output, in the subschemas that held (so in
    /// the `oneOf`/`anyOf` branches that matched).
    fn check(
        &mut self,
        ptr: &str,
        v: &Value,
        at: &str,
        problems: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) {
        let evaluation = self.validator(ptr).evaluate(v);
        if !evaluation.flag().valid {
            for e in evaluation.iter_errors() {
                problems.push(format!(
                    "  {at}{}: {} (schema {})",
                    e.instance_location.as_str(),
                    e.error,
                    e.schema_location,
                ));
            }
            return;
        }
        fn held(unit: jsonschema::OutputUnit<'_>, seen: &mut BTreeSet<String>) {
            if !unit.valid() {
                return;
            }
            let location = unit.schema_location();
            if location
                .rsplit_once('/')
                .is_some_and(|(parent, name)| parent.ends_with("/properties") && !name.is_empty())
            {
                seen.insert(location.to_string());
            }
            for child in unit.children() {
                held(child, seen);
            }
        }
        held(evaluation.root(), seen);
    }
}

/// The pointer of every property the schema at `ptr` declares, nested ones
/// included (following `$ref`, `items` and the branches).
fn declared(doc: &Value, ptr: &str, out: &mut BTreeSet<String>, visited: &mut BTreeSet<String>) {
    let (schema, ptr) = schema_at(doc, ptr);
    if !visited.insert(ptr.clone()) {
        return;
    }
    for k in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|p| p.keys())
    {
        let p = format!("{ptr}/properties/{k}");
        out.insert(p.clone());
        declared(doc, &p, out, visited);
    }
    if schema.get("items").is_some() {
        declared(doc, &format!("{ptr}/items"), out, visited);
    }
    for kw in ["oneOf", "anyOf", "allOf"] {
        for i in 0..schema.get(kw).and_then(Value::as_array).map_or(0, Vec::len) {
            declared(doc, &format!("{ptr}/{kw}/{i}"), out, visited);
        }
    }
}

fn events_doc(doc: &Value) -> &Value {
    let e = &doc["x-tobira-events"];
    assert_eq!(
        e["function"], "migrate-batch",
        "{DOC}: x-tobira-events must describe migrate-batch"
    );
    e
}

/// action -> the `actions` entry of `x-tobira-events`.
fn documented_actions(doc: &Value) -> BTreeMap<String, Value> {
    events_doc(doc)["actions"]
        .as_object()
        .unwrap_or_else(|| panic!("{DOC}: x-tobira-events.actions must be an object"))
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The pointer of an action's `event` or `answer` schema.
fn action_schema(doc: &Value, action: &str, which: &str) -> String {
    let r = documented_actions(doc)
        .get(action)
        .unwrap_or_else(|| panic!("{DOC}: action `{action}` is not documented"))[which]["$ref"]
        .as_str()
        .unwrap_or_else(|| panic!("{DOC}: action `{action}` has no `{which}` $ref"))
        .to_string();
    ref_pointer(&r)
}

fn window_config() -> tobira::Config {
    let mut c = crate::support::test_config();
    c.migration_window = Some(("2026-11-01".into(), "2026-12-31".into()));
    c
}

/// `None` if the handler accepted the event (whatever it then answered),
/// else the `invalid_event` message. Each on a fresh store.
async fn refusal(event: &Value) -> Option<String> {
    let h = crate::support::Harness::with_config(window_config());
    match tobira_migrate_batch::handle(&h.app, event.clone()).await {
        Err(e) if e.code() == "invalid_event" => Some(e.to_string()),
        _ => None,
    }
}

/// Invokes `migrate-batch` and checks each answer against the answer schema
/// its action documents.
struct Run<'a> {
    doc: &'a Value,
    schemas: Schemas,
    h: &'a crate::support::Harness,
    problems: Vec<String>,
    seen: BTreeSet<String>,
    /// Answer schemas used, by action.
    answered: BTreeSet<String>,
}

impl Run<'_> {
    async fn send(&mut self, step: &str, event: Value) -> Value {
        let is_envelope = event.get("source").is_some() && event.get("detail-type").is_some();
        let ops = if !is_envelope {
            Some(event.clone())
        } else if event["detail-type"] == "Scheduled Event" {
            None
        } else {
            Some(event["detail"].clone())
        };
        let action = match &ops {
            Some(ops) => {
                let mut p = Vec::new();
                self.schemas.check(
                    "/components/schemas/MigrateBatchEvent",
                    ops,
                    &format!("{step} event"),
                    &mut p,
                    &mut BTreeSet::new(),
                );
                self.problems.extend(p);
                ops["action"].as_str().expect("an action").to_string()
            }
            None => "continue".to_string(),
        };
        let answer = tobira_migrate_batch::handle(&self.h.app, event.clone())
            .await
            .unwrap_or_else(|e| panic!("{step}: {event} failed: {e:?}"));
        let ptr = action_schema(self.doc, &action, "answer");
        self.schemas.check(
            &ptr,
            &answer,
            &format!("{step} answer"),
            &mut self.problems,
            &mut self.seen,
        );
        self.answered.insert(action);
        answer
    }
}

// MIG-10
#[tokio::test]
async fn migrate_batch_events_and_reports_match_the_document() {
    use crate::support::{sample_records, Harness};
    let doc = doc();
    let actions = documented_actions(&doc);
    let mut schemas = Schemas::new(&doc);
    let mut problems = Vec::new();

    // (a) The documented actions are the ones the handler accepts. Its own
    // list, from the refusal of an unknown action (serde names the variants).
    let e =
        tobira_migrate_batch::handle(&Harness::new().app, json!({ "action": "no-such-action" }))
            .await
            .expect_err("an undocumented action is refused");
    assert_eq!(e.code(), "invalid_event");
    let msg = e.to_string();
    let handler: BTreeSet<String> = msg
        .split_once("expected one of ")
        .unwrap_or_else(|| panic!("cannot read the handler's actions from {msg:?}"))
        .1
        .split(',')
        .map(|a| a.trim().trim_matches('`').to_string())
        .collect();
    let documented: BTreeSet<String> = actions.keys().cloned().collect();
    assert_eq!(
        documented, handler,
        "{DOC}: x-tobira-events.actions (left) and the actions migrate-batch accepts (right) differ"
    );
    let event_union = &doc["components"]["schemas"]["MigrateBatchEvent"];
    let in_union: BTreeSet<String> = event_union["oneOf"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["$ref"].as_str())
        .map(|r| schema_at(&doc, &ref_pointer(r)).0["properties"]["action"]["const"].clone())
        .filter_map(|c| c.as_str().map(String::from))
        .collect();
    let in_mapping: BTreeSet<String> = event_union["discriminator"]["mapping"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    assert_eq!(
        (&in_union, &in_mapping),
        (&documented, &documented),
        "{DOC}: MigrateBatchEvent's oneOf and discriminator must list every action"
    );

    for (action, entry) in &actions {
        for key in ["summary", "fields", "event", "answer"] {
            if entry.get(key).is_none() {
                problems.push(format!("  action {action}: no `{key}`"));
            }
        }
        let cites_rule = entry["summary"].as_str().is_some_and(|s| {
            s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .any(|w| {
                    w.split_once('-').is_some_and(|(p, n)| {
                        p.len() >= 2
                            && p.chars().all(|c| c.is_ascii_uppercase())
                            && n.starts_with(|c: char| c.is_ascii_digit())
                    })
                })
        });
        if !cites_rule {
            problems.push(format!(
                "  action {action}: its summary cites no rule (e.g. MIG-10)"
            ));
        }
        let ptr = action_schema(&doc, action, "event");
        let (schema, _) = schema_at(&doc, &ptr);
        if schema["properties"]["action"]["const"] != action.as_str() {
            problems.push(format!(
                "  action {action}: its event's `action` const differs"
            ));
        }
        if schema["additionalProperties"] != Value::Bool(false) {
            problems.push(format!("  action {action}: event allows unknown fields"));
        }
        let props: BTreeSet<&str> = schema["properties"]
            .as_object()
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let fields: BTreeSet<&str> = entry["fields"]
            .as_object()
            .map(|f| f.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let expected_fields: BTreeSet<&str> =
            props.iter().copied().filter(|p| *p != "action").collect();
        if fields != expected_fields {
            problems.push(format!(
                "  action {action}: `fields` {fields:?} but the event schema has {expected_fields:?}"
            ));
        }
        // Every example is a valid event the handler accepts, and together
        // they use every documented field.
        let examples = schema["examples"].as_array().cloned().unwrap_or_default();
        if examples.is_empty() {
            problems.push(format!("  action {action}: its event has no examples"));
        }
        let mut used = BTreeSet::new();
        for ex in &examples {
            schemas.check(
                &ptr,
                ex,
                &format!("{action} example"),
                &mut problems,
                &mut BTreeSet::new(),
            );
            used.extend(ex.as_object().into_iter().flat_map(|o| o.keys().cloned()));
            if let Some(m) = refusal(ex).await {
                problems.push(format!("  action {action}: example {ex} is refused: {m}"));
            }
        }
        for p in &props {
            if !used.contains(*p) {
                problems.push(format!(
                    "  action {action}: no example uses the documented field `{p}`"
                ));
            }
        }
        // The required fields alone are enough (values from the examples).
        let mut minimal = serde_json::Map::new();
        for r in schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let value = examples
                .iter()
                .find_map(|ex| ex.get(r).cloned())
                .unwrap_or_else(|| panic!("{DOC}: no example of {action} has required `{r}`"));
            minimal.insert(r.to_string(), value);
        }
        let minimal = Value::Object(minimal);
        if let Some(m) = refusal(&minimal).await {
            problems.push(format!(
                "  action {action}: its required fields {minimal} are refused: {m}"
            ));
        }
        // Without a required field, or with an undocumented one, it is refused.
        for r in schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|r| *r != "action")
        {
            let mut less = minimal.clone();
            less.as_object_mut().unwrap().remove(r);
            if refusal(&less).await.is_none() {
                problems.push(format!(
                    "  action {action}: accepted without the required `{r}`"
                ));
            }
        }
        let mut more = minimal.clone();
        more["undocumented_field"] = json!(1);
        if refusal(&more).await.is_none() {
            problems.push(format!(
                "  action {action}: accepts an undocumented field: {more}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{DOC}: x-tobira-events and migrate-batch disagree:\n{}",
        problems.join("\n")
    );

    // (b) A realistic run: every answer matches its action's answer schema.
    let mut config = window_config();
    config.migrate_chunk = 4;
    let h = Harness::with_config(config);
    let mut run = Run {
        doc: &doc,
        schemas,
        h: &h,
        problems: Vec::new(),
        seen: BTreeSet::new(),
        answered: BTreeSet::new(),
    };
    let mut records = sample_records();
    records.push(json!({ "login_id": "broken" })); // rejected, with a reason
    let r = run
        .send("import", json!({ "action": "import", "records": records }))
        .await;
    assert_eq!(r["counts"]["rejected"], 1, "{r}");

    let page = run
        .send("plan page 1", json!({ "action": "plan", "max_records": 5 }))
        .await;
    assert_eq!(page["complete"], false, "{page}");
    let next = page["next"].clone();
    assert!(next.is_string(), "a partial plan gives `next`: {page}");
    run.send(
        "plan page 2",
        json!({ "action": "plan", "max_records": 100, "after": next }),
    )
    .await;
    run.send(
        "plan of one tenant",
        json!({ "action": "plan", "tenant_id": "econ1000000001" }),
    )
    .await;
    let dry = run
        .send(
            "apply dry run",
            json!({ "action": "apply", "dry_run": true, "max_records": 3 }),
        )
        .await;
    assert_eq!(
        (&dry["action"], &dry["dry_run"]),
        (&json!("plan"), &json!(true))
    );

    let part = run
        .send("apply part", json!({ "action": "apply", "max_records": 3 }))
        .await;
    assert!(part["next"].is_string(), "{part}");
    run.send("status mid-pass", json!({ "action": "status" }))
        .await;
    let chunk = run
        .send("continue chunk", json!({ "action": "continue" }))
        .await;
    assert_eq!(chunk["complete"], false, "{chunk}");
    let done = run.send("apply rest", json!({ "action": "apply" })).await;
    assert_eq!(done["complete"], true, "{done}");
    run.send(
        "apply again",
        json!({ "action": "apply", "tenant_id": "econ1000000001" }),
    )
    .await;

    let sent = run
        .send(
            "send-setup-links",
            json!({ "action": "send-setup-links", "tenant_id": "econ1000000001" }),
        )
        .await;
    assert!(sent["sent"].as_u64() > Some(0), "{sent}");
    run.send(
        "send-setup-links all",
        json!({ "action": "send-setup-links" }),
    )
    .await;
    // A delivery fault stops the job; status shows it; the schedule finishes it.
    h.outbox.set_failing(true);
    let stopped = run
        .send(
            "send-setup-links resend, mail failing",
            json!({ "action": "send-setup-links", "resend": true }),
        )
        .await;
    assert!(stopped["stopped"].is_string(), "{stopped}");
    let status = run
        .send("status, setup-link job", json!({ "action": "status" }))
        .await;
    assert_eq!(
        status["job"]["pending"]["kind"], "send-setup-links",
        "{status}"
    );
    h.outbox.set_failing(false);
    let cont = run
        .send(
            "continue the setup-link job",
            json!({ "action": "continue" }),
        )
        .await;
    assert_eq!(cont["job"]["complete"], true, "{cont}");

    h.active_user("owner@example.com", "Sturdy-Gate58").await;
    let event = json!({
        "action": "link-services",
        "login_id": "OWNER@example.com",
        "service_ids": ["ca1234567890", "ca0000000000", "bad id!"],
    });
    let linked = run.send("link-services", event.clone()).await;
    assert_eq!(
        (&linked["linked"], &linked["not_found"], &linked["rejected"]),
        (&json!(1), &json!(1), &json!(1)),
        "{linked}"
    );
    let again = run.send("link-services again", event).await;
    assert_eq!(again["already_linked"], 1, "{again}");

    let dry = run
        .send(
            "close-window dry run",
            json!({ "action": "close-window", "dry_run": true }),
        )
        .await;
    assert!(
        dry["would_send"].as_array().is_some_and(|w| !w.is_empty()),
        "{dry}"
    );
    h.outbox.set_failing(true);
    let stopped = run
        .send(
            "close-window, mail failing",
            json!({ "action": "close-window" }),
        )
        .await;
    assert_eq!(stopped["complete"], false, "{stopped}");
    let status = run
        .send("status, closing", json!({ "action": "status" }))
        .await;
    assert_eq!(status["job"]["pending"]["kind"], "close-window", "{status}");
    assert_eq!(status["window"]["open"], false, "{status}");
    h.outbox.set_failing(false);
    let cont = run
        .send(
            "the schedule's envelope",
            json!({
                "version": "0", "source": "aws.events",
                "detail-type": "Scheduled Event", "detail": {},
            }),
        )
        .await;
    assert!(cont["job"]["sent"].as_u64() > Some(0), "{cont}");
    run.send("close-window again", json!({ "action": "close-window" }))
        .await;
    let last = run
        .send(
            "status in an EventBridge event",
            json!({
                "source": "tobira.ops", "detail-type": "ops",
                "detail": { "action": "status" },
            }),
        )
        .await;
    assert_eq!(last["complete"], true, "{last}");

    // CASE-3: the support desk's side of a case. The window is closed, so
    // the migrated owner files it here (MIG-13).
    let login = tobira::ids::LoginId::parse("owner@example.com").expect("a login ID");
    let (owner, _) = h
        .app
        .user_by_login(&login)
        .await
        .expect("the store answers")
        .expect("the owner exists");
    let new = tobira::cases::NewCase {
        kind: tobira::cases::Kind::Inquiry,
        category: "その他",
        subject: "請求書の再発行",
        body: "先月分の請求書を再発行してください。",
    };
    let case = h
        .app
        .create_case(&owner, &new, &crate::support::ctx())
        .await
        .expect("a case is filed");
    let resolved = run
        .send(
            "case-update",
            json!({
                "action": "case-update", "number": case.number, "status": "resolved",
                "comment": "再発行した請求書を郵送しました。",
            }),
        )
        .await;
    assert_eq!(
        (&resolved["number"], &resolved["status"]),
        (&json!(case.number), &json!("resolved")),
        "{resolved}"
    );
    let commented = run
        .send(
            "case-update, a comment only",
            json!({
                "action": "case-update", "number": case.number.to_lowercase(),
                "comment": "ご確認をお願いします。",
            }),
        )
        .await;
    assert_eq!(commented["status"], "resolved", "{commented}");

    // Every action answered, and every field its answer schema declares
    // appeared in some answer (a field the code never writes is stale).
    let not_answered: Vec<&String> = documented.difference(&run.answered).collect();
    assert!(
        not_answered.is_empty(),
        "the run never invoked {not_answered:?}"
    );
    let mut declared_fields = BTreeSet::new();
    for action in &documented {
        declared(
            &doc,
            &action_schema(&doc, action, "answer"),
            &mut declared_fields,
            &mut BTreeSet::new(),
        );
    }
    for p in declared_fields.difference(&run.seen) {
        run.problems
            .push(format!("  {p}: declared, but no answer of the run had it"));
    }
    assert!(
        run.problems.is_empty(),
        "{DOC}: migrate-batch answers and their documented schemas disagree:\n{}",
        run.problems.join("\n")
    );
}
