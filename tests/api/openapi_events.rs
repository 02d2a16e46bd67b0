//! The `x-tobira-events` of `docs/openapi.json` (the `migrate-batch`
//! function) is held to `tobira_migrate_batch`: the actions it documents are
//! the ones the handler accepts, and every report a realistic run produces
//! matches the documented answer schema (and uses every field the schema
//! declares).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::openapi_support::{
    declared, doc, keys, ref_pointer, schema_at, window_config, Schemas, DOC,
};

fn events_doc(doc: &Value) -> &Value {
    let e = &doc["x-tobira-events"];
    assert_eq!(
        e["function"], "migrate-batch",
        "{DOC}: x-tobira-events must describe migrate-batch"
    );
    e
}

/// A tenant of the sample records.
const TENANT: &str = "econ1000000001";

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
    /// [`Run::send`] of an event with no field but its action.
    async fn action(&mut self, step: &str, action: &str) -> Value {
        self.send(step, json!({ "action": action })).await
    }

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
    let msg = e.fact("detail").unwrap_or_default().to_string();
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
        let props = keys(&schema["properties"]);
        let fields = keys(&entry["fields"]);
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
    for (step, event) in [
        (
            "plan page 2",
            json!({ "action": "plan", "max_records": 100, "after": next }),
        ),
        (
            "plan of one tenant",
            json!({ "action": "plan", "tenant_id": TENANT }),
        ),
    ] {
        run.send(step, event).await;
    }
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

    let chunks = run
        .send(
            "apply-chunks",
            json!({ "action": "apply-chunks", "size": 4 }),
        )
        .await;
    assert!(
        chunks["chunks"].as_array().is_some_and(|c| c.len() > 1),
        "{chunks}"
    );
    let one = run
        .send(
            "apply-chunks of one tenant",
            json!({ "action": "apply-chunks", "tenant_id": TENANT, "size": 2 }),
        )
        .await;
    assert!(one["chunks"][0]["tenant_id"].is_string(), "{one}");
    let part = run
        .send("apply part", json!({ "action": "apply", "max_records": 3 }))
        .await;
    assert!(part["next"].is_string(), "{part}");
    run.action("status mid-pass", "status").await;
    let chunk = run.action("continue chunk", "continue").await;
    assert_eq!(chunk["complete"], false, "{chunk}");
    let done = run.action("apply rest", "apply").await;
    assert_eq!(done["complete"], true, "{done}");
    run.send(
        "apply again",
        json!({ "action": "apply", "tenant_id": TENANT }),
    )
    .await;

    let sent = run
        .send(
            "send-setup-links",
            json!({ "action": "send-setup-links", "tenant_id": TENANT }),
        )
        .await;
    assert!(sent["sent"].as_u64() > Some(0), "{sent}");
    run.action("send-setup-links all", "send-setup-links").await;
    // The time budget stops the job (MIG-10); status shows it; the schedule
    // finishes it.
    h.clock.set_tick(h.app.config.migrate_budget / 3);
    let stopped = run
        .send(
            "send-setup-links resend, out of time",
            json!({ "action": "send-setup-links", "resend": true }),
        )
        .await;
    h.clock.set_tick(std::time::Duration::ZERO);
    assert_eq!(stopped["complete"], false, "{stopped}");
    let status = run.action("status, setup-link job", "status").await;
    assert_eq!(
        status["job"]["pending"]["kind"], "send-setup-links",
        "{status}"
    );
    let cont = run.action("continue the setup-link job", "continue").await;
    assert_eq!(cont["job"]["complete"], true, "{cont}");
    // A mail service fault does not stop the job: the links wait in the
    // outbox, and the sender's schedule mails them once it is back.
    h.outbox.set_failing(true);
    let resent = run
        .send(
            "send-setup-links resend, mail failing",
            json!({ "action": "send-setup-links", "resend": true }),
        )
        .await;
    assert_eq!(resent["complete"], true, "{resent}");
    let failing = run
        .action("deliver-notices, mail failing", "deliver-notices")
        .await;
    assert!(failing["retrying"].as_u64() > Some(0), "{failing}");
    h.outbox.set_failing(false);
    h.advance(std::time::Duration::from_secs(30));
    let delivered = run.action("deliver-notices", "deliver-notices").await;
    assert_eq!(delivered["sent"], failing["retrying"], "{delivered}");
    // A mail that fails every try is given up: the operator's list.
    h.outbox.set_failing(true);
    run.send(
        "send-setup-links resend, mail down for good",
        json!({ "action": "send-setup-links", "resend": true, "tenant_id": TENANT }),
    )
    .await;
    for n in 1..=tobira::outbox::MAX_ATTEMPTS {
        run.action("deliver-notices, every try failing", "deliver-notices")
            .await;
        h.advance(tobira::outbox::backoff(n));
    }
    h.outbox.set_failing(false);
    let dead = run
        .send(
            "dead-notices",
            json!({ "action": "dead-notices", "limit": 5 }),
        )
        .await;
    assert_eq!(dead["notices"].as_array().map(Vec::len), Some(5), "{dead}");

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
    // ADM-3, ADM-7 from the console.
    for (action, status) in [
        ("user-unlock", "active"),
        ("user-reset-factors", "active"),
        ("user-disable", "disabled"),
        ("user-enable", "active"),
    ] {
        let event =
            json!({ "action": action, "login_id": "owner@example.com", "reason": "ticket 9" });
        let r = run.send(action, event).await;
        assert_eq!(r["status"], status, "{r}");
    }

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
        .action("close-window, mail failing", "close-window")
        .await;
    assert_eq!(stopped["complete"], false, "{stopped}");
    let status = run.action("status, closing", "status").await;
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
    run.action("close-window again", "close-window").await;
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
    let new =
        crate::cases_support::inquiry("請求書の再発行", "先月分の請求書を再発行してください。");
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
    // CASE-7, CASE-8: a work request declined, a case marked as a report.
    let request = tobira::cases::NewCase {
        kind: tobira::cases::Kind::WorkRequest,
        category: "作業依頼",
        ..new
    };
    let request = h
        .app
        .create_case(&owner, &request, &crate::support::ctx())
        .await
        .expect("a work request is filed");
    let declined = run
        .send(
            "case-update, a decline",
            json!({
                "action": "case-update", "number": request.number,
                "decision": "decline", "reason": "ご契約の範囲外です。",
            }),
        )
        .await;
    assert_eq!(declined["decision"], "declined", "{declined}");
    let marked = run
        .send(
            "case-update, a monthly report",
            json!({ "action": "case-update", "number": case.number, "monthly_report": true }),
        )
        .await;
    assert_eq!(marked["monthly_report"], true, "{marked}");

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
