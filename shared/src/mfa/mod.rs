//! Two-step verification and the steps after the password (LOG-4, SET-4,
//! MFA-1..9, TOS-1, SES-2).
//!
//! Every proof of a factor is one conditional write: deleting the e-mail or
//! SMS code, moving the TOTP secret's last accepted step forward, removing
//! a recovery code from the set. That write goes into the same atomic batch
//! as the session's next stage, so under any concurrency a code, a time step
//! or a recovery code signs in exactly once. Failures are counted before
//! the code is checked, on the user's sign-in counter (LOG-2).

pub mod codes;
mod device;
mod enrol;
mod otp;
mod passkey_sign_in;
pub mod passkeys;
mod recovery;
pub mod totp;
pub mod voice;

pub use crate::model::Method;
pub use crate::session::Signed;
pub use enrol::reauth_required;
pub use otp::{Channel, CodeSent, OtpStatus, Purpose};
pub use passkeys::PasskeyInfo;
use totp::TotpProof;
pub use totp::TotpSetup;

use crate::app::{App, Ctx};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::Password;
use crate::lock_notice::Locked;
use crate::model::Acceptance;
use crate::model::{keys, User};
use crate::session::Stage;
use crate::softlock::Attempt;
use crate::store::{Cond, StoreError, Write};

/// What the challenge accepts: a factor, or a recovery code in its place (MFA-5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proof {
    Factor(Method),
    Recovery,
}

impl Proof {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "recovery" => Ok(Self::Recovery),
            other => Method::parse(other)
                .map(Self::Factor)
                .ok_or_else(|| Error::invalid("invalid_method")),
        }
    }
}

/// The answer of a step that moved the sign-in on (SES-1: a new session).
#[derive(Debug)]
pub struct Advanced {
    /// The new session's cookie value.
    pub session: String,
    pub stage: Stage,
    /// MFA-7: the cookie of a newly remembered device.
    pub device: Option<String>,
}

/// The answer of an enrolment.
#[derive(Debug)]
pub struct Enrolled {
    /// MFA-5: the first factor's recovery codes, shown once.
    pub recovery_codes: Option<Vec<String>>,
    /// `confirm_recovery_codes` after the first factor (then sign in again),
    /// `done` after a further one.
    pub next: &'static str,
}

impl Enrolled {
    /// The API answer: `{next, recovery_codes?}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({ "next": self.next });
        if let Some(codes) = &self.recovery_codes {
            v["recovery_codes"] = serde_json::json!(codes);
        }
        v
    }
}

impl App {
    // home of TOS-1
    /// TOS-1: where a sign-in goes once the second factor is done.
    pub fn stage_after_factor(&self, user: &User) -> Stage {
        match &user.terms {
            Some(a) if a.version == self.config.documents.terms_version => match &user.privacy {
                Some(p) if p.version == self.config.documents.privacy_version => Stage::Full,
                _ => Stage::Terms,
            },
            _ => Stage::Terms,
        }
    }

    // home of MFA-2
    /// MFA-2: the methods this user may enrol now.
    pub fn enrollable(&self, user: &User) -> Vec<Method> {
        Method::ALL
            .into_iter()
            .filter(|m| match m {
                Method::Email => {
                    !self.config.email_otp_needs_other_method
                        || user.methods.iter().any(|x| x != "email")
                }
                // MFA-9: only where the deployment places calls.
                Method::Voice => self.config.factors.voice,
                // MFA-10: only where the deployment has a relying party.
                Method::Passkey => self.config.factors.passkeys,
                _ => true,
            })
            .collect()
    }

