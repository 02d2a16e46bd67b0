//! `docs/openapi.json` is held to the code: it lists exactly the live `/api/`
//! routes of `tobira::routes::ROUTES` (no more, no less), names the function
//! that serves each, documents every status each handler answers, and its
//! `Error` schema describes the error bodies that `web::error_response`
//! actually produces for every `tobira::Error`.
//!
//! Self-contained: reads the file, no server, no network.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use tobira::i18n::Lang;
use tobira::routes::ROUTES;
use tobira::web::{Body, Request};
use tobira::Error;

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");

/// The HTTP methods an OpenAPI path item can hold.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Statuses each live `/api/` route can answer, read from its handler. Every
/// live route must be listed here, so a new route needs its statuses stated.
const EXPECTED_STATUSES: &[(&str, &str, &[&str])] = &[
    ("POST", "/api/login", &["200", "400", "401", "503"]),
    // Every stage may read `/api/me`, so it never answers 403.
    ("GET", "/api/me", &["200", "401", "503"]),
    ("POST", "/api/logout", &["204", "400", "503"]),
    ("POST", "/api/setup/verify", &["200", "400", "429", "503"]),
    ("POST", "/api/setup/password", &["200", "400", "401", "503"]),
    ("POST", "/api/setup/resend", &["202", "400", "503"]),
    // MIG-11: the legacy portal's key, the window, a migrated user.
    (
        "GET",
        "/api/setup/identity",
        &["200", "400", "401", "404", "409", "503"],
    ),
    (
        "POST",
        "/api/setup/identity",
        &["202", "400", "401", "404", "409", "503"],
    ),
    (
        "POST",
        "/api/claim",
        &["200", "400", "401", "409", "429", "503"],
    ),
    ("POST", "/api/claim/register", &["202", "400", "401", "503"]),
    // RST-1 / RST-4: one answer whatever matched.
    ("POST", "/api/password/forgot", &["202", "400", "503"]),
    ("POST", "/api/password/reset", &["200", "400", "503"]),
];

/// Request fields a handler accepts but does not require (`Option` in its
/// body type); every other documented field must be required.
const OPTIONAL_FIELDS: &[(&str, &str, &[&str])] = &[
    // MIG-11: an absent field keeps the registered value.
    ("POST", "/api/setup/identity", &["email", "name", "phone"]),
    // RST-1's entry has login ID and e-mail; RST-4's adds name and phone.
    ("POST", "/api/password/forgot", &["name", "phone"]),
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
    tobira::web::json_body::<Value>(&req).expect_err("the body must be refused")
}

/// One of every error the domain has, the request-parsing ones made by the
/// real parser, `weak_password` with every rule any preset can report unmet.
fn every_error() -> Vec<Error> {
    use tobira::password::{unmet, Preset};
    use tobira::store::StoreError;
    let hopeless = tobira::ids::Password::parse("\u{3042}").expect("a 1-character password parses");
    let mut rules = Vec::new();
    for preset in [Preset::Default, Preset::Seed003, Preset::Seed002] {
        for rule in unmet(preset, &hopeless) {
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
    }
    vec![
        body_error(None, "{}".into()),
        body_error(
            Some("application/json"),
            " ".repeat(tobira::web::MAX_BODY + 1),
        ),
        body_error(Some("application/json"), "{".into()),
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
            code: "already_linked",
            message: "this service ID is already linked to an account".into(),
        },
        Error::Conflict {
            code: "already_set_up",
            message: "this account is already set up".into(),
        },
        Error::Conflict {
            code: "target_disabled",
            message: "the account to link to is disabled".into(),
        },
        Error::Conflict {
            code: "busy",
            message: "an account changed meanwhile; try again".into(),
        },
    ]
}

#[test]
fn openapi_error_schema_matches_error_codes() {
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

    let mut problems = Vec::new();
    let mut produced = BTreeSet::new();
    let mut rules_seen = BTreeSet::new();
    for e in every_error() {
        let code = e.code();
        produced.insert(code.to_string());
        match codes.get(code).and_then(Value::as_u64) {
            Some(s) if s == u64::from(e.status()) => {}
            other => problems.push(format!(
                "  code {code}: status {} in the code, {other:?} in x-tobira-codes",
                e.status()
            )),
        }
        let r = tobira::web::error_response(&e, Lang::En);
        let body: Value = serde_json::from_slice(r.body().as_ref()).expect("error body is JSON");
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
    // MIG-11: the legacy portal's bearer key, never a cookie.
    assert_eq!(schemes["legacyPortal"]["type"], "http");
    assert_eq!(schemes["legacyPortal"]["scheme"], "bearer");
    for m in ["GET", "POST"] {
        needs(m, "/api/setup/identity", "legacyPortal");
    }
}
