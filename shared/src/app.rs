//! The application: the ports, the configuration, and the shared plumbing of
//! the use cases (audit, counters). The use cases themselves are in
//! `setup`, `login`, `session` and `migration`, as `impl App` blocks.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::{Clock, Timestamp};
use crate::config::Config;
use crate::delivery::{Mailer, SmsSender, VoiceCaller};
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::ids::TenantId;
use crate::model::keys;
use crate::random::{new_ulid, Random};
use crate::softlock::{self, Attempt, LockPolicy, LockState};
use crate::store::{get_as, Cond, Key, Store, StoreError, Write};

/// A reserved attempt ([`App::reserve`]) on the counter at `key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reserved {
    pub key: Key,
    pub attempt: Attempt,
}

impl Reserved {
    /// Whether this reservation reached the limit (the lock starts now).
    pub fn locks(&self) -> bool {
        matches!(self.attempt, Attempt::Allowed { locks: true, .. })
    }
    /// When the lock this reservation set lifts (only if it [`locks`](Self::locks)).
    pub fn locked_until(&self) -> Option<Timestamp> {
        match self.attempt {
            Attempt::Allowed { next, locks: true } => next.locked_until,
            _ => None,
        }
    }
    /// The write that clears the counter (a success).
    pub fn clear(&self) -> Write {
        Write::Delete {
            key: self.key.clone(),
            cond: Cond::Any,
        }
    }
    /// A condition on the counter that always holds: the second item of a
    /// refusal's record, so that every refusal is one transaction of two
    /// items, whether or not it also records a lock (LOG-3).
    pub fn touch(&self) -> Write {
        Write::Check {
            key: self.key.clone(),
            cond: Cond::Any,
        }
    }
}

/// A counter that never reaches its limit is forgotten this long after its
/// last attempt (so that probes of names nobody holds leave nothing behind
/// for long, and so that every subject's counter lives alike: LOG-3).
pub const COUNTER_TTL: Duration = Duration::from_secs(24 * 3600);

#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub mailer: Arc<dyn Mailer>,
    pub sms: Arc<dyn SmsSender>,
    /// MFA-9: voice calls that speak a code.
    pub voice: Arc<dyn VoiceCaller>,
    /// CASE-6: where attachments live ([`crate::files::Unwired`] in
    /// functions that attach nothing).
    pub files: Arc<dyn crate::files::FileStore>,
    /// MFA-10: WebAuthn ceremonies ([`crate::webauthn::Unwired`] in
    /// functions that run none).
    pub ceremonies: Arc<dyn crate::webauthn::Ceremonies>,
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn Random>,
}

/// Who is asking: for the audit trail (AUD-1) and the language of answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ctx {
    pub ip: String,
    pub user_agent: String,
    pub lang: Lang,
}

impl Ctx {
    /// An operator or scheduled invocation.
    pub fn system(name: &str) -> Self {
        Self {
            ip: "-".into(),
            user_agent: name.into(),
            lang: Lang::Ja,
        }
    }
}

/// One authentication event (AUD-1). Never holds a secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: String,
    pub at: Timestamp,
    pub kind: String,
    pub user_id: Option<String>,
    pub tenant_id: Option<TenantId>,
    pub ip: String,
    pub user_agent: String,
    pub detail: Option<String>,
    /// ADM-6: the login ID a sign-in event was for (known users only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_id: Option<String>,
}

impl App {
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    // home of AUD-1
    /// The audit record of an event, as a write to go into the same atomic
    /// batch as the change it records. Also one log line (no secrets).
    pub fn audit(
        &self,
        ctx: &Ctx,
        kind: &str,
        user: Option<(&str, &TenantId)>,
        detail: Option<String>,
    ) -> Write {
        debug_assert!(
            crate::trail::event_of(kind).is_none(),
            "{kind} is a sign-in event: App::sign_in records it (ADM-6)"
        );
        let event = self.audit_event(ctx, kind, user, detail);
        let tenant = user.map(|(_, t)| t);
        let shard = if tenant.is_some() { 0 } else { self.shard() };
        let pk = keys::audit_partition(tenant, event.at, shard);
        Write::put(Key::new(pk, event.id.clone()), &event, None, Cond::Absent)
    }

