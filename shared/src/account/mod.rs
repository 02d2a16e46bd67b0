//! Account state has one home. Every change of a user's credentials,
//! factors or status is a [`Change`]; one pure function, [`effects`],
//! decides in one place what it does to the rest of the account: which
//! sessions end, whether remembered devices are forgotten, which setup and
//! password links are voided, what becomes of the recovery codes, which
//! notice is mailed to whom, and what is audited. The use cases make the
//! change itself (a new password hash, a method, a login ID) and then call
//! [`App::apply_change`](crate::App::apply_change), which carries the
//! effects out on the user they are about to write, in their own one
//! conditional write, with no store request of its own — the notice too,
//! as an outbox item in that write (`outbox.rs`), which a sender
//! delivers with retries.
//!
//! The test `account_state_table` below lists every change with its
//! effects: it is the policy, to read and to review.
//!
//! How the effects are carried out:
//! - A session carries the user's session epoch it was made under; moving
//!   the epoch on ends every session made before (`App::live_session`). The
//!   session that made a change and carries on is rewritten, in the same
//!   write, under the new epoch.
//! - Pending codes — e-mail and SMS codes, a TOTP secret shown but not yet
//!   confirmed — are stored under their sign-in session and end with it.
//! - A remembered device carries the user's device epoch (MFA-7); moving it
//!   on forgets every device.

mod apply;
pub mod factor_notice;
mod notice;

pub use apply::{Applied, Current, Made};

use crate::account::factor_notice::FactorChange;
use crate::model::Method;
use crate::model::User;

/// A change of a user's credentials, factors or status.
#[derive(Clone, Copy, Debug)]
pub enum Change<'a> {
    /// SET-3, RST-4, CLM-2: the first password, with the setup link after
    /// the identity check or with a first-password link; the user becomes
    /// active.
    PasswordSet,
    /// RST-5: a forgotten password set again with a reset link.
    PasswordReset,
    /// PW-5: the signed-in user changed the password, giving the current one.
    PasswordChanged,
    /// SET-4: the first factor, from the password-only session.
    FactorEnrolled(Method),
    /// MFA-8: a further method, from a signed-in session.
    FactorAdded(Method),
    /// MFA-8: a method set up again (a new authenticator, SMS number or
    /// proof of the address).
    FactorReplaced(Method),
    /// MFA-8 / MFA-10: one of several credentials of a method removed (a
    /// passkey the user no longer has), the user keeping a factor.
    FactorRemoved(Method),
    /// MFA-10: a passkey given another name (nothing else changes).
    PasskeyRenamed,
    /// ADM-7 (issue 15 builds the admin's and the operators' call): every
    /// factor removed after a lost device; the next sign-in enrols again
    /// (SET-4).
    FactorsReset,
    /// MFA-7: the user forgot every remembered device.
    DevicesForgotten,
    /// MIG-11: the legacy portal corrected a pending user's e-mail, name or
    /// phone; a new setup link follows to the corrected address.
    IdentityCorrected,
    /// MIG-12: the user still pending setup was mailed the window's closing
    /// notice; from now on the way in is RST-4's identity entry.
    WindowClosed,
    /// ADM-2 (issue 15): an admin changed the login ID.
    LoginIdChanged,
    /// CLM-2: a legacy account, proved by its legacy password, took an
    /// e-mail as its login ID; a password link follows to that address.
    Claimed,
    /// CLM-3: the account was merged into `into` (its service IDs and
    /// contract moved there) and is disabled.
    Merged { into: &'a User },
    /// ADM-3 (issue 15): disabled, never deleted.
    Disabled,
    /// ADM-3 (issue 15): enabled again.
    Enabled,
    /// ADM-3: an admin (or an operator) lifted the sign-in lock (LOG-2)
    /// before its time.
    Unlocked,
}

/// What becomes of the user's sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sessions {
    /// Every session carries on.
    Kept,
    /// Every session ends but the one that made the change (when there is
    /// one; otherwise every session ends).
    OthersEnd,
    /// Every session ends, the one that made the change included.
    AllEnd,
}

/// What becomes of the user's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Kept,
    Active,
    Disabled,
    /// Active with a password, pending setup without one.
    Restored,
}

