//! A software WebAuthn authenticator, for API tests without a browser.
//!
//! [`SoftAuthenticator`] plays both the browser and a CTAP2 authenticator:
//! it takes the JSON the server hands the page for
//! `navigator.credentials.create()` / `.get()` (webauthn-rs's
//! `CreationChallengeResponse` / `RequestChallengeResponse`, serialized) and
//! returns the JSON the page would post back: `PublicKeyCredential.toJSON()`,
//! binary fields as base64url without padding.
//!
//! Keys are P-256 (ES256), attestation is `"none"`, the AAGUID is all zeros.
//! It does what a browser checks before it asks an authenticator (the RP ID
//! must be the origin's host or a parent domain of it, ES256 must be offered)
//! and panics if a test got that wrong. It does not enforce
//! `excludeCredentials`, `userVerification` or timeouts: it always answers,
//! with the UV flag it was built with, so that the server's checks are what
//! a test exercises.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::elliptic_curve::Generate as _;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

/// COSE algorithm identifier of ES256 (ECDSA P-256 with SHA-256).
const ES256: i64 = -7;

/// authenticatorData flags.
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;

/// DER prefix of a P-256 SubjectPublicKeyInfo, before the 65-byte point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// One credential the authenticator holds.
#[derive(Clone, Debug)]
struct StoredCredential {
    id: Vec<u8>,
    rp_id: String,
    user_handle: Vec<u8>,
    key: SigningKey,
    counter: u32,
    discoverable: bool,
}

/// A software authenticator behind a pretend browser at one origin.
///
/// Cloning it clones the authenticator: the copy holds the same keys and
/// counters, and from then on each counts on its own (a cloned security key).
///
/// Defaults: discoverable credentials, user verification performed, not
/// backup eligible, signature counter incremented per assertion (a security
/// key or a platform authenticator; a synced passkey is
/// `.backup(true, true).counting(false)`).
#[derive(Clone, Debug)]
pub struct SoftAuthenticator {
    origin: String,
    discoverable: bool,
    user_verifying: bool,
    backup_eligible: bool,
    backup_state: bool,
    counting: bool,
    credentials: Vec<StoredCredential>,
}

impl SoftAuthenticator {
    /// An authenticator used from pages at `origin`, e.g. `"http://localhost:3000"`
    /// (scheme, host and port; no trailing slash).
    pub fn new(origin: &str) -> Self {
        SoftAuthenticator {
            origin: origin.trim_end_matches('/').to_owned(),
            discoverable: true,
            user_verifying: true,
            backup_eligible: false,
            backup_state: false,
            counting: true,
            credentials: Vec::new(),
        }
    }

    /// Whether credentials it creates from now on are discoverable (resident):
    /// usable with an empty `allowCredentials`, and asserted with their user handle.
    pub fn discoverable(mut self, yes: bool) -> Self {
        self.discoverable = yes;
        self
    }

    /// Whether it verifies the user (sets the UV flag) in what it signs from now on.
    pub fn user_verifying(mut self, yes: bool) -> Self {
        self.user_verifying = yes;
        self
    }

    /// The backup eligible (BE) and backed up (BS) flags in what it signs from now on.
    pub fn backup(mut self, eligible: bool, state: bool) -> Self {
        self.backup_eligible = eligible;
        self.backup_state = state;
        self
    }

    /// Whether assertions increment the signature counter; if not, it stays 0
    /// (as synced passkeys do).
    pub fn counting(mut self, yes: bool) -> Self {
        self.counting = yes;
        self
    }

    /// `navigator.credentials.create()`: `options` is the server's
    /// `{"publicKey": {...}}` or its `publicKey` member. Creates a new ES256
    /// credential for `rp.id` and `user.id` and returns the
    /// `RegisterPublicKeyCredential` JSON (attestation `"none"`).
    ///
    /// Panics if the options are malformed, do not offer ES256, or name an
    /// RP ID the origin may not use: a browser would refuse them.
    pub fn register(&mut self, options: &Value) -> Value {
        let options = options.get("publicKey").unwrap_or(options);
        let rp_id = str_at(options, "/rp/id");
        self.check_rp_id(rp_id);
        let user_handle = b64_decode(str_at(options, "/user/id"));
        let challenge = str_at(options, "/challenge");
        let offers_es256 = options["pubKeyCredParams"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["alg"].as_i64() == Some(ES256)));
        assert!(offers_es256, "the options do not offer ES256: {options}");

