//! Running a migration in bounded chunks (MIG-8, MIG-10): the walk over the
//! staged records and the tenants' users, the checkpoint the scheduled event
//! continues from, the time budget, and `status`.
//!
//! Every step is idempotent on its own (one atomic write per record), so the
//! checkpoint only saves work: losing it, or a fault before it is written,
//! means some records are looked at again and reported `already_migrated`.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::model::keys;
use crate::store::{Item, Query};

/// A place in a walk: a tenant and a sort key inside its partition.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Pos {
    pub tenant_id: String,
    pub sk: String,
}

impl Pos {
    /// `<tenant>/<sort key>`, as reports and events carry it.
    pub fn render(&self) -> String {
        format!("{}/{}", self.tenant_id, self.sk)
    }
    pub fn parse(s: &str) -> Result<Self> {
        match s.split_once('/') {
            Some((t, k)) if !t.is_empty() && !k.is_empty() => Ok(Self {
                tenant_id: t.into(),
                sk: k.into(),
            }),
            _ => Err(Error::invalid("invalid_cursor")
                .detail("a cursor is <tenant>/<key>, as a report's `next` gives it")),
        }
    }
}

/// Long-running mail work that the schedule continues (MIG-10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Job {
    SendSetupLinks {
        tenant_id: Option<String>,
        resend: bool,
    },
    CloseWindow {},
}

/// The one checkpoint of the migration (`MIGSTATE` / `CHECKPOINT`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The last staged record the current apply pass has done.
    pub apply_after: Option<Pos>,
    /// The import marker when the current pass started.
    pub pass_import: Option<String>,
    /// The import marker of the last pass that finished: nothing pending
    /// while it is still the current marker.
    pub done_import: Option<String>,
    pub runs: u64,
    pub updated_at: Option<Timestamp>,
}

/// The mail job under way and where it stands (`MIGSTATE` / `JOB`), kept
/// apart from the apply checkpoint so the two never overwrite each other.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobState {
    pub job: Option<Job>,
    pub after: Option<Pos>,
    pub runs: u64,
    pub updated_at: Option<Timestamp>,
}

/// What to apply: everything pending (from the checkpoint) or one tenant.
#[derive(Clone, Debug, Default)]
pub struct ApplyOptions {
    pub dry_run: bool,
    /// At most this many records this run.
    pub max_records: Option<usize>,
    /// Only this tenant's records (no checkpoint).
    pub tenant: Option<TenantId>,
    /// Only the records this import run staged (no checkpoint).
    pub batch: Option<String>,
    /// Dry runs, and runs of one tenant or batch: start after this place
    /// (a report's `next`).
    pub after: Option<Pos>,
    /// A chunk of the fan-out (`apply-chunks`): every tenant from `after`,
    /// without the checkpoint.
    pub span: bool,
}

/// Results of a mail job (`send-setup-links`, `close-window`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailReport {
    pub action: String,
    pub dry_run: bool,
    pub sent: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Users a dry run would mail.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub would_send: Vec<NoticeLine>,
    pub complete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// One user a dry run of a mail job would mail (no contact data).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeLine {
    pub tenant_id: String,
    pub login_id: String,
    pub renamed: bool,
}

/// Walks the items of one partition per staged tenant, in (tenant, sort
/// key) order, a page at a time.
pub(crate) struct Walker {
    tenants: VecDeque<String>,
    partition: fn(&str) -> String,
    prefix: &'static str,
    current: Option<String>,
    after: Option<String>,
    page: VecDeque<Item>,
    exhausted: bool,
}

pub(super) const PAGE: usize = 200;

impl Walker {
    pub(crate) async fn new(
        app: &App,
        partition: fn(&str) -> String,
        prefix: &'static str,
        tenant: Option<&TenantId>,
        from: Option<&Pos>,
    ) -> Result<Self> {
        let mut tenants: VecDeque<String> = match tenant {
            Some(t) => VecDeque::from([t.as_str().to_string()]),
            None => app
                .query_all(keys::STAGED_TENANTS, "")
                .await?
                .into_iter()
                .map(|i| i.key.sk)
                .collect(),
        };
        let mut after = None;
        if let Some(p) = from {
            tenants.retain(|t| *t >= p.tenant_id);
            if tenants.front() == Some(&p.tenant_id) {
                after = Some(p.sk.clone());
            }
        }
        let current = tenants.pop_front();
        Ok(Self {
            tenants,
            partition,
            prefix,
            current,
            after,
            page: VecDeque::new(),
            exhausted: false,
        })
    }

    pub(crate) async fn next(&mut self, app: &App) -> Result<Option<(Pos, Item)>> {
        loop {
            let Some(tenant) = self.current.clone() else {
                return Ok(None);
            };
            if let Some(item) = self.page.pop_front() {
                self.after = Some(item.key.sk.clone());
                return Ok(Some((
                    Pos {
                        tenant_id: tenant,
                        sk: item.key.sk.clone(),
                    },
                    item,
                )));
            }
            if !self.exhausted {
                let q = Query {
                    pk: (self.partition)(&tenant),
                    sk_prefix: self.prefix.to_string(),
                    after: self.after.clone(),
                    limit: PAGE,
                };
                let page = app.store.query(&q, app.now()).await?;
                self.exhausted = page.len() < PAGE;
                self.page = page.into();
                if !self.page.is_empty() {
                    continue;
                }
            }
            self.current = self.tenants.pop_front();
            self.after = None;
            self.exhausted = false;
        }
    }
}

pub(super) fn members_partition(tenant: &str) -> String {
    format!("TENANT#{tenant}")
}

/// Whether a run may go on: under `max` records and before the deadline.
pub(super) struct Budget {
    max: usize,
    deadline: Timestamp,
}

impl Budget {
    pub(super) fn new(app: &App, max: Option<usize>) -> Self {
        Self {
            max: max.unwrap_or(usize::MAX),
            deadline: app.now().plus(app.config.migrate_budget),
        }
    }
    pub(super) fn allows(&self, app: &App, done: usize) -> bool {
        done < self.max && app.now() < self.deadline
    }
}
