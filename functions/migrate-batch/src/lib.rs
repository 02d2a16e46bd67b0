//! The `migrate-batch` function: not HTTP. Invoked by an EventBridge schedule
//! (continue pending work in a bounded chunk, MIG-10) and by operators with a
//! JSON event (`{"action": ...}`, API.md). Every answer is a JSON report.

use serde::Deserialize;
use serde_json::Value;
use tobira::ids::TenantId;
use tobira::{App, Ctx, Error};

/// An operator's event. Unknown actions and unknown fields are refused.
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum OpsEvent {
    /// Stage MIG-1 records.
    Import { records: Vec<Value> },
    /// What `apply` would do (MIG-9).
    Plan {},
    /// Create users (MIG-2..8).
    Apply {
        #[serde(default)]
        dry_run: bool,
        #[serde(default)]
        max_records: Option<usize>,
    },
    /// Mail setup links to pending users (SET-1).
    SendSetupLinks {
        #[serde(default)]
        tenant_id: Option<String>,
        #[serde(default)]
        resend: bool,
    },
    /// Counts (MIG-10).
    Status {},
    /// The schedule's own event: apply the next chunk.
    Continue {},
}

/// Read an invocation payload: an EventBridge "Scheduled Event" envelope (or
/// an EventBridge event whose `detail` is an ops event), or an ops event.
pub fn parse_event(event: Value) -> Result<OpsEvent, Error> {
    let bad = |e: serde_json::Error| {
        Error::invalid("invalid_event", format!("invalid migrate-batch event: {e}"))
    };
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
    let report = match parse_event(event)? {
        OpsEvent::Import { records } => to_json(app.import(&records, &ctx).await?),
        OpsEvent::Plan {} => to_json(app.apply(true, None, &ctx).await?),
        OpsEvent::Apply {
            dry_run,
            max_records,
        } => to_json(app.apply(dry_run, max_records, &ctx).await?),
        OpsEvent::SendSetupLinks { tenant_id, resend } => {
            let tenant = tenant_id.as_deref().map(TenantId::parse).transpose()?;
            to_json(app.send_setup_links(tenant.as_ref(), resend, &ctx).await?)
        }
        OpsEvent::Status {} => app.migration_status().await?,
        OpsEvent::Continue {} => to_json(
            app.apply(false, Some(app.config.migrate_chunk), &ctx)
                .await?,
        ),
    };
    // One line per run for operators (counts only, never record contents).
    let counts = report.get("counts").cloned().unwrap_or(Value::Null);
    let action = report.get("action").and_then(Value::as_str).unwrap_or("-");
    tracing::info!(%action, %counts, "migrate-batch");
    Ok(report)
}

fn to_json<T: serde::Serialize>(v: T) -> Value {
    serde_json::to_value(v).expect("reports serialise")
}
