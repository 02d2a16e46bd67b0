//! First-login setup: the setup link (SET-1), the identity check (SET-2) and
//! the first password (SET-3).

use crate::account::{Change, Made};
use crate::app::{App, Ctx};
use crate::error::{Error, Result};
use crate::ids::{LoginId, Password};
use crate::messages::setup_mail;
use crate::model::{keys, Grant, SetupToken, User, UserState};
use crate::outbox::LINK_SLOT;
use crate::password;
use crate::phone;
use crate::random::{ct_eq, secret_token, token_hash};
use crate::softlock::Attempt;
use crate::store::{get_as, Cond, StoreError, Write};

/// What the identity check grants: the right to set the first password, for
/// a short time, carried in a cookie.
#[derive(Debug)]
pub struct GrantToken(pub String);

impl App {
    pub async fn user(&self, id: &str) -> Result<Option<(User, u64)>> {
        Ok(get_as::<User>(self.store.as_ref(), &keys::user(id), self.now()).await?)
    }

    /// SET-1: issue a fresh single-use setup link to a pending user; its
    /// mail goes out through the outbox, in the same write, so the user is
    /// "sent" once it is written (the outbox retries a mail fault). Earlier
    /// links stay valid until they expire or one is used.
    pub async fn send_setup_link(&self, user_id: &str, ctx: &Ctx) -> Result<()> {
        for round in 0..6 {
            let now = self.now();
            let (mut user, v) = self.user(user_id).await?.ok_or(Error::NotFound)?;
            if user.state != UserState::PendingSetup {
                return Err(Error::conflict("not_pending"));
            }
            if user.closure_notice_at.is_some() {
                // MIG-12: after the window, the identity entry of RST-4.
                return Err(Error::conflict("window_closed"));
            }
            user.setup_sent_at = Some(now);
            let mut writes = self.setup_link_writes(&mut user, v, ctx);
            writes.push(self.audit(
                ctx,
                "setup.link_sent",
                Some((&user.id, &user.tenant_id)),
                None,
            ));
            match self.store.write(writes, now).await {
                Ok(()) => return Ok(()),
                Err(e) => self.lost_race(round, e).await?,
            }
        }
        Err(Error::Unavailable { what: "store" })
    }

    // home of SET-1
    /// A new setup link for `user` (at version `v`), changed in place: its
    /// token, expiry, and the one atomic write that stores it — the user,
    /// the token, the links that fall out of the cap, the audit record.
    pub(crate) fn setup_link_writes(&self, user: &mut User, v: u64, ctx: &Ctx) -> Vec<Write> {
        let now = self.now();
        let expires = now.plus(self.config.setup_link_ttl);
        let link = format!("{}/setup?token={}", self.config.base_url, LINK_SLOT);
        let mail = setup_mail(&self.config.brand, user, &link, expires);
        let who = Some((user.id.as_str(), &user.tenant_id));
        let (token, notice) = self.link_notice("setup.link", mail, who, expires);
        let hash = token_hash(&token);
        let dropped = user.push_setup_token(hash.clone(), expires, now);
        user.updated_at = now;
        let mut writes = vec![
            Write::put(keys::user(&user.id), &*user, None, Cond::Version(v)),
            Write::put(
                keys::setup_token(&hash),
                &SetupToken {
                    user_id: user.id.clone(),
                },
                Some(expires),
                Cond::Absent,
            ),
            self.audit(
                ctx,
                "setup.link_issued",
                Some((&user.id, &user.tenant_id)),
                None,
            ),
        ];
        writes.extend(dropped.iter().map(|h| Write::Delete {
            key: keys::setup_token(h),
            cond: Cond::Any,
        }));
        writes.push(notice);
        writes
    }

