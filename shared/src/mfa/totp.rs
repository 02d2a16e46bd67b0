//! MFA-4: TOTP (RFC 6238, SHA-1, 6 digits, 30 s, one step of skew), a
//! 160-bit secret shown as a QR code and as text, enrolment confirmed by a
//! code, and every time step accepted once.

use std::fmt;

use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use super::otp::Proved;
use super::{Enrolled, Method};
use crate::app::{App, Ctx};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::model::keys;
use crate::store::{get_as, Cond, Write};

/// The user's TOTP secret (`USER#<id>` / `TOTP`).
#[derive(Clone, Serialize, Deserialize)]
struct TotpRecord {
    /// Base32, as the authenticator app has it.
    secret: String,
    /// The last time step accepted (MFA-4: each step once).
    last_step: u64,
}

/// What a code proves at the challenge (MFA-4).
pub(super) enum TotpProof {
    Proved(Proved),
    /// Right code, but its time step was accepted before.
    Used {
        next_in_s: u64,
    },
    Wrong,
}

/// A secret shown for enrolment but not yet confirmed (per session).
#[derive(Clone, Serialize, Deserialize)]
struct PendingTotp {
    secret: String,
}

/// What the enrolment page and `POST /api/mfa/totp` show.
#[derive(Clone, Serialize)]
pub struct TotpSetup {
    pub secret: String,
    pub otpauth_uri: String,
}

impl fmt::Debug for TotpSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSetup(<secret>)")
    }
}

// home of MFA-4
/// The RFC 6238 parameters of MFA-4 for a base32 secret.
pub fn totp(secret_b32: &str, issuer: &str, account: &str) -> Result<Totp> {
    let secret = Secret::try_from_base32(secret_b32).map_err(|_| Error::Unavailable {
        what: "totp secret",
    })?;
    // The otpauth label may not hold a colon; the brand and login ID rarely do.
    let clean = |s: &str| s.replace(':', " ");
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_issuer(Some(clean(issuer)))
        .with_account_name(clean(account))
        .build()
        .map_err(|_| Error::Unavailable { what: "totp" })
}

/// The step a code matches at `now` (one step of skew), if any.
pub fn matching_step(t: &Totp, code: &str, now: Timestamp) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs = u64::try_from(now.millis() / 1000).ok()?;
    t.check(&code, secs)
}

impl App {
    fn totp_for(&self, secret: &str, login_id: &str) -> Result<Totp> {
        totp(secret, &self.config.brand, login_id)
    }

    fn setup_of(&self, secret: &str, login_id: &str) -> Result<TotpSetup> {
        let t = self.totp_for(secret, login_id)?;
        let uri = t
            .to_url()
            .map_err(|_| Error::Unavailable { what: "totp" })?;
        Ok(TotpSetup {
            secret: secret.to_string(),
            otpauth_uri: uri,
        })
    }

    /// MFA-4: a new 160-bit secret for this enrolment session (replacing an
    /// unconfirmed one), as URI, QR code and text. From a signed-in session
    /// only after a fresh proof (MFA-8: `password`, or given recently).
    pub async fn begin_totp(
        &self,
        token: Option<&str>,
        password: Option<&str>,
        ctx: &Ctx,
    ) -> Result<TotpSetup> {
        let s = self.enrolling_proved(token, password, ctx).await?;
        let mut raw = [0u8; 20];
        self.rng.fill(&mut raw);
        let secret = Secret::from(raw.to_vec()).to_base32();
        let setup = self.setup_of(&secret, s.user.login_id.as_str())?;
        let now = self.now();
        let pending = PendingTotp { secret };
        let writes = vec![
            Write::put(
                keys::totp_pending(&s.token_hash),
                &pending,
                Some(now.plus(std::time::Duration::from_secs(15 * 60))),
                Cond::Any,
            ),
            self.audit(ctx, "mfa.totp_secret_issued", s.who(), None),
        ];
        self.store.write(writes, now).await?;
        Ok(setup)
    }

    /// The unconfirmed secret of this session, to show again after a wrong code.
    pub async fn pending_totp(&self, token: Option<&str>) -> Result<Option<TotpSetup>> {
        let s = self.enrolling(token).await?;
        let now = self.now();
        match get_as::<PendingTotp>(self.store.as_ref(), &keys::totp_pending(&s.token_hash), now)
            .await?
        {
            Some((p, _)) => Ok(Some(self.setup_of(&p.secret, s.user.login_id.as_str())?)),
            None => Ok(None),
        }
    }

