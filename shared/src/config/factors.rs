//! MFA-9, MFA-10: the second factors a deployment offers beyond TOTP,
//! e-mail and SMS.

use super::ConfigError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactorPolicy {
    /// MFA-9: codes read out in a phone call (`TOBIRA_VOICE_CODES`). On
    /// Lambda it needs an origination number, so it is off unless turned
    /// on; locally (the outbox takes the call) it is on.
    pub voice: bool,
}

impl FactorPolicy {
    pub(super) fn read(
        boolean: &dyn Fn(&'static str, bool) -> Result<bool, ConfigError>,
        lambda: bool,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            voice: boolean("TOBIRA_VOICE_CODES", !lambda)?,
        })
    }
}