    /// The pending user a setup token belongs to, if the token is the
    /// user's current one and has not expired.
    async fn setup_user(&self, token: &str) -> Result<(User, u64, String)> {
        let hash = token_hash(token);
        let now = self.now();
        let st = get_as::<SetupToken>(self.store.as_ref(), &keys::setup_token(&hash), now)
            .await?
            .ok_or(Error::InvalidToken)?
            .0;
        let (user, v) = self.user(&st.user_id).await?.ok_or(Error::InvalidToken)?;
        if user.state != UserState::PendingSetup || !user.has_setup_token(&hash) {
            return Err(Error::InvalidToken);
        }
        Ok((user, v, hash))
    }

    /// Whether a setup link can be used (for the page that shows the form).
    pub async fn check_setup_token(&self, token: &str) -> Result<()> {
        self.setup_user(token).await.map(|_| ())
    }

    // home of SET-2
    /// SET-2: e-mail (any case), name (exactly) and phone (by digits) must all
    /// match; the answer never says which did not. 5 failures block for 20 min.
    pub async fn verify_identity(
        &self,
        token: &str,
        email: &str,
        name: &str,
        phone_in: &str,
        ctx: &Ctx,
    ) -> Result<GrantToken> {
        let (user, _, setup_hash) = self.setup_user(token).await?;
        let who = Some((user.id.as_str(), &user.tenant_id));
        let lock_key = keys::lock("identity", &user.id);
        let locks = match self
            .take_attempt(&lock_key, self.config.identity_lock)
            .await?
        {
            Attempt::Locked { until } => {
                self.record(ctx, "setup.identity_blocked", who, None)
                    .await?;
                return Err(Error::Throttled {
                    retry_after_s: Some(self.now().until(until).as_secs().max(1)),
                });
            }
            Attempt::Allowed { locks, .. } => locks,
        };
        // Evaluate all three, always (no early exit that would time the fields).
        let email_ok = user.email.matches(email);
        let name_ok = ct_eq(user.name.as_str().as_bytes(), name.as_bytes());
        let phone_ok = phone::matches_record(phone_in, &user.phone, user.legacy_phone.as_deref());
        let now = self.now();
        if !(email_ok & name_ok & phone_ok) {
            let mut writes = vec![self.audit(ctx, "setup.identity_failed", who, None)];
            if locks {
                writes.push(self.audit(ctx, "setup.identity_locked", who, None));
            }
            self.store.write(writes, now).await?;
            return Err(Error::IdentityMismatch);
        }
        let grant = secret_token(self.rng.as_ref());
        let writes = vec![
            Write::Delete {
                key: lock_key,
                cond: Cond::Any,
            },
            Write::put(
                keys::grant(&token_hash(&grant)),
                &Grant {
                    user_id: user.id.clone(),
                    setup_hash,
                },
                Some(now.plus(self.config.grant_ttl)),
                Cond::Absent,
            ),
            self.audit(ctx, "setup.identity_verified", who, None),
        ];
        self.store.write(writes, now).await?;
        Ok(GrantToken(grant))
    }

    /// Whether a grant is still valid (for the password page).
    /// Whether the identity check's grant is live: the login ID whose first
    /// password it sets (the form names it for password managers).
    pub async fn check_grant(&self, grant: &str) -> Result<LoginId> {
        let (g, _) = get_as::<Grant>(
            self.store.as_ref(),
            &keys::grant(&token_hash(grant)),
            self.now(),
        )
        .await?
        .ok_or(Error::NotSignedIn)?;
        let (user, _) = self.user(&g.user_id).await?.ok_or(Error::NotSignedIn)?;
        // As SET-3 will judge it: a grant of an account set up, disabled or
        // whose link ended meanwhile shows nothing of it.
        if user.state != UserState::PendingSetup || !user.has_setup_token(&g.setup_hash) {
            return Err(Error::NotSignedIn);
        }
        Ok(user.login_id)
    }

    /// SET-3 as the edge receives it: the password as typed (one that no
    /// password could be is too short) and the grant cookie, if any.
    pub async fn set_first_password(
        &self,
        grant: Option<&str>,
        password: &str,
        ctx: &Ctx,
    ) -> Result<LoginId> {
        let pw = Password::parse_new(password)?;
        let grant = grant.ok_or(Error::NotSignedIn)?;
        self.set_initial_password(grant, &pw, ctx).await
    }

