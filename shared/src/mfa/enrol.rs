//! Enrolling and changing second factors (SET-4, MFA-1, MFA-7, MFA-8).
//!
//! - A session at `enroll` (the password, no factor yet) enrols the first
//!   factor only: the write is conditional on the user's version, so of two
//!   parallel first enrolments exactly one wins, and the first ends every
//!   other session of the user (the session epoch moves on; the enrolling
//!   session is rewritten with the new epoch in the same atomic batch).
//! - From a signed-in session, adding or replacing a method needs a fresh
//!   proof (MFA-8): the password given within `TOBIRA_REAUTH_MINUTES`, or
//!   given again now (checked and counted as a sign-in, LOG-2). The proof is
//!   asked **before any secret is issued** — before a TOTP secret is shown
//!   and before an enrolment code is sent. The pending secret or code is
//!   bound to that session and lives minutes (TOTP 15, codes 5), and the
//!   confirmation writes only what it proved.
//! - Every enrolment is audited and mails the user a notice naming the
//!   method (no code or secret in it). What an enrolment does to the rest
//!   of the account (sessions, devices, recovery codes, notice, audit) is
//!   decided in `account::effects`: a first factor or a replaced one ends
//!   every other session, an added one does not.

use super::{Enrolled, Method, Signed};
use crate::account::{Change, Made};
use crate::app::{App, Ctx};
use crate::error::{Error, Result};
use crate::model::{keys, User};
use crate::session::{Session, Stage};
use crate::store::{Cond, StoreError, Write};

/// MFA-8: the answer when a factor change needs the password again.
pub fn reauth_required() -> Error {
    Error::refused("reauth_required")
}

impl App {
    /// Enrolment routes: a session enrolling its first factor (codes not
    /// yet shown, and still no factor: SET-4) or a signed-in one adding a
    /// method (MFA-8).
    pub(super) async fn enrolling(&self, token: Option<&str>) -> Result<Signed> {
        let s = self.signed(token, &[Stage::Enroll, Stage::Full]).await?;
        if s.session.recovery_ack_pending
            || (s.session.stage == Stage::Enroll && !s.user.methods.is_empty())
        {
            return Err(Error::Forbidden);
        }
        Ok(s)
    }

    /// MFA-8: whether the password was proved recently enough in this
    /// sign-in for a factor change.
    pub fn proof_is_fresh(&self, session: &Session) -> bool {
        session
            .password_at
            .is_some_and(|at| self.now() < at.plus(self.config.reauth))
    }

    /// MFA-8: whether a page must ask the password before a factor change
    /// (a signed-in session whose password is not fresh; never at SET-4).
    pub fn needs_reauth(&self, s: &Signed) -> bool {
        s.session.stage == Stage::Full && !self.proof_is_fresh(&s.session)
    }

    // home of MFA-8
    /// [`App::enrolling`] for the step that issues a secret or sends a
    /// code: a signed-in session needs a fresh proof (MFA-8). A password
    /// given is always checked as a sign-in is (LOG-2: an attempt reserved
    /// first, a wrong one counted); a right one is recorded on the session.
    pub(super) async fn enrolling_proved(
        &self,
        token: Option<&str>,
        password: Option<&str>,
        ctx: &Ctx,
    ) -> Result<Signed> {
        let mut s = self.enrolling(token).await?;
        if s.session.stage != Stage::Full {
            // SET-4: the password was just given to open this session.
            return Ok(s);
        }
        let Some(password) = password.filter(|p| !p.is_empty()) else {
            if self.proof_is_fresh(&s.session) {
                return Ok(s);
            }
            self.record(ctx, "mfa.reauth_required", s.who(), None)
                .await?;
            return Err(reauth_required());
        };
        let lock = self
            .confirm_password(&s, password, "mfa.reauth_refused", ctx)
            .await?;
        let now = self.now();
        s.session.password_at = Some(now);
        let writes = vec![
            self.session_write(&s.token_hash, &s.session, Cond::Exists),
            lock.clear(),
            self.audit(ctx, "mfa.reauth", s.who(), None),
        ];
        match self.store.write(writes, now).await {
            Ok(()) => {
                s.version += 1;
                Ok(s)
            }
            Err(StoreError::Conflict) => {
                // The session ended meanwhile: the right password must not
                // stay counted as a failure.
                self.release(&lock).await?;
                Err(Error::NotSignedIn)
            }
            Err(e) => Err(e.into()),
        }
    }

    // home of SET-4
    /// Enrol `method` for the session's user in one atomic batch with the
    /// proof of possession, conditional on the user's version. The first
    /// factor brings recovery codes, ends every other session and sends
    /// the user to sign in again (SET-4); a replaced one ends every other
    /// session too; every enrolment voids remembered devices (MFA-7) and
    /// mails a notice (MFA-8): `Change::FactorEnrolled`, `FactorReplaced`
    /// and `FactorAdded` in `account::effects`.
    pub(super) async fn enrol(
        &self,
        s: &Signed,
        method: Method,
        proof_writes: Vec<Write>,
        change: impl FnOnce(&mut User),
        ctx: &Ctx,
    ) -> Result<Enrolled> {
        let now = self.now();
        let mut user = s.user.clone();
        let first = user.methods.is_empty();
        if s.session.stage != Stage::Full && !first {
            // SET-4: a password-only session never adds to existing factors.
            return Err(Error::Forbidden);
        }
        // MFA-10: another passkey is added beside the others, never in
        // place of them.
        let replaced = s.has(method) && method != Method::Passkey;
        if !s.has(method) {
            user.methods.push(method.as_str().to_string());
        }
        change(&mut user);
        let change = match (first, replaced) {
            (true, _) => Change::FactorEnrolled(method),
            (false, true) => Change::FactorReplaced(method),
            (false, false) => Change::FactorAdded(method),
        };
        let made = Made::by(ctx).in_session(&s.token_hash, &s.session, Cond::Exists);
        let applied = self.apply_change(&mut user, s.user_version, change, made);
        let mut writes = proof_writes;
        writes.extend(applied.writes);
        writes.push(Write::Delete {
            key: keys::lock("login", &user.id),
            cond: Cond::Any,
        });
        self.store
            .write(writes, now)
            .await
            .map_err(|e| e.lost_race_is("conflict"))?;
        let codes = applied.recovery_codes;
        Ok(Enrolled {
            next: if codes.is_some() {
                "confirm_recovery_codes"
            } else {
                "done"
            },
            recovery_codes: codes,
        })
    }
}
