//! MFA-10: passkeys and security keys (WebAuthn) — one ceremony for both.
//! A user may hold several (up to [`MAX_PASSKEYS`]), kept on the user's
//! record with their signature counter and backup state. Enrolling one is a
//! factor change like any other (SET-4 as the first factor, MFA-8 from a
//! signed-in session with a fresh proof), and so is removing one: both go
//! through the account-state home (`account::effects`). Using one is in
//! `passkey_sign_in`.
//!
//! A ceremony's state waits in the store for five minutes under the hash
//! of its challenge (`WEBAUTHN#<hash>`), which the browser's response
//! names; the finish takes it with a conditional delete in the same write
//! as what the ceremony does, so a response counts once however many
//! copies arrive.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Enrolled, Method, Signed};
use crate::account::{Change, Made};
use crate::app::{App, Ctx};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::model::{keys, PasskeyRecord};
use crate::session::Stage;
use crate::store::{get_as, Cond, Key, StoreError, Write};
use crate::webauthn::CeremonyError;

/// Passkeys per user: the user's record stays small.
pub const MAX_PASSKEYS: usize = 10;

/// Characters of a passkey's name.
pub const NAME_MAX: usize = 64;

/// How long a ceremony may take (the browser's timeout is the same).
pub(super) const CEREMONY_TTL: std::time::Duration = std::time::Duration::from_secs(300);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Purpose {
    Register,
    /// The second step after the password.
    Factor,
    /// Both steps at once (a discoverable credential, user verified).
    Passwordless,
}

/// A ceremony begun and not yet finished.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct Ceremony {
    pub purpose: Purpose,
    /// The sign-in session it belongs to (registration, second factor).
    pub session_hash: Option<String>,
    pub user_id: Option<String>,
    /// The adapter's state.
    pub state: String,
    /// Registration: the name the new passkey gets.
    pub name: Option<String>,
    /// Passwordless: the login ID typed, if any (compared, never looked up).
    pub login_key: Option<String>,
}

/// What the user sees of a passkey (no key material).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PasskeyInfo {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    /// Signs in without the password (the authenticator keeps it).
    pub discoverable: Option<bool>,
    /// Synced to the user's other devices.
    pub synced: bool,
}

impl PasskeyInfo {
    pub fn of(p: &PasskeyRecord) -> Self {
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            created_at: p.created_at.rfc3339(),
            last_used_at: p.last_used_at.map(Timestamp::rfc3339),
            discoverable: p.discoverable,
            synced: p.backed_up,
        }
    }
}

/// The ceremony's key: the hash of its challenge.
pub(super) fn ceremony_key(challenge: &str) -> Key {
    keys::ceremony(&crate::random::token_hash(challenge))
}

/// A ceremony the adapter could not start is a dependency's failure; a
/// function without ceremonies answers as a deployment without passkeys.
pub(super) fn started_or(e: CeremonyError) -> Error {
    match e {
        CeremonyError::Unwired => unavailable(),
        CeremonyError::Refused(_) => Error::Unavailable { what: "passkeys" },
    }
}

pub(super) fn unavailable() -> Error {
    Error::conflict("method_unavailable").with("method", "passkey")
}

/// A passkey's name as typed: trimmed, 1 to [`NAME_MAX`] characters, no
/// control characters.
fn passkey_name(v: &str) -> Result<String> {
    let v = v.trim();
    let code = |c: &'static str| Error::invalid(c).with("field", "name");
    if v.is_empty() {
        return Err(code("empty"));
    }
    if v.chars().count() > NAME_MAX {
        return Err(code("too_long").with("max", NAME_MAX));
    }
    if v.chars().any(char::is_control) {
        return Err(code("control_characters"));
    }
    Ok(v.to_string())
}

/// The user handle WebAuthn keeps: the 16 bytes of the user's ULID (no
/// personal data; one read finds the user from it).
pub(super) fn handle_of(user_id: &str) -> Result<[u8; 16]> {
    user_id
        .parse::<ulid::Ulid>()
        .map(|u| u.to_bytes())
        .map_err(|_| Error::Unavailable { what: "passkeys" })
}