    // home of SET-3
    /// SET-3: the first password. The setup link is used up only now, and
    /// only once: the user's version, the token and the grant are all
    /// conditions of one atomic write.
    /// Answers the login ID to sign in with (the sign-in page offers it).
    pub async fn set_initial_password(
        &self,
        grant: &str,
        pw: &Password,
        ctx: &Ctx,
    ) -> Result<LoginId> {
        let grant_key = keys::grant(&token_hash(grant));
        let now = self.now();
        let (g, _) = get_as::<Grant>(self.store.as_ref(), &grant_key, now)
            .await?
            .ok_or(Error::NotSignedIn)?;
        let (mut user, v) = self.user(&g.user_id).await?.ok_or(Error::InvalidToken)?;
        if user.state != UserState::PendingSetup || !user.has_setup_token(&g.setup_hash) {
            return Err(Error::InvalidToken);
        }
        let unmet = password::unmet(self.config.password_preset, pw, &user.personal());
        if !unmet.is_empty() {
            return Err(Error::WeakPassword { unmet });
        }
        user.password_hash = Some(password::hash_off_thread(pw, self.rng.as_ref()).await);
        let now = self.now();
        // SET-1 / SET-3: the link used, and every other link of the user, end here.
        let made = Made::by(ctx).with_link(keys::setup_token(&g.setup_hash));
        let mut writes = self
            .apply_change(&mut user, v, Change::PasswordSet, made)
            .writes;
        writes.push(Write::Delete {
            key: grant_key,
            cond: Cond::Exists,
        });
        match self.store.write(writes, now).await {
            Ok(()) => Ok(user.login_id.clone()),
            Err(StoreError::Conflict) => Err(Error::InvalidToken),
            Err(e) => Err(e.into()),
        }
    }

