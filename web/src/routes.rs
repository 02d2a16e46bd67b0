//! Every HTTP route and the function that serves it: the one table that the
//! local server dispatches by, and that tests hold the SAM template and the
//! OpenAPI document to.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub function: &'static str,
    pub method: &'static str,
    /// With `{id}` for a path parameter, as in API Gateway.
    pub path: &'static str,
}

const fn r(function: &'static str, method: &'static str, path: &'static str) -> Route {
    Route {
        function,
        method,
        path,
    }
}

pub const FUNCTIONS: [&str; 8] = [
    "login",
    "verify-identity",
    "send-mail-otp",
    "sms-otp",
    "enroll-totp",
    "reset-password",
    "create-case",
    "migrate-batch",
];

pub const ROUTES: &[Route] = &[
    r("login", "GET", "/"),
    r("login", "GET", "/login"),
    r("login", "POST", "/login"),
    r("login", "POST", "/logout"),
    r("login", "POST", "/api/login"),
    r("login", "GET", "/api/me"),
    r("login", "POST", "/api/logout"),
    r("verify-identity", "GET", "/setup"),
    r("verify-identity", "POST", "/setup/verify"),
    r("verify-identity", "GET", "/setup/password"),
    r("verify-identity", "POST", "/setup/password"),
    r("verify-identity", "POST", "/api/setup/verify"),
    r("verify-identity", "POST", "/api/setup/password"),
    r("verify-identity", "POST", "/api/setup/resend"),
    r("verify-identity", "GET", "/api/setup/identity"),
    r("verify-identity", "POST", "/api/setup/identity"),
    r("verify-identity", "GET", "/claim"),
    r("verify-identity", "POST", "/claim"),
    r("verify-identity", "GET", "/claim/register"),
    r("verify-identity", "POST", "/claim/register"),
    r("verify-identity", "POST", "/api/claim"),
    r("verify-identity", "POST", "/api/claim/register"),
    r("login", "GET", "/login/mfa"),
    r("login", "POST", "/login/mfa"),
    r("login", "GET", "/terms"),
    r("login", "POST", "/terms"),
    r("login", "POST", "/devices/forget"),
    r("login", "POST", "/api/login/mfa"),
    r("login", "POST", "/api/terms/accept"),
    r("login", "POST", "/api/devices/forget"),
    r("send-mail-otp", "POST", "/otp/email"),
    r("send-mail-otp", "POST", "/api/otp/email"),
    r("sms-otp", "POST", "/otp/sms"),
    r("sms-otp", "POST", "/otp/sms/verify"),
    r("sms-otp", "POST", "/api/otp/sms"),
    r("sms-otp", "POST", "/api/otp/sms/verify"),
    r("enroll-totp", "GET", "/enroll"),
    r("enroll-totp", "POST", "/enroll/totp"),
    r("enroll-totp", "POST", "/enroll/totp/confirm"),
    r("enroll-totp", "GET", "/enroll/email"),
    r("enroll-totp", "POST", "/enroll/email"),
    r("enroll-totp", "GET", "/enroll/sms"),
    r("enroll-totp", "GET", "/enroll/sms/verify"),
    r("enroll-totp", "POST", "/enroll/recovery/ack"),
    r("enroll-totp", "POST", "/mfa/recovery/regenerate"),
    r("enroll-totp", "POST", "/api/mfa/totp"),
    r("enroll-totp", "POST", "/api/mfa/totp/confirm"),
    r("enroll-totp", "POST", "/api/mfa/email"),
    r("enroll-totp", "POST", "/api/mfa/recovery/regenerate"),
    r("enroll-totp", "POST", "/api/mfa/recovery/ack"),
    r("reset-password", "GET", "/password/forgot"),
    r("reset-password", "POST", "/password/forgot"),
    r("reset-password", "GET", "/password/reset"),
    r("reset-password", "POST", "/password/reset"),
    r("reset-password", "POST", "/api/password/forgot"),
    r("reset-password", "POST", "/api/password/reset"),
    r("reset-password", "GET", "/password/change"),
    r("reset-password", "POST", "/password/change"),
    r("reset-password", "POST", "/api/password/change"),
    r("create-case", "POST", "/api/cases"),
    r("create-case", "GET", "/api/cases"),
    r("create-case", "GET", "/api/cases/{id}"),
    r("create-case", "POST", "/api/cases/{id}/comments"),
    r("create-case", "POST", "/api/cases/{id}/close"),
    r("create-case", "POST", "/api/cases/{id}/accept"),
    r("create-case", "POST", "/api/cases/{id}/reject"),
    r("create-case", "GET", "/cases"),
    r("create-case", "GET", "/cases/new"),
    r("create-case", "POST", "/cases/new"),
    r("create-case", "GET", "/cases/{id}"),
    r("create-case", "POST", "/cases/{id}/comments"),
    r("create-case", "POST", "/cases/{id}/close"),
    r("create-case", "POST", "/cases/{id}/accept"),
    r("create-case", "POST", "/cases/{id}/reject"),
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
