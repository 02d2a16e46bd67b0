//! The `migrate-batch` function: not HTTP. Invoked by an EventBridge schedule
//! (continue pending work in a bounded chunk, MIG-10) and by operators with a
//! JSON event (`{"action": ...}`, API.md). Every answer is a JSON report.
//! It is also the operators' one door for the support desk's side of a case
//! (`case-update`, CASE-3): no public route moves a case to "resolved".
//! And it is the outbox's sender (issue 17): the table's stream names new
//! notices, a schedule sweeps for retries (`deliver-notices`).

use serde::Deserialize;
use serde_json::Value;
use tobira::admin::actions::Action;
use tobira::cases::{Decision, DeskUpdate};
use tobira::ids::TenantId;
use tobira::migration::{ApplyOptions, Pos};
use tobira::store::Key;
use tobira::{App, Ctx, Error};
use tobira_web::errors::ops_message;

/// CASE-6: the desk's file: its key in the bucket and, if the key's last
/// part is not it, the name the customer sees.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskAttach {
    key: String,
    #[serde(default)]
    name: Option<String>,
}

/// CASE-7: the desk's answer to a work request, as the event says it.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeskDecision {
    Accept,
    Decline,
}

/// An operator's event. Unknown actions and unknown fields are refused.
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum OpsEvent {
    /// Stage MIG-1 records (`batch`: tag them as one operator run's).
    Import {
        records: Vec<Value>,
        #[serde(default)]
        batch: Option<String>,
    },
    /// What `apply` would do (MIG-9), a page at a time (`after` = a
    /// report's `next`).
    Plan {
        #[serde(default)]
        tenant_id: Option<String>,
        #[serde(default)]
        max_records: Option<usize>,
        #[serde(default)]
        after: Option<String>,
    },
    /// Create users (MIG-2..8), from the checkpoint, or one tenant's, or
    /// one import run's (`batch`), a chunk at a time (`after` = `next`).
    Apply {
        #[serde(default)]
        dry_run: bool,
        #[serde(default)]
        max_records: Option<usize>,
        #[serde(default)]
        tenant_id: Option<String>,
        #[serde(default)]
        batch: Option<String>,
        #[serde(default)]
        after: Option<String>,
        /// A chunk of `apply-chunks`: every tenant from `after`, without
        /// the checkpoint.
        #[serde(default)]
        span: bool,
        /// The counts only, no line per record (the state machine's 256 KB).
        #[serde(default)]
        summary: bool,
    },
    /// The pending records cut into `apply` events of at most `size`
    /// records (default 500), for parallel workers (the state machine's
    /// Map, or an operator's `xargs -P`).
    ApplyChunks {
        #[serde(default)]
        tenant_id: Option<String>,
        #[serde(default)]
        size: Option<usize>,
    },
    /// Mail setup links to pending users (SET-1).
    SendSetupLinks {
        #[serde(default)]
        tenant_id: Option<String>,
        #[serde(default)]
        resend: bool,
    },
    /// MIG-12: close the migration window and mail the pending users.
    CloseWindow {
        #[serde(default)]
        dry_run: bool,
    },
    /// CLM-4: link legacy service IDs to one account.
    LinkServices {
        login_id: String,
        service_ids: Vec<String>,
    },
    /// CASE-3: the support desk moves a case (`status`: in_progress,
    /// awaiting_customer, resolved, closed) and/or comments on it; CASE-7:
    /// accepts or declines a work request (`decision`, a decline with its
    /// `reason`); CASE-8: marks it as a monthly report delivery.
    CaseUpdate {
        number: String,
        #[serde(default)]
        status: Option<tobira::cases::Status>,
        #[serde(default)]
        comment: Option<String>,
        #[serde(default)]
        decision: Option<DeskDecision>,
        #[serde(default)]
        reason: Option<String>,
        #[serde(default)]
        monthly_report: Option<bool>,
        /// CASE-6: a file the desk put under the case's `desk/` prefix.
        #[serde(default)]
        attach: Option<DeskAttach>,
    },
    /// ADM-3: lift a user's sign-in lock (LOG-2), with the operator's reason.
    UserUnlock { login_id: String, reason: String },
    /// ADM-3: disable a user (never the tenant's last active admin).
    UserDisable { login_id: String, reason: String },
    /// ADM-3: enable a disabled user again.
    UserEnable { login_id: String, reason: String },
    /// ADM-7: reset a user's second factors after a lost device.
    UserResetFactors { login_id: String, reason: String },
    /// Counts and the checkpoint (MIG-10).
    Status {},
    /// The outbox's sender: deliver every notice that is due (a schedule
    /// every minute, for retries; the table's stream for new notices).
    DeliverNotices {},
    /// The notices given up after every try (dead letters), oldest first.
    DeadNotices {
        #[serde(default)]
        limit: Option<usize>,
    },
    /// The schedule's own event: apply the next chunk.
    Continue {},
}