/// What becomes of the recovery codes (MFA-5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recovery {
    Kept,
    /// A new set, shown once; the session that made the change waits for
    /// "I have recorded these" and then ends (SET-4).
    NewSet,
    /// The set is void.
    Void,
}

/// The notice mailed about a change (none holds a secret: MSG-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    None,
    /// RST-5 (`reset`) / PW-5: to the user's address.
    Password {
        reset: bool,
    },
    /// MFA-8: to the user's address, naming the method.
    Factor(FactorChange),
    /// ADM-7: to the user's address.
    FactorsReset,
    /// ADM-2: to the user's address, naming the new login ID.
    LoginIdChanged,
    /// CLM-3: to the merged account's own address, naming the account it
    /// joined.
    Merged,
    /// MIG-12: to the user's address, with what the identity entry needs;
    /// mailed before the change is written, so that a fault sends it again
    /// rather than never.
    WindowClosed,
}

/// What a [`Change`] does to the rest of the account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Effects {
    pub state: State,
    pub sessions: Sessions,
    /// MFA-7: every remembered device is forgotten.
    pub forget_devices: bool,
    /// SET-1: every setup link of the user is void.
    pub void_setup_links: bool,
    /// RST-4: the one password link of the user is void.
    pub void_password_link: bool,
    /// Every factor is removed (methods, TOTP secret, SMS number).
    pub clear_factors: bool,
    /// LOG-2: the sign-in lock and its failure count are cleared.
    pub clear_lock: bool,
    pub recovery: Recovery,
    /// MFA-8: the session that made the change counts as having proved
    /// the password now.
    pub proof_renewed: bool,
    pub notice: Notice,
    /// The audit record's kind (AUD-1), in the same write as the change.
    pub audit: &'static str,
}

const NOTHING: Effects = Effects {
    state: State::Kept,
    sessions: Sessions::Kept,
    forget_devices: false,
    void_setup_links: false,
    void_password_link: false,
    clear_factors: false,
    clear_lock: false,
    recovery: Recovery::Kept,
    proof_renewed: false,
    notice: Notice::None,
    audit: "",
};

/// What `change` does to the account: the one place that decides it.
///
/// The policy in words: a new password (set, reset or changed) voids every
/// link that could set one and forgets remembered devices; a reset ends
/// every session, a change every other one. A factor enrolled first or set
/// up again ends every other session; any factor change forgets remembered
/// devices and mails a notice. Disabling (or merging away) ends everything
/// the account had going: sessions, devices and links. A correction of the
/// identity or the login ID voids the links mailed before.
pub fn effects(change: &Change<'_>) -> Effects {
    use Sessions::{AllEnd, OthersEnd};
    let factor = |change, sessions, recovery| Effects {
        sessions,
        forget_devices: true,
        recovery,
        notice: Notice::Factor(change),
        audit: "mfa.enrolled",
        ..NOTHING
    };
    match change {
        Change::PasswordSet => Effects {
            state: State::Active,
            sessions: AllEnd,
            forget_devices: true,
            void_setup_links: true,
            void_password_link: true,
            audit: "password.set",
            ..NOTHING
        },
        Change::PasswordReset => Effects {
            state: State::Active,
            sessions: AllEnd,
            forget_devices: true,
            void_setup_links: true,
            void_password_link: true,
            notice: Notice::Password { reset: true },
            audit: "password.reset",
            ..NOTHING
        },
        Change::PasswordChanged => Effects {
            sessions: OthersEnd,
            forget_devices: true,
            void_setup_links: true,
            void_password_link: true,
            proof_renewed: true,
            notice: Notice::Password { reset: false },
            audit: "password.changed",
            ..NOTHING
        },
        Change::FactorEnrolled(_) => factor(FactorChange::Added, OthersEnd, Recovery::NewSet),
        Change::FactorAdded(_) => factor(FactorChange::Added, Sessions::Kept, Recovery::Kept),
        Change::FactorReplaced(_) => factor(FactorChange::Replaced, OthersEnd, Recovery::Kept),
        // A credential the user no longer trusts may have opened a session.
        Change::FactorRemoved(_) => Effects {
            audit: "mfa.removed",
            ..factor(FactorChange::Removed, OthersEnd, Recovery::Kept)
        },
        Change::PasskeyRenamed => Effects {
            audit: "mfa.passkey_renamed",
            ..NOTHING
        },
        Change::FactorsReset => Effects {
            sessions: AllEnd,
            forget_devices: true,
            clear_factors: true,
            recovery: Recovery::Void,
            notice: Notice::FactorsReset,
            audit: "mfa.factors_reset",
            ..NOTHING
        },
        Change::DevicesForgotten => Effects {
            forget_devices: true,
            audit: "mfa.devices_forgotten",
            ..NOTHING
        },
        Change::IdentityCorrected => Effects {
            void_setup_links: true,
            void_password_link: true,
            audit: "migration.identity_confirmed",
            ..NOTHING
        },
        Change::WindowClosed => Effects {
            void_setup_links: true,
            notice: Notice::WindowClosed,
            audit: "migration.closure_notice_sent",
            ..NOTHING
        },
        Change::LoginIdChanged => Effects {
            void_setup_links: true,
            void_password_link: true,
            notice: Notice::LoginIdChanged,
            audit: "account.login_id_changed",
            ..NOTHING
        },
        Change::Claimed => Effects {
            void_setup_links: true,
            void_password_link: true,
            audit: "claim.registered",
            ..NOTHING
        },
        Change::Merged { .. } => Effects {
            notice: Notice::Merged,
            audit: "claim.linked",
            ..ended()
        },
        Change::Disabled => Effects {
            audit: "account.disabled",
            ..ended()
        },
        Change::Enabled => Effects {
            state: State::Restored,
            audit: "account.enabled",
            ..NOTHING
        },
        Change::Unlocked => Effects {
            clear_lock: true,
            audit: "account.unlocked",
            ..NOTHING
        },
    }
}

