//! MFA-10: the WebAuthn ceremonies behind the domain's port
//! ([`tobira::webauthn::Ceremonies`]), on webauthn-rs (RustCrypto: no
//! OpenSSL, which suits Lambda). Passkeys and security keys are one
//! ceremony: webauthn-rs's passkey flows, which require user verification;
//! registration prefers a discoverable credential, so that one made on a
//! phone or a laptop also signs in without a password (where that is on).
//! Every assertion is checked against the credential as stored now (its
//! signature counter and backup state), whichever way it began.
//!
//! The relying party's ID and origin come from configuration, never from a
//! request (`TOBIRA_WEBAUTHN_RP_ID`, `TOBIRA_WEBAUTHN_ORIGIN`).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;
use tobira::config::ConfigError;
use tobira::webauthn::{Ceremonies, CeremonyError, Presented, Registered, Started, Verified};
use tobira::Config;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

pub struct WebAuthn {
    webauthn: Webauthn,
}

/// The ceremonies a function runs: WebAuthn for the deployment's relying
/// party where passkeys are on (MFA-10), none otherwise.
pub fn from_config(config: &Config) -> Result<Arc<dyn Ceremonies>, ConfigError> {
    let factors = &config.factors;
    match (&factors.relying_party, factors.passkeys) {
        (Some(rp), true) => WebAuthn::new(&rp.id, &rp.origin, &config.brand)
            .map(|w| Arc::new(w) as Arc<dyn Ceremonies>)
            .map_err(|_| ConfigError::Invalid {
                name: "TOBIRA_WEBAUTHN_RP_ID",
                value: rp.id.clone(),
                expected: "a domain: the host of TOBIRA_WEBAUTHN_ORIGIN or a parent of it",
            }),
        _ => Ok(Arc::new(tobira::webauthn::Unwired)),
    }
}

impl WebAuthn {
    /// The relying party `rp_id` (a domain: the portal's host or a parent
    /// of it) at `origin` (the portal's scheme, host and port), shown to
    /// users as `rp_name`.
    pub fn new(rp_id: &str, origin: &str, rp_name: &str) -> Result<Self, String> {
        let origin = Url::parse(origin).map_err(|e| format!("the WebAuthn origin: {e}"))?;
        let webauthn = WebauthnBuilder::new(rp_id, &origin)
            .map_err(|_| format!("{rp_id} is not the origin's host or a parent domain of it"))?
            .rp_name(rp_name)
            .build()
            .map_err(|e| format!("WebAuthn: {e:?}"))?;
        Ok(Self { webauthn })
    }
}

fn refused(what: &str, e: impl std::fmt::Debug) -> CeremonyError {
    CeremonyError::Refused(format!("{what}: {e:?}"))
}

fn passkey(credential: &str) -> Result<Passkey, CeremonyError> {
    serde_json::from_str(credential).map_err(|e| refused("stored credential", e))
}

fn to_text(v: &impl serde::Serialize) -> Result<String, CeremonyError> {
    serde_json::to_string(v).map_err(|e| refused("serialise", e))
}

fn started(
    options: &impl serde::Serialize,
    state: &impl serde::Serialize,
) -> Result<Started, CeremonyError> {
    let options = serde_json::to_value(options).map_err(|e| refused("serialise", e))?;
    let challenge = options["publicKey"]["challenge"]
        .as_str()
        .ok_or_else(|| refused("options", "no challenge"))?
        .to_string();
    Ok(Started {
        options,
        state: to_text(state)?,
        challenge,
    })
}

/// A base64url field of a response (browsers send it unpadded).
fn b64(v: &Value) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(v.as_str()?.trim_end_matches('='))
        .ok()
}

