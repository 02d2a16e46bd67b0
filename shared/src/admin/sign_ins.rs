//! ADM-6: an admin's view of the sign-in history.

use crate::app::App;
use crate::error::Result;
use crate::history::{HistoryPage, HistoryQuery};
use crate::model::{keys, User};

impl App {
    /// ADM-6: an admin's view: the tenant's sign-ins, or one user's (of the
    /// tenant or of a child tenant, ADM-4; any other is 404).
    pub async fn tenant_sign_ins(&self, admin: &User, q: &HistoryQuery<'_>) -> Result<HistoryPage> {
        super::require_admin(admin)?;
        match q.user_id.filter(|u| !u.is_empty()) {
            Some(id) => {
                // ADM-6: an admin sees the own tenant's history (a parent's
                // admin helps a child's users, ADM-4, but does not watch them).
                let u = self.visible_user(admin, id).await?;
                if u.tenant_id != admin.tenant_id {
                    return Err(crate::error::Error::NotFound);
                }
                let id = u.id;
                self.sign_ins(admin, q, move |m| keys::sign_ins_of_user(&id, m))
                    .await
            }
            None => {
                let t = admin.tenant_id.clone();
                self.sign_ins(admin, q, move |m| keys::sign_ins_of_tenant(&t, m))
                    .await
            }
        }
    }
}
