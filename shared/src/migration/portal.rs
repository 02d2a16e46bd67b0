//! MIG-11 as the legacy portal calls it: the portal proves itself with its
//! key (the edge takes it from `Authorization: Bearer`), then reads or
//! corrects a migrated user's identity during the window.

use super::window::{IdentityUpdate, IdentityView};
use crate::app::{App, Ctx};
use crate::error::{Error, Result};
use crate::random::{ct_eq, token_hash};

impl App {
    /// The legacy portal's key, against the SHA-256 (hex) configured. No
    /// key configured, none given or another key: `InvalidCredentials`. A
    /// customer's session never stands in for it.
    fn legacy_portal(&self, key: Option<&str>) -> Result<()> {
        let expected = self
            .config
            .legacy_portal_key_sha256
            .as_deref()
            .ok_or(Error::InvalidCredentials)?;
        let key = key
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or(Error::InvalidCredentials)?;
        if ct_eq(token_hash(key).as_bytes(), expected.as_bytes()) {
            Ok(())
        } else {
            Err(Error::InvalidCredentials)
        }
    }

    /// `GET /api/setup/identity`: the portal's key, then the identity.
    pub async fn portal_identity(
        &self,
        key: Option<&str>,
        login_id: Option<&str>,
    ) -> Result<IdentityView> {
        self.legacy_portal(key)?;
        let login_id = login_id
            .ok_or_else(|| Error::invalid("invalid_login_id").detail("the query needs login_id"))?;
        self.legacy_identity(login_id).await
    }

    /// `POST /api/setup/identity`: the portal's key, then the correction.
    pub async fn portal_correct_identity(
        &self,
        key: Option<&str>,
        upd: Result<IdentityUpdate>,
        ctx: &Ctx,
    ) -> Result<()> {
        self.legacy_portal(key)?;
        self.correct_identity(&upd?, ctx).await
    }
}
