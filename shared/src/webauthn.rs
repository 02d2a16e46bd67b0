//! The WebAuthn port (MFA-10): the ceremonies of passkeys and security keys
//! — one ceremony for both. The protocol's cryptography lives behind it
//! (`tobira-passkeys`, on webauthn-rs with RustCrypto); the use cases in
//! `mfa::passkeys` keep what the rules need: the ceremony's state in the
//! store with an expiry and taken once, the credentials on the user, the
//! signature counter and the backup state moved on in a conditional write.
//! Functions that run no ceremony get [`Unwired`].
//!
//! Credentials and states cross the port as opaque JSON text the adapter
//! made; the responses as the browser's JSON (`PublicKeyCredential`'s
//! `toJSON()`), taken as they are.

use serde_json::Value;

/// A ceremony begun: the options for the browser (`{"publicKey": {...}}`),
/// the state to keep until it finishes, and its challenge (base64url), by
/// which the finish finds the state.
#[derive(Clone, Debug, PartialEq)]
pub struct Started {
    pub options: Value,
    pub state: String,
    pub challenge: String,
}

/// A credential registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registered {
    /// The credential ID, base64url.
    pub id: String,
    /// The credential as the adapter keeps it (public key, counter, flags).
    pub credential: String,
    /// Whether the authenticator says it keeps the credential itself (a
    /// discoverable credential, for passwordless sign-in); `None`: it did
    /// not say.
    pub discoverable: Option<bool>,
    pub backup_eligible: bool,
    pub backed_up: bool,
}

/// What a response says before it is checked: which ceremony (its
/// challenge), which credential, which user (discoverable credentials).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Presented {
    pub challenge: String,
    pub credential_id: String,
    /// The user handle a discoverable credential returns.
    pub user_handle: Option<Vec<u8>>,
}

/// An assertion that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The credential with its counter and backup state moved on, when
    /// either changed (to write back, on condition).
    pub credential: Option<String>,
    pub backed_up: bool,
    pub user_verified: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CeremonyError {
    /// The response is malformed or does not verify: why, for the audit
    /// record (never shown to the user, never a secret).
    Refused(String),
    /// This function runs no ceremonies, or the configuration is wrong.
    Unwired,
}

pub trait Ceremonies: Send + Sync {
    /// A registration for the user `handle` (16 bytes), showing `name` and
    /// `display`; `exclude` are the user's credentials (opaque), which the
    /// authenticator must not register again. User verification required;
    /// a discoverable credential preferred (passwordless).
    fn start_registration(
        &self,
        handle: &[u8; 16],
        name: &str,
        display: &str,
        exclude: &[String],
    ) -> Result<Started, CeremonyError>;

    fn finish_registration(
        &self,
        response: &Value,
        state: &str,
    ) -> Result<Registered, CeremonyError>;

    /// An assertion by one of `credentials` (opaque; user verification
    /// required); none: any discoverable credential of this relying party.
    fn start_assertion(&self, credentials: &[String]) -> Result<Started, CeremonyError>;

    /// Read a response (registration or assertion) without checking it.
    fn presented(&self, response: &Value) -> Result<Presented, CeremonyError>;

    /// Check an assertion against its ceremony's state and the credential
    /// as stored now (its counter and backup state as of now).
    fn finish_assertion(
        &self,
        response: &Value,
        state: &str,
        credential: &str,
    ) -> Result<Verified, CeremonyError>;
}

/// The ceremonies of a function that runs none: every call refuses.
pub struct Unwired;

impl Ceremonies for Unwired {
    fn start_registration(
        &self,
        _: &[u8; 16],
        _: &str,
        _: &str,
        _: &[String],
    ) -> Result<Started, CeremonyError> {
        Err(CeremonyError::Unwired)
    }
    fn finish_registration(&self, _: &Value, _: &str) -> Result<Registered, CeremonyError> {
        Err(CeremonyError::Unwired)
    }
    fn start_assertion(&self, _: &[String]) -> Result<Started, CeremonyError> {
        Err(CeremonyError::Unwired)
    }
    fn presented(&self, _: &Value) -> Result<Presented, CeremonyError> {
        Err(CeremonyError::Unwired)
    }
    fn finish_assertion(&self, _: &Value, _: &str, _: &str) -> Result<Verified, CeremonyError> {
        Err(CeremonyError::Unwired)
    }
}
