//! Sign-in with login ID and password (LOG-1, LOG-2, LOG-3, LOG-4).

use crate::app::{App, Ctx};
use crate::error::{Error, Result};
use crate::ids::{LoginId, Password};
use crate::lock_notice::Locked;
use crate::model::{keys, LoginRef, User, UserState};
use crate::password;
use crate::session::Stage;
use crate::softlock::{self, Attempt};
use crate::store::get_as;

/// A sign-in as typed, with the cookies it came with.
pub struct SignIn<'a> {
    pub login_id: &'a str,
    pub password: &'a str,
    /// The remembered-device cookie (MFA-7).
    pub device: Option<&'a str>,
    /// The session cookie the browser still holds, if any.
    pub previous: Option<&'a str>,
}

#[derive(Debug)]
pub struct SignedIn {
    /// The new session's cookie value.
    pub session: String,
    pub stage: Stage,
    pub methods: Vec<String>,
    /// SET-4: the method an admin chose, when enrolment is next.
    pub preset_method: Option<String>,
}

impl App {
    /// A name for a typed subject nobody holds (a lock counter's key): the
    /// HMAC of the text under the server's key (`TOBIRA_CSRF_KEY`, for this
    /// purpose apart), in hex.
    pub(crate) fn typed_subject(&self, typed: &str) -> String {
        let msg = format!("tobira typed subject\0{typed}");
        let mac = crate::random::hmac_sha256(self.config.csrf_key.expose(), msg.as_bytes());
        mac.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The user a login ID names, case-insensitively (LOG-1).
    pub async fn user_by_login(&self, login: &LoginId) -> Result<Option<(User, u64)>> {
        let now = self.now();
        match get_as::<LoginRef>(self.store.as_ref(), &keys::login(login), now).await? {
            Some((r, _)) => self.user(&r.user_id).await,
            None => Ok(None),
        }
    }

    /// [`App::user_by_login`] for the flows that must not tell who exists
    /// (LOG-3, SET-1, RST-1): always two reads, the login ID and then a
    /// user — for a login ID nobody holds, a user key nobody holds.
    pub async fn find_login(&self, login: &LoginId) -> Result<Option<(User, u64)>> {
        let now = self.now();
        match get_as::<LoginRef>(self.store.as_ref(), &keys::login(login), now).await? {
            Some((r, _)) => self.user(&r.user_id).await,
            None => {
                self.user(&format!("~{}", login.key())).await?;
                Ok(None)
            }
        }
    }

    /// LOG-1..4. Every failure — unknown ID, wrong password, locked, disabled,
    /// pending setup — is the same `InvalidCredentials` after the same one
    /// argon2 verification and the same store requests (LOG-3): read the
    /// login ID, read a user, reserve an attempt on a lock counter (one read,
    /// one single-item write), write one record. The attempt is counted
    /// before the password is checked, so parallel guesses cannot exceed the
    /// limit (LOG-2); a login ID nobody holds has a counter of its own.
    pub async fn login(&self, login_id: &str, pw: &Password, ctx: &Ctx) -> Result<SignedIn> {
        self.login_with_device(login_id, pw, None, ctx).await
    }

    // SES-1: a session is new at sign-in (the rule's home is the cookie, web/src/web.rs).
    /// LOG-1..4 as the edge receives a sign-in: the password as typed (one
    /// that no password could be is a wrong one), the remembered-device
    /// cookie, and the session the browser still holds, which a sign-in
    /// never continues (SES-1): it ends once the new one exists.
    pub async fn sign_in(&self, s: SignIn<'_>, ctx: &Ctx) -> Result<SignedIn> {
        let pw = Password::parse(s.password).map_err(|_| Error::InvalidCredentials)?;
        let signed = self
            .login_with_device(s.login_id, &pw, s.device, ctx)
            .await?;
        if let Some(old) = s.previous {
            // Best effort: the new session stands even if the old one's
            // record cannot be removed now (it dies by its timeouts).
            let _ = self.logout(old, ctx).await;
        }
        Ok(signed)
    }

    // home of LOG-1, LOG-3, LOG-4, MFA-1
    /// [`App::login`] from a browser that may be a remembered device
    /// (MFA-7): then the second factor is skipped, never the password or
    /// the lock. A password alone is not yet a successful sign-in for a
    /// user with a factor (LOG-2 counts code failures too), so it gives
    /// back its reserved attempt instead of clearing the count — and a
    /// right password never leaves a lock behind.
    pub async fn login_with_device(
        &self,
        login_id: &str,
        pw: &Password,
        device: Option<&str>,
        ctx: &Ctx,
    ) -> Result<SignedIn> {
        let Ok(login) = LoginId::parse(login_id) else {
            // Not a login ID at all: nothing to look up (the format is public).
            password::burn_off_thread(pw).await;
            self.record_sign_in(
                ctx,
                "login.failure",
                None,
                Some("malformed login id".into()),
            )
            .await?;
            return Err(Error::InvalidCredentials);
        };
        // Issue 17: three sequential store requests before the hash in every
        // class — the login ID; then the user and the lock counter at once
        // (the reference names both); then the counter's conditional write.
        let now = self.now();
        let held = get_as::<LoginRef>(self.store.as_ref(), &keys::login(&login), now).await?;
        // A login ID nobody holds has a counter of its own, which lives as
        // any other (LOG-3); keyed by a MAC of what was typed, never the
        // text itself: a password typed into the login-ID field is not kept.
        let (user_key, lock_key) = match &held {
            Some((r, _)) => (r.user_id.clone(), keys::lock("login", &r.user_id)),
            None => (
                format!("~{}", login.key()),
                keys::lock("login", &format!("~{}", self.typed_subject(&login.key()))),
            ),
        };
        let (user, counter) = tokio::join!(self.user(&user_key), self.read_counter(&lock_key));
        let user = user?.filter(|_| held.is_some()).map(|(u, _)| u);
        let counter = counter?;
        // The hash runs while the attempt is counted (LOG-2): its answer
        // counts only if the counter's write then allowed the attempt, so
        // parallel guesses still cannot pass the limit. Whether to verify
        // or to burn is decided from the counter as read; a lost race that
        // ends locked discards a verification (one argon2 either way, LOG-3).
        let allowed_as_read = matches!(
            softlock::begin(counter.map(|(s, _)| s), now, self.config.login_lock),
            Attempt::Allowed { .. }
        );
        let hash = user
            .as_ref()
            .filter(|u| allowed_as_read && u.state == UserState::Active)
            .and_then(|u| u.password_hash.as_deref());
        let check = async {
            match hash {
                Some(h) => password::verify_off_thread(h, pw).await,
                None => {
                    password::burn_off_thread(pw).await;
                    false
                }
            }
        };
        let (reserved, verified) = tokio::join!(
            self.reserve_read(&lock_key, self.config.login_lock, Some(counter)),
            check
        );
        let reserved = reserved?;
        let (allowed, locks) = match reserved.attempt {
            Attempt::Allowed { locks, .. } => (true, locks),
            Attempt::Locked { .. } => (false, false),
        };
        let ok = verified && allowed && hash.is_some();
        let now = self.now();
        if !ok {
            let who = user.as_ref().map(|u| (u.id.as_str(), &u.tenant_id));
            let (kind, detail) = match (&user, allowed) {
                (_, false) => ("login.refused_locked", None),
                (None, _) => ("login.failure", Some("unknown login id".to_string())),
                (Some(u), _) if u.state != UserState::Active => {
                    ("login.failure", Some(format!("state {:?}", u.state)))
                }
                _ => ("login.failure", Some("wrong password".to_string())),
            };
            // One transaction of three items, whether or not the login ID
            // is held and whether or not the lock starts (ADM-6: the sign-in
            // event's record and copy).
            let mut writes = self
                .sign_in_event(ctx, kind, user.as_ref(), detail)
                .to_vec();
            writes.push(if locks {
                self.audit(ctx, "login.locked", who, None)
            } else {
                reserved.touch()
            });
            self.store.write(writes, now).await?;
            if let (true, Some(until)) = (locks, reserved.locked_until()) {
                let floor = self.config.lock_notice_floor;
                self.notify_lock(user.as_ref(), Locked::SignIn, until, floor, ctx)
                    .await;
            }
            return Err(Error::InvalidCredentials);
        }
        // `ok` needs a user's hash.
        let Some(user) = user else {
            return Err(Error::InvalidCredentials);
        };
        let remembered = !user.methods.is_empty() && self.is_remembered(&user, device).await?;
        let stage = if user.methods.is_empty() {
            Stage::Enroll
        } else if remembered {
            self.stage_after_factor(&user)
        } else {
            Stage::Mfa
        };
        let (session, session_write) = self.new_session(&user, stage);
        let detail = format!(
            "next {}{}",
            stage.as_str(),
            if remembered {
                " (remembered device)"
            } else {
                ""
            }
        );
        let mut writes = vec![session_write];
        writes.extend(self.sign_in_event(ctx, "login.password_ok", Some(&user), Some(detail)));
        if stage == Stage::Mfa {
            // The attempt goes back whether or not the session was stored:
            // a right password never stays counted, nor leaves a lock. Both
            // at once (issue 17: the round trips after the hash).
            let (stored, released) =
                tokio::join!(self.store.write(writes, now), self.release(&reserved));
            released?;
            stored?;
        } else {
            writes.push(reserved.clear());
            self.store.write(writes, now).await?;
        }
        Ok(SignedIn {
            session,
            stage,
            methods: user.methods.clone(),
            // SET-4: only a preset this user may enrol first (MFA-2).
            preset_method: user.preset_method.clone().filter(|m| {
                crate::mfa::Method::parse(m).is_some_and(|m| self.enrollable(&user).contains(&m))
            }),
        })
    }
}
