//! What the passkey tests share (MFA-10): an authenticator for the test
//! portal's origin, and the ceremonies driven through the JSON API as the
//! portal's script drives them in a browser.

use serde_json::{json, Value};
use tobira_test_kit::authenticator::SoftAuthenticator;

use crate::mfa_support::{full_client, totp_user, Client, PW};
use crate::support::Harness;

/// The test portal's origin (`support::test_config`'s base URL).
pub const ORIGIN: &str = "https://portal.example.com";

/// A platform authenticator (discoverable credentials, user verification).
pub fn phone() -> SoftAuthenticator {
    SoftAuthenticator::new(ORIGIN)
}

/// A roaming security key: its credentials are not discoverable.
pub fn security_key() -> SoftAuthenticator {
    SoftAuthenticator::new(ORIGIN).discoverable(false)
}

impl Client<'_> {
    /// Register a passkey on `auth` (`body`: the begin's, e.g. a name or
    /// the password): the finish's status and body.
    pub async fn passkey_register(
        &mut self,
        auth: &mut SoftAuthenticator,
        body: Value,
    ) -> (u16, Value) {
        let (s, options) = self.post("/api/passkeys/register/begin", body).await;
        assert_eq!(s, 200, "{options}");
        let credential = auth.register(&options);
        self.post("/api/passkeys/register/finish", credential).await
    }

    /// Sign in with `auth` (the second step when this client is at the
    /// challenge; passwordless otherwise): the finish's status and body.
    pub async fn passkey_sign_in(&mut self, auth: &mut SoftAuthenticator) -> (u16, Value) {
        let assertion = self.passkey_assertion(auth, json!({})).await;
        self.post("/api/login/passkey/finish", assertion).await
    }

    /// Begin a passkey sign-in with `body` and have `auth` answer it.
    pub async fn passkey_assertion(&mut self, auth: &mut SoftAuthenticator, body: Value) -> Value {
        let (s, options) = self.post("/api/login/passkey/begin", body).await;
        assert_eq!(s, 200, "{options}");
        auth.assert(&options)
            .expect("the authenticator holds a credential")
    }
}

/// A TOTP user (`login`) who added a passkey on `auth` from a full
/// session; the TOTP secret.
pub async fn passkey_user(h: &Harness, login: &str, auth: &mut SoftAuthenticator) -> String {
    let (secret, _) = totp_user(h, login).await;
    let mut c = full_client(h, login, &secret).await;
    let (s, b) = c
        .passkey_register(auth, json!({ "name": "Phone", "password": PW }))
        .await;
    assert_eq!((s, b["next"].as_str()), (200, Some("done")), "{b}");
    secret
}