    /// The record of an event (and its log line, no secrets).
    pub(crate) fn audit_event(
        &self,
        ctx: &Ctx,
        kind: &str,
        user: Option<(&str, &TenantId)>,
        detail: Option<String>,
    ) -> AuditEvent {
        let now = self.now();
        let event = AuditEvent {
            id: new_ulid(self.rng.as_ref(), now).to_string(),
            at: now,
            kind: kind.to_string(),
            user_id: user.map(|(u, _)| u.to_string()),
            tenant_id: user.map(|(_, t)| t.clone()),
            ip: ctx.ip.clone(),
            user_agent: ctx.user_agent.chars().take(256).collect(),
            detail,
            login_id: None,
        };
        tracing::info!(
            audit = kind,
            user_id = event.user_id.as_deref().unwrap_or("-"),
            tenant_id = event.tenant_id.as_ref().map_or("-", |t| t.as_str()),
            ip = %event.ip,
            detail = event.detail.as_deref().unwrap_or(""),
            "audit"
        );
        event
    }

    /// One of the [`crate::trail::SHARDS`] partitions of a day's records
    /// of no tenant, at random.
    pub(crate) fn shard(&self) -> u8 {
        let mut b = [0u8; 1];
        self.rng.fill(&mut b);
        b[0] % crate::trail::SHARDS
    }

    /// Record an event on its own.
    pub async fn record(
        &self,
        ctx: &Ctx,
        kind: &str,
        user: Option<(&str, &TenantId)>,
        detail: Option<String>,
    ) -> Result<()> {
        self.store
            .write(vec![self.audit(ctx, kind, user, detail)], self.now())
            .await?;
        Ok(())
    }

    /// Reserve one attempt against a lock counter with a conditional write
    /// (compare-and-swap on the item's version; never read-compare-write).
    pub async fn take_attempt(&self, key: &Key, policy: LockPolicy) -> Result<Attempt> {
        Ok(self.reserve(key, policy).await?.attempt)
    }

    /// [`App::take_attempt`], with what a caller needs to give the attempt
    /// back. Always one read and one single-item write, whatever the state
    /// (LOG-3: a locked subject costs the store the same requests as any
    /// other): a lock is written back unchanged. A counter short of its
    /// limit lives [`COUNTER_TTL`] after its last attempt.
    pub async fn reserve(&self, key: &Key, policy: LockPolicy) -> Result<Reserved> {
        self.reserve_read(key, policy, None).await
    }

    /// The counter as read now (for [`App::reserve_read`], when the read
    /// can go out beside another one).
    pub async fn read_counter(&self, key: &Key) -> Result<Option<(LockState, u64)>> {
        Ok(get_as::<LockState>(self.store.as_ref(), key, self.now()).await?)
    }

