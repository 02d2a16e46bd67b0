//! The `Error` schema of `docs/openapi.json` describes the error bodies that
//! `errors::error_response` actually produces for every `tobira::Error`, and
//! each operation's error answers use only codes of their status.
//!
//! Self-contained: reads the file, no server, no network.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use tobira::Error;
use tobira_web::i18n::Lang;
use tobira_web::web::{Body, Request};

use crate::openapi_support::{
    doc, error_schema, keys, operations, resolve, window_config, Schemas, DOC,
};

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
        Error::invalid("invalid_lang"),
        Error::IdentityMismatch,
        Error::WeakPassword { unmet: rules },
        Error::InvalidToken,
        Error::InvalidCredentials,
        Error::NotSignedIn,
        Error::Forbidden,
        Error::NotFound,
        Error::from(StoreError::Conflict),
        // What `send_setup_link` answers when the user finished setup meanwhile.
        Error::conflict("not_pending"),
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
        Error::invalid("invalid_phone"),
        Error::invalid("terms_not_accepted"),
        Error::conflict("window_closed"),
        Error::conflict("target_disabled"),
        // The console's user actions (ADM-3, ADM-7): `last_admin` and
        // `merged_account` as `act_on_user` answers them, `invalid_reason`
        // made by it.
        Error::conflict("last_admin"),
        // ADM-5's and ADM-3's refusals through `manage-users` (made by
        // `list_users` and `act_on_user`, proved in admin_users.rs and
        // admin_actions.rs).
        Error::invalid("invalid_status"),
        Error::conflict("own_account"),
        // ADM-1 / ADM-2: `POST /api/admin/users` (proved in admin_api.rs).
        Error::invalid("invalid_role"),
        Error::invalid("invalid_time_zone"),
        // ADM-6: the history's range and format.
        Error::invalid("invalid_date"),
        Error::invalid("invalid_date_range"),
        Error::invalid("invalid_format"),
        Error::conflict("login_taken"),
        Error::conflict("child_admin"),
        Error::conflict("merged_account"),
        tobira_migrate_batch::handle(
            &crate::support::Harness::new().app,
            json!({ "action": "user-unlock", "login_id": "x@example.com", "reason": " " }),
        )
        .await
        .expect_err("a blank reason"),
        Error::conflict("busy"),
        // `migrate-batch` (`POST /_dev/invoke/migrate-batch`): its refusals,
        // made by its parsers.
        tobira_migrate_batch::parse_event(json!({ "action": "explode" }))
            .expect_err("unknown action"),
        tobira::ids::TenantId::parse("no spaces").expect_err("bad tenant ID"),
        tobira::migration::Pos::parse("no-slash").expect_err("bad cursor"),
        // Two-step verification (LOG-4, MFA-2..6, TOS-1): the parsers'
        // refusals made by them, the handlers' own by their codes.
        Error::InvalidCode,
        // `tobira invoke` / `POST /_dev/invoke/{function}` with a typo.
        tobira_local::unknown_function("no-such-fn"),
        Error::CodeAlreadyUsed { next_in_s: 12 },
        tobira::mfa::Proof::parse("password").expect_err("unknown method"),
        tobira::mfa::Purpose::parse("reset").expect_err("unknown purpose"),
        Error::invalid("method_not_enrolled"),
        Error::invalid("phone_required"),
        Error::invalid("unexpected_phone"),
        tobira::ids::Phone::parse("0090123456", Some("81")).expect_err("leading 00"),
        tobira::ids::Phone::parse("9012345678", Some("0081")).expect_err("bad country code"),
        Error::invalid("no_totp_setup"),
        Error::invalid("not_recorded"),
        Error::conflict("terms_changed"),
        // MFA-8: a factor change from a session whose password is not fresh.
        tobira::mfa::reauth_required(),
        Error::conflict("email_otp_not_first"),
        Error::conflict("method_unavailable").with("method", "voice"),
        Error::invalid("passkey_refused"),
        Error::invalid("voice_country_not_allowed").with("countries", "81"),
        Error::conflict("passkeys_full").with("max", 10),
        Error::conflict("last_factor"),
        // Support cases (CASE-1..5): the handler's own parsers' refusals by
        // their codes; the rest made by the domain in `case_errors`.
        Error::invalid("invalid_kind"),
        Error::invalid("invalid_filter"),
    ];
    errors.extend(case_errors().await);
    errors.extend(attachment_errors().await);
    errors
}

