//! MFA-9: voice calls through AWS End User Messaging SMS and Voice v2
//! (`SendVoiceMessage`): the code read out by an Amazon Polly voice in
//! the user's language, from the deployment's origination number.

use async_trait::async_trait;
use aws_sdk_pinpointsmsvoicev2::error::ProvideErrorMetadata;
use aws_sdk_pinpointsmsvoicev2::types::{VoiceId, VoiceMessageBodyTextType};
use aws_sdk_pinpointsmsvoicev2::Client;

use tobira::delivery::{DeliveryError, VoiceCall, VoiceCaller};
use tobira::i18n::Lang;

/// How long the service keeps trying to place a call (seconds): the code
/// itself lives five minutes.
const TIME_TO_LIVE_S: i32 = 120;

pub struct PinpointVoice {
    client: Client,
    /// The phone number (or its ID or ARN, or a pool) calls come from
    /// (`TOBIRA_VOICE_ORIGINATION`).
    origination: String,
}

impl PinpointVoice {
    pub fn new(client: Client, origination: String) -> Self {
        Self {
            client,
            origination,
        }
    }
}

/// The voice that reads a language.
pub fn voice_of(lang: Lang) -> VoiceId {
    match lang {
        Lang::Ja => VoiceId::Mizuki,
        Lang::En => VoiceId::Joanna,
    }
}

#[async_trait]
impl VoiceCaller for PinpointVoice {
    async fn call(&self, call: &VoiceCall) -> Result<(), DeliveryError> {
        let r = self
            .client
            .send_voice_message()
            .destination_phone_number(&call.to)
            .origination_identity(&self.origination)
            .message_body(&call.ssml)
            .message_body_text_type(VoiceMessageBodyTextType::Ssml)
            .voice_id(voice_of(call.lang))
            .time_to_live(TIME_TO_LIVE_S)
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(se) if se.is_throttling_exception() => Err(DeliveryError::Throttled),
                // The code, not the message: a service message may repeat the number.
                Some(se) => Err(DeliveryError::Unavailable(format!(
                    "sms-voice: {}",
                    se.code().unwrap_or("error")
                ))),
                None => Err(DeliveryError::Unavailable(format!("sms-voice: {e}"))),
            },
        }
    }
}
