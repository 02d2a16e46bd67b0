//! MFA-10: a WebAuthn credential as the browser returns it
//! (`PublicKeyCredential.toJSON()`): its top-level fields are known and
//! parsed strictly, as every request body is; what the authenticator says
//! (`response`, `clientExtensionResults`) goes to the ceremony as it came.

use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrowserCredential {
    id: String,
    #[serde(rename = "rawId")]
    raw_id: String,
    #[serde(rename = "type")]
    kind: String,
    response: serde_json::Map<String, Value>,
    #[serde(default, rename = "authenticatorAttachment")]
    attachment: Option<Value>,
    #[serde(default, rename = "clientExtensionResults")]
    extensions: Option<Value>,
    /// MFA-7, at the second step: remember this browser.
    #[serde(default)]
    remember_device: bool,
}

impl BrowserCredential {
    /// The credential for the ceremony, and "remember this device".
    pub fn into_parts(self) -> (Value, bool) {
        let mut v = json!({
            "id": self.id,
            "rawId": self.raw_id,
            "type": self.kind,
            "response": self.response,
            "clientExtensionResults": self.extensions.unwrap_or_else(|| json!({})),
        });
        if let Some(a) = self.attachment {
            v["authenticatorAttachment"] = a;
        }
        (v, self.remember_device)
    }
}

/// A page's form after the portal's script ran the ceremony: the
/// credential as JSON text (and the challenge's "remember this device").
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialForm {
    credential: String,
    #[serde(default)]
    remember_device: bool,
}

impl CredentialForm {
    /// The credential for the ceremony (`None`: not a credential at all),
    /// and "remember this device".
    pub fn into_parts(self) -> (Option<Value>, bool) {
        let parsed = serde_json::from_str::<BrowserCredential>(&self.credential).ok();
        (parsed.map(|c| c.into_parts().0), self.remember_device)
    }
}
