//! ADM-3 and ADM-7: what an admin of the tenant (or an operator from the
//! console) does to a user — disable, enable, unlock, reset the second
//! factors. Each goes through the account-state home (`crate::account`),
//! which decides the sessions, devices, links, notice and audit; this
//! module decides who may do what to whom.

use crate::account::{effects, Change, Made};
use crate::app::{App, Ctx};
use crate::error::{Error, Result};
use crate::ids::{LoginId, TenantId};
use crate::model::{keys, LastChange, Role, User, UserState};
use crate::softlock::LockState;
use crate::store::{get_as, Cond, StoreError, Write};

use super::directory::Status;

/// What is done to the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Disable,
    Enable,
    Unlock,
    ResetFactors,
}

impl Action {
    /// The route's and the ops event's name (`reset-factors`).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "disable" => Self::Disable,
            "enable" => Self::Enable,
            "unlock" => Self::Unlock,
            "reset-factors" => Self::ResetFactors,
            _ => return None,
        })
    }
}

/// Who does it (ADM-8 records both).
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    /// A signed-in admin, inside their own tenant.
    Admin(&'a User),
    /// An operator from the console, with the reason the event gives.
    Ops { reason: &'a str },
}

/// The longest reason an operator may give.
pub const REASON_MAX: usize = 500;

impl App {
    // home of ADM-3
    // home of ADM-7
    // home of ADM-8
    /// ADM-3 / ADM-7: do `action` to the user `target_id`. An admin acts
    /// only in their own tenant (any other user is 404), never disables
    /// themselves, and no one disables the tenant's last active admin —
    /// two admins disabling each other at once cannot both succeed: every
    /// such change also writes the tenant's admin guard on the version it
    /// counted under. Doing what is already done changes nothing.
    pub async fn act_on_user(
        &self,
        actor: Actor<'_>,
        target_id: &str,
        action: Action,
        ctx: &Ctx,
    ) -> Result<Status> {
        let (by, who) = match actor {
            Actor::Admin(a) => {
                super::require_admin(a)?;
                (
                    format!("by admin {}", a.id),
                    a.login_id.as_str().to_string(),
                )
            }
            Actor::Ops { reason } => (
                format!("by ops: {}", ops_reason(reason)?),
                "operator".into(),
            ),
        };
        for _ in 0..5 {
            let (mut user, version) = self.user(target_id).await?.ok_or(Error::NotFound)?;
            if let Actor::Admin(a) = actor {
                if user.tenant_id != a.tenant_id {
                    return Err(Error::NotFound);
                }
            }
            let change = match action {
                Action::Disable if user.state == UserState::Disabled => {
                    return self.user_status(&user).await
                }
                Action::Disable => {
                    if matches!(actor, Actor::Admin(a) if a.id == user.id) {
                        return Err(Error::conflict("own_account"));
                    }
                    Change::Disabled
                }
                Action::Enable if user.state != UserState::Disabled => {
                    return self.user_status(&user).await
                }
                // CLM-3: a merged account lives on in the one it joined.
                Action::Enable if user.merged_into.is_some() => {
                    return Err(Error::conflict("merged_account"))
                }
                Action::Enable => Change::Enabled,
                Action::Unlock => Change::Unlocked,
                Action::ResetFactors => Change::FactorsReset,
            };
            let mut writes = Vec::new();
            if action == Action::Disable && is_active_admin(&user) {
                writes.push(self.last_admin_guard(&user).await?);
            }
            // ADM-8: the user's status page shows who changed it last.
            user.last_change = Some(LastChange {
                at: self.now(),
                what: effects(&change).audit.to_string(),
                by: who.clone(),
            });
            let applied =
                self.apply_change(&mut user, version, change, Made::by(ctx).detail(by.clone()));
            writes.extend(applied.writes);
            match self.store.write(writes, self.now()).await {
                Ok(()) => {
                    return self.user_status(&user).await;
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::conflict("busy"))
    }

    /// [`App::act_on_user`] for an operator, who names the user by login ID.
    pub async fn ops_act_on_login(
        &self,
        login_id: &str,
        reason: &str,
        action: Action,
        ctx: &Ctx,
    ) -> Result<(User, Status)> {
        ops_reason(reason)?;
        let login = LoginId::parse(login_id)?;
        let (user, _) = self.user_by_login(&login).await?.ok_or(Error::NotFound)?;
        let status = self
            .act_on_user(Actor::Ops { reason }, &user.id, action, ctx)
            .await?;
        Ok((user, status))
    }

    /// The write that lets `admin` stop being an active admin only while
    /// another stays: refused (`last_admin`) when none does; otherwise the
    /// tenant's guard item, rewritten on the version read before counting,
    /// so that a second change counted at the same time fails and counts
    /// again.
    pub(super) async fn last_admin_guard(&self, admin: &User) -> Result<Write> {
        let now = self.now();
        let key = keys::admin_guard(&admin.tenant_id);
        let guard = self.store.get(&key, now).await?;
        if self
            .active_admins(&admin.tenant_id)
            .await?
            .iter()
            .all(|id| *id == admin.id)
        {
            return Err(Error::conflict("last_admin"));
        }
        let cond = guard.map_or(Cond::Absent, |g| Cond::Version(g.version));
        Ok(Write::put(
            key,
            &serde_json::json!({ "at": now.millis() }),
            None,
            cond,
        ))
    }

    /// The IDs of the tenant's active admins, from its directory (read
    /// whole: only a change that could leave the tenant without one asks).
    async fn active_admins(&self, tenant: &TenantId) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for item in self
            .query_partition(&keys::tenant_members(tenant), "USER#")
            .await?
        {
            let Some(entry) = self.entry_of(&item).await? else {
                continue;
            };
            if entry.shown.role == Role::Admin && entry.state == UserState::Active {
                out.push(entry.shown.id);
            }
        }
        Ok(out)
    }

    /// The user's status on the list now.
    pub async fn user_status(&self, user: &User) -> Result<Status> {
        Ok(match user.state {
            UserState::PendingSetup => Status::Pending,
            UserState::Disabled => Status::Disabled,
            UserState::Active => {
                let now = self.now();
                let lock =
                    get_as::<LockState>(self.store.as_ref(), &keys::lock("login", &user.id), now)
                        .await?;
                if lock.is_some_and(|(l, _)| l.is_locked(now)) {
                    Status::Locked
                } else {
                    Status::Active
                }
            }
        })
    }
}

/// An operator's reason: 1 to [`REASON_MAX`] characters, trimmed.
fn ops_reason(reason: &str) -> Result<&str> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > REASON_MAX {
        return Err(Error::invalid("invalid_reason").with("max", REASON_MAX));
    }
    Ok(reason)
}

fn is_active_admin(u: &User) -> bool {
    u.role == Role::Admin && u.state == UserState::Active
}