impl App {
    /// The ceremony a response names, with its version.
    pub(super) async fn ceremony(&self, challenge: &str) -> Result<Option<(Ceremony, u64)>> {
        let now = self.now();
        Ok(get_as::<Ceremony>(self.store.as_ref(), &ceremony_key(challenge), now).await?)
    }

    /// Keep a ceremony's state until it finishes (five minutes at most).
    pub(super) async fn keep_ceremony(&self, challenge: &str, c: &Ceremony) -> Result<()> {
        let now = self.now();
        let w = Write::put(
            ceremony_key(challenge),
            c,
            Some(now.plus(CEREMONY_TTL)),
            Cond::Absent,
        );
        self.store.write(vec![w], now).await?;
        Ok(())
    }

    // home of MFA-10
    /// MFA-10: begin enrolling a passkey or security key: the first factor
    /// (SET-4) or a further one (MFA-8: a fresh proof first, `password`
    /// when the last one is stale). The options name the user's passkeys,
    /// which the authenticator must not register twice; user verification
    /// is required and a discoverable credential preferred.
    pub async fn begin_passkey_registration(
        &self,
        token: Option<&str>,
        name: Option<&str>,
        password: Option<&str>,
        ctx: &Ctx,
    ) -> Result<Value> {
        if !self.config.factors.passkeys {
            return Err(unavailable());
        }
        let typed = name
            .filter(|n| !n.trim().is_empty())
            .map(passkey_name)
            .transpose()?;
        let s = self.enrolling_proved(token, password, ctx).await?;
        if s.user.passkeys.len() >= MAX_PASSKEYS {
            return Err(Error::conflict("passkeys_full").with("max", MAX_PASSKEYS));
        }
        let name = typed.unwrap_or_else(|| {
            let word = crate::i18n::t(ctx.lang, "passkey.default_name");
            format!("{word} {}", s.user.passkeys.len() + 1)
        });
        let exclude: Vec<String> = s
            .user
            .passkeys
            .iter()
            .map(|p| p.credential.clone())
            .collect();
        let started = self
            .ceremonies
            .start_registration(
                &handle_of(&s.user.id)?,
                s.user.login_id.as_str(),
                s.user.name.as_str(),
                &exclude,
            )
            .map_err(started_or)?;
        let c = Ceremony {
            purpose: Purpose::Register,
            session_hash: Some(s.token_hash.clone()),
            user_id: Some(s.user.id.clone()),
            state: started.state,
            name: Some(name),
            login_key: None,
        };
        self.keep_ceremony(&started.challenge, &c).await?;
        Ok(started.options)
    }

    /// MFA-10: finish enrolling: the browser's credential, checked against
    /// the ceremony this session began; the passkey joins the user's in one
    /// conditional write with the ceremony's end, as a factor change
    /// (`account::effects`: sessions, devices, notice, audit). The first
    /// factor brings recovery codes (MFA-5).
    pub async fn finish_passkey_registration(
        &self,
        token: Option<&str>,
        response: &Value,
        ctx: &Ctx,
    ) -> Result<Enrolled> {
        let s = self.enrolling(token).await?;
        let refused = || Error::invalid("passkey_refused");
        let presented = self.ceremonies.presented(response).map_err(|_| refused())?;
        let Some((c, version)) = self.ceremony(&presented.challenge).await? else {
            return Err(refused());
        };
        if c.purpose != Purpose::Register
            || c.session_hash.as_deref() != Some(s.token_hash.as_str())
            || c.user_id.as_deref() != Some(s.user.id.as_str())
        {
            return Err(refused());
        }
        let used = Write::Delete {
            key: ceremony_key(&presented.challenge),
            cond: Cond::Version(version),
        };
        let registered = match self.ceremonies.finish_registration(response, &c.state) {
            Ok(r) => r,
            Err(e) => {
                let why = match e {
                    CeremonyError::Refused(why) => why,
                    CeremonyError::Unwired => return Err(unavailable()),
                };
                let writes = vec![
                    used,
                    self.audit(ctx, "mfa.passkey_refused", s.who(), Some(why)),
                ];
                self.store.write(writes, self.now()).await?;
                return Err(refused());
            }
        };
        if s.user.passkeys.iter().any(|p| p.id == registered.id) {
            return Err(Error::conflict("conflict"));
        }
        // Checked again on the user as read now: ceremonies begun in
        // parallel never take the user past the cap.
        if s.user.passkeys.len() >= MAX_PASSKEYS {
            return Err(Error::conflict("passkeys_full").with("max", MAX_PASSKEYS));
        }
        let record = PasskeyRecord {
            id: registered.id,
            name: c.name.unwrap_or_default(),
            credential: registered.credential,
            discoverable: registered.discoverable,
            backup_eligible: registered.backup_eligible,
            backed_up: registered.backed_up,
            created_at: self.now(),
            last_used_at: None,
        };
        self.enrol(
            &s,
            Method::Passkey,
            vec![used],
            |u| u.passkeys.push(record),
            ctx,
        )
        .await
    }