/// CASE-6: the confirmation's refusals, on a file store whose objects are
/// what their names say.
async fn attachment_errors() -> Vec<Error> {
    use tobira::cases::Confirmation;
    let (h, _, u, id, prefix) = crate::attachments_support::named_sizes().await;
    let ctx = crate::support::ctx();
    let confirm = |key: String, size| {
        let (h, u, id, ctx) = (&h, &u, &id, &ctx);
        async move {
            let c = Confirmation {
                key: &key,
                size,
                etag: None,
                state: None,
            };
            h.app
                .confirm_attachment(u, id, &c, None, ctx)
                .await
                .map(drop)
        }
    };
    let mut refused = Vec::new();
    for (name, size) in [
        ("none.pdf", None),
        ("empty.pdf", None),
        ("big.pdf", None),
        ("bad\u{7}.pdf", None),
        ("a.exe", None),
        ("ok.pdf", Some(11)),
    ] {
        refused.push(confirm(format!("{prefix}{name}"), size).await);
    }
    refused.push(confirm("x".into(), None).await);
    confirm(format!("{prefix}ok.pdf"), None)
        .await
        .expect("attached");
    refused.push(confirm(format!("{prefix}ok.pdf"), None).await);
    refused.push(confirm(format!("{prefix}other.pdf"), None).await);
    let ok = format!("{prefix}ok.pdf");
    let forged = Confirmation {
        key: &ok,
        state: Some("forged"),
        ..Default::default()
    };
    refused.push(
        h.app
            .confirm_attachment(&u, &id, &forged, None, &ctx)
            .await
            .map(drop),
    );
    refused
        .into_iter()
        .map(|r| r.expect_err("refused"))
        .collect()
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
        filter: tobira::cases::Filter::All,
        q: Some(q),
        cursor: Some(cursor),
    };
    let long_q = "x".repeat(tobira::cases::QUERY_MAX + 1);
    for (what, query) in [
        ("long keyword", page(long_q.as_str(), "")),
        ("bad cursor", page("", "no-cursor")),
    ] {
        let e = app.list_cases(&user, &query).await;
        errors.push(e.expect_err(what));
    }
    for (what, number, status, comment) in [
        ("bad number", "CS12", None, Some("c")),
        ("nothing to do", "CS0000001", None, None),
        ("unknown number", "CS0000001", Some(Status::Resolved), None),
    ] {
        let u = tobira::cases::DeskUpdate {
            status,
            comment,
            ..Default::default()
        };
        let e = app.desk_update(number, &u, &ctx).await;
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
    let customer = |m| app.move_case(&user, id, m, Some("why"), &ctx);
    let comment = |body| app.comment_case(&user, id, body, &ctx);
    let set = |status| tobira::cases::DeskUpdate {
        status: Some(status),
        ..Default::default()
    };
    let (to_new, to_resolved) = (set(Status::New), set(Status::Resolved));
    let desk = |u| app.desk_update(&case.number, u, &ctx);
    let mut refused = vec![customer(Move::Accept).await.map(drop)];
    comment("first").await.expect("a comment");
    refused.push(comment("second").await.map(drop));
    refused.push(desk(&to_new).await.map(drop));
    desk(&to_resolved).await.expect("resolved");
    refused.push(desk(&to_resolved).await.map(drop));
    refused.push(customer(Move::Close).await.map(drop));
    customer(Move::Accept).await.expect("accepted");
    refused.push(customer(Move::Reject).await.map(drop));
    // CASE-7: the desk's decisions.
    use tobira::cases::{Decision, DeskUpdate};
    let request = NewCase {
        kind: Kind::WorkRequest,
        ..new("作業依頼", "s", "b")
    };
    let waiting = app
        .create_case(&user, &request, &ctx)
        .await
        .expect("a request");
    let inquiry = app.create_case(&user, &new("その他", "s", "b"), &ctx).await;
    let inquiry = inquiry.expect("an inquiry");
    let decide = |d| DeskUpdate {
        decision: Some(d),
        ..Default::default()
    };
    let (accept, decline) = (decide(Decision::Accepted), decide(Decision::Declined));
    let both = DeskUpdate {
        status: Some(Status::Resolved),
        ..accept
    };
    let reason_alone = DeskUpdate {
        reason: Some("r"),
        ..Default::default()
    };
    let reason_and_comment = DeskUpdate {
        reason: Some("r"),
        comment: Some("c"),
        ..decline
    };
    let w = waiting.number.as_str();
    for (n, u) in [
        (w, &both),
        (w, &reason_alone),
        (w, &reason_and_comment),
        (w, &to_resolved),
        (inquiry.number.as_str(), &accept),
    ] {
        refused.push(app.desk_update(n, u, &ctx).await.map(drop));
    }
    app.desk_update(w, &accept, &ctx).await.expect("accepted");
    refused.push(app.desk_update(w, &accept, &ctx).await.map(drop));
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
    // (a known path with a method it does not serve, `errors::not_found`).
    let errors = every_error().await;
    let answers = errors
        .iter()
        .map(|e| (e.code(), tobira_web::errors::error_response(e, Lang::En)))
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
        problems.extend(
            body.keys()
                .filter(|key| !props.contains_key(*key))
                .map(|key| format!("  code {code}: body field `{key}` is not in the Error schema")),
        );
        problems.extend(
            required
                .iter()
                .filter(|key| !body.contains_key(**key))
                .map(|key| format!("  code {code}: body lacks required `{key}`")),
        );
        let retry_after = body.get("retry_after_s");
        for (wrong, what) in [
            (
                body.get("error").and_then(Value::as_str) != Some(code),
                format!("body says error {:?}", body.get("error")),
            ),
            (
                body.get("message")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty),
                "empty or missing message".into(),
            ),
            (
                retry_after.is_some_and(|s| s.as_u64().is_none_or(|s| s < 1)),
                format!("retry_after_s {retry_after:?} is not an integer >= 1"),
            ),
        ] {
            if wrong {
                problems.push(format!("  code {code}: {what}"));
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
    // Every code listed is produced, every rule listed reported.
    let produced: BTreeSet<&str> = produced.iter().map(String::as_str).collect();
    let rules_seen: BTreeSet<&str> = rules_seen.iter().map(String::as_str).collect();
    for (listed, found, what) in [
        (
            keys(&schema["x-tobira-codes"]),
            produced,
            "x-tobira-codes lists `{}`, which no error produces",
        ),
        (
            rule_enum.clone(),
            rules_seen,
            "the unmet enum lists `{}`, which no preset reports",
        ),
    ] {
        for x in listed.difference(&found) {
            problems.push(format!("  {}", what.replace("{}", x)));
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
