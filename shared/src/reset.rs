//! Password links: the identity entry of RST-4 (migrated users after the
//! window) and the link CLM-2 mails; the reset with the link's token.
//!
//! A password link is a single-use token of 256 bits, stored only as its
//! hash (`RESET#<hash>`, with the store's expiry checked on every read) and
//! named on the user as the one valid link, so a newer link voids an older
//! one. Using it is one atomic write conditioned on the user's version and
//! the token's existence.

use crate::app::{App, Ctx};
use crate::error::{Error, Result};
use crate::ids::{LoginId, Password};
use crate::messages::password_link_mail;
use crate::model::{keys, User, UserState};
use crate::password;
use crate::phone;
use crate::random::{ct_eq, secret_token, token_hash};
use crate::softlock::Attempt;
use crate::store::{get_as, Cond, StoreError, Write};

/// `RESET#<hash>`: whose password link this is.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ResetToken {
    pub user_id: String,
    /// `identity-entry` (RST-4) or `claim` (CLM-2).
    pub purpose: String,
}

/// RST-4's identity entry: login ID, e-mail, name and phone.
#[derive(Clone, Debug, Default)]
pub struct Forgot<'a> {
    pub login_id: &'a str,
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub phone: Option<&'a str>,
}

impl App {
    /// Issue a fresh password link for `user_id` and mail it. Earlier links
    /// stop working.
    pub async fn send_password_link(&self, user_id: &str, purpose: &str, ctx: &Ctx) -> Result<()> {
        for round in 0..5 {
            let now = self.now();
            let (mut user, v) = self.user(user_id).await?.ok_or(Error::NotFound)?;
            let token = secret_token(self.rng.as_ref());
            let hash = token_hash(&token);
            let expires = now.plus(self.config.setup_link_ttl);
            let old = user.reset_token_hash.replace(hash.clone());
            user.updated_at = now;
            let mut writes = vec![
                Write::put(keys::user(user_id), &user, None, Cond::Version(v)),
                Write::put(
                    keys::reset_token(&hash),
                    &ResetToken {
                        user_id: user_id.into(),
                        purpose: purpose.into(),
                    },
                    Some(expires),
                    Cond::Absent,
                ),
                self.audit(
                    ctx,
                    "password.link_sent",
                    Some((&user.id, &user.tenant_id)),
                    Some(purpose.to_string()),
                ),
            ];
            if let Some(h) = old {
                writes.push(Write::Delete {
                    key: keys::reset_token(&h),
                    cond: Cond::Any,
                });
            }
            match self.store.write(writes, now).await {
                Ok(()) => {
                    let link = format!("{}/password/reset?token={}", self.config.base_url, token);
                    let mail = password_link_mail(
                        &self.config.brand,
                        user.lang,
                        user.email.as_str(),
                        user.name.as_str(),
                        &link,
                        expires,
                    );
                    // If the mail fails the link is unusable but harmless; the
                    // caller answers 503 and the user asks again.
                    self.mailer.send(&mail).await?;
                    return Ok(());
                }
                Err(StoreError::Conflict) => self.back_off(round).await,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Unavailable { what: "store" })
    }

    /// RST-4: a migrated user still pending setup after the window enters
    /// login ID, e-mail, name and phone; when all match, a link to set the
    /// first password is mailed. The caller answers the same either way; 5
    /// failures block the user's identity entry for 20 minutes (RST-2).
    pub async fn forgot_password(&self, f: &Forgot<'_>, ctx: &Ctx) -> Result<()> {
        let Ok(login) = LoginId::parse(f.login_id) else {
            return Ok(());
        };
        let Some((user, _)) = self.user_by_login(&login).await? else {
            return Ok(());
        };
        let who = Some((user.id.as_str(), &user.tenant_id));
        if f.name.is_none() || f.phone.is_none() || !self.identity_entry_applies(&user).await? {
            // Active users' reset (RST-1) is not part of this entry point yet.
            return self.record(ctx, "password.forgot_ignored", who, None).await;
        }
        let lock_key = keys::lock("identity-entry", &user.id);
        match self
            .take_attempt(&lock_key, self.config.identity_lock)
            .await?
        {
            Attempt::Locked { .. } => {
                return self.record(ctx, "password.forgot_blocked", who, None).await;
            }
            Attempt::Allowed { .. } => {}
        }
        let email_ok = user.email.matches(f.email);
        let name_ok = f
            .name
            .is_some_and(|n| ct_eq(user.name.as_str().as_bytes(), n.as_bytes()));
        let phone_ok = f.phone.is_some_and(|p| phone::same_digits(p, &user.phone));
        if !(email_ok & name_ok & phone_ok) {
            return self.record(ctx, "password.forgot_failed", who, None).await;
        }
        self.store
            .write(
                vec![Write::Delete {
                    key: lock_key,
                    cond: Cond::Any,
                }],
                self.now(),
            )
            .await?;
        self.send_password_link(&user.id, "identity-entry", ctx)
            .await
    }

    /// RST-4 applies to migrated users still pending setup once the window
    /// is over for them (closed, or the user was sent the closing notice).
    async fn identity_entry_applies(&self, user: &User) -> Result<bool> {
        Ok(user.state == UserState::PendingSetup
            && user.ecid.is_some()
            && (user.closure_notice_at.is_some() || !self.window_open().await?))
    }

    async fn reset_user(&self, token: &str) -> Result<(User, u64, String)> {
        let hash = token_hash(token);
        let now = self.now();
        let t = get_as::<ResetToken>(self.store.as_ref(), &keys::reset_token(&hash), now)
            .await?
            .ok_or(Error::InvalidToken)?
            .0;
        let (user, v) = self.user(&t.user_id).await?.ok_or(Error::InvalidToken)?;
        let current = user
            .reset_token_hash
            .as_deref()
            .is_some_and(|h| ct_eq(h.as_bytes(), hash.as_bytes()));
        if !current || user.state == UserState::Disabled {
            return Err(Error::InvalidToken);
        }
        Ok((user, v, hash))
    }

    /// Whether a password link can be used (for the page that shows the form).
    pub async fn check_reset_token(&self, token: &str) -> Result<()> {
        self.reset_user(token).await.map(|_| ())
    }

    /// Set the password with a password link: once, under any concurrency.
    pub async fn reset_password(&self, token: &str, pw: &Password, ctx: &Ctx) -> Result<()> {
        let (mut user, v, hash) = self.reset_user(token).await?;
        let unmet = password::unmet(self.config.password_preset, pw);
        if !unmet.is_empty() {
            return Err(Error::WeakPassword { unmet });
        }
        let phc = password::hash(pw, self.rng.as_ref());
        let now = self.now();
        let void_setup = user.setup_token_hash.take();
        user.state = UserState::Active;
        user.password_hash = Some(phc);
        user.password_set_at = Some(now);
        user.reset_token_hash = None;
        // MFA-7: a reset forgets every remembered device.
        user.device_epoch = user.device_epoch.wrapping_add(1);
        user.updated_at = now;
        let mut writes = vec![
            Write::put(keys::user(&user.id), &user, None, Cond::Version(v)),
            Write::Delete {
                key: keys::reset_token(&hash),
                cond: Cond::Exists,
            },
            self.audit(
                ctx,
                "password.set",
                Some((&user.id, &user.tenant_id)),
                Some("link".into()),
            ),
        ];
        if let Some(h) = void_setup {
            writes.push(Write::Delete {
                key: keys::setup_token(&h),
                cond: Cond::Any,
            });
        }
        match self.store.write(writes, now).await {
            Ok(()) => Ok(()),
            Err(StoreError::Conflict) => Err(Error::InvalidToken),
            Err(e) => Err(e.into()),
        }
    }
}
