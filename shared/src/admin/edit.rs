//! ADM-1 / ADM-2 / ADM-3: an admin changes a user's details, role or login
//! ID. Every change is checked before anything is written; a new login ID
//! is unique portal-wide under races and the user is told by mail; no
//! admin demotes themselves, and no one the tenant's last active admin.

use crate::account::{Change, Made};
use crate::app::{App, Ctx};
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::ids::{LoginId, PersonName};
use crate::mfa::Method;
use crate::model::{keys, LastChange, LoginRef, Role, User, UserState};
use crate::store::{Cond, StoreError, Write};

use super::create::{digits, ProfileFields};
use super::{user_writes, UserDetail};

/// What the admin changes; `None` leaves a field as it is, and an empty
/// optional field (title, mobile, time zone, group, comment) clears it.
/// The e-mail address is not changed here (a corrected address for a
/// pending user: ADM-4, to come).
#[derive(Clone, Debug, Default)]
pub struct UserUpdate<'a> {
    pub name: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub lang: Option<Lang>,
    pub role: Option<Role>,
    pub mfa_method: Option<&'a str>,
    pub profile: ProfileFields<'a>,
    pub login_id: Option<&'a str>,
}

impl App {
    /// ADM-1 / ADM-2: change a user of the admin's tenant; the user's
    /// detail after the change.
    pub async fn admin_update_user(
        &self,
        admin: &User,
        id: &str,
        upd: &UserUpdate<'_>,
        ctx: &Ctx,
    ) -> Result<UserDetail> {
        super::require_admin(admin)?;
        for _ in 0..5 {
            let (old, version) = self.user(id).await?.ok_or(Error::NotFound)?;
            if old.tenant_id != admin.tenant_id {
                return Err(Error::NotFound);
            }
            let mut user = apply_fields(&old, upd)?;
            let mut writes = Vec::new();
            let demoted = old.role == Role::Admin && user.role != Role::Admin;
            if demoted && old.state == UserState::Active {
                if old.id == admin.id {
                    return Err(Error::conflict("own_account"));
                }
                writes.push(self.last_admin_guard(&old).await?);
            }
            let renamed = user.login_id.key() != old.login_id.key();
            // SET-2 checks a pending user's name and phone: a correction of
            // either ends the links mailed before, and a new one follows.
            let pending = old.state == UserState::PendingSetup;
            let corrected =
                pending && (user.name.as_str() != old.name.as_str() || user.phone != old.phone);
            // ADM-8: the user's status page shows who changed it last.
            user.last_change = Some(LastChange {
                at: self.now(),
                what: if renamed {
                    "account.login_id_changed"
                } else {
                    "account.details_changed"
                }
                .into(),
                by: admin.login_id.as_str().to_string(),
            });
            let fields = changed_fields(&old, &user).join(",");
            let by = Made::by(ctx).detail(format!("login_id,{fields}; by admin {}", admin.id));
            if renamed {
                writes.push(Write::put(
                    keys::login(&user.login_id),
                    &LoginRef {
                        user_id: user.id.clone(),
                    },
                    None,
                    Cond::Absent,
                ));
                writes.push(Write::Delete {
                    key: keys::login(&old.login_id),
                    cond: Cond::Exists,
                });
                writes.extend(
                    self.apply_change(&mut user, version, Change::LoginIdChanged, by)
                        .writes,
                );
            } else if corrected {
                let made =
                    Made::by(ctx).detail(format!("corrected: {fields}; by admin {}", admin.id));
                writes.extend(
                    self.apply_change(&mut user, version, Change::IdentityCorrected, made)
                        .writes,
                );
            } else {
                user.updated_at = self.now();
                writes.extend(user_writes(&user, Cond::Version(version)));
                writes.push(self.audit(
                    ctx,
                    "account.details_changed",
                    Some((&user.id, &user.tenant_id)),
                    Some(format!("{fields}; by admin {}", admin.id)),
                ));
            }
            match self.store.write(writes, self.now()).await {
                Ok(()) => {
                    // The links mailed before ended with the old login ID: a
                    // pending user gets a new one (which names the login
                    // ID), an active one the notice.
                    if pending && (renamed || corrected) {
                        self.send_first_link(&user, ctx).await?;
                    }
                    return self.user_detail(admin, id).await;
                }
                // The new login ID is someone's, or the user changed
                // meanwhile: which one, the next round tells.
                Err(StoreError::Conflict) => {
                    if renamed && self.login_taken_by_another(&user).await? {
                        return Err(Error::conflict("login_taken"));
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::conflict("busy"))
    }

    /// Whether the user's (new) login ID belongs to another user.
    async fn login_taken_by_another(&self, user: &User) -> Result<bool> {
        let holder = self.user_by_login(&user.login_id).await?;
        Ok(holder.is_some_and(|(h, _)| h.id != user.id))
    }
}

/// The user with the update's fields, each checked; an error writes nothing.
fn apply_fields(old: &User, upd: &UserUpdate<'_>) -> Result<User> {
    let mut u = old.clone();
    if let Some(n) = upd.name {
        u.name = PersonName::parse(n)?;
    }
    if let Some(p) = upd.phone {
        let p = digits(Some(p), "phone")?.ok_or_else(|| Error::invalid("invalid_phone"))?;
        if p != u.phone {
            // The admin set a phone the user knows: SET-2 stops accepting
            // the legacy digits MIG-5 gave up on.
            u.legacy_phone = None;
        }
        u.phone = p;
    }
    if let Some(l) = upd.lang {
        u.lang = l;
    }
    if let Some(r) = upd.role {
        u.role = r;
    }
    if let Some(m) = upd.mfa_method {
        let m = Method::parse(m)
            .filter(|m| matches!(m, Method::Totp | Method::Email))
            .ok_or_else(|| Error::invalid("invalid_method"))?;
        u.preset_method = Some(m.as_str().to_string());
    }
    upd.profile.apply_to(&mut u.profile)?;
    if let Some(l) = upd.login_id {
        u.login_id = LoginId::parse(l)?;
    }
    Ok(u)
}

/// The names of the fields that differ, for the audit record (ADM-8):
/// which, never the values.
fn changed_fields(a: &User, b: &User) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut differs = |name, same: bool| {
        if !same {
            out.push(name);
        }
    };
    differs("name", a.name.as_str() == b.name.as_str());
    differs("phone", a.phone == b.phone);
    differs("lang", a.lang == b.lang);
    differs("role", a.role == b.role);
    differs("mfa_method", a.preset_method == b.preset_method);
    differs("title", a.profile.title == b.profile.title);
    differs("mobile", a.profile.mobile == b.profile.mobile);
    differs("time_zone", a.profile.time_zone == b.profile.time_zone);
    differs("group", a.profile.group == b.profile.group);
    differs("comment", a.profile.comment == b.profile.comment);
    out
}
