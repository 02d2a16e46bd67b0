//! Tenant administration (ADM): creating users (`create`), the list
//! (`directory`), what an admin does to a user (`actions`), and one user's
//! detail (here).

pub mod actions;
pub mod children;
pub mod create;
pub mod directory;
pub mod edit;
pub mod sign_ins;

pub use crate::directory::user_writes;
pub use create::NewUser;
pub use directory::{UserPage, UserQuery};
pub use edit::UserUpdate;

use crate::app::App;
use crate::error::{Error, Result};
use crate::model::{Role, User};

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
    /// ADM-1: title, mobile, time zone, group, comment (`null` when unset).
    #[serde(flatten)]
    pub profile: crate::model::Profile,
    pub status: directory::Status,
    /// The second-factor methods enrolled (names only).
    pub methods: Vec<String>,
    /// Milliseconds since the Unix epoch (UTC).
    pub created_at: i64,
    pub updated_at: i64,
    pub password_set_at: Option<i64>,
    /// ADM-8: the last change an admin or an operator made, and who.
    pub last_change: Option<crate::model::LastChange>,
}

/// An active admin, or 403.
pub fn require_admin(u: &User) -> Result<()> {
    if u.role == Role::Admin && u.state == crate::model::UserState::Active {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

impl App {
    /// ADM-5: one user of the admin's tenant or of a child tenant (ADM-4);
    /// any other ID is 404.
    pub async fn user_detail(&self, admin: &User, id: &str) -> Result<UserDetail> {
        let u = self.visible_user(admin, id).await?;
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
            profile: u.profile.clone(),
            methods: u.methods.clone(),
            created_at: u.created_at.millis(),
            updated_at: u.updated_at.millis(),
            password_set_at: u.password_set_at.map(|t| t.millis()),
            last_change: u.last_change.clone(),
        })
    }
}