    /// LOG-2 for codes: reserve one attempt on the user's sign-in counter
    /// before checking. While the user is locked nothing is checked.
    /// Answers when the lock lifts if this very attempt starts it.
    async fn reserve_code_attempt(&self, s: &Signed, ctx: &Ctx) -> Result<Option<Timestamp>> {
        let key = keys::lock("login", &s.user.id);
        match self.take_attempt(&key, self.config.login_lock).await? {
            Attempt::Allowed { next, locks } => Ok(next.locked_until.filter(|_| locks)),
            Attempt::Locked { until } => {
                let now = self.now();
                self.record_sign_in(ctx, "mfa.refused_locked", Some(&s.user), None)
                    .await?;
                Err(Error::Throttled {
                    retry_after_s: Some(now.until(until).as_secs().max(1)),
                })
            }
        }
    }

    /// A wrong code: recorded; the fifth in a row locks the user and ends a
    /// half-signed-in session (LOG-2).
    async fn code_failed(
        &self,
        s: &Signed,
        locks: Option<Timestamp>,
        what: &str,
        ctx: &Ctx,
    ) -> Error {
        let mut writes = self
            .sign_in_event(ctx, "mfa.failure", Some(&s.user), Some(what.into()))
            .to_vec();
        if locks.is_some() {
            writes.push(self.audit(ctx, "login.locked", s.who(), None));
            if s.session.stage != Stage::Full {
                writes.push(Write::Delete {
                    key: keys::session(&s.token_hash),
                    cond: Cond::Any,
                });
            }
        }
        if let Err(e) = self.store.write(writes, self.now()).await {
            return e.into();
        }
        if let Some(until) = locks {
            // LOG-5: past the password, nothing is left to hide: no floor.
            let zero = std::time::Duration::ZERO;
            self.notify_lock(Some(&s.user), Locked::SignIn, until, zero, ctx)
                .await;
        }
        Error::InvalidCode
    }

