//! MFA-3 / MFA-6 / MFA-9: e-mail, SMS and voice codes. One live code per channel and
//! sign-in session, stored salted and hashed, valid five minutes, resent
//! after 30 s, ended by five wrong entries; sends per hour capped.

use serde::{Deserialize, Serialize};

use super::{codes, Method, Signed};
use crate::app::{App, Ctx};
use crate::clock::Timestamp;
use crate::delivery::{Sms, VoiceCall};
use crate::error::{Error, Result};
use crate::ids::Phone;
use crate::model::keys;
use crate::session::Stage;
use crate::store::{get_as, Cond, StoreError, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Sms,
    /// MFA-9: the code read out in a call.
    Voice,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
            Self::Voice => "voice",
        }
    }
    pub fn method(self) -> Method {
        match self {
            Self::Email => Method::Email,
            Self::Sms => Method::Sms,
            Self::Voice => Method::Voice,
        }
    }
    /// The channel of a method that sends codes.
    pub fn of(method: Method) -> Option<Self> {
        match method {
            Method::Email => Some(Self::Email),
            Method::Sms => Some(Self::Sms),
            Method::Voice => Some(Self::Voice),
            Method::Totp | Method::Passkey => None,
        }
    }
    /// SMS and voice send to a number the user proves (MFA-6, MFA-9).
    pub fn by_phone(self) -> bool {
        matches!(self, Self::Sms | Self::Voice)
    }
    /// The proved number this channel sends to, if enrolled.
    pub fn number(self, user: &crate::model::User) -> Option<&str> {
        match self {
            Self::Email => None,
            Self::Sms => user.sms_phone.as_deref(),
            Self::Voice => user.voice_phone.as_deref(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// The challenge after the password.
    Login,
    /// Proving a new method before it is used.
    Enroll,
}

impl Purpose {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "login" => Ok(Self::Login),
            "enroll" => Ok(Self::Enroll),
            _ => Err(Error::invalid("invalid_purpose")),
        }
    }

    /// MFA-6 / MFA-9: the number a code goes to. Enrolling SMS or voice
    /// proves the number typed; a sign-in code goes to the enrolled number,
    /// and an e-mail code to the registered address: neither takes a number.
    pub fn number_to_prove(
        self,
        channel: Channel,
        phone: Option<&str>,
        country: Option<&str>,
    ) -> Result<Option<Phone>> {
        match (channel.by_phone(), self, phone) {
            (true, Self::Enroll, Some(p)) => Phone::parse(p, country).map(Some),
            (true, Self::Enroll, None) => Err(Error::invalid("phone_required")),
            (_, _, None) => Ok(None),
            (_, _, Some(_)) => Err(Error::invalid("unexpected_phone")),
        }
    }
}

/// The stored code (`SESSION#<hash>` / `OTP#<channel>`).
#[derive(Clone, Serialize, Deserialize)]
struct OtpCode {
    user_id: String,
    purpose: Purpose,
    salt: String,
    code_hash: String,
    sent_at: Timestamp,
    /// Entries made against this code so far (reserved before checking).
    tries: u32,
    /// MFA-6: the number being proved (SMS enrolment).
    phone: Option<String>,
}

/// Sends per user, channel and hour (`USER#<id>` / `SENDS#<channel>`).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct SendWindow {
    started: Timestamp,
    count: u32,
}

/// `POST /api/otp/*`'s answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CodeSent {
    pub expires_in_s: u64,
    pub resend_after_s: u64,
}

/// What a page shows about the live code of a channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtpStatus {
    pub purpose: Purpose,
    /// MFA-6: the number an SMS enrolment is proving.
    pub phone: Option<String>,
    /// Seconds until a new code can be asked for (0: now).
    pub resend_in_s: u64,
    pub expires_in_s: u64,
}

/// A proof ready to be written: its write and what it was.
pub(super) struct Proved {
    pub write: Write,
    pub what: &'static str,
}

const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);

