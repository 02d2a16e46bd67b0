//! Records the domain keeps, and where each lives in the store.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::i18n::Lang;
use crate::ids::{Ecid, Email, LoginId, PersonName, TenantId};
use crate::store::Key;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserState {
    /// MIG-6: migrated, no password, no second factor; cannot sign in.
    PendingSetup,
    Active,
    /// ADM-3: never deleted, only disabled.
    Disabled,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    #[default]
    General,
}

/// Acceptance of a document, with its version and time (TOS-1, CLM-2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    pub version: String,
    pub at: Timestamp,
}

/// MFA-1: the second factors a user can enrol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Totp,
    Email,
    Sms,
    /// MFA-9: the code read out in a phone call.
    Voice,
    /// MFA-10: a passkey or a security key (WebAuthn).
    Passkey,
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::Totp,
        Method::Email,
        Method::Sms,
        Method::Voice,
        Method::Passkey,
    ];
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "totp" => Some(Self::Totp),
            "email" => Some(Self::Email),
            "sms" => Some(Self::Sms),
            "voice" => Some(Self::Voice),
            "passkey" => Some(Self::Passkey),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Email => "email",
            Self::Sms => "sms",
            Self::Voice => "voice",
            Self::Passkey => "passkey",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// MFA-10: a passkey or security key of a user, kept on the user's record
/// (one read finds the user and their credentials).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyRecord {
    /// The credential ID, base64url.
    pub id: String,
    /// The user's name for it.
    pub name: String,
    /// The credential as the WebAuthn adapter keeps it: public key,
    /// signature counter, backup flags (no secret).
    pub credential: String,
    /// Whether it signs in without a password (the authenticator keeps it).
    #[serde(default)]
    pub discoverable: Option<bool>,
    #[serde(default)]
    pub backup_eligible: bool,
    /// Synced to the user's other devices (as last seen).
    #[serde(default)]
    pub backed_up: bool,
    pub created_at: Timestamp,
    #[serde(default)]
    pub last_used_at: Option<Timestamp>,
}

/// ADM-1's fields beyond the identity: what an admin records about a user.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub title: Option<String>,
    pub mobile: Option<String>,
    /// An IANA zone (`Asia/Tokyo`) for the times the user is shown
    /// (ADM-6); none: Japan's.
    pub time_zone: Option<String>,
    pub group: Option<String>,
    pub comment: Option<String>,
}