    /// LOG-4 / MFA-3..5, 7: the challenge after the password. One proof,
    /// one new session (SES-1), optionally a remembered device.
    pub async fn verify_second_factor(
        &self,
        token: Option<&str>,
        proof: Proof,
        code: &str,
        remember_device: bool,
        ctx: &Ctx,
    ) -> Result<Advanced> {
        let mut s = self.signed(token, &[Stage::Mfa]).await?;
        if proof == Proof::Factor(Method::Passkey) {
            // MFA-10: a passkey answers its own ceremony, never a code.
            return Err(Error::invalid("invalid_method").with("method", "passkey"));
        }
        if let Proof::Factor(m) = proof {
            if !s.has(m) {
                return Err(Error::invalid("method_not_enrolled").with("method", m));
            }
        }
        // A TOTP code is checked (a read) while the attempt is counted
        // (issue 17: one round fewer); its answer counts only once the
        // counter allowed the attempt (LOG-2). E-mail and SMS codes count
        // an entry on the code itself, so they wait for the counter.
        let (locks, mut first_totp) = match proof {
            Proof::Factor(Method::Totp) => {
                let now = self.now();
                let (locks, totp) = tokio::join!(
                    self.reserve_code_attempt(&s, ctx),
                    self.totp_proof(&s.user, code, now)
                );
                (locks?, Some(totp?))
            }
            _ => (self.reserve_code_attempt(&s, ctx).await?, None),
        };
        for round in 0..16u32 {
            let now = self.now();
            let mut used = None;
            let proved = match proof {
                Proof::Factor(Method::Totp) => match match first_totp.take() {
                    Some(p) => p,
                    None => self.totp_proof(&s.user, code, now).await?,
                } {
                    TotpProof::Proved(p) => Some(p),
                    TotpProof::Used { next_in_s } => {
                        used = Some(next_in_s);
                        None
                    }
                    TotpProof::Wrong => None,
                },
                Proof::Factor(m @ (Method::Email | Method::Sms | Method::Voice)) => {
                    let channel = Channel::of(m).ok_or(Error::Forbidden)?;
                    self.otp_proof(&s, channel, Purpose::Login, code).await?
                }
                // MFA-10: a passkey answers its own ceremony, never a code.
                Proof::Factor(Method::Passkey) => {
                    return Err(Error::invalid("invalid_method").with("method", "passkey"))
                }
                Proof::Recovery => self.recovery_proof(&s.user.id, code, now).await?,
            };
            let Some(proved) = proved else {
                let what = match proof {
                    Proof::Factor(m) => m.as_str(),
                    Proof::Recovery => "recovery",
                };
                return Err(match (self.code_failed(&s, locks, what, ctx).await, used) {
                    // MFA-4 as before, and the user learns to wait for the next code.
                    (Error::InvalidCode, Some(next_in_s)) => Error::CodeAlreadyUsed { next_in_s },
                    (e, _) => e,
                });
            };
            let (advanced, writes) =
                self.factor_proved(&s, vec![proved.write], proved.what, remember_device, ctx);
            match self.store.write(writes, now).await {
                Ok(()) => return Ok(advanced),
                Err(StoreError::Conflict) => {
                    // Someone else used the proof, or the session moved on:
                    // look again (the proof is then gone).
                    self.back_off(round).await;
                    s = self.signed(token, &[Stage::Mfa]).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Unavailable { what: "store" })
    }

    /// The second step done (LOG-4): `proof` (the writes that use the
    /// proof up), the session replaced by a new one (SES-1) at the terms or
    /// the full stage, the failure count cleared, the event recorded, and
    /// optionally this device remembered (MFA-7): one atomic write.
    pub(super) fn factor_proved(
        &self,
        s: &Signed,
        proof: Vec<Write>,
        what: &str,
        remember_device: bool,
        ctx: &Ctx,
    ) -> (Advanced, Vec<Write>) {
        let stage = self.stage_after_factor(&s.user);
        let (session, session_put) = self.new_session_proved(&s.user, stage, s.session.password_at);
        let mut writes = proof;
        writes.extend([
            Write::Delete {
                key: keys::session(&s.token_hash),
                cond: Cond::Exists,
            },
            session_put,
            Write::Delete {
                key: keys::lock("login", &s.user.id),
                cond: Cond::Any,
            },
        ]);
        writes.extend(self.sign_in_event(
            ctx,
            "mfa.success",
            Some(&s.user),
            Some(format!("{what} next {}", stage.as_str())),
        ));
        let device = if remember_device {
            let (cookie, w) = self.remember_device(&s.user);
            writes.push(w);
            Some(cookie)
        } else {
            None
        };
        let advanced = Advanced {
            session,
            stage,
            device,
        };
        (advanced, writes)
    }

    /// MFA-5 / SET-4: "I have recorded these" ends the enrolment session;
    /// the user signs in again with the new factor.
    pub async fn acknowledge_recovery_codes(&self, token: Option<&str>, ctx: &Ctx) -> Result<()> {
        let s = self.signed(token, &[Stage::Enroll]).await?;
        if !s.session.recovery_ack_pending {
            return Err(Error::Forbidden);
        }
        let writes = vec![
            Write::Delete {
                key: keys::session(&s.token_hash),
                cond: Cond::Exists,
            },
            self.audit(ctx, "mfa.recovery_acknowledged", s.who(), None),
        ];
        self.store.write(writes, self.now()).await?;
        Ok(())
    }

    /// MFA-5: a new set of recovery codes, the old one void; the password is
    /// asked again (and counted like a sign-in, LOG-2).
    pub async fn regenerate_recovery_codes(
        &self,
        token: Option<&str>,
        password: &str,
        ctx: &Ctx,
    ) -> Result<Vec<String>> {
        let s = self.signed(token, &[Stage::Full]).await?;
        let held = self
            .confirm_password(&s, password, "mfa.recovery_regenerate_refused", ctx)
            .await?;
        let now = self.now();
        let (codes, w) = self.new_recovery_set(&s.user.id);
        let writes = vec![
            w,
            held.clear(),
            self.audit(ctx, "mfa.recovery_regenerated", s.who(), None),
        ];
        if let Err(e) = self.store.write(writes, now).await {
            // The right password must not stay counted, nor leave a lock.
            self.release(&held).await?;
            return Err(e.into());
        }
        Ok(codes)
    }

    /// A signed-in user's password again (MFA-5 regenerate, PW-5 change),
    /// checked as a sign-in is: one attempt reserved on the user's LOG-2
    /// counter first, a wrong password counts (`refused` is its audit
    /// kind). Answers the reservation: to clear on success, or to give
    /// back if the change is then refused ([`App::release`]), so that the
    /// right password never stays counted nor leaves a lock.
    pub(crate) async fn confirm_password(
        &self,
        s: &Signed,
        password: &str,
        refused: &str,
        ctx: &Ctx,
    ) -> Result<crate::app::Reserved> {
        let pw = &Password::parse(password).map_err(|_| Error::InvalidCredentials)?;
        let key = keys::lock("login", &s.user.id);
        let held = self.reserve(&key, self.config.login_lock).await?;
        let locks = match held.attempt {
            Attempt::Locked { .. } => {
                crate::password::burn_off_thread(pw).await;
                return Err(Error::InvalidCredentials);
            }
            Attempt::Allowed { locks, .. } => locks,
        };
        let ok = match s.user.password_hash.as_deref() {
            Some(h) => crate::password::verify_off_thread(h, pw).await,
            None => false,
        };
        if !ok {
            let mut writes = vec![self.audit(ctx, refused, s.who(), Some("wrong password".into()))];
            if locks {
                writes.push(self.audit(ctx, "login.locked", s.who(), None));
            }
            self.store.write(writes, self.now()).await?;
            if let Some(until) = held.locked_until() {
                let zero = std::time::Duration::ZERO;
                self.notify_lock(Some(&s.user), Locked::SignIn, until, zero, ctx)
                    .await;
            }
            return Err(Error::InvalidCredentials);
        }
        Ok(held)
    }

    /// TOS-1, CLM-2: the versions a page showed (when it says) are the
    /// current ones; else the user has not read what would be recorded.
    pub fn consented_to_current(&self, terms: Option<&str>, privacy: Option<&str>) -> Result<()> {
        let docs = &self.config.documents;
        let stale = terms.is_some_and(|t| t != docs.terms_version)
            || privacy.is_some_and(|p| p != docs.privacy_version);
        if stale {
            return Err(Error::conflict("terms_changed")
                .with("version", &docs.terms_version)
                .with("privacy_version", &docs.privacy_version));
        }
        Ok(())
    }

    /// TOS-1: accept the current terms and privacy policy (the step shows
    /// and links both); the versions and the time are recorded. A version
    /// that is no longer current (the documents changed while the page was
    /// open) is refused: the user reads the new one first.
    pub async fn accept_terms(
        &self,
        token: Option<&str>,
        version: &str,
        privacy_version: Option<&str>,
        ctx: &Ctx,
    ) -> Result<()> {
        let s = self.signed(token, &[Stage::Terms]).await?;
        let docs = &self.config.documents;
        self.consented_to_current(Some(version), privacy_version)?;
        let now = self.now();
        let mut user = s.user.clone();
        user.terms = Some(Acceptance {
            version: version.to_string(),
            at: now,
        });
        user.privacy = Some(Acceptance {
            version: docs.privacy_version.clone(),
            at: now,
        });
        user.updated_at = now;
        let mut session = s.session.clone();
        session.stage = Stage::Full;
        let writes = vec![
            Write::put(
                keys::user(&user.id),
                &user,
                None,
                Cond::Version(s.user_version),
            ),
            self.session_write(&s.token_hash, &session, Cond::Version(s.version)),
            self.audit(
                ctx,
                "terms.accepted",
                s.who(),
                Some(format!("terms {version}, privacy {}", docs.privacy_version)),
            ),
        ];
        self.store.write(writes, now).await?;
        Ok(())
    }
}