    /// [`App::reserve`] whose first read was already made (`read`, from
    /// [`App::read_counter`]); a lost race reads again.
    pub async fn reserve_read(
        &self,
        key: &Key,
        policy: LockPolicy,
        read: Option<Option<(LockState, u64)>>,
    ) -> Result<Reserved> {
        let mut read = read;
        for round in 0..32u32 {
            let now = self.now();
            let current = match read.take() {
                Some(r) => r,
                None => get_as::<LockState>(self.store.as_ref(), key, now).await?,
            };
            let (before, cond) = match current {
                Some((s, v)) => (Some(s), Cond::Version(v)),
                None => (None, Cond::Absent),
            };
            match softlock::begin(before, now, policy) {
                locked @ Attempt::Locked { .. } => {
                    let state = before.unwrap_or_default();
                    let w = Write::put(key.clone(), &state, state.expires_at(), cond);
                    // Losing this race changes nothing: the subject is locked.
                    match self.store.write(vec![w], now).await {
                        Ok(()) | Err(StoreError::Conflict) => {}
                        Err(e) => return Err(e.into()),
                    }
                    return Ok(Reserved {
                        key: key.clone(),
                        attempt: locked,
                    });
                }
                allowed @ Attempt::Allowed { next, .. } => {
                    let exp = next.expires_at().or(Some(now.plus(COUNTER_TTL)));
                    let w = Write::put(key.clone(), &next, exp, cond);
                    match self.store.write(vec![w], now).await {
                        Ok(()) => {
                            return Ok(Reserved {
                                key: key.clone(),
                                attempt: allowed,
                            })
                        }
                        Err(e) => self.lost_race(round, e).await?,
                    }
                }
            }
        }
        Err(Error::Unavailable { what: "store" })
    }

    /// Give back an attempt reserved with [`App::reserve`] whose secret
    /// was right but that is not yet a success (LOG-2: the password before
    /// the second factor), or whose change was then refused. A lock set by
    /// another attempt is never lifted this way; the lock this very attempt
    /// set is (a right secret never locks anyone out).
    pub async fn release(&self, r: &Reserved) -> Result<()> {
        match r.attempt {
            Attempt::Allowed { next, .. } => self.give_back(&r.key, next).await,
            Attempt::Locked { .. } => Ok(()),
        }
    }

    async fn give_back(&self, key: &Key, mine: LockState) -> Result<()> {
        for round in 0..32u32 {
            let now = self.now();
            let Some((s, v)) = get_as::<LockState>(self.store.as_ref(), key, now).await? else {
                return Ok(());
            };
            // Our own reservation set this lock: its until is ours alone
            // (conditional writes serialize, one attempt reaches the limit).
            let set_by_us = mine.locked_until.is_some() && mine == s;
            if s.is_locked(now) && !set_by_us {
                return Ok(());
            }
            let w = if s.failures <= 1 {
                Write::Delete {
                    key: key.clone(),
                    cond: Cond::Version(v),
                }
            } else {
                let next = LockState {
                    failures: s.failures - 1,
                    locked_until: None,
                };
                Write::put(
                    key.clone(),
                    &next,
                    Some(now.plus(COUNTER_TTL)),
                    Cond::Version(v),
                )
            };
            match self.store.write(vec![w], now).await {
                Ok(()) => return Ok(()),
                Err(e) => self.lost_race(round, e).await?,
            }
        }
        Err(Error::Unavailable { what: "store" })
    }

    /// A conditional write that failed: a lost race backs off for another
    /// round (`Ok`), anything else is the caller's error.
    pub async fn lost_race(&self, round: u32, e: StoreError) -> Result<()> {
        match e {
            StoreError::Conflict => {
                self.back_off(round).await;
                Ok(())
            }
            other => Err(other.into()),
        }
    }

    /// A short, jittered pause before retrying a lost compare-and-swap.
    pub async fn back_off(&self, round: u32) {
        let mut b = [0u8; 1];
        self.rng.fill(&mut b);
        let ms = (1u64 << round.min(5)) + u64::from(b[0] % 8);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

impl App {
    /// Every live item of a partition under a prefix.
    pub(crate) async fn query_partition(
        &self,
        pk: &str,
        prefix: &str,
    ) -> Result<Vec<crate::store::Item>> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let batch = self
                .store
                .query(
                    &crate::store::Query {
                        pk: pk.to_string(),
                        sk_prefix: prefix.to_string(),
                        after,
                        limit: 1000,
                    },
                    self.now(),
                )
                .await?;
            let more = batch.len() == 1000;
            after = batch.last().map(|i| i.key.sk.clone());
            out.extend(batch);
            if !more {
                return Ok(out);
            }
        }
    }
}