        let key = SigningKey::generate();
        let mut id = vec![0u8; 32];
        getrandom::fill(&mut id).expect("getrandom");
        let credential = StoredCredential {
            id,
            rp_id: rp_id.to_owned(),
            user_handle,
            key,
            counter: 0,
            discoverable: self.discoverable,
        };

        let point = credential.key.verifying_key().to_sec1_point(false);
        let point = point.as_bytes(); // 0x04 || x || y
        let mut cose_key = Vec::new();
        cbor_head(&mut cose_key, 5, 5);
        cbor_int(&mut cose_key, 1); // kty:
        cbor_int(&mut cose_key, 2); //   EC2
        cbor_int(&mut cose_key, 3); // alg:
        cbor_int(&mut cose_key, ES256);
        cbor_int(&mut cose_key, -1); // crv:
        cbor_int(&mut cose_key, 1); //   P-256
        cbor_int(&mut cose_key, -2); // x
        cbor_bytes(&mut cose_key, &point[1..33]);
        cbor_int(&mut cose_key, -3); // y
        cbor_bytes(&mut cose_key, &point[33..65]);

        let mut auth_data = self.auth_data_head(rp_id, AT, credential.counter);
        auth_data.extend_from_slice(&[0; 16]); // AAGUID
        let id_len = u16::try_from(credential.id.len()).expect("credential ID length");
        auth_data.extend_from_slice(&id_len.to_be_bytes());
        auth_data.extend_from_slice(&credential.id);
        auth_data.extend_from_slice(&cose_key);

        let mut attestation_object = Vec::new();
        cbor_head(&mut attestation_object, 5, 3);
        cbor_text(&mut attestation_object, "fmt");
        cbor_text(&mut attestation_object, "none");
        cbor_text(&mut attestation_object, "attStmt");
        cbor_head(&mut attestation_object, 5, 0);
        cbor_text(&mut attestation_object, "authData");
        cbor_bytes(&mut attestation_object, &auth_data);

        let client_data = self.client_data("webauthn.create", challenge);
        let mut spki = P256_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(point);

        // Browsers report credProps only when asked for it.
        let mut extensions = json!({});
        if options.pointer("/extensions/credProps") == Some(&Value::Bool(true)) {
            extensions["credProps"] = json!({ "rk": credential.discoverable });
        }

