//! The one error type of the domain: a stable code and the facts. How it is
//! answered (HTTP status, page or JSON) is the web edge's one mapping
//! (`tobira_web::answer`).

use std::fmt;

use crate::delivery::DeliveryError;
use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// 400: the request itself is wrong (malformed JSON, unknown field, bad value).
    Invalid { code: &'static str, message: String },
    /// 400: SET-2, never says which field.
    IdentityMismatch,
    /// 400: PW-1..3, every unmet rule.
    WeakPassword { unmet: Vec<&'static str> },
    /// 400: a setup or reset link that is unknown, used or expired.
    InvalidToken,
    /// 401: LOG-3, one answer for every sign-in failure.
    InvalidCredentials,
    /// 401: MFA-3/4/5, a second-factor or confirmation code that does not
    /// hold (wrong, used, expired or spent).
    InvalidCode,
    /// 401: no (valid) session or grant.
    NotSignedIn,
    /// 403: the session's stage does not reach this route (SES-2), or a bad CSRF token.
    Forbidden,
    /// 403: the user may not do this here, and the message says where to go
    /// instead (MIG-13: cases of legacy users go to the legacy system).
    Refused { code: &'static str, message: String },
    /// 404.
    NotFound,
    /// 409: a transition or write that the current state does not allow.
    Conflict { code: &'static str, message: String },
    /// 429: throttled or blocked. `retry_after_s` only where it is safe to say.
    Throttled { retry_after_s: Option<u64> },
    /// 503: a dependency (store, mail, SMS) failed; nothing was lost, try again.
    Unavailable { what: &'static str },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }

    /// The stable `error` code of the API error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid { code, .. }
            | Self::Conflict { code, .. }
            | Self::Refused { code, .. } => code,
            Self::IdentityMismatch => "identity_mismatch",
            Self::WeakPassword { .. } => "weak_password",
            Self::InvalidToken => "invalid_token",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidCode => "invalid_code",
            Self::NotSignedIn => "not_signed_in",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Throttled { .. } => "too_many_attempts",
            Self::Unavailable { .. } => "temporarily_unavailable",
        }
    }

    /// Seconds for `Retry-After`, where the answer may say it.
    pub fn retry_after_s(&self) -> Option<u64> {
        match self {
            Self::Throttled { retry_after_s } => *retry_after_s,
            Self::Unavailable { .. } => Some(5),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid { message, .. }
            | Self::Conflict { message, .. }
            | Self::Refused { message, .. } => f.write_str(message),
            Self::Unavailable { what } => write!(f, "{what} unavailable"),
            other => f.write_str(other.code()),
        }
    }
}

impl std::error::Error for Error {}

impl StoreError {
    /// A lost race (the condition of a write failed) as the conflict `code`
    /// says; any other fault as itself.
    pub fn lost_race_is(self, code: &'static str, message: &str) -> Error {
        match self {
            StoreError::Conflict => Error::Conflict {
                code,
                message: message.into(),
            },
            other => other.into(),
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::Conflict {
                code: "conflict",
                message: "the record changed meanwhile; try again".into(),
            },
            StoreError::Unavailable(msg) => {
                tracing::error!(error = %msg, "store unavailable");
                Self::Unavailable { what: "store" }
            }
        }
    }
}

impl From<DeliveryError> for Error {
    fn from(e: DeliveryError) -> Self {
        tracing::error!(error = %e, "delivery failed");
        Self::Unavailable { what: "delivery" }
    }
}
