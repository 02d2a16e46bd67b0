//! Fanning `apply` out (issue 17 item 4): the pending records cut into
//! chunks that parallel workers apply at once — a Step Functions Map state
//! in AWS (`infra/template.yaml`, `MigrateStateMachine`), tasks locally.
//! Each chunk is an `apply` from a place in the walk over the staged
//! partitions (every tenant's, or one tenant's), for at most so many
//! records; the chunks follow each other, so together they cover every
//! pending record once. Chunks
//! may run in any order and at once: applying a record is one conditional
//! write (MIG-8) and who keeps a login ID depends only on the staged set
//! (MIG-3), so the result is the one a single sequential run gives
//! (`tests/api/migration_property.rs` holds it, with store faults).

use super::run::Walker;
use super::*;

/// One chunk of the fan-out: an `apply` event's fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// One tenant's chunk; none: a chunk of the walk over every tenant
    /// (`span`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Start after this place (`<tenant>/<key>`); none: the walk's start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    pub max_records: usize,
}

impl Chunk {
    /// The options of this chunk's `apply`.
    pub fn options(&self) -> Result<ApplyOptions> {
        Ok(ApplyOptions {
            max_records: Some(self.max_records),
            tenant: self.tenant_id.as_deref().map(TenantId::parse).transpose()?,
            after: self.after.as_deref().map(Pos::parse).transpose()?,
            span: self.tenant_id.is_none(),
            ..ApplyOptions::default()
        })
    }
}

impl App {
    // The fan-out of issue 17 item 4.
    /// The pending records (one tenant's, or every tenant's in one walk, so
    /// that small tenants share a chunk) cut into chunks of `size` records
    /// each. Reads the staged partitions once; writes nothing.
    pub async fn apply_chunks(&self, tenant: Option<&TenantId>, size: usize) -> Result<Vec<Chunk>> {
        if size == 0 {
            return Err(Error::invalid("invalid_event").detail("size must be at least 1"));
        }
        let mut walk = Walker::new(self, keys::staged_partition, "", tenant, None).await?;
        let mut chunks: Vec<Chunk> = Vec::new();
        // The place just before the next pending record.
        let mut before: Option<Pos> = None;
        let mut open: usize = 0;
        while let Some((pos, item)) = walk.next(self).await? {
            let staged: Staged = item.parse()?;
            if staged.status == StagedStatus::Staged {
                if open == 0 {
                    chunks.push(Chunk {
                        tenant_id: tenant.map(|t| t.as_str().to_string()),
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
