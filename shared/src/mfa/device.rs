//! MFA-7: "remember this device". A random cookie, stored by hash with the
//! user's device epoch; it skips only the second factor, never the password
//! or a lock. A password reset or change, or a factor change, moves the
//! epoch on and voids every remembered device (`account::effects`); the
//! user can do the same from the dashboard.

use serde::{Deserialize, Serialize};

use crate::account::{Change, Made};
use crate::app::{App, Ctx};
use crate::clock::Timestamp;
use crate::error::Result;
use crate::model::{keys, User};
use crate::random::{secret_token, token_hash};
use crate::session::Stage;
use crate::store::{get_as, Cond, Write};

#[derive(Clone, Serialize, Deserialize)]
struct Device {
    user_id: String,
    epoch: u32,
    created_at: Timestamp,
}

impl App {
    /// A new remembered device for `user`: its cookie and the write.
    pub(super) fn remember_device(&self, user: &User) -> (String, Write) {
        let now = self.now();
        let token = secret_token(self.rng.as_ref());
        let d = Device {
            user_id: user.id.clone(),
            epoch: user.device_epoch,
            created_at: now,
        };
        let w = Write::put(
            keys::device(&token_hash(&token)),
            &d,
            Some(now.plus(self.config.remember_device)),
            Cond::Absent,
        );
        (token, w)
    }

    // home of MFA-7
    /// Whether the device cookie is a live remembered device of `user`.
    pub async fn is_remembered(&self, user: &User, cookie: Option<&str>) -> Result<bool> {
        let Some(cookie) = cookie.filter(|c| !c.is_empty() && c.len() <= 128) else {
            return Ok(false);
        };
        let now = self.now();
        Ok(
            get_as::<Device>(self.store.as_ref(), &keys::device(&token_hash(cookie)), now)
                .await?
                .is_some_and(|(d, _)| d.user_id == user.id && d.epoch == user.device_epoch),
        )
    }

    /// MFA-7: forget every remembered device of the signed-in user.
    pub async fn forget_devices(&self, token: Option<&str>, ctx: &Ctx) -> Result<()> {
        let s = self.signed(token, &[Stage::Full]).await?;
        let now = self.now();
        let mut user = s.user.clone();
        let writes = self
            .apply_change(
                &mut user,
                s.user_version,
                Change::DevicesForgotten,
                Made::by(ctx),
            )
            .writes;
        self.store.write(writes, now).await?;
        Ok(())
    }
}