impl Ceremonies for WebAuthn {
    fn start_registration(
        &self,
        handle: &[u8; 16],
        name: &str,
        display: &str,
        exclude: &[String],
    ) -> Result<Started, CeremonyError> {
        let exclude = exclude
            .iter()
            .map(|c| passkey(c).map(|p| p.cred_id().clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let (ccr, state): (_, PasskeyRegistration) = self
            .webauthn
            .start_passkey_registration(Uuid::from_bytes(*handle), name, display, Some(exclude))
            .map_err(|e| refused("start registration", e))?;
        // Passwordless sign-in needs the authenticator to keep the
        // credential (a discoverable credential): preferred, not required,
        // so that a security key with little room still works as a second
        // factor.
        let mut begun = started(&ccr, &state)?;
        let selection = &mut begun.options["publicKey"]["authenticatorSelection"];
        selection["residentKey"] = "preferred".into();
        selection["requireResidentKey"] = false.into();
        Ok(begun)
    }

    fn finish_registration(
        &self,
        response: &Value,
        state: &str,
    ) -> Result<Registered, CeremonyError> {
        let reg: RegisterPublicKeyCredential =
            serde_json::from_value(response.clone()).map_err(|e| refused("response", e))?;
        let state: PasskeyRegistration =
            serde_json::from_str(state).map_err(|e| refused("state", e))?;
        let pk = self
            .webauthn
            .finish_passkey_registration(&reg, &state)
            .map_err(|e| refused("registration", e))?;
        let stored = serde_json::to_value(&pk).map_err(|e| refused("serialise", e))?;
        let flag = |name: &str| stored["cred"][name].as_bool().unwrap_or(false);
        Ok(Registered {
            id: URL_SAFE_NO_PAD.encode::<&[u8]>(pk.cred_id().as_ref()),
            credential: to_text(&pk)?,
            discoverable: reg.extensions.cred_props.and_then(|c| c.rk),
            backup_eligible: flag("backup_eligible"),
            backed_up: flag("backup_state"),
        })
    }

    fn start_assertion(&self, credentials: &[String]) -> Result<Started, CeremonyError> {
        if credentials.is_empty() {
            let (mut rcr, state) = self
                .webauthn
                .start_discoverable_authentication()
                .map_err(|e| refused("start discoverable", e))?;
            // Started by a button, not by the browser's autofill.
            rcr.mediation = None;
            return started(&rcr, &state);
        }
        let keys = credentials
            .iter()
            .map(|c| passkey(c))
            .collect::<Result<Vec<_>, _>>()?;
        let (rcr, state) = self
            .webauthn
            .start_passkey_authentication(&keys)
            .map_err(|e| refused("start assertion", e))?;
        started(&rcr, &state)
    }

    fn presented(&self, response: &Value) -> Result<Presented, CeremonyError> {
        let client_data = b64(&response["response"]["clientDataJSON"])
            .ok_or_else(|| refused("response", "no clientDataJSON"))?;
        let client_data: Value =
            serde_json::from_slice(&client_data).map_err(|e| refused("clientDataJSON", e))?;
        let challenge = client_data["challenge"]
            .as_str()
            .filter(|c| !c.is_empty() && c.len() <= 256)
            .ok_or_else(|| refused("clientDataJSON", "no challenge"))?
            .trim_end_matches('=')
            .to_string();
        let raw = b64(&response["rawId"])
            .or_else(|| b64(&response["id"]))
            .filter(|id| !id.is_empty() && id.len() <= 1023)
            .ok_or_else(|| refused("response", "no credential ID"))?;
        Ok(Presented {
            challenge,
            credential_id: URL_SAFE_NO_PAD.encode(raw),
            user_handle: b64(&response["response"]["userHandle"]).filter(|h| !h.is_empty()),
        })
    }

    fn finish_assertion(
        &self,
        response: &Value,
        state: &str,
        credential: &str,
    ) -> Result<Verified, CeremonyError> {
        let reg: PublicKeyCredential =
            serde_json::from_value(response.clone()).map_err(|e| refused("response", e))?;
        // Both kinds of state (a user's credentials, or any discoverable
        // one) are the same challenge and policy; the assertion is checked
        // against the one credential as stored now.
        let state: DiscoverableAuthentication =
            serde_json::from_str(state).map_err(|e| refused("state", e))?;
        let mut pk = passkey(credential)?;
        let result = self
            .webauthn
            .finish_discoverable_authentication_v2(&reg, state, &pk)
            .map_err(|e| refused("assertion", e))?;
        if !result.user_verified() {
            return Err(refused("assertion", "user not verified"));
        }
        let changed = pk.update_credential(&result) == Some(true);
        Ok(Verified {
            credential: if changed { Some(to_text(&pk)?) } else { None },
            backed_up: result.backup_state(),
            user_verified: result.user_verified(),
        })
    }
}
