//! Password links and password changes: "forgot password" (RST-1..3), the
//! identity entry of migrated users after the window and the first password
//! of accounts an admin created (RST-4), the link CLM-2 mails, the reset
//! itself with its effects (RST-5), and the change when signed in (PW-5).
//!
//! A password link is a single-use token of 256 bits, stored only as its
//! hash (`RESET#<hash>`, with the store's expiry checked on every read) and
//! named on the user as the one valid link, so a newer link voids an older
//! one. Using it is one atomic write conditioned on the user's version and
//! the token's existence.

use std::time::Duration;

use crate::account::{Change, Made};
use crate::app::{App, Ctx};
use crate::clock::Timestamp;
use crate::delivery::Mail;
use crate::error::{Error, Result};
use crate::ids::{LoginId, Password};
use crate::lock_notice::Locked;
use crate::messages::{password_link_mail, LinkKind};
use crate::model::{keys, User, UserState};
use crate::password;
use crate::phone;
use crate::random::{ct_eq, token_hash};
use crate::session::Signed;
use crate::session::Stage;
use crate::softlock::Attempt;
use crate::store::{get_as, Cond, StoreError, Write};

/// `RESET#<hash>`: whose password link this is.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ResetToken {
    pub user_id: String,
    /// One of the `PURPOSE_*` values.
    pub purpose: String,
}

/// RST-1: a forgotten password of an active user.
pub const PURPOSE_RESET: &str = "reset";
/// RST-4: the first password of an account an admin created (ADM-1).
pub const PURPOSE_REGISTRATION: &str = "registration";
/// RST-4: the first password of a migrated user after the window.
pub const PURPOSE_IDENTITY_ENTRY: &str = "identity-entry";
/// CLM-2: the first password of a claimed legacy account.
pub const PURPOSE_CLAIM: &str = "claim";

/// The "forgot password" entry: login ID and e-mail (RST-1), plus name and
/// phone for migrated users after the window (RST-4).
#[derive(Clone, Debug, Default)]
pub struct Forgot<'a> {
    pub login_id: &'a str,
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub phone: Option<&'a str>,
}

/// RST-4 applies to migrated users still pending setup once the window
/// is over for them (closed, or the user was sent the closing notice).
fn identity_entry_applies(user: &User, window_open: bool) -> bool {
    user.state == UserState::PendingSetup
        && user.ecid.is_some()
        && (user.closure_notice_at.is_some() || !window_open)
}

/// What a used password link did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkUsed {
    /// RST-1: a forgotten password was reset.
    Reset,
    /// RST-4 / CLM-2: a first password was set.
    FirstPassword,
}

/// What a matching "forgot password" entry leads to.
#[derive(Clone, Copy)]
enum Route {
    /// Mail a password link for this purpose.
    Link(&'static str),
    /// SET-1: a migrated user still in the window gets the setup link again.
    SetupLink,
    /// RST-3: a reset was completed less than a day ago.
    Cooldown,
    /// A link was mailed less than a minute ago.
    TooSoon,
}

impl App {
    /// Issue a fresh password link for `user_id`; its mail goes out
    /// through the outbox, in the same write. Earlier links stop working.
    pub async fn send_password_link(&self, user_id: &str, purpose: &str, ctx: &Ctx) -> Result<()> {
        for round in 0..5 {
            let now = self.now();
            let (mut user, v) = self.user(user_id).await?.ok_or(Error::NotFound)?;
            let writes = self.password_link_writes(&mut user, v, purpose, ctx);
            match self.store.write(writes, now).await {
                Ok(()) => return Ok(()),
                Err(e) => self.lost_race(round, e).await?,
            }
        }
        Err(Error::Unavailable { what: "store" })
    }

