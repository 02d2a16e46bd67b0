//! MFA-10: signing in with a passkey or a security key — as the second
//! step after the password (MFA-1, MFA-8), or, where the deployment allows
//! it, as both steps at once with a discoverable credential and user
//! verification (passwordless).
//!
//! Neither skips anything the password would not: a locked user (LOG-2),
//! a disabled or pending account, the terms (TOS-1); both end in a new
//! session (SES-1). Every assertion is single use: the ceremony's state is
//! taken by a conditional delete in the write that signs in, and the
//! credential's counter and backup state move on in that same write, on
//! the user's version. A failed assertion counts towards LOG-2 like any
//! factor failure, and ends its ceremony.
//!
//! Nothing here tells who exists: beginning a passwordless sign-in reads
//! nothing and answers the same options whatever login ID is typed (the
//! typed ID is only compared, at the end, with the user the credential
//! names); every refusal at the end is the same `invalid_credentials`.

use serde_json::Value;

use super::passkeys::{ceremony_key, handle_of, started_or, unavailable, Ceremony, Purpose};
use super::{Advanced, Method, Signed};
use crate::app::{App, Ctx};
use crate::error::{Error, Result};
use crate::ids::LoginId;
use crate::lock_notice::Locked;
use crate::model::{keys, User, UserState};
use crate::session::Stage;
use crate::softlock::Attempt;
use crate::store::{Cond, StoreError, Write};
use crate::webauthn::Presented;

/// What an assertion proved, ready to be written.
struct Proved {
    /// The ceremony's end and the user with the credential moved on.
    writes: Vec<Write>,
    user: User,
}

impl App {
    /// MFA-10: begin a sign-in with a passkey. A session at the second step
    /// asks for one of its user's credentials; otherwise, where
    /// passwordless sign-in is on, any discoverable credential (`login_id`,
    /// if typed, must then name the user it belongs to).
    pub async fn begin_passkey_sign_in(
        &self,
        token: Option<&str>,
        login_id: Option<&str>,
    ) -> Result<Value> {
        if !self.config.factors.passkeys {
            return Err(unavailable());
        }
        let at_challenge = match token {
            Some(_) => match self.signed(token, &[Stage::Mfa]).await {
                Ok(s) => Some(s),
                Err(Error::Forbidden) => return Err(Error::Forbidden),
                Err(_) => None,
            },
            None => None,
        };
        let (started, c) = match at_challenge {
            Some(s) => {
                if !s.has(Method::Passkey) {
                    return Err(Error::invalid("method_not_enrolled").with("method", "passkey"));
                }
                let creds: Vec<String> = s
                    .user
                    .passkeys
                    .iter()
                    .map(|p| p.credential.clone())
                    .collect();
                let started = self
                    .ceremonies
                    .start_assertion(&creds)
                    .map_err(started_or)?;
                let c = Ceremony {
                    purpose: Purpose::Factor,
                    session_hash: Some(s.token_hash.clone()),
                    user_id: Some(s.user.id.clone()),
                    state: started.state.clone(),
                    name: None,
                    login_key: None,
                };
                (started, c)
            }
            None => {
                if !self.config.factors.passwordless {
                    return Err(unavailable());
                }
                let login_key = match login_id.map(str::trim).filter(|l| !l.is_empty()) {
                    Some(l) => Some(LoginId::parse(l)?.key()),
                    None => None,
                };
                let started = self.ceremonies.start_assertion(&[]).map_err(started_or)?;
                let c = Ceremony {
                    purpose: Purpose::Passwordless,
                    session_hash: None,
                    user_id: None,
                    state: started.state.clone(),
                    name: None,
                    login_key,
                };
                (started, c)
            }
        };
        self.keep_ceremony(&started.challenge, &c).await?;
        Ok(started.options)
    }

