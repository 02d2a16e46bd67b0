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

use super::passkeys::{ceremony_key, started_or, unavailable, Ceremony, Purpose};
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

impl App {
    /// MFA-10: begin a sign-in with a passkey. A session at the second step
    /// asks for one of its user's credentials (unless `passwordless` is
    /// asked for); otherwise, where passwordless sign-in is on, any
    /// discoverable credential (`login_id`, if typed, must then name the
    /// user it belongs to).
    pub async fn begin_passkey_sign_in(
        &self,
        token: Option<&str>,
        login_id: Option<&str>,
        passwordless: bool,
    ) -> Result<Value> {
        if !self.config.factors.passkeys {
            return Err(unavailable());
        }
        // The sign-in page asks for a passwordless sign-in whatever session
        // the browser still holds (the finish ends that one, SES-1).
        let at_challenge = match token.filter(|_| !passwordless) {
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
    /// names (the caller made sure the user holds it): the user with the
    /// credential's counter and backup state moved on.
    fn prove(
        &self,
        user: &User,
        c: &Ceremony,
        response: &Value,
        presented: &Presented,
    ) -> std::result::Result<User, String> {
        let Some(record) = holds(user, presented) else {
            return Err("a credential the user does not hold".into());
        };
        let verified = self
            .ceremonies
            .finish_assertion(response, &c.state, &record.credential)
            .map_err(|e| match e {
                // Bounded: the reason may quote the response.
                crate::webauthn::CeremonyError::Refused(why) => {
                    why.chars().take(160).collect::<String>()
                }
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
        Ok(user)
    }

    /// The second step with a passkey (LOG-4): counted as any factor
    /// attempt (LOG-2), then the same new session as a code gives. A copy
    /// of the assertion that another copy beat changes nothing and counts
    /// nothing.
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
        let held = self
            .reserve(&keys::lock("login", &s.user.id), self.config.login_lock)
            .await?;
        if let Attempt::Locked { until } = held.attempt {
            let now = self.now();
            self.record_sign_in(ctx, "mfa.refused_locked", Some(&s.user), None)
                .await?;
            return Err(Error::Throttled {
                retry_after_s: Some(now.until(until).as_secs().max(1)),
            });
        }
        let user = match self.prove(&s.user, c, response, presented) {
            Ok(u) => u,
            Err(why) => {
                // The ceremony ends with this response, unless a copy took
                // it first: then this copy is no attempt of its own.
                match self.store.write(vec![used], self.now()).await {
                    Ok(()) => {}
                    Err(StoreError::Conflict) => {
                        self.release(&held).await?;
                        return Err(Error::InvalidCredentials);
                    }
                    Err(e) => return Err(e.into()),
                }
                tracing::info!(why = %why, "passkey assertion refused");
                return Err(
                    match self
                        .code_failed(s, held.locked_until(), "passkey", ctx)
                        .await
                    {
                        Error::InvalidCode => Error::InvalidCredentials,
                        e => e,
                    },
                );
            }
        };
        let proof = vec![
            used,
            Write::put(
                keys::user(&user.id),
                &user,
                None,
                Cond::Version(s.user_version),
            ),
        ];
        let (advanced, writes) = self.factor_proved(s, proof, "passkey", remember_device, ctx);
        match self.store.write(writes, self.now()).await {
            Ok(()) => Ok(advanced),
            // The assertion was used meanwhile (a copy of it won), or the
            // user or the session changed: this copy signs nobody in, and
            // its reserved attempt goes back.
            Err(StoreError::Conflict) => {
                self.release(&held).await?;
                Err(Error::InvalidCredentials)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Both steps at once: the credential names its user (one read); the
    /// user must hold it, be active and unlocked, and be the typed login
    /// ID's (if any). The attempt counts before the assertion is checked
    /// (LOG-2): on the user's sign-in counter when the user holds the
    /// credential, else on a counter of the handle nobody holds — the same
    /// store requests either way (LOG-3), and a made-up credential ID
    /// naming someone's handle locks nobody out.
    async fn passwordless(
        &self,
        c: &Ceremony,
        used: Write,
        response: &Value,
        presented: &Presented,
        previous: Option<&str>,
        ctx: &Ctx,
    ) -> Result<Advanced> {
        let handle = presented.user_handle.as_deref().unwrap_or_default();
        let user_key = <[u8; 16]>::try_from(handle)
            .map(|h| ulid::Ulid::from_bytes(h).to_string())
            .unwrap_or_else(|_| "~".to_string());
        let found = self.user(&user_key).await?;
        let user = found.filter(|(u, _)| holds(u, presented).is_some());
        let lock_key = match &user {
            Some((u, _)) => keys::lock("login", &u.id),
            None => {
                let hex: String = handle.iter().map(|b| format!("{b:02x}")).collect();
                let subject = self.typed_subject(&format!("passkey {hex}"));
                keys::lock("login", &format!("~{subject}"))
            }
        };
        let held = self.reserve(&lock_key, self.config.login_lock).await?;
        let why = match (&user, held.attempt) {
            (None, _) => Some("unknown credential"),
            (_, Attempt::Locked { .. }) => Some("locked"),
            (Some((u, _)), _) if u.state != UserState::Active => Some("not active"),
            (Some((u, _)), _) if c.login_key.as_ref().is_some_and(|k| *k != u.login_id.key()) => {
                Some("another login id")
            }
            _ => None,
        };
        let proved = match (why, &user) {
            (None, Some((u, _))) => self.prove(u, c, response, presented),
            (Some(why), _) => Err(why.to_string()),
            (None, None) => Err("unknown credential".to_string()),
        };
        let signed_in = match proved {
            Ok(u) => u,
            Err(why) => {
                let who = user.as_ref().map(|(u, _)| u);
                let kind = if matches!(held.attempt, Attempt::Locked { .. }) {
                    "login.passkey_refused_locked"
                } else {
                    "login.passkey_failure"
                };
                // One transaction of four items whatever the reason (LOG-3).
                let mut writes = self.sign_in_event(ctx, kind, who, Some(why)).to_vec();
                writes.push(used);
                writes.push(match who.filter(|_| held.locks()) {
                    Some(u) => self.audit(ctx, "login.locked", Some((&u.id, &u.tenant_id)), None),
                    None => held.touch(),
                });
                match self.store.write(writes, self.now()).await {
                    Ok(()) => {}
                    // A copy of this response took the ceremony first.
                    Err(StoreError::Conflict) => {
                        self.release(&held).await?;
                        return Err(Error::InvalidCredentials);
                    }
                    Err(e) => return Err(e.into()),
                }
                if let (Some(u), Some(until)) = (who, held.locked_until()) {
                    let floor = self.config.lock_notice_floor;
                    self.notify_lock(Some(u), Locked::SignIn, until, floor, ctx)
                        .await;
                }
                return Err(Error::InvalidCredentials);
            }
        };
        let version = user.as_ref().map_or(0, |(_, v)| *v);
        // TOS-1: the terms are never skipped; SES-1: a new session. No
        // password was given: the session is no fresh proof for a factor
        // change (MFA-8 asks the password then).
        let stage = self.stage_after_factor(&signed_in);
        let (session, session_put) = self.new_session_proved(&signed_in, stage, None);
        let mut writes = vec![
            used,
            Write::put(
                keys::user(&signed_in.id),
                &signed_in,
                None,
                Cond::Version(version),
            ),
            session_put,
            held.clear(),
        ];
        writes.extend(self.sign_in_event(
            ctx,
            "login.passkey_ok",
            Some(&signed_in),
            Some(format!("next {}", stage.as_str())),
        ));
        match self.store.write(writes, self.now()).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                // A copy of this assertion won, or the user changed: this
                // copy signs nobody in, and its attempt goes back.
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

/// The user's credential a response names, if the user holds it.
fn holds<'u>(user: &'u User, presented: &Presented) -> Option<&'u crate::model::PasskeyRecord> {
    user.passkeys
        .iter()
        .find(|p| p.id == presented.credential_id)
}
