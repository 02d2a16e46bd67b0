//! Every HTTP route, the function that serves it and the session stages it
//! serves (SES-2): the one table that the local server dispatches by, and
//! that tests hold the SAM template, the OpenAPI document and the handlers'
//! stage checks to (`tests/api/route_stages.rs`).

use tobira::session::Stage;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub function: &'static str,
    pub method: &'static str,
    /// With `{id}` for a path parameter, as in API Gateway.
    pub path: &'static str,
    /// Who the route serves (SES-2), as its use case checks it.
    pub access: Access,
}

/// The sessions a route serves: anyone (the session, if any, is the use
/// case's business: sign-in, setup, claim, reset, sign-out), or a session
/// at one of the stages named; any other stage is refused (403 for the
/// JSON client, the way to its own step for a page).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Open,
    Stages(&'static [Stage]),
}

impl Access {
    pub fn serves(self, stage: Stage) -> bool {
        match self {
            Self::Open => true,
            Self::Stages(stages) => stages.contains(&stage),
        }
    }
}

const OPEN: Access = Access::Open;
const ANY: Access = Access::Stages(&[Stage::Mfa, Stage::Enroll, Stage::Terms, Stage::Full]);
const MFA: Access = Access::Stages(&[Stage::Mfa]);
const TERMS: Access = Access::Stages(&[Stage::Terms]);
const FULL: Access = Access::Stages(&[Stage::Full]);
/// Enrolling the first method (SET-4) or adding one when signed in (MFA-8).
const ENROL: Access = Access::Stages(&[Stage::Enroll, Stage::Full]);
/// The first enrolment's recovery codes, acknowledged (MFA-5).
const FIRST: Access = Access::Stages(&[Stage::Enroll]);
/// A code for the challenge (`purpose: login`) or to prove a new method.
const CODES: Access = Access::Stages(&[Stage::Mfa, Stage::Enroll, Stage::Full]);

/// The tenant administration's function (ADM): many routes, one name.
const ADMIN: &str = "manage-users";

const fn r(
    function: &'static str,
    method: &'static str,
    path: &'static str,
    access: Access,
) -> Route {
    Route {
        function,
        method,
        path,
        access,
    }
}

pub const FUNCTIONS: [&str; 9] = [
    "login",
    "verify-identity",
    "send-mail-otp",
    "sms-otp",
    "enroll-totp",
    "reset-password",
    "create-case",
    "migrate-batch",
    "manage-users",
];

/// The function behind API Gateway's `$default` route (the template's
/// `Fallback` event): requests no route matches reach its handler, which
/// answers them through `errors::not_found` (405 with `Allow`, or 404).
pub const FALLBACK: &str = "login";