    /// MFA-10: finish a sign-in with the browser's assertion: the second
    /// step of `token`'s sign-in, or a passwordless sign-in. Every refusal
    /// is `invalid_credentials` (a lock: `too_many_attempts` at the second
    /// step, as for codes). `previous` is the session cookie a passwordless
    /// sign-in replaces (SES-1).
    pub async fn finish_passkey_sign_in(
        &self,
        token: Option<&str>,
        response: &Value,
        remember_device: bool,
        ctx: &Ctx,
    ) -> Result<Advanced> {
        if !self.config.factors.passkeys {
            return Err(unavailable());
        }
        let presented = self
            .ceremonies
            .presented(response)
            .map_err(|_| Error::InvalidCredentials)?;
        let Some((c, version)) = self.ceremony(&presented.challenge).await? else {
            return Err(Error::InvalidCredentials);
        };
        let used = Write::Delete {
            key: ceremony_key(&presented.challenge),
            cond: Cond::Version(version),
        };
        match c.purpose {
            Purpose::Factor => {
                let s = self.signed(token, &[Stage::Mfa]).await?;
                if c.session_hash.as_deref() != Some(s.token_hash.as_str()) {
                    return Err(Error::InvalidCredentials);
                }
                self.passkey_factor(&s, &c, used, response, &presented, remember_device, ctx)
                    .await
            }
            Purpose::Passwordless if self.config.factors.passwordless => {
                self.passwordless(&c, used, response, &presented, token, ctx)
                    .await
            }
            _ => Err(Error::InvalidCredentials),
        }
    }

    /// Check `response` against the ceremony and the user's credential it
    /// names; the writes that use it up.
    fn prove(
        &self,
        user: &User,
        version: u64,
        c: &Ceremony,
        used: Write,
        response: &Value,
        presented: &Presented,
    ) -> std::result::Result<Proved, String> {
        let Some(record) = user
            .passkeys
            .iter()
            .find(|p| p.id == presented.credential_id)
        else {
            return Err("a credential the user does not hold".into());
        };
        let verified = self
            .ceremonies
            .finish_assertion(response, &c.state, &record.credential)
            .map_err(|e| match e {
                crate::webauthn::CeremonyError::Refused(why) => why,
                crate::webauthn::CeremonyError::Unwired => "no ceremonies".into(),
            })?;
        let mut user = user.clone();
        let now = self.now();
        if let Some(p) = user
            .passkeys
            .iter_mut()
            .find(|p| p.id == presented.credential_id)
        {
            if let Some(moved) = verified.credential {
                p.credential = moved;
            }
            p.backed_up = verified.backed_up;
            p.last_used_at = Some(now);
        }
        let writes = vec![
            used,
            Write::put(keys::user(&user.id), &user, None, Cond::Version(version)),
        ];
        Ok(Proved { writes, user })
    }

    /// The second step with a passkey (LOG-4): counted as any factor
    /// attempt (LOG-2), then the same new session as a code gives.
    #[allow(clippy::too_many_arguments)]
    async fn passkey_factor(
        &self,
        s: &Signed,
        c: &Ceremony,
        used: Write,
        response: &Value,
        presented: &Presented,
        remember_device: bool,
        ctx: &Ctx,
    ) -> Result<Advanced> {
        let locks = self.reserve_code_attempt(s, ctx).await?;
        let proved = match self.prove(&s.user, s.user_version, c, used, response, presented) {
            Ok(p) => p,
            Err(why) => {
                let end = Write::Delete {
                    key: ceremony_key(&presented.challenge),
                    cond: Cond::Any,
                };
                let _ = self.store.write(vec![end], self.now()).await;
                tracing::info!(why = %why, "passkey assertion refused");
                return Err(match self.code_failed(s, locks, "passkey", ctx).await {
                    Error::InvalidCode => Error::InvalidCredentials,
                    e => e,
                });
            }
        };
        let (advanced, writes) =
            self.factor_proved(s, proved.writes, "passkey", remember_device, ctx);
        match self.store.write(writes, self.now()).await {
            Ok(()) => Ok(advanced),
            // The assertion was used meanwhile (a copy of it won), or the
            // user or the session changed: this copy signs nobody in.
            Err(StoreError::Conflict) => Err(Error::InvalidCredentials),
            Err(e) => Err(e.into()),
        }
    }