/// The keys of a DynamoDB stream event's records (`Records[].dynamodb.Keys`,
/// attributes `pk` and `sk`), if `event` is one.
pub fn stream_keys(event: &Value) -> Option<Result<Vec<Key>, Error>> {
    let records = event.get("Records")?.as_array()?;
    let key = |r: &Value| {
        let keys = r.get("dynamodb")?.get("Keys")?;
        let s = |n: &str| keys.get(n)?.get("S")?.as_str().map(str::to_string);
        (r.get("eventSource")?.as_str()? == "aws:dynamodb").then_some(())?;
        Some(Key::new(s("pk")?, s("sk")?))
    };
    Some(
        records
            .iter()
            .map(|r| {
                key(r).ok_or_else(|| {
                    Error::invalid("invalid_event").detail("a stream record without pk and sk")
                })
            })
            .collect(),
    )
}

/// Read an invocation payload: an EventBridge "Scheduled Event" envelope (or
/// an EventBridge event whose `detail` is an ops event), or an ops event.
pub fn parse_event(event: Value) -> Result<OpsEvent, Error> {
    let bad = |e: serde_json::Error| Error::invalid("invalid_event").detail(e);
    if event.get("source").is_some() && event.get("detail-type").is_some() {
        if event.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event") {
            return Ok(OpsEvent::Continue {});
        }
        let detail = event.get("detail").cloned().unwrap_or(Value::Null);
        return serde_json::from_value(detail).map_err(bad);
    }
    serde_json::from_value(event).map_err(bad)
}