/// ADM-8: the last change an admin or an operator made to the account
/// (the audit record has the rest: the reason, the fields).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastChange {
    pub at: Timestamp,
    /// The audit kind (`account.disabled`).
    pub what: String,
    /// The admin's login ID, or `operator`.
    pub by: String,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub tenant_id: TenantId,
    pub parent_tenant_id: Option<TenantId>,
    pub login_id: LoginId,
    pub email: Email,
    pub name: PersonName,
    pub phone: String,
    /// SET-2 / MIG-5: the digits of the legacy phone the record came with,
    /// kept only when MIG-5 replaced it (the user never saw `phone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_phone: Option<String>,
    pub role: Role,
    pub state: UserState,
    pub lang: Lang,
    /// ADM-1: title, mobile, time zone, group, comment.
    #[serde(default)]
    pub profile: Profile,
    /// ADM-8: the last admin's or operator's change.
    #[serde(default)]
    pub last_change: Option<LastChange>,
    /// argon2id PHC string (PW-4).
    pub password_hash: Option<String>,
    /// Enrolled second factors (`totp`, `email`, `sms`, `voice`, `passkey`).
    pub methods: Vec<String>,
    /// Legacy identity (MIG-1), when migrated.
    pub ecid: Option<Ecid>,
    pub legacy_login_id: Option<String>,
    pub legacy_password_hash: Option<String>,
    pub service_ids: Vec<String>,
    /// SET-1: hash of the newest setup token.
    pub setup_token_hash: Option<String>,
    /// SET-1: when the newest setup token expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_token_expires_at: Option<Timestamp>,
    /// SET-1: earlier setup tokens, still valid until they expire or one of
    /// the user's links is used (a resend never voids a link the user may
    /// be about to use).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_setup_tokens: Vec<EarlierLink>,
    pub setup_sent_at: Option<Timestamp>,
    pub password_set_at: Option<Timestamp>,
    /// MIG-12: when the window-closing notice was sent.
    #[serde(default)]
    pub closure_notice_at: Option<Timestamp>,
    /// RST-4: hash of the one password link that is valid now.
    #[serde(default)]
    pub reset_token_hash: Option<String>,
    /// CLM-3: contracts of legacy accounts linked to this one.
    #[serde(default)]
    pub linked_tenants: Vec<TenantId>,
    /// CLM-3: a legacy account linked into another account (then disabled).
    #[serde(default)]
    pub merged_into: Option<String>,
    /// TOS-1 / CLM-2: accepted terms of use and privacy policy.
    #[serde(default)]
    pub terms: Option<Acceptance>,
    #[serde(default)]
    pub privacy: Option<Acceptance>,
    /// MFA-6: the verified SMS number, E.164.
    #[serde(default)]
    pub sms_phone: Option<String>,
    /// MFA-9: the verified number voice codes are called on, E.164.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_phone: Option<String>,
    /// MFA-10: the user's passkeys and security keys (`passkey` is among
    /// `methods` while there is one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passkeys: Vec<PasskeyRecord>,
    /// SET-4: a method an admin chose for the user; enrolment skips the choice.
    #[serde(default)]
    pub preset_method: Option<String>,
    /// MFA-7: remembered devices carry the epoch they were made in; moving
    /// it on voids them all (which changes do: `account::effects`).
    #[serde(default)]
    pub device_epoch: u32,
    /// RST-5 / PW-5: sessions carry the epoch they were made in; moving it
    /// on ends every session made before (which changes do:
    /// `account::effects`).
    #[serde(default)]
    pub session_epoch: u32,
    /// When the newest password link was mailed (one a minute at most).
    #[serde(default)]
    pub reset_sent_at: Option<Timestamp>,
    /// RST-3: when the user last completed a password reset.
    #[serde(default)]
    pub reset_done_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// SET-1: an earlier setup link of a user, valid until it expires or one
/// of the user's links is used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlierLink {
    pub hash: String,
    pub expires_at: Timestamp,
}

/// SET-1: at most this many setup links of a user are valid at once. A
/// resend asked for by whoever knows the login ID and e-mail makes no new
/// link while this many are live (the user has them all), so it never
/// voids one; only an operator's send replaces the oldest.
pub const SETUP_LINKS_MAX: usize = 5;

impl User {
    /// SET-1: whether `hash` is one of this user's setup tokens (its item
    /// holds its expiry).
    pub fn has_setup_token(&self, hash: &str) -> bool {
        let eq = |h: &str| crate::random::ct_eq(h.as_bytes(), hash.as_bytes());
        self.setup_token_hash.as_deref().is_some_and(eq)
            | self.earlier_setup_tokens.iter().any(|l| eq(&l.hash))
    }

    /// SET-1: how many of the user's setup links are still valid at `now`.
    pub fn live_setup_links(&self, now: Timestamp) -> usize {
        let newest =
            self.setup_token_hash.is_some() && self.setup_token_expires_at.is_none_or(|e| now < e);
        usize::from(newest)
            + self
                .earlier_setup_tokens
                .iter()
                .filter(|l| now < l.expires_at)
                .count()
    }

    /// SET-1: every setup token of the user, now void (set up, merged,
    /// re-registered or past the window): the hashes whose items to delete.
    pub fn take_setup_tokens(&mut self) -> Vec<String> {
        self.setup_token_expires_at = None;
        let mut all: Vec<String> = self.setup_token_hash.take().into_iter().collect();
        all.extend(self.earlier_setup_tokens.drain(..).map(|l| l.hash));
        all
    }