    /// MFA-4: the first valid code confirms the secret; its step is then
    /// used. A secret is never overwritten silently: a first one is written
    /// only where none is (SET-4), a replacement (MFA-8, the secret was
    /// issued after a fresh proof) only over the record just read.
    pub async fn confirm_totp(
        &self,
        token: Option<&str>,
        code: &str,
        ctx: &Ctx,
    ) -> Result<Enrolled> {
        let s = self.enrolling(token).await?;
        let now = self.now();
        let pkey = keys::totp_pending(&s.token_hash);
        let Some((p, _)) = get_as::<PendingTotp>(self.store.as_ref(), &pkey, now).await? else {
            return Err(Error::invalid("no_totp_setup"));
        };
        let locks = self.reserve_code_attempt(&s, ctx).await?;
        let t = self.totp_for(&p.secret, s.user.login_id.as_str())?;
        let Some(step) = matching_step(&t, code, now) else {
            return Err(self.code_failed(&s, locks, "totp enrolment", ctx).await);
        };
        let record = TotpRecord {
            secret: p.secret,
            last_step: step,
        };
        let key = keys::totp(&s.user.id);
        let cond = match get_as::<TotpRecord>(self.store.as_ref(), &key, now).await? {
            Some((_, v)) if s.has(Method::Totp) => Cond::Version(v),
            _ => Cond::Absent,
        };
        let writes = vec![
            Write::Delete {
                key: pkey,
                cond: Cond::Exists,
            },
            Write::put(key, &record, None, cond),
        ];
        self.enrol(&s, Method::Totp, writes, |_| {}, ctx).await
    }

    /// MFA-4 at the challenge: a matching code of a step later than the last
    /// accepted one gives the write that moves `last_step` on. A matching
    /// code of a used step is refused all the same, but says when the next
    /// code comes (the user typed the code that just confirmed enrolment).
    pub(super) async fn totp_proof(
        &self,
        user: &crate::model::User,
        code: &str,
        now: Timestamp,
    ) -> Result<TotpProof> {
        let key = keys::totp(&user.id);
        let Some((rec, v)) = get_as::<TotpRecord>(self.store.as_ref(), &key, now).await? else {
            return Ok(TotpProof::Wrong);
        };
        let t = self.totp_for(&rec.secret, user.login_id.as_str())?;
        match matching_step(&t, code, now) {
            Some(step) if step <= rec.last_step => {
                let now_s = u64::try_from(now.millis() / 1000).unwrap_or(0);
                let next_in_s = ((rec.last_step + 1) * 30).saturating_sub(now_s).max(1);
                Ok(TotpProof::Used { next_in_s })
            }
            Some(step) => Ok(TotpProof::Proved(Proved {
                write: Write::put(
                    key,
                    &TotpRecord {
                        last_step: step,
                        ..rec
                    },
                    None,
                    Cond::Version(v),
                ),
                what: "totp",
            })),
            None => Ok(TotpProof::Wrong),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // MFA-4: RFC 6238 appendix B, SHA-1 secret "12345678901234567890".
    #[test]
    fn mfa_4_rfc_6238_sha1_vectors_with_one_step_of_skew() {
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        let t = totp(&secret, "tobira", "user@example.com").unwrap();
        // 8-digit vector 94287082 at T=59 → 6 digits 287082.
        let at = |s: i64| Timestamp::from_secs(s);
        assert_eq!(matching_step(&t, "287082", at(59)), Some(1));
        assert_eq!(
            matching_step(&t, "081804", at(1_111_111_109)),
            Some(37_037_036)
        );
        // One step either side, not two.
        assert_eq!(matching_step(&t, "287082", at(59 + 30)), Some(1));
        assert_eq!(matching_step(&t, "287082", at(59 + 60)), None);
        assert_eq!(matching_step(&t, "28708", at(59)), None);
        let url = t.to_url().unwrap();
        assert!(
            url.starts_with("otpauth://totp/tobira:user%40example.com?"),
            "{url}"
        );
        assert!(url.contains("issuer=tobira"), "{url}");
    }
}
