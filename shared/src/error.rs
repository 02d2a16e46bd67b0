//! The one error type of the domain: a stable code and the facts. How it is
//! answered (HTTP status, page or JSON) is the web edge's one mapping
//! (`tobira_web::answer`).

use std::fmt;

use crate::delivery::DeliveryError;
use crate::store::StoreError;

/// What an answer may say about an error, by name (`field`, `max`,
/// `version`, `method`): values, never sentences. The web edge turns the
/// code and these into text in the user's language (`err.<code>` in its
/// catalogue, `{name}` filled in). `detail` is a parser's own words for a
/// developer (English, untranslated; the API answers it as `detail`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts(Vec<(&'static str, String)>);

impl Facts {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(n, v)| (*n, v.as_str()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// 400: the request itself is wrong (malformed JSON, unknown field, bad value).
    Invalid { code: &'static str, facts: Facts },
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
    /// 401: MFA-4, a right authenticator code of a time step already used
    /// (the one that just confirmed the enrolment, say): the next code
    /// comes in `next_in_s` seconds. Counted like any wrong code.
    CodeAlreadyUsed { next_in_s: u64 },
    /// 401: no (valid) session or grant.
    NotSignedIn,
    /// 403: the session's stage does not reach this route (SES-2), or a bad CSRF token.
    Forbidden,
    /// 403: the user may not do this here; the answer says where to go
    /// instead (MIG-13: cases of legacy users go to the legacy system).
    Refused { code: &'static str, facts: Facts },
    /// 404.
    NotFound,
    /// 409: a transition or write that the current state does not allow.
    Conflict { code: &'static str, facts: Facts },
    /// 429: throttled or blocked. `retry_after_s` only where it is safe to say.
    Throttled { retry_after_s: Option<u64> },
    /// 503: a dependency (store, mail, SMS) failed; nothing was lost, try again.
    Unavailable { what: &'static str },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// 400 with `code`; add facts with [`Error::with`].
    pub fn invalid(code: &'static str) -> Self {
        Self::Invalid {
            code,
            facts: Facts::default(),
        }
    }

    /// 409 with `code`.
    pub fn conflict(code: &'static str) -> Self {
        Self::Conflict {
            code,
            facts: Facts::default(),
        }
    }

    /// 403 with `code`.
    pub fn refused(code: &'static str) -> Self {
        Self::Refused {
            code,
            facts: Facts::default(),
        }
    }

    /// The same error with one more fact (errors without facts ignore it).
    pub fn with(mut self, name: &'static str, value: impl fmt::Display) -> Self {
        if let Self::Invalid { facts, .. }
        | Self::Conflict { facts, .. }
        | Self::Refused { facts, .. } = &mut self
        {
            facts.0.push((name, value.to_string()));
        }
        self
    }

    /// A parser's own words, for a developer ([`Facts`]).
    pub fn detail(self, detail: impl fmt::Display) -> Self {
        self.with("detail", detail)
    }

    /// The facts of the error (none for most).
    pub fn facts(&self) -> Option<&Facts> {
        match self {
            Self::Invalid { facts, .. }
            | Self::Conflict { facts, .. }
            | Self::Refused { facts, .. } => Some(facts),
            _ => None,
        }
    }

    /// One fact by name.
    pub fn fact(&self, name: &str) -> Option<&str> {
        self.facts().and_then(|f| f.get(name))
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
            Self::CodeAlreadyUsed { .. } => "code_already_used",
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
            Self::CodeAlreadyUsed { next_in_s } => Some(*next_in_s),
            Self::Unavailable { .. } => Some(5),
            _ => None,
        }
    }
}

/// The code and the facts, for logs (`invalid_phone (field=phone)`); the
/// words a person reads come from the web edge's catalogue.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())?;
        if let Self::Unavailable { what } = self {
            write!(f, " ({what})")?;
        }
        if let Some(facts) = self.facts().filter(|f| !f.0.is_empty()) {
            let mut sep = " (";
            for (name, value) in facts.iter() {
                write!(f, "{sep}{name}={value}")?;
                sep = ", ";
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl StoreError {
    /// A lost race (the condition of a write failed) as the conflict `code`
    /// says; any other fault as itself.
    pub fn lost_race_is(self, code: &'static str) -> Error {
        match self {
            StoreError::Conflict => Error::conflict(code),
            other => other.into(),
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::conflict("conflict"),
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