impl App {
    // home of MFA-3
    /// MFA-3: send a code by e-mail, SMS or a call (MFA-9) for the sign-in
    /// challenge or to prove a new method (SMS, voice: the number to prove,
    /// MFA-6). A new method
    /// from a signed-in session needs a fresh proof first (MFA-8:
    /// `password`, or given recently); the challenge ignores `password`.
    pub async fn send_code(
        &self,
        token: Option<&str>,
        channel: Channel,
        purpose: Purpose,
        phone: Option<Phone>,
        password: Option<&str>,
        ctx: &Ctx,
    ) -> Result<CodeSent> {
        let s = match purpose {
            Purpose::Login => self.signed(token, &[Stage::Mfa]).await?,
            Purpose::Enroll => self.enrolling_proved(token, password, ctx).await?,
        };
        if channel == Channel::Voice && !self.config.factors.voice {
            return Err(Error::conflict("method_unavailable").with("method", channel.as_str()));
        }
        let to = match (purpose, channel) {
            (Purpose::Login, _) if !s.has(channel.method()) => {
                return Err(Error::invalid("method_not_enrolled").with("method", channel.as_str()))
            }
            (Purpose::Login, Channel::Email) => s.user.email.as_str().to_string(),
            (Purpose::Login, _) => channel
                .number(&s.user)
                .ok_or_else(|| Error::invalid("method_not_enrolled"))?
                .to_string(),
            (Purpose::Enroll, Channel::Email) => {
                if !self.enrollable(&s.user).contains(&Method::Email) {
                    return Err(Error::conflict("email_otp_not_first"));
                }
                s.user.email.as_str().to_string()
            }
            (Purpose::Enroll, _) => phone
                .as_ref()
                .ok_or_else(|| Error::invalid("phone_required"))?
                .as_str()
                .to_string(),
        };
        let now = self.now();
        let policy = self.config.otp;
        let key = keys::otp(&s.token_hash, channel.as_str());
        let current = get_as::<OtpCode>(self.store.as_ref(), &key, now).await?;
        if let Some((c, _)) = &current {
            let ready = c.sent_at.plus(policy.resend_after);
            if now < ready {
                return Err(Error::Throttled {
                    retry_after_s: Some(now.until(ready).as_secs().max(1)),
                });
            }
        }
        if channel == Channel::Voice {
            // MFA-9: calls only to the countries the deployment calls, and
            // a cap per number whoever asks (no toll fraud, no harassment).
            let countries = &self.config.factors.voice_countries;
            if !countries.iter().any(|cc| to.starts_with(&format!("+{cc}"))) {
                return Err(Error::invalid("voice_country_not_allowed")
                    .with("countries", countries.join(", ")));
            }
            let subject = format!("~{}", self.typed_subject(&format!("voice to {to}")));
            self.count_send(&subject, channel).await?;
        }
        self.count_send(&s.user.id, channel).await?;
        let code = codes::six_digits(self.rng.as_ref());
        let salt = codes::salt(self.rng.as_ref());
        let record = OtpCode {
            user_id: s.user.id.clone(),
            purpose,
            code_hash: codes::otp_hash(&salt, &s.token_hash, &code),
            salt,
            sent_at: now,
            tries: 0,
            phone: phone.map(|p| p.as_str().to_string()),
        };
        let cond = current.map_or(Cond::Absent, |(_, v)| Cond::Version(v));
        let detail = format!("{} {:?}", channel.as_str(), purpose).to_lowercase();
        let writes = vec![
            Write::put(key.clone(), &record, Some(now.plus(policy.ttl)), cond),
            self.audit(ctx, "otp.sent", s.who(), Some(detail)),
        ];
        match self.store.write(writes, now).await {
            Ok(()) => {}
            // A parallel request sent one just now.
            Err(StoreError::Conflict) => {
                return Err(Error::Throttled {
                    retry_after_s: Some(policy.resend_after.as_secs()),
                })
            }
            Err(e) => return Err(e.into()),
        }
        let minutes = policy.ttl.as_secs() / 60;
        let sent = match channel {
            Channel::Email => {
                // In the language of the page the user is on right now.
                let mail =
                    crate::messages::otp_mail(&self.config.brand, ctx.lang, &to, &code, minutes);
                self.mailer.send(&mail).await
            }
            Channel::Sms => {
                let sms = Sms {
                    to,
                    text: crate::messages::otp_sms(&self.config.brand, &code, minutes),
                };
                self.sms.send(&sms).await
            }
            Channel::Voice => {
                // The user's own language: a call has no page.
                let (ssml, text) =
                    super::voice::otp_voice(&self.config.brand, s.user.lang, &code, minutes);
                let call = VoiceCall {
                    to,
                    lang: s.user.lang,
                    ssml,
                    text,
                };
                self.voice.call(&call).await
            }
        };
        if let Err(e) = sent {
            // Fail closed: the code nobody received is withdrawn, so the
            // user can ask again at once.
            let _ = self
                .store
                .write(
                    vec![Write::Delete {
                        key,
                        cond: Cond::Any,
                    }],
                    now,
                )
                .await;
            return Err(e.into());
        }
        Ok(CodeSent {
            expires_in_s: policy.ttl.as_secs(),
            resend_after_s: policy.resend_after.as_secs(),
        })
    }

    /// MFA-3: at most `sends_per_hour` codes per user (MFA-9: and per
    /// called number) and channel, counted with a compare-and-swap.
    async fn count_send(&self, user_id: &str, channel: Channel) -> Result<()> {
        let key = keys::otp_sends(user_id, channel.as_str());
        let cap = self.config.otp.sends_per_hour;
        for round in 0..32u32 {
            let now = self.now();
            let current = get_as::<SendWindow>(self.store.as_ref(), &key, now).await?;
            let (next, cond) = match current {
                Some((w, v)) if now < w.started.plus(HOUR) => {
                    if w.count >= cap {
                        let ends = w.started.plus(HOUR);
                        return Err(Error::Throttled {
                            retry_after_s: Some(now.until(ends).as_secs().max(1)),
                        });
                    }
                    (
                        SendWindow {
                            count: w.count + 1,
                            ..w
                        },
                        Cond::Version(v),
                    )
                }
                Some((_, v)) => (
                    SendWindow {
                        started: now,
                        count: 1,
                    },
                    Cond::Version(v),
                ),
                None => (
                    SendWindow {
                        started: now,
                        count: 1,
                    },
                    Cond::Absent,
                ),
            };
            let w = Write::put(key.clone(), &next, Some(next.started.plus(HOUR)), cond);
            match self.store.write(vec![w], now).await {
                Ok(()) => return Ok(()),
                Err(e) => self.lost_race(round, e).await?,
            }
        }
        Err(Error::Unavailable { what: "store" })
    }