pub async fn handle(app: &App, event: Value) -> Result<Value, Error> {
    let ctx = Ctx::system("migrate-batch");
    if let Some(keys) = stream_keys(&event) {
        // The table's stream: new outbox items to deliver.
        let done = app.deliver_keys(&keys?, &Ctx::system("outbox")).await?;
        tracing::info!(?done, "migrate-batch: stream");
        return Ok(delivered(done));
    }
    let event = parse_event(event)?;
    if let OpsEvent::Plan {
        max_records: Some(0),
        ..
    }
    | OpsEvent::Apply {
        max_records: Some(0),
        ..
    } = event
    {
        return Err(Error::invalid("invalid_event").detail("max_records must be at least 1"));
    }
    let report = match event {
        OpsEvent::Import { records, batch } => {
            let batch = batch.as_deref().map(batch_id).transpose()?;
            let mut report = app.import_batch(&records, batch, &ctx).await?;
            // A refused record's reason in the operator's words, after its code.
            for r in &mut report.records {
                if let Some(e) = r.error.take() {
                    r.reason = Some(format!("{}: {}", e.code(), ops_message(&e)));
                }
            }
            to_json(report)
        }
        OpsEvent::Plan {
            tenant_id,
            max_records,
            after,
        } => {
            let opts = ApplyOptions {
                dry_run: true,
                max_records,
                tenant: tenant(tenant_id)?,
                after: after.as_deref().map(Pos::parse).transpose()?,
                ..ApplyOptions::default()
            };
            to_json(app.apply(&opts, &ctx).await?)
        }
        OpsEvent::Apply {
            dry_run,
            max_records,
            tenant_id,
            batch,
            after,
            span,
            summary,
        } => {
            let opts = ApplyOptions {
                dry_run,
                max_records,
                tenant: tenant(tenant_id)?,
                batch: batch
                    .as_deref()
                    .map(batch_id)
                    .transpose()?
                    .map(String::from),
                after: after.as_deref().map(Pos::parse).transpose()?,
                span,
            };
            if span && (opts.tenant.is_some() || opts.batch.is_some() || max_records.is_none()) {
                return Err(Error::invalid("invalid_event")
                    .detail("span goes with max_records, without tenant_id or batch"));
            }
            let mut report = app.apply(&opts, &ctx).await?;
            if summary {
                report.records.clear();
            }
            to_json(report)
        }
        OpsEvent::ApplyChunks { tenant_id, size } => {
            let size = size.unwrap_or(500);
            if !(1..=5_000).contains(&size) {
                return Err(Error::invalid("invalid_event").detail("size is 1 to 5000"));
            }
            let chunks = app.apply_chunks(tenant(tenant_id)?.as_ref(), size).await?;
            let events: Vec<Value> = chunks
                .into_iter()
                .map(|c| {
                    let mut e = serde_json::json!({
                        "action": "apply",
                        "max_records": c.max_records,
                        "summary": true,
                    });
                    match c.tenant_id {
                        Some(t) => e["tenant_id"] = Value::from(t),
                        None => e["span"] = Value::from(true),
                    }
                    if let Some(after) = c.after {
                        e["after"] = Value::from(after);
                    }
                    e
                })
                .collect();
            serde_json::json!({ "action": "apply-chunks", "chunks": events })
        }
        OpsEvent::SendSetupLinks { tenant_id, resend } => to_json(
            app.send_setup_links(tenant(tenant_id)?.as_ref(), resend, &ctx)
                .await?,
        ),
        OpsEvent::CloseWindow { dry_run } => to_json(app.close_window(dry_run, &ctx).await?),
        OpsEvent::LinkServices {
            login_id,
            service_ids,
        } => to_json(
            app.link_services_bulk(&login_id, &service_ids, &ctx)
                .await?,
        ),
        OpsEvent::CaseUpdate {
            number,
            status,
            comment,
            decision,
            reason,
            monthly_report,
            attach,
        } => {
            let ctx = Ctx::system("support-desk");
            let update = DeskUpdate {
                status,
                comment: comment.as_deref(),
                decision: decision.map(|d| match d {
                    DeskDecision::Accept => Decision::Accepted,
                    DeskDecision::Decline => Decision::Declined,
                }),
                reason: reason.as_deref(),
                monthly_report,
                attach: attach.as_ref().map(|a| tobira::cases::DeskFile {
                    key: &a.key,
                    name: a.name.as_deref(),
                }),
            };
            let case = app.desk_update(&number, &update, &ctx).await?;
            // Never the case's text: this report is logged.
            let mut report = serde_json::json!({
                "action": "case-update",
                "number": case.number,
                "status": case.status,
                "monthly_report": case.monthly_report,
                "updated_at": case.updated_at,
            });
            if let Some(d) = case.decision {
                report["decision"] = serde_json::json!(d);
            }
            report
        }
        OpsEvent::UserUnlock { login_id, reason } => {
            user_action(app, "user-unlock", &login_id, &reason, Action::Unlock).await?
        }
        OpsEvent::UserDisable { login_id, reason } => {
            user_action(app, "user-disable", &login_id, &reason, Action::Disable).await?
        }
        OpsEvent::UserEnable { login_id, reason } => {
            user_action(app, "user-enable", &login_id, &reason, Action::Enable).await?
        }
        OpsEvent::UserResetFactors { login_id, reason } => {
            let action = Action::ResetFactors;
            user_action(app, "user-reset-factors", &login_id, &reason, action).await?
        }
        OpsEvent::Status {} => app.migration_status().await?,
        OpsEvent::DeliverNotices {} => delivered(app.deliver_due(&Ctx::system("outbox")).await?),
        OpsEvent::DeadNotices { limit } => serde_json::json!({
            "action": "dead-notices",
            "notices": app.dead_notices(limit.unwrap_or(100).clamp(1, 1000)).await?,
        }),
        OpsEvent::Continue {} => app.continue_migration(&ctx).await?,
    };
    // One line per run for operators: the report's figures, never record
    // contents (per-record lines and the users a dry run would mail stay out).
    let mut summary = report.clone();
    if let Some(o) = summary.as_object_mut() {
        o.remove("records");
        o.remove("would_send");
        o.remove("login_id"); // the user actions' report: an address, often
        o.remove("notices"); // dead letters: addresses
        o.remove("chunks"); // one line per chunk: the count is enough
    }
    let action = report.get("action").and_then(Value::as_str).unwrap_or("-");
    tracing::info!(%action, %summary, "migrate-batch");
    Ok(report)
}

/// ADM-3 / ADM-7 from the console: the user's ID and status after the
/// action. Audited with the reason (ADM-8); the report names no secret.
async fn user_action(
    app: &App,
    name: &str,
    login_id: &str,
    reason: &str,
    action: Action,
) -> Result<Value, Error> {
    let ctx = Ctx::system("ops");
    let (user, status) = app.ops_act_on_login(login_id, reason, action, &ctx).await?;
    Ok(serde_json::json!({
        "action": name,
        "login_id": user.login_id.as_str(),
        "user_id": user.id,
        "status": status,
    }))
}

/// A batch name: 1–64 letters, digits, `-` or `_` (the CLI uses a ULID).
fn batch_id(b: &str) -> Result<&str, Error> {
    let ok = (1..=64).contains(&b.len())
        && b.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
    if ok {
        Ok(b)
    } else {
        Err(Error::invalid("invalid_event").detail("batch is 1–64 letters, digits, - or _"))
    }
}

fn tenant(t: Option<String>) -> Result<Option<TenantId>, Error> {
    t.as_deref().map(TenantId::parse).transpose()
}

fn delivered(d: tobira::outbox::Delivered) -> Value {
    serde_json::json!({
        "action": "deliver-notices",
        "sent": d.sent,
        "retrying": d.retrying,
        "dead": d.dead,
        "voided": d.voided,
    })
}

fn to_json<T: serde::Serialize>(v: T) -> Value {
    serde_json::to_value(v).expect("reports serialise")
}
