//! Sign-in with login ID and password (LOG-1, LOG-2, LOG-3, LOG-4).

use crate::app::{App, Ctx};
use crate::error::{Error, Result};
use crate::ids::{LoginId, Password};
use crate::model::{keys, LoginRef, User, UserState};
use crate::password;
use crate::session::Stage;
use crate::softlock::Attempt;
use crate::store::{get_as, Cond, Write};

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
    /// The user a login ID names, case-insensitively (LOG-1).
    pub async fn user_by_login(&self, login: &LoginId) -> Result<Option<(User, u64)>> {
        let now = self.now();
        match get_as::<LoginRef>(self.store.as_ref(), &keys::login(login), now).await? {
            Some((r, _)) => self.user(&r.user_id).await,
            None => Ok(None),
        }
    }

    /// LOG-1..4. Every failure — unknown ID, wrong password, locked, disabled,
    /// pending setup — is the same `InvalidCredentials` after the same one
    /// argon2 verification (LOG-3). The attempt is counted before the
    /// password is checked, so parallel guesses cannot exceed the limit (LOG-2).
    pub async fn login(&self, login_id: &str, pw: &Password, ctx: &Ctx) -> Result<SignedIn> {
        self.login_with_device(login_id, pw, None, ctx).await
    }

    /// [`App::login`] from a browser that may be a remembered device
    /// (MFA-7): then the second factor is skipped, never the password or
    /// the lock. A password alone is not yet a successful sign-in for a
    /// user with a factor (LOG-2 counts code failures too), so it gives
    /// back its reserved attempt instead of clearing the count.
    pub async fn login_with_device(
        &self,
        login_id: &str,
        pw: &Password,
        device: Option<&str>,
        ctx: &Ctx,
    ) -> Result<SignedIn> {
        let user = match LoginId::parse(login_id) {
            Ok(login) => self.user_by_login(&login).await?.map(|(u, _)| u),
            Err(_) => None,
        };
        let Some(user) = user else {
            password::burn(pw);
            self.record(ctx, "login.failure", None, Some("unknown login id".into()))
                .await?;
            return Err(Error::InvalidCredentials);
        };
        let who = Some((user.id.as_str(), &user.tenant_id));
        let hash = match (&user.state, &user.password_hash) {
            (UserState::Active, Some(h)) => h.clone(),
            (state, _) => {
                password::burn(pw);
                self.record(ctx, "login.failure", who, Some(format!("state {state:?}")))
                    .await?;
                return Err(Error::InvalidCredentials);
            }
        };
        let lock_key = keys::lock("login", &user.id);
        let locks = match self.take_attempt(&lock_key, self.config.login_lock).await? {
            Attempt::Locked { .. } => {
                password::burn(pw);
                self.record(ctx, "login.refused_locked", who, None).await?;
                return Err(Error::InvalidCredentials);
            }
            Attempt::Allowed { locks, .. } => locks,
        };
        let now = self.now();
        if !password::verify(&hash, pw) {
            let mut writes =
                vec![self.audit(ctx, "login.failure", who, Some("wrong password".into()))];
            if locks {
                writes.push(self.audit(ctx, "login.locked", who, None));
            }
            self.store.write(writes, now).await?;
            return Err(Error::InvalidCredentials);
        }
        let remembered = !user.methods.is_empty() && self.is_remembered(&user, device).await?;
        let stage = if user.methods.is_empty() {
            Stage::Enroll
        } else if remembered {
            self.stage_after_factor(&user)
        } else {
            Stage::Mfa
        };
        let (session, session_write) = self.new_session(&user, stage);
        let mut writes = vec![
            session_write,
            self.audit(
                ctx,
                "login.password_ok",
                who,
                Some(format!(
                    "next {}{}",
                    stage.as_str(),
                    if remembered {
                        " (remembered device)"
                    } else {
                        ""
                    }
                )),
            ),
        ];
        if stage == Stage::Mfa {
            self.store.write(writes, now).await?;
            self.release_attempt(&lock_key).await?;
        } else {
            writes.push(Write::Delete {
                key: lock_key,
                cond: Cond::Any,
            });
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
