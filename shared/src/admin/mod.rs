//! Accounts created by a tenant admin (ADM-1, ADM-2 default): the user is
//! created pending, and RST-4's path sets the first password: a
//! registration mail with a password link and its expiry, and, if that
//! mail is lost or the link expired, "forgot password" with login ID and
//! e-mail sends a new one.

pub mod actions;
pub mod directory;

pub use crate::directory::user_writes;
pub use directory::{UserPage, UserQuery};

use crate::app::{App, Ctx};
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::ids::{Email, LoginId, PersonName, TenantId};
use crate::mfa::Method;
use crate::model::{keys, LoginRef, Role, User};
use crate::random::new_ulid;
use crate::reset::PURPOSE_REGISTRATION;
use crate::store::{Cond, Write};

/// ADM-1's required fields (the optional ones come with the admin screens).
#[derive(Clone, Debug)]
pub struct NewUser<'a> {
    pub tenant_id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub phone: &'a str,
    pub lang: Lang,
    /// The second-factor method the admin chose (SET-4 skips the choice).
    pub method: Option<&'a str>,
    pub role: Role,
}

impl App {
    // home of ADM-1
    /// ADM-1: create a user pending setup whose login ID is the e-mail
    /// (ADM-2's default), and mail the registration link (RST-4). Answers
    /// the new user's ID; 409 `login_taken` when the login ID is in use.
    pub async fn create_user(&self, n: &NewUser<'_>, ctx: &Ctx) -> Result<String> {
        let tenant_id = TenantId::parse(n.tenant_id)?;
        let name = PersonName::parse(n.name)?;
        let email = Email::parse(n.email)?;
        let login_id = LoginId::parse(email.as_str())?;
        let phone = crate::phone::digits_of(n.phone);
        if !crate::phone::is_plain_digits(&phone) {
            return Err(Error::invalid("invalid_phone"));
        }
        let method = match n.method {
            None => None,
            Some(m) => Some(
                Method::parse(m)
                    .filter(|m| *m != Method::Sms)
                    .ok_or_else(|| Error::invalid("invalid_method"))?,
            ),
        };
        let now = self.now();
        let user = User {
            phone,
            role: n.role,
            lang: n.lang,
            preset_method: method.map(|m| m.as_str().to_string()),
            ..User::pending(
                new_ulid(self.rng.as_ref(), now).to_string(),
                tenant_id.clone(),
                login_id.clone(),
                email,
                name,
                now,
            )
        };
        let mut writes = vec![
            Write::put(
                keys::login(&login_id),
                &LoginRef {
                    user_id: user.id.clone(),
                },
                None,
                Cond::Absent,
            ),
            self.audit(
                ctx,
                "admin.user_created",
                Some((&user.id, &tenant_id)),
                None,
            ),
        ];
        // The directory entry is new too: a user ID is never reused.
        writes.extend(user_writes(&user, Cond::Absent));
        self.store
            .write(writes, now)
            .await
            .map_err(|e| e.lost_race_is("login_taken"))?;
        self.send_password_link(&user.id, PURPOSE_REGISTRATION, ctx)
            .await?;
        Ok(user.id)
    }
}

/// One user as the admin's detail page shows them (ADM-5): the profile and
/// the status, no secret (no hash, token or factor secret).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UserDetail {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub email: String,
    pub login_id: String,
    pub role: Role,
    pub phone: String,
    pub lang: &'static str,
    pub status: directory::Status,
    /// The second-factor methods enrolled (names only).
    pub methods: Vec<String>,
    /// Milliseconds since the Unix epoch (UTC).
    pub created_at: i64,
    pub updated_at: i64,
    pub password_set_at: Option<i64>,
}

/// An active admin, or 403.
pub(crate) fn require_admin(u: &User) -> Result<()> {
    if u.role == Role::Admin && u.state == crate::model::UserState::Active {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

impl App {
    /// ADM-5: one user of the admin's tenant; any other ID is 404.
    pub async fn user_detail(&self, admin: &User, id: &str) -> Result<UserDetail> {
        require_admin(admin)?;
        let (u, _) = self.user(id).await?.ok_or(Error::NotFound)?;
        if u.tenant_id != admin.tenant_id {
            return Err(Error::NotFound);
        }
        Ok(UserDetail {
            status: self.user_status(&u).await?,
            id: u.id.clone(),
            tenant_id: u.tenant_id.as_str().to_string(),
            name: u.name.as_str().to_string(),
            email: u.email.as_str().to_string(),
            login_id: u.login_id.as_str().to_string(),
            role: u.role,
            phone: u.phone.clone(),
            lang: u.lang.code(),
            methods: u.methods.clone(),
            created_at: u.created_at.millis(),
            updated_at: u.updated_at.millis(),
            password_set_at: u.password_set_at.map(|t| t.millis()),
        })
    }
}
