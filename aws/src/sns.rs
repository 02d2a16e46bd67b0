//! SMS through Amazon SNS (direct publish to a phone number).

use async_trait::async_trait;
use aws_sdk_sns::error::ProvideErrorMetadata;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;

use tobira::delivery::{DeliveryError, Sms, SmsSender};

pub struct SnsSms {
    client: Client,
}

impl SnsSms {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl SmsSender for SnsSms {
    async fn send(&self, sms: &Sms) -> Result<(), DeliveryError> {
        let transactional = MessageAttributeValue::builder()
            .data_type("String")
            .string_value("Transactional")
            .build()
            .map_err(|e| DeliveryError::Unavailable(format!("sns request: {e}")))?;
        let r = self
            .client
            .publish()
            .phone_number(&sms.to)
            .message(&sms.text)
            .message_attributes("AWS.SNS.SMS.SMSType", transactional)
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                // Throttling is not a modelled error of Publish: it comes as an error code.
                Some(se)
                    if matches!(
                        se.code(),
                        Some("Throttling" | "ThrottlingException" | "ThrottledException")
                    ) =>
                {
                    Err(DeliveryError::Throttled)
                }
                Some(se) => Err(DeliveryError::Unavailable(format!("sns: {se}"))),
                None => Err(DeliveryError::Unavailable(format!("sns: {e}"))),
            },
        }
    }
}
