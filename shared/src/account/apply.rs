//! Carrying out a change's [`Effects`](super::Effects) on the user a use
//! case is about to write: in place, and as writes for that use case's own
//! one conditional write (no store request here), the notice among them.

use super::{effects, Change, Recovery, Sessions, State};
use crate::app::{App, Ctx};
use crate::model::{keys, User, UserState};
use crate::session::Session;
use crate::store::{Cond, Key, Write};

/// The session that made a change and carries on (PW-5, SET-4, MFA-8):
/// rewritten in the same write, on `cond`, when the change touches it.
pub struct Current<'a> {
    pub token_hash: &'a str,
    pub session: &'a Session,
    pub cond: Cond,
}

/// How a change was made: who asks, from which session, with which link.
pub struct Made<'a> {
    pub ctx: &'a Ctx,
    pub current: Option<Current<'a>>,
    /// The link the change was made with (SET-3, RST-5): deleted on
    /// condition that it is still there, so it works once.
    pub used_link: Option<Key>,
    /// The audit record's detail (the factor changes write their own).
    pub detail: Option<String>,
}

impl<'a> Made<'a> {
    pub fn by(ctx: &'a Ctx) -> Self {
        Self {
            ctx,
            current: None,
            used_link: None,
            detail: None,
        }
    }
    pub fn in_session(self, token_hash: &'a str, session: &'a Session, cond: Cond) -> Self {
        Self {
            current: Some(Current {
                token_hash,
                session,
                cond,
            }),
            ..self
        }
    }
    pub fn with_link(self, key: Key) -> Self {
        Self {
            used_link: Some(key),
            ..self
        }
    }
    pub fn detail(self, detail: impl Into<String>) -> Self {
        Self {
            detail: Some(detail.into()),
            ..self
        }
    }
}

/// What applying a change gives the use case.
#[must_use]
pub struct Applied {
    /// The user (conditional on the version read), the session carrying
    /// on, the links voided, the recovery set, the audit record: to go
    /// into the use case's one atomic write.
    pub writes: Vec<Write>,
    /// MFA-5: a new recovery set, to show once.
    pub recovery_codes: Option<Vec<String>>,
}

impl App {
    /// Apply `change` to `user`, read at `version`, after the use case made
    /// the change itself (the password hash, the method, the login ID…):
    /// the user is changed in place as [`effects`] decides, and the answer
    /// holds every write that goes with it.
    pub fn apply_change(
        &self,
        user: &mut User,
        version: u64,
        change: Change<'_>,
        made: Made<'_>,
    ) -> Applied {
        let e = effects(&change);
        let now = self.now();
        let mut writes = Vec::new();
        match e.state {
            State::Kept => {}
            State::Active => user.state = UserState::Active,
            State::Disabled => user.state = UserState::Disabled,
            State::Restored => {
                user.state = if user.password_hash.is_some() {
                    UserState::Active
                } else {
                    UserState::PendingSetup
                }
            }
        }
        match change {
            Change::PasswordSet | Change::PasswordChanged => user.password_set_at = Some(now),
            Change::PasswordReset => {
                user.password_set_at = Some(now);
                // RST-3: a day without resets begins.
                user.reset_done_at = Some(now);
            }
            Change::Merged { into } => user.merged_into = Some(into.id.clone()),
            _ => {}
        }
        if e.forget_devices {
            user.device_epoch = user.device_epoch.wrapping_add(1);
        }
        if e.sessions != Sessions::Kept {
            user.session_epoch = user.session_epoch.wrapping_add(1);
        }
        if e.clear_lock {
            writes.push(Write::Delete {
                key: keys::lock("login", &user.id),
                cond: Cond::Any,
            });
        }
        if e.clear_factors {
            user.methods.clear();
            user.sms_phone = None;
            user.voice_phone = None;
            user.passkeys.clear();
            writes.push(Write::Delete {
                key: keys::totp(&user.id),
                cond: Cond::Any,
            });
        }
        let recovery_codes = match e.recovery {
            Recovery::Kept => None,
            Recovery::NewSet => {
                let (codes, w) = self.new_recovery_set(&user.id);
                writes.push(w);
                Some(codes)
            }
            Recovery::Void => {
                writes.push(Write::Delete {
                    key: keys::recovery(&user.id),
                    cond: Cond::Any,
                });
                None
            }
        };
        if let Some(cur) = made.current.filter(|_| e.sessions != Sessions::AllEnd) {
            let mut s = cur.session.clone();
            s.epoch = user.session_epoch;
            if e.proof_renewed {
                s.password_at = Some(now);
            }
            if e.recovery == Recovery::NewSet {
                s.recovery_ack_pending = true;
            }
            if s != *cur.session {
                writes.push(self.session_write(cur.token_hash, &s, cur.cond));
            }
        }
        let mut void = Vec::new();
        if e.void_setup_links {
            void.extend(
                user.take_setup_tokens()
                    .iter()
                    .map(|h| keys::setup_token(h)),
            );
        }
        if e.void_password_link {
            void.extend(user.reset_token_hash.take().map(|h| keys::reset_token(&h)));
        }
        let used = made.used_link;
        writes.extend(
            void.into_iter()
                .filter(|k| Some(k) != used.as_ref())
                .map(|key| Write::Delete {
                    key,
                    cond: Cond::Any,
                }),
        );
        writes.extend(used.map(|key| Write::Delete {
            key,
            cond: Cond::Exists,
        }));
        user.updated_at = now;
        // The user and its directory entry (ADM-5): a change of state shows
        // on the admin's list at once.
        writes.splice(
            0..0,
            crate::directory::user_writes(user, Cond::Version(version)),
        );
        let (who, tenant) = match change {
            // CLM-3: recorded on the account that gained the service IDs.
            Change::Merged { into } => (&into.id, &into.tenant_id),
            _ => (&user.id, &user.tenant_id),
        };
        let detail = match change {
            Change::FactorEnrolled(m) => Some(format!("{m} first; other sessions ended")),
            Change::FactorAdded(m) => Some(format!("{m} added")),
            Change::FactorReplaced(m) => Some(format!("{m} replaced; other sessions ended")),
            _ => made.detail,
        };
        writes.push(self.audit(made.ctx, e.audit, Some((who, tenant)), detail));
        // The notice, in the same write: delivered by the outbox's sender,
        // retried until it goes out (MIG-12's is mailed before the write,
        // by the job).
        if e.notice != super::Notice::WindowClosed {
            if let Some(mail) = self.change_notice(user, &change) {
                writes.push(self.notice(e.audit, mail, Some((&user.id, &user.tenant_id))));
            }
        }
        Applied {
            writes,
            recovery_codes,
        }
    }
}