        let id = b64(&credential.id);
        self.credentials.push(credential);
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64(client_data.as_bytes()),
                "attestationObject": b64(&attestation_object),
                "authenticatorData": b64(&auth_data),
                "publicKey": b64(&spki),
                "publicKeyAlgorithm": ES256,
                "transports": ["internal"],
            },
            "clientExtensionResults": extensions,
        })
    }

    /// `navigator.credentials.get()`: `options` is the server's
    /// `{"publicKey": {...}}` or its `publicKey` member. Uses the first
    /// credential in `allowCredentials` that it holds for `rpId`, or, if that
    /// list is empty, its newest discoverable credential for `rpId`; returns
    /// the `PublicKeyCredential` JSON (with `userHandle` for a discoverable
    /// credential), or `None` if it holds no such credential.
    ///
    /// Panics if the options are malformed or name an RP ID the origin may not use.
    pub fn assert(&mut self, options: &Value) -> Option<Value> {
        let options = options.get("publicKey").unwrap_or(options);
        let rp_id = str_at(options, "/rpId").to_owned();
        self.check_rp_id(&rp_id);
        let challenge = str_at(options, "/challenge").to_owned();
        let allowed: Vec<Vec<u8>> = options["allowCredentials"]
            .as_array()
            .map(|list| list.iter().map(|c| b64_decode(str_at(c, "/id"))).collect())
            .unwrap_or_default();

        let index = if allowed.is_empty() {
            self.credentials
                .iter()
                .rposition(|c| c.discoverable && c.rp_id == rp_id)?
        } else {
            allowed.iter().find_map(|id| {
                self.credentials
                    .iter()
                    .position(|c| &c.id == id && c.rp_id == rp_id)
            })?
        };

        let counting = self.counting;
        let credential = &mut self.credentials[index];
        if counting {
            credential.counter = credential.counter.wrapping_add(1);
        }
        let counter = credential.counter;
        let credential = self.credentials[index].clone();

        let auth_data = self.auth_data_head(&rp_id, 0, counter);
        let client_data = self.client_data("webauthn.get", &challenge);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(client_data.as_bytes()));
        let signature: DerSignature = credential.key.sign(&signed);

        let id = b64(&credential.id);
        let mut response = json!({
            "clientDataJSON": b64(client_data.as_bytes()),
            "authenticatorData": b64(&auth_data),
            "signature": b64(signature.as_bytes()),
        });
        if credential.discoverable {
            response["userHandle"] = Value::String(b64(&credential.user_handle));
        }
        Some(json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": response,
            "clientExtensionResults": {},
        }))
    }

    /// The IDs of the credentials it holds (base64url, unpadded), oldest first.
    pub fn credential_ids(&self) -> Vec<String> {
        self.credentials.iter().map(|c| b64(&c.id)).collect()
    }

    /// Sets the signature counter of every credential it holds; the next
    /// assertion signs `value + 1` (or `value` if not counting). To simulate
    /// a cloned authenticator whose counter is behind.
    pub fn set_counter(&mut self, value: u32) {
        for credential in &mut self.credentials {
            credential.counter = value;
        }
    }

    /// authenticatorData up to the counter: rpIdHash, flags, signCount.
    fn auth_data_head(&self, rp_id: &str, extra_flags: u8, counter: u32) -> Vec<u8> {
        let mut flags = UP | extra_flags;
        if self.user_verifying {
            flags |= UV;
        }
        if self.backup_eligible {
            flags |= BE;
        }
        if self.backup_state {
            flags |= BS;
        }
        let mut data = Sha256::digest(rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend_from_slice(&counter.to_be_bytes());
        data
    }

    /// clientDataJSON, as browsers write it (the challenge as given).
    fn client_data(&self, type_: &str, challenge: &str) -> String {
        format!(
            r#"{{"type":"{type_}","challenge":{},"origin":{},"crossOrigin":false}}"#,
            Value::from(challenge),
            Value::from(self.origin.as_str()),
        )
    }

    /// A browser refuses an RP ID that is neither the origin's host nor a
    /// parent domain of it.
    fn check_rp_id(&self, rp_id: &str) {
        let rest = self.origin.split_once("://").map_or("", |(_, rest)| rest);
        let host = rest.split(['/', ':']).next().unwrap_or("");
        let ok = !rp_id.is_empty()
            && (host == rp_id
                || host
                    .strip_suffix(rp_id)
                    .is_some_and(|sub| sub.ends_with('.')));
        assert!(
            ok,
            "SecurityError: RP ID {rp_id:?} is not valid for origin {}",
            self.origin
        );
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn b64_decode(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .unwrap_or_else(|e| panic!("not base64url ({e}): {text:?}"))
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {value}"))
}

/// A CBOR item head: major type and argument, in the shortest form.
fn cbor_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let major = major << 5;
    match n {
        0..=23 => out.push(major | n as u8),
        24..=0xff => out.extend_from_slice(&[major | 24, n as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

fn cbor_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        cbor_head(out, 0, n as u64);
    } else {
        cbor_head(out, 1, (-1 - n) as u64);
    }
}

fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    cbor_head(out, 2, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn cbor_text(out: &mut Vec<u8>, text: &str) {
    cbor_head(out, 3, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use webauthn_rs::prelude::*;

    const ORIGIN: &str = "http://localhost:3000";

    fn webauthn() -> Webauthn {
        WebauthnBuilder::new("localhost", &Url::parse(ORIGIN).unwrap())
            .unwrap()
            .build()
            .unwrap()
    }

    fn to_json<T: serde::Serialize>(value: &T) -> Value {
        serde_json::to_value(value).unwrap()
    }

    fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> T {
        serde_json::from_value(value).unwrap()
    }

    fn register(
        webauthn: &Webauthn,
        authenticator: &mut SoftAuthenticator,
        user: Uuid,
    ) -> WebauthnResult<Passkey> {
        let (ccr, state) = webauthn
            .start_passkey_registration(user, "name", "Name", None)
            .unwrap();
        let response = authenticator.register(&to_json(&ccr));
        webauthn.finish_passkey_registration(&from_json(response), &state)
    }

    fn authenticate(
        webauthn: &Webauthn,
        authenticator: &mut SoftAuthenticator,
        passkey: &Passkey,
    ) -> WebauthnResult<AuthenticationResult> {
        let (rcr, state) = webauthn
            .start_passkey_authentication(std::slice::from_ref(passkey))
            .unwrap();
        let response = authenticator.assert(&to_json(&rcr)).expect("a credential");
        webauthn.finish_passkey_authentication(&from_json(response), &state)
    }

    #[test]
    fn registers_a_passkey_in_browser_json() {
        let webauthn = webauthn();
        let mut authenticator = SoftAuthenticator::new(ORIGIN);
        let (ccr, state) = webauthn
            .start_passkey_registration(Uuid::new_v4(), "name", "Name", None)
            .unwrap();
        // Only the `publicKey` member works as well.
        let response = authenticator.register(&to_json(&ccr)["publicKey"]);
        assert_eq!(response["response"]["transports"], json!(["internal"]));
        assert_eq!(
            response["clientExtensionResults"],
            json!({ "credProps": { "rk": true } })
        );
        let client_data = b64_decode(response["response"]["clientDataJSON"].as_str().unwrap());
        let client_data: Value = serde_json::from_slice(&client_data).unwrap();
        assert_eq!(client_data["type"], "webauthn.create");
        assert_eq!(client_data["origin"], ORIGIN);
        assert_eq!(
            client_data["challenge"],
            to_json(&ccr)["publicKey"]["challenge"]
        );

        // The browser-only extras are ignored by webauthn-rs.
        let credential: RegisterPublicKeyCredential = from_json(response.clone());
        let passkey = webauthn
            .finish_passkey_registration(&credential, &state)
            .unwrap();
        assert_eq!(
            authenticator.credential_ids(),
            vec![response["id"].as_str().unwrap().to_owned()]
        );
        assert_eq!(b64(passkey.cred_id()), authenticator.credential_ids()[0]);
    }

    #[test]
    fn authenticates_with_a_passkey() {
        let webauthn = webauthn();
        let mut authenticator = SoftAuthenticator::new(ORIGIN);
        let mut passkey = register(&webauthn, &mut authenticator, Uuid::new_v4()).unwrap();

        let (rcr, state) = webauthn
            .start_passkey_authentication(std::slice::from_ref(&passkey))
            .unwrap();
        let response = authenticator.assert(&to_json(&rcr)).unwrap();
        let credential: PublicKeyCredential = from_json(response);
        let result = webauthn
            .finish_passkey_authentication(&credential, &state)
            .unwrap();
        assert!(result.user_verified());
        assert_eq!(result.counter(), 1);
        assert!(result.needs_update()); // 0 at registration, now 1
        assert_eq!(passkey.update_credential(&result), Some(true));

        // The same assertion against a new challenge: refused.
        let (_, state) = webauthn
            .start_passkey_authentication(std::slice::from_ref(&passkey))
            .unwrap();
        let e = webauthn
            .finish_passkey_authentication(&credential, &state)
            .unwrap_err();
        assert!(matches!(e, WebauthnError::MismatchedChallenge), "{e:?}");

        let result = authenticate(&webauthn, &mut authenticator, &passkey).unwrap();
        assert_eq!(result.counter(), 2);
        assert!(result.needs_update());
        passkey.update_credential(&result);

        // A clone whose counter is behind (the next assertion signs 2 <= 2).
        let mut clone = authenticator.clone();
        clone.set_counter(1);
        let e = authenticate(&webauthn, &mut clone, &passkey).unwrap_err();
        assert!(
            matches!(e, WebauthnError::CredentialPossibleCompromise),
            "{e:?}"
        );
        // The original carries on.
        let result = authenticate(&webauthn, &mut authenticator, &passkey).unwrap();
        assert_eq!(result.counter(), 3);
    }

    #[test]
    fn a_synced_passkey_keeps_its_counter_at_zero() {
        let webauthn = webauthn();
        let mut authenticator = SoftAuthenticator::new(ORIGIN)
            .backup(true, true)
            .counting(false);
        let passkey = register(&webauthn, &mut authenticator, Uuid::new_v4()).unwrap();
        for _ in 0..2 {
            let result = authenticate(&webauthn, &mut authenticator, &passkey).unwrap();
            assert_eq!(result.counter(), 0);
            assert!(result.backup_eligible() && result.backup_state());
            assert!(!result.needs_update());
        }
    }

    #[test]
    fn authenticates_with_a_discoverable_credential() {
        let webauthn = webauthn();
        let mut authenticator = SoftAuthenticator::new(ORIGIN);
        let user = Uuid::new_v4();
        let passkey = register(&webauthn, &mut authenticator, user).unwrap();

        let (rcr, state) = webauthn.start_discoverable_authentication().unwrap();
        let rcr = to_json(&rcr);
        assert_eq!(rcr["publicKey"]["allowCredentials"], json!([]));
        let response = authenticator.assert(&rcr).unwrap();
        let credential: PublicKeyCredential = from_json(response);
        let (uuid, cred_id) = webauthn
            .identify_discoverable_authentication(&credential)
            .unwrap();
        assert_eq!(uuid, user);
        assert_eq!(cred_id, passkey.cred_id().as_slice());
        let result = webauthn
            .finish_discoverable_authentication_v2(&credential, state, &passkey)
            .unwrap();
        assert!(result.user_verified());
    }

    #[test]
    fn a_non_discoverable_credential_needs_its_id() {
        let webauthn = webauthn();
        let mut authenticator = SoftAuthenticator::new(ORIGIN).discoverable(false);
        let (ccr, state) = webauthn
            .start_passkey_registration(Uuid::new_v4(), "name", "Name", None)
            .unwrap();
        let response = authenticator.register(&to_json(&ccr));
        assert_eq!(
            response["clientExtensionResults"],
            json!({ "credProps": { "rk": false } })
        );
        let passkey = webauthn
            .finish_passkey_registration(&from_json(response), &state)
            .unwrap();

        let (rcr, _) = webauthn.start_discoverable_authentication().unwrap();
        assert_eq!(authenticator.assert(&to_json(&rcr)), None);

        let (rcr, state) = webauthn
            .start_passkey_authentication(std::slice::from_ref(&passkey))
            .unwrap();
        let response = authenticator.assert(&to_json(&rcr)).unwrap();
        assert!(response["response"].get("userHandle").is_none());
        let result = webauthn
            .finish_passkey_authentication(&from_json(response), &state)
            .unwrap();
        assert!(result.user_verified());

        // An authenticator that does not hold the credential.
        let mut other = SoftAuthenticator::new(ORIGIN);
        assert_eq!(other.assert(&to_json(&rcr)), None);
    }

    #[test]
    fn passkeys_need_user_verification() {
        let webauthn = webauthn();
        let mut authenticator = SoftAuthenticator::new(ORIGIN).user_verifying(false);
        let e = register(&webauthn, &mut authenticator, Uuid::new_v4()).unwrap_err();
        assert!(matches!(e, WebauthnError::UserNotVerified), "{e:?}");

        let mut authenticator = SoftAuthenticator::new(ORIGIN);
        let passkey = register(&webauthn, &mut authenticator, Uuid::new_v4()).unwrap();
        let mut without_uv = authenticator.user_verifying(false);
        let e = authenticate(&webauthn, &mut without_uv, &passkey).unwrap_err();
        assert!(matches!(e, WebauthnError::UserNotVerified), "{e:?}");
    }

    #[test]
    #[should_panic(expected = "SecurityError")]
    fn refuses_an_rp_id_foreign_to_the_origin() {
        let origin = Url::parse("https://example.com").unwrap();
        let webauthn = WebauthnBuilder::new("example.com", &origin)
            .unwrap()
            .build()
            .unwrap();
        let (ccr, _) = webauthn
            .start_passkey_registration(Uuid::new_v4(), "name", "Name", None)
            .unwrap();
        SoftAuthenticator::new(ORIGIN).register(&to_json(&ccr));
    }

    #[test]
    fn encodes_cbor_heads() {
        let mut out = Vec::new();
        cbor_int(&mut out, -7);
        cbor_int(&mut out, 24);
        cbor_int(&mut out, -300);
        cbor_head(&mut out, 2, 0x1_0000);
        assert_eq!(out, [0x26, 0x18, 0x18, 0x39, 0x01, 0x2b, 0x5a, 0, 1, 0, 0]);
    }
}
