//! Ports for mail, SMS and voice calls.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sms {
    /// E.164.
    pub to: String,
    /// ASCII only, one segment (MFA-6).
    pub text: String,
}

/// MFA-9: a call that speaks a code. `ssml` is what the voice reads (the
/// digits one by one, twice); `text` the same words as plain text (the
/// local outbox shows it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VoiceCall {
    /// E.164.
    pub to: String,
    /// The language the voice speaks.
    pub lang: crate::i18n::Lang,
    pub ssml: String,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryError {
    /// The provider asked us to slow down (SES throttling).
    Throttled,
    Unavailable(String),
}

impl std::fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Throttled => f.write_str("throttled by the provider"),
            Self::Unavailable(m) => write!(f, "delivery unavailable: {m}"),
        }
    }
}

impl std::error::Error for DeliveryError {}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<(), DeliveryError>;
}

#[async_trait]
pub trait SmsSender: Send + Sync {
    async fn send(&self, sms: &Sms) -> Result<(), DeliveryError>;
}

#[async_trait]
pub trait VoiceCaller: Send + Sync {
    async fn call(&self, call: &VoiceCall) -> Result<(), DeliveryError>;
}