    /// Both steps at once: the credential names its user (one read); the
    /// user must be active and unlocked, the typed login ID (if any) theirs;
    /// the attempt counts on their sign-in counter (LOG-2) before the
    /// assertion is checked.
    async fn passwordless(
        &self,
        c: &Ceremony,
        used: Write,
        response: &Value,
        presented: &Presented,
        previous: Option<&str>,
        ctx: &Ctx,
    ) -> Result<Advanced> {
        let end = || Write::Delete {
            key: ceremony_key(&presented.challenge),
            cond: Cond::Any,
        };
        let user_id = presented
            .user_handle
            .as_deref()
            .and_then(|h| <[u8; 16]>::try_from(h).ok())
            .map(|h| ulid::Ulid::from_bytes(h).to_string());
        let found = match &user_id {
            Some(id) => self.user(id).await?,
            None => None,
        };
        let Some((user, version)) = found.filter(|(u, _)| handle_of(&u.id).is_ok()) else {
            let mut writes = self
                .sign_in_event(
                    ctx,
                    "login.passkey_failure",
                    None,
                    Some("unknown credential".into()),
                )
                .to_vec();
            writes.push(end());
            self.store.write(writes, self.now()).await?;
            return Err(Error::InvalidCredentials);
        };
        let key = keys::lock("login", &user.id);
        let held = self.reserve(&key, self.config.login_lock).await?;
        let why = match held.attempt {
            Attempt::Locked { .. } => Some("locked"),
            _ if user.state != UserState::Active => Some("not active"),
            _ if c
                .login_key
                .as_ref()
                .is_some_and(|k| *k != user.login_id.key()) =>
            {
                Some("another login id")
            }
            _ => None,
        };
        let proved = match why {
            Some(why) => Err(why.to_string()),
            None => self.prove(&user, version, c, used, response, presented),
        };
        let proved = match proved {
            Ok(p) => p,
            Err(why) => {
                let kind = if matches!(held.attempt, Attempt::Locked { .. }) {
                    "login.passkey_refused_locked"
                } else {
                    "login.passkey_failure"
                };
                let mut writes = self
                    .sign_in_event(ctx, kind, Some(&user), Some(why))
                    .to_vec();
                writes.push(end());
                if held.locks() {
                    writes.push(self.audit(
                        ctx,
                        "login.locked",
                        Some((&user.id, &user.tenant_id)),
                        None,
                    ));
                }
                self.store.write(writes, self.now()).await?;
                if let Some(until) = held.locked_until() {
                    let zero = std::time::Duration::ZERO;
                    self.notify_lock(Some(&user), Locked::SignIn, until, zero, ctx)
                        .await;
                }
                return Err(Error::InvalidCredentials);
            }
        };
        // TOS-1: the terms are never skipped; SES-1: a new session.
        let user = proved.user;
        let stage = self.stage_after_factor(&user);
        let (session, session_put) = self.new_session(&user, stage);
        let mut writes = proved.writes;
        writes.push(session_put);
        writes.push(held.clear());
        writes.extend(self.sign_in_event(
            ctx,
            "login.passkey_ok",
            Some(&user),
            Some(format!("next {}", stage.as_str())),
        ));
        match self.store.write(writes, self.now()).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                // A copy of this assertion won, or the user changed: the
                // attempt stays counted only if it was not this user's own.
                self.release(&held).await?;
                return Err(Error::InvalidCredentials);
            }
            Err(e) => return Err(e.into()),
        }
        if let Some(old) = previous {
            // SES-1: the session the browser held ends (best effort).
            let _ = self.logout(old, ctx).await;
        }
        Ok(Advanced {
            session,
            stage,
            device: None,
        })
    }
}