/// ADM-3: a disabled account keeps nothing going (so that enabling it
/// again revives no session, device or link).
const fn ended() -> Effects {
    Effects {
        state: State::Disabled,
        sessions: Sessions::AllEnd,
        forget_devices: true,
        void_setup_links: true,
        void_password_link: true,
        ..NOTHING
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;
    use crate::ids::{Email, LoginId, PersonName, TenantId};
    use FactorChange::{Added, Removed, Replaced};
    use Recovery::{NewSet, Void};
    use Sessions::{AllEnd, Kept, OthersEnd};

    /// The name of every change; a new variant fails to compile here
    /// until the table below lists it.
    fn name(c: &Change<'_>) -> &'static str {
        match c {
            Change::PasswordSet => "PasswordSet",
            Change::PasswordReset => "PasswordReset",
            Change::PasswordChanged => "PasswordChanged",
            Change::FactorEnrolled(_) => "FactorEnrolled",
            Change::FactorAdded(_) => "FactorAdded",
            Change::FactorReplaced(_) => "FactorReplaced",
            Change::FactorRemoved(_) => "FactorRemoved",
            Change::PasskeyRenamed => "PasskeyRenamed",
            Change::FactorsReset => "FactorsReset",
            Change::DevicesForgotten => "DevicesForgotten",
            Change::IdentityCorrected => "IdentityCorrected",
            Change::WindowClosed => "WindowClosed",
            Change::LoginIdChanged => "LoginIdChanged",
            Change::Claimed => "Claimed",
            Change::Merged { .. } => "Merged",
            Change::Disabled => "Disabled",
            Change::Enabled => "Enabled",
            Change::Unlocked => "Unlocked",
        }
    }
    const CHANGES: usize = 18;

    /// A row of the table: a change and its effects, column by column.
    type Row<'a> = (
        Change<'a>,
        Sessions,
        bool,
        bool,
        bool,
        bool,
        Recovery,
        State,
        Notice,
        &'static str,
    );

    // SET-3, SET-4, PW-5, RST-5, MFA-5, MFA-7, MFA-8, MIG-11, MIG-12,
    // CLM-2, CLM-3, ADM-3, ADM-7
    /// The policy. Columns: sessions that end; remembered devices
    /// forgotten; setup links void; the password link void; factors
    /// removed; recovery codes; the status; the notice; the audit kind.
    /// (Pending codes end with their sessions; `PasswordChanged` alone
    /// renews the proof of the session that made it, and `Unlocked` alone
    /// clears the sign-in lock, both checked below.)
    #[test]
    fn account_state_table() {
        let target = User::pending(
            "01TARGET".into(),
            TenantId::parse("econ1").unwrap(),
            LoginId::parse("target@example.com").unwrap(),
            Email::parse("target@example.com").unwrap(),
            PersonName::parse("Target").unwrap(),
            Timestamp::from_secs(0),
        );
        let m = Method::Totp;
        #[rustfmt::skip]
        let table: Vec<Row> = vec![
            //                        sessions  devices setup  pwlink factors recovery       state           notice                                 audit
            (Change::PasswordSet,       AllEnd,   true,  true,  true,  false, Recovery::Kept, State::Active,   Notice::None,                          "password.set"),
            (Change::PasswordReset,     AllEnd,   true,  true,  true,  false, Recovery::Kept, State::Active,   Notice::Password { reset: true },      "password.reset"),
            (Change::PasswordChanged,   OthersEnd, true, true,  true,  false, Recovery::Kept, State::Kept,     Notice::Password { reset: false },     "password.changed"),
            (Change::FactorEnrolled(m), OthersEnd, true, false, false, false, NewSet,         State::Kept,     Notice::Factor(Added),                 "mfa.enrolled"),
            (Change::FactorAdded(m),    Kept,     true,  false, false, false, Recovery::Kept, State::Kept,     Notice::Factor(Added),                 "mfa.enrolled"),
            (Change::FactorReplaced(m), OthersEnd, true, false, false, false, Recovery::Kept, State::Kept,     Notice::Factor(Replaced),              "mfa.enrolled"),
            (Change::FactorRemoved(m),  OthersEnd, true, false, false, false, Recovery::Kept, State::Kept,     Notice::Factor(Removed),               "mfa.removed"),
            (Change::PasskeyRenamed,    Kept,     false, false, false, false, Recovery::Kept, State::Kept,     Notice::None,                          "mfa.passkey_renamed"),
            (Change::FactorsReset,      AllEnd,   true,  false, false, true,  Void,           State::Kept,     Notice::FactorsReset,                  "mfa.factors_reset"),
            (Change::DevicesForgotten,  Kept,     true,  false, false, false, Recovery::Kept, State::Kept,     Notice::None,                          "mfa.devices_forgotten"),
            (Change::IdentityCorrected, Kept,     false, true,  true,  false, Recovery::Kept, State::Kept,     Notice::None,                          "migration.identity_confirmed"),
            (Change::WindowClosed,      Kept,     false, true,  false, false, Recovery::Kept, State::Kept,     Notice::WindowClosed,                  "migration.closure_notice_sent"),
            (Change::LoginIdChanged,    Kept,     false, true,  true,  false, Recovery::Kept, State::Kept,     Notice::LoginIdChanged,                "account.login_id_changed"),
            (Change::Claimed,           Kept,     false, true,  true,  false, Recovery::Kept, State::Kept,     Notice::None,                          "claim.registered"),
            (Change::Merged { into: &target }, AllEnd, true, true, true, false, Recovery::Kept, State::Disabled, Notice::Merged,                      "claim.linked"),
            (Change::Disabled,          AllEnd,   true,  true,  true,  false, Recovery::Kept, State::Disabled, Notice::None,                          "account.disabled"),
            (Change::Enabled,           Kept,     false, false, false, false, Recovery::Kept, State::Restored, Notice::None,                          "account.enabled"),
            (Change::Unlocked,          Kept,     false, false, false, false, Recovery::Kept, State::Kept,     Notice::None,                          "account.unlocked"),
        ];
        let mut seen = std::collections::BTreeSet::new();
        for (change, sessions, devices, setup, pwlink, factors, recovery, state, notice, audit) in
            &table
        {
            assert!(seen.insert(name(change)), "{} twice", name(change));
            let want = Effects {
                state: *state,
                sessions: *sessions,
                forget_devices: *devices,
                void_setup_links: *setup,
                void_password_link: *pwlink,
                clear_factors: *factors,
                recovery: *recovery,
                proof_renewed: matches!(change, Change::PasswordChanged),
                clear_lock: matches!(change, Change::Unlocked),
                notice: *notice,
                audit,
            };
            assert_eq!(effects(change), want, "{}", name(change));
        }
        assert_eq!(seen.len(), CHANGES, "every change is in the table");
    }
}
