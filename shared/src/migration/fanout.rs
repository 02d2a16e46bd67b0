//! Fanning `apply` out (issue 17 item 4): the pending records cut into
//! chunks that parallel workers apply at once — a Step Functions Map state
//! in AWS (`infra/template.yaml`, `MigrateStateMachine`), tasks locally.
//! Each chunk is an `apply` of one tenant from a place in its staged
//! partition, for at most so many records; the chunks of one tenant follow
//! each other, so together they cover every pending record once. Chunks
//! may run in any order and at once: applying a record is one conditional
//! write (MIG-8) and who keeps a login ID depends only on the staged set
//! (MIG-3), so the result is the one a single sequential run gives
//! (`tests/api/migration_property.rs` holds it, with store faults).

use super::run::Walker;
use super::*;

/// One chunk of the fan-out: an `apply` event's fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    pub tenant_id: String,
    /// Start after this place (`<tenant>/<key>`); none: the tenant's start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    pub max_records: usize,
}

impl Chunk {
    /// The options of this chunk's `apply`.
    pub fn options(&self) -> Result<ApplyOptions> {
        Ok(ApplyOptions {
            max_records: Some(self.max_records),
            tenant: Some(TenantId::parse(&self.tenant_id)?),
            after: self.after.as_deref().map(Pos::parse).transpose()?,
            ..ApplyOptions::default()
        })
    }
}

impl App {
    // The fan-out of issue 17 item 4.
    /// The pending records (one tenant's, or every tenant's) cut into
    /// chunks of `size` records each. Reads the staged partitions once;
    /// writes nothing.
    pub async fn apply_chunks(&self, tenant: Option<&TenantId>, size: usize) -> Result<Vec<Chunk>> {
        if size == 0 {
            return Err(Error::invalid("invalid_event").detail("size must be at least 1"));
        }
        let mut walk = Walker::new(self, keys::staged_partition, "", tenant, None).await?;
        let mut chunks: Vec<Chunk> = Vec::new();
        // The place just before the next pending record, per tenant.
        let mut before: Option<Pos> = None;
        let mut open: usize = 0;
        while let Some((pos, item)) = walk.next(self).await? {
            if before
                .as_ref()
                .is_some_and(|b| b.tenant_id != pos.tenant_id)
            {
                before = None;
                open = 0;
            }
            let staged: Staged = item.parse()?;
            if staged.status == StagedStatus::Staged {
                if open == 0 {
                    chunks.push(Chunk {
                        tenant_id: pos.tenant_id.clone(),
                        after: before.as_ref().map(Pos::render),
                        max_records: size,
                    });
                }
                open = (open + 1) % size;
            }
            before = Some(pos);
        }
        Ok(chunks)
    }
}
