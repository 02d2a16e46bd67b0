//! Sessions (SES-1, SES-2): an opaque random token in a cookie, stored by
//! hash, with a stage that says how far sign-in has got.

use serde::{Deserialize, Serialize};

use crate::app::{App, Ctx};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::model::{keys, User, UserState};
use crate::random::{secret_token, token_hash};
use crate::store::{get_as, Cond, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Password done, second factor to do.
    Mfa,
    /// Password done, no second factor yet: enrolment.
    Enroll,
    /// Terms to accept.
    Terms,
    /// Signed in.
    Full,
}

impl Stage {
    /// The `next` of an API answer after sign-in (API.md: `done` when signed in).
    pub fn next(self) -> &'static str {
        match self {
            Self::Full => "done",
            other => other.as_str(),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mfa => "mfa",
            Self::Enroll => "enroll",
            Self::Terms => "terms",
            Self::Full => "full",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub user_id: String,
    pub tenant_id: TenantId,
    pub stage: Stage,
    pub created_at: Timestamp,
    pub last_seen: Timestamp,
    /// SET-4 / MFA-5: the first factor is enrolled and its recovery codes
    /// were shown; the session waits for "I have recorded these" and ends.
    #[serde(default)]
    pub recovery_ack_pending: bool,
    /// RST-5 / PW-5: the user's session epoch when the session was made; a
    /// session from an earlier epoch has been ended.
    #[serde(default)]
    pub epoch: u32,
    /// MFA-8: when the user last proved the password in this sign-in (at
    /// sign-in, or confirmed again since); a factor change needs it recent.
    #[serde(default)]
    pub password_at: Option<Timestamp>,
}

/// A live session with its user, as [`App::live_session`] read them: what
/// every step after the password needs.
pub struct Signed {
    pub token_hash: String,
    pub session: Session,
    pub version: u64,
    pub user: User,
    pub user_version: u64,
}

impl Signed {
    pub(crate) fn who(&self) -> Option<(&str, &crate::ids::TenantId)> {
        Some((self.user.id.as_str(), &self.user.tenant_id))
    }
    pub fn has(&self, m: crate::model::Method) -> bool {
        self.user.methods.iter().any(|x| x == m.as_str())
    }
}

impl App {
    fn session_expiry(&self, s: &Session) -> Timestamp {
        s.last_seen
            .plus(self.config.session_idle)
            .min(s.created_at.plus(self.config.session_absolute))
    }

    /// A new session for `user` at `stage`, opened with the password just
    /// now: the cookie value and the write that stores it (to go into the
    /// sign-in's atomic batch).
    pub fn new_session(&self, user: &User, stage: Stage) -> (String, Write) {
        self.new_session_proved(user, stage, Some(self.now()))
    }

    /// [`App::new_session`] whose password was proved at `password_at` (a
    /// session rotated after the second factor keeps its sign-in's time).
    pub fn new_session_proved(
        &self,
        user: &User,
        stage: Stage,
        password_at: Option<Timestamp>,
    ) -> (String, Write) {
        let now = self.now();
        let token = secret_token(self.rng.as_ref());
        let s = Session {
            user_id: user.id.clone(),
            tenant_id: user.tenant_id.clone(),
            stage,
            created_at: now,
            last_seen: now,
            recovery_ack_pending: false,
            epoch: user.session_epoch,
            password_at,
        };
        let w = self.session_write(&token_hash(&token), &s, Cond::Absent);
        (token, w)
    }

    /// The live session behind a cookie value, its idle time renewed.
    pub async fn session(&self, token: &str) -> Result<Session> {
        Ok(self.live_session(token).await?.session)
    }

    /// The session, its item's version, and its user, read once. A session
    /// is live only while its user is active and at the session's epoch
    /// (RST-5: a reset ends every session; so does disabling the user).
    pub async fn live_session(&self, token: &str) -> Result<Signed> {
        let key = keys::session(&token_hash(token));
        let now = self.now();
        let (mut s, mut v) = get_as::<Session>(self.store.as_ref(), &key, now)
            .await?
            .ok_or(Error::NotSignedIn)?;
        let (user, user_version) = self.user(&s.user_id).await?.ok_or(Error::NotSignedIn)?;
        if user.state != UserState::Active || user.session_epoch != s.epoch {
            return Err(Error::NotSignedIn);
        }
        // Renew the idle timeout at most once a minute (one write, conditional).
        if now.millis() - s.last_seen.millis() > 60_000 {
            s.last_seen = now;
            let exp = self.session_expiry(&s);
            // Losing this race to a parallel request is harmless.
            if self
                .store
                .write(vec![Write::put(key, &s, Some(exp), Cond::Version(v))], now)
                .await
                .is_ok()
            {
                v += 1;
            }
        }
        Ok(Signed {
            token_hash: token_hash(token),
            session: s,
            version: v,
            user,
            user_version,
        })
    }

    // home of SES-2
    /// The session behind `token` at one of `stages` (SES-2), and its user.
    pub async fn signed(&self, token: Option<&str>, stages: &[Stage]) -> Result<Signed> {
        let token = token.ok_or(Error::NotSignedIn)?;
        let signed = self.live_session(token).await?;
        if !stages.contains(&signed.session.stage) {
            return Err(Error::Forbidden);
        }
        Ok(signed)
    }

    /// The write that stores a changed session under its key (same expiry rules).
    pub fn session_write(&self, token_hash: &str, s: &Session, cond: Cond) -> Write {
        Write::put(
            keys::session(token_hash),
            s,
            Some(self.session_expiry(s)),
            cond,
        )
    }

    /// A session that has reached one of `stages` (SES-2).
    pub async fn session_at(&self, token: Option<&str>, stages: &[Stage]) -> Result<Session> {
        let s = self.session(token.ok_or(Error::NotSignedIn)?).await?;
        if stages.contains(&s.stage) {
            Ok(s)
        } else {
            Err(Error::Forbidden)
        }
    }

    pub async fn logout(&self, token: &str, ctx: &Ctx) -> Result<()> {
        let key = keys::session(&token_hash(token));
        let now = self.now();
        if let Some((s, _)) = get_as::<Session>(self.store.as_ref(), &key, now).await? {
            let writes = vec![
                Write::Delete {
                    key,
                    cond: Cond::Any,
                },
                self.audit(
                    ctx,
                    "session.logout",
                    Some((&s.user_id, &s.tenant_id)),
                    None,
                ),
            ];
            self.store.write(writes, now).await?;
        }
        Ok(())
    }
}