pub const ROUTES: &[Route] = &[
    r("login", "GET", "/", FULL),
    r("login", "GET", "/login", OPEN),
    r("login", "POST", "/login", OPEN),
    r("login", "POST", "/logout", OPEN),
    r("login", "POST", "/api/login", OPEN),
    r("login", "GET", "/api/me", ANY),
    r("login", "POST", "/api/logout", OPEN),
    r("verify-identity", "GET", "/setup", OPEN),
    r("verify-identity", "POST", "/setup/verify", OPEN),
    r("verify-identity", "GET", "/setup/password", OPEN),
    r("verify-identity", "POST", "/setup/password", OPEN),
    r("verify-identity", "POST", "/api/setup/verify", OPEN),
    r("verify-identity", "POST", "/api/setup/password", OPEN),
    r("verify-identity", "POST", "/api/setup/resend", OPEN),
    r("verify-identity", "GET", "/api/setup/identity", OPEN),
    r("verify-identity", "POST", "/api/setup/identity", OPEN),
    r("verify-identity", "GET", "/claim", OPEN),
    r("verify-identity", "POST", "/claim", OPEN),
    r("verify-identity", "GET", "/claim/register", OPEN),
    r("verify-identity", "POST", "/claim/register", OPEN),
    r("verify-identity", "POST", "/api/claim", OPEN),
    r("verify-identity", "POST", "/api/claim/register", OPEN),
    r("login", "GET", "/login/mfa", MFA),
    r("login", "POST", "/login/mfa", MFA),
    r("login", "GET", "/terms", TERMS),
    r("login", "GET", "/static/tobira.js", OPEN),
    r("login", "GET", "/legal/terms", OPEN),
    r("login", "GET", "/legal/privacy", OPEN),
    r("login", "POST", "/terms", TERMS),
    r("login", "POST", "/devices/forget", FULL),
    r("login", "POST", "/api/login/mfa", MFA),
    // MFA-10: the second step with a passkey, or (no session) passwordless.
    r("login", "POST", "/api/login/passkey/begin", OPEN),
    r("login", "POST", "/api/login/passkey/finish", OPEN),
    r("login", "POST", "/login/passkey", OPEN),
    r("login", "POST", "/api/terms/accept", TERMS),
    r("login", "POST", "/api/devices/forget", FULL),
    r("send-mail-otp", "POST", "/otp/email", CODES),
    r("send-mail-otp", "POST", "/api/otp/email", CODES),
    r("sms-otp", "POST", "/otp/sms", CODES),
    r("sms-otp", "POST", "/otp/sms/verify", ENROL),
    r("sms-otp", "POST", "/api/otp/sms", CODES),
    r("sms-otp", "POST", "/api/otp/sms/verify", ENROL),
    r("sms-otp", "POST", "/otp/voice", CODES),
    r("sms-otp", "POST", "/otp/voice/verify", ENROL),
    r("sms-otp", "POST", "/api/otp/voice", CODES),
    r("sms-otp", "POST", "/api/otp/voice/verify", ENROL),
    r("enroll-totp", "GET", "/enroll", ENROL),
    r("enroll-totp", "POST", "/enroll/totp", ENROL),
    r("enroll-totp", "POST", "/enroll/totp/confirm", ENROL),
    r("enroll-totp", "GET", "/enroll/email", ENROL),
    r("enroll-totp", "POST", "/enroll/email", ENROL),
    r("enroll-totp", "GET", "/enroll/sms", ENROL),
    r("enroll-totp", "GET", "/enroll/sms/verify", ENROL),
    r("enroll-totp", "GET", "/enroll/voice", ENROL),
    r("enroll-totp", "GET", "/enroll/voice/verify", ENROL),
    // MFA-10: passkeys and security keys.
    r("enroll-totp", "POST", "/api/passkeys/register/begin", ENROL),
    r(
        "enroll-totp",
        "POST",
        "/api/passkeys/register/finish",
        ENROL,
    ),
    r("enroll-totp", "GET", "/api/passkeys", FULL),
    r("enroll-totp", "POST", "/api/passkeys/{id}/rename", FULL),
    r("enroll-totp", "POST", "/api/passkeys/{id}/remove", FULL),
    r("enroll-totp", "POST", "/enroll/passkey", ENROL),
    r("enroll-totp", "POST", "/passkeys/{id}/rename", FULL),
    r("enroll-totp", "POST", "/passkeys/{id}/remove", FULL),
    r("enroll-totp", "POST", "/enroll/recovery/ack", FIRST),
    r("enroll-totp", "POST", "/mfa/recovery/regenerate", FULL),
    r("enroll-totp", "POST", "/api/mfa/totp", ENROL),
    r("enroll-totp", "POST", "/api/mfa/totp/confirm", ENROL),
    r("enroll-totp", "POST", "/api/mfa/email", ENROL),
    r("enroll-totp", "POST", "/api/mfa/recovery/regenerate", FULL),
    r("enroll-totp", "POST", "/api/mfa/recovery/ack", FIRST),
    r("reset-password", "GET", "/password/forgot", OPEN),
    r("reset-password", "POST", "/password/forgot", OPEN),
    r("reset-password", "GET", "/password/reset", OPEN),
    r("reset-password", "POST", "/password/reset", OPEN),
    r("reset-password", "POST", "/api/password/forgot", OPEN),
    r("reset-password", "POST", "/api/password/reset", OPEN),
    r("reset-password", "GET", "/password/change", FULL),
    r("reset-password", "POST", "/password/change", FULL),
    r("reset-password", "POST", "/api/password/change", FULL),
    r("create-case", "POST", "/api/cases", FULL),
    r("create-case", "GET", "/api/cases", FULL),
    // Tenant administration (ADM): a full session of an admin (the role is
    // the domain's check: 403 for anyone else).
    r(ADMIN, "GET", "/api/admin/users", FULL),
    r(ADMIN, "POST", "/api/admin/users", FULL),
    r(ADMIN, "GET", "/api/admin/users/{id}", FULL),
    r(ADMIN, "POST", "/api/admin/users/{id}", FULL),
    // The admin's pages (a general user gets the 403 page).
    r(ADMIN, "GET", "/admin/users", FULL),
    r(ADMIN, "GET", "/admin/users/new", FULL),
    r(ADMIN, "POST", "/admin/users/new", FULL),
    r(ADMIN, "GET", "/admin/users/{id}", FULL),
    r(ADMIN, "GET", "/admin/users/{id}/edit", FULL),
    r(ADMIN, "POST", "/admin/users/{id}/edit", FULL),
    r(ADMIN, "POST", "/admin/users/{id}/disable", FULL),
    r(ADMIN, "POST", "/admin/users/{id}/enable", FULL),
    r(ADMIN, "POST", "/admin/users/{id}/unlock", FULL),
    r(ADMIN, "POST", "/admin/users/{id}/reset-factors", FULL),
    r(ADMIN, "POST", "/admin/users/{id}/resend-setup", FULL),
    r(ADMIN, "POST", "/admin/users/{id}/identity", FULL),
    r(ADMIN, "POST", "/api/admin/users/{id}/disable", FULL),
    r(ADMIN, "POST", "/api/admin/users/{id}/enable", FULL),
    r(ADMIN, "POST", "/api/admin/users/{id}/unlock", FULL),
    r(ADMIN, "POST", "/api/admin/users/{id}/reset-factors", FULL),
    r(ADMIN, "POST", "/api/admin/users/{id}/resend-setup", FULL),
    r(ADMIN, "POST", "/api/admin/users/{id}/identity", FULL),
    // ADM-6: sign-in history — one's own (any signed-in user) and, for an
    // admin, the tenant's; pages and CSV.
    r(ADMIN, "GET", "/api/admin/sign-ins", FULL),
    r(ADMIN, "GET", "/api/me/sign-ins", FULL),
    r(ADMIN, "GET", "/admin/sign-ins", FULL),
    r(ADMIN, "GET", "/sign-ins", FULL),
    r("create-case", "GET", "/api/cases/{id}", FULL),
    r("create-case", "POST", "/api/cases/{id}/comments", FULL),
    r("create-case", "POST", "/api/cases/{id}/close", FULL),
    r("create-case", "POST", "/api/cases/{id}/accept", FULL),
    r("create-case", "POST", "/api/cases/{id}/reject", FULL),
    r("create-case", "POST", "/api/cases/{id}/uploads", FULL),
    r("create-case", "POST", "/api/cases/{id}/attachments", FULL),
    r(
        "create-case",
        "GET",
        "/api/cases/{id}/attachments/{file}",
        FULL,
    ),
    r("create-case", "GET", "/cases", FULL),
    r("create-case", "GET", "/cases/new", FULL),
    r("create-case", "POST", "/cases/new", FULL),
    r("create-case", "GET", "/cases/{id}", FULL),
    r("create-case", "POST", "/cases/{id}/comments", FULL),
    r("create-case", "POST", "/cases/{id}/close", FULL),
    r("create-case", "POST", "/cases/{id}/accept", FULL),
    r("create-case", "POST", "/cases/{id}/reject", FULL),
    r("create-case", "GET", "/cases/{id}/uploads/confirm", FULL),
    r("create-case", "GET", "/cases/{id}/attachments/{file}", FULL),
];