    /// SET-1: a new link for a lost or expired one; earlier links stay
    /// valid. The caller answers the same whether or not anything matched
    /// (a mail fault included), and every entry costs the store the same
    /// requests (LOG-3 for this flow): read the login ID, read a user, one
    /// atomic write of several items — the new link, or a record of the
    /// refusal. A link is sent at most once a minute.
    pub async fn resend_setup_link(&self, login_id: &str, email: &str, ctx: &Ctx) -> Result<()> {
        let Ok(login) = crate::ids::LoginId::parse(login_id) else {
            // Not a login ID at all (the format is public): nothing to look up.
            return Ok(());
        };
        let found = self.find_login(&login).await?;
        let now = self.now();
        let matched = found.as_ref().is_some_and(|(u, _)| {
            let recent = u
                .setup_sent_at
                .is_some_and(|t| now.millis() - t.millis() < 60_000);
            u.state == UserState::PendingSetup
                && u.closure_notice_at.is_none()
                && u.email.matches(email)
                && !recent
                && u.live_setup_links(now) < crate::model::SETUP_LINKS_MAX
        });
        let (user, v) = match found {
            Some(found) if matched => found,
            other => {
                let who = other.as_ref().map(|(u, _)| (u.id.as_str(), &u.tenant_id));
                let writes = vec![
                    self.audit(ctx, "setup.resend_ignored", who, None),
                    // The same kind of request as a match: a transaction.
                    Write::Check {
                        key: keys::login(&login),
                        cond: Cond::Any,
                    },
                ];
                self.store.write(writes, now).await?;
                return Ok(());
            }
        };
        let mut user = user;
        user.setup_sent_at = Some(now);
        let writes = self.setup_link_writes(&mut user, v, ctx);
        match self.store.write(writes, now).await {
            // Set up or changed meanwhile: nothing to send, same answer.
            Ok(()) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// MIG-11 / ADM-4: a pending user's e-mail, name and phone as corrected,
/// each checked (`None` leaves it as registered).
#[derive(Clone, Debug, Default)]
pub struct IdentityFix {
    pub email: Option<crate::ids::Email>,
    pub name: Option<crate::ids::PersonName>,
    pub phone: Option<String>,
}

impl IdentityFix {
    pub fn parse(email: Option<&str>, name: Option<&str>, phone: Option<&str>) -> Result<Self> {
        let phone = match phone {
            None => None,
            Some(p) => {
                let digits = crate::phone::digits_of(p);
                if !crate::phone::is_plain_digits(&digits) {
                    return Err(Error::invalid("invalid_phone"));
                }
                Some(digits)
            }
        };
        Ok(Self {
            email: email.map(crate::ids::Email::parse).transpose()?,
            name: name.map(crate::ids::PersonName::parse).transpose()?,
            phone,
        })
    }
}

impl App {
    /// MIG-11 / ADM-4: confirm or correct a pending user's identity in one
    /// write (the links mailed before, perhaps to an old address, end when
    /// anything changed), then mail a new link to the registered address:
    /// the setup link of a migrated user (SET-1), the registration link of
    /// one an admin created (RST-4).
    pub async fn fix_pending_identity(
        &self,
        user_id: &str,
        fix: &IdentityFix,
        by: Option<&User>,
        ctx: &Ctx,
    ) -> Result<()> {
        // ADM-8: an admin's correction names the admin.
        let by_admin = by
            .map(|a| format!("; by admin {}", a.id))
            .unwrap_or_default();
        use crate::account::{effects, Change, Made};
        for round in 0..5 {
            let (mut user, v) = self.user(user_id).await?.ok_or(Error::NotFound)?;
            if user.state != UserState::PendingSetup {
                return Err(Error::conflict("not_pending"));
            }
            let changed: Vec<&str> = [
                (
                    "email",
                    fix.email.as_ref().is_some_and(|e| *e != user.email),
                ),
                ("name", fix.name.as_ref().is_some_and(|n| *n != user.name)),
                (
                    "phone",
                    fix.phone.as_ref().is_some_and(|p| *p != user.phone),
                ),
            ]
            .into_iter()
            .filter_map(|(field, differs)| differs.then_some(field))
            .collect();
            if let Some(e) = &fix.email {
                user.email = e.clone();
            }
            if let Some(n) = &fix.name {
                user.name = n.clone();
            }
            if let Some(p) = fix.phone.as_ref().filter(|p| **p != user.phone) {
                // A phone someone confirmed with the user replaces the one
                // MIG-5 gave up on: SET-2 stops accepting the legacy digits.
                user.phone = p.clone();
                user.legacy_phone = None;
            }
            let now = self.now();
            if let Some(a) = by {
                user.last_change = Some(crate::model::LastChange {
                    at: now,
                    what: effects(&Change::IdentityCorrected).audit.to_string(),
                    by: a.login_id.as_str().to_string(),
                });
            }
            let writes = if changed.is_empty() {
                // Confirmed as it was: nothing changes but the record.
                user.updated_at = now;
                let who = Some((user.id.as_str(), &user.tenant_id));
                vec![
                    Write::put(keys::user(&user.id), &user, None, Cond::Version(v)),
                    self.audit(
                        ctx,
                        effects(&Change::IdentityCorrected).audit,
                        who,
                        Some(format!("confirmed{by_admin}")),
                    ),
                ]
            } else {
                let made =
                    Made::by(ctx).detail(format!("corrected: {}{by_admin}", changed.join(",")));
                self.apply_change(&mut user, v, Change::IdentityCorrected, made)
                    .writes
            };
            match self.store.write(writes, now).await {
                Ok(()) => return self.send_first_link(&user, ctx).await,
                Err(e) => self.lost_race(round, e).await?,
            }
        }
        Err(Error::Unavailable { what: "store" })
    }

    /// A pending user's way to a first password, mailed anew: the setup
    /// link of a migrated user (SET-1), the registration link of one an
    /// admin created (RST-4).
    pub async fn send_first_link(&self, user: &User, ctx: &Ctx) -> Result<()> {
        if user.ecid.is_some() {
            self.send_setup_link(&user.id, ctx).await
        } else {
            self.send_password_link(&user.id, crate::reset::PURPOSE_REGISTRATION, ctx)
                .await
        }
    }
}