    /// A new password link for `user` (at version `v`), changed in place,
    /// and the writes that store it: the user, the token's hash, the
    /// link's mail in the outbox, the audit record, the void of the link
    /// before.
    fn password_link_writes(
        &self,
        user: &mut User,
        v: u64,
        purpose: &str,
        ctx: &Ctx,
    ) -> Vec<Write> {
        let now = self.now();
        let ttl = if purpose == PURPOSE_RESET {
            self.config.reset_link_ttl
        } else {
            self.config.setup_link_ttl
        };
        let expires = now.plus(ttl);
        let who = Some((user.id.as_str(), &user.tenant_id));
        let mail = self.password_link_mail(user, purpose, expires);
        let (token, notice) = self.link_notice("password.link", mail, who, expires);
        let hash = token_hash(&token);
        let old = user.reset_token_hash.replace(hash.clone());
        user.reset_sent_at = Some(now);
        user.updated_at = now;
        let mut writes = vec![
            Write::put(keys::user(&user.id), &*user, None, Cond::Version(v)),
            Write::put(
                keys::reset_token(&hash),
                &ResetToken {
                    user_id: user.id.clone(),
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
        writes.extend(old.map(|h| Write::Delete {
            key: keys::reset_token(&h),
            cond: Cond::Any,
        }));
        writes.push(notice);
        writes
    }

    /// The mail of a password link, its token left to the outbox's sender.
    fn password_link_mail(&self, user: &User, purpose: &str, expires: Timestamp) -> Mail {
        let link = format!(
            "{}/password/reset?token={}",
            self.config.base_url,
            crate::outbox::LINK_SLOT
        );
        let kind = match purpose {
            PURPOSE_RESET => LinkKind::Reset,
            PURPOSE_REGISTRATION => LinkKind::Registration,
            _ => LinkKind::FirstPassword,
        };
        password_link_mail(
            &self.config.brand,
            user.lang,
            user.email.as_str(),
            user.name.as_str(),
            user.login_id.as_str(),
            kind,
            &link,
            expires,
        )
    }

    // home of RST-1, RST-2
    /// "Forgot password" (RST-1, RST-4; SET-1 for migrated users in the
    /// window). The caller answers the same whatever happened: the same
    /// status and body, and (in the handler) no sooner than the configured
    /// floor. Every entry
    /// costs the store the same requests (LOG-3 for this flow): the window,
    /// the login ID, a user, an attempt reserved per login ID (one read,
    /// one single-item write; RST-2: 5 wrong entries block it for 20
    /// minutes, whether or not the login ID exists), then one atomic write
    /// of several items — the link with the count cleared, or a record. A
    /// mail fault is recorded and answered like everything else (the page
    /// tells the user to try again if no mail arrives). `benches/forgot.rs`
    /// measures all this.
    pub async fn forgot_password(&self, f: &Forgot<'_>, ctx: &Ctx) -> Result<()> {
        let Ok(login) = LoginId::parse(f.login_id) else {
            return self.record(ctx, "password.forgot_failed", None, None).await;
        };
        let window_open = self.window_open().await?;
        let found = self.find_login(&login).await?;
        let lock_key = keys::lock("reset", &login.key());
        let reserved = self.reserve(&lock_key, self.config.reset_lock).await?;
        let route = match (&found, reserved.attempt) {
            (Some((u, _)), Attempt::Allowed { .. }) => self.forgot_route(u, f, window_open),
            _ => None,
        };
        let now = self.now();
        let sends = matches!(route, Some(Route::Link(_) | Route::SetupLink));
        let (true, Some(route), Some((mut user, v))) = (sends, route, found.clone()) else {
            let kind = match (route, reserved.attempt) {
                (_, Attempt::Locked { .. }) => "password.forgot_blocked",
                (Some(Route::Cooldown), _) => "password.forgot_cooldown",
                (Some(Route::TooSoon), _) => "password.forgot_too_soon",
                // RST-2: the attempt stays counted.
                _ => "password.forgot_failed",
            };
            let who = found.as_ref().map(|(u, _)| (u.id.as_str(), &u.tenant_id));
            // One transaction of two items, whatever happened.
            let writes = vec![
                self.audit(ctx, kind, who, None),
                match route {
                    // A match: the count starts again.
                    Some(_) => reserved.clear(),
                    // RST-2: the block starts now.
                    None if reserved.locks() => {
                        self.audit(ctx, "password.forgot_locked", who, None)
                    }
                    None => reserved.touch(),
                },
            ];
            self.store.write(writes, now).await?;
            if let (None, Some(until)) = (route, reserved.locked_until()) {
                // LOG-5 for RST-2: the handler's floor hides the mail.
                let (user, zero) = (found.as_ref().map(|(u, _)| u), Duration::ZERO);
                self.notify_lock(user, Locked::Reset, until, zero, ctx)
                    .await;
            }
            return Ok(());
        };
        // The link and its mail (an outbox item) in one write: nothing
        // here waits for the mail service.
        let mut writes = match route {
            Route::Link(purpose) => self.password_link_writes(&mut user, v, purpose, ctx),
            _ => {
                user.setup_sent_at = Some(now);
                self.setup_link_writes(&mut user, v, ctx)
            }
        };
        writes.push(reserved.clear());
        match self.store.write(writes, now).await {
            Ok(()) => Ok(()),
            // The user changed meanwhile (set up, raced): nothing to send.
            Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    // home of RST-3, RST-4
    /// Where a "forgot password" entry for `u` leads, if it matches. A
    /// matching entry mails at most one link a minute: whoever knows a
    /// login ID and its e-mail cannot flood the mailbox or keep voiding
    /// the user's newest link.
    fn forgot_route(&self, u: &User, f: &Forgot<'_>, window_open: bool) -> Option<Route> {
        let email_ok = u.email.matches(f.email);
        let now = self.now();
        let within_a_minute = |t: Option<crate::clock::Timestamp>| {
            t.is_some_and(|t| now.millis() - t.millis() < 60_000)
        };
        let route = match u.state {
            UserState::Disabled => None,
            UserState::Active if !email_ok => None,
            UserState::Active => {
                let cooling = u
                    .reset_done_at
                    .is_some_and(|t| self.now() < t.plus(self.config.reset_cooldown));
                Some(if cooling {
                    Route::Cooldown
                } else {
                    Route::Link(PURPOSE_RESET)
                })
            }
            UserState::PendingSetup if u.privacy.is_some() => {
                email_ok.then_some(Route::Link(PURPOSE_CLAIM))
            }
            UserState::PendingSetup if identity_entry_applies(u, window_open) => {
                let name_ok = f
                    .name
                    .is_some_and(|n| ct_eq(u.name.as_str().as_bytes(), n.as_bytes()));
                let phone_ok = f
                    .phone
                    .is_some_and(|p| phone::matches_record(p, &u.phone, u.legacy_phone.as_deref()));
                (email_ok & name_ok & phone_ok).then_some(Route::Link(PURPOSE_IDENTITY_ENTRY))
            }
            UserState::PendingSetup if u.ecid.is_some() => email_ok.then_some(Route::SetupLink),
            UserState::PendingSetup => email_ok.then_some(Route::Link(PURPOSE_REGISTRATION)),
        };
        match route {
            Some(Route::Link(_)) if within_a_minute(u.reset_sent_at) => Some(Route::TooSoon),
            Some(Route::SetupLink)
                if within_a_minute(u.setup_sent_at)
                    || u.live_setup_links(now) >= crate::model::SETUP_LINKS_MAX =>
            {
                Some(Route::TooSoon)
            }
            other => other,
        }
    }

    async fn reset_user(&self, token: &str) -> Result<(User, u64, String, String)> {
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
        Ok((user, v, hash, t.purpose))
    }

    /// Whether a password link can be used (for the page that shows the
    /// form): the login ID it sets the password of, for password managers.
    pub async fn check_reset_token(&self, token: &str) -> Result<LoginId> {
        self.reset_user(token).await.map(|(u, ..)| u.login_id)
    }

    /// RST-5 as the edge receives it: the link's token and the new
    /// password as typed.
    pub async fn reset_with_link(
        &self,
        token: &str,
        password: &str,
        ctx: &Ctx,
    ) -> Result<(LinkUsed, LoginId)> {
        let pw = Password::parse_new(password)?;
        self.reset_password(token, &pw, ctx).await
    }

    // home of RST-5
    /// Set the password with a password link: once, under any concurrency.
    /// RST-5: every session and remembered device of the user ends with it
    /// (their epochs move on), so the next sign-in asks for the password
    /// and the second factor; after a reset (not a first password) the user
    /// is mailed a notice and RST-3's day without resets begins. What the
    /// reset (`Change::PasswordReset`) or the first password
    /// (`Change::PasswordSet`) does is decided in `account::effects`.
    /// Answers what the link did and the login ID to sign in with.
    pub async fn reset_password(
        &self,
        token: &str,
        pw: &Password,
        ctx: &Ctx,
    ) -> Result<(LinkUsed, LoginId)> {
        let (mut user, v, hash, purpose) = self.reset_user(token).await?;
        let unmet = password::unmet(self.config.password_preset, pw, &user.personal());
        if !unmet.is_empty() {
            return Err(Error::WeakPassword { unmet });
        }
        user.password_hash = Some(password::hash_off_thread(pw, self.rng.as_ref()).await);
        let now = self.now();
        let change = if purpose == PURPOSE_RESET {
            Change::PasswordReset
        } else {
            Change::PasswordSet
        };
        let made = Made::by(ctx)
            .with_link(keys::reset_token(&hash))
            .detail(purpose);
        let writes = self.apply_change(&mut user, v, change, made).writes;
        match self.store.write(writes, now).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => return Err(Error::InvalidToken),
            Err(e) => return Err(e.into()),
        }
        let used = match change {
            Change::PasswordReset => LinkUsed::Reset,
            _ => LinkUsed::FirstPassword,
        };
        Ok((used, user.login_id.clone()))
    }

    // home of PW-5
    /// PW-5: change the password when signed in. The current password is
    /// checked as a sign-in is (LOG-2 counts a wrong one); the new one must
    /// meet the policy. As `account::effects` decides for
    /// `Change::PasswordChanged`: every other session ends and this one
    /// carries on, its proof of the password renewed (MFA-8); remembered
    /// devices are forgotten (MFA-7); a password link still unused is void;
    /// a notice is mailed.
    pub async fn change_password(
        &self,
        token: Option<&str>,
        current: &str,
        new: &str,
        ctx: &Ctx,
    ) -> Result<()> {
        let s = self.signed(token, &[Stage::Full]).await?;
        // A new password that cannot even be parsed (empty, over 1 KiB)
        // breaks the length rule.
        let new = &Password::parse(new).map_err(|_| Error::WeakPassword {
            unmet: vec!["length"],
        })?;
        let unmet = password::unmet(self.config.password_preset, new, &s.user.personal());
        if !unmet.is_empty() {
            return Err(Error::WeakPassword { unmet });
        }
        let lock = self
            .confirm_password(&s, current, "password.change_refused", ctx)
            .await?;
        let Signed {
            mut user,
            user_version,
            session,
            version,
            token_hash,
        } = s;
        let now = self.now();
        user.password_hash = Some(password::hash_off_thread(new, self.rng.as_ref()).await);
        let made = Made::by(ctx).in_session(&token_hash, &session, Cond::Version(version));
        let mut writes = self
            .apply_change(&mut user, user_version, Change::PasswordChanged, made)
            .writes;
        writes.push(lock.clear());
        if let Err(e) = self.store.write(writes, now).await {
            // The account or the session changed meanwhile, or the store
            // failed: the right password must not stay counted, nor leave
            // the lock its own attempt set.
            self.release(&lock).await?;
            return Err(e.into());
        }
        Ok(())
    }
}
