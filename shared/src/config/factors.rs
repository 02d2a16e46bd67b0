//! MFA-9, MFA-10: the second factors a deployment offers beyond TOTP,
//! e-mail and SMS.

use super::ConfigError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactorPolicy {
    /// MFA-9: codes read out in a phone call (`TOBIRA_VOICE_CODES`). On
    /// Lambda it needs an origination number, so it is off unless turned
    /// on; locally (the outbox takes the call) it is on.
    pub voice: bool,
    /// MFA-9: the calling codes voice codes may be called in
    /// (`TOBIRA_VOICE_COUNTRIES`, comma separated; Japan's `81` by
    /// default): no call to a number elsewhere.
    pub voice_countries: Vec<String>,
    /// MFA-10: passkeys and security keys as a second factor
    /// (`TOBIRA_PASSKEYS`, on by default). Off where there is no relying
    /// party: a portal reached by an IP address (browsers refuse WebAuthn
    /// there; locally, reach it as `http://localhost:3000`).
    pub passkeys: bool,
    /// MFA-10: a passkey with user verification signs in without the
    /// password (`TOBIRA_PASSWORDLESS`; on locally, off on Lambda until
    /// chosen). Only where passkeys are on.
    pub passwordless: bool,
    /// MFA-10: the relying party, from configuration (never from a
    /// request's Host header).
    pub relying_party: Option<RelyingParty>,
}

/// MFA-10: who passkeys are made for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelyingParty {
    /// A domain: the portal's host or a parent of it
    /// (`TOBIRA_WEBAUTHN_RP_ID`; by default the host of `TOBIRA_BASE_URL`).
    pub id: String,
    /// The portal's origin as the browser names it
    /// (`TOBIRA_WEBAUTHN_ORIGIN`; by default that of `TOBIRA_BASE_URL`).
    pub origin: String,
}

/// `scheme://host[:port]` of a URL, and its host.
fn origin_of(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => format!("[{}", v6.split(']').next()?),
        None => authority.split(':').next()?.to_string(),
    };
    Some((
        format!(
            "{}://{}",
            scheme.to_ascii_lowercase(),
            authority.to_ascii_lowercase()
        ),
        host.to_ascii_lowercase(),
    ))
}

/// A DNS name (letters, digits, hyphens, dots; not all digits and dots).
fn is_domain(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && !host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

impl FactorPolicy {
    pub(super) fn read(
        get: &dyn Fn(&str) -> Option<String>,
        boolean: &dyn Fn(&'static str, bool) -> Result<bool, ConfigError>,
        base_url: &str,
        lambda: bool,
    ) -> Result<Self, ConfigError> {
        let passkeys = boolean("TOBIRA_PASSKEYS", true)?;
        let passwordless = boolean("TOBIRA_PASSWORDLESS", !lambda)?;
        let invalid = |name, value: String, expected| ConfigError::Invalid {
            name,
            value,
            expected,
        };
        let (base_origin, base_host) = origin_of(base_url).ok_or_else(|| {
            invalid(
                "TOBIRA_BASE_URL",
                base_url.into(),
                "an http(s) URL with a host",
            )
        })?;
        let origin = match get("TOBIRA_WEBAUTHN_ORIGIN") {
            None => base_origin,
            Some(v) => match origin_of(v.trim()) {
                Some((o, _)) if o.starts_with("https://") || o.starts_with("http://") => o,
                _ => {
                    return Err(invalid(
                        "TOBIRA_WEBAUTHN_ORIGIN",
                        v,
                        "the portal's origin, e.g. https://portal.example.com",
                    ))
                }
            },
        };
        let origin_host = origin_of(&origin).map(|(_, h)| h).unwrap_or(base_host);
        let id = match get("TOBIRA_WEBAUTHN_RP_ID") {
            Some(v) => {
                let id = v.trim().to_ascii_lowercase();
                let fits = origin_host == id || origin_host.ends_with(&format!(".{id}"));
                if !is_domain(&id) || !fits {
                    return Err(invalid(
                        "TOBIRA_WEBAUTHN_RP_ID",
                        v,
                        "a domain: the portal's host or a parent domain of it",
                    ));
                }
                Some(id)
            }
            None if is_domain(&origin_host) => Some(origin_host),
            // Reached by an IP address: no passkeys (browsers refuse them).
            None if lambda && passkeys => {
                return Err(invalid(
                    "TOBIRA_WEBAUTHN_RP_ID",
                    String::new(),
                    "a domain for passkeys (the portal is reached by an IP address); or TOBIRA_PASSKEYS=false",
                ))
            }
            None => None,
        };
        let relying_party = id.map(|id| RelyingParty { id, origin });
        let passkeys = passkeys && relying_party.is_some();
        let voice_countries = match get("TOBIRA_VOICE_COUNTRIES") {
            None => vec!["81".to_string()],
            Some(v) => {
                let codes: Vec<String> = v
                    .split(',')
                    .map(|c| c.trim().trim_start_matches('+').to_string())
                    .collect();
                let calling_code = |c: &String| {
                    (1..=3).contains(&c.len())
                        && c.bytes().all(|b| b.is_ascii_digit())
                        && !c.starts_with('0')
                };
                if !codes.iter().all(calling_code) {
                    return Err(invalid(
                        "TOBIRA_VOICE_COUNTRIES",
                        v,
                        "calling codes separated by commas, e.g. 81,1",
                    ));
                }
                codes
            }
        };
        // Browsers use WebAuthn only over HTTPS (or on localhost).
        if lambda
            && passkeys
            && relying_party
                .as_ref()
                .is_some_and(|rp| rp.origin.starts_with("http://") && rp.id != "localhost")
        {
            return Err(invalid(
                "TOBIRA_WEBAUTHN_ORIGIN",
                relying_party.map(|rp| rp.origin).unwrap_or_default(),
                "an https:// origin for passkeys (or TOBIRA_PASSKEYS=false)",
            ));
        }
        Ok(Self {
            voice: boolean("TOBIRA_VOICE_CODES", !lambda)?,
            voice_countries,
            passkeys,
            passwordless: passkeys && passwordless,
            relying_party,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_comes_from_the_base_url_or_its_own_settings() {
        assert_eq!(
            origin_of("https://Portal.Example.com/x"),
            Some((
                "https://portal.example.com".into(),
                "portal.example.com".into()
            ))
        );
        assert_eq!(
            origin_of("http://localhost:3000"),
            Some(("http://localhost:3000".into(), "localhost".into()))
        );
        assert_eq!(origin_of("http://127.0.0.1:3000").unwrap().1, "127.0.0.1");
        assert!(is_domain("localhost") && is_domain("portal.example.com"));
        assert!(!is_domain("127.0.0.1") && !is_domain("[::1]") && !is_domain("a..b"));
    }
}