    /// SET-1: `hash` (expiring at `expires`) becomes the newest setup token;
    /// the one before stays valid. Answers the hashes that drop out: the
    /// expired, and the oldest beyond [`SETUP_LINKS_MAX`].
    pub fn push_setup_token(
        &mut self,
        hash: String,
        expires: Timestamp,
        now: Timestamp,
    ) -> Vec<String> {
        if let Some(prev) = self.setup_token_hash.replace(hash) {
            let expires_at = self.setup_token_expires_at.unwrap_or(expires);
            self.earlier_setup_tokens.push(EarlierLink {
                hash: prev,
                expires_at,
            });
        }
        self.setup_token_expires_at = Some(expires);
        let mut dropped = Vec::new();
        self.earlier_setup_tokens.retain(|l| {
            let live = now < l.expires_at;
            if !live {
                dropped.push(l.hash.clone());
            }
            live
        });
        let excess = (self.earlier_setup_tokens.len() + 1).saturating_sub(SETUP_LINKS_MAX);
        dropped.extend(self.earlier_setup_tokens.drain(..excess).map(|l| l.hash));
        dropped
    }

    // home of MIG-6
    /// A user pending setup with only its identity: no password, factor,
    /// legacy data or history yet (MIG-6, ADM-1). Callers set the rest.
    pub fn pending(
        id: String,
        tenant_id: TenantId,
        login_id: LoginId,
        email: Email,
        name: PersonName,
        now: Timestamp,
    ) -> Self {
        Self {
            id,
            tenant_id,
            parent_tenant_id: None,
            login_id,
            email,
            name,
            phone: String::new(),
            legacy_phone: None,
            role: Role::General,
            state: UserState::PendingSetup,
            lang: Lang::Ja,
            profile: Profile::default(),
            last_change: None,
            password_hash: None,
            methods: Vec::new(),
            ecid: None,
            legacy_login_id: None,
            legacy_password_hash: None,
            service_ids: Vec::new(),
            setup_token_hash: None,
            setup_token_expires_at: None,
            earlier_setup_tokens: Vec::new(),
            setup_sent_at: None,
            password_set_at: None,
            closure_notice_at: None,
            reset_token_hash: None,
            linked_tenants: Vec::new(),
            merged_into: None,
            terms: None,
            privacy: None,
            sms_phone: None,
            voice_phone: None,
            passkeys: Vec::new(),
            preset_method: None,
            device_epoch: 0,
            session_epoch: 0,
            reset_sent_at: None,
            reset_done_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// MIG-3: the login ID is not the legacy one (it got `_<ecid>`).
    pub fn is_renamed(&self) -> bool {
        self.legacy_login_id
            .as_deref()
            .is_some_and(|l| l != self.login_id.as_str())
    }

    /// What the user's password may not contain (PW-3).
    pub fn personal(&self) -> crate::password::Personal<'_> {
        crate::password::Personal {
            login_id: self.login_id.as_str(),
            email: self.email.as_str(),
            name: self.name.as_str(),
        }
    }
}

impl fmt::Debug for User {
    // No hashes in debug output (MSG-2).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("login_id", &self.login_id)
            .field("tenant_id", &self.tenant_id)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// `LOGIN#<login id, case-folded>` → user: the uniqueness of login IDs (MIG-3, LOG-1).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoginRef {
    pub user_id: String,
}

/// A setup link's token, stored by hash (SET-1).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SetupToken {
    pub user_id: String,
}

/// The short-lived permission, after the identity check, to set the first password (SET-3).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Grant {
    pub user_id: String,
    pub setup_hash: String,
}

pub mod keys {
    use super::*;