    /// The live code of a channel for this session, for the page.
    pub async fn otp_status(&self, s: &Signed, channel: Channel) -> Result<Option<OtpStatus>> {
        let now = self.now();
        let key = keys::otp(&s.token_hash, channel.as_str());
        Ok(get_as::<OtpCode>(self.store.as_ref(), &key, now)
            .await?
            .map(|(c, _)| OtpStatus {
                purpose: c.purpose,
                phone: c.phone,
                resend_in_s: now
                    .until(c.sent_at.plus(self.config.otp.resend_after))
                    .as_secs(),
                expires_in_s: now.until(c.sent_at.plus(self.config.otp.ttl)).as_secs(),
            }))
    }

    /// MFA-3: check a code. The entry is counted on the code first (a
    /// compare-and-swap), so five entries are all a code ever gets, however
    /// many arrive at once. A match gives the write that uses the code up.
    pub(super) async fn otp_proof(
        &self,
        s: &Signed,
        channel: Channel,
        purpose: Purpose,
        code: &str,
    ) -> Result<Option<Proved>> {
        Ok(self
            .otp_match(s, channel, purpose, code)
            .await?
            .map(|(key, _)| Proved {
                write: Write::Delete {
                    key,
                    cond: Cond::Exists,
                },
                what: channel.as_str(),
            }))
    }

    /// The code's key and its number being proved, when `code` matches.
    pub(super) async fn otp_match(
        &self,
        s: &Signed,
        channel: Channel,
        purpose: Purpose,
        code: &str,
    ) -> Result<Option<(crate::store::Key, Option<String>)>> {
        let key = keys::otp(&s.token_hash, channel.as_str());
        for round in 0..32u32 {
            let now = self.now();
            let Some((mut c, v)) = get_as::<OtpCode>(self.store.as_ref(), &key, now).await? else {
                return Ok(None);
            };
            if c.purpose != purpose
                || c.user_id != s.user.id
                || c.tries >= self.config.otp.max_wrong
            {
                return Ok(None);
            }
            c.tries += 1;
            let expires = c.sent_at.plus(self.config.otp.ttl);
            let w = Write::put(key.clone(), &c, Some(expires), Cond::Version(v));
            match self.store.write(vec![w], now).await {
                Ok(()) => {}
                Err(StoreError::Conflict) => {
                    self.back_off(round).await;
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            let typed = codes::otp_hash(&c.salt, &s.token_hash, code);
            let ok = crate::random::ct_eq(typed.as_bytes(), c.code_hash.as_bytes());
            return Ok(ok.then_some((key, c.phone)));
        }
        Err(Error::Unavailable { what: "store" })
    }

    /// MFA-2/3: prove the e-mail address with the code sent for enrolment.
    pub async fn confirm_email_method(
        &self,
        token: Option<&str>,
        code: &str,
        ctx: &Ctx,
    ) -> Result<super::Enrolled> {
        self.confirm_code_method(token, Channel::Email, code, ctx)
            .await
    }

    /// MFA-6 / MFA-9: prove the SMS or voice number with the code sent to it.
    pub async fn confirm_phone_method(
        &self,
        token: Option<&str>,
        channel: Channel,
        code: &str,
        ctx: &Ctx,
    ) -> Result<super::Enrolled> {
        if !channel.by_phone() {
            return Err(Error::invalid("invalid_method"));
        }
        self.confirm_code_method(token, channel, code, ctx).await
    }

    async fn confirm_code_method(
        &self,
        token: Option<&str>,
        channel: Channel,
        code: &str,
        ctx: &Ctx,
    ) -> Result<super::Enrolled> {
        let s = self.enrolling(token).await?;
        let locks = self.reserve_code_attempt(&s, ctx).await?;
        let Some((key, phone)) = self.otp_match(&s, channel, Purpose::Enroll, code).await? else {
            return Err(self.code_failed(&s, locks, channel.as_str(), ctx).await);
        };
        let used = Write::Delete {
            key,
            cond: Cond::Exists,
        };
        self.enrol(
            &s,
            channel.method(),
            vec![used],
            |u| match channel {
                Channel::Sms => u.sms_phone = phone,
                Channel::Voice => u.voice_phone = phone,
                Channel::Email => {}
            },
            ctx,
        )
        .await
    }
}