    /// MFA-10: the signed-in user's passkeys.
    pub async fn passkeys(&self, token: Option<&str>) -> Result<Vec<PasskeyInfo>> {
        let s = self.signed(token, &[Stage::Full]).await?;
        Ok(s.user.passkeys.iter().map(PasskeyInfo::of).collect())
    }

    /// MFA-10: give a passkey another name (audited; nothing else changes).
    pub async fn rename_passkey(
        &self,
        token: Option<&str>,
        id: &str,
        name: &str,
        ctx: &Ctx,
    ) -> Result<Vec<PasskeyInfo>> {
        let name = passkey_name(name)?;
        let s = self.signed(token, &[Stage::Full]).await?;
        let mut user = s.user.clone();
        let Some(p) = user.passkeys.iter_mut().find(|p| p.id == id) else {
            return Err(Error::NotFound);
        };
        p.name = name;
        user.updated_at = self.now();
        self.write_passkeys(&s, user, Change::PasskeyRenamed, Some(id), ctx)
            .await
    }

    /// MFA-10 / MFA-8: remove a passkey: a factor change, which needs a
    /// fresh proof (`password` when the last one is stale), ends the user's
    /// other sessions and mails a notice. The last factor is never removed
    /// (MFA-1): a user whose only method is one passkey adds another first.
    pub async fn remove_passkey(
        &self,
        token: Option<&str>,
        id: &str,
        password: Option<&str>,
        ctx: &Ctx,
    ) -> Result<Vec<PasskeyInfo>> {
        let s = self.signed(token, &[Stage::Full]).await?;
        if !s.user.passkeys.iter().any(|p| p.id == id) {
            return Err(Error::NotFound);
        }
        let s = self.enrolling_proved(token, password, ctx).await?;
        let mut user = s.user.clone();
        user.passkeys.retain(|p| p.id != id);
        if user.passkeys.is_empty() {
            user.methods.retain(|m| m != Method::Passkey.as_str());
        }
        // MFA-1, and MFA-2 where e-mail codes may not stand alone.
        let email_alone = user.methods.iter().all(|m| m == "email");
        if user.methods.is_empty() || (email_alone && self.config.email_otp_needs_other_method) {
            return Err(Error::conflict("last_factor"));
        }
        user.updated_at = self.now();
        let change = Change::FactorRemoved(Method::Passkey);
        self.write_passkeys(&s, user, change, Some(id), ctx).await
    }

    /// Write the user's passkeys as `change` has them, with its effects.
    async fn write_passkeys(
        &self,
        s: &Signed,
        mut user: crate::model::User,
        change: Change<'_>,
        id: Option<&str>,
        ctx: &Ctx,
    ) -> Result<Vec<PasskeyInfo>> {
        let made = Made::by(ctx)
            .in_session(&s.token_hash, &s.session, Cond::Exists)
            .detail(format!("passkey {}", id.unwrap_or("-")));
        let applied = self.apply_change(&mut user, s.user_version, change, made);
        match self.store.write(applied.writes, self.now()).await {
            Ok(()) => Ok(user.passkeys.iter().map(PasskeyInfo::of).collect()),
            Err(StoreError::Conflict) => Err(Error::conflict("conflict")),
            Err(e) => Err(e.into()),
        }
    }
}