    pub fn user(id: &str) -> Key {
        Key::new(format!("USER#{id}"), "USER")
    }
    pub fn login(login: &LoginId) -> Key {
        Key::new(format!("LOGIN#{}", login.key()), "LOGIN")
    }
    pub fn tenant_member(tenant: &TenantId, user_id: &str) -> Key {
        Key::new(
            format!("TENANT#{}", tenant.as_str()),
            format!("USER#{user_id}"),
        )
    }
    pub fn tenant_members(tenant: &TenantId) -> String {
        format!("TENANT#{}", tenant.as_str())
    }
    /// ADM-4: the tenant's parent contract (written by the migration).
    pub fn tenant_parent(tenant: &TenantId) -> Key {
        Key::new(format!("TENANT#{}", tenant.as_str()), "PARENT")
    }
    /// ADM-3: rewritten by every change that could leave the tenant
    /// without an active admin, on the version read before counting them.
    pub fn admin_guard(tenant: &TenantId) -> Key {
        Key::new(format!("TENANT#{}", tenant.as_str()), "ADMINS")
    }
    pub fn setup_token(hash: &str) -> Key {
        Key::new(format!("SETUP#{hash}"), "SETUP")
    }
    pub fn grant(hash: &str) -> Key {
        Key::new(format!("GRANT#{hash}"), "GRANT")
    }
    pub fn lock(scope: &str, subject: &str) -> Key {
        Key::new(format!("LOCK#{scope}#{subject}"), "LOCK")
    }
    pub fn session(hash: &str) -> Key {
        Key::new(format!("SESSION#{hash}"), "SESSION")
    }
    /// AUD-1: a tenant's audit records of one month (UTC, `YYYY-MM`) are
    /// one partition; records of no tenant (anonymous failures) are spread
    /// over [`crate::trail::SHARDS`] partitions a day, so that no partition
    /// takes all of a password-spraying attack's writes (ADM-6).
    pub fn audit_partition(tenant: Option<&TenantId>, at: Timestamp, shard: u8) -> String {
        match tenant {
            Some(t) => format!("AUDIT#{}#{}", t.as_str(), crate::trail::month(at)),
            None => format!("AUDIT#-#{}#{shard:02}", crate::trail::day(at)),
        }
    }
    /// ADM-6: a tenant's sign-in events of one month (they are its audit
    /// records of sign-ins), newest first.
    pub fn sign_ins_of_tenant(tenant: &TenantId, month: &str) -> String {
        format!("SIGNIN#T#{}#{month}", tenant.as_str())
    }
    /// ADM-6: one user's copy of their sign-in events of one month.
    pub fn sign_ins_of_user(user_id: &str, month: &str) -> String {
        format!("SIGNIN#U#{user_id}#{month}")
    }
    /// ADM-6: sign-in events of no user (a login ID nobody holds), spread
    /// like the anonymous audit.
    pub fn sign_ins_anonymous(at: Timestamp, shard: u8) -> String {
        format!("SIGNIN#-#{}#{shard:02}", crate::trail::day(at))
    }
    pub fn staged(tenant: &TenantId, ecid: &Ecid) -> Key {
        Key::new(format!("MIG#{}", tenant.as_str()), ecid.as_str())
    }
    /// The migration's own state: `CHECKPOINT`, `JOB`, `IMPORT`, `WINDOW`.
    pub fn migration_state(name: &str) -> Key {
        Key::new("MIGSTATE", name)
    }
    pub fn claim_grant(hash: &str) -> Key {
        Key::new(format!("CLAIM#{hash}"), "CLAIM")
    }
    /// CLM: legacy service ID → the migrated users that hold it.
    pub fn service_partition(service_id: &str) -> String {
        format!("SERVICE#{}", service_id.to_ascii_lowercase())
    }
    pub fn service(service_id: &str, user_id: &str) -> Key {
        Key::new(service_partition(service_id), format!("USER#{user_id}"))
    }
    /// MFA-4: a user's TOTP secret and the last time step accepted.
    pub fn totp(user_id: &str) -> Key {
        Key::new(format!("USER#{user_id}"), "TOTP")
    }
    /// MFA-4: a TOTP secret shown but not yet confirmed, per sign-in session.
    pub fn totp_pending(session_hash: &str) -> Key {
        Key::new(format!("SESSION#{session_hash}"), "TOTP")
    }
    /// MFA-5: the user's current recovery codes, by hash.
    pub fn recovery(user_id: &str) -> Key {
        Key::new(format!("USER#{user_id}"), "RECOVERY")
    }
    /// MFA-3: the one live code of a channel, tied to the sign-in session.
    pub fn otp(session_hash: &str, channel: &str) -> Key {
        Key::new(format!("SESSION#{session_hash}"), format!("OTP#{channel}"))
    }
    /// MFA-3: sends per user, channel and hour.
    pub fn otp_sends(user_id: &str, channel: &str) -> Key {
        Key::new(format!("USER#{user_id}"), format!("SENDS#{channel}"))
    }
    /// MFA-10: a WebAuthn ceremony begun, by the hash of its challenge.
    pub fn ceremony(challenge_hash: &str) -> Key {
        Key::new(format!("WEBAUTHN#{challenge_hash}"), "CEREMONY")
    }
    /// MFA-7: a remembered device, by the hash of its cookie.
    pub fn device(hash: &str) -> Key {
        Key::new(format!("DEVICE#{hash}"), "DEVICE")
    }
    pub fn reset_token(hash: &str) -> Key {
        Key::new(format!("RESET#{hash}"), "RESET")
    }
    pub fn staged_partition(tenant: &str) -> String {
        format!("MIG#{tenant}")
    }
    pub const STAGED_TENANTS: &str = "MIGTENANTS";
    pub fn staged_tenant(tenant: &TenantId) -> Key {
        Key::new(STAGED_TENANTS, tenant.as_str())
    }
    /// Every legacy record that wants one login ID (MIG-3).
    pub fn claimants(login_key: &str) -> String {
        format!("MIGLID#{login_key}")
    }
    pub fn claimant(login: &LoginId, tenant: &TenantId, ecid: &Ecid) -> Key {
        Key::new(claimants(&login.key()), claimant_sk(tenant, ecid))
    }
    /// Claimants sort by ecid, then tenant: the first keeps the plain ID.
    pub fn claimant_sk(tenant: &TenantId, ecid: &Ecid) -> String {
        format!("{}#{}", ecid.as_str(), tenant.as_str())
    }
    /// CASE-4: one partition per tenant holds its cases (`C#<id>`), the
    /// list by update time (`U#<newest first>#<id>`) and the comments
    /// (`M#<case id>#<comment id>`): a list or a read names the tenant in the
    /// partition key, so it cannot reach another tenant's case.
    pub fn cases(tenant: &TenantId) -> String {
        format!("CASES#{}", tenant.as_str())
    }
    pub fn case(tenant: &TenantId, id: &str) -> Key {
        Key::new(cases(tenant), format!("C#{id}"))
    }
    pub const CASE_ENTRIES: &str = "U#";
    /// Newest first: the sort key counts down with the update time.
    pub fn case_entry(tenant: &TenantId, updated_at: Timestamp, id: &str) -> Key {
        Key::new(
            cases(tenant),
            format!("{CASE_ENTRIES}{}#{id}", case_entry_time(updated_at)),
        )
    }
    pub fn case_entry_time(t: Timestamp) -> String {
        format!(
            "{:013}",
            9_999_999_999_999i64 - t.millis().clamp(0, 9_999_999_999_999)
        )
    }
    pub const CASE_COMMENTS: &str = "M#";
    pub fn case_comments(case_id: &str) -> String {
        format!("{CASE_COMMENTS}{case_id}#")
    }
    /// Comments sort by their number within the case (1, 2, …).
    pub fn case_comment(tenant: &TenantId, case_id: &str, seq: u32) -> Key {
        Key::new(cases(tenant), format!("{}{seq:06}", case_comments(case_id)))
    }
    /// A thread entry that only records a change of status: after the
    /// comment numbered `seq` (or before the first), in time order.
    pub fn case_status_entry(tenant: &TenantId, case_id: &str, seq: u32, ulid: &str) -> Key {
        Key::new(
            cases(tenant),
            format!("{}{seq:06}#{ulid}", case_comments(case_id)),
        )
    }
    /// CASE-6: where a file on the case is (`F#<case>#<attachment>`).
    pub fn case_attachment(tenant: &TenantId, case_id: &str, id: &str) -> Key {
        Key::new(cases(tenant), format!("F#{case_id}#{id}"))
    }
    /// CASE-2: a readable number → its case (numbers are portal-wide).
    pub fn case_number(number: &str) -> Key {
        Key::new(format!("CASENO#{number}"), "CASENO")
    }
    /// CASE-2: the atomic counter behind the numbers.
    pub fn case_counter() -> Key {
        Key::new("COUNTER", "CASENO")
    }
}