/// Whether a concrete path matches a route pattern.
pub fn matches(pattern: &str, path: &str) -> bool {
    let (mut p, mut q) = (pattern.split('/'), path.split('/'));
    loop {
        match (p.next(), q.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a.starts_with('{') && a.ends_with('}') && !b.is_empty() => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// The function that serves `method path`, if any.
pub fn function_for(method: &str, path: &str) -> Option<&'static str> {
    ROUTES
        .iter()
        .find(|r| r.method == method && matches(r.path, path))
        .map(|r| r.function)
}

/// The function that serves `path` with any method (for 405 vs 404).
pub fn function_for_path(path: &str) -> Option<&'static str> {
    ROUTES
        .iter()
        .find(|r| matches(r.path, path))
        .map(|r| r.function)
}

/// The methods the route table serves at a concrete path, sorted: the
/// `Allow` of a 405 for any other method. Empty for an unknown path (404).
pub fn allowed_methods(path: &str) -> Vec<&'static str> {
    let mut methods: Vec<&'static str> = ROUTES
        .iter()
        .filter(|r| matches(r.path, path))
        .map(|r| r.method)
        .collect();
    methods.sort_unstable();
    methods.dedup();
    methods
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches("/api/cases/{id}", "/api/cases/01ABC"));
        assert!(!matches("/api/cases/{id}", "/api/cases/"));
        assert!(!matches("/api/cases/{id}", "/api/cases/1/comments"));
        assert_eq!(function_for("POST", "/api/login"), Some("login"));
        assert_eq!(function_for("GET", "/api/login"), None);
        assert_eq!(function_for("GET", "/enroll"), Some("enroll-totp"));
        assert_eq!(function_for("GET", "/claim"), Some("verify-identity"));
        assert_eq!(
            function_for("GET", "/password/reset"),
            Some("reset-password")
        );
        assert_eq!(
            function_for("POST", "/api/password/change"),
            Some("reset-password")
        );
        assert_eq!(function_for("POST", "/api/cases"), Some("create-case"));
        assert_eq!(function_for("GET", "/cases/new"), Some("create-case"));
        assert_eq!(function_for("DELETE", "/api/cases/01ABC"), None);
        assert_eq!(allowed_methods("/api/cases/01ABC"), ["GET"]);
        assert_eq!(allowed_methods("/cases/new"), ["GET", "POST"]);
        assert_eq!(allowed_methods("/api/nothing"), Vec::<&str>::new());
    }
}
