//! ADM-4: the admins of a parent contract's tenant help the users of its
//! child tenants: they see them on the list and in detail, correct the
//! identity of those still pending and resend their setup links. Every
//! other action stays inside the admin's own tenant.

use serde::Deserialize;

use crate::app::{App, Ctx};
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::model::{keys, User, UserState};
use crate::setup::IdentityFix;
use crate::store::get_as;

use super::directory::Status;

#[derive(Deserialize)]
struct Parent {
    parent: TenantId,
}

impl App {
    /// Whether `admin` administers `tenant`: their own, or a child of it.
    pub(super) async fn administers(&self, admin: &User, tenant: &TenantId) -> Result<bool> {
        if *tenant == admin.tenant_id {
            return Ok(true);
        }
        let key = keys::tenant_parent(tenant);
        let parent = get_as::<Parent>(self.store.as_ref(), &key, self.now()).await?;
        Ok(parent.is_some_and(|(p, _)| p.parent == admin.tenant_id))
    }

    /// A user the admin may see (own or a child tenant's), or 404.
    pub(crate) async fn visible_user(&self, admin: &User, id: &str) -> Result<User> {
        super::require_admin(admin)?;
        let (u, _) = self.user(id).await?.ok_or(Error::NotFound)?;
        if !self.administers(admin, &u.tenant_id).await? {
            return Err(Error::NotFound);
        }
        Ok(u)
    }

    // home of ADM-4
    /// ADM-4: mail a pending user of the admin's or a child tenant a new
    /// link: the setup link of a migrated user (SET-1; after the window,
    /// 409 `window_closed`: the identity entry of RST-4 is the way), the
    /// registration link of a user an admin created (RST-4). 409
    /// `not_pending` once the user has set up.
    pub async fn resend_setup(&self, admin: &User, id: &str, ctx: &Ctx) -> Result<Status> {
        let user = self.visible_user(admin, id).await?;
        if user.state != UserState::PendingSetup {
            return Err(Error::conflict("not_pending"));
        }
        self.send_first_link(&user, ctx).await?;
        // ADM-8: the link's own record names its purpose; this one, who asked.
        let by = format!("by admin {}", admin.id);
        self.record(
            ctx,
            "account.setup_resent",
            Some((&user.id, &user.tenant_id)),
            Some(by),
        )
        .await?;
        Ok(Status::Pending)
    }

    /// ADM-4: correct a pending user's identity (e-mail, name, phone) for
    /// the admin's or a child tenant: the links mailed before end and a new
    /// one goes to the corrected address.
    pub async fn admin_fix_identity(
        &self,
        admin: &User,
        id: &str,
        fix: &IdentityFix,
        ctx: &Ctx,
    ) -> Result<Status> {
        let user = self.visible_user(admin, id).await?;
        // A child tenant's admin account is that tenant's to set up: a
        // parent's admin changing its address could take it over.
        if user.tenant_id != admin.tenant_id
            && user.role == crate::model::Role::Admin
            && fix.email.is_some()
        {
            return Err(Error::conflict("child_admin"));
        }
        self.fix_pending_identity(&user.id, fix, Some(admin), ctx)
            .await?;
        Ok(Status::Pending)
    }
}
